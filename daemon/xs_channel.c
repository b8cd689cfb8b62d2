/*
 * Domain channel connections (xs_conn_make_channel): their watches are
 * durable.  Each WATCH/UNWATCH is mirrored into srv->dwatches and journaled
 * with the request's other changes, so it is on disk before the reply
 * leaves; a new channel of the domain gets them all back.  Likewise the
 * ids of the transactions it committed last, so that a TRANSACTION_END
 * sent again after a restart is answered as it was meant to be.
 */
#include "daemon/xs_core.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"

int xs_channel_watch_added(struct xs_conn *c, const char *path,
			   const char *token, size_t rel_prefix)
{
	int err;

	if (!c->channel)
		return 0;
	err = xs_dwatch_add(&c->srv->dwatches, c->who.domid, path, token,
			    rel_prefix);
	if (err == EEXIST)
		return 0;
	if (!err)
		xs_persist_watch(c->srv->db.persist, 'W', c->who.domid, path,
				 token, rel_prefix);
	return err;
}

void xs_channel_watch_removed(struct xs_conn *c, const char *path,
			      const char *token)
{
	if (c->channel && xs_dwatch_del(&c->srv->dwatches, c->who.domid,
					path, token) == 0)
		xs_persist_watch(c->srv->db.persist, 'U', c->who.domid, path,
				 token, 0);
}

void xs_channel_forget(struct xs_server *srv, unsigned domid)
{
	if (xs_dwatch_forget_domain(&srv->dwatches, domid))
		xs_persist_watch(srv->db.persist, 'R', domid, NULL, NULL, 0);
}

uint32_t xs_channel_txid(struct xs_conn *c)
{
	return c->channel ? xs_dcommit_next_id(&c->srv->dwatches,
						c->who.domid) : 0;
}

void xs_channel_committed(struct xs_conn *c, uint32_t txid)
{
	if (!c->channel)
		return;
	if (xs_dcommit_add(&c->srv->dwatches, c->who.domid, txid) == 0)
		xs_persist_txmark(c->srv->db.persist, c->who.domid, txid);
	else
		log_warn("xenstore: domain %u: out of memory recording the "
			 "commit of transaction %u", c->who.domid, txid);
}

bool xs_channel_was_committed(const struct xs_conn *c, uint32_t txid)
{
	return c->channel && xs_dcommit_has(&c->srv->dwatches, c->who.domid,
					    txid);
}

bool xs_channel_rewatch(struct xs_conn *c, const char *path,
			const char *token)
{
	struct xs_watch *w = xs_watch_find(&c->srv->watches, &c->watches,
					   path, token);

	if (!c->channel || !w || !w->restored)
		return false;
	w->restored = false;
	return true;
}

struct rearm_ctx {
	struct xs_conn *c;
	int count;
};

static int rearm(const struct xs_dwatch *dw, void *opaque)
{
	struct rearm_ctx *rc = opaque;
	struct xs_conn *c = rc->c;
	struct xs_watch *w;
	int err = xs_watch_add(&c->srv->watches, &c->watches, c, dw->path,
			       dw->token, dw->rel_prefix);

	if (err == EEXIST)
		return 0;
	if (err)
		return err;
	w = xs_watch_find(&c->srv->watches, &c->watches, dw->path, dw->token);
	w->restored = true;
	rc->count++;
	/* As on registration: the guest re-reads what it watches, so a
	 * change it missed while the channel was down is not lost. */
	xs_send_event(c, dw->path + dw->rel_prefix, dw->token);
	return 0;
}

int xs_conn_make_channel(struct xs_conn *c)
{
	struct rearm_ctx rc = { c, 0 };
	int err;

	if (c->who.privileged)
		return -1;
	c->channel = true;
	err = xs_dwatch_each(&c->srv->dwatches, c->who.domid, rearm, &rc);
	if (err) {
		log_error("xenstore: re-arming the watches of domain %u: %s",
			  c->who.domid, strerror(err));
		return -1;
	}
	if (rc.count)
		log_info("xenstore: domain %u channel connected; %d watches "
			 "re-armed", c->who.domid, rc.count);
	return rc.count;
}

/* ---- moving a domain's durable watches (save/restore, migration) ------- */

int xs_server_watch_import(struct xs_server *srv, unsigned domid,
			   const char *path, const char *token,
			   size_t rel_prefix)
{
	int err = xs_dwatch_add(&srv->dwatches, domid, path, token, rel_prefix);

	if (err == EEXIST)
		return 0;
	if (!err)
		xs_persist_watch(srv->db.persist, 'W', domid, path, token,
				 rel_prefix);
	return err;
}

struct export_ctx {
	void (*fn)(void *opaque, const char *path, const char *token,
		   size_t rel_prefix);
	void *opaque;
};

static int export_one(const struct xs_dwatch *w, void *opaque)
{
	struct export_ctx *x = opaque;

	x->fn(x->opaque, w->path, w->token, w->rel_prefix);
	return 0;
}

void xs_server_watch_export(struct xs_server *srv, unsigned domid,
			    void (*fn)(void *opaque, const char *path,
				       const char *token, size_t rel_prefix),
			    void *opaque)
{
	struct export_ctx x = { fn, opaque };

	xs_dwatch_each(&srv->dwatches, domid, export_one, &x);
}
