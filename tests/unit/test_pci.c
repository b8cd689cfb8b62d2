/* PCI bus 0: config access (type 1 and ECAM), BAR sizing and moves,
 * memory decode, capability list, INTx sharing, MSI-X masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "lib/platform.h"
#include "vm_stubs.h"

struct fixture {
	struct vm vm;
	struct pci_bus *bus;
	struct pci_device dev;
	unsigned bar_hits;
	uint64_t bar_last_off;
	unsigned maps, unmaps;
	uint64_t last_map;
};

static struct fixture *F(void **state)
{
	return *state;
}

static void bar_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct fixture *f = opaque;

	f->bar_hits++;
	f->bar_last_off = off;
	if (!is_write)
		memset(data, 0xab, len);
}

static void bar_map(struct pci_device *d, unsigned bar, uint64_t addr,
		    bool mapped)
{
	struct fixture *f = d->priv;

	(void)bar;
	if (mapped) {
		f->maps++;
		f->last_map = addr;
	} else {
		f->unmaps++;
	}
}

static const struct pci_device_ops test_ops = { .bar_map = bar_map };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	test_vm_init(&f->vm);
	f->bus = pci_bus_create(&f->vm);
	assert_non_null(f->bus);
	pci_device_init(&f->dev, f->bus, "test", 0x1234, 0x5678, 0x020000, 3);
	f->dev.ops = &test_ops;
	f->dev.priv = f;
	assert_int_equal(pci_add_bar(&f->dev, 0, 0x4000, bar_io, f), 0);
	assert_int_equal(pci_add_bar(&f->dev, 2, 0x1000, bar_io, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = F(state);

	pci_device_destroy(&f->dev);
	pci_bus_destroy(f->bus);
	test_vm_destroy(&f->vm);
	free(f);
	return 0;
}

/* ---- access paths ------------------------------------------------------------ */

static void out32(struct fixture *f, uint16_t port, uint32_t v)
{
	io_bus_access(&f->vm.pio, port, (uint8_t *)&v, 4, true);
}

static uint32_t in(struct fixture *f, uint16_t port, unsigned len)
{
	uint32_t v = 0;

	io_bus_access(&f->vm.pio, port, (uint8_t *)&v, len, false);
	return v;
}

static uint32_t cfg_read(struct fixture *f, unsigned slot, unsigned reg,
			 unsigned len)
{
	out32(f, PLAT_PORT_PCI_ADDR, 0x80000000u | slot << 11 | (reg & 0xfc));
	return in(f, (uint16_t)(PLAT_PORT_PCI_DATA + (reg & 3)), len);
}

static void cfg_write(struct fixture *f, unsigned slot, unsigned reg,
		      uint32_t v, unsigned len)
{
	out32(f, PLAT_PORT_PCI_ADDR, 0x80000000u | slot << 11 | (reg & 0xfc));
	io_bus_access(&f->vm.pio, PLAT_PORT_PCI_DATA + (reg & 3), (uint8_t *)&v,
		      len, true);
}

static uint32_t ecam_read(struct fixture *f, unsigned slot, unsigned reg,
			  unsigned len)
{
	uint32_t v = 0;

	io_bus_access(&f->vm.mmio, PLAT_PCI_ECAM_START + (slot << 15) + reg,
		      (uint8_t *)&v, len, false);
	return v;
}

static void ecam_write(struct fixture *f, unsigned slot, unsigned reg,
		       uint32_t v, unsigned len)
{
	io_bus_access(&f->vm.mmio, PLAT_PCI_ECAM_START + (slot << 15) + reg,
		      (uint8_t *)&v, len, true);
}

static uint32_t mmio_read32(struct fixture *f, uint64_t addr)
{
	uint32_t v = 0;

	io_bus_access(&f->vm.mmio, addr, (uint8_t *)&v, 4, false);
	return v;
}

static void mmio_write32(struct fixture *f, uint64_t addr, uint32_t v)
{
	io_bus_access(&f->vm.mmio, addr, (uint8_t *)&v, 4, true);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_host_bridge(void **state)
{
	struct fixture *f = F(state);

	assert_int_equal(cfg_read(f, 0, 0, 4), 0x00081b36);
	assert_int_equal(cfg_read(f, 0, 0x08, 4) >> 8, 0x060000);
	assert_int_equal(cfg_read(f, 0, 0x02, 2), 0x0008);
	assert_int_equal(cfg_read(f, 0, 0x01, 1), 0x1b);
	assert_int_equal(ecam_read(f, 0, 0, 4), 0x00081b36);
	assert_int_equal(cfg_read(f, 0, PCI_INTERRUPT_PIN, 1), 0);
	/* The address latch reads back. */
	out32(f, PLAT_PORT_PCI_ADDR, 0x80000010);
	assert_int_equal(in(f, PLAT_PORT_PCI_ADDR, 4), 0x80000010);
}

static void test_absent_functions(void **state)
{
	struct fixture *f = F(state);

	assert_int_equal(cfg_read(f, 5, 0, 4), 0xffffffff);
	/* Function 1 of the host bridge. */
	out32(f, PLAT_PORT_PCI_ADDR, 0x80000100);
	assert_int_equal(in(f, PLAT_PORT_PCI_DATA, 4), 0xffffffff);
	/* Bus 1. */
	out32(f, PLAT_PORT_PCI_ADDR, 0x80010000);
	assert_int_equal(in(f, PLAT_PORT_PCI_DATA, 4), 0xffffffff);
	/* Enable bit clear. */
	out32(f, PLAT_PORT_PCI_ADDR, 0x00000000);
	assert_int_equal(in(f, PLAT_PORT_PCI_DATA, 4), 0xffffffff);
	assert_int_equal(ecam_read(f, 5, 0, 4), 0xffffffff);
	/* Extended config space of a present device is empty. */
	assert_int_equal(ecam_read(f, 0, 0x100, 4), 0);
	/* 0xcf9 is not ours: a byte there must not reach the latch. */
	assert_false(io_bus_access(&f->vm.pio, 0xcf9, (uint8_t[]){ 6 }, 1, true));
}

static void test_register_assigns_bars(void **state)
{
	struct fixture *f = F(state);
	uint32_t bar0, bar2;

	assert_int_equal(pci_register_device(&f->dev), 0);
	assert_int_equal(f->dev.slot, 1);
	assert_int_equal(cfg_read(f, 1, 0, 4), 0x56781234);
	assert_int_equal(cfg_read(f, 1, PCI_REVISION_ID, 1), 3);
	bar0 = cfg_read(f, 1, PCI_BAR0, 4);
	bar2 = cfg_read(f, 1, PCI_BAR0 + 8, 4);
	assert_true(bar0 >= PLAT_PCI_MMIO_START && bar0 % 0x4000 == 0);
	assert_true(bar2 >= PLAT_PCI_MMIO_START && bar2 % 0x1000 == 0);
	assert_true(bar2 >= bar0 + 0x4000 || bar0 >= bar2 + 0x1000);
	assert_int_equal(cfg_read(f, 1, PCI_BAR0 + 4, 4), 0);
	assert_int_equal(cfg_read(f, 1, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY,
			 PCI_COMMAND_MEMORY);
	assert_int_equal(f->maps, 2);
	assert_int_equal(mmio_read32(f, bar0 + 0x10), 0xabababab);
	assert_int_equal(f->bar_last_off, 0x10);
	/* INTx wiring for slot 1. */
	assert_int_equal(cfg_read(f, 1, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg_read(f, 1, PCI_INTERRUPT_LINE, 1),
			 PLAT_PCI_INTX_GSI_BASE + 1);
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = F(state);
	uint32_t bar0;

	assert_int_equal(pci_register_device(&f->dev), 0);
	bar0 = cfg_read(f, 1, PCI_BAR0, 4);
	/* Linux turns decode off while sizing. */
	cfg_write(f, 1, PCI_COMMAND, 0, 2);
	assert_int_equal(f->unmaps, 2);
	cfg_write(f, 1, PCI_BAR0, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, 1, PCI_BAR0, 4), 0xffffc000);
	cfg_write(f, 1, PCI_BAR0 + 4, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, 1, PCI_BAR0 + 4, 4), 0);  /* unused BAR */
	cfg_write(f, 1, PCI_ROM_ADDRESS, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, 1, PCI_ROM_ADDRESS, 4), 0); /* no ROM */
	cfg_write(f, 1, PCI_BAR0, bar0, 4);
	cfg_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read32(f, bar0), 0xabababab);
}

static void test_sizing_with_decode_on(void **state)
{
	struct fixture *f = F(state);
	uint32_t bar0;

	assert_int_equal(pci_register_device(&f->dev), 0);
	bar0 = cfg_read(f, 1, PCI_BAR0, 4);
	/* The all-ones pattern ends at 4 GiB: it must not be mapped. */
	cfg_write(f, 1, PCI_BAR0, 0xffffffff, 4);
	assert_false(io_bus_access(&f->vm.mmio, 0xffffc000, (uint8_t[4]){ 0 }, 4, false));
	assert_false(io_bus_access(&f->vm.mmio, bar0, (uint8_t[4]){ 0 }, 4, false));
	cfg_write(f, 1, PCI_BAR0, bar0, 4);
	assert_true(io_bus_access(&f->vm.mmio, bar0, (uint8_t[4]){ 0 }, 4, false));
}

static void test_bar_move(void **state)
{
	struct fixture *f = F(state);
	uint32_t bar0, to = PLAT_PCI_MMIO_START + 0x100000;

	assert_int_equal(pci_register_device(&f->dev), 0);
	bar0 = cfg_read(f, 1, PCI_BAR0, 4);
	/* Through ECAM this time, in two word writes. */
	ecam_write(f, 1, PCI_BAR0, to & 0xffff, 2);
	ecam_write(f, 1, PCI_BAR0 + 2, to >> 16, 2);
	assert_int_equal(ecam_read(f, 1, PCI_BAR0, 4), to);
	assert_int_equal(f->last_map, to);
	assert_false(io_bus_access(&f->vm.mmio, bar0, (uint8_t[4]){ 0 }, 4, false));
	assert_int_equal(mmio_read32(f, to + 0x3ffc), 0xabababab);
	/* Low bits below the size are not writable. */
	cfg_write(f, 1, PCI_BAR0, to | 0x1234, 4);
	assert_int_equal(cfg_read(f, 1, PCI_BAR0, 4), to);
}

static void test_bar_overlap_refused(void **state)
{
	struct fixture *f = F(state);
	uint32_t bar0, bar2;

	assert_int_equal(pci_register_device(&f->dev), 0);
	bar0 = cfg_read(f, 1, PCI_BAR0, 4);
	bar2 = cfg_read(f, 1, PCI_BAR0 + 8, 4);
	/* Moving BAR 2 on top of BAR 0 leaves it unmapped, BAR 0 intact. */
	cfg_write(f, 1, PCI_BAR0 + 8, bar0, 4);
	assert_false(io_bus_access(&f->vm.mmio, bar2, (uint8_t[4]){ 0 }, 4, false));
	assert_int_equal(mmio_read32(f, bar0), 0xabababab);
}

static void test_capabilities(void **state)
{
	struct fixture *f = F(state);
	uint8_t a[4] = { 0x09, 0, 4, 0xaa }, b[8] = { 0x05, 0, 1, 2, 3, 4, 5, 6 };
	unsigned p;

	assert_int_equal(pci_add_cap(&f->dev, a, sizeof(a)), 0x40);
	assert_int_equal(pci_add_cap(&f->dev, b, sizeof(b)), 0x44);
	assert_int_equal(pci_register_device(&f->dev), 0);
	assert_true(cfg_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	p = cfg_read(f, 1, PCI_CAP_PTR, 1);
	assert_int_equal(p, 0x40);
	assert_int_equal(cfg_read(f, 1, p, 1), 0x09);
	assert_int_equal(cfg_read(f, 1, p + 3, 1), 0xaa);
	p = cfg_read(f, 1, p + 1, 1);
	assert_int_equal(p, 0x44);
	assert_int_equal(cfg_read(f, 1, p, 1), 0x05);
	assert_int_equal(cfg_read(f, 1, p + 1, 1), 0);
	/* Read-only unless the device says otherwise. */
	cfg_write(f, 1, 0x44, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, 1, 0x44, 4), 0x02010005);
}

static void test_intx(void **state)
{
	struct fixture *f = F(state);
	struct pci_device other, fillers[7];
	unsigned gsi = PLAT_PCI_INTX_GSI_BASE + 1;

	assert_int_equal(pci_register_device(&f->dev), 0);
	pci_set_intx(&f->dev, true);
	assert_int_equal(stub.irq_level[gsi], 1);
	assert_true(cfg_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_INTX);
	/* INTx disable masks the line but not the status bit. */
	cfg_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(stub.irq_level[gsi], 0);
	assert_true(cfg_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_INTX);
	cfg_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(stub.irq_level[gsi], 1);

	/* Slot 9 shares GSI 17: the line stays up while either holds it. */
	for (int i = 0; i < 7; i++) {
		pci_device_init(&fillers[i], f->bus, "filler", 1, 1, 0, 0);
		assert_int_equal(pci_register_device(&fillers[i]), 0);
	}
	pci_device_init(&other, f->bus, "other", 1, 2, 0, 0);
	assert_int_equal(pci_register_device(&other), 0);
	assert_int_equal(other.slot, 9);
	assert_int_equal(pci_intx_gsi(9), gsi);
	pci_set_intx(&other, true);
	pci_set_intx(&f->dev, false);
	assert_int_equal(stub.irq_level[gsi], 1);
	pci_set_intx(&other, false);
	assert_int_equal(stub.irq_level[gsi], 0);
	pci_device_destroy(&other);
	for (int i = 0; i < 7; i++)
		pci_device_destroy(&fillers[i]);
}

/* ---- MSI-X ------------------------------------------------------------------- */

static unsigned find_cap(struct fixture *f, unsigned slot, uint8_t id)
{
	for (unsigned p = cfg_read(f, slot, PCI_CAP_PTR, 1); p;
	     p = cfg_read(f, slot, p + 1, 1))
		if (cfg_read(f, slot, p, 1) == id)
			return p;
	return 0;
}

static void test_msix(void **state)
{
	struct fixture *f = F(state);
	unsigned cap;
	uint32_t table, pba;
	uint64_t tbl;

	assert_int_equal(pci_msix_init(&f->dev, 3, 4), 0);
	assert_int_equal(pci_register_device(&f->dev), 0);
	cap = find_cap(f, 1, PCI_CAP_ID_MSIX);
	assert_int_not_equal(cap, 0);
	assert_int_equal(cfg_read(f, 1, cap + 2, 2), 2);     /* N - 1 */
	table = cfg_read(f, 1, cap + 4, 4);
	pba = cfg_read(f, 1, cap + 8, 4);
	assert_int_equal(table & 7, 4);
	assert_int_equal(pba & 7, 4);
	tbl = cfg_read(f, 1, PCI_BAR0 + 16, 4) + (table & ~7u);

	/* All vectors start masked; MSI-X off means "use INTx". */
	assert_int_equal(mmio_read32(f, tbl + 12), 1);
	assert_false(pci_msix_notify(&f->dev, 0));

	/* Program vector 1, enable the function. */
	mmio_write32(f, tbl + 16, 0xfee01000);
	mmio_write32(f, tbl + 20, 0);
	mmio_write32(f, tbl + 24, 0x4041);
	cfg_write(f, 1, cap + 2, PCI_MSIX_ENABLE, 2);
	assert_true(pci_msix_enabled(&f->dev));

	/* Masked: pending bit, no interrupt. */
	assert_true(pci_msix_notify(&f->dev, 1));
	assert_int_equal(eventfd_count(f->dev.msix.vec[1].fd), 0);
	assert_int_equal(mmio_read32(f, tbl - (table & ~7u) + (pba & ~7u)), 2);

	/* Unmask: fires with the programmed message, pending clears. */
	mmio_write32(f, tbl + 28, 0);
	assert_int_equal(eventfd_count(f->dev.msix.vec[1].fd), 1);
	assert_int_equal(stub.route_addr[f->dev.msix.vec[1].gsi], 0xfee01000);
	assert_int_equal(stub.route_data[f->dev.msix.vec[1].gsi], 0x4041);
	assert_int_equal(mmio_read32(f, tbl - (table & ~7u) + (pba & ~7u)), 0);

	/* Unmasked: straight through. */
	assert_true(pci_msix_notify(&f->dev, 1));
	assert_int_equal(eventfd_count(f->dev.msix.vec[1].fd), 1);

	/* Function mask holds everything back until cleared. */
	cfg_write(f, 1, cap + 2, PCI_MSIX_ENABLE | PCI_MSIX_MASKALL, 2);
	assert_true(pci_msix_notify(&f->dev, 1));
	assert_true(pci_msix_notify(&f->dev, 1));
	assert_int_equal(eventfd_count(f->dev.msix.vec[1].fd), 0);
	cfg_write(f, 1, cap + 2, PCI_MSIX_ENABLE, 2);
	assert_int_equal(eventfd_count(f->dev.msix.vec[1].fd), 1);

	/* Re-programming while unmasked updates the route before delivery. */
	mmio_write32(f, tbl + 24, 0x4042);
	assert_true(pci_msix_notify(&f->dev, 1));
	assert_int_equal(stub.route_data[f->dev.msix.vec[1].gsi], 0x4042);
	assert_int_equal(eventfd_count(f->dev.msix.vec[1].fd), 1);

	/* Out-of-range vectors are ignored; PBA is read-only; control bits
	 * other than enable/mask are read-only. */
	assert_true(pci_msix_notify(&f->dev, 7));
	mmio_write32(f, tbl - (table & ~7u) + (pba & ~7u), 0xffffffff);
	assert_int_equal(mmio_read32(f, tbl - (table & ~7u) + (pba & ~7u)), 0);
	cfg_write(f, 1, cap + 2, 0x07ff, 2);
	assert_int_equal(cfg_read(f, 1, cap + 2, 2), 2);
	assert_false(pci_msix_notify(&f->dev, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_host_bridge),
		T(test_absent_functions),
		T(test_register_assigns_bars),
		T(test_bar_sizing),
		T(test_sizing_with_decode_on),
		T(test_bar_move),
		T(test_bar_overlap_refused),
		T(test_capabilities),
		T(test_intx),
		T(test_msix),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
