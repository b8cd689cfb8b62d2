/* Linux bzImage through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the protected-mode kernel is loaded at
 * its preferred address and entered at startup_64 with RSI -> boot_params. */
#include <string.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

/* Offsets into the setup header / boot_params (the "zero page"). */
#define BP_ACPI_RSDP      0x070
#define BP_EXT_RD_IMAGE   0x0c0
#define BP_EXT_RD_SIZE    0x0c4
#define BP_EXT_CMDLINE    0x0c8
#define BP_E820_ENTRIES   0x1e8
#define HDR_START         0x1f1
#define HDR_SETUP_SECTS   0x1f1
#define HDR_BOOT_FLAG     0x1fe
#define HDR_JUMP          0x200
#define HDR_MAGIC         0x202
#define HDR_VERSION       0x206
#define HDR_LOADER_TYPE   0x210
#define HDR_LOADFLAGS     0x211
#define HDR_RD_IMAGE      0x218
#define HDR_RD_SIZE       0x21c
#define HDR_HEAP_END      0x224
#define HDR_CMDLINE_PTR   0x228
#define HDR_RD_ADDR_MAX   0x22c
#define HDR_ALIGN         0x230
#define HDR_RELOCATABLE   0x234
#define HDR_XLOADFLAGS    0x236
#define HDR_CMDLINE_SIZE  0x238
#define HDR_PREF_ADDRESS  0x258
#define HDR_INIT_SIZE     0x260
#define BP_E820_TABLE     0x2d0
#define BP_E820_MAX       128
#define BP_SIZE           4096

#define LOADED_HIGH       0x01
#define CAN_USE_HEAP      0x80
#define XLF_KERNEL_64     0x01
#define MIN_VERSION       0x020c /* 2.12: xloadflags, 64-bit entry */

static uint32_t rd32(const uint8_t *p, unsigned off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p, unsigned off)
{
	uint16_t v;

	memcpy(&v, p + off, 2);
	return v;
}

static void wr32(uint8_t *p, unsigned off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

int bzimage_is_kernel(const struct kernel_image *k)
{
	return k->size > HDR_INIT_SIZE + 4 &&
	       memcmp(k->data + HDR_MAGIC, "HdrS", 4) == 0;
}

static int check_header(const struct kernel_image *k)
{
	uint16_t version = rd16(k->data, HDR_VERSION);

	if (rd16(k->data, HDR_BOOT_FLAG) != 0xaa55) {
		log_error("kernel: '%s': bzImage without the 0xAA55 boot flag",
			  k->path);
		return -1;
	}
	if (version < MIN_VERSION) {
		log_error("kernel: '%s': boot protocol %u.%02u is too old "
			  "(need 2.12 or later)", k->path, version >> 8,
			  version & 0xff);
		return -1;
	}
	if (!(rd16(k->data, HDR_XLOADFLAGS) & XLF_KERNEL_64)) {
		log_error("kernel: '%s': bzImage has no 64-bit entry point "
			  "(32-bit kernels are not supported)", k->path);
		return -1;
	}
	return 0;
}

static uint64_t choose_load_address(const struct kernel_image *k)
{
	uint64_t pref = 0;

	memcpy(&pref, k->data + HDR_PREF_ADDRESS, 8);
	/* A relocatable kernel runs where we put it; its preferred address
	 * spares the decompressor a copy. */
	if (pref >= PLAT_HIGH_RAM_START)
		return pref;
	return PLAT_HIGH_RAM_START;
}

int bzimage_load(struct vm *vm, const struct kernel_image *k,
		 struct boot_entry *out)
{
	unsigned setup_sects;
	uint64_t pm_off, pm_size, load, need;
	uint8_t *dst;

	if (check_header(k) < 0)
		return -1;
	setup_sects = k->data[HDR_SETUP_SECTS] ? k->data[HDR_SETUP_SECTS] : 4;
	pm_off = (uint64_t)(setup_sects + 1) * 512;
	if (pm_off >= k->size) {
		log_error("kernel: '%s': truncated bzImage (setup claims %u sectors)",
			  k->path, setup_sects);
		return -1;
	}
	pm_size = k->size - pm_off;
	load = choose_load_address(k);
	need = rd32(k->data, HDR_INIT_SIZE);
	if (need < pm_size)
		need = pm_size;
	dst = gpa_to_hva(&vm->mem, load, need);
	if (!dst || load + need > guest_memory_low_size(&vm->mem)) {
		log_error("kernel: '%s': needs %llu MiB at 0x%llx; guest memory "
			  "(%llu MiB) is too small", k->path,
			  (unsigned long long)(need >> 20), (unsigned long long)load,
			  (unsigned long long)vm->opts->mem_mib);
		return -1;
	}
	memcpy(dst, k->data + pm_off, pm_size);
	out->mode = BOOT_LINUX64;
	out->entry = load + 0x200; /* startup_64 */
	out->kernel_end = load + need;
	return 0;
}

static void put_e820(const struct vm *vm, uint8_t *bp)
{
	struct e820_entry map[E820_MAX];
	unsigned n = e820_build(vm, map);

	if (n > BP_E820_MAX)
		n = BP_E820_MAX;
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	memcpy(bp + BP_E820_TABLE, map, n * sizeof(map[0]));
}

int bzimage_setup_params(struct vm *vm, const struct kernel_image *k,
			 uint64_t initrd_gpa, uint64_t initrd_size,
			 uint64_t rsdp)
{
	uint8_t *bp = gpa_to_hva(&vm->mem, PLAT_BOOT_PARAMS_ADDR, BP_SIZE);
	unsigned hdr_end = HDR_JUMP + 2 + k->data[HDR_JUMP + 1];
	uint32_t max_cmdline = rd32(k->data, HDR_CMDLINE_SIZE);
	size_t cmdlen = strlen(vm->opts->cmdline ? vm->opts->cmdline : "");

	if (max_cmdline && cmdlen > max_cmdline) {
		log_error("cmdline: %zu bytes; this kernel accepts at most %u",
			  cmdlen, max_cmdline);
		return -1;
	}
	if (initrd_size && initrd_gpa + initrd_size - 1 >
			   rd32(k->data, HDR_RD_ADDR_MAX)) {
		log_error("ramdisk: placed above the kernel's initrd_addr_max");
		return -1;
	}
	memset(bp, 0, BP_SIZE);
	if (hdr_end > BP_SIZE || hdr_end > k->size)
		hdr_end = HDR_INIT_SIZE + 4;
	memcpy(bp + HDR_START, k->data + HDR_START, hdr_end - HDR_START);
	bp[HDR_LOADER_TYPE] = 0xff; /* undefined boot loader */
	bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	memcpy(bp + HDR_HEAP_END, &(uint16_t){ 0xfe00 }, 2);
	wr32(bp, HDR_CMDLINE_PTR, (uint32_t)PLAT_CMDLINE_ADDR);
	wr32(bp, BP_EXT_CMDLINE, (uint32_t)(PLAT_CMDLINE_ADDR >> 32));
	wr32(bp, HDR_RD_IMAGE, (uint32_t)initrd_gpa);
	wr32(bp, HDR_RD_SIZE, (uint32_t)initrd_size);
	wr32(bp, BP_EXT_RD_IMAGE, (uint32_t)(initrd_gpa >> 32));
	wr32(bp, BP_EXT_RD_SIZE, (uint32_t)(initrd_size >> 32));
	memcpy(bp + BP_ACPI_RSDP, &rsdp, 8);
	put_e820(vm, bp);
	return 0;
}
