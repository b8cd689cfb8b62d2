/* Local APIC in xAPIC (MMIO) mode. */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

enum {
	LAPIC_ID = 0x020, LAPIC_TPR = 0x080, LAPIC_EOI = 0x0b0,
	LAPIC_SVR = 0x0f0, LAPIC_IRR = 0x200, LAPIC_ICR_LO = 0x300,
	LAPIC_ICR_HI = 0x310, LAPIC_LVT_TIMER = 0x320, LAPIC_LVT_LINT0 = 0x350,
};

#define ICR_INIT         0x00000500
#define ICR_STARTUP      0x00000600
#define ICR_LEVEL_ASSERT 0x00004000
#define ICR_BUSY         0x00001000
#define LVT_MASKED       0x00010000
#define LVT_TSC_DEADLINE 0x00040000

/* Enable this CPU's LAPIC for interrupts (and keep the 8259s quiet). */
void lapic_init(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Take the interrupts that became pending while interrupts were off. */
void lapic_deliver_pending(void);
/* Send an IPI to one APIC ID; false if it was not accepted in time. */
bool lapic_send_ipi(uint32_t apic_id, uint32_t icr);

#endif
