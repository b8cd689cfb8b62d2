/*
 * One virtual machine: the KVM VM, its memory, vCPUs, buses and interrupt
 * routing.  Everything a device needs from the monitor core is declared here.
 */
#ifndef XENON_VM_H
#define XENON_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/guest_memory.h"
#include "vmm/io_bus.h"
#include "vmm/options.h"

struct vcpu;
struct ram_pager;
struct kvm_irq_routing_entry;

/*
 * Process exit status of xenon-vmm (documented in docs/monitor.md; the
 * daemon maps them to Xen's shutdown reasons).
 */
enum vm_exit_status {
	VM_EXIT_POWEROFF = 0, /* guest powered off */
	VM_EXIT_ERROR = 1,    /* bad command line / could not start */
	VM_EXIT_REBOOT = 3,   /* guest asked for a reset */
	VM_EXIT_CRASH = 4,    /* triple fault: register dump on stderr */
	VM_EXIT_INTERNAL = 5, /* KVM emulation/internal error */
	VM_EXIT_STOPPED = 6,  /* stopped through the control socket / SIGTERM */
	VM_EXIT_SAVED = 7,    /* saved (save) or migrated away (migrate-send) */
};

enum vm_run_state { VM_RUNNING, VM_PAUSED, VM_EXITING };

#define VM_MAX_VCPUS 64
#define VM_MAX_GSI 256

struct vm {
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	struct guest_memory mem;
	struct io_bus pio, mmio;
	const struct vmm_options *opts;

	unsigned nr_vcpus;
	struct vcpu *vcpus;

	/* Run state, changed by the control socket and by devices. */
	pthread_mutex_t state_lock;
	pthread_cond_t state_cond;
	enum vm_run_state state;
	unsigned vcpus_parked;          /* vCPUs waiting while paused */
	int exit_status;                /* enum vm_exit_status once EXITING */
	int wake_fd;                    /* eventfd: main loop learns of exit */

	/* GSI routing table: defaults for the irqchip plus MSI routes. */
	pthread_mutex_t irq_lock;
	struct kvm_irq_routing_entry *routes;
	unsigned nr_routes;
	unsigned next_msi_gsi;

	/* Boot timer: monotonic ns at process start and at the guest's signal. */
	uint64_t start_ns;
	atomic_uint_fast64_t boot_done_ns;

	/* Guest RAM still being paged in (lazy restore, post-copy), else
	 * NULL: save and migration wait for it first. */
	struct ram_pager *pager;
};

int vm_create(struct vm *vm, const struct vmm_options *opts);
void vm_destroy(struct vm *vm);

/* Ask every vCPU to stop and the monitor to exit with this status. */
void vm_request_exit(struct vm *vm, enum vm_exit_status status);
/* Stop the process now with this status (written to --exit-file): for a
 * guest that must not run another instruction, e.g. on memory that could
 * not be restored. */
_Noreturn void vmm_exit_now(const struct vm *vm, enum vm_exit_status status);
/* Pause / resume all vCPUs; pause returns once they are all parked. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* ---- Interrupts -------------------------------------------------------- */
/* Drive a GSI of the in-kernel IOAPIC/PIC (edge: pulse with 1 then 0). */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);
/* Allocate a GSI routed to an MSI message; -1 on failure. */
int vm_msi_route_alloc(struct vm *vm, uint64_t addr, uint32_t data);
/* Re-point an allocated MSI GSI at a new message. */
int vm_msi_route_update(struct vm *vm, unsigned gsi, uint64_t addr,
			uint32_t data);
/* Inject an MSI directly (no GSI), for devices without an irqfd. */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
/* Tie an eventfd to a GSI (irqfd) / untie it. */
int vm_irqfd(struct vm *vm, int fd, unsigned gsi, bool assign);
/* Have KVM signal fd on guest writes to addr (ioeventfd, no exit to us). */
int vm_ioeventfd(struct vm *vm, uint64_t addr, unsigned len, bool is_pio,
		 int fd, bool assign);

int vm_irq_routing_init(struct vm *vm);

uint64_t monotonic_ns(void);

#endif
