/* Typed reads of config values, with messages that name the key. */
#include "lib/xl_config.h"
#include "lib/xl_internal.h"

#include <ctype.h>
#include <string.h>

static const char *found(const struct xl_value *v)
{
	return v->type == XL_LIST ? "a list" : v->text;
}

int xl_want_string(const struct xl_value *v, const char *key,
		   struct xl_msgs *msgs, char **out)
{
	if (v->type == XL_LIST) {
		xl_msgs_add(msgs, XL_ERROR, &v->loc, "%s: expected a string, "
			    "found a list", key);
		return -1;
	}
	*out = xl_xstrdup(v->text);
	return 0;
}

/* The number in V: a number, or a string holding one (memory = "512"). */
static int number_of(const struct xl_value *v, const char *key,
		     struct xl_msgs *msgs, long long *out)
{
	const char *s, *why;
	size_t len;

	if (v->type == XL_NUMBER) {
		*out = v->number;
		return 0;
	}
	if (v->type == XL_STRING) {
		s = v->text;
		len = strlen(s);
		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (xl_parse_integer(s, len, out, &why) == 0)
			return 0;
	}
	xl_msgs_add(msgs, XL_ERROR, &v->loc, "%s: expected a number, found %s%s%s",
		    key, v->type == XL_STRING ? "'" : "", found(v),
		    v->type == XL_STRING ? "'" : "");
	return -1;
}

int xl_want_int(const struct xl_value *v, const char *key, long long lo,
		long long hi, const char *unit, struct xl_msgs *msgs,
		long long *out)
{
	long long n;

	if (number_of(v, key, msgs, &n) < 0)
		return -1;
	if (n < lo || n > hi) {
		xl_msgs_add(msgs, XL_ERROR, &v->loc, "%s: %lld%s is too %s "
			    "(%s %lld%s)", key, n, unit, n < lo ? "small" : "large",
			    n < lo ? "at least" : "at most", n < lo ? lo : hi,
			    unit);
		return -1;
	}
	*out = n;
	return 0;
}

int xl_want_bool(const struct xl_value *v, const char *key,
		 struct xl_msgs *msgs, bool *out)
{
	long long n;

	if (number_of(v, key, msgs, &n) < 0)
		return -1;
	*out = n != 0;
	return 0;
}

int xl_want_string_list(const struct xl_value *v, const char *key,
			struct xl_msgs *msgs, const struct xl_value **single,
			const struct xl_value *const **items, size_t *n)
{
	int rc = 0;

	if (v->type != XL_LIST) {
		*single = v;
		*items = single;
		*n = 1;
		return 0;
	}
	*items = (const struct xl_value *const *)v->items;
	*n = v->n_items;
	for (size_t i = 0; i < v->n_items; i++) {
		if (v->items[i]->type == XL_LIST) {
			xl_msgs_add(msgs, XL_ERROR, &v->items[i]->loc,
				    "%s[%zu]: expected a string, found a list",
				    key, i);
			rc = -1;
		}
	}
	return rc;
}
