/* Power-off and reset, through ACPI when the FADT says how. */
#ifndef GUEST_POWER_H
#define GUEST_POWER_H

/* S5 via PM1a/b_CNT, then QEMU's isa-debug-exit (port 0xf4), then halt. */
__attribute__((noreturn)) void poweroff(void);
/* FADT reset register, then port 0xcf9, then the i8042 reset line. */
__attribute__((noreturn)) void reboot(void);

#endif
