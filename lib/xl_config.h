/*
 * Xen guest configuration files: the generic syntax layer.
 *
 * Reads the KEY = VALUE language shared by xm (a subset of Python literals)
 * and xl (xl.cfg(5)) into a tree of strings, numbers and lists keyed by
 * name, each value remembering where it was written so that later checks
 * can say "guest.cfg:7:12: disk[1]: ...".  What the keys mean is
 * lib/domain_config.h's business, not this layer's.
 *
 * Problems are collected as messages (struct xl_msgs) rather than printed,
 * so the CLI and the daemon decide where they go.
 */
#ifndef XENON_XL_CONFIG_H
#define XENON_XL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Larger inputs are refused: a guest config is a few hundred bytes, and the
 * bound keeps a stray binary from costing time and memory. */
#define XL_CONFIG_MAX_BYTES (1024 * 1024)
/* Lists nest at most this deep (the parser recurses once per level). */
#define XL_CONFIG_MAX_DEPTH 32
/* Distinct keys per config: real ones have a few dozen, and lookups are
 * linear. */
#define XL_CONFIG_MAX_SETTINGS 1024
/* Messages kept per xl_msgs; later ones are only counted. */
#define XL_MSGS_MAX 200

/* Where something was written.  line and col count from 1 (col in bytes);
 * file points at a name owned by the struct xl_config that parsed it. */
struct xl_loc {
	const char *file;
	unsigned line;
	unsigned col;
};

/* ---- Messages ------------------------------------------------------------ */

enum xl_severity { XL_WARNING, XL_ERROR };

struct xl_msg {
	enum xl_severity severity;
	char *text;        /* "file:line:col: key: what is wrong", no newline */
};

struct xl_msgs {
	struct xl_msg *v;
	size_t n, cap;
	unsigned errors;   /* counts every error, kept or dropped */
	unsigned warnings;
	unsigned dropped;  /* messages past XL_MSGS_MAX */
};

void xl_msgs_init(struct xl_msgs *m);
void xl_msgs_free(struct xl_msgs *m);
/* Add a message; loc may be NULL (no position prefix). */
void xl_msgs_add(struct xl_msgs *m, enum xl_severity sev,
		 const struct xl_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "warning: TEXT" / "error: TEXT", one per line, then a count of any
 * dropped ones. */
void xl_msgs_print(const struct xl_msgs *m, FILE *out);

/* ---- The value tree ------------------------------------------------------ */

enum xl_type { XL_STRING, XL_NUMBER, XL_LIST };

struct xl_value {
	enum xl_type type;
	struct xl_loc loc;
	/* XL_STRING: the decoded string (no NUL inside).
	 * XL_NUMBER: the literal as written ("0x10"), for messages and for
	 * keys that want a string (xl accepts name = 123). */
	char *text;
	long long number;          /* XL_NUMBER */
	struct xl_value **items;   /* XL_LIST */
	size_t n_items;
};

struct xl_setting {
	char *key;
	struct xl_loc loc;         /* of the key */
	struct xl_value *value;
};

/* Settings in order of first assignment; a later assignment replaces the
 * value in place. */
struct xl_config {
	struct xl_setting *v;
	size_t n, cap;
	char **sources;            /* names that xl_loc.file points at */
	size_t n_sources;
};

void xl_config_init(struct xl_config *cfg);
void xl_config_free(struct xl_config *cfg);

/*
 * Parse TEXT (LEN bytes, need not be NUL-terminated) named SOURCE in
 * messages, adding its settings to CFG.  Reassigning a key warns.  Stops at
 * the first syntax error.  Returns 0, or -1 after adding an error.
 */
int xl_config_parse(struct xl_config *cfg, const char *source,
		    const char *text, size_t len, struct xl_msgs *msgs);
/* The same for a file; the file's path is its source name. */
int xl_config_parse_file(struct xl_config *cfg, const char *path,
			 struct xl_msgs *msgs);

/*
 * Apply one KEY=VALUE override from the command line (xm create CFG
 * name=foo memory=256).  VALUE uses the file grammar, except that an
 * unquoted value that is not a valid literal is taken as a plain string,
 * so name=foo works without shell-quoted quotes.  Overriding is the point,
 * so it does not warn.  INDEX (from 1) names it in messages as
 * "command line:INDEX:COL".  Returns 0 or -1.
 */
int xl_config_override(struct xl_config *cfg, const char *assignment,
		       unsigned index, struct xl_msgs *msgs);

/* The setting for KEY, or NULL. */
const struct xl_setting *xl_config_get(const struct xl_config *cfg,
				       const char *key);

/* "string", "number", "list". */
const char *xl_type_name(enum xl_type type);

/*
 * Read a whole number the way the config grammar does: optional sign,
 * decimal, 0-prefixed octal or 0x hex.  Used for numbers that arrive
 * inside strings (xl accepts memory = "512").  Returns 0, or -1 with *why
 * set to a static explanation.
 */
int xl_parse_integer(const char *s, size_t len, long long *out,
		     const char **why);

#endif
