/* The xm/xl command table. */
#include "cli/xm.h"

#include <string.h>

const struct xm_command xm_commands[] = {
	{ "create", cmd_create, "Create a domain from a config file",
	  "[options] <ConfigFile> [vars]",
	  "-h, --help     Print this help.\n"
	  "-c             Connect to the console after the domain is created.\n"
	  "-p             Leave the domain paused after it is created.\n"
	  "-n, --dryrun   Dry run: print the parsed configuration as JSON.\n"
	  "-q, --quiet    Quiet.\n"
	  "vars are KEY=VALUE settings that override the config file." },
	{ "list", cmd_list, "List information about all or some domains",
	  "[options] [Domain...]",
	  "-l, --long     Output all domain details as JSON." },
	{ "shutdown", cmd_shutdown, "Issue a graceful shutdown to a domain",
	  "[options] <-a|Domain>",
	  "-a, --all      Shut down all guest domains.\n"
	  "-w, --wait     Wait for the domain(s) to finish shutting down.\n"
	  "-F             Fall back to the ACPI power button when the guest\n"
	  "               has no xenstore driver (the default here)." },
	{ "reboot", cmd_reboot, "Issue a graceful reboot to a domain",
	  "[options] <-a|Domain>",
	  "-a, --all      Reboot all guest domains.\n"
	  "-w, --wait     Wait for the domain(s) to reboot." },
	{ "destroy", cmd_destroy, "Terminate a domain immediately", "<Domain>", "" },
	{ "pause", cmd_pause, "Pause execution of a domain", "<Domain>", "" },
	{ "unpause", cmd_unpause, "Unpause a paused domain", "<Domain>", "" },
	{ "save", cmd_save, "Save a domain's state to a file",
	  "[-c|-p] <Domain> <File>",
	  "-c             Leave the domain running after saving (a checkpoint).\n"
	  "-p             Leave the domain paused after saving (xl's -p).\n"
	  "The file holds the configuration, device and vCPU state and memory;\n"
	  "disk images are not copied (their names are recorded)." },
	{ "restore", cmd_restore, "Restore a domain from a saved file",
	  "[-p] <File>", "-p             Leave the restored domain paused." },
	{ "migrate", cmd_migrate, "Move a domain to another host",
	  "[options] <Domain> <Host>",
	  "-l, --live          Live migration: copy memory while the domain runs.\n"
	  "-c, --postcopy      Live, and if the guest dirties memory faster than\n"
	  "                    it can be copied, run it at the destination and\n"
	  "                    send its last pages as it needs them (post-copy).\n"
	  "-P, --port PORT     The destination xenond's relocation port (8002).\n"
	  "-D, --downtime MS   Live: pause budget for the final copy (30 ms).\n"
	  "-r, --resource MBIT Cap the migration's bandwidth, in Mbit/s (no\n"
	  "                    cap by default).\n"
	  "Both hosts need the same --relocation-key file; the domain's disks\n"
	  "must be reachable under the same paths on the destination." },
	{ "console", cmd_console, "Attach to a domain's console",
	  "<Domain>", "Detach with Ctrl-]." },
	{ "domid", cmd_domid, "Convert a domain name to a domain id",
	  "<DomainName>", "" },
	{ "domname", cmd_domname, "Convert a domain id to a domain name",
	  "<DomainId>", "" },
	{ "rename", cmd_rename, "Rename a domain", "<Domain> <NewDomainName>", "" },
	{ "uptime", cmd_uptime, "Print uptime for all or some domains",
	  "[-s] [Domain...]", "-s             Omit the header." },
	{ "top", cmd_top, "Monitor domains' CPU and memory use (xentop)",
	  "[-b] [-d SECONDS] [-i ITERATIONS]",
	  "-b, --batch       Plain text to stdout (the default when not on a\n"
	  "                  terminal).\n"
	  "-d, --delay SECS  Seconds between updates (default 3).\n"
	  "-i, --iterations N  Stop after N updates." },
	{ "info", cmd_info, "Get information about the Xenon host", "", "" },
	{ "dmesg", cmd_dmesg, "Read and/or clear the daemon's message buffer",
	  "[-c]", "-c             Clear the buffer after reading it." },
	{ "help", cmd_help, "Print help for a command or list commands",
	  "[command]", "" },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct xm_command *xm_find_command(const char *name)
{
	for (const struct xm_command *c = xm_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
