/* The scenario table, dispatch and the result line. */
#include "guest/scenario.h"

#include "guest/string.h"

static const struct scenario scenarios[] = {
	{ "boot", scn_boot },
	{ "cmdline", scn_cmdline },
	{ "initrd", scn_initrd },
	{ "smp", scn_smp },
	{ "console", scn_console },
	{ "serial-echo", scn_serial_echo },
	{ "reboot", scn_reboot },
	{ "crash", scn_crash },
	{ "fault", scn_fault },
	{ "heartbeat", scn_heartbeat },
	{ "xenstore", scn_xenstore },
	{ "domu", scn_domu },
	{ "xenstore-flood", scn_xenstore_flood },
	{ "xenstore-bad", scn_xenstore_bad },
	{ "net-echo", scn_net_echo },
	{ "net-stream", scn_net_stream },
	{ "net-bad", scn_net_bad },
	{ "blk-list", scn_blk_list },
	{ "blk-pattern", scn_blk_pattern },
	{ "blk-verify", scn_blk_verify },
	{ "blk-ro", scn_blk_ro },
	{ "blk-zero", scn_blk_zero },
	{ "blk-bad", scn_blk_bad },
	{ "blk-perf", scn_blk_perf },
	{ "dirty", scn_dirty },
	{ "insn", scn_insn },
	{ "insn-unsupported", scn_insn_unsupported },
	{ "cpuid", scn_cpuid },
};

/* Named before the command line is read, so an early exception still
 * produces a well-formed result line. */
static const char *current = "boot";

void result(bool pass, const char *fields, ...)
{
	char extra[CONSOLE_LINE_MAX - 64];
	va_list ap;

	va_start(ap, fields);
	vsnprintf(extra, sizeof(extra), fields, ap);
	va_end(ap);
	print_all("XENON-RESULT test=%s status=%s%s%s\n", current,
		  pass ? "pass" : "fail", extra[0] ? " " : "", extra);
}

void scenario_run(const char *name)
{
	current = name;
	for (unsigned i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (!strcmp(scenarios[i].name, name)) {
			scenarios[i].run();
			return;
		}
	}
	result(false, "reason=unknown-test");
}
