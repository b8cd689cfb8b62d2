/* Direct kernel boot: read the kernel and initrd, place them with the
 * command line in guest RAM, build the memory map and ACPI tables, and set
 * the boot vCPU up for the kernel's entry ABI. */
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "vmm/acpi.h"
#include "vmm/vm.h"

#define PVH_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

unsigned e820_build(const struct vm *vm, struct e820_entry *map)
{
	uint64_t low = guest_memory_low_size(&vm->mem);
	unsigned n = 0;

	map[n++] = (struct e820_entry){ 0, PLAT_EBDA_START, E820_RAM };
	map[n++] = (struct e820_entry){ PLAT_EBDA_START,
					0xa0000 - PLAT_EBDA_START, E820_RESERVED };
	map[n++] = (struct e820_entry){ PLAT_ACPI_ADDR, PLAT_ACPI_SIZE,
					E820_RESERVED };
	map[n++] = (struct e820_entry){ PLAT_HIGH_RAM_START,
					low - PLAT_HIGH_RAM_START, E820_RAM };
	map[n++] = (struct e820_entry){ PLAT_PCI_ECAM_START,
					PLAT_PCI_ECAM_SIZE, E820_RESERVED };
	if (vm->mem.nr_regions > 1)
		map[n++] = (struct e820_entry){ vm->mem.regions[1].gpa,
						vm->mem.regions[1].size, E820_RAM };
	return n;
}

/* Map a whole file read-only; errors name the option and the file. */
static int map_file(const char *what, const char *path, uint8_t **data,
		    size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_error("%s: '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s: '%s': not a regular file", what, path);
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	*data = NULL;
	if (*size) {
		*data = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (*data == MAP_FAILED) {
			log_error("%s: '%s': %s", what, path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* Put the initrd at the top of low RAM, above the kernel. */
static int load_initrd(struct vm *vm, uint64_t kernel_end, uint64_t *gpa,
		       uint64_t *size)
{
	const char *path = vm->opts->initrd;
	uint8_t *data;
	size_t len;
	uint64_t top = guest_memory_low_size(&vm->mem), at;

	*gpa = *size = 0;
	if (!path)
		return 0;
	if (map_file("ramdisk", path, &data, &len) < 0)
		return -1;
	at = (top - len) & ~0xfffULL;
	if (len == 0 || len > top || at < kernel_end) {
		log_error("ramdisk: '%s': %s", path, len == 0 ? "file is empty" :
			  "does not fit in guest memory above the kernel");
		if (len)
			munmap(data, len);
		return -1;
	}
	guest_memory_write(&vm->mem, at, data, len);
	munmap(data, len);
	*gpa = at;
	*size = len;
	return 0;
}

static int write_cmdline(struct vm *vm)
{
	const char *cmd = vm->opts->cmdline ? vm->opts->cmdline : "";
	size_t len = strlen(cmd) + 1;

	if (len > PLAT_CMDLINE_MAX) {
		log_error("cmdline: %zu bytes is longer than the %llu allowed",
			  len - 1, (unsigned long long)PLAT_CMDLINE_MAX - 1);
		return -1;
	}
	return guest_memory_write(&vm->mem, PLAT_CMDLINE_ADDR, cmd, len);
}

static int write_start_info(struct vm *vm, uint64_t initrd, uint64_t initrd_size,
			    uint64_t rsdp)
{
	struct e820_entry map[E820_MAX];
	struct hvm_memmap_entry mm[E820_MAX];
	unsigned n = e820_build(vm, map);
	struct hvm_modlist_entry mod = { initrd, initrd_size, 0, 0 };
	struct hvm_start_info si = {
		.magic = PVH_MAGIC,
		.version = 1,
		.nr_modules = initrd_size ? 1 : 0,
		.modlist_paddr = initrd_size ? PLAT_MODLIST_ADDR : 0,
		.cmdline_paddr = PLAT_CMDLINE_ADDR,
		.rsdp_paddr = rsdp,
		.memmap_paddr = PLAT_MEMMAP_ADDR,
		.memmap_entries = n,
	};

	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){ map[i].addr, map[i].size,
						   map[i].type, 0 };
	if (guest_memory_write(&vm->mem, PLAT_MEMMAP_ADDR, mm, n * sizeof(mm[0])) ||
	    guest_memory_write(&vm->mem, PLAT_MODLIST_ADDR, &mod, sizeof(mod)) ||
	    guest_memory_write(&vm->mem, PLAT_START_INFO_ADDR, &si, sizeof(si)))
		return -1;
	return 0;
}

static int load_kernel(struct vm *vm, const struct kernel_image *k,
		       struct boot_entry *e)
{
	if (elf_is_kernel(k))
		return elf_load_pvh(vm, k, e);
	if (bzimage_is_kernel(k))
		return bzimage_load(vm, k, e);
	log_error("kernel: '%s': not a kernel (expected an ELF file with a PVH "
		  "note or a Linux bzImage)", k->path);
	return -1;
}

int boot_load(struct vm *vm)
{
	struct kernel_image k = { .path = vm->opts->kernel };
	struct boot_entry e = { 0 };
	uint64_t initrd = 0, initrd_size = 0, rsdp;
	int ret = -1;

	if (map_file("kernel", k.path, &k.data, &k.size) < 0)
		return -1;
	if (load_kernel(vm, &k, &e) < 0 || write_cmdline(vm) < 0 ||
	    load_initrd(vm, e.kernel_end, &initrd, &initrd_size) < 0)
		goto out;
	rsdp = acpi_build(vm);
	if (!rsdp)
		goto out;
	if (e.mode == BOOT_PVH32) {
		if (write_start_info(vm, initrd, initrd_size, rsdp) < 0)
			goto out;
		ret = boot_cpu_setup(vm, &e, PLAT_START_INFO_ADDR);
	} else {
		if (bzimage_setup_params(vm, &k, initrd, initrd_size, rsdp) < 0)
			goto out;
		ret = boot_cpu_setup(vm, &e, PLAT_BOOT_PARAMS_ADDR);
	}
out:
	if (k.size)
		munmap(k.data, k.size);
	return ret;
}
