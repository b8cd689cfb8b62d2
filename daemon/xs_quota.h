/*
 * Xenstore quotas.  The defaults are xenstored's; like Xen, only
 * unprivileged (domU) connections are held to the per-domain and
 * per-connection limits.  queue_bytes protects the daemon from any client
 * that stops reading, privileged or not.
 */
#ifndef XENON_XS_QUOTA_H
#define XENON_XS_QUOTA_H

#include <stddef.h>

struct xs_quota {
	unsigned nodes;		/* nodes a domain may own          (ENOSPC) */
	unsigned watches;	/* watches per connection          (E2BIG)  */
	unsigned transactions;	/* open transactions per connection (ENOSPC) */
	unsigned value_size;	/* bytes in one node's value       (ENOSPC) */
	unsigned perms;		/* entries in one node's perm list (ENOSPC) */
	unsigned tx_nodes;	/* nodes one transaction may touch (ENOSPC) */
	size_t queue_bytes;	/* unsent output; past it the connection is
				 * closed rather than events dropped */
};

void xs_quota_defaults(struct xs_quota *q);

/* Apply "name=value" (names as in the fields above, '_' or '-').
 * Returns 0, or -1 with a sentence in err. */
int xs_quota_set(struct xs_quota *q, const char *assignment, char *err,
		 size_t errlen);

/* "nodes=1000\nwatches=128\n..."; returns length (truncated to cap-1). */
size_t xs_quota_format(const struct xs_quota *q, char *buf, size_t cap);

#endif
