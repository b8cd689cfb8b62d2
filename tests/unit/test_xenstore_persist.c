/* Durability: restart round trips, torn journals, compaction, the
 * directory lock and damaged files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/xs_persist.h"
#include "tests/unit/test_xenstore.h"

struct fx {
	char dir[64];
	char file[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/xs-persist-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const char *file(struct fx *f, const char *name)
{
	snprintf(f->file, sizeof(f->file), "%s/%s", f->dir, name);
	return f->file;
}

static off_t size_of(struct fx *f, const char *name)
{
	struct stat sb;

	return stat(file(f, name), &sb) == 0 ? sb.st_size : -1;
}

/* Open the dir, run one client through fn, close. */
static struct xs_server *open_srv(struct fx *f)
{
	struct xs_server *srv = t_server(NULL, f->dir);

	assert_non_null(srv);
	return srv;
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct xs_server *srv = open_srv(f);
	struct tconn *t = t_conn(srv, 0);
	char v[64];
	uint32_t tx;
	const char bin[] = "/bin\0\x01\0\xff";

	assert_int_equal(t_write(t, 0, "/a/b", "one"), 0);
	assert_int_equal(t_write(t, 0, "/a/c", "two"), 0);
	assert_int_equal(t_set_perms(t, 0, "/a/c", "n3 r0 b7"), 0);
	assert_int_equal(t_rm(t, 0, "/a/b"), 0);
	assert_int_equal(t_req(t, XS_WRITE, 0, bin, sizeof(bin) - 1, NULL), 0);
	tx = t_tx_start(t, NULL);
	assert_int_equal(t_write(t, tx, "/txn/x", "committed"), 0);
	assert_int_equal(t_tx_end(t, tx, true), 0);
	tx = t_tx_start(t, NULL);
	assert_int_equal(t_write(t, tx, "/txn/y", "aborted"), 0);
	assert_int_equal(t_tx_end(t, tx, false), 0);
	assert_int_equal(t_set_perms(t, 0, "@releaseDomain", "n0 r4"), 0);
	/* no orderly shutdown: only the journal has it */
	assert_int_equal(xs_server_flush(srv), 0);
	t_conn_free(t);
	xs_server_free(srv);
	assert_int_equal(size_of(f, "xenstore.snap"), -1);

	srv = open_srv(f);
	t = t_conn(srv, 0);
	assert_int_equal(t_read(t, 0, "/a/b", v, sizeof(v)), ENOENT);
	assert_int_equal(t_read(t, 0, "/a/c", v, sizeof(v)), 0);
	assert_string_equal(v, "two");
	assert_int_equal(t_get_perms(t, 0, "/a/c", v, sizeof(v)), 0);
	assert_string_equal(v, "n3 r0 b7");
	assert_int_equal(t_read(t, 0, "/txn/x", v, sizeof(v)), 0);
	assert_int_equal(t_read(t, 0, "/txn/y", v, sizeof(v)), ENOENT);
	assert_int_equal(t_get_perms(t, 0, "@releaseDomain", v, sizeof(v)), 0);
	assert_string_equal(v, "n0 r4");
	{
		struct t_reply r;
		assert_int_equal(t_req1(t, XS_READ, 0, "/bin", &r), 0);
		assert_int_equal(r.hdr.len, 3);
		assert_memory_equal(r.data, "\x01\0\xff", 3);
	}
	/* quota accounting is rebuilt too */
	assert_int_equal(t_req(t, XS_CONTROL, 0, "quota\0" "3\0", 8, NULL), 0);
	assert_int_equal(t_req1(t, XS_CONTROL, 0, "check", NULL), 0);
	t_conn_free(t);
	xs_server_free(srv);
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct xs_server *srv = open_srv(f);
	struct tconn *t = t_conn(srv, 0);
	char path[64], v[64];

	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/c/k%d", i % 20);
		snprintf(v, sizeof(v), "value-%d", i);
		assert_int_equal(t_write(t, 0, path, v), 0);
	}
	xs_server_flush(srv);
	assert_true(size_of(f, "xenstore.journal") > 4000);
	assert_int_equal(t_req1(t, XS_CONTROL, 0, "compact", NULL), 0);
	/* everything moved into the snapshot; the journal starts over */
	assert_true(size_of(f, "xenstore.snap") > 0);
	assert_int_equal(size_of(f, "xenstore.journal"), 16);
	assert_int_equal(t_write(t, 0, "/after", "snap"), 0);
	xs_server_flush(srv);
	t_conn_free(t);
	xs_server_free(srv);

	srv = open_srv(f);
	t = t_conn(srv, 0);
	assert_int_equal(t_read(t, 0, "/c/k19", v, sizeof(v)), 0);
	assert_string_equal(v, "value-199");
	assert_int_equal(t_read(t, 0, "/after", v, sizeof(v)), 0);
	t_conn_free(t);
	xs_server_free(srv);
}

static void test_auto_compaction(void **state)
{
	struct fx *f = *state;
	struct xs_server *srv = open_srv(f);
	struct tconn *t = t_conn(srv, 0);
	char v[64];

	xs_server_set_compact_bytes(srv, 2048);
	for (int i = 0; i < 100; i++) {
		snprintf(v, sizeof(v), "%d", i);
		assert_int_equal(t_write(t, 0, "/auto", v), 0);
		xs_server_tick(srv);
	}
	assert_true(size_of(f, "xenstore.snap") > 0);
	assert_true(size_of(f, "xenstore.journal") < 4096);
	t_conn_free(t);
	xs_server_free(srv);
	srv = open_srv(f);
	t = t_conn(srv, 0);
	assert_int_equal(t_read(t, 0, "/auto", v, sizeof(v)), 0);
	assert_string_equal(v, "99");
	t_conn_free(t);
	xs_server_free(srv);
}

static void truncate_by(struct fx *f, const char *name, off_t n)
{
	off_t size = size_of(f, name);

	assert_int_equal(truncate(file(f, name), size - n), 0);
}

static void test_torn_journal_tail(void **state)
{
	struct fx *f = *state;
	struct xs_server *srv = open_srv(f);
	struct tconn *t = t_conn(srv, 0);
	char v[64];

	assert_int_equal(t_write(t, 0, "/first", "1"), 0);
	assert_int_equal(t_write(t, 0, "/second", "2"), 0);
	xs_server_flush(srv);
	t_conn_free(t);
	xs_server_free(srv);
	/* a host crash tore the last entry */
	truncate_by(f, "xenstore.journal", 3);
	srv = open_srv(f);
	t = t_conn(srv, 0);
	assert_int_equal(t_read(t, 0, "/first", v, sizeof(v)), 0);
	assert_int_equal(t_read(t, 0, "/second", v, sizeof(v)), ENOENT);
	/* new entries go after the good part and survive */
	assert_int_equal(t_write(t, 0, "/third", "3"), 0);
	xs_server_flush(srv);
	t_conn_free(t);
	xs_server_free(srv);
	srv = open_srv(f);
	t = t_conn(srv, 0);
	assert_int_equal(t_read(t, 0, "/third", v, sizeof(v)), 0);
	t_conn_free(t);
	xs_server_free(srv);
}

static void write_file(struct fx *f, const char *name, const void *data,
		       size_t len)
{
	int fd = open(file(f, name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_damaged_snapshot_refused(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct xs_quota q;
	struct xs_server *srv = open_srv(f);

	assert_int_equal(xs_server_compact(srv), 0);
	xs_server_free(srv);
	truncate_by(f, "xenstore.snap", 5);
	xs_quota_defaults(&q);
	srv = xs_server_new(&q, f->dir, err, sizeof(err));
	assert_null(srv);
	assert_non_null(strstr(err, "damaged"));
	write_file(f, "xenstore.snap", "garbage", 7);
	srv = xs_server_new(&q, f->dir, err, sizeof(err));
	assert_null(srv);
	assert_non_null(strstr(err, "not a xenstore snapshot"));
}

static void test_garbage_journal_header(void **state)
{
	struct fx *f = *state;
	struct xs_server *srv;
	struct tconn *t;
	char v[32];

	write_file(f, "xenstore.journal", "junkjunkjunkjunkjunk", 20);
	srv = open_srv(f);	/* ignored: not a journal, starts anew */
	xs_server_free(srv);
	srv = open_srv(f);	/* and the new one is good */
	t = t_conn(srv, 0);
	assert_int_equal(t_read(t, 0, "/local/domain/0/name", v, sizeof(v)), 0);
	t_conn_free(t);
	xs_server_free(srv);
}

static void test_lock(void **state)
{
	struct fx *f = *state;
	struct xs_server *srv = open_srv(f);
	struct xs_quota q;
	char err[256];

	xs_quota_defaults(&q);
	assert_null(xs_server_new(&q, f->dir, err, sizeof(err)));
	assert_non_null(strstr(err, "another xenond"));
	xs_server_free(srv);
	srv = open_srv(f);
	xs_server_free(srv);
}

static void test_bad_state_dir(void **state)
{
	struct xs_quota q;
	char err[256];

	(void)state;
	xs_quota_defaults(&q);
	assert_null(xs_server_new(&q, "/proc/self/no/such/dir", err,
				  sizeof(err)));
	assert_non_null(strstr(err, "state directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_auto_compaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_journal_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_snapshot_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_journal_header,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test(test_bad_state_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
