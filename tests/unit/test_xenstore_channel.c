/* Domain channels: durable watches across xenond restarts (kill -9 and
 * orderly), what forgets them, re-arming, and their record format. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/xs_dwatch.h"
#include "daemon/xs_record.h"
#include "tests/unit/test_xenstore.h"

#define DOM 5

struct fx {
	char dir[64];
	struct xs_server *srv;
	struct tconn *dom0;
};

/* A server on the state directory with domain 5 set up the way the
 * toolstack does it: /local/domain/5 owned by 5, readable by dom0. */
static void start(struct fx *f, const char *dir)
{
	f->srv = t_server(NULL, dir);
	assert_non_null(f->srv);
	f->dom0 = t_conn(f->srv, 0);
	assert_int_equal(xs_server_introduce(f->srv, DOM), 0);
	assert_int_equal(t_mkdir(f->dom0, 0, "/local/domain/5"), 0);
	assert_int_equal(t_set_perms(f->dom0, 0, "/local/domain/5", "b5"), 0);
}

/* Stop without any orderly shutdown: what a kill -9 leaves is the
 * journal as written before the last replies went out. */
static void crash(struct fx *f)
{
	assert_int_equal(xs_server_flush(f->srv), 0);
	t_conn_free(f->dom0);
	xs_server_free(f->srv);
	f->srv = NULL;
	f->dom0 = NULL;
}

static void restart(struct fx *f)
{
	crash(f);
	start(f, f->dir);
}

static struct tconn *channel(struct fx *f, int expect_rearmed)
{
	struct tconn *t = t_conn(f->srv, DOM);

	assert_int_equal(xs_conn_make_channel(t->c), expect_rearmed);
	return t;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/xs-channel-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	start(f, f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	if (f->srv)
		crash(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void expect_event(struct tconn *t, const char *path, const char *tok)
{
	const struct t_event *e = t_event(t);

	assert_non_null(e);
	assert_string_equal(e->path, path);
	assert_string_equal(e->token, tok);
}

/* The guest's case: a watch on control/shutdown set before a kill -9 of
 * xenond still delivers the toolstack's request afterwards. */
static void test_watch_survives_kill9(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);

	assert_int_equal(t_watch(g, "control/shutdown", "shut"), 0);
	expect_event(g, "control/shutdown", "shut");
	assert_int_equal(t_watch(g, "/local/domain/5/data", "abs"), 0);
	expect_event(g, "/local/domain/5/data", "abs");
	t_conn_free(g);
	restart(f);

	g = channel(f, 2);
	/* fired once on re-arm, relative paths still relative */
	expect_event(g, "control/shutdown", "shut");
	expect_event(g, "/local/domain/5/data", "abs");
	assert_null(t_event(g));
	assert_int_equal(t_write(f->dom0, 0, "/local/domain/5/control/shutdown",
				 "poweroff"), 0);
	expect_event(g, "control/shutdown", "shut");
	assert_null(t_event(g));
	t_conn_free(g);
}

static void test_snapshot_keeps_watches(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);

	assert_int_equal(t_watch(g, "control/shutdown", "a"), 0);
	assert_int_equal(t_watch(g, "@releaseDomain", "b"), 0);
	assert_int_equal(t_req1(f->dom0, XS_CONTROL, 0, "compact", NULL), 0);
	/* a change after the snapshot lives in the new journal */
	assert_int_equal(t_unwatch(g, "@releaseDomain", "b"), 0);
	t_conn_free(g);
	restart(f);
	g = channel(f, 1);
	expect_event(g, "control/shutdown", "a");
	assert_null(t_event(g));
	t_conn_free(g);
}

static void test_unwatch_reset_release_forget(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);

	assert_int_equal(t_watch(g, "x", "1"), 0);
	assert_int_equal(t_watch(g, "y", "2"), 0);
	assert_int_equal(t_unwatch(g, "x", "1"), 0);
	t_conn_free(g);
	restart(f);
	g = channel(f, 1);
	expect_event(g, "y", "2");
	assert_int_equal(t_req(g, XS_RESET_WATCHES, 0, "", 0, NULL), 0);
	t_conn_free(g);
	restart(f);
	g = channel(f, 0);
	assert_int_equal(t_watch(g, "z", "3"), 0);
	t_conn_free(g);
	/* the toolstack destroys the domain */
	assert_int_equal(xs_server_release(f->srv, DOM), 0);
	restart(f);
	g = channel(f, 0);
	assert_null(t_event(g));
	t_conn_free(g);
}

/* Only the domain's channel is durable: dom0 tools and RESTRICTed
 * connections reconnect and set their watches again themselves. */
static void test_other_connections_not_durable(void **state)
{
	struct fx *f = *state;
	struct tconn *r = t_conn(f->srv, 0);
	struct tconn *plain = t_conn(f->srv, DOM);

	assert_int_equal(t_watch(f->dom0, "/vm", "dom0"), 0);
	assert_int_equal(t_restrict(r, DOM), 0);
	assert_int_equal(t_watch(r, "data", "restricted"), 0);
	assert_int_equal(t_watch(plain, "data", "plain"), 0);
	assert_int_equal(xs_conn_make_channel(f->dom0->c), -1);
	t_conn_free(r);
	t_conn_free(plain);
	restart(f);
	r = channel(f, 0);
	assert_null(t_event(r));
	t_conn_free(r);
}

/* The relay in xenon-vmm re-sends a WATCH that was in flight when xenond
 * died after recording it: it is acknowledged, not EEXIST, once. */
static void test_resent_watch_acknowledged(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);

	assert_int_equal(t_watch(g, "control/shutdown", "s"), 0);
	t_conn_free(g);
	restart(f);
	g = channel(f, 1);
	expect_event(g, "control/shutdown", "s");
	assert_int_equal(t_watch(g, "control/shutdown", "s"), 0);
	expect_event(g, "control/shutdown", "s");
	assert_int_equal(t_watch(g, "control/shutdown", "s"), EEXIST);
	t_conn_free(g);
}

/* Transactions belong to the process: after a restart the guest's commit
 * finds no such transaction and it starts again. */
static void test_transactions_lost(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);
	uint32_t tx = t_tx_start(g, NULL);
	char v[16];

	assert_true(tx != 0);
	assert_int_equal(t_write(g, tx, "data/t", "1"), 0);
	t_conn_free(g);
	restart(f);
	g = channel(f, 0);
	assert_int_equal(t_tx_end(g, tx, true), ENOENT);
	assert_int_equal(t_read(g, 0, "data/t", v, sizeof(v)), ENOENT);
	t_conn_free(g);
}

/* Without a state directory the set still carries a channel over a
 * reconnection of xenon-vmm to the same daemon. */
static void test_reconnect_same_daemon(void **state)
{
	struct xs_server *srv = t_server(NULL, NULL);
	struct tconn *g, *dom0 = t_conn(srv, 0);

	(void)state;
	assert_int_equal(xs_server_introduce(srv, 7), 0);
	g = t_conn(srv, 7);
	assert_int_equal(xs_conn_make_channel(g->c), 0);
	assert_int_equal(t_watch(g, "control/shutdown", "s"), 0);
	t_conn_free(g);
	g = t_conn(srv, 7);
	assert_int_equal(xs_conn_make_channel(g->c), 1);
	expect_event(g, "control/shutdown", "s");
	/* a watch quota still applies to re-armed watches */
	t_conn_free(g);
	t_conn_free(dom0);
	xs_server_free(srv);
}

static void test_dwatch_set(void **state)
{
	struct xs_dwatches s;
	int seen = 0;

	(void)state;
	xs_dwatches_init(&s);
	assert_int_equal(xs_dwatch_add(&s, 1, "/a", "t", 0), 0);
	assert_int_equal(xs_dwatch_add(&s, 2, "/a", "t", 0), 0);
	assert_int_equal(xs_dwatch_add(&s, 1, "/a", "t", 0), EEXIST);
	assert_int_equal(xs_dwatch_add(&s, 1, "/b", "t", 0), 0);
	assert_int_equal(xs_dwatch_del(&s, 1, "/a", "x"), ENOENT);
	assert_int_equal(xs_dwatch_del(&s, 1, "/b", "t"), 0);
	/* the tail pointer follows a removal at the end */
	assert_int_equal(xs_dwatch_add(&s, 1, "/c", "t", 0), 0);
	assert_int_equal(s.count, 3);
	assert_int_equal(xs_dwatch_del_domain(&s, 1), 2);
	assert_int_equal(xs_dwatch_add(&s, 3, "/d", "t", 0), 0);
	for (const struct xs_dwatch *w = s.first; w; w = w->next)
		seen = seen * 10 + (int)w->domid;
	assert_int_equal(seen, 23);
	xs_dwatches_clear(&s);
	assert_int_equal(s.count, 0);
	assert_null(s.first);
}

struct wlog {
	char text[256];
};

static int log_watch_op(const struct xs_rec_op *op, void *opaque)
{
	struct wlog *l = opaque;
	size_t n = strlen(l->text);

	if (op->op == 'R')
		snprintf(l->text + n, sizeof(l->text) - n, "R%u;", op->domid);
	else
		snprintf(l->text + n, sizeof(l->text) - n, "%c%u:%s:%s:%u;",
			 op->op, op->domid, op->path, op->token,
			 op->rel_prefix);
	return 0;
}

static void test_record_watch_ops(void **state)
{
	struct xs_buf payload = { 0 }, file = { 0 };
	struct xs_rec_result res;
	struct wlog l = { "" };
	size_t end_w, end_u;

	(void)state;

	assert_int_equal(xs_rec_watch(&payload, 'W', 5, "/local/domain/5/c",
				      "tok", 16), 0);
	end_w = xs_buf_len(&payload);
	assert_int_equal(xs_rec_watch(&payload, 'U', 5, "@releaseDomain",
				      "", 0), 0);
	end_u = xs_buf_len(&payload);
	assert_int_equal(xs_rec_watch(&payload, 'R', 9, NULL, NULL, 0), 0);
	xs_rec_frame(&file, xs_buf_peek(&payload), xs_buf_len(&payload));
	xs_rec_replay(xs_buf_peek(&file), xs_buf_len(&file), log_watch_op, &l,
		      &res);
	assert_null(res.bad);
	assert_string_equal(l.text, "W5:/local/domain/5/c:tok:16;"
				    "U5:@releaseDomain::0;R9;");
	/* every cut inside an operation is refused */
	for (size_t cut = 1; cut < xs_buf_len(&payload); cut++) {
		struct xs_buf f2 = { 0 };

		l.text[0] = '\0';
		xs_rec_frame(&f2, xs_buf_peek(&payload), cut);
		xs_rec_replay(xs_buf_peek(&f2), xs_buf_len(&f2), log_watch_op,
			      &l, &res);
		if (cut != end_w && cut != end_u)
			assert_non_null(res.bad);
		xs_buf_free(&f2);
	}
	/* a relative prefix as long as the path is malformed */
	xs_buf_reset(&payload);
	xs_buf_reset(&file);
	xs_rec_watch(&payload, 'W', 5, "/x", "t", 2);
	xs_rec_frame(&file, xs_buf_peek(&payload), xs_buf_len(&payload));
	xs_rec_replay(xs_buf_peek(&file), xs_buf_len(&file), log_watch_op, &l,
		      &res);
	assert_string_equal(res.bad, "malformed entry");
	xs_buf_free(&payload);
	xs_buf_free(&file);
}

/* A commit whose reply xenond did not send before it died: the relay sends
 * the TRANSACTION_END again and it is acknowledged, not ENOENT, so the
 * guest does not start again a transaction that took effect (it would
 * find control/shutdown already cleared and lose the request).  Also
 * after a snapshot; an id never committed still gets ENOENT. */
static void test_resent_commit_acknowledged(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);
	uint32_t tx = t_tx_start(g, NULL), open_tx, next;
	char v[16];

	assert_int_equal(t_write(g, tx, "data/t", "1"), 0);
	assert_int_equal(t_tx_end(g, tx, true), 0);
	open_tx = t_tx_start(g, NULL);
	assert_true(open_tx > tx);
	t_conn_free(g);
	restart(f);
	g = channel(f, 0);
	assert_int_equal(t_tx_end(g, tx, true), 0);
	assert_int_equal(t_tx_end(g, tx, true), 0);	/* a second restart */
	assert_int_equal(t_tx_end(g, open_tx, true), ENOENT);
	assert_int_equal(t_tx_end(g, tx, false), ENOENT);
	assert_int_equal(t_read(g, 0, "data/t", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	/* new ids never repeat a committed one */
	next = t_tx_start(g, NULL);
	assert_true(next > tx);
	assert_int_equal(t_tx_end(g, next, false), 0);
	assert_int_equal(t_req1(f->dom0, XS_CONTROL, 0, "compact", NULL), 0);
	t_conn_free(g);
	restart(f);
	g = channel(f, 0);
	assert_int_equal(t_tx_end(g, tx, true), 0);
	assert_true(t_tx_start(g, NULL) > tx);
	t_conn_free(g);
}

/* Only channels have them, and RESET_WATCHES (a new boot of the guest)
 * and the domain's release forget them. */
static void test_commit_markers_forgotten(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);
	uint32_t tx = t_tx_start(g, NULL), tx0 = t_tx_start(f->dom0, NULL);

	assert_int_equal(t_tx_end(g, tx, true), 0);
	assert_int_equal(t_tx_end(f->dom0, tx0, true), 0);
	assert_int_equal(t_req(g, XS_RESET_WATCHES, 0, "", 0, NULL), 0);
	t_conn_free(g);
	restart(f);
	g = channel(f, 0);
	assert_int_equal(t_tx_end(g, tx, true), ENOENT);
	assert_int_equal(t_tx_end(f->dom0, tx0, true), ENOENT);
	tx = t_tx_start(g, NULL);
	assert_int_equal(t_tx_end(g, tx, true), 0);
	t_conn_free(g);
	assert_int_equal(xs_server_release(f->srv, DOM), 0);
	restart(f);
	g = channel(f, 0);
	assert_int_equal(t_tx_end(g, tx, true), ENOENT);
	t_conn_free(g);
}

/* A reconnection of xenon-vmm to the same daemon: ids go on, and a
 * commit made on the old connection is acknowledged on the new one. */
static void test_commit_across_reconnection(void **state)
{
	struct fx *f = *state;
	struct tconn *g = channel(f, 0);
	uint32_t tx = t_tx_start(g, NULL);

	assert_int_equal(t_tx_end(g, tx, true), 0);
	t_conn_free(g);
	g = channel(f, 0);
	assert_int_equal(t_tx_end(g, tx, true), 0);
	assert_true(t_tx_start(g, NULL) > tx);
	t_conn_free(g);
}

static int log_commit_op(const struct xs_rec_op *op, void *opaque)
{
	struct wlog *l = opaque;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%c%u:%u;", op->op,
		 op->domid, op->txid);
	return 0;
}

static void test_record_commit_op(void **state)
{
	struct xs_buf payload = { 0 }, file = { 0 };
	struct xs_rec_result res;
	struct wlog l = { "" };

	(void)state;
	assert_int_equal(xs_rec_commit(&payload, 5, 0x80000001u), 0);
	assert_int_equal(xs_rec_commit(&payload, 7, 3), 0);
	xs_rec_frame(&file, xs_buf_peek(&payload), xs_buf_len(&payload));
	xs_rec_replay(xs_buf_peek(&file), xs_buf_len(&file), log_commit_op,
		      &l, &res);
	assert_null(res.bad);
	assert_string_equal(l.text, "C5:2147483649;C7:3;");
	for (size_t cut = 1; cut < 9; cut++) {
		struct xs_buf f2 = { 0 };

		xs_rec_frame(&f2, xs_buf_peek(&payload), cut);
		xs_rec_replay(xs_buf_peek(&f2), xs_buf_len(&f2), log_commit_op,
			      &l, &res);
		assert_non_null(res.bad);
		xs_buf_free(&f2);
	}
	xs_buf_free(&payload);
	xs_buf_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watch_survives_kill9,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_keeps_watches,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unwatch_reset_release_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_other_connections_not_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resent_watch_acknowledged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions_lost, setup,
						teardown),
		cmocka_unit_test(test_reconnect_same_daemon),
		cmocka_unit_test(test_dwatch_set),
		cmocka_unit_test(test_record_watch_ops),
		cmocka_unit_test_setup_teardown(
			test_resent_commit_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_commit_markers_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_commit_across_reconnection, setup, teardown),
		cmocka_unit_test(test_record_commit_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
