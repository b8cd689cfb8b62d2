/* ELF kernels with a PVH entry note (Xen's direct boot ABI). */
#include <elf.h>
#include <string.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

int elf_is_kernel(const struct kernel_image *k)
{
	return k->size >= EI_NIDENT && memcmp(k->data, ELFMAG, SELFMAG) == 0;
}

/* A uniform view of 32- and 64-bit program headers. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct elf_view {
	const struct kernel_image *k;
	bool is64;
	uint64_t phoff;
	unsigned phnum, phentsize;
};

static int elf_header(const struct kernel_image *k, struct elf_view *v)
{
	const uint8_t *id = k->data;

	v->k = k;
	if (id[EI_DATA] != ELFDATA2LSB)
		goto bad;
	if (id[EI_CLASS] == ELFCLASS64 && k->size >= sizeof(Elf64_Ehdr)) {
		const Elf64_Ehdr *h = (const void *)k->data;

		if (h->e_machine != EM_X86_64 || h->e_type != ET_EXEC)
			goto bad;
		v->is64 = true;
		v->phoff = h->e_phoff;
		v->phnum = h->e_phnum;
		v->phentsize = h->e_phentsize;
		if (v->phentsize != sizeof(Elf64_Phdr))
			goto bad;
	} else if (id[EI_CLASS] == ELFCLASS32 && k->size >= sizeof(Elf32_Ehdr)) {
		const Elf32_Ehdr *h = (const void *)k->data;

		if (h->e_machine != EM_386 || h->e_type != ET_EXEC)
			goto bad;
		v->is64 = false;
		v->phoff = h->e_phoff;
		v->phnum = h->e_phnum;
		v->phentsize = h->e_phentsize;
		if (v->phentsize != sizeof(Elf32_Phdr))
			goto bad;
	} else {
		goto bad;
	}
	if (v->phoff > k->size ||
	    (uint64_t)v->phnum * v->phentsize > k->size - v->phoff) {
		log_error("kernel: '%s': program headers lie outside the file",
			  k->path);
		return -1;
	}
	return 0;
bad:
	log_error("kernel: '%s': not an x86 executable ELF file", k->path);
	return -1;
}

static void elf_phdr(const struct elf_view *v, unsigned i, struct phdr *p)
{
	const uint8_t *at = v->k->data + v->phoff + (uint64_t)i * v->phentsize;

	if (v->is64) {
		const Elf64_Phdr *h = (const void *)at;

		*p = (struct phdr){ h->p_type, h->p_offset, h->p_paddr,
				    h->p_filesz, h->p_memsz };
	} else {
		const Elf32_Phdr *h = (const void *)at;

		*p = (struct phdr){ h->p_type, h->p_offset, h->p_paddr,
				    h->p_filesz, h->p_memsz };
	}
}

/* Walk the notes of one PT_NOTE segment looking for the PVH entry. */
static bool find_pvh_note(const struct kernel_image *k, const struct phdr *p,
			  uint64_t *entry)
{
	uint64_t off = p->offset, end;

	if (p->offset > k->size || p->filesz > k->size - p->offset)
		return false;
	end = p->offset + p->filesz;
	while (end - off >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name_off = off + 12, desc_off;

		memcpy(&namesz, k->data + off, 4);
		memcpy(&descsz, k->data + off + 4, 4);
		memcpy(&type, k->data + off + 8, 4);
		desc_off = name_off + ((namesz + 3ULL) & ~3ULL);
		if (desc_off > end || descsz > end - desc_off)
			return false;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(k->data + name_off, "Xen", 4) == 0 &&
		    (descsz == 4 || descsz == 8)) {
			uint64_t e = 0;

			memcpy(&e, k->data + desc_off, descsz);
			*entry = e;
			return true;
		}
		off = desc_off + ((descsz + 3ULL) & ~3ULL);
	}
	return false;
}

static int load_segment(struct vm *vm, const struct kernel_image *k,
			const struct phdr *p, struct boot_entry *out)
{
	uint8_t *dst;

	if (p->offset > k->size || p->filesz > k->size - p->offset ||
	    p->filesz > p->memsz) {
		log_error("kernel: '%s': segment at 0x%llx lies outside the file",
			  k->path, (unsigned long long)p->paddr);
		return -1;
	}
	dst = gpa_to_hva(&vm->mem, p->paddr, p->memsz);
	if (p->paddr < PLAT_HIGH_RAM_START || !dst) {
		log_error("kernel: '%s': segment 0x%llx-0x%llx does not fit in "
			  "guest RAM (%llu MiB, kernels load at or above 1 MiB)",
			  k->path, (unsigned long long)p->paddr,
			  (unsigned long long)(p->paddr + p->memsz),
			  (unsigned long long)vm->opts->mem_mib);
		return -1;
	}
	memcpy(dst, k->data + p->offset, p->filesz);
	memset(dst + p->filesz, 0, p->memsz - p->filesz);
	if (p->paddr + p->memsz > out->kernel_end)
		out->kernel_end = p->paddr + p->memsz;
	return 0;
}

int elf_load_pvh(struct vm *vm, const struct kernel_image *k,
		 struct boot_entry *out)
{
	struct elf_view v;
	struct phdr p;
	uint64_t entry = 0;
	bool have_entry = false;
	unsigned loaded = 0;

	if (elf_header(k, &v) < 0)
		return -1;
	for (unsigned i = 0; i < v.phnum; i++) {
		elf_phdr(&v, i, &p);
		if (p.type == PT_NOTE && !have_entry)
			have_entry = find_pvh_note(k, &p, &entry);
	}
	if (!have_entry) {
		log_error("kernel: '%s': ELF file has no PVH entry note "
			  "(XEN_ELFNOTE_PHYS32_ENTRY); Xenon boots ELF kernels "
			  "through PVH only", k->path);
		return -1;
	}
	out->mode = BOOT_PVH32;
	out->entry = entry;
	out->kernel_end = 0;
	for (unsigned i = 0; i < v.phnum; i++) {
		elf_phdr(&v, i, &p);
		if (p.type != PT_LOAD || p.memsz == 0)
			continue;
		if (load_segment(vm, k, &p, out) < 0)
			return -1;
		loaded++;
	}
	if (!loaded) {
		log_error("kernel: '%s': ELF file has no loadable segment", k->path);
		return -1;
	}
	return 0;
}
