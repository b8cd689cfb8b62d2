/*
 * Thin wrappers around the x86 instructions the guest needs.  Everything
 * here is a single instruction; which ones are allowed at all is dictated
 * by the nested KVM layer (see docs/test-guest.md): no software interrupts,
 * no xsave/xrstor, no cmpxchg16b, no SSE.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* The whole buffer in one instruction (one exit per byte all the same). */
static inline void outsb(uint16_t port, const void *buf, unsigned long n)
{
	__asm__ volatile("rep outsb"
			 : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO accessors: volatile so every access really reaches the device. */
static inline uint8_t mmio_read8(uint64_t addr)
{
	return *(volatile uint8_t *)addr;
}

static inline uint16_t mmio_read16(uint64_t addr)
{
	return *(volatile uint16_t *)addr;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write8(uint64_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
	*(volatile uint16_t *)addr = v;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Full fence without mfence (an SSE2 instruction): a locked no-op add,
 * the same trick Linux uses for smp_mb() on x86-64. */
static inline void full_fence(void)
{
	__asm__ volatile("lock addl $0, -8(%%rsp)" ::: "memory", "cc");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

/* sti takes effect after the next instruction, so an interrupt that is
 * already pending wakes this hlt instead of being lost before it. */
static inline void irq_enable_and_halt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static inline __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

#endif
