/* Connections: framing requests, dispatching them, queueing replies. */
#include "daemon/xs_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"
#include "lib/log.h"

#define F_PRIV  1u	/* dom0 only (EACCES otherwise) */
#define F_NOTID 2u	/* the header's tx_id is ignored */

static const struct {
	xs_handler fn;
	unsigned flags;
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { xs_op_control, F_PRIV },
	[XS_DIRECTORY] = { xs_op_directory, 0 },
	[XS_READ] = { xs_op_read, 0 },
	[XS_GET_PERMS] = { xs_op_get_perms, 0 },
	[XS_WATCH] = { xs_op_watch, F_NOTID },
	[XS_UNWATCH] = { xs_op_unwatch, F_NOTID },
	[XS_TRANSACTION_START] = { xs_op_transaction_start, 0 },
	[XS_TRANSACTION_END] = { xs_op_transaction_end, 0 },
	[XS_INTRODUCE] = { xs_op_introduce, F_PRIV },
	[XS_RELEASE] = { xs_op_release, F_PRIV },
	[XS_GET_DOMAIN_PATH] = { xs_op_get_domain_path, 0 },
	[XS_WRITE] = { xs_op_write, 0 },
	[XS_MKDIR] = { xs_op_mkdir, 0 },
	[XS_RM] = { xs_op_rm, 0 },
	[XS_SET_PERMS] = { xs_op_set_perms, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { xs_op_is_domain_introduced, F_PRIV },
	[XS_RESUME] = { xs_op_resume, F_PRIV },
	[XS_SET_TARGET] = { xs_op_set_target, F_PRIV },
	[XS_RESTRICT] = { xs_op_restrict, F_PRIV },
	[XS_RESET_WATCHES] = { xs_op_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { xs_op_directory_part, 0 },
};

/* Keep reading a client's input buffer only up to this much. */
#define IN_MAX (64u * 1024)

/* Stop handling a client's requests while it has this much unread. */
static size_t soft_cap(const struct xs_conn *c)
{
	size_t q = c->srv->quota.queue_bytes / 2;

	return q < 256u * 1024 ? q : 256u * 1024;
}

static void set_closing(struct xs_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = why;
	if (c->ops && c->ops->wake)
		c->ops->wake(c->opaque);
}

/* --- output -------------------------------------------------------------- */

static void queue_msg(struct xs_conn *c, uint32_t type, uint32_t req_id,
		      uint32_t tx_id, const void *data, size_t len)
{
	struct xsd_sockmsg hdr = { type, req_id, tx_id, (uint32_t)len };
	char *p = xs_buf_reserve(&c->out, XS_HDR_SIZE + len);

	if (!p) {
		set_closing(c, "out of memory for its output");
		return;
	}
	memcpy(p, &hdr, XS_HDR_SIZE);
	if (len)
		memcpy(p + XS_HDR_SIZE, data, len);
	c->out.tail += XS_HDR_SIZE + len;
}

int xs_reply(struct xs_req *r, const void *data, size_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX)
		return E2BIG;
	queue_msg(r->conn, r->hdr.type, r->hdr.req_id, r->hdr.tx_id, data,
		  len);
	return 0;
}

int xs_ack(struct xs_req *r)
{
	return xs_reply(r, "OK", 3);
}

static void send_error(struct xs_req *r, int err)
{
	const char *name = xs_errno_name(err);

	queue_msg(r->conn, XS_ERROR, r->hdr.req_id, r->hdr.tx_id, name,
		  strlen(name) + 1);
}

void xs_send_event(struct xs_conn *c, const char *path, const char *token)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	char buf[XENSTORE_PAYLOAD_MAX];

	if (c->closing || pl + tl > XENSTORE_PAYLOAD_MAX)
		return;	/* over-long events are not sent, as in Xen */
	if (xs_buf_len(&c->out) + XS_HDR_SIZE + pl + tl >
	    c->srv->quota.queue_bytes) {
		/* Dropping events silently would break the client's view
		 * of the store; closing tells it to reconnect and resync. */
		log_warn("xenstore: conn %llu dom%u has %zu bytes unread; "
			 "output queue full, closing it",
			 (unsigned long long)c->serial, c->who.domid,
			 xs_buf_len(&c->out));
		set_closing(c, "output queue full (client not reading)");
		return;
	}
	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	queue_msg(c, XS_WATCH_EVENT, 0, 0, buf, pl + tl);
	if (c->ops && c->ops->wake)
		c->ops->wake(c->opaque);
}

/* --- arguments ------------------------------------------------------------ */

const char *xs_onearg(const struct xs_req *r)
{
	if (r->len == 0 || strlen(r->data) + 1 != r->len)
		return NULL;
	return r->data;
}

unsigned xs_strings(const struct xs_req *r, const char **vec, unsigned max)
{
	unsigned n = 0;
	uint32_t off = 0;

	while (off < r->len) {
		const char *nul = memchr(r->data + off, '\0', r->len - off);
		if (!nul)
			break;
		if (n < max)
			vec[n] = r->data + off;
		n++;
		off = (uint32_t)(nul - r->data) + 1;
	}
	return n;
}

bool xs_privileged(const struct xs_req *r)
{
	return r->conn->who.privileged;
}

int xs_req_path(const struct xs_req *r, const char *in, bool special,
		char *out, size_t *rel_prefix)
{
	const struct xs_path_opts o = {
		.domid = r->conn->who.domid,
		.limit_rel = !r->conn->who.privileged,
		.allow_special = special,
	};

	return xs_path_canon(in, &o, out, rel_prefix);
}

/* --- dispatch ------------------------------------------------------------- */

static struct xs_txn *find_tx(const struct xs_conn *c, uint32_t id)
{
	for (unsigned i = 0; i < c->ntxs; i++)
		if (xs_txn_id(c->txs[i]) == id)
			return c->txs[i];
	return NULL;
}

static int dispatch(struct xs_req *r)
{
	uint32_t type = r->hdr.type;

	if (type >= XS_TYPE_COUNT || !handlers[type].fn)
		return ENOSYS;
	if ((handlers[type].flags & F_PRIV) && !xs_privileged(r))
		return EACCES;
	if (!(handlers[type].flags & F_NOTID) && r->hdr.tx_id) {
		r->tx = find_tx(r->conn, r->hdr.tx_id);
		/* TRANSACTION_END answers for an unknown id itself. */
		if (!r->tx && type != XS_TRANSACTION_END)
			return ENOENT;
		r->view.tx = r->tx;
	}
	return handlers[type].fn(r);
}

static void handle(struct xs_conn *c, const struct xsd_sockmsg *hdr,
		   const char *payload)
{
	struct xs_server *srv = c->srv;
	struct xs_req r = {
		.conn = c, .hdr = *hdr, .data = srv->payload, .len = hdr->len,
		.view = { &srv->db, NULL },
	};
	int err;

	memcpy(srv->payload, payload, hdr->len);
	srv->payload[hdr->len] = '\0';
	err = dispatch(&r);
	if (err)
		send_error(&r, err);
	/* All changes of one request become one journal entry. */
	xs_persist_commit(srv->db.persist);
	if (log_get_level() >= LOG_DEBUG)
		log_debug("xenstore: conn %llu dom%u %s tx %u len %u: %s",
			  (unsigned long long)c->serial, c->who.domid,
			  xs_type_name(hdr->type), hdr->tx_id, hdr->len,
			  err ? xs_errno_name(err) : "ok");
}

void xs_conn_process(struct xs_conn *c)
{
	struct xsd_sockmsg hdr;

	while (!c->closing && xs_buf_len(&c->out) < soft_cap(c)) {
		size_t avail = xs_buf_len(&c->in);

		if (avail < XS_HDR_SIZE)
			break;
		memcpy(&hdr, xs_buf_peek(&c->in), XS_HDR_SIZE);
		if (hdr.len > XENSTORE_PAYLOAD_MAX) {
			/* Xen kills such a client: framing is lost. */
			log_warn("xenstore: conn %llu dom%u sent a %u-byte "
				 "payload (max %d); closing it",
				 (unsigned long long)c->serial, c->who.domid,
				 hdr.len, XENSTORE_PAYLOAD_MAX);
			set_closing(c, "payload too long");
			break;
		}
		if (avail < XS_HDR_SIZE + hdr.len)
			break;
		handle(c, &hdr, xs_buf_peek(&c->in) + XS_HDR_SIZE);
		xs_buf_consume(&c->in, XS_HDR_SIZE + hdr.len);
	}
}

int xs_conn_feed(struct xs_conn *c, const void *data, size_t len)
{
	if (c->closing)
		return -1;
	if (xs_buf_append(&c->in, data, len) < 0) {
		set_closing(c, "out of memory for its input");
		return -1;
	}
	xs_conn_process(c);
	return c->closing ? -1 : 0;
}

bool xs_conn_want_input(const struct xs_conn *c)
{
	return !c->closing && xs_buf_len(&c->in) < IN_MAX &&
	       xs_buf_len(&c->out) < soft_cap(c);
}

size_t xs_conn_output(const struct xs_conn *c, const void **data)
{
	*data = xs_buf_peek(&c->out);
	return xs_buf_len(&c->out);
}

void xs_conn_consume(struct xs_conn *c, size_t n)
{
	xs_buf_consume(&c->out, n);
}

bool xs_conn_closing(const struct xs_conn *c, const char **reason)
{
	if (reason)
		*reason = c->closing;
	return c->closing != NULL;
}

unsigned xs_conn_domid(const struct xs_conn *c)
{
	return c->who.domid;
}

/* --- life cycle ------------------------------------------------------------ */

struct xs_conn *xs_conn_new(struct xs_server *srv, unsigned domid,
			    const struct xs_conn_ops *ops, void *opaque)
{
	struct xs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = srv;
	c->serial = ++srv->next_serial;
	c->who.domid = domid;
	c->who.privileged = domid == 0;
	c->ops = ops;
	c->opaque = opaque;
	c->next_txid = 1;
	xs_apply_target(srv, c);
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	return c;
}

void xs_conn_free(struct xs_conn *c)
{
	struct xs_server *srv;

	if (!c)
		return;
	srv = c->srv;
	xs_conn_reset(c);
	free(c->txs);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	xs_buf_free(&c->in);
	xs_buf_free(&c->out);
	free(c);
}
