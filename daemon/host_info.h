/* Host facts for `xm info` and Domain-0's line in `xm list`. */
#ifndef XENON_HOST_INFO_H
#define XENON_HOST_INFO_H

#include <jansson.h>

json_t *host_info(unsigned nr_domains);
long long host_total_memory_mib(void);
double host_cpu_seconds(void);
/* When the host booted (Domain-0's start), wall-clock seconds. */
double host_boot_time(void);

#endif
