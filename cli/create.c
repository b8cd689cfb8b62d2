/* xm create [-c] [-p] [-n] [-q] <ConfigFile> [KEY=VALUE...] */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/xm.h"
#include "lib/domain_config.h"

struct create_opts {
	bool console, paused, dryrun, quiet;
	const char *file;
	char **vars;
	int n_vars;
};

static int parse_args(int argc, char **argv, struct create_opts *o)
{
	static const struct option longopts[] = {
		{ "dryrun", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+cpnqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->console = true; break;
		case 'p': o->paused = true; break;
		case 'n': o->dryrun = true; break;
		case 'q': o->quiet = true; break;
		default:
			return xm_usage_error("create", "unknown option '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return xm_usage_error("create", "no config file given");
	o->file = argv[optind];
	o->vars = argv + optind + 1;
	o->n_vars = argc - optind - 1;
	for (int i = 0; i < o->n_vars; i++)
		if (!strchr(o->vars[i], '='))
			return xm_usage_error("create", "'%s' is not KEY=VALUE",
					      o->vars[i]);
	return 0;
}

/* Parse locally: messages go to stderr with file:line:col. */
static int dry_run(const struct create_opts *o)
{
	struct domain_config dc;
	struct xl_msgs msgs;
	char *json;
	int rc;

	domain_config_init(&dc);
	xl_msgs_init(&msgs);
	rc = domain_config_load_file(&dc, o->file,
				     (const char *const *)o->vars,
				     (size_t)o->n_vars, &msgs);
	xl_msgs_print(&msgs, stderr);
	xl_msgs_free(&msgs);
	if (rc < 0) {
		domain_config_free(&dc);
		return 1;
	}
	json = domain_config_to_json_text(&dc);
	if (json)
		printf("%s\n", json);
	free(json);
	domain_config_free(&dc);
	return json ? 0 : 1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *p = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!p) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static json_t *create_request(const struct create_opts *o, const char *text)
{
	char cwd[PATH_MAX], abs[PATH_MAX];
	json_t *vars = json_array();

	for (int i = 0; i < o->n_vars; i++)
		json_array_append_new(vars, json_string(o->vars[i]));
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	if (!realpath(o->file, abs))
		snprintf(abs, sizeof(abs), "%s", o->file);
	return json_pack("{s:s, s:s, s:s, s:o, s:b}", "config_text", text,
			 "config_source", abs, "cwd", cwd, "overrides", vars,
			 "paused", o->paused);
}

/* Warnings travel in both the reply and a failed reply. */
static void print_warnings(json_t *reply)
{
	json_t *w;
	size_t i;

	json_array_foreach(json_object_get(reply, "warnings"), i, w)
		fprintf(stderr, "%s\n", json_string_value(w));
}

int cmd_create(int argc, char **argv)
{
	struct create_opts o = { 0 };
	json_t *reply;
	char *text, name[128];
	int rc;

	if ((rc = parse_args(argc, argv, &o)))
		return rc;
	if (o.dryrun)
		return dry_run(&o);
	text = read_file(o.file);
	if (!text) {
		fprintf(stderr, "%s create: cannot read config file '%s': %s\n",
			xm_progname, o.file, strerror(errno));
		return 1;
	}
	reply = xm_request_warn("create", "create", create_request(&o, text),
				print_warnings);
	free(text);
	if (!reply)
		return 1;
	snprintf(name, sizeof(name), "%s",
		 json_string_value(json_object_get(reply, "name")));
	if (!o.quiet)
		printf("Started domain %s (id=%lld)\n", name,
		       json_integer_value(json_object_get(reply, "domid")));
	json_decref(reply);
	if (o.console)
		return xm_console_attach("create", name);
	return 0;
}
