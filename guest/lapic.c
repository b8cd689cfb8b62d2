/* Local APIC: enable, EOI, IPIs. */
#include "guest/lapic.h"

#include "guest/idt.h"
#include "guest/x86.h"
#include "lib/platform.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(PLAT_LAPIC_ADDR + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(PLAT_LAPIC_ADDR + reg, v);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/*
 * Firmware (SeaBIOS) leaves the 8259s programmed with the timer at vector
 * 8, which would look like a double fault the moment interrupts go on.
 * Mask both PICs and LINT0 (their virtual-wire path into the LAPIC); all
 * our interrupts are MSIs or the LAPIC's own timer.
 */
void lapic_init(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);  /* APIC enable */
}

bool lapic_send_ipi(uint32_t apic_id, uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	for (unsigned i = 0; i < 100000; i++) {
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_BUSY))
			return true;
		cpu_relax();
	}
	return false;
}

/* Any device vector (32-255) waiting in the IRR? */
static bool irr_pending(void)
{
	for (uint32_t i = 1; i < 8; i++)
		if (lapic_read(LAPIC_IRR + 0x10 * i))
			return true;
	return false;
}

/*
 * On the nested KVM here an interrupt that arrives while IF=0 is not
 * injected when IF goes back to 1 (no interrupt-window exit): only a halt
 * makes the hypervisor look again.  hlt returns at once when something is
 * pending, so halt exactly while the IRR says so.
 */
void lapic_deliver_pending(void)
{
	for (unsigned i = 0; i < 16 && irr_pending(); i++) {
		irq_enable_and_halt();
		irq_disable();
	}
}
