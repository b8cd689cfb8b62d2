/*
 * Internals shared by the xenstore server's files: the connection and
 * server structures and the request context handlers work with.
 */
#ifndef XENON_XS_CORE_H
#define XENON_XS_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/xs_buf.h"
#include "daemon/xs_dwatch.h"
#include "daemon/xs_perms.h"
#include "daemon/xs_quota.h"
#include "daemon/xs_server.h"
#include "daemon/xs_txn.h"
#include "daemon/xs_watch.h"
#include "lib/xs_wire.h"

struct xs_conn {
	struct xs_server *srv;
	struct xs_conn *next, *prev;
	uint64_t serial;		/* for log messages */
	struct xs_who who;
	const struct xs_conn_ops *ops;
	void *opaque;
	struct xs_buf in, out;
	struct xs_watch_list watches;
	struct xs_txn **txs;
	unsigned ntxs, txcap;
	uint32_t next_txid;
	const char *closing;		/* reason, once it must close */
	bool channel;			/* the domain's own: durable watches */
};

struct xs_target {
	unsigned domid, target;
};

struct xs_server {
	struct xs_db db;
	struct xs_quota quota;
	struct xs_watch_index watches;
	struct xs_dwatches dwatches;	/* of domain channels, persisted */
	struct xs_conn *conns;
	uint64_t next_serial;
	uint8_t introduced[65536 / 8];
	struct xs_target *targets;
	unsigned ntargets;
	char payload[XENSTORE_PAYLOAD_MAX + 1];	/* request, nul-ended */
};

/* One request being handled. */
struct xs_req {
	struct xs_conn *conn;
	struct xsd_sockmsg hdr;
	const char *data;	/* payload, with a nul at data[len] */
	uint32_t len;
	struct xs_txn *tx;
	struct xs_view view;
};

/* Handlers return 0 once they replied, or an errno to send as XS_ERROR. */
typedef int (*xs_handler)(struct xs_req *r);

/* --- replies and arguments (xs_server.c) ---------------------------------- */

int xs_reply(struct xs_req *r, const void *data, size_t len);
int xs_ack(struct xs_req *r);
/* The payload if it is exactly one nul-terminated string, else NULL. */
const char *xs_onearg(const struct xs_req *r);
/* Number of nul-terminated strings; the first `max` go into vec. */
unsigned xs_strings(const struct xs_req *r, const char **vec, unsigned max);
/* Canonicalise a client path for this connection (see xs_path_canon). */
int xs_req_path(const struct xs_req *r, const char *in, bool special,
		char *out, size_t *rel_prefix);
bool xs_privileged(const struct xs_req *r);

/* --- watch events (xs_events.c) ---------------------------------------- */

/* Announce a change now, or at commit when inside a transaction. */
void xs_fire(struct xs_req *r, const char *path, bool exact,
	     const struct xs_perm *perms, unsigned n,
	     const struct xs_perm *old, unsigned nold);
/* Deliver an event to every matching watch allowed to see it. */
void xs_server_fire(struct xs_server *srv, const char *path, bool exact,
		    const struct xs_perm *perms, unsigned n,
		    const struct xs_perm *old, unsigned nold);
/* Deliver the events a committed transaction queued. */
void xs_fire_queue(struct xs_server *srv, struct xs_evq *q);
/* Queue a WATCH_EVENT for one connection. */
void xs_send_event(struct xs_conn *c, const char *path, const char *token);
/* Drop a connection's watches and transactions (RESET_WATCHES etc.). */
void xs_conn_reset(struct xs_conn *c);
/* Set a domain's SET_TARGET on its connections (0 entries = none). */
void xs_apply_target(struct xs_server *srv, struct xs_conn *c);

/* --- handlers ------------------------------------------------------------ */

/* xs_ops_node.c */
int xs_op_read(struct xs_req *r);
int xs_op_write(struct xs_req *r);
int xs_op_mkdir(struct xs_req *r);
int xs_op_rm(struct xs_req *r);
int xs_op_directory(struct xs_req *r);
int xs_op_directory_part(struct xs_req *r);
int xs_op_get_perms(struct xs_req *r);
int xs_op_set_perms(struct xs_req *r);
/* Access check as xenstored does it: 0 with the node in nv, ENOENT when
 * absent (but the nearest ancestor grants `need`), else EACCES. */
int xs_check_node(struct xs_req *r, const char *path, unsigned need,
		  struct xs_nodeview *nv);

/* xs_ops_watch.c */
int xs_op_watch(struct xs_req *r);
int xs_op_unwatch(struct xs_req *r);
int xs_op_reset_watches(struct xs_req *r);
int xs_op_transaction_start(struct xs_req *r);
int xs_op_transaction_end(struct xs_req *r);

/* xs_ops_domain.c */
int xs_op_introduce(struct xs_req *r);
int xs_op_release(struct xs_req *r);
int xs_op_is_domain_introduced(struct xs_req *r);
int xs_op_get_domain_path(struct xs_req *r);
int xs_op_resume(struct xs_req *r);
int xs_op_set_target(struct xs_req *r);
int xs_op_restrict(struct xs_req *r);
bool xs_domain_introduced(const struct xs_server *srv, unsigned domid);

/* xs_channel.c: durable watches of channel connections */
int xs_channel_watch_added(struct xs_conn *c, const char *path,
			   const char *token, size_t rel_prefix);
void xs_channel_watch_removed(struct xs_conn *c, const char *path,
			      const char *token);
void xs_channel_forget(struct xs_server *srv, unsigned domid);
/* A WATCH repeating a re-armed watch: acknowledged, not EEXIST (the
 * guest's relay re-sends requests in flight at a restart). */
bool xs_channel_rewatch(struct xs_conn *c, const char *path,
			const char *token);
/* Transaction ids of a channel: the next one (0: not a channel), one
 * committed (recorded with the commit's journal entry), and whether an
 * id unknown to the connection was committed before it (a restart or a
 * reconnection in between: its TRANSACTION_END is then acknowledged). */
uint32_t xs_channel_txid(struct xs_conn *c);
void xs_channel_committed(struct xs_conn *c, uint32_t txid);
bool xs_channel_was_committed(const struct xs_conn *c, uint32_t txid);

/* xs_control.c */
int xs_op_control(struct xs_req *r);

#endif
