/*
 * DISKSPEC strings, xl-disk-configuration(5):
 *
 *   [<key>=<value>|<flag>,]* [<target>, [<format>, [<vdev>, [<access>]]]],
 *   [<key>=<value>|<flag>,]* [target=<target>]
 *
 * and xend's older "[<prefix>:]*<target>,<vdev>[:<devtype>],<access>",
 * where prefixes like phy:, file:, tap:aio: or tap:qcow2: name the backend
 * (and then the format position is skipped, as in xl).
 */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum slot { TARGET, FORMAT, VDEV, ACCESS, N_SLOTS };
static const char *const slot_name[] = { "target", "format", "vdev", "access" };

struct dparse {
	struct xl_disk *d;
	const struct xl_spec_ctx *ctx;
	bool have[N_SLOTS];
	bool had_prefix;       /* legacy prefix: no format position */
	bool backend_set;
	bool access_rw_given;
	char *target;          /* as written, before /dev is prepended */
};

static int derr(struct dparse *dp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int derr(struct dparse *dp, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = xl_xvasprintf(fmt, ap);
	va_end(ap);
	xl_msgs_add(dp->ctx->msgs, XL_ERROR, &dp->ctx->loc, "%s: '%s': %s",
		    dp->ctx->what, dp->d->spec, what);
	free(what);
	return -1;
}

static int unsupported(struct dparse *dp, const char *sub)
{
	const struct xl_unsupported *u = xl_unsupported_find("disk", sub);

	return derr(dp, "%s: %s", sub, u ? u->why : "not supported");
}

/* Claim a slot, by position or by name; each may be given once. */
static int claim(struct dparse *dp, enum slot s)
{
	if (dp->have[s])
		return derr(dp, "%s given twice", slot_name[s]);
	dp->have[s] = true;
	return 0;
}

static int set_format(struct dparse *dp, const char *v)
{
	static const struct { const char *name; enum xl_disk_format f; } fmts[] = {
		{ "raw", XL_FORMAT_RAW }, { "qcow", XL_FORMAT_QCOW },
		{ "qcow2", XL_FORMAT_QCOW2 }, { "vhd", XL_FORMAT_VHD },
		{ "qed", XL_FORMAT_QED }, { "empty", XL_FORMAT_EMPTY },
	};
	uint32_t unused;

	if (!*v) {
		dp->d->format = XL_FORMAT_RAW;
		return 0;
	}
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (strcmp(v, fmts[i].name) == 0) {
			dp->d->format = fmts[i].f;
			return 0;
		}
	}
	if (xl_vdev_number(v, &unused) == 0)
		return derr(dp, "bad format '%s' (expected raw, qcow, qcow2, "
			    "vhd or qed); for the old form TARGET,VDEV,ACCESS "
			    "start the target with a prefix such as phy:", v);
	return derr(dp, "bad format '%s' (expected raw, qcow, qcow2, vhd or "
		    "qed)", v);
}

static int set_access(struct dparse *dp, const char *v)
{
	if (!*v)
		return 0; /* the default: ro for a cdrom, else rw */
	if (!strcmp(v, "r") || !strcmp(v, "ro")) {
		dp->d->readonly = true;
	} else if (!strcmp(v, "w") || !strcmp(v, "rw") || !strcmp(v, "w!") ||
		   !strcmp(v, "rw!")) {
		/* xend's "w!" forced sharing a writable disk; a KVM host
		 * has no such check to override, so it is plain rw. */
		dp->d->readonly = false;
		dp->access_rw_given = true;
	} else {
		return derr(dp, "bad access mode '%s' (expected r, ro, w or rw)",
			    v);
	}
	return 0;
}

/* "hdc", "hdc:cdrom", "hdc:disk", or xend's other spelling "cdrom:hdc". */
static int set_vdev(struct dparse *dp, const char *v)
{
	const char *colon = strchr(v, ':');

	if (!colon) {
		dp->d->vdev = xl_xstrdup(v);
		return 0;
	}
	if (strncmp(v, "cdrom:", 6) == 0) {
		dp->d->is_cdrom = true;
		dp->d->vdev = xl_xstrdup(v + 6);
	} else if (!strcmp(colon, ":cdrom") || !strcmp(colon, ":disk")) {
		dp->d->is_cdrom = colon[1] == 'c';
		dp->d->vdev = xl_xstrndup(v, (size_t)(colon - v));
	} else {
		return derr(dp, "bad device type '%s' in '%s' (expected cdrom "
			    "or disk)", colon + 1, v);
	}
	return 0;
}

static int set_target(struct dparse *dp, const char *v)
{
	free(dp->target);
	dp->target = xl_xstrdup(v);
	return 0;
}

/* xend's prefixes before the target: what each says about the disk. */
static bool apply_prefix(struct dparse *dp, const char *name, size_t len)
{
#define IS(s) (len == strlen(s) && !memcmp(name, s, len))
	struct xl_disk *d = dp->d;

	if (IS("phy")) {
		d->backend = XL_BACKEND_PHY;
		dp->backend_set = true;
	} else if (IS("file")) {
		d->backend = XL_BACKEND_FILE;
		dp->backend_set = true;
		xl_msgs_add(dp->ctx->msgs, XL_WARNING, &dp->ctx->loc,
			    "%s: '%s': the file: prefix is deprecated; write "
			    "'PATH,raw,VDEV,ACCESS' instead", dp->ctx->what,
			    d->spec);
	} else if (IS("tap") || IS("tap2") || IS("tapdisk") || IS("aio")) {
		if (d->backend != XL_BACKEND_QCOW2 || !dp->backend_set)
			d->backend = XL_BACKEND_TAP_AIO;
		dp->backend_set = true;
	} else if (IS("raw") || IS("qcow") || IS("qcow2") || IS("vhd")) {
		char fmt[8];

		snprintf(fmt, sizeof(fmt), "%.*s", (int)len, name);
		set_format(dp, fmt);
		dp->have[FORMAT] = true;
		if (IS("qcow2")) {
			d->backend = XL_BACKEND_QCOW2;
			dp->backend_set = true;
		}
	} else if (IS("iscsi") || IS("nbd") || IS("enbd") || IS("drbd")) {
		free(d->script);
		d->script = xl_xasprintf("block-%.*s", (int)len, name);
	} else if (!IS("ioemu")) {
		return false;
	}
	return true;
#undef IS
}

/* Strip the prefixes from the positional target. */
static int strip_prefixes(struct dparse *dp, const char **t)
{
	for (;;) {
		const char *p = *t;

		while (*p >= 'a' && *p <= 'z')
			p++;
		while ((*p >= 'a' && *p <= 'z') || isdigit((unsigned char)*p))
			p++;
		if (p == *t || *p != ':')
			return 0;
		if (apply_prefix(dp, *t, (size_t)(p - *t))) {
			dp->had_prefix = true;
			*t = p + 1;
			continue;
		}
		/* "foo:/x" is an unknown prefix; "host:1234" is a target. */
		if (isalnum((unsigned char)p[1]))
			return 0;
		return derr(dp, "unknown prefix '%.*s:' (known: phy, file, "
			    "tap, aio, raw, qcow2, vhd, iscsi, nbd, drbd)",
			    (int)(p - *t), *t);
	}
}

static int positional(struct dparse *dp, const char *v)
{
	for (int s = TARGET; s < N_SLOTS; s++) {
		if (dp->have[s] || (s == FORMAT && dp->had_prefix))
			continue;
		dp->have[s] = true;
		switch (s) {
		case TARGET:
			if (strip_prefixes(dp, &v) < 0)
				return -1;
			return set_target(dp, v);
		case FORMAT:
			/* xend's empty cdrom ",hdc:cdrom,r": no format there. */
			if ((!dp->target || !*dp->target) && strchr(v, ':')) {
				dp->have[VDEV] = true;
				return set_vdev(dp, v);
			}
			return set_format(dp, v);
		case VDEV:   return *v ? set_vdev(dp, v) : 0;
		default:     return set_access(dp, v);
		}
	}
	return derr(dp, "too many positional parameters at '%s'", v);
}

static int flag(struct dparse *dp, const char *v, bool *handled)
{
	struct xl_disk *d = dp->d;

	*handled = true;
	if (!strcmp(v, "cdrom"))
		d->is_cdrom = true;
	else if (!strcmp(v, "discard") || !strcmp(v, "no-discard"))
		d->discard = v[0] == 'd';
	else if (!strcmp(v, "direct-io-safe"))
		d->direct_io_safe = true;
	else if (!strcmp(v, "trusted") || !strcmp(v, "untrusted"))
		d->trusted = v[0] == 't';
	else if (!strcmp(v, "colo"))
		return unsupported(dp, "colo");
	else
		*handled = false;
	return 0;
}

static int backendtype(struct dparse *dp, const char *v)
{
	struct xl_disk *d = dp->d;

	if (!strcmp(v, "phy"))
		d->backend = XL_BACKEND_PHY;
	else if (!strcmp(v, "tap"))
		d->backend = XL_BACKEND_TAP_AIO;
	else if (!strcmp(v, "qdisk"))
		d->backend = XL_BACKEND_FILE;
	else if (!strcmp(v, "standalone"))
		return unsupported(dp, "backendtype=standalone");
	else
		return derr(dp, "bad backendtype '%s' (expected phy, qdisk or "
			    "tap)", v);
	dp->backend_set = true;
	return 0;
}

static int keyword(struct dparse *dp, const char *k, const char *v)
{
	if (!strcmp(k, "format"))
		return claim(dp, FORMAT) < 0 ? -1 : set_format(dp, v);
	if (!strcmp(k, "vdev"))
		return claim(dp, VDEV) < 0 ? -1 : set_vdev(dp, v);
	if (!strcmp(k, "access"))
		return claim(dp, ACCESS) < 0 ? -1 : set_access(dp, v);
	if (!strcmp(k, "devtype")) {
		if (strcmp(v, "cdrom") != 0)
			return derr(dp, "bad devtype '%s' (expected cdrom)", v);
		dp->d->is_cdrom = true;
		return 0;
	}
	if (!strcmp(k, "backendtype"))
		return backendtype(dp, v);
	if (!strcmp(k, "script")) {
		free(dp->d->script);
		dp->d->script = xl_xstrdup(v);
		return 0;
	}
	if (!strcmp(k, "backend"))
		return !*v || !strcmp(v, "0") || !strcmp(v, "Domain-0") ? 0 :
		       unsupported(dp, "backend");
	if (!strcmp(k, "specification"))
		return !strcmp(v, "xen") || !strcmp(v, "virtio") ? 0 :
		       derr(dp, "bad specification '%s' (expected xen or "
			    "virtio)", v);
	if (!strncmp(k, "colo-", 5) || !strcmp(k, "active-disk") ||
	    !strcmp(k, "hidden-disk"))
		return unsupported(dp, "colo");
	return derr(dp, "unknown option '%s'", k);
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

static int one_param(struct dparse *dp, char *tok)
{
	char *eq = strchr(tok, '=');
	bool handled;

	if (eq) {
		*eq = '\0';
		return keyword(dp, tok, eq + 1);
	}
	if (flag(dp, tok, &handled) < 0)
		return -1;
	return handled ? 0 : positional(dp, tok);
}

static int params(struct dparse *dp, const char *spec)
{
	const char *p = spec;

	for (;;) {
		const char *end;
		char *tok;
		int rc;

		while (isspace((unsigned char)*p))
			p++;
		/* target= swallows the rest, commas and all (the only way to
		 * write a path containing a comma). */
		if (strncmp(p, "target=", 7) == 0) {
			if (dp->have[TARGET] && dp->target && *dp->target)
				return derr(dp, "target given twice");
			dp->have[TARGET] = true;
			return set_target(dp, p + 7);
		}
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		tok = trimmed(p, (size_t)(end - p));
		rc = one_param(dp, tok);
		free(tok);
		if (rc < 0)
			return -1;
		if (!*end || !end[1])
			return 0;
		p = end + 1;
	}
}

/* Fill in what was left out and check the whole. */
static int finish(struct dparse *dp)
{
	struct xl_disk *d = dp->d;
	const struct xl_unsupported *u;
	char sub[32];

	if (!d->vdev || !*d->vdev)
		return derr(dp, "no vdev (the guest's name for the disk, like "
			    "xvda or hdc)");
	if (xl_vdev_number(d->vdev, &d->devnum) < 0)
		return derr(dp, "bad vdev '%s' (expected a name like xvda, "
			    "xvdb1, hda, hdc or sda)", d->vdev);
	if (!dp->target || !*dp->target) {
		if (!d->is_cdrom)
			return derr(dp, "no target (only a cdrom drive may be "
				    "empty)");
		d->format = XL_FORMAT_EMPTY;
	} else if (d->format == XL_FORMAT_EMPTY) {
		return derr(dp, "format 'empty' with a target");
	}
	snprintf(sub, sizeof(sub), "format=%s", xl_disk_format_name(d->format));
	u = xl_unsupported_find("disk", sub);
	if (u)
		return derr(dp, "%s: %s", sub, u->why);
	if (d->is_cdrom && dp->access_rw_given)
		return derr(dp, "a cdrom cannot be writable");
	if (d->is_cdrom)
		d->readonly = true;
	return 0;
}

/* Decide the backend from what was said, and where the data lives. */
static int place(struct dparse *dp)
{
	struct xl_disk *d = dp->d;
	const char *t = dp->target;

	if (d->format == XL_FORMAT_QCOW2) {
		if (dp->backend_set && d->backend == XL_BACKEND_PHY)
			return derr(dp, "a phy: disk is a raw block device; "
				    "a qcow2 image needs tap:qcow2: or "
				    "format=qcow2");
		d->backend = XL_BACKEND_QCOW2;
	} else if (d->backend == XL_BACKEND_QCOW2) {
		return derr(dp, "the qcow2 backend needs format qcow2, not %s",
			    xl_disk_format_name(d->format));
	} else if (!dp->backend_set) {
		d->backend = !t || !*t || t[0] != '/' || !strncmp(t, "/dev/", 5) ?
			     XL_BACKEND_PHY : XL_BACKEND_FILE;
	}
	if (!t || !*t)
		return 0;
	/* A device given without /dev (phy:sda), as xl-disk-configuration(5)
	 * says; an image path, or a script's argument, is left as written. */
	if (t[0] != '/' && d->backend == XL_BACKEND_PHY && !d->script)
		d->target = xl_xasprintf("/dev/%s", t);
	else
		d->target = xl_xstrdup(t);
	return 0;
}

int xl_disk_parse(struct xl_disk *disk, const char *spec,
		  const struct xl_spec_ctx *ctx)
{
	struct dparse dp = { .d = disk, .ctx = ctx };
	int rc;

	*disk = (struct xl_disk){
		.spec = xl_xstrdup(spec), .loc = ctx->loc,
		.discard = true, .trusted = true,
	};
	rc = params(&dp, spec);
	if (rc == 0)
		rc = finish(&dp);
	if (rc == 0)
		rc = place(&dp);
	free(dp.target);
	if (rc < 0)
		xl_disk_free(disk);
	return rc;
}

void xl_disk_free(struct xl_disk *disk)
{
	free(disk->spec);
	free(disk->target);
	free(disk->vdev);
	free(disk->script);
	*disk = (struct xl_disk){ 0 };
}
