/*
 * Helpers shared by the lib/xl_*.c files and lib/domain_config.c only.
 *
 * Allocation failure aborts: configs are bounded (XL_CONFIG_MAX_BYTES), so
 * running out of memory here means the host is in trouble, and threading
 * ENOMEM through every parser path would bury the checks that matter.
 */
#ifndef XENON_XL_INTERNAL_H
#define XENON_XL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *xl_xmalloc(size_t n);
void *xl_xcalloc(size_t n, size_t size);
/* Grow *v (n elements used, *cap allocated, of SIZE bytes) for one more. */
void xl_xgrow(void **v, size_t n, size_t *cap, size_t size);
char *xl_xstrdup(const char *s);
char *xl_xstrndup(const char *s, size_t n);
char *xl_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xl_xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* Edit distance, capped: returns max + 1 once the distance exceeds max. */
unsigned xl_edit_distance(const char *a, const char *b, unsigned max);

/* NULL-safe string equality. */
bool xl_streq(const char *a, const char *b);

/* ---- Between the grammar (xl_parse.c) and the tree (xl_config.c) ---- */
struct xl_config;
struct xl_loc;
struct xl_msgs;
struct xl_setting;
struct xl_value;

void xl_value_free(struct xl_value *v);
/* Store KEY (LEN bytes) = V, taking V; replacing an earlier value warns if
 * WARN.  -1 (V freed, error added) past XL_CONFIG_MAX_SETTINGS keys. */
int xl_config_set(struct xl_config *cfg, const char *key, size_t len,
		   const struct xl_loc *loc, struct xl_value *v, bool warn,
		   struct xl_msgs *msgs);
/* Parse a whole file's text, START being the position of its first byte. */
int xl_parse_text(struct xl_config *cfg, const struct xl_loc *start,
		  const char *text, size_t len, struct xl_msgs *msgs);
/* Parse one command-line KEY=VALUE. */
int xl_parse_override(struct xl_config *cfg, const struct xl_loc *start,
		      const char *text, size_t len, struct xl_msgs *msgs);

/* ---- Typed reads of one value, for lib/domain_config.c ---------------
 * Each adds an error naming KEY at the value's location and returns -1 if
 * the value does not fit.  xl treats every scalar as text, so a number
 * where a string is wanted is its text, and a numeric string where a
 * number is wanted is read as one. */
int xl_want_string(const struct xl_value *v, const char *key,
		   struct xl_msgs *msgs, char **out);
int xl_want_int(const struct xl_value *v, const char *key, long long lo,
		long long hi, const char *unit, struct xl_msgs *msgs,
		long long *out);
int xl_want_bool(const struct xl_value *v, const char *key,
		 struct xl_msgs *msgs, bool *out);
/* A list of strings (or numbers), or one string taken as a list of one:
 * *items then points at *single. */
int xl_want_string_list(const struct xl_value *v, const char *key,
			struct xl_msgs *msgs, const struct xl_value **single,
			const struct xl_value *const **items, size_t *n);

/* ---- Building a struct domain_config (domain_config.c, xl_keys.c,
 * xl_finish.c) ---------------------------------------------------------- */
struct domain_config;

struct dc_builder {
	struct domain_config *dc;
	const struct xl_config *cfg;
	struct xl_msgs *msgs;
	int type;                  /* enum domain_type from type=, or -1 */
	int builder_type;          /* the same from builder=, or -1 */
	long long nics;            /* xm's nics=, or -1 */
	const struct xl_value *cdrom;  /* xm's cdrom=, or NULL */
};

/* Store one setting.  *known is false for a key no handler knows. */
int xl_key_apply(struct dc_builder *b, const struct xl_setting *s,
		 bool *known);
/* cpus, disk, vif and serial (lib/xl_devices.c). */
int xl_key_devices(struct dc_builder *b, const struct xl_setting *s);
/* A known key close to an unknown one ("memroy" -> "memory"), or NULL. */
const char *xl_key_suggest(const char *unknown);
/* Defaults, derived values and checks across keys, after every key. */
void xl_finish(struct dc_builder *b);
/* The device part of that (lib/xl_finish_dev.c). */
void xl_finish_devices(struct dc_builder *b);

#endif
