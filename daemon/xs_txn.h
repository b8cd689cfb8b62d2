/*
 * Views and transactions.
 *
 * Request handlers read and change the tree through an xs_view.  Without
 * a transaction the view is the live tree: each change is applied at once
 * and journaled (xs_db).  With one, changes go to the transaction's
 * private overlay, and every node it touches records the generation the
 * live node had when first touched.  Commit succeeds only if none of
 * those nodes changed since (else EAGAIN, and the client retries), then
 * applies the overlay as one journal entry.  So a committed transaction
 * behaves as if it ran alone at the commit instant; this is the
 * optimistic scheme xenstored uses, where only conflicting writes, not
 * any write, force a retry.
 */
#ifndef XENON_XS_TXN_H
#define XENON_XS_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/xs_persist.h"
#include "daemon/xs_store.h"
#include "daemon/xs_watch.h"

/* The live tree and its journal: all live changes go through these. */
struct xs_db {
	struct xs_store *store;
	struct xs_persist *persist;	/* NULL: memory only */
};

int xs_db_put(struct xs_db *db, const char *path, const void *value,
	      uint32_t vlen, const struct xs_perm *perms, unsigned n);
int xs_db_del(struct xs_db *db, const char *path);

struct xs_nodeview;
typedef void (*xs_gone_fn)(const char *path, const struct xs_perm *perms,
			   unsigned n, void *opaque);

/* The live-tree halves of the xs_view_* calls below. */
int xs_db_get(struct xs_db *db, const char *path, struct xs_nodeview *nv);
int xs_db_children(struct xs_db *db, const char *path,
		   int (*fn)(const char *name, void *opaque), void *opaque);
int xs_db_del_tree(struct xs_db *db, const char *path, xs_gone_fn gone,
		   void *opaque);

struct xs_txn;

struct xs_view {
	struct xs_db *db;
	struct xs_txn *tx;	/* NULL: the live tree */
};

/* A node as a view sees it; valid until the view next changes. */
struct xs_nodeview {
	const char *value;
	uint32_t vlen;
	unsigned nperms;
	const struct xs_perm *perms;
	uint64_t gen;
};

/* 0, ENOENT, or ENOSPC when a transaction touches too many nodes. */
int xs_view_get(struct xs_view *v, const char *path, struct xs_nodeview *nv);

/* Call fn with each child name of path in sorted order; stops when fn
 * returns nonzero and returns that.  ENOENT if path is absent. */
int xs_view_children(struct xs_view *v, const char *path,
		     int (*fn)(const char *name, void *opaque), void *opaque);

/* Create path (its parent must exist: else ENOENT) or replace its value
 * and perms. */
int xs_view_put(struct xs_view *v, const char *path, const void *value,
		uint32_t vlen, const struct xs_perm *perms, unsigned n);

/* A delete calls `gone` for each node it removes, children first. */
/* Delete path and everything below it.  0 or ENOENT (or ENOSPC/ENOMEM in
 * a transaction). */
int xs_view_del(struct xs_view *v, const char *path, xs_gone_fn gone,
		void *opaque);

/* How many more nodes domid owns in this view than in the live tree. */
int xs_view_owned_delta(const struct xs_view *v, unsigned domid);

/* --- transactions ------------------------------------------------------ */

/* max_nodes: how many nodes it may touch (0 = no limit). */
struct xs_txn *xs_txn_new(uint32_t id, unsigned max_nodes);
void xs_txn_free(struct xs_txn *tx);
uint32_t xs_txn_id(const struct xs_txn *tx);
/* Watch events to fire if the transaction commits. */
struct xs_evq *xs_txn_events(struct xs_txn *tx);

/* Validate and apply.  0, EAGAIN (a touched node changed), ENOMEM. */
int xs_txn_commit(struct xs_txn *tx, struct xs_db *db);

#endif
