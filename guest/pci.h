/*
 * PCI bus 0 through type-1 configuration access (ports 0xcf8/0xcfc).
 * BARs are used where the monitor or firmware put them, never moved.
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct pci_dev {
	uint8_t slot, func;
	uint16_t vendor, device;
	uint32_t class_rev;  /* class, subclass, prog-if, revision */
};

enum {
	PCI_VENDOR_ID = 0x00, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
	PCI_CLASS_REV = 0x08, PCI_HEADER_TYPE = 0x0e, PCI_BAR0 = 0x10,
	PCI_CAP_PTR = 0x34, PCI_SUBSYS_ID = 0x2e,
};
#define PCI_COMMAND_MEMORY     0x0002
#define PCI_COMMAND_MASTER     0x0004
#define PCI_COMMAND_INTX_OFF   0x0400
#define PCI_STATUS_CAP_LIST    0x0010
#define PCI_CAP_ID_VENDOR      0x09
#define PCI_CAP_ID_MSIX        0x11

uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/* Enumerate bus 0 (once; later calls return the cached count). */
unsigned pci_scan(void);
/* The index-th function with this vendor and device ID, or NULL. */
const struct pci_dev *pci_find(uint16_t vendor, uint16_t device,
			       unsigned index);
/* Next capability with this ID after config offset `after` (0: from the
 * start of the list); 0 when there is none. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after);
/* The address of [off, off + len) inside memory BAR `bar` (64-bit BARs
 * included), identity-mapped; 0 for I/O BARs, unassigned BARs or bad
 * indices. */
uint64_t pci_bar_map(const struct pci_dev *d, unsigned bar, uint64_t off,
		     uint64_t len);
/* Turn on memory decoding and bus mastering (DMA, MSI). */
void pci_enable(const struct pci_dev *d);

#endif
