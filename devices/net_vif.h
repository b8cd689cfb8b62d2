/*
 * The domain's network interfaces: one virtio-net device on a TAP per
 * --vif spec (xl-network-configuration(5) syntax), in command-line order.
 */
#ifndef XENON_NET_VIF_H
#define XENON_NET_VIF_H

struct vm;
struct pci_bus;

/* Parse every spec, open or create the TAPs and add the devices.  Any bad
 * spec or unusable TAP is a clear error and -1, before the guest runs. */
int net_vifs_create(struct vm *vm, struct pci_bus *bus);
void net_vifs_destroy(void);

#endif
