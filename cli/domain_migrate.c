/* Commands that move a domain's state: save, restore, migrate. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/xm.h"

#define BAR_WIDTH 40

/* "[#####.....]  42%  107/256 MiB" on a terminal; nothing otherwise. */
static void show_progress(json_t *p)
{
	double done = json_number_value(json_object_get(p, "done"));
	double total = json_number_value(json_object_get(p, "total"));
	const char *phase = json_string_value(json_object_get(p, "phase"));
	int fill;

	if (!isatty(STDERR_FILENO) || total <= 0)
		return;
	fill = (int)(BAR_WIDTH * (done / total));
	if (fill > BAR_WIDTH)
		fill = BAR_WIDTH;
	fprintf(stderr, "\r%-10s [%.*s%*s] %3d%%  %.0f/%.0f MiB",
		phase ? phase : "", fill, "########################################",
		BAR_WIDTH - fill, "", (int)(100 * done / total), done / 1048576,
		total / 1048576);
	fflush(stderr);
}

static void end_progress(void)
{
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

int cmd_save(int argc, char **argv)
{
	bool keep = false, paused = false;
	json_t *reply;
	char *file;
	int c;

	while ((c = getopt(argc, argv, "+cp")) != -1) {
		if (c == 'c')
			keep = true;
		else if (c == 'p')
			paused = true;
		else
			return xm_usage_error("save", "unknown option '%s'",
					      argv[optind - 1]);
	}
	if (argc - optind != 2)
		return xm_usage_error("save", "expects a domain and a file");
	file = absolute(argv[optind + 1]);
	if (!file)
		return 1;
	xm_set_progress(show_progress);
	reply = xm_request("save", "save",
			   json_pack("{s:s, s:s, s:b, s:b}", "domain",
				     argv[optind], "path", file, "keep_running",
				     keep, "leave_paused", paused));
	end_progress();
	free(file);
	if (!reply)
		return 1;
	json_decref(reply);
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	bool paused = false;
	json_t *reply;
	char *file;
	int c;

	while ((c = getopt(argc, argv, "+p")) != -1) {
		if (c != 'p')
			return xm_usage_error("restore", "unknown option '%s'",
					      argv[optind - 1]);
		paused = true;
	}
	if (argc - optind != 1)
		return xm_usage_error("restore", "expects one save file");
	file = absolute(argv[optind]);
	if (!file)
		return 1;
	reply = xm_request("restore", "restore",
			   json_pack("{s:s, s:b}", "path", file, "paused", paused));
	free(file);
	if (!reply)
		return 1;
	printf("Restored domain %s (id=%lld)\n",
	       json_string_value(json_object_get(reply, "name")),
	       json_integer_value(json_object_get(reply, "domid")));
	json_decref(reply);
	return 0;
}

/* What the VMM measured: "key: value" lines, for the administrator. */
static void print_stats(json_t *reply)
{
	const char *k;
	json_t *v;

	json_object_foreach(reply, k, v) {
		if (!strcmp(k, "ok"))
			continue;
		if (json_is_integer(v))
			printf("%s: %lld\n", k, json_integer_value(v));
		else if (json_is_real(v))
			printf("%s: %.3f\n", k, json_real_value(v));
		else if (json_is_string(v))
			printf("%s: %s\n", k, json_string_value(v));
	}
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "live", no_argument, NULL, 'l' },
		{ "postcopy", no_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'P' },
		{ "downtime", required_argument, NULL, 'D' },
		{ "resource", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	long port = 8002, downtime = 30, mbit = 0;
	bool live = false, postcopy = false;
	json_t *reply, *req;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "+lcP:D:r:", opts, NULL)) != -1) {
		switch (c) {
		case 'l': live = true; break;
		case 'c': live = postcopy = true; break;
		case 'P':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535)
				return xm_usage_error("migrate", "--port %s: not a "
						      "TCP port", optarg);
			break;
		case 'D':
			downtime = strtol(optarg, &end, 10);
			if (*end || downtime < 1 || downtime > 60000)
				return xm_usage_error("migrate", "--downtime %s: "
						      "want 1-60000 ms", optarg);
			break;
		case 'r':
			mbit = strtol(optarg, &end, 10);
			if (*end || end == optarg || mbit < 1 || mbit > 1000000)
				return xm_usage_error("migrate", "--resource %s: "
						      "want a rate in Mbit/s, "
						      "1-1000000", optarg);
			break;
		default:
			return xm_usage_error("migrate", "unknown option '%s'",
					      argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return xm_usage_error("migrate", "expects a domain and a host");
	req = json_pack("{s:s, s:s, s:i, s:b, s:b, s:i, s:i}", "domain",
			argv[optind], "host", argv[optind + 1], "port", (int)port,
			"live", live, "postcopy", postcopy, "downtime_ms",
			(int)downtime, "max_bandwidth_mbit", (int)mbit);
	xm_set_progress(show_progress);
	reply = xm_request("migrate", "migrate", req);
	end_progress();
	if (!reply)
		return 1;
	print_stats(reply);
	json_decref(reply);
	return 0;
}
