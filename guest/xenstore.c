/* The xenstore client (see xenstore.h). */
#include "guest/xenstore.h"

#include "guest/console.h"
#include "guest/memory.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/xs_channel.h"
#include "lib/xs_wire.h"

#define EVQ_SIZE 8

static const char *const err_names[] = {
	[XS_OK] = "OK", [XS_EINVAL] = "EINVAL", [XS_EACCES] = "EACCES",
	[XS_EEXIST] = "EEXIST", [XS_EISDIR] = "EISDIR", [XS_ENOENT] = "ENOENT",
	[XS_ENOMEM] = "ENOMEM", [XS_ENOSPC] = "ENOSPC", [XS_EIO] = "EIO",
	[XS_ENOTEMPTY] = "ENOTEMPTY", [XS_ENOSYS] = "ENOSYS",
	[XS_EROFS] = "EROFS", [XS_EBUSY] = "EBUSY", [XS_EAGAIN] = "EAGAIN",
	[XS_EISCONN] = "EISCONN", [XS_E2BIG] = "E2BIG", [XS_EPERM] = "EPERM",
	[XS_EQUOTA] = "EQUOTA", [XS_EUNKNOWN] = "EUNKNOWN",
	[XS_ETIMEDOUT] = "ETIMEDOUT", [XS_ESTOPPED] = "ESTOPPED",
	[XS_EPROTO] = "EPROTO",
};

static bool present;
static unsigned domid;
static char home[32];
static uint32_t next_req = 1;
static char msg[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX] NOINIT;
static char reply[XENSTORE_PAYLOAD_MAX + 1] NOINIT;
static struct xsd_sockmsg reply_hdr;
static struct xs_event evq[EVQ_SIZE] NOINIT;
static unsigned ev_head, ev_len, ev_dropped;

const char *xs_error_name(int err)
{
	if (err < 0 || (unsigned)err >= ARRAY_SIZE(err_names))
		return "EUNKNOWN";
	return err_names[err];
}

static int err_from_name(const char *name)
{
	for (unsigned i = XS_EINVAL; i < XS_EUNKNOWN; i++)
		if (!strcmp(err_names[i], name))
			return (int)i;
	return XS_EUNKNOWN;
}

bool xs_present(void)
{
	return present;
}

unsigned xs_domid(void)
{
	return domid;
}

const char *xs_home(void)
{
	return home;
}

/* Exactly len bytes, or false at the deadline. */
static bool recv_all(char *buf, size_t len, uint64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		size_t n = xsc_recv(buf + got, len - got, deadline);

		if (!n)
			return false;
		got += n;
	}
	return true;
}

static void copy_trunc(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void queue_event(const char *payload, uint32_t len)
{
	struct xs_event *e;
	size_t plen = strnlen(payload, len);

	if (ev_len == EVQ_SIZE) {
		ev_dropped++;	/* the oldest goes: guests re-read anyway */
		ev_head = (ev_head + 1) % EVQ_SIZE;
		ev_len--;
	}
	e = &evq[(ev_head + ev_len++) % EVQ_SIZE];
	copy_trunc(e->path, sizeof(e->path), payload, plen);
	if (plen + 1 < len)
		copy_trunc(e->token, sizeof(e->token), payload + plen + 1,
			   strnlen(payload + plen + 1, len - plen - 1));
	else
		e->token[0] = '\0';
}

/* The next message into reply_hdr/reply: events are queued and false
 * returned for them too, so callers loop. */
static int read_msg(uint64_t deadline)
{
	if (!recv_all((char *)&reply_hdr, XS_HDR_SIZE, deadline))
		return XS_ETIMEDOUT;
	if (reply_hdr.len > XENSTORE_PAYLOAD_MAX)
		return XS_EPROTO;	/* the relay never lets this through */
	if (!recv_all(reply, reply_hdr.len, deadline))
		return XS_EPROTO;
	reply[reply_hdr.len] = '\0';
	if (reply_hdr.type == XS_WATCH_EVENT)
		queue_event(reply, reply_hdr.len);
	return XS_OK;
}

/* One request, payload a then b; the reply is left in reply/reply_hdr. */
static int rpc(uint32_t type, uint32_t tx, const void *a, size_t alen,
	       const void *b, size_t blen)
{
	struct xsd_sockmsg h = { type, next_req++, tx, (uint32_t)(alen + blen) };
	uint64_t deadline;
	int err;

	if (!present)
		return XS_EIO;
	if (alen + blen > XENSTORE_PAYLOAD_MAX)
		return XS_E2BIG;
	memcpy(msg, &h, XS_HDR_SIZE);
	memcpy(msg + XS_HDR_SIZE, a, alen);
	memcpy(msg + XS_HDR_SIZE + alen, b, blen);
	xsc_send(msg, XS_HDR_SIZE + alen + blen);
	deadline = tsc_after_us(XS_TIMEOUT_US);
	for (;;) {
		if ((err = read_msg(deadline)) != XS_OK)
			return err;
		if (reply_hdr.type == XS_WATCH_EVENT)
			continue;
		if (reply_hdr.req_id != h.req_id)
			continue;	/* a stray reply: not ours */
		if (reply_hdr.type == XS_ERROR)
			return err_from_name(reply);
		return reply_hdr.type == type ? XS_OK : XS_EPROTO;
	}
}

static int rpc_path(uint32_t type, uint32_t tx, const char *path)
{
	return rpc(type, tx, path, strlen(path) + 1, NULL, 0);
}

static int rpc_two(uint32_t type, const char *a, const char *b)
{
	return rpc(type, 0, a, strlen(a) + 1, b, strlen(b) + 1);
}

int xs_read(uint32_t tx, const char *path, char *out, size_t cap,
	    size_t *len)
{
	int err = rpc_path(XS_READ, tx, path);

	if (err)
		return err;
	if (out && cap)
		copy_trunc(out, cap, reply, reply_hdr.len);
	if (len)
		*len = reply_hdr.len;
	return XS_OK;
}

int xs_write(uint32_t tx, const char *path, const void *value, size_t len)
{
	return rpc(XS_WRITE, tx, path, strlen(path) + 1, value, len);
}

int xs_write_str(uint32_t tx, const char *path, const char *value)
{
	return xs_write(tx, path, value, strlen(value));
}

int xs_mkdir(uint32_t tx, const char *path)
{
	return rpc_path(XS_MKDIR, tx, path);
}

int xs_rm(uint32_t tx, const char *path)
{
	return rpc_path(XS_RM, tx, path);
}

int xs_directory(uint32_t tx, const char *path, char *out, size_t cap,
		 unsigned *count)
{
	int err = rpc_path(XS_DIRECTORY, tx, path);
	unsigned n = 0;

	if (err)
		return err;
	for (uint32_t i = 0; i < reply_hdr.len; i++)
		n += reply[i] == '\0';
	if (out && cap)
		copy_trunc(out, cap, reply, reply_hdr.len);
	if (count)
		*count = n;
	return XS_OK;
}

int xs_watch(const char *path, const char *token)
{
	return rpc_two(XS_WATCH, path, token);
}

int xs_unwatch(const char *path, const char *token)
{
	return rpc_two(XS_UNWATCH, path, token);
}

int xs_transaction_start(uint32_t *tx)
{
	int err = rpc(XS_TRANSACTION_START, 0, "", 1, NULL, 0);
	uint32_t v = 0;

	if (err)
		return err;
	for (const char *p = reply; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint32_t)(*p - '0');
	*tx = v;
	return v ? XS_OK : XS_EPROTO;
}

int xs_transaction_end(uint32_t tx, bool commit)
{
	return rpc(XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, NULL, 0);
}

struct wait_ctx {
	bool (*stop)(void);
};

static bool data_or_stop(void *opaque)
{
	const struct wait_ctx *w = opaque;

	return xsc_available() || (w->stop && w->stop());
}

int xs_wait_event(struct xs_event *ev, uint64_t deadline, bool (*stop)(void))
{
	struct wait_ctx w = { stop };
	int err;

	while (!ev_len) {
		if (!present)
			return XS_EIO;
		if (!wait_event_until(deadline, data_or_stop, &w))
			return XS_ETIMEDOUT;
		if (!xsc_available())
			return XS_ESTOPPED;
		/* A message's first bytes are there: the rest follows. */
		err = read_msg(tsc_after_us(XS_TIMEOUT_US));
		if (err)
			return err;
	}
	*ev = evq[ev_head];
	ev_head = (ev_head + 1) % EVQ_SIZE;
	ev_len--;
	return XS_OK;
}

static unsigned parse_uint(const char *s)
{
	unsigned v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned)(*s - '0');
	return v;
}

int xs_init(void)
{
	char buf[16];
	int err;

	if (present)
		return XS_OK;
	if (!xsc_init())
		return XS_EIO;
	present = true;
	/* Watches of an earlier boot of this domain are not ours. */
	err = rpc(XS_RESET_WATCHES, 0, NULL, 0, NULL, 0);
	if (!err)
		err = xs_read(0, "domid", buf, sizeof(buf), NULL);
	if (err)
		return err;
	domid = parse_uint(buf);
	snprintf(buf, sizeof(buf), "%u", domid);
	err = rpc_path(XS_GET_DOMAIN_PATH, 0, buf);
	if (!err)
		copy_trunc(home, sizeof(home), reply, strnlen(reply,
							      reply_hdr.len));
	return err;
}
