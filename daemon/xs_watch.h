/*
 * Watches: who wants to hear about changes at or below which path.
 *
 * All watches of all connections sit in one index keyed by watched path,
 * so matching an event on /a/b/c costs one lookup per ancestor ("/",
 * "/a", "/a/b", "/a/b/c") however many watches exist.  Each connection
 * also keeps its own list, to count them and to drop them all at once.
 *
 * Events that cannot be delivered yet (inside a transaction) wait in an
 * xs_evq until commit.
 */
#ifndef XENON_XS_WATCH_H
#define XENON_XS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/xs_hmap.h"
#include "daemon/xs_perms.h"

struct xs_watch_bucket;

struct xs_watch {
	void *owner;		/* the connection */
	char *token;
	size_t rel_prefix;	/* bytes of path to strip from events */
	bool restored;		/* re-armed from a durable watch, not yet
				 * asked for again on this connection */
	struct xs_watch_bucket *bucket;
	struct xs_watch *bnext, *bprev;	/* same path, any owner */
	struct xs_watch *cnext, *cprev;	/* same owner */
};

/* The watched path of w (canonical: absolute, or '@special'). */
const char *xs_watch_path(const struct xs_watch *w);

struct xs_watch_index {
	struct xs_hmap buckets;	/* path -> struct xs_watch_bucket */
};

struct xs_watch_list {
	struct xs_watch *first;
	unsigned count;
};

void xs_watch_index_init(struct xs_watch_index *idx);
/* Every list must have been emptied first. */
void xs_watch_index_destroy(struct xs_watch_index *idx);

/* Returns 0, EEXIST (same path and token on this list) or ENOMEM. */
int xs_watch_add(struct xs_watch_index *idx, struct xs_watch_list *list,
		 void *owner, const char *path, const char *token,
		 size_t rel_prefix);
/* The watch with this path and token on list, or NULL. */
struct xs_watch *xs_watch_find(const struct xs_watch_index *idx,
			       const struct xs_watch_list *list,
			       const char *path, const char *token);
/* Returns 0 or ENOENT. */
int xs_watch_remove(struct xs_watch_index *idx, struct xs_watch_list *list,
		    const char *path, const char *token);
void xs_watch_remove_all(struct xs_watch_index *idx,
			 struct xs_watch_list *list);

typedef void (*xs_watch_fn)(struct xs_watch *w, void *opaque);

/*
 * Call fn for every watch an event on path triggers: with exact, the
 * watches on path itself; otherwise those on path and on each of its
 * ancestors.  Special ('@') events only ever match exactly.  fn must not
 * add or remove watches.
 */
void xs_watch_match(const struct xs_watch_index *idx, const char *path,
		    bool exact, xs_watch_fn fn, void *opaque);

/* A change to announce: the node's perms now, and before (set_perms). */
struct xs_event {
	struct xs_event *next;
	bool exact;
	unsigned nperms, nold;
	struct xs_perm *perms, *old;
	char *path;
};

struct xs_evq {
	struct xs_event *first, **tail;
	unsigned count;
};

void xs_evq_init(struct xs_evq *q);
/* Returns 0 or ENOMEM. */
int xs_evq_push(struct xs_evq *q, const char *path, bool exact,
		const struct xs_perm *perms, unsigned nperms,
		const struct xs_perm *old, unsigned nold);
void xs_evq_clear(struct xs_evq *q);

#endif
