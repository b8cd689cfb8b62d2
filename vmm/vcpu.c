/*
 * The vCPU run loop.  Each vCPU thread runs KVM_RUN and dispatches the exits
 * that reach user space: port I/O and MMIO to the buses, power events to the
 * VM's run state.  Pausing parks the thread on vm->state_cond; a SIGUSR1
 * "kick" (with KVM's immediate_exit so no kick is lost) gets a thread out of
 * KVM_RUN.
 */
#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/insn_fallback.h"
#include "vmm/vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static __thread struct vcpu *current_vcpu;

static void kick_handler(int sig)
{
	(void)sig;
	if (current_vcpu)
		current_vcpu->run->immediate_exit = 1;
}

/* Model-specific registers set before boot, as a PC firmware would. */
static int setup_msrs(struct vcpu *vcpu)
{
	static const struct kvm_msr_entry entries[2] = {
		{ .index = 0x1a0, .data = 1 },             /* MISC_ENABLE: fast strings */
		{ .index = 0x2ff, .data = (1 << 11) | 6 }, /* MTRRdefType: on, WB */
	};
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(entries)];
	} msrs = { .hdr.nmsrs = 2 };
	int n;

	memcpy(msrs.hdr.entries, entries, sizeof(entries));
	n = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);

	if (n != 2)
		log_warn("vcpu%u: only %d of 2 boot MSRs accepted", vcpu->id, n);
	return 0;
}

static int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned id,
		       const struct kvm_cpuid2 *policy)
{
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		log_errno("KVM_CREATE_VCPU %u", id);
		return -1;
	}
	vcpu->run = mmap(NULL, (size_t)vm->vcpu_mmap_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		log_errno("mmap vcpu%u run area", id);
		return -1;
	}
	if (cpuid_setup(vm, vcpu, policy) < 0)
		return -1;
	return setup_msrs(vcpu);
}

int vcpus_create(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	struct kvm_cpuid2 *policy;
	int ret = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	policy = cpuid_policy_create(vm);
	if (!policy)
		return -1;
	for (unsigned i = 0; i < vm->nr_vcpus && ret == 0; i++)
		ret = vcpu_create(vm, &vm->vcpus[i], i, policy);
	free(policy);
	return ret;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++) {
		if (!io_bus_access(&vcpu->vm->pio, run->io.port, data,
				   run->io.size, is_write) &&
		    log_get_level() >= LOG_DEBUG)
			log_debug("vcpu%u: unclaimed %s port 0x%x", vcpu->id,
				  is_write ? "write to" : "read from",
				  run->io.port);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (!io_bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data,
			   run->mmio.len, run->mmio.is_write))
		log_debug("vcpu%u: unclaimed MMIO %s 0x%llx", vcpu->id,
			  run->mmio.is_write ? "write" : "read",
			  (unsigned long long)run->mmio.phys_addr);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vcpu->vm, VM_EXIT_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vcpu->vm, VM_EXIT_REBOOT);
		break;
	default:
		log_error("vcpu%u: guest crashed (system event %u)", vcpu->id,
			  vcpu->run->system_event.type);
		vm_request_exit(vcpu->vm, VM_EXIT_CRASH);
	}
}

static void fatal_exit(struct vcpu *vcpu, enum vm_exit_status status,
		       const char *what)
{
	log_error("vcpu%u: %s", vcpu->id, what);
	vcpu_dump_registers(vcpu);
	vm_request_exit(vcpu->vm, status);
}

static void handle_internal_error(struct vcpu *vcpu)
{
	char what[160];
	struct kvm_run *run = vcpu->run;

	snprintf(what, sizeof(what),
		 "KVM internal error, suberror %u%s (the nested KVM layer could "
		 "not emulate an instruction)", run->internal.suberror,
		 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
		 " (emulation failure)" : "");
	fatal_exit(vcpu, VM_EXIT_INTERNAL, what);
}

/* Returns false when the vCPU thread should end. */
static bool handle_exit(struct vcpu *vcpu)
{
	char what[96];

	switch (vcpu->run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		fatal_exit(vcpu, VM_EXIT_CRASH, "guest triple fault (shutdown)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (vcpu->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    insn_fallback(vcpu))
			return true;
		handle_internal_error(vcpu);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, reason 0x%llx",
			 (unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
		fatal_exit(vcpu, VM_EXIT_INTERNAL, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u",
			 vcpu->run->exit_reason);
		fatal_exit(vcpu, VM_EXIT_INTERNAL, what);
		return false;
	}
}

static bool handle_exit(struct vcpu *vcpu);

/*
 * Before parking: let KVM complete an I/O instruction whose exit we just
 * handled (an IN's data goes into RAX at the next KVM_RUN), with
 * immediate_exit so the guest itself does not run.  A string instruction
 * may exit again; those exits are handled the same way.
 */
static void complete_io(struct vcpu *vcpu)
{
	for (unsigned i = 0; vcpu->io_pending && i < 4096; i++) {
		int ret;

		vcpu->run->immediate_exit = 1;
		ret = ioctl(vcpu->fd, KVM_RUN, 0);
		vcpu->run->immediate_exit = 0;
		vcpu->io_pending = false;
		if (ret < 0)
			return;
		vcpu->io_pending = vcpu->run->exit_reason == KVM_EXIT_IO ||
				   vcpu->run->exit_reason == KVM_EXIT_MMIO;
		if (!handle_exit(vcpu))
			return;
	}
}

/* Park while paused; false once the VM is exiting. */
static bool wait_until_runnable(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	bool run;

	pthread_mutex_lock(&vm->state_lock);
	if (vm->state == VM_PAUSED && vcpu->io_pending) {
		pthread_mutex_unlock(&vm->state_lock);
		complete_io(vcpu);
		pthread_mutex_lock(&vm->state_lock);
	}
	if (vm->state == VM_PAUSED) {
		vm->vcpus_parked++;
		pthread_cond_broadcast(&vm->state_cond);
		while (vm->state == VM_PAUSED)
			pthread_cond_wait(&vm->state_cond, &vm->state_lock);
		vm->vcpus_parked--;
	}
	run = vm->state == VM_RUNNING;
	pthread_mutex_unlock(&vm->state_lock);
	return run;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	current_vcpu = vcpu;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (wait_until_runnable(vcpu)) {
		int ret = ioctl(vcpu->fd, KVM_RUN, 0);

		vcpu->run->immediate_exit = 0;
		vcpu->io_pending = false;
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_errno("vcpu%u: KVM_RUN", vcpu->id);
			vm_request_exit(vcpu->vm, VM_EXIT_INTERNAL);
			break;
		}
		vcpu->io_pending = vcpu->run->exit_reason == KVM_EXIT_IO ||
				   vcpu->run->exit_reason == KVM_EXIT_MMIO;
		if (!handle_exit(vcpu))
			break;
	}
	current_vcpu = NULL;
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	sigset_t set, old;
	int ret = 0;

	/* Threads start with the kick signal blocked and unblock it once
	 * current_vcpu is set, so a kick never hits a half-made thread. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
			log_error("vcpu%u: cannot create thread", i);
			ret = -1;
			break;
		}
		v->thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

void vcpus_kick(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus && vm->vcpus[i].thread_started)
			pthread_kill(vm->vcpus[i].thread, VCPU_KICK_SIGNAL);
}

void vcpus_join(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].thread_started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].thread_started = false;
	}
}

void vcpus_destroy(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	vcpus_join(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, (size_t)vm->vcpu_mmap_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
}
