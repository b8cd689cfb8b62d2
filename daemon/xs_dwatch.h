/*
 * Durable watches: the watches a domain set through its own channel
 * (xs_conn_make_channel), kept beyond the connection and across xenond
 * restarts, so that they can be re-armed when the domain's channel
 * connects again.  A guest waiting on control/shutdown must still hear
 * the toolstack's request after xenond was restarted, even by kill -9.
 *
 * The set is recorded with the tree: 'W', 'U' and 'R' journal operations
 * as they change (xs_persist_watch*), every entry in each snapshot.  It
 * is small (a domain has at most the `watches` quota), so a list in
 * registration order is enough; re-arming fires in that order.
 */
#ifndef XENON_XS_DWATCH_H
#define XENON_XS_DWATCH_H

#include <stddef.h>

struct xs_dwatch {
	struct xs_dwatch *next;
	unsigned domid;
	size_t rel_prefix;	/* as struct xs_watch: relative events */
	char *path;		/* canonical: absolute or '@special' */
	char *token;
};

struct xs_dwatches {
	struct xs_dwatch *first, **tail;
	size_t count;
};

void xs_dwatches_init(struct xs_dwatches *s);
void xs_dwatches_clear(struct xs_dwatches *s);

/* Returns 0, EEXIST (same domid, path and token) or ENOMEM. */
int xs_dwatch_add(struct xs_dwatches *s, unsigned domid, const char *path,
		  const char *token, size_t rel_prefix);
/* Returns 0 or ENOENT. */
int xs_dwatch_del(struct xs_dwatches *s, unsigned domid, const char *path,
		  const char *token);
/* Forget every watch of domid; returns how many there were. */
size_t xs_dwatch_del_domain(struct xs_dwatches *s, unsigned domid);

#define XS_DWATCH_ALL (~0u)

/* Call fn on each watch of domid (or of all domains, XS_DWATCH_ALL) in
 * registration order; stops and returns fn's value if nonzero.  fn must
 * not change the set. */
int xs_dwatch_each(const struct xs_dwatches *s, unsigned domid,
		   int (*fn)(const struct xs_dwatch *w, void *opaque),
		   void *opaque);

#endif
