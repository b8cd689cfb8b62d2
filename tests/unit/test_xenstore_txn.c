/* Transactions: isolation, conflicts (EAGAIN), abort, ids and limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test_xenstore.h"

struct fx {
	struct xs_server *srv;
	struct tconn *a, *b;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->srv = t_server(NULL, NULL);
	f->a = t_conn(f->srv, 0);
	f->b = t_conn(f->srv, 0);
	*state = f;
	return f->srv ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	t_conn_free(f->a);
	t_conn_free(f->b);
	xs_server_free(f->srv);
	free(f);
	return 0;
}

static void test_isolation_and_commit(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t tx = t_tx_start(f->a, NULL);

	assert_true(tx != 0);
	assert_int_equal(t_write(f->a, tx, "/t/x", "in-tx"), 0);
	/* read your own writes, others see nothing yet */
	assert_int_equal(t_read(f->a, tx, "/t/x", v, sizeof(v)), 0);
	assert_string_equal(v, "in-tx");
	assert_int_equal(t_read(f->a, 0, "/t/x", v, sizeof(v)), ENOENT);
	assert_int_equal(t_read(f->b, 0, "/t/x", v, sizeof(v)), ENOENT);
	assert_int_equal(t_dir(f->a, tx, "/t", v, sizeof(v)), 0);
	assert_string_equal(v, "x");
	assert_int_equal(t_tx_end(f->a, tx, true), 0);
	assert_int_equal(t_read(f->b, 0, "/t/x", v, sizeof(v)), 0);
	assert_string_equal(v, "in-tx");
	/* the id is gone after the end */
	assert_int_equal(t_tx_end(f->a, tx, true), ENOENT);
	assert_int_equal(t_read(f->a, tx, "/t/x", v, sizeof(v)), ENOENT);
}

static void test_abort(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t tx = t_tx_start(f->a, NULL);

	assert_int_equal(t_write(f->a, 0, "/keep", "1"), 0);
	assert_int_equal(t_write(f->a, tx, "/t/x", "1"), 0);
	assert_int_equal(t_rm(f->a, tx, "/keep"), 0);
	assert_int_equal(t_tx_end(f->a, tx, false), 0);
	assert_int_equal(t_read(f->a, 0, "/t/x", v, sizeof(v)), ENOENT);
	assert_int_equal(t_read(f->a, 0, "/keep", v, sizeof(v)), 0);
}

static void test_conflict(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t ta, tb;

	assert_int_equal(t_write(f->a, 0, "/ctr", "0"), 0);
	ta = t_tx_start(f->a, NULL);
	tb = t_tx_start(f->b, NULL);
	assert_int_equal(t_read(f->a, ta, "/ctr", v, sizeof(v)), 0);
	assert_int_equal(t_read(f->b, tb, "/ctr", v, sizeof(v)), 0);
	assert_int_equal(t_write(f->a, ta, "/ctr", "1"), 0);
	assert_int_equal(t_write(f->b, tb, "/ctr", "1"), 0);
	assert_int_equal(t_tx_end(f->a, ta, true), 0);
	/* b read a value that changed: retry */
	assert_int_equal(t_tx_end(f->b, tb, true), EAGAIN);
	assert_int_equal(t_read(f->a, 0, "/ctr", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
}

static void test_no_conflict_on_unrelated(void **state)
{
	struct fx *f = *state;
	uint32_t ta;

	assert_int_equal(t_write(f->a, 0, "/u/one", "0"), 0);
	assert_int_equal(t_write(f->a, 0, "/v/two", "0"), 0);
	ta = t_tx_start(f->a, NULL);
	assert_int_equal(t_write(f->a, ta, "/u/one", "1"), 0);
	assert_int_equal(t_write(f->b, 0, "/v/two", "1"), 0);
	assert_int_equal(t_tx_end(f->a, ta, true), 0);
}

static void test_conflict_on_creation_and_delete(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t ta;

	/* tx saw /n absent; someone creates it */
	ta = t_tx_start(f->a, NULL);
	assert_int_equal(t_read(f->a, ta, "/n", v, sizeof(v)), ENOENT);
	assert_int_equal(t_write(f->b, 0, "/n", "x"), 0);
	assert_int_equal(t_tx_end(f->a, ta, true), EAGAIN);
	/* tx writes below a node someone deletes */
	assert_int_equal(t_write(f->a, 0, "/d/e", ""), 0);
	ta = t_tx_start(f->a, NULL);
	assert_int_equal(t_write(f->a, ta, "/d/e/f", "1"), 0);
	assert_int_equal(t_rm(f->b, 0, "/d"), 0);
	assert_int_equal(t_tx_end(f->a, ta, true), EAGAIN);
	assert_int_equal(t_read(f->a, 0, "/d/e/f", v, sizeof(v)), ENOENT);
}

static void test_rm_and_recreate_in_tx(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t tx;

	assert_int_equal(t_write(f->a, 0, "/r/a/b", "1"), 0);
	assert_int_equal(t_write(f->a, 0, "/r/a/c", "2"), 0);
	tx = t_tx_start(f->a, NULL);
	assert_int_equal(t_rm(f->a, tx, "/r/a"), 0);
	assert_int_equal(t_read(f->a, tx, "/r/a/b", v, sizeof(v)), ENOENT);
	assert_int_equal(t_dir(f->a, tx, "/r", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(t_write(f->a, tx, "/r/a/new", "3"), 0);
	assert_int_equal(t_dir(f->a, tx, "/r/a", v, sizeof(v)), 0);
	assert_string_equal(v, "new");
	/* outside, nothing changed yet */
	assert_int_equal(t_dir(f->b, 0, "/r/a", v, sizeof(v)), 0);
	assert_string_equal(v, "b c");
	assert_int_equal(t_tx_end(f->a, tx, true), 0);
	assert_int_equal(t_dir(f->b, 0, "/r/a", v, sizeof(v)), 0);
	assert_string_equal(v, "new");
	assert_int_equal(t_read(f->b, 0, "/r/a/b", v, sizeof(v)), ENOENT);
	assert_int_equal(t_req1(f->a, XS_CONTROL, 0, "check", NULL), 0);
}

static void test_perms_in_tx(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t tx = t_tx_start(f->a, NULL);

	assert_int_equal(t_write(f->a, tx, "/pt", ""), 0);
	assert_int_equal(t_set_perms(f->a, tx, "/pt", "r3"), 0);
	assert_int_equal(t_get_perms(f->a, tx, "/pt", v, sizeof(v)), 0);
	assert_string_equal(v, "r3");
	assert_int_equal(t_tx_end(f->a, tx, true), 0);
	assert_int_equal(t_get_perms(f->b, 0, "/pt", v, sizeof(v)), 0);
	assert_string_equal(v, "r3");
}

static void test_ids_and_nesting(void **state)
{
	struct fx *f = *state;
	struct t_reply r;
	uint32_t t1 = t_tx_start(f->a, NULL), t2 = t_tx_start(f->a, NULL);

	assert_true(t1 != 0 && t2 != 0 && t1 != t2);
	/* ids are per connection */
	assert_int_equal(t_read(f->b, t1, "/vm", NULL, 0), ENOENT);
	/* no nesting */
	assert_int_equal(t_req(f->a, XS_TRANSACTION_START, t1, "", 1, &r),
			 EBUSY);
	assert_int_equal(t_req1(f->a, XS_TRANSACTION_END, 0, "T", &r), ENOENT);
	assert_int_equal(t_req1(f->a, XS_TRANSACTION_END, t1, "X", &r), EINVAL);
	assert_int_equal(t_tx_end(f->a, t1, true), 0);
	/* RESET_WATCHES drops open transactions too */
	assert_int_equal(t_req(f->a, XS_RESET_WATCHES, 0, "", 0, &r), 0);
	assert_int_equal(t_tx_end(f->a, t2, true), ENOENT);
}

static void test_counter_many_clients(void **state)
{
	struct fx *f = *state;
	struct tconn *c[4];
	uint32_t tx[4];
	char v[32];
	int done = 0, retries = 0;

	assert_int_equal(t_write(f->a, 0, "/count", "0"), 0);
	for (int i = 0; i < 4; i++)
		c[i] = t_conn(f->srv, 0);
	/* interleave read-increment-write among 4 clients, 25 each */
	while (done < 100) {
		int vals[4];
		for (int i = 0; i < 4; i++) {
			tx[i] = t_tx_start(c[i], NULL);
			assert_int_equal(t_read(c[i], tx[i], "/count", v,
						sizeof(v)), 0);
			vals[i] = atoi(v);
		}
		for (int i = 0; i < 4; i++) {
			snprintf(v, sizeof(v), "%d", vals[i] + 1);
			assert_int_equal(t_write(c[i], tx[i], "/count", v), 0);
			int e = t_tx_end(c[i], tx[i], true);
			if (e == 0) {
				done++;
			} else {
				assert_int_equal(e, EAGAIN);
				retries++;
			}
		}
	}
	assert_int_equal(t_read(f->a, 0, "/count", v, sizeof(v)), 0);
	assert_int_equal(atoi(v), done);
	assert_true(retries > 0);
	for (int i = 0; i < 4; i++)
		t_conn_free(c[i]);
}

static void test_tx_node_limit(void **state)
{
	struct xs_quota q;
	struct xs_server *srv;
	struct tconn *d;
	char path[32];
	uint32_t tx;
	int err = 0;

	(void)state;
	xs_quota_defaults(&q);
	q.tx_nodes = 8;
	srv = t_server(&q, NULL);
	d = t_conn(srv, 0);
	assert_int_equal(t_mkdir(d, 0, "/local/domain/4"), 0);
	assert_int_equal(t_set_perms(d, 0, "/local/domain/4", "n4"), 0);
	assert_int_equal(t_restrict(d, 4), 0);
	tx = t_tx_start(d, NULL);
	for (int i = 0; i < 10 && !err; i++) {
		snprintf(path, sizeof(path), "n%d", i);
		err = t_write(d, tx, path, "x");
	}
	assert_int_equal(err, ENOSPC);
	assert_int_equal(t_tx_end(d, tx, false), 0);
	t_conn_free(d);
	xs_server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_isolation_and_commit,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_conflict_on_unrelated,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_conflict_on_creation_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_and_recreate_in_tx,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_perms_in_tx, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ids_and_nesting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counter_many_clients,
						setup, teardown),
		cmocka_unit_test(test_tx_node_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
