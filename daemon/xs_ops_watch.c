/* Per-connection state: WATCH, UNWATCH, RESET_WATCHES, transactions. */
#include "daemon/xs_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"
#include "lib/log.h"

int xs_op_watch(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	const char *vec[2];
	struct xs_conn *c = r->conn;
	size_t rel = 0;
	int err;

	if (xs_strings(r, vec, 2) != 2)
		return EINVAL;
	if ((err = xs_req_path(r, vec[0], true, path, &rel)) != 0)
		return err;
	if (xs_channel_rewatch(c, path, vec[1]))
		goto ack;
	if (!xs_privileged(r) && c->watches.count >= c->srv->quota.watches)
		return E2BIG;
	err = xs_watch_add(&c->srv->watches, &c->watches, c, path, vec[1],
			   rel);
	if (err)
		return err;
	err = xs_channel_watch_added(c, path, vec[1], rel);
	if (err) {
		xs_watch_remove(&c->srv->watches, &c->watches, path, vec[1]);
		return err;
	}
ack:
	xs_ack(r);
	/* Fired once at once: clients need no special first read. */
	xs_send_event(c, path + rel, vec[1]);
	return 0;
}

int xs_op_unwatch(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	const char *vec[2];
	int err;

	if (xs_strings(r, vec, 2) != 2)
		return EINVAL;
	err = xs_req_path(r, vec[0], true, path, NULL);
	if (!err)
		err = xs_watch_remove(&r->conn->srv->watches,
				      &r->conn->watches, path, vec[1]);
	if (!err)
		xs_channel_watch_removed(r->conn, path, vec[1]);
	return err ? err : xs_ack(r);
}

int xs_op_reset_watches(struct xs_req *r)
{
	xs_conn_reset(r->conn);
	if (r->conn->channel)
		xs_channel_forget(r->conn->srv, r->conn->who.domid);
	return xs_ack(r);
}

/* A transaction id that is neither 0 nor in use on this connection.  A
 * channel's come from its domain's count, which goes on across
 * reconnections and restarts (xs_dwatch.h). */
static uint32_t next_id(struct xs_conn *c)
{
	for (;;) {
		uint32_t id = xs_channel_txid(c);
		bool used = false;

		if (!id)
			id = c->next_txid++;

		for (unsigned i = 0; i < c->ntxs; i++)
			used |= xs_txn_id(c->txs[i]) == id;
		if (id && !used)
			return id;
	}
}

int xs_op_transaction_start(struct xs_req *r)
{
	struct xs_conn *c = r->conn;
	const struct xs_quota *q = &c->srv->quota;
	struct xs_txn *tx;
	char reply[16];
	int n;

	if (r->tx)
		return EBUSY;	/* no nesting */
	if (!xs_privileged(r) && c->ntxs >= q->transactions)
		return ENOSPC;
	if (c->ntxs == c->txcap) {
		unsigned cap = c->txcap ? c->txcap * 2 : 4;
		struct xs_txn **v = realloc(c->txs, cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		c->txs = v;
		c->txcap = cap;
	}
	tx = xs_txn_new(next_id(c), xs_privileged(r) ? 0 : q->tx_nodes);
	if (!tx)
		return ENOMEM;
	c->txs[c->ntxs++] = tx;
	n = snprintf(reply, sizeof(reply), "%u", xs_txn_id(tx));
	return xs_reply(r, reply, (size_t)n + 1);
}

static void forget_tx(struct xs_conn *c, struct xs_txn *tx)
{
	for (unsigned i = 0; i < c->ntxs; i++) {
		if (c->txs[i] == tx) {
			c->txs[i] = c->txs[--c->ntxs];
			return;
		}
	}
}

/* Node quota again at commit: other work may have used it meanwhile. */
static int commit_quota(struct xs_req *r)
{
	const struct xs_who *who = &r->conn->who;
	int delta = xs_view_owned_delta(&r->view, who->domid);

	if (who->privileged || delta <= 0)
		return 0;
	return xs_store_owned(r->view.db->store, who->domid) + (unsigned)delta >
	       r->conn->srv->quota.nodes ? ENOSPC : 0;
}

int xs_op_transaction_end(struct xs_req *r)
{
	const char *arg = xs_onearg(r);
	struct xs_txn *tx = r->tx;
	int err = 0;

	if (!arg || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return EINVAL;
	/* Unknown: maybe committed by the xenond before a restart, which
	 * died before answering; the guest's relay then asks again. */
	if (!tx && arg[0] == 'T' &&
	    xs_channel_was_committed(r->conn, r->hdr.tx_id))
		return xs_ack(r);
	if (!tx)
		return ENOENT;
	/* Whatever the outcome, the transaction is over. */
	forget_tx(r->conn, tx);
	if (arg[0] == 'T') {
		err = commit_quota(r);
		if (!err)
			err = xs_txn_commit(tx, r->view.db);
		if (!err) {
			xs_channel_committed(r->conn, xs_txn_id(tx));
			xs_fire_queue(r->conn->srv, xs_txn_events(tx));
		}
		if (err && err != EAGAIN && err != ENOSPC)
			log_error("xenstore: committing transaction %u of "
				  "dom%u: %s", xs_txn_id(tx),
				  r->conn->who.domid, strerror(err));
	}
	xs_txn_free(tx);
	r->tx = NULL;
	r->view.tx = NULL;
	return err ? err : xs_ack(r);
}
