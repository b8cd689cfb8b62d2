/*
 * The store nodes a guest wrote under /local/domain/<id> (owned by it:
 * control/feature-*, data/...) travel in the save file's and the
 * migration's domain record, as "guest_nodes", and are written back,
 * under the new ID if it changed, right after xenond lays out the
 * domain's store.  The guest does not know it moved and never writes
 * them again.  device/ is left out: frontends are set up afresh.
 * Values that are not UTF-8 text are not carried (JSON strings).
 * Each node keeps the permissions its guest gave it ("perms", as on the
 * wire), with the guest's old domain ID replaced by its new one.
 */
#include "daemon/domain.h"

#include <stdio.h>
#include <string.h>

#include "daemon/xs_local.h"
#include "daemon/xs_server.h"
#include "lib/log.h"

/* The node's permissions as the wire spells them: "n5", "r0", ... */
static json_t *perms_json(const struct xs_perm *p, unsigned n)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = xs_perms_format(p, n, buf, sizeof(buf));
	json_t *a = json_array();

	for (size_t off = 0; off < len; off += strlen(buf + off) + 1)
		json_array_append_new(a, json_string(buf + off));
	return a;
}

static void add_node(void *opaque, const char *rel, const char *value,
		     size_t vlen, const struct xs_perm *perms, unsigned nperms)
{
	json_t *v = json_stringn(value, vlen);

	if (!strncmp(rel, "device/", 7) || !strcmp(rel, "device") || !v) {
		json_decref(v);
		return;
	}
	json_array_append_new(opaque, json_pack("{s:s, s:o, s:o}", "path", rel,
						"value", v, "perms",
						perms_json(perms, nperms)));
}

json_t *domain_guest_nodes_export(const struct domain *d)
{
	json_t *a = json_array();
	char base[64];

	snprintf(base, sizeof(base), "/local/domain/%u", d->domid);
	xs_server_node_export(d->mgr->xs, base, d->domid, add_node, a);
	return a;
}

/* Keep a save file's or migration's guest nodes to write once the
 * domain's store exists. */
void domain_guest_nodes_take(struct domain *d, json_t *record)
{
	json_decref(d->guest_nodes);
	d->guest_nodes = json_incref(json_object_get(record, "guest_nodes"));
	d->guest_nodes_domid =
		(unsigned)json_integer_value(json_object_get(record, "domid"));
}

/* Relative, no "..", no empty components: stays in the domain's tree. */
static bool safe_rel(const char *p)
{
	if (!*p || *p == '/' || strstr(p, "//") || strstr(p, ".."))
		return false;
	return p[strlen(p) - 1] != '/';
}

#define NODE_PERMS_MAX 16
#define PERM_TEXT_MAX 8		/* "b65535" and its nul */

/*
 * The node's saved permissions, checked as the store checks SET_PERMS
 * (xs_perms_parse), with entries for the guest's old ID naming its new
 * one.  A record from before permissions were carried, or a list that is
 * malformed, too long or not owned by the guest, gives owner-only.
 */
static unsigned node_perms(json_t *saved, unsigned old, unsigned domid,
			   struct xs_perm *p)
{
	char wire[NODE_PERMS_MAX * PERM_TEXT_MAX];
	size_t len = 0, i;
	unsigned n = 0;
	json_t *e;

	json_array_foreach(saved, i, e) {
		const char *s = json_string_value(e);
		size_t l = s ? strlen(s) + 1 : 0;

		if (!s || len + l > sizeof(wire)) {
			len = 0;	/* refused below */
			break;
		}
		memcpy(wire + len, s, l);
		len += l;
	}
	if (xs_perms_parse(wire, len, p, NODE_PERMS_MAX, &n) == 0) {
		for (unsigned k = 0; k < n; k++)
			if (p[k].domid == old)
				p[k].domid = domid;
		if (p[0].domid == domid)
			return n;
	}
	p[0] = (struct xs_perm){ .domid = domid, .access = XS_PERM_NONE };
	return 1;
}

static void write_node(struct domain *d, json_t *n, unsigned old)
{
	const char *rel = json_string_value(json_object_get(n, "path"));
	const char *val = json_string_value(json_object_get(n, "value"));
	struct xs_perm perms[NODE_PERMS_MAX];
	char path[4200];
	unsigned np;

	if (!rel || !val || !safe_rel(rel) ||
	    (size_t)snprintf(path, sizeof(path), "/local/domain/%u/%s",
			     d->domid, rel) >= sizeof(path))
		return;
	np = node_perms(json_object_get(n, "perms"), old, d->domid, perms);
	if (xs_local_write(d->mgr->xsl, path, val) < 0 ||
	    xs_local_set_perm_list(d->mgr->xsl, path, perms, np) < 0)
		log_warn("domain %s: cannot restore its store node %s",
			 d->name, path);
}

void domain_guest_nodes_write(struct domain *d)
{
	json_t *n;
	size_t i;

	if (!d->guest_nodes)
		return;
	json_array_foreach(d->guest_nodes, i, n)
		write_node(d, n, d->guest_nodes_domid);
	json_decref(d->guest_nodes);
	d->guest_nodes = NULL;
}
