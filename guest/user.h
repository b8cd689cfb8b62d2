/*
 * Running pure computation in ring 3.
 *
 * On the nested KVM of the development machines ring-0 guest code is
 * emulated one instruction at a time (~0.4 us each, ~1.5 us with a memory
 * operand) while ring-3 code runs natively, over a thousand times faster.
 * user_call() runs fn(arg) in ring 3 on a stack of its own and returns its
 * result.  fn must be pure computation over memory: no port I/O, no
 * privileged instructions, no printing, no interrupts (they stay off).
 * A fault inside it is reported like any exception.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

#include <stdint.h>

#include "guest/idt.h"

typedef uint64_t (*user_fn)(void *arg);

/* Load the TSS that holds the ring-0 stack (boot CPU, once). */
void user_init(void);
uint64_t user_call(user_fn fn, void *arg);
/* From isr_dispatch() for exceptions raised in ring 3: does not return
 * when it is user_call()'s way back to ring 0. */
void user_check_exit(const struct irq_frame *f);

#endif
