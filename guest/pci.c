/*
 * PCI configuration access and bus-0 enumeration.  Each config access is
 * two port accesses, i.e. two VM exits, so the scan stops early when there
 * is no host bridge at 00:00.0 (QEMU microvm: no PCI at all).
 */
#include "guest/pci.h"

#include "guest/memory.h"
#include "guest/x86.h"
#include "lib/platform.h"

#define MAX_PCI_DEVS 64

static struct pci_dev devs[MAX_PCI_DEVS];
static unsigned nr_devs;
static bool scanned;

static void select_reg(uint8_t slot, uint8_t func, uint8_t off)
{
	outl(PLAT_PORT_PCI_ADDR, 0x80000000u | (uint32_t)slot << 11 |
	     (uint32_t)func << 8 | (off & 0xfc));
}

static uint32_t cfg_read32(uint8_t slot, uint8_t func, uint8_t off)
{
	select_reg(slot, func, off);
	return inl(PLAT_PORT_PCI_DATA);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
	return cfg_read32(d->slot, d->func, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
	return (uint8_t)(pci_read32(d, off) >> ((off & 3) * 8));
}

/* Sub-dword writes go to the matching data port byte, so neighbouring
 * registers (write-1-to-clear status bits) are left alone. */
void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v)
{
	select_reg(d->slot, d->func, off);
	outb(PLAT_PORT_PCI_DATA + (off & 3), v);
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	select_reg(d->slot, d->func, off);
	outw(PLAT_PORT_PCI_DATA + (off & 2), v);
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	select_reg(d->slot, d->func, off);
	outl(PLAT_PORT_PCI_DATA, v);
}

static void add_function(uint8_t slot, uint8_t func, uint32_t id)
{
	struct pci_dev *d;

	if (nr_devs >= MAX_PCI_DEVS)
		return;
	d = &devs[nr_devs++];
	*d = (struct pci_dev){ slot, func, (uint16_t)id, (uint16_t)(id >> 16), 0 };
	d->class_rev = pci_read32(d, PCI_CLASS_REV);
}

static void scan_slot(uint8_t slot)
{
	uint32_t id = cfg_read32(slot, 0, PCI_VENDOR_ID);
	unsigned nfunc;

	if ((uint16_t)id == 0xffff)
		return;
	add_function(slot, 0, id);
	nfunc = (cfg_read32(slot, 0, PCI_HEADER_TYPE & 0xfc) >> 16) & 0x80 ? 8 : 1;
	for (uint8_t f = 1; f < nfunc; f++) {
		id = cfg_read32(slot, f, PCI_VENDOR_ID);
		if ((uint16_t)id != 0xffff)
			add_function(slot, f, id);
	}
}

unsigned pci_scan(void)
{
	if (scanned)
		return nr_devs;
	scanned = true;
	if ((uint16_t)cfg_read32(0, 0, PCI_VENDOR_ID) == 0xffff)
		return 0;  /* no host bridge: no PCI */
	for (uint8_t slot = 0; slot < PLAT_PCI_MAX_SLOTS; slot++)
		scan_slot(slot);
	return nr_devs;
}

const struct pci_dev *pci_find(uint16_t vendor, uint16_t device,
			       unsigned index)
{
	pci_scan();
	for (unsigned i = 0; i < nr_devs; i++)
		if (devs[i].vendor == vendor && devs[i].device == device &&
		    index-- == 0)
			return &devs[i];
	return NULL;
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t after)
{
	uint8_t off;
	unsigned guard = 48;  /* a looping list cannot hang us */

	if (!after) {
		if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
			return 0;
		off = pci_read8(d, PCI_CAP_PTR);
	} else {
		off = pci_read8(d, after + 1);
	}
	for (; off >= 0x40 && guard--; off = pci_read8(d, off + 1)) {
		off &= 0xfc;
		if (pci_read8(d, off) == id)
			return off;
	}
	return 0;
}

uint64_t pci_bar_map(const struct pci_dev *d, unsigned bar, uint64_t off,
		    uint64_t len)
{
	uint8_t reg = PCI_BAR0 + 4 * bar;
	uint32_t lo;
	uint64_t addr;

	if (bar > 5)
		return 0;
	lo = pci_read32(d, reg);
	if (lo & 1)
		return 0;  /* I/O BAR */
	addr = lo & ~0xfULL;
	if (((lo >> 1) & 3) == 2 && bar < 5)  /* 64-bit memory BAR */
		addr |= (uint64_t)pci_read32(d, reg + 4) << 32;
	if (!addr || !map_identity(addr + off, len, true))
		return 0;
	return addr + off;
}

void pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND,
		    cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}
