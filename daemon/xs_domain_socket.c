/* TEMPORARY stub until the xsch branch lands. */
#include "daemon/xs_domain_socket.h"

#include <stdio.h>

struct xs_domain_socket *xs_domain_socket_open(struct event_loop *loop,
					       struct xs_server *srv,
					       unsigned domid, const char *path,
					       char *err, size_t errlen)
{
	(void)loop; (void)srv; (void)domid; (void)path;
	snprintf(err, errlen, "guest xenstore channel not built");
	return NULL;
}

void xs_domain_socket_close(struct xs_domain_socket *s)
{
	(void)s;
}
