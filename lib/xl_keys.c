/*
 * The keys of a guest config: one table row each, saying how the value is
 * read and where it goes in struct domain_config.  Checks that involve
 * several keys (maxmem >= memory, ...) wait for xl_finish().
 */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MSG(b, s, ...) xl_msgs_add((b)->msgs, XL_ERROR, &(s)->value->loc, __VA_ARGS__)

/* ---- Plain fields -------------------------------------------------------- */

enum kind { K_STR, K_BOOL, K_UINT, K_U64, K_FN };

typedef int key_fn(struct dc_builder *b, const struct xl_setting *s);

struct key {
	const char *name;
	enum kind kind;
	size_t off;               /* in struct domain_config */
	long long lo, hi;         /* K_UINT, K_U64 */
	const char *unit;
	key_fn *fn;               /* K_FN */
};

static int plain(struct dc_builder *b, const struct key *k,
		 const struct xl_setting *s)
{
	char *field = (char *)b->dc + k->off;
	long long n;

	switch (k->kind) {
	case K_STR:
		free(*(char **)field);
		*(char **)field = NULL;
		return xl_want_string(s->value, s->key, b->msgs, (char **)field);
	case K_BOOL:
		return xl_want_bool(s->value, s->key, b->msgs, (bool *)field);
	case K_UINT:
	case K_U64:
		if (xl_want_int(s->value, s->key, k->lo, k->hi, k->unit, b->msgs,
				&n) < 0)
			return -1;
		if (k->kind == K_UINT)
			*(unsigned *)field = (unsigned)n;
		else
			*(uint64_t *)field = (uint64_t)n;
		return 0;
	case K_FN:
		return k->fn(b, s);
	}
	return -1;
}

/* ---- Identity ------------------------------------------------------------ */

static int key_name(struct dc_builder *b, const struct xl_setting *s)
{
	char *name;
	bool digits = true;

	if (xl_want_string(s->value, s->key, b->msgs, &name) < 0)
		return -1;
	for (const char *p = name; *p; p++) {
		if (*p == '/' || isspace((unsigned char)*p) ||
		    iscntrl((unsigned char)*p)) {
			MSG(b, s, "name: '%s' has a '/', a blank or a control "
			    "character", name);
			goto bad;
		}
		digits &= isdigit((unsigned char)*p) != 0;
	}
	if (!*name || strlen(name) > 64) {
		MSG(b, s, "name: must be 1 to 64 characters long");
		goto bad;
	}
	if (digits || !strcmp(name, "Domain-0")) {
		MSG(b, s, "name: '%s' is reserved (%s)", name, digits ?
		    "all digits would read as a domain ID" : "it names the host");
		goto bad;
	}
	free(b->dc->name);
	b->dc->name = name;
	return 0;
bad:
	free(name);
	return -1;
}

static int key_uuid(struct dc_builder *b, const struct xl_setting *s)
{
	static const uint8_t nil[16];
	char *text;
	int rc = 0;

	if (xl_want_string(s->value, s->key, b->msgs, &text) < 0)
		return -1;
	if (xl_uuid_parse(text, b->dc->uuid) < 0) {
		MSG(b, s, "uuid: bad UUID '%s' (expected 32 hex digits as "
		    "8-4-4-4-12, like 4b1c2d3e-0000-4000-8000-00163e000001)",
		    text);
		rc = -1;
	} else if (!memcmp(b->dc->uuid, nil, 16)) {
		MSG(b, s, "uuid: the nil UUID cannot name a domain");
		rc = -1;
	}
	b->dc->uuid_given = rc == 0;
	free(text);
	return rc;
}

/* A string that must be one of NAMES (NULL-terminated); its index. */
static int one_of(struct dc_builder *b, const struct xl_setting *s,
		  const char *const *names, const char *expected)
{
	char *v;
	int found = -1;

	if (xl_want_string(s->value, s->key, b->msgs, &v) < 0)
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(v, names[i]))
			found = i;
	if (found < 0)
		MSG(b, s, "%s: bad value '%s' (expected %s)", s->key, v, expected);
	free(v);
	return found;
}

static int key_type(struct dc_builder *b, const struct xl_setting *s)
{
	static const char *const names[] = { "pv", "pvh", "hvm", NULL };

	b->type = one_of(b, s, names, "pv, pvh or hvm");
	return b->type < 0 ? -1 : 0;
}

static int key_builder(struct dc_builder *b, const struct xl_setting *s)
{
	static const char *const names[] = { "generic", "linux", "hvm", NULL };
	int i = one_of(b, s, names, "generic, linux or hvm");

	if (i < 0)
		return -1;
	b->builder_type = i == 2 ? DOMAIN_HVM : DOMAIN_PV;
	xl_msgs_add(b->msgs, XL_WARNING, &s->loc, "builder: deprecated; use "
		    "type = \"%s\" instead", i == 2 ? "hvm" : "pv");
	return 0;
}

static int key_action(struct dc_builder *b, const struct xl_setting *s)
{
	static const char *const names[] = {
		"destroy", "restart", "rename-restart", "preserve",
		"coredump-destroy", "coredump-restart", "soft-reset", NULL,
	};
	enum domain_action *a = !strcmp(s->key, "on_poweroff") ?
		&b->dc->on_poweroff : !strcmp(s->key, "on_reboot") ?
		&b->dc->on_reboot : &b->dc->on_crash;
	int i = one_of(b, s, names, "destroy, restart, rename-restart, "
		       "preserve, coredump-destroy or coredump-restart");

	if (i < 0)
		return -1;
	if (i == 6) {
		const struct xl_unsupported *u = xl_unsupported_find("on_*",
								     "soft-reset");

		MSG(b, s, "%s: %s", s->key, u ? u->why : "not supported");
		return -1;
	}
	*a = (enum domain_action)i;
	return 0;
}

/* ---- xm's kernel IP configuration ---------------------------------------- */

static int key_dhcp(struct dc_builder *b, const struct xl_setting *s)
{
	/* The autoconf field of Linux's ip= parameter. */
	static const char *const names[] = {
		"off", "none", "on", "any", "dhcp", "bootp", "rarp", "both", NULL,
	};
	int i = one_of(b, s, names, "dhcp or off");

	if (i < 0)
		return -1;
	free(b->dc->dhcp);
	b->dc->dhcp = xl_xstrdup(names[i]);
	return 0;
}

static int key_ipv4(struct dc_builder *b, const struct xl_setting *s)
{
	char **field = !strcmp(s->key, "ip") ? &b->dc->ip :
		       !strcmp(s->key, "gateway") ? &b->dc->gateway :
		       &b->dc->netmask;
	struct in_addr a;
	char *v;

	if (xl_want_string(s->value, s->key, b->msgs, &v) < 0)
		return -1;
	if (inet_pton(AF_INET, v, &a) != 1) {
		MSG(b, s, "%s: bad IPv4 address '%s'", s->key, v);
		free(v);
		return -1;
	}
	free(*field);
	*field = v;
	return 0;
}

static int key_hostname(struct dc_builder *b, const struct xl_setting *s)
{
	char *v;

	if (xl_want_string(s->value, s->key, b->msgs, &v) < 0)
		return -1;
	/* It becomes a field of ip=...:HOST:...; a ':' or blank would break
	 * the kernel command line. */
	if (strpbrk(v, ": \t\n")) {
		MSG(b, s, "hostname: '%s' may not contain ':' or blanks", v);
		free(v);
		return -1;
	}
	free(b->dc->hostname);
	b->dc->hostname = v;
	return 0;
}

/* ---- HVM ----------------------------------------------------------------- */

static int key_boot(struct dc_builder *b, const struct xl_setting *s)
{
	char *v;

	if (xl_want_string(s->value, s->key, b->msgs, &v) < 0)
		return -1;
	if (!*v || v[strspn(v, "cdn")]) {
		MSG(b, s, "boot: bad boot order '%s' (letters c for disk, d "
		    "for cdrom, n for network, like \"dc\")", v);
		free(v);
		return -1;
	}
	free(b->dc->boot);
	b->dc->boot = v;
	return 0;
}

static int key_vncdisplay(struct dc_builder *b, const struct xl_setting *s)
{
	long long n;

	/* The TCP port is 5900 + display. */
	if (xl_want_int(s->value, s->key, 0, 65535 - 5900, "", b->msgs, &n) < 0)
		return -1;
	b->dc->vncdisplay = (int)n;
	return 0;
}

/* ---- Deprecated xm keys -------------------------------------------------- */

static int key_cdrom(struct dc_builder *b, const struct xl_setting *s)
{
	if (s->value->type == XL_LIST) {
		MSG(b, s, "cdrom: expected a string, found a list");
		return -1;
	}
	xl_msgs_add(b->msgs, XL_WARNING, &s->loc, "cdrom: deprecated; use "
		    "disk = [ ..., '%s,,hdc,cdrom' ] instead", s->value->text);
	b->cdrom = s->value;
	return 0;
}

static int key_nics(struct dc_builder *b, const struct xl_setting *s)
{
	xl_msgs_add(b->msgs, XL_WARNING, &s->loc, "nics: deprecated; use vif "
		    "with one entry per interface (vif = [ '', '' ]) instead");
	return xl_want_int(s->value, s->key, 0, 64, "", b->msgs, &b->nics);
}

/* ---- The table ----------------------------------------------------------- */

#define STR(k, f)  { k, K_STR, offsetof(struct domain_config, f), 0, 0, "", NULL }
#define BOOL(k, f) { k, K_BOOL, offsetof(struct domain_config, f), 0, 0, "", NULL }
#define UINT(k, f, lo, hi, u) \
	{ k, K_UINT, offsetof(struct domain_config, f), lo, hi, u, NULL }
#define U64(k, f, lo, hi, u) \
	{ k, K_U64, offsetof(struct domain_config, f), lo, hi, u, NULL }
#define FN(k, fn)  { k, K_FN, 0, 0, 0, "", fn }

static const struct key keys[] = {
	FN("name", key_name),
	FN("uuid", key_uuid),
	FN("type", key_type),
	FN("builder", key_builder),
	STR("kernel", kernel),
	STR("ramdisk", ramdisk),
	STR("cmdline", cmdline),
	STR("root", root),
	STR("extra", extra),
	STR("bootloader", bootloader),
	FN("dhcp", key_dhcp),
	FN("ip", key_ipv4),
	FN("gateway", key_ipv4),
	FN("netmask", key_ipv4),
	FN("hostname", key_hostname),
	U64("memory", memory_mb, 1, (long long)DOMAIN_MAX_MEMORY_MB, " MiB"),
	U64("maxmem", maxmem_mb, 1, (long long)DOMAIN_MAX_MEMORY_MB, " MiB"),
	UINT("vcpus", vcpus, 1, DOMAIN_MAX_VCPUS, ""),
	UINT("maxvcpus", maxvcpus, 1, DOMAIN_MAX_VCPUS, ""),
	FN("cpus", xl_key_devices),
	UINT("cpu_weight", cpu_weight, 1, 65535, ""),
	UINT("cap", cap, 0, 65535, "%"),
	FN("on_poweroff", key_action),
	FN("on_reboot", key_action),
	FN("on_crash", key_action),
	FN("disk", xl_key_devices),
	FN("vif", xl_key_devices),
	FN("serial", xl_key_devices),
	STR("device_model", device_model),
	FN("boot", key_boot),
	BOOL("acpi", acpi),
	BOOL("apic", apic),
	BOOL("pae", pae),
	BOOL("sdl", sdl),
	BOOL("vnc", vnc),
	BOOL("vncunused", vncunused),
	STR("vnclisten", vnclisten),
	STR("vncpasswd", vncpasswd),
	FN("vncdisplay", key_vncdisplay),
	FN("cdrom", key_cdrom),
	FN("nics", key_nics),
};

int xl_key_apply(struct dc_builder *b, const struct xl_setting *s,
		 bool *known)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!strcmp(keys[i].name, s->key)) {
			*known = true;
			return plain(b, &keys[i], s);
		}
	}
	*known = false;
	return 0;
}

const char *xl_key_suggest(const char *unknown)
{
	/* Two edits apart at most, one for short keys: "str" is not "sdl". */
	unsigned max = strlen(unknown) <= 4 ? 1 : 2, best_d = max + 1;
	const char *best = NULL;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		unsigned d = xl_edit_distance(unknown, keys[i].name, max);

		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best;
}
