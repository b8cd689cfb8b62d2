/*
 * virtio-console driver.  Receive buffers are posted before DRIVER_OK so
 * no input is lost; bytes are moved into a small FIFO from which lines
 * are cut.  Transmission copies into one page and polls for completion,
 * so output is on the host before the guest moves on (or powers off).
 */
#include "guest/virtio_console.h"

#include "guest/lapic.h"
#include "guest/memory.h"
#include "guest/string.h"
#include "guest/virtio_pci.h"
#include "guest/x86.h"
#include "lib/platform.h"

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE  16
#define RX_BUFS     8
#define RX_BUF_SIZE 256
#define FIFO_SIZE   1024
#define TX_SPIN_MAX 100000000u  /* seconds of pause loops: a dead device */

static struct virtio_dev vd;
static struct virtq rxq, txq;
static bool present;
static volatile unsigned rx_irqs;
static char *tx_page;
static char fifo[FIFO_SIZE] NOINIT;
static size_t fifo_head, fifo_len;

static void rx_interrupt(void *ctx)
{
	(void)ctx;
	rx_irqs++;  /* the waiting loop looks at the ring itself */
}

static void post_rx(char *buf)
{
	struct virtq_buf b = { buf, RX_BUF_SIZE };

	virtq_add(&rxq, &b, 0, 1, buf);
}

static bool setup_queues(void)
{
	char *rx_mem;

	if (!virtio_queue_init(&vd, &rxq, RXQ, QUEUE_SIZE, rx_interrupt, NULL) ||
	    !virtio_queue_init(&vd, &txq, TXQ, QUEUE_SIZE, NULL, NULL))
		return false;
	rx_mem = page_alloc(RX_BUFS * RX_BUF_SIZE / PAGE_SIZE + 1);
	tx_page = page_alloc(1);
	if (!rx_mem || !tx_page)
		return false;
	for (unsigned i = 0; i < RX_BUFS; i++)
		post_rx(rx_mem + i * RX_BUF_SIZE);
	return true;
}

/* The first virtio console that is not the xenstore channel. */
static unsigned console_index(void)
{
	const struct pci_dev *d;
	unsigned i;

	for (i = 0; (d = pci_find(VIRTIO_PCI_VENDOR,
				  VIRTIO_PCI_DEVICE(VIRTIO_ID_CONSOLE), i)); i++)
		if (pci_read16(d, PCI_SUBSYS_ID) != PLAT_XS_CHANNEL_SUBSYS_ID)
			break;
	return i;
}

bool vcons_init(void)
{
	if (present)
		return true;
	if (!virtio_pci_probe(VIRTIO_ID_CONSOLE, console_index(), &vd))
		return false;
	if (!virtio_negotiate(&vd, 0))
		return false;
	if (!setup_queues()) {
		virtio_fail(&vd);
		return false;
	}
	virtio_driver_ok(&vd);
	virtq_kick(&rxq);
	present = true;
	return true;
}

bool vcons_present(void)
{
	return present;
}

static void send_chunk(const char *buf, size_t len)
{
	struct virtq_buf b = { tx_page, (uint32_t)len };

	memcpy(tx_page, buf, len);
	if (!virtq_add(&txq, &b, 1, 0, tx_page))
		return;
	virtq_kick(&txq);
	for (unsigned spin = 0; !virtq_get(&txq, NULL); spin++) {
		if (spin > TX_SPIN_MAX)
			return;  /* leave the descriptor; output is lost */
		cpu_relax();
	}
}

void vcons_write(const char *buf, size_t len)
{
	if (!present)
		return;
	while (len) {
		size_t chunk = len < PAGE_SIZE ? len : PAGE_SIZE;

		send_chunk(buf, chunk);
		buf += chunk;
		len -= chunk;
	}
}

/* Move completed receive buffers into the FIFO and post them again;
 * false if there were none. */
static bool drain_rx(void)
{
	char *buf;
	uint32_t len;
	bool got = false;

	while ((buf = virtq_get(&rxq, &len))) {
		for (uint32_t i = 0; i < len && i < RX_BUF_SIZE; i++)
			if (fifo_len < FIFO_SIZE)
				fifo[(fifo_head + fifo_len++) % FIFO_SIZE] = buf[i];
		post_rx(buf);
		got = true;
	}
	if (got)
		virtq_kick(&rxq);
	return got;
}

/*
 * Halt until a receive interrupt.  Interrupts are off everywhere else, so
 * the handler runs only inside sti;hlt: nothing can slip in between the
 * empty ring seen by drain_rx() and the halt.  The ring is looked at too,
 * so a device that fills buffers without interrupting cannot hang us.
 */
static void wait_rx_irq(void)
{
	unsigned seen = rx_irqs;

	irq_disable();
	while (rx_irqs == seen && !virtq_has_used(&rxq)) {
		irq_enable_and_halt();
		irq_disable();
	}
}

static bool fifo_pop(char *c)
{
	if (!fifo_len)
		return false;
	*c = fifo[fifo_head];
	fifo_head = (fifo_head + 1) % FIFO_SIZE;
	fifo_len--;
	return true;
}

size_t vcons_read_line(char *buf, size_t size)
{
	size_t n = 0;
	char c;

	if (!present || !size)
		return 0;
	for (;;) {
		while (fifo_pop(&c)) {
			if (c == '\n') {
				buf[n] = '\0';
				return n;
			}
			if (c != '\r' && n + 1 < size)
				buf[n++] = c;
		}
		if (!drain_rx())
			wait_rx_irq();
	}
}

/* Input found in the ring without halting still raised its interrupt;
 * take it now so it is counted. */
unsigned vcons_rx_irqs(void)
{
	lapic_deliver_pending();
	return rx_irqs;
}
