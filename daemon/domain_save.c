/*
 * xm save / xm restore on the xenond side.  The VMM writes the save file
 * itself (control request "save", docs/save-format.md); xenond hands it
 * the domain's record to embed, reports progress while the file grows, and
 * on restore reads that record back to recreate the domain under the same
 * name, UUID and configuration.
 */
#include "daemon/domain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api.h"
#include "daemon/vmm_call.h"
#include "daemon/xs_server.h"
#include "lib/log.h"
#include "lib/save_stream.h"

#define SAVE_TIMEOUT_MS (10 * 60 * 1000)
#define PROGRESS_MS 200
#define CONFIG_MAX (4 << 20)

/* The "domain" object xenond put in the save file's config section. */
json_t *save_file_domain(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct ss_io io = ss_fd_io(&fd);
	struct ss_section sec;
	struct ss_stream s;
	void *payload = NULL;
	json_t *cfg = NULL, *dom = NULL;
	char what[600];

	if (fd < 0) {
		snprintf(err, errlen, "save file '%s': %s", path, strerror(errno));
		return NULL;
	}
	snprintf(what, sizeof(what), "save file '%s'", path);
	ss_init(&s, &io, what);
	if (ss_read_header(&s) < 0 ||
	    ss_read_section(&s, &sec, &payload, CONFIG_MAX) != 1) {
		snprintf(err, errlen, "%s", s.error[0] ? s.error : "no sections");
		goto out;
	}
	if (sec.type != SS_SEC_CONFIG) {
		snprintf(err, errlen, "%s: the first section is %s, not config",
			 what, ss_section_name(sec.type));
		goto out;
	}
	cfg = json_loadb(payload, sec.length, 0, NULL);
	dom = json_object_get(cfg, "domain");
	if (!json_is_object(dom)) {
		snprintf(err, errlen, "%s: it was not saved by xenond (no domain "
			 "record); restore it with xenon-vmm --restore", what);
		dom = NULL;
		goto out;
	}
	json_incref(dom);
out:
	json_decref(cfg);
	free(payload);
	close(fd);
	return dom;
}

static void add_watch(void *opaque, const char *path, const char *token,
		      size_t rel_prefix)
{
	json_array_append_new(opaque, json_pack("{s:s, s:s, s:I}", "path", path,
						"token", token, "rel_prefix",
						(json_int_t)rel_prefix));
}

/* The record a save file or a migration carries: the domain's own plus
 * the watches its guest set, which move with it. */
json_t *domain_portable_record(const struct domain *d)
{
	json_t *rec = domain_record_json(d), *w = json_array();

	xs_server_watch_export(d->mgr->xs, d->domid, add_watch, w);
	json_object_set_new(rec, "watches", w);
	json_object_set_new(rec, "guest_nodes", domain_guest_nodes_export(d));
	return rec;
}

/*
 * A watch the guest set with a relative path ("control/shutdown") is
 * stored under its home, /local/domain/<old>/; under a new ID it moves to
 * the new home, and its events still reach the guest relative, as it
 * expects.  Absolute watches are what the guest asked for and stay, but
 * for those inside its old home, which is no longer its own.
 */
static void import_watch(struct domain_manager *m, json_t *w, unsigned old,
			 unsigned domid)
{
	const char *path = json_string_value(json_object_get(w, "path"));
	const char *token = json_string_value(json_object_get(w, "token"));
	json_int_t rel = json_integer_value(json_object_get(w, "rel_prefix"));
	char home[40], moved[XENSTORE_ABS_PATH_MAX + 40];
	int hl = snprintf(home, sizeof(home), "/local/domain/%u/", old);

	if (!path || !token || rel < 0 || (size_t)rel > strlen(path))
		return;
	if (old != domid && !strncmp(path, home, (size_t)hl)) {
		if (rel != hl) {
			log_warn("domain %u (was %u): watch on %s dropped: it "
				 "names the old ID", domid, old, path);
			return;
		}
		rel = snprintf(home, sizeof(home), "/local/domain/%u/", domid);
		snprintf(moved, sizeof(moved), "%s%s", home, path + hl);
		path = moved;
	}
	xs_server_watch_import(m->xs, domid, path, token, (size_t)rel);
}

/* Before the VMM's channel connects: the guest's watches, moved to its
 * new ID if it has one. */
void domain_import_watches(struct domain_manager *m, json_t *rec,
			   unsigned domid)
{
	json_int_t was = json_integer_value(json_object_get(rec, "domid"));
	json_t *w;
	size_t i;

	json_array_foreach(json_object_get(rec, "watches"), i, w)
		import_watch(m, w, (unsigned)was, domid);
}

struct save_op {
	struct domain_manager *m;
	unsigned domid;
	bool keep;
	bool unpause_on_failure;	/* -p paused it for the save */
	char path[1024];
	double total;
	struct api_waiter *waiter;
	struct ev_timer *timer;
	struct vmm_call *call;
};

/* The VMM writes PATH.XXXXXX and renames it when complete. */
static double temp_size(const char *path)
{
	char dir[1024], base[1024];
	double best = 0;
	struct dirent *e;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	dp = opendir(dirname(dir));
	if (!dp)
		return 0;
	const char *b = basename(base);
	size_t bl = strlen(b);

	while ((e = readdir(dp))) {
		struct stat st;
		char full[2200];

		if (strncmp(e->d_name, b, bl) || e->d_name[bl] != '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
		/* Blocks, not size: the RAM image is sparse. */
		if (stat(full, &st) == 0 && st.st_blocks * 512.0 > best)
			best = st.st_blocks * 512.0;
	}
	closedir(dp);
	return best;
}

static void on_progress(void *opaque)
{
	struct save_op *op = opaque;
	double done = temp_size(op->path);

	api_waiter_progress(op->waiter,
			    json_pack("{s:s, s:f, s:f}", "phase", "saving",
				      "done", done < op->total ? done : op->total,
				      "total", op->total));
}

/* A failed save leaves the domain as it found it: running. */
static void unpause_after_failure(struct domain *d)
{
	char err[256];

	if (domain_pause(d, false, err, sizeof(err)) < 0)
		log_error("domain %s: could not unpause after the failed save: "
			  "%s", d->name, err);
}

static void save_done(void *opaque, json_t *reply, const char *err)
{
	struct save_op *op = opaque;
	struct domain *d = domain_find_id(op->m, op->domid);
	const char *verr = json_string_value(json_object_get(reply, "error"));

	event_loop_del_timer(op->m->loop, op->timer);
	if (reply && json_is_true(json_object_get(reply, "ok"))) {
		log_info("domain %u saved to %s%s", op->domid, op->path,
			 op->keep ? " (still running)" : "");
		/* As xm save does: the domain is gone when the command returns. */
		if (d && !op->keep)
			domain_gone_saved(d);
		api_waiter_reply(op->waiter, json_pack("{s:b}", "ok", 1));
	} else {
		log_error("domain %u: save to %s failed: %s", op->domid, op->path,
			  err ? err : verr ? verr : "?");
		if (d && op->unpause_on_failure)
			unpause_after_failure(d);
		api_waiter_reply(op->waiter,
				 api_error("EIO", "save failed (the domain keeps "
					   "running): %s", err ? err : verr ? verr
					   : "the VMM refused"));
	}
	free(op);
}

/* -p: paused before the VMM saves (with keep_running it then leaves the
 * domain as it found it), so the guest runs no instruction after its
 * snapshot. */
static int pause_for_save(struct domain *d, struct save_op *op)
{
	char err[256];

	if (d->paused)
		return 0;
	if (domain_pause(d, true, err, sizeof(err)) < 0) {
		log_error("domain %s: cannot pause for the save: %s", d->name,
			  err);
		return -1;
	}
	op->unpause_on_failure = true;
	return 0;
}

json_t *domain_op_save(struct domain_manager *m, struct domain *d,
		       const char *path, enum save_after after,
		       struct api_call *call)
{
	bool keep = after != SAVE_DESTROY;
	struct save_op *op = calloc(1, sizeof(*op));
	char sock[600], err[512];
	json_t *req;

	if (!op)
		return api_error("ENOMEM", "out of memory");
	if (d->phase != DOMAIN_ACTIVE) {
		free(op);
		return api_error("EINVAL", "domain %s is shut down", d->name);
	}
	op->m = m;
	op->domid = d->domid;
	op->keep = keep;
	if (after == SAVE_KEEP_PAUSED && pause_for_save(d, op) < 0) {
		free(op);
		return api_error("EIO", "domain %s: cannot pause it for the "
				 "save", d->name);
	}
	op->total = (double)d->dc.memory_mb * 1048576.0;
	snprintf(op->path, sizeof(op->path), "%s", path);
	snprintf(sock, sizeof(sock), "%s/control.sock", d->dir);
	req = json_pack("{s:s, s:s, s:o, s:b}", "cmd", "save", "path", path,
			"config", domain_portable_record(d), "keep_running", keep);
	op->call = vmm_call_start(m->loop, sock, req, -1, SAVE_TIMEOUT_MS, save_done,
				  op, err, sizeof(err));
	json_decref(req);
	if (!op->call) {
		if (op->unpause_on_failure)
			unpause_after_failure(d);
		free(op);
		return api_error("EIO", "domain %s: %s", d->name, err);
	}
	op->waiter = api_defer(call);
	op->timer = event_loop_add_timer(m->loop, PROGRESS_MS, true,
					 on_progress, op);
	return NULL;
}
