/*
 * Physical memory: a bump allocator for page-sized, zeroed memory (queues,
 * stacks, page tables) and the identity map above what entry.S maps.
 */
#ifndef GUEST_MEMORY_H
#define GUEST_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ULL

/* For big buffers that are always written before they are read: .noinit
 * is not zeroed at boot, so only the pages really used get touched. */
#define NOINIT __attribute__((section(".noinit")))

/* Set up the allocator after bootinfo_init(); map RAM above 4 GiB. */
void memory_init(void);
/* npages zeroed, page-aligned pages below 4 GiB, or NULL. Never freed. */
void *page_alloc(size_t npages);
/* The same without zeroing (ring-0 zeroing of big areas is slow here:
 * for memory the caller fills itself, e.g. from ring 3). */
void *page_alloc_raw(size_t npages);
/* Identity-map [addr, addr + size) if it is not mapped yet (RAM or MMIO
 * above 4 GiB; the first 4 GiB are always mapped). */
bool map_identity(uint64_t addr, uint64_t size, bool uncached);
/* True if the identity map uses 1 GiB pages (else 2 MiB). */
bool memory_gb_pages(void);

#endif
