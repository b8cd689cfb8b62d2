/* Watches: matching, the initial event, relative paths, removal events,
 * special watches, Xen's permission rule, limits and slow watchers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/xs_watch.h"
#include "tests/unit/test_xenstore.h"

struct fx {
	struct xs_server *srv;
	struct tconn *w, *d0, *d5;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->srv = t_server(NULL, NULL);
	f->w = t_conn(f->srv, 0);
	f->d0 = t_conn(f->srv, 0);
	f->d5 = t_conn(f->srv, 5);
	*state = f;
	return f->srv ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	t_conn_free(f->w);
	t_conn_free(f->d0);
	t_conn_free(f->d5);
	xs_server_free(f->srv);
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

static void expect_none(struct tconn *t)
{
	const struct t_event *e = t_event(t);

	if (e)
		fail_msg("unexpected event %s %s", e->path, e->token);
}

static void test_initial_and_matching(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_watch(f->w, "/a/b", "tok"), 0);
	expect_event(f->w, "/a/b", "tok");	/* fired once on registration */
	expect_none(f->w);
	assert_int_equal(t_write(f->d0, 0, "/a/b", "1"), 0);
	expect_event(f->w, "/a/b", "tok");
	assert_int_equal(t_write(f->d0, 0, "/a/b/c/d", "1"), 0);
	expect_event(f->w, "/a/b/c/d", "tok");
	/* above, beside, and prefix-but-not-child do not match */
	assert_int_equal(t_write(f->d0, 0, "/a", "1"), 0);
	assert_int_equal(t_write(f->d0, 0, "/a/bc", "1"), 0);
	assert_int_equal(t_write(f->d0, 0, "/x", "1"), 0);
	expect_none(f->w);
	/* mkdir of an existing node changes nothing: no event */
	assert_int_equal(t_mkdir(f->d0, 0, "/a/b"), 0);
	expect_none(f->w);
	assert_int_equal(t_set_perms(f->d0, 0, "/a/b", "n0 r1"), 0);
	expect_event(f->w, "/a/b", "tok");
}

static void test_root_watch_and_two_tokens(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_watch(f->w, "/", "all"), 0);
	assert_int_equal(t_watch(f->w, "/q", "q"), 0);
	t_drop_events(f->w);
	assert_int_equal(t_write(f->d0, 0, "/q/r", "1"), 0);
	assert_int_equal(t_pending_events(f->w), 2);
	/* same path and token twice: EEXIST; other token is fine */
	assert_int_equal(t_watch(f->w, "/q", "q"), EEXIST);
	assert_int_equal(t_unwatch(f->w, "/q", "q"), 0);
	assert_int_equal(t_unwatch(f->w, "/q", "q"), ENOENT);
	t_drop_events(f->w);
	assert_int_equal(t_write(f->d0, 0, "/q/r", "2"), 0);
	expect_event(f->w, "/q/r", "all");
	expect_none(f->w);
	assert_int_equal(t_watch(f->w, "bad//", "t"), EINVAL);
	assert_int_equal(t_req(f->w, XS_WATCH, 0, "/x\0", 3, NULL), EINVAL);
}

static void test_rm_events(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_write(f->d0, 0, "/r/a/b", "1"), 0);
	assert_int_equal(t_watch(f->w, "/r", "parent"), 0);
	assert_int_equal(t_watch(f->w, "/r/a/b", "leaf"), 0);
	assert_int_equal(t_watch(f->w, "/r/a/zz", "absent"), 0);
	t_drop_events(f->w);
	assert_int_equal(t_rm(f->d0, 0, "/r/a"), 0);
	/* the leaf's own watch hears its removal with its own path; the
	 * parent watch hears the removed subtree's top */
	expect_event(f->w, "/r/a/b", "leaf");
	expect_event(f->w, "/r/a", "parent");
	expect_none(f->w);
}

static void test_relative_watch(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_mkdir(f->d0, 0, "/local/domain/5"), 0);
	assert_int_equal(t_set_perms(f->d0, 0, "/local/domain/5", "n5"), 0);
	assert_int_equal(t_watch(f->d5, "device", "rel"), 0);
	expect_event(f->d5, "device", "rel");
	assert_int_equal(t_write(f->d0, 0, "/local/domain/5/device/vbd", "1"),
			 0);
	expect_event(f->d5, "device/vbd", "rel");
	/* the same watch given absolutely hears absolute paths */
	assert_int_equal(t_watch(f->d5, "/local/domain/5/device", "abs"), 0);
	expect_event(f->d5, "/local/domain/5/device", "abs");
	assert_int_equal(t_unwatch(f->d5, "device", "rel"), 0);
}

static void test_permission_rule(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_watch(f->d5, "/", "root"), 0);
	assert_int_equal(t_watch(f->d5, "/sec", "sec"), 0);
	t_drop_events(f->d5);
	/* n0 everywhere: dom5 hears nothing */
	assert_int_equal(t_write(f->d0, 0, "/sec/x", "1"), 0);
	expect_none(f->d5);
	/* readable node: heard */
	assert_int_equal(t_set_perms(f->d0, 0, "/sec/x", "n0 r5"), 0);
	t_drop_events(f->d5);
	assert_int_equal(t_write(f->d0, 0, "/sec/x", "2"), 0);
	assert_int_equal(t_pending_events(f->d5), 2);
	t_drop_events(f->d5);
	/* unreadable child of a readable parent: heard (deletions below
	 * what one can read must be seen) */
	assert_int_equal(t_set_perms(f->d0, 0, "/sec", "n0 r5"), 0);
	assert_int_equal(t_write(f->d0, 0, "/sec/hidden", "1"), 0);
	assert_int_equal(t_set_perms(f->d0, 0, "/sec/hidden", "n0"), 0);
	t_drop_events(f->d5);
	assert_int_equal(t_write(f->d0, 0, "/sec/hidden", "2"), 0);
	assert_int_equal(t_pending_events(f->d5), 2);
	t_drop_events(f->d5);
	/* losing read access is itself announced (old perms count) */
	assert_int_equal(t_set_perms(f->d0, 0, "/sec/x", "n0"), 0);
	assert_int_equal(t_pending_events(f->d5), 2);
	t_drop_events(f->d5);
	/* below an unreadable parent and unreadable: not heard */
	assert_int_equal(t_write(f->d0, 0, "/sec/hidden/deeper", "1"), 0);
	expect_none(f->d5);
}

static void test_special_watches(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_watch(f->w, "@introduceDomain", "in"), 0);
	assert_int_equal(t_watch(f->w, "@releaseDomain", "out"), 0);
	assert_int_equal(t_watch(f->w, "/", "root"), 0);
	assert_int_equal(t_watch(f->d5, "@releaseDomain", "d5out"), 0);
	t_drop_events(f->w);
	t_drop_events(f->d5);
	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "7\0" "0\0" "1\0", 6,
			       NULL), 0);
	expect_event(f->w, "@introduceDomain", "in");
	expect_none(f->w);	/* not a tree event: "/" does not hear it */
	/* introducing again is not a new domain */
	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "7\0" "0\0" "1\0", 6,
			       NULL), 0);
	expect_none(f->w);
	assert_int_equal(t_req1(f->d0, XS_RELEASE, 0, "7", NULL), 0);
	expect_event(f->w, "@releaseDomain", "out");
	/* dom5 may not read @releaseDomain (n0) */
	expect_none(f->d5);
	assert_int_equal(t_set_perms(f->d0, 0, "@releaseDomain", "n0 r5"), 0);
	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "7\0" "0\0" "1\0", 6,
			       NULL), 0);
	assert_int_equal(t_req1(f->d0, XS_RELEASE, 0, "7", NULL), 0);
	expect_event(f->d5, "@releaseDomain", "d5out");
}

static void test_release_drops_domain_watches(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "5\0" "0\0" "1\0", 6,
			       NULL), 0);
	assert_int_equal(t_set_perms(f->d0, 0, "/", "r0"), 0);
	assert_int_equal(t_watch(f->d5, "/vm", "v"), 0);
	assert_int_equal(t_req1(f->d0, XS_RELEASE, 0, "5", NULL), 0);
	t_drop_events(f->d5);
	assert_int_equal(t_write(f->d0, 0, "/vm/x", "1"), 0);
	expect_none(f->d5);
	assert_int_equal(t_unwatch(f->d5, "/vm", "v"), ENOENT);
}

static void test_tx_events_on_commit(void **state)
{
	struct fx *f = *state;
	uint32_t tx;

	assert_int_equal(t_watch(f->w, "/t", "t"), 0);
	t_drop_events(f->w);
	tx = t_tx_start(f->d0, NULL);
	assert_int_equal(t_write(f->d0, tx, "/t/a", "1"), 0);
	expect_none(f->w);
	assert_int_equal(t_tx_end(f->d0, tx, true), 0);
	expect_event(f->w, "/t/a", "t");
	tx = t_tx_start(f->d0, NULL);
	assert_int_equal(t_write(f->d0, tx, "/t/b", "1"), 0);
	assert_int_equal(t_tx_end(f->d0, tx, false), 0);
	expect_none(f->w);
}

static void test_reset_watches(void **state)
{
	struct fx *f = *state;

	assert_int_equal(t_watch(f->w, "/z", "z"), 0);
	assert_int_equal(t_req(f->w, XS_RESET_WATCHES, 0, "", 0, NULL), 0);
	t_drop_events(f->w);
	assert_int_equal(t_write(f->d0, 0, "/z", "1"), 0);
	expect_none(f->w);
}

static void test_slow_watcher_is_cut_off(void **state)
{
	struct xs_quota q;
	struct xs_server *srv;
	struct tconn *slow, *fast, *writer;
	char v[16];

	(void)state;
	xs_quota_defaults(&q);
	q.queue_bytes = 4096;
	srv = t_server(&q, NULL);
	slow = t_conn(srv, 0);
	fast = t_conn(srv, 0);
	writer = t_conn(srv, 0);
	assert_int_equal(t_watch(slow, "/s", "slow"), 0);
	assert_int_equal(t_watch(fast, "/s", "fast"), 0);
	/* slow never reads its output; fast does */
	for (int i = 0; i < 500; i++) {
		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(t_write(writer, 0, "/s/k", v), 0);
		t_drop_events(fast);
	}
	assert_true(xs_conn_closing(slow->c, NULL));
	assert_false(xs_conn_closing(fast->c, NULL));
	assert_true(slow->wakes > 0);
	t_conn_free(slow);
	t_conn_free(fast);
	t_conn_free(writer);
	xs_server_free(srv);
}

static void record(struct xs_watch *w, void *opaque)
{
	strcat(opaque, w->token);
}

static void test_index_match(void **state)
{
	struct xs_watch_index idx;
	struct xs_watch_list l1 = { 0 }, l2 = { 0 };
	char hit[64] = "";

	(void)state;
	xs_watch_index_init(&idx);
	assert_int_equal(xs_watch_add(&idx, &l1, NULL, "/", "R", 0), 0);
	assert_int_equal(xs_watch_add(&idx, &l1, NULL, "/a", "A", 0), 0);
	assert_int_equal(xs_watch_add(&idx, &l2, NULL, "/a/b", "B", 0), 0);
	assert_int_equal(xs_watch_add(&idx, &l2, NULL, "/a/b", "b", 0), 0);
	assert_int_equal(xs_watch_add(&idx, &l2, NULL, "@x", "X", 0), 0);
	xs_watch_match(&idx, "/a/b/c", false, record, hit);
	assert_int_equal(strlen(hit), 4);	/* R A B b */
	hit[0] = '\0';
	xs_watch_match(&idx, "/a/b", true, record, hit);
	assert_int_equal(strlen(hit), 2);
	hit[0] = '\0';
	xs_watch_match(&idx, "@x", false, record, hit);
	assert_string_equal(hit, "X");
	xs_watch_remove_all(&idx, &l2);
	hit[0] = '\0';
	xs_watch_match(&idx, "/a/b/c", false, record, hit);
	assert_int_equal(strlen(hit), 2);
	xs_watch_remove_all(&idx, &l1);
	assert_int_equal(idx.buckets.count, 0);
	xs_watch_index_destroy(&idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_and_matching,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_watch_and_two_tokens,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_relative_watch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_permission_rule, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_special_watches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_release_drops_domain_watches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_events_on_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reset_watches, setup,
						teardown),
		cmocka_unit_test(test_slow_watcher_is_cut_off),
		cmocka_unit_test(test_index_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
