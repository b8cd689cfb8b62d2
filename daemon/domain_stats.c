/*
 * What `xm list` shows about a domain: Xen's state flags and CPU time,
 * read from the VMM's threads in /proc (a vCPU thread sleeping in KVM_RUN
 * is a blocked vCPU), and the JSON form of a domain for the API.
 */
#include "daemon/domain.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/console.h"
#include "daemon/proc_stat.h"

/* True if any vCPU thread is runnable right now. */
static bool any_vcpu_running(pid_t pid)
{
	char dir[64];
	struct proc_stat ps;
	struct dirent *e;
	bool running = false;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	dp = opendir(dir);
	while (dp && !running && (e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		if (proc_stat_read(pid, e->d_name, &ps) == 0 &&
		    ps.state == 'R' && !strncmp(ps.name, "vcpu", 4))
			running = true;
	}
	if (dp)
		closedir(dp);
	return running;
}

void domain_state_flags(const struct domain *d, char out[7])
{
	memcpy(out, "------", 7);
	if (d->phase == DOMAIN_SHUTDOWN) {
		out[3] = 's';
		if (!strcmp(d->shutdown_reason, "crash") ||
		    !strcmp(d->shutdown_reason, "internal"))
			out[4] = 'c';
		return;
	}
	if (d->paused)
		out[2] = 'p';
	else if (d->pid > 0 && any_vcpu_running(d->pid))
		out[0] = 'r';
	else
		out[1] = 'b';
}

double domain_cpu_time(const struct domain *d)
{
	struct proc_stat ps;

	if (d->pid <= 0 || proc_stat_read(d->pid, NULL, &ps) < 0)
		return 0;
	return (double)(ps.utime + ps.stime) / (double)sysconf(_SC_CLK_TCK);
}

json_t *domain_to_json(const struct domain *d)
{
	char uuid[37], flags[7];
	json_t *j;

	xl_uuid_format(d->uuid, uuid);
	domain_state_flags(d, flags);
	j = json_pack("{s:s, s:i, s:s, s:I, s:I, s:i, s:s, s:f, s:f, s:i}",
		      "name", d->name, "domid", (int)d->domid, "uuid", uuid,
		      "memory_mib", (json_int_t)d->dc.memory_mb,
		      "maxmem_mib", (json_int_t)d->dc.maxmem_mb,
		      "vcpus", (int)d->dc.vcpus, "state", flags,
		      "cpu_time", domain_cpu_time(d),
		      "start_time", d->start_time, "pid", (int)d->pid);
	if (!j)
		return NULL;
	if (d->shutdown_reason[0])
		json_object_set_new(j, "shutdown_reason",
				    json_string(d->shutdown_reason));
	if (d->console && console_tty(d->console))
		json_object_set_new(j, "console_tty",
				    json_string(console_tty(d->console)));
	json_object_set_new(j, "config", domain_config_to_json(&d->dc));
	return j;
}
