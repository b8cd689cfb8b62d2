/*
 * Node permissions.  A node carries a list of <letter><domid> entries
 * (r read, w write, b both, n none).  The first entry names the owner,
 * who always has full access, and its letter is the access of every
 * domain not listed later.  Privileged connections (dom0) bypass it all.
 */
#ifndef XENON_XS_PERMS_H
#define XENON_XS_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/xs_wire.h"

#define XS_PERM_NONE  0u
#define XS_PERM_READ  1u
#define XS_PERM_WRITE 2u
#define XS_PERM_OWNER 4u

/* Most entries a payload can carry ("r0" + nul is the shortest). */
#define XS_PERMS_MAX (XENSTORE_PAYLOAD_MAX / 3 + 1)

struct xs_perm {
	uint32_t domid;
	uint32_t access;	/* XS_PERM_READ | XS_PERM_WRITE */
};

/* The domain a request acts as. */
struct xs_who {
	unsigned domid;
	bool privileged;	/* dom0's tools: all access, no quotas */
	bool has_target;	/* SET_TARGET: act for `target` as its owner */
	unsigned target;
};

/* Access bits (READ|WRITE|OWNER) `who` has on a node with perms p[0..n). */
unsigned xs_perm_for(const struct xs_who *who, const struct xs_perm *p,
		     unsigned n);

/* Parse nul-terminated entries from buf[0..len) into out (max entries).
 * Bytes after the last nul are ignored, as Xen does.  Returns 0, EINVAL
 * (bad entry or none) or ENOSPC (more than max). */
int xs_perms_parse(const char *buf, size_t len, struct xs_perm *out,
		   unsigned max, unsigned *n);

/* Write "b0\0r5\0"-style strings; returns bytes used, 0 if cap is short. */
size_t xs_perms_format(const struct xs_perm *p, unsigned n, char *buf,
		       size_t cap);

bool xs_perms_equal(const struct xs_perm *a, unsigned na,
		    const struct xs_perm *b, unsigned nb);

#endif
