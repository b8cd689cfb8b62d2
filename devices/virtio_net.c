/*
 * virtio-net (virtio 1.2 section 5.1) on a TAP device.
 *
 * Frames move between guest memory and the TAP without a copy: the guest's
 * transmit chains are handed to writev() behind a checked copy of their
 * header, and readv() fills the guest's receive buffers directly, vnet
 * header included (the TAP's header is the virtio 1.x one).
 *
 * Receive: popped receive chains wait in a small FIFO until a frame
 * arrives.  With MRG_RXBUF a frame may span chains, so enough are gathered
 * for the largest frame the guest can get; without it each frame takes one
 * chain.  When the guest has posted nothing the TAP is not polled at all:
 * frames wait in the kernel's queue (backpressure) instead of being
 * dropped here, and the guest's next receive kick resumes reading.
 *
 * Transmit: each chain is checked (no writable part, a whole header, a
 * header the negotiated features allow, a frame size the TAP takes) and a
 * chain that breaks the rules marks the device NEEDS_RESET.  The rate=
 * limit delays transmission with a timer; a full TAP waits for EPOLLOUT.
 *
 * All of it runs on the main loop, with the device lock held.  Each
 * direction stops after BUDGET frames per turn so one busy guest cannot
 * starve the loop (the TAP is level-triggered; transmit re-arms itself).
 */
#include "devices/virtio_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/net_announce.h"
#include "devices/net_rate_limit.h"
#include "devices/virtio.h"
#include "devices/virtio_net_hdr.h"
#include "devices/virtio_pci.h"
#include "lib/log.h"
#include "lib/state_buf.h"
#include "vmm/main_loop.h"
#include "vmm/vm.h"

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE   256
#define RX_HELD_MAX  64     /* receive chains popped ahead of frames */
#define RX_IOV_MAX   1024   /* readv()'s limit */
#define BUDGET       256    /* frames per direction per main-loop turn */
#define BOUNCE_SIZE  (VNET_HDR_LEN + VNET_MAX_FRAME)
#define PCI_CLASS_NET_ETHERNET 0x020000

struct net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
};
_Static_assert(sizeof(struct net_config) == 12, "virtio-net config");

struct chain {
	struct virtq_elem e;
	struct iovec iov[QUEUE_SIZE];   /* a valid chain has <= queue size */
};

struct net_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors, tx_throttled;
};

struct virtio_net {
	struct virtio_dev *vdev;
	struct virtio_device_ops ops;   /* per device, for its name */
	char name[32];
	struct net_tap tap;
	uint8_t mac[6];
	uint16_t mtu;
	uint64_t offered;               /* device feature bits */
	uint64_t features;              /* effective, from DRIVER_OK */
	uint32_t rx_need;               /* bytes the largest frame takes */
	uint32_t tap_events;            /* what the TAP is polled for */
	bool tap_watched, rx_poll, tap_dead;

	struct chain *held;             /* receive chains, a FIFO */
	unsigned held_head, held_n;
	struct iovec rd[RX_IOV_MAX];
	uint8_t *bounce;

	struct chain tx;                /* popped, not yet sent */
	bool tx_have, tx_drop, tx_blocked, tx_throttled;
	struct virtio_net_hdr_v1 tx_hdr;
	struct iovec wr[QUEUE_SIZE + 1];
	unsigned wr_n;
	uint32_t tx_len;
	struct net_rate_limit rl;
	int timer_fd, more_fd;

	struct net_stats st;
};

static struct virtio_net *net_of(struct virtio_dev *vdev)
{
	return vdev->priv;
}

/* ---- polling the TAP --------------------------------------------------------- */

static void update_poll(struct virtio_net *n)
{
	uint32_t ev = (n->rx_poll ? EPOLLIN : 0) | (n->tx_blocked ? EPOLLOUT : 0);

	if (!n->tap_watched || ev == n->tap_events)
		return;
	if (main_loop_mod_fd(n->tap.fd, ev) == 0)
		n->tap_events = ev;
}

static void set_rx_poll(struct virtio_net *n, bool on)
{
	n->rx_poll = on && !n->tap_dead;
	update_poll(n);
}

/* A read or write error other than "try later": the TAP is unusable
 * (deleted, or the kernel refuses it).  Say so once and stop polling it,
 * or a level-triggered error would spin the loop. */
static void tap_failed(struct virtio_net *n, const char *op, int err)
{
	if (err == EBADFD || err == EIO || err == ENODEV) {
		log_error("%s: TAP %s: %s: %s; the interface is gone, no more "
			  "traffic", n->name, n->tap.ifname, op, strerror(err));
		n->tap_dead = true;
		if (n->tap_watched)
			main_loop_del_fd(n->tap.fd);
		n->tap_watched = false;
		return;
	}
	if (n->st.rx_errors + n->st.tx_errors == 0)
		log_warn("%s: TAP %s: %s: %s", n->name, n->tap.ifname, op,
			 strerror(err));
}

/* ---- transmit -------------------------------------------------------------- */

/* Point wr[] at the frame behind the header: wr[0] is our checked copy of
 * the header, so the guest cannot change it after the check. */
static void tx_build_iov(struct virtio_net *n)
{
	const struct virtq_elem *e = &n->tx.e;
	size_t skip = VNET_HDR_LEN;

	n->wr[0] = (struct iovec){ &n->tx_hdr, VNET_HDR_LEN };
	n->wr_n = 1;
	for (unsigned i = 0; i < e->out_num; i++) {
		struct iovec v = e->iov[i];

		if (skip >= v.iov_len) {
			skip -= v.iov_len;
			continue;
		}
		v.iov_base = (uint8_t *)v.iov_base + skip;
		v.iov_len -= skip;
		skip = 0;
		n->wr[n->wr_n++] = v;
	}
}

/* Pop the next transmit chain and check it; false if there is none or the
 * guest broke the queue.  Frames the TAP would refuse anyway (shorter
 * than an Ethernet header, which a guest's raw socket can send) are
 * dropped rather than held against the driver. */
static bool tx_pop(struct virtio_net *n)
{
	struct virtq_elem *e = &n->tx.e;
	char why[128];

	*e = (struct virtq_elem){ .iov = n->tx.iov, .max_iov = QUEUE_SIZE };
	if (virtio_queue_pop(n->vdev, TXQ, e) != 1)
		return false;
	if (e->in_num) {
		virtio_device_broken(n->vdev, "transmit chain %u has device-"
				     "writable buffers", e->head);
		return false;
	}
	if (e->out_bytes < VNET_HDR_LEN || e->out_bytes - VNET_HDR_LEN > VNET_MAX_FRAME) {
		virtio_device_broken(n->vdev, "transmit chain %u: %u bytes is not "
				     "a 12-byte header and a frame of at most %u "
				     "bytes", e->head, e->out_bytes, VNET_MAX_FRAME);
		return false;
	}
	virtq_iov_to_buf(e->iov, e->out_num, &n->tx_hdr, VNET_HDR_LEN);
	n->tx_len = e->out_bytes - VNET_HDR_LEN;
	if (vnet_tx_hdr_check(&n->tx_hdr, n->tx_len, n->features, why,
			      sizeof(why))) {
		virtio_device_broken(n->vdev, "transmit chain %u: header: %s",
				     e->head, why);
		return false;
	}
	n->tx_drop = n->tx_len < VNET_ETH_HLEN;
	tx_build_iov(n);
	n->tx_have = true;
	return true;
}

static void arm_timer(struct virtio_net *n, uint64_t ns)
{
	struct itimerspec its = {
		.it_value = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) },
	};

	if (timerfd_settime(n->timer_fd, 0, &its, NULL) < 0)
		log_errno("%s: rate limit timer", n->name);
	n->tx_throttled = true;
	n->st.tx_throttled++;
}

/* Send the held chain's frame; false if it has to wait (rate limit or a
 * full TAP), true once it is gone (sent, dropped or failed). */
static bool tx_send(struct virtio_net *n)
{
	uint64_t wait;
	ssize_t r;

	if (n->tx_drop || n->tap_dead) {
		n->st.tx_dropped++;
		return true;
	}
	wait = net_rate_enabled(&n->rl) ?
	       net_rate_take(&n->rl, n->tx_len, monotonic_ns()) : 0;
	if (wait) {
		arm_timer(n, wait);
		return false;
	}
	r = writev(n->tap.fd, n->wr, (int)n->wr_n);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		net_rate_refund(&n->rl, n->tx_len);
		n->tx_blocked = true;
		update_poll(n);
		return false;
	}
	if (r < 0) {
		tap_failed(n, "write", errno);
		n->st.tx_errors++;
		return true;
	}
	n->st.tx_packets++;
	n->st.tx_bytes += n->tx_len;
	return true;
}

static void tx_run(struct virtio_net *n)
{
	unsigned done = 0;
	uint64_t one = 1;

	while (!n->tx_blocked && !n->tx_throttled) {
		if (!n->tx_have && !tx_pop(n))
			break;
		if (!tx_send(n))
			break;
		virtio_queue_push(n->vdev, TXQ, &n->tx.e, 0);
		n->tx_have = false;
		if (++done == BUDGET) {
			/* Come back after the loop's other work. */
			if (write(n->more_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				log_errno("%s: eventfd", n->name);
			break;
		}
	}
	if (done)
		virtio_queue_signal(n->vdev, TXQ);
}

/* ---- receive --------------------------------------------------------------- */

static struct chain *held_at(struct virtio_net *n, unsigned i)
{
	return &n->held[(n->held_head + i) % RX_HELD_MAX];
}

/* Pop one more receive chain onto the FIFO; false if none (or broken). */
static bool rx_pop(struct virtio_net *n)
{
	struct chain *c = held_at(n, n->held_n);

	c->e = (struct virtq_elem){ .iov = c->iov, .max_iov = QUEUE_SIZE };
	if (virtio_queue_pop(n->vdev, RXQ, &c->e) != 1)
		return false;
	if (c->e.out_num) {
		virtio_device_broken(n->vdev, "receive chain %u has device-"
				     "readable buffers", c->e.head);
		return false;
	}
	if (c->e.in_bytes < VNET_HDR_LEN) {
		virtio_device_broken(n->vdev, "receive chain %u: %u bytes cannot "
				     "hold the 12-byte header", c->e.head,
				     c->e.in_bytes);
		return false;
	}
	n->held_n++;
	return true;
}

/* Gather held chains into rd[] until they can take the largest frame
 * (one chain without MRG_RXBUF).  Returns their capacity; *niov = 0 when
 * the guest has posted nothing.  *final: no more capacity will come for
 * this frame (one chain is all it gets, we hold all the guest has, or our
 * own limits are reached), so a shortfall is the guest's to live with. */
static uint64_t rx_gather(struct virtio_net *n, unsigned *niov, bool *final)
{
	bool mrg = vnet_has(n->features, VIRTIO_NET_F_MRG_RXBUF);
	unsigned qsize = virtio_queue_size(n->vdev, RXQ);
	uint64_t cap = 0;
	unsigned k = 0;

	*niov = 0;
	*final = !mrg;
	for (;;) {
		struct chain *c;

		if (k == n->held_n) {
			if (n->held_n == RX_HELD_MAX || n->held_n >= qsize) {
				*final = true;
				break;
			}
			if (!rx_pop(n))
				break;
		}
		c = held_at(n, k);
		if (*niov + c->e.in_num > RX_IOV_MAX) {
			*final = true;
			break;
		}
		memcpy(n->rd + *niov, c->e.iov, c->e.in_num * sizeof(struct iovec));
		*niov += c->e.in_num;
		cap += c->e.in_bytes;
		k++;
		if (!mrg || cap >= n->rx_need)
			break;
	}
	return cap;
}

/* Write len bytes at offset off of an iovec array. */
static void iov_write_at(const struct iovec *iov, unsigned n, size_t off,
			 const void *buf, size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		size_t chunk;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		memcpy((uint8_t *)iov[i].iov_base + off, buf, chunk);
		buf = (const uint8_t *)buf + chunk;
		len -= chunk;
		off = 0;
	}
}

/* The frame of len bytes (header included) is in the chains at the head
 * of the FIFO: finish its header and hand the chains back. */
static void rx_deliver(struct virtio_net *n, unsigned niov, uint32_t len)
{
	struct virtio_net_hdr_v1 h;
	uint32_t left = len;
	uint16_t used = 0;

	for (uint64_t cap = 0; cap < len; used++)
		cap += held_at(n, used)->e.in_bytes;
	virtq_iov_to_buf(n->rd, niov, &h, sizeof(h));
	if (!vnet_has(n->features, VIRTIO_NET_F_GUEST_CSUM)) {
		/* 5.1.6.4: flags zero without GUEST_CSUM (the TAP still marks
		 * DATA_VALID; its checksums are complete either way). */
		h.flags = 0;
		h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	}
	h.num_buffers = used;
	iov_write_at(n->rd, niov, 0, &h, sizeof(h));
	/* All of the frame's buffers become visible at once: a driver that
	 * sees the first may count on the num_buffers - 1 after it. */
	for (uint16_t i = 0; i < used; i++) {
		const struct chain *c = held_at(n, 0);
		uint32_t w = left < c->e.in_bytes ? left : c->e.in_bytes;

		virtio_queue_fill(n->vdev, RXQ, &c->e, w, i);
		left -= w;
		n->held_head = (n->held_head + 1) % RX_HELD_MAX;
		n->held_n--;
	}
	virtio_queue_flush(n->vdev, RXQ, used);
	n->st.rx_packets++;
	n->st.rx_bytes += len - VNET_HDR_LEN;
}

/* One frame from the TAP: 1 delivered or dropped, 0 none waiting (or the
 * TAP failed), -1 the guest has not posted enough buffers. */
static int rx_one(struct virtio_net *n)
{
	unsigned niov;
	bool final;
	uint64_t cap = rx_gather(n, &niov, &final);
	bool bounce = cap < n->rx_need;
	ssize_t r;

	/* Nothing posted, or more buffers may come and the next frame might
	 * need them: wait for the guest rather than risk dropping it. */
	if (!niov || (bounce && !final))
		return -1;
	/* Buffers too small for the largest frame, and no more coming: read
	 * into our own, so a frame that fits still gets through. */
	if (bounce)
		r = read(n->tap.fd, n->bounce, BOUNCE_SIZE);
	else
		r = readv(n->tap.fd, n->rd, (int)niov);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			tap_failed(n, "read", errno);
		return 0;
	}
	/* tun reports the whole frame even when it did not fit. */
	if ((uint64_t)r > cap || r < VNET_HDR_LEN + VNET_ETH_HLEN) {
		n->st.rx_dropped++;
		return 1;
	}
	if (bounce)
		virtq_buf_to_iov(n->rd, niov, n->bounce, (size_t)r);
	rx_deliver(n, niov, (uint32_t)r);
	return 1;
}

static void rx_run(struct virtio_net *n)
{
	unsigned done = 0;
	int rc = 0;

	if (!virtio_queue_ready(n->vdev, RXQ) || n->tap_dead) {
		set_rx_poll(n, false);
		return;
	}
	while (done < BUDGET && (rc = rx_one(n)) == 1)
		done++;
	/* No buffers: leave frames in the TAP until the guest posts some. */
	set_rx_poll(n, rc != -1);
	if (done)
		virtio_queue_signal(n->vdev, RXQ);
}

/* ---- main-loop events ---------------------------------------------------------- */

static void on_tap(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;

	virtio_lock(n->vdev);
	if (events & (EPOLLOUT | EPOLLERR)) {
		n->tx_blocked = false;
		update_poll(n);
		tx_run(n);
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		rx_run(n);
	virtio_unlock(n->vdev);
}

static void drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_errno("read");
}

static void on_timer(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;

	(void)events;
	drain_fd(n->timer_fd);
	virtio_lock(n->vdev);
	n->tx_throttled = false;
	tx_run(n);
	virtio_unlock(n->vdev);
}

static void on_more(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;

	(void)events;
	drain_fd(n->more_fd);
	virtio_lock(n->vdev);
	tx_run(n);
	virtio_unlock(n->vdev);
}

/* ---- virtio device ops ----------------------------------------------------------- */

static uint64_t net_features(struct virtio_dev *vdev)
{
	return net_of(vdev)->offered;
}

static void net_get_config(struct virtio_dev *vdev, uint32_t off, void *buf,
			   uint32_t len)
{
	struct virtio_net *n = net_of(vdev);
	struct net_config c = {
		.status = VIRTIO_NET_S_LINK_UP,
		.max_virtqueue_pairs = 1,
		.mtu = n->mtu,
	};

	memcpy(c.mac, n->mac, sizeof(c.mac));
	memcpy(buf, (uint8_t *)&c + off, len);
}

static uint64_t acked_features(struct virtio_dev *vdev)
{
	uint64_t f = 0;

	for (unsigned bit = 0; bit < 64; bit++)
		if (virtio_has_feature(vdev, bit))
			f |= 1ULL << bit;
	return f;
}

/* The driver is up: act on what it accepted. */
static void net_status_changed(struct virtio_dev *vdev, uint8_t old,
			       uint8_t status)
{
	struct virtio_net *n = net_of(vdev);
	unsigned mtu = n->mtu ? n->mtu : 1500;

	if (!(status & VIRTIO_STATUS_DRIVER_OK) || (old & VIRTIO_STATUS_DRIVER_OK))
		return;
	n->features = vnet_effective_features(acked_features(vdev));
	n->rx_need = VNET_HDR_LEN + (vnet_guest_gso(n->features) ?
				     VNET_MAX_FRAME : mtu + 18);
	net_tap_set_offload(&n->tap, vnet_tap_offloads(n->features));
	log_debug("%s: driver up, features 0x%llx, receive frames up to %u "
		  "bytes", n->name, (unsigned long long)n->features, n->rx_need);
}

/* No polling after a transmit kick (virtio_poll.h): measured, it made
 * guest-to-host streams slower here (docs/performance.md, 2026-12-07). */
static void net_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_net *n = net_of(vdev);

	if (q == TXQ)
		tx_run(n);
	else if (q == RXQ)
		rx_run(n);
}

/* vCPU thread, lock held: forget chains of the old queues.  The TAP's
 * poll state is put right by the next main-loop event. */
static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *n = net_of(vdev);

	n->held_head = n->held_n = 0;
	n->tx_have = false;
	n->features = 0;
}

/* ---- save/restore (docs/save-format.md) --------------------------------------- */

#define NET_STATE_VERSION 1

/* Chains popped and not yet used (receive buffers waiting for frames, a
 * transmit frame waiting for room) are not saved: load gives them back
 * to their queues, to be popped again. */
static void net_save(struct virtio_dev *vdev, struct sbuf *out)
{
	struct virtio_net *n = net_of(vdev);

	sbuf_u64(out, n->features);
	sbuf_u32(out, n->rx_need);
	sbuf_u32(out, n->held_n);
	sbuf_bool(out, n->tx_have);
}

static void net_load(struct virtio_dev *vdev, struct sreader *in,
		     uint32_t version)
{
	struct virtio_net *n = net_of(vdev);
	uint64_t features = sr_u64(in);
	uint32_t rx_need = sr_u32(in), held = sr_u32(in);
	bool tx_have = sr_bool(in);

	(void)version;
	/* What DRIVER_OK made of the features the driver acked (those the
	 * transport has just restored). */
	if (sr_ok(in) && rx_need &&
	    features != vnet_effective_features(acked_features(vdev)))
		sr_fail(in, "%s: features 0x%llx in the stream, 0x%llx from "
			"the driver's", n->name, (unsigned long long)features,
			(unsigned long long)vnet_effective_features(
				acked_features(vdev)));
	if (sr_ok(in) && (held > RX_HELD_MAX || rx_need > VNET_HDR_LEN +
			  VNET_MAX_FRAME))
		sr_fail(in, "%s: %u receive chains held, %u bytes a frame",
			n->name, held, rx_need);
	for (uint32_t i = 0; sr_ok(in) && i < held; i++)
		if (!virtio_queue_unpop(vdev, RXQ))
			sr_fail(in, "%s: receive chain %u to give back is not "
				"in the queue", n->name, i);
	if (sr_ok(in) && tx_have && !virtio_queue_unpop(vdev, TXQ))
		sr_fail(in, "%s: no transmit chain to give back", n->name);
	if (!sr_ok(in))
		return;
	n->features = features;
	n->rx_need = rx_need;
	n->held_head = n->held_n = 0;
	n->tx_have = n->tx_blocked = false;
	if (rx_need)
		net_tap_set_offload(&n->tap, vnet_tap_offloads(features));
}

static void net_announce(struct virtio_dev *vdev)
{
	struct virtio_net *n = net_of(vdev);

	if (n->tap_dead || n->tap.fd < 0)
		return;
	if (net_announce_tap(n->tap.fd, NET_TAP_VNET_HDR_LEN, n->mac) < 0)
		log_warn("%s: RARP announcement on %s: %s", n->name,
			 n->tap.ifname, strerror(errno));
	else
		log_info("%s: announced %02x:%02x:%02x:%02x:%02x:%02x on %s",
			 n->name, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
			 n->mac[4], n->mac[5], n->tap.ifname);
}

static const struct virtio_device_ops net_ops_template = {
	.type = VIRTIO_ID_NET,
	.pci_class = PCI_CLASS_NET_ETHERNET,
	.num_queues = 2,
	.queue_max_size = QUEUE_SIZE,
	.config_size = sizeof(struct net_config),
	.get_features = net_features,
	.get_config = net_get_config,
	.queue_notify = net_queue_notify,
	.status_changed = net_status_changed,
	.reset = net_reset,
	.state_version = NET_STATE_VERSION,
	.save = net_save,
	.load = net_load,
	.announce = net_announce,
};

/* ---- creation ------------------------------------------------------------------- */

#define F(b) (1ULL << (b))

static uint64_t offered_features(const struct virtio_net *n)
{
	unsigned tap = n->tap.offloads;
	uint64_t f = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
		     F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) |
		     F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
		     F(VIRTIO_NET_F_HOST_ECN) | F(VIRTIO_NET_F_HOST_UFO);

	if (n->mtu)
		f |= F(VIRTIO_NET_F_MTU);
	/* What the guest may receive depends on what this kernel's tun can
	 * hand over. */
	if (tap & NET_TAP_F_CSUM)
		f |= F(VIRTIO_NET_F_GUEST_CSUM);
	if (tap & NET_TAP_F_TSO4)
		f |= F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6);
	if (tap & NET_TAP_F_TSO_ECN)
		f |= F(VIRTIO_NET_F_GUEST_ECN);
	if (tap & NET_TAP_F_USO4)
		f |= F(VIRTIO_NET_F_GUEST_USO4) | F(VIRTIO_NET_F_GUEST_USO6) |
		     F(VIRTIO_NET_F_HOST_USO);
	return f;
}

static int watch_fds(struct virtio_net *n)
{
	n->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	n->more_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->timer_fd < 0 || n->more_fd < 0) {
		log_errno("%s: timerfd/eventfd", n->name);
		return -1;
	}
	if (main_loop_add_fd(n->timer_fd, EPOLLIN, on_timer, n) < 0 ||
	    main_loop_add_fd(n->more_fd, EPOLLIN, on_more, n) < 0 ||
	    main_loop_add_fd(n->tap.fd, 0, on_tap, n) < 0)
		return -1;
	n->tap_watched = true;
	return 0;
}

struct virtio_net *virtio_net_create(struct vm *vm, struct pci_bus *bus,
				     struct net_tap *tap,
				     const struct virtio_net_params *p)
{
	struct virtio_net *n = calloc(1, sizeof(*n));

	if (!n) {
		net_tap_close(tap);
		log_error("%s: out of memory", p->name);
		return NULL;
	}
	n->tap = *tap;
	n->timer_fd = n->more_fd = -1;
	snprintf(n->name, sizeof(n->name), "%s", p->name);
	memcpy(n->mac, p->mac, sizeof(n->mac));
	n->mtu = (uint16_t)p->mtu;
	n->offered = offered_features(n);
	n->rx_need = VNET_HDR_LEN + 1518;
	net_rate_init(&n->rl, p->rate_bytes_per_sec, p->rate_interval_us,
		      VNET_MAX_FRAME, monotonic_ns());
	n->ops = net_ops_template;
	n->ops.name = n->name;
	n->held = calloc(RX_HELD_MAX, sizeof(*n->held));
	n->bounce = malloc(BOUNCE_SIZE);
	if (!n->held || !n->bounce || watch_fds(n) < 0)
		goto fail;
	n->vdev = virtio_pci_create(vm, bus, &n->ops, n);
	if (!n->vdev)
		goto fail;
	return n;
fail:
	log_error("%s: cannot create the device", n->name);
	virtio_net_destroy(n);
	return NULL;
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *n)
{
	return n->vdev;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	virtio_pci_destroy(n->vdev);
	if (n->tap_watched)
		main_loop_del_fd(n->tap.fd);
	if (n->timer_fd >= 0) {
		main_loop_del_fd(n->timer_fd);
		close(n->timer_fd);
	}
	if (n->more_fd >= 0) {
		main_loop_del_fd(n->more_fd);
		close(n->more_fd);
	}
	log_debug("%s: rx %llu frames %llu bytes (%llu dropped), tx %llu frames "
		  "%llu bytes (%llu dropped, %llu errors, %llu throttled)",
		  n->name, (unsigned long long)n->st.rx_packets,
		  (unsigned long long)n->st.rx_bytes,
		  (unsigned long long)n->st.rx_dropped,
		  (unsigned long long)n->st.tx_packets,
		  (unsigned long long)n->st.tx_bytes,
		  (unsigned long long)n->st.tx_dropped,
		  (unsigned long long)n->st.tx_errors,
		  (unsigned long long)n->st.tx_throttled);
	net_tap_close(&n->tap);
	free(n->held);
	free(n->bounce);
	free(n);
}
