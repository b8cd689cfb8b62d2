/* The list-valued keys: cpus, disk, vif and serial. */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int one_cpulist(struct dc_builder *b, const struct xl_value *v,
		       const char *label, struct cpumap *m)
{
	const char *why;

	switch (v->type) {
	case XL_NUMBER:
		if (v->number < 0 || v->number >= DOMAIN_MAX_HOST_CPUS) {
			xl_msgs_add(b->msgs, XL_ERROR, &v->loc, "%s: CPU %lld "
				    "is out of range (0 to %d)", label,
				    v->number, DOMAIN_MAX_HOST_CPUS - 1);
			return -1;
		}
		cpumap_set(m, (unsigned)v->number);
		return 0;
	case XL_STRING:
		if (xl_cpulist_parse(v->text, m, &why) == 0)
			return 0;
		xl_msgs_add(b->msgs, XL_ERROR, &v->loc, "%s: '%s': %s", label,
			    v->text, why);
		return -1;
	case XL_LIST:
		break;
	}
	xl_msgs_add(b->msgs, XL_ERROR, &v->loc, "%s: expected a CPU list like "
		    "\"0-3,^2\", found a list", label);
	return -1;
}

/* "0-3,^2" pins every vCPU to the same CPUs; ["2", "3-8,^5"] pins vCPU i
 * to item i (xl.cfg(5)). */
static int key_cpus(struct dc_builder *b, const struct xl_setting *s)
{
	struct domain_cpus *c = &b->dc->cpus;
	const struct xl_value *v = s->value;
	char label[32];
	int rc = 0;

	free(c->maps);
	*c = (struct domain_cpus){ 0 };
	if (v->type != XL_LIST) {
		c->maps = xl_xcalloc(1, sizeof(*c->maps));
		c->n = 1;
		return one_cpulist(b, v, "cpus", &c->maps[0]);
	}
	c->per_vcpu = true;
	c->n = v->n_items;
	c->maps = xl_xcalloc(v->n_items, sizeof(*c->maps));
	for (size_t i = 0; i < v->n_items; i++) {
		snprintf(label, sizeof(label), "cpus[%zu]", i);
		rc |= one_cpulist(b, v->items[i], label, &c->maps[i]);
	}
	return rc;
}

static void device_ctx(struct xl_spec_ctx *ctx, struct dc_builder *b,
		       const struct xl_value *item, const char *key, size_t i,
		       char *label, size_t size)
{
	snprintf(label, size, "%s[%zu]", key, i);
	*ctx = (struct xl_spec_ctx){ b->msgs, item->loc, label };
}

/* Checks between devices are quadratic; keep the count sane. */
static int too_many(struct dc_builder *b, const struct xl_setting *s,
		    size_t n, size_t max)
{
	if (n <= max)
		return 0;
	xl_msgs_add(b->msgs, XL_ERROR, &s->value->loc, "%s: %zu entries, at "
		    "most %zu", s->key, n, max);
	return -1;
}

static int key_disk(struct dc_builder *b, const struct xl_setting *s)
{
	struct domain_config *dc = b->dc;
	const struct xl_value *const *items, *single;
	size_t n, cap = 0;
	int rc = 0;

	if (xl_want_string_list(s->value, s->key, b->msgs, &single, &items,
				&n) < 0 || too_many(b, s, n, DOMAIN_MAX_DISKS) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct xl_spec_ctx ctx;
		char label[32];

		device_ctx(&ctx, b, items[i], "disk", i, label, sizeof(label));
		xl_xgrow((void **)&dc->disks, dc->n_disks, &cap,
			 sizeof(*dc->disks));
		if (xl_disk_parse(&dc->disks[dc->n_disks], items[i]->text,
				  &ctx) < 0)
			rc = -1;
		else
			dc->n_disks++;
	}
	return rc;
}

static int key_vif(struct dc_builder *b, const struct xl_setting *s)
{
	struct domain_config *dc = b->dc;
	const struct xl_value *const *items, *single;
	size_t n, cap = 0;
	int rc = 0;

	if (xl_want_string_list(s->value, s->key, b->msgs, &single, &items,
				&n) < 0 || too_many(b, s, n, DOMAIN_MAX_VIFS) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct xl_spec_ctx ctx;
		char label[32];

		device_ctx(&ctx, b, items[i], "vif", i, label, sizeof(label));
		xl_xgrow((void **)&dc->vifs, dc->n_vifs, &cap, sizeof(*dc->vifs));
		if (xl_vif_parse(&dc->vifs[dc->n_vifs], items[i]->text, &ctx) < 0)
			rc = -1;
		else
			dc->n_vifs++;
	}
	return rc;
}

/* serial = "pty" or serial = [ "pty", "file:/tmp/log" ]. */
static int key_serial(struct dc_builder *b, const struct xl_setting *s)
{
	struct domain_config *dc = b->dc;
	const struct xl_value *const *items, *single;
	size_t n;

	if (xl_want_string_list(s->value, s->key, b->msgs, &single, &items,
				&n) < 0)
		return -1;
	dc->serial = xl_xcalloc(n, sizeof(*dc->serial));
	for (size_t i = 0; i < n; i++)
		dc->serial[dc->n_serial++] = xl_xstrdup(items[i]->text);
	return 0;
}

int xl_key_devices(struct dc_builder *b, const struct xl_setting *s)
{
	if (!strcmp(s->key, "cpus"))
		return key_cpus(b, s);
	if (!strcmp(s->key, "disk"))
		return key_disk(b, s);
	if (!strcmp(s->key, "vif"))
		return key_vif(b, s);
	return key_serial(b, s);
}
