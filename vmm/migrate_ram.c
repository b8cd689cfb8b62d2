/*
 * Guest RAM as page records, for migration streams: a ram-pages section
 * holds up to RAM_BATCH records (u64: page index << 12 | flags) followed by
 * the data of the pages that are not all zero, in record order.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/le.h"
#include "vmm/guest_memory.h"
#include "vmm/ram_pager.h"
#include "vmm/snapshot.h"
#include "vmm/snapshot_ram.h"

#define PAGE 4096ULL

int ram_sender_init(struct ram_sender *rs, struct ss_stream *s,
		    const struct guest_memory *mem)
{
	memset(rs, 0, sizeof(*rs));
	rs->s = s;
	rs->mem = mem;
	rs->head = malloc(4 + 8 * RAM_BATCH);
	rs->data = malloc(RAM_BATCH * PAGE);
	if (!rs->head || !rs->data) {
		ram_sender_free(rs);
		return -1;
	}
	return 0;
}

void ram_sender_free(struct ram_sender *rs)
{
	free(rs->head);
	free(rs->data);
	rs->head = rs->data = NULL;
}

int ram_send_flush(struct ram_sender *rs)
{
	int ret;

	if (!rs->n)
		return 0;
	le_put(rs->head, rs->n, 4);
	ret = ss_write_section2(rs->s, SS_SEC_RAM_PAGES, SS_SEC_F_MANDATORY, 0,
				SNAP_RAM_VERSION, rs->head, 4 + 8ULL * rs->n,
				rs->data, rs->ndata * PAGE);
	rs->n = rs->ndata = 0;
	return ret;
}

int ram_send_page(struct ram_sender *rs, uint64_t page)
{
	const uint8_t *src = rs->mem->host + page * PAGE;
	uint8_t *dst = rs->data + rs->ndata * PAGE;
	uint64_t rec = page << 12;

	/* Copy first, then look: the guest may be writing it (it is then
	 * dirty again and goes in a later round). */
	memcpy(dst, src, PAGE);
	if (ram_page_is_zero(dst)) {
		rec |= RAM_PAGE_ZERO;
		rs->zero_pages++;
	} else {
		rs->ndata++;
	}
	le_put(rs->head + 4 + 8 * rs->n, rec, 8);
	rs->pages++;
	if (++rs->n == RAM_BATCH)
		return ram_send_flush(rs);
	return 0;
}

/* Check a ram-pages payload: every record in RAM, sizes adding up. */
static int check_records(const uint8_t *p, size_t len, uint64_t pages,
			 uint64_t *count, char *err, size_t errlen)
{
	uint64_t ndata = 0;

	if (len < 4)
		goto short_payload;
	*count = le_get(p, 4);
	if (*count > RAM_BATCH * 16 || len < 4 + 8 * *count)
		goto short_payload;
	for (uint64_t i = 0; i < *count; i++) {
		uint64_t rec = le_get(p + 4 + 8 * i, 8);

		if ((rec >> 12) >= pages || (rec & 0xfff & ~(uint64_t)RAM_PAGE_ZERO)) {
			snprintf(err, errlen, "page record %llu: page %llu flags "
				 "0x%llx is not valid (RAM has %llu pages)",
				 (unsigned long long)i,
				 (unsigned long long)(rec >> 12),
				 (unsigned long long)(rec & 0xfff),
				 (unsigned long long)pages);
			return -1;
		}
		ndata += !(rec & RAM_PAGE_ZERO);
	}
	if (len == 4 + 8 * *count + ndata * PAGE)
		return 0;
short_payload:
	snprintf(err, errlen, "page records of %zu bytes do not add up", len);
	return -1;
}

static bool seen_page(const uint8_t *seen, uint64_t page)
{
	return seen[page / 8] & (1u << (page % 8));
}

/* Records i.. that are data for consecutive pages never received: one
 * UFFDIO_COPY for the run (the pages are allocated and filled in one go,
 * not faulted in, cleared and then overwritten). */
static uint64_t fresh_run(const uint8_t *p, uint64_t i, uint64_t count,
			  const uint8_t *seen)
{
	uint64_t first = le_get(p + 4 + 8 * i, 8) >> 12, n = 0;

	while (i + n < count) {
		uint64_t rec = le_get(p + 4 + 8 * (i + n), 8);

		if ((rec & RAM_PAGE_ZERO) || (rec >> 12) != first + n ||
		    seen_page(seen, rec >> 12))
			break;
		n++;
	}
	return n;
}

int ram_receive(struct guest_memory *mem, uint8_t *seen, struct ram_pager *pg,
		const void *payload, size_t len, char *err, size_t errlen)
{
	const uint8_t *p = payload, *data;
	uint64_t count;

	if (check_records(p, len, mem->size / PAGE, &count, err, errlen) < 0)
		return -1;
	data = p + 4 + 8 * count;
	for (uint64_t i = 0; i < count;) {
		uint64_t rec = le_get(p + 4 + 8 * i, 8), page = rec >> 12;
		uint64_t run = pg ? fresh_run(p, i, count, seen) : 0;
		uint8_t *dst = mem->host + page * PAGE;

		if (run) {
			if (ram_pager_place(pg, page * PAGE, data, run * PAGE) < 0) {
				snprintf(err, errlen, "cannot place pages %llu-%llu",
					 (unsigned long long)page,
					 (unsigned long long)(page + run - 1));
				return -1;
			}
			for (uint64_t k = 0; k < run; k++)
				seen[(page + k) / 8] |= (uint8_t)(1u << ((page + k) % 8));
			data += run * PAGE;
			i += run;
			continue;
		}
		i++;
		if (rec & RAM_PAGE_ZERO) {
			/* A fresh page is zero already: do not allocate it. */
			if (seen_page(seen, page))
				memset(dst, 0, PAGE);
			continue;
		}
		memcpy(dst, data, PAGE);
		data += PAGE;
		seen[page / 8] |= (uint8_t)(1u << (page % 8));
	}
	return 0;
}

int ram_receive_each(uint64_t ram_pages, const void *payload, size_t len,
		     int (*page_fn)(void *opaque, uint64_t page,
				    const void *data),
		     void *opaque, char *err, size_t errlen)
{
	const uint8_t *p = payload, *data;
	uint64_t count;

	if (check_records(p, len, ram_pages, &count, err, errlen) < 0)
		return -1;
	data = p + 4 + 8 * count;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t rec = le_get(p + 4 + 8 * i, 8);
		bool zero = rec & RAM_PAGE_ZERO;

		if (page_fn(opaque, rec >> 12, zero ? NULL : data) < 0) {
			snprintf(err, errlen, "cannot place page %llu",
				 (unsigned long long)(rec >> 12));
			return -1;
		}
		data += zero ? 0 : PAGE;
	}
	return 0;
}
