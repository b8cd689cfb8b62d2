#include "daemon/xs_dwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void xs_dwatches_init(struct xs_dwatches *s)
{
	s->first = NULL;
	s->tail = &s->first;
	s->count = 0;
	s->commits = NULL;
}

static void commits_clear(struct xs_dwatches *s)
{
	while (s->commits) {
		struct xs_dcommit *dc = s->commits;

		s->commits = dc->next;
		free(dc);
	}
}

static void dwatch_free(struct xs_dwatch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

void xs_dwatches_clear(struct xs_dwatches *s)
{
	while (s->first) {
		struct xs_dwatch *w = s->first;

		s->first = w->next;
		dwatch_free(w);
	}
	commits_clear(s);
	xs_dwatches_init(s);
}

/* The link pointing at the matching entry, or NULL. */
static struct xs_dwatch **find(struct xs_dwatches *s, unsigned domid,
			       const char *path, const char *token)
{
	for (struct xs_dwatch **pp = &s->first; *pp; pp = &(*pp)->next) {
		const struct xs_dwatch *w = *pp;

		if (w->domid == domid && !strcmp(w->path, path) &&
		    !strcmp(w->token, token))
			return pp;
	}
	return NULL;
}

int xs_dwatch_add(struct xs_dwatches *s, unsigned domid, const char *path,
		  const char *token, size_t rel_prefix)
{
	struct xs_dwatch *w;

	if (find(s, domid, path, token))
		return EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->token = strdup(token))) {
		if (w)
			dwatch_free(w);
		return ENOMEM;
	}
	w->domid = domid;
	w->rel_prefix = rel_prefix;
	*s->tail = w;
	s->tail = &w->next;
	s->count++;
	return 0;
}

/* Unlink *pp, keeping the tail pointer right. */
static void unlink_at(struct xs_dwatches *s, struct xs_dwatch **pp)
{
	struct xs_dwatch *w = *pp;

	*pp = w->next;
	if (s->tail == &w->next)
		s->tail = pp;
	s->count--;
	dwatch_free(w);
}

int xs_dwatch_del(struct xs_dwatches *s, unsigned domid, const char *path,
		  const char *token)
{
	struct xs_dwatch **pp = find(s, domid, path, token);

	if (!pp)
		return ENOENT;
	unlink_at(s, pp);
	return 0;
}

size_t xs_dwatch_del_domain(struct xs_dwatches *s, unsigned domid)
{
	struct xs_dwatch **pp = &s->first;
	size_t n = 0;

	while (*pp) {
		if ((*pp)->domid == domid) {
			unlink_at(s, pp);
			n++;
		} else {
			pp = &(*pp)->next;
		}
	}
	return n;
}

int xs_dwatch_each(const struct xs_dwatches *s, unsigned domid,
		   int (*fn)(const struct xs_dwatch *w, void *opaque),
		   void *opaque)
{
	for (const struct xs_dwatch *w = s->first; w; w = w->next) {
		int r;

		if (domid != XS_DWATCH_ALL && w->domid != domid)
			continue;
		if ((r = fn(w, opaque)) != 0)
			return r;
	}
	return 0;
}

bool xs_dwatch_forget_domain(struct xs_dwatches *s, unsigned domid)
{
	bool any = xs_dwatch_del_domain(s, domid) > 0;

	for (struct xs_dcommit **pp = &s->commits; *pp; pp = &(*pp)->next) {
		struct xs_dcommit *dc = *pp;

		if (dc->domid == domid) {
			*pp = dc->next;
			free(dc);
			return true;
		}
	}
	return any;
}

/* --- commit markers ------------------------------------------------------ */

static struct xs_dcommit *dcommit_find(const struct xs_dwatches *s,
				       unsigned domid)
{
	for (struct xs_dcommit *dc = s->commits; dc; dc = dc->next)
		if (dc->domid == domid)
			return dc;
	return NULL;
}

static struct xs_dcommit *dcommit_get(struct xs_dwatches *s, unsigned domid)
{
	struct xs_dcommit *dc = dcommit_find(s, domid);

	if (dc || !(dc = calloc(1, sizeof(*dc))))
		return dc;
	dc->domid = domid;
	dc->next_id = 1;
	dc->next = s->commits;
	s->commits = dc;
	return dc;
}

int xs_dcommit_add(struct xs_dwatches *s, unsigned domid, uint32_t id)
{
	struct xs_dcommit *dc = dcommit_get(s, domid);

	if (!dc)
		return ENOMEM;
	if (xs_dcommit_has(s, domid, id))
		return 0;	/* replayed twice */
	if (dc->n == XS_DCOMMIT_KEEP)
		memmove(dc->ids, dc->ids + 1, --dc->n * sizeof(dc->ids[0]));
	dc->ids[dc->n++] = id;
	if (id >= dc->next_id)
		dc->next_id = id + 1;
	return 0;
}

bool xs_dcommit_has(const struct xs_dwatches *s, unsigned domid, uint32_t id)
{
	const struct xs_dcommit *dc = dcommit_find(s, domid);

	for (unsigned i = 0; dc && i < dc->n; i++)
		if (dc->ids[i] == id)
			return true;
	return false;
}

uint32_t xs_dcommit_next_id(struct xs_dwatches *s, unsigned domid)
{
	struct xs_dcommit *dc = dcommit_get(s, domid);
	uint32_t id;

	if (!dc)
		return 0;	/* the caller's own counter then */
	id = dc->next_id++;
	if (!dc->next_id)
		dc->next_id = 1;
	return id;
}

int xs_dcommit_each(const struct xs_dwatches *s,
		    int (*fn)(unsigned domid, uint32_t id, void *opaque),
		    void *opaque)
{
	for (const struct xs_dcommit *dc = s->commits; dc; dc = dc->next)
		for (unsigned i = 0; i < dc->n; i++) {
			int r = fn(dc->domid, dc->ids[i], opaque);

			if (r)
				return r;
		}
	return 0;
}
