/*
 * virtio 1.x over PCI (modern devices only, virtio spec 4.1).  A driver
 * for device type T does:
 *
 *   virtio_pci_probe(T, 0, &vd)          find it, map its structures
 *   virtio_negotiate(&vd, features)      reset .. FEATURES_OK
 *   virtio_queue_init(&vd, &vq, i, ...)  for each queue (with an MSI-X
 *                                        handler, or none to poll)
 *   virtio_driver_ok(&vd)                go live
 *
 * and then uses virtqueue.h and virtio_config_read*().
 */
#ifndef GUEST_VIRTIO_PCI_H
#define GUEST_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/idt.h"
#include "guest/msix.h"
#include "guest/pci.h"
#include "guest/virtqueue.h"

#define VIRTIO_PCI_VENDOR     0x1af4
#define VIRTIO_PCI_DEVICE(t)  (0x1040 + (t))
#define VIRTIO_ID_NET         1
#define VIRTIO_ID_BLOCK       2
#define VIRTIO_ID_CONSOLE     3
#define VIRTIO_ID_BALLOON     5
#define VIRTIO_F_VERSION_1    (1ULL << 32)

struct virtio_dev {
	const struct pci_dev *pci;
	uint64_t common, isr, device, notify;  /* mapped structures */
	uint32_t notify_mult;
	uint64_t features;                     /* negotiated */
	struct msix msix;
	bool has_msix;
	unsigned msix_used;                    /* table entries handed out */
};

/* The index-th modern virtio device of this type; false if absent or if
 * it lacks a required capability. */
bool virtio_pci_probe(unsigned type, unsigned index, struct virtio_dev *vd);
/* Reset and negotiate: accepts wanted & offered, always with VERSION_1.
 * False (device marked FAILED) if the device refuses. */
bool virtio_negotiate(struct virtio_dev *vd, uint64_t wanted);
/* Set up queue `index` with at most max_size entries.  With a handler,
 * the queue's interrupts arrive as MSI-X on a fresh vector that calls
 * handler(ctx); without one the queue is polled. */
bool virtio_queue_init(struct virtio_dev *vd, struct virtq *vq,
		       uint16_t index, uint16_t max_size,
		       irq_handler handler, void *ctx);
void virtio_driver_ok(struct virtio_dev *vd);
/* Give up on the device (status FAILED). */
void virtio_fail(struct virtio_dev *vd);
/* The device status register (DEVICE_NEEDS_RESET is 0x40). */
uint8_t virtio_status(const struct virtio_dev *vd);
#define VIRTIO_STATUS_NEEDS_RESET 0x40

uint8_t virtio_config_read8(const struct virtio_dev *vd, unsigned off);
uint16_t virtio_config_read16(const struct virtio_dev *vd, unsigned off);
uint32_t virtio_config_read32(const struct virtio_dev *vd, unsigned off);

#endif
