/* XS_CONTROL: implementation-specific commands from dom0 (as used by
 * xenstore-control). */
#include "daemon/xs_core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/xs_path.h"
#include "lib/log.h"

static int cmd_help(struct xs_req *r, const char **argv, unsigned argc);
static int cmd_print(struct xs_req *r, const char **argv, unsigned argc);
static int cmd_log(struct xs_req *r, const char **argv, unsigned argc);
static int cmd_quota(struct xs_req *r, const char **argv, unsigned argc);
static int cmd_check(struct xs_req *r, const char **argv, unsigned argc);
static int cmd_compact(struct xs_req *r, const char **argv, unsigned argc);

static const struct {
	const char *name;
	int (*fn)(struct xs_req *r, const char **argv, unsigned argc);
	const char *help;
} cmds[] = {
	{ "help", cmd_help, "" },
	{ "print", cmd_print, "<string>" },
	{ "log", cmd_log, "on|off" },
	{ "quota", cmd_quota, "[<domid>]" },
	{ "check", cmd_check, "" },
	{ "compact", cmd_compact, "" },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static int reply_text(struct xs_req *r, const char *text)
{
	return xs_reply(r, text, strlen(text) + 1);
}

static int cmd_help(struct xs_req *r, const char **argv, unsigned argc)
{
	char out[512];
	size_t used = 0;

	(void)argv;
	(void)argc;
	for (size_t i = 0; i < NCMDS; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 "%s %s\n", cmds[i].name,
					 cmds[i].help);
	return reply_text(r, out);
}

static int cmd_print(struct xs_req *r, const char **argv, unsigned argc)
{
	if (argc < 1)
		return EINVAL;
	log_info("xenstore: control print: %s", argv[0]);
	return xs_ack(r);
}

static int cmd_log(struct xs_req *r, const char **argv, unsigned argc)
{
	if (argc < 1)
		return EINVAL;
	if (strcmp(argv[0], "on") == 0)
		log_init("xenond", LOG_DEBUG);
	else if (strcmp(argv[0], "off") == 0)
		log_init("xenond", LOG_INFO);
	else
		return EINVAL;
	return xs_ack(r);
}

static int cmd_quota(struct xs_req *r, const char **argv, unsigned argc)
{
	struct xs_server *srv = r->conn->srv;
	char out[1024];
	unsigned domid;

	if (argc >= 1) {
		if (xs_parse_domid(argv[0], &domid))
			return EINVAL;
		snprintf(out, sizeof(out), "Domain %u:\nnodes %u (max %u)\n",
			 domid, xs_store_owned(srv->db.store, domid),
			 srv->quota.nodes);
		return reply_text(r, out);
	}
	xs_quota_format(&srv->quota, out, sizeof(out));
	return reply_text(r, out);
}

struct check_ctx {
	const struct xs_store *store;
	size_t nodes;
	const char *problem;
};

/* Every child must be found under its own path and name its parent. */
static int check_node(const struct xs_node *n, void *opaque)
{
	struct check_ctx *cc = opaque;

	cc->nodes++;
	if (xs_store_get(cc->store, n->path) != n)
		cc->problem = "node not reachable by its path";
	for (uint32_t i = 0; !cc->problem && i < n->nkids; i++) {
		const struct xs_node *k = n->kids[i];
		if (!xs_path_is_child(k->path, n->path) ||
		    xs_path_parent_len(k->path) != strlen(n->path))
			cc->problem = "child does not belong to its parent";
	}
	return cc->problem != NULL;
}

static int cmd_check(struct xs_req *r, const char **argv, unsigned argc)
{
	struct check_ctx cc = { r->conn->srv->db.store, 0, NULL };
	char out[256];

	(void)argv;
	(void)argc;
	xs_store_walk(cc.store, check_node, &cc);
	if (!cc.problem && cc.nodes != xs_store_count(cc.store))
		cc.problem = "nodes in the table but not in the tree";
	if (cc.problem) {
		log_error("xenstore: check: %s", cc.problem);
		return EIO;
	}
	snprintf(out, sizeof(out), "OK: %zu nodes", cc.nodes);
	return reply_text(r, out);
}

static int cmd_compact(struct xs_req *r, const char **argv, unsigned argc)
{
	(void)argv;
	(void)argc;
	return xs_server_compact(r->conn->srv) ? EIO : xs_ack(r);
}

int xs_op_control(struct xs_req *r)
{
	const char *argv[8];
	unsigned n = xs_strings(r, argv, 8);

	if (n == 0)
		return EINVAL;
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(r, argv + 1,
					  n - 1 < 7 ? n - 1 : 7);
	return EINVAL;
}
