/*
 * The nodes a guest wrote into its own part of the store, for save files
 * and migration (daemon/domain_guest_nodes.c).  A guest does not know it
 * was saved or moved, so what it wrote (control/feature-*, data/...) has
 * to come back with it, as its watches do.
 */
#include "daemon/xs_core.h"

#include <string.h>

#include "daemon/xs_store.h"

struct node_export {
	const char *prefix;
	size_t plen;
	unsigned owner;
	void (*fn)(void *opaque, const char *rel, const char *value,
		   size_t vlen, const struct xs_perm *perms, unsigned nperms);
	void *opaque;
};

static int export_node(const struct xs_node *n, void *opaque)
{
	struct node_export *x = opaque;

	if (n->nperms && n->perms[0].domid == x->owner &&
	    !strncmp(n->path, x->prefix, x->plen) && n->path[x->plen] == '/')
		x->fn(x->opaque, n->path + x->plen + 1, n->value, n->vlen,
		      n->perms, n->nperms);
	return 0;
}

void xs_server_node_export(struct xs_server *srv, const char *prefix,
			   unsigned owner,
			   void (*fn)(void *opaque, const char *rel,
				      const char *value, size_t vlen,
				      const struct xs_perm *perms,
				      unsigned nperms),
			   void *opaque)
{
	struct node_export x = { prefix, strlen(prefix), owner, fn, opaque };

	xs_store_walk(srv->db.store, export_node, &x);
}
