#include "vmm/guest_memory.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/platform.h"

/* Split RAM around the 32-bit MMIO hole: [0, hole) and [4 GiB, ...). */
static void layout_regions(struct guest_memory *mem)
{
	uint64_t low = mem->size < PLAT_MMIO_HOLE_START ? mem->size
							: PLAT_MMIO_HOLE_START;

	mem->regions[0] = (struct guest_region){ 0, low, 0 };
	mem->nr_regions = 1;
	if (mem->size > low) {
		mem->regions[1] = (struct guest_region){
			PLAT_HIGH_RAM_4G, mem->size - low, low };
		mem->nr_regions = 2;
	}
}

int guest_memory_init(struct guest_memory *mem, uint64_t size)
{
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->size = size;
	mem->memfd = memfd_create("xenon-guest-ram", MFD_CLOEXEC);
	if (mem->memfd < 0) {
		log_errno("guest memory: memfd_create");
		return -1;
	}
	if (ftruncate(mem->memfd, (off_t)size) < 0) {
		log_errno("guest memory: cannot size memfd to %llu MiB",
			  (unsigned long long)(size >> 20));
		goto fail;
	}
	/* MAP_NORESERVE: pages are only allocated when the guest touches them. */
	mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, mem->memfd, 0);
	if (mem->host == MAP_FAILED) {
		mem->host = NULL;
		log_errno("guest memory: mmap of %llu MiB",
			  (unsigned long long)(size >> 20));
		goto fail;
	}
	madvise(mem->host, size, MADV_HUGEPAGE);
	layout_regions(mem);
	return 0;
fail:
	close(mem->memfd);
	mem->memfd = -1;
	return -1;
}

int guest_memory_init_image(struct guest_memory *mem, uint64_t size,
			    const struct ram_image *image)
{
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->size = size;
	mem->image = image;
	/* MAP_PRIVATE: guest writes go to anonymous copies, the file stays
	 * as saved; untouched pages are read from it on first access. */
	mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_NORESERVE, image->fd,
			 (off_t)image->offset);
	if (mem->host == MAP_FAILED) {
		mem->host = NULL;
		log_errno("guest memory: mmap of the saved image (%llu MiB)",
			  (unsigned long long)(size >> 20));
		return -1;
	}
	layout_regions(mem);
	return 0;
}

void guest_memory_mark_dirty(const struct guest_memory *mem, const void *hva,
			     uint64_t len)
{
	_Atomic uint64_t *dirty = mem->dirty;
	uint64_t first, last;

	if (!dirty || !len || (const uint8_t *)hva < mem->host)
		return;
	first = (uint64_t)((const uint8_t *)hva - mem->host);
	if (first >= mem->size)
		return;
	last = first + len - 1 < mem->size ? first + len - 1 : mem->size - 1;
	for (uint64_t pg = first >> 12; pg <= last >> 12; pg++)
		atomic_fetch_or(&dirty[pg / 64], 1ULL << (pg % 64));
}

void guest_memory_destroy(struct guest_memory *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size);
	if (mem->memfd >= 0)
		close(mem->memfd);
	mem->host = NULL;
	mem->memfd = -1;
}

void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_region *r = &mem->regions[i];

		/* Written to avoid overflow for any gpa/len a guest can supply. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return mem->host + r->offset + (gpa - r->gpa);
	}
	return NULL;
}

int guest_memory_write(const struct guest_memory *mem, uint64_t gpa,
		       const void *src, uint64_t len)
{
	void *dst = gpa_to_hva(mem, gpa, len);

	if (!dst)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

int guest_memory_read(const struct guest_memory *mem, uint64_t gpa, void *dst,
		      uint64_t len)
{
	const void *src = gpa_to_hva(mem, gpa, len);

	if (!src)
		return -1;
	memcpy(dst, src, len);
	return 0;
}

uint64_t guest_memory_low_size(const struct guest_memory *mem)
{
	return mem->regions[0].size;
}
