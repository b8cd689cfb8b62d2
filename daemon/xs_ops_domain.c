/* Domain requests: INTRODUCE, RELEASE, IS_DOMAIN_INTRODUCED,
 * GET_DOMAIN_PATH, RESUME, SET_TARGET, RESTRICT. */
#include "daemon/xs_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"
#include "lib/log.h"

bool xs_domain_introduced(const struct xs_server *srv, unsigned domid)
{
	if (domid == 0)
		return true;	/* dom0 is always there */
	return domid < 65536 && (srv->introduced[domid / 8] >> (domid % 8)) & 1;
}

static void set_introduced(struct xs_server *srv, unsigned domid, bool on)
{
	uint8_t bit = (uint8_t)(1u << (domid % 8));

	if (on)
		srv->introduced[domid / 8] |= bit;
	else
		srv->introduced[domid / 8] &= (uint8_t)~bit;
}

/* A real guest domain id: not dom0, not a special DOMID_*. */
static int guest_domid(const char *s, unsigned *domid)
{
	if (!s || xs_parse_domid(s, domid) || *domid == 0 ||
	    *domid >= XS_DOMID_FIRST_RESERVED)
		return EINVAL;
	return 0;
}

static void fire_special(struct xs_server *srv, const char *name)
{
	xs_server_fire(srv, name, true, NULL, 0, NULL, 0);
}

int xs_server_introduce(struct xs_server *srv, unsigned domid)
{
	if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED)
		return EINVAL;
	/* Introducing again only re-establishes the channel in Xen. */
	if (xs_domain_introduced(srv, domid))
		return 0;
	set_introduced(srv, domid, true);
	log_info("xenstore: domain %u introduced", domid);
	fire_special(srv, "@introduceDomain");
	return 0;
}

static void drop_target(struct xs_server *srv, unsigned domid)
{
	for (unsigned i = 0; i < srv->ntargets;) {
		if (srv->targets[i].domid == domid ||
		    srv->targets[i].target == domid)
			srv->targets[i] = srv->targets[--srv->ntargets];
		else
			i++;
	}
}

int xs_server_release(struct xs_server *srv, unsigned domid)
{
	if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED)
		return EINVAL;
	if (!xs_domain_introduced(srv, domid))
		return ENOENT;
	set_introduced(srv, domid, false);
	drop_target(srv, domid);
	/* The domain's watches go first, so its own nodes' removal by the
	 * toolstack does not wake a dead guest. */
	for (struct xs_conn *c = srv->conns; c; c = c->next) {
		if (!c->who.privileged && c->who.domid == domid)
			xs_conn_reset(c);
		xs_apply_target(srv, c);
	}
	xs_channel_forget(srv, domid);
	xs_persist_commit(srv->db.persist);
	log_info("xenstore: domain %u released", domid);
	fire_special(srv, "@releaseDomain");
	return 0;
}

int xs_op_introduce(struct xs_req *r)
{
	const char *vec[3];
	unsigned domid, port;
	int err;

	/* domid, page frame (unused: there is no shared ring), event channel */
	if (xs_strings(r, vec, 3) < 3 || guest_domid(vec[0], &domid))
		return EINVAL;
	if (xs_parse_domid(vec[2], &port) || port == 0)
		return EINVAL;
	err = xs_server_introduce(r->conn->srv, domid);
	return err ? err : xs_ack(r);
}

int xs_op_release(struct xs_req *r)
{
	unsigned domid;
	int err = guest_domid(xs_onearg(r), &domid);

	if (!err)
		err = xs_server_release(r->conn->srv, domid);
	return err ? err : xs_ack(r);
}

int xs_op_is_domain_introduced(struct xs_req *r)
{
	const char *arg = xs_onearg(r);
	unsigned domid;

	if (!arg || xs_parse_domid(arg, &domid))
		return EINVAL;
	if (domid == XS_DOMID_SELF ||
	    xs_domain_introduced(r->conn->srv, domid))
		return xs_reply(r, "T", 2);
	return xs_reply(r, "F", 2);
}

int xs_op_get_domain_path(struct xs_req *r)
{
	const char *arg = xs_onearg(r);
	char out[32];
	unsigned domid;
	int n;

	if (!arg || xs_parse_domid(arg, &domid))
		return EINVAL;
	n = snprintf(out, sizeof(out), "/local/domain/%u", domid);
	return xs_reply(r, out, (size_t)n + 1);
}

int xs_op_resume(struct xs_req *r)
{
	unsigned domid;

	if (guest_domid(xs_onearg(r), &domid))
		return EINVAL;
	if (!xs_domain_introduced(r->conn->srv, domid))
		return ENOENT;
	return xs_ack(r);
}

int xs_op_set_target(struct xs_req *r)
{
	struct xs_server *srv = r->conn->srv;
	const char *vec[2];
	unsigned domid, target;
	struct xs_target *t;

	if (xs_strings(r, vec, 2) < 2 || guest_domid(vec[0], &domid) ||
	    guest_domid(vec[1], &target))
		return EINVAL;
	if (!xs_domain_introduced(srv, domid) ||
	    !xs_domain_introduced(srv, target))
		return ENOENT;
	drop_target(srv, domid);
	t = realloc(srv->targets, (srv->ntargets + 1) * sizeof(*t));
	if (!t)
		return ENOMEM;
	srv->targets = t;
	t[srv->ntargets++] = (struct xs_target){ domid, target };
	for (struct xs_conn *c = srv->conns; c; c = c->next)
		xs_apply_target(srv, c);
	return xs_ack(r);
}

/*
 * RESTRICT (Xen 4.7-4.8's request for deprivileged device models): from
 * now on this connection acts as domain <domid>, irreversibly.  It is how
 * a dom0 tool, or a test, speaks for a guest over the socket.
 */
int xs_op_restrict(struct xs_req *r)
{
	struct xs_conn *c = r->conn;
	unsigned domid;

	if (guest_domid(xs_onearg(r), &domid))
		return EINVAL;
	xs_ack(r);
	c->who.domid = domid;
	c->who.privileged = false;
	xs_apply_target(c->srv, c);
	log_info("xenstore: conn %llu restricted to domain %u",
		 (unsigned long long)c->serial, domid);
	return 0;
}
