/* Guest RAM in save files and migration streams (see snapshot_ram.c and
 * migrate_ram.c). */
#ifndef XENON_SNAPSHOT_RAM_H
#define XENON_SNAPSHOT_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/save_stream.h"

struct vm;
struct guest_memory;

#define RAM_CHUNK_PAGES 256   /* pages per CRC in a RAM image */

/* A parsed ram-image descriptor. */
struct ram_image_info {
	uint64_t ram_size, image_offset, data_pages;
	uint32_t chunk_pages, nchunks;
	uint8_t *present;     /* bitmap, one bit per page */
	uint32_t *crc;        /* per chunk, over its data pages in order */
};

bool ram_page_is_zero(const void *page);
/* One byte per RAM page: 1 if it may hold data (malloc'd; NULL: no memory). */
uint8_t *ram_candidates(const struct guest_memory *mem);

/* The descriptor's size for this much RAM. */
size_t ram_image_desc_size(uint64_t ram_size);
/* Write the ram-image section and the image (guest paused); leaves the
 * stream positioned after the image for the end marker. */
int ram_image_write(struct vm *vm, struct ss_stream *s, int fd,
		    uint64_t *data_pages);
/* Parse and check a descriptor whose section ended at section_end. */
int ram_image_parse(const void *payload, size_t len, uint64_t ram_size,
		    uint64_t section_end, struct ram_image_info *ri, char *err,
		    size_t errlen);
/* Check every data page against its chunk CRC (reads the data pages). */
int ram_image_verify(int fd, const struct ram_image_info *ri, char *err,
		     size_t errlen);
/* Whether chunk c has any data page; check chunk c, whose first page is
 * at `chunk`, against its CRC (-1 with a message naming it). */
bool ram_image_chunk_has_data(const struct ram_image_info *ri, uint32_t c);
int ram_image_check_chunk(const struct ram_image_info *ri, uint32_t c,
			  const uint8_t *chunk, char *err, size_t errlen);
void ram_image_info_free(struct ram_image_info *ri);

#endif

/* ---- page records (migration streams) ---- */
#define RAM_BATCH 256                 /* pages per ram-pages section */
#define RAM_PAGE_ZERO 0x1             /* record flag: all zero, no data */

struct ram_sender {
	struct ss_stream *s;
	const struct guest_memory *mem;
	unsigned n, ndata;
	uint8_t *head;                /* u32 count + u64 records */
	uint8_t *data;                /* RAM_BATCH pages */
	uint64_t pages, zero_pages;
};

int ram_sender_init(struct ram_sender *rs, struct ss_stream *s,
		    const struct guest_memory *mem);
void ram_sender_free(struct ram_sender *rs);
/* Queue RAM page `page` (copied now; a zero page becomes a record). */
int ram_send_page(struct ram_sender *rs, uint64_t page);
int ram_send_flush(struct ram_sender *rs);

/* Apply a ram-pages payload; `seen` (one bit per page) tracks pages that
 * hold data here, so a zero record only clears pages that need it.  With
 * pg (RAM registered with userfaultfd), pages not seen before are placed
 * with UFFDIO_COPY rather than faulted in and cleared first. */
struct ram_pager;
int ram_receive(struct guest_memory *mem, uint8_t *seen, struct ram_pager *pg,
		const void *payload, size_t len, char *err, size_t errlen);
/* The same checks, then page_fn for each record in order (data NULL: an
 * all-zero page); for RAM filled through userfaultfd (post-copy). */
int ram_receive_each(uint64_t ram_pages, const void *payload, size_t len,
		     int (*page_fn)(void *opaque, uint64_t page,
				    const void *data),
		     void *opaque, char *err, size_t errlen);
