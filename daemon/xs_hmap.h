/*
 * An intrusive hash map from C strings to entries: the user embeds a
 * struct xs_hent in its own record and points `key` at a string the record
 * owns.  Used for the node table (path -> node), transaction overlays and
 * the watch index, so every lookup by path is O(1).
 */
#ifndef XENON_XS_HMAP_H
#define XENON_XS_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct xs_hent {
	struct xs_hent *next;
	uint64_t hash;
	const char *key;
};

struct xs_hmap {
	struct xs_hent **buckets;
	size_t nbuckets;	/* power of two, or 0 before first insert */
	size_t count;
};

#define xs_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

uint64_t xs_hash_str(const char *s);

void xs_hmap_init(struct xs_hmap *m);
/* Frees the bucket array only; the entries belong to the caller. */
void xs_hmap_destroy(struct xs_hmap *m);

struct xs_hent *xs_hmap_get(const struct xs_hmap *m, const char *key);
/* e->key must be set and unique in m.  Returns 0, or -1 on ENOMEM. */
int xs_hmap_add(struct xs_hmap *m, struct xs_hent *e);
void xs_hmap_remove(struct xs_hmap *m, struct xs_hent *e);

/* Iteration: for (e = xs_hmap_first(m, &i); e; e = xs_hmap_next(m, e, &i)).
 * Removing the current entry while iterating is not allowed. */
struct xs_hent *xs_hmap_first(const struct xs_hmap *m, size_t *iter);
struct xs_hent *xs_hmap_next(const struct xs_hmap *m, struct xs_hent *e,
			     size_t *iter);

#endif
