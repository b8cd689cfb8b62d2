#include "daemon/xs_path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool valid_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
	       c == '@';
}

static bool valid_chars(const char *s)
{
	for (; *s; s++)
		if (!valid_char(*s))
			return false;
	return true;
}

/* Offset just past "/local/domain/<digits>/", or 0 if path has no such
 * prefix: the per-domain length limit counts only what follows. */
static size_t local_offset(const char *path)
{
	static const char pfx[] = "/local/domain/";
	const char *p;

	if (strncmp(path, pfx, sizeof(pfx) - 1) != 0)
		return 0;
	p = path + sizeof(pfx) - 1;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '/' ? (size_t)(p + 1 - path) : 0;
}

static bool well_formed(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '@')
		return len > 1;
	if (len > 1 && name[len - 1] == '/')
		return false;
	return strstr(name, "//") == NULL;
}

int xs_path_canon(const char *in, const struct xs_path_opts *o, char *out,
		  size_t *rel_prefix)
{
	size_t add = 0, len;

	if (!in || !valid_chars(in) || (in[0] == '@' && !o->allow_special))
		return EINVAL;
	if (in[0] != '/' && in[0] != '@') {
		int n = snprintf(out, XS_PATH_BUF, "/local/domain/%u/",
				 o->domid);
		add = (size_t)n;
	}
	len = strlen(in);
	if (add + len > XENSTORE_ABS_PATH_MAX)
		return EINVAL;
	memcpy(out + add, in, len + 1);
	if (!well_formed(out))
		return EINVAL;
	if (o->limit_rel && out[0] == '/' &&
	    add + len - local_offset(out) > XENSTORE_REL_PATH_MAX)
		return EINVAL;
	if (rel_prefix)
		*rel_prefix = add;
	return 0;
}

bool xs_path_is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return child[0] == '/';
	if (strncmp(child, parent, len) != 0)
		return false;
	return child[len] == '/' || child[len] == '\0';
}

size_t xs_path_parent_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == path ? 1 : (size_t)(slash - path);
}

const char *xs_path_base(const char *path)
{
	return strrchr(path, '/') + 1;
}

int xs_path_join(const char *dir, const char *name, char *out, size_t cap)
{
	int n = strcmp(dir, "/") == 0 ? snprintf(out, cap, "/%s", name)
				      : snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? E2BIG : 0;
}

int xs_parse_domid(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (!s || !*s || strlen(s) > 5)
		return EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > 65535)
		return EINVAL;
	*out = (unsigned)v;
	return 0;
}
