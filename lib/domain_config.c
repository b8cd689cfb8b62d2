/* struct domain_config from a parsed Xen config: the driver.  Each key's
 * handling is in lib/xl_keys.c; cross-key work in lib/xl_finish*.c. */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <stdlib.h>
#include <string.h>

void domain_config_init(struct domain_config *dc)
{
	/* xl's defaults (xl.cfg(5)), for whatever the config leaves out. */
	*dc = (struct domain_config){
		.type = DOMAIN_PV,
		.memory_mb = DOMAIN_DEFAULT_MEMORY_MB,
		.vcpus = 1,
		.cpu_weight = DOMAIN_DEFAULT_CPU_WEIGHT,
		.on_poweroff = ACTION_DESTROY,
		.on_reboot = ACTION_RESTART,
		.on_crash = ACTION_DESTROY,
		.acpi = true, .apic = true, .pae = true,
		.vncdisplay = -1,
	};
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void domain_config_free(struct domain_config *dc)
{
	char **strings[] = {
		&dc->name, &dc->kernel, &dc->ramdisk, &dc->cmdline, &dc->root,
		&dc->extra, &dc->bootloader, &dc->hvmloader, &dc->dhcp, &dc->ip,
		&dc->gateway, &dc->netmask, &dc->hostname, &dc->device_model,
		&dc->boot, &dc->vnclisten, &dc->vncpasswd,
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
	for (size_t i = 0; i < dc->n_disks; i++)
		xl_disk_free(&dc->disks[i]);
	free(dc->disks);
	for (size_t i = 0; i < dc->n_vifs; i++)
		xl_vif_free(&dc->vifs[i]);
	free(dc->vifs);
	free_strings(dc->serial, dc->n_serial);
	free(dc->cpus.maps);
	domain_config_init(dc);
}

static void one_setting(struct dc_builder *b, const struct xl_setting *s)
{
	const struct xl_unsupported *u = xl_unsupported_find(s->key, NULL);
	const char *hint;
	bool known;

	if (u) {
		xl_msgs_add(b->msgs, XL_ERROR, &s->loc, "%s: %s", s->key,
			    u->why);
		return;
	}
	xl_key_apply(b, s, &known);
	if (known)
		return;
	/* Not silence: a typo must not quietly lose a setting. */
	hint = xl_key_suggest(s->key);
	if (hint)
		xl_msgs_add(b->msgs, XL_WARNING, &s->loc, "%s: unknown key, "
			    "ignored (did you mean '%s'?)", s->key, hint);
	else
		xl_msgs_add(b->msgs, XL_WARNING, &s->loc, "%s: unknown key, "
			    "ignored", s->key);
}

int domain_config_from_xl(struct domain_config *dc,
			  const struct xl_config *cfg, struct xl_msgs *msgs)
{
	struct dc_builder b = {
		.dc = dc, .cfg = cfg, .msgs = msgs,
		.type = -1, .builder_type = -1, .nics = -1,
	};
	unsigned errors = msgs->errors;

	domain_config_init(dc);
	for (size_t i = 0; i < cfg->n; i++)
		one_setting(&b, &cfg->v[i]);
	xl_finish(&b);
	if (msgs->errors == errors)
		return 0;
	domain_config_free(dc);
	return -1;
}

static int load(struct domain_config *dc, struct xl_config *cfg, int rc,
		const char *const *overrides, size_t n, struct xl_msgs *msgs)
{
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = xl_config_override(cfg, overrides[i], (unsigned)i + 1, msgs);
	if (rc == 0)
		rc = domain_config_from_xl(dc, cfg, msgs);
	else
		domain_config_init(dc);
	/* Device locations name the config's sources, which go now. */
	for (size_t i = 0; i < dc->n_disks; i++)
		dc->disks[i].loc = (struct xl_loc){ 0 };
	for (size_t i = 0; i < dc->n_vifs; i++)
		dc->vifs[i].loc = (struct xl_loc){ 0 };
	xl_config_free(cfg);
	return rc;
}

int domain_config_load_text(struct domain_config *dc, const char *source,
			    const char *text, size_t len,
			    const char *const *overrides, size_t n_overrides,
			    struct xl_msgs *msgs)
{
	struct xl_config cfg;

	xl_config_init(&cfg);
	return load(dc, &cfg, xl_config_parse(&cfg, source, text, len, msgs),
		    overrides, n_overrides, msgs);
}

int domain_config_load_file(struct domain_config *dc, const char *path,
			    const char *const *overrides, size_t n_overrides,
			    struct xl_msgs *msgs)
{
	struct xl_config cfg;

	xl_config_init(&cfg);
	return load(dc, &cfg, xl_config_parse_file(&cfg, path, msgs),
		    overrides, n_overrides, msgs);
}

const char *domain_type_name(enum domain_type t)
{
	switch (t) {
	case DOMAIN_PV:  return "pv";
	case DOMAIN_PVH: return "pvh";
	case DOMAIN_HVM: return "hvm";
	}
	return "?";
}

const char *domain_action_name(enum domain_action a)
{
	static const char *const names[] = {
		"destroy", "restart", "rename-restart", "preserve",
		"coredump-destroy", "coredump-restart",
	};

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}
