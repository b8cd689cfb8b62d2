/* Transaction overlays, and the xs_view calls that pick live or overlay. */
#include "daemon/xs_txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"

/* One node as the transaction sees it. */
struct entry {
	struct xs_hent h;
	char *path;
	bool base_present;	/* live node existed when first touched */
	uint64_t base_gen;	/* ... with this generation */
	bool present;		/* exists in the transaction's view */
	bool dirty;		/* value, perms or existence changed */
	char *value;
	uint32_t vlen;
	unsigned nperms;
	struct xs_perm *perms;
	bool own_kids;		/* kids[] below replaces the live child list */
	char **kids;		/* sorted names */
	uint32_t nkids, kcap;
};

struct owner_delta {
	unsigned domid;
	int delta;
};

struct xs_txn {
	uint32_t id;
	unsigned max_nodes;
	struct xs_hmap entries;
	struct owner_delta *deltas;
	unsigned ndeltas;
	struct xs_evq events;
};

struct xs_txn *xs_txn_new(uint32_t id, unsigned max_nodes)
{
	struct xs_txn *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	tx->id = id;
	tx->max_nodes = max_nodes;
	xs_hmap_init(&tx->entries);
	xs_evq_init(&tx->events);
	return tx;
}

static void kids_clear(struct entry *e)
{
	for (uint32_t i = 0; i < e->nkids; i++)
		free(e->kids[i]);
	e->nkids = 0;
}

static void entry_free(struct entry *e)
{
	kids_clear(e);
	free(e->kids);
	free(e->path);
	free(e->value);
	free(e->perms);
	free(e);
}

void xs_txn_free(struct xs_txn *tx)
{
	struct xs_hent *h, *next;
	size_t it;

	if (!tx)
		return;
	for (h = xs_hmap_first(&tx->entries, &it); h; h = next) {
		next = xs_hmap_next(&tx->entries, h, &it);
		entry_free(xs_container_of(h, struct entry, h));
	}
	xs_hmap_destroy(&tx->entries);
	xs_evq_clear(&tx->events);
	free(tx->deltas);
	free(tx);
}

uint32_t xs_txn_id(const struct xs_txn *tx)
{
	return tx->id;
}

struct xs_evq *xs_txn_events(struct xs_txn *tx)
{
	return &tx->events;
}

/* --- entries ----------------------------------------------------------- */

static int entry_set(struct entry *e, const void *value, uint32_t vlen,
		     const struct xs_perm *perms, unsigned n)
{
	char *v = malloc((size_t)vlen + 1);
	struct xs_perm *p = malloc(n * sizeof(*p));

	if (!v || !p) {
		free(v);
		free(p);
		return ENOMEM;
	}
	if (vlen)
		memcpy(v, value, vlen);
	v[vlen] = '\0';
	memcpy(p, perms, n * sizeof(*p));
	free(e->value);
	free(e->perms);
	e->value = v;
	e->vlen = vlen;
	e->perms = p;
	e->nperms = n;
	return 0;
}

/* The entry for path, copying the live node in on first touch. */
static int load(struct xs_txn *tx, struct xs_db *db, const char *path,
		struct entry **out)
{
	struct xs_hent *h = xs_hmap_get(&tx->entries, path);
	const struct xs_node *live;
	struct entry *e;

	if (h) {
		*out = xs_container_of(h, struct entry, h);
		return 0;
	}
	if (tx->max_nodes && tx->entries.count >= tx->max_nodes)
		return ENOSPC;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path)))
		goto nomem;
	e->h.key = e->path;
	live = xs_store_get(db->store, path);
	if (live) {
		e->base_present = e->present = true;
		e->base_gen = live->gen;
		if (entry_set(e, live->value, live->vlen, live->perms,
			      live->nperms))
			goto nomem;
	}
	if (xs_hmap_add(&tx->entries, &e->h))
		goto nomem;
	*out = e;
	return 0;
nomem:
	if (e)
		entry_free(e);
	return ENOMEM;
}

static long kid_search(const struct entry *e, const char *name,
		       uint32_t *pos)
{
	uint32_t lo = 0, hi = e->nkids;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(e->kids[mid], name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return -1;
}

static int kid_add(struct entry *e, const char *name)
{
	uint32_t pos;
	char *dup;

	if (kid_search(e, name, &pos) >= 0)
		return 0;
	if (e->nkids == e->kcap) {
		uint32_t cap = e->kcap ? e->kcap * 2 : 8;
		char **k = realloc(e->kids, cap * sizeof(*k));
		if (!k)
			return ENOMEM;
		e->kids = k;
		e->kcap = cap;
	}
	if (!(dup = strdup(name)))
		return ENOMEM;
	memmove(&e->kids[pos + 1], &e->kids[pos],
		(e->nkids - pos) * sizeof(*e->kids));
	e->kids[pos] = dup;
	e->nkids++;
	return 0;
}

static void kid_del(struct entry *e, const char *name)
{
	uint32_t pos;
	long i = kid_search(e, name, &pos);

	if (i < 0)
		return;
	free(e->kids[i]);
	memmove(&e->kids[i], &e->kids[i + 1],
		(e->nkids - (uint32_t)i - 1) * sizeof(*e->kids));
	e->nkids--;
}

static int copy_kid(const char *name, void *opaque)
{
	return kid_add(opaque, name);
}

/* Give e its own child list, starting from the live one. */
static int own_kids(struct entry *e, struct xs_db *db)
{
	int err = 0;

	if (e->own_kids)
		return 0;
	if (e->base_present)
		err = xs_db_children(db, e->path, copy_kid, e);
	if (err == ENOENT)	/* deleted meanwhile: commit will fail */
		err = 0;
	if (err)
		kids_clear(e);
	else
		e->own_kids = true;
	return err;
}

static void add_delta(struct xs_txn *tx, unsigned domid, int d)
{
	struct owner_delta *nd;

	for (unsigned i = 0; i < tx->ndeltas; i++) {
		if (tx->deltas[i].domid == domid) {
			tx->deltas[i].delta += d;
			return;
		}
	}
	nd = realloc(tx->deltas, (tx->ndeltas + 1) * sizeof(*nd));
	if (!nd)
		return;	/* only quota accounting suffers */
	tx->deltas = nd;
	tx->deltas[tx->ndeltas].domid = domid;
	tx->deltas[tx->ndeltas].delta = d;
	tx->ndeltas++;
}

/* The parent's entry, for paths that have one in the tree. */
static int load_parent(struct xs_txn *tx, struct xs_db *db, const char *path,
		       struct entry **out)
{
	char buf[XS_PATH_BUF];
	size_t len = xs_path_parent_len(path);

	memcpy(buf, path, len);
	buf[len] = '\0';
	return load(tx, db, buf, out);
}

static bool has_parent(const char *path)
{
	return path[0] == '/' && path[1] != '\0';
}

/* --- the transaction's view -------------------------------------------- */

static int tx_get(struct xs_txn *tx, struct xs_db *db, const char *path,
		  struct xs_nodeview *nv)
{
	struct entry *e;
	int err = load(tx, db, path, &e);

	if (err)
		return err;
	if (!e->present)
		return ENOENT;
	nv->value = e->value;
	nv->vlen = e->vlen;
	nv->perms = e->perms;
	nv->nperms = e->nperms;
	nv->gen = e->base_gen;
	return 0;
}

static int tx_children(struct xs_txn *tx, struct xs_db *db, const char *path,
		       int (*fn)(const char *, void *), void *opaque)
{
	struct entry *e;
	int err = load(tx, db, path, &e), r = 0;

	if (err)
		return err;
	if (!e->present)
		return ENOENT;
	if (!e->own_kids) {
		err = xs_db_children(db, path, fn, opaque);
		return err == ENOENT ? 0 : err;
	}
	for (uint32_t i = 0; !r && i < e->nkids; i++)
		r = fn(e->kids[i], opaque);
	return r;
}

static int tx_put(struct xs_txn *tx, struct xs_db *db, const char *path,
		  const void *value, uint32_t vlen,
		  const struct xs_perm *perms, unsigned n)
{
	struct entry *e, *parent = NULL;
	bool creating;
	int err = load(tx, db, path, &e);

	if (err)
		return err;
	creating = !e->present;
	if (creating && has_parent(path)) {
		err = load_parent(tx, db, path, &parent);
		if (!err && !parent->present)
			err = ENOENT;
		if (!err)
			err = own_kids(parent, db);
		if (!err)
			err = kid_add(parent, xs_path_base(path));
		if (err)
			return err;
	}
	if (!creating)
		add_delta(tx, e->perms[0].domid, -1);
	if ((err = entry_set(e, value, vlen, perms, n)) != 0) {
		if (!creating)
			add_delta(tx, e->perms[0].domid, +1);
		return err;
	}
	add_delta(tx, perms[0].domid, +1);
	if (creating && !e->own_kids) {
		kids_clear(e);
		e->own_kids = true;
	}
	e->present = e->dirty = true;
	return 0;
}

static int collect_kid(const char *name, void *opaque)
{
	struct entry *list = opaque;

	return kid_add(list, name);
}

static int tx_del(struct xs_txn *tx, struct xs_db *db, const char *path,
		  xs_gone_fn gone, void *opaque);

/* Delete every child of e (a snapshot of the list: it changes). */
static int del_kids(struct xs_txn *tx, struct xs_db *db, struct entry *e,
		    xs_gone_fn gone, void *opaque)
{
	struct entry names = { 0 };
	size_t plen = strlen(e->path);
	char *child = malloc(XS_PATH_BUF);
	int err = child ? tx_children(tx, db, e->path, collect_kid, &names)
			: ENOMEM;

	for (uint32_t i = 0; !err && i < names.nkids; i++) {
		if (plen + 1 + strlen(names.kids[i]) >= XS_PATH_BUF)
			continue;
		xs_path_join(e->path, names.kids[i], child, XS_PATH_BUF);
		err = tx_del(tx, db, child, gone, opaque);
		if (err == ENOENT)
			err = 0;
	}
	kids_clear(&names);
	free(names.kids);
	free(child);
	return err;
}

static int tx_del(struct xs_txn *tx, struct xs_db *db, const char *path,
		  xs_gone_fn gone, void *opaque)
{
	struct entry *e, *parent = NULL;
	int err = load(tx, db, path, &e);

	if (err)
		return err;
	if (!e->present)
		return ENOENT;
	if (strcmp(path, "/") == 0)
		return EINVAL;
	if (has_parent(path)) {
		err = load_parent(tx, db, path, &parent);
		if (!err && parent->present)
			err = own_kids(parent, db);
		if (err)
			return err;
	}
	/* The entry pointer stays valid: entries are never freed early. */
	if ((err = del_kids(tx, db, e, gone, opaque)) != 0)
		return err;
	if (gone)
		gone(path, e->perms, e->nperms, opaque);
	add_delta(tx, e->perms[0].domid, -1);
	free(e->value);
	free(e->perms);
	e->value = NULL;
	e->perms = NULL;
	e->vlen = e->nperms = 0;
	kids_clear(e);
	e->own_kids = true;
	e->present = false;
	e->dirty = true;
	if (parent && parent->present)
		kid_del(parent, xs_path_base(path));
	return 0;
}

/* --- commit ------------------------------------------------------------ */

static bool unchanged(const struct entry *e, struct xs_db *db)
{
	const struct xs_node *live = xs_store_get(db->store, e->path);

	if (!live)
		return !e->base_present;
	return e->base_present && live->gen == e->base_gen;
}

static int cmp_path(const void *a, const void *b)
{
	const struct entry *ea = *(const struct entry *const *)a;
	const struct entry *eb = *(const struct entry *const *)b;

	return strcmp(ea->path, eb->path);
}

/* Dirty entries that exist, parents (path prefixes) first. */
static struct entry **sorted_puts(struct xs_txn *tx, size_t *n)
{
	struct entry **v = malloc((tx->entries.count + 1) * sizeof(*v));
	struct xs_hent *h;
	size_t it;

	*n = 0;
	if (!v)
		return NULL;
	for (h = xs_hmap_first(&tx->entries, &it); h;
	     h = xs_hmap_next(&tx->entries, h, &it)) {
		struct entry *e = xs_container_of(h, struct entry, h);
		if (e->dirty && e->present)
			v[(*n)++] = e;
	}
	qsort(v, *n, sizeof(*v), cmp_path);
	return v;
}

int xs_txn_commit(struct xs_txn *tx, struct xs_db *db)
{
	struct entry **puts;
	struct xs_hent *h;
	size_t it, n;
	int err = 0;

	for (h = xs_hmap_first(&tx->entries, &it); h;
	     h = xs_hmap_next(&tx->entries, h, &it))
		if (!unchanged(xs_container_of(h, struct entry, h), db))
			return EAGAIN;
	puts = sorted_puts(tx, &n);
	if (!puts)
		return ENOMEM;
	/* Deletions first: a node deleted and re-created in the transaction
	 * lost its old children, and those are deleted entries too. */
	for (h = xs_hmap_first(&tx->entries, &it); h;
	     h = xs_hmap_next(&tx->entries, h, &it)) {
		struct entry *e = xs_container_of(h, struct entry, h);
		if (e->dirty && !e->present && e->base_present)
			xs_db_del(db, e->path);	/* ENOENT: parent went */
	}
	for (size_t i = 0; !err && i < n; i++)
		err = xs_db_put(db, puts[i]->path, puts[i]->value,
				puts[i]->vlen, puts[i]->perms,
				puts[i]->nperms);
	free(puts);
	return err;
}

/* --- views: live or transaction ------------------------------------------ */

int xs_view_get(struct xs_view *v, const char *path, struct xs_nodeview *nv)
{
	return v->tx ? tx_get(v->tx, v->db, path, nv)
		     : xs_db_get(v->db, path, nv);
}

int xs_view_children(struct xs_view *v, const char *path,
		     int (*fn)(const char *name, void *opaque), void *opaque)
{
	return v->tx ? tx_children(v->tx, v->db, path, fn, opaque)
		     : xs_db_children(v->db, path, fn, opaque);
}

int xs_view_put(struct xs_view *v, const char *path, const void *value,
		uint32_t vlen, const struct xs_perm *perms, unsigned n)
{
	return v->tx ? tx_put(v->tx, v->db, path, value, vlen, perms, n)
		     : xs_db_put(v->db, path, value, vlen, perms, n);
}

int xs_view_del(struct xs_view *v, const char *path, xs_gone_fn gone,
		void *opaque)
{
	return v->tx ? tx_del(v->tx, v->db, path, gone, opaque)
		     : xs_db_del_tree(v->db, path, gone, opaque);
}

int xs_view_owned_delta(const struct xs_view *v, unsigned domid)
{
	if (!v->tx)
		return 0;
	for (unsigned i = 0; i < v->tx->ndeltas; i++)
		if (v->tx->deltas[i].domid == domid)
			return v->tx->deltas[i].delta;
	return 0;
}
