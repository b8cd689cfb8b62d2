/*
 * What the PVH loader handed over (struct hvm_start_info): command line,
 * modules (the initrd), RSDP and memory map, copied into the kernel image
 * at boot so nothing later (the AP trampoline, the page allocator) can
 * overwrite the loader's copies.
 */
#ifndef GUEST_BOOTINFO_H
#define GUEST_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVH_START_MAGIC 0x336ec578u
#define MEMMAP_RAM      1
#define MAX_MEMMAP      128
#define MAX_MODULES     16

struct memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct boot_module {
	uint64_t paddr, size;
};

struct boot_info {
	const char *cmdline;  /* NUL-terminated, never NULL */
	size_t cmdline_len;
	uint64_t rsdp;        /* 0: not given */
	unsigned nr_memmap, nr_modules;
	struct memmap_entry memmap[MAX_MEMMAP];
	struct boot_module modules[MAX_MODULES];
};

extern struct boot_info boot;

/* Copy the start_info at physical address pa; false if it is not one. */
bool bootinfo_init(uint32_t pa);
/* The value of the first "key=value" word, copied into buf (truncated to
 * size - 1); false when the key is absent. */
bool cmdline_value(const char *key, char *buf, size_t size);
/* True if the command line has this exact word. */
bool cmdline_has(const char *word);
/* Total RAM in the memory map, in bytes. */
uint64_t ram_bytes(void);

#endif
