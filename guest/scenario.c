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
	{ "dirty", scn_dirty },
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
