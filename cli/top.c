/*
 * xm top: Xen's xentop.  Every DELAY seconds, one line per domain with
 * CPU time and CPU% over the interval, memory, vCPUs, networks and disks.
 * A full-screen ncurses display on a terminal ('q' quits); with -b (batch)
 * plain text on stdout, for scripts and logs.
 */
#include <curses.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/xm.h"

#define MAX_DOMS 1024

struct sample {
	unsigned domid;
	double cpu;
};

struct top {
	bool batch;
	double delay;
	long iterations;
	struct sample prev[MAX_DOMS];
	size_t n_prev;
	double prev_time;
	long long host_mem_k;
};

typedef void (*out_fn)(const char *line);

static void out_stdout(const char *line)
{
	puts(line);
}

static void out_curses(const char *line)
{
	addstr(line);
	addch('\n');
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU% of one domain since the previous sample (100% = one host CPU). */
static double cpu_pct(struct top *t, unsigned domid, double cpu, double dt)
{
	for (size_t i = 0; i < t->n_prev; i++)
		if (t->prev[i].domid == domid && dt > 0)
			return 100.0 * (cpu - t->prev[i].cpu) / dt;
	return 0.0;
}

static void summary(json_t *doms, out_fn out)
{
	unsigned n = 0, count[6] = { 0 };
	char line[256], when[16];
	time_t now = time(NULL);
	json_t *d;
	size_t i;

	json_array_foreach(doms, i, d) {
		const char *st = json_string_value(json_object_get(d, "state"));

		n++;
		for (int f = 0; f < 6 && st; f++)
			if (st[f] != '-')
				count[f]++;
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	snprintf(line, sizeof(line), "xentop - %s   Xenon (KVM)", when);
	out(line);
	snprintf(line, sizeof(line), "%u domains: %u running, %u blocked, "
		 "%u paused, %u crashed, %u dying, %u shutdown", n, count[0],
		 count[1], count[2], count[4], count[5], count[3]);
	out(line);
}

static void domain_line(struct top *t, json_t *d, double dt, out_fn out)
{
	json_t *cfg = json_object_get(d, "config");
	long long mem_k = json_integer_value(json_object_get(d, "memory_mib")) * 1024;
	long long max_k = json_integer_value(json_object_get(d, "maxmem_mib")) * 1024;
	double cpu = json_number_value(json_object_get(d, "cpu_time"));
	unsigned domid = (unsigned)json_integer_value(json_object_get(d, "domid"));
	char state[7], line[256];
	const char *st = json_string_value(json_object_get(d, "state"));
	double total = t->host_mem_k > 0 ? (double)t->host_mem_k : 1.0;

	snprintf(state, sizeof(state), "%s", st ? st : "------");
	snprintf(line, sizeof(line),
		 "%10.10s %6s %10.0f %6.1f %10lld %6.1f %10lld %9.1f %5lld %4zu %4zu",
		 json_string_value(json_object_get(d, "name")), state, cpu,
		 cpu_pct(t, domid, cpu, dt), mem_k, 100.0 * (double)mem_k / total,
		 max_k, 100.0 * (double)max_k / total,
		 json_integer_value(json_object_get(d, "vcpus")),
		 json_array_size(json_object_get(cfg, "vifs")),
		 json_array_size(json_object_get(cfg, "disks")));
	out(line);
}

/* One screen (or batch block); false if the daemon went away. */
static bool show(struct top *t, out_fn out)
{
	json_t *reply = xm_request("top", "list", NULL), *doms, *d;
	double now = now_s(), dt = t->prev_time ? now - t->prev_time : 0;
	size_t i;

	if (!reply)
		return false;
	doms = json_object_get(reply, "domains");
	summary(doms, out);
	out("      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) "
	    "MAXMEM(%) VCPUS NETS VBDS");
	json_array_foreach(doms, i, d) {
		if (json_integer_value(json_object_get(d, "domid")) == 0)
			t->host_mem_k = json_integer_value(json_object_get(d, "memory_mib")) * 1024;
	}
	json_array_foreach(doms, i, d)
		domain_line(t, d, dt, out);
	t->n_prev = 0;
	json_array_foreach(doms, i, d) {
		if (t->n_prev == MAX_DOMS)
			break;
		t->prev[t->n_prev].domid = (unsigned)json_integer_value(json_object_get(d, "domid"));
		t->prev[t->n_prev++].cpu = json_number_value(json_object_get(d, "cpu_time"));
	}
	t->prev_time = now;
	json_decref(reply);
	return true;
}

static int run_batch(struct top *t)
{
	for (long i = 0; t->iterations <= 0 || i < t->iterations; i++) {
		if (i)
			usleep((useconds_t)(t->delay * 1e6));
		if (!show(t, out_stdout))
			return 1;
		putchar('\n');
		fflush(stdout);
	}
	return 0;
}

static int run_curses(struct top *t)
{
	int rc = 0;

	initscr();
	cbreak();
	noecho();
	timeout((int)(t->delay * 1000));
	for (long i = 0; t->iterations <= 0 || i < t->iterations; i++) {
		erase();
		if (!show(t, out_curses)) {
			rc = 1;
			break;
		}
		addstr("\n(q to quit)");
		refresh();
		if (getch() == 'q')
			break;
	}
	endwin();
	return rc;
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct top t = { .delay = 3.0 };
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "+bd:i:", opts, NULL)) != -1) {
		switch (c) {
		case 'b': t.batch = true; break;
		case 'd':
			t.delay = strtod(optarg, &end);
			if (*end || t.delay < 0.1 || t.delay > 3600)
				return xm_usage_error("top", "-d %s: want seconds "
						      "between 0.1 and 3600", optarg);
			break;
		case 'i':
			t.iterations = strtol(optarg, &end, 10);
			if (*end || t.iterations < 1)
				return xm_usage_error("top", "-i %s: want a count "
						      "of 1 or more", optarg);
			break;
		default:
			return xm_usage_error("top", "unknown option '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind < argc)
		return xm_usage_error("top", "takes no arguments");
	if (!t.batch && !isatty(STDOUT_FILENO))
		t.batch = true;
	return t.batch ? run_batch(&t) : run_curses(&t);
}
