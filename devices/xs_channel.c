/*
 * The xenstore channel device: virtio-console's queues and config space,
 * a different PCI subsystem ID, and xs_relay.c between the queues and the
 * chardev instead of a plain byte pipe.
 */
#include "devices/xs_channel.h"

#include <stdlib.h>
#include <string.h>

#include "devices/chardev.h"
#include "devices/pci.h"
#include "devices/virtio.h"
#include "devices/virtio_pci.h"
#include "devices/xs_relay.h"
#include "lib/log.h"
#include "lib/platform.h"

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE 256
#define PCI_CLASS_COMM_OTHER 0x078000

/* virtio-console's config space: cols, rows, max_nr_ports, emerg_wr. */
struct console_config {
	uint16_t cols, rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
};

struct xs_channel {
	struct virtio_dev *vdev;
	struct chardev *cd;
	struct iovec rx_iov[QUEUE_SIZE], tx_iov[QUEUE_SIZE];
	struct virtq_elem tx;   /* a transmit chain taken only in part */
	size_t tx_off;
	bool tx_held;
	size_t tx_resume;       /* restored: tx_off of the chain popped next */
	struct xs_relay relay;
};

static struct xs_channel *ch_of(struct virtio_dev *vdev)
{
	return vdev->priv;
}

static void ch_get_config(struct virtio_dev *vdev, uint32_t off, void *buf,
			  uint32_t len)
{
	struct console_config c = { .max_nr_ports = 1 };

	(void)vdev;
	memcpy(buf, (uint8_t *)&c + off, len);
}

/* Relay -> socket. */
static void send_to_store(void *opaque, const void *buf, size_t len)
{
	struct xs_channel *ch = opaque;

	chardev_write(ch->cd, buf, len);
}

/* Feed the held chain from tx_off; true once all of it was taken. */
static bool feed_chain(struct xs_channel *ch)
{
	size_t skip = ch->tx_off;

	for (unsigned i = 0; i < ch->tx.out_num; i++) {
		const struct iovec *v = &ch->tx.iov[i];
		const char *err;
		size_t n, taken;

		if (skip >= v->iov_len) {
			skip -= v->iov_len;
			continue;
		}
		n = v->iov_len - skip;
		taken = xs_relay_from_guest(&ch->relay,
					    (const uint8_t *)v->iov_base + skip,
					    n, &err);
		if (err) {
			ch->tx_held = false;
			virtio_device_broken(ch->vdev, "%s", err);
			return false;
		}
		ch->tx_off += taken;
		if (taken < n)
			return false;	/* pending limit: wait for replies */
		skip = 0;
	}
	return true;
}

/* Guest -> store, while connected and the relay takes more. */
static void flush_tx(struct xs_channel *ch)
{
	bool any = false;

	while (chardev_connected(ch->cd) && xs_relay_guest_ready(&ch->relay)) {
		if (!ch->tx_held) {
			ch->tx = (struct virtq_elem){ .iov = ch->tx_iov,
						      .max_iov = QUEUE_SIZE };
			if (virtio_queue_pop(ch->vdev, TXQ, &ch->tx) != 1)
				break;
			ch->tx_held = true;
			ch->tx_off = ch->tx_resume;
			ch->tx_resume = 0;
		}
		if (!feed_chain(ch))
			break;
		virtio_queue_push(ch->vdev, TXQ, &ch->tx, 0);
		ch->tx_held = false;
		any = true;
	}
	if (any)
		virtio_queue_signal(ch->vdev, TXQ);
}

/* Assemble store bytes into the relay as far as it wants them. */
static void pull_store(struct xs_channel *ch)
{
	uint8_t buf[1024];
	size_t want, n;
	const char *err;

	while ((want = xs_relay_store_want(&ch->relay)) != 0) {
		n = chardev_read(ch->cd, buf, want < sizeof(buf) ?
				 want : sizeof(buf));
		if (!n)
			return;
		if (xs_relay_from_store(&ch->relay, buf, n, &err) < 0) {
			log_error("xenstore channel: bad message from the "
				  "store (%s); reconnecting", err);
			chardev_reconnect(ch->cd);
			return;
		}
	}
}

/* Store -> guest: whole messages only, into posted receive buffers. */
static void fill_rx(struct xs_channel *ch)
{
	struct virtq_elem e = { .iov = ch->rx_iov, .max_iov = QUEUE_SIZE };
	const void *data;
	size_t len;
	bool any = false;

	for (;;) {
		size_t n;

		pull_store(ch);
		len = xs_relay_to_guest(&ch->relay, &data);
		if (!len || virtio_queue_pop(ch->vdev, RXQ, &e) != 1)
			break;
		n = virtq_buf_to_iov(e.iov + e.out_num, e.in_num, data, len);
		virtio_queue_push(ch->vdev, RXQ, &e, (uint32_t)n);
		xs_relay_delivered(&ch->relay, n);
		any = true;
	}
	if (any)
		virtio_queue_signal(ch->vdev, RXQ);
}

static void ch_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct xs_channel *ch = ch_of(vdev);

	if (q == RXQ)
		fill_rx(ch);
	/* Replies taken free room for more requests, and vice versa. */
	flush_tx(ch);
	if (q == TXQ)
		fill_rx(ch);
}

static void ch_reset(struct virtio_dev *vdev)
{
	struct xs_channel *ch = ch_of(vdev);

	ch->tx_held = false;
	ch->tx_resume = 0;
	xs_relay_guest_reset(&ch->relay);
}

/*
 * Saved state (docs/save-format.md): the relay's, and how much of a
 * transmit chain taken in part was consumed.  That chain is given back
 * to the queue on load and taken again from the same offset, since the
 * restored queue holds no popped chains.
 */
#define CH_STATE_VERSION 1

static void ch_save(struct virtio_dev *vdev, struct sbuf *out)
{
	struct xs_channel *ch = ch_of(vdev);

	sbuf_bool(out, ch->tx_held);
	sbuf_u32(out, ch->tx_held ? (uint32_t)ch->tx_off : 0);
	xs_relay_save(&ch->relay, out);
}

static void ch_load(struct virtio_dev *vdev, struct sreader *in,
		    uint32_t version)
{
	struct xs_channel *ch = ch_of(vdev);
	bool held = sr_bool(in);
	uint32_t off = sr_u32(in);

	(void)version;
	if (sr_ok(in) && held && off > XS_RELAY_MSG_MAX * 16)
		sr_fail(in, "xenstore channel: transmit offset %u", off);
	if (sr_ok(in) && held && !virtio_queue_unpop(vdev, TXQ))
		sr_fail(in, "xenstore channel: no transmit chain to resume");
	if (!sr_ok(in))
		return;
	xs_relay_load(&ch->relay, in);
	if (!sr_ok(in))
		return;	/* the restore fails as a whole */
	ch->tx_held = false;
	ch->tx_resume = held ? off : 0;
	/* A new connection: what the old one was asked, it is asked again
	 * (and if the socket connects later, the link-up does it). */
	if (chardev_connected(ch->cd)) {
		chardev_discard_output(ch->cd);
		xs_relay_link_up(&ch->relay);
	}
}

/* Main loop: the store sent something. */
static void ch_input(void *opaque)
{
	struct xs_channel *ch = opaque;

	virtio_lock(ch->vdev);
	fill_rx(ch);
	flush_tx(ch);
	virtio_unlock(ch->vdev);
}

/* Main loop: the socket went down or came back. */
static void ch_link(void *opaque, bool up)
{
	struct xs_channel *ch = opaque;

	virtio_lock(ch->vdev);
	if (up) {
		/* Only whole pending requests go to the new peer, again. */
		chardev_discard_output(ch->cd);
		xs_relay_link_up(&ch->relay);
		if (ch->relay.npending)
			log_info("xenstore channel: %u request(s) in flight "
				 "sent again", ch->relay.npending);
		fill_rx(ch);
		flush_tx(ch);
	} else {
		xs_relay_link_down(&ch->relay);
	}
	virtio_unlock(ch->vdev);
}

static const struct virtio_device_ops ch_ops = {
	.name = "xenstore-channel",
	.type = VIRTIO_ID_CONSOLE,
	.pci_class = PCI_CLASS_COMM_OTHER,
	.num_queues = 2,
	.queue_max_size = QUEUE_SIZE,
	.config_size = sizeof(struct console_config),
	.get_config = ch_get_config,
	.queue_notify = ch_queue_notify,
	.reset = ch_reset,
	.state_version = CH_STATE_VERSION,
	.save = ch_save,
	.load = ch_load,
};

struct xs_channel *xs_channel_create(struct vm *vm, struct pci_bus *bus,
				     struct chardev *cd)
{
	struct xs_channel *ch = calloc(1, sizeof(*ch));

	if (!ch) {
		log_error("xenstore channel: out of memory");
		return NULL;
	}
	ch->cd = cd;
	xs_relay_init(&ch->relay, send_to_store, ch);
	ch->vdev = virtio_pci_create(vm, bus, &ch_ops, ch);
	if (!ch->vdev || chardev_set_input(cd, ch_input, ch) < 0) {
		xs_channel_destroy(ch);
		return NULL;
	}
	/* What tells it from a console: the guest looks for this ID. */
	pci_set_subsystem(virtio_pci_function(ch->vdev),
			  PLAT_XS_CHANNEL_SUBSYS_VENDOR, PLAT_XS_CHANNEL_SUBSYS_ID);
	chardev_set_link(cd, ch_link, ch);
	return ch;
}

void xs_channel_destroy(struct xs_channel *ch)
{
	if (!ch)
		return;
	chardev_set_link(ch->cd, NULL, NULL);
	virtio_pci_destroy(ch->vdev);
	free(ch);
}
