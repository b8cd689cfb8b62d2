/*
 * xenond: Xenon's management daemon (Xen's xend + xenstored +
 * xenconsoled).  One event loop runs the xenstore service, the domain
 * manager (one xenon-vmm per domain), the consoles and the management
 * API socket that xm/xl talk to.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api.h"
#include "daemon/domain.h"
#include "daemon/event_loop.h"
#include "daemon/xs_domain_socket.h"
#include "daemon/xs_path.h"
#include "daemon/xs_quota.h"
#include "daemon/xs_server.h"
#include "daemon/xs_socket.h"
#include "lib/log.h"

#define DEFAULT_STATE_DIR "/var/lib/xenon"
#define DEFAULT_LOG_DIR "/var/log/xenon"
#define TICK_MS 1000	/* fdatasync interval: the host-crash window */

struct options {
	bool foreground, debug;
	bool no_guest_xenstore;
	unsigned relocation_port;
	const char *relocation_address, *relocation_key;
	const char *state_dir, *socket, *log_file, *api_socket, *vmm,
		   *log_dir;
	struct xs_quota quota;
	char *owned[6];		/* absolute copies made by absolutize() */
	char vmm_default[4096];
	struct domain_socket_opt {
		unsigned domid;
		char *path;	/* absolute */
	} *dsock;		/* --domain-socket, in order */
	unsigned ndsock;
};

struct daemon {
	struct options opt;
	struct event_loop *loop;
	struct xs_server *xs;
	struct xs_socket *sock;
	struct domain_manager *dm;
	struct api_ctx api_ctx;
	struct api *api;
	struct relocation *reloc;
	struct xs_domain_socket **dsocks;	/* opt.ndsock of them */
	int sigfd;
	struct ev_fd *sigev;
	struct ev_timer *tick;
	FILE *log;
	char pidfile[4096];
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: xenond [OPTION]...\n"
"Xenon's management daemon: domains (one xenon-vmm each), xenstore (Xen's\n"
"xs_wire protocol), consoles, and the management API for xm/xl.\n"
"\n"
"  --foreground            stay in the foreground (default: daemonize and\n"
"                          write STATE-DIR/xenond.pid)\n"
"  --state-dir DIR         where the store is kept (default %s)\n"
"  --xenstore-socket PATH  xenstore socket (default $XENSTORED_PATH, else\n"
"                          %s)\n"
"  --socket PATH           management API socket (default %s)\n"
"  --vmm PATH              xenon-vmm binary (default: next to xenond)\n"
"  --log-dir DIR           guest console logs (DIR/console/guest-NAME.log)\n"
"                          and VMM logs (DIR/vmm-NAME.log) (default %s)\n"
"  --no-guest-xenstore     do not give guests a xenstore channel\n"
"  --relocation-port PORT  receive migrating domains on this TCP port (Xen's\n"
"                          is 8002; default: off)\n"
"  --relocation-address A  listen there only (default: all addresses)\n"
"  --relocation-key FILE   shared secret for migration, both directions\n"
"  --xenstore-quota NAME=VALUE\n"
"                          set a quota, repeatable: nodes (1000), watches\n"
"                          (128), transactions (10), value-size (2048),\n"
"                          perms (5), tx-nodes (1024), queue-bytes (4194304)\n"
"  --domain-socket DOMID=PATH\n"
"                          introduce domain DOMID and listen on PATH for its\n"
"                          xenstore channel (xenon-vmm --xenstore unix:PATH);\n"
"                          repeatable\n"
"  --log-file PATH         log here (default: stderr; STATE-DIR/xenond.log\n"
"                          when daemonized)\n"
"  --debug                 log every request\n"
"  --help                  show this help\n",
		DEFAULT_STATE_DIR, XS_SOCKET_DEFAULT, API_SOCKET_DEFAULT,
		DEFAULT_LOG_DIR);
}

enum { OPT_FG = 256, OPT_STATE, OPT_SOCK, OPT_LOG, OPT_QUOTA, OPT_DEBUG,
       OPT_API, OPT_VMM, OPT_LOG_DIR, OPT_NO_GUEST_XS, OPT_DSOCK,
       OPT_RELOC_PORT, OPT_RELOC_ADDR, OPT_RELOC_KEY };

/* A daemon runs in "/": make relative paths absolute while we can. */
static int absolutize(struct options *o)
{
	const char **paths[6] = { &o->state_dir, &o->socket, &o->log_file,
				  &o->api_socket, &o->vmm, &o->log_dir };
	char cwd[4096];

	for (int i = 0; i < 6; i++) {
		const char *p = *paths[i];

		if (!p || p[0] == '/')
			continue;
		if (!getcwd(cwd, sizeof(cwd)) ||
		    asprintf(&o->owned[i], "%s/%s", cwd, p) < 0) {
			log_errno("cannot resolve %s", p);
			return -1;
		}
		*paths[i] = o->owned[i];
	}
	return 0;
}

/* xenon-vmm is installed (and built) next to xenond. */
static const char *default_vmm(struct options *o)
{
	char self[4000];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return "xenon-vmm";
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(o->vmm_default, sizeof(o->vmm_default), "%s/xenon-vmm", self);
	return o->vmm_default;
}

/* --domain-socket DOMID=PATH (made absolute: a daemon runs in "/"). */
static int add_domain_socket(struct options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char num[16], cwd[4096];
	struct domain_socket_opt *v;
	unsigned domid;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(num) || !eq[1]) {
		log_error("--domain-socket: '%s' is not DOMID=PATH", arg);
		return -1;
	}
	memcpy(num, arg, (size_t)(eq - arg));
	num[eq - arg] = '\0';
	if (xs_parse_domid(num, &domid) || domid == 0 ||
	    domid >= XS_DOMID_FIRST_RESERVED) {
		log_error("--domain-socket: '%s' is not a guest domain id", num);
		return -1;
	}
	v = realloc(o->dsock, (o->ndsock + 1) * sizeof(*v));
	if (!v)
		return -1;
	o->dsock = v;
	v[o->ndsock].domid = domid;
	if (eq[1] == '/' ? !(v[o->ndsock].path = strdup(eq + 1)) :
	    !getcwd(cwd, sizeof(cwd)) ||
	    asprintf(&v[o->ndsock].path, "%s/%s", cwd, eq + 1) < 0) {
		log_errno("--domain-socket: cannot resolve %s", eq + 1);
		return -1;
	}
	o->ndsock++;
	return 0;
}

static void free_options(struct options *o)
{
	for (int i = 0; i < 6; i++)
		free(o->owned[i]);
	for (unsigned i = 0; i < o->ndsock; i++)
		free(o->dsock[i].path);
	free(o->dsock);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, OPT_FG },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "xenstore-socket", required_argument, NULL, OPT_SOCK },
		{ "xenstore-quota", required_argument, NULL, OPT_QUOTA },
		{ "log-file", required_argument, NULL, OPT_LOG },
		{ "domain-socket", required_argument, NULL, OPT_DSOCK },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "socket", required_argument, NULL, OPT_API },
		{ "vmm", required_argument, NULL, OPT_VMM },
		{ "log-dir", required_argument, NULL, OPT_LOG_DIR },
		{ "no-guest-xenstore", no_argument, NULL, OPT_NO_GUEST_XS },
		{ "relocation-port", required_argument, NULL, OPT_RELOC_PORT },
		{ "relocation-address", required_argument, NULL, OPT_RELOC_ADDR },
		{ "relocation-key", required_argument, NULL, OPT_RELOC_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int c;

	o->state_dir = DEFAULT_STATE_DIR;
	o->socket = getenv("XENSTORED_PATH");
	if (!o->socket || !*o->socket)
		o->socket = XS_SOCKET_DEFAULT;
	o->api_socket = API_SOCKET_DEFAULT;
	o->log_dir = DEFAULT_LOG_DIR;
	o->vmm = default_vmm(o);
	xs_quota_defaults(&o->quota);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FG: o->foreground = true; break;
		case OPT_STATE: o->state_dir = optarg; break;
		case OPT_SOCK: o->socket = optarg; break;
		case OPT_LOG: o->log_file = optarg; break;
		case OPT_DEBUG: o->debug = true; break;
		case OPT_API: o->api_socket = optarg; break;
		case OPT_VMM: o->vmm = optarg; break;
		case OPT_LOG_DIR: o->log_dir = optarg; break;
		case OPT_NO_GUEST_XS: o->no_guest_xenstore = true; break;
		case OPT_RELOC_ADDR: o->relocation_address = optarg; break;
		case OPT_RELOC_KEY: o->relocation_key = optarg; break;
		case OPT_RELOC_PORT: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > 65535) {
				log_error("--relocation-port: '%s' is not a TCP "
					  "port", optarg);
				return -1;
			}
			o->relocation_port = (unsigned)v;
			break;
		}
		case OPT_DSOCK:
			if (add_domain_socket(o, optarg) < 0)
				return -1;
			break;
		case OPT_QUOTA:
			if (xs_quota_set(&o->quota, optarg, err, sizeof(err))) {
				log_error("--xenstore-quota: %s", err);
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	return absolutize(o);
}

/* --- signals and timers ---------------------------------------------------- */

static void on_signal(void *opaque, unsigned events)
{
	struct daemon *d = opaque;
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: nothing to reload");
			continue;
		}
		log_info("signal %u: shutting down", si.ssi_signo);
		event_loop_stop(d->loop);
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -1;
	d->sigev = event_loop_add_fd(d->loop, d->sigfd, EV_READ, on_signal, d);
	return d->sigev ? 0 : -1;
}

static void on_tick(void *opaque)
{
	struct daemon *d = opaque;

	xs_server_tick(d->xs);
}

/* --- daemonizing ------------------------------------------------------------ */

/*
 * Fork; the parent waits until the child reports it is serving (so a
 * script can use the socket as soon as xenond returns) and exits 0, or
 * exits 1 if the child failed.  Returns the write end in the child.
 */
static int daemonize(void)
{
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(pfd[1]);
		_exit(read(pfd[0], &c, 1) == 1 ? 0 : 1);
	}
	close(pfd[0]);
	setsid();
	if (chdir("/") < 0)
		log_warn("chdir /: %s", strerror(errno));
	return pfd[1];
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int write_pidfile(struct daemon *d)
{
	FILE *f;

	snprintf(d->pidfile, sizeof(d->pidfile), "%s/xenond.pid",
		 d->opt.state_dir);
	f = fopen(d->pidfile, "we");
	if (!f) {
		log_errno("cannot write %s", d->pidfile);
		d->pidfile[0] = '\0';
		return -1;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

static int open_log(struct daemon *d)
{
	static char path[4096];
	const char *file = d->opt.log_file;

	if (!file && !d->opt.foreground) {
		/* The state directory may not exist yet on a first start. */
		snprintf(path, sizeof(path), "%s", d->opt.state_dir);
		for (char *p = path + 1; *p; p++) {
			if (*p == '/') {
				*p = '\0';
				mkdir(path, 0755);
				*p = '/';
			}
		}
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/xenond.log",
			 d->opt.state_dir);
		file = path;
	}
	if (!file)
		return 0;
	d->log = fopen(file, "ae");
	if (!d->log) {
		log_errno("cannot open log file %s", file);
		return -1;
	}
	setvbuf(d->log, NULL, _IOLBF, 0);
	log_set_file(d->log);
	return 0;
}

/* --- start and stop ---------------------------------------------------------- */

static int start_domains(struct daemon *d, char *err, size_t errlen)
{
	struct domain_manager_opts o = {
		.state_dir = d->opt.state_dir,
		.vmm_path = d->opt.vmm,
		.log_dir = d->opt.log_dir,
		.xenstore_socket = d->opt.socket,
		.guest_xenstore = !d->opt.no_guest_xenstore,
		.relocation_key = d->opt.relocation_key,
	};

	d->dm = domain_manager_new(d->loop, d->xs, &o, err, errlen);
	if (!d->dm)
		return -1;
	d->api_ctx.dm = d->dm;
	d->api_ctx.loop = d->loop;
	d->api = api_open(&d->api_ctx, d->opt.api_socket, err, errlen);
	if (!d->api)
		return -1;
	if (d->opt.relocation_port) {
		d->reloc = relocation_open(d->dm, d->opt.relocation_address,
					   d->opt.relocation_port, err, errlen);
		if (!d->reloc)
			return -1;
	}
	return 0;
}

/* --domain-socket: what the domain manager does for each domain. */
static int open_domain_sockets(struct daemon *d)
{
	char err[512];

	d->dsocks = calloc(d->opt.ndsock + 1, sizeof(*d->dsocks));
	if (!d->dsocks)
		return -1;
	for (unsigned i = 0; i < d->opt.ndsock; i++) {
		const struct domain_socket_opt *o = &d->opt.dsock[i];

		xs_server_introduce(d->xs, o->domid);
		d->dsocks[i] = xs_domain_socket_open(d->loop, d->xs, o->domid,
						     o->path, err, sizeof(err));
		if (!d->dsocks[i]) {
			log_error("xenstore: --domain-socket %u: %s", o->domid,
				  err);
			return -1;
		}
	}
	return 0;
}

static int start(struct daemon *d)
{
	char err[512];

	d->loop = event_loop_new();
	if (!d->loop || setup_signals(d) < 0) {
		log_errno("cannot set up the event loop");
		return -1;
	}
	d->xs = xs_server_new(&d->opt.quota, d->opt.state_dir, err,
			      sizeof(err));
	if (!d->xs) {
		log_error("xenstore: %s", err);
		return -1;
	}
	d->sock = xs_socket_open(d->loop, d->xs, d->opt.socket, err,
				 sizeof(err));
	if (!d->sock) {
		log_error("xenstore: %s", err);
		return -1;
	}
	if (start_domains(d, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (open_domain_sockets(d) < 0)
		return -1;
	d->tick = event_loop_add_timer(d->loop, TICK_MS, true, on_tick, d);
	if (!d->tick) {
		log_errno("cannot add timer");
		return -1;
	}
	return 0;
}

static void stop(struct daemon *d)
{
	/* Domains keep running; a new xenond adopts them. */
	relocation_close(d->reloc);
	api_close(d->api);
	domain_manager_free(d->dm);
	for (unsigned i = 0; d->dsocks && i < d->opt.ndsock; i++)
		xs_domain_socket_close(d->dsocks[i]);
	free(d->dsocks);
	xs_socket_close(d->sock);
	if (d->xs && xs_server_compact(d->xs) == 0)
		log_info("xenstore: snapshot written");
	xs_server_free(d->xs);
	event_loop_free(d->loop);
	if (d->sigfd > 0)
		close(d->sigfd);
	if (d->pidfile[0])
		unlink(d->pidfile);
}

int main(int argc, char **argv)
{
	struct daemon d = { .sigfd = -1 };
	int ready_fd = -1, rc = 1;

	log_init("xenond", LOG_INFO);
	log_ring_install();
	if (parse_options(argc, argv, &d.opt) < 0) {
		free_options(&d.opt);
		return 1;
	}
	if (d.opt.debug)
		log_init("xenond", LOG_DEBUG);
	umask(022);
	if (!d.opt.foreground && (ready_fd = daemonize()) < 0) {
		log_errno("cannot daemonize");
		return 1;
	}
	if (open_log(&d) == 0 && start(&d) == 0) {
		if (ready_fd >= 0) {
			write_pidfile(&d);
			detach_stdio();
			if (write(ready_fd, "R", 1) < 0)
				log_warn("cannot notify parent");
			close(ready_fd);
		}
		log_info("serving xenstore on %s, management API on %s, state "
			 "in %s", d.opt.socket, d.opt.api_socket, d.opt.state_dir);
		rc = event_loop_run(d.loop) < 0 ? 1 : 0;
	} else if (d.log) {
		fprintf(stderr, "xenond: failed to start; see the log file\n");
	}
	stop(&d);
	log_info("stopped");
	if (d.log)
		fclose(d.log);
	free_options(&d.opt);
	return rc;
}
