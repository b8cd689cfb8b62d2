/* virtio-blk request framing and checks (devices/virtio_blk_req.c):
 * any split of header, data and status over descriptors, and every rule
 * a request can break. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/virtio_blk_req.h"

#define CAP 1000   /* sectors */

struct req {
	uint8_t hdr[16];
	uint8_t data[4096];
	uint8_t seg[16];
	uint8_t status[4];
	struct iovec iov[8];
	struct virtq_elem e;
	struct blk_request r;
};

static const struct blk_limits lim = {
	.capacity = CAP, .discard = true, .write_zeroes = true,
	.seg_max = 4, .size_max = 2048,
	.max_discard_sectors = 64, .max_write_zeroes_sectors = 64,
};

static void header(struct req *q, uint32_t type, uint64_t sector)
{
	memset(q->hdr, 0, 16);
	memcpy(q->hdr, &type, 4);
	memcpy(q->hdr + 8, &sector, 8);
}

/* Build the chain from (pointer, length, writable) triples. */
static struct req *chain(struct req *q, unsigned n, ...)
{
	va_list ap;

	q->e = (struct virtq_elem){ .iov = q->iov, .max_iov = 8 };
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++) {
		void *p = va_arg(ap, void *);
		size_t len = va_arg(ap, size_t);
		int w = va_arg(ap, int);

		q->iov[i] = (struct iovec){ p, len };
		if (w) {
			q->e.in_num++;
			q->e.in_bytes += (uint32_t)len;
		} else {
			q->e.out_num++;
			q->e.out_bytes += (uint32_t)len;
		}
	}
	va_end(ap);
	return q;
}

static struct blk_op framed(struct req *q, const struct blk_limits *l)
{
	const char *why = NULL;

	assert_int_equal(blk_frame(&q->e, &q->r, &why), 0);
	return blk_check(&q->r, l);
}

static void test_read_separate_segments(void **state)
{
	struct req q;
	struct blk_op o;

	(void)state;
	header(&q, VIRTIO_BLK_T_IN, 10);
	chain(&q, 3, q.hdr, (size_t)16, 0, q.data, (size_t)1024, 1,
	      q.status, (size_t)1, 1);
	o = framed(&q, &lim);
	assert_int_equal(o.status, VIRTIO_BLK_S_OK);
	assert_int_equal(o.offset, 10 * 512);
	assert_int_equal(o.len, 1024);
	assert_ptr_equal(q.r.status, q.status);
	assert_int_equal(q.r.in.n, 1);
	assert_ptr_equal(q.r.in.iov[0].iov_base, q.data);
	assert_int_equal(q.r.out.len, 0);
}

static void test_split_header_status_with_data(void **state)
{
	struct req q;
	struct blk_op o;

	(void)state;
	header(&q, VIRTIO_BLK_T_IN, 0);
	/* Header in two pieces; data and status share one buffer. */
	chain(&q, 3, q.hdr, (size_t)8, 0, q.hdr + 8, (size_t)8, 0,
	      q.data, (size_t)513, 1);
	o = framed(&q, &lim);
	assert_int_equal(o.status, VIRTIO_BLK_S_OK);
	assert_int_equal(o.len, 512);
	assert_ptr_equal(q.r.status, q.data + 512);
	assert_int_equal(q.r.in.iov[0].iov_len, 512);
}

static void test_write_header_and_data_in_one_buffer(void **state)
{
	struct req q;
	struct blk_op o;
	uint8_t buf[16 + 512];
	uint32_t type = VIRTIO_BLK_T_OUT;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &type, 4);
	buf[8] = 5;
	chain(&q, 2, buf, sizeof(buf), 0, q.status, (size_t)1, 1);
	o = framed(&q, &lim);
	assert_int_equal(o.status, VIRTIO_BLK_S_OK);
	assert_int_equal(o.offset, 5 * 512);
	assert_int_equal(q.r.out.n, 1);
	assert_ptr_equal(q.r.out.iov[0].iov_base, buf + 16);
	assert_int_equal(q.r.out.iov[0].iov_len, 512);
}

static void test_unframeable_chains(void **state)
{
	struct req q;
	const char *why = NULL;

	(void)state;
	header(&q, VIRTIO_BLK_T_OUT, 0);
	chain(&q, 2, q.hdr, (size_t)16, 0, q.data, (size_t)512, 0);
	assert_int_equal(blk_frame(&q.e, &q.r, &why), -1);
	assert_non_null(strstr(why, "status"));
	chain(&q, 2, q.hdr, (size_t)15, 0, q.status, (size_t)1, 1);
	assert_int_equal(blk_frame(&q.e, &q.r, &why), -1);
	assert_non_null(strstr(why, "header"));
	chain(&q, 1, q.status, (size_t)1, 1);
	assert_int_equal(blk_frame(&q.e, &q.r, &why), -1);
}

static uint8_t read_status(uint64_t sector, size_t len, const struct blk_limits *l)
{
	struct req q;

	header(&q, VIRTIO_BLK_T_IN, sector);
	chain(&q, 3, q.hdr, (size_t)16, 0, q.data, len, 1, q.status, (size_t)1, 1);
	return framed(&q, l).status;
}

static void test_ranges_and_lengths(void **state)
{
	(void)state;
	assert_int_equal(read_status(CAP - 2, 1024, &lim), VIRTIO_BLK_S_OK);
	assert_int_equal(read_status(CAP - 1, 1024, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(CAP, 512, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(UINT64_MAX, 512, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(1ULL << 55, 512, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(0, 100, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(read_status(0, 4096, &lim), VIRTIO_BLK_S_IOERR); /* size_max */
	assert_int_equal(read_status(CAP, 0, &lim), VIRTIO_BLK_S_OK);
}

static void test_seg_max(void **state)
{
	struct req q;

	(void)state;
	header(&q, VIRTIO_BLK_T_IN, 0);
	chain(&q, 7, q.hdr, (size_t)16, 0, q.data, (size_t)512, 1,
	      q.data + 512, (size_t)512, 1, q.data + 1024, (size_t)512, 1,
	      q.data + 1536, (size_t)512, 1, q.data + 2048, (size_t)512, 1,
	      q.status, (size_t)1, 1);
	assert_int_equal(framed(&q, &lim).status, VIRTIO_BLK_S_IOERR);
}

static void test_types(void **state)
{
	struct blk_limits ro = lim;
	struct req q;

	(void)state;
	ro.readonly = true;
	header(&q, VIRTIO_BLK_T_OUT, 0);
	chain(&q, 3, q.hdr, (size_t)16, 0, q.data, (size_t)512, 0, q.status, (size_t)1, 1);
	assert_int_equal(framed(&q, &ro).status, VIRTIO_BLK_S_IOERR);
	header(&q, 77, 0);
	chain(&q, 2, q.hdr, (size_t)16, 0, q.status, (size_t)1, 1);
	assert_int_equal(framed(&q, &lim).status, VIRTIO_BLK_S_UNSUPP);
	header(&q, VIRTIO_BLK_T_FLUSH, 0);
	chain(&q, 2, q.hdr, (size_t)16, 0, q.status, (size_t)1, 1);
	assert_int_equal(framed(&q, &ro).status, VIRTIO_BLK_S_OK);
	header(&q, VIRTIO_BLK_T_GET_ID, 0);
	chain(&q, 2, q.hdr, (size_t)16, 0, q.status, (size_t)1, 1);
	assert_int_equal(framed(&q, &lim).status, VIRTIO_BLK_S_IOERR);
	chain(&q, 3, q.hdr, (size_t)16, 0, q.data, (size_t)20, 1, q.status, (size_t)1, 1);
	assert_int_equal(framed(&q, &lim).status, VIRTIO_BLK_S_OK);
	/* A read with readable data after the header. */
	header(&q, VIRTIO_BLK_T_IN, 0);
	chain(&q, 4, q.hdr, (size_t)16, 0, q.seg, (size_t)16, 0, q.data,
	      (size_t)512, 1, q.status, (size_t)1, 1);
	assert_int_equal(framed(&q, &lim).status, VIRTIO_BLK_S_IOERR);
}

static struct blk_op range_req(struct req *q, uint32_t type, uint64_t sector,
			       uint32_t n, uint32_t flags, size_t seglen,
			       const struct blk_limits *l)
{
	header(q, type, 0);
	memcpy(q->seg, &sector, 8);
	memcpy(q->seg + 8, &n, 4);
	memcpy(q->seg + 12, &flags, 4);
	chain(q, 3, q->hdr, (size_t)16, 0, q->seg, seglen, 0, q->status, (size_t)1, 1);
	return framed(q, l);
}

static void test_discard_write_zeroes(void **state)
{
	struct blk_limits none = lim;
	struct req q;
	struct blk_op o;

	(void)state;
	o = range_req(&q, VIRTIO_BLK_T_WRITE_ZEROES, 8, 16, 1, 16, &lim);
	assert_int_equal(o.status, VIRTIO_BLK_S_OK);
	assert_int_equal(o.offset, 8 * 512);
	assert_int_equal(o.len, 16 * 512);
	assert_true(o.unmap);
	o = range_req(&q, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 16, &lim);
	assert_int_equal(o.status, VIRTIO_BLK_S_OK);
	assert_false(o.unmap);
	assert_int_equal(range_req(&q, VIRTIO_BLK_T_DISCARD, 0, 8, 1, 16, &lim).status,
			 VIRTIO_BLK_S_UNSUPP);   /* unmap on a discard */
	assert_int_equal(range_req(&q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2, 16, &lim).status,
			 VIRTIO_BLK_S_UNSUPP);   /* unknown flag */
	assert_int_equal(range_req(&q, VIRTIO_BLK_T_WRITE_ZEROES, CAP - 4, 8, 0, 16, &lim).status,
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(range_req(&q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 65, 0, 16, &lim).status,
			 VIRTIO_BLK_S_IOERR);    /* above max_write_zeroes_sectors */
	assert_int_equal(range_req(&q, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 12, &lim).status,
			 VIRTIO_BLK_S_IOERR);    /* truncated segment */
	none.discard = none.write_zeroes = false;
	assert_int_equal(range_req(&q, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 16, &none).status,
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(range_req(&q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 16, &none).status,
			 VIRTIO_BLK_S_UNSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_separate_segments),
		cmocka_unit_test(test_split_header_status_with_data),
		cmocka_unit_test(test_write_header_and_data_in_one_buffer),
		cmocka_unit_test(test_unframeable_chains),
		cmocka_unit_test(test_ranges_and_lengths),
		cmocka_unit_test(test_seg_max),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_discard_write_zeroes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
