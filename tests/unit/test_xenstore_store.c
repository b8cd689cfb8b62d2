/* The xenstore building blocks: tree, paths, permissions, hash map,
 * record codec and quota parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/xs_hmap.h"
#include "daemon/xs_path.h"
#include "daemon/xs_perms.h"
#include "daemon/xs_quota.h"
#include "daemon/xs_record.h"
#include "daemon/xs_store.h"
#include "lib/xs_wire.h"

static const struct xs_perm N0 = { 0, XS_PERM_NONE };

static void put(struct xs_store *s, const char *path, const char *v)
{
	assert_int_equal(xs_store_put(s, path, v, (uint32_t)strlen(v), &N0, 1),
			 0);
}

static void test_store_tree(void **state)
{
	struct xs_store *s = xs_store_new();
	const struct xs_node *n;

	(void)state;
	assert_non_null(xs_store_get(s, "/"));
	assert_int_equal(xs_store_put(s, "/a/b", "x", 1, &N0, 1), ENOENT);
	put(s, "/a", "");
	put(s, "/a/c", "3");
	put(s, "/a/b", "2");
	put(s, "/a/b2", "");
	n = xs_store_get(s, "/a");
	assert_int_equal(n->nkids, 3);
	/* children are kept sorted by name */
	assert_string_equal(n->kids[0]->path, "/a/b");
	assert_string_equal(n->kids[1]->path, "/a/b2");
	assert_string_equal(n->kids[2]->path, "/a/c");
	assert_int_equal(xs_node_find_kid(n, "c"), 2);
	assert_int_equal(xs_node_find_kid(n, "zz"), -1);
	/* replace keeps children */
	put(s, "/a", "v");
	n = xs_store_get(s, "/a");
	assert_int_equal(n->nkids, 3);
	assert_int_equal(n->vlen, 1);
	assert_memory_equal(n->value, "v", 1);
	assert_int_equal(xs_store_count(s), 5);
	assert_int_equal(xs_store_del(s, "/a"), 0);
	assert_null(xs_store_get(s, "/a/b"));
	assert_int_equal(xs_store_count(s), 1);
	assert_int_equal(xs_store_del(s, "/a"), ENOENT);
	assert_int_equal(xs_store_del(s, "/"), EINVAL);
	xs_store_free(s);
}

static void test_store_generations(void **state)
{
	struct xs_store *s = xs_store_new();
	uint64_t g_parent, g_child;

	(void)state;
	put(s, "/p", "");
	g_parent = xs_store_get(s, "/p")->gen;
	put(s, "/p/c", "1");
	/* adding a child changes the parent */
	assert_true(xs_store_get(s, "/p")->gen > g_parent);
	g_parent = xs_store_get(s, "/p")->gen;
	g_child = xs_store_get(s, "/p/c")->gen;
	put(s, "/p/c", "2");
	assert_true(xs_store_get(s, "/p/c")->gen > g_child);
	assert_int_equal(xs_store_get(s, "/p")->gen, g_parent);
	xs_store_del(s, "/p/c");
	assert_true(xs_store_get(s, "/p")->gen > g_parent);
	assert_true(xs_store_gen(s) >= xs_store_get(s, "/p")->gen);
	xs_store_free(s);
}

static void test_store_owners_and_special(void **state)
{
	struct xs_store *s = xs_store_new();
	const struct xs_perm d5[2] = { { 5, XS_PERM_NONE }, { 0, XS_PERM_READ } };
	const struct xs_perm d7 = { 7, XS_PERM_READ };

	(void)state;
	assert_int_equal(xs_store_owned(s, 0), 1);	/* the root */
	put(s, "/d", "");
	assert_int_equal(xs_store_put(s, "/d/x", "", 0, d5, 2), 0);
	assert_int_equal(xs_store_put(s, "/d/y", "", 0, d5, 2), 0);
	assert_int_equal(xs_store_owned(s, 5), 2);
	/* an owner change moves the count */
	assert_int_equal(xs_store_put(s, "/d/y", "", 0, &d7, 1), 0);
	assert_int_equal(xs_store_owned(s, 5), 1);
	assert_int_equal(xs_store_owned(s, 7), 1);
	xs_store_del(s, "/d");
	assert_int_equal(xs_store_owned(s, 5), 0);
	assert_int_equal(xs_store_owned(s, 7), 0);
	/* special nodes have no parent and are not in the tree */
	put(s, "@releaseDomain", "");
	assert_non_null(xs_store_get(s, "@releaseDomain"));
	assert_int_equal(xs_store_get(s, "/")->nkids, 0);
	xs_store_free(s);
}

static int count_visit(const struct xs_node *n, void *opaque)
{
	char *order = opaque;

	strcat(order, n->path);
	strcat(order, ",");
	return 0;
}

static void test_store_walk_order(void **state)
{
	struct xs_store *s = xs_store_new();
	char order[256] = "";

	(void)state;
	put(s, "/b", "");
	put(s, "/a", "");
	put(s, "/a/z", "");
	put(s, "@x", "");
	xs_store_walk(s, count_visit, order);
	assert_string_equal(order, "/,/a,/a/z,/b,@x,");
	xs_store_free(s);
}

static int canon(const char *in, unsigned domid, bool limit, bool special,
		 char *out, size_t *rel)
{
	const struct xs_path_opts o = { domid, limit, special };

	return xs_path_canon(in, &o, out, rel);
}

static void test_path_validation(void **state)
{
	char out[XS_PATH_BUF], big[XS_PATH_BUF + 16];
	size_t rel = 99;

	(void)state;
	assert_int_equal(canon("/a/b-c_d@e", 0, false, false, out, &rel), 0);
	assert_string_equal(out, "/a/b-c_d@e");
	assert_int_equal(rel, 0);
	assert_int_equal(canon("/", 0, false, false, out, NULL), 0);
	assert_int_equal(canon("x/y", 7, false, false, out, &rel), 0);
	assert_string_equal(out, "/local/domain/7/x/y");
	assert_int_equal(rel, strlen("/local/domain/7/"));
	const char *bad[] = { "", "/a/", "/a//b", "//", "/a b", "/a.b",
			      "/a\tb", "/ä", "@releaseDomain", "a/", NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(canon(bad[i], 0, false, false, out, NULL),
				 EINVAL);
	assert_int_equal(canon(NULL, 0, false, false, out, NULL), EINVAL);
	/* specials only where allowed */
	assert_int_equal(canon("@releaseDomain", 0, false, true, out, &rel), 0);
	assert_string_equal(out, "@releaseDomain");
	assert_int_equal(canon("@", 0, false, true, out, NULL), EINVAL);
	/* absolute limit 3072 */
	big[0] = '/';
	memset(big + 1, 'a', XENSTORE_ABS_PATH_MAX - 1);
	big[XENSTORE_ABS_PATH_MAX] = '\0';
	assert_int_equal(canon(big, 0, false, false, out, NULL), 0);
	big[XENSTORE_ABS_PATH_MAX] = 'a';
	big[XENSTORE_ABS_PATH_MAX + 1] = '\0';
	assert_int_equal(canon(big, 0, false, false, out, NULL), EINVAL);
	/* unprivileged: 2048 below /local/domain/<n>/ */
	memset(big, 'b', XENSTORE_REL_PATH_MAX);
	big[XENSTORE_REL_PATH_MAX] = '\0';
	assert_int_equal(canon(big, 3, true, false, out, NULL), 0);
	big[XENSTORE_REL_PATH_MAX] = 'b';
	big[XENSTORE_REL_PATH_MAX + 1] = '\0';
	assert_int_equal(canon(big, 3, true, false, out, NULL), EINVAL);
	assert_int_equal(canon(big, 3, false, false, out, NULL), 0);
}

static void test_path_helpers(void **state)
{
	char out[16];
	unsigned d;

	(void)state;
	assert_true(xs_path_is_child("/a/b", "/a"));
	assert_true(xs_path_is_child("/a", "/a"));
	assert_true(xs_path_is_child("/a", "/"));
	assert_false(xs_path_is_child("/ab", "/a"));
	assert_false(xs_path_is_child("/a", "/a/b"));
	assert_false(xs_path_is_child("@x", "/"));
	assert_int_equal(xs_path_parent_len("/a/b"), 2);
	assert_int_equal(xs_path_parent_len("/a"), 1);
	assert_string_equal(xs_path_base("/a/bc"), "bc");
	assert_int_equal(xs_path_join("/", "x", out, sizeof(out)), 0);
	assert_string_equal(out, "/x");
	assert_int_equal(xs_path_join("/a", "x", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/x");
	assert_int_equal(xs_path_join("/aaaaaaaaaaaa", "xxxx", out, sizeof(out)),
			 E2BIG);
	assert_int_equal(xs_parse_domid("65535", &d), 0);
	assert_int_equal(d, 65535);
	assert_int_equal(xs_parse_domid("65536", &d), EINVAL);
	assert_int_equal(xs_parse_domid("-1", &d), EINVAL);
	assert_int_equal(xs_parse_domid("", &d), EINVAL);
	assert_int_equal(xs_parse_domid("1x", &d), EINVAL);
}

static void test_perms(void **state)
{
	struct xs_perm p[8];
	unsigned n = 0;
	char out[64];
	const char in[] = "n5\0r7\0w8\0b9\0";
	const struct xs_who dom0 = { 0, true, false, 0 };
	const struct xs_who d5 = { 5, false, false, 0 };
	const struct xs_who d7 = { 7, false, false, 0 };
	const struct xs_who d8 = { 8, false, false, 0 };
	const struct xs_who d9 = { 9, false, false, 0 };
	const struct xs_who d3 = { 3, false, false, 0 };
	const struct xs_who d3t9 = { 3, false, true, 9 };

	(void)state;
	assert_int_equal(xs_perms_parse(in, sizeof(in) - 1, p, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(xs_perms_format(p, n, out, sizeof(out)), 12);
	assert_memory_equal(out, in, 12);
	/* owner: everything; listed: their letter; others: owner's letter */
	assert_int_equal(xs_perm_for(&d5, p, n),
			 XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER);
	assert_int_equal(xs_perm_for(&dom0, p, n),
			 XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER);
	assert_int_equal(xs_perm_for(&d7, p, n), XS_PERM_READ);
	assert_int_equal(xs_perm_for(&d8, p, n), XS_PERM_WRITE);
	assert_int_equal(xs_perm_for(&d9, p, n), XS_PERM_READ | XS_PERM_WRITE);
	assert_int_equal(xs_perm_for(&d3, p, n), XS_PERM_NONE);
	/* SET_TARGET: acts with the target's rights */
	assert_int_equal(xs_perm_for(&d3t9, p, n), XS_PERM_READ | XS_PERM_WRITE);
	/* bad input */
	assert_int_equal(xs_perms_parse("x1\0", 3, p, 8, &n), EINVAL);
	assert_int_equal(xs_perms_parse("r\0", 2, p, 8, &n), EINVAL);
	assert_int_equal(xs_perms_parse("r70000\0", 7, p, 8, &n), EINVAL);
	assert_int_equal(xs_perms_parse("", 0, p, 8, &n), EINVAL);
	assert_int_equal(xs_perms_parse(in, sizeof(in) - 1, p, 3, &n), ENOSPC);
	/* text after the last nul is ignored, as in Xen */
	assert_int_equal(xs_perms_parse("r1\0junk", 7, p, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(xs_perms_format(p, 1, out, 2), 0);
}

struct item {
	struct xs_hent h;
	char key[16];
};

static void test_hmap(void **state)
{
	struct xs_hmap m;
	struct item *items = calloc(1000, sizeof(*items));
	size_t it, seen = 0;

	(void)state;
	xs_hmap_init(&m);
	for (int i = 0; i < 1000; i++) {
		snprintf(items[i].key, sizeof(items[i].key), "/k%d", i);
		items[i].h.key = items[i].key;
		assert_int_equal(xs_hmap_add(&m, &items[i].h), 0);
	}
	assert_int_equal(m.count, 1000);
	assert_ptr_equal(xs_hmap_get(&m, "/k517"), &items[517].h);
	assert_null(xs_hmap_get(&m, "/k1000"));
	for (struct xs_hent *e = xs_hmap_first(&m, &it); e;
	     e = xs_hmap_next(&m, e, &it))
		seen++;
	assert_int_equal(seen, 1000);
	for (int i = 0; i < 1000; i += 2)
		xs_hmap_remove(&m, &items[i].h);
	assert_int_equal(m.count, 500);
	assert_null(xs_hmap_get(&m, "/k516"));
	assert_non_null(xs_hmap_get(&m, "/k517"));
	xs_hmap_destroy(&m);
	free(items);
}

struct rec_log {
	char text[512];
};

static int log_op(const struct xs_rec_op *op, void *opaque)
{
	struct rec_log *l = opaque;
	char one[128];

	if (op->op == 'P')
		snprintf(one, sizeof(one), "P%s=%.*s/%u:%u;", op->path,
			 (int)op->vlen, (const char *)op->value,
			 op->nperms, op->perms[op->nperms - 1].domid);
	else if (op->op == 'D')
		snprintf(one, sizeof(one), "D%s;", op->path);
	else
		snprintf(one, sizeof(one), "E;");
	strcat(l->text, one);
	return 0;
}

static void test_record_roundtrip(void **state)
{
	struct xs_buf payload = { 0 }, file = { 0 };
	const struct xs_perm pm[2] = { { 1, XS_PERM_READ }, { 42, 3 } };
	struct xs_rec_result res;
	struct rec_log l = { "" };
	char hdr[XS_REC_HDR_SIZE];
	uint64_t epoch;

	(void)state;
	xs_rec_header(hdr, "XNTEST01", 0x1122334455ull);
	assert_int_equal(xs_rec_parse_header(hdr, sizeof(hdr), "XNTEST01",
					     &epoch), 0);
	assert_true(epoch == 0x1122334455ull);
	assert_int_equal(xs_rec_parse_header(hdr, sizeof(hdr), "XNOTHER1",
					     &epoch), -1);
	xs_rec_put(&payload, "/a", pm, 2, "val", 3);
	xs_rec_del(&payload, "/b");
	xs_rec_frame(&file, xs_buf_peek(&payload), xs_buf_len(&payload));
	xs_buf_reset(&payload);
	xs_rec_end(&payload);
	xs_rec_frame(&file, xs_buf_peek(&payload), xs_buf_len(&payload));
	xs_rec_replay(xs_buf_peek(&file), xs_buf_len(&file), log_op, &l, &res);
	assert_null(res.bad);
	assert_int_equal(res.entries, 2);
	assert_int_equal(res.good, xs_buf_len(&file));
	assert_string_equal(l.text, "P/a=val/2:42;D/b;E;");

	/* A torn last entry applies nothing of itself. */
	l.text[0] = '\0';
	xs_rec_replay(xs_buf_peek(&file), xs_buf_len(&file) - 1, log_op, &l,
		      &res);
	assert_non_null(res.bad);
	assert_int_equal(res.entries, 1);
	assert_string_equal(l.text, "P/a=val/2:42;D/b;");

	/* A flipped bit fails the checksum. */
	((char *)file.data)[12] ^= 1;
	l.text[0] = '\0';
	xs_rec_replay(xs_buf_peek(&file), xs_buf_len(&file), log_op, &l, &res);
	assert_string_equal(res.bad, "checksum mismatch");
	assert_int_equal(res.entries, 0);
	assert_string_equal(l.text, "");
	xs_buf_free(&payload);
	xs_buf_free(&file);
}

static void test_record_garbage(void **state)
{
	unsigned char junk[4096];
	struct xs_rec_result res;
	struct rec_log l = { "" };

	(void)state;
	srand(7);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)rand();
		xs_rec_replay(junk, (size_t)rand() % sizeof(junk), log_op, &l,
			      &res);
		assert_non_null(res.bad);
		l.text[0] = '\0';
	}
	/* valid CRC around a malformed payload */
	{
		struct xs_buf f = { 0 };
		xs_rec_frame(&f, "P\xff\xff", 3);
		xs_rec_replay(xs_buf_peek(&f), xs_buf_len(&f), log_op, &l, &res);
		assert_string_equal(res.bad, "malformed entry");
		xs_buf_free(&f);
	}
}

static void test_quota_parse(void **state)
{
	struct xs_quota q;
	char err[256], out[512];

	(void)state;
	xs_quota_defaults(&q);
	assert_int_equal(q.nodes, 1000);
	assert_int_equal(q.watches, 128);
	assert_int_equal(q.transactions, 10);
	assert_int_equal(q.value_size, 2048);
	assert_int_equal(xs_quota_set(&q, "nodes=5", err, sizeof(err)), 0);
	assert_int_equal(q.nodes, 5);
	assert_int_equal(xs_quota_set(&q, "value_size=10", err, sizeof(err)), 0);
	assert_int_equal(q.value_size, 10);
	assert_int_equal(xs_quota_set(&q, "queue-bytes=65536", err,
				      sizeof(err)), 0);
	assert_int_equal(q.queue_bytes, 65536);
	assert_int_equal(xs_quota_set(&q, "bogus=1", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown quota"));
	assert_int_equal(xs_quota_set(&q, "nodes", err, sizeof(err)), -1);
	assert_int_equal(xs_quota_set(&q, "nodes=-1", err, sizeof(err)), -1);
	assert_int_equal(xs_quota_set(&q, "nodes=1x", err, sizeof(err)), -1);
	xs_quota_format(&q, out, sizeof(out));
	assert_non_null(strstr(out, "nodes=5\n"));
}

static void test_wire_names(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(xs_errno_name(ENOENT), "ENOENT");
	assert_string_equal(xs_errno_name(EPERM), "EPERM");
	assert_string_equal(xs_errno_name(ETIMEDOUT), "EINVAL");
	assert_int_equal(xs_errno_from_name("EAGAIN"), EAGAIN);
	assert_int_equal(xs_errno_from_name("EWHAT"), 0);
	assert_string_equal(xs_type_name(XS_DIRECTORY_PART), "DIRECTORY_PART");
	assert_string_equal(xs_type_name(999), "UNKNOWN");
	assert_int_equal(XS_WATCH_EVENT, 15);
	assert_int_equal(XS_RESET_WATCHES, 21);
	assert_int_equal(xs_msg_build(buf, sizeof(buf), XS_READ, 1, 0, "/", 2),
			 18);
	assert_int_equal(xs_msg_build(buf, 10, XS_READ, 1, 0, "/", 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_tree),
		cmocka_unit_test(test_store_generations),
		cmocka_unit_test(test_store_owners_and_special),
		cmocka_unit_test(test_store_walk_order),
		cmocka_unit_test(test_path_validation),
		cmocka_unit_test(test_path_helpers),
		cmocka_unit_test(test_perms),
		cmocka_unit_test(test_hmap),
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_record_garbage),
		cmocka_unit_test(test_quota_parse),
		cmocka_unit_test(test_wire_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
