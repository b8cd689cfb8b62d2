/* The domain's disks (--disk SPEC, repeatable): parsed, opened and
 * created as virtio-blk functions in Xen device-number order. */
#ifndef XENON_DISKS_H
#define XENON_DISKS_H

struct vm;
struct pci_bus;

/* Every disk of vm->opts, or none: -1 after logging what is wrong with
 * which disk ("disk[1]: '/x/y.img': No such file or directory"). */
int disks_create(struct vm *vm, struct pci_bus *bus);
void disks_destroy(void);

#endif
