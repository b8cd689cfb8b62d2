/*
 * What creating a KVM VM costs, by the order of its steps (vmm/vm.c).
 *
 * On this nested host, once an in-kernel irqchip exists the first
 * KVM_SET_USER_MEMORY_REGION waits for an SRCU grace period (6-7 ms);
 * registering guest memory first keeps the whole VM creation under 1 ms.
 *
 *   cc -O2 -o build/vm_create_order bench/vm_create_order.c
 *   build/vm_create_order [MiB] [runs]
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int set_slot(int vm, void *host, unsigned long size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .memory_size = size, .userspace_addr = (unsigned long)host,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

static int make_irqchip(int vm)
{
	struct kvm_pit_config pit = { 0 };

	return ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0 ||
	       ioctl(vm, KVM_CREATE_PIT2, &pit) < 0 ? -1 : 0;
}

/* One VM; returns ms from KVM_CREATE_VM to its first vCPU. */
static double one(int kvm, unsigned long size, int memory_first)
{
	double t0 = now_ms();
	int vm = ioctl(kvm, KVM_CREATE_VM, 0), fd, vcpu;
	void *host;

	fd = memfd_create("bench-ram", MFD_CLOEXEC);
	if (vm < 0 || fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		perror("vm/memfd");
		exit(1);
	}
	host = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (host == MAP_FAILED ||
	    (memory_first ? set_slot(vm, host, size) || make_irqchip(vm)
			  : make_irqchip(vm) || set_slot(vm, host, size))) {
		perror("setup");
		exit(1);
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	t0 = now_ms() - t0;
	close(vcpu);
	munmap(host, size);
	close(fd);
	close(vm);
	return t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	unsigned long size = (argc > 1 ? strtoul(argv[1], NULL, 0) : 256) << 20;
	int runs = argc > 2 ? atoi(argv[2]) : 9;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	double a[64], b[64];

	if (kvm < 0 || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: %s [MiB] [runs <= 64] (needs /dev/kvm)\n",
			argv[0]);
		return 1;
	}
	for (int i = 0; i < runs; i++) {   /* alternating */
		a[i] = one(kvm, size, 0);
		b[i] = one(kvm, size, 1);
	}
	qsort(a, (size_t)runs, sizeof(a[0]), cmp);
	qsort(b, (size_t)runs, sizeof(b[0]), cmp);
	printf("%lu MiB, median of %d: irqchip then memory %.2f ms, "
	       "memory then irqchip %.2f ms\n", size >> 20, runs, a[runs / 2],
	       b[runs / 2]);
	return 0;
}
