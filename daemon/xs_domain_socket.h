/* TEMPORARY stub until the xsch branch lands: a domain's xenstore channel. */
#ifndef XENON_XS_DOMAIN_SOCKET_H
#define XENON_XS_DOMAIN_SOCKET_H

#include <stddef.h>

#include "daemon/event_loop.h"
#include "daemon/xs_server.h"

struct xs_domain_socket;

struct xs_domain_socket *xs_domain_socket_open(struct event_loop *loop,
					       struct xs_server *srv,
					       unsigned domid, const char *path,
					       char *err, size_t errlen);
void xs_domain_socket_close(struct xs_domain_socket *s);

#endif
