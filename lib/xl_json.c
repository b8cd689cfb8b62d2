/*
 * struct domain_config as JSON, for `xm create -n` and the daemon's domain
 * listings.  Flat snake_case keys, as xl's dry run; absent optional values
 * are null rather than missing so the shape never changes.  The schema is
 * in docs/config-files.md: change both together.
 */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <jansson.h>
#include <stdlib.h>

/* Config strings are bytes; JSON wants UTF-8.  Keep valid text as is and
 * make the rest visible rather than dropping the key. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	copy = xl_xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

static json_t *cpus_json(const struct domain_cpus *c)
{
	json_t *list;
	char *s;

	if (!c->n)
		return json_null();
	if (!c->per_vcpu) {
		s = cpumap_format(&c->maps[0]);
		list = jstr(s);
		free(s);
		return list;
	}
	list = json_array();
	for (size_t i = 0; i < c->n; i++) {
		s = cpumap_format(&c->maps[i]);
		json_array_append_new(list, jstr(s));
		free(s);
	}
	return list;
}

static json_t *disk_json(const struct xl_disk *d)
{
	json_t *o = json_object();

	set(o, "vdev", jstr(d->vdev));
	set(o, "devnum", json_integer(d->devnum));
	set(o, "target", jstr(d->target));
	set(o, "format", jstr(xl_disk_format_name(d->format)));
	set(o, "backend", jstr(xl_disk_backend_name(d->backend)));
	set(o, "access", jstr(d->readonly ? "ro" : "rw"));
	set(o, "cdrom", json_boolean(d->is_cdrom));
	set(o, "discard", json_boolean(d->discard));
	set(o, "direct_io_safe", json_boolean(d->direct_io_safe));
	set(o, "trusted", json_boolean(d->trusted));
	set(o, "script", jstr(d->script));
	set(o, "spec", jstr(d->spec));
	return o;
}

static json_t *rate_json(const struct xl_vif *v)
{
	json_t *o;

	if (!v->rate_bytes_per_sec)
		return json_null();
	o = json_object();
	set(o, "bytes_per_sec", json_integer((json_int_t)v->rate_bytes_per_sec));
	set(o, "interval_usecs", json_integer(v->rate_interval_us));
	/* What netback is actually given: credit per interval. */
	set(o, "bytes_per_interval", json_integer((json_int_t)
		(v->rate_bytes_per_sec * v->rate_interval_us / 1000000)));
	return o;
}

static json_t *vif_json(const struct xl_vif *v)
{
	json_t *o = json_object();
	char mac[18];

	xl_mac_format(v->mac, mac);
	set(o, "devid", json_integer(v->devid));
	set(o, "mac", jstr(mac));
	set(o, "mac_generated", json_boolean(!v->mac_given));
	set(o, "type", jstr(v->type == XL_VIF_TYPE_IOEMU ? "ioemu" : "vif"));
	set(o, "model", jstr(v->model));
	set(o, "bridge", jstr(v->bridge));
	set(o, "gatewaydev", jstr(v->gatewaydev));
	set(o, "vifname", jstr(v->vifname));
	set(o, "script", jstr(v->script));
	set(o, "ip", jstr(v->ip));
	set(o, "mtu", v->mtu ? json_integer(v->mtu) : json_null());
	set(o, "rate", rate_json(v));
	set(o, "trusted", json_boolean(v->trusted));
	set(o, "spec", jstr(v->spec));
	return o;
}

static void boot_json(json_t *o, const struct domain_config *dc)
{
	set(o, "kernel", jstr(dc->kernel));
	set(o, "ramdisk", jstr(dc->ramdisk));
	set(o, "cmdline", jstr(dc->cmdline));
	set(o, "root", jstr(dc->root));
	set(o, "extra", jstr(dc->extra));
	set(o, "bootloader", jstr(dc->bootloader));
	set(o, "hvmloader", jstr(dc->hvmloader));
	set(o, "dhcp", jstr(dc->dhcp));
	set(o, "ip", jstr(dc->ip));
	set(o, "gateway", jstr(dc->gateway));
	set(o, "netmask", jstr(dc->netmask));
	set(o, "hostname", jstr(dc->hostname));
}

static void resources_json(json_t *o, const struct domain_config *dc)
{
	set(o, "memory_mib", json_integer((json_int_t)dc->memory_mb));
	set(o, "maxmem_mib", json_integer((json_int_t)dc->maxmem_mb));
	set(o, "vcpus", json_integer(dc->vcpus));
	set(o, "maxvcpus", json_integer(dc->maxvcpus));
	set(o, "cpus", cpus_json(&dc->cpus));
	set(o, "cpu_weight", json_integer(dc->cpu_weight));
	set(o, "cap", json_integer(dc->cap));
	set(o, "on_poweroff", jstr(domain_action_name(dc->on_poweroff)));
	set(o, "on_reboot", jstr(domain_action_name(dc->on_reboot)));
	set(o, "on_crash", jstr(domain_action_name(dc->on_crash)));
}

static void devices_json(json_t *o, const struct domain_config *dc)
{
	json_t *disks = json_array(), *vifs = json_array(), *serial = json_array();

	for (size_t i = 0; i < dc->n_disks; i++)
		json_array_append_new(disks, disk_json(&dc->disks[i]));
	for (size_t i = 0; i < dc->n_vifs; i++)
		json_array_append_new(vifs, vif_json(&dc->vifs[i]));
	for (size_t i = 0; i < dc->n_serial; i++)
		json_array_append_new(serial, jstr(dc->serial[i]));
	set(o, "disks", disks);
	set(o, "vifs", vifs);
	set(o, "serial", serial);
}

static void hvm_json(json_t *o, const struct domain_config *dc)
{
	set(o, "device_model", jstr(dc->device_model));
	set(o, "boot", jstr(dc->boot));
	set(o, "acpi", json_boolean(dc->acpi));
	set(o, "apic", json_boolean(dc->apic));
	set(o, "pae", json_boolean(dc->pae));
	set(o, "sdl", json_boolean(dc->sdl));
	set(o, "vnc", json_boolean(dc->vnc));
	set(o, "vnclisten", jstr(dc->vnclisten));
	set(o, "vncdisplay", dc->vncdisplay >= 0 ?
	    json_integer(dc->vncdisplay) : json_null());
	set(o, "vncunused", json_boolean(dc->vncunused));
	/* The password itself stays out: this JSON is printed and listed. */
	set(o, "vncpasswd_set", json_boolean(dc->vncpasswd != NULL));
}

json_t *domain_config_to_json(const struct domain_config *dc)
{
	json_t *o = json_object();
	char uuid[37];

	xl_uuid_format(dc->uuid, uuid);
	set(o, "name", jstr(dc->name));
	set(o, "uuid", jstr(uuid));
	set(o, "type", jstr(domain_type_name(dc->type)));
	boot_json(o, dc);
	resources_json(o, dc);
	devices_json(o, dc);
	hvm_json(o, dc);
	return o;
}

char *domain_config_to_json_text(const struct domain_config *dc)
{
	json_t *j = domain_config_to_json(dc);
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(j);
	return s;
}
