/* ACPI tables for the guest, written into guest RAM at PLAT_ACPI_ADDR. */
#ifndef XENON_ACPI_H
#define XENON_ACPI_H

#include <stdint.h>

struct vm;

/* Build RSDP, XSDT, MADT (one LAPIC per vCPU + IOAPIC), FADT, FACS, DSDT
 * (PCI root bridge, COM1, \_S5, power button).  Returns the RSDP's guest
 * physical address, or 0 after printing an error. */
uint64_t acpi_build(struct vm *vm);

#endif
