/*
 * Boot vCPU state for the two entry ABIs:
 *   PVH:      32-bit protected mode, paging off, flat segments,
 *             EBX = hvm_start_info (Xen's PVH boot ABI);
 *   Linux64:  long mode with an identity map of the first 4 GiB,
 *             RSI = boot_params (Linux 64-bit boot protocol).
 * In both, selector 0x10 is code and 0x18 data, and the same descriptors
 * are written to a GDT in guest memory so the guest may reload them.
 */
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "vmm/boot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define SEL_CODE 0x10
#define SEL_DATA 0x18
#define SEL_TSS  0x20
#define GDT_ENTRIES 5

#define CR0_PE  (1ULL << 0)
#define CR0_ET  (1ULL << 4)
#define CR0_PG  (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define PTE_P   1ULL
#define PTE_RW  2ULL
#define PTE_PS  (1ULL << 7)

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1,
		.l = code64, .g = 1,
	};
}

static uint64_t gdt_entry(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;

	return (limit & 0xffffULL) | ((s->base & 0xffffffULL) << 16) |
	       ((uint64_t)s->type << 40) | ((uint64_t)s->s << 44) |
	       ((uint64_t)s->dpl << 45) | ((uint64_t)s->present << 47) |
	       (((limit >> 16) & 0xfULL) << 48) | ((uint64_t)s->l << 53) |
	       ((uint64_t)s->db << 54) | ((uint64_t)s->g << 55) |
	       (((s->base >> 24) & 0xffULL) << 56);
}

/* Identity map of 0-4 GiB with 2 MiB pages, for the 64-bit entry. */
static int write_page_tables(struct vm *vm)
{
	uint64_t *pml4 = gpa_to_hva(&vm->mem, PLAT_PML4_ADDR, 4096);
	uint64_t *pdpt = gpa_to_hva(&vm->mem, PLAT_PDPT_ADDR, 4096);
	uint64_t *pd = gpa_to_hva(&vm->mem, PLAT_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -1;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PLAT_PDPT_ADDR | PTE_P | PTE_RW;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (PLAT_PD_ADDR + i * 4096ULL) | PTE_P | PTE_RW;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

static void setup_segments(struct vm *vm, struct kvm_sregs *s, bool long_mode)
{
	struct kvm_segment code = flat_segment(SEL_CODE, 0xb, long_mode);
	struct kvm_segment data = flat_segment(SEL_DATA, 0x3, false);
	struct kvm_segment tss = {
		.base = 0, .limit = 0x67, .selector = SEL_TSS, .type = 0xb,
		.present = 1, .s = 0,
	};
	uint64_t gdt[GDT_ENTRIES] = { 0, 0, gdt_entry(&code), gdt_entry(&data),
				      gdt_entry(&tss) };

	guest_memory_write(&vm->mem, PLAT_GDT_ADDR, gdt, sizeof(gdt));
	s->gdt.base = PLAT_GDT_ADDR;
	s->gdt.limit = sizeof(gdt) - 1;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
}

int boot_cpu_setup(struct vm *vm, const struct boot_entry *e, uint64_t arg)
{
	struct vcpu *bsp = &vm->vcpus[0];
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 2, .rip = e->entry };
	bool long_mode = e->mode == BOOT_LINUX64;

	if (ioctl(bsp->fd, KVM_GET_SREGS, &s) < 0) {
		log_errno("KVM_GET_SREGS");
		return -1;
	}
	setup_segments(vm, &s, long_mode);
	s.cr0 = CR0_PE | CR0_ET;
	s.cr4 = 0;
	s.efer = 0;
	if (long_mode) {
		if (write_page_tables(vm) < 0)
			return -1;
		s.cr0 |= CR0_PG;
		s.cr3 = PLAT_PML4_ADDR;
		s.cr4 = CR4_PAE;
		s.efer = EFER_LME | EFER_LMA;
		r.rsi = arg;
	} else {
		r.rbx = arg;
	}
	if (ioctl(bsp->fd, KVM_SET_SREGS, &s) < 0 ||
	    ioctl(bsp->fd, KVM_SET_REGS, &r) < 0) {
		log_errno("setting boot vCPU registers");
		return -1;
	}
	return 0;
}
