/*
 * A guest's way into the store: a listening UNIX socket per domain that
 * the domain's xenon-vmm connects to (`--xenstore unix:PATH`), relaying
 * the guest's xenstore channel (a virtio console told apart by its PCI
 * subsystem ID, see docs/xenstore.md).  Connections are bound to the
 * domain: unprivileged, with its permissions, quotas and relative path
 * base, and its watches are durable (xs_conn_make_channel), so a guest
 * keeps its watches across a xenond restart.  One connection at a time:
 * a new one (xenon-vmm reconnecting) replaces the old; once the monitor's
 * pid is known, connections from any other process are refused.
 *
 * Only the daemon should be able to reach it: the socket is mode 0600 and
 * its directory should be root's.
 */
#ifndef XENON_XS_DOMAIN_SOCKET_H
#define XENON_XS_DOMAIN_SOCKET_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/event_loop.h"
#include "daemon/xs_server.h"

struct xs_domain_socket;

/* Listen on path for domain domid (1..0x7fef); the caller introduces the
 * domain (xs_server_introduce).  A stale socket file is replaced, parent
 * directories are created.  NULL with a sentence in err on failure. */
struct xs_domain_socket *xs_domain_socket_open(struct event_loop *loop,
					       struct xs_server *srv,
					       unsigned domid,
					       const char *path, char *err,
					       size_t errlen);
/* Serve only the domain's own monitor, process pid (SO_PEERCRED); until
 * this is called, anyone.  The domain manager sets it as soon as it knows
 * the pid, before the event loop can accept anything. */
void xs_domain_socket_set_vmm(struct xs_domain_socket *ds, pid_t pid);
/* Close the connection and the listener and remove the socket file.  The
 * domain's durable watches stay (xs_server_release forgets them). */
void xs_domain_socket_close(struct xs_domain_socket *ds);

#endif
