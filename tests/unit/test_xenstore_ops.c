/* Every xenstore request over the transport-independent core: semantics,
 * errors, permissions, quotas and bad input, as xenstored behaves. */
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
	struct tconn *d0;	/* dom0 */
	struct tconn *d5;	/* an unprivileged domain */
};

static int setup_q(void **state, const struct xs_quota *q)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->srv = t_server(q, NULL);
	if (!f->srv)
		return -1;
	f->d0 = t_conn(f->srv, 0);
	f->d5 = t_conn(f->srv, 5);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_q(state, NULL);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	t_conn_free(f->d0);
	t_conn_free(f->d5);
	xs_server_free(f->srv);
	free(f);
	return 0;
}

static void test_layout(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(t_read(f->d0, 0, "/local/domain/0/name", v,
				sizeof(v)), 0);
	assert_string_equal(v, "Domain-0");
	assert_int_equal(t_read(f->d0, 0, "/local/domain/0/domid", v,
				sizeof(v)), 0);
	assert_string_equal(v, "0");
	assert_int_equal(t_dir(f->d0, 0, "/", v, sizeof(v)), 0);
	assert_string_equal(v, "local tool vm");
	assert_int_equal(t_dir(f->d0, 0, "/local/domain/0", v, sizeof(v)), 0);
	assert_string_equal(v, "backend domid name");
	assert_int_equal(t_get_perms(f->d0, 0, "/vm", v, sizeof(v)), 0);
	assert_string_equal(v, "n0");
	assert_int_equal(t_get_perms(f->d0, 0, "@releaseDomain", v,
				     sizeof(v)), 0);
	assert_string_equal(v, "n0");
}

static void test_read_write(void **state)
{
	struct fx *f = *state;
	struct t_reply r;
	char v[64];
	const char bin[] = "/bin\0a\0b";

	assert_int_equal(t_write(f->d0, 0, "/a/b/c", "hello"), 0);
	assert_int_equal(t_read(f->d0, 0, "/a/b/c", v, sizeof(v)), 0);
	assert_string_equal(v, "hello");
	/* parents were created with empty values */
	assert_int_equal(t_read(f->d0, 0, "/a/b", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(t_write(f->d0, 0, "/a/b/c", ""), 0);
	assert_int_equal(t_req1(f->d0, XS_READ, 0, "/a/b/c", &r), 0);
	assert_int_equal(r.hdr.len, 0);
	/* values are binary: nuls survive */
	assert_int_equal(t_req(f->d0, XS_WRITE, 0, bin, sizeof(bin) - 1, NULL),
			 0);
	assert_int_equal(t_req1(f->d0, XS_READ, 0, "/bin", &r), 0);
	assert_int_equal(r.hdr.len, 3);
	assert_memory_equal(r.data, "a\0b", 3);
	/* replies echo type, req_id and tx_id */
	assert_int_equal(r.hdr.type, XS_READ);
	assert_int_equal(r.hdr.req_id, f->d0->req_id);
	assert_int_equal(t_read(f->d0, 0, "/nope", v, sizeof(v)), ENOENT);
	assert_int_equal(t_write(f->d0, 0, "/bad/", "x"), EINVAL);
	assert_int_equal(t_write(f->d0, 0, "@releaseDomain", "x"), EINVAL);
	/* a WRITE payload needs at least the path's nul */
	assert_int_equal(t_req(f->d0, XS_WRITE, 0, "/x", 2, NULL), EINVAL);
	/* error replies are typed ERROR and keep req_id */
	assert_int_equal(t_req1(f->d0, XS_READ, 0, "/nope", &r), ENOENT);
	assert_int_equal(r.hdr.type, XS_ERROR);
	assert_string_equal(r.data, "ENOENT");
	assert_int_equal(r.hdr.len, 7);
	assert_int_equal(r.hdr.req_id, f->d0->req_id);
}

static void test_relative_paths(void **state)
{
	struct fx *f = *state;
	struct t_reply r;
	char v[64];

	/* dom0's relative paths are under /local/domain/0 */
	assert_int_equal(t_write(f->d0, 0, "rel/x", "1"), 0);
	assert_int_equal(t_read(f->d0, 0, "/local/domain/0/rel/x", v,
				sizeof(v)), 0);
	assert_int_equal(t_req1(f->d0, XS_GET_DOMAIN_PATH, 0, "7", &r), 0);
	assert_string_equal(r.data, "/local/domain/7");
	assert_int_equal(r.hdr.len, strlen("/local/domain/7") + 1);
	assert_int_equal(t_req1(f->d0, XS_GET_DOMAIN_PATH, 0, "x", &r), EINVAL);
}

static void test_mkdir(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(t_write(f->d0, 0, "/m", "keep"), 0);
	assert_int_equal(t_mkdir(f->d0, 0, "/m"), 0);
	assert_int_equal(t_read(f->d0, 0, "/m", v, sizeof(v)), 0);
	assert_string_equal(v, "keep");	/* existing value unchanged */
	assert_int_equal(t_mkdir(f->d0, 0, "/m/n/o"), 0);
	assert_int_equal(t_read(f->d0, 0, "/m/n/o", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(t_mkdir(f->d0, 0, "bad//path"), EINVAL);
	/* exactly one string */
	assert_int_equal(t_req(f->d0, XS_MKDIR, 0, "/a\0/b", 6, NULL), EINVAL);
	assert_int_equal(t_req(f->d0, XS_MKDIR, 0, "/a", 2, NULL), EINVAL);
}

static void test_rm(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(t_write(f->d0, 0, "/r/a/b", "1"), 0);
	assert_int_equal(t_write(f->d0, 0, "/r/c", "2"), 0);
	assert_int_equal(t_rm(f->d0, 0, "/r/a"), 0);
	assert_int_equal(t_read(f->d0, 0, "/r/a/b", v, sizeof(v)), ENOENT);
	assert_int_equal(t_dir(f->d0, 0, "/r", v, sizeof(v)), 0);
	assert_string_equal(v, "c");
	/* missing leaf, existing parent: fine */
	assert_int_equal(t_rm(f->d0, 0, "/r/gone"), 0);
	/* missing parent too: ENOENT */
	assert_int_equal(t_rm(f->d0, 0, "/r/gone/deeper"), ENOENT);
	assert_int_equal(t_rm(f->d0, 0, "/"), EINVAL);
	assert_int_equal(t_rm(f->d0, 0, "/r"), 0);
	assert_int_equal(t_dir(f->d0, 0, "/r", v, sizeof(v)), ENOENT);
}

static void test_directory(void **state)
{
	struct fx *f = *state;
	char v[128];
	char path[64];
	struct t_reply r;

	assert_int_equal(t_write(f->d0, 0, "/d/b", ""), 0);
	assert_int_equal(t_write(f->d0, 0, "/d/a", ""), 0);
	assert_int_equal(t_dir(f->d0, 0, "/d", v, sizeof(v)), 0);
	assert_string_equal(v, "a b");
	assert_int_equal(t_req1(f->d0, XS_DIRECTORY, 0, "/d/a", &r), 0);
	assert_int_equal(r.hdr.len, 0);
	/* a list that does not fit one payload: E2BIG, so clients use
	 * DIRECTORY_PART */
	for (int i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "/big/child-number-%04d", i);
		assert_int_equal(t_mkdir(f->d0, 0, path), 0);
	}
	assert_int_equal(t_req1(f->d0, XS_DIRECTORY, 0, "/big", &r), E2BIG);
}

/* Reassemble a list with DIRECTORY_PART as libxenstore does. */
static void test_directory_part(void **state)
{
	struct fx *f = *state;
	char path[64], req[64], gen0[32] = "";
	struct t_reply r;
	size_t off = 0, count = 0;
	int parts = 0;

	for (int i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "/big/child-number-%04d", i);
		assert_int_equal(t_mkdir(f->d0, 0, path), 0);
	}
	for (;;) {
		int n = snprintf(req, sizeof(req), "/big%c%zu", 0, off);
		size_t gl, pos;

		assert_int_equal(t_req(f->d0, XS_DIRECTORY_PART, 0, req,
				       (size_t)n + 1, &r), 0);
		assert_true(r.hdr.len <= XENSTORE_PAYLOAD_MAX);
		gl = strlen(r.data) + 1;
		if (!gen0[0])
			strcpy(gen0, r.data);
		assert_string_equal(r.data, gen0);	/* unchanged node */
		parts++;
		pos = gl;
		while (pos < r.hdr.len && r.data[pos]) {
			snprintf(path, sizeof(path), "child-number-%04zu",
				 count);
			assert_string_equal(r.data + pos, path);
			count++;
			off += strlen(r.data + pos) + 1;
			pos += strlen(r.data + pos) + 1;
		}
		if (pos < r.hdr.len)
			break;	/* empty name: end of list */
	}
	assert_int_equal(count, 400);
	assert_true(parts >= 2);
	/* a change moves the generation */
	assert_int_equal(t_mkdir(f->d0, 0, "/big/zzz"), 0);
	assert_int_equal(t_req(f->d0, XS_DIRECTORY_PART, 0, "/big\0" "0", 7,
			       &r), 0);
	assert_string_not_equal(r.data, gen0);
	assert_int_equal(t_req(f->d0, XS_DIRECTORY_PART, 0, "/big\0x", 7, &r),
			 EINVAL);
	assert_int_equal(t_req(f->d0, XS_DIRECTORY_PART, 0, "/big", 5, &r),
			 EINVAL);
}

static void test_permissions(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(t_write(f->d0, 0, "/p/node", "secret"), 0);
	/* n0 inherited from the root: dom5 may neither read nor learn */
	assert_int_equal(t_read(f->d5, 0, "/p/node", v, sizeof(v)), EACCES);
	assert_int_equal(t_read(f->d5, 0, "/p/missing", v, sizeof(v)), EACCES);
	assert_int_equal(t_write(f->d5, 0, "/p/node", "x"), EACCES);
	assert_int_equal(t_write(f->d5, 0, "/p/new", "x"), EACCES);
	assert_int_equal(t_dir(f->d5, 0, "/p", v, sizeof(v)), EACCES);
	/* grant read */
	assert_int_equal(t_set_perms(f->d0, 0, "/p", "n0 r5"), 0);
	assert_int_equal(t_set_perms(f->d0, 0, "/p/node", "n0 r5"), 0);
	assert_int_equal(t_read(f->d5, 0, "/p/node", v, sizeof(v)), 0);
	assert_string_equal(v, "secret");
	assert_int_equal(t_read(f->d5, 0, "/p/missing", v, sizeof(v)), ENOENT);
	assert_int_equal(t_write(f->d5, 0, "/p/node", "x"), EACCES);
	/* grant write on the dir: dom5 creates children and owns them */
	assert_int_equal(t_set_perms(f->d0, 0, "/p", "n0 b5"), 0);
	assert_int_equal(t_write(f->d5, 0, "/p/mine/x", "1"), 0);
	assert_int_equal(t_get_perms(f->d0, 0, "/p/mine/x", v, sizeof(v)), 0);
	assert_string_equal(v, "n5 b5");
	/* the owner may change perms, but not give the node away */
	assert_int_equal(t_set_perms(f->d5, 0, "/p/mine", "n5 r7"), 0);
	assert_int_equal(t_set_perms(f->d5, 0, "/p/mine", "n7"), EPERM);
	/* a non-owner with write access may not change perms */
	assert_int_equal(t_set_perms(f->d5, 0, "/p", "b5"), EACCES);
	/* dom0 may give it away */
	assert_int_equal(t_set_perms(f->d0, 0, "/p/mine", "r9"), 0);
	assert_int_equal(t_get_perms(f->d0, 0, "/p/mine", v, sizeof(v)), 0);
	assert_string_equal(v, "r9");
	/* first entry is the default for unlisted domains: r9 lets 5 read */
	assert_int_equal(t_read(f->d5, 0, "/p/mine", v, sizeof(v)), 0);
	assert_int_equal(t_write(f->d5, 0, "/p/mine", "x"), EACCES);
	/* bad perms */
	assert_int_equal(t_set_perms(f->d0, 0, "/p", "x0"), EINVAL);
	assert_int_equal(t_set_perms(f->d0, 0, "/p", "r"), EINVAL);
	assert_int_equal(t_req(f->d0, XS_SET_PERMS, 0, "/p\0", 3, NULL),
			 EINVAL);
	assert_int_equal(t_set_perms(f->d0, 0, "/nope", "n0"), ENOENT);
	/* removing needs write on the node only */
	assert_int_equal(t_rm(f->d5, 0, "/p/mine"), EACCES);
	assert_int_equal(t_rm(f->d5, 0, "/p/mine/x"), 0);
}

static void test_special_perms(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(t_get_perms(f->d5, 0, "@releaseDomain", v, sizeof(v)),
			 EACCES);
	assert_int_equal(t_set_perms(f->d0, 0, "@releaseDomain", "n0 r5"), 0);
	assert_int_equal(t_get_perms(f->d5, 0, "@releaseDomain", v, sizeof(v)),
			 0);
	assert_int_equal(t_get_perms(f->d0, 0, "@nothing", v, sizeof(v)),
			 ENOENT);
}

static void test_unprivileged_relative(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(t_mkdir(f->d0, 0, "/local/domain/5"), 0);
	assert_int_equal(t_set_perms(f->d0, 0, "/local/domain/5", "n5 r0"), 0);
	assert_int_equal(t_write(f->d5, 0, "device/vif/0/state", "1"), 0);
	assert_int_equal(t_read(f->d0, 0, "/local/domain/5/device/vif/0/state",
				v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	assert_int_equal(t_read(f->d5, 0, "device/vif/0/state", v, sizeof(v)),
			 0);
}

static void test_domain_requests(void **state)
{
	struct fx *f = *state;
	struct t_reply r;

	assert_int_equal(t_req1(f->d0, XS_IS_DOMAIN_INTRODUCED, 0, "3", &r), 0);
	assert_string_equal(r.data, "F");
	assert_int_equal(t_req1(f->d0, XS_IS_DOMAIN_INTRODUCED, 0, "0", &r), 0);
	assert_string_equal(r.data, "T");
	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "3\0" "123\0" "4\0", 8,
			       &r), 0);
	assert_string_equal(r.data, "OK");
	assert_int_equal(t_req1(f->d0, XS_IS_DOMAIN_INTRODUCED, 0, "3", &r), 0);
	assert_string_equal(r.data, "T");
	assert_int_equal(t_req1(f->d0, XS_RESUME, 0, "3", NULL), 0);
	assert_int_equal(t_req1(f->d0, XS_RELEASE, 0, "3", NULL), 0);
	assert_int_equal(t_req1(f->d0, XS_RELEASE, 0, "3", NULL), ENOENT);
	assert_int_equal(t_req1(f->d0, XS_RELEASE, 0, "0", NULL), EINVAL);
	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "0\0" "1\0" "4\0", 6,
			       NULL), EINVAL);
	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "3\0" "1\0", 4, NULL),
			 EINVAL);
	/* dom0 only */
	assert_int_equal(t_req(f->d5, XS_INTRODUCE, 0, "3\0" "1\0" "4\0", 6,
			       NULL), EACCES);
	assert_int_equal(t_req1(f->d5, XS_RELEASE, 0, "3", NULL), EACCES);
	assert_int_equal(t_req1(f->d5, XS_IS_DOMAIN_INTRODUCED, 0, "3", NULL),
			 EACCES);
	assert_int_equal(t_req1(f->d5, XS_CONTROL, 0, "help", NULL), EACCES);
	/* anyone may ask for a domain path */
	assert_int_equal(t_req1(f->d5, XS_GET_DOMAIN_PATH, 0, "5", &r), 0);
}

static void test_set_target(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "5\0" "1\0" "4\0", 6,
			       NULL), 0);
	assert_int_equal(t_req(f->d0, XS_INTRODUCE, 0, "9\0" "1\0" "4\0", 6,
			       NULL), 0);
	assert_int_equal(t_mkdir(f->d0, 0, "/t"), 0);
	assert_int_equal(t_set_perms(f->d0, 0, "/t", "n9"), 0);
	assert_int_equal(t_read(f->d5, 0, "/t", v, sizeof(v)), EACCES);
	assert_int_equal(t_req(f->d0, XS_SET_TARGET, 0, "5\0" "9\0", 4, NULL),
			 0);
	/* dom5 now acts for dom9, which owns /t */
	assert_int_equal(t_read(f->d5, 0, "/t", v, sizeof(v)), 0);
	assert_int_equal(t_req(f->d0, XS_SET_TARGET, 0, "5\0" "8\0", 4, NULL),
			 ENOENT);
}

static void test_control_and_unknown(void **state)
{
	struct fx *f = *state;
	struct t_reply r;

	assert_int_equal(t_req1(f->d0, XS_CONTROL, 0, "help", &r), 0);
	assert_non_null(strstr(r.data, "print"));
	assert_int_equal(t_req(f->d0, XS_CONTROL, 0, "print\0hello\0", 12, &r),
			 0);
	assert_string_equal(r.data, "OK");
	assert_int_equal(t_req1(f->d0, XS_CONTROL, 0, "check", &r), 0);
	assert_non_null(strstr(r.data, "OK"));
	assert_int_equal(t_req1(f->d0, XS_CONTROL, 0, "quota", &r), 0);
	assert_non_null(strstr(r.data, "nodes=1000"));
	assert_int_equal(t_req(f->d0, XS_CONTROL, 0, "quota\0" "0\0", 8, &r),
			 0);
	assert_non_null(strstr(r.data, "Domain 0"));
	assert_int_equal(t_req1(f->d0, XS_CONTROL, 0, "frobnicate", &r),
			 EINVAL);
	assert_int_equal(t_req(f->d0, XS_CONTROL, 0, "", 0, &r), EINVAL);
	/* unknown and reply-only types */
	assert_int_equal(t_req(f->d0, 999, 0, "", 0, &r), ENOSYS);
	assert_int_equal(t_req(f->d0, XS_WATCH_EVENT, 0, "", 0, &r), ENOSYS);
	assert_int_equal(t_req(f->d0, XS_ERROR, 0, "", 0, &r), ENOSYS);
	assert_int_equal(t_req(f->d0, XS_GET_FEATURE, 0, "", 0, &r), ENOSYS);
	/* unknown transaction id */
	assert_int_equal(t_req1(f->d0, XS_READ, 77, "/vm", &r), ENOENT);
	assert_int_equal(r.hdr.tx_id, 77);
}

static void test_oversized_and_split_input(void **state)
{
	struct fx *f = *state;
	struct xsd_sockmsg hdr = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
	char msg[64];
	const void *out;
	size_t n = xs_msg_build(msg, sizeof(msg), XS_READ, 9, 0, "/vm", 4);

	/* a request arriving a byte at a time is handled once complete */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(xs_conn_feed(f->d5->c, msg + i, 1), 0);
		assert_int_equal(xs_conn_output(f->d5->c, &out),
				 i + 1 < n ? 0 : XS_HDR_SIZE + 7);
	}
	/* a payload over 4096 closes the connection, others carry on */
	assert_int_equal(xs_conn_feed(f->d5->c, &hdr, sizeof(hdr)), -1);
	assert_true(xs_conn_closing(f->d5->c, NULL));
	assert_false(xs_conn_want_input(f->d5->c));
	assert_int_equal(t_write(f->d0, 0, "/still", "ok"), 0);
}

static void test_random_garbage(void **state)
{
	struct fx *f = *state;
	unsigned char junk[512];

	srand(1234);
	for (int round = 0; round < 300; round++) {
		struct tconn *t = t_conn(f->srv, round % 2 ? 0 : 7);
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)rand();
		/* keep some headers plausible so handlers see junk payloads */
		if (round % 3 == 0) {
			uint32_t hdr[4] = { (uint32_t)rand() % 30, 1, 0,
					    (uint32_t)rand() % 200 };
			memcpy(junk, hdr, sizeof(hdr));
		}
		xs_conn_feed(t->c, junk, (size_t)rand() % sizeof(junk));
		t_conn_free(t);
	}
	assert_int_equal(t_write(f->d0, 0, "/after/garbage", "fine"), 0);
	assert_int_equal(t_req1(f->d0, XS_CONTROL, 0, "check", NULL), 0);
}

static void test_quotas(void **state)
{
	struct xs_quota q;
	struct fx *f;
	char path[64], big[64];

	xs_quota_defaults(&q);
	q.nodes = 5;
	q.value_size = 8;
	q.perms = 2;
	q.transactions = 2;
	q.watches = 2;
	assert_int_equal(setup_q(state, &q), 0);
	f = *state;
	assert_int_equal(t_mkdir(f->d0, 0, "/local/domain/5"), 0);
	assert_int_equal(t_set_perms(f->d0, 0, "/local/domain/5", "n5"), 0);
	/* dom5 owns 1 node; 4 more fit */
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "k%d", i);
		assert_int_equal(t_write(f->d5, 0, path, "v"), 0);
	}
	assert_int_equal(t_write(f->d5, 0, "k9", "v"), ENOSPC);
	assert_int_equal(t_write(f->d5, 0, "a/b", "v"), ENOSPC);
	/* existing nodes can still be written; dom0 is not limited */
	assert_int_equal(t_write(f->d5, 0, "k0", "12345678"), 0);
	assert_int_equal(t_write(f->d5, 0, "k0", "123456789"), ENOSPC);
	memset(big, 'x', 40);
	big[40] = '\0';
	assert_int_equal(t_write(f->d0, 0, "/local/domain/5/k0", big), 0);
	/* what dom0 creates there inherits owner dom5 and counts for it */
	assert_int_equal(t_write(f->d0, 0, "/local/domain/5/dom0-made", ""), 0);
	assert_int_equal(t_rm(f->d5, 0, "k1"), 0);
	assert_int_equal(t_write(f->d5, 0, "k9", "v"), ENOSPC);
	/* deleting frees quota */
	assert_int_equal(t_rm(f->d5, 0, "k2"), 0);
	assert_int_equal(t_write(f->d5, 0, "k9", "v"), 0);
	/* perms per node */
	assert_int_equal(t_set_perms(f->d5, 0, "k9", "n5 r1"), 0);
	assert_int_equal(t_set_perms(f->d5, 0, "k9", "n5 r1 r2"), ENOSPC);
	/* transactions */
	assert_true(t_tx_start(f->d5, NULL) != 0);
	assert_true(t_tx_start(f->d5, NULL) != 0);
	int err = 0;
	assert_int_equal(t_tx_start(f->d5, &err), 0);
	assert_int_equal(err, ENOSPC);
	/* watches: E2BIG past the limit */
	assert_int_equal(t_watch(f->d5, "k0", "a"), 0);
	assert_int_equal(t_watch(f->d5, "k0", "b"), 0);
	assert_int_equal(t_watch(f->d5, "k0", "c"), E2BIG);
	/* others keep working */
	assert_int_equal(t_write(f->d0, 0, "/other", "fine"), 0);
	teardown(state);
}

static void test_restrict(void **state)
{
	struct fx *f = *state;
	struct tconn *t = t_conn(f->srv, 0);
	char v[64];

	assert_int_equal(t_read(t, 0, "/vm", v, sizeof(v)), 0);
	assert_int_equal(t_restrict(t, 5), 0);
	assert_int_equal(xs_conn_domid(t->c), 5);
	assert_int_equal(t_read(t, 0, "/vm", v, sizeof(v)), EACCES);
	/* no way back */
	assert_int_equal(t_restrict(t, 0), EACCES);
	assert_int_equal(t_restrict(f->d0, 0), EINVAL);
	t_conn_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mkdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_part, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_special_perms, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged_relative,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_requests, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_target, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_control_and_unknown, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oversized_and_split_input,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_garbage, setup,
						teardown),
		cmocka_unit_test(test_quotas),
		cmocka_unit_test_setup_teardown(test_restrict, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
