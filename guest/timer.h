/*
 * Time: the TSC, its rate taken from kvmclock or measured against the ACPI
 * PM timer or PIT channel 2 (tsc_calibrate.c); sleeping uses the LAPIC
 * TSC-deadline timer and hlt when the CPU has one, so an idle guest costs
 * the host nothing.
 */
#ifndef GUEST_TIMER_H
#define GUEST_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* Calibrate (once; later calls return at once).  Needs acpi_init()
 * and memory_init(). */
void timer_init(void);
/* TSC ticks per second (after timer_init). */
uint64_t tsc_hz(void);
/* TSC value `us` microseconds from now. */
uint64_t tsc_after_us(uint64_t us);
void udelay(uint64_t us);
/* Wait until the TSC reaches deadline, halted where possible. */
void sleep_until(uint64_t deadline);
/* Halt until cond(ctx) holds or the TSC reaches deadline (0: none);
 * returns whether cond held.  cond is checked with interrupts off and
 * interrupts are taken only inside the halt, so a wake-up that makes it
 * true cannot slip in between. */
bool wait_event_until(uint64_t deadline, bool (*cond)(void *ctx), void *ctx);

#endif
