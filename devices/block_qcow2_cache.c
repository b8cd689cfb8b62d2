/*
 * qcow2 metadata caches and write-back order.
 *
 * L2 tables and refcount blocks are cached a cluster at a time (LRU, a
 * few dozen entries); the L1 and refcount tables live in memory whole.
 * Changes are written back in the order the on-disk image needs to stay
 * consistent if the host dies at any point (see block_qcow2.h):
 *
 *   refcount blocks  -> fdatasync ->
 *   refcount table, header -> fdatasync ->
 *   L2 tables -> fdatasync ->
 *   L1 table -> fdatasync ->
 *   references dropped meanwhile: refcounts decremented, freed clusters
 *   punched out -> refcount blocks -> fdatasync
 *
 * Stages with nothing dirty cost nothing, so a flush after plain
 * overwrites is one fdatasync.  Evicting a dirty L2 table writes the
 * refcount stages first, for the same reason.
 */
#include "devices/block_qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void qcache_init(struct qcache *c, unsigned n)
{
	memset(c, 0, sizeof(*c));
	c->n = n < QCOW2_L2_CACHE ? n : QCOW2_L2_CACHE;
}

void qcache_free(struct qcache *c)
{
	for (unsigned i = 0; i < QCOW2_L2_CACHE; i++)
		free(c->e[i].data);
	memset(c, 0, sizeof(*c));
}

static int sync_fd(struct qcow2 *q)
{
	return fdatasync(q->fd) < 0 ? -errno : 0;
}

static int write_entry(struct qcow2 *q, struct qcache *c, struct qcache_entry *e)
{
	int rc;

	if (!e->dirty)
		return 0;
	/* An L2 table may point at clusters whose refcounts are not on
	 * disk yet. */
	if (c == &q->l2c && (rc = qcow2_refcounts_flush(q)) < 0)
		return rc;
	rc = qcow2_pwrite(q, e->data, q->cluster_size, e->offset);
	if (rc == 0)
		e->dirty = false;
	return rc;
}

static struct qcache_entry *victim(struct qcache *c)
{
	struct qcache_entry *v = &c->e[0];

	for (unsigned i = 0; i < c->n; i++) {
		if (!c->e[i].offset)
			return &c->e[i];
		if (c->e[i].used < v->used)
			v = &c->e[i];
	}
	return v;
}

uint8_t *qcache_get(struct qcow2 *q, struct qcache *c, uint64_t off,
		    bool fresh, int *err)
{
	struct qcache_entry *e;

	for (unsigned i = 0; i < c->n; i++) {
		if (c->e[i].offset == off) {
			c->e[i].used = ++c->tick;
			return c->e[i].data;
		}
	}
	e = victim(c);
	if ((*err = write_entry(q, c, e)) < 0)
		return NULL;
	e->offset = 0;
	if (!e->data && !(e->data = malloc(q->cluster_size))) {
		*err = -ENOMEM;
		return NULL;
	}
	if (fresh) {
		memset(e->data, 0, q->cluster_size);
		e->dirty = true;
	} else if ((*err = qcow2_pread(q, e->data, q->cluster_size, off)) < 0) {
		return NULL;
	}
	e->offset = off;
	e->used = ++c->tick;
	return e->data;
}

void qcache_dirty(struct qcache *c, const uint8_t *data)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].data == data)
			c->e[i].dirty = true;
}

void qcow2_l1_dirty(struct qcow2 *q, uint32_t i)
{
	if (q->l1_dirty_lo >= q->l1_dirty_hi) {
		q->l1_dirty_lo = i;
		q->l1_dirty_hi = i + 1;
		return;
	}
	if (i < q->l1_dirty_lo)
		q->l1_dirty_lo = i;
	if (i + 1 > q->l1_dirty_hi)
		q->l1_dirty_hi = i + 1;
}

/* Big-endian copy of n host-order entries, written at off. */
static int write_table(struct qcow2 *q, const uint64_t *t, uint64_t n,
		       uint64_t off)
{
	uint8_t *raw = malloc(n * 8 + 1);
	int rc;

	if (!raw)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		qput64(raw + i * 8, t[i]);
	rc = qcow2_pwrite(q, raw, n * 8, off);
	free(raw);
	return rc;
}

static int write_header_tables(struct qcow2 *q)
{
	uint8_t f[12];

	qput64(f, q->rt_offset);
	qput32(f + 8, q->rt_clusters);
	return qcow2_pwrite(q, f, sizeof(f), 48);
}

static int flush_cache(struct qcow2 *q, struct qcache *c, bool *wrote)
{
	for (unsigned i = 0; i < c->n; i++) {
		int rc;

		if (!c->e[i].offset || !c->e[i].dirty)
			continue;
		if ((rc = write_entry(q, c, &c->e[i])) < 0)
			return rc;
		*wrote = true;
	}
	return 0;
}

int qcow2_refcounts_flush(struct qcow2 *q)
{
	bool wrote = false;
	int rc;

	if ((rc = flush_cache(q, &q->rbc, &wrote)) < 0 ||
	    (wrote && (rc = sync_fd(q)) < 0))
		return rc;
	if (q->rt_dirty) {
		if ((rc = write_table(q, q->rt, q->rt_entries, q->rt_offset)) < 0 ||
		    (rc = sync_fd(q)) < 0)
			return rc;
		q->rt_dirty = false;
	}
	if (q->header_dirty) {
		if ((rc = write_header_tables(q)) < 0 || (rc = sync_fd(q)) < 0)
			return rc;
		q->header_dirty = false;
	}
	return 0;
}

int qcow2_meta_flush(struct qcow2 *q)
{
	bool wrote = false;
	int rc;

	if ((rc = qcow2_refcounts_flush(q)) < 0 ||
	    (rc = flush_cache(q, &q->l2c, &wrote)) < 0)
		return rc;
	if (q->l1_dirty_lo < q->l1_dirty_hi) {
		uint32_t lo = q->l1_dirty_lo, n = q->l1_dirty_hi - lo;

		if ((wrote && (rc = sync_fd(q)) < 0) ||
		    (rc = write_table(q, q->l1 + lo, n, q->l1_offset + 8ULL * lo)) < 0)
			return rc;
		q->l1_dirty_lo = q->l1_dirty_hi = 0;
	}
	/* Nothing on disk points at the clusters being freed any more. */
	if (q->n_pending) {
		if ((rc = sync_fd(q)) < 0 || (rc = qcow2_apply_frees(q)) < 0 ||
		    (rc = qcow2_refcounts_flush(q)) < 0)
			return rc;
	}
	return sync_fd(q);
}
