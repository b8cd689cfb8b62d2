/* Commands that change a domain's state: shutdown, reboot, destroy,
 * pause, unpause, rename. */
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/xm.h"

#define WAIT_POLL_NS 50000000L /* 50 ms between state checks */

/* Ask the daemon for op on one domain; 0 or 1 as xl's exit codes. */
static int simple_op(const char *cmd, const char *op, const char *dom,
		     json_t *extra)
{
	json_t *fields = extra ? extra : json_object(), *reply;

	json_object_set_new(fields, "domain", json_string(dom));
	reply = xm_request(cmd, op, fields);
	if (!reply)
		return 1;
	json_decref(reply);
	return 0;
}

static int one_arg(const char *cmd, int argc)
{
	if (argc != 2) {
		xm_usage_error(cmd, "expects exactly one domain");
		return -1;
	}
	return 0;
}

int cmd_destroy(int argc, char **argv)
{
	return one_arg("destroy", argc) ? 2 :
		simple_op("destroy", "destroy", argv[1], NULL);
}

int cmd_pause(int argc, char **argv)
{
	return one_arg("pause", argc) ? 2 :
		simple_op("pause", "pause", argv[1], NULL);
}

int cmd_unpause(int argc, char **argv)
{
	return one_arg("unpause", argc) ? 2 :
		simple_op("unpause", "unpause", argv[1], NULL);
}

int cmd_rename(int argc, char **argv)
{
	json_t *extra;

	if (argc != 3)
		return xm_usage_error("rename", "expects a domain and a new name");
	extra = json_pack("{s:s}", "new_name", argv[2]);
	return simple_op("rename", "rename", argv[1], extra);
}

/* The domids of the given domains that have not shut down (for -w). */
static json_t *current_ids(const char *cmd, json_t *targets)
{
	json_t *reply = xm_request(cmd, "list",
				   json_pack("{s:O}", "domains", targets));
	json_t *ids = json_array(), *d;
	size_t i;

	if (!reply)
		return ids;
	json_array_foreach(json_object_get(reply, "domains"), i, d) {
		const char *st = json_string_value(json_object_get(d, "state"));

		/* A preserved domain (on_poweroff=preserve) has shut down. */
		if (!st || !strchr(st, 's'))
			json_array_append(ids, json_object_get(d, "domid"));
	}
	json_decref(reply);
	return ids;
}

static bool contains_any(json_t *now, json_t *before)
{
	json_t *a, *b;
	size_t i, j;

	json_array_foreach(now, i, a)
		json_array_foreach(before, j, b)
			if (json_equal(a, b))
				return true;
	return false;
}

/* Wait until none of the domids in `ids` exists any more: a domain that
 * shut down is gone; one that rebooted came back with a new id. */
static void wait_gone(const char *cmd, json_t *ids)
{
	struct timespec ts = { 0, WAIT_POLL_NS };

	for (;;) {
		json_t *now = current_ids(cmd, ids);
		bool left = contains_any(now, ids);

		json_decref(now);
		if (!left)
			return;
		nanosleep(&ts, NULL);
	}
}

static int shutdown_or_reboot(const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' }, { "wait", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 } };
	bool all = false, wait = false;
	json_t *fields, *reply, *ids;
	int c;

	while ((c = getopt_long(argc, argv, "+awF", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'w')
			wait = true;
		else if (c != 'F')
			return xm_usage_error(cmd, "unknown option '%s'",
					      argv[optind - 1]);
	}
	if (all == (optind < argc) || argc - optind > 1)
		return xm_usage_error(cmd, "expects one domain or -a");
	fields = json_pack("{s:b, s:b}", "reboot", !strcmp(cmd, "reboot"),
			   "all", all);
	if (!all)
		json_object_set_new(fields, "domain", json_string(argv[optind]));
	reply = xm_request(cmd, "shutdown", fields);
	if (!reply)
		return 1;
	ids = json_incref(json_object_get(reply, "domids"));
	json_decref(reply);
	if (wait && ids)
		wait_gone(cmd, ids);
	json_decref(ids);
	return 0;
}

int cmd_shutdown(int argc, char **argv)
{
	return shutdown_or_reboot("shutdown", argc, argv);
}

int cmd_reboot(int argc, char **argv)
{
	return shutdown_or_reboot("reboot", argc, argv);
}
