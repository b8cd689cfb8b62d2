/* RSDP → XSDT/RSDT → MADT and FADT. */
#include "guest/acpi.h"

#include "guest/string.h"

#define SDT_HEADER_LEN 36

struct acpi_info acpi;
static const uint8_t *root;     /* XSDT or RSDT */
static unsigned root_entry_size; /* 8 for the XSDT, 4 for the RSDT */

/* Unaligned little-endian reads; __builtin_memcpy is inlined even under
 * -ffreestanding. */
static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

/* Tables are not checksummed: they come from the monitor or firmware we
 * boot under, and summing the DSDT byte by byte costs milliseconds where
 * every instruction is emulated.  The RSDP is, since a search of the BIOS
 * area can find a stray "RSD PTR ". */
static bool table_ok(const uint8_t *t)
{
	uint32_t len = rd32(t + 4);

	return len >= SDT_HEADER_LEN && len < (1u << 20);
}

static const uint8_t *scan_rsdp(uint64_t from, uint64_t to)
{
	for (uint64_t a = from; a < to; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (!memcmp(p, "RSD PTR ", 8) && checksum_ok(p, 20))
			return p;
	}
	return NULL;
}

static const uint8_t *find_rsdp(uint64_t hint)
{
	const uint8_t *p = (const uint8_t *)hint;

	if (hint && !memcmp(p, "RSD PTR ", 8) && checksum_ok(p, 20))
		return p;
	return scan_rsdp(0xe0000, 0x100000);  /* where BIOSes put it */
}

const void *acpi_find_table(const char sig[4])
{
	uint32_t n;

	if (!root)
		return NULL;
	n = (rd32(root + 4) - SDT_HEADER_LEN) / root_entry_size;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = root + SDT_HEADER_LEN + i * root_entry_size;
		uint64_t a = root_entry_size == 8 ? rd64(e) : rd32(e);
		const uint8_t *t = (const uint8_t *)a;

		if (a && !memcmp(t, sig, 4) && table_ok(t))
			return t;
	}
	return NULL;
}

static void add_cpu(uint32_t apic_id, uint32_t flags)
{
	if ((flags & 1) && acpi.nr_cpus < MAX_CPUS)  /* bit 0: enabled */
		acpi.apic_ids[acpi.nr_cpus++] = apic_id;
}

static void parse_madt(const uint8_t *t)
{
	uint32_t len = rd32(t + 4);

	for (uint32_t off = 44; off + 2 <= len;) {
		const uint8_t *e = t + off;

		if (e[1] < 2 || off + e[1] > len)
			break;
		if (e[0] == 0 && e[1] >= 8)            /* processor local APIC */
			add_cpu(e[3], rd32(e + 4));
		else if (e[0] == 9 && e[1] >= 16)      /* processor x2APIC */
			add_cpu(rd32(e + 4), rd32(e + 8));
		else if (e[0] == 1 && e[1] >= 12 && !acpi.ioapic_addr)
			acpi.ioapic_addr = rd32(e + 4);
		off += e[1];
	}
}

/* An I/O port from a 32-bit FADT field, or else from the X_ GAS. */
static uint16_t fadt_port(const uint8_t *f, uint32_t len, unsigned off32,
			  unsigned off_gas)
{
	uint32_t port = rd32(f + off32);

	if (!port && len >= off_gas + 12 && f[off_gas] == GAS_SPACE_IO)
		port = (uint32_t)rd64(f + off_gas + 4);
	return port <= 0xffff ? (uint16_t)port : 0;
}

static struct acpi_gas read_gas(const uint8_t *g)
{
	return (struct acpi_gas){ g[0], g[1], g[2], g[3], rd64(g + 4) };
}

static void parse_fadt(const uint8_t *f)
{
	uint32_t len = rd32(f + 4);
	uint64_t dsdt = rd32(f + 40);

	acpi.pm1a_cnt = fadt_port(f, len, 64, 172);
	acpi.pm1b_cnt = fadt_port(f, len, 68, 184);
	acpi.pm1a_evt = fadt_port(f, len, 56, 148);
	acpi.pm1_evt_len = len > 88 ? f[88] : 0;
	acpi.sci_int = (uint16_t)(f[46] | f[47] << 8);
	acpi.pm_tmr = fadt_port(f, len, 76, 208);
	acpi.pm_tmr_32bit = len >= 116 && (rd32(f + 112) & (1u << 8));
	if (len >= 129 && rd64(f + 120)) {
		acpi.has_reset = true;
		acpi.reset_reg = read_gas(f + 116);
		acpi.reset_value = f[128];
	}
	if (len >= 256 && rd64(f + 248)) {  /* SLEEP_CONTROL_REG (ACPI 5) */
		acpi.has_sleep_ctl = true;
		acpi.sleep_ctl = read_gas(f + 244);
	}
	if (len >= 148 && rd64(f + 140))
		dsdt = rd64(f + 140);
	if (dsdt && !memcmp((const void *)dsdt, "DSDT", 4) &&
	    table_ok((const uint8_t *)dsdt))
		acpi.dsdt = (const uint8_t *)dsdt;
}

/* Looked up when first needed (at power-off): scanning the DSDT is the
 * most expensive part of ACPI discovery. */
int acpi_slp_typ_s5(void)
{
	static int cached = -2;

	if (cached == -2)
		cached = acpi.dsdt ? aml_find_s5(acpi.dsdt, rd32(acpi.dsdt + 4)) : -1;
	return cached;
}

void acpi_init(uint64_t rsdp_hint)
{
	const uint8_t *rsdp = find_rsdp(rsdp_hint);
	const uint8_t *t;
	uint64_t xsdt;

	if (!rsdp)
		return;
	acpi.present = true;
	xsdt = rsdp[15] >= 2 ? rd64(rsdp + 24) : 0;
	root = (const uint8_t *)(xsdt ? xsdt : rd32(rsdp + 16));
	root_entry_size = xsdt ? 8 : 4;
	if (!table_ok(root)) {
		root = NULL;
		return;
	}
	if ((t = acpi_find_table("APIC")))
		parse_madt(t);
	if ((t = acpi_find_table("FACP")))
		parse_fadt(t);
}
