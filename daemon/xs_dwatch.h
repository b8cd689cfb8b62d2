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
 *
 * With them go the ids of the transactions a domain's channel committed
 * last (XS_DCOMMIT_KEEP per domain, 'C' operations, journaled in the
 * commit's own entry): the guest's relay sends TRANSACTION_END again when
 * xenond died before answering it, and if that commit had happened the
 * answer must still be OK, not ENOENT for an id the new xenond does not
 * know.  New ids of the domain's channel come after every one recorded,
 * so none is given out twice.  'R' forgets these too.
 */
#ifndef XENON_XS_DWATCH_H
#define XENON_XS_DWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xs_dwatch {
	struct xs_dwatch *next;
	unsigned domid;
	size_t rel_prefix;	/* as struct xs_watch: relative events */
	char *path;		/* canonical: absolute or '@special' */
	char *token;
};

/* Enough for every transaction a guest may have open (the default
 * `transactions` quota is 10) to end at once, plus some. */
#define XS_DCOMMIT_KEEP 32

struct xs_dcommit {
	struct xs_dcommit *next;
	unsigned domid;
	uint32_t next_id;		/* new transaction ids start here */
	uint32_t ids[XS_DCOMMIT_KEEP];	/* committed, oldest first */
	unsigned n;
};

struct xs_dwatches {
	struct xs_dwatch *first, **tail;
	size_t count;
	struct xs_dcommit *commits;	/* per domain, any order */
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

/* Forget every watch and commit of domid; true if there were any. */
bool xs_dwatch_forget_domain(struct xs_dwatches *s, unsigned domid);

#define XS_DWATCH_ALL (~0u)

/* Call fn on each watch of domid (or of all domains, XS_DWATCH_ALL) in
 * registration order; stops and returns fn's value if nonzero.  fn must
 * not change the set. */
int xs_dwatch_each(const struct xs_dwatches *s, unsigned domid,
		   int (*fn)(const struct xs_dwatch *w, void *opaque),
		   void *opaque);

/* Commit markers: transaction id of domid committed (ENOMEM or 0);
 * was it one of the last XS_DCOMMIT_KEEP; the next id to give out. */
int xs_dcommit_add(struct xs_dwatches *s, unsigned domid, uint32_t id);
bool xs_dcommit_has(const struct xs_dwatches *s, unsigned domid,
		    uint32_t id);
uint32_t xs_dcommit_next_id(struct xs_dwatches *s, unsigned domid);
/* Call fn(domid, id) on every marker, each domain's oldest first. */
int xs_dcommit_each(const struct xs_dwatches *s,
		    int (*fn)(unsigned domid, uint32_t id, void *opaque),
		    void *opaque);

#endif
