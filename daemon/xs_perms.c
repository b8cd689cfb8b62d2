#include "daemon/xs_perms.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/xs_path.h"

static bool is_me(const struct xs_who *who, uint32_t domid)
{
	return domid == who->domid || (who->has_target && domid == who->target);
}

unsigned xs_perm_for(const struct xs_who *who, const struct xs_perm *p,
		     unsigned n)
{
	const unsigned all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

	if (who->privileged || n == 0 || is_me(who, p[0].domid))
		return all;
	for (unsigned i = 1; i < n; i++)
		if (is_me(who, p[i].domid))
			return p[i].access;
	return p[0].access;
}

static int parse_one(const char *s, struct xs_perm *out)
{
	unsigned domid;

	switch (s[0]) {
	case 'n': out->access = XS_PERM_NONE; break;
	case 'r': out->access = XS_PERM_READ; break;
	case 'w': out->access = XS_PERM_WRITE; break;
	case 'b': out->access = XS_PERM_READ | XS_PERM_WRITE; break;
	default: return EINVAL;
	}
	if (xs_parse_domid(s + 1, &domid))
		return EINVAL;
	out->domid = domid;
	return 0;
}

int xs_perms_parse(const char *buf, size_t len, struct xs_perm *out,
		   unsigned max, unsigned *n)
{
	size_t off = 0;
	unsigned count = 0;

	while (off < len) {
		const char *s = buf + off;
		const char *nul = memchr(s, '\0', len - off);

		if (!nul)
			break;
		if (count == max)
			return ENOSPC;
		if (parse_one(s, &out[count]))
			return EINVAL;
		count++;
		off += (size_t)(nul - s) + 1;
	}
	if (!count)
		return EINVAL;
	*n = count;
	return 0;
}

static char letter(uint32_t access)
{
	static const char letters[] = "nrwb";

	return letters[access & 3];
}

size_t xs_perms_format(const struct xs_perm *p, unsigned n, char *buf,
		       size_t cap)
{
	size_t used = 0;

	for (unsigned i = 0; i < n; i++) {
		int w = snprintf(buf + used, cap - used, "%c%u",
				 letter(p[i].access), (unsigned)p[i].domid);
		if (w < 0 || used + (size_t)w + 1 > cap)
			return 0;
		used += (size_t)w + 1;	/* keep snprintf's nul */
	}
	return used;
}

bool xs_perms_equal(const struct xs_perm *a, unsigned na,
		    const struct xs_perm *b, unsigned nb)
{
	return na == nb && memcmp(a, b, na * sizeof(*a)) == 0;
}
