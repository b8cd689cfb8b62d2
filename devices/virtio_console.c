/*
 * virtio-console (virtio 1.2 section 5.3), single port: no MULTIPORT, so
 * no control queues.  EMERG_WRITE is offered (a byte written to emerg_wr
 * goes straight out).  Host input waits in the chardev until the guest
 * posts receive buffers, so none is lost while the driver is not ready.
 */
#include "devices/virtio_console.h"

#include <stdlib.h>
#include <string.h>

#include "devices/chardev.h"
#include "devices/virtio.h"
#include "devices/virtio_pci.h"
#include "lib/log.h"

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE 256

#define VIRTIO_CONSOLE_F_SIZE        0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define PCI_CLASS_COMM_OTHER 0x078000

struct console_config {
	uint16_t cols, rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
};

#define EMERG_WR_OFF 8
_Static_assert(sizeof(struct console_config) == 12, "virtio console config");

struct virtio_console {
	struct virtio_dev *vdev;
	struct chardev *cd;
	struct iovec iov[QUEUE_SIZE];   /* chains are <= queue size */
};

static struct virtio_console *vc_of(struct virtio_dev *vdev)
{
	return vdev->priv;
}

static uint64_t vc_features(struct virtio_dev *vdev)
{
	(void)vdev;
	return 1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE;
}

static void vc_get_config(struct virtio_dev *vdev, uint32_t off, void *buf,
			  uint32_t len)
{
	struct console_config c = { .max_nr_ports = 1 };

	(void)vdev;
	memcpy(buf, (uint8_t *)&c + off, len);
}

static void vc_set_config(struct virtio_dev *vdev, uint32_t off,
			  const void *buf, uint32_t len)
{
	/* Only emerg_wr is writable; its low byte is the character. */
	if (off <= EMERG_WR_OFF && EMERG_WR_OFF < off + len &&
	    virtio_has_feature(vdev, VIRTIO_CONSOLE_F_EMERG_WRITE))
		chardev_putc(vc_of(vdev)->cd,
			     ((const uint8_t *)buf)[EMERG_WR_OFF - off]);
}

/* Guest -> host: every device-readable byte goes to the chardev. */
static void flush_tx(struct virtio_console *vc)
{
	struct virtq_elem e = { .iov = vc->iov, .max_iov = QUEUE_SIZE };
	bool any = false;

	while (virtio_queue_pop(vc->vdev, TXQ, &e) == 1) {
		for (unsigned i = 0; i < e.out_num; i++)
			chardev_write(vc->cd, e.iov[i].iov_base, e.iov[i].iov_len);
		virtio_queue_push(vc->vdev, TXQ, &e, 0);
		any = true;
	}
	if (any)
		virtio_queue_signal(vc->vdev, TXQ);
}

/* Copy waiting input into one posted buffer; bytes written. */
static uint32_t fill_buffer(struct virtio_console *vc,
			    const struct virtq_elem *e)
{
	uint32_t done = 0;

	for (unsigned i = e->out_num; i < e->out_num + e->in_num; i++) {
		size_t n = chardev_read(vc->cd, e->iov[i].iov_base,
					e->iov[i].iov_len);

		done += (uint32_t)n;
		if (n < e->iov[i].iov_len)
			break;
	}
	return done;
}

/* Host -> guest, as far as posted buffers and waiting input go. */
static void fill_rx(struct virtio_console *vc)
{
	struct virtq_elem e = { .iov = vc->iov, .max_iov = QUEUE_SIZE };
	bool any = false;

	while (chardev_input_pending(vc->cd) &&
	       virtio_queue_pop(vc->vdev, RXQ, &e) == 1) {
		virtio_queue_push(vc->vdev, RXQ, &e, fill_buffer(vc, &e));
		any = true;
	}
	if (any)
		virtio_queue_signal(vc->vdev, RXQ);
}

static void vc_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	if (q == TXQ)
		flush_tx(vc_of(vdev));
	else if (q == RXQ)
		fill_rx(vc_of(vdev));
}

/* Main loop: host input arrived. */
static void vc_input(void *opaque)
{
	struct virtio_console *vc = opaque;

	virtio_lock(vc->vdev);
	fill_rx(vc);
	virtio_unlock(vc->vdev);
}

static const struct virtio_device_ops vc_ops = {
	.name = "virtio-console",
	.type = VIRTIO_ID_CONSOLE,
	.pci_class = PCI_CLASS_COMM_OTHER,
	.num_queues = 2,
	.queue_max_size = QUEUE_SIZE,
	.config_size = sizeof(struct console_config),
	.get_features = vc_features,
	.get_config = vc_get_config,
	.set_config = vc_set_config,
	.queue_notify = vc_queue_notify,
};

struct virtio_console *virtio_console_create(struct vm *vm,
					     struct pci_bus *bus,
					     struct chardev *cd)
{
	struct virtio_console *vc = calloc(1, sizeof(*vc));

	if (!vc) {
		log_error("virtio-console: out of memory");
		return NULL;
	}
	vc->cd = cd;
	vc->vdev = virtio_pci_create(vm, bus, &vc_ops, vc);
	if (!vc->vdev || chardev_set_input(cd, vc_input, vc) < 0) {
		virtio_console_destroy(vc);
		return NULL;
	}
	return vc;
}

void virtio_console_destroy(struct virtio_console *vc)
{
	if (!vc)
		return;
	virtio_pci_destroy(vc->vdev);
	free(vc);
}
