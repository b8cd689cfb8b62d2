/*
 * qcow2 back end: opening an image (header, features, tables, backing
 * file) and the back-end operations.  See block_qcow2.h.
 *
 * Everything in the image is untrusted input: sizes and offsets are
 * checked before use, and what cannot be handled is refused at open with
 * the reason, e.g. "disk[0]: '/img/a.qcow2': encrypted images (LUKS) are
 * not supported".
 */
#include "devices/block_qcow2.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

#define HDR_V2_BYTES      72u
#define HDR_V3_BYTES      104u
#define EXT_END           0x00000000u
#define EXT_BACKING_FMT   0xe2792acau
#define MAX_BACKING_NAME  1023u

/* Header fields (big-endian offsets). */
enum {
	H_MAGIC = 0, H_VERSION = 4, H_BACKING_OFF = 8, H_BACKING_SIZE = 16,
	H_CLUSTER_BITS = 20, H_SIZE = 24, H_CRYPT = 32, H_L1_SIZE = 36,
	H_L1_OFF = 40, H_RT_OFF = 48, H_RT_CLUSTERS = 56, H_NB_SNAPSHOTS = 60,
	H_INCOMPAT = 72, H_COMPAT = 80, H_AUTOCLEAR = 88, H_REFCOUNT_ORDER = 96,
	H_HEADER_LENGTH = 100, H_COMPRESSION_TYPE = 104,
};

static int refuse(const struct qcow2 *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int refuse(const struct qcow2 *q, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s: %s", q->bb.what, msg);
	return -1;
}

int qcow2_pread(struct qcow2 *q, void *buf, uint64_t len, uint64_t off)
{
	struct iovec v = { buf, len };

	return block_preadv_full(q->fd, &v, 1, off);
}

int qcow2_pwrite(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off)
{
	struct iovec v = { (void *)buf, len };

	return block_pwritev_full(q->fd, &v, 1, off, false);
}

/* ---- header -------------------------------------------------------------------- */

static int check_encryption(const struct qcow2 *q, uint32_t method)
{
	if (method == 1)
		return refuse(q, "encrypted images (AES) are not supported");
	if (method == 2)
		return refuse(q, "encrypted images (LUKS) are not supported");
	if (method)
		return refuse(q, "unknown encryption method %u", method);
	return 0;
}

static int check_incompat(const struct qcow2 *q, const uint8_t *h)
{
	uint64_t f = q->incompat, known = QCOW2_INCOMPAT_DIRTY |
		QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATA_FILE |
		QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTL2;
	uint8_t ctype = q->header_length > H_COMPRESSION_TYPE ?
			h[H_COMPRESSION_TYPE] : 0;

	if (f & QCOW2_INCOMPAT_CORRUPT)
		return refuse(q, "the image is marked corrupt; repair it with "
			      "'qemu-img check -r all'");
	if (f & QCOW2_INCOMPAT_DIRTY)
		return refuse(q, "the image is marked dirty (lazy refcounts were "
			      "not brought up to date); repair it with "
			      "'qemu-img check -r all'");
	if (f & QCOW2_INCOMPAT_DATA_FILE)
		return refuse(q, "images with an external data file are not "
			      "supported");
	if (f & QCOW2_INCOMPAT_EXTL2)
		return refuse(q, "extended L2 entries (subclusters) are not "
			      "supported");
	if (ctype || (f & QCOW2_INCOMPAT_COMPRESSION))
		return refuse(q, "compression type %s is not supported (zlib is)",
			      ctype == 1 ? "zstd" : "other than zlib");
	if (f & ~known)
		return refuse(q, "unknown incompatible features 0x%llx",
			      (unsigned long long)(f & ~known));
	return 0;
}

/* Version, cluster size, encryption, features, refcount width. */
static int parse_basics(struct qcow2 *q, const uint8_t *h, size_t n)
{
	uint32_t order;

	if (n < HDR_V2_BYTES || qget32(h + H_MAGIC) != QCOW2_MAGIC)
		return refuse(q, "not a qcow2 image (no QFI\\xfb magic)");
	q->version = qget32(h + H_VERSION);
	if (q->version != 2 && q->version != 3)
		return refuse(q, "qcow2 version %u is not supported (2 and 3 are)",
			      q->version);
	q->cluster_bits = qget32(h + H_CLUSTER_BITS);
	if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return refuse(q, "bad cluster size 2^%u", q->cluster_bits);
	q->cluster_size = 1ULL << q->cluster_bits;
	if (check_encryption(q, qget32(h + H_CRYPT)) < 0)
		return -1;
	q->header_length = HDR_V2_BYTES;
	order = 4;
	if (q->version == 3) {
		if (n < HDR_V3_BYTES)
			return refuse(q, "truncated version 3 header");
		q->incompat = qget64(h + H_INCOMPAT);
		q->compat = qget64(h + H_COMPAT);
		q->autoclear = qget64(h + H_AUTOCLEAR);
		order = qget32(h + H_REFCOUNT_ORDER);
		q->header_length = qget32(h + H_HEADER_LENGTH);
		if (q->header_length < HDR_V3_BYTES || q->header_length % 8 ||
		    q->header_length > q->cluster_size || q->header_length > n)
			return refuse(q, "bad header length %u", q->header_length);
		if (check_incompat(q, h) < 0)
			return -1;
	}
	if (order < 3 || order > 6)
		return refuse(q, "refcounts of %u bits are not supported (8 to 64 "
			      "are)", 1u << (order > 31 ? 31 : order));
	q->refcount_bits = 1u << order;
	q->l2_entries = q->cluster_size / 8;
	q->rb_entries = q->cluster_size * 8 / q->refcount_bits;
	return 0;
}

static bool aligned(const struct qcow2 *q, uint64_t off)
{
	return off && !(off & (q->cluster_size - 1)) &&
	       off <= QCOW2_OFFSET_MASK;
}

/* Virtual size, L1 table and refcount table placement and sizes. */
static int parse_tables(struct qcow2 *q, const uint8_t *h)
{
	uint64_t per_l1 = q->cluster_size * q->l2_entries, need;

	q->bb.size = qget64(h + H_SIZE);
	q->l1_size = qget32(h + H_L1_SIZE);
	q->l1_offset = qget64(h + H_L1_OFF);
	q->rt_offset = qget64(h + H_RT_OFF);
	q->rt_clusters = qget32(h + H_RT_CLUSTERS);
	if (q->bb.size > (1ULL << 56))
		return refuse(q, "virtual size %llu is too large",
			      (unsigned long long)q->bb.size);
	need = (q->bb.size + per_l1 - 1) / per_l1;
	if (q->l1_size < need || (uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return refuse(q, "bad L1 table size %u (%llu needed)", q->l1_size,
			      (unsigned long long)need);
	if (q->l1_size && !aligned(q, q->l1_offset))
		return refuse(q, "bad L1 table offset 0x%llx",
			      (unsigned long long)q->l1_offset);
	if (!aligned(q, q->rt_offset) || !q->rt_clusters ||
	    (uint64_t)q->rt_clusters * q->cluster_size > QCOW2_MAX_RT_BYTES)
		return refuse(q, "bad refcount table (offset 0x%llx, %u clusters)",
			      (unsigned long long)q->rt_offset, q->rt_clusters);
	if (qget32(h + H_NB_SNAPSHOTS) && !q->readonly)
		return refuse(q, "writing to images with internal snapshots (%u) "
			      "is not supported; give access r, or remove them "
			      "with 'qemu-img snapshot -d'",
			      qget32(h + H_NB_SNAPSHOTS));
	return 0;
}

/* Header extensions: the backing file format, if named. */
static int parse_extensions(struct qcow2 *q, const uint8_t *h, size_t n,
			    char *fmt, size_t fmt_size)
{
	size_t off = q->version == 3 ? q->header_length : HDR_V2_BYTES;

	fmt[0] = '\0';
	while (off + 8 <= n) {
		uint32_t type = qget32(h + off), len = qget32(h + off + 4);

		if (type == EXT_END)
			return 0;
		if (len > n - off - 8)
			return refuse(q, "header extension 0x%08x runs past the "
				      "first cluster", type);
		if (type == EXT_BACKING_FMT) {
			size_t k = len < fmt_size - 1 ? len : fmt_size - 1;

			memcpy(fmt, h + off + 8, k);
			fmt[k] = '\0';
		}
		off += 8 + (((size_t)len + 7) & ~(size_t)7);
	}
	return 0;
}

/* ---- backing file ----------------------------------------------------------------- */

/* A relative backing file name is relative to the image's directory. */
static void backing_path(const char *image, const char *name, char *out,
			 size_t size)
{
	const char *slash = strrchr(image, '/');

	if (name[0] == '/' || !slash)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "%.*s/%s", (int)(slash - image), image, name);
}

static int open_backing(struct qcow2 *q, const char *path, const uint8_t *h,
			size_t n, const char *fmt, unsigned depth)
{
	uint64_t boff = qget64(h + H_BACKING_OFF);
	uint32_t blen = qget32(h + H_BACKING_SIZE);
	char name[MAX_BACKING_NAME + 1], full[PATH_MAX], *what;

	if (!boff)
		return 0;
	if (!blen || blen > MAX_BACKING_NAME || boff > n || blen > n - boff)
		return refuse(q, "bad backing file name (offset %llu, %u bytes)",
			      (unsigned long long)boff, blen);
	memcpy(name, h + boff, blen);
	name[blen] = '\0';
	if (memchr(name, '\0', blen))
		return refuse(q, "bad backing file name");
	if (!strncmp(name, "json:", 5) || strstr(name, "://"))
		return refuse(q, "backing file '%s' is not a local file", name);
	backing_path(path, name, full, sizeof(full));
	if (asprintf(&what, "%s: backing file '%s'", q->bb.what, full) < 0)
		return refuse(q, "out of memory");
	q->backing = block_backend_open_image(what, full, fmt[0] ? fmt : NULL,
					      depth + 1);
	free(what);
	return q->backing ? 0 : -1;
}

/* ---- tables ------------------------------------------------------------------------ */

static int load_table(struct qcow2 *q, uint64_t **out, uint64_t entries,
		      uint64_t off, const char *what)
{
	uint8_t *raw;
	uint64_t *t;
	int rc;

	t = calloc(entries ? entries : 1, sizeof(*t));
	raw = malloc(entries * 8 + 1);
	if (!t || !raw) {
		free(t);
		free(raw);
		return refuse(q, "out of memory for the %s", what);
	}
	rc = entries ? qcow2_pread(q, raw, entries * 8, off) : 0;
	for (uint64_t i = 0; rc == 0 && i < entries; i++)
		t[i] = qget64(raw + i * 8);
	free(raw);
	if (rc < 0) {
		free(t);
		return refuse(q, "cannot read the %s: %s", what, strerror(-rc));
	}
	*out = t;
	return 0;
}

/* A writer that does not know an autoclear feature must clear it. */
static int clear_autoclear(struct qcow2 *q)
{
	uint8_t z[8] = { 0 };
	int rc;

	if (q->readonly || q->version < 3 || !q->autoclear)
		return 0;
	rc = qcow2_pwrite(q, z, 8, H_AUTOCLEAR);
	if (rc < 0)
		return refuse(q, "cannot update the header: %s", strerror(-rc));
	q->autoclear = 0;
	return 0;
}

static int load(struct qcow2 *q, const char *path, unsigned depth)
{
	uint8_t *h = malloc(q->cluster_size ? q->cluster_size : 4096);
	size_t n = 4096;
	char fmt[32];
	ssize_t got;
	struct stat st;
	int rc = -1;

	if (!h)
		return refuse(q, "out of memory");
	got = pread(q->fd, h, n, 0);
	if (got < 0 || parse_basics(q, h, (size_t)got) < 0)
		goto out;
	if (q->cluster_size > n) {
		uint8_t *big = realloc(h, q->cluster_size);

		if (!big)
			goto out;
		h = big;
	}
	n = q->cluster_size;
	got = pread(q->fd, h, n, 0);
	if (got < (ssize_t)HDR_V2_BYTES)
		goto out;
	n = (size_t)got;
	if (parse_tables(q, h) < 0 || parse_extensions(q, h, n, fmt, sizeof(fmt)) < 0 ||
	    open_backing(q, path, h, n, fmt, depth) < 0)
		goto out;
	q->rt_entries = (uint64_t)q->rt_clusters * q->cluster_size / 8;
	if (load_table(q, &q->l1, q->l1_size, q->l1_offset, "L1 table") < 0 ||
	    load_table(q, &q->rt, q->rt_entries, q->rt_offset, "refcount table") < 0 ||
	    fstat(q->fd, &st) < 0)
		goto out;
	q->next_free = ((uint64_t)st.st_size + q->cluster_size - 1) &
		       ~(q->cluster_size - 1);
	rc = clear_autoclear(q);
out:
	free(h);
	return rc;
}

/* ---- back-end operations ----------------------------------------------------------- */

static struct qcow2 *Q(struct block_backend *bb)
{
	return (struct qcow2 *)bb;
}

/* Every operation holds the image lock (see block_qcow2.h). */
static void lock(struct block_backend *bb)
{
	pthread_mutex_lock(&Q(bb)->lock);
}

static int unlock(struct block_backend *bb, int rc)
{
	pthread_mutex_unlock(&Q(bb)->lock);
	return rc;
}

static int q_readv(struct block_backend *bb, const struct iovec *iov,
		   unsigned niov, uint64_t off)
{
	lock(bb);
	return unlock(bb, qcow2_readv(bb, iov, niov, off));
}

static int q_writev(struct block_backend *bb, const struct iovec *iov,
		    unsigned niov, uint64_t off)
{
	lock(bb);
	return unlock(bb, qcow2_writev(bb, iov, niov, off));
}

static int q_flush(struct block_backend *bb)
{
	if (bb->readonly)
		return 0;
	lock(bb);
	return unlock(bb, qcow2_meta_flush(Q(bb)));
}

static int q_discard(struct block_backend *bb, uint64_t off, uint64_t len)
{
	lock(bb);
	return unlock(bb, qcow2_discard(bb, off, len));
}

static int q_write_zeroes(struct block_backend *bb, uint64_t off,
			  uint64_t len, bool unmap)
{
	lock(bb);
	return unlock(bb, qcow2_write_zeroes(bb, off, len, unmap));
}

static void free_qcow2(struct qcow2 *q)
{
	block_backend_close(q->backing);
	qcache_free(&q->l2c);
	qcache_free(&q->rbc);
	free(q->l1);
	free(q->rt);
	free(q->cow);
	free(q->cbuf);
	free(q->pending_free);
	if (q->fd >= 0)
		close(q->fd);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static void q_close(struct block_backend *bb)
{
	struct qcow2 *q = Q(bb);
	int rc;

	if (!q->readonly) {
		rc = qcow2_meta_flush(q);
		if (rc < 0)
			log_error("%s: writing back metadata at close: %s",
				  bb->what, strerror(-rc));
	}
	free_qcow2(q);
}

static const struct block_backend_ops qcow2_ops = {
	.readv = q_readv,
	.writev = q_writev,
	.flush = q_flush,
	.discard = q_discard,
	.write_zeroes = q_write_zeroes,
	.close = q_close,
};

struct block_backend *block_qcow2_open(const char *what, const char *path,
				       int fd, bool readonly, unsigned depth)
{
	struct qcow2 *q = calloc(1, sizeof(*q));

	if (!q) {
		log_error("%s: out of memory", what);
		close(fd);
		return NULL;
	}
	q->bb.ops = &qcow2_ops;
	q->bb.fd = -1;             /* guest offsets are not file offsets */
	q->bb.readonly = readonly;
	snprintf(q->bb.what, sizeof(q->bb.what), "%s", what);
	q->fd = fd;
	q->readonly = readonly;
	pthread_mutex_init(&q->lock, NULL);
	if (load(q, path, depth) < 0)
		goto fail;
	qcache_init(&q->l2c, QCOW2_L2_CACHE);
	qcache_init(&q->rbc, QCOW2_RB_CACHE);
	q->cow = malloc(q->cluster_size);
	q->cbuf = malloc(2 * q->cluster_size);
	if (!q->cow || !q->cbuf) {
		refuse(q, "out of memory");
		goto fail;
	}
	return &q->bb;
fail:
	free_qcow2(q);
	return NULL;
}
