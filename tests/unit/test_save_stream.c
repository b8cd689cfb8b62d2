/* The save stream's framing: round trips, and refusal of truncated,
 * corrupted, foreign, newer and incomplete streams with clear messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/crc32c.h"
#include "lib/save_stream.h"
#include "lib/state_buf.h"
#include "lib/vmstate.h"

/* ---- a memory stream --------------------------------------------------- */

struct mem {
	uint8_t *buf;
	size_t len, cap, pos;
	size_t chunk;     /* max bytes per read call (exercise short reads) */
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem *m = ctx;
	size_t n = m->len - m->pos;

	if (n > len)
		n = len;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static ssize_t mem_write(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;

	if (m->len + len > m->cap) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return (ssize_t)len;
}

static struct ss_io mem_io(struct mem *m)
{
	return (struct ss_io){ mem_read, mem_write, NULL, m };
}

static const char config[] = "{\"domain\":{\"name\":\"web\"}}";
static const uint8_t vcpu0[100] = { 1, 2, 3 };

/* header, config, 2 vCPUs, an unknown optional section, end */
static struct mem build(void)
{
	struct mem m = { .buf = calloc(1, 4096), .cap = 4096 };
	struct ss_io io = mem_io(&m);
	struct ss_stream s;

	ss_init(&s, &io, "test stream");
	assert_int_equal(ss_write_header(&s, 0), 0);
	assert_int_equal(ss_write_section(&s, SS_SEC_CONFIG, SS_SEC_F_MANDATORY,
					  0, 1, config, strlen(config)), 0);
	assert_int_equal(ss_write_section(&s, SS_SEC_VCPU, SS_SEC_F_MANDATORY,
					  0, 1, vcpu0, sizeof(vcpu0)), 0);
	assert_int_equal(ss_write_section(&s, SS_SEC_VCPU, SS_SEC_F_MANDATORY,
					  1, 1, vcpu0, sizeof(vcpu0)), 0);
	assert_int_equal(ss_write_section(&s, 0x100, 0, 0, 1, "extra", 5), 0);
	assert_int_equal(ss_write_end(&s), 0);
	assert_int_equal(s.offset, m.len);
	return m;
}

/* Read everything; 0 on success, -1 with the message in err. */
static int read_all(struct mem *m, char *err, size_t errlen, int *nsec)
{
	struct ss_io io = mem_io(m);
	struct ss_stream s;
	struct ss_section sec;
	void *p;
	int r;

	m->pos = 0;
	*nsec = 0;
	ss_init(&s, &io, "test stream");
	if (ss_read_header(&s) < 0)
		goto fail;
	while ((r = ss_read_section(&s, &sec, &p, 1 << 20)) == 1) {
		(*nsec)++;
		free(p);
	}
	if (r == 0)
		return 0;
fail:
	snprintf(err, errlen, "%s", s.error);
	return -1;
}

static void test_round_trip(void **state)
{
	struct mem m = build();
	struct ss_io io = mem_io(&m);
	struct ss_stream s;
	struct ss_section sec;
	void *p;

	(void)state;
	m.chunk = 7;   /* short reads everywhere */
	ss_init(&s, &io, "test stream");
	assert_int_equal(ss_read_header(&s), 0);
	assert_int_equal(ss_read_section(&s, &sec, &p, 1 << 20), 1);
	assert_int_equal(sec.type, SS_SEC_CONFIG);
	assert_int_equal(sec.length, strlen(config));
	assert_memory_equal(p, config, strlen(config));
	free(p);
	assert_int_equal(ss_read_section(&s, &sec, &p, 1 << 20), 1);
	assert_int_equal(sec.type, SS_SEC_VCPU);
	assert_int_equal(sec.id, 0);
	assert_memory_equal(p, vcpu0, sizeof(vcpu0));
	free(p);
	assert_int_equal(ss_read_section(&s, &sec, &p, 1 << 20), 1);
	assert_int_equal(sec.id, 1);
	free(p);
	/* The unknown optional section is skipped; then the end marker. */
	assert_int_equal(ss_read_section(&s, &sec, &p, 1 << 20), 0);
	assert_int_equal(sec.type, SS_SEC_END);
	assert_int_equal(s.offset, m.len);
	free(m.buf);
}

static void test_truncated_everywhere(void **state)
{
	struct mem m = build();
	size_t full = m.len;
	char err[400];
	int n;

	(void)state;
	for (size_t cut = 0; cut < full; cut++) {
		m.len = cut;
		assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
		if (!strstr(err, "truncated"))
			fail_msg("cut at %zu: '%s'", cut, err);
		assert_non_null(strstr(err, "test stream: offset "));
	}
	m.len = full;
	assert_int_equal(read_all(&m, err, sizeof(err), &n), 0);
	assert_int_equal(n, 3);
	free(m.buf);
}

static void test_corrupted_everywhere(void **state)
{
	struct mem m = build();
	char err[400];
	int n;

	(void)state;
	for (size_t i = 0; i < m.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			m.buf[i] ^= (uint8_t)(1 << bit);
			if (read_all(&m, err, sizeof(err), &n) == 0)
				fail_msg("flip of byte %zu bit %d not detected", i, bit);
			if (!strstr(err, "checksum") && !strstr(err, "magic") &&
			    !strstr(err, "marker"))
				fail_msg("byte %zu: unexpected message '%s'", i, err);
			m.buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	free(m.buf);
}

static void test_payload_corruption_names_section(void **state)
{
	struct mem m = build();
	char err[400];
	int n;

	(void)state;
	/* First vCPU payload byte: header 32 + config section + vcpu header. */
	m.buf[32 + 32 + strlen(config) + 32] ^= 0x40;
	assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
	assert_non_null(strstr(err, "section 'vcpu' (id 0)"));
	assert_non_null(strstr(err, "payload checksum mismatch"));
	free(m.buf);
}

static void rewrite_header(struct mem *m, const char *magic, uint32_t version)
{
	memcpy(m->buf, magic, 8);
	m->buf[8] = (uint8_t)version;
	m->buf[9] = (uint8_t)(version >> 8);
	m->buf[10] = (uint8_t)(version >> 16);
	m->buf[11] = (uint8_t)(version >> 24);
	uint32_t crc = crc32c(0, m->buf, 28);
	memcpy(m->buf + 28, &crc, 4);
}

static void test_wrong_magic_and_version(void **state)
{
	struct mem m = build();
	char err[400];
	int n;

	(void)state;
	rewrite_header(&m, "QEVM\0\0\0\3", 1);
	assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
	assert_non_null(strstr(err, "not a Xenon save stream"));
	rewrite_header(&m, SS_MAGIC, SS_FORMAT_VERSION + 1);
	assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
	assert_non_null(strstr(err, "format version 2 is newer than this "
				    "xenon-vmm supports (1)"));
	assert_non_null(strstr(err, "offset 0"));
	rewrite_header(&m, SS_MAGIC, 0);
	assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
	assert_non_null(strstr(err, "version 0"));
	rewrite_header(&m, SS_MAGIC, SS_FORMAT_VERSION);
	assert_int_equal(read_all(&m, err, sizeof(err), &n), 0);
	/* Not even a header's worth. */
	m.len = 5;
	assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
	assert_non_null(strstr(err, "truncated"));
	free(m.buf);
}

static void test_unknown_mandatory_refused(void **state)
{
	struct mem m = { .buf = calloc(1, 4096), .cap = 4096 };
	struct ss_io io = mem_io(&m);
	struct ss_stream s;
	char err[400];
	int n;

	(void)state;
	ss_init(&s, &io, "test stream");
	ss_write_header(&s, 0);
	ss_write_section(&s, SS_SEC_CONFIG, SS_SEC_F_MANDATORY, 0, 1, "{}", 2);
	ss_write_section(&s, 0x1234, SS_SEC_F_MANDATORY, 3, 1, "new", 3);
	ss_write_end(&s);
	assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
	assert_non_null(strstr(err, "offset 66: section type 0x1234"));
	assert_non_null(strstr(err, "unknown mandatory section"));
	free(m.buf);
}

static void test_lost_section_detected(void **state)
{
	struct mem m = build();
	size_t start = 32 + 32 + strlen(config) + 32 + sizeof(vcpu0);
	size_t len = 32 + sizeof(vcpu0);   /* vCPU 1, whole */
	char err[400];
	int n;

	(void)state;
	memmove(m.buf + start, m.buf + start + len, m.len - start - len);
	m.len -= len;
	assert_int_equal(read_all(&m, err, sizeof(err), &n), -1);
	assert_non_null(strstr(err, "end marker counts 4 sections, the stream "
				    "had 3"));
	free(m.buf);
}

static void test_oversized_payload_refused(void **state)
{
	struct mem m = build();
	struct ss_io io = mem_io(&m);
	struct ss_stream s;
	struct ss_section sec;
	void *p;

	(void)state;
	ss_init(&s, &io, "test stream");
	assert_int_equal(ss_read_header(&s), 0);
	assert_int_equal(ss_read_section(&s, &sec, &p, 4), -1);
	assert_non_null(strstr(s.error, "larger than allowed (4)"));
	free(m.buf);
}

static void test_write_error_reported(void **state)
{
	struct mem m = { .buf = calloc(1, 40), .cap = 40 };
	struct ss_io io = mem_io(&m);
	struct ss_stream s;

	(void)state;
	ss_init(&s, &io, "save file 'x'");
	assert_int_equal(ss_write_header(&s, 0), 0);
	assert_int_equal(ss_write_section(&s, SS_SEC_CONFIG, 0, 0, 1, "{}", 2), -1);
	assert_non_null(strstr(s.error, "save file 'x': offset 32: write failed: "
				       "No space left on device"));
	free(m.buf);
}

static void test_crc32c(void **state)
{
	uint8_t buf[20000];

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c(0, "", 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 7));
	/* Every path: short tails, the 3-way interleave, continuation. */
	for (size_t len = 0; len < sizeof(buf); len += len < 64 ? 1 : 997) {
		assert_int_equal(crc32c(0, buf, len), crc32c_sw(0, buf, len));
		assert_int_equal(crc32c(crc32c(0, buf, len / 3), buf + len / 3,
					len - len / 3), crc32c_sw(0, buf, len));
	}
}

static void test_state_buf(void **state)
{
	struct sbuf b;
	struct sreader r;
	char s[8];

	(void)state;
	sbuf_init(&b);
	sbuf_u8(&b, 0xab);
	sbuf_u16(&b, 0x1234);
	sbuf_u32(&b, 0xdeadbeef);
	sbuf_u64(&b, 0x0102030405060708ULL);
	sbuf_bool(&b, true);
	sbuf_str(&b, "hello");
	assert_false(b.failed);
	assert_int_equal(b.data[1], 0x34);  /* little-endian */
	sr_init(&r, b.data, b.len);
	assert_int_equal(sr_u8(&r), 0xab);
	assert_int_equal(sr_u16(&r), 0x1234);
	assert_int_equal(sr_u32(&r), 0xdeadbeef);
	assert_int_equal(sr_u64(&r), 0x0102030405060708ULL);
	assert_true(sr_bool(&r));
	sr_str(&r, s, sizeof(s));
	assert_string_equal(s, "hello");
	assert_true(sr_done(&r));
	/* Short: the first failure sticks, later reads give zeros. */
	sr_init(&r, b.data, 3);
	sr_u16(&r);
	assert_int_equal(sr_u32(&r), 0);
	assert_false(sr_ok(&r));
	assert_non_null(strstr(r.error, "state ends early: 4 bytes wanted at "
				       "offset 2, 1 left"));
	/* Trailing bytes are an error for sr_done. */
	sr_init(&r, b.data, b.len);
	sr_u8(&r);
	assert_false(sr_done(&r));
	assert_non_null(strstr(r.error, "trailing"));
	/* Too long a string. */
	sr_init(&r, b.data + 16, b.len - 16);
	sr_str(&r, s, 4);
	assert_false(sr_ok(&r));
	/* A bool must be 0 or 1. */
	sr_init(&r, b.data, 1);
	sr_bool(&r);
	assert_false(sr_ok(&r));
	sbuf_free(&b);
}

static int calls[4];

static void h_quiesce(void *o) { (void)o; calls[0]++; }
static void h_save(void *o, struct sbuf *b) { sbuf_u8(b, *(uint8_t *)o); }
static void h_load(void *o, struct sreader *r, uint32_t v) { (void)v; *(uint8_t *)o = sr_u8(r); }
static void h_post(void *o) { (void)o; calls[2]++; }
static void h_announce(void *o) { (void)o; calls[3]++; }

static void test_vmstate_registry(void **state)
{
	static const struct vmstate_ops full = { 1, h_quiesce, h_save, h_load,
						 h_post, h_announce };
	static const struct vmstate_ops bare = { .version = 2, .save = h_save,
						 .load = h_load };
	uint8_t a = 1, b = 2, c = 3;

	(void)state;
	assert_int_equal(vmstate_register(&full, &a, "net@%d", 0), 0);
	assert_int_equal(vmstate_register(&bare, &b, "serial"), 0);
	/* Names are unique: a second device of the same name is refused. */
	assert_int_equal(vmstate_register(&bare, &c, "net@0"), -1);
	assert_int_equal(vmstate_count(), 2);
	assert_string_equal(vmstate_get(0)->name, "net@0");
	assert_ptr_equal(vmstate_find("serial")->opaque, &b);
	assert_null(vmstate_find("disk"));
	/* Optional hooks are skipped where absent. */
	vmstate_quiesce_all();
	vmstate_post_load_all();
	vmstate_announce_all();
	assert_int_equal(calls[0], 1);
	assert_int_equal(calls[2], 1);
	assert_int_equal(calls[3], 1);
	vmstate_set_downtime_ns(42);
	assert_int_equal(vmstate_downtime_ns(), 42);
	vmstate_unregister(&a);
	assert_int_equal(vmstate_count(), 1);
	assert_string_equal(vmstate_get(0)->name, "serial");
	vmstate_unregister(&b);
	assert_int_equal(vmstate_count(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_corrupted_everywhere),
		cmocka_unit_test(test_payload_corruption_names_section),
		cmocka_unit_test(test_wrong_magic_and_version),
		cmocka_unit_test(test_unknown_mandatory_refused),
		cmocka_unit_test(test_lost_section_detected),
		cmocka_unit_test(test_oversized_payload_refused),
		cmocka_unit_test(test_write_error_reported),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_state_buf),
		cmocka_unit_test(test_vmstate_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
