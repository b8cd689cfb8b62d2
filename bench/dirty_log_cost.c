/*
 * The fixed part of one round with KVM's dirty *bitmap*: KVM_GET_DIRTY_LOG
 * on a logged slot of N MiB that nothing wrote, i.e. the scan that the
 * dirty ring would save.  (The part that grows with dirty pages, clearing
 * and write-protecting them again, is paid by the ring too; migrate-send
 * reports it as final.fetch_us.)  Used to choose the bitmap over the
 * ring (docs/save-format.md, "Dirty tracking").
 *
 *   cc -O2 -o dirty_log_cost bench/dirty_log_cost.c && ./dirty_log_cost 1024
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
	uint64_t size = mib << 20, pages = size / 4096;
	int kvm = open("/dev/kvm", O_RDWR), vm;
	uint8_t *mem;
	uint64_t *bits = calloc(pages / 64 + 1, 8);
	struct kvm_userspace_memory_region slot = { 0 };
	uint64_t best = UINT64_MAX;

	if (kvm < 0 || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) {
		perror("kvm");
		return 1;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	slot.memory_size = size;
	slot.userspace_addr = (uint64_t)(uintptr_t)mem;
	slot.flags = KVM_MEM_LOG_DIRTY_PAGES;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		perror("KVM_SET_USER_MEMORY_REGION");
		return 1;
	}
	for (int rep = 0; rep < 20; rep++) {
		struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bits };
		uint64_t t0 = now_ns(), t;

		ioctl(vm, KVM_GET_DIRTY_LOG, &log);
		t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	printf("logged slot of %llu MiB: KVM_GET_DIRTY_LOG %.1f us (best of 20)\n",
	       (unsigned long long)mib, best / 1000.0);
	return 0;
}
