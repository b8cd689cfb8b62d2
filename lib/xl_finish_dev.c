/* Disks and vifs once the whole config is known: ordering, numbering,
 * defaults that depend on the guest type, and clashes between devices. */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_disk(struct dc_builder *b, const char *spec,
		     const struct xl_loc *loc, const char *what)
{
	struct domain_config *dc = b->dc;
	struct xl_spec_ctx ctx = { b->msgs, *loc, what };
	struct xl_disk *grown;

	grown = realloc(dc->disks, (dc->n_disks + 1) * sizeof(*dc->disks));
	if (!grown)
		abort();
	dc->disks = grown;
	if (xl_disk_parse(&dc->disks[dc->n_disks], spec, &ctx) == 0)
		dc->n_disks++;
}

/* xm's cdrom = "PATH": the HVM guest's second IDE master. */
static void cdrom_disk(struct dc_builder *b)
{
	char *spec;

	if (!b->cdrom)
		return;
	/* target= last, so a path with commas survives. */
	spec = xl_xasprintf("vdev=hdc,devtype=cdrom,target=%s", b->cdrom->text);
	add_disk(b, spec, &b->cdrom->loc, "cdrom");
	free(spec);
}

/* By device number, keeping config order for equals (insertion sort: a
 * guest has a handful of disks). */
static void sort_disks(struct domain_config *dc)
{
	for (size_t i = 1; i < dc->n_disks; i++) {
		struct xl_disk d = dc->disks[i];
		size_t j = i;

		for (; j > 0 && dc->disks[j - 1].devnum > d.devnum; j--)
			dc->disks[j] = dc->disks[j - 1];
		dc->disks[j] = d;
	}
}

static void check_disks(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;

	for (size_t i = 1; i < dc->n_disks; i++) {
		const struct xl_disk *a = &dc->disks[i - 1], *d = &dc->disks[i];

		if (a->devnum != d->devnum)
			continue;
		xl_msgs_add(b->msgs, XL_ERROR, &d->loc, "disk: '%s': vdev %s "
			    "is already used by '%s' at %s:%u:%u", d->spec,
			    d->vdev, a->spec, a->loc.file, a->loc.line,
			    a->loc.col);
	}
}

/* xm's nics = N: at least N interfaces, the missing ones all defaults. */
static void nics_vifs(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;
	const struct xl_setting *s = xl_config_get(b->cfg, "nics");

	while (s && b->nics > 0 && dc->n_vifs < (size_t)b->nics) {
		struct xl_spec_ctx ctx = { b->msgs, s->value->loc, "nics" };
		struct xl_vif *grown;

		grown = realloc(dc->vifs, (dc->n_vifs + 1) * sizeof(*dc->vifs));
		if (!grown)
			abort();
		dc->vifs = grown;
		if (xl_vif_parse(&dc->vifs[dc->n_vifs], "", &ctx) < 0)
			break;
		dc->n_vifs++;
	}
}

static bool devid_used(const struct domain_config *dc, int devid)
{
	for (size_t i = 0; i < dc->n_vifs; i++)
		if (dc->vifs[i].devid == devid)
			return true;
	return false;
}

/* Explicit devids stay; the others take the lowest free ones in order. */
static void number_vifs(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;
	int next = 0;

	for (size_t i = 0; i < dc->n_vifs; i++)
		for (size_t j = 0; j < i; j++)
			if (dc->vifs[i].devid >= 0 &&
			    dc->vifs[i].devid == dc->vifs[j].devid)
				xl_msgs_add(b->msgs, XL_ERROR, &dc->vifs[i].loc,
					    "vif: '%s': devid %d is already "
					    "used by '%s'", dc->vifs[i].spec,
					    dc->vifs[i].devid, dc->vifs[j].spec);
	for (size_t i = 0; i < dc->n_vifs; i++) {
		if (dc->vifs[i].devid >= 0)
			continue;
		while (devid_used(dc, next))
			next++;
		dc->vifs[i].devid = next++;
	}
}

static void vif_defaults(struct dc_builder *b, struct xl_vif *v)
{
	bool hvm = b->dc->type == DOMAIN_HVM;

	if (!hvm && v->type == XL_VIF_TYPE_IOEMU)
		xl_msgs_add(b->msgs, XL_WARNING, &v->loc, "vif: '%s': "
			    "type=ioemu only applies to HVM guests; ignored",
			    v->spec);
	if (!hvm || v->type == XL_VIF_TYPE_DEFAULT)
		v->type = hvm ? XL_VIF_TYPE_IOEMU : XL_VIF_TYPE_VIF;
	if (hvm && v->type == XL_VIF_TYPE_IOEMU && !v->model)
		v->model = xl_xstrdup("rtl8139");
	if (!v->mac_given)
		xl_mac_generate(b->dc->uuid, (unsigned)v->devid, v->mac);
}

static void check_vif_pair(struct dc_builder *b, const struct xl_vif *a,
			   const struct xl_vif *v)
{
	char mac[18];

	/* Two generated MACs only collide on a duplicate devid, which is
	 * reported already. */
	if (!memcmp(a->mac, v->mac, 6) &&
	    (a->mac_given || v->mac_given || a->devid != v->devid)) {
		xl_mac_format(v->mac, mac);
		xl_msgs_add(b->msgs, XL_ERROR, &v->loc, "vif: '%s': MAC %s is "
			    "already used by '%s'%s", v->spec, mac, a->spec,
			    v->mac_given ? "" : " (set mac= on one of them)");
	}
	if (a->vifname && v->vifname && !strcmp(a->vifname, v->vifname))
		xl_msgs_add(b->msgs, XL_ERROR, &v->loc, "vif: '%s': vifname %s "
			    "is already used by '%s'", v->spec, v->vifname,
			    a->spec);
}

void xl_finish_devices(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;

	cdrom_disk(b);
	sort_disks(dc);
	check_disks(b);
	nics_vifs(b);
	number_vifs(b);
	for (size_t i = 0; i < dc->n_vifs; i++)
		vif_defaults(b, &dc->vifs[i]);
	for (size_t i = 0; i < dc->n_vifs; i++)
		for (size_t j = 0; j < i; j++)
			check_vif_pair(b, &dc->vifs[j], &dc->vifs[i]);
}
