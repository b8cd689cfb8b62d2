/* KVM VM set-up: the VM file descriptor, in-kernel irqchip and PIT, guest
 * memory slots, and the GSI routing table shared by devices. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/vcpu.h"

/* Addresses KVM needs for VMX real-mode emulation; inside the MMIO hole,
 * below the BIOS area, where nothing else lives. */
#define KVM_TSS_ADDR          0xfffbd000UL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int check_capabilities(int kvm_fd)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_IRQCHIP, "IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
		{ KVM_CAP_PIT2, "PIT2" },
		{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" },
		{ KVM_CAP_IRQFD, "IRQFD" },
		{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
		{ KVM_CAP_SIGNAL_MSI, "SIGNAL_MSI" },
		{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
	};

	if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_error("/dev/kvm: unsupported KVM API version");
		return -1;
	}
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			log_error("/dev/kvm: missing capability KVM_CAP_%s",
				  caps[i].name);
			return -1;
		}
	}
	return 0;
}

static int check_limits(struct vm *vm, const struct vmm_options *opts)
{
	struct sysinfo si;
	int max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	uint64_t host_mib;

	if (max_vcpus <= 0)
		max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max_vcpus > VM_MAX_VCPUS || max_vcpus <= 0)
		max_vcpus = VM_MAX_VCPUS;
	if (opts->vcpus < 1 || opts->vcpus > (unsigned)max_vcpus) {
		log_error("vcpus: %u is out of range (1 to %d)", opts->vcpus,
			  max_vcpus);
		return -1;
	}
	if (sysinfo(&si) == 0) {
		host_mib = (uint64_t)si.totalram * si.mem_unit >> 20;
		if (opts->mem_mib > host_mib) {
			log_error("memory: %llu MiB is more than the host has (%llu MiB)",
				  (unsigned long long)opts->mem_mib,
				  (unsigned long long)host_mib);
			return -1;
		}
	}
	return 0;
}

static int set_memory_slots(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)(vm->mem.host + r->offset),
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			log_errno("KVM_SET_USER_MEMORY_REGION slot %u", i);
			return -1;
		}
	}
	return 0;
}

static int create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		log_errno("KVM_SET_TSS_ADDR");
		return -1;
	}
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		log_errno("KVM_SET_IDENTITY_MAP_ADDR");
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		log_errno("KVM_CREATE_IRQCHIP");
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_errno("KVM_CREATE_PIT2");
		return -1;
	}
	return 0;
}

static int open_kvm(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		log_errno("cannot open /dev/kvm");
		return -1;
	}
	if (check_capabilities(vm->kvm_fd) < 0)
		return -1;
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		log_errno("KVM_GET_VCPU_MMAP_SIZE");
		return -1;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vmm_options *opts)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->wake_fd = -1;
	vm->mem.memfd = -1;
	vm->opts = opts;
	vm->nr_vcpus = opts->vcpus;
	pthread_mutex_init(&vm->state_lock, NULL);
	pthread_cond_init(&vm->state_cond, NULL);
	pthread_mutex_init(&vm->irq_lock, NULL);
	io_bus_init(&vm->pio, "pio");
	io_bus_init(&vm->mmio, "mmio");
	vm->state = opts->start_paused ? VM_PAUSED : VM_RUNNING;

	if (open_kvm(vm) < 0 || check_limits(vm, opts) < 0)
		return -1;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		log_errno("KVM_CREATE_VM");
		return -1;
	}
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0) {
		log_errno("eventfd");
		return -1;
	}
	/* Memory slots before the irqchip: once an in-kernel irqchip exists,
	 * the first KVM_SET_USER_MEMORY_REGION waits for an SRCU grace
	 * period, 6-7 ms on this nested host (bench/vm_create_order.c) --
	 * most of a restore's start-up. */
	if ((opts->ram_image ?
	     guest_memory_init_image(&vm->mem, opts->mem_mib << 20, opts->ram_image) :
	     guest_memory_init(&vm->mem, opts->mem_mib << 20)) < 0)
		return -1;
	if (set_memory_slots(vm) < 0)
		return -1;
	if (create_irqchip(vm) < 0 || vm_irq_routing_init(vm) < 0)
		return -1;
	return vcpus_create(vm);
}

void vm_destroy(struct vm *vm)
{
	vcpus_destroy(vm);
	guest_memory_destroy(&vm->mem);
	io_bus_destroy(&vm->pio);
	io_bus_destroy(&vm->mmio);
	free(vm->routes);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = vm->wake_fd = -1;
}

/* ---- Run state --------------------------------------------------------- */

void vm_request_exit(struct vm *vm, enum vm_exit_status status)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->state_lock);
	if (vm->state != VM_EXITING) {
		vm->state = VM_EXITING;
		vm->exit_status = status;
		pthread_cond_broadcast(&vm->state_cond);
	}
	pthread_mutex_unlock(&vm->state_lock);
	vcpus_kick(vm);
	if (vm->wake_fd >= 0 &&
	    write(vm->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_errno("wake main loop");
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->state_lock);
	if (vm->state == VM_RUNNING)
		vm->state = VM_PAUSED;
	pthread_mutex_unlock(&vm->state_lock);
	vcpus_kick(vm);

	pthread_mutex_lock(&vm->state_lock);
	while (vm->state == VM_PAUSED && vm->vcpus_parked < vm->nr_vcpus)
		pthread_cond_wait(&vm->state_cond, &vm->state_lock);
	pthread_mutex_unlock(&vm->state_lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->state_lock);
	if (vm->state == VM_PAUSED)
		vm->state = VM_RUNNING;
	pthread_cond_broadcast(&vm->state_cond);
	pthread_mutex_unlock(&vm->state_lock);
}
