/* The migration channel (mutual authentication, sealed frames) over a
 * socketpair, and the page-record receiver against hostile payloads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include "lib/le.h"

#include "vmm/guest_memory.h"
#include "vmm/mig_channel.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

/* migrate_ram.c can place pages through the pager, which times faults. */
uint64_t monotonic_ns(void)
{
	return 0;
}

struct peer {
	int fd;
	const char *key;
	bool source;
	struct mig_channel *ch;
	char err[256];
};

static void *open_peer(void *arg)
{
	struct peer *p = arg;

	p->ch = mig_channel_open(p->fd, p->key, strlen(p->key), p->source, 2000,
				 p->err, sizeof(p->err));
	return NULL;
}

/* Both ends at once (the handshake needs both). */
static void open_pair(struct peer *src, struct peer *dst, const char *skey,
		      const char *dkey)
{
	int sv[2];
	pthread_t t;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*src = (struct peer){ .fd = sv[0], .key = skey, .source = true };
	*dst = (struct peer){ .fd = sv[1], .key = dkey, .source = false };
	pthread_create(&t, NULL, open_peer, dst);
	open_peer(src);
	pthread_join(t, NULL);
}

static void close_pair(struct peer *src, struct peer *dst)
{
	mig_channel_free(src->ch);
	mig_channel_free(dst->ch);
	close(src->fd);
	close(dst->fd);
}

static void test_round_trip(void **state)
{
	struct peer s, d;
	struct ss_io sio, dio;
	uint8_t buf[3000], got[3000];

	(void)state;
	open_pair(&s, &d, "secret", "secret");
	assert_non_null(s.ch);
	assert_non_null(d.ch);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	sio = mig_channel_io(s.ch);
	dio = mig_channel_io(d.ch);
	assert_int_equal(sio.write(sio.ctx, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(mig_channel_flush(s.ch), 0);
	size_t n = 0;
	while (n < sizeof(got)) {
		ssize_t r = dio.read(dio.ctx, got + n, sizeof(got) - n);

		assert_true(r > 0);
		n += (size_t)r;
	}
	assert_memory_equal(buf, got, sizeof(buf));
	/* And back the other way, with its own keys. */
	assert_int_equal(dio.write(dio.ctx, "ready", 5), 5);
	assert_int_equal(mig_channel_flush(d.ch), 0);
	assert_int_equal(sio.read(sio.ctx, got, 5), 5);
	assert_memory_equal(got, "ready", 5);
	close_pair(&s, &d);
}

static void test_wrong_key(void **state)
{
	struct peer s, d;

	(void)state;
	open_pair(&s, &d, "secret", "other");
	assert_null(s.ch);
	assert_null(d.ch);
	assert_non_null(strstr(d.err, "the source does not have the right key"));
	assert_non_null(strstr(s.err, "refused our key"));
	close(s.fd);
	close(d.fd);
}

static void test_tampered_frame(void **state)
{
	struct peer s, d;
	struct ss_io sio, dio;
	uint8_t wire[256], got[64];
	ssize_t n;

	(void)state;
	open_pair(&s, &d, "secret", "secret");
	/* Seal a frame, take it off the wire, flip a bit, deliver it. */
	sio = mig_channel_io(s.ch);
	assert_int_equal(sio.write(sio.ctx, "memory of the guest", 19), 19);
	assert_int_equal(mig_channel_flush(s.ch), 0);
	n = read(d.fd, wire, sizeof(wire));
	assert_int_equal(n, 4 + 19 + 16);
	wire[10] ^= 1;
	assert_int_equal(write(s.fd, wire, (size_t)n), n);
	dio = mig_channel_io(d.ch);
	assert_int_equal(dio.read(dio.ctx, got, sizeof(got)), -1);
	assert_non_null(strstr(mig_channel_error(d.ch), "failed authentication"));
	close_pair(&s, &d);
}

static void test_replayed_frame(void **state)
{
	struct peer s, d;
	struct ss_io sio, dio;
	uint8_t wire[256], got[64];
	ssize_t n;

	(void)state;
	open_pair(&s, &d, "secret", "secret");
	sio = mig_channel_io(s.ch);
	dio = mig_channel_io(d.ch);
	assert_int_equal(sio.write(sio.ctx, "once", 4), 4);
	assert_int_equal(mig_channel_flush(s.ch), 0);
	n = read(d.fd, wire, sizeof(wire));
	/* Deliver it twice: the second copy has the wrong counter. */
	assert_int_equal(write(s.fd, wire, (size_t)n), n);
	assert_int_equal(write(s.fd, wire, (size_t)n), n);
	assert_int_equal(dio.read(dio.ctx, got, 4), 4);
	assert_int_equal(dio.read(dio.ctx, got, 4), -1);
	close_pair(&s, &d);
}

/* ---- page records ---- */

static void test_ram_receive(void **state)
{
	struct guest_memory mem;
	uint8_t seen[256 / 8] = { 0 };
	uint8_t *pl = calloc(1, 4 + 8 * 3 + 2 * 4096);
	char err[200];

	(void)state;
	assert_int_equal(guest_memory_init(&mem, 1 << 20), 0);   /* 256 pages */
	/* page 5 data, page 6 zero, page 7 data */
	pl[0] = 3;
	le_put64(pl + 4, 5 << 12);
	le_put64(pl + 12, 6 << 12 | RAM_PAGE_ZERO);
	le_put64(pl + 20, 7 << 12);
	memset(pl + 28, 0xaa, 4096);
	memset(pl + 28 + 4096, 0xbb, 4096);
	mem.host[6 * 4096] = 1;        /* not seen: a zero record leaves it */
	assert_int_equal(ram_receive(&mem, seen, NULL, pl, 28 + 2 * 4096, err,
				     sizeof(err)), 0);
	assert_int_equal(mem.host[5 * 4096 + 9], 0xaa);
	assert_int_equal(mem.host[7 * 4096 + 4095], 0xbb);
	assert_int_equal(mem.host[6 * 4096], 1);
	/* Page 5 seen: a zero record clears it now. */
	le_put64(pl + 4, 5 << 12 | RAM_PAGE_ZERO);
	pl[0] = 1;
	assert_int_equal(ram_receive(&mem, seen, NULL, pl, 12, err, sizeof(err)), 0);
	assert_int_equal(mem.host[5 * 4096 + 9], 0);
	/* Hostile: page beyond RAM, unknown flag, lengths that do not add up. */
	le_put64(pl + 4, 256ULL << 12);
	assert_int_equal(ram_receive(&mem, seen, NULL, pl, 4 + 8 + 4096, err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, "page 256"));
	le_put64(pl + 4, 5 << 12 | 0x4);
	assert_int_equal(ram_receive(&mem, seen, NULL, pl, 4 + 8 + 4096, err,
				     sizeof(err)), -1);
	le_put64(pl + 4, 5 << 12);
	assert_int_equal(ram_receive(&mem, seen, NULL, pl, 4 + 8 + 100, err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, "do not add up"));
	pl[0] = 0xff;
	pl[1] = 0xff;
	pl[2] = 0xff;
	pl[3] = 0xff;
	assert_int_equal(ram_receive(&mem, seen, NULL, pl, 28, err, sizeof(err)), -1);
	assert_int_equal(ram_receive(&mem, seen, NULL, pl, 2, err, sizeof(err)), -1);
	guest_memory_destroy(&mem);
	free(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tampered_frame),
		cmocka_unit_test(test_replayed_frame),
		cmocka_unit_test(test_ram_receive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
