/*
 * Virtio over PCI, modern (virtio 1.x) transport only (virtio 1.2 4.1).
 *
 * BAR 0 (16 KiB): common config at 0x0000, ISR at 0x1000, device config at
 * 0x2000, notifications at 0x3000 + 4 * queue (notify_off_multiplier 4,
 * one KVM ioeventfd per queue).  BAR 1: MSI-X table and PBA, one vector
 * per queue plus one for config changes.
 */
#ifndef XENON_VIRTIO_PCI_H
#define XENON_VIRTIO_PCI_H

#include "devices/virtio.h"

struct pci_bus;
struct pci_device;

struct virtio_dev *virtio_pci_create(struct vm *vm, struct pci_bus *bus,
				     const struct virtio_device_ops *ops,
				     void *priv);
void virtio_pci_destroy(struct virtio_dev *vdev);

/* The PCI function behind vdev (tests, diagnostics). */
struct pci_device *virtio_pci_function(struct virtio_dev *vdev);
/* Run pending queue kicks now (tests: there is no main loop). */
void virtio_pci_poll(struct virtio_dev *vdev);

#define VIRTIO_PCI_BAR          0
#define VIRTIO_PCI_MSIX_BAR     1
#define VIRTIO_PCI_COMMON_OFF   0x0000
#define VIRTIO_PCI_ISR_OFF      0x1000
#define VIRTIO_PCI_DEVICE_OFF   0x2000
#define VIRTIO_PCI_NOTIFY_OFF   0x3000
#define VIRTIO_PCI_BAR_SIZE     0x4000
#define VIRTIO_PCI_NOTIFY_MULT  4
#define VIRTIO_PCI_MAX_QUEUES   1024

#endif
