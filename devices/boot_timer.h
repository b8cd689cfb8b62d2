/*
 * Firecracker's boot timer: the guest writes PLAT_BOOT_TIMER_MAGIC to
 * PLAT_PORT_BOOT_TIMER once it considers itself booted; the monitor records
 * the time (vm->boot_done_ns) and logs how long that took.
 */
#ifndef XENON_BOOT_TIMER_H
#define XENON_BOOT_TIMER_H

struct vm;

int boot_timer_create(struct vm *vm);
void boot_timer_destroy(struct vm *vm);

#endif
