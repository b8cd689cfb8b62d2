#include "daemon/xs_persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/xs_record.h"
#include "lib/log.h"

#define SNAP_NAME    "xenstore.snap"
#define JOURNAL_NAME "xenstore.journal"
#define LOCK_NAME    "xenstore.lock"
#define SNAP_MAGIC    "XNSNAP01"
#define JOURNAL_MAGIC "XNJRNL01"

/* Past this many unwritable bytes, drop them and rely on a snapshot. */
#define PENDING_MAX (64u << 20)
#define SNAP_CHUNK  (1u << 20)

struct xs_persist {
	char *dir;
	int dirfd, lockfd, jfd;
	struct xs_store *store;
	struct xs_dwatches *dw;
	uint64_t epoch;
	struct xs_buf batch;	/* ops of the request in progress */
	struct xs_buf pending;	/* framed entries not yet written */
	bool batch_lost;	/* ENOMEM while recording: snapshot soon */
	bool need_snapshot;
	bool unsynced;
	size_t compact_bytes;
	struct xs_persist_stats st;
};

/* --- small file helpers ------------------------------------------------ */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read dir/name whole.  Returns 0, or an errno (ENOENT if absent). */
static int read_whole(int dirfd, const char *name, char **out, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf;
	size_t got = 0;

	if (fd < 0)
		return errno;
	if (fstat(fd, &sb) < 0 || !(buf = malloc((size_t)sb.st_size + 1))) {
		int e = errno ? errno : ENOMEM;
		close(fd);
		return e;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

static int mkdir_p(const char *dir)
{
	char tmp[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(tmp))
		return ENAMETOOLONG;
	memcpy(tmp, dir, len + 1);
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return errno;
		*s = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return errno;
	return 0;
}

/* --- loading ----------------------------------------------------------- */

struct load_ctx {
	struct xs_store *store;
	struct xs_dwatches *dw;
	bool ended;
};

/* Durable watches: replaying an entry twice must be harmless. */
static int apply_watch(const struct xs_rec_op *op, struct xs_dwatches *dw)
{
	int err;

	if (!dw)
		return 0;
	switch (op->op) {
	case 'W':
		err = xs_dwatch_add(dw, op->domid, op->path, op->token,
				    op->rel_prefix);
		return err == EEXIST ? 0 : err;
	case 'U':
		xs_dwatch_del(dw, op->domid, op->path, op->token);
		return 0;
	case 'C':
		return xs_dcommit_add(dw, op->domid, op->txid);
	default:
		xs_dwatch_forget_domain(dw, op->domid);
		return 0;
	}
}

static int apply_op(const struct xs_rec_op *op, void *opaque)
{
	struct load_ctx *lc = opaque;
	int err;

	switch (op->op) {
	case 'P':
		return xs_store_put(lc->store, op->path, op->value, op->vlen,
				    op->perms, op->nperms);
	case 'D':
		err = xs_store_del(lc->store, op->path);
		return err == ENOENT ? 0 : err;
	case 'W':
	case 'U':
	case 'R':
	case 'C':
		return apply_watch(op, lc->dw);
	default:
		lc->ended = true;
		return 0;
	}
}

static int load_snapshot(struct xs_persist *p, char *err, size_t errlen)
{
	struct load_ctx lc = { p->store, p->dw, false };
	struct xs_rec_result res;
	char *data;
	size_t len;
	int e = read_whole(p->dirfd, SNAP_NAME, &data, &len);

	if (e == ENOENT)
		return 0;
	if (e) {
		snprintf(err, errlen, "cannot read %s/%s: %s", p->dir,
			 SNAP_NAME, strerror(e));
		return -1;
	}
	if (xs_rec_parse_header(data, len, SNAP_MAGIC, &p->epoch) < 0) {
		snprintf(err, errlen, "%s/%s is not a xenstore snapshot",
			 p->dir, SNAP_NAME);
		free(data);
		return -1;
	}
	xs_rec_replay(data + XS_REC_HDR_SIZE, len - XS_REC_HDR_SIZE, apply_op,
		      &lc, &res);
	free(data);
	/* Snapshots are renamed into place complete, so damage here is real
	 * corruption: refuse to start rather than silently lose nodes. */
	if (res.fn_err || !lc.ended) {
		snprintf(err, errlen, "%s/%s is damaged (%s after %zu bytes)",
			 p->dir, SNAP_NAME,
			 res.fn_err ? strerror(res.fn_err) :
			 res.bad ? res.bad : "no end marker", res.good);
		return -1;
	}
	p->st.snapshot_bytes = len;
	return 0;
}

/* Replay the journal; returns its valid length (0 = start a new one). */
static long load_journal(struct xs_persist *p, char *err, size_t errlen)
{
	struct load_ctx lc = { p->store, p->dw, false };
	struct xs_rec_result res;
	uint64_t epoch;
	char *data;
	size_t len;
	int e = read_whole(p->dirfd, JOURNAL_NAME, &data, &len);

	if (e == ENOENT)
		return 0;
	if (e) {
		snprintf(err, errlen, "cannot read %s/%s: %s", p->dir,
			 JOURNAL_NAME, strerror(e));
		return -1;
	}
	if (xs_rec_parse_header(data, len, JOURNAL_MAGIC, &epoch) < 0 ||
	    epoch < p->epoch) {
		/* Torn creation, or older than the snapshot (a compaction
		 * stopped between its two renames): nothing to replay. */
		free(data);
		return 0;
	}
	if (epoch > p->epoch) {
		free(data);
		snprintf(err, errlen, "%s/%s is newer than %s (epoch %llu > "
			 "%llu)", p->dir, JOURNAL_NAME, SNAP_NAME,
			 (unsigned long long)epoch,
			 (unsigned long long)p->epoch);
		return -1;
	}
	xs_rec_replay(data + XS_REC_HDR_SIZE, len - XS_REC_HDR_SIZE, apply_op,
		      &lc, &res);
	free(data);
	if (res.fn_err) {
		snprintf(err, errlen, "cannot apply %s/%s: %s", p->dir,
			 JOURNAL_NAME, strerror(res.fn_err));
		return -1;
	}
	if (res.bad)
		log_warn("xenstore: journal ends with a torn entry after %zu "
			 "good ones (%s); dropping the tail", res.entries,
			 res.bad);
	log_info("xenstore: replayed %zu journal entries", res.entries);
	return (long)(XS_REC_HDR_SIZE + res.good);
}

/* Create a journal file holding only its header, atomically. */
static int new_journal(struct xs_persist *p)
{
	char hdr[XS_REC_HDR_SIZE];
	int fd = openat(p->dirfd, JOURNAL_NAME ".tmp",
			O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	xs_rec_header(hdr, JOURNAL_MAGIC, p->epoch);
	if (write_all(fd, hdr, sizeof(hdr)) < 0 || fdatasync(fd) < 0 ||
	    renameat(p->dirfd, JOURNAL_NAME ".tmp", p->dirfd,
		     JOURNAL_NAME) < 0 || fsync(p->dirfd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int open_journal(struct xs_persist *p, long valid)
{
	if (valid == 0 && new_journal(p) < 0)
		return -1;
	if (valid == 0)
		valid = XS_REC_HDR_SIZE;
	if (p->jfd >= 0)
		close(p->jfd);
	p->jfd = openat(p->dirfd, JOURNAL_NAME,
			O_WRONLY | O_APPEND | O_CLOEXEC);
	if (p->jfd < 0 || ftruncate(p->jfd, valid) < 0)
		return -1;
	p->st.journal_bytes = (size_t)valid;
	return 0;
}

static int lock_dir(struct xs_persist *p, char *err, size_t errlen)
{
	p->lockfd = openat(p->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC,
			   0600);
	if (p->lockfd < 0 || flock(p->lockfd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "cannot lock %s/%s: %s%s", p->dir,
			 LOCK_NAME, strerror(errno),
			 errno == EWOULDBLOCK ?
			 " (another xenond uses this state directory)" : "");
		return -1;
	}
	return 0;
}

static int open_dir(struct xs_persist *p, const char *dir, char *err,
		    size_t errlen)
{
	int e = mkdir_p(dir);

	if (e) {
		snprintf(err, errlen, "cannot create state directory %s: %s",
			 dir, strerror(e));
		return -1;
	}
	p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		snprintf(err, errlen, "cannot open state directory %s: %s",
			 dir, strerror(errno));
		return -1;
	}
	return 0;
}

struct xs_persist *xs_persist_open(const char *dir, struct xs_store *store,
				   struct xs_dwatches *dw, char *err,
				   size_t errlen)
{
	struct xs_persist *p = calloc(1, sizeof(*p));
	long valid;

	if (!p || !(p->dir = strdup(dir))) {
		snprintf(err, errlen, "out of memory");
		free(p);
		return NULL;
	}
	p->dirfd = p->lockfd = p->jfd = -1;
	p->store = store;
	p->dw = dw;
	p->compact_bytes = 16u << 20;
	if (open_dir(p, dir, err, errlen) < 0 ||
	    lock_dir(p, err, errlen) < 0 || load_snapshot(p, err, errlen) < 0)
		goto fail;
	valid = load_journal(p, err, errlen);
	if (valid < 0)
		goto fail;
	if (open_journal(p, valid) < 0) {
		snprintf(err, errlen, "cannot open %s/%s for writing: %s", dir,
			 JOURNAL_NAME, strerror(errno));
		goto fail;
	}
	return p;
fail:
	xs_persist_close(p);
	return NULL;
}

void xs_persist_close(struct xs_persist *p)
{
	if (!p)
		return;
	if (p->jfd >= 0) {
		xs_persist_flush(p);
		fdatasync(p->jfd);
		close(p->jfd);
	}
	if (p->lockfd >= 0)
		close(p->lockfd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	xs_buf_free(&p->batch);
	xs_buf_free(&p->pending);
	free(p->dir);
	free(p);
}

/* --- recording --------------------------------------------------------- */

void xs_persist_put(struct xs_persist *p, const struct xs_node *n)
{
	if (p && xs_rec_put(&p->batch, n->path, n->perms, n->nperms, n->value,
			    n->vlen) < 0)
		p->batch_lost = true;
}

void xs_persist_del(struct xs_persist *p, const char *path)
{
	if (p && xs_rec_del(&p->batch, path) < 0)
		p->batch_lost = true;
}

void xs_persist_watch(struct xs_persist *p, char op, unsigned domid,
		      const char *path, const char *token, size_t rel_prefix)
{
	if (p && xs_rec_watch(&p->batch, op, domid, path, token,
			      (uint32_t)rel_prefix) < 0)
		p->batch_lost = true;
}

void xs_persist_txmark(struct xs_persist *p, unsigned domid, uint32_t txid)
{
	if (p && xs_rec_commit(&p->batch, domid, txid) < 0)
		p->batch_lost = true;
}

void xs_persist_commit(struct xs_persist *p)
{
	if (!p || (!xs_buf_len(&p->batch) && !p->batch_lost))
		return;
	if (p->batch_lost ||
	    xs_rec_frame(&p->pending, xs_buf_peek(&p->batch),
			 xs_buf_len(&p->batch)) < 0) {
		/* The tree already changed; only a snapshot can record it. */
		log_error("xenstore: out of memory journaling a change; "
			  "writing a snapshot instead");
		p->need_snapshot = true;
		p->batch_lost = false;
	}
	xs_buf_reset(&p->batch);
	p->st.entries_written++;
}

int xs_persist_flush(struct xs_persist *p)
{
	size_t len;

	if (!p)
		return 0;
	if (p->need_snapshot) {
		/* Never append to a journal that may be stale: the snapshot
		 * covers everything queued, so retry it instead. */
		if (xs_persist_compact(p) == 0)
			return 0;
		if (xs_buf_len(&p->pending) > PENDING_MAX)
			xs_buf_reset(&p->pending);
		return -1;
	}
	len = xs_buf_len(&p->pending);
	if (!len)
		return 0;
	if (write_all(p->jfd, xs_buf_peek(&p->pending), len) < 0) {
		int e = errno;
		/* Cut a partial entry off so later ones stay readable. */
		if (ftruncate(p->jfd, (off_t)p->st.journal_bytes) < 0)
			p->need_snapshot = true;
		p->st.write_errors++;
		log_error("xenstore: writing %s/%s: %s (will retry)", p->dir,
			  JOURNAL_NAME, strerror(e));
		if (len > PENDING_MAX) {
			xs_buf_reset(&p->pending);
			p->need_snapshot = true;
		}
		return -1;
	}
	p->st.journal_bytes += len;
	xs_buf_reset(&p->pending);
	p->unsynced = true;
	return 0;
}

int xs_persist_sync(struct xs_persist *p)
{
	if (!p || !p->unsynced)
		return 0;
	p->unsynced = false;
	if (fdatasync(p->jfd) < 0) {
		log_errno("xenstore: fdatasync %s/%s", p->dir, JOURNAL_NAME);
		return -1;
	}
	return 0;
}

/* --- compaction -------------------------------------------------------- */

struct snap_ctx {
	int fd;
	struct xs_buf payload, out;
	int err;
};

static int snap_chunk(struct snap_ctx *sc)
{
	if (xs_rec_frame(&sc->out, xs_buf_peek(&sc->payload),
			 xs_buf_len(&sc->payload)) < 0)
		return ENOMEM;
	xs_buf_reset(&sc->payload);
	if (write_all(sc->fd, xs_buf_peek(&sc->out), xs_buf_len(&sc->out)) < 0)
		return errno;
	xs_buf_reset(&sc->out);
	return 0;
}

static int snap_node(const struct xs_node *n, void *opaque)
{
	struct snap_ctx *sc = opaque;

	if (xs_rec_put(&sc->payload, n->path, n->perms, n->nperms, n->value,
		       n->vlen) < 0)
		return ENOMEM;
	return xs_buf_len(&sc->payload) >= SNAP_CHUNK ? snap_chunk(sc) : 0;
}

static int snap_watch(const struct xs_dwatch *w, void *opaque)
{
	struct snap_ctx *sc = opaque;

	if (xs_rec_watch(&sc->payload, 'W', w->domid, w->path, w->token,
			 (uint32_t)w->rel_prefix) < 0)
		return ENOMEM;
	return xs_buf_len(&sc->payload) >= SNAP_CHUNK ? snap_chunk(sc) : 0;
}

static int snap_commit(unsigned domid, uint32_t txid, void *opaque)
{
	struct snap_ctx *sc = opaque;

	if (xs_rec_commit(&sc->payload, domid, txid) < 0)
		return ENOMEM;
	return xs_buf_len(&sc->payload) >= SNAP_CHUNK ? snap_chunk(sc) : 0;
}

static int write_snapshot(struct xs_persist *p, uint64_t epoch, size_t *size)
{
	struct snap_ctx sc = { .fd = -1 };
	char hdr[XS_REC_HDR_SIZE];
	struct stat sb;
	int e;

	sc.fd = openat(p->dirfd, SNAP_NAME ".tmp",
		       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (sc.fd < 0)
		return errno;
	xs_rec_header(hdr, SNAP_MAGIC, epoch);
	e = write_all(sc.fd, hdr, sizeof(hdr)) < 0 ? errno : 0;
	if (!e)
		e = xs_store_walk(p->store, snap_node, &sc);
	if (!e && p->dw)
		e = xs_dwatch_each(p->dw, XS_DWATCH_ALL, snap_watch, &sc);
	if (!e && p->dw)
		e = xs_dcommit_each(p->dw, snap_commit, &sc);
	if (!e)
		e = xs_rec_end(&sc.payload) < 0 ? ENOMEM : snap_chunk(&sc);
	if (!e && (fsync(sc.fd) < 0 || fstat(sc.fd, &sb) < 0))
		e = errno;
	if (!e && renameat(p->dirfd, SNAP_NAME ".tmp", p->dirfd,
			   SNAP_NAME) < 0)
		e = errno;
	if (!e && fsync(p->dirfd) < 0)
		e = errno;
	close(sc.fd);
	xs_buf_free(&sc.payload);
	xs_buf_free(&sc.out);
	if (!e)
		*size = (size_t)sb.st_size;
	return e;
}

int xs_persist_compact(struct xs_persist *p)
{
	size_t size = 0;
	int e;

	if (!p)
		return 0;
	/* The snapshot holds every change applied so far, queued or not. */
	e = write_snapshot(p, p->epoch + 1, &size);
	if (e) {
		log_error("xenstore: writing snapshot %s/%s: %s", p->dir,
			  SNAP_NAME, strerror(e));
		p->st.write_errors++;
		return -1;
	}
	p->epoch++;
	xs_buf_reset(&p->pending);
	p->need_snapshot = false;
	p->st.snapshot_bytes = size;
	p->st.compactions++;
	if (open_journal(p, 0) < 0) {
		/* The old journal's epoch is now stale, so it is ignored on
		 * load; new entries cannot be recorded until this works. */
		log_errno("xenstore: starting a new journal in %s", p->dir);
		p->need_snapshot = true;
		return -1;
	}
	p->unsynced = false;
	return 0;
}

bool xs_persist_want_compact(const struct xs_persist *p)
{
	size_t limit;

	if (!p)
		return false;
	limit = p->compact_bytes;
	if (limit < 2 * p->st.snapshot_bytes)
		limit = 2 * p->st.snapshot_bytes;
	return p->need_snapshot || p->st.journal_bytes > limit;
}

void xs_persist_set_compact_bytes(struct xs_persist *p, size_t bytes)
{
	if (p)
		p->compact_bytes = bytes;
}

void xs_persist_get_stats(const struct xs_persist *p,
			  struct xs_persist_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!p)
		return;
	*st = p->st;
	st->epoch = p->epoch;
}
