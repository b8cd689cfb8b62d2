/* The management API's operations (docs/management-api.md). */
#include "daemon/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/domain.h"
#include "daemon/host_info.h"

json_t *api_error(const char *errname, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error", msg, "errno",
			 errname);
}

static json_t *ok(json_t *fields)
{
	json_t *r = fields ? fields : json_object();

	json_object_set_new(r, "ok", json_true());
	return r;
}

static const char *str(json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

/* The request's "domain", resolved; or an error reply in *err. */
static struct domain *target(struct api_ctx *ctx, json_t *req, json_t **err)
{
	const char *which = str(req, "domain");
	struct domain *d;

	if (!which) {
		*err = api_error("EINVAL", "request has no \"domain\"");
		return NULL;
	}
	d = domain_find(ctx->dm, which);
	if (!d)
		*err = api_error("ENOENT", "domain '%s' does not exist", which);
	return d;
}

static json_t *domain0_json(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return json_pack("{s:s, s:i, s:s, s:I, s:I, s:i, s:s, s:f, s:f}",
			 "name", "Domain-0", "domid", 0,
			 "uuid", "00000000-0000-0000-0000-000000000000",
			 "memory_mib", (json_int_t)host_total_memory_mib(),
			 "maxmem_mib", (json_int_t)host_total_memory_mib(),
			 "vcpus", (int)cpus, "state", "r-----",
			 "cpu_time", host_cpu_seconds(),
			 "start_time", host_boot_time());
}

static bool wanted(json_t *names, const char *name, unsigned domid)
{
	size_t i;
	json_t *v;
	char id[16];

	if (!json_array_size(names))
		return true;
	snprintf(id, sizeof(id), "%u", domid);
	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);

		if (json_is_integer(v) && json_integer_value(v) == (json_int_t)domid)
			return true;
		if (s && (!strcmp(s, name) || !strcmp(s, id)))
			return true;
	}
	return false;
}

static json_t *op_list(struct api_ctx *ctx, json_t *req)
{
	json_t *names = json_object_get(req, "domains"), *out = json_array();

	if (wanted(names, "Domain-0", 0))
		json_array_append_new(out, domain0_json());
	for (struct domain *d = ctx->dm->domains; d; d = d->next)
		if (wanted(names, d->name, d->domid))
			json_array_append_new(out, domain_to_json(d));
	return ok(json_pack("{s:o}", "domains", out));
}

static json_t *op_create(struct api_ctx *ctx, json_t *req)
{
	json_t *ov = json_object_get(req, "overrides"), *warnings = json_array();
	struct domain_create_req cr = {
		.config_text = str(req, "config_text"),
		.config_source = str(req, "config_source"),
		.cwd = str(req, "cwd"),
		.paused = json_is_true(json_object_get(req, "paused")),
	};
	const char **list = calloc(json_array_size(ov) + 1, sizeof(*list));
	const char *errname;
	char err[4096];
	struct domain *d;

	if (!cr.config_text) {
		free(list);
		json_decref(warnings);
		return api_error("EINVAL", "create needs \"config_text\"");
	}
	for (size_t i = 0; list && i < json_array_size(ov); i++) {
		list[i] = json_string_value(json_array_get(ov, i));
		if (list[i])
			cr.n_overrides++;
	}
	cr.overrides = list;
	d = domain_create(ctx->dm, &cr, warnings, err, sizeof(err), &errname);
	free(list);
	if (!d) {
		json_t *e = api_error(errname, "%s", err);

		json_object_set_new(e, "warnings", warnings);
		return e;
	}
	return ok(json_pack("{s:i, s:s, s:o}", "domid", (int)d->domid, "name",
			    d->name, "warnings", warnings));
}

static json_t *op_shutdown(struct api_ctx *ctx, json_t *req)
{
	bool reboot = json_is_true(json_object_get(req, "reboot"));
	json_t *ids = json_array(), *e = NULL;
	char err[1024];

	if (json_is_true(json_object_get(req, "all"))) {
		for (struct domain *d = ctx->dm->domains; d; d = d->next)
			if (d->phase == DOMAIN_ACTIVE &&
			    domain_shutdown(d, reboot, err, sizeof(err)) == 0)
				json_array_append_new(ids, json_integer(d->domid));
		return ok(json_pack("{s:o}", "domids", ids));
	}
	struct domain *d = target(ctx, req, &e);

	if (!d) {
		json_decref(ids);
		return e;
	}
	if (domain_shutdown(d, reboot, err, sizeof(err)) < 0) {
		json_decref(ids);
		return api_error("EINVAL", "%s", err);
	}
	json_array_append_new(ids, json_integer(d->domid));
	return ok(json_pack("{s:o}", "domids", ids));
}

static json_t *op_simple(struct api_ctx *ctx, json_t *req, const char *op)
{
	json_t *e = NULL;
	struct domain *d = target(ctx, req, &e);
	char err[1024];
	int rc;

	if (!d)
		return e;
	if (!strcmp(op, "destroy"))
		rc = domain_destroy(d, err, sizeof(err));
	else if (!strcmp(op, "rename")) {
		const char *name = str(req, "new_name");

		if (!name)
			return api_error("EINVAL", "rename needs \"new_name\"");
		rc = domain_rename(d, name, err, sizeof(err));
	} else
		rc = domain_pause(d, !strcmp(op, "pause"), err, sizeof(err));
	return rc < 0 ? api_error("EINVAL", "%s", err) : ok(NULL);
}

static json_t *op_console(struct api_ctx *ctx, json_t *req,
			  struct api_call *call)
{
	json_t *e = NULL;
	struct domain *d = target(ctx, req, &e);

	if (!d)
		return e;
	if (!d->console)
		return api_error("ENOENT", "domain %s has no console (it is "
				 "shut down)", d->name);
	call->take = d->console;
	return ok(json_pack("{s:s, s:i}", "name", d->name, "domid",
			    (int)d->domid));
}

static json_t *op_save(struct api_ctx *ctx, json_t *req,
		       struct api_call *call)
{
	json_t *e = NULL;
	struct domain *d = target(ctx, req, &e);
	const char *path = str(req, "path");

	if (!d)
		return e;
	if (!path || path[0] != '/')
		return api_error("EINVAL", "save needs an absolute \"path\"");
	return domain_op_save(ctx->dm, d, path,
			      json_is_true(json_object_get(req, "leave_paused")) ?
			      SAVE_KEEP_PAUSED :
			      json_is_true(json_object_get(req, "keep_running")) ?
			      SAVE_KEEP_RUNNING : SAVE_DESTROY, call);
}

#define MAX_MBIT 1000000	/* 1 Tbit/s */

/* Xen's `xm migrate --resource` is in Mbit/s; the VMM caps in whole
 * MiB/s, rounded up so that a small cap is not no cap. */
static int migrate_bandwidth(json_t *req, unsigned *mib_s)
{
	json_t *v = json_object_get(req, "max_bandwidth_mbit");
	json_int_t mbit = json_integer_value(v);

	*mib_s = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || mbit < 0 || mbit > MAX_MBIT)
		return -1;
	*mib_s = (unsigned)((mbit * 1000000 / 8 + (1 << 20) - 1) >> 20);
	return 0;
}

static json_t *op_migrate(struct api_ctx *ctx, json_t *req,
			  struct api_call *call)
{
	json_t *e = NULL;
	struct domain *d = target(ctx, req, &e);
	json_int_t port = json_integer_value(json_object_get(req, "port"));
	json_int_t downtime = json_integer_value(json_object_get(req, "downtime_ms"));
	struct migrate_params mp = {
		.host = str(req, "host"),
		.live = json_is_true(json_object_get(req, "live")),
		.postcopy = json_is_true(json_object_get(req, "postcopy")),
	};

	if (!d)
		return e;
	if (!mp.host || !*mp.host)
		return api_error("EINVAL", "migrate needs \"host\"");
	mp.port = port < 1 || port > 65535 ? 8002 : (unsigned)port;
	mp.downtime_ms = downtime < 1 || downtime > 60000 ? 30 : (unsigned)downtime;
	if (migrate_bandwidth(req, &mp.max_mib_s) < 0)
		return api_error("EINVAL", "migrate: \"max_bandwidth_mbit\" is "
				 "a rate in Mbit/s, 1-%d (or 0: no cap)",
				 MAX_MBIT);
	return domain_op_migrate(ctx->dm, d, &mp, call);
}

static json_t *op_restore(struct api_ctx *ctx, json_t *req)
{
	const char *path = str(req, "path"), *errname;
	char err[1024];
	struct domain *d;

	if (!path || path[0] != '/')
		return api_error("EINVAL", "restore needs an absolute \"path\"");
	d = domain_restore(ctx->dm, path,
			   json_is_true(json_object_get(req, "paused")), err,
			   sizeof(err), &errname);
	if (!d)
		return api_error(errname, "%s", err);
	return ok(json_pack("{s:i, s:s}", "domid", (int)d->domid, "name",
			    d->name));
}

static json_t *op_dmesg(json_t *req)
{
	char *text = log_ring_text();
	json_t *r = ok(json_pack("{s:s}", "log", text ? text : ""));

	free(text);
	if (json_is_true(json_object_get(req, "clear")))
		log_ring_clear();
	return r;
}

json_t *api_handle(struct api_ctx *ctx, json_t *req, struct api_call *call)
{
	const char *op = str(req, "op");
	unsigned n = 0;

	if (!op)
		return api_error("EINVAL", "request has no \"op\"");
	if (!strcmp(op, "list"))
		return op_list(ctx, req);
	if (!strcmp(op, "create"))
		return op_create(ctx, req);
	if (!strcmp(op, "shutdown"))
		return op_shutdown(ctx, req);
	if (!strcmp(op, "destroy") || !strcmp(op, "pause") ||
	    !strcmp(op, "unpause") || !strcmp(op, "rename"))
		return op_simple(ctx, req, op);
	if (!strcmp(op, "console"))
		return op_console(ctx, req, call);
	if (!strcmp(op, "dmesg"))
		return op_dmesg(req);
	if (!strcmp(op, "save"))
		return op_save(ctx, req, call);
	if (!strcmp(op, "restore"))
		return op_restore(ctx, req);
	if (!strcmp(op, "migrate"))
		return op_migrate(ctx, req, call);
	if (!strcmp(op, "info")) {
		for (struct domain *d = ctx->dm->domains; d; d = d->next)
			n++;
		return ok(host_info(n));
	}
	return api_error("ENOSYS", "unknown op '%.64s'", op);
}
