/*
 * The KEY = VALUE grammar of xm/xl guest configs:
 *
 *   file       := { [setting] ( NEWLINE | ';' ) }
 *   setting    := KEY '=' value
 *   value      := STRING | NUMBER | '[' [ value { ',' value } [','] ] ']'
 *
 * '#' starts a comment, a backslash before a newline joins lines, and
 * inside brackets newlines and comments are plain whitespace, as in
 * Python.  A hand-written recursive descent parser: the language is tiny,
 * and this way every error can point at the exact byte.
 */
#include "lib/xl_config.h"
#include "lib/xl_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p, *end;
	struct xl_loc loc;          /* position of *p */
	struct xl_msgs *msgs;
};

struct strbuf {
	char *s;
	size_t n, cap;
};

static void sb_add(struct strbuf *b, char c)
{
	xl_xgrow((void **)&b->s, b->n + 1, &b->cap, 1);
	b->s[b->n++] = c;
	b->s[b->n] = '\0';
}

static int peek(const struct parser *ps)
{
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

static int peek2(const struct parser *ps)
{
	return ps->p + 1 < ps->end ? (unsigned char)ps->p[1] : -1;
}

static void advance(struct parser *ps)
{
	if (ps->p >= ps->end)
		return;
	if (*ps->p == '\n') {
		ps->loc.line++;
		ps->loc.col = 1;
	} else {
		ps->loc.col++;
	}
	ps->p++;
}

static int fail(struct parser *ps, const struct xl_loc *at, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, const struct xl_loc *at, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = xl_xvasprintf(fmt, ap);
	va_end(ap);
	xl_msgs_add(ps->msgs, XL_ERROR, at, "%s", what);
	free(what);
	return -1;
}

/* Describe the byte at the cursor for "found ..." in messages. */
static const char *describe(const struct parser *ps, char buf[16])
{
	int c = peek(ps);

	if (c < 0)
		return "end of input";
	if (c == '\n')
		return "end of line";
	if (isprint(c))
		snprintf(buf, 16, c == '\'' ? "\"%c\"" : "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", (unsigned)c);
	return buf;
}

static bool is_key_start(int c)
{
	return c >= 0 && (isalpha(c) || c == '_');
}

static bool is_key_char(int c)
{
	return c >= 0 && (isalnum(c) || c == '_');
}

/* Skip blanks, comments and backslash-newlines; inside a list newlines
 * too. */
static void skip_blanks(struct parser *ps, bool newlines)
{
	for (;;) {
		int c = peek(ps);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
		    c == '\v' || (newlines && c == '\n')) {
			advance(ps);
		} else if (c == '#') {
			while (peek(ps) >= 0 && peek(ps) != '\n')
				advance(ps);
		} else if (c == '\\' && (peek2(ps) == '\n' ||
			   (peek2(ps) == '\r' && ps->p + 2 < ps->end &&
			    ps->p[2] == '\n'))) {
			while (peek(ps) != '\n')
				advance(ps);
			advance(ps);
		} else {
			return;
		}
	}
}

static struct xl_value *new_value(enum xl_type type, const struct xl_loc *loc)
{
	struct xl_value *v = xl_xcalloc(1, sizeof(*v));

	v->type = type;
	v->loc = *loc;
	return v;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \xHH and \OOO; the cursor is on the 'x' or the first octal digit. */
static int numeric_escape(struct parser *ps, const struct xl_loc *at,
			  struct strbuf *b)
{
	unsigned v = 0;

	if (peek(ps) == 'x') {
		advance(ps);
		for (int i = 0; i < 2; i++) {
			int d = hex_digit(peek(ps));

			if (d < 0)
				return fail(ps, at, "bad escape: \\x needs two "
					    "hex digits");
			v = v * 16 + (unsigned)d;
			advance(ps);
		}
	} else {
		for (int i = 0; i < 3 && peek(ps) >= '0' && peek(ps) <= '7'; i++) {
			v = v * 8 + (unsigned)(peek(ps) - '0');
			advance(ps);
		}
		if (v > 0xff)
			return fail(ps, at, "bad escape: octal value %03o is "
				    "above \\377", v);
	}
	if (v == 0)
		return fail(ps, at, "a string cannot contain a NUL character");
	sb_add(b, (char)v);
	return 0;
}

static int escape(struct parser *ps, struct strbuf *b)
{
	static const char from[] = "ntrabfv\\'\"", to[] = "\n\t\r\a\b\f\v\\'\"";
	struct xl_loc at = ps->loc;
	const char *hit;
	int c;

	advance(ps); /* the backslash */
	c = peek(ps);
	if (c == '\n' || (c == '\r' && peek2(ps) == '\n')) {
		/* Backslash-newline continues the string on the next line. */
		if (c == '\r')
			advance(ps);
		advance(ps);
		return 0;
	}
	if (c == 'x' || (c >= '0' && c <= '7'))
		return numeric_escape(ps, &at, b);
	if (c > 0 && (hit = strchr(from, c)) != NULL) {
		sb_add(b, to[hit - from]);
		advance(ps);
		return 0;
	}
	if (c < 0)
		return 0; /* the caller reports the unterminated string */
	/* Python keeps unknown escapes (think "C:\dir"); so do we, but say so
	 * in case a real escape was meant. */
	if (isprint(c))
		xl_msgs_add(ps->msgs, XL_WARNING, &at,
			    "unknown escape '\\%c' kept as a backslash and '%c'",
			    c, c);
	else
		xl_msgs_add(ps->msgs, XL_WARNING, &at,
			    "unknown escape (backslash, byte 0x%02x) kept as is",
			    (unsigned)c);
	sb_add(b, '\\');
	return 0;
}

static struct xl_value *parse_string(struct parser *ps)
{
	struct xl_loc start = ps->loc;
	struct strbuf b = { 0 };
	int quote = peek(ps);
	struct xl_value *v;

	advance(ps);
	for (;;) {
		int c = peek(ps);

		if (c < 0 || c == '\n') {
			fail(ps, &start, "unterminated string: no closing %c "
			     "before the end of the %s", quote,
			     c < 0 ? "input" : "line");
			free(b.s);
			return NULL;
		}
		if (c == quote) {
			advance(ps);
			break;
		}
		if (c == '\\') {
			if (escape(ps, &b) < 0) {
				free(b.s);
				return NULL;
			}
			continue;
		}
		sb_add(&b, (char)c);
		advance(ps);
	}
	v = new_value(XL_STRING, &start);
	v->text = b.s ? b.s : xl_xstrdup("");
	return v;
}

static bool is_number_char(int c)
{
	return c >= 0 && (isalnum(c) || c == '_' || c == '.');
}

static struct xl_value *parse_number(struct parser *ps)
{
	struct xl_loc start = ps->loc;
	const char *s = ps->p, *why;
	struct xl_value *v;
	long long n;

	if (peek(ps) == '-' || peek(ps) == '+')
		advance(ps);
	while (is_number_char(peek(ps)))
		advance(ps);
	if (xl_parse_integer(s, (size_t)(ps->p - s), &n, &why) < 0) {
		fail(ps, &start, "bad number '%.*s': %s", (int)(ps->p - s), s,
		     why);
		return NULL;
	}
	v = new_value(XL_NUMBER, &start);
	v->text = xl_xstrndup(s, (size_t)(ps->p - s));
	v->number = n;
	return v;
}

static struct xl_value *parse_value(struct parser *ps, unsigned depth);

static void list_add(struct xl_value *list, struct xl_value *item, size_t *cap)
{
	xl_xgrow((void **)&list->items, list->n_items, cap, sizeof(item));
	list->items[list->n_items++] = item;
}

static struct xl_value *parse_list(struct parser *ps, unsigned depth)
{
	struct xl_loc open = ps->loc;
	struct xl_value *list;
	size_t cap = 0;
	char buf[16];

	if (depth >= XL_CONFIG_MAX_DEPTH) {
		fail(ps, &open, "lists nested too deeply (more than %d levels)",
		     XL_CONFIG_MAX_DEPTH);
		return NULL;
	}
	list = new_value(XL_LIST, &open);
	advance(ps);
	for (;;) {
		struct xl_value *item;

		skip_blanks(ps, true);
		if (peek(ps) == ']')
			break;
		if (peek(ps) < 0)
			goto unterminated;
		item = parse_value(ps, depth + 1);
		if (!item)
			goto bad;
		list_add(list, item, &cap);
		skip_blanks(ps, true);
		if (peek(ps) == ',') {
			advance(ps);
			continue;
		}
		if (peek(ps) == ']')
			break;
		if (peek(ps) < 0)
			goto unterminated;
		fail(ps, &ps->loc, "expected ',' or ']' in the list opened at "
		     "%u:%u, found %s", open.line, open.col, describe(ps, buf));
		goto bad;
	}
	advance(ps);
	return list;
unterminated:
	fail(ps, &open, "unterminated list: no ']' for this '['");
bad:
	xl_value_free(list);
	return NULL;
}

/* A bare word where a value belongs: Python's True/False, or a mistake. */
static struct xl_value *parse_word(struct parser *ps)
{
	struct xl_loc start = ps->loc;
	const char *s = ps->p;
	struct xl_value *v;
	size_t len;

	while (is_key_char(peek(ps)) || peek(ps) == '.' || peek(ps) == '-' ||
	       peek(ps) == '/')
		advance(ps);
	len = (size_t)(ps->p - s);
	if ((len == 4 && !memcmp(s, "True", 4)) ||
	    (len == 5 && !memcmp(s, "False", 5))) {
		v = new_value(XL_NUMBER, &start);
		v->text = xl_xstrndup(s, len);
		v->number = len == 4;
		return v;
	}
	fail(ps, &start, "expected a value, found '%.*s' (strings need quotes: "
	     "\"%.*s\")", (int)len, s, (int)len, s);
	return NULL;
}

static struct xl_value *parse_value(struct parser *ps, unsigned depth)
{
	int c = peek(ps);
	char buf[16];

	if (c == '"' || c == '\'')
		return parse_string(ps);
	if (c == '[')
		return parse_list(ps, depth);
	if (c == '-' || c == '+' || c == '.' || (c >= 0 && isdigit(c)))
		return parse_number(ps);
	if (is_key_start(c))
		return parse_word(ps);
	fail(ps, &ps->loc, "expected a value (a quoted string, a number or a "
	     "[list]), found %s", describe(ps, buf));
	return NULL;
}

static bool at_statement_end(const struct parser *ps)
{
	int c = peek(ps);

	return c < 0 || c == '\n' || c == ';';
}

/* KEY '=' : stores the key span and its location. */
static int parse_key(struct parser *ps, const char **key, size_t *len,
		     struct xl_loc *loc)
{
	char buf[16];

	*loc = ps->loc;
	*key = ps->p;
	if (!is_key_start(peek(ps)))
		return fail(ps, loc, "expected a setting (KEY = VALUE), found "
			    "%s", describe(ps, buf));
	while (is_key_char(peek(ps)))
		advance(ps);
	*len = (size_t)(ps->p - *key);
	skip_blanks(ps, false);
	if (peek(ps) != '=')
		return fail(ps, &ps->loc, "expected '=' after '%.*s', found %s",
			    (int)*len, *key, describe(ps, buf));
	advance(ps);
	skip_blanks(ps, false);
	return 0;
}

static int parse_setting(struct parser *ps, struct xl_config *cfg)
{
	struct xl_value *v;
	struct xl_loc kloc;
	const char *key;
	size_t len;
	char buf[16];

	if (parse_key(ps, &key, &len, &kloc) < 0)
		return -1;
	v = parse_value(ps, 0);
	if (!v)
		return -1;
	skip_blanks(ps, false);
	if (!at_statement_end(ps)) {
		fail(ps, &ps->loc, "expected the end of the line or ';' after "
		     "the value of '%.*s', found %s", (int)len, key,
		     describe(ps, buf));
		xl_value_free(v);
		return -1;
	}
	return xl_config_set(cfg, key, len, &kloc, v, true, ps->msgs);
}

int xl_parse_text(struct xl_config *cfg, const struct xl_loc *start,
		  const char *text, size_t len, struct xl_msgs *msgs)
{
	struct parser ps = { text, text + len, *start, msgs };

	for (;;) {
		skip_blanks(&ps, false);
		if (peek(&ps) < 0)
			return 0;
		if (peek(&ps) == '\n' || peek(&ps) == ';') {
			advance(&ps);
			continue;
		}
		if (parse_setting(&ps, cfg) < 0)
			return -1;
	}
}

/* The value half of an override, tried with the grammar; NULL if it does
 * not parse cleanly to the end. */
static struct xl_value *try_value(struct parser *ps)
{
	struct xl_value *v = parse_value(ps, 0);

	if (!v)
		return NULL;
	skip_blanks(ps, true);
	if (peek(ps) >= 0) {
		char buf[16];

		fail(ps, &ps->loc, "unexpected %s after the value",
		     describe(ps, buf));
		xl_value_free(v);
		return NULL;
	}
	return v;
}

int xl_parse_override(struct xl_config *cfg, const struct xl_loc *start,
		      const char *text, size_t len, struct xl_msgs *msgs)
{
	struct parser ps = { text, text + len, *start, msgs };
	struct xl_msgs tries;
	struct xl_value *v;
	struct xl_loc kloc, vloc;
	const char *key, *vstart;
	size_t klen;
	int c;

	skip_blanks(&ps, false);
	if (parse_key(&ps, &key, &klen, &kloc) < 0)
		return -1;
	vloc = ps.loc;
	vstart = ps.p;
	c = peek(&ps);
	xl_msgs_init(&tries);
	ps.msgs = &tries;
	v = try_value(&ps);
	ps.msgs = msgs;
	/* name=foo: an unquoted value that is no literal is a plain string.
	 * A value that starts like a string or a list was meant as one, so
	 * its errors stand. */
	if (!v && c != '"' && c != '\'' && c != '[') {
		v = new_value(XL_STRING, &vloc);
		v->text = xl_xstrndup(vstart, (size_t)(text + len - vstart));
	} else {
		for (size_t i = 0; i < tries.n; i++)
			xl_msgs_add(msgs, tries.v[i].severity, NULL, "%s",
				    tries.v[i].text);
	}
	xl_msgs_free(&tries);
	if (!v)
		return -1;
	return xl_config_set(cfg, key, klen, &kloc, v, false, msgs);
}
