/* The live tree: changes applied at once and journaled. */
#include "daemon/xs_txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int xs_db_put(struct xs_db *db, const char *path, const void *value,
	      uint32_t vlen, const struct xs_perm *perms, unsigned n)
{
	int err = xs_store_put(db->store, path, value, vlen, perms, n);

	if (!err)
		xs_persist_put(db->persist, xs_store_get(db->store, path));
	return err;
}

int xs_db_del(struct xs_db *db, const char *path)
{
	int err = xs_store_del(db->store, path);

	if (!err)
		xs_persist_del(db->persist, path);
	return err;
}

int xs_db_get(struct xs_db *db, const char *path, struct xs_nodeview *nv)
{
	const struct xs_node *n = xs_store_get(db->store, path);

	if (!n)
		return ENOENT;
	nv->value = n->value;
	nv->vlen = n->vlen;
	nv->perms = n->perms;
	nv->nperms = n->nperms;
	nv->gen = n->gen;
	return 0;
}

int xs_db_children(struct xs_db *db, const char *path,
		   int (*fn)(const char *name, void *opaque), void *opaque)
{
	const struct xs_node *n = xs_store_get(db->store, path);
	int r = 0;

	if (!n)
		return ENOENT;
	for (uint32_t i = 0; !r && i < n->nkids; i++)
		r = fn(strrchr(n->kids[i]->path, '/') + 1, opaque);
	return r;
}

static void report_gone(const struct xs_node *n, xs_gone_fn gone,
			void *opaque)
{
	for (uint32_t i = 0; i < n->nkids; i++)
		report_gone(n->kids[i], gone, opaque);
	gone(n->path, n->perms, n->nperms, opaque);
}

int xs_db_del_tree(struct xs_db *db, const char *path, xs_gone_fn gone,
		   void *opaque)
{
	const struct xs_node *n = xs_store_get(db->store, path);

	if (!n)
		return ENOENT;
	if (strcmp(path, "/") == 0)
		return EINVAL;
	/* Report first: the nodes' perms are still there to read. */
	if (gone)
		report_gone(n, gone, opaque);
	return xs_db_del(db, path);
}
