/* The value tree of a guest config: storage, lookup, files, overrides. */
#include "lib/xl_config.h"
#include "lib/xl_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void xl_config_init(struct xl_config *cfg)
{
	*cfg = (struct xl_config){ 0 };
}

void xl_value_free(struct xl_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_items; i++)
		xl_value_free(v->items[i]);
	free(v->items);
	free(v->text);
	free(v);
}

void xl_config_free(struct xl_config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->v[i].key);
		xl_value_free(cfg->v[i].value);
	}
	free(cfg->v);
	for (size_t i = 0; i < cfg->n_sources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	xl_config_init(cfg);
}

/* Locations point at the names kept here, so messages stay valid for as
 * long as the config does, whatever happens to the caller's strings. */
static const char *add_source(struct xl_config *cfg, const char *name)
{
	char **grown;

	for (size_t i = 0; i < cfg->n_sources; i++)
		if (strcmp(cfg->sources[i], name) == 0)
			return cfg->sources[i];
	/* One at a time: a config has one or two sources. */
	grown = realloc(cfg->sources,
			(cfg->n_sources + 1) * sizeof(*cfg->sources));
	if (!grown)
		abort();
	cfg->sources = grown;
	cfg->sources[cfg->n_sources] = xl_xstrdup(name);
	return cfg->sources[cfg->n_sources++];
}

static struct xl_setting *find(const struct xl_config *cfg, const char *key,
			       size_t len)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strlen(cfg->v[i].key) == len &&
		    memcmp(cfg->v[i].key, key, len) == 0)
			return &cfg->v[i];
	return NULL;
}

int xl_config_set(struct xl_config *cfg, const char *key, size_t len,
		   const struct xl_loc *loc, struct xl_value *v, bool warn,
		   struct xl_msgs *msgs)
{
	struct xl_setting *s = find(cfg, key, len);

	if (s) {
		/* Python semantics: the last assignment wins.  Usually a
		 * leftover, so say where the lost value was. */
		if (warn)
			xl_msgs_add(msgs, XL_WARNING, loc, "%s: set again; this "
				    "value replaces the one at %s:%u:%u",
				    s->key, s->loc.file, s->loc.line,
				    s->loc.col);
		xl_value_free(s->value);
		s->value = v;
		s->loc = *loc;
		return 0;
	}
	if (cfg->n >= XL_CONFIG_MAX_SETTINGS) {
		xl_msgs_add(msgs, XL_ERROR, loc, "too many settings (at most %d "
			    "different keys)", XL_CONFIG_MAX_SETTINGS);
		xl_value_free(v);
		return -1;
	}
	xl_xgrow((void **)&cfg->v, cfg->n, &cfg->cap, sizeof(*cfg->v));
	cfg->v[cfg->n] = (struct xl_setting){ xl_xstrndup(key, len), *loc, v };
	cfg->n++;
	return 0;
}

const struct xl_setting *xl_config_get(const struct xl_config *cfg,
				       const char *key)
{
	return find(cfg, key, strlen(key));
}

const char *xl_type_name(enum xl_type type)
{
	switch (type) {
	case XL_STRING: return "string";
	case XL_NUMBER: return "number";
	case XL_LIST:   return "list";
	}
	return "?";
}

int xl_config_parse(struct xl_config *cfg, const char *source,
		    const char *text, size_t len, struct xl_msgs *msgs)
{
	struct xl_loc start = { add_source(cfg, source), 1, 1 };
	const char *nul;

	if (len > XL_CONFIG_MAX_BYTES) {
		xl_msgs_add(msgs, XL_ERROR, NULL, "%s: too large for a guest "
			    "config (%zu bytes, at most %d)", source, len,
			    XL_CONFIG_MAX_BYTES);
		return -1;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		/* Find the line and column for the message. */
		for (const char *p = text; p < nul; p++) {
			start.col = *p == '\n' ? 1 : start.col + 1;
			start.line += *p == '\n';
		}
		xl_msgs_add(msgs, XL_ERROR, &start, "NUL byte in the config "
			    "(is this a binary file?)");
		return -1;
	}
	return xl_parse_text(cfg, &start, text, len, msgs);
}

int xl_config_parse_file(struct xl_config *cfg, const char *path,
			 struct xl_msgs *msgs)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		xl_msgs_add(msgs, XL_ERROR, NULL, "%s: cannot open: %s", path,
			    strerror(errno));
		return -1;
	}
	/* One byte more than allowed, so an oversized file is noticed. */
	buf = xl_xmalloc(XL_CONFIG_MAX_BYTES + 1);
	n = fread(buf, 1, XL_CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		xl_msgs_add(msgs, XL_ERROR, NULL, "%s: cannot read: %s", path,
			    strerror(errno));
		rc = -1;
	} else {
		rc = xl_config_parse(cfg, path, buf, n, msgs);
	}
	free(buf);
	fclose(f);
	return rc;
}

int xl_config_override(struct xl_config *cfg, const char *assignment,
		       unsigned index, struct xl_msgs *msgs)
{
	struct xl_loc start = { add_source(cfg, "command line"), index, 1 };

	return xl_parse_override(cfg, &start, assignment, strlen(assignment),
				 msgs);
}

static int digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

static int base_of(const char **p, const char *end, const char **why)
{
	if (end - *p >= 2 && (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X')) {
		*p += 2;
		return 16;
	}
	if (end - *p >= 2 && (*p)[0] == '0' && ((*p)[1] == 'o' || (*p)[1] == 'O')) {
		*p += 2;
		return 8;
	}
	if (end - *p >= 2 && (*p)[0] == '0') {
		*p += 1;
		*why = "a leading 0 means octal, and octal digits are 0 to 7";
		return 8;
	}
	*why = "expected decimal digits";
	return 10;
}

int xl_parse_integer(const char *s, size_t len, long long *out,
		     const char **why)
{
	const char *p = s, *end = s + len, *digit_why = NULL;
	unsigned long long v = 0, limit = (unsigned long long)LLONG_MAX;
	bool neg = false;
	int base;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (memchr(p, '.', (size_t)(end - p))) {
		*why = "only whole numbers are allowed";
		return -1;
	}
	if (p == end) {
		*why = "no digits";
		return -1;
	}
	base = base_of(&p, end, &digit_why);
	if (p == end) {
		*why = "no digits after the prefix";
		return -1;
	}
	limit += neg;
	for (; p < end; p++) {
		unsigned d = (unsigned)digit_value((unsigned char)*p);

		if (d >= (unsigned)base) {
			*why = base == 16 ? "expected hex digits after 0x" :
			       base == 8 && !digit_why ? "expected octal digits" :
			       digit_why;
			return -1;
		}
		if (v > (limit - d) / (unsigned)base) {
			*why = "out of range";
			return -1;
		}
		v = v * (unsigned)base + d;
	}
	*out = neg ? (long long)(0ULL - v) : (long long)v;
	return 0;
}
