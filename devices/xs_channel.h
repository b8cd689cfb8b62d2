/*
 * The xenstore channel: how a guest reaches xenond's store.  A second
 * virtio-console device (type 3, port 0 only) that the guest tells from
 * its ordinary console by the PCI subsystem ID (PLAT_XS_CHANNEL_SUBSYS_*:
 * 1af4:5853, "XS"); it carries the raw xs_wire byte stream, relayed by
 * xs_relay.c to a unix:PATH chardev (xenond's per-domain socket).
 *
 * While the socket is down the transmit queue is not popped, so the guest
 * is held back rather than losing bytes; requests in flight are sent
 * again once it is back (xs_relay.h).
 */
#ifndef XENON_XS_CHANNEL_H
#define XENON_XS_CHANNEL_H

struct vm;
struct pci_bus;
struct chardev;
struct xs_channel;

struct xs_channel *xs_channel_create(struct vm *vm, struct pci_bus *bus,
				     struct chardev *cd);
void xs_channel_destroy(struct xs_channel *ch);

#endif
