/* A process's or thread's /proc stat line, as xenond needs it: to tell a
 * live VMM from a reused pid or a zombie, vCPU thread states for `xm list`,
 * and CPU time. */
#ifndef XENON_PROC_STAT_H
#define XENON_PROC_STAT_H

#include <sys/types.h>

struct proc_stat {
	char name[64];                 /* comm: "vcpu0", "xenon-vmm" */
	char state;                    /* R, S, D, Z, X, ... */
	unsigned long long utime, stime;   /* clock ticks */
	unsigned long long starttime;  /* clock ticks after boot */
};

/* /proc/PID/stat, or /proc/PID/task/TID/stat when tid is set.  0, or -1
 * if it does not exist (any more) or cannot be read. */
int proc_stat_read(pid_t pid, const char *tid, struct proc_stat *ps);

#endif
