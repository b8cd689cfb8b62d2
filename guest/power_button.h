/*
 * The ACPI fixed-feature power button: PWRBTN_EN in PM1_EN, the SCI
 * routed through the IOAPIC (level, active high, as the MADT override
 * says on Xenon and QEMU) to a vector whose handler clears PWRBTN_STS
 * and remembers the press.  A press then wakes a halted guest.
 */
#ifndef GUEST_POWER_BUTTON_H
#define GUEST_POWER_BUTTON_H

#include <stdbool.h>

/* False without ACPI PM1 event registers or an IOAPIC. */
bool power_button_init(void);
/* Has the button been pressed since the domain started (also before
 * init)?  Looks at PM1_STS too. */
bool power_button_pressed(void);

#endif
