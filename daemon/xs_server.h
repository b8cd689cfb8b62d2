/*
 * The xenstore service, independent of any transport.
 *
 * A transport (the UNIX socket today, a guest ring later) creates one
 * xs_conn per client, bound to a domain id, feeds it the bytes the client
 * sent and sends the client whatever xs_conn_output() holds.  Domain 0
 * connections are privileged.  Everything runs on one thread.
 *
 * Before sending any output, a transport must call xs_server_flush(): that
 * writes the journal, so no reply leaves before its change is recorded.
 */
#ifndef XENON_XS_SERVER_H
#define XENON_XS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/xs_perms.h"
#include "daemon/xs_quota.h"

struct xs_server;
struct xs_conn;

/*
 * Create the service.  With a state_dir, the tree is loaded from it and
 * kept durable there; with NULL it lives in memory only (tests).  The
 * standard layout (/local/domain/0, /vm, /tool) is created if missing.
 * Returns NULL with a sentence in err on failure.
 */
struct xs_server *xs_server_new(const struct xs_quota *quota,
				const char *state_dir, char *err,
				size_t errlen);
/* Frees all connections' server state too (transports must not use
 * their xs_conn afterwards). */
void xs_server_free(struct xs_server *srv);

/* Write queued journal entries; call before sending any output. */
int xs_server_flush(struct xs_server *srv);
/* Periodic work: fdatasync the journal, compact it when large. */
void xs_server_tick(struct xs_server *srv);
/* Snapshot now (used on shutdown).  0 or -1. */
int xs_server_compact(struct xs_server *srv);
/* Journal size that triggers compaction. */
void xs_server_set_compact_bytes(struct xs_server *srv, size_t bytes);

/* Domain life cycle, for the daemon's domain manager: the same effects as
 * XS_INTRODUCE / XS_RELEASE from dom0. */
int xs_server_introduce(struct xs_server *srv, unsigned domid);
int xs_server_release(struct xs_server *srv, unsigned domid);

/* A domain's durable watches (those set through its channel), to carry
 * them with the domain when it is saved or migrated: export calls fn for
 * each; import adds one (journaled) before the domain's channel connects,
 * so that the connection re-arms it.  Import returns 0 or an errno. */
void xs_server_watch_export(struct xs_server *srv, unsigned domid,
			    void (*fn)(void *opaque, const char *path,
				       const char *token, size_t rel_prefix),
			    void *opaque);
/* Nodes below prefix (parents first) whose owner is `owner`: fn gets
 * each one's path relative to prefix, its value and its permissions
 * ("n5", "r0", ... as on the wire; perms[0] is the owner's). */
void xs_server_node_export(struct xs_server *srv, const char *prefix,
			   unsigned owner,
			   void (*fn)(void *opaque, const char *rel,
				      const char *value, size_t vlen,
				      const struct xs_perm *perms,
				      unsigned nperms),
			   void *opaque);
int xs_server_watch_import(struct xs_server *srv, unsigned domid,
			   const char *path, const char *token,
			   size_t rel_prefix);

struct xs_conn_ops {
	/* Output was queued outside a feed (a watch event), or the
	 * connection must now be closed; the transport should look. */
	void (*wake)(void *opaque);
};

struct xs_conn *xs_conn_new(struct xs_server *srv, unsigned domid,
			    const struct xs_conn_ops *ops, void *opaque);
void xs_conn_free(struct xs_conn *c);

/*
 * Make c (an unprivileged connection) its domain's own channel, the one
 * the domain's xenon-vmm relays: its watches become durable (recorded in
 * the state directory, kept when the connection goes) and every durable
 * watch the domain already has is re-armed on c now and fired once, as a
 * new watch is.  So a guest whose channel reconnects after a xenond
 * restart still hears of changes it watched.  UNWATCH, RESET_WATCHES and
 * xs_server_release() forget durable watches; closing c does not.  Call
 * once the transport can take wake() calls; one channel per domain at a
 * time.  Returns the number of watches re-armed, or -1 (ENOMEM, logged).
 */
int xs_conn_make_channel(struct xs_conn *c);

/* Take bytes the client sent and handle every complete request.  Returns
 * 0, or -1 if the connection must be closed (see xs_conn_closing). */
int xs_conn_feed(struct xs_conn *c, const void *data, size_t len);
/* Handle requests still buffered (after output drained). */
void xs_conn_process(struct xs_conn *c);
/* Should the transport read more from this client now?  False while its
 * unsent output is large (backpressure) or it is closing. */
bool xs_conn_want_input(const struct xs_conn *c);

/* Bytes waiting to be sent, and marking some as sent. */
size_t xs_conn_output(const struct xs_conn *c, const void **data);
void xs_conn_consume(struct xs_conn *c, size_t n);

/* Must the transport close it?  *reason names why, for the log. */
bool xs_conn_closing(const struct xs_conn *c, const char **reason);
unsigned xs_conn_domid(const struct xs_conn *c);

#endif
