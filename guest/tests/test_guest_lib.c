/*
 * Host-side unit tests for the guest's pure logic: the printf engine
 * (against libc), CRC-32 (against the standard check value), the \_S5
 * finder on hand-made AML, and command-line look-ups.  Built with the
 * host compiler by `make guest-check`; the guest itself is tested by
 * booting it (tests/system).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "guest/acpi.h"
#include "guest/bootinfo.h"
#include "guest/crc32.h"
#include "guest/format.h"

struct buf {
	char s[512];
	size_t n;
};

static void buf_out(void *ctx, const char *s, size_t n)
{
	struct buf *b = ctx;

	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Format with the guest engine and with libc; both must agree. */
static void check_format(const char *fmt, ...)
{
	struct buf b = { .n = 0 };
	char want[512];
	va_list ap, ap2;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	vformat(buf_out, &b, fmt, ap);
	vsnprintf(want, sizeof(want), fmt, ap2);
	va_end(ap2);
	va_end(ap);
	assert_string_equal(b.s, want);
}

static void test_format(void **state)
{
	(void)state;
	check_format("a%db", 5);
	check_format("%d %i", -42, 0);
	check_format("[%05d] [%5d] [%-5d]", -42, -42, -42);
	check_format("%x %08x %X", 0xffffffffu, 0xbeefu, 0xdeadu);
	check_format("%llu %lld", 18446744073709551615ULL,
		     -9223372036854775807LL - 1);
	check_format("%zu %lx %lu", (size_t)123, 0x7ffffffff000UL, 0UL);
	check_format("x=%s [%4s] [%-4s] %c 100%%", "hi", "ab", "ab", 'c');
	check_format("%p", (void *)0x1000);
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(crc32(0, "", 0), 0);
	/* Continuing over a split buffer gives the same value. */
	assert_int_equal(crc32(crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

/* A DSDT: 36 header bytes (content irrelevant here) and then body. */
static int s5_of(const uint8_t *body, size_t len)
{
	uint8_t t[128] = "DSDT";

	memcpy(t + 36, body, len);
	return aml_find_s5(t, (uint32_t)(36 + len));
}

static void test_aml_s5(void **state)
{
	/* Name (_S5, Package (4) { 5, 5, 0, 0 }) as Xenon writes it. */
	static const uint8_t xenon[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0a,
		0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	/* Name (\_S5, Package (4) { Zero, Zero, Zero, Zero }), as QEMU. */
	static const uint8_t qemu[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12,
		0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t one[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04,
		0x02, 0x01, 0x01 };
	/* "_S5_" inside something that is not a NameOp. */
	static const uint8_t other[] = { 0x14, '_', 'S', '5', '_', 0x00 };
	static const uint8_t truncated[] = { 0x08, '_', 'S', '5', '_', 0x12 };

	(void)state;
	assert_int_equal(s5_of(xenon, sizeof(xenon)), 5);
	assert_int_equal(s5_of(qemu, sizeof(qemu)), 0);
	assert_int_equal(s5_of(one, sizeof(one)), 1);
	assert_int_equal(s5_of(other, sizeof(other)), -1);
	assert_int_equal(s5_of(truncated, sizeof(truncated)), -1);
}

static void test_cmdline(void **state)
{
	char v[8];

	(void)state;
	boot.cmdline = "  test=serial-echo quiet x= root=/dev/xvda1 testx=1 ";
	assert_true(cmdline_value("test", v, sizeof(v)));
	assert_string_equal(v, "serial-");  /* truncated to the buffer */
	assert_true(cmdline_value("x", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_false(cmdline_value("root=/dev", v, sizeof(v)));
	assert_false(cmdline_value("tes", v, sizeof(v)));
	assert_true(cmdline_has("quiet"));
	assert_false(cmdline_has("qui"));
	assert_false(cmdline_has("test"));
}

static void test_ram_bytes(void **state)
{
	(void)state;
	boot.nr_memmap = 3;
	boot.memmap[0] = (struct memmap_entry){ 0, 0x9fc00, MEMMAP_RAM, 0 };
	boot.memmap[1] = (struct memmap_entry){ 0x9fc00, 0x400, 2, 0 };
	boot.memmap[2] = (struct memmap_entry){ 0x100000, 0x3f00000, MEMMAP_RAM, 0 };
	assert_int_equal(ram_bytes(), 0x9fc00 + 0x3f00000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_aml_s5),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_ram_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
