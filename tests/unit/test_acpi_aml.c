/* The AML builder: encodings checked byte for byte against ACPI 6.x 20.2
 * (and what iasl emits for the same ASL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/acpi_aml.h"

struct fixture {
	struct aml a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	aml_init(&f->a);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	aml_free(&f->a);
	free(f);
	return 0;
}

static struct aml *A(void **state)
{
	return &((struct fixture *)*state)->a;
}

#define assert_aml(a, ...) do {                                         \
		static const uint8_t want_[] = { __VA_ARGS__ };         \
		assert_int_equal(aml_finish(a), 0);                     \
		assert_int_equal((a)->len, sizeof(want_));              \
		assert_memory_equal((a)->data, want_, sizeof(want_));   \
	} while (0)

static void integers_use_shortest_encoding(void **state)
{
	struct aml *a = A(state);

	aml_integer(a, 0);
	aml_integer(a, 1);
	aml_integer(a, 2);
	aml_integer(a, 0xff);
	aml_integer(a, 0x100);
	aml_integer(a, 0x10000);
	aml_integer(a, 0x100000000ULL);
	aml_integer(a, UINT64_MAX);
	assert_aml(a, 0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01,
		   0x0c, 0x00, 0x00, 0x01, 0x00,
		   0x0e, 0, 0, 0, 0, 1, 0, 0, 0, 0xff);
}

static void names(void **state)
{
	struct aml *a = A(state);

	aml_name_string(a, "_HID");
	aml_name_string(a, "RTC");
	aml_name_string(a, "\\_SB.PCI0");
	aml_name_string(a, "^^AB");
	aml_name_string(a, "\\A.B.C");
	aml_name_string(a, "\\");
	assert_aml(a, '_', 'H', 'I', 'D', 'R', 'T', 'C', '_',
		   0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		   0x5e, 0x5e, 'A', 'B', '_', '_',
		   0x5c, 0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_',
		   'C', '_', '_', '_',
		   0x5c, 0x00);
}

static void bad_names_are_errors(void **state)
{
	static const char *const bad[] = { "1ABC", "TOOLONG", "low", "A..B",
					   "A.", "A-B" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct aml a;

		aml_init(&a);
		aml_name_string(&a, bad[i]);
		assert_int_equal(aml_finish(&a), -1);
		aml_free(&a);
	}
}

static void eisa_ids(void **state)
{
	struct aml *a = A(state);

	assert_int_equal(aml_eisaid_value("PNP0A03"), 0x030ad041);
	assert_int_equal(aml_eisaid_value("PNP0A08"), 0x080ad041);
	assert_int_equal(aml_eisaid_value("PNP0501"), 0x0105d041);
	assert_int_equal(aml_eisaid_value("PNP0a03"), 0);
	assert_int_equal(aml_eisaid_value("PN0A03"), 0);
	assert_int_equal(aml_eisaid_value("pNP0A03"), 0);
	aml_eisaid(a, "PNP0B00");
	assert_aml(a, 0x0c, 0x41, 0xd0, 0x0b, 0x00);
}

static void strings(void **state)
{
	struct aml *a = A(state);

	aml_name(a, "_HID");
	aml_string(a, "ACPI0007");
	assert_aml(a, 0x08, '_', 'H', 'I', 'D', 0x0d, 'A', 'C', 'P', 'I', '0',
		   '0', '0', '7', 0x00);
}

/* Scope (\_SB) { Device (D) { Name (_UID, One) } } */
static void nested_objects(void **state)
{
	struct aml *a = A(state);

	aml_scope_begin(a, "\\_SB");
	aml_device_begin(a, "D");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_end(a);
	aml_end(a);
	assert_aml(a, 0x10, 0x13, 0x5c, '_', 'S', 'B', '_',
		   0x5b, 0x82, 0x0b, 'D', '_', '_', '_',
		   0x08, '_', 'U', 'I', 'D', 0x01);
}

/* Method (_STA, 0, NotSerialized) { Return (0x0F) } */
static void methods(void **state)
{
	struct aml *a = A(state);

	aml_method_begin(a, "_STA", 0, false);
	aml_return(a);
	aml_integer(a, 0x0f);
	aml_end(a);
	aml_method_begin(a, "M", 2, true);
	aml_end(a);
	assert_aml(a, 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f,
		   0x14, 0x06, 'M', '_', '_', '_', 0x0a);
}

static void packages(void **state)
{
	struct aml *a = A(state);

	aml_package_begin(a, 2);
	aml_integer(a, 5);
	aml_integer(a, 0);
	aml_end(a);
	assert_aml(a, 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00);
}

/* A buffer of n raw bytes: BufferOp PkgLength BufferSize bytes. */
static const uint8_t *buffer_of(struct aml *a, size_t n)
{
	aml_buffer_begin(a);
	for (size_t i = 0; i < n; i++)
		aml_byte(a, 0xaa);
	aml_end(a);
	assert_int_equal(aml_finish(a), 0);
	return a->data;
}

/* PkgLength: 1 byte up to 63, then 2 bytes (12 bits), 3 bytes (20 bits). */
static void pkglen_boundaries(void **state)
{
	struct aml *a = A(state);
	const uint8_t *p;

	p = buffer_of(a, 60);   /* 1 (pkglen) + 2 (size) + 60 = 63 */
	assert_int_equal(a->len, 1 + 63);
	assert_int_equal(p[1], 63);
	assert_int_equal(p[2], 0x0a);
	assert_int_equal(p[3], 60);

	a->len = 0;
	p = buffer_of(a, 61);   /* 2 + 2 + 61 = 65 = 0x41 */
	assert_int_equal(a->len, 1 + 65);
	assert_int_equal(p[1], 0x41);
	assert_int_equal(p[2], 0x04);
	assert_int_equal(p[3], 0x0a);

	a->len = 0;
	p = buffer_of(a, 5000); /* 3 + 3 + 5000 = 5006 = 0x138e */
	assert_int_equal(a->len, 1 + 5006);
	assert_int_equal(p[1], 0x8e);
	assert_int_equal(p[2], 0x38);
	assert_int_equal(p[3], 0x01);
	assert_int_equal(p[4], 0x0b);
	assert_int_equal(p[5], 0x88);
	assert_int_equal(p[6], 0x13);
	assert_int_equal(p[7], 0xaa);
	assert_int_equal(p[a->len - 1], 0xaa);
}

static void resource_descriptors(void **state)
{
	struct aml *a = A(state);

	aml_res_io(a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(a, 1u << 4);
	aml_res_word_bus(a, 0, 0);
	aml_res_word_io(a, 0x0d00, 0xffff);
	aml_res_dword_mem(a, 0xc0000000, 0xdfffffff);
	aml_res_end(a);
	assert_aml(a,
		   0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		   0x22, 0x10, 0x00,
		   0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		   0x01, 0x00,
		   0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff,
		   0xff, 0, 0, 0x00, 0xf3,
		   0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0,
		   0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf, 0, 0, 0, 0,
		   0x00, 0x00, 0x00, 0x20,
		   0x79, 0x00);
}

static void unbalanced_nesting_is_an_error(void **state)
{
	struct aml *a = A(state);
	struct aml b;

	aml_scope_begin(a, "\\_SB");
	assert_int_equal(aml_finish(a), -1);

	aml_init(&b);
	aml_end(&b);
	assert_int_equal(aml_finish(&b), -1);
	aml_free(&b);

	aml_init(&b);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_package_begin(&b, 1);
	assert_int_equal(aml_finish(&b), -1);
	aml_free(&b);
}

static void errors_stop_output(void **state)
{
	struct aml *a = A(state);

	aml_integer(a, 7);
	aml_name_string(a, "bad");
	aml_integer(a, 8);
	assert_int_equal(aml_finish(a), -1);
	assert_int_equal(a->len, 2);    /* nothing after the error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(integers_use_shortest_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(names, setup, teardown),
		cmocka_unit_test(bad_names_are_errors),
		cmocka_unit_test_setup_teardown(eisa_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(strings, setup, teardown),
		cmocka_unit_test_setup_teardown(nested_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(methods, setup, teardown),
		cmocka_unit_test_setup_teardown(packages, setup, teardown),
		cmocka_unit_test_setup_teardown(pkglen_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(resource_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(unbalanced_nesting_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(errors_stop_output, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
