/* The userfaultfd pager (vmm/ram_pager.c) on a real memfd: faults served
 * by the callback, pages placed once, the range released at the end, a
 * failing callback reported; and the post-copy bitmap parser. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/le.h"
#include "vmm/guest_memory.h"
#include "vmm/postcopy.h"
#include "vmm/ram_pager.h"
#include "vmm/vm.h"

#define PAGE 4096u
#define RAM (4u << 20)   /* 1024 pages */

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

_Noreturn void vmm_exit_now(const struct vm *vm, enum vm_exit_status status)
{
	(void)vm;
	fail_msg("vmm_exit_now(%d) called", (int)status);
	abort();
}

struct fixture {
	struct guest_memory mem;
	struct ram_pager *pg;
	atomic_int faults, backgrounds, failed;
	int fail_at_fault;          /* fault number that returns -1, 0 = none */
	int background_units;       /* background calls that place a page */
};

/* A page filled with its own index, so a wrong placement shows. */
static void pattern(uint8_t *buf, uint64_t page)
{
	for (unsigned i = 0; i < PAGE; i += 8)
		le_put(buf + i, page * 1000 + i, 8);
}

static int on_fault(struct ram_pager *pg, void *opaque, uint64_t offset)
{
	struct fixture *f = opaque;
	uint8_t buf[PAGE];

	if (atomic_fetch_add(&f->faults, 1) + 1 == f->fail_at_fault)
		return -1;
	pattern(buf, offset / PAGE);
	return ram_pager_place(pg, offset, buf, PAGE);
}

static int on_background(struct ram_pager *pg, void *opaque)
{
	struct fixture *f = opaque;
	int n = atomic_fetch_add(&f->backgrounds, 1);
	uint8_t buf[PAGE];

	if (n >= f->background_units)
		return 0;
	pattern(buf, 200 + (uint64_t)n);   /* pages 200.. in the background */
	return ram_pager_place(pg, (200 + (uint64_t)n) * PAGE, buf, PAGE) < 0
		? -1 : 1;
}

static void on_failed(void *opaque, const char *err)
{
	struct fixture *f = opaque;

	assert_non_null(err);
	atomic_store(&f->failed, 1);
}

static const struct ram_pager_ops ops = {
	.fault = on_fault, .background = on_background, .failed = on_failed,
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || guest_memory_init(&f->mem, RAM) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ram_pager_destroy(f->pg);
	guest_memory_destroy(&f->mem);
	free(f);
	return 0;
}

static void check_page(const struct fixture *f, uint64_t page)
{
	uint8_t want[PAGE];

	pattern(want, page);
	assert_memory_equal(f->mem.host + page * PAGE, want, PAGE);
}

static void test_faults_are_served(void **state)
{
	struct fixture *f = *state;
	struct ram_pager_stats st;

	if (!ram_pager_available())
		skip();
	assert_int_equal(ram_pager_start(&f->pg, &f->mem, &ops, f), 0);
	/* This thread touches pages; the pager thread fills them. */
	check_page(f, 3);
	check_page(f, 77);
	check_page(f, 3);                  /* there now: no second fault */
	assert_int_equal(atomic_load(&f->faults), 2);
	/* The copy wakes this thread before the pager counts it. */
	for (int i = 0; i < 1000; i++) {
		ram_pager_stats(f->pg, &st);
		if (st.placed_bytes == 2 * PAGE)
			break;
		usleep(1000);
	}
	assert_int_equal(st.faults, 2);
	assert_int_equal(st.placed_bytes, 2 * PAGE);
	assert_true(st.first_fault_ns > 0);
}

static void test_place_keeps_what_is_there(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[4 * PAGE];

	if (!ram_pager_available())
		skip();
	assert_int_equal(ram_pager_start(&f->pg, &f->mem, &ops, f), 0);
	check_page(f, 10);                 /* faulted in with its pattern */
	memset(buf, 0xab, sizeof(buf));
	/* Pages 9-12 at once: 10 is there, the others are placed. */
	assert_int_equal(ram_pager_place(f->pg, 9 * PAGE, buf, 4 * PAGE), 0);
	check_page(f, 10);
	assert_int_equal(f->mem.host[9 * PAGE], 0xab);
	assert_int_equal(f->mem.host[12 * PAGE + PAGE - 1], 0xab);
	/* Zeros the same way. */
	assert_int_equal(ram_pager_place(f->pg, 12 * PAGE, NULL, 2 * PAGE), 0);
	assert_int_equal(f->mem.host[12 * PAGE], 0xab);
	assert_int_equal(f->mem.host[13 * PAGE], 0);
	assert_int_equal(atomic_load(&f->faults), 1);
}

static void test_background_then_finish(void **state)
{
	struct fixture *f = *state;

	if (!ram_pager_available())
		skip();
	f->background_units = 5;
	assert_int_equal(ram_pager_start(&f->pg, &f->mem, &ops, f), 0);
	while (atomic_load(&f->backgrounds) <= f->background_units)
		usleep(1000);
	ram_pager_finish(f->pg);
	assert_int_equal(ram_pager_wait(f->pg), 0);
	for (uint64_t p = 200; p < 205; p++)
		check_page(f, p);
	/* Unregistered: a missing page is ordinary zero memory now. */
	assert_int_equal(f->mem.host[400 * PAGE + 5], 0);
	assert_int_equal(atomic_load(&f->faults), 0);
}

static void *touch(void *arg)
{
	struct fixture *f = arg;

	return (void *)(uintptr_t)f->mem.host[5 * PAGE];
}

static void test_failing_fault_is_reported(void **state)
{
	struct fixture *f = *state;
	pthread_t t;

	if (!ram_pager_available())
		skip();
	f->fail_at_fault = 1;
	assert_int_equal(ram_pager_start(&f->pg, &f->mem, &ops, f), 0);
	/* The toucher stays blocked: it must never see an unplaced page. */
	assert_int_equal(pthread_create(&t, NULL, touch, f), 0);
	assert_int_equal(ram_pager_wait(f->pg), -1);
	assert_int_equal(atomic_load(&f->failed), 1);
	ram_pager_destroy(f->pg);          /* closing the uffd releases it */
	f->pg = NULL;
	pthread_join(t, NULL);
}

static void test_postcopy_bitmap(void **state)
{
	uint8_t p[16 + 8 * 2];
	uint64_t *bits = NULL;
	char err[200];

	(void)state;
	le_put(p, 100, 8);             /* 100 pages: 2 words */
	le_put(p + 8, 3, 8);
	le_put(p + 16, 0x15, 8);       /* pages 0, 2, 4 */
	le_put(p + 24, 0, 8);
	assert_int_equal(postcopy_parse_bitmap(p, sizeof(p), 100, &bits, err,
					       sizeof(err)), 0);
	assert_int_equal(bits[0], 0x15);
	free(bits);
	/* Wrong size, wrong count, a bit past the end of RAM. */
	assert_int_equal(postcopy_parse_bitmap(p, sizeof(p), 200, &bits, err,
					       sizeof(err)), -1);
	assert_non_null(strstr(err, "does not describe 200 pages"));
	le_put(p + 8, 4, 8);
	assert_int_equal(postcopy_parse_bitmap(p, sizeof(p), 100, &bits, err,
					       sizeof(err)), -1);
	le_put(p + 8, 4, 8);
	le_put(p + 24, 1ULL << 40, 8); /* page 104 of 100 */
	assert_int_equal(postcopy_parse_bitmap(p, sizeof(p), 100, &bits, err,
					       sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_faults_are_served, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_place_keeps_what_is_there,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_background_then_finish,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_fault_is_reported,
						setup, teardown),
		cmocka_unit_test(test_postcopy_bitmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
