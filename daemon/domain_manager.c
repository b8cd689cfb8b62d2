/*
 * The domain table and the life cycle: create, destroy, shutdown, pause,
 * rename, and what happens when a VMM exits (on_poweroff, on_reboot,
 * on_crash).  See domain.h for the other parts.
 */
#include "daemon/domain.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/console.h"
#include "daemon/xs_domain_socket.h"
#include "daemon/xs_local.h"
#include "lib/log.h"

/* Restarting more often than this is a crash loop: stop (as xl does). */
#define RESTART_WINDOW_S 10.0
#define RESTART_MAX      5

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the table ----------------------------------------------------------- */

struct domain *domain_find_id(struct domain_manager *m, unsigned domid)
{
	for (struct domain *d = m->domains; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

struct domain *domain_find_name(struct domain_manager *m, const char *name)
{
	for (struct domain *d = m->domains; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

struct domain *domain_find(struct domain_manager *m, const char *which)
{
	if (all_digits(which)) {
		char *end;
		unsigned long id = strtoul(which, &end, 10);

		return id <= UINT32_MAX ? domain_find_id(m, (unsigned)id) : NULL;
	}
	return domain_find_name(m, which);
}

void domain_link(struct domain_manager *m, struct domain *d)
{
	struct domain **pp = &m->domains;

	while (*pp && (*pp)->domid < d->domid)
		pp = &(*pp)->next;
	d->next = *pp;
	*pp = d;
}

static void domain_unlink(struct domain *d)
{
	for (struct domain **pp = &d->mgr->domains; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			return;
		}
}

static struct domain *domain_alloc(struct domain_manager *m)
{
	struct domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->mgr = m;
	d->pidfd = -1;
	d->incoming_fd = -1;
	domain_config_init(&d->dc);
	return d;
}

static void domain_free(struct domain *d)
{
	domain_config_free(&d->dc);
	free(d->config_text);
	free(d->config_source);
	json_decref(d->overrides);
	json_decref(d->guest_nodes);
	free(d);
}

static unsigned alloc_domid(struct domain_manager *m)
{
	/* Xen does not reuse an ID soon after it is freed; neither do we. */
	while (domain_find_id(m, m->next_domid) || m->next_domid == 0 ||
	       m->next_domid >= 0x7ff0)
		m->next_domid = m->next_domid >= 0x7ff0 ? 1 : m->next_domid + 1;
	return m->next_domid++;
}

/* ---- configuration ------------------------------------------------------- */

static int join_errors(const struct xl_msgs *msgs, char *err, size_t errlen)
{
	size_t len = 0;

	err[0] = '\0';
	for (size_t i = 0; i < msgs->n && len + 1 < errlen; i++) {
		if (msgs->v[i].severity != XL_ERROR)
			continue;
		len += (size_t)snprintf(err + len, errlen - len, "%s%s",
					len ? "\n" : "", msgs->v[i].text);
	}
	if (!err[0])
		snprintf(err, errlen, "the configuration is not valid");
	return -1;
}

/* A relative kernel or ramdisk path is relative to where xm ran. */
static int absolutize(char **path, const char *cwd)
{
	char *abs;

	if (!*path || (*path)[0] == '/' || !cwd)
		return 0;
	if (asprintf(&abs, "%s/%s", cwd, *path) < 0)
		return -1;
	free(*path);
	*path = abs;
	return 0;
}

static int load_config(struct domain *d, const char *cwd, json_t *warnings,
		       char *err, size_t errlen)
{
	size_t n = json_array_size(d->overrides);
	const char **ov = calloc(n + 1, sizeof(*ov));
	struct xl_msgs msgs;
	int rc;

	if (!ov)
		return -1;
	for (size_t i = 0; i < n; i++)
		ov[i] = json_string_value(json_array_get(d->overrides, i));
	xl_msgs_init(&msgs);
	rc = domain_config_load_text(&d->dc, d->config_source, d->config_text,
				     strlen(d->config_text), ov, n, &msgs);
	free(ov);
	for (size_t i = 0; warnings && i < msgs.n; i++)
		if (msgs.v[i].severity == XL_WARNING)
			json_array_append_new(warnings, json_string(msgs.v[i].text));
	if (rc < 0)
		join_errors(&msgs, err, errlen);
	xl_msgs_free(&msgs);
	if (rc < 0)
		return -1;
	if (absolutize(&d->dc.kernel, cwd) < 0 ||
	    absolutize(&d->dc.ramdisk, cwd) < 0)
		return -1;
	return 0;
}

/* What xenon-vmm can run today. */
static int check_runnable(const struct domain *d, char *err, size_t errlen)
{
	if (d->dc.type == DOMAIN_HVM) {
		snprintf(err, errlen, "%s: builder='hvm' (firmware boot) is not "
			 "supported by xenon-vmm yet; use a PV/PVH kernel=",
			 d->config_source);
		return -1;
	}
	if (!d->dc.kernel) {
		snprintf(err, errlen, "%s: no kernel= given (a PV domain needs "
			 "one)", d->config_source);
		return -1;
	}
	if (access(d->dc.kernel, R_OK) < 0) {
		snprintf(err, errlen, "%s: kernel '%s': %s", d->config_source,
			 d->dc.kernel, strerror(errno));
		return -1;
	}
	if (d->dc.ramdisk && access(d->dc.ramdisk, R_OK) < 0) {
		snprintf(err, errlen, "%s: ramdisk '%s': %s", d->config_source,
			 d->dc.ramdisk, strerror(errno));
		return -1;
	}
	return 0;
}

static bool uuid_in_use(struct domain_manager *m, const uint8_t uuid[16])
{
	for (struct domain *d = m->domains; d; d = d->next)
		if (!memcmp(d->uuid, uuid, 16))
			return true;
	return false;
}

/* ---- services: the xenstore channel and the console ---------------------- */

static int open_xs_channel(struct domain *d, char *err, size_t errlen)
{
	char path[600];

	if (!d->mgr->opt.guest_xenstore || d->xs_chan)
		return 0;
	snprintf(path, sizeof(path), "%s/xenstore.sock", d->dir);
	d->xs_chan = xs_domain_socket_open(d->mgr->loop, d->mgr->xs, d->domid,
					   path, err, errlen);
	return d->xs_chan ? 0 : -1;
}

int domain_attach_services(struct domain *d, char *err, size_t errlen)
{
	char pty[600], log[600];

	if (open_xs_channel(d, err, errlen) < 0)
		return -1;
	/* Only this domain's monitor may use the channel: a stray one (say,
	 * of an earlier domain with this id that nobody adopted) would take
	 * it over, and they would keep replacing each other. */
	xs_domain_socket_set_vmm(d->xs_chan, d->pid);
	if (d->console)
		return 0;
	snprintf(pty, sizeof(pty), "%s/console.pty", d->dir);
	snprintf(log, sizeof(log), "%s/console/guest-%s.log",
		 d->mgr->opt.log_dir, d->name);
	d->console = console_open(d->mgr->loop, d->name, pty, log, err, errlen);
	if (!d->console)
		return -1;
	domain_store_console(d, console_tty(d->console));
	return 0;
}

void domain_detach_services(struct domain *d)
{
	console_close(d->console);
	d->console = NULL;
	xs_domain_socket_close(d->xs_chan);
	d->xs_chan = NULL;
}

/* ---- create -------------------------------------------------------------- */

static void stop_watching(struct domain *d)
{
	if (d->ready_timer)
		event_loop_del_timer(d->mgr->loop, d->ready_timer);
	d->ready_timer = NULL;
	if (d->incoming_fd >= 0)
		close(d->incoming_fd);
	d->incoming_fd = -1;
	if (d->pid_ev)
		event_loop_del_fd(d->mgr->loop, d->pid_ev);
	d->pid_ev = NULL;
	if (d->pidfd >= 0)
		close(d->pidfd);
	d->pidfd = -1;
}

/* Every trace of the domain: VMM, services, store, record, the table. */
static void domain_cleanup(struct domain *d)
{
	stop_watching(d);
	domain_vmm_kill(d);
	domain_detach_services(d);
	domain_store_destroy(d);
	domain_record_remove(d);
	domain_unlink(d);
	domain_free(d);
}

static int make_dir(struct domain *d, char *err, size_t errlen)
{
	char parent[384];

	snprintf(parent, sizeof(parent), "%s/domains", d->mgr->opt.state_dir);
	mkdir(parent, 0700);
	snprintf(d->dir, sizeof(d->dir), "%s/%u", parent, d->domid);
	if (mkdir(d->dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", d->dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Start a VMM for an allocated, configured domain and wire it up. */
/*
 * Give a domain its ID and directory and put it in the table, as an
 * active domain.  A restored or migrated domain keeps its ID when it is
 * free, so its guest's xenstore paths stay right; otherwise (and
 * normally) it gets the next one.
 */
static int domain_register(struct domain *d, char *err, size_t errlen)
{
	if (!d->domid || domain_find_id(d->mgr, d->domid))
		d->domid = alloc_domid(d->mgr);
	if (make_dir(d, err, errlen) < 0)
		return -1;
	d->start_time = wall_now();
	d->phase = DOMAIN_ACTIVE;
	d->shutdown_reason[0] = '\0';
	domain_link(d->mgr, d);
	/* Recorded before its VMM exists: should xenond die before the
	 * record names the VMM, a restart still finds the domain and asks
	 * its control socket who serves it (domain_vmm_find()). */
	domain_record_note(d);
	return 0;
}

static int domain_start(struct domain *d, bool paused, char *err,
			size_t errlen)
{
	if (domain_register(d, err, errlen) < 0)
		return -1;
	if (open_xs_channel(d, err, errlen) < 0 ||
	    domain_vmm_spawn(d, err, errlen) < 0 ||
	    domain_vmm_wait_ready(d, err, errlen) < 0 ||
	    domain_watch_pid(d) < 0)
		goto fail;
	domain_store_create(d);
	if (domain_attach_services(d, err, errlen) < 0)
		goto fail;
	d->paused = true;
	if (paused)
		domain_record_save(d);
	else if (domain_pause(d, false, err, errlen) < 0)	/* records it */
		goto fail;
	log_info("domain %s (%u) created, VMM pid %d%s", d->name, d->domid,
		 (int)d->pid, paused ? ", paused" : "");
	return 0;
fail:
	log_error("%s", err);
	domain_cleanup(d);
	return -1;
}

struct domain *domain_create(struct domain_manager *m,
			     const struct domain_create_req *req,
			     json_t *warnings, char *err, size_t errlen,
			     const char **errname)
{
	struct domain *d = domain_alloc(m), *other;

	*errname = "EINVAL";
	if (!d)
		goto oom;
	d->config_text = strdup(req->config_text ? req->config_text : "");
	d->config_source = strdup(req->config_source ? req->config_source
				  : "<config>");
	d->overrides = json_array();
	for (size_t i = 0; i < req->n_overrides; i++)
		json_array_append_new(d->overrides, json_string(req->overrides[i]));
	if (!d->config_text || !d->config_source || !d->overrides)
		goto oom;
	if (load_config(d, req->cwd, warnings, err, errlen) < 0 ||
	    check_runnable(d, err, errlen) < 0)
		goto fail;
	if ((other = domain_find_name(m, d->dc.name))) {
		snprintf(err, errlen, "domain '%s' already exists (ID %u)",
			 d->dc.name, other->domid);
		*errname = "EEXIST";
		goto fail;
	}
	if (d->dc.uuid_given && uuid_in_use(m, d->dc.uuid)) {
		snprintf(err, errlen, "a domain with UUID given in %s already "
			 "exists", d->config_source);
		*errname = "EEXIST";
		goto fail;
	}
	snprintf(d->name, sizeof(d->name), "%s", d->dc.name);
	memcpy(d->uuid, d->dc.uuid, 16);
	*errname = "EIO";
	if (domain_start(d, req->paused, err, errlen) < 0)
		return NULL;	/* domain_start freed d */
	return d;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (d)
		domain_free(d);
	return NULL;
}

/* ---- restore -------------------------------------------------------------- */

/* Saved to a file or migrated away: not a shutdown, no on_* action.  The
 * VMM is exiting by itself; wait for it, then remove every trace. */
void domain_gone_saved(struct domain *d)
{
	log_info("domain %s (%u) saved or migrated; it is gone from this host", d->name,
		 d->domid);
	domain_cleanup(d);
}

struct domain *domain_restore(struct domain_manager *m, const char *path,
			      bool paused, char *err, size_t errlen,
			      const char **errname)
{
	json_t *rec = save_file_domain(path, err, errlen);
	struct domain *d, *other;

	*errname = "EINVAL";
	if (!rec)
		return NULL;
	d = domain_from_record(m, rec, "");
	if (d) {
		/* Decide the ID now: the guest's watches move only with it. */
		if (!d->domid || domain_find_id(m, d->domid))
			d->domid = alloc_domid(m);
		if (!domain_find_name(m, d->name) && !uuid_in_use(m, d->uuid))
			domain_import_watches(m, rec, d->domid);
		domain_guest_nodes_take(d, rec);
	}
	json_decref(rec);
	if (!d) {
		snprintf(err, errlen, "save file '%s': its domain record is not "
			 "usable (see xm dmesg)", path);
		return NULL;
	}
	d->phase = DOMAIN_ACTIVE;
	d->pid = 0;
	d->restore_file = path;
	if ((other = domain_find_name(m, d->name)) ||
	    uuid_in_use(m, d->uuid)) {
		snprintf(err, errlen, "domain '%s' (or its UUID) already exists%s",
			 d->name, other ? "; destroy or rename it first" : "");
		*errname = "EEXIST";
		domain_free(d);
		return NULL;
	}
	*errname = "EIO";
	if (domain_start(d, paused, err, errlen) < 0)
		return NULL;
	d->restore_file = NULL;   /* a later restart boots afresh */
	return d;
}

/* ---- an incoming migration ------------------------------------------------ */

#define INCOMING_POLL_MS 20

/* The VMM serves its control socket once the whole domain has arrived and
 * runs: from then on it is an ordinary domain here. */
static void incoming_poll(void *opaque)
{
	struct domain *d = opaque;
	char err[512];

	if (domain_vmm_request(d, "status", NULL, err, sizeof(err)) < 0)
		return;	/* not yet */
	event_loop_del_timer(d->mgr->loop, d->ready_timer);
	d->ready_timer = NULL;
	d->incoming = false;
	d->paused = false;
	if (domain_attach_services(d, err, sizeof(err)) < 0)
		log_warn("domain %s: %s", d->name, err);
	domain_record_save(d);
	log_info("domain %s (%u) migrated in, VMM pid %d", d->name, d->domid,
		 (int)d->pid);
}

struct domain *domain_receive(struct domain_manager *m, json_t *record,
			      int sock, char *err, size_t errlen)
{
	struct domain *d = domain_from_record(m, record, "");

	if (!d) {
		snprintf(err, errlen, "the domain record is not usable");
		close(sock);
		return NULL;
	}
	/* dup2(fd, fd) would leave close-on-exec set: move it away from the
	 * number the VMM expects (domain_vmm.c). */
	if (sock == 100) {
		int moved = fcntl(sock, F_DUPFD_CLOEXEC, 101);

		close(sock);
		sock = moved;
	}
	d->incoming_fd = sock;
	if (sock < 0 || domain_find_name(m, d->name) || uuid_in_use(m, d->uuid)) {
		snprintf(err, errlen, "domain '%s' (or its UUID) already exists "
			 "here", d->name);
		close(sock);
		d->incoming_fd = -1;
		domain_free(d);
		return NULL;
	}
	d->pid = 0;
	d->incoming = true;
	domain_guest_nodes_take(d, record);
	if (domain_register(d, err, errlen) < 0) {
		close(sock);
		d->incoming_fd = -1;
		domain_free(d);
		return NULL;
	}
	domain_import_watches(m, record, d->domid);
	if (open_xs_channel(d, err, errlen) < 0) {
		domain_cleanup(d);
		return NULL;
	}
	/* Before the VMM connects: its guest runs from the moment the
	 * migration ends, and its re-armed watches fire at once. */
	domain_store_create(d);
	if (domain_vmm_spawn(d, err, errlen) < 0 || domain_watch_pid(d) < 0) {
		domain_cleanup(d);
		return NULL;
	}
	close(d->incoming_fd);     /* the VMM has its own copy */
	d->incoming_fd = -1;
	d->ready_timer = event_loop_add_timer(m->loop, INCOMING_POLL_MS, true,
					      incoming_poll, d);
	log_info("domain %s (%u): receiving a migration, VMM pid %d", d->name,
		 d->domid, (int)d->pid);
	return d;
}

/* ---- destroy, shutdown, pause, rename ------------------------------------- */

int domain_destroy(struct domain *d, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	log_info("domain %s (%u) destroyed", d->name, d->domid);
	domain_cleanup(d);
	return 0;
}

static bool guest_has_feature(struct domain *d, const char *feature)
{
	char path[128], *v;
	bool yes;

	snprintf(path, sizeof(path), "/local/domain/%u/control/feature-%s",
		 d->domid, feature);
	v = xs_local_read(d->mgr->xsl, path);
	yes = v && !strcmp(v, "1");
	free(v);
	return yes;
}

int domain_shutdown(struct domain *d, bool reboot, char *err, size_t errlen)
{
	const char *what = reboot ? "reboot" : "poweroff";
	char path[128];

	if (d->phase != DOMAIN_ACTIVE) {
		snprintf(err, errlen, "domain %s is already shut down", d->name);
		return -1;
	}
	if (guest_has_feature(d, what)) {
		snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown",
			 d->domid);
		if (xs_local_write(d->mgr->xsl, path, what) < 0) {
			snprintf(err, errlen, "domain %s: cannot write %s", d->name,
				 path);
			return -1;
		}
		log_info("domain %s (%u): asked to %s via xenstore", d->name,
			 d->domid, what);
		return 0;
	}
	if (reboot) {
		snprintf(err, errlen, "domain %s has no PV control interface "
			 "(control/feature-reboot) and ACPI has no reboot "
			 "button; reboot it from inside or use destroy", d->name);
		return -1;
	}
	log_info("domain %s (%u): no PV shutdown support, pressing the ACPI "
		 "power button", d->name, d->domid);
	return domain_vmm_request(d, "power-button", NULL, err, errlen);
}

int domain_pause(struct domain *d, bool pause, char *err, size_t errlen)
{
	if (d->phase != DOMAIN_ACTIVE) {
		snprintf(err, errlen, "domain %s is shut down", d->name);
		return -1;
	}
	if (domain_vmm_request(d, pause ? "pause" : "resume", NULL, err,
			       errlen) < 0)
		return -1;
	d->paused = pause;
	domain_record_save(d);
	return 0;
}

static int check_name(struct domain_manager *m, const char *name, char *err,
		      size_t errlen)
{
	if (!*name || strlen(name) >= DOMAIN_NAME_MAX || all_digits(name) ||
	    strchr(name, '/') || strpbrk(name, " \t\n")) {
		snprintf(err, errlen, "'%s' is not a valid domain name (1-%d "
			 "characters, no '/' or spaces, not all digits)", name,
			 DOMAIN_NAME_MAX - 1);
		return -1;
	}
	if (domain_find_name(m, name)) {
		snprintf(err, errlen, "domain '%s' already exists", name);
		return -1;
	}
	return 0;
}

int domain_rename(struct domain *d, const char *name, char *err,
		  size_t errlen)
{
	if (check_name(d->mgr, name, err, errlen) < 0)
		return -1;
	log_info("domain %s (%u) renamed to %s", d->name, d->domid, name);
	snprintf(d->name, sizeof(d->name), "%s", name);
	domain_store_rename(d);
	domain_record_save(d);
	return 0;
}

/* ---- a VMM ended ---------------------------------------------------------- */

static enum domain_action action_for(const struct domain *d,
				     const char *reason)
{
	if (!strcmp(reason, "poweroff"))
		return d->dc.on_poweroff;
	if (!strcmp(reason, "reboot"))
		return d->dc.on_reboot;
	if (!strcmp(reason, "stopped"))
		return ACTION_DESTROY;   /* killed outside xenond */
	return d->dc.on_crash;
}

static bool restarting_too_fast(struct domain *d)
{
	double now = wall_now();

	if (now - d->first_restart > RESTART_WINDOW_S) {
		d->first_restart = now;
		d->restarts = 0;
	}
	return ++d->restarts > RESTART_MAX;
}

/* A fresh domain with the same configuration, name and UUID, and (as in
 * Xen) a new domain ID. */
static void domain_restart(struct domain *d)
{
	char err[1024];
	unsigned old = d->domid;

	stop_watching(d);
	domain_detach_services(d);
	domain_store_destroy(d);
	domain_record_remove(d);
	domain_unlink(d);
	d->domid = 0;
	d->restore_file = NULL;
	if (domain_start(d, false, err, sizeof(err)) == 0)
		log_info("domain %s restarted as ID %u (was %u)", d->name,
			 d->domid, old);
}

static void domain_preserve(struct domain *d, const char *reason)
{
	stop_watching(d);
	domain_detach_services(d);
	d->phase = DOMAIN_SHUTDOWN;
	snprintf(d->shutdown_reason, sizeof(d->shutdown_reason), "%s", reason);
	domain_record_save(d);
}

void domain_exited(struct domain *d, const char *reason)
{
	enum domain_action a;

	if (d->saved || !strcmp(reason, "saved")) {
		domain_gone_saved(d);
		return;
	}
	if (d->incoming) {
		log_error("domain %s: incoming migration failed (%s); see %s/"
			  "vmm-%s.log", d->name, reason, d->mgr->opt.log_dir,
			  d->name);
		domain_cleanup(d);
		return;
	}
	a = action_for(d, reason);

	log_info("domain %s (%u): %s; on_%s=%s", d->name, d->domid, reason,
		 !strcmp(reason, "poweroff") || !strcmp(reason, "reboot")
			 ? reason : "crash",
		 domain_action_name(a));
	switch (a) {
	case ACTION_PRESERVE:
		domain_preserve(d, reason);
		return;
	case ACTION_RENAME_RESTART: {
		char err[256], newname[DOMAIN_NAME_MAX];
		struct domain *fresh = domain_alloc(d->mgr);

		snprintf(newname, sizeof(newname), "%.40s-%u", d->name, d->domid);
		if (!fresh || check_name(d->mgr, newname, err, sizeof(err)) < 0) {
			free(fresh);
			domain_cleanup(d);
			return;
		}
		/* The old one stays, renamed; a copy starts afresh. */
		*fresh = *d;
		fresh->next = NULL;
		domain_config_init(&d->dc);
		d->config_text = strdup(fresh->config_text);
		d->config_source = strdup(fresh->config_source);
		d->overrides = json_copy(fresh->overrides);
		if (load_config(d, NULL, NULL, err, sizeof(err)) < 0)
			log_warn("domain %s: %s", d->name, err);
		snprintf(d->name, sizeof(d->name), "%s", newname);
		domain_store_rename(d);
		domain_preserve(d, reason);
		fresh->pid_ev = NULL;
		fresh->pidfd = -1;
		fresh->console = NULL;
		fresh->xs_chan = NULL;
		fresh->domid = 0;
		fresh->restore_file = NULL;
		do
			xl_uuid_generate(fresh->uuid);
		while (uuid_in_use(d->mgr, fresh->uuid));
		if (domain_start(fresh, false, err, sizeof(err)) == 0)
			log_info("domain %s restarted as ID %u", fresh->name,
				 fresh->domid);
		return;
	}
	case ACTION_RESTART:
	case ACTION_COREDUMP_RESTART:
		if (restarting_too_fast(d)) {
			log_error("domain %s restarted %d times in %.0f s: "
				  "destroying it", d->name, RESTART_MAX,
				  RESTART_WINDOW_S);
			domain_cleanup(d);
			return;
		}
		domain_restart(d);
		return;
	case ACTION_DESTROY:
	case ACTION_COREDUMP_DESTROY:
	default:
		domain_cleanup(d);
		return;
	}
}

/* ---- the manager ----------------------------------------------------------- */

struct domain_manager *domain_manager_new(struct event_loop *loop,
					  struct xs_server *xs,
					  const struct domain_manager_opts *o,
					  char *err, size_t errlen)
{
	struct domain_manager *m = calloc(1, sizeof(*m));
	char path[600];

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->opt = *o;
	m->loop = loop;
	m->xs = xs;
	m->next_domid = 1;
	m->xsl = xs_local_new(xs);
	if (!m->xsl) {
		snprintf(err, errlen, "cannot open xenond's xenstore connection");
		free(m);
		return NULL;
	}
	if (access(o->vmm_path, X_OK) < 0) {
		snprintf(err, errlen, "VMM '%s': %s", o->vmm_path,
			 strerror(errno));
		xs_local_free(m->xsl);
		free(m);
		return NULL;
	}
	if (mkdir(o->log_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "log directory '%s': %s", o->log_dir,
			 strerror(errno));
		xs_local_free(m->xsl);
		free(m);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/console", o->log_dir);
	mkdir(path, 0755);
	domain_recover_all(m);
	return m;
}

void domain_manager_free(struct domain_manager *m)
{
	if (!m)
		return;
	while (m->domains) {
		struct domain *d = m->domains;

		stop_watching(d);
		domain_detach_services(d);
		m->domains = d->next;
		domain_free(d);
	}
	xs_local_free(m->xsl);
	free(m);
}

/* ---- a record back into a domain (used by recovery) ----------------------- */

struct domain *domain_from_record(struct domain_manager *m, json_t *j,
				  const char *dir)
{
	struct domain *d = domain_alloc(m);
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *uuid = json_string_value(json_object_get(j, "uuid"));
	const char *phase = json_string_value(json_object_get(j, "phase"));
	const char *reason = json_string_value(json_object_get(j, "shutdown_reason"));
	char err[1024] = "";

	if (!d)
		return NULL;
	d->domid = (unsigned)json_integer_value(json_object_get(j, "domid"));
	d->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	d->pid_start = (unsigned long long)json_integer_value(json_object_get(j, "pid_start"));
	d->start_time = json_number_value(json_object_get(j, "start_time"));
	d->paused = json_is_true(json_object_get(j, "paused"));
	d->restarts = (unsigned)json_integer_value(json_object_get(j, "restarts"));
	d->phase = phase && !strcmp(phase, "shutdown") ? DOMAIN_SHUTDOWN
						       : DOMAIN_ACTIVE;
	snprintf(d->shutdown_reason, sizeof(d->shutdown_reason), "%s",
		 reason ? reason : "");
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	d->config_text = strdup(json_string_value(json_object_get(j, "config_text")) ?: "");
	d->config_source = strdup(json_string_value(json_object_get(j, "config_source")) ?: "");
	d->overrides = json_incref(json_object_get(j, "overrides"));
	if (!json_is_array(d->overrides)) {
		json_decref(d->overrides);
		d->overrides = json_array();
	}
	if (!name || !uuid || !d->domid || xl_uuid_parse(uuid, d->uuid) < 0 ||
	    load_config(d, NULL, NULL, err, sizeof(err)) < 0) {
		log_error("recovery: %s: bad record%s%s", dir, err[0] ? ": " : "",
			  err[0] ? err : "");
		domain_free(d);
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}
