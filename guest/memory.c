/*
 * Page allocator and page tables.  The allocator hands out memory from
 * the end of the kernel image (.noinit included) to the end of the RAM
 * range that holds it, stepping over loader modules (the initrd).  Memory
 * is never freed: the guest runs one scenario and powers off.
 */
#include "guest/memory.h"

#include "guest/bootinfo.h"
#include "guest/layout.h"
#include "guest/string.h"
#include "guest/x86.h"

#define GIB (1ULL << 30)
#define MIB2 (2ULL << 20)
#define ADDR_MASK 0x000ffffffffff000ULL
#define FALLBACK_POOL (1ULL << 20)  /* no memmap: assume 1 MiB past us */

extern char __kernel_end[];
extern uint64_t boot_pml4[];

static uint64_t next_free, pool_end;

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void find_pool(void)
{
	uint64_t start = align_up((uint64_t)__kernel_end, PAGE_SIZE);

	next_free = start;
	pool_end = start + FALLBACK_POOL;
	for (unsigned i = 0; i < boot.nr_memmap; i++) {
		const struct memmap_entry *e = &boot.memmap[i];

		if (e->type == MEMMAP_RAM && e->addr <= start &&
		    e->addr + e->size > start)
			pool_end = e->addr + e->size;
	}
	if (pool_end > 4 * GIB)
		pool_end = 4 * GIB;
}

/* The first module overlapping [at, at + len), or NULL. */
static const struct boot_module *module_in(uint64_t at, uint64_t len)
{
	for (unsigned i = 0; i < boot.nr_modules; i++) {
		const struct boot_module *m = &boot.modules[i];

		if (m->paddr < at + len && at < m->paddr + m->size)
			return m;
	}
	return NULL;
}

void *page_alloc_raw(size_t npages)
{
	uint64_t len = npages * PAGE_SIZE, at = next_free;
	const struct boot_module *m;

	while ((m = module_in(at, len)))
		at = align_up(m->paddr + m->size, PAGE_SIZE);
	if (at + len > pool_end || at + len < at)
		return NULL;
	next_free = at + len;
	return (void *)at;
}

void *page_alloc(size_t npages)
{
	void *p = page_alloc_raw(npages);

	return p ? memset(p, 0, npages * PAGE_SIZE) : NULL;
}

/* Same test as entry.S, so both build the same kind of map. */
bool memory_gb_pages(void)
{
	if (cpuid(0x80000000, 0).eax < 0x80000001)
		return false;
	return cpuid(0x80000001, 0).edx & (1u << CPUID_PDPE1GB_BIT);
}

/* The table entry e points at, allocated if absent; NULL if e is a large
 * page (already mapped) or memory ran out. */
static uint64_t *next_table(uint64_t *e)
{
	if (!(*e & PTE_P)) {
		void *t = page_alloc(1);

		if (!t)
			return NULL;
		*e = (uint64_t)t | PTE_P | PTE_W | PTE_U;
	}
	if (*e & PTE_PS)
		return NULL;
	return (uint64_t *)(*e & ADDR_MASK);
}

/* Map one large page at a (1 GiB if gb, else 2 MiB) unless present. */
static bool map_one(uint64_t a, bool gb, uint64_t flags)
{
	uint64_t *pdpt = next_table(&boot_pml4[(a >> 39) & 511]);
	uint64_t *e, *pd;

	if (!pdpt)
		return false;
	e = &pdpt[(a >> 30) & 511];
	if (!gb) {
		if (*e & PTE_PS)
			return true;  /* inside a 1 GiB page already */
		pd = next_table(e);
		if (!pd)
			return false;
		e = &pd[(a >> 21) & 511];
	}
	if (!(*e & PTE_P))
		*e = a | flags;
	return true;
}

bool map_identity(uint64_t addr, uint64_t size, bool uncached)
{
	bool gb = memory_gb_pages();
	uint64_t step = gb ? GIB : MIB2;
	uint64_t flags = PTE_P | PTE_W | PTE_U | PTE_PS |
			 (uncached ? PTE_PCD | PTE_PWT : 0);
	uint64_t a = addr & ~(step - 1), end = align_up(addr + size, step);

	if (end <= 4 * GIB)
		return true;  /* entry.S mapped all of it */
	for (; a < end; a += step)
		if (!map_one(a, gb, flags))
			return false;
	write_cr3(read_cr3());  /* drop any cached not-present walks */
	return true;
}

void memory_init(void)
{
	find_pool();
	for (unsigned i = 0; i < boot.nr_memmap; i++) {
		const struct memmap_entry *e = &boot.memmap[i];

		if (e->type == MEMMAP_RAM && e->addr + e->size > 4 * GIB)
			map_identity(e->addr, e->size, false);
	}
}
