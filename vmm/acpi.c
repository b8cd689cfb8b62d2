/*
 * ACPI tables, built in one host buffer and copied to guest RAM at
 * PLAT_ACPI_ADDR (0xe0000, reserved in the e820 map):
 *
 *   RSDP (at 0xe0000 so a guest without a boot-time pointer finds it by
 *   scanning) -> XSDT and RSDT -> FADT (-> FACS, DSDT), MADT, MCFG
 *
 * The tables claim ACPI 6.3 but use nothing newer than 2.0 needs, and the
 * platform is a full (not hardware-reduced) one: PM1a event/control
 * blocks, a PM timer, GPE0 and the SCI on GSI 9 (devices/acpi_pm.c), a
 * reset register at 0xcf9 (devices/platform.c) and the power button as a
 * fixed feature.  docs/acpi.md explains the interrupt choices.
 */
#include "vmm/acpi.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/le.h"
#include "lib/platform.h"
#include "vmm/acpi_aml.h"
#include "vmm/acpi_dsdt.h"
#include "vmm/vm.h"

#define OEM_ID        "XENON "
#define OEM_TABLE_ID  "XENONVM "   /* must match across RSDT/XSDT/FADT */
#define CREATOR_ID    "XNON"
#define HEADER_LEN    36

/* ---- Generic Address Structure ----------------------------------------- */
#define GAS_LEN       12
#define GAS_SYSTEM_IO 1
enum gas_access { ACC_BYTE = 1, ACC_WORD = 2, ACC_DWORD = 3 };

/* A bump allocator over the ACPI region; offsets are from PLAT_ACPI_ADDR. */
struct region {
	uint8_t *buf;
	size_t used;
	bool full;      /* ran out of room */
	bool failed;    /* the AML builder failed (and said why) */
};

static size_t region_alloc(struct region *r, size_t len, size_t align)
{
	size_t off = (r->used + align - 1) & ~(align - 1);

	if (off + len > PLAT_ACPI_SIZE) {
		r->full = true;
		return 0;
	}
	r->used = off + len;
	return off;
}

static uint64_t gpa_of(size_t off)
{
	return PLAT_ACPI_ADDR + off;
}

/* What the checksum byte must hold for p[0..len) to sum to zero; call it
 * while that byte is still 0. */
static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	le_put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	le_put32(t + 24, 1);               /* OEM revision */
	memcpy(t + 28, CREATOR_ID, 4);
	le_put32(t + 32, 1);               /* creator revision */
}

static void seal(uint8_t *t)
{
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 |
		       (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;

	t[9] = 0;
	t[9] = checksum(t, len);
}

static void gas_io(uint8_t *p, uint16_t port, unsigned bytes,
		   enum gas_access acc)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = (uint8_t)(bytes * 8);
	p[2] = 0;
	p[3] = acc;
	le_put64(p + 4, port);
}

/* ---- FACS: no global lock, no waking vector (no S3) --------------------- */
#define FACS_LEN 64

static size_t build_facs(struct region *r)
{
	size_t off = region_alloc(r, FACS_LEN, 64); /* 64-byte aligned */
	uint8_t *t = r->buf + off;

	if (r->full)
		return 0;
	memcpy(t, "FACS", 4);
	le_put32(t + 4, FACS_LEN);
	t[32] = 2;                      /* version */
	return off;
}

/* ---- DSDT --------------------------------------------------------------- */
static size_t build_dsdt(struct region *r, const struct vm *vm)
{
	struct dsdt_config cfg = {
		.nr_vcpus = vm->nr_vcpus,
		.com1 = vm->opts && vm->opts->serial.kind != CHARDEV_NONE,
	};
	struct aml a;
	size_t off = 0;

	aml_init(&a);
	dsdt_build(&a, &cfg);
	if (aml_finish(&a) == 0) {
		off = region_alloc(r, HEADER_LEN + a.len, 16);
		if (!r->full) {
			/* Revision 2: integers are 64 bits wide. */
			header(r->buf + off, "DSDT", (uint32_t)(HEADER_LEN + a.len), 2);
			memcpy(r->buf + off + HEADER_LEN, a.data, a.len);
			seal(r->buf + off);
		}
	} else {
		r->failed = true;
	}
	aml_free(&a);
	return off;
}

/* ---- FADT --------------------------------------------------------------- */
enum fadt_field {
	FADT_FIRMWARE_CTRL = 36, FADT_DSDT = 40, FADT_SCI_INT = 46,
	FADT_PM1A_EVT = 56, FADT_PM1A_CNT = 64, FADT_PM_TMR = 76,
	FADT_GPE0 = 80, FADT_PM1_EVT_LEN = 88, FADT_PM1_CNT_LEN = 89,
	FADT_PM_TMR_LEN = 91, FADT_GPE0_LEN = 92, FADT_P_LVL2_LAT = 96,
	FADT_P_LVL3_LAT = 98, FADT_CENTURY = 108, FADT_BOOT_ARCH = 109,
	FADT_FLAGS = 112, FADT_RESET_REG = 116, FADT_RESET_VALUE = 128,
	FADT_MINOR = 131, FADT_X_DSDT = 140, FADT_X_PM1A_EVT = 148,
	FADT_X_PM1A_CNT = 172, FADT_X_PM_TMR = 208, FADT_X_GPE0 = 220,
	FADT_HYPERVISOR_ID = 268, FADT_LEN = 276,
};

#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define PM_TMR_LEN  4
#define GPE0_LEN    4

/* IA-PC boot architecture: legacy ISA devices (COM1, RTC) but no 8042 and
 * no VGA; never enable PCIe ASPM (there is no link to save power on). */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_NO_VGA         (1u << 2)
#define BOOT_ARCH_NO_ASPM        (1u << 4)

#define FLAG_WBINVD        (1u << 0)
#define FLAG_PROC_C1       (1u << 2)
#define FLAG_SLP_BUTTON    (1u << 5)  /* no fixed-feature sleep button */
#define FLAG_FIX_RTC       (1u << 6)  /* no RTC_STS wake event */
#define FLAG_RESET_REG_SUP (1u << 10)

#define C_STATE_UNSUPPORTED 0x0fff    /* > 100 / > 1000 us: no C2 / C3 */
#define RESET_VALUE         0x06

static void fadt_blocks(uint8_t *t)
{
	le_put32(t + FADT_PM1A_EVT, PLAT_PORT_PM1A_EVT);
	le_put32(t + FADT_PM1A_CNT, PLAT_PORT_PM1A_CNT);
	le_put32(t + FADT_PM_TMR, PLAT_PORT_PM_TMR);
	le_put32(t + FADT_GPE0, PLAT_PORT_GPE0);
	t[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = PM_TMR_LEN;
	t[FADT_GPE0_LEN] = GPE0_LEN;
	/* The same blocks again as GAS; widths must equal len * 8. */
	gas_io(t + FADT_X_PM1A_EVT, PLAT_PORT_PM1A_EVT, PM1_EVT_LEN, ACC_WORD);
	gas_io(t + FADT_X_PM1A_CNT, PLAT_PORT_PM1A_CNT, PM1_CNT_LEN, ACC_WORD);
	gas_io(t + FADT_X_PM_TMR, PLAT_PORT_PM_TMR, PM_TMR_LEN, ACC_DWORD);
	gas_io(t + FADT_X_GPE0, PLAT_PORT_GPE0, GPE0_LEN, ACC_BYTE);
}

static size_t build_fadt(struct region *r, size_t facs, size_t dsdt)
{
	size_t off = region_alloc(r, FADT_LEN, 16);
	uint8_t *t = r->buf + off;

	if (r->full)
		return 0;
	header(t, "FACP", FADT_LEN, 6);
	t[FADT_MINOR] = 3;
	/* FIRMWARE_CTRL and X_FIRMWARE_CTRL are exclusive: the 32-bit one. */
	le_put32(t + FADT_FIRMWARE_CTRL, (uint32_t)gpa_of(facs));
	le_put32(t + FADT_DSDT, (uint32_t)gpa_of(dsdt));
	le_put64(t + FADT_X_DSDT, gpa_of(dsdt));
	/* SMI_CMD stays 0: no SMM, the platform is always in ACPI mode. */
	le_put16(t + FADT_SCI_INT, PLAT_IRQ_SCI);
	fadt_blocks(t);
	le_put16(t + FADT_P_LVL2_LAT, C_STATE_UNSUPPORTED);
	le_put16(t + FADT_P_LVL3_LAT, C_STATE_UNSUPPORTED);
	t[FADT_CENTURY] = PLAT_RTC_CENTURY;
	le_put16(t + FADT_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_NO_VGA |
				  BOOT_ARCH_NO_ASPM);
	le_put32(t + FADT_FLAGS, FLAG_WBINVD | FLAG_PROC_C1 | FLAG_SLP_BUTTON |
			      FLAG_FIX_RTC | FLAG_RESET_REG_SUP);
	gas_io(t + FADT_RESET_REG, PLAT_PORT_RESET, 1, ACC_BYTE);
	t[FADT_RESET_VALUE] = RESET_VALUE;
	memcpy(t + FADT_HYPERVISOR_ID, "XenonVMM", 8);
	seal(t);
	return off;
}

/* ---- MADT --------------------------------------------------------------- */
#define MADT_LAPIC      0
#define MADT_IOAPIC     1
#define MADT_ISO        2
#define MADT_LAPIC_NMI  4
#define MADT_PCAT_COMPAT 1u            /* the 8259 pair exists (KVM's PIC) */
#define LAPIC_ENABLED   1u
/* MPS INTI flags: polarity in bits 1-0, trigger mode in bits 3-2. */
#define INTI_ACTIVE_HIGH 0x1
#define INTI_LEVEL      (0x3 << 2)
#define IOAPIC_ID       0              /* the in-kernel IOAPIC's reset ID */

static size_t madt_len(unsigned ncpus)
{
	return HEADER_LEN + 8 + 8 * ncpus + 12 + 10 + 6;
}

/*
 * No override for IRQ 0: KVM's default routing (vmm/irq.c) sends GSI 0 --
 * where the in-kernel PIT fires -- to IOAPIC pin 0, not pin 2 as on real
 * chipsets, so the ISA identity mapping is the truth.  The SCI gets the
 * one override: level-triggered, active high (the level our PM device
 * drives; KVM's IOAPIC ignores polarity anyway).
 */
static size_t build_madt(struct region *r, unsigned ncpus)
{
	size_t len = madt_len(ncpus), off = region_alloc(r, len, 16);
	uint8_t *t = r->buf + off, *e;

	if (r->full)
		return 0;
	header(t, "APIC", (uint32_t)len, 5);
	le_put32(t + 36, (uint32_t)PLAT_LAPIC_ADDR);
	le_put32(t + 40, MADT_PCAT_COMPAT);
	e = t + 44;
	for (unsigned i = 0; i < ncpus; i++, e += 8) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = (uint8_t)i;              /* ACPI processor UID (= _UID) */
		e[3] = (uint8_t)i;              /* APIC ID (= vCPU index) */
		le_put32(e + 4, LAPIC_ENABLED);
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = IOAPIC_ID;
	le_put32(e + 4, (uint32_t)PLAT_IOAPIC_ADDR);
	le_put32(e + 8, 0);                        /* GSI base */
	e += 12;
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;                               /* ISA */
	e[3] = PLAT_IRQ_SCI;
	le_put32(e + 4, PLAT_IRQ_SCI);
	le_put16(e + 8, INTI_ACTIVE_HIGH | INTI_LEVEL);
	e += 10;
	e[0] = MADT_LAPIC_NMI;                  /* NMI on LINT1 of every CPU */
	e[1] = 6;
	e[2] = 0xff;
	le_put16(e + 3, 0);
	e[5] = 1;
	seal(t);
	return off;
}

/* ---- MCFG: ECAM for segment 0, bus 0 ------------------------------------ */
#define MCFG_LEN (HEADER_LEN + 8 + 16)

static size_t build_mcfg(struct region *r)
{
	size_t off = region_alloc(r, MCFG_LEN, 16);
	uint8_t *t = r->buf + off;

	if (r->full)
		return 0;
	header(t, "MCFG", MCFG_LEN, 1);
	le_put64(t + 44, PLAT_PCI_ECAM_START);
	le_put16(t + 52, 0);                       /* segment */
	t[54] = 0;                              /* first bus */
	t[55] = (uint8_t)((PLAT_PCI_ECAM_SIZE >> 20) - 1); /* last bus */
	seal(t);
	return off;
}

/* ---- Root tables -------------------------------------------------------- */
#define NR_ROOT_TABLES 3

static size_t build_root(struct region *r, const size_t *tables, bool wide)
{
	size_t esz = wide ? 8 : 4, len = HEADER_LEN + NR_ROOT_TABLES * esz;
	size_t off = region_alloc(r, len, 16);
	uint8_t *t = r->buf + off;

	if (r->full)
		return 0;
	header(t, wide ? "XSDT" : "RSDT", (uint32_t)len, 1);
	for (unsigned i = 0; i < NR_ROOT_TABLES; i++) {
		if (wide)
			le_put64(t + HEADER_LEN + 8 * i, gpa_of(tables[i]));
		else
			le_put32(t + HEADER_LEN + 4 * i, (uint32_t)gpa_of(tables[i]));
	}
	seal(t);
	return off;
}

#define RSDP_LEN    36
#define RSDP_V1_LEN 20

static void build_rsdp(struct region *r, size_t rsdt, size_t xsdt)
{
	uint8_t *p = r->buf;    /* offset 0, reserved first */

	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = 2;              /* revision: ACPI 2.0+ layout with XSDT */
	le_put32(p + 16, (uint32_t)gpa_of(rsdt));
	le_put32(p + 20, RSDP_LEN);
	le_put64(p + 24, gpa_of(xsdt));
	p[8] = checksum(p, RSDP_V1_LEN);
	p[32] = checksum(p, RSDP_LEN);
}

static int build_all(struct region *r, const struct vm *vm)
{
	size_t facs, dsdt, tables[NR_ROOT_TABLES], rsdt, xsdt;

	region_alloc(r, RSDP_LEN, 16);
	facs = build_facs(r);
	dsdt = build_dsdt(r, vm);
	tables[0] = build_fadt(r, facs, dsdt);
	tables[1] = build_madt(r, vm->nr_vcpus);
	tables[2] = build_mcfg(r);
	xsdt = build_root(r, tables, true);
	rsdt = build_root(r, tables, false);
	if (r->failed)
		return -1;
	if (r->full) {
		log_error("acpi: tables do not fit in the %llu KiB at 0x%llx",
			  (unsigned long long)PLAT_ACPI_SIZE >> 10,
			  (unsigned long long)PLAT_ACPI_ADDR);
		return -1;
	}
	build_rsdp(r, rsdt, xsdt);
	return 0;
}

uint64_t acpi_build(struct vm *vm)
{
	struct region r = { 0 };
	uint64_t rsdp = 0;

	if (vm->nr_vcpus < 1 || vm->nr_vcpus > 255) {
		log_error("acpi: cannot describe %u vCPUs (1 to 255 with xAPIC "
			  "ids)", vm->nr_vcpus);
		return 0;
	}
	r.buf = calloc(1, PLAT_ACPI_SIZE);
	if (!r.buf) {
		log_error("acpi: out of memory");
		return 0;
	}
	if (build_all(&r, vm) == 0) {
		if (guest_memory_write(&vm->mem, PLAT_ACPI_ADDR, r.buf,
				       PLAT_ACPI_SIZE) < 0)
			log_error("acpi: 0x%llx-0x%llx is not guest RAM",
				  (unsigned long long)PLAT_ACPI_ADDR,
				  (unsigned long long)(PLAT_ACPI_ADDR +
						       PLAT_ACPI_SIZE - 1));
		else
			rsdp = PLAT_ACPI_ADDR;
	}
	if (rsdp)
		log_debug("acpi: %zu bytes of tables at 0x%llx", r.used,
			  (unsigned long long)rsdp);
	free(r.buf);
	return rsdp;
}
