/* PVH start_info parsing and command-line look-ups. */
#include "guest/bootinfo.h"

#include "guest/memory.h"
#include "guest/string.h"
#include "lib/platform.h"

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;  /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct boot_info boot;

/* Only the bytes actually copied are ever touched: zeroing 64 KiB at
 * boot would cost 16 page faults and 8192 emulated iterations. */
static char cmdline_buf[PLAT_CMDLINE_MAX] NOINIT;

static void copy_cmdline(uint64_t pa)
{
	const char *src = (const char *)pa;
	size_t n = pa ? strnlen(src, sizeof(cmdline_buf) - 1) : 0;

	memcpy(cmdline_buf, src, n);
	cmdline_buf[n] = '\0';
	boot.cmdline = cmdline_buf;
	boot.cmdline_len = n;
}

static void copy_modules(const struct hvm_start_info *si)
{
	const struct hvm_modlist_entry *m = (const void *)si->modlist_paddr;

	boot.nr_modules = 0;
	if (!si->modlist_paddr)
		return;
	for (uint32_t i = 0; i < si->nr_modules && i < MAX_MODULES; i++)
		boot.modules[boot.nr_modules++] =
			(struct boot_module){ m[i].paddr, m[i].size };
}

static void copy_memmap(const struct hvm_start_info *si)
{
	uint32_t n = si->memmap_entries;

	boot.nr_memmap = 0;
	if (si->version < 1 || !si->memmap_paddr)
		return;
	if (n > MAX_MEMMAP)
		n = MAX_MEMMAP;
	memcpy(boot.memmap, (const void *)si->memmap_paddr,
	       n * sizeof(boot.memmap[0]));
	boot.nr_memmap = n;
}

bool bootinfo_init(uint32_t pa)
{
	const struct hvm_start_info *si = (const void *)(uint64_t)pa;

	copy_cmdline(0);
	if (!pa || si->magic != PVH_START_MAGIC)
		return false;
	copy_cmdline(si->cmdline_paddr);
	copy_modules(si);
	copy_memmap(si);
	boot.rsdp = si->rsdp_paddr;
	return true;
}

/* Call fn on each space-separated word until it returns true. */
static bool for_each_word(bool (*fn)(const char *w, size_t len, void *ctx),
			  void *ctx)
{
	const char *p = boot.cmdline;

	while (*p) {
		size_t len = 0;

		while (*p == ' ')
			p++;
		while (p[len] && p[len] != ' ')
			len++;
		if (len && fn(p, len, ctx))
			return true;
		p += len;
	}
	return false;
}

struct lookup {
	const char *key;
	char *buf;
	size_t size;
};

static bool match_key(const char *w, size_t len, void *ctx)
{
	struct lookup *l = ctx;
	size_t klen = strlen(l->key), vlen;

	if (len <= klen || memcmp(w, l->key, klen) || w[klen] != '=')
		return false;
	vlen = len - klen - 1;
	if (vlen > l->size - 1)
		vlen = l->size - 1;
	memcpy(l->buf, w + klen + 1, vlen);
	l->buf[vlen] = '\0';
	return true;
}

bool cmdline_value(const char *key, char *buf, size_t size)
{
	struct lookup l = { key, buf, size };

	return size && for_each_word(match_key, &l);
}

static bool match_word(const char *w, size_t len, void *ctx)
{
	const char *word = ctx;

	return strlen(word) == len && !memcmp(w, word, len);
}

bool cmdline_has(const char *word)
{
	return for_each_word(match_word, (void *)word);
}

uint64_t ram_bytes(void)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < boot.nr_memmap; i++)
		if (boot.memmap[i].type == MEMMAP_RAM)
			total += boot.memmap[i].size;
	return total;
}
