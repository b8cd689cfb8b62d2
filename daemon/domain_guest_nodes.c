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
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_local.h"
#include "daemon/xs_server.h"
#include "lib/log.h"

static json_t *perms_json(const struct xs_perm *p, unsigned n)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, json_sprintf("%c%u",
					letter[p[i].access & 3], p[i].domid));
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

/*
 * The node's saved permission list for the guest now `domid`: entries for
 * `old` name `domid`; the owner entry must be the guest's (a record from
 * before permissions were carried, or a damaged one, gets owner-only).
 * Strings go to buf; returns the count.
 */
static size_t node_perms(json_t *saved, unsigned old, unsigned domid,
			 char buf[][16], const char **out)
{
	size_t i, n = 0;
	json_t *e;

	json_array_foreach(saved, i, e) {
		const char *s = json_string_value(e);
		char *end;
		unsigned long id;

		if (n == NODE_PERMS_MAX || !s || !s[0] ||
		    !strchr("nrwb", s[0]) || (id = strtoul(s + 1, &end, 10), *end) ||
		    end == s + 1 || id > 0xffff)
			break;
		snprintf(buf[n], 16, "%c%lu", s[0], id == old ? domid : id);
		out[n] = buf[n];
		n++;
	}
	if (n == 0 || i < json_array_size(saved) ||
	    strtoul(buf[0] + 1, NULL, 10) != domid) {
		snprintf(buf[0], 16, "n%u", domid);
		out[0] = buf[0];
		n = 1;
	}
	return n;
}

static void write_node(struct domain *d, json_t *n, unsigned old)
{
	const char *rel = json_string_value(json_object_get(n, "path"));
	const char *val = json_string_value(json_object_get(n, "value"));
	const char *perms[NODE_PERMS_MAX];
	char buf[NODE_PERMS_MAX][16], path[4200];
	size_t np;

	if (!rel || !val || !safe_rel(rel) ||
	    (size_t)snprintf(path, sizeof(path), "/local/domain/%u/%s",
			     d->domid, rel) >= sizeof(path))
		return;
	np = node_perms(json_object_get(n, "perms"), old, d->domid, buf, perms);
	if (xs_local_write(d->mgr->xsl, path, val) < 0 ||
	    xs_local_set_perms(d->mgr->xsl, path, perms, np) < 0)
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
