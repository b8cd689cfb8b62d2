/* The xenstore channel relay: framing both ways, re-sending what was in
 * flight at a reconnection, backpressure, resets and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/xs_relay.h"

struct sink {
	uint8_t data[256 * 1024];
	size_t len;
	unsigned calls;
};

static void to_sink(void *opaque, const void *buf, size_t len)
{
	struct sink *s = opaque;

	assert_true(s->len + len <= sizeof(s->data));
	memcpy(s->data + s->len, buf, len);
	s->len += len;
	s->calls++;
}

static size_t msg(uint8_t *buf, uint32_t type, uint32_t req, const char *pl)
{
	return xs_msg_build(buf, XS_RELAY_MSG_MAX, type, req, 0, pl,
			    (uint32_t)strlen(pl) + 1);
}

struct fx {
	struct xs_relay r;
	struct sink s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	xs_relay_init(&f->r, to_sink, &f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void guest_sends(struct fx *f, const uint8_t *buf, size_t len)
{
	const char *err;

	assert_int_equal(xs_relay_from_guest(&f->r, buf, len, &err), len);
	assert_null(err);
}

/* Give the store's bytes; returns what the guest would then read. */
static size_t store_sends(struct fx *f, const uint8_t *buf, size_t len,
			  uint8_t *out)
{
	size_t got = 0, off = 0;
	const char *err;

	while (off < len) {
		size_t want = xs_relay_store_want(&f->r);
		const void *data;
		size_t n;

		if (want > len - off)
			want = len - off;
		assert_int_equal(xs_relay_from_store(&f->r, buf + off, want,
						     &err), 0);
		off += want;
		while ((n = xs_relay_to_guest(&f->r, &data)) != 0) {
			/* the guest posts 7-byte buffers: delivery in parts */
			if (n > 7)
				n = 7;
			memcpy(out + got, data, n);
			got += n;
			xs_relay_delivered(&f->r, n);
		}
	}
	return got;
}

static void test_requests_whole_and_in_order(void **state)
{
	struct fx *f = *state;
	uint8_t a[XS_RELAY_MSG_MAX], b[XS_RELAY_MSG_MAX], out[2 * XS_RELAY_MSG_MAX];
	size_t na = msg(a, XS_READ, 1, "name"), nb = msg(b, XS_WRITE, 2, "x");

	/* a byte at a time: nothing leaves until the request is whole */
	for (size_t i = 0; i < na - 1; i++)
		guest_sends(f, a + i, 1);
	assert_int_equal(f->s.calls, 0);
	guest_sends(f, a + na - 1, 1);
	guest_sends(f, b, nb);
	assert_int_equal(f->s.calls, 2);
	assert_int_equal(f->s.len, na + nb);
	assert_memory_equal(f->s.data, a, na);
	assert_int_equal(f->r.npending, 2);
	/* a watch event is not a reply; replies answer the oldest first */
	assert_int_equal(store_sends(f, b, msg(b, XS_WATCH_EVENT, 0, "p"), out),
			 msg(b, XS_WATCH_EVENT, 0, "p"));
	assert_int_equal(f->r.npending, 2);
	na = msg(a, XS_READ, 1, "vm1");
	assert_int_equal(store_sends(f, a, na, out), na);
	assert_memory_equal(out, a, na);
	assert_int_equal(f->r.npending, 1);
	assert_int_equal(f->r.pending_len, nb);
}

static void test_reconnect_resends_unanswered(void **state)
{
	struct fx *f = *state;
	uint8_t a[XS_RELAY_MSG_MAX], b[XS_RELAY_MSG_MAX], c[XS_RELAY_MSG_MAX];
	uint8_t out[XS_RELAY_MSG_MAX];
	size_t na = msg(a, XS_WRITE, 1, "a"), nb = msg(b, XS_WATCH, 2, "b");
	size_t nc;
	const void *data;

	guest_sends(f, a, na);
	guest_sends(f, b, nb);
	/* a's reply arrives; b's is torn by xenond's death */
	nc = msg(c, XS_WRITE, 1, "OK");
	assert_int_equal(store_sends(f, c, nc, out), nc);
	nc = msg(c, XS_WATCH, 2, "OK");
	store_sends(f, c, nc - 3, out);
	assert_int_equal(xs_relay_to_guest(&f->r, &data), 0);
	xs_relay_link_down(&f->r);
	f->s.len = 0;
	xs_relay_link_up(&f->r);
	/* only b goes again, whole */
	assert_int_equal(f->s.len, nb);
	assert_memory_equal(f->s.data, b, nb);
	assert_int_equal(f->r.resent, 1);
	/* and the guest gets exactly one whole reply to it */
	assert_int_equal(store_sends(f, c, nc, out), nc);
	assert_memory_equal(out, c, nc);
	assert_int_equal(f->r.npending, 0);
}

/* A complete message half given to the guest when the link drops still
 * goes to the guest whole. */
static void test_complete_message_survives_link_down(void **state)
{
	struct fx *f = *state;
	uint8_t a[XS_RELAY_MSG_MAX], out[XS_RELAY_MSG_MAX];
	size_t n = msg(a, XS_WATCH_EVENT, 0, "control/shutdown\0tok");
	const char *err;
	const void *data;
	size_t got = 0, k;

	assert_int_equal(xs_relay_from_store(&f->r, a, XS_HDR_SIZE, &err), 0);
	assert_int_equal(xs_relay_from_store(&f->r, a + XS_HDR_SIZE,
					     n - XS_HDR_SIZE, &err), 0);
	k = xs_relay_to_guest(&f->r, &data);
	memcpy(out, data, 5);
	xs_relay_delivered(&f->r, 5);
	got = 5;
	xs_relay_link_down(&f->r);
	k = xs_relay_to_guest(&f->r, &data);
	assert_int_equal(k, n - 5);
	memcpy(out + got, data, k);
	xs_relay_delivered(&f->r, k);
	assert_memory_equal(out, a, n);
	assert_int_equal(xs_relay_store_want(&f->r), XS_HDR_SIZE);
}

static void test_backpressure(void **state)
{
	struct fx *f = *state;
	static uint8_t big[XS_RELAY_MSG_MAX];
	char payload[XENSTORE_PAYLOAD_MAX];
	uint8_t reply[XS_RELAY_MSG_MAX], out[XS_RELAY_MSG_MAX];
	size_t n, taken = 0, nr;
	const char *err;
	unsigned sent = 0;

	memset(payload, 'v', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	n = msg(big, XS_WRITE, 9, payload);
	while (xs_relay_guest_ready(&f->r)) {
		taken = xs_relay_from_guest(&f->r, big, n, &err);
		assert_int_equal(taken, n);
		sent++;
	}
	assert_true(f->r.pending_len >= XS_RELAY_PENDING_MAX);
	assert_true(f->r.pending_len < XS_RELAY_PENDING_MAX + n);
	assert_int_equal(xs_relay_from_guest(&f->r, big, n, &err), 0);
	assert_null(err);
	/* a reply makes room again */
	nr = msg(reply, XS_WRITE, 9, "OK");
	store_sends(f, reply, nr, out);
	assert_true(xs_relay_guest_ready(&f->r));
	assert_int_equal(f->r.npending, sent - 1);
	/* never more pending than the socket's buffer could take again */
	assert_true(f->r.pending_len + n <= 64 * 1024);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct xsd_sockmsg h = { XS_WRITE, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
	const char *err;

	assert_int_equal(xs_relay_from_guest(&f->r, &h, sizeof(h), &err), 0);
	assert_non_null(err);
	assert_int_equal(f->s.calls, 0);
	assert_int_equal(xs_relay_from_store(&f->r, &h, sizeof(h), &err), -1);
	assert_non_null(err);
	/* more than the relay asked for */
	{
		uint8_t junk[XS_HDR_SIZE + 1] = { 0 };

		assert_int_equal(xs_relay_from_store(&f->r, junk, sizeof(junk),
						     &err), -1);
	}
}

/* A driver that resets the device never sees replies meant for the one
 * before it; later replies flow again. */
static void test_guest_reset(void **state)
{
	struct fx *f = *state;
	uint8_t a[XS_RELAY_MSG_MAX], out[XS_RELAY_MSG_MAX];
	size_t n = msg(a, XS_READ, 1, "x");
	const void *data;

	guest_sends(f, a, n);
	guest_sends(f, a, 5);	/* half a request too */
	xs_relay_guest_reset(&f->r);
	assert_int_equal(f->r.npending, 0);
	guest_sends(f, a, n);
	assert_int_equal(f->r.npending, 1);
	n = msg(a, XS_READ, 1, "old");
	assert_int_equal(store_sends(f, a, n, out), 0);
	assert_int_equal(xs_relay_to_guest(&f->r, &data), 0);
	n = msg(a, XS_READ, 1, "new");
	assert_int_equal(store_sends(f, a, n, out), n);
	assert_int_equal(f->r.npending, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests_whole_and_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_resends_unanswered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_complete_message_survives_link_down, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_reset, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
