/*
 * `--verify-ram=lazy`: guest RAM of a restore brought in through
 * userfaultfd (vmm/ram_pager.c) instead of checked up front.
 *
 * The guest starts at once on an empty memfd.  A chunk of the image (256
 * pages, one CRC) is read, checked and placed whole the first time
 * anything touches one of its pages, and a background pass places the
 * remaining data chunks in order; pages of chunks without data are placed
 * as zeros when touched, and once every data chunk is in, the range is
 * unregistered so the rest fault in as ordinary (zero) memory.  A chunk
 * that fails its CRC is never placed: the monitor stops with an error
 * naming it, and the guest never sees the bad data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/ram_pager.h"
#include "vmm/restore_lazy.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

#define PAGE 4096ULL
#define CHUNK_BYTES ((uint64_t)RAM_CHUNK_PAGES * PAGE)

struct lazy_restore {
	struct vm *vm;
	int fd;
	const char *path;
	const struct ram_image_info *ri;
	uint8_t *placed;       /* per chunk: its data is in guest RAM */
	uint32_t next;         /* background cursor */
	uint8_t *buf;          /* one chunk */
	struct ram_pager *pg;
	uint64_t start_ns;
	char err[300];         /* why paging failed */
};

static uint64_t chunk_len(const struct lazy_restore *lr, uint32_t c)
{
	uint64_t start = (uint64_t)c * CHUNK_BYTES;

	return lr->ri->ram_size - start < CHUNK_BYTES ? lr->ri->ram_size - start
						       : CHUNK_BYTES;
}

/* Read chunk c (holes read as zeros), check it, place it. */
static int place_chunk(struct lazy_restore *lr, uint32_t c)
{
	uint64_t len = chunk_len(lr, c), off = (uint64_t)c * CHUNK_BYTES;
	for (uint64_t done = 0; done < len;) {
		ssize_t n = pread(lr->fd, lr->buf + done, (size_t)(len - done),
				  (off_t)(lr->ri->image_offset + off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(lr->err, sizeof(lr->err), "reading RAM chunk "
				 "%u: %s", c, n < 0 ? strerror(errno)
						    : "the file got shorter");
			return -1;
		}
		done += (uint64_t)n;
	}
	if (ram_image_check_chunk(lr->ri, c, lr->buf, lr->err,
				  sizeof(lr->err)) < 0)
		return -1;
	if (ram_pager_place(lr->pg, off, lr->buf, len) < 0)
		return -1;
	lr->placed[c] = 1;
	return 0;
}

static int on_fault(struct ram_pager *pg, void *opaque, uint64_t offset)
{
	struct lazy_restore *lr = opaque;
	uint32_t c = (uint32_t)(offset / CHUNK_BYTES);

	if (lr->placed[c])
		return 0;
	if (ram_image_chunk_has_data(lr->ri, c))
		return place_chunk(lr, c);
	return ram_pager_place(pg, offset, NULL, PAGE);
}

static void log_done(const struct lazy_restore *lr)
{
	struct ram_pager_stats st;

	ram_pager_stats(lr->pg, &st);
	log_info("guest RAM paged in: %llu MiB checked and placed in %llu ms "
		 "(%llu faults served on the way)",
		 (unsigned long long)(st.placed_bytes >> 20),
		 (unsigned long long)((monotonic_ns() - lr->start_ns) / 1000000),
		 (unsigned long long)st.faults);
}

static int on_background(struct ram_pager *pg, void *opaque)
{
	struct lazy_restore *lr = opaque;

	while (lr->next < lr->ri->nchunks &&
	       (lr->placed[lr->next] ||
		!ram_image_chunk_has_data(lr->ri, lr->next)))
		lr->next++;
	if (lr->next < lr->ri->nchunks)
		return place_chunk(lr, lr->next) < 0 ? -1 : 1;
	log_done(lr);
	ram_pager_finish(pg);
	return 0;
}

/* The guest must not run on with memory it was never given. */
static void on_failed(void *opaque, const char *err)
{
	struct lazy_restore *lr = opaque;

	log_error("--restore: '%s': %s; stopping the domain (the save file is "
		  "unchanged)", lr->path, lr->err[0] ? lr->err : err);
	vmm_exit_now(lr->vm, VM_EXIT_ERROR);
}

static const struct ram_pager_ops lazy_ops = {
	.fault = on_fault, .background = on_background, .failed = on_failed,
};

int lazy_restore_start(struct lazy_restore **out, struct vm *vm, int fd,
		       const char *path, const struct ram_image_info *ri)
{
	struct lazy_restore *lr = calloc(1, sizeof(*lr));

	if (!lr)
		return -1;
	*lr = (struct lazy_restore){ .vm = vm, .fd = fd, .path = path, .ri = ri,
				     .start_ns = monotonic_ns() };
	lr->placed = calloc(ri->nchunks + 1, 1);
	lr->buf = malloc(CHUNK_BYTES);
	if (!lr->placed || !lr->buf ||
	    ram_pager_start(&lr->pg, &vm->mem, &lazy_ops, lr) < 0) {
		lazy_restore_destroy(lr);
		return -1;
	}
	vm->pager = lr->pg;
	*out = lr;
	return 0;
}

void lazy_restore_destroy(struct lazy_restore *lr)
{
	if (!lr)
		return;
	if (lr->pg && lr->vm->pager == lr->pg)
		lr->vm->pager = NULL;
	ram_pager_destroy(lr->pg);
	free(lr->placed);
	free(lr->buf);
	free(lr);
}
