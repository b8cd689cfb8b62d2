/*
 * Guest RAM: one memfd (so save, restore and migration can share or stream
 * it), mapped once into the monitor and registered with KVM as up to two
 * slots around the 32-bit MMIO hole.
 */
#ifndef XENON_GUEST_MEMORY_H
#define XENON_GUEST_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_region {
	uint64_t gpa;    /* guest physical start */
	uint64_t size;
	uint64_t offset; /* offset in the memfd and in host mapping */
};

/* A save file's RAM image (docs/save-format.md), mapped copy-on-write
 * so restore does not read guest RAM up front. */
struct ram_image {
	int fd;                   /* the save file, open for the process's life */
	uint64_t offset;          /* page-aligned file offset of RAM byte 0 */
	const uint8_t *present;   /* bitmap: pages with data in the image */
};

struct guest_memory {
	int memfd;       /* -1 when RAM is a save file's image */
	uint8_t *host;   /* mapping of the whole memfd (or image) */
	uint64_t size;   /* total RAM bytes */
	unsigned nr_regions;
	struct guest_region regions[2];
	const struct ram_image *image;  /* restored RAM, else NULL */
	/* During migration: pages the monitor itself wrote (KVM's dirty log
	 * only sees guest writes).  NULL otherwise. */
	_Atomic uint64_t *dirty;
};

int guest_memory_init(struct guest_memory *mem, uint64_t size);
/* RAM as a private (copy-on-write) mapping of a save file's image: pages
 * are read from the file when first touched. */
int guest_memory_init_image(struct guest_memory *mem, uint64_t size,
			    const struct ram_image *image);
/* Device writes into guest RAM at host address hva (from gpa_to_hva):
 * logged for migration.  virtqueue_push and virtio_queue_push call it;
 * a device writing guest memory any other way must call it too. */
void guest_memory_mark_dirty(const struct guest_memory *mem, const void *hva,
			     uint64_t len);
void guest_memory_destroy(struct guest_memory *mem);

/*
 * Host pointer for [gpa, gpa+len) if the whole range is guest RAM inside a
 * single region, else NULL.  Every device access to guest memory (virtqueue
 * rings, buffers, boot structures) goes through this check.
 */
void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copy helpers: -1 if the range is not entirely guest RAM. */
int guest_memory_write(const struct guest_memory *mem, uint64_t gpa,
		       const void *src, uint64_t len);
int guest_memory_read(const struct guest_memory *mem, uint64_t gpa, void *dst,
		      uint64_t len);

/* RAM bytes below the MMIO hole (for e820 / start_info). */
uint64_t guest_memory_low_size(const struct guest_memory *mem);

#endif
