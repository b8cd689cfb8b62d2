/* `xm info`: facts about the host (Domain-0's machine), in the order and
 * with the names of Xen's `xl info`. */
#include "daemon/host_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define XENON_MAJOR 0
#define XENON_MINOR 2

/* A /proc/meminfo value in MiB, or 0. */
static long long meminfo_mib(const char *key)
{
	char line[256];
	long long kib = 0;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			kib = atoll(line + klen + 1);
			break;
		}
	if (f)
		fclose(f);
	return kib / 1024;
}

static double cpu_mhz(void)
{
	char line[256];
	double mhz = 0;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu MHz", 7)) {
			char *colon = strchr(line, ':');

			mhz = colon ? atof(colon + 1) : 0;
			break;
		}
	if (f)
		fclose(f);
	return mhz;
}

long long host_total_memory_mib(void)
{
	return meminfo_mib("MemTotal");
}

double host_cpu_seconds(void)
{
	unsigned long long user = 0, nice = 0, sys = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu", &user, &nice, &sys) != 3)
			user = nice = sys = 0;
		fclose(f);
	}
	return (double)(user + nice + sys) / (double)sysconf(_SC_CLK_TCK);
}

double host_boot_time(void)
{
	struct timespec now;
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");

	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = 0;
		fclose(f);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	return (double)now.tv_sec + now.tv_nsec / 1e9 - up;
}

json_t *host_info(unsigned nr_domains)
{
	struct utsname u;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char version[32];
	json_t *j = json_object();

	if (!j || uname(&u) < 0)
		return j;
	snprintf(version, sizeof(version), "%d.%d", XENON_MAJOR, XENON_MINOR);
	json_object_set_new(j, "host", json_string(u.nodename));
	json_object_set_new(j, "release", json_string(u.release));
	json_object_set_new(j, "version", json_string(u.version));
	json_object_set_new(j, "machine", json_string(u.machine));
	json_object_set_new(j, "nr_cpus", json_integer(cpus));
	json_object_set_new(j, "max_cpu_id", json_integer(cpus - 1));
	json_object_set_new(j, "nr_nodes", json_integer(1));
	json_object_set_new(j, "cpu_mhz", json_integer((json_int_t)cpu_mhz()));
	json_object_set_new(j, "virt_caps", json_string("hvm"));
	json_object_set_new(j, "total_memory",
			    json_integer(meminfo_mib("MemTotal")));
	json_object_set_new(j, "free_memory",
			    json_integer(meminfo_mib("MemAvailable")));
	json_object_set_new(j, "xen_major", json_integer(XENON_MAJOR));
	json_object_set_new(j, "xen_minor", json_integer(XENON_MINOR));
	json_object_set_new(j, "xen_extra", json_string("-xenon"));
	json_object_set_new(j, "xen_version", json_string(version));
	json_object_set_new(j, "xen_caps", json_string("xen-3.0-x86_64 hvm-3.0-x86_64"));
	json_object_set_new(j, "xen_scheduler", json_string("credit"));
	json_object_set_new(j, "xen_pagesize", json_integer(sysconf(_SC_PAGESIZE)));
	json_object_set_new(j, "hypervisor", json_string("kvm"));
	json_object_set_new(j, "nr_domains", json_integer(nr_domains));
	json_object_set_new(j, "cc_compiler", json_string(__VERSION__));
	json_object_set_new(j, "xend_config_format", json_integer(4));
	return j;
}
