/*
 * The xenstore UNIX socket (Xen's /run/xenstored/socket): every client
 * is a privileged dom0 connection, as with xenstored.  Non-blocking, on
 * the daemon's event loop; each client has its own output queue, so a
 * slow reader only ever delays itself.
 */
#ifndef XENON_XS_SOCKET_H
#define XENON_XS_SOCKET_H

#include <stddef.h>

#include "daemon/event_loop.h"
#include "daemon/xs_server.h"

#define XS_SOCKET_DEFAULT "/run/xenstored/socket"

struct xs_socket;

/* Listen on path (parent directories created, a stale socket replaced;
 * mode 0600).  NULL with a sentence in err on failure. */
struct xs_socket *xs_socket_open(struct event_loop *loop,
				 struct xs_server *srv, const char *path,
				 char *err, size_t errlen);
/* Close every client and the listener, and remove the socket file. */
void xs_socket_close(struct xs_socket *s);

#endif
