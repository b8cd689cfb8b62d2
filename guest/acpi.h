/*
 * ACPI discovery: the MADT (CPUs, IOAPIC) and the FADT (power-off,
 * reset, PM timer).  Everything is optional: with no RSDP the guest
 * still runs, as one CPU without ACPI power management.
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_CPUS 64

/* A Generic Address Structure (FADT reset register). */
struct acpi_gas {
	uint8_t space, bit_width, bit_offset, access_size;
	uint64_t address;
};
#define GAS_SPACE_MEMORY 0
#define GAS_SPACE_IO     1
#define GAS_SPACE_PCI    2

struct acpi_info {
	bool present;              /* an RSDP was found */
	unsigned nr_cpus;          /* enabled LAPICs in the MADT */
	uint32_t apic_ids[MAX_CPUS];
	uint64_t ioapic_addr;      /* 0: none */
	uint16_t pm1a_cnt, pm1b_cnt;   /* 0: none */
	uint16_t pm1a_evt;         /* PM1a status + enable; 0: none */
	uint8_t pm1_evt_len;       /* bytes: status is the first half */
	uint16_t sci_int;          /* the SCI's GSI */
	uint16_t pm_tmr;           /* 0: none */
	bool pm_tmr_32bit;
	const uint8_t *dsdt;       /* NULL: none */
	bool has_reset;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	bool has_sleep_ctl;        /* hardware-reduced ACPI (QEMU microvm) */
	struct acpi_gas sleep_ctl;
};

extern struct acpi_info acpi;

/* Find the RSDP (rsdp_hint from start_info, else the BIOS area search)
 * and fill in acpi. */
void acpi_init(uint64_t rsdp_hint);
/* The first table with this signature, or NULL. */
const void *acpi_find_table(const char sig[4]);
/* SLP_TYPa of \_S5 in the DSDT, or -1 if there is none. */
int acpi_slp_typ_s5(void);
/* SLP_TYPa of the \_S5 package in this DSDT, or -1 (acpi_aml.c). */
int aml_find_s5(const uint8_t *dsdt, uint32_t len);

#endif
