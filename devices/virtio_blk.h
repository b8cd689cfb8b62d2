/* virtio-blk (type 2): one PCI function per disk; see virtio_blk.c. */
#ifndef XENON_VIRTIO_BLK_H
#define XENON_VIRTIO_BLK_H

struct vm;
struct pci_bus;
struct xl_disk;
struct block_backend;
struct virtio_blk;

/* A disk for the parsed spec, over bb (NULL for an empty cdrom drive;
 * taken over, closed on failure too).  Its serial (GET_ID) is the vdev
 * name; one queue per vCPU, up to 8.  NULL after logging. */
struct virtio_blk *virtio_blk_create(struct vm *vm, struct pci_bus *bus,
				     const struct xl_disk *disk,
				     struct block_backend *bb);
/* After the vCPUs have stopped: waits for I/O in flight. */
void virtio_blk_destroy(struct virtio_blk *vb);

#endif
