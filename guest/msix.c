/* MSI-X capability and table programming. */
#include "guest/msix.h"

#include "guest/x86.h"
#include "lib/platform.h"

#define MSIX_CTRL          2      /* message control, in the capability */
#define MSIX_TABLE         4      /* table offset | BIR */
#define MSIX_CTRL_ENABLE   0x8000
#define MSIX_CTRL_MASKALL  0x4000
#define MSIX_ENTRY_SIZE    16

bool msix_init(const struct pci_dev *d, struct msix *m)
{
	uint32_t table;

	m->dev = d;
	m->cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	if (!m->cap)
		return false;
	m->size = (pci_read16(d, m->cap + MSIX_CTRL) & 0x7ff) + 1;
	table = pci_read32(d, m->cap + MSIX_TABLE);
	m->table = pci_bar_map(d, table & 7, table & ~7u,
			       (uint64_t)m->size * MSIX_ENTRY_SIZE);
	return m->table != 0;
}

bool msix_route(struct msix *m, unsigned entry, uint32_t apic_id,
		uint8_t vector)
{
	uint64_t e = m->table + (uint64_t)entry * MSIX_ENTRY_SIZE;

	if (entry >= m->size)
		return false;
	/* Physical destination mode, fixed delivery, edge triggered. */
	mmio_write32(e + 0, (uint32_t)PLAT_LAPIC_ADDR | apic_id << 12);
	mmio_write32(e + 4, 0);
	mmio_write32(e + 8, vector);
	mmio_write32(e + 12, 0);  /* unmask */
	return true;
}

void msix_enable(struct msix *m)
{
	uint16_t ctrl = pci_read16(m->dev, m->cap + MSIX_CTRL);
	uint16_t cmd = pci_read16(m->dev, PCI_COMMAND);

	pci_write16(m->dev, PCI_COMMAND, cmd | PCI_COMMAND_INTX_OFF);
	ctrl = (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL;
	pci_write16(m->dev, m->cap + MSIX_CTRL, ctrl);
}
