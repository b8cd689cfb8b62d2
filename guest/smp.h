/* Application processor start-up (INIT-SIPI-SIPI through the LAPIC). */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

/* Start every enabled CPU in the MADT other than this one and wait
 * (bounded) for each; returns the number online, this CPU included. */
unsigned smp_start_aps(void);
/* Where an AP lands in long mode (called from trampoline.S). */
void ap_main(void);

#endif
