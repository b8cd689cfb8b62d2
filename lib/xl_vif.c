/*
 * VIFSPEC strings, xl-network-configuration(5): comma-separated KEY=VALUE
 * options, all optional ('' or ' ' is a default interface).
 */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct vparse {
	struct xl_vif *v;
	const struct xl_spec_ctx *ctx;
	unsigned seen;        /* bit per option, to catch repeats */
};

static int verr(struct vparse *vp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int verr(struct vparse *vp, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = xl_xvasprintf(fmt, ap);
	va_end(ap);
	xl_msgs_add(vp->ctx->msgs, XL_ERROR, &vp->ctx->loc, "%s: '%s': %s",
		    vp->ctx->what, vp->v->spec, what);
	free(what);
	return -1;
}

static int set_str(char **field, const char *v)
{
	free(*field);
	*field = xl_xstrdup(v);
	return 0;
}

static int opt_mac(struct vparse *vp, const char *v)
{
	uint8_t *m = vp->v->mac;

	if (xl_mac_parse(v, m) < 0)
		return verr(vp, "bad MAC address '%s' (expected six pairs of "
			    "hex digits like 00:16:3e:12:34:56)", v);
	if (m[0] & 1)
		return verr(vp, "MAC address '%s' is a multicast address (the "
			    "first byte must be even)", v);
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return verr(vp, "MAC address '%s' is all zeros", v);
	vp->v->mac_given = true;
	return 0;
}

static int opt_type(struct vparse *vp, const char *v)
{
	if (!strcmp(v, "ioemu"))
		vp->v->type = XL_VIF_TYPE_IOEMU;
	else if (!strcmp(v, "vif") || !strcmp(v, "netfront"))
		vp->v->type = XL_VIF_TYPE_VIF;
	else
		return verr(vp, "bad type '%s' (expected ioemu or vif)", v);
	return 0;
}

static int opt_vifname(struct vparse *vp, const char *v)
{
	/* A host interface name: IFNAMSIZ - 1 bytes, no '/' or blanks. */
	if (!*v || strlen(v) > 15 || strpbrk(v, "/ \t\n:"))
		return verr(vp, "bad vifname '%s' (a host interface name: 1 to "
			    "15 characters, no '/', ':' or blanks)", v);
	return set_str(&vp->v->vifname, v);
}

static bool ip_ok(const char *s, size_t len)
{
	char buf[64], *slash;
	unsigned char addr[16];
	int family = memchr(s, ':', len) ? AF_INET6 : AF_INET;
	long prefix;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash) {
		char *end;

		*slash++ = '\0';
		prefix = strtol(slash, &end, 10);
		if (!isdigit((unsigned char)*slash) || *end || prefix < 0 ||
		    prefix > (family == AF_INET ? 32 : 128))
			return false;
	}
	return inet_pton(family, buf, addr) == 1;
}

/* One or more addresses separated by blanks, as the hotplug scripts take. */
static int opt_ip(struct vparse *vp, const char *v)
{
	const char *p = v;
	bool any = false;

	while (*p) {
		size_t n = strcspn(p, " \t");

		if (n && !ip_ok(p, n))
			return verr(vp, "bad IP address '%.*s'", (int)n, p);
		any |= n > 0;
		p += n;
		p += strspn(p, " \t");
	}
	if (!any)
		return verr(vp, "ip= is empty");
	return set_str(&vp->v->ip, v);
}

static int opt_rate(struct vparse *vp, const char *v)
{
	const char *why;

	if (xl_rate_parse(v, &vp->v->rate_bytes_per_sec,
			  &vp->v->rate_interval_us, &why) < 0)
		return verr(vp, "bad rate '%s': %s", v, why);
	return 0;
}

static int small_number(const char *v, long long lo, long long hi,
			long long *out)
{
	const char *why;

	return *v && xl_parse_integer(v, strlen(v), out, &why) == 0 &&
	       *out >= lo && *out <= hi ? 0 : -1;
}

static int opt_devid(struct vparse *vp, const char *v)
{
	long long n;

	if (small_number(v, 0, 65535, &n) < 0)
		return verr(vp, "bad devid '%s' (expected 0 to 65535)", v);
	vp->v->devid = (int)n;
	return 0;
}

static int opt_mtu(struct vparse *vp, const char *v)
{
	long long n;

	if (small_number(v, 68, 65535, &n) < 0)
		return verr(vp, "bad mtu '%s' (expected 68 to 65535)", v);
	vp->v->mtu = (unsigned)n;
	return 0;
}

static int opt_backend(struct vparse *vp, const char *v)
{
	const struct xl_unsupported *u = xl_unsupported_find("vif", "backend");

	if (!*v || !strcmp(v, "0") || !strcmp(v, "Domain-0"))
		return 0;
	return verr(vp, "backend=%s: %s", v, u ? u->why : "not supported");
}

static int opt_accel(struct vparse *vp, const char *v)
{
	const struct xl_unsupported *u = xl_unsupported_find("vif", "accel");

	(void)v;
	return verr(vp, "accel: %s", u ? u->why : "not supported");
}

static int opt_string(struct vparse *vp, const char *key, const char *v)
{
	struct xl_vif *f = vp->v;

	if (!*v)
		return verr(vp, "%s= is empty", key);
	if (!strcmp(key, "bridge"))
		return set_str(&f->bridge, v);
	if (!strcmp(key, "gatewaydev"))
		return set_str(&f->gatewaydev, v);
	if (!strcmp(key, "model"))
		return set_str(&f->model, v);
	return set_str(&f->script, v);
}

static int option(struct vparse *vp, const char *key, const char *v)
{
	static const char *const keys[] = {
		"mac", "bridge", "gatewaydev", "type", "model", "vifname",
		"script", "ip", "backend", "rate", "devid", "mtu", "accel",
	};
	size_t i;

	if (!strcmp(key, "netdev")) {
		xl_msgs_add(vp->ctx->msgs, XL_WARNING, &vp->ctx->loc,
			    "%s: '%s': netdev is deprecated; use gatewaydev",
			    vp->ctx->what, vp->v->spec);
		key = "gatewaydev";
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return verr(vp, "unknown option '%s'", key);
	if (vp->seen & (1u << i))
		return verr(vp, "%s given twice", key);
	vp->seen |= 1u << i;
	switch (i) {
	case 0:  return opt_mac(vp, v);
	case 3:  return opt_type(vp, v);
	case 5:  return opt_vifname(vp, v);
	case 7:  return opt_ip(vp, v);
	case 8:  return opt_backend(vp, v);
	case 9:  return opt_rate(vp, v);
	case 10: return opt_devid(vp, v);
	case 11: return opt_mtu(vp, v);
	case 12: return opt_accel(vp, v);
	default: return opt_string(vp, key, v);
	}
}

static int one_param(struct vparse *vp, char *tok)
{
	char *eq = strchr(tok, '=');

	if (eq) {
		*eq = '\0';
		return option(vp, tok, eq + 1);
	}
	if (!strcmp(tok, "trusted") || !strcmp(tok, "untrusted")) {
		vp->v->trusted = tok[0] == 't';
		return 0;
	}
	return verr(vp, "expected KEY=VALUE, found '%s'", tok);
}

static char *trimmed(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xl_xstrndup(s, len);
}

int xl_vif_parse(struct xl_vif *vif, const char *spec,
		 const struct xl_spec_ctx *ctx)
{
	struct vparse vp = { .v = vif, .ctx = ctx };
	const char *p = spec;

	*vif = (struct xl_vif){
		.spec = xl_xstrdup(spec), .loc = ctx->loc, .devid = -1,
		.trusted = true,
	};
	while (*p) {
		size_t n = strcspn(p, ",");
		char *tok = trimmed(p, n);
		int rc = *tok ? one_param(&vp, tok) : 0;

		free(tok);
		if (rc < 0) {
			xl_vif_free(vif);
			return -1;
		}
		p += n + (p[n] == ',');
	}
	if (!vif->bridge)
		vif->bridge = xl_xstrdup(XL_DEFAULT_BRIDGE);
	return 0;
}

void xl_vif_free(struct xl_vif *vif)
{
	free(vif->spec);
	free(vif->bridge);
	free(vif->gatewaydev);
	free(vif->model);
	free(vif->vifname);
	free(vif->script);
	free(vif->ip);
	*vif = (struct xl_vif){ 0 };
}
