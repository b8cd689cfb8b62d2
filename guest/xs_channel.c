/* The xenstore channel driver (see xs_channel.h). */
#include "guest/xs_channel.h"

#include "guest/memory.h"
#include "guest/pci.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/virtio_pci.h"
#include "guest/x86.h"
#include "lib/platform.h"

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE  16
#define RX_BUFS     8
#define RX_BUF_SIZE 1024
#define TX_PAGES    2
#define FIFO_SIZE   (2 * RX_BUFS * RX_BUF_SIZE)
#define CC_STATUS          0x14  /* device_status in the common config */
#define STATUS_NEEDS_RESET 0x40

static struct virtio_dev vd;
static struct virtq rxq, txq;
static bool present;
static char *tx_buf;
static bool tx_busy;
static char fifo[FIFO_SIZE] NOINIT;
static size_t fifo_head, fifo_len;

static void irq_seen(void *ctx)
{
	(void)ctx;	/* the waits look at the rings themselves */
}

static void post_rx(char *buf)
{
	struct virtq_buf b = { buf, RX_BUF_SIZE };

	virtq_add(&rxq, &b, 0, 1, buf);
}

static int find_channel(void)
{
	const struct pci_dev *d;

	for (unsigned i = 0; (d = pci_find(VIRTIO_PCI_VENDOR,
					   VIRTIO_PCI_DEVICE(VIRTIO_ID_CONSOLE),
					   i)); i++)
		if (pci_read16(d, PCI_SUBSYS_ID) == PLAT_XS_CHANNEL_SUBSYS_ID)
			return (int)i;
	return -1;
}

bool xsc_init(void)
{
	int index = find_channel();
	char *rx_mem;

	if (present)
		return true;
	if (index < 0 || !virtio_pci_probe(VIRTIO_ID_CONSOLE, (unsigned)index,
					   &vd) || !virtio_negotiate(&vd, 0))
		return false;
	rx_mem = page_alloc(RX_BUFS * RX_BUF_SIZE / PAGE_SIZE);
	tx_buf = page_alloc(TX_PAGES);
	if (!rx_mem || !tx_buf ||
	    !virtio_queue_init(&vd, &rxq, RXQ, QUEUE_SIZE, irq_seen, NULL) ||
	    !virtio_queue_init(&vd, &txq, TXQ, QUEUE_SIZE, irq_seen, NULL)) {
		virtio_fail(&vd);
		return false;
	}
	for (unsigned i = 0; i < RX_BUFS; i++)
		post_rx(rx_mem + i * RX_BUF_SIZE);
	virtio_driver_ok(&vd);
	virtq_kick(&rxq);
	timer_init();
	present = true;
	return true;
}

static bool tx_done(void *ctx)
{
	(void)ctx;
	if (virtq_get(&txq, NULL))
		tx_busy = false;
	return !tx_busy;
}

/*
 * One transmit buffer.  Its completion is not waited for after the kick:
 * a request's reply only comes after the monitor took the request, so by
 * the next send it is normally done, which saves a wake-up per request.
 * Only when it is not (the monitor holds the chain back while xenond is
 * away) does the guest halt here until it is.
 */
void xsc_send(const void *buf, size_t len)
{
	struct virtq_buf b = { tx_buf, (uint32_t)len };

	if (!present || len > TX_PAGES * PAGE_SIZE)
		return;
	wait_event_until(0, tx_done, NULL);
	memcpy(tx_buf, buf, len);
	if (!virtq_add(&txq, &b, 1, 0, tx_buf))
		return;
	tx_busy = true;
	virtq_kick(&txq);
}

/* Copies in at most two pieces: rep movsb, not a byte loop (every
 * kernel-mode instruction is emulated here). */
static void fifo_put(const char *src, size_t len)
{
	size_t tail = (fifo_head + fifo_len) % FIFO_SIZE;
	size_t first = len < FIFO_SIZE - tail ? len : FIFO_SIZE - tail;

	memcpy(fifo + tail, src, first);
	memcpy(fifo, src + first, len - first);
	fifo_len += len;
}

static size_t fifo_take(char *dst, size_t len)
{
	size_t first;

	if (len > fifo_len)
		len = fifo_len;
	first = len < FIFO_SIZE - fifo_head ? len : FIFO_SIZE - fifo_head;
	memcpy(dst, fifo + fifo_head, first);
	memcpy(dst + first, fifo, len - first);
	fifo_head = (fifo_head + len) % FIFO_SIZE;
	fifo_len -= len;
	return len;
}

/* Move completed receive buffers into the FIFO while it has room for a
 * whole buffer, posting them again. */
static void drain_rx(void)
{
	bool got = false;
	char *buf;
	uint32_t len;

	while (FIFO_SIZE - fifo_len >= RX_BUF_SIZE &&
	       (buf = virtq_get(&rxq, &len))) {
		fifo_put(buf, len < RX_BUF_SIZE ? len : RX_BUF_SIZE);
		post_rx(buf);
		got = true;
	}
	if (got)
		virtq_kick(&rxq);
}

size_t xsc_available(void)
{
	if (present)
		drain_rx();
	return fifo_len;
}

bool xsc_needs_reset(void)
{
	return present &&
	       (mmio_read8(vd.common + CC_STATUS) & STATUS_NEEDS_RESET);
}

static bool rx_ready(void *ctx)
{
	(void)ctx;
	return fifo_len || virtq_has_used(&rxq);
}

size_t xsc_recv(void *buf, size_t len, uint64_t deadline)
{
	if (!present)
		return 0;
	if (!xsc_available() && !wait_event_until(deadline, rx_ready, NULL))
		return 0;
	drain_rx();
	return fifo_take(buf, len);
}
