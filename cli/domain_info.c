/* Read-only commands: list, domid, domname, uptime, info, dmesg. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/client.h"
#include "cli/xm.h"

/* Domains from the daemon, filtered by the names/ids in argv (if any). */
static json_t *fetch_domains(const char *cmd, int argc, char **argv)
{
	json_t *fields = json_object(), *names = json_array(), *reply, *doms;

	for (int i = 0; i < argc; i++)
		json_array_append_new(names, json_string(argv[i]));
	json_object_set_new(fields, "domains", names);
	reply = xm_request(cmd, "list", fields);
	if (!reply)
		return NULL;
	doms = json_incref(json_object_get(reply, "domains"));
	json_decref(reply);
	return doms;
}

static void print_list_row(json_t *d)
{
	const char *state = json_string_value(json_object_get(d, "state"));

	/* Xen's own row format (tools/xl/xl_info.c). */
	printf("%-40s %5d %5lld %5d     %-6s  %8.1f\n",
	       json_string_value(json_object_get(d, "name")),
	       (int)json_integer_value(json_object_get(d, "domid")),
	       json_integer_value(json_object_get(d, "memory_mib")),
	       (int)json_integer_value(json_object_get(d, "vcpus")),
	       state ? state : "------",
	       json_number_value(json_object_get(d, "cpu_time")));
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "long", no_argument, NULL, 'l' }, { NULL, 0, NULL, 0 } };
	bool longfmt = false;
	json_t *doms, *d;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+l", opts, NULL)) != -1) {
		if (c != 'l')
			return xm_usage_error("list", "unknown option '%s'",
					      argv[optind - 1]);
		longfmt = true;
	}
	doms = fetch_domains("list", argc - optind, argv + optind);
	if (!doms)
		return 1;
	if (longfmt) {
		json_dumpf(doms, stdout, JSON_INDENT(4));
		putchar('\n');
	} else {
		printf("Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
		json_array_foreach(doms, i, d)
			print_list_row(d);
	}
	json_decref(doms);
	return 0;
}

/* The single domain named by arg, or NULL after an error message. */
static json_t *one_domain(const char *cmd, const char *arg)
{
	char *argv[] = { (char *)arg };
	json_t *doms = fetch_domains(cmd, 1, argv), *d;

	if (!doms)
		return NULL;
	d = json_incref(json_array_get(doms, 0));
	json_decref(doms);
	if (!d)
		fprintf(stderr, "%s %s: domain '%s' does not exist\n", xm_progname,
			cmd, arg);
	return d;
}

int cmd_domid(int argc, char **argv)
{
	json_t *d;

	if (argc != 2)
		return xm_usage_error("domid", "expects one domain name");
	d = one_domain("domid", argv[1]);
	if (!d)
		return 1;
	printf("%lld\n", json_integer_value(json_object_get(d, "domid")));
	json_decref(d);
	return 0;
}

int cmd_domname(int argc, char **argv)
{
	json_t *d;

	if (argc != 2)
		return xm_usage_error("domname", "expects one domain id");
	d = one_domain("domname", argv[1]);
	if (!d)
		return 1;
	printf("%s\n", json_string_value(json_object_get(d, "name")));
	json_decref(d);
	return 0;
}

static void print_uptime(json_t *d, double now)
{
	double start = json_number_value(json_object_get(d, "start_time"));
	long up = start > 0 ? (long)(now - start) : 0;
	long days = up / 86400, h = up / 3600 % 24, m = up / 60 % 60, s = up % 60;

	printf("%-33s %5lld ", json_string_value(json_object_get(d, "name")),
	       json_integer_value(json_object_get(d, "domid")));
	if (days)
		printf("%ld day%s, ", days, days == 1 ? "" : "s");
	printf("%2ld:%02ld:%02ld\n", h, m, s);
}

int cmd_uptime(int argc, char **argv)
{
	bool header = true;
	json_t *doms, *d;
	struct timespec ts;
	size_t i;
	int c;

	while ((c = getopt(argc, argv, "+s")) != -1) {
		if (c != 's')
			return xm_usage_error("uptime", "unknown option '%s'",
					      argv[optind - 1]);
		header = false;
	}
	doms = fetch_domains("uptime", argc - optind, argv + optind);
	if (!doms)
		return 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (header)
		printf("%-33s %5s %s\n", "Name", "ID", "Uptime");
	json_array_foreach(doms, i, d)
		print_uptime(d, (double)ts.tv_sec + ts.tv_nsec / 1e9);
	json_decref(doms);
	return 0;
}

int cmd_info(int argc, char **argv)
{
	json_t *reply, *v;
	const char *k;

	(void)argv;
	if (argc != 1)
		return xm_usage_error("info", "takes no arguments");
	reply = xm_request("info", "info", NULL);
	if (!reply)
		return 1;
	json_object_foreach(reply, k, v) {
		if (!strcmp(k, "ok"))
			continue;
		if (json_is_string(v))
			printf("%-22s: %s\n", k, json_string_value(v));
		else if (json_is_integer(v))
			printf("%-22s: %lld\n", k, json_integer_value(v));
		else if (json_is_real(v))
			printf("%-22s: %.2f\n", k, json_real_value(v));
	}
	json_decref(reply);
	return 0;
}

int cmd_dmesg(int argc, char **argv)
{
	json_t *fields = json_object(), *reply;
	int c;

	while ((c = getopt(argc, argv, "+c")) != -1) {
		if (c != 'c') {
			json_decref(fields);
			return xm_usage_error("dmesg", "unknown option '%s'",
					      argv[optind - 1]);
		}
		json_object_set_new(fields, "clear", json_true());
	}
	reply = xm_request("dmesg", "dmesg", fields);
	if (!reply)
		return 1;
	{
		const char *log = json_string_value(json_object_get(reply, "log"));

		fputs(log ? log : "", stdout);
	}
	json_decref(reply);
	return 0;
}
