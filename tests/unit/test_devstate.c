/* Saved device state that is pure logic: the xenstore relay's (round
 * trip, and bad streams refused without changing anything) and the RARP
 * announcement frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/net_announce.h"
#include "devices/xs_relay.h"

static uint8_t sent[64 * 1024];
static size_t sent_len;

static void to_sent(void *opaque, const void *buf, size_t len)
{
	(void)opaque;
	assert_true(sent_len + len <= sizeof(sent));
	memcpy(sent + sent_len, buf, len);
	sent_len += len;
}

static size_t msg(uint8_t *buf, uint32_t type, uint32_t req, const char *pl)
{
	return xs_msg_build(buf, XS_RELAY_MSG_MAX, type, req, 0, pl,
			    (uint32_t)strlen(pl) + 1);
}

static struct xs_relay a, b;

/* Two requests in flight, a third half written, a reply half delivered. */
static void busy_relay(struct xs_relay *r)
{
	uint8_t m[XS_RELAY_MSG_MAX];
	const void *data;
	const char *err;
	size_t n;

	xs_relay_init(r, to_sent, NULL);
	for (uint32_t i = 1; i <= 3; i++) {
		n = msg(m, XS_READ, i, "data/x");
		assert_int_equal(xs_relay_from_guest(r, m, i == 3 ? 5 : n, &err),
				 i == 3 ? 5 : n);
		assert_null(err);
	}
	n = msg(m, XS_WATCH_EVENT, 0, "control/shutdown");
	assert_int_equal(xs_relay_from_store(r, m, XS_HDR_SIZE, &err), 0);
	assert_int_equal(xs_relay_from_store(r, m + XS_HDR_SIZE,
					     n - XS_HDR_SIZE, &err), 0);
	assert_int_equal(xs_relay_to_guest(r, &data), n);
	xs_relay_delivered(r, 4);
}

static void test_relay_round_trip(void **state)
{
	struct sbuf out;
	struct sreader in;
	const void *da, *db;
	size_t before;

	(void)state;
	busy_relay(&a);
	sbuf_init(&out);
	xs_relay_save(&a, &out);
	assert_false(out.failed);
	xs_relay_init(&b, to_sent, NULL);
	sr_init(&in, out.data, out.len);
	xs_relay_load(&b, &in);
	assert_true(sr_ok(&in) && sr_left(&in) == 0);
	assert_int_equal(b.npending, 2);
	assert_int_equal(b.cur_len, 5);
	assert_int_equal(xs_relay_to_guest(&b, &db), xs_relay_to_guest(&a, &da));
	assert_memory_equal(da, db, xs_relay_to_guest(&a, &da));
	/* the new connection is asked both pending requests again */
	before = sent_len;
	xs_relay_link_up(&b);
	assert_int_equal(sent_len - before, a.pending_len);
	sbuf_free(&out);
}

static void test_relay_bad_streams(void **state)
{
	struct sbuf out;
	struct sreader in;

	(void)state;
	busy_relay(&a);
	sbuf_init(&out);
	xs_relay_save(&a, &out);
	/* offsets: cur_len(4) cur(5) npending(4) */
	for (int c = 0; c < 3; c++) {
		uint8_t *p = malloc(out.len);

		memcpy(p, out.data, out.len);
		if (c == 0)
			p[9] = 3;               /* npending 3: bytes left over */
		else if (c == 1)
			p[0] = 0xff;            /* cur_len past the buffer */
		xs_relay_init(&b, to_sent, NULL);
		sr_init(&in, p, c == 2 ? out.len - 1 : out.len);
		xs_relay_load(&b, &in);
		assert_false(sr_ok(&in));
		assert_int_equal(b.npending, 0);   /* nothing applied */
		assert_int_equal(b.cur_len, 0);
		free(p);
	}
	sbuf_free(&out);
}

static void test_rarp_frame(void **state)
{
	const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 1, 2, 3 };
	uint8_t f[NET_RARP_FRAME_LEN];

	(void)state;
	net_rarp_frame(f, mac);
	assert_memory_equal(f, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(f[12] << 8 | f[13], NET_ETH_P_RARP);
	assert_int_equal(f[20] << 8 | f[21], 3);     /* reverse request */
	assert_memory_equal(f + 22, mac, 6);
	assert_memory_equal(f + 32, mac, 6);
	for (size_t i = 42; i < sizeof(f); i++)
		assert_int_equal(f[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_round_trip),
		cmocka_unit_test(test_relay_bad_streams),
		cmocka_unit_test(test_rarp_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
