/*
 * Raw back end: file:, tap:aio: and format=raw image files, and phy:
 * block devices.  Guest offset N is byte N of the file or device, so the
 * I/O engine drives the descriptor itself through io_uring for reads,
 * writes and flushes; these synchronous operations serve the rest
 * (discard, write-zeroes) and qcow2 images that have a raw backing file.
 *
 * The page cache is used (QEMU's cache=writeback): a write is complete
 * when the host kernel has it, a flush (fdatasync) puts it on stable
 * storage, and a guest that asks for write-through gets RWF_DSYNC writes.
 */
#include "devices/block_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/log.h"

static int raw_readv(struct block_backend *bb, const struct iovec *iov,
		     unsigned niov, uint64_t off)
{
	return block_preadv_full(bb->fd, iov, niov, off);
}

static int raw_writev(struct block_backend *bb, const struct iovec *iov,
		      unsigned niov, uint64_t off)
{
	if (bb->readonly)
		return -EROFS;
	return block_pwritev_full(bb->fd, iov, niov, off, false);
}

static int raw_flush(struct block_backend *bb)
{
	return fdatasync(bb->fd) < 0 ? -errno : 0;
}

static int raw_discard(struct block_backend *bb, uint64_t off, uint64_t len)
{
	return bb->readonly ? -EROFS : block_fd_discard(bb->fd, off, len);
}

static int raw_write_zeroes(struct block_backend *bb, uint64_t off,
			    uint64_t len, bool unmap)
{
	if (bb->readonly)
		return -EROFS;
	return block_fd_write_zeroes(bb->fd, off, len, unmap);
}

static void raw_close(struct block_backend *bb)
{
	close(bb->fd);
	free(bb);
}

static const struct block_backend_ops raw_ops = {
	.readv = raw_readv,
	.writev = raw_writev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.close = raw_close,
};

struct block_backend *block_raw_create(const char *what, int fd,
				       uint64_t size, bool readonly)
{
	struct block_backend *bb = calloc(1, sizeof(*bb));

	if (!bb) {
		log_error("%s: out of memory", what);
		return NULL;
	}
	bb->ops = &raw_ops;
	bb->size = size;
	bb->readonly = readonly;
	bb->fd = fd;
	snprintf(bb->what, sizeof(bb->what), "%s", what);
	return bb;
}
