/*
 * Guest RAM in a save file: a `ram-image` section describing which pages
 * hold data (a bitmap) and a CRC-32C per chunk of 256 pages, followed by
 * the RAM itself as a page-aligned image in which page n sits at
 * image_offset + n * 4096.  Pages that are all zero are not written, so
 * the image is a sparse file where the filesystem allows holes.
 *
 * The layout is what makes restore cheap: the image is mapped
 * copy-on-write as guest RAM (guest_memory_init_image()), so nothing is
 * read until the guest touches it.
 *
 * Which pages can hold data at all: mincore() on the RAM mapping (memfd
 * pages that exist; for restored RAM, pages the guest wrote) plus, for
 * restored RAM, the image's own bitmap.  Untouched memfd pages are never
 * read, so saving a big, mostly idle guest does not allocate its RAM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/log.h"
#include "vmm/snapshot.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

#define PAGE 4096ULL
#define RUN_MAX (4u << 20)   /* bytes per pwrite */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

bool ram_page_is_zero(const void *page)
{
	const uint64_t *w = page;

	for (unsigned i = 0; i < PAGE / 8; i += 8) {
		uint64_t acc = w[i] | w[i + 1] | w[i + 2] | w[i + 3] |
			       w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];

		if (acc)
			return false;
	}
	return true;
}

uint8_t *ram_candidates(const struct guest_memory *mem)
{
	uint64_t pages = mem->size / PAGE;
	uint8_t *vec = malloc(pages ? pages : 1);

	if (!vec)
		return NULL;
	if (mincore(mem->host, mem->size, vec) < 0) {
		/* Cannot tell: every page is a candidate. */
		log_debug("guest memory: mincore: %s", strerror(errno));
		memset(vec, 1, pages);
	}
	for (uint64_t p = 0; p < pages; p++) {
		vec[p] &= 1;
		if (mem->image && (mem->image->present[p / 8] & (1u << (p % 8))))
			vec[p] = 1;
	}
	return vec;
}

size_t ram_image_desc_size(uint64_t ram_size)
{
	uint64_t pages = ram_size / PAGE;
	uint64_t chunks = (pages + RAM_CHUNK_PAGES - 1) / RAM_CHUNK_PAGES;

	return (size_t)(32 + (pages + 7) / 8 + 4 * chunks);
}

/* The bitmap, CRCs and count, from the RAM as it is now (paused). */
static int build_desc(const struct guest_memory *mem, struct ram_image_info *ri)
{
	uint64_t pages = mem->size / PAGE;
	uint8_t *cand = ram_candidates(mem);

	memset(ri, 0, sizeof(*ri));
	ri->ram_size = mem->size;
	ri->chunk_pages = RAM_CHUNK_PAGES;
	ri->nchunks = (uint32_t)((pages + RAM_CHUNK_PAGES - 1) / RAM_CHUNK_PAGES);
	ri->present = calloc((pages + 7) / 8 + 1, 1);
	ri->crc = calloc(ri->nchunks + 1, sizeof(*ri->crc));
	if (!cand || !ri->present || !ri->crc) {
		free(cand);
		return -1;
	}
	for (uint64_t p = 0; p < pages; p++) {
		const uint8_t *page = mem->host + p * PAGE;

		if (!cand[p] || ram_page_is_zero(page))
			continue;
		ri->present[p / 8] |= (uint8_t)(1u << (p % 8));
		ri->crc[p / RAM_CHUNK_PAGES] =
			crc32c(ri->crc[p / RAM_CHUNK_PAGES], page, PAGE);
		ri->data_pages++;
	}
	free(cand);
	return 0;
}

void ram_image_info_free(struct ram_image_info *ri)
{
	free(ri->present);
	free(ri->crc);
	memset(ri, 0, sizeof(*ri));
}

static void encode_desc(const struct ram_image_info *ri, struct sbuf *b)
{
	uint64_t pages = ri->ram_size / PAGE;

	sbuf_u64(b, ri->ram_size);
	sbuf_u64(b, ri->image_offset);
	sbuf_u64(b, ri->data_pages);
	sbuf_u32(b, ri->chunk_pages);
	sbuf_u32(b, ri->nchunks);
	sbuf_put(b, ri->present, (size_t)((pages + 7) / 8));
	for (uint32_t c = 0; c < ri->nchunks; c++)
		sbuf_u32(b, ri->crc[c]);
}

static bool present(const struct ram_image_info *ri, uint64_t p)
{
	return ri->present[p / 8] & (1u << (p % 8));
}

/* Runs of data pages, straight from guest RAM to their place. */
static int write_pages(struct ss_stream *s, int fd, const struct guest_memory *mem,
		       const struct ram_image_info *ri)
{
	uint64_t pages = ri->ram_size / PAGE, p = 0;

	while (p < pages) {
		uint64_t start, len;

		while (p < pages && !present(ri, p))
			p++;
		start = p;
		while (p < pages && present(ri, p) && (p - start) * PAGE < RUN_MAX)
			p++;
		len = (p - start) * PAGE;
		for (uint64_t done = 0; done < len;) {
			ssize_t n = pwrite(fd, mem->host + start * PAGE + done,
					   (size_t)(len - done),
					   (off_t)(ri->image_offset + start * PAGE + done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return ss_fail(s, NULL, "writing guest RAM at file "
					       "offset %llu: %s",
					       (unsigned long long)(ri->image_offset +
								    start * PAGE + done),
					       n < 0 ? strerror(errno) : "no progress");
			done += (uint64_t)n;
		}
	}
	return 0;
}

int ram_image_write(struct vm *vm, struct ss_stream *s, int fd,
		    uint64_t *data_pages)
{
	struct ram_image_info ri;
	struct sbuf b;
	uint64_t end;
	int ret = -1;

	if (build_desc(&vm->mem, &ri) < 0)
		return ss_fail(s, NULL, "out of memory scanning guest RAM");
	ri.image_offset = align_up(s->offset + SS_SECTION_HDR_SIZE +
				   ram_image_desc_size(ri.ram_size), PAGE);
	sbuf_init(&b);
	encode_desc(&ri, &b);
	if (b.failed) {
		ss_fail(s, NULL, "out of memory");
		goto out;
	}
	if (ss_write_section(s, SS_SEC_RAM_IMAGE, SS_SEC_F_MANDATORY, 0,
			     SNAP_RAM_VERSION, b.data, b.len) < 0 ||
	    write_pages(s, fd, &vm->mem, &ri) < 0)
		goto out;
	/* The end marker goes right after the image (holes in between). */
	end = ri.image_offset + ri.ram_size;
	if (lseek(fd, (off_t)end, SEEK_SET) < 0) {
		ss_fail(s, NULL, "seek: %s", strerror(errno));
		goto out;
	}
	s->offset = end;
	*data_pages = ri.data_pages;
	ret = 0;
out:
	sbuf_free(&b);
	ram_image_info_free(&ri);
	return ret;
}

int ram_image_parse(const void *payload, size_t len, uint64_t ram_size,
		    uint64_t section_end, struct ram_image_info *ri, char *err,
		    size_t errlen)
{
	struct sreader r;
	uint64_t pages = ram_size / PAGE, count = 0;

	memset(ri, 0, sizeof(*ri));
	sr_init(&r, payload, len);
	ri->ram_size = sr_u64(&r);
	ri->image_offset = sr_u64(&r);
	ri->data_pages = sr_u64(&r);
	ri->chunk_pages = sr_u32(&r);
	ri->nchunks = sr_u32(&r);
	if (sr_ok(&r) && ri->ram_size != ram_size)
		sr_fail(&r, "image of %llu bytes for %llu bytes of RAM",
			(unsigned long long)ri->ram_size,
			(unsigned long long)ram_size);
	if (sr_ok(&r) && (ri->image_offset % PAGE ||
			  ri->image_offset < section_end ||
			  ri->image_offset - section_end >= PAGE))
		sr_fail(&r, "image offset %llu is not the page after the "
			"descriptor", (unsigned long long)ri->image_offset);
	if (sr_ok(&r) && (ri->chunk_pages != RAM_CHUNK_PAGES ||
			  ri->nchunks != (pages + RAM_CHUNK_PAGES - 1) /
					 RAM_CHUNK_PAGES))
		sr_fail(&r, "%u chunks of %u pages do not cover %llu pages",
			ri->nchunks, ri->chunk_pages, (unsigned long long)pages);
	if (sr_ok(&r)) {
		ri->present = calloc((pages + 7) / 8 + 1, 1);
		ri->crc = calloc(ri->nchunks + 1, sizeof(*ri->crc));
		if (!ri->present || !ri->crc)
			sr_fail(&r, "out of memory");
	}
	sr_get(&r, ri->present, sr_ok(&r) ? (size_t)((pages + 7) / 8) : 0);
	for (uint32_t c = 0; sr_ok(&r) && c < ri->nchunks; c++)
		ri->crc[c] = sr_u32(&r);
	for (uint64_t p = 0; sr_ok(&r) && p < pages; p++)
		count += present(ri, p);
	if (sr_ok(&r) && count != ri->data_pages)
		sr_fail(&r, "bitmap has %llu data pages, header says %llu",
			(unsigned long long)count,
			(unsigned long long)ri->data_pages);
	if (!sr_done(&r)) {
		snprintf(err, errlen, "%s", r.error);
		ram_image_info_free(ri);
		return -1;
	}
	return 0;
}

bool ram_image_chunk_has_data(const struct ram_image_info *ri, uint32_t c)
{
	uint64_t pages = ri->ram_size / PAGE;

	for (uint64_t p = (uint64_t)c * RAM_CHUNK_PAGES;
	     p < pages && p < (uint64_t)(c + 1) * RAM_CHUNK_PAGES; p++)
		if (present(ri, p))
			return true;
	return false;
}

int ram_image_check_chunk(const struct ram_image_info *ri, uint32_t c,
			  const uint8_t *chunk, char *err, size_t errlen)
{
	uint64_t pages = ri->ram_size / PAGE, first = (uint64_t)c * RAM_CHUNK_PAGES;
	uint32_t crc = 0;

	for (uint64_t p = first; p < pages && p < first + RAM_CHUNK_PAGES; p++)
		if (present(ri, p))
			crc = crc32c(crc, chunk + (p - first) * PAGE, PAGE);
	if (crc == ri->crc[c])
		return 0;
	snprintf(err, errlen, "RAM image: checksum mismatch in chunk %u (RAM "
		 "pages %llu-%llu, file offset %llu; corrupted)", c,
		 (unsigned long long)first,
		 (unsigned long long)(first + RAM_CHUNK_PAGES - 1),
		 (unsigned long long)(ri->image_offset + first * PAGE));
	return -1;
}

int ram_image_verify(int fd, const struct ram_image_info *ri, char *err,
		     size_t errlen)
{
	const uint8_t *img;
	int ret = 0;

	if (!ri->data_pages)
		return 0;
	img = mmap(NULL, ri->ram_size, PROT_READ, MAP_SHARED | MAP_NORESERVE,
		   fd, (off_t)ri->image_offset);
	if (img == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the RAM image: %s",
			 strerror(errno));
		return -1;
	}
	for (uint32_t c = 0; c < ri->nchunks && ret == 0; c++)
		ret = ram_image_check_chunk(ri, c, img + (uint64_t)c *
					    RAM_CHUNK_PAGES * PAGE, err, errlen);
	munmap((void *)img, ri->ram_size);
	return ret;
}
