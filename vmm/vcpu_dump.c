/* Register dumps for crash and internal-error reports. */
#include <stdio.h>
#include <sys/ioctl.h>

#include "vmm/vcpu.h"

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel=%04x base=%016llx limit=%08x type=%x "
		"p=%u dpl=%u db=%u l=%u g=%u\n", name, s->selector,
		(unsigned long long)s->base, s->limit, s->type, s->present,
		s->dpl, s->db, s->l, s->g);
}

void vcpu_dump_registers(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "xenon-vmm: vcpu%u: registers unavailable\n", v->id);
		return;
	}
	fprintf(stderr, "xenon-vmm: vcpu%u registers:\n", v->id);
	fprintf(stderr, "  rip=%016llx rsp=%016llx rflags=%016llx\n",
		r.rip, r.rsp, r.rflags);
	fprintf(stderr, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
		r.rax, r.rbx, r.rcx, r.rdx);
	fprintf(stderr, "  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n",
		r.rsi, r.rdi, r.rbp, r.r8);
	fprintf(stderr, "  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n",
		r.r9, r.r10, r.r11, r.r12);
	fprintf(stderr, "  r13=%016llx r14=%016llx r15=%016llx\n",
		r.r13, r.r14, r.r15);
	fprintf(stderr, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	dump_segment("cs", &s.cs);
	dump_segment("ss", &s.ss);
	dump_segment("ds", &s.ds);
	fprintf(stderr, "  gdt base=%016llx limit=%04x idt base=%016llx limit=%04x\n",
		s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}
