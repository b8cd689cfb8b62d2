/*
 * The xenstore tree in memory: nodes found by full path through a hash
 * table, each holding its value, permissions and its children sorted by
 * name.  This layer knows nothing of connections, permissions checks,
 * transactions or persistence; it only keeps the tree consistent and
 * counts the nodes each domain owns (for quotas).
 *
 * Special nodes ("@releaseDomain") live in the same table with no parent.
 */
#ifndef XENON_XS_STORE_H
#define XENON_XS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/xs_hmap.h"
#include "daemon/xs_perms.h"

struct xs_node {
	struct xs_hent h;	/* h.key == path */
	char *path;
	char *value;		/* vlen bytes, plus a nul for convenience */
	uint32_t vlen;
	uint32_t nperms;
	struct xs_perm *perms;	/* perms[0].domid owns the node */
	struct xs_node **kids;	/* sorted by base name */
	uint32_t nkids, kcap;
	uint64_t gen;		/* bumped on any change, incl. child list */
};

struct xs_store;

/* A new store holding only "/" (owned by dom0, no access for others). */
struct xs_store *xs_store_new(void);
void xs_store_free(struct xs_store *s);

const struct xs_node *xs_store_get(const struct xs_store *s, const char *path);

/* Create path (its parent must exist, except for '@' nodes) or replace its
 * value and perms (n >= 1).  Returns 0, ENOENT or ENOMEM. */
int xs_store_put(struct xs_store *s, const char *path, const void *value,
		 uint32_t vlen, const struct xs_perm *perms, unsigned n);

/* Remove path and all below it.  Returns 0, ENOENT, or EINVAL for "/". */
int xs_store_del(struct xs_store *s, const char *path);

/* Index of the child named `name` in n->kids, or -1. */
long xs_node_find_kid(const struct xs_node *n, const char *name);

/* Nodes whose owner is domid. */
unsigned xs_store_owned(const struct xs_store *s, unsigned domid);
size_t xs_store_count(const struct xs_store *s);
/* The generation counter: grows with every change. */
uint64_t xs_store_gen(const struct xs_store *s);

/* Call fn on every node, each parent before its children, then on the
 * special nodes.  Stops early and returns fn's value if it is nonzero. */
int xs_store_walk(const struct xs_store *s,
		  int (*fn)(const struct xs_node *n, void *opaque),
		  void *opaque);

#endif
