/* A domain's channel socket: xs_socket.c's transport, bound to the domain. */
#include "daemon/xs_domain_socket.h"

#include <stdio.h>
#include <stdlib.h>

#include "daemon/xs_socket.h"
#include "lib/log.h"
#include "lib/xs_wire.h"

struct xs_domain_socket {
	struct xs_socket *sock;
	unsigned domid;
};

struct xs_domain_socket *xs_domain_socket_open(struct event_loop *loop,
					       struct xs_server *srv,
					       unsigned domid,
					       const char *path, char *err,
					       size_t errlen)
{
	const struct xs_socket_opts opts = { domid, true };
	struct xs_domain_socket *ds;

	if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED) {
		snprintf(err, errlen, "domain %u: not a guest domain id "
			 "(1..%u)", domid, XS_DOMID_FIRST_RESERVED - 1);
		return NULL;
	}
	ds = calloc(1, sizeof(*ds));
	if (!ds) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ds->domid = domid;
	ds->sock = xs_socket_listen(loop, srv, path, &opts, err, errlen);
	if (!ds->sock) {
		free(ds);
		return NULL;
	}
	log_info("xenstore: domain %u channel socket %s", domid, path);
	return ds;
}

void xs_domain_socket_set_vmm(struct xs_domain_socket *ds, pid_t pid)
{
	if (ds)
		xs_socket_set_peer_pid(ds->sock, pid);
}

void xs_domain_socket_close(struct xs_domain_socket *ds)
{
	if (!ds)
		return;
	xs_socket_close(ds->sock);
	free(ds);
}
