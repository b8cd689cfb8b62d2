/* Watch events: who gets told about a change, and connection resets. */
#include "daemon/xs_core.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"
#include "lib/log.h"

static bool can_read(const struct xs_who *who, const struct xs_perm *p,
		     unsigned n)
{
	return n && (xs_perm_for(who, p, n) & XS_PERM_READ);
}

static bool live_readable(const struct xs_server *srv,
			  const struct xs_who *who, const char *path)
{
	const struct xs_node *n = xs_store_get(srv->db.store, path);

	return n && can_read(who, n->perms, n->nperms);
}

/*
 * Xen's rule: a connection hears about a node if it may read the node
 * (with its perms before or after the change) or, failing that, its
 * parent: so a reader learns of deletions below it.  Special events go
 * to whoever may read the special node.
 */
static bool visible(const struct xs_server *srv, const struct xs_who *who,
		    const char *path, const struct xs_perm *perms, unsigned n,
		    const struct xs_perm *old, unsigned nold)
{
	char parent[XS_PATH_BUF];
	size_t plen;

	if (who->privileged)
		return true;
	if (path[0] == '@')
		return live_readable(srv, who, path);
	if (can_read(who, perms, n) || can_read(who, old, nold))
		return true;
	if (live_readable(srv, who, path))
		return true;
	plen = xs_path_parent_len(path);
	if (strcmp(path, "/") == 0 || plen >= sizeof(parent))
		return false;
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	return live_readable(srv, who, parent);
}

struct fire_ctx {
	struct xs_server *srv;
	const char *path;
	const struct xs_perm *perms, *old;
	unsigned n, nold;
};

static void deliver(struct xs_watch *w, void *opaque)
{
	const struct fire_ctx *f = opaque;
	struct xs_conn *c = w->owner;
	const char *path = f->path;

	if (c->closing || !visible(f->srv, &c->who, path, f->perms, f->n,
				   f->old, f->nold))
		return;
	/* A relative watch hears relative paths. */
	if (w->rel_prefix && strlen(path) > w->rel_prefix)
		path += w->rel_prefix;
	xs_send_event(c, path, w->token);
}

void xs_server_fire(struct xs_server *srv, const char *path, bool exact,
		    const struct xs_perm *perms, unsigned n,
		    const struct xs_perm *old, unsigned nold)
{
	struct fire_ctx f = { srv, path, perms, old, n, nold };

	xs_watch_match(&srv->watches, path, exact, deliver, &f);
}

void xs_fire_queue(struct xs_server *srv, struct xs_evq *q)
{
	for (const struct xs_event *e = q->first; e; e = e->next)
		xs_server_fire(srv, e->path, e->exact, e->perms, e->nperms,
			       e->old, e->nold);
	xs_evq_clear(q);
}

void xs_fire(struct xs_req *r, const char *path, bool exact,
	     const struct xs_perm *perms, unsigned n,
	     const struct xs_perm *old, unsigned nold)
{
	if (!r->tx) {
		xs_server_fire(r->conn->srv, path, exact, perms, n, old, nold);
		return;
	}
	/* Changes in a transaction are announced if and when it commits. */
	if (xs_evq_push(xs_txn_events(r->tx), path, exact, perms, n, old,
			nold))
		log_warn("xenstore: out of memory queueing a watch event "
			 "for %s", path);
}

void xs_conn_reset(struct xs_conn *c)
{
	xs_watch_remove_all(&c->srv->watches, &c->watches);
	for (unsigned i = 0; i < c->ntxs; i++)
		xs_txn_free(c->txs[i]);
	c->ntxs = 0;
}

void xs_apply_target(struct xs_server *srv, struct xs_conn *c)
{
	c->who.has_target = false;
	if (c->who.privileged)
		return;
	for (unsigned i = 0; i < srv->ntargets; i++) {
		if (srv->targets[i].domid == c->who.domid) {
			c->who.has_target = true;
			c->who.target = srv->targets[i].target;
		}
	}
}
