/* The port/MMIO dispatcher: ordering, overlap refusal, lookup at range
 * edges, unclaimed reads, unregistration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/io_bus.h"

struct probe {
	uint64_t last_offset;
	unsigned calls;
};

static void probe_handler(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct probe *p = opaque;

	p->last_offset = offset;
	p->calls++;
	if (!is_write)
		memset(data, 0x5a, len);
}

static void test_dispatch_by_range(void **state)
{
	struct io_bus bus;
	struct probe a = { 0 }, b = { 0 };
	uint8_t v[4];

	(void)state;
	io_bus_init(&bus, "test");
	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, probe_handler, &a), 0);
	assert_int_equal(io_bus_register(&bus, 0x60, 1, probe_handler, &b), 0);
	assert_true(io_bus_access(&bus, 0x3ff, v, 1, true));
	assert_int_equal(a.last_offset, 7);
	assert_true(io_bus_access(&bus, 0x60, v, 1, false));
	assert_int_equal(v[0], 0x5a);
	assert_int_equal(b.calls, 1);
	assert_false(io_bus_access(&bus, 0x400, v, 4, false));
	assert_int_equal(v[0], 0xff); /* unclaimed reads float high */
	assert_false(io_bus_access(&bus, 0x3f7, v, 1, true));
	assert_int_equal(a.calls, 1);
	io_bus_destroy(&bus);
}

static void test_overlap_refused(void **state)
{
	struct io_bus bus;
	struct probe a = { 0 };

	(void)state;
	io_bus_init(&bus, "test");
	assert_int_equal(io_bus_register(&bus, 0x1000, 0x100, probe_handler, &a), 0);
	assert_int_equal(io_bus_register(&bus, 0x10ff, 1, probe_handler, &a), -1);
	assert_int_equal(io_bus_register(&bus, 0xf00, 0x101, probe_handler, &a), -1);
	assert_int_equal(io_bus_register(&bus, 0xf00, 0x100, probe_handler, &a), 0);
	assert_int_equal(io_bus_register(&bus, 0x1100, 0x100, probe_handler, &a), 0);
	assert_int_equal(io_bus_register(&bus, 0, 0, probe_handler, &a), -1);
	assert_int_equal(io_bus_register(&bus, UINT64_MAX, 2, probe_handler, &a), -1);
	io_bus_destroy(&bus);
}

static void test_many_ranges_and_unregister(void **state)
{
	struct io_bus bus;
	struct probe p = { 0 };
	uint8_t v;

	(void)state;
	io_bus_init(&bus, "test");
	/* Register out of order to exercise the sorted insert. */
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(io_bus_register(&bus, ((i * 37) % 100) * 0x10,
						 0x10, probe_handler, &p), 0);
	for (unsigned i = 0; i < 100; i++) {
		assert_true(io_bus_access(&bus, i * 0x10 + 3, &v, 1, true));
		assert_int_equal(p.last_offset, 3);
	}
	assert_int_equal(io_bus_unregister(&bus, 0x500), 0);
	assert_false(io_bus_access(&bus, 0x505, &v, 1, true));
	assert_int_equal(io_bus_unregister(&bus, 0x505), -1);
	assert_int_equal(io_bus_register(&bus, 0x500, 0x10, probe_handler, &p), 0);
	io_bus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_by_range),
		cmocka_unit_test(test_overlap_refused),
		cmocka_unit_test(test_many_ranges_and_unregister),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
