#include "daemon/xs_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"

struct xs_watch_bucket {
	struct xs_hent h;
	char *path;
	struct xs_watch *first;
};

const char *xs_watch_path(const struct xs_watch *w)
{
	return w->bucket->path;
}

void xs_watch_index_init(struct xs_watch_index *idx)
{
	xs_hmap_init(&idx->buckets);
}

void xs_watch_index_destroy(struct xs_watch_index *idx)
{
	xs_hmap_destroy(&idx->buckets);
}

static struct xs_watch_bucket *bucket_get(const struct xs_watch_index *idx,
					  const char *path)
{
	struct xs_hent *e = xs_hmap_get(&idx->buckets, path);

	return e ? xs_container_of(e, struct xs_watch_bucket, h) : NULL;
}

static struct xs_watch_bucket *bucket_make(struct xs_watch_index *idx,
					   const char *path)
{
	struct xs_watch_bucket *b = bucket_get(idx, path);

	if (b)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->path = strdup(path)))
		goto fail;
	b->h.key = b->path;
	if (xs_hmap_add(&idx->buckets, &b->h) == 0)
		return b;
fail:
	if (b)
		free(b->path);
	free(b);
	return NULL;
}

static struct xs_watch *find(const struct xs_watch_index *idx,
			     const struct xs_watch_list *list,
			     const char *path, const char *token)
{
	struct xs_watch_bucket *b = bucket_get(idx, path);

	/* Scan whichever is likely shorter: the owner's list. */
	if (!b)
		return NULL;
	for (struct xs_watch *w = list->first; w; w = w->cnext)
		if (w->bucket == b && strcmp(w->token, token) == 0)
			return w;
	return NULL;
}

struct xs_watch *xs_watch_find(const struct xs_watch_index *idx,
			       const struct xs_watch_list *list,
			       const char *path, const char *token)
{
	return find(idx, list, path, token);
}

int xs_watch_add(struct xs_watch_index *idx, struct xs_watch_list *list,
		 void *owner, const char *path, const char *token,
		 size_t rel_prefix)
{
	struct xs_watch_bucket *b;
	struct xs_watch *w;

	if (find(idx, list, path, token))
		return EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->token = strdup(token)) ||
	    !(b = bucket_make(idx, path))) {
		if (w)
			free(w->token);
		free(w);
		return ENOMEM;
	}
	w->owner = owner;
	w->rel_prefix = rel_prefix;
	w->bucket = b;
	w->bnext = b->first;
	if (b->first)
		b->first->bprev = w;
	b->first = w;
	w->cnext = list->first;
	if (list->first)
		list->first->cprev = w;
	list->first = w;
	list->count++;
	return 0;
}

static void unlink_watch(struct xs_watch_index *idx,
			 struct xs_watch_list *list, struct xs_watch *w)
{
	struct xs_watch_bucket *b = w->bucket;

	if (w->bprev)
		w->bprev->bnext = w->bnext;
	else
		b->first = w->bnext;
	if (w->bnext)
		w->bnext->bprev = w->bprev;
	if (w->cprev)
		w->cprev->cnext = w->cnext;
	else
		list->first = w->cnext;
	if (w->cnext)
		w->cnext->cprev = w->cprev;
	list->count--;
	if (!b->first) {
		xs_hmap_remove(&idx->buckets, &b->h);
		free(b->path);
		free(b);
	}
	free(w->token);
	free(w);
}

int xs_watch_remove(struct xs_watch_index *idx, struct xs_watch_list *list,
		    const char *path, const char *token)
{
	struct xs_watch *w = find(idx, list, path, token);

	if (!w)
		return ENOENT;
	unlink_watch(idx, list, w);
	return 0;
}

void xs_watch_remove_all(struct xs_watch_index *idx,
			 struct xs_watch_list *list)
{
	while (list->first)
		unlink_watch(idx, list, list->first);
}

static void fire_bucket(const struct xs_watch_index *idx, const char *path,
			xs_watch_fn fn, void *opaque)
{
	struct xs_watch_bucket *b = bucket_get(idx, path);

	for (struct xs_watch *w = b ? b->first : NULL; w; w = w->bnext)
		fn(w, opaque);
}

void xs_watch_match(const struct xs_watch_index *idx, const char *path,
		    bool exact, xs_watch_fn fn, void *opaque)
{
	char buf[XS_PATH_BUF];
	size_t len = strlen(path);

	if (!idx->buckets.count)
		return;
	if (exact || path[0] != '/' || len >= sizeof(buf)) {
		fire_bucket(idx, path, fn, opaque);
		return;
	}
	/* Every ancestor: "/", then each prefix ending before a '/'. */
	fire_bucket(idx, "/", fn, opaque);
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		fire_bucket(idx, buf, fn, opaque);
		buf[i] = '/';
	}
	if (len > 1)
		fire_bucket(idx, path, fn, opaque);
}

/* --- event queue ------------------------------------------------------- */

void xs_evq_init(struct xs_evq *q)
{
	q->first = NULL;
	q->tail = &q->first;
	q->count = 0;
}

static struct xs_perm *dup_perms(const struct xs_perm *p, unsigned n)
{
	struct xs_perm *d;

	if (!n)
		return NULL;
	d = malloc(n * sizeof(*d));
	if (d)
		memcpy(d, p, n * sizeof(*d));
	return d;
}

static void event_free(struct xs_event *e)
{
	free(e->path);
	free(e->perms);
	free(e->old);
	free(e);
}

int xs_evq_push(struct xs_evq *q, const char *path, bool exact,
		const struct xs_perm *perms, unsigned nperms,
		const struct xs_perm *old, unsigned nold)
{
	struct xs_event *e = calloc(1, sizeof(*e));

	if (!e)
		return ENOMEM;
	e->exact = exact;
	e->path = strdup(path);
	e->perms = dup_perms(perms, nperms);
	e->old = dup_perms(old, nold);
	e->nperms = e->perms ? nperms : 0;
	e->nold = e->old ? nold : 0;
	if (!e->path || (nperms && !e->perms) || (nold && !e->old)) {
		event_free(e);
		return ENOMEM;
	}
	*q->tail = e;
	q->tail = &e->next;
	q->count++;
	return 0;
}

void xs_evq_clear(struct xs_evq *q)
{
	while (q->first) {
		struct xs_event *e = q->first;
		q->first = e->next;
		event_free(e);
	}
	xs_evq_init(q);
}
