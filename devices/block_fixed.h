/*
 * Guest RAM as io_uring fixed buffers, for the block I/O engine's reads.
 *
 * A buffered read into a registered buffer is copied by the kernel into
 * the pages through its own mapping of them (a bvec), not through the
 * monitor's page tables, where guest RAM is a memfd mapped in 4 KiB pages
 * (no shmem THP on these hosts).  Measured here (1 MiB reads of a cached
 * file into a memfd mapping, 16 in flight, medians of 7): 7.0-7.7 GB/s
 * with IORING_OP_READV, 7.6-8.4 GB/s with IORING_OP_READ_FIXED.  Only
 * large reads use it: 4 KiB reads were ~15% slower with it, and
 * IORING_OP_WRITE_FIXED measured 22% slower for 1 MiB buffered writes
 * (those are written at submission anyway, block_aio.h).
 *
 * Registering pins pages, so it is done lazily: buffer i covers chunks i
 * and i + 1 (chunks of 2 MiB or more, at most 1024 of them, so a read of
 * up to a chunk fits one buffer wherever it lies) and is registered the
 * first time a read starts in chunk i.  It stays pinned for the disk's
 * life: the pinned memory is bounded by the guest's RAM and by what the
 * guest actually reads into.  Without CAP_IPC_LOCK it counts against
 * RLIMIT_MEMLOCK; a registration the kernel refuses leaves that chunk's
 * reads on readv (one warning per disk).  Guest RAM is never remapped or
 * punched while the monitor runs, so the pinned pages stay the guest's
 * (a restored guest's private file mapping is copied on pinning, as a
 * guest write would do).
 */
#ifndef XENON_BLOCK_FIXED_H
#define XENON_BLOCK_FIXED_H

#include <stdint.h>

struct io_uring;
struct block_fixed;

/* A sparse buffer table over [base, base + size) on ring; NULL (after a
 * note in the log) when the kernel cannot, and reads then use readv. */
struct block_fixed *block_fixed_create(struct io_uring *ring, void *base,
				       uint64_t size, const char *what);
/* The buffer index covering [p, p + len), registering its chunk on first
 * use; -1 when the range is not inside one usable chunk. */
int block_fixed_index(struct block_fixed *bf, const void *p, uint64_t len);
/* Before the ring is torn down (which unregisters the buffers). */
void block_fixed_destroy(struct block_fixed *bf);

#endif
