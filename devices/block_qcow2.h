/*
 * qcow2 images (QEMU's qcow2 specification, versions 2 and 3): the
 * private interface between the files of the qcow2 back end.
 *
 *   block_qcow2.c          header, feature checks, backing file, open/close
 *   block_qcow2_cache.c    L2 table and refcount block caches; the order
 *                          metadata reaches the disk in (flush)
 *   block_qcow2_refcount.c refcounts, cluster allocation, table growth
 *   block_qcow2_io.c       guest reads and writes: L1/L2 lookup, backing
 *                          reads, compressed clusters, copy-on-write,
 *                          discard and write-zeroes
 *
 * What is supported: versions 2 and 3, any cluster size qemu-img makes
 * (512 B to 2 MiB), refcounts of 8 to 64 bits, backing files (raw or
 * qcow2, chains), zero clusters, reading zlib-compressed clusters.
 * Refused at open, with the reason: encryption, external data files,
 * extended L2 entries (subclusters), compression types other than zlib,
 * images marked dirty or corrupt, unknown incompatible features, and
 * writing to images with internal snapshots.  Nothing is ever written
 * compressed.
 *
 * All of a disk's requests run on its I/O worker thread (block_aio.c),
 * one at a time; q->lock makes that an invariant rather than an
 * assumption.
 *
 * Crash consistency: data clusters are written at once; metadata is
 * cached and written back by qcow2_meta_flush() in dependency order --
 * refcount blocks, then the refcount table and header, then L2 tables,
 * then the L1 table, with fdatasync between stages -- so on disk a
 * cluster is never referenced before its refcount says it is in use.  A
 * process killed between flushes can leak clusters (`qemu-img check -r
 * leaks` reclaims them) but never corrupt the image, and everything the
 * guest flushed is there.
 */
#ifndef XENON_BLOCK_QCOW2_H
#define XENON_BLOCK_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/block_backend.h"

#define QCOW2_MAGIC            0x514649fbu   /* "QFI\xfb" */
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES     (32u << 20)
#define QCOW2_MAX_RT_BYTES     (8u << 20)
#define QCOW2_L2_CACHE         32            /* tables */
#define QCOW2_RB_CACHE         8

/* Incompatible feature bits (header offset 72). */
#define QCOW2_INCOMPAT_DIRTY       (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ULL << 4)

/* L1 / L2 entry bits. */
#define QCOW2_OFLAG_COPIED     (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO       1ULL
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ULL

struct qcache_entry {
	uint64_t offset;           /* host offset of the table; 0 = free */
	uint8_t *data;             /* one cluster, big-endian as on disk */
	bool dirty;
	uint64_t used;             /* LRU tick */
};

struct qcache {
	struct qcache_entry e[QCOW2_L2_CACHE];
	unsigned n;
	uint64_t tick;
};

struct qcow2 {
	struct block_backend bb;   /* first: the back end handed out */
	int fd;
	bool readonly;
	pthread_mutex_t lock;

	unsigned version, cluster_bits, refcount_bits;
	uint64_t cluster_size;
	uint64_t l2_entries;       /* per L2 table */
	uint64_t rb_entries;       /* refcounts per refcount block */

	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t *l1;              /* host byte order */
	uint32_t l1_dirty_lo, l1_dirty_hi;   /* entries to write back */

	uint64_t rt_offset;
	uint32_t rt_clusters;
	uint64_t rt_entries;
	uint64_t *rt;              /* host byte order */
	bool rt_dirty, header_dirty;

	uint64_t incompat, compat, autoclear;
	uint32_t header_length;

	struct block_backend *backing;
	uint64_t next_free;        /* host offset new clusters come from */

	struct qcache l2c, rbc;
	/* Clusters losing a reference: applied after the L2/L1 tables that
	 * dropped it are on disk (a crash then leaks, never corrupts). */
	uint64_t *pending_free;
	unsigned n_pending;
	uint8_t *cow;              /* one cluster: copy-on-write, zeros */
	uint8_t *cbuf;             /* compressed input, two clusters */
	uint64_t io_errors;
};

/* ---- block_qcow2_cache.c ---- */
void qcache_init(struct qcache *c, unsigned n);
void qcache_free(struct qcache *c);
/* The table at host offset `off` (a cluster), read from the image or,
 * with fresh, zero-filled (a table just allocated).  NULL and *err set
 * on failure.  The pointer is good until the next qcache_get on c. */
uint8_t *qcache_get(struct qcow2 *q, struct qcache *c, uint64_t off,
		    bool fresh, int *err);
void qcache_dirty(struct qcache *c, const uint8_t *data);
/* L1 entry i changed. */
void qcow2_l1_dirty(struct qcow2 *q, uint32_t i);
/* Write back all metadata in dependency order; fdatasync at the end. */
int qcow2_meta_flush(struct qcow2 *q);
/* The first stages only (refcounts, refcount table, header): before an
 * L2 table may be written. */
int qcow2_refcounts_flush(struct qcow2 *q);

/* ---- block_qcow2_refcount.c ---- */
/* A new zeroed-on-disk-later cluster: its host offset, refcount 1. */
int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *off);
/* Drop one reference to each host cluster in [off, off + len), once the
 * tables no longer pointing there are on disk (qcow2_meta_flush);
 * clusters that reach 0 are punched out of the file. */
int qcow2_free_clusters(struct qcow2 *q, uint64_t off, uint64_t len);
/* Called by qcow2_meta_flush() after the L1 stage. */
int qcow2_apply_frees(struct qcow2 *q);
#define QCOW2_MAX_PENDING_FREE 4096
int qcow2_set_refcount(struct qcow2 *q, uint64_t cluster, uint64_t value);
int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *value);

/* ---- block_qcow2_io.c ---- */
int qcow2_readv(struct block_backend *bb, const struct iovec *iov,
		unsigned niov, uint64_t off);
int qcow2_writev(struct block_backend *bb, const struct iovec *iov,
		 unsigned niov, uint64_t off);
int qcow2_discard(struct block_backend *bb, uint64_t off, uint64_t len);
int qcow2_write_zeroes(struct block_backend *bb, uint64_t off, uint64_t len,
		       bool unmap);

/* ---- helpers ---- */
static inline uint64_t qget64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void qput64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint32_t qget32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void qput32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* pread/pwrite of a whole buffer at off: 0 or -errno (-EIO past EOF). */
int qcow2_pread(struct qcow2 *q, void *buf, uint64_t len, uint64_t off);
int qcow2_pwrite(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off);

#endif
