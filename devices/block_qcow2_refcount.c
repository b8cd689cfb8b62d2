/*
 * qcow2 refcounts: reading and setting them, allocating clusters (always
 * at the end of the file: simple, and freed space is punched out instead
 * of reused), growing the refcount table, and dropping references once
 * it is safe to.
 *
 * A refcount block needs a refcount of its own and may need a new
 * refcount table entry, which may need a bigger table: set_refcount()
 * recurses through those; every step moves next_free forward and the
 * table grows at least twofold, so it ends.
 */
#include "devices/block_qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static uint64_t rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t i)
{
	unsigned bytes = q->refcount_bits / 8;
	uint64_t v = 0;

	for (unsigned k = 0; k < bytes; k++)
		v = v << 8 | rb[i * bytes + k];
	return v;
}

static void rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t i, uint64_t v)
{
	unsigned bytes = q->refcount_bits / 8;

	for (unsigned k = bytes; k-- > 0;) {
		rb[i * bytes + k] = (uint8_t)v;
		v >>= 8;
	}
}

static int rb_offset(const struct qcow2 *q, uint64_t rt_idx, uint64_t *off)
{
	uint64_t e = q->rt[rt_idx];

	*off = e & ~(uint64_t)511;
	if (*off & (q->cluster_size - 1))
		return -EIO;   /* corrupt: refcount block not cluster-aligned */
	return 0;
}

int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *value)
{
	uint64_t rt_idx = cluster / q->rb_entries, off;
	uint8_t *rb;
	int err;

	*value = 0;
	if (rt_idx >= q->rt_entries || !q->rt[rt_idx])
		return 0;
	if ((err = rb_offset(q, rt_idx, &off)) < 0)
		return err;
	rb = qcache_get(q, &q->rbc, off, false, &err);
	if (!rb)
		return err;
	*value = rb_get(q, rb, cluster % q->rb_entries);
	return 0;
}

/* A table of at least need + 1 entries, whole clusters, at the end. */
static int grow_table(struct qcow2 *q, uint64_t need)
{
	uint64_t per = q->cluster_size / 8, n = q->rt_entries * 2;
	uint64_t old_off = q->rt_offset, old_clusters = q->rt_clusters;
	uint64_t *t, clusters;
	int rc;

	if (n < need + 1)
		n = need + 1;
	n = (n + per - 1) / per * per;
	clusters = n / per;
	if (clusters * q->cluster_size > QCOW2_MAX_RT_BYTES)
		return -EFBIG;
	t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	memcpy(t, q->rt, q->rt_entries * sizeof(*t));
	free(q->rt);
	q->rt = t;
	q->rt_entries = n;
	q->rt_offset = q->next_free;
	q->rt_clusters = (uint32_t)clusters;
	q->next_free += clusters * q->cluster_size;
	q->rt_dirty = q->header_dirty = true;
	for (uint64_t i = 0; i < clusters; i++)
		if ((rc = qcow2_set_refcount(q, (q->rt_offset >> q->cluster_bits) + i,
					     1)) < 0)
			return rc;
	/* The old table is no longer referenced once the header moves. */
	return qcow2_free_clusters(q, old_off, old_clusters * q->cluster_size);
}

/* A new, empty refcount block for table entry rt_idx. */
static int new_block(struct qcow2 *q, uint64_t rt_idx)
{
	uint64_t off = q->next_free;
	int err;

	q->next_free += q->cluster_size;
	q->rt[rt_idx] = off;
	q->rt_dirty = true;
	if (!qcache_get(q, &q->rbc, off, true, &err))
		return err;
	return qcow2_set_refcount(q, off >> q->cluster_bits, 1);
}

int qcow2_set_refcount(struct qcow2 *q, uint64_t cluster, uint64_t value)
{
	uint64_t rt_idx = cluster / q->rb_entries, off;
	uint8_t *rb;
	int rc;

	if (q->refcount_bits < 64 && value >> q->refcount_bits)
		return -EOVERFLOW;
	if (rt_idx >= q->rt_entries && (rc = grow_table(q, rt_idx)) < 0)
		return rc;
	if (!q->rt[rt_idx] && (rc = new_block(q, rt_idx)) < 0)
		return rc;
	if ((rc = rb_offset(q, rt_idx, &off)) < 0)
		return rc;
	rb = qcache_get(q, &q->rbc, off, false, &rc);
	if (!rb)
		return rc;
	rb_set(q, rb, cluster % q->rb_entries, value);
	qcache_dirty(&q->rbc, rb);
	return 0;
}

int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *off)
{
	*off = q->next_free;
	q->next_free += q->cluster_size;
	return qcow2_set_refcount(q, *off >> q->cluster_bits, 1);
}

int qcow2_free_clusters(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t first = off >> q->cluster_bits;
	uint64_t last = (off + len - 1) >> q->cluster_bits;
	int rc;

	if (!len)
		return 0;
	for (uint64_t c = first; c <= last; c++) {
		if (q->n_pending == QCOW2_MAX_PENDING_FREE &&
		    (rc = qcow2_meta_flush(q)) < 0)
			return rc;
		if (!q->pending_free &&
		    !(q->pending_free = malloc(QCOW2_MAX_PENDING_FREE * 8)))
			return -ENOMEM;
		q->pending_free[q->n_pending++] = c;
	}
	return 0;
}

/* Drop the pending references; punch out what nobody uses any more. */
int qcow2_apply_frees(struct qcow2 *q)
{
	while (q->n_pending) {
		uint64_t c = q->pending_free[--q->n_pending], v;
		int rc = qcow2_get_refcount(q, c, &v);

		if (rc < 0)
			return rc;
		if (!v) {
			log_warn("%s: freeing cluster %llu twice (refcount 0)",
				 q->bb.what, (unsigned long long)c);
			continue;
		}
		if ((rc = qcow2_set_refcount(q, c, v - 1)) < 0)
			return rc;
		if (v == 1)
			fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  (off_t)(c << q->cluster_bits),
				  (off_t)q->cluster_size);
	}
	return 0;
}
