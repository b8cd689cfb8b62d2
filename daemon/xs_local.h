/*
 * xenond's own xenstore access: a privileged (domain 0) connection inside
 * the daemon, used by the domain manager to build and tear down Xen's
 * layout (/local/domain/<id>, /vm/<uuid>, backend paths).  Requests go
 * through the same code as any client's, so watches fire and the journal
 * records them; each call completes synchronously.
 */
#ifndef XENON_XS_LOCAL_H
#define XENON_XS_LOCAL_H

#include <stddef.h>

#include "daemon/xs_server.h"

struct xs_local;

struct xs_local *xs_local_new(struct xs_server *srv);
void xs_local_free(struct xs_local *xl);

/* Each returns 0, or a negative errno (Xen's error, e.g. -ENOENT). */
int xs_local_write(struct xs_local *xl, const char *path, const char *value);
int xs_local_writef(struct xs_local *xl, const char *path,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int xs_local_mkdir(struct xs_local *xl, const char *path);
int xs_local_rm(struct xs_local *xl, const char *path);
/* perms in xenstore-chmod's form, one string per entry: "n0", "r5". */
int xs_local_set_perms(struct xs_local *xl, const char *path,
		       const char *const *perms, size_t n);
/* The same from parsed entries (xs_perms.h). */
int xs_local_set_perm_list(struct xs_local *xl, const char *path,
			   const struct xs_perm *perms, unsigned n);
/* The value, malloc'd, or NULL (errno set: ENOENT, ...). */
char *xs_local_read(struct xs_local *xl, const char *path);

#endif
