/*
 * MC146818 real-time clock and CMOS memory at ports 0x70 (index, bit 7 =
 * NMI disable) and 0x71 (data).  The clock follows the host's UTC time
 * plus whatever offset the guest sets; CMOS holds the memory-size fields
 * BIOSes read.
 */
#ifndef XENON_CMOS_RTC_H
#define XENON_CMOS_RTC_H

struct vm;
struct cmos_rtc;

struct cmos_rtc *cmos_rtc_create(struct vm *vm);
void cmos_rtc_destroy(struct cmos_rtc *rtc);

#endif
