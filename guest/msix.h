/* PCI MSI-X: program table entries to deliver vectors to a LAPIC. */
#ifndef GUEST_MSIX_H
#define GUEST_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/pci.h"

struct msix {
	const struct pci_dev *dev;
	uint8_t cap;        /* config offset of the capability */
	uint16_t size;      /* table entries */
	uint64_t table;     /* mapped address of the table */
};

/* Find the capability and map the table; false if the device has none. */
bool msix_init(const struct pci_dev *d, struct msix *m);
/* Point entry at (apic_id, vector) and unmask it. */
bool msix_route(struct msix *m, unsigned entry, uint32_t apic_id,
		uint8_t vector);
/* Turn MSI-X on for the function (and INTx off). */
void msix_enable(struct msix *m);

#endif
