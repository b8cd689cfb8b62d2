/*
 * After every key is read: defaults that depend on other keys, derived
 * values (the kernel command line, vif MACs), and checks across keys.
 */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <stdlib.h>
#include <string.h>

static const struct xl_setting *setting(struct dc_builder *b, const char *key)
{
	return xl_config_get(b->cfg, key);
}

static const struct xl_loc *loc_of(struct dc_builder *b, const char *key)
{
	const struct xl_setting *s = setting(b, key);

	return s ? &s->value->loc : NULL;
}

static void finish_identity(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;

	if (!setting(b, "name"))
		xl_msgs_add(b->msgs, XL_ERROR, NULL, "%s: no name = \"...\" "
			    "(every domain needs a name)",
			    b->cfg->n_sources ? b->cfg->sources[0] : "config");
	if (b->type >= 0)
		dc->type = (enum domain_type)b->type;
	if (b->builder_type >= 0) {
		if (b->type >= 0 && b->type != b->builder_type)
			xl_msgs_add(b->msgs, XL_ERROR, loc_of(b, "builder"),
				    "builder: disagrees with type = \"%s\"",
				    domain_type_name(dc->type));
		dc->type = (enum domain_type)b->builder_type;
	}
	if (!dc->uuid_given)
		xl_uuid_generate(dc->uuid);
}

static void finish_resources(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;

	if (!dc->maxmem_mb)
		dc->maxmem_mb = dc->memory_mb;
	else if (dc->maxmem_mb < dc->memory_mb)
		xl_msgs_add(b->msgs, XL_ERROR, loc_of(b, "maxmem"), "maxmem: "
			    "%llu MiB is less than memory (%llu MiB)",
			    (unsigned long long)dc->maxmem_mb,
			    (unsigned long long)dc->memory_mb);
	if (!dc->maxvcpus)
		dc->maxvcpus = dc->vcpus;
	else if (dc->maxvcpus < dc->vcpus)
		xl_msgs_add(b->msgs, XL_ERROR, loc_of(b, "maxvcpus"),
			    "maxvcpus: %u is less than vcpus (%u)",
			    dc->maxvcpus, dc->vcpus);
	if (dc->cpus.per_vcpu && dc->cpus.n > dc->maxvcpus)
		xl_msgs_add(b->msgs, XL_ERROR, loc_of(b, "cpus"), "cpus: %zu "
			    "entries, but the domain has only %u vCPUs",
			    dc->cpus.n, dc->maxvcpus);
	/* Credit2's limit: a cap above 100% per vCPU could never bind. */
	if (dc->cap > 100 * dc->maxvcpus)
		xl_msgs_add(b->msgs, XL_ERROR, loc_of(b, "cap"), "cap: %u%% is "
			    "more than 100%% for each of the %u vCPUs", dc->cap,
			    dc->maxvcpus);
}

/* xm's kernel-level network setup becomes Linux's
 * ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF, with xm's
 * dummy server so that a DHCP answer cannot redirect an NFS root. */
static char *ip_param(const struct domain_config *dc)
{
	bool autoconf = dc->dhcp && strcmp(dc->dhcp, "off") &&
			strcmp(dc->dhcp, "none");

	if (!dc->ip && !autoconf)
		return NULL;
	return xl_xasprintf("ip=%s:127.0.255.255:%s:%s:%s:eth0:%s",
			    dc->ip ? dc->ip : "", dc->gateway ? dc->gateway : "",
			    dc->netmask ? dc->netmask : "",
			    dc->hostname ? dc->hostname : "",
			    dc->dhcp ? dc->dhcp : "off");
}

static void append(char **cmd, const char *part)
{
	char *joined;

	if (!part)
		return;
	joined = *cmd ? xl_xasprintf("%s %s", *cmd, part) : xl_xstrdup(part);
	free(*cmd);
	*cmd = joined;
}

/* As xl: cmdline= wins; otherwise "root=ROOT EXTRA" (plus xm's ip=, which
 * xend put between the two). */
static void finish_cmdline(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;
	char *ip = ip_param(dc), *root = NULL;

	if (setting(b, "cmdline")) {
		if (dc->root || dc->extra || ip)
			xl_msgs_add(b->msgs, XL_WARNING, &setting(b, "cmdline")->loc,
				    "cmdline: given, so root=, extra= and the "
				    "ip settings are ignored");
		free(ip);
		return;
	}
	if (dc->root)  /* xm accepted root = "root=/dev/sda1" too */
		root = xl_xasprintf("root=%s", strncmp(dc->root, "root=", 5) ?
				    dc->root : dc->root + 5);
	append(&dc->cmdline, root);
	append(&dc->cmdline, ip);
	append(&dc->cmdline, dc->extra);
	free(root);
	free(ip);
}

static void finish_boot(struct dc_builder *b)
{
	struct domain_config *dc = b->dc;
	const char *base;

	if (dc->type == DOMAIN_HVM && dc->kernel) {
		/* xm's HVM configs name the firmware loader as the kernel. */
		base = strrchr(dc->kernel, '/');
		base = base ? base + 1 : dc->kernel;
		if (!strncmp(base, "hvmloader", 9)) {
			dc->hvmloader = dc->kernel;
			dc->kernel = NULL;
		}
	}
	if (dc->type != DOMAIN_HVM && !dc->kernel && !setting(b, "kernel") &&
	    !setting(b, "bootloader"))
		xl_msgs_add(b->msgs, XL_ERROR, NULL, "%s: no kernel = \"...\" "
			    "(a %s guest boots its kernel directly)",
			    b->cfg->n_sources ? b->cfg->sources[0] : "config",
			    domain_type_name(dc->type));
	finish_cmdline(b);
}

static void finish_hvm(struct dc_builder *b)
{
	static const char *const hvm_only[] = { "boot", "device_model" };
	struct domain_config *dc = b->dc;

	if (dc->type != DOMAIN_HVM) {
		for (size_t i = 0; i < 2; i++)
			if (setting(b, hvm_only[i]))
				xl_msgs_add(b->msgs, XL_WARNING,
					    &setting(b, hvm_only[i])->loc,
					    "%s: only used by HVM guests; "
					    "ignored", hvm_only[i]);
		return;
	}
	if (!dc->boot)
		dc->boot = xl_xstrdup("cd");
	/* xl.cfg(5): VNC is on by default for an HVM guest's display. */
	if (!setting(b, "vnc"))
		dc->vnc = true;
}

void xl_finish(struct dc_builder *b)
{
	finish_identity(b);
	finish_resources(b);
	finish_boot(b);
	finish_hvm(b);
	xl_finish_devices(b);
}
