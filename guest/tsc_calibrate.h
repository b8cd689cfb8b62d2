/* TSC frequency sources (tsc_calibrate.c); each returns Hz or 0. */
#ifndef GUEST_TSC_CALIBRATE_H
#define GUEST_TSC_CALIBRATE_H

#include <stdint.h>

uint64_t tsc_hz_from_kvmclock(void);
uint64_t tsc_hz_from_pm_timer(void);
uint64_t tsc_hz_from_pit(void);

#endif
