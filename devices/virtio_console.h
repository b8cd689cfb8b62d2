/* virtio-console (type 3): one port, receiveq 0 and transmitq 1, backed by
 * a chardev. */
#ifndef XENON_VIRTIO_CONSOLE_H
#define XENON_VIRTIO_CONSOLE_H

struct vm;
struct pci_bus;
struct chardev;
struct virtio_console;

struct virtio_console *virtio_console_create(struct vm *vm,
					     struct pci_bus *bus,
					     struct chardev *cd);
void virtio_console_destroy(struct virtio_console *vc);

#endif
