/*
 * Direct kernel boot.  Two formats are accepted:
 *   - ELF (32- or 64-bit) with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY):
 *     the test guest and Linux vmlinux; entered in 32-bit protected mode
 *     with EBX -> hvm_start_info, as Xen's PVH boot does;
 *   - Linux bzImage through the 64-bit boot protocol (boot_params at
 *     PLAT_BOOT_PARAMS_ADDR, entered in long mode at startup_64).
 * Anything else is refused with a message naming the file.
 */
#ifndef XENON_BOOT_H
#define XENON_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct vm;

/* A kernel file read into memory. */
struct kernel_image {
	const char *path;
	uint8_t *data;
	size_t size;
};

/* What a loader tells the common boot code. */
struct boot_entry {
	enum { BOOT_PVH32, BOOT_LINUX64 } mode;
	uint64_t entry;      /* guest physical entry point */
	uint64_t kernel_end; /* first byte above the loaded kernel */
};

/* Load kernel, initrd and command line, build firmware tables and set the
 * boot vCPU's registers.  Prints a clear error and returns -1 on failure. */
int boot_load(struct vm *vm);

int elf_is_kernel(const struct kernel_image *k);
int elf_load_pvh(struct vm *vm, const struct kernel_image *k,
		 struct boot_entry *out);
int bzimage_is_kernel(const struct kernel_image *k);
int bzimage_load(struct vm *vm, const struct kernel_image *k,
		 struct boot_entry *out);
/* bzImage: fill the zero page once initrd, cmdline and RSDP are placed. */
int bzimage_setup_params(struct vm *vm, const struct kernel_image *k,
			 uint64_t initrd_gpa, uint64_t initrd_size,
			 uint64_t rsdp);

/* The e820 map both boot paths hand over. */
struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));
#define E820_RAM      1
#define E820_RESERVED 2
#define E820_MAX      16
unsigned e820_build(const struct vm *vm, struct e820_entry *map);

/* Register set-up for the two entry modes (vmm/boot_cpu.c). */
int boot_cpu_setup(struct vm *vm, const struct boot_entry *e, uint64_t arg);

#endif
