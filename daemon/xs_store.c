#include "daemon/xs_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"

#define NDOMIDS 65536u

struct xs_store {
	struct xs_hmap nodes;
	uint64_t gen;
	uint32_t *owned;	/* NDOMIDS counters: domids are 16 bit */
};

static void count_owner(struct xs_store *s, const struct xs_node *n, int d)
{
	s->owned[n->perms[0].domid % NDOMIDS] += (uint32_t)d;
}

static void node_free(struct xs_node *n)
{
	free(n->path);
	free(n->value);
	free(n->perms);
	free(n->kids);
	free(n);
}

/* Replace value and perms; on ENOMEM the node is left unchanged. */
static int node_set(struct xs_node *n, const void *value, uint32_t vlen,
		    const struct xs_perm *perms, unsigned np)
{
	char *v = malloc((size_t)vlen + 1);
	struct xs_perm *p = malloc(np * sizeof(*p));

	if (!v || !p) {
		free(v);
		free(p);
		return ENOMEM;
	}
	if (vlen)
		memcpy(v, value, vlen);
	v[vlen] = '\0';
	memcpy(p, perms, np * sizeof(*p));
	free(n->value);
	free(n->perms);
	n->value = v;
	n->vlen = vlen;
	n->perms = p;
	n->nperms = np;
	return 0;
}

/* Binary search for name among the kids; *pos gets the insertion point. */
static long kid_search(const struct xs_node *n, const char *name,
		       uint32_t *pos)
{
	uint32_t lo = 0, hi = n->nkids;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(xs_path_base(n->kids[mid]->path), name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return -1;
}

long xs_node_find_kid(const struct xs_node *n, const char *name)
{
	return kid_search(n, name, NULL);
}

static int kid_insert(struct xs_node *parent, struct xs_node *kid)
{
	uint32_t pos = 0;

	if (kid_search(parent, xs_path_base(kid->path), &pos) >= 0)
		return 0;
	if (parent->nkids == parent->kcap) {
		uint32_t cap = parent->kcap ? parent->kcap * 2 : 4;
		struct xs_node **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return ENOMEM;
		parent->kids = k;
		parent->kcap = cap;
	}
	memmove(&parent->kids[pos + 1], &parent->kids[pos],
		(parent->nkids - pos) * sizeof(*parent->kids));
	parent->kids[pos] = kid;
	parent->nkids++;
	return 0;
}

static void kid_remove(struct xs_node *parent, const struct xs_node *kid)
{
	long i = kid_search(parent, xs_path_base(kid->path), NULL);

	if (i < 0)
		return;
	memmove(&parent->kids[i], &parent->kids[i + 1],
		(parent->nkids - (uint32_t)i - 1) * sizeof(*parent->kids));
	parent->nkids--;
}

static struct xs_node *lookup(const struct xs_store *s, const char *path)
{
	struct xs_hent *e = xs_hmap_get(&s->nodes, path);

	return e ? xs_container_of(e, struct xs_node, h) : NULL;
}

/* The parent node of path, or NULL. */
static struct xs_node *parent_of(const struct xs_store *s, const char *path)
{
	char buf[XS_PATH_BUF];
	size_t len = xs_path_parent_len(path);

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, path, len);
	buf[len] = '\0';
	return lookup(s, buf);
}

struct xs_store *xs_store_new(void)
{
	struct xs_store *s = calloc(1, sizeof(*s));
	const struct xs_perm root = { 0, XS_PERM_NONE };

	if (!s)
		return NULL;
	s->owned = calloc(NDOMIDS, sizeof(*s->owned));
	if (!s->owned || xs_store_put(s, "/", NULL, 0, &root, 1)) {
		xs_store_free(s);
		return NULL;
	}
	return s;
}

void xs_store_free(struct xs_store *s)
{
	struct xs_hent *e, *next;
	size_t it;

	if (!s)
		return;
	/* Free by table rather than by tree so special nodes go too. */
	for (e = xs_hmap_first(&s->nodes, &it); e; e = next) {
		next = xs_hmap_next(&s->nodes, e, &it);
		node_free(xs_container_of(e, struct xs_node, h));
	}
	xs_hmap_destroy(&s->nodes);
	free(s->owned);
	free(s);
}

const struct xs_node *xs_store_get(const struct xs_store *s, const char *path)
{
	return lookup(s, path);
}

static int create(struct xs_store *s, const char *path, const void *value,
		  uint32_t vlen, const struct xs_perm *perms, unsigned np)
{
	struct xs_node *parent = NULL, *n;
	bool rooted = path[0] == '/' && path[1] != '\0';

	if (rooted && !(parent = parent_of(s, path)))
		return ENOENT;
	n = calloc(1, sizeof(*n));
	if (!n || !(n->path = strdup(path)) ||
	    node_set(n, value, vlen, perms, np))
		goto nomem;
	n->h.key = n->path;
	if (parent && kid_insert(parent, n))
		goto nomem;
	if (xs_hmap_add(&s->nodes, &n->h)) {
		if (parent)
			kid_remove(parent, n);
		goto nomem;
	}
	n->gen = ++s->gen;
	if (parent)
		parent->gen = s->gen;
	count_owner(s, n, +1);
	return 0;
nomem:
	if (n)
		node_free(n);
	return ENOMEM;
}

int xs_store_put(struct xs_store *s, const char *path, const void *value,
		 uint32_t vlen, const struct xs_perm *perms, unsigned n)
{
	struct xs_node *node = lookup(s, path);
	int err;

	if (n == 0)
		return EINVAL;
	if (!node)
		return create(s, path, value, vlen, perms, n);
	count_owner(s, node, -1);
	err = node_set(node, value, vlen, perms, n);
	count_owner(s, node, +1);
	if (!err)
		node->gen = ++s->gen;
	return err;
}

/* Free n and everything below it, children first. */
static void destroy_tree(struct xs_store *s, struct xs_node *n)
{
	for (uint32_t i = 0; i < n->nkids; i++)
		destroy_tree(s, n->kids[i]);
	xs_hmap_remove(&s->nodes, &n->h);
	count_owner(s, n, -1);
	node_free(n);
}

int xs_store_del(struct xs_store *s, const char *path)
{
	struct xs_node *n = lookup(s, path), *parent;

	if (!n)
		return ENOENT;
	if (strcmp(path, "/") == 0)
		return EINVAL;
	parent = path[0] == '/' ? parent_of(s, path) : NULL;
	if (parent) {
		kid_remove(parent, n);
		parent->gen = ++s->gen;
	} else {
		s->gen++;
	}
	destroy_tree(s, n);
	return 0;
}

unsigned xs_store_owned(const struct xs_store *s, unsigned domid)
{
	return s->owned[domid % NDOMIDS];
}

size_t xs_store_count(const struct xs_store *s)
{
	return s->nodes.count;
}

uint64_t xs_store_gen(const struct xs_store *s)
{
	return s->gen;
}

static int walk(const struct xs_node *n,
		int (*fn)(const struct xs_node *, void *), void *opaque)
{
	int r = fn(n, opaque);

	for (uint32_t i = 0; !r && i < n->nkids; i++)
		r = walk(n->kids[i], fn, opaque);
	return r;
}

int xs_store_walk(const struct xs_store *s,
		  int (*fn)(const struct xs_node *n, void *opaque),
		  void *opaque)
{
	struct xs_hent *e;
	size_t it;
	int r = walk(lookup(s, "/"), fn, opaque);

	for (e = xs_hmap_first(&s->nodes, &it); !r && e;
	     e = xs_hmap_next(&s->nodes, e, &it)) {
		const struct xs_node *n = xs_container_of(e, struct xs_node, h);
		if (n->path[0] == '@')
			r = fn(n, opaque);
	}
	return r;
}
