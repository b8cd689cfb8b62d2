/*
 * Decoding the few instructions xenon-vmm completes itself when the nested
 * KVM layer's instruction emulator gives up on them (vmm/insn_fallback.c):
 * int3, fwait, and ldmxcsr/stmxcsr with a memory operand, in 64-bit mode.
 * Pure functions of the instruction bytes and registers, so they are unit
 * tested without KVM (tests/unit/test_insn_decode.c).
 */
#ifndef XENON_INSN_DECODE_H
#define XENON_INSN_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define INSN_MAX_LEN 15

enum insn_kind {
	INSN_UNKNOWN,
	INSN_INT3,
	INSN_FWAIT,
	INSN_LDMXCSR,	/* MXCSR <- m32 */
	INSN_STMXCSR,	/* m32 <- MXCSR */
};

enum insn_seg { SEG_DEFAULT, SEG_FS, SEG_GS };

/* A memory operand: seg:[base + index*scale + disp], or [rip + disp]. */
struct insn_mem {
	int base;		/* register number 0-15 (rax..r15), -1 none */
	int index;		/* -1 none */
	unsigned scale;		/* 1, 2, 4, 8 */
	int64_t disp;
	int rip_relative;	/* disp is from the next instruction */
	int addr32;		/* 0x67: the address is truncated to 32 bits */
	enum insn_seg seg;
};

struct insn {
	enum insn_kind kind;
	unsigned len;		/* bytes, prefixes included */
	struct insn_mem mem;	/* LDMXCSR/STMXCSR */
};

/* Decode bytes[0..n) as 64-bit code; kind INSN_UNKNOWN for anything else
 * (or too few bytes).  Returns the kind. */
enum insn_kind insn_decode(const uint8_t *bytes, size_t n, struct insn *out);

/* The linear address of a memory operand.  gpr[] is rax, rcx, rdx, rbx,
 * rsp, rbp, rsi, rdi, r8-r15 (the encoding's order); rip is the
 * instruction's own address. */
uint64_t insn_mem_address(const struct insn *in, const uint64_t gpr[16],
			  uint64_t rip, uint64_t fs_base, uint64_t gs_base);

const char *insn_kind_name(enum insn_kind k);

#endif
