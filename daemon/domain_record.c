/*
 * Each domain's record, STATE/domains/<domid>/domain.json, rewritten
 * atomically on every change, and the recovery that reads them back when
 * xenond starts: a domain whose VMM still runs (same pid and start time)
 * is adopted again; one whose VMM ended while xenond was away gets its
 * on_poweroff/on_reboot/on_crash action now.
 */
#include "daemon/domain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/xs_server.h"
#include "lib/log.h"

json_t *domain_record_json(const struct domain *d)
{
	char uuid[37];

	xl_uuid_format(d->uuid, uuid);
	return json_pack("{s:i, s:s, s:s, s:i, s:I, s:f, s:b, s:s, s:s, s:i,"
			 " s:s, s:s, s:O}",
			 "domid", (int)d->domid, "name", d->name, "uuid", uuid,
			 "pid", (int)d->pid, "pid_start", (json_int_t)d->pid_start,
			 "start_time", d->start_time, "paused", d->paused,
			 "phase", d->phase == DOMAIN_SHUTDOWN ? "shutdown" : "active",
			 "shutdown_reason", d->shutdown_reason,
			 "restarts", (int)d->restarts,
			 "config_text", d->config_text ? d->config_text : "",
			 "config_source", d->config_source ? d->config_source : "",
			 "overrides", d->overrides ? d->overrides : json_array());
}

static int record_write(const struct domain *d, bool sync)
{
	char path[600], tmp[600];
	json_t *j = domain_record_json(d);
	int rc;

	snprintf(path, sizeof(path), "%s/domain.json", d->dir);
	snprintf(tmp, sizeof(tmp), "%s/domain.json.tmp", d->dir);
	rc = j ? json_dump_file(j, tmp, JSON_INDENT(1)) : -1;
	json_decref(j);
	if (rc == 0) {
		int fd = sync ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;

		if (fd >= 0) {
			fdatasync(fd);
			close(fd);
		}
		rc = rename(tmp, path);
	}
	if (rc)
		log_error("domain %s: cannot write %s: %s", d->name, path,
			  strerror(errno));
	return rc;
}

int domain_record_save(const struct domain *d)
{
	return record_write(d, true);
}

/* The page cache outlives a xenond that dies; a host crash would take the
 * VMM with it, so this early record need not wait for the disk. */
int domain_record_note(const struct domain *d)
{
	return record_write(d, false);
}

static void rm_dir_files(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char p[1024];

	while (dp && (e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (dp)
		closedir(dp);
	rmdir(dir);
}

void domain_record_remove(const struct domain *d)
{
	rm_dir_files(d->dir);
}

/* Rebuild a domain from its record; NULL (and a log line) if unusable. */
static struct domain *record_load(struct domain_manager *m, const char *dir)
{
	char path[700];
	json_error_t jerr;
	json_t *j;
	struct domain *d;

	snprintf(path, sizeof(path), "%s/domain.json", dir);
	j = json_load_file(path, 0, &jerr);
	if (!j) {
		log_error("recovery: %s: %s (line %d)", path, jerr.text, jerr.line);
		return NULL;
	}
	d = domain_from_record(m, j, dir);
	json_decref(j);
	return d;
}

static void recover_one(struct domain_manager *m, struct domain *d)
{
	char err[512];

	domain_link(m, d);
	/* Introduced again, as at creation, before its channel opens (the
	 * rule of xs_domain_socket.h): xenond forgot that when it died, and
	 * releasing a domain not introduced does nothing, so destroying it
	 * would leave its durable watches behind for the next domain to get
	 * this id. */
	xs_server_introduce(m->xs, d->domid);
	if (d->phase == DOMAIN_SHUTDOWN) {
		log_info("recovered domain %s (%u), shut down (%s)", d->name,
			 d->domid, d->shutdown_reason);
		return;
	}
	if (d->pid <= 0 && domain_vmm_find(d) == 0) {
		/* xenond died between starting the VMM and recording it: the
		 * store layout may be missing too (laying it out again is
		 * harmless), and a new domain stays paused for the admin. */
		domain_store_create(d);
		domain_record_save(d);
	}
	if (domain_vmm_alive(d) && domain_watch_pid(d) == 0) {
		if (domain_attach_services(d, err, sizeof(err)) < 0)
			log_warn("domain %s: %s", d->name, err);
		log_info("recovered domain %s (%u), VMM pid %d", d->name,
			 d->domid, (int)d->pid);
		return;
	}
	log_warn("domain %s (%u): its VMM ended while xenond was not running",
		 d->name, d->domid);
	d->pid = 0;
	domain_exited(d, domain_exit_reason(d, -1));
}

void domain_recover_all(struct domain_manager *m)
{
	char dir[384];
	struct dirent *e;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/domains", m->opt.state_dir);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((e = readdir(dp))) {
		char sub[660];
		char *end;
		unsigned long id = strtoul(e->d_name, &end, 10);
		struct domain *d;

		if (e->d_name[0] == '.' || *end || !id)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		d = record_load(m, sub);
		if (!d) {
			log_error("recovery: %s: ignored", sub);
			continue;
		}
		if (d->domid >= m->next_domid)
			m->next_domid = d->domid + 1;
		recover_one(m, d);
	}
	closedir(dp);
}
