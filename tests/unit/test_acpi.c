/*
 * ACPI tables as the guest finds them in its RAM: checksums, lengths, the
 * links between tables, the FADT's fixed hardware, MADT entries for each
 * vCPU count, and a DSDT that iasl (acpica-tools) disassembles and
 * recompiles to the very same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/platform.h"
#include "vmm/acpi.h"
#include "vmm/vm.h"

#define MIB (1ULL << 20)

struct fixture {
	struct vm vm;
	struct vmm_options opts;
	uint64_t rsdp;
};

static int build(void **state, unsigned vcpus, enum chardev_kind serial)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(guest_memory_init(&f->vm.mem, 64 * MIB), 0);
	f->opts.serial.kind = serial;
	f->vm.opts = &f->opts;
	f->vm.nr_vcpus = vcpus;
	f->rsdp = acpi_build(&f->vm);
	*state = f;
	return 0;
}

static int setup_1(void **state) { return build(state, 1, CHARDEV_STDIO); }
static int setup_2(void **state) { return build(state, 2, CHARDEV_STDIO); }
static int setup_4(void **state) { return build(state, 4, CHARDEV_STDIO); }
static int setup_64(void **state) { return build(state, 64, CHARDEV_STDIO); }
static int setup_noserial(void **state) { return build(state, 4, CHARDEV_NONE); }

static int teardown(void **state)
{
	struct fixture *f = *state;

	guest_memory_destroy(&f->vm.mem);
	free(f);
	return 0;
}

/* ---- Reading the guest's view -------------------------------------------- */

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* A table at gpa: inside the ACPI region, with a valid checksum. */
static const uint8_t *table_at(struct fixture *f, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	assert_true(gpa >= PLAT_ACPI_ADDR && gpa < PLAT_ACPI_ADDR + PLAT_ACPI_SIZE);
	t = gpa_to_hva(&f->vm.mem, gpa, 8);
	assert_non_null(t);
	assert_memory_equal(t, sig, 4);
	len = (uint32_t)rd(t + 4, 4);
	assert_true(gpa + len <= PLAT_ACPI_ADDR + PLAT_ACPI_SIZE);
	if (strcmp(sig, "FACS") != 0) {   /* the FACS has no checksum */
		assert_true(len >= 36);
		assert_int_equal(sum(t, len), 0);
		assert_memory_equal(t + 16, "XENONVM ", 8);
	}
	return t;
}

static const uint8_t *rsdp(struct fixture *f)
{
	assert_int_equal(f->rsdp, PLAT_ACPI_ADDR);
	return gpa_to_hva(&f->vm.mem, f->rsdp, 36);
}

static const uint8_t *find(struct fixture *f, const char *sig)
{
	const uint8_t *x = table_at(f, rd(rsdp(f) + 24, 8), "XSDT");

	for (uint32_t off = 36; off < rd(x + 4, 4); off += 8) {
		const uint8_t *t = gpa_to_hva(&f->vm.mem, rd(x + off, 8), 4);

		if (t && !memcmp(t, sig, 4))
			return table_at(f, rd(x + off, 8), sig);
	}
	fail_msg("no %s in the XSDT", sig);
	return NULL;
}

static const uint8_t *dsdt(struct fixture *f)
{
	return table_at(f, rd(find(f, "FACP") + 140, 8), "DSDT");
}

static size_t count(const uint8_t *hay, size_t len, const void *needle,
		    size_t nlen)
{
	size_t n = 0;

	for (size_t i = 0; i + nlen <= len; i++)
		n += !memcmp(hay + i, needle, nlen);
	return n;
}

/* ---- Tests ----------------------------------------------------------------- */

static void rsdp_is_valid(void **state)
{
	struct fixture *f = *state;
	const uint8_t *p = rsdp(f);

	assert_memory_equal(p, "RSD PTR ", 8);
	assert_int_equal(sum(p, 20), 0);        /* ACPI 1.0 checksum */
	assert_int_equal(sum(p, 36), 0);        /* extended checksum */
	assert_int_equal(p[15], 2);
	assert_int_equal(rd(p + 20, 4), 36);
	assert_int_equal(f->rsdp % 16, 0);      /* found by a 16-byte scan */
}

static void xsdt_and_rsdt_list_the_same_tables(void **state)
{
	struct fixture *f = *state;
	const uint8_t *p = rsdp(f);
	const uint8_t *x = table_at(f, rd(p + 24, 8), "XSDT");
	const uint8_t *r = table_at(f, rd(p + 16, 4), "RSDT");
	static const char *const sigs[] = { "FACP", "APIC", "MCFG" };

	assert_int_equal(rd(x + 4, 4), 36 + 3 * 8);
	assert_int_equal(rd(r + 4, 4), 36 + 3 * 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rd(x + 36 + 8 * i, 8), rd(r + 36 + 4 * i, 4));
		table_at(f, rd(x + 36 + 8 * i, 8), sigs[i]);
	}
}

static void fadt_describes_the_fixed_hardware(void **state)
{
	struct fixture *f = *state;
	const uint8_t *t = find(f, "FACP");
	uint32_t flags = (uint32_t)rd(t + 112, 4);
	static const struct { unsigned off, xoff, port, len; } blk[] = {
		{ 56, 148, PLAT_PORT_PM1A_EVT, 4 }, { 64, 172, PLAT_PORT_PM1A_CNT, 2 },
		{ 76, 208, PLAT_PORT_PM_TMR, 4 }, { 80, 220, PLAT_PORT_GPE0, 4 },
	};
	static const unsigned len_off[] = { 88, 89, 91, 92 };

	assert_int_equal(rd(t + 4, 4), 276);
	assert_int_equal(t[8], 6);
	assert_int_equal(rd(t + 46, 2), PLAT_IRQ_SCI);
	assert_int_equal(rd(t + 48, 4), 0);     /* no SMI_CMD: always ACPI */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rd(t + blk[i].off, 4), blk[i].port);
		assert_int_equal(t[len_off[i]], blk[i].len);
		assert_int_equal(t[blk[i].xoff], 1);                /* I/O */
		assert_int_equal(t[blk[i].xoff + 1], blk[i].len * 8);
		assert_int_equal(rd(t + blk[i].xoff + 4, 8), blk[i].port);
	}
	assert_int_equal(rd(t + 68, 4), 0);     /* no PM1b */
	assert_int_equal(rd(t + 40, 4), rd(t + 140, 8));        /* DSDT */
	assert_int_not_equal(rd(t + 36, 4), 0);                 /* FACS */
	assert_int_equal(rd(t + 132, 8), 0);    /* X_FIRMWARE_CTRL: exclusive */
	assert_true(flags & (1u << 10));        /* RESET_REG_SUP */
	assert_false(flags & (1u << 4));        /* power button: fixed */
	assert_true(flags & (1u << 5));         /* no sleep button */
	assert_false(flags & (1u << 8));        /* 24-bit PM timer */
	assert_false(flags & (1u << 20));       /* not hardware-reduced */
	assert_int_equal(t[116], 1);            /* reset register: I/O, */
	assert_int_equal(t[117], 8);            /* 8 bits, */
	assert_int_equal(rd(t + 120, 8), PLAT_PORT_RESET);
	assert_int_equal(t[128], 0x06);
	assert_false(rd(t + 109, 2) & 2);       /* no 8042 */
	assert_int_equal(t[108], PLAT_RTC_CENTURY);
}

static void facs_is_aligned(void **state)
{
	struct fixture *f = *state;
	uint32_t gpa = (uint32_t)rd(find(f, "FACP") + 36, 4);
	const uint8_t *t = table_at(f, gpa, "FACS");

	assert_int_equal(gpa % 64, 0);
	assert_int_equal(rd(t + 4, 4), 64);
}

static void madt_has_one_lapic_per_vcpu(void **state)
{
	struct fixture *f = *state;
	const uint8_t *t = find(f, "APIC");
	uint32_t len = (uint32_t)rd(t + 4, 4), off;
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_int_equal(rd(t + 36, 4), PLAT_LAPIC_ADDR);
	assert_int_equal(rd(t + 40, 4), 1);     /* PCAT_COMPAT */
	for (off = 44; off < len; off += t[off + 1]) {
		const uint8_t *e = t + off;

		assert_true(e[1] >= 2);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[2], lapics);         /* UID */
			assert_int_equal(e[3], lapics);         /* APIC ID */
			assert_int_equal(rd(e + 4, 4), 1);      /* enabled */
			lapics++;
			break;
		case 1:
			assert_int_equal(rd(e + 4, 4), PLAT_IOAPIC_ADDR);
			assert_int_equal(rd(e + 8, 4), 0);      /* GSI base */
			ioapics++;
			break;
		case 2:
			/* Only the SCI: level, active high.  IRQ 0 stays on
			 * pin 0, where KVM's PIT fires. */
			assert_int_equal(e[3], PLAT_IRQ_SCI);
			assert_int_equal(rd(e + 4, 4), PLAT_IRQ_SCI);
			assert_int_equal(rd(e + 8, 2), 0x000d);
			isos++;
			break;
		case 4:
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);              /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, f->vm.nr_vcpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static void mcfg_covers_bus_0(void **state)
{
	struct fixture *f = *state;
	const uint8_t *t = find(f, "MCFG");

	assert_int_equal(rd(t + 4, 4), 60);
	assert_int_equal(rd(t + 44, 8), PLAT_PCI_ECAM_START);
	assert_int_equal(rd(t + 52, 2), 0);
	assert_int_equal(t[54], 0);
	assert_int_equal(t[55], 0);
}

static void dsdt_has_devices_and_s5(void **state)
{
	struct fixture *f = *state;
	const uint8_t *t = dsdt(f);
	size_t len = rd(t + 4, 4);
	/* Name (\_S5, Package (4) { 5, 5, 0, 0 }) */
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12,
				      0x08, 0x04, 0x0a, PLAT_SLP_TYP_S5, 0x0a,
				      PLAT_SLP_TYP_S5, 0x00, 0x00 };
	bool com1 = f->opts.serial.kind != CHARDEV_NONE;

	assert_int_equal(t[8], 2);
	assert_int_equal(count(t, len, s5, sizeof(s5)), 1);
	assert_int_equal(count(t, len, "PCI0", 4), 1);
	assert_int_equal(count(t, len, "ACPI0007", 8), f->vm.nr_vcpus);
	assert_int_equal(count(t, len, "COM1", 4), com1 ? 1 : 0);
	assert_int_equal(count(t, len, "RTC_", 4), 1);
}

/* ---- iasl ------------------------------------------------------------------ */

static bool have_iasl(void)
{
	return system("iasl -v >/dev/null 2>&1") == 0 &&
	       system("acpiexec -v >/dev/null 2>&1") == 0;
}

static void write_file(const char *path, const void *p, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int run(const char *dir, const char *cmd)
{
	char line[512];

	snprintf(line, sizeof(line), "cd %s && %s >>iasl.log 2>&1", dir, cmd);
	return system(line);
}

/* iasl disassembles every table, and recompiling the DSDT's disassembly
 * (optimisations off) gives back our AML byte for byte. */
static void iasl_agrees(void **state)
{
	struct fixture *f = *state;
	static const char *const sigs[] = { "FACP", "APIC", "MCFG" };
	char dir[] = "/tmp/xenon-acpi-XXXXXX", path[128];
	const uint8_t *t = dsdt(f);
	size_t len = rd(t + 4, 4), n;
	char *aml, *dsl;

	if (!have_iasl())
		skip();         /* Debian package acpica-tools */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dsdt.aml", dir);
	write_file(path, t, len);
	for (int i = 0; i < 3; i++) {
		const uint8_t *x = find(f, sigs[i]);

		snprintf(path, sizeof(path), "%s/%.4s.dat", dir, sigs[i]);
		write_file(path, x, rd(x + 4, 4));
		snprintf(path, sizeof(path), "iasl -d %.4s.dat", sigs[i]);
		assert_int_equal(run(dir, path), 0);
	}
	assert_int_equal(run(dir, "iasl -d dsdt.aml"), 0);
	snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
	dsl = read_file(path, &n);
	assert_non_null(strstr(dsl, "Device (PCI0)"));
	assert_non_null(strstr(dsl, "Name (_PRT, Package (0x80)"));
	assert_non_null(strstr(dsl, "Name (\\_S5, Package (0x04)"));
	free(dsl);
	assert_int_equal(run(dir, "iasl -oa -p rt dsdt.dsl"), 0);
	snprintf(path, sizeof(path), "%s/rt.aml", dir);
	aml = read_file(path, &n);
	assert_int_equal(n, len);
	assert_memory_equal(aml + 36, t + 36, len - 36);   /* header differs */
	free(aml);
	/* ACPICA's interpreter (Linux's) loads it and evaluates the objects. */
	assert_int_equal(run(dir, "acpiexec -b 'Evaluate \\_S5; "
			 "Evaluate \\_SB.PCI0._PRT' dsdt.aml"), 0);
	snprintf(path, sizeof(path), "%s/iasl.log", dir);
	dsl = read_file(path, &n);
	assert_non_null(strstr(dsl, "[Package] Contains 4 Elements:\n"
				    "    [Integer] = 0000000000000005\n"
				    "    [Integer] = 0000000000000005"));
	assert_non_null(strstr(dsl, "[Package] Contains 128 Elements:"));
	assert_null(strstr(dsl, "AE_AML"));
	free(dsl);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

/* ---- Failures ---------------------------------------------------------------- */

static void refuses_what_it_cannot_describe(void **state)
{
	struct vm vm;

	(void)state;
	memset(&vm, 0, sizeof(vm));
	assert_int_equal(guest_memory_init(&vm.mem, 512 * 1024), 0);
	vm.nr_vcpus = 1;
	assert_int_equal(acpi_build(&vm), 0);   /* 0xe0000 is not RAM */
	guest_memory_destroy(&vm.mem);

	assert_int_equal(guest_memory_init(&vm.mem, 64 * MIB), 0);
	vm.nr_vcpus = 0;
	assert_int_equal(acpi_build(&vm), 0);
	vm.nr_vcpus = 256;
	assert_int_equal(acpi_build(&vm), 0);
	guest_memory_destroy(&vm.mem);
}

#define ALL(setup) \
	cmocka_unit_test_setup_teardown(rsdp_is_valid, setup, teardown), \
	cmocka_unit_test_setup_teardown(xsdt_and_rsdt_list_the_same_tables, setup, teardown), \
	cmocka_unit_test_setup_teardown(fadt_describes_the_fixed_hardware, setup, teardown), \
	cmocka_unit_test_setup_teardown(facs_is_aligned, setup, teardown), \
	cmocka_unit_test_setup_teardown(madt_has_one_lapic_per_vcpu, setup, teardown), \
	cmocka_unit_test_setup_teardown(mcfg_covers_bus_0, setup, teardown), \
	cmocka_unit_test_setup_teardown(dsdt_has_devices_and_s5, setup, teardown), \
	cmocka_unit_test_setup_teardown(iasl_agrees, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ALL(setup_1), ALL(setup_2), ALL(setup_4), ALL(setup_64),
		ALL(setup_noserial),
		cmocka_unit_test(refuses_what_it_cannot_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
