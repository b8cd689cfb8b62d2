/*
 * The xenstore UNIX socket (Xen's /run/xenstored/socket): every client
 * is a privileged dom0 connection, as with xenstored.  Non-blocking, on
 * the daemon's event loop; each client has its own output queue, so a
 * slow reader only ever delays itself.
 */
#ifndef XENON_XS_SOCKET_H
#define XENON_XS_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/event_loop.h"
#include "daemon/xs_server.h"

#define XS_SOCKET_DEFAULT "/run/xenstored/socket"

struct xs_socket;

/* Listen on path (parent directories created, a stale socket replaced;
 * mode 0600).  NULL with a sentence in err on failure. */
struct xs_socket *xs_socket_open(struct event_loop *loop,
				 struct xs_server *srv, const char *path,
				 char *err, size_t errlen);
/* Who the clients of a socket are.  xs_socket_open() is {0, false}. */
struct xs_socket_opts {
	unsigned domid;		/* connections act as this domain */
	bool channel;		/* the domain's channel (xs_conn_make_channel):
				 * one client at a time, a new one replaces
				 * the old (xenon-vmm reconnecting) */
};

/* Like xs_socket_open, with clients bound as opts says (xs_domain_socket.h
 * uses it for a guest's channel). */
struct xs_socket *xs_socket_listen(struct event_loop *loop,
				   struct xs_server *srv, const char *path,
				   const struct xs_socket_opts *opts,
				   char *err, size_t errlen);
/* Serve only connections made by process pid (0: anyone).  For a
 * domain's channel: its own xenon-vmm (SO_PEERCRED), so that another
 * process dialling the path, such as a monitor left over from an earlier
 * domain with the same id, is refused instead of replacing the channel
 * over and over with the real one. */
void xs_socket_set_peer_pid(struct xs_socket *s, pid_t pid);
/* Close every client and the listener, and remove the socket file. */
void xs_socket_close(struct xs_socket *s);

#endif
