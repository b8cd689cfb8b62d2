/*
 * Just enough AML to read \_S5: find the NameOp "_S5_" and the first
 * element of the Package that follows, which is SLP_TYPa.  Xenon's DSDT
 * says 5 (PLAT_SLP_TYP_S5), QEMU's q35 says 0; a full AML interpreter
 * would be thousands of lines for this one number.
 */
#include "guest/acpi.h"

#include "guest/string.h"

enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a,
	AML_PACKAGE = 0x12, AML_ROOT = 0x5c, AML_ONES = 0xff,
};

/* The integer at p: ZeroOp, OneOp, OnesOp or BytePrefix n; -1 else. */
static int aml_small_int(const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return -1;
	switch (*p) {
	case AML_ZERO:
		return 0;
	case AML_ONE:
		return 1;
	case AML_ONES:
		return 0xff;
	case AML_BYTE:
		return p + 1 < end ? p[1] : -1;
	}
	return -1;
}

/* p points just after "_S5_": PackageOp PkgLength NumElements elements. */
static int s5_package(const uint8_t *p, const uint8_t *end)
{
	int v;

	if (p + 2 >= end || *p != AML_PACKAGE)
		return -1;
	p++;
	p += 1 + (*p >> 6);  /* PkgLength: bits 7-6 count extra bytes */
	p++;                 /* NumElements */
	v = aml_small_int(p, end);
	return v < 0 ? -1 : v & 7;
}

/* The next '5' in [p, end), or end.  One repne scasb instead of a C
 * loop: several times fewer instructions to emulate per byte. */
static const uint8_t *find_five(const uint8_t *p, const uint8_t *end)
{
	unsigned long n = (unsigned long)(end - p);

	if (!n)
		return end;
	__asm__ volatile("repne scasb"
			 : "+D"(p), "+c"(n) : "a"('5') : "memory", "cc");
	return p[-1] == '5' ? p - 1 : end;
}

int aml_find_s5(const uint8_t *dsdt, uint32_t len)
{
	const uint8_t *end = dsdt + len;

	if (len < 40)
		return -1;
	/* Find "_S5_" by its rarest byte; the name starts 2 bytes before. */
	for (const uint8_t *p = find_five(dsdt + 38, end); p + 2 < end;
	     p = find_five(p + 1, end)) {
		const uint8_t *name = p - 2;

		if (memcmp(name, "_S5_", 4))
			continue;
		/* NameOp, optionally with a root prefix, before the name. */
		if (name[-1] == AML_NAME ||
		    (name[-1] == AML_ROOT && name[-2] == AML_NAME))
			return s5_package(name + 4, end);
	}
	return -1;
}
