/*
 * The store nodes a guest wrote under /local/domain/<id> (owned by it:
 * control/feature-*, data/...) travel in the save file's and the
 * migration's domain record, as "guest_nodes", and are written back,
 * under the new ID if it changed, right after xenond lays out the
 * domain's store.  The guest does not know it moved and never writes
 * them again.  device/ is left out: frontends are set up afresh.
 * Values that are not UTF-8 text are not carried (JSON strings).
 */
#include "daemon/domain.h"

#include <stdio.h>
#include <string.h>

#include "daemon/xs_local.h"
#include "daemon/xs_server.h"
#include "lib/log.h"

static void add_node(void *opaque, const char *rel, const char *value,
		     size_t vlen)
{
	json_t *v = json_stringn(value, vlen);

	if (!strncmp(rel, "device/", 7) || !strcmp(rel, "device") || !v) {
		json_decref(v);
		return;
	}
	json_array_append_new(opaque, json_pack("{s:s, s:o}", "path", rel,
						"value", v));
}

json_t *domain_guest_nodes_export(const struct domain *d)
{
	json_t *a = json_array();
	char base[64];

	snprintf(base, sizeof(base), "/local/domain/%u", d->domid);
	xs_server_node_export(d->mgr->xs, base, d->domid, add_node, a);
	return a;
}

/* Relative, no "..", no empty components: stays in the domain's tree. */
static bool safe_rel(const char *p)
{
	if (!*p || *p == '/' || strstr(p, "//") || strstr(p, ".."))
		return false;
	return p[strlen(p) - 1] != '/';
}

void domain_guest_nodes_write(struct domain *d)
{
	char path[4200], owner[16];
	const char *perms[] = { owner };
	json_t *n;
	size_t i;

	if (!d->guest_nodes)
		return;
	snprintf(owner, sizeof(owner), "n%u", d->domid);
	json_array_foreach(d->guest_nodes, i, n) {
		const char *rel = json_string_value(json_object_get(n, "path"));
		const char *val = json_string_value(json_object_get(n, "value"));

		if (!rel || !val || !safe_rel(rel) ||
		    (size_t)snprintf(path, sizeof(path), "/local/domain/%u/%s",
				     d->domid, rel) >= sizeof(path))
			continue;
		if (xs_local_write(d->mgr->xsl, path, val) < 0 ||
		    xs_local_set_perms(d->mgr->xsl, path, perms, 1) < 0)
			log_warn("domain %s: cannot restore its store node %s",
				 d->name, path);
	}
	json_decref(d->guest_nodes);
	d->guest_nodes = NULL;
}
