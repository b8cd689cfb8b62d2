/*
 * The instructions of vmm/insn_decode.h, done as the CPU does them (Intel
 * SDM vol. 3, 6.14 "Exception and interrupt handling in 64-bit mode", and
 * vol. 2 for FWAIT, LDMXCSR, STMXCSR).  Only a 64-bit guest at CPL 0 is
 * helped: that is where the nested layer emulates.  A condition under
 * which the CPU would raise an exception instead (#UD, #NM, #GP, a page
 * fault on the operand or the stack) is not reproduced: the fallback
 * declines and the failure stays fatal, as it was without it.
 */
#include "vmm/insn_fallback.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vmm/insn_decode.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR4_OSFXSR (1ull << 9)
#define EFER_LMA (1ull << 10)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)
#define RFLAGS_VM (1ull << 17)
#define TSS_IST1 0x24

struct ctx {
	struct vcpu *vcpu;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	const char *why;	/* why the fallback declined */
};

/* Copy to/from guest linear addresses, page by page through the guest's
 * page tables (KVM_TRANSLATE).  false if any page is not mapped (or not
 * writable, for a write), or not RAM. */
static bool linear_access(struct ctx *c, uint64_t la, void *buf, size_t len,
			  bool write)
{
	const struct guest_memory *mem = &c->vcpu->vm->mem;
	uint8_t *p = buf;

	while (len) {
		struct kvm_translation tr = { .linear_address = la & ~0xfffull };
		size_t off = la & 0xfff, n = 4096 - off < len ? 4096 - off : len;
		uint8_t *hva;

		if (ioctl(c->vcpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid ||
		    (write && !tr.writeable) ||
		    !(hva = gpa_to_hva(mem, tr.physical_address + off, n))) {
			c->why = "a memory operand is not mapped";
			return false;
		}
		if (write) {
			memcpy(hva, p, n);
			guest_memory_mark_dirty(mem, hva, n);
		} else {
			memcpy(p, hva, n);
		}
		la += n;
		p += n;
		len -= n;
	}
	return true;
}

static void gprs(const struct kvm_regs *r, uint64_t g[16])
{
	const uint64_t v[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp,
				 r->rbp, r->rsi, r->rdi, r->r8, r->r9, r->r10,
				 r->r11, r->r12, r->r13, r->r14, r->r15 };

	memcpy(g, v, sizeof(v));
}

struct idt_gate {
	uint16_t off_lo, selector;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __attribute__((packed));

/*
 * A software interrupt (int3: vector 3, a trap, so the saved RIP is the
 * next instruction) through a 64-bit interrupt or trap gate to the same
 * code segment: the stack (the IST one if the gate names it) is aligned
 * to 16 and gets SS, RSP, RFLAGS, CS, RIP.
 */
static bool deliver_soft_interrupt(struct ctx *c, unsigned vec, unsigned len)
{
	struct kvm_regs *r = &c->regs;
	const struct kvm_sregs *s = &c->sregs;
	struct idt_gate g;
	uint64_t rsp = r->rsp, frame[5];
	unsigned type;

	if (vec * 16 + 15 > s->idt.limit ||
	    !linear_access(c, s->idt.base + vec * 16, &g, sizeof(g), false)) {
		c->why = "its IDT gate is out of the table or not mapped";
		return false;
	}
	type = g.type & 0x1f;
	if (!(g.type & 0x80) || (type != 0xe && type != 0xf) ||
	    ((g.type >> 5) & 3) < (s->cs.selector & 3) ||
	    (g.selector & ~3u) != (s->cs.selector & ~3u)) {
		c->why = "its IDT gate is not a present gate to the same code "
			 "segment";
		return false;
	}
	if ((g.ist & 7) && !linear_access(c, s->tr.base + TSS_IST1 +
					  8 * ((g.ist & 7) - 1u), &rsp, 8,
					  false))
		return false;
	rsp &= ~0xfull;
	frame[0] = r->rip + len;
	frame[1] = s->cs.selector;
	frame[2] = r->rflags;
	frame[3] = r->rsp;
	frame[4] = s->ss.selector;
	rsp -= sizeof(frame);
	if (!linear_access(c, rsp, frame, sizeof(frame), true))
		return false;
	r->rsp = rsp;
	r->rip = (uint64_t)g.off_lo | (uint64_t)g.off_mid << 16 |
		 (uint64_t)g.off_hi << 32;
	r->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
	if (type == 0xe)
		r->rflags &= ~RFLAGS_IF;
	return true;
}

/* MXCSR sits in the legacy area of the XSAVE image (byte 24), which is
 * what KVM keeps; KVM_GET/SET_FPU do not reach it on the nested layer. */
#define XSAVE_MXCSR_WORD 6
#define XSAVE_MXCSR_MASK_WORD 7	/* the bits MXCSR has; 0: 0xffbf */

/* LDMXCSR/STMXCSR: #UD without OSFXSR or with EM, #NM with TS. */
static bool mxcsr_access(struct ctx *c, const struct insn *in)
{
	struct kvm_xsave xs;
	uint64_t g[16], la;
	uint32_t v, mask;

	if (!(c->sregs.cr4 & CR4_OSFXSR) || (c->sregs.cr0 & (CR0_EM | CR0_TS))) {
		c->why = "SSE is off (the CPU would fault)";
		return false;
	}
	gprs(&c->regs, g);
	la = insn_mem_address(in, g, c->regs.rip, c->sregs.fs.base,
			      c->sregs.gs.base);
	if (ioctl(c->vcpu->fd, KVM_GET_XSAVE, &xs) < 0) {
		c->why = "KVM_GET_XSAVE failed";
		return false;
	}
	if (in->kind == INSN_STMXCSR)
		return linear_access(c, la, &xs.region[XSAVE_MXCSR_WORD], 4,
				     true);
	if (!linear_access(c, la, &v, 4, false))
		return false;
	mask = xs.region[XSAVE_MXCSR_MASK_WORD] ? xs.region[XSAVE_MXCSR_MASK_WORD]
						: 0xffbf;
	if (v & ~mask) {
		c->why = "reserved MXCSR bits set (the CPU would fault)";
		return false;
	}
	xs.region[XSAVE_MXCSR_WORD] = v;
	if (ioctl(c->vcpu->fd, KVM_SET_XSAVE, &xs) < 0) {
		c->why = "KVM_SET_XSAVE failed";
		return false;
	}
	return true;
}

static bool execute(struct ctx *c, const struct insn *in)
{
	switch (in->kind) {
	case INSN_INT3:
		return deliver_soft_interrupt(c, 3, in->len);
	case INSN_FWAIT:
		/* #NM only with MP and TS both set; no x87 exception can be
		 * pending while the guest never unmasked one through us. */
		if ((c->sregs.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) {
			c->why = "CR0.TS and MP are set (the CPU would fault)";
			return false;
		}
		c->regs.rip += in->len;
		return true;
	case INSN_LDMXCSR:
	case INSN_STMXCSR:
		if (!mxcsr_access(c, in))
			return false;
		c->regs.rip += in->len;
		return true;
	default:
		return false;
	}
}

/* The first time each kind is completed, say so: it explains a guest
 * that runs here although the layer beneath cannot run it. */
static void note_once(enum insn_kind k, unsigned vcpu, uint64_t rip)
{
	static atomic_uint seen;
	unsigned bit = 1u << k;

	if (!(atomic_fetch_or(&seen, bit) & bit))
		log_info("vcpu%u: completed '%s' at %llx for the nested KVM "
			 "layer, which cannot emulate it (reported once)", vcpu,
			 insn_kind_name(k), (unsigned long long)rip);
}

/* What is mapped of the 15 bytes at RIP (an instruction that ends before
 * an unmapped page is still whole); returns how many. */
static size_t fetch(struct ctx *c, uint8_t bytes[INSN_MAX_LEN])
{
	size_t to_page_end = 4096 - (c->regs.rip & 0xfff);

	if (linear_access(c, c->regs.rip, bytes, INSN_MAX_LEN, false))
		return INSN_MAX_LEN;
	if (to_page_end < INSN_MAX_LEN &&
	    linear_access(c, c->regs.rip, bytes, to_page_end, false))
		return to_page_end;
	c->why = "its code is not mapped";
	return 0;
}

bool insn_fallback(struct vcpu *vcpu)
{
	struct ctx c = { .vcpu = vcpu, .why = "not an instruction it completes" };
	uint8_t bytes[INSN_MAX_LEN];
	struct insn in;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &c.regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &c.sregs) < 0)
		return false;
	if (!(c.sregs.efer & EFER_LMA) || !c.sregs.cs.l ||
	    (c.sregs.cs.selector & 3)) {
		log_error("vcpu%u: emulation failure outside 64-bit ring 0, "
			  "not completed", vcpu->id);
		return false;
	}
	uint64_t rip = c.regs.rip;
	size_t n = fetch(&c, bytes);

	if (!n || insn_decode(bytes, n, &in) == INSN_UNKNOWN ||
	    !execute(&c, &in) || ioctl(vcpu->fd, KVM_SET_REGS, &c.regs) < 0) {
		log_error("vcpu%u: emulation failure at %llx (bytes %02x %02x "
			  "%02x %02x): %s", vcpu->id, (unsigned long long)rip,
			  n > 0 ? bytes[0] : 0, n > 1 ? bytes[1] : 0,
			  n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0, c.why);
		return false;
	}
	note_once(in.kind, vcpu->id, rip);
	return true;
}
