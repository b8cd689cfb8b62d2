/*
 * Xenstore path rules (docs/misc/xenstore.txt): absolute paths start with
 * '/', relative ones are below the connection's /local/domain/<domid>,
 * special watch names start with '@'.  Allowed characters are ASCII
 * letters, digits and "-/_@"; no "//", no trailing '/' except the root.
 */
#ifndef XENON_XS_PATH_H
#define XENON_XS_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/xs_wire.h"

/* Room for any canonical path plus its nul. */
#define XS_PATH_BUF (XENSTORE_ABS_PATH_MAX + 1)

struct xs_path_opts {
	unsigned domid;		/* base of relative paths */
	bool limit_rel;		/* unprivileged: XENSTORE_REL_PATH_MAX below
				 * /local/domain/<n>/ (or for the whole path) */
	bool allow_special;	/* '@name' accepted (watches, perms) */
};

/*
 * Check `in` and write its canonical absolute form to out (XS_PATH_BUF
 * bytes).  *rel_prefix (may be NULL) gets the length of the prefix that
 * was added to a relative path, 0 for an absolute one.  Returns 0 or
 * EINVAL.
 */
int xs_path_canon(const char *in, const struct xs_path_opts *o, char *out,
		  size_t *rel_prefix);

/* Is `child` equal to `parent` or below it?  ("/" is everyone's parent.) */
bool xs_path_is_child(const char *child, const char *parent);

/* Length of the parent of an absolute path other than "/" (1 for "/x"). */
size_t xs_path_parent_len(const char *path);

/* The last component of an absolute path other than "/". */
const char *xs_path_base(const char *path);

/* dir + "/" + name into out (cap bytes).  Returns 0 or E2BIG. */
int xs_path_join(const char *dir, const char *name, char *out, size_t cap);

/* Strict unsigned decimal domain id, 0..65535.  Returns 0 or EINVAL. */
int xs_parse_domid(const char *s, unsigned *out);

#endif
