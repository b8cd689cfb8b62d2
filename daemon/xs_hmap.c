#include "daemon/xs_hmap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a, 64 bit: paths are short and this is cheap and well spread. */
uint64_t xs_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

void xs_hmap_init(struct xs_hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void xs_hmap_destroy(struct xs_hmap *m)
{
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}

struct xs_hent *xs_hmap_get(const struct xs_hmap *m, const char *key)
{
	uint64_t h;

	if (!m->nbuckets)
		return NULL;
	h = xs_hash_str(key);
	for (struct xs_hent *e = m->buckets[h & (m->nbuckets - 1)]; e;
	     e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Double the bucket array, keeping the load factor at most 1. */
static int grow(struct xs_hmap *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
	struct xs_hent **b = calloc(n, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct xs_hent *e = m->buckets[i];
		while (e) {
			struct xs_hent *next = e->next;
			size_t j = e->hash & (n - 1);
			e->next = b[j];
			b[j] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

int xs_hmap_add(struct xs_hmap *m, struct xs_hent *e)
{
	size_t i;

	if (m->count >= m->nbuckets && grow(m) < 0)
		return -1;
	e->hash = xs_hash_str(e->key);
	i = e->hash & (m->nbuckets - 1);
	e->next = m->buckets[i];
	m->buckets[i] = e;
	m->count++;
	return 0;
}

void xs_hmap_remove(struct xs_hmap *m, struct xs_hent *e)
{
	struct xs_hent **p;

	if (!m->nbuckets)
		return;
	for (p = &m->buckets[e->hash & (m->nbuckets - 1)]; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			m->count--;
			return;
		}
	}
}

static struct xs_hent *scan(const struct xs_hmap *m, size_t *iter)
{
	for (; *iter < m->nbuckets; (*iter)++)
		if (m->buckets[*iter])
			return m->buckets[*iter];
	return NULL;
}

struct xs_hent *xs_hmap_first(const struct xs_hmap *m, size_t *iter)
{
	*iter = 0;
	return scan(m, iter);
}

struct xs_hent *xs_hmap_next(const struct xs_hmap *m, struct xs_hent *e,
			     size_t *iter)
{
	if (e->next)
		return e->next;
	(*iter)++;
	return scan(m, iter);
}
