/* xm / xl entry point: pick the command from the table and run it. */
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/xm.h"
#include "lib/log.h"

const char *xm_progname = "xm";

void xm_command_usage(const struct xm_command *c, FILE *out)
{
	fprintf(out, "Usage: %s %s %s\n\n%s.\n", xm_progname, c->name, c->usage,
		c->summary);
	if (c->help && *c->help)
		fprintf(out, "\nOptions:\n\n%s\n", c->help);
}

int xm_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", xm_progname, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s help %s' for more information.\n", xm_progname,
		cmd);
	return 2;
}

bool xm_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

static void list_commands(FILE *out)
{
	fprintf(out, "Usage: %s <subcommand> [args]\n\n"
		"Xenon's domain management tool (Xen's %s).\n\n",
		xm_progname, xm_progname);
	for (const struct xm_command *c = xm_commands; c->name; c++)
		fprintf(out, " %-16s %s\n", c->name, c->summary);
	fprintf(out, "\nRun '%s help <subcommand>' for a command's options.\n",
		xm_progname);
}

int cmd_help(int argc, char **argv)
{
	const struct xm_command *c;

	if (argc < 2) {
		list_commands(stdout);
		return 0;
	}
	c = xm_find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "%s: command '%s' not implemented\n", xm_progname,
			argv[1]);
		return 2;
	}
	xm_command_usage(c, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct xm_command *c;
	char *base = basename(argv[0]);

	if (!strcmp(base, "xl"))
		xm_progname = "xl";
	log_init(xm_progname, LOG_INFO);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		list_commands(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	c = xm_find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "%s: command '%s' not implemented\n"
			"Run '%s help' for the list of commands.\n", xm_progname,
			argv[1], xm_progname);
		return 2;
	}
	if (xm_wants_help(argc - 1, argv + 1)) {
		xm_command_usage(c, stdout);
		return 0;
	}
	return c->fn(argc - 1, argv + 1);
}
