/* xm / xl: the command-line toolstack.  One file per command family; the
 * table in cli/cmdtable.c maps names to handlers (as Xen's xl_cmdtable.c). */
#ifndef XENON_XM_H
#define XENON_XM_H

#include <stdbool.h>
#include <stdio.h>

struct json_t;

struct xm_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;   /* after "xm NAME " */
	const char *help;    /* option descriptions, one per line */
};

extern const struct xm_command xm_commands[];
extern const char *xm_progname; /* "xm" or "xl", from argv[0] */

const struct xm_command *xm_find_command(const char *name);
/* Print "usage: xm NAME USAGE" and the help text to out. */
void xm_command_usage(const struct xm_command *c, FILE *out);
/* Standard handling of -h/--help and bad usage inside a command. */
int xm_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool xm_wants_help(int argc, char **argv);

/* Command families. */
int cmd_list(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_domid(int argc, char **argv);
int cmd_domname(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_dmesg(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* Attach the terminal to dom's console until Ctrl-] (cli/console.c). */
int xm_console_attach(const char *cmd, const char *dom);

#endif
