/*
 * CPUID policy.  We start from KVM_GET_SUPPORTED_CPUID and hide what the
 * layer beneath cannot run.  This host is nested, software-assisted KVM
 * (kvm_pvm): measured with Debian's 6.1 kernel, a guest dies on
 * `lock cmpxchg16b` unless CX16 is hidden, and on `xrstor` unless XSAVE is
 * hidden (and even then the kernel must not probe it: see docs/monitor.md).
 * Everything that depends on XSAVE-managed state (AVX, AVX2, AVX-512, AMX,
 * FMA, F16C) goes with it, as does the ARCH_CAPABILITIES MSR, whose
 * restore fails on this host (QEMU needs -cpu host,-arch-capabilities).
 *
 * Topology: one package, one core per vCPU, one thread per core, APIC ID =
 * vCPU index.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define MAX_CPUID_ENTRIES 256

/* Leaf 1 ECX */
#define CPUID_1_ECX_FMA       (1u << 12)
#define CPUID_1_ECX_CX16      (1u << 13)
#define CPUID_1_ECX_XSAVE     (1u << 26)
#define CPUID_1_ECX_OSXSAVE   (1u << 27)
#define CPUID_1_ECX_AVX       (1u << 28)
#define CPUID_1_ECX_F16C      (1u << 29)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT       (1u << 28)
/* Leaf 7.0 */
#define CPUID_7_EBX_AVX2      (1u << 5)
#define CPUID_7_EBX_AVX512    0xdc230000u /* F DQ IFMA PF ER CD BW VL */
#define CPUID_7_ECX_AVX512    0x00005842u /* VBMI VBMI2 VNNI BITALG VPOPCNTDQ */
#define CPUID_7_EDX_AVX512    0x0080010cu /* 4VNNIW 4FMAPS VP2INTERSECT FP16 */
#define CPUID_7_EDX_AMX       0x03400000u /* AMX-BF16 AMX-TILE AMX-INT8 */
#define CPUID_7_EDX_ARCH_CAP  (1u << 29)
#define CPUID_7_1_EAX_AVX     0x00000030u /* AVX-VNNI, AVX512-BF16 */

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static void apply_topology(struct kvm_cpuid_entry2 *e, unsigned apic_id,
			   unsigned nr)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x0000ffffu) | (apic_id << 24) |
			 ((nr & 0xff) << 16);
		if (nr > 1)
			e->edx |= CPUID_1_EDX_HTT;
		break;
	case 4:
		/* Cores per package - 1 in EAX[31:26]; threads sharing = 0. */
		e->eax = (e->eax & 0x03ffffffu & ~0x03ffc000u) |
			 ((nr - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		e->edx = apic_id;
		if (e->index == 0) {        /* SMT level */
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | 0;
		} else if (e->index == 1) { /* core level */
			e->eax = bits_for(nr);
			e->ebx = nr;
			e->ecx = (2u << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	}
}

static void hide_features(struct kvm_cpuid_entry2 *e)
{
	switch (e->function) {
	case 1:
		e->ecx &= ~(CPUID_1_ECX_FMA | CPUID_1_ECX_CX16 | CPUID_1_ECX_XSAVE |
			    CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX |
			    CPUID_1_ECX_F16C);
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		break;
	case 7:
		if (e->index == 0) {
			e->ebx &= ~(CPUID_7_EBX_AVX2 | CPUID_7_EBX_AVX512);
			e->ecx &= ~CPUID_7_ECX_AVX512;
			e->edx &= ~(CPUID_7_EDX_AVX512 | CPUID_7_EDX_AMX |
				    CPUID_7_EDX_ARCH_CAP);
		} else if (e->index == 1) {
			e->eax &= ~CPUID_7_1_EAX_AVX;
		}
		break;
	case 0xd: /* XSAVE state enumeration: nothing without XSAVE */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	}
}

static struct kvm_cpuid2 *ask_supported(int kvm_fd)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
				      MAX_CPUID_ENTRIES * sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = MAX_CPUID_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/*
 * KVM_GET_SUPPORTED_CPUID takes ~0.9 ms on this nested host, a fifth of a
 * restore.  main() asks for it on a thread of its own as soon as the
 * options are read, so the answer is ready by the time the vCPUs are
 * created, after the save file is opened and the VM and its memory exist.
 */
static struct {
	pthread_t thread;
	bool started;
	struct kvm_cpuid2 *result;
} prefetch;

static void *prefetch_main(void *unused)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	(void)unused;
	if (fd >= 0) {
		prefetch.result = ask_supported(fd);
		close(fd);
	}
	return NULL;
}

void cpuid_prefetch_start(void)
{
	prefetch.started = pthread_create(&prefetch.thread, NULL,
					  prefetch_main, NULL) == 0;
}

static struct kvm_cpuid2 *prefetch_take(void)
{
	struct kvm_cpuid2 *c;

	if (!prefetch.started)
		return NULL;
	pthread_join(prefetch.thread, NULL);
	prefetch.started = false;
	c = prefetch.result;
	prefetch.result = NULL;
	return c;
}

void cpuid_prefetch_finish(void)
{
	free(prefetch_take());
}

/* The prefetched answer, or (none, or it failed) asked now. */
static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *c = prefetch_take();

	if (!c && !(c = ask_supported(kvm_fd)))
		log_errno("KVM_GET_SUPPORTED_CPUID");
	return c;
}

struct kvm_cpuid2 *cpuid_policy_create(struct vm *vm)
{
	struct kvm_cpuid2 *c = supported_cpuid(vm->kvm_fd);

	for (unsigned i = 0; c && i < c->nent; i++)
		hide_features(&c->entries[i]);
	return c;
}

int cpuid_setup(struct vm *vm, struct vcpu *vcpu,
		const struct kvm_cpuid2 *policy)
{
	size_t size = sizeof(*policy) + policy->nent * sizeof(policy->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int ret;

	if (!c)
		return -1;
	/* Only the topology leaves differ between vCPUs. */
	memcpy(c, policy, size);
	for (unsigned i = 0; i < c->nent; i++)
		apply_topology(&c->entries[i], vcpu->id, vm->nr_vcpus);
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, c);
	if (ret < 0)
		log_errno("vcpu%u: KVM_SET_CPUID2", vcpu->id);
	free(c);
	return ret;
}
