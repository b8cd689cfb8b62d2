/* gpa_to_hva is the guard every device access goes through: test its
 * bounds, the MMIO hole split, and overflow-proofing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/platform.h"
#include "vmm/guest_memory.h"

static void test_small_ram_single_region(void **state)
{
	struct guest_memory m;

	(void)state;
	assert_int_equal(guest_memory_init(&m, 16 << 20), 0);
	assert_int_equal(m.nr_regions, 1);
	assert_int_equal(guest_memory_low_size(&m), 16 << 20);
	assert_ptr_equal(gpa_to_hva(&m, 0, 16 << 20), m.host);
	assert_ptr_equal(gpa_to_hva(&m, 4096, 1), m.host + 4096);
	assert_null(gpa_to_hva(&m, (16 << 20) - 1, 2));
	assert_null(gpa_to_hva(&m, 16 << 20, 1));
	assert_non_null(gpa_to_hva(&m, 16 << 20, 0)); /* empty range at the end */
	guest_memory_destroy(&m);
}

static void test_overflowing_ranges_refused(void **state)
{
	struct guest_memory m;

	(void)state;
	assert_int_equal(guest_memory_init(&m, 8 << 20), 0);
	assert_null(gpa_to_hva(&m, 4096, UINT64_MAX));
	assert_null(gpa_to_hva(&m, UINT64_MAX, 2));
	assert_null(gpa_to_hva(&m, UINT64_MAX - 4095, 8192));
	guest_memory_destroy(&m);
}

static void test_ram_split_around_hole(void **state)
{
	struct guest_memory m;
	uint64_t size = PLAT_MMIO_HOLE_START + (64ULL << 20);

	(void)state;
	assert_int_equal(guest_memory_init(&m, size), 0);
	assert_int_equal(m.nr_regions, 2);
	assert_int_equal(guest_memory_low_size(&m), PLAT_MMIO_HOLE_START);
	assert_null(gpa_to_hva(&m, PLAT_MMIO_HOLE_START, 1));
	assert_null(gpa_to_hva(&m, PLAT_MMIO_HOLE_START - 1, 2));
	assert_ptr_equal(gpa_to_hva(&m, PLAT_HIGH_RAM_4G, 1),
			 m.host + PLAT_MMIO_HOLE_START);
	assert_null(gpa_to_hva(&m, PLAT_HIGH_RAM_4G + (64ULL << 20), 1));
	guest_memory_destroy(&m);
}

static void test_copy_helpers(void **state)
{
	struct guest_memory m;
	char buf[8] = "xenon";

	(void)state;
	assert_int_equal(guest_memory_init(&m, 4 << 20), 0);
	assert_int_equal(guest_memory_write(&m, 100, buf, 6), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(guest_memory_read(&m, 100, buf, 6), 0);
	assert_string_equal(buf, "xenon");
	assert_int_equal(guest_memory_write(&m, (4 << 20) - 2, buf, 6), -1);
	assert_int_equal(guest_memory_read(&m, (4 << 20) - 2, buf, 6), -1);
	guest_memory_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram_single_region),
		cmocka_unit_test(test_overflowing_ranges_refused),
		cmocka_unit_test(test_ram_split_around_hole),
		cmocka_unit_test(test_copy_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
