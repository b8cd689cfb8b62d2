/* Requests on nodes: READ, WRITE, MKDIR, RM, DIRECTORY(_PART), *_PERMS. */
#include "daemon/xs_core.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"

/* --- access checks ------------------------------------------------------- */

/* A missing node: say ENOENT only if its nearest ancestor grants `need`,
 * so nobody learns what exists where they may not look. */
static int missing_errno(struct xs_req *r, const char *path, unsigned need)
{
	char buf[XS_PATH_BUF];
	struct xs_nodeview nv;

	if (path[0] != '/' || strcmp(path, "/") == 0)
		return ENOENT;
	strcpy(buf, path);
	for (;;) {
		int err;

		buf[xs_path_parent_len(buf)] = '\0';
		err = xs_view_get(&r->view, buf, &nv);
		if (!err)
			return xs_perm_for(&r->conn->who, nv.perms, nv.nperms) &
			       need ? ENOENT : EACCES;
		if (err != ENOENT || strcmp(buf, "/") == 0)
			return err;
	}
}

int xs_check_node(struct xs_req *r, const char *path, unsigned need,
		  struct xs_nodeview *nv)
{
	int err = xs_view_get(&r->view, path, nv);

	if (err == ENOENT)
		return missing_errno(r, path, need);
	if (err)
		return err;
	if ((xs_perm_for(&r->conn->who, nv->perms, nv->nperms) & need) != need)
		return EACCES;
	return 0;
}

/* The perms of nv, copied: a change to the node frees the original. */
static struct xs_perm *perms_copy(const struct xs_nodeview *nv)
{
	struct xs_perm *p = malloc(nv->nperms * sizeof(*p));

	if (p)
		memcpy(p, nv->perms, nv->nperms * sizeof(*p));
	return p;
}

/* --- creating nodes with their parents ------------------------------------ */

/* Length of the nearest existing ancestor of a missing path. */
static int nearest_ancestor(struct xs_req *r, const char *path, size_t *alen,
			    struct xs_nodeview *nv)
{
	char buf[XS_PATH_BUF];
	int err;

	strcpy(buf, path);
	do {
		buf[xs_path_parent_len(buf)] = '\0';
		err = xs_view_get(&r->view, buf, nv);
	} while (err == ENOENT && strcmp(buf, "/") != 0);
	*alen = strlen(buf);
	return err;
}

static int node_quota(struct xs_req *r, unsigned adding)
{
	const struct xs_who *who = &r->conn->who;
	long owned;

	if (who->privileged)
		return 0;
	owned = (long)xs_store_owned(r->view.db->store, who->domid) +
		xs_view_owned_delta(&r->view, who->domid);
	return owned + (long)adding > (long)r->conn->srv->quota.nodes ? ENOSPC
								      : 0;
}

/*
 * Create path and any missing parents (empty values), each inheriting
 * its parent's perms; what an unprivileged domain creates, it owns.
 * The new perms are returned in *perms (caller frees).
 */
static int create_path(struct xs_req *r, const char *path, const void *value,
		       uint32_t vlen, struct xs_perm **perms, unsigned *np)
{
	char buf[XS_PATH_BUF];
	struct xs_nodeview anc;
	size_t alen, len = strlen(path);
	unsigned levels = 1;
	int err = nearest_ancestor(r, path, &alen, &anc);

	if (err)
		return err;
	for (size_t i = alen + 1; i < len; i++)
		levels += path[i] == '/';
	if ((err = node_quota(r, levels)) != 0)
		return err;
	if (!(*perms = perms_copy(&anc)))
		return ENOMEM;
	*np = anc.nperms;
	if (!r->conn->who.privileged)
		(*perms)[0].domid = r->conn->who.domid;
	strcpy(buf, path);
	for (size_t i = alen + 1; !err && i < len; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		err = xs_view_put(&r->view, buf, "", 0, *perms, *np);
		buf[i] = '/';
	}
	if (!err)
		err = xs_view_put(&r->view, path, value, vlen, *perms, *np);
	if (err) {
		free(*perms);
		*perms = NULL;
	}
	return err;
}

/* --- READ / WRITE / MKDIR / RM --------------------------------------------- */

int xs_op_read(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	struct xs_nodeview nv;
	int err = xs_req_path(r, xs_onearg(r), false, path, NULL);

	if (!err)
		err = xs_check_node(r, path, XS_PERM_READ, &nv);
	return err ? err : xs_reply(r, nv.value, nv.vlen);
}

/* Write to an existing node, or create it; then announce the change. */
static int write_value(struct xs_req *r, const char *path, const char *value,
		       uint32_t vlen, bool only_create)
{
	struct xs_nodeview nv;
	struct xs_perm *perms = NULL;
	unsigned np = 0;
	int err = xs_check_node(r, path, XS_PERM_WRITE, &nv);

	if (err == ENOENT) {
		err = create_path(r, path, value, vlen, &perms, &np);
	} else if (!err && only_create) {
		return 0;	/* MKDIR of an existing node changes nothing */
	} else if (!err) {
		np = nv.nperms;
		perms = perms_copy(&nv);
		err = perms ? xs_view_put(&r->view, path, value, vlen, perms,
					  np) : ENOMEM;
	}
	if (!err)
		xs_fire(r, path, false, perms, np, NULL, 0);
	free(perms);
	return err;
}

int xs_op_write(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	const char *nul = memchr(r->data, '\0', r->len);
	uint32_t off, vlen;
	int err;

	if (!nul)
		return EINVAL;
	off = (uint32_t)(nul - r->data) + 1;
	vlen = r->len - off;
	if ((err = xs_req_path(r, r->data, false, path, NULL)) != 0)
		return err;
	if (!xs_privileged(r) && vlen > r->conn->srv->quota.value_size)
		return ENOSPC;
	err = write_value(r, path, r->data + off, vlen, false);
	return err ? err : xs_ack(r);
}

int xs_op_mkdir(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	int err = xs_req_path(r, xs_onearg(r), false, path, NULL);

	if (!err)
		err = write_value(r, path, "", 0, true);
	return err ? err : xs_ack(r);
}

struct rm_ctx {
	struct xs_req *r;
	const char *root;
};

/* Each removed node is announced: the top one to its watchers and those
 * of its parents, the ones below only to watches on exactly them. */
static void rm_gone(const char *path, const struct xs_perm *perms, unsigned n,
		    void *opaque)
{
	const struct rm_ctx *rc = opaque;

	xs_fire(rc->r, path, strcmp(path, rc->root) != 0, perms, n, NULL, 0);
}

int xs_op_rm(struct xs_req *r)
{
	char path[XS_PATH_BUF], parent[XS_PATH_BUF];
	struct xs_nodeview nv;
	struct rm_ctx rc = { r, path };
	int err = xs_req_path(r, xs_onearg(r), false, path, NULL);

	if (!err)
		err = xs_check_node(r, path, XS_PERM_WRITE, &nv);
	if (err == ENOENT) {
		/* Removing what is not there is fine if its parent is. */
		size_t plen = xs_path_parent_len(path);
		memcpy(parent, path, plen);
		parent[plen] = '\0';
		err = xs_view_get(&r->view, parent, &nv);
		return err ? err : xs_ack(r);
	}
	if (err)
		return err;
	if (strcmp(path, "/") == 0)
		return EINVAL;
	err = xs_view_del(&r->view, path, rm_gone, &rc);
	return err ? err : xs_ack(r);
}

/* --- DIRECTORY / DIRECTORY_PART ------------------------------------------- */

static int add_name(const char *name, void *opaque)
{
	return xs_buf_append(opaque, name, strlen(name) + 1) ? ENOMEM : 0;
}

/* All child names of path, nul-terminated each, into b. */
static int list_children(struct xs_req *r, const char *path,
			 struct xs_buf *b, struct xs_nodeview *nv)
{
	int err = xs_check_node(r, path, XS_PERM_READ, nv);

	return err ? err : xs_view_children(&r->view, path, add_name, b);
}

int xs_op_directory(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	struct xs_nodeview nv;
	struct xs_buf b = { 0 };
	int err = xs_req_path(r, xs_onearg(r), false, path, NULL);

	if (!err)
		err = list_children(r, path, &b, &nv);
	if (!err)
		err = xs_reply(r, xs_buf_peek(&b), xs_buf_len(&b));
	xs_buf_free(&b);
	return err;
}

static int parse_offset(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return EINVAL;
	v = strtoull(s, &end, 10);
	if (*end)
		return EINVAL;
	*out = (size_t)v;
	return 0;
}

/*
 * The part of the child list starting at byte offset `off`: the node's
 * generation, then as many whole names as fit; an empty name marks the
 * end of the list.  Clients reassemble lists longer than one payload.
 */
static int reply_part(struct xs_req *r, const struct xs_buf *all, size_t off,
		      uint64_t gen)
{
	char out[XENSTORE_PAYLOAD_MAX];
	const char *list = xs_buf_peek(all);
	size_t total = xs_buf_len(all), used, len = 0;
	int g = snprintf(out, sizeof(out), "%" PRIu64, gen);

	used = (size_t)g + 1;
	if (off >= total) {
		out[used++] = '\0';
		return xs_reply(r, out, used);
	}
	while (off + len < total) {
		size_t name = strlen(list + off + len) + 1;
		if (used + len + name >= sizeof(out))
			break;
		len += name;
	}
	memcpy(out + used, list + off, len);
	used += len;
	if (off + len == total)
		out[used++] = '\0';
	return xs_reply(r, out, used);
}

int xs_op_directory_part(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	const char *vec[2];
	struct xs_nodeview nv;
	struct xs_buf b = { 0 };
	size_t off = 0;
	int err;

	if (xs_strings(r, vec, 2) != 2)
		return EINVAL;
	err = xs_req_path(r, vec[0], false, path, NULL);
	if (!err)
		err = parse_offset(vec[1], &off);
	if (!err)
		err = list_children(r, path, &b, &nv);
	if (!err)
		err = reply_part(r, &b, off, nv.gen);
	xs_buf_free(&b);
	return err;
}

/* --- GET_PERMS / SET_PERMS ------------------------------------------------ */

int xs_op_get_perms(struct xs_req *r)
{
	char path[XS_PATH_BUF], out[XENSTORE_PAYLOAD_MAX];
	struct xs_nodeview nv;
	size_t len;
	int err = xs_req_path(r, xs_onearg(r), true, path, NULL);

	if (!err)
		err = xs_check_node(r, path, XS_PERM_READ, &nv);
	if (err)
		return err;
	len = xs_perms_format(nv.perms, nv.nperms, out, sizeof(out));
	return len ? xs_reply(r, out, len) : E2BIG;
}

static int apply_perms(struct xs_req *r, const char *path,
		       const struct xs_perm *perms, unsigned np)
{
	struct xs_nodeview nv;
	struct xs_perm *old;
	unsigned nold;
	int err = xs_check_node(r, path, XS_PERM_WRITE | XS_PERM_OWNER, &nv);

	if (err)
		return err;
	/* Only dom0 may give a node away. */
	if (!xs_privileged(r) && perms[0].domid != nv.perms[0].domid)
		return EPERM;
	if (!(old = perms_copy(&nv)))
		return ENOMEM;
	nold = nv.nperms;
	err = xs_view_put(&r->view, path, nv.value, nv.vlen, perms, np);
	if (!err)
		xs_fire(r, path, false, perms, np, old, nold);
	free(old);
	return err;
}

int xs_op_set_perms(struct xs_req *r)
{
	char path[XS_PATH_BUF];
	size_t plen = strnlen(r->data, r->len);
	unsigned max = xs_privileged(r) ? XS_PERMS_MAX
					: r->conn->srv->quota.perms;
	struct xs_perm *perms;
	unsigned np = 0;
	int err;

	if (plen == r->len)
		return EINVAL;	/* not even a path */
	if ((err = xs_req_path(r, r->data, true, path, NULL)) != 0)
		return err;
	if (!(perms = calloc(XS_PERMS_MAX, sizeof(*perms))))
		return ENOMEM;
	err = xs_perms_parse(r->data + plen + 1, r->len - plen - 1, perms,
			     max, &np);
	if (!err)
		err = apply_perms(r, path, perms, np);
	free(perms);
	return err ? err : xs_ack(r);
}
