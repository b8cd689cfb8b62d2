/* The in-process xs_wire client of the xenstore unit tests. */
#include "tests/unit/test_xenstore.h"

#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xs_server *t_server(const struct xs_quota *q, const char *state_dir)
{
	struct xs_quota def;
	char err[256];
	struct xs_server *srv;

	log_init("test", LOG_ERROR);	/* expected warnings stay quiet */
	if (!q) {
		xs_quota_defaults(&def);
		q = &def;
	}
	srv = xs_server_new(q, state_dir, err, sizeof(err));
	if (!srv)
		fprintf(stderr, "t_server: %s\n", err);
	return srv;
}

static void on_wake(void *opaque)
{
	struct tconn *t = opaque;

	t->wakes++;
}

static const struct xs_conn_ops t_ops = { .wake = on_wake };

struct tconn *t_conn(struct xs_server *srv, unsigned domid)
{
	struct tconn *t = calloc(1, sizeof(*t));

	t->events = calloc(T_MAX_EVENTS, sizeof(*t->events));
	t->c = xs_conn_new(srv, domid, &t_ops, t);
	return t;
}

void t_conn_free(struct tconn *t)
{
	if (!t)
		return;
	xs_conn_free(t->c);
	free(t->events);
	free(t);
}

static void keep_event(struct tconn *t, const char *data, uint32_t len)
{
	struct t_event *e;
	size_t pl;

	if (t->nevents == T_MAX_EVENTS)
		return;
	e = &t->events[t->nevents++];
	pl = strnlen(data, len);
	memcpy(e->path, data, pl);
	e->path[pl] = '\0';
	if (pl + 1 < len)
		snprintf(e->token, sizeof(e->token), "%.*s",
			 (int)(len - pl - 1), data + pl + 1);
	else
		e->token[0] = '\0';
}

/* Take every queued message: events to the list, the last reply to r. */
static bool drain(struct tconn *t, struct t_reply *r)
{
	const void *out;
	size_t len;
	bool got = false;

	while ((len = xs_conn_output(t->c, &out)) >= XS_HDR_SIZE) {
		struct xsd_sockmsg hdr;
		const char *p = out;

		memcpy(&hdr, p, XS_HDR_SIZE);
		if (len < XS_HDR_SIZE + hdr.len)
			break;
		if (hdr.type == XS_WATCH_EVENT) {
			keep_event(t, p + XS_HDR_SIZE, hdr.len);
		} else if (r) {
			r->hdr = hdr;
			memcpy(r->data, p + XS_HDR_SIZE, hdr.len);
			r->data[hdr.len] = '\0';
			got = true;
		}
		xs_conn_consume(t->c, XS_HDR_SIZE + hdr.len);
	}
	return got;
}

int t_req(struct tconn *t, uint32_t type, uint32_t tx, const void *payload,
	  size_t len, struct t_reply *r)
{
	struct t_reply local;
	char buf[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
	size_t n;

	if (!r)
		r = &local;
	n = xs_msg_build(buf, sizeof(buf), type, ++t->req_id, tx, payload,
			 (uint32_t)len);
	if (!n || xs_conn_feed(t->c, buf, n) < 0)
		return -1;
	if (!drain(t, r))
		return -2;
	if (r->hdr.type == XS_ERROR)
		return xs_errno_from_name(r->data);
	return 0;
}

int t_req1(struct tconn *t, uint32_t type, uint32_t tx, const char *arg,
	   struct t_reply *r)
{
	return t_req(t, type, tx, arg, strlen(arg) + 1, r);
}

int t_write(struct tconn *t, uint32_t tx, const char *path, const char *v)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(v);

	memcpy(buf, path, pl);
	memcpy(buf + pl, v, vl);
	return t_req(t, XS_WRITE, tx, buf, pl + vl, NULL);
}

int t_read(struct tconn *t, uint32_t tx, const char *path, char *out,
	   size_t cap)
{
	struct t_reply r;
	int err = t_req1(t, XS_READ, tx, path, &r);

	if (!err && out)
		snprintf(out, cap, "%.*s", (int)r.hdr.len, r.data);
	return err;
}

int t_mkdir(struct tconn *t, uint32_t tx, const char *path)
{
	return t_req1(t, XS_MKDIR, tx, path, NULL);
}

int t_rm(struct tconn *t, uint32_t tx, const char *path)
{
	return t_req1(t, XS_RM, tx, path, NULL);
}

/* nul-separated strings to one space-separated string */
static void join(const struct t_reply *r, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (uint32_t off = 0; off < r->hdr.len;) {
		const char *s = r->data + off;
		used += (size_t)snprintf(out + used, cap - used, "%s%s",
					 used ? " " : "", s);
		off += (uint32_t)strlen(s) + 1;
		if (used >= cap)
			break;
	}
}

int t_dir(struct tconn *t, uint32_t tx, const char *path, char *out,
	  size_t cap)
{
	struct t_reply r;
	int err = t_req1(t, XS_DIRECTORY, tx, path, &r);

	if (!err)
		join(&r, out, cap);
	return err;
}

int t_get_perms(struct tconn *t, uint32_t tx, const char *path, char *out,
		size_t cap)
{
	struct t_reply r;
	int err = t_req1(t, XS_GET_PERMS, tx, path, &r);

	if (!err)
		join(&r, out, cap);
	return err;
}

int t_set_perms(struct tconn *t, uint32_t tx, const char *path,
		const char *perms)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = strlen(path) + 1;

	memcpy(buf, path, len);
	/* "b0 r5" -> "b0\0r5\0" */
	for (const char *p = perms; *p; p++)
		buf[len++] = *p == ' ' ? '\0' : *p;
	buf[len++] = '\0';
	return t_req(t, XS_SET_PERMS, tx, buf, len, NULL);
}

static int two(struct tconn *t, uint32_t type, const char *a, const char *b)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t al = strlen(a) + 1, bl = strlen(b) + 1;

	memcpy(buf, a, al);
	memcpy(buf + al, b, bl);
	return t_req(t, type, 0, buf, al + bl, NULL);
}

int t_watch(struct tconn *t, const char *path, const char *token)
{
	return two(t, XS_WATCH, path, token);
}

int t_unwatch(struct tconn *t, const char *path, const char *token)
{
	return two(t, XS_UNWATCH, path, token);
}

uint32_t t_tx_start(struct tconn *t, int *err)
{
	struct t_reply r;
	int e = t_req(t, XS_TRANSACTION_START, 0, "", 1, &r);

	if (err)
		*err = e;
	return e ? 0 : (uint32_t)strtoul(r.data, NULL, 10);
}

int t_tx_end(struct tconn *t, uint32_t tx, bool commit)
{
	return t_req1(t, XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL);
}

int t_restrict(struct tconn *t, unsigned domid)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", domid);
	return t_req1(t, XS_RESTRICT, 0, buf, NULL);
}

const struct t_event *t_event(struct tconn *t)
{
	drain(t, NULL);
	if (t->next_event >= t->nevents)
		return NULL;
	return &t->events[t->next_event++];
}

unsigned t_pending_events(struct tconn *t)
{
	drain(t, NULL);
	return t->nevents - t->next_event;
}

void t_drop_events(struct tconn *t)
{
	drain(t, NULL);
	t->nevents = t->next_event = 0;
}
