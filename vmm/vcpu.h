/* vCPUs: one thread each running the KVM_RUN loop. */
#ifndef XENON_VCPU_H
#define XENON_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	/* The last exit was port I/O or MMIO: KVM finishes the instruction
	 * at the next KVM_RUN, which must happen before state is saved. */
	bool io_pending;
};

int vcpus_create(struct vm *vm);      /* fds, CPUID, MSRs; no threads yet */
int vcpus_start(struct vm *vm);       /* spawn one thread per vCPU */
void vcpus_kick(struct vm *vm);       /* make every vCPU leave KVM_RUN */
void vcpus_join(struct vm *vm);
void vcpus_destroy(struct vm *vm);

/* CPUID policy (vmm/cpuid.c): what the guest may see on this host, built
 * once per VM (free() it) and then applied to each vCPU with its topology. */
struct kvm_cpuid2 *cpuid_policy_create(struct vm *vm);
/* Ask KVM for its supported CPUID on a thread, ahead of vCPU creation;
 * finish joins it (and drops an answer nobody took). */
void cpuid_prefetch_start(void);
void cpuid_prefetch_finish(void);
int cpuid_setup(struct vm *vm, struct vcpu *vcpu,
		const struct kvm_cpuid2 *policy);

/* Print general and segment registers to stderr, for crash reports. */
void vcpu_dump_registers(struct vcpu *vcpu);

#endif
