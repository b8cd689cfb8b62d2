/*
 * The DSDT: what the guest cannot discover by probing.
 *
 *   \_SB.PCI0   PCI Express root bridge (bus 0 only): its windows and the
 *               INTx routing table (_PRT)
 *   \_SB.COM1   the 16550 at 0x3f8, IRQ 4 (only with a serial port)
 *   \_SB.RTC    the MC146818 at 0x70, IRQ 8
 *   \_SB.Cnnn   one processor device per vCPU (_UID = MADT processor UID)
 *   \_S5        soft-off: SLP_TYP for PM1a_CNT
 *
 * The power button is a fixed feature (FADT), so it needs no device here.
 * There is no i8042 device either: the FADT says there is no 8042, so
 * Linux does not probe one (it resets through the FADT reset register).
 */
#include "vmm/acpi_dsdt.h"

#include <stdio.h>

#include "lib/platform.h"

#define PCI_PINS 4

static void name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_eisaid(a, id);
}

static void name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

/*
 * Root bridge windows: bus 0; all I/O ports but the 0xcf8-0xcff config
 * mechanism (claimed by the bridge itself); the 32-bit BAR window.
 */
static void pci_crs(struct aml *a)
{
	aml_name(a, "_CRS");
	aml_buffer_begin(a);
	aml_res_word_bus(a, 0, 0);
	aml_res_io(a, PLAT_PORT_PCI_ADDR, PLAT_PORT_PCI_ADDR, 1, 8);
	aml_res_word_io(a, 0x0000, PLAT_PORT_PCI_ADDR - 1);
	aml_res_word_io(a, PLAT_PORT_PCI_ADDR + 8, 0xffff);
	aml_res_dword_mem(a, (uint32_t)PLAT_PCI_MMIO_START,
			  (uint32_t)(PLAT_PCI_MMIO_START + PLAT_PCI_MMIO_SIZE - 1));
	aml_res_end(a);
	aml_end(a);
}

/*
 * _PRT: every pin of slot n goes to GSI 16 + n % 8 (devices/pci.c).  Each
 * entry is Package { address (slot << 16 | 0xffff = any function), pin,
 * source 0 (= hard-wired GSI, no link device), GSI }.
 */
static void pci_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	aml_package_begin(a, PLAT_PCI_MAX_SLOTS * PCI_PINS);
	for (unsigned slot = 0; slot < PLAT_PCI_MAX_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PCI_PINS; pin++) {
			aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, PLAT_PCI_INTX_GSI_BASE + slot % 8);
			aml_end(a);
		}
	}
	aml_end(a);
}

static void pci0(struct aml *a)
{
	aml_device_begin(a, "PCI0");
	name_eisaid(a, "_HID", "PNP0A08");
	name_eisaid(a, "_CID", "PNP0A03");
	name_int(a, "_UID", 0);
	pci_crs(a);
	pci_prt(a);
	aml_end(a);
}

/* An ISA device: fixed I/O ports and one edge-triggered ISA IRQ. */
static void isa_device(struct aml *a, const char *name, const char *hid,
		       uint16_t port, uint8_t nports, unsigned irq)
{
	aml_device_begin(a, name);
	name_eisaid(a, "_HID", hid);
	name_int(a, "_UID", 1);
	aml_name(a, "_CRS");
	aml_buffer_begin(a);
	aml_res_io(a, port, port, 1, nports);
	aml_res_irq_noflags(a, (uint16_t)(1u << irq));
	aml_res_end(a);
	aml_end(a);
	aml_end(a);
}

static void processors(struct aml *a, unsigned n)
{
	char name[8];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "C%03X", i & 0xfff);
		aml_device_begin(a, name);
		aml_name(a, "_HID");
		aml_string(a, "ACPI0007");
		name_int(a, "_UID", i);
		aml_end(a);
	}
}

/* \_S5: Package { SLP_TYPa, SLP_TYPb, reserved, reserved }. */
static void sleep_s5(struct aml *a)
{
	aml_name(a, "\\_S5");
	aml_package_begin(a, 4);
	aml_integer(a, PLAT_SLP_TYP_S5);
	aml_integer(a, PLAT_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);
}

void dsdt_build(struct aml *a, const struct dsdt_config *cfg)
{
	aml_scope_begin(a, "\\_SB");
	pci0(a);
	if (cfg->com1)
		isa_device(a, "COM1", "PNP0501", PLAT_PORT_COM1, 8, PLAT_IRQ_COM1);
	isa_device(a, "RTC", "PNP0B00", PLAT_PORT_RTC, 2, PLAT_IRQ_RTC);
	processors(a, cfg->nr_vcpus);
	aml_end(a);
	sleep_s5(a);
}
