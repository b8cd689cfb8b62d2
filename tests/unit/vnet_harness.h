/*
 * A virtio-net device on a fake TAP (one end of an AF_UNIX datagram
 * socketpair: one frame per datagram, vnet header first, as a TAP with
 * IFF_VNET_HDR) and a driver poking its transport registers, for the unit
 * test and the fuzz target.  Include once, after vm_stubs.h.
 */
#ifndef XENON_TEST_VNET_HARNESS_H
#define XENON_TEST_VNET_HARNESS_H

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "devices/pci.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "vmm/main_loop.h"

#define H_RAM   (1u << 20)
#define H_QSIZE 16
/* Rings: receive queue 0 at 0x1000, transmit queue 1 at 0x2000. */
#define H_DESC(q)  (0x1000u + 0x1000u * (q))
#define H_AVAIL(q) (H_DESC(q) + 0x400)
#define H_USED(q)  (H_DESC(q) + 0x800)
#define H_BUF      0x10000u

enum {
	H_GFSELECT = 0x08, H_GF = 0x0c, H_STATUS = 0x14, H_Q_SELECT = 0x16,
	H_Q_SIZE = 0x18, H_Q_ENABLE = 0x1c, H_Q_DESC = 0x20, H_Q_DRIVER = 0x28,
	H_Q_DEVICE = 0x30,
};

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct vnet_h {
	struct vm vm;
	struct pci_bus *bus;
	struct virtio_net *net;
	struct virtio_dev *vdev;
	struct pci_device *pci;
	int peer;                 /* the host side of the fake TAP */
	uint16_t avail[2];
};

static inline int vh_create(struct vnet_h *h, const struct virtio_net_params *p)
{
	struct net_tap tap = { .fd = -1, .ifname = "faketap", .offloads = 0x7f };
	int sv[2];

	memset(h, 0, sizeof(*h));
	test_vm_init(&h->vm);
	h->vm.mem.host = calloc(1, H_RAM);
	h->vm.mem.size = H_RAM;
	h->vm.mem.nr_regions = 1;
	h->vm.mem.regions[0] = (struct guest_region){ 0, H_RAM, 0 };
	h->bus = pci_bus_create(&h->vm);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	tap.fd = sv[0];
	h->peer = sv[1];
	h->net = virtio_net_create(&h->vm, h->bus, &tap, p);
	if (!h->net)
		return -1;
	h->vdev = virtio_net_vdev(h->net);
	h->pci = virtio_pci_function(h->vdev);
	return 0;
}

static inline void vh_destroy(struct vnet_h *h)
{
	virtio_net_destroy(h->net);
	pci_bus_destroy(h->bus);
	close(h->peer);
	free(h->vm.mem.host);
	test_vm_destroy(&h->vm);
}

static inline void vh_wr(struct vnet_h *h, uint64_t off, uint64_t v, unsigned len)
{
	io_bus_access(&h->vm.mmio, h->pci->bars[VIRTIO_PCI_BAR].mapped_at + off,
		      (uint8_t *)&v, len, true);
}

static inline uint64_t vh_rd(struct vnet_h *h, uint64_t off, unsigned len)
{
	uint64_t v = 0;

	io_bus_access(&h->vm.mmio, h->pci->bars[VIRTIO_PCI_BAR].mapped_at + off,
		      (uint8_t *)&v, len, false);
	return v;
}

static inline void *vh_ptr(struct vnet_h *h, uint64_t gpa)
{
	return h->vm.mem.host + gpa;
}

/* Reset, negotiate `features` (VERSION_1 added), both queues, DRIVER_OK.
 * Returns the status read back. */
static inline uint8_t vh_driver_init(struct vnet_h *h, uint64_t features)
{
	features |= 1ULL << 32;
	vh_wr(h, H_STATUS, 0, 1);
	memset(h->avail, 0, sizeof(h->avail));
	vh_wr(h, H_STATUS, 3, 1);
	vh_wr(h, H_GFSELECT, 0, 4);
	vh_wr(h, H_GF, (uint32_t)features, 4);
	vh_wr(h, H_GFSELECT, 1, 4);
	vh_wr(h, H_GF, features >> 32, 4);
	vh_wr(h, H_STATUS, 0x0b, 1);
	for (unsigned q = 0; q < 2; q++) {
		memset(vh_ptr(h, H_DESC(q)), 0, 0x1000);
		vh_wr(h, H_Q_SELECT, q, 2);
		vh_wr(h, H_Q_SIZE, H_QSIZE, 2);
		vh_wr(h, H_Q_DESC, H_DESC(q), 8);
		vh_wr(h, H_Q_DRIVER, H_AVAIL(q), 8);
		vh_wr(h, H_Q_DEVICE, H_USED(q), 8);
		vh_wr(h, H_Q_ENABLE, 1, 2);
	}
	vh_wr(h, H_STATUS, 0x0f, 1);
	return (uint8_t)vh_rd(h, H_STATUS, 1);
}

/* Make the chain starting at descriptor head available on queue q. */
static inline void vh_publish(struct vnet_h *h, unsigned q, uint16_t head)
{
	struct virtq_avail *a = vh_ptr(h, H_AVAIL(q));

	a->ring[h->avail[q] % H_QSIZE] = head;
	a->idx = ++h->avail[q];
}

static inline void vh_desc(struct vnet_h *h, unsigned q, uint16_t i,
			   uint64_t addr, uint32_t len, uint16_t flags,
			   uint16_t next)
{
	struct virtq_desc *d = vh_ptr(h, H_DESC(q));

	d[i] = (struct virtq_desc){ addr, len, flags, next };
}

/* Kicks go through the device's own eventfds, as KVM's would. */
static inline void vh_kick(struct vnet_h *h, unsigned q)
{
	vh_wr(h, VIRTIO_PCI_NOTIFY_OFF + 4 * q, q, 2);
	virtio_pci_poll(h->vdev);
}

static inline struct virtq_used *vh_used(struct vnet_h *h, unsigned q)
{
	return vh_ptr(h, H_USED(q));
}

#endif
