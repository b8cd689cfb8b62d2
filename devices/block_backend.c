/*
 * Opening block back ends, and the file helpers they share.
 *
 * Everything that can be wrong with a disk's target is found here, before
 * the guest runs, and reported as "disk[N]: 'TARGET': what is wrong".
 */
#include "devices/block_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/domain_config.h"
#include "lib/log.h"

#define QCOW_MAGIC "QFI\xfb"

static int fail(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const char *what, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s: %s", what, msg);
	return -1;
}

static int check_type(const char *what, const struct stat *st, bool readonly)
{
	if (S_ISDIR(st->st_mode))
		return fail(what, "Is a directory");
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		return fail(what, "not a regular file or block device");
	/* root may write any file, so look at the mode ourselves: a
	 * read-only image asked for writing is a mistake in the spec. */
	if (!readonly && S_ISREG(st->st_mode) && !(st->st_mode & 0222))
		return fail(what, "the file is read-only (mode %04o) but the "
			    "disk is writable; give access r, or make the "
			    "file writable", (unsigned)(st->st_mode & 07777));
	return 0;
}

static int device_size(const char *what, int fd, bool readonly,
		       uint64_t *size)
{
	int ro = 0;

	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		return fail(what, "cannot read the device size: %s",
			    strerror(errno));
	if (!readonly && ioctl(fd, BLKROGET, &ro) == 0 && ro)
		return fail(what, "the block device is read-only but the "
			    "disk is writable; give access r");
	return 0;
}

int block_open_file(const char *what, const char *path, bool readonly,
		    uint64_t *size, bool *is_blk)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return fail(what, "%s", strerror(errno));
	if (check_type(what, &st, readonly) < 0)
		return -1;
	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		if (!readonly && (errno == EROFS || errno == EACCES ||
				  errno == EPERM))
			return fail(what, "%s (the disk is writable; give "
				    "access r for a read-only disk)",
				    strerror(errno));
		return fail(what, "%s", strerror(errno));
	}
	/* Judge what was opened, not what stat() saw a moment before. */
	if (fstat(fd, &st) < 0 || check_type(what, &st, readonly) < 0)
		goto bad;
	*is_blk = S_ISBLK(st.st_mode);
	if (*is_blk) {
		if (device_size(what, fd, readonly, size) < 0)
			goto bad;
	} else {
		*size = (uint64_t)st.st_size;
	}
	if (block_lock_image(what, fd, readonly) < 0)
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

/* ---- whole transfers -------------------------------------------------------- */

/* n bytes done out of iov: continue with a copy of the rest.  Returns the
 * new count, using `tmp` (at least niov entries). */
static unsigned iov_rest(const struct iovec *iov, unsigned niov, size_t n,
			 struct iovec *tmp)
{
	unsigned k = 0, out = 0;

	while (k < niov && n >= iov[k].iov_len)
		n -= iov[k++].iov_len;
	for (; k < niov; k++) {
		tmp[out].iov_base = (uint8_t *)iov[k].iov_base + n;
		tmp[out++].iov_len = iov[k].iov_len - n;
		n = 0;
	}
	return out;
}

static int full_io(int fd, const struct iovec *iov, unsigned niov,
		   uint64_t off, bool write, bool dsync)
{
	struct iovec *tmp = NULL;
	int rc = 0;

	while (niov) {
		int cnt = niov > IOV_MAX ? IOV_MAX : (int)niov;
		ssize_t n = write ? pwritev2(fd, iov, cnt, (off_t)off,
					     dsync ? RWF_DSYNC : 0)
				  : preadv(fd, iov, cnt, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;   /* 0: past the end */
			break;
		}
		if (!tmp && !(tmp = malloc(niov * sizeof(*tmp)))) {
			rc = -ENOMEM;
			break;
		}
		niov = iov_rest(iov, niov, (size_t)n, tmp);
		iov = tmp;
		off += (uint64_t)n;
	}
	free(tmp);
	return rc;
}

int block_preadv_full(int fd, const struct iovec *iov, unsigned niov,
		      uint64_t off)
{
	return full_io(fd, iov, niov, off, false, false);
}

int block_pwritev_full(int fd, const struct iovec *iov, unsigned niov,
		       uint64_t off, bool dsync)
{
	return full_io(fd, iov, niov, off, true, dsync);
}

/* ---- zeroing ---------------------------------------------------------------- */

static int write_zero_buffers(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];
	struct iovec iov[16];

	for (unsigned i = 0; i < 16; i++)
		iov[i] = (struct iovec){ (void *)zeros, sizeof(zeros) };
	while (len) {
		uint64_t chunk = len < 16 * sizeof(zeros) ? len : 16 * sizeof(zeros);
		unsigned n = (unsigned)((chunk + sizeof(zeros) - 1) / sizeof(zeros));
		int rc;

		iov[n - 1].iov_len = chunk - (uint64_t)(n - 1) * sizeof(zeros);
		rc = block_pwritev_full(fd, iov, n, off, false);
		iov[n - 1].iov_len = sizeof(zeros);
		if (rc < 0)
			return rc;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

static bool unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL ||
	       err == ENODEV;
}

int block_fd_write_zeroes(int fd, uint64_t off, uint64_t len, bool unmap)
{
	if (!len)
		return 0;
	if (unmap && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       (off_t)off, (off_t)len) == 0)
		return 0;
	if (unmap && !unsupported(errno))
		return -errno;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	if (!unsupported(errno))
		return -errno;
	return write_zero_buffers(fd, off, len);
}

/* A hint: a file system or device that cannot punch holes keeps the data. */
int block_fd_discard(int fd, uint64_t off, uint64_t len)
{
	if (!len || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len) == 0)
		return 0;
	return unsupported(errno) ? 0 : -errno;
}

/* ---- opening ------------------------------------------------------------------ */

static bool has_qcow_magic(int fd)
{
	char magic[4];

	return pread(fd, magic, 4, 0) == 4 && !memcmp(magic, QCOW_MAGIC, 4);
}

static struct block_backend *open_raw(const char *what, const char *path,
				      bool readonly)
{
	struct block_backend *bb;
	uint64_t size;
	bool is_blk;
	int fd = block_open_file(what, path, readonly, &size, &is_blk);

	if (fd < 0)
		return NULL;
	if (!is_blk && has_qcow_magic(fd))
		log_warn("%s: looks like a qcow image but the disk's format is "
			 "raw: the guest sees the image file itself (give "
			 "format=qcow2 to see its contents)", what);
	bb = block_raw_create(what, fd, size, readonly);
	if (!bb)
		close(fd);
	return bb;
}

static struct block_backend *open_qcow2(const char *what, const char *path,
					bool readonly, unsigned depth)
{
	uint64_t size;
	bool is_blk;
	int fd = block_open_file(what, path, readonly, &size, &is_blk);

	if (fd < 0)
		return NULL;
	return block_qcow2_open(what, path, fd, readonly, depth);
}

struct block_backend *block_backend_open(const struct xl_disk *disk,
					 unsigned index)
{
	char what[512];

	snprintf(what, sizeof(what), "disk[%u]: '%s'", index, disk->target);
	if (disk->script) {
		fail(what, "block scripts (%s) are not supported; give the block "
		     "device or image file itself", disk->script);
		return NULL;
	}
	switch (disk->format) {
	case XL_FORMAT_RAW:
		return open_raw(what, disk->target, disk->readonly);
	case XL_FORMAT_QCOW2:
		return open_qcow2(what, disk->target, disk->readonly, 0);
	default:
		fail(what, "format %s is not supported (raw and qcow2 are)",
		     xl_disk_format_name(disk->format));
		return NULL;
	}
}

struct block_backend *block_backend_open_image(const char *what,
					       const char *path,
					       const char *fmt,
					       unsigned depth)
{
	if (depth > BLOCK_MAX_BACKING_DEPTH) {
		fail(what, "backing chain deeper than %d images (a loop?)",
		     BLOCK_MAX_BACKING_DEPTH);
		return NULL;
	}
	if (!fmt) {
		uint64_t size;
		bool is_blk;
		int fd = block_open_file(what, path, true, &size, &is_blk);
		bool qcow;

		if (fd < 0)
			return NULL;
		qcow = has_qcow_magic(fd);
		close(fd);
		fmt = qcow ? "qcow2" : "raw";
	}
	if (!strcmp(fmt, "raw"))
		return open_raw(what, path, true);
	if (!strcmp(fmt, "qcow2"))
		return open_qcow2(what, path, true, depth);
	fail(what, "backing file format '%s' is not supported (raw and qcow2 "
	     "are)", fmt);
	return NULL;
}

void block_backend_close(struct block_backend *bb)
{
	if (bb)
		bb->ops->close(bb);
}
