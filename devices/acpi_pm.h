/*
 * ACPI fixed hardware (what the FADT points at): the PM1a event and control
 * blocks, the PM timer and an empty GPE0 block, with the SCI on GSI 9.
 */
#ifndef XENON_ACPI_PM_H
#define XENON_ACPI_PM_H

#include <stdint.h>

struct vm;
struct acpi_pm;

/* Claims PLAT_PORT_PM1A_EVT.., PLAT_PORT_PM_TMR and PLAT_PORT_GPE0. */
struct acpi_pm *acpi_pm_create(struct vm *vm);
void acpi_pm_destroy(struct acpi_pm *pm);

/* Set PWRBTN_STS and raise the SCI if the guest enabled it.  Any thread. */
void acpi_pm_power_button(struct acpi_pm *pm);

/* The 24-bit PM timer value ns nanoseconds after it started. */
uint32_t acpi_pm_timer_ticks(uint64_t ns);

#endif
