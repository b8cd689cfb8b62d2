/*
 * Completing instructions the nested KVM layer cannot emulate.
 *
 * On this project's hosts (/dev/kvm is kvm_pvm, which runs a guest kernel
 * through KVM's instruction emulator) a guest kernel that executes int3,
 * fwait or ldmxcsr/stmxcsr stops with KVM_EXIT_INTERNAL_ERROR (emulation
 * failure).  Linux does all of them at boot (the int3 self-test,
 * text_poke_bp(), fpu__drop(), kernel_fpu_begin_mask()).  For a 64-bit
 * guest at CPL 0 xenon-vmm does what the CPU would have done and lets the
 * guest go on; anything else is still a fatal error (docs/monitor.md).
 */
#ifndef XENON_INSN_FALLBACK_H
#define XENON_INSN_FALLBACK_H

#include <stdbool.h>

struct vcpu;

/* After an emulation failure: true if the instruction was completed and
 * the vCPU may run on. */
bool insn_fallback(struct vcpu *vcpu);

#endif
