/*
 * virtio-net (type 1) on a TAP device: receiveq 0, transmitq 1.
 * devices/net_vif.c turns --vif specs into these.
 */
#ifndef XENON_VIRTIO_NET_H
#define XENON_VIRTIO_NET_H

#include <stdint.h>

#include "devices/net_tap.h"

struct vm;
struct pci_bus;
struct virtio_net;

struct virtio_net_params {
	const char *name;             /* "virtio-net[0]", for messages */
	uint8_t mac[6];
	unsigned mtu;                 /* 0: not advertised */
	uint64_t rate_bytes_per_sec;  /* guest transmit limit; 0: none */
	uint32_t rate_interval_us;
};

/* Takes over tap (closed by virtio_net_destroy, or here on failure). */
struct virtio_net *virtio_net_create(struct vm *vm, struct pci_bus *bus,
				     struct net_tap *tap,
				     const struct virtio_net_params *p);
void virtio_net_destroy(struct virtio_net *n);
/* The virtio side of the device (tests drive it through the transport). */
struct virtio_dev *virtio_net_vdev(struct virtio_net *n);

#endif
