/*
 * Block back ends: where a disk's bytes live (Xen's blkback side of the
 * split driver).  A back end is opened from one parsed xl disk spec
 * (lib/domain_config.h, xl-disk-configuration(5)) and offers synchronous,
 * vectored operations on byte offsets:
 *
 *   block_raw.c    raw image files (file:, tap:aio:, format=raw) and host
 *                  block devices (phy:)
 *   block_qcow2*.c qcow2 images (tap:qcow2:, format=qcow2), with backing
 *                  files
 *
 * The operations are thread-safe and may block; the device never calls
 * them on a vCPU thread or the main loop but through the I/O engine
 * (block_aio.h).  A back end whose guest offsets are file offsets of one
 * descriptor (raw) says so with `fd`, and the engine then skips the
 * synchronous calls and drives that descriptor through io_uring.
 *
 * Every operation returns 0 (or the byte count) or -errno.
 */
#ifndef XENON_BLOCK_BACKEND_H
#define XENON_BLOCK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct xl_disk;
struct block_backend;

struct block_backend_ops {
	/* Whole transfers: a short read or write is retried inside, and
	 * reading past the end is an error (-EIO). */
	int (*readv)(struct block_backend *bb, const struct iovec *iov,
		     unsigned niov, uint64_t off);
	int (*writev)(struct block_backend *bb, const struct iovec *iov,
		      unsigned niov, uint64_t off);
	/* Everything written so far is on stable storage. */
	int (*flush)(struct block_backend *bb);
	/* The range may be dropped (reads then return anything; raw files
	 * and block devices read zeros). */
	int (*discard)(struct block_backend *bb, uint64_t off, uint64_t len);
	/* The range reads as zeros; unmap: its space may be freed. */
	int (*write_zeroes)(struct block_backend *bb, uint64_t off,
			    uint64_t len, bool unmap);
	void (*close)(struct block_backend *bb);
};

struct block_backend {
	const struct block_backend_ops *ops;
	uint64_t size;          /* bytes the guest sees */
	bool readonly;
	/* >= 0: guest offset == offset in this descriptor (raw back ends),
	 * so the engine may use it directly; -1 otherwise. */
	int fd;
	/* For messages: "disk[1]: '/img/a.raw'". */
	char what[512];
};

/*
 * Open the back end disk describes.  `index` is the disk's position on the
 * command line (for messages "disk[1]: '/x/y.img': No such file or
 * directory").  Returns NULL after logging a clear error.  An empty cdrom
 * drive has no back end: do not call this for one.
 */
struct block_backend *block_backend_open(const struct xl_disk *disk,
					 unsigned index);
void block_backend_close(struct block_backend *bb);

/* Helpers shared by the back ends (block_backend.c). */

/* Open PATH for a back end: O_RDONLY or O_RDWR, refusing directories,
 * read-only files asked for writing, read-only block devices asked for
 * writing, and images another process holds locked.  Sets *size to the
 * file's or device's size and *is_blk.  Returns the fd, or -1 after
 * logging "WHAT: reason". */
/* Image locks (block_lock.c): taken on open; for a migration, opened
 * without them (defer, incoming side), given up at the hand-over (release,
 * sending side) and taken when the guest runs here (take: -1 if some image
 * is still locked elsewhere; the guest runs anyway, with a warning). */
int block_lock_image(const char *what, int fd, bool readonly);
void block_locks_defer(void);
void block_locks_release(void);
int block_locks_take(void);

int block_open_file(const char *what, const char *path, bool readonly,
		    uint64_t *size, bool *is_blk);
/* Loops over preadv/pwritev until the whole transfer is done. */
int block_preadv_full(int fd, const struct iovec *iov, unsigned niov,
		      uint64_t off);
int block_pwritev_full(int fd, const struct iovec *iov, unsigned niov,
		       uint64_t off, bool dsync);
/* fallocate() with the fall-backs write_zeroes needs (punch, zero range,
 * then plain writes of zeros). */
int block_fd_write_zeroes(int fd, uint64_t off, uint64_t len, bool unmap);
int block_fd_discard(int fd, uint64_t off, uint64_t len);

/* Open a backing image (qcow2's backing file): read-only, by format
 * name ("raw", "qcow2") or probed when fmt is NULL. */
struct block_backend *block_backend_open_image(const char *what,
					       const char *path,
					       const char *fmt,
					       unsigned depth);

/* The raw back end over an already-open descriptor. */
struct block_backend *block_raw_create(const char *what, int fd,
				       uint64_t size, bool readonly);
/* qcow2 (block_qcow2.c).  fd is open with the right mode; takes it. */
struct block_backend *block_qcow2_open(const char *what, const char *path,
				       int fd, bool readonly, unsigned depth);

/* Backing chains deeper than this are refused (and loops with them). */
#define BLOCK_MAX_BACKING_DEPTH 16

#endif
