/*
 * Test scenarios: `test=NAME` on the command line picks one from a table
 * of {name, function}.  A scenario prints its findings and exactly one
 * result line through result(); the guest powers off when it returns
 * (scenarios that reboot, crash or run forever simply never return).
 */
#ifndef GUEST_SCENARIO_H
#define GUEST_SCENARIO_H

#include <stdbool.h>

#include "guest/console.h"

struct scenario {
	const char *name;
	void (*run)(void);
};

/* Run the named scenario; prints a failed result for unknown names. */
void scenario_run(const char *name);
/* Print "XENON-RESULT test=<current> status=pass|fail <fields>" on every
 * console.  fields is a printf format for space-separated key=value
 * pairs (no spaces inside values); may be "". */
void result(bool pass, const char *fields, ...) PRINTF_LIKE(2, 3);

/* The scenarios (scenarios_*.c). */
void scn_boot(void);
void scn_cmdline(void);
void scn_initrd(void);
void scn_smp(void);
void scn_console(void);
void scn_serial_echo(void);
void scn_reboot(void);
void scn_crash(void);
void scn_fault(void);
void scn_heartbeat(void);
void scn_xenstore(void);
void scn_domu(void);
void scn_xenstore_flood(void);
void scn_xenstore_bad(void);
void scn_net_echo(void);
void scn_net_stream(void);
void scn_net_bad(void);
void scn_blk_list(void);
void scn_blk_pattern(void);
void scn_blk_verify(void);
void scn_blk_ro(void);
void scn_blk_zero(void);
void scn_blk_bad(void);
void scn_blk_perf(void);
void scn_dirty(void);
void scn_insn(void);
void scn_insn_unsupported(void);
void scn_cpuid(void);

#endif
