/* Parsing /proc/.../stat (see proc_stat.h, and proc(5) for the fields). */
#include "daemon/proc_stat.h"

#include <stdio.h>
#include <string.h>

int proc_stat_read(pid_t pid, const char *tid, struct proc_stat *ps)
{
	char path[320], buf[1024], *open, *close;
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	open = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* The name may hold spaces and parentheses: it ends at the last ')'. */
	open = open ? strchr(buf, '(') : NULL;
	close = open ? strrchr(buf, ')') : NULL;
	if (!close || close[1] != ' ')
		return -1;
	snprintf(ps->name, sizeof(ps->name), "%.*s", (int)(close - open - 1),
		 open + 1);
	/* Fields 3 (state), 14-15 (utime, stime) and 22 (starttime). */
	if (sscanf(close + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		   "%llu %llu %*d %*d %*d %*d %*d %*d %llu", &ps->state,
		   &ps->utime, &ps->stime, &ps->starttime) != 4)
		return -1;
	return 0;
}
