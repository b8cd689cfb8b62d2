/*
 * The block I/O engine: io_uring for reads, writes and flushes of
 * descriptor-backed disks, one worker thread for the rest.  See
 * block_aio.h for why.
 *
 * Threads: requests are submitted from the main loop and, when a
 * completion lets a throttled queue go on, from the worker; completions
 * are reaped on the main loop.  ring_lock guards the ring (liburing's
 * rings are single-producer, single-consumer) and lock the worker's list;
 * neither is held while done() runs.
 */
#include "devices/block_aio.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/block_backend.h"
#include "devices/block_fixed.h"
#include "lib/log.h"
#include "vmm/main_loop.h"

#define REAP_BATCH 64
#define RING_MIN 8
#define RING_MAX 4096
#define INLINE_WRITE_MAX (2u << 20)
/* Writes above SMALL_WRITE_MAX stop being written inline for a while
 * after one took SLOW_WRITE_NS (the kernel throttling this writer for
 * writeback, or a slow device): the main loop must not sit in it. */
#define SMALL_WRITE_MAX (64u << 10)
#define SLOW_WRITE_NS   (10 * 1000000ULL)
#define SLOW_BACKOFF_NS (1000 * 1000000ULL)
/* Reads this large use fixed buffers where they can (block_fixed.h);
 * 4 KiB reads measured ~15% slower with READ_FIXED, 1 MiB ones ~4-10%
 * faster, and nothing between was measured. */
#define FIXED_READ_MIN (256u << 10)

struct block_aio {
	struct block_backend *bb;
	block_done_fn done;
	void *opaque;
	char what[160];

	bool have_ring;
	pthread_mutex_t ring_lock;
	struct io_uring ring;
	struct block_fixed *fixed;     /* NULL: reads use readv */
	int efd;
	unsigned ring_inflight, unsubmitted;
	/* Writes done at submission (see block_aio_submit). */
	struct block_req *inline_head, **inline_tail;
	uint64_t large_inline_after;   /* ns, CLOCK_MONOTONIC; atomic */

	pthread_t worker;
	bool worker_started, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct block_req *head, **tail;
};

/* ---- worker ----------------------------------------------------------------- */

static int run_sync(struct block_backend *bb, struct block_req *r)
{
	int rc;

	switch (r->op) {
	case BLOCK_READ:
		return bb->ops->readv(bb, r->iov, r->niov, r->offset);
	case BLOCK_WRITE:
		rc = bb->ops->writev(bb, r->iov, r->niov, r->offset);
		return rc == 0 && r->dsync ? bb->ops->flush(bb) : rc;
	case BLOCK_FLUSH:
		return bb->ops->flush(bb);
	case BLOCK_DISCARD:
		return bb->ops->discard(bb, r->offset, r->len);
	case BLOCK_WRITE_ZEROES:
		return bb->ops->write_zeroes(bb, r->offset, r->len, r->unmap);
	}
	return -EINVAL;
}

static void *worker_main(void *arg)
{
	struct block_aio *aio = arg;
	struct block_req *r;

	pthread_mutex_lock(&aio->lock);
	for (;;) {
		while (!aio->head && !aio->stop)
			pthread_cond_wait(&aio->cond, &aio->lock);
		if (!aio->head)
			break;   /* stopping, and nothing left to do */
		r = aio->head;
		aio->head = r->next;
		if (!aio->head)
			aio->tail = &aio->head;
		pthread_mutex_unlock(&aio->lock);
		r->result = run_sync(aio->bb, r);
		aio->done(aio->opaque, &r, 1);
		pthread_mutex_lock(&aio->lock);
	}
	pthread_mutex_unlock(&aio->lock);
	return NULL;
}

static void worker_queue(struct block_aio *aio, struct block_req *r)
{
	r->next = NULL;
	pthread_mutex_lock(&aio->lock);
	*aio->tail = r;
	aio->tail = &r->next;
	pthread_cond_signal(&aio->cond);
	pthread_mutex_unlock(&aio->lock);
}

/* The worker must not take SIGTERM and friends: they belong to the main
 * loop's signalfd, and this may run before main.c blocks them. */
static int start_worker(struct block_aio *aio)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&aio->worker, NULL, worker_main, aio);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		log_error("%s: cannot start the I/O thread: %s", aio->what,
			  strerror(rc));
		return -1;
	}
	aio->worker_started = true;
	return 0;
}

/* ---- io_uring --------------------------------------------------------------- */

static bool ring_op(const struct block_aio *aio, const struct block_req *r)
{
	return aio->have_ring && (r->op == BLOCK_READ || r->op == BLOCK_WRITE ||
				  r->op == BLOCK_FLUSH);
}

static void prep(struct block_aio *aio, struct io_uring_sqe *sqe,
		 struct block_req *r)
{
	int fd = aio->bb->fd;
	uint64_t off = r->offset + r->done_bytes;

	if (r->op == BLOCK_READ) {
		int idx = r->niov == 1 && r->iov->iov_len >= FIXED_READ_MIN ?
			  block_fixed_index(aio->fixed, r->iov->iov_base,
					    r->iov->iov_len) : -1;

		if (idx >= 0)
			io_uring_prep_read_fixed(sqe, fd, r->iov->iov_base,
						 (unsigned)r->iov->iov_len, off,
						 idx);
		else
			io_uring_prep_readv(sqe, fd, r->iov, r->niov, off);
	} else if (r->op == BLOCK_WRITE) {
		io_uring_prep_writev(sqe, fd, r->iov, r->niov, off);
		if (r->dsync)
			sqe->rw_flags = RWF_DSYNC;
	} else {
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	}
	io_uring_sqe_set_data(sqe, r);
}

static void ring_kick(struct block_aio *aio)
{
	int rc;

	if (!aio->unsubmitted)
		return;
	rc = io_uring_submit(&aio->ring);
	if (rc < 0) {
		/* The queued entries stay in the ring for the next kick. */
		log_warn("%s: io_uring_submit: %s", aio->what, strerror(-rc));
		return;
	}
	aio->unsubmitted = 0;
}

/* Queue r on the ring; false if the submission queue is full even after
 * flushing it (cannot happen while callers respect max_inflight). */
static bool ring_queue(struct block_aio *aio, struct block_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&aio->ring);

	if (!sqe) {
		ring_kick(aio);
		sqe = io_uring_get_sqe(&aio->ring);
		if (!sqe)
			return false;
	}
	prep(aio, sqe, r);
	aio->unsubmitted++;
	return true;
}

/* Drop the first n bytes of r's vector (after a short transfer). */
static void iov_advance(struct block_req *r, uint64_t n)
{
	while (r->niov && n >= r->iov->iov_len) {
		n -= r->iov->iov_len;
		r->iov++;
		r->niov--;
	}
	if (r->niov && n) {
		r->iov->iov_base = (uint8_t *)r->iov->iov_base + n;
		r->iov->iov_len -= n;
	}
}

/* One completion: true when r is finished, false if it went back on the
 * ring (interrupted, or a short transfer to be continued). */
static bool ring_complete(struct block_aio *aio, struct block_req *r, int res)
{
	if (res == -EAGAIN || res == -EINTR)
		return !ring_queue(aio, r) ? (r->result = res, true) : false;
	if (res < 0) {
		r->result = res;
		return true;
	}
	if (r->op == BLOCK_FLUSH || (uint64_t)res + r->done_bytes >= r->len) {
		r->result = 0;
		return true;
	}
	if (res == 0) {
		r->result = -EIO;   /* end of file inside the disk: truncated */
		return true;
	}
	r->done_bytes += (uint64_t)res;
	iov_advance(r, (uint64_t)res);
	if (ring_queue(aio, r))
		return false;
	r->result = -EAGAIN;
	return true;
}

/* Collect finished requests and hand them to fn in batches. */
static void reap_to(struct block_aio *aio, block_done_fn fn, void *opaque)
{
	struct block_req *batch[REAP_BATCH];
	struct io_uring_cqe *cqe;
	unsigned n;

	do {
		n = 0;
		pthread_mutex_lock(&aio->ring_lock);
		while (n < REAP_BATCH && aio->inline_head) {
			batch[n++] = aio->inline_head;
			aio->inline_head = aio->inline_head->next;
		}
		if (!aio->inline_head)
			aio->inline_tail = &aio->inline_head;
		while (n < REAP_BATCH && io_uring_peek_cqe(&aio->ring, &cqe) == 0) {
			struct block_req *r = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&aio->ring, cqe);
			if (ring_complete(aio, r, res)) {
				aio->ring_inflight--;
				batch[n++] = r;
			}
		}
		ring_kick(aio);   /* anything re-queued above */
		pthread_mutex_unlock(&aio->ring_lock);
		if (n)
			fn(opaque, batch, n);
	} while (n == REAP_BATCH);
}

static void reap(struct block_aio *aio)
{
	reap_to(aio, aio->done, aio->opaque);
}

void block_aio_kick_and_reap(struct block_aio *aio, block_done_fn fn,
			     void *opaque)
{
	if (!aio->have_ring)
		return;
	block_aio_kick(aio);
	reap_to(aio, fn, opaque);
}

static void on_ring_event(void *opaque, uint32_t events)
{
	struct block_aio *aio = opaque;
	uint64_t v;

	(void)events;
	if (read(aio->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_errno("%s: io_uring eventfd", aio->what);
	reap(aio);
}

static unsigned ring_entries(unsigned max_inflight)
{
	unsigned n = RING_MIN;

	while (n < max_inflight && n < RING_MAX)
		n <<= 1;
	return n;
}

static void setup_ring(struct block_aio *aio, unsigned max_inflight)
{
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE };
	int rc;

	p.cq_entries = 2 * ring_entries(max_inflight);
	rc = io_uring_queue_init_params(ring_entries(max_inflight), &aio->ring, &p);
	if (rc < 0) {
		log_warn("%s: io_uring unavailable (%s); using a thread instead",
			 aio->what, strerror(-rc));
		return;
	}
	aio->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (aio->efd < 0 || io_uring_register_eventfd(&aio->ring, aio->efd) < 0 ||
	    main_loop_add_fd(aio->efd, EPOLLIN, on_ring_event, aio) < 0) {
		log_warn("%s: io_uring eventfd failed; using a thread instead",
			 aio->what);
		if (aio->efd >= 0)
			close(aio->efd);
		aio->efd = -1;
		io_uring_queue_exit(&aio->ring);
		return;
	}
	aio->have_ring = true;
}

/* ---- interface ---------------------------------------------------------------- */

struct block_aio *block_aio_create(struct block_backend *bb,
				   unsigned max_inflight, block_done_fn done,
				   void *opaque, const char *what)
{
	struct block_aio *aio = calloc(1, sizeof(*aio));

	if (!aio) {
		log_error("%s: out of memory", what);
		return NULL;
	}
	aio->bb = bb;
	aio->done = done;
	aio->opaque = opaque;
	aio->efd = -1;
	snprintf(aio->what, sizeof(aio->what), "%s", what);
	aio->tail = &aio->head;
	aio->inline_tail = &aio->inline_head;
	pthread_mutex_init(&aio->lock, NULL);
	pthread_mutex_init(&aio->ring_lock, NULL);
	pthread_cond_init(&aio->cond, NULL);
	if (bb->fd >= 0)
		setup_ring(aio, max_inflight);
	if (start_worker(aio) < 0) {
		block_aio_destroy(aio);
		return NULL;
	}
	return aio;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Write r on the calling thread (block_aio.h)?  Large writes only while
 * none of them was slow lately. */
static bool write_inline(struct block_aio *aio, const struct block_req *r)
{
	if (!aio->have_ring || r->op != BLOCK_WRITE || r->dsync ||
	    r->len > INLINE_WRITE_MAX)
		return false;
	return r->len <= SMALL_WRITE_MAX ||
	       now_ns() >= __atomic_load_n(&aio->large_inline_after,
					   __ATOMIC_RELAXED);
}

static void write_now(struct block_aio *aio, struct block_req *r)
{
	uint64_t t0 = r->len > SMALL_WRITE_MAX ? now_ns() : 0, t1;

	r->result = block_pwritev_full(aio->bb->fd, r->iov, r->niov, r->offset,
				       false);
	if (t0 && (t1 = now_ns()) - t0 > SLOW_WRITE_NS)
		__atomic_store_n(&aio->large_inline_after, t1 + SLOW_BACKOFF_NS,
				 __ATOMIC_RELAXED);
}

void block_aio_submit(struct block_aio *aio, struct block_req *r)
{
	r->result = 0;
	r->done_bytes = 0;
	if (write_inline(aio, r)) {
		write_now(aio, r);
		r->next = NULL;
		pthread_mutex_lock(&aio->ring_lock);
		*aio->inline_tail = r;
		aio->inline_tail = &r->next;
		pthread_mutex_unlock(&aio->ring_lock);
		return;
	}
	if (ring_op(aio, r)) {
		bool queued;

		pthread_mutex_lock(&aio->ring_lock);
		queued = ring_queue(aio, r);
		aio->ring_inflight += queued;
		pthread_mutex_unlock(&aio->ring_lock);
		if (queued)
			return;
	}
	worker_queue(aio, r);
}

void block_aio_kick(struct block_aio *aio)
{
	if (!aio->have_ring)
		return;
	pthread_mutex_lock(&aio->ring_lock);
	ring_kick(aio);
	pthread_mutex_unlock(&aio->ring_lock);
}

void block_aio_fixed_ram(struct block_aio *aio, void *base, uint64_t size)
{
	if (!aio->have_ring || aio->fixed)
		return;
	pthread_mutex_lock(&aio->ring_lock);
	aio->fixed = block_fixed_create(&aio->ring, base, size, aio->what);
	pthread_mutex_unlock(&aio->ring_lock);
}

void block_aio_destroy(struct block_aio *aio)
{
	if (!aio)
		return;
	if (aio->have_ring) {
		main_loop_del_fd(aio->efd);
		/* Nothing else runs now: the vCPUs and the main loop are
		 * done, so the ring is ours without the lock. */
		while (aio->ring_inflight) {
			struct io_uring_cqe *cqe;

			ring_kick(aio);
			if (io_uring_wait_cqe(&aio->ring, &cqe) < 0)
				break;
			reap(aio);
		}
		block_fixed_destroy(aio->fixed);
		io_uring_queue_exit(&aio->ring);
		close(aio->efd);
	}
	if (aio->worker_started) {
		pthread_mutex_lock(&aio->lock);
		aio->stop = true;
		pthread_cond_signal(&aio->cond);
		pthread_mutex_unlock(&aio->lock);
		pthread_join(aio->worker, NULL);
	}
	pthread_mutex_destroy(&aio->lock);
	pthread_mutex_destroy(&aio->ring_lock);
	pthread_cond_destroy(&aio->cond);
	free(aio);
}
