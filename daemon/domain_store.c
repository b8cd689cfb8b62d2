/*
 * A domain's entries in xenstore, in Xen's layout:
 *
 *   /local/domain/<id>/{name, domid, vm, memory/, cpu/<n>/availability,
 *                       control/, data/, device/{vbd,vif}/<n>/, console/}
 *   /vm/<uuid>/{uuid, name, image/ostype, on_*, start_time}
 *   /local/domain/0/backend/{vbd,vif}/<id>/<n>/...
 *
 * Permissions as libxl sets them: the domain reads its own tree, owns the
 * parts it writes (control/, data/, device frontends), and sees nothing
 * of other domains.
 */
#include "daemon/domain.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/xs_local.h"
#include "daemon/xs_server.h"
#include "lib/log.h"

struct store_ctx {
	struct xs_local *xl;
	char base[64];          /* /local/domain/<id> */
	char ro[16], rw[16];    /* "r<id>", "n<id>" */
	int rc;
};

static void put(struct store_ctx *c, const char *path, const char *value)
{
	int rc = xs_local_write(c->xl, path, value);

	if (rc < 0 && !c->rc)
		c->rc = rc;
}

static void putf(struct store_ctx *c, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void putf(struct store_ctx *c, const char *value, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	put(c, path, value);
}

/* Owned by dom0, readable by the domain. */
static void perm_ro(struct store_ctx *c, const char *path)
{
	const char *p[] = { "n0", c->ro };
	int rc = xs_local_set_perms(c->xl, path, p, 2);

	if (rc < 0 && !c->rc)
		c->rc = rc;
}

/* Owned by the domain (dom0 is privileged anyway). */
static void perm_rw(struct store_ctx *c, const char *path)
{
	const char *p[] = { c->rw };
	int rc = xs_local_set_perms(c->xl, path, p, 1);

	if (rc < 0 && !c->rc)
		c->rc = rc;
}

static void sub(struct store_ctx *c, char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/%s", c->base, rel);
}

static void write_vm_tree(struct store_ctx *c, const struct domain *d,
			  const char *vm)
{
	char p[512], num[32];
	const struct domain_config *dc = &d->dc;

	snprintf(p, sizeof(p), "%s/uuid", vm);
	put(c, p, vm + 4);
	snprintf(p, sizeof(p), "%s/name", vm);
	put(c, p, d->name);
	snprintf(p, sizeof(p), "%s/image/ostype", vm);
	put(c, p, dc->type == DOMAIN_HVM ? "hvm" : "linux");
	if (dc->kernel) {
		snprintf(p, sizeof(p), "%s/image/kernel", vm);
		put(c, p, dc->kernel);
	}
	snprintf(p, sizeof(p), "%s/on_poweroff", vm);
	put(c, p, domain_action_name(dc->on_poweroff));
	snprintf(p, sizeof(p), "%s/on_reboot", vm);
	put(c, p, domain_action_name(dc->on_reboot));
	snprintf(p, sizeof(p), "%s/on_crash", vm);
	put(c, p, domain_action_name(dc->on_crash));
	snprintf(p, sizeof(p), "%s/start_time", vm);
	snprintf(num, sizeof(num), "%.2f", d->start_time);
	put(c, p, num);
	perm_ro(c, vm);
}

static void write_disks(struct store_ctx *c, const struct domain *d)
{
	for (size_t i = 0; i < d->dc.n_disks; i++) {
		const struct xl_disk *k = &d->dc.disks[i];
		char fe[256], be[256], num[16];

		snprintf(fe, sizeof(fe), "%s/device/vbd/%u", c->base, k->devnum);
		snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/%u",
			 d->domid, k->devnum);
		putf(c, be, "%s/backend", fe);
		putf(c, "0", "%s/backend-id", fe);
		putf(c, k->vdev, "%s/virtual-device-name", fe);
		snprintf(num, sizeof(num), "%u", k->devnum);
		putf(c, num, "%s/virtual-device", fe);
		putf(c, k->is_cdrom ? "cdrom" : "disk", "%s/device-type", fe);
		putf(c, "4", "%s/state", fe);
		perm_rw(c, fe);

		putf(c, fe, "%s/frontend", be);
		snprintf(num, sizeof(num), "%u", d->domid);
		putf(c, num, "%s/frontend-id", be);
		putf(c, k->target ? k->target : "", "%s/params", be);
		putf(c, xl_disk_backend_name(k->backend), "%s/type", be);
		putf(c, xl_disk_format_name(k->format), "%s/format", be);
		putf(c, k->readonly ? "r" : "w", "%s/mode", be);
		putf(c, k->vdev, "%s/dev", be);
		putf(c, k->is_cdrom ? "1" : "0", "%s/removable", be);
		putf(c, "1", "%s/online", be);
		putf(c, "4", "%s/state", be);
		perm_ro(c, be);
	}
}

static void write_vifs(struct store_ctx *c, const struct domain *d)
{
	for (size_t i = 0; i < d->dc.n_vifs; i++) {
		const struct xl_vif *v = &d->dc.vifs[i];
		char fe[256], be[256], num[16], mac[18], name[32];

		xl_mac_format(v->mac, mac);
		snprintf(fe, sizeof(fe), "%s/device/vif/%d", c->base, v->devid);
		snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%d",
			 d->domid, v->devid);
		snprintf(num, sizeof(num), "%d", v->devid);
		putf(c, be, "%s/backend", fe);
		putf(c, "0", "%s/backend-id", fe);
		putf(c, mac, "%s/mac", fe);
		putf(c, num, "%s/handle", fe);
		putf(c, "4", "%s/state", fe);
		perm_rw(c, fe);

		snprintf(name, sizeof(name), "vif%u.%d", d->domid, v->devid);
		putf(c, fe, "%s/frontend", be);
		snprintf(num, sizeof(num), "%u", d->domid);
		putf(c, num, "%s/frontend-id", be);
		putf(c, mac, "%s/mac", be);
		putf(c, v->bridge ? v->bridge : "", "%s/bridge", be);
		putf(c, v->vifname ? v->vifname : name, "%s/vifname", be);
		if (v->ip)
			putf(c, v->ip, "%s/ip", be);
		putf(c, "1", "%s/online", be);
		putf(c, "4", "%s/state", be);
		perm_ro(c, be);
	}
}

/* The domain-owned parts: control/ (shutdown requests, features), data/. */
static void write_guest_writable(struct store_ctx *c)
{
	char p[256];

	sub(c, p, sizeof(p), "control/shutdown");
	put(c, p, "");
	sub(c, p, sizeof(p), "control");
	perm_rw(c, p);
	sub(c, p, sizeof(p), "control/shutdown");
	perm_rw(c, p);
	static const char *const owned[] = { "data", "drivers", "attr",
					     "error", "feature" };
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		sub(c, p, sizeof(p), owned[i]);
		xs_local_mkdir(c->xl, p);
		perm_rw(c, p);
	}
}

int domain_store_create(struct domain *d)
{
	struct store_ctx c = { .xl = d->mgr->xsl };
	char vm[64], uuid[37], p[256], num[32];

	snprintf(c.base, sizeof(c.base), "/local/domain/%u", d->domid);
	snprintf(c.ro, sizeof(c.ro), "r%u", d->domid);
	snprintf(c.rw, sizeof(c.rw), "n%u", d->domid);
	xl_uuid_format(d->uuid, uuid);
	snprintf(vm, sizeof(vm), "/vm/%s", uuid);

	xs_local_mkdir(c.xl, c.base);
	perm_ro(&c, c.base);
	sub(&c, p, sizeof(p), "name");
	put(&c, p, d->name);
	sub(&c, p, sizeof(p), "domid");
	snprintf(num, sizeof(num), "%u", d->domid);
	put(&c, p, num);
	sub(&c, p, sizeof(p), "vm");
	put(&c, p, vm);
	sub(&c, p, sizeof(p), "memory/target");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)d->dc.memory_mb * 1024);
	put(&c, p, num);
	sub(&c, p, sizeof(p), "memory/static-max");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)d->dc.maxmem_mb * 1024);
	put(&c, p, num);
	for (unsigned i = 0; i < d->dc.maxvcpus; i++) {
		snprintf(p, sizeof(p), "%s/cpu/%u/availability", c.base, i);
		put(&c, p, i < d->dc.vcpus ? "online" : "offline");
	}
	write_guest_writable(&c);
	write_vm_tree(&c, d, vm);
	write_disks(&c, d);
	write_vifs(&c, d);
	domain_guest_nodes_write(d);
	if (c.rc < 0)
		log_error("domain %s: xenstore layout incomplete: %s", d->name,
			  strerror(-c.rc));
	if (xs_server_introduce(d->mgr->xs, d->domid) < 0)
		log_warn("domain %s: xenstore introduce failed", d->name);
	return c.rc;
}

/* Written once the console exists (the pty is known then). */
void domain_store_console(struct domain *d, const char *tty)
{
	char p[256];

	snprintf(p, sizeof(p), "/local/domain/%u/console/tty", d->domid);
	xs_local_write(d->mgr->xsl, p, tty ? tty : "");
	snprintf(p, sizeof(p), "/local/domain/%u/console/type", d->domid);
	xs_local_write(d->mgr->xsl, p, "xenconsoled");
}

void domain_store_rename(struct domain *d)
{
	char p[256], uuid[37];

	snprintf(p, sizeof(p), "/local/domain/%u/name", d->domid);
	xs_local_write(d->mgr->xsl, p, d->name);
	xl_uuid_format(d->uuid, uuid);
	snprintf(p, sizeof(p), "/vm/%s/name", uuid);
	xs_local_write(d->mgr->xsl, p, d->name);
}

void domain_store_destroy(struct domain *d)
{
	char p[256], uuid[37];

	xs_server_release(d->mgr->xs, d->domid);
	snprintf(p, sizeof(p), "/local/domain/%u", d->domid);
	xs_local_rm(d->mgr->xsl, p);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u", d->domid);
	xs_local_rm(d->mgr->xsl, p);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vif/%u", d->domid);
	xs_local_rm(d->mgr->xsl, p);
	xl_uuid_format(d->uuid, uuid);
	snprintf(p, sizeof(p), "/vm/%s", uuid);
	xs_local_rm(d->mgr->xsl, p);
}
