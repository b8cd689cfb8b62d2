/*
 * Dirty-page tracking for live migration: KVM's dirty log
 * (KVM_MEM_LOG_DIRTY_PAGES + KVM_GET_DIRTY_LOG, which returns the pages
 * the guest wrote since the last call and write-protects them again) for
 * guest writes, merged with the monitor's own log of device writes
 * (guest_memory_mark_dirty()), which KVM cannot see.
 *
 * Why the bitmap and not the dirty ring: the ring must be enabled before
 * any vCPU exists, for every domain, on the chance it migrates one day;
 * its vCPUs stop with KVM_EXIT_DIRTY_RING_FULL whenever the collector
 * falls behind; and per round the bitmap costs one ioctl per slot (32 KiB
 * of bitmap per GiB) — see docs/performance.md for the measurement.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vmm/dirty_log.h"
#include "vmm/vm.h"

static int set_logging(struct vm *vm, bool on)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)(vm->mem.host + r->offset),
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			log_errno("dirty log: slot %u %s", i, on ? "on" : "off");
			return -1;
		}
	}
	return 0;
}

int dirty_log_start(struct vm *vm, struct dirty_log *dl)
{
	uint64_t pages = vm->mem.size / 4096;

	memset(dl, 0, sizeof(*dl));
	dl->words = (pages + 63) / 64;
	dl->dev = calloc(dl->words + 1, sizeof(*dl->dev));
	if (!dl->dev) {
		dirty_log_stop(vm, dl);
		return -1;
	}
	/* Device writes from now on are logged too. */
	vm->mem.dirty = dl->dev;
	if (set_logging(vm, true) < 0) {
		dirty_log_stop(vm, dl);
		return -1;
	}
	dl->on = true;
	return 0;
}

void dirty_log_stop(struct vm *vm, struct dirty_log *dl)
{
	if (dl->on)
		set_logging(vm, false);
	vm->mem.dirty = NULL;
	free((void *)dl->dev);
	memset(dl, 0, sizeof(*dl));
}

/* Bit b of a slot's log is RAM page region.offset / 4096 + b. */
static int fetch_slot(struct vm *vm, unsigned i, uint64_t *out)
{
	const struct guest_region *r = &vm->mem.regions[i];
	uint64_t first = r->offset / 4096, n = r->size / 4096;
	uint64_t *bits = calloc((n + 63) / 64 + 1, sizeof(uint64_t));
	struct kvm_dirty_log log = { .slot = i };

	if (!bits)
		return -1;
	log.dirty_bitmap = bits;
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		log_errno("KVM_GET_DIRTY_LOG slot %u", i);
		free(bits);
		return -1;
	}
	for (uint64_t w = 0; w < (n + 63) / 64; w++) {
		uint64_t v = bits[w];

		while (v) {
			uint64_t p = first + w * 64 + (uint64_t)__builtin_ctzll(v);

			out[p / 64] |= 1ULL << (p % 64);
			v &= v - 1;
		}
	}
	free(bits);
	return 0;
}

int dirty_log_fetch(struct vm *vm, struct dirty_log *dl, uint64_t *out,
		    uint64_t *count)
{
	uint64_t c = 0;

	memset(out, 0, dl->words * sizeof(uint64_t));
	for (unsigned i = 0; i < vm->mem.nr_regions; i++)
		if (fetch_slot(vm, i, out) < 0)
			return -1;
	for (uint64_t w = 0; w < dl->words; w++) {
		out[w] |= atomic_exchange(&dl->dev[w], 0);
		c += (uint64_t)__builtin_popcountll(out[w]);
	}
	*count = c;
	return 0;
}
