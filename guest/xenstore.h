/*
 * The test guest's xenstore client: Xen's xs_wire requests over the
 * xenstore channel (xs_channel.h), one at a time.  Paths without a
 * leading '/' are relative to the domain's home, /local/domain/<domid>
 * (the store resolves them).  Every call takes a transaction id, 0 for
 * none, as libxenstore's do.  Errors are Xen's errno names, mapped to
 * the XS_E* numbers below; xs_error_name() gives the name back.
 */
#ifndef GUEST_XENSTORE_H
#define GUEST_XENSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	XS_OK = 0,
	XS_EINVAL, XS_EACCES, XS_EEXIST, XS_EISDIR, XS_ENOENT, XS_ENOMEM,
	XS_ENOSPC, XS_EIO, XS_ENOTEMPTY, XS_ENOSYS, XS_EROFS, XS_EBUSY,
	XS_EAGAIN, XS_EISCONN, XS_E2BIG, XS_EPERM, XS_EQUOTA,
	XS_EUNKNOWN,		/* a name not in the list */
	XS_ETIMEDOUT,		/* no answer in time (client side) */
	XS_ESTOPPED,		/* a wait ended by its stop condition */
	XS_EPROTO,		/* a malformed or unexpected reply */
};

#define XS_TIMEOUT_US 30000000ULL	/* per request: xenond may restart */
#define XS_VALUE_MAX  4096

struct xs_event {
	char path[256];		/* truncated if longer */
	char token[64];
};

/* Find the channel, drop watches a previous boot left (RESET_WATCHES),
 * learn the domain id (relative "domid") and home (GET_DOMAIN_PATH). */
int xs_init(void);
bool xs_present(void);
unsigned xs_domid(void);
const char *xs_home(void);
const char *xs_error_name(int err);

/* Value into out (nul-terminated, cap bytes), *len its length. */
int xs_read(uint32_t tx, const char *path, char *out, size_t cap,
	    size_t *len);
int xs_write(uint32_t tx, const char *path, const void *value, size_t len);
int xs_write_str(uint32_t tx, const char *path, const char *value);
int xs_mkdir(uint32_t tx, const char *path);
int xs_rm(uint32_t tx, const char *path);
/* Children, nul-separated, into out; *count of them. */
int xs_directory(uint32_t tx, const char *path, char *out, size_t cap,
		 unsigned *count);
int xs_watch(const char *path, const char *token);
int xs_unwatch(const char *path, const char *token);
int xs_transaction_start(uint32_t *tx);
int xs_transaction_end(uint32_t tx, bool commit);

/* The next watch event: XS_OK, XS_ETIMEDOUT at the TSC deadline (0: no
 * limit), or XS_ESTOPPED as soon as stop() (may be NULL) is true.  The
 * guest halts meanwhile. */
int xs_wait_event(struct xs_event *ev, uint64_t deadline, bool (*stop)(void));

#endif
