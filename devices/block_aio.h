/*
 * The block I/O engine: runs a disk's requests off the vCPU threads and
 * off the main loop's critical path, and reports completions in batches.
 *
 * Two ways to run a request, picked per request:
 *
 *  - io_uring (liburing), for reads, writes and flushes of back ends that
 *    expose a descriptor (raw files, phy: devices).  Requests are queued
 *    by the device on the main loop thread, submitted with one
 *    io_uring_enter per kick, and completions come back through an
 *    eventfd that the main loop watches.  Measured on this host against
 *    the same file (bench/blk_engine.c, 32 requests in flight, page
 *    cache): random 4 KiB reads 1.0 M/s through io_uring from one thread
 *    versus 0.42 M/s through a pool of two threads (0.31 M/s with four) --
 *    the pool pays a wake-up and a lock round trip per batch, io_uring
 *    completes cached reads inline; sequential 1 MiB writes 5.3 GB/s
 *    versus 4.3 GB/s; random 4 KiB writes and 1 MiB reads were within
 *    15% either way.  With two host CPUs shared by everything, fewer
 *    threads and fewer wake-ups win, so io_uring is the engine.
 *
 *    Except buffered writes up to 2 MiB: the ext4 here cannot write to
 *    the page cache without possibly blocking (RWF_NOWAIT gives
 *    EOPNOTSUPP), so io_uring hands every buffered write to one of its
 *    io-wq threads -- 82 k/s for random 4 KiB writes against 370 k/s for
 *    plain pwritev on the calling thread (fio, psync).  Those are written
 *    at submission instead and complete with the next reap (virtio-blk
 *    reaps every 256 KiB, so a batch of them does not hold its
 *    completions).  For 1 MiB writes this measured 9-15% faster than the
 *    io-wq hand-off (bench/blk.sh, quiet and loaded host, polled and
 *    halted guest): one thread copies instead of two taking turns.  It
 *    costs the main loop the copy (~0.2 ms per MiB; a virtio-blk pass is
 *    bounded at 32 MiB).  A write the kernel throttles for writeback
 *    blocks it, as the small ones always could; after one write over
 *    64 KiB took more than 10 ms, the larger ones go back to io_uring
 *    for a second, so a slow disk costs the main loop one such wait per
 *    second at most, not one per write.  The cap covers Linux
 *    guests' default largest request (1280 KiB); larger writes, and
 *    writes the guest wants on stable storage (RWF_DSYNC), still go
 *    through io_uring.
 *
 *  - a worker thread, for everything else: back ends without a plain
 *    descriptor (qcow2: its metadata makes every request a small
 *    synchronous program), and discard / write-zeroes, whose fallocate
 *    fall-backs (punch hole -> zero range -> writing zeros) are easier to
 *    express as a sequence of blocking calls.
 *
 * done() is called without any engine lock held: from the main loop
 * thread for io_uring completions, from the worker for the rest, and from
 * block_aio_destroy() for requests still in flight at the end.
 */
#ifndef XENON_BLOCK_AIO_H
#define XENON_BLOCK_AIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct block_backend;

enum block_op_kind { BLOCK_READ, BLOCK_WRITE, BLOCK_FLUSH, BLOCK_DISCARD,
		     BLOCK_WRITE_ZEROES };

struct block_req {
	enum block_op_kind op;
	uint64_t offset, len;      /* bytes; len is the sum of iov */
	struct iovec *iov;         /* READ / WRITE; may be modified */
	unsigned niov;
	bool unmap;                /* WRITE_ZEROES may free the space */
	bool dsync;                /* WRITE: on stable storage when done */
	int result;                /* 0 or -errno, set before done() */
	/* Engine state. */
	uint64_t done_bytes;
	struct block_req *next;
};

typedef void (*block_done_fn)(void *opaque, struct block_req **reqs,
			      unsigned n);

struct block_aio;

/* max_inflight bounds what the caller will ever have submitted and not
 * yet seen completed (the ring is sized from it).  NULL after logging. */
struct block_aio *block_aio_create(struct block_backend *bb,
				   unsigned max_inflight, block_done_fn done,
				   void *opaque, const char *what);
/* Queue a request; nothing reaches the kernel before block_aio_kick(). */
void block_aio_submit(struct block_aio *aio, struct block_req *req);
void block_aio_kick(struct block_aio *aio);
/* Kick, then hand what already finished (buffered reads from the page
 * cache complete inside io_uring_enter) to fn at once rather than after
 * a trip through the main loop; for a caller that holds the lock done()
 * would take. */
void block_aio_kick_and_reap(struct block_aio *aio, block_done_fn fn,
			     void *opaque);
/* Reads into [base, base + size) (guest RAM) may use io_uring fixed
 * buffers (block_fixed.h); call before the first submission. */
void block_aio_fixed_ram(struct block_aio *aio, void *base, uint64_t size);
/* Wait for every request in flight (their done() runs), then free. */
void block_aio_destroy(struct block_aio *aio);

#endif
