/* The split-virtqueue parser against a hostile driver: valid and indirect
 * chains, loops, buffers outside RAM, huge lengths, bad indices, avail
 * index jumps, ordering, notification suppression. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/virtqueue.h"

#define RAM_LOW   (1u << 20)          /* region 0: [0, 1 MiB) */
#define RAM_HIGH  (64u << 10)         /* region 1: [4 GiB, 4 GiB + 64 KiB) */
#define GPA_HIGH  0x100000000ULL
#define QSIZE     8
#define DESC      0x1000
#define AVAIL     0x2000
#define USED      0x3000
#define BUF       0x10000

struct fixture {
	struct guest_memory mem;
	struct virtqueue vq;
	struct iovec iov[QSIZE * 2];
	struct virtq_elem e;
	uint16_t avail_idx;
};

static struct fixture *F(void **state)
{
	return *state;
}

static void *host(struct fixture *f, uint64_t gpa)
{
	return gpa_to_hva(&f->mem, gpa, 1);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->mem.host = aligned_alloc(4096, RAM_LOW + RAM_HIGH);
	memset(f->mem.host, 0, RAM_LOW + RAM_HIGH);
	f->mem.size = RAM_LOW + RAM_HIGH;
	f->mem.nr_regions = 2;
	f->mem.regions[0] = (struct guest_region){ 0, RAM_LOW, 0 };
	f->mem.regions[1] = (struct guest_region){ GPA_HIGH, RAM_HIGH, RAM_LOW };
	f->e.iov = f->iov;
	f->e.max_iov = QSIZE * 2;
	assert_int_equal(virtqueue_setup(&f->vq, &f->mem, QSIZE, DESC, AVAIL,
					 USED, true, false), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(F(state)->mem.host);
	free(F(state));
	return 0;
}

static void set_desc_at(struct fixture *f, uint64_t table, unsigned i,
			uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy((uint8_t *)host(f, table) + 16 * i, &d, sizeof(d));
}

static void set_desc(struct fixture *f, unsigned i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	set_desc_at(f, DESC, i, addr, len, flags, next);
}

static void make_avail(struct fixture *f, uint16_t head)
{
	struct virtq_avail *a = host(f, AVAIL);

	a->ring[f->avail_idx % QSIZE] = head;
	a->idx = ++f->avail_idx;
}

static struct virtq_used *used(struct fixture *f)
{
	return host(f, USED);
}

static void expect_error(struct fixture *f, const char *needle)
{
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), -1);
	assert_true(f->vq.broken);
	if (!strstr(f->vq.error, needle))
		fail_msg("error '%s' does not mention '%s'", f->vq.error, needle);
	/* Broken stays broken. */
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), -1);
}

/* ---- set-up ---------------------------------------------------------------- */

static void test_setup_checks(void **state)
{
	struct fixture *f = F(state);
	struct virtqueue vq;

	assert_int_equal(virtqueue_setup(&vq, &f->mem, 6, DESC, AVAIL, USED, 0, 0), -1);
	assert_non_null(strstr(vq.error, "power of two"));
	assert_int_equal(virtqueue_setup(&vq, &f->mem, 0, DESC, AVAIL, USED, 0, 0), -1);
	assert_int_equal(virtqueue_setup(&vq, &f->mem, QSIZE, DESC + 8, AVAIL, USED, 0, 0), -1);
	assert_non_null(strstr(vq.error, "aligned"));
	assert_int_equal(virtqueue_setup(&vq, &f->mem, QSIZE, DESC, AVAIL + 1, USED, 0, 0), -1);
	assert_int_equal(virtqueue_setup(&vq, &f->mem, QSIZE, DESC, AVAIL, USED + 2, 0, 0), -1);
	/* Rings running off the end of RAM, or into the MMIO hole. */
	assert_int_equal(virtqueue_setup(&vq, &f->mem, QSIZE, RAM_LOW - 16, AVAIL, USED, 0, 0), -1);
	assert_non_null(strstr(vq.error, "outside guest RAM"));
	assert_int_equal(virtqueue_setup(&vq, &f->mem, QSIZE, DESC, AVAIL,
					 GPA_HIGH + RAM_HIGH - 8, 0, 0), -1);
	assert_int_equal(virtqueue_setup(&vq, &f->mem, 32768, RAM_LOW / 2 + 0x1000, AVAIL, USED, 0, 0), -1);
	assert_int_equal(virtqueue_setup(&vq, &f->mem, QSIZE, ~0xfULL, AVAIL, USED, 0, 0), -1);
	/* Rings in the high region are fine. */
	assert_int_equal(virtqueue_setup(&vq, &f->mem, QSIZE, GPA_HIGH, GPA_HIGH + 0x1000,
					 GPA_HIGH + 0x2000, 0, 0), 0);
}

static void test_empty(void **state)
{
	struct fixture *f = F(state);

	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 0);
	assert_false(virtqueue_has_buffers(&f->vq));
	assert_false(f->vq.broken);
}

/* ---- valid chains ----------------------------------------------------------- */

static void test_simple_chain(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 3, BUF, 100, VIRTQ_DESC_F_NEXT, 5);
	set_desc(f, 5, BUF + 0x1000, 50, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, GPA_HIGH + 0x100, 200, VIRTQ_DESC_F_WRITE, 0);
	make_avail(f, 3);
	assert_true(virtqueue_has_buffers(&f->vq));
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.head, 3);
	assert_int_equal(f->e.out_num, 2);
	assert_int_equal(f->e.in_num, 1);
	assert_int_equal(f->e.out_bytes, 150);
	assert_int_equal(f->e.in_bytes, 200);
	assert_ptr_equal(f->iov[0].iov_base, host(f, BUF));
	assert_int_equal(f->iov[1].iov_len, 50);
	assert_ptr_equal(f->iov[2].iov_base, host(f, GPA_HIGH + 0x100));
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 0);

	virtqueue_push(&f->vq, f->e.head, 17);
	assert_int_equal(used(f)->idx, 1);
	assert_int_equal(used(f)->ring[0].id, 3);
	assert_int_equal(used(f)->ring[0].len, 17);
	assert_true(virtqueue_should_notify(&f->vq));
	((struct virtq_avail *)host(f, AVAIL))->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_false(virtqueue_should_notify(&f->vq));
}

static void test_zero_length_skipped(void **state)
{
	struct fixture *f = F(state);

	/* A zero-length buffer's address is never used, even if bogus. */
	set_desc(f, 0, 0xdead00000000ULL, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
	make_avail(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.out_num, 0);
	assert_int_equal(f->e.in_num, 1);
}

static void test_wraparound(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, BUF, 4, 0, 0);
	for (unsigned i = 0; i < 3 * QSIZE + 1; i++) {
		make_avail(f, 0);
		assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
		virtqueue_push(&f->vq, 0, 0);
	}
	assert_int_equal(used(f)->idx, 3 * QSIZE + 1);
	/* And across the 16-bit index wrap. */
	f->vq.last_avail = f->avail_idx = 0xfffe;
	((struct virtq_avail *)host(f, AVAIL))->idx = 0xfffe;
	for (unsigned i = 0; i < 4; i++) {
		make_avail(f, 0);
		assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	}
}

static void test_indirect(void **state)
{
	struct fixture *f = F(state);
	uint64_t table = 0x20000;

	set_desc_at(f, table, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc_at(f, table, 2, BUF + 0x100, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc_at(f, table, 1, BUF + 0x200, 30, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, 4, table, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 4);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(f->e.head, 4);
	assert_int_equal(f->e.out_num, 1);
	assert_int_equal(f->e.in_num, 2);
	assert_int_equal(f->e.in_bytes, 50);
}

/* ---- hostile chains ---------------------------------------------------------- */

static void test_indirect_not_negotiated(void **state)
{
	struct fixture *f = F(state);

	f->vq.indirect = false;
	set_desc_at(f, 0x20000, 0, BUF, 10, 0, 0);
	set_desc(f, 0, 0x20000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "not negotiated");
}

static void test_indirect_nested(void **state)
{
	struct fixture *f = F(state);

	set_desc_at(f, 0x20000, 0, 0x21000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(f, 0, 0x20000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "nested");
}

static void test_indirect_bad_length(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, 0x20000, 24, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "multiple of 16");
}

static void test_indirect_zero_length(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, 0x20000, 0, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "multiple of 16");
}

static void test_indirect_outside_ram(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, RAM_LOW - 32, 64, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "outside guest RAM");
}

static void test_indirect_with_next(void **state)
{
	struct fixture *f = F(state);

	set_desc_at(f, 0x20000, 0, BUF, 10, 0, 0);
	set_desc(f, 0, 0x20000, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 10, 0, 0);
	make_avail(f, 0);
	expect_error(f, "chained");
}

static void test_indirect_after_direct(void **state)
{
	struct fixture *f = F(state);

	set_desc_at(f, 0x20000, 0, BUF, 10, 0, 0);
	set_desc(f, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, 0x20000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "chained");
}

static void test_indirect_loop(void **state)
{
	struct fixture *f = F(state);

	set_desc_at(f, 0x20000, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 1);
	set_desc_at(f, 0x20000, 1, BUF, 10, VIRTQ_DESC_F_NEXT, 0);
	set_desc(f, 0, 0x20000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "loops");
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fixture *f = F(state);

	set_desc_at(f, 0x20000, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 0, 0x20000, 32, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(f, 0);
	expect_error(f, "out of range");
}

static void test_loop(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, BUF, 10, VIRTQ_DESC_F_NEXT, 0);
	make_avail(f, 0);
	expect_error(f, "loops");
}

static void test_self_loop(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 7, BUF, 10, VIRTQ_DESC_F_NEXT, 7);
	make_avail(f, 7);
	expect_error(f, "loops");
}

static void test_buffer_outside_ram(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, RAM_LOW - 10, 20, 0, 0);
	make_avail(f, 0);
	expect_error(f, "outside guest RAM");
}

static void test_buffer_in_hole(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, 0xc0000000ULL, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(f, 0);
	expect_error(f, "outside guest RAM");
}

static void test_buffer_address_wraps(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, UINT64_MAX - 0x10, 0x1000, 0, 0);
	make_avail(f, 0);
	expect_error(f, "outside guest RAM");
}

static void test_huge_lengths(void **state)
{
	struct fixture *f = F(state);

	/* Each fits in RAM on its own... */
	f->vq.max_chain_bytes = 0x80000;
	set_desc(f, 0, 0, 0x80000, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, 0, 0x80000, 0, 0);
	make_avail(f, 0);
	expect_error(f, "chain longer than");
}

static void test_lengths_overflow_u32(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, 0, 0xffffffffu, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, 0, 0xffffffffu, 0, 0);
	make_avail(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), -1);
}

static void test_bad_head(void **state)
{
	struct fixture *f = F(state);

	make_avail(f, QSIZE);
	expect_error(f, "out of range");
}

static void test_bad_next(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 0xffff);
	make_avail(f, 0);
	expect_error(f, "out of range");
}

static void test_avail_jump(void **state)
{
	struct fixture *f = F(state);

	((struct virtq_avail *)host(f, AVAIL))->idx = QSIZE + 1;
	expect_error(f, "jumped");
}

static void test_avail_full_is_fine(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, BUF, 10, 0, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		make_avail(f, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 0);
}

static void test_readable_after_writable(void **state)
{
	struct fixture *f = F(state);

	set_desc(f, 0, BUF, 10, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 10, 0, 0);
	make_avail(f, 0);
	expect_error(f, "device-readable buffer after");
}

static void test_too_many_segments(void **state)
{
	struct fixture *f = F(state);

	f->e.max_iov = 2;
	set_desc(f, 0, BUF, 10, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, BUF, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, 2, BUF, 10, 0, 0);
	make_avail(f, 0);
	expect_error(f, "more than 2 buffers");
}

/* ---- notification suppression ------------------------------------------------- */

static void test_event_idx(void **state)
{
	struct fixture *f = F(state);
	struct virtq_avail *a = host(f, AVAIL);
	uint16_t *used_event = &a->ring[QSIZE];
	uint16_t *avail_event = (uint16_t *)&used(f)->ring[QSIZE];

	assert_int_equal(virtqueue_setup(&f->vq, &f->mem, QSIZE, DESC, AVAIL,
					 USED, true, true), 0);
	set_desc(f, 0, BUF, 10, 0, 0);
	make_avail(f, 0);
	make_avail(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(*avail_event, 1);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 0);
	assert_int_equal(*avail_event, 2);

	*used_event = 1;        /* interrupt once used idx passes 1 */
	virtqueue_push(&f->vq, 0, 0);
	assert_true(virtqueue_should_notify(&f->vq));   /* first: always */
	virtqueue_push(&f->vq, 0, 0);
	assert_true(virtqueue_should_notify(&f->vq));   /* crossed 1 -> 2 */
	virtqueue_push(&f->vq, 0, 0);
	assert_false(virtqueue_should_notify(&f->vq));  /* 3: not asked */
	*used_event = 5;
	virtqueue_push(&f->vq, 0, 0);
	virtqueue_push(&f->vq, 0, 0);
	virtqueue_push(&f->vq, 0, 0);
	assert_true(virtqueue_should_notify(&f->vq));   /* 3 -> 6 crosses 5 */
}

/* Kicks off while the device polls: NO_NOTIFY without EVENT_IDX; with it,
 * avail_event stays behind while popping and catches up when on again. */
static void test_notify_off_while_polling(void **state)
{
	struct fixture *f = F(state);
	uint16_t *avail_event = (uint16_t *)&used(f)->ring[QSIZE];

	set_desc(f, 0, BUF, 10, 0, 0);
	virtqueue_set_notify(&f->vq, false);
	assert_int_equal(used(f)->flags, VIRTQ_USED_F_NO_NOTIFY);
	make_avail(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	virtqueue_set_notify(&f->vq, true);
	assert_int_equal(used(f)->flags, 0);

	/* again from an empty ring, with EVENT_IDX */
	f->avail_idx = 0;
	((struct virtq_avail *)host(f, AVAIL))->idx = 0;
	assert_int_equal(virtqueue_setup(&f->vq, &f->mem, QSIZE, DESC, AVAIL,
					 USED, true, true), 0);
	make_avail(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(*avail_event, 1);
	virtqueue_set_notify(&f->vq, false);
	make_avail(f, 0);
	make_avail(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 0);
	assert_int_equal(*avail_event, 1);      /* not moved while off */
	assert_int_equal(used(f)->flags, 0);    /* the flag is not used */
	virtqueue_set_notify(&f->vq, true);
	assert_int_equal(*avail_event, 3);      /* kick for the next one */
}

static void test_iov_copy(void **state)
{
	struct fixture *f = F(state);
	char out[16];

	set_desc(f, 0, BUF, 3, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(f, 1, BUF + 0x100, 5, VIRTQ_DESC_F_WRITE, 0);
	make_avail(f, 0);
	assert_int_equal(virtqueue_pop(&f->vq, &f->e), 1);
	assert_int_equal(virtq_buf_to_iov(f->iov, 2, "abcdefghij", 10), 8);
	assert_memory_equal(host(f, BUF), "abc", 3);
	assert_memory_equal(host(f, BUF + 0x100), "defgh", 5);
	assert_int_equal(virtq_iov_to_buf(f->iov, 2, out, 4), 4);
	assert_memory_equal(out, "abcd", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_setup_checks),
		T(test_empty),
		T(test_simple_chain),
		T(test_zero_length_skipped),
		T(test_wraparound),
		T(test_indirect),
		T(test_indirect_not_negotiated),
		T(test_indirect_nested),
		T(test_indirect_bad_length),
		T(test_indirect_zero_length),
		T(test_indirect_outside_ram),
		T(test_indirect_with_next),
		T(test_indirect_after_direct),
		T(test_indirect_loop),
		T(test_indirect_next_out_of_table),
		T(test_loop),
		T(test_self_loop),
		T(test_buffer_outside_ram),
		T(test_buffer_in_hole),
		T(test_buffer_address_wraps),
		T(test_huge_lengths),
		T(test_lengths_overflow_u32),
		T(test_bad_head),
		T(test_bad_next),
		T(test_avail_jump),
		T(test_avail_full_is_fine),
		T(test_readable_after_writable),
		T(test_too_many_segments),
		T(test_event_idx),
		T(test_notify_off_while_polling),
		T(test_iov_copy),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
