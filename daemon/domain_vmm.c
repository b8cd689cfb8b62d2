/*
 * One xenon-vmm process per domain: its command line (built from the
 * domain's configuration), spawning it, waiting until it serves its
 * control socket, control requests, and watching it exit (a pidfd, which
 * also works for VMMs a previous xenond started).
 */
#include "daemon/domain.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/proc_stat.h"
#include "lib/log.h"

#define VMM_READY_TIMEOUT_MS 10000
#define VMM_REQUEST_TIMEOUT_MS 5000
#define MAX_ARGS 64

extern char **environ;

struct argv_builder {
	char *argv[MAX_ARGS + 2 * DOMAIN_MAX_DISKS + 2 * DOMAIN_MAX_VIFS];
	size_t n;
	bool oom;
};

static void arg(struct argv_builder *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void arg(struct argv_builder *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (b->n + 1 >= sizeof(b->argv) / sizeof(b->argv[0])) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
		b->oom = true;
	}
	va_end(ap);
	if (s)
		b->argv[b->n++] = s;
}

static void argv_free(struct argv_builder *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->argv[i]);
}

/* Each vif gets its TAP name from Xen's convention: vif<domid>.<devid>. */
static void add_vifs(struct argv_builder *b, const struct domain *d)
{
	for (size_t i = 0; i < d->dc.n_vifs; i++) {
		const struct xl_vif *v = &d->dc.vifs[i];
		char mac[18];

		char extra[96] = "";
		size_t n = 0;

		/* The MAC xenond generated (and wrote to the store) is the
		 * one the guest must see; the TAP is named as Xen names it. */
		xl_mac_format(v->mac, mac);
		if (!v->mac_given)
			n += (size_t)snprintf(extra + n, sizeof(extra) - n,
					      ",mac=%s", mac);
		if (!v->vifname)
			snprintf(extra + n, sizeof(extra) - n, ",vifname=vif%u.%d",
				 d->domid, v->devid);
		arg(b, "--vif");
		arg(b, "%s%s", v->spec, extra);
	}
}

/* How this domain reaches xenond: the same for a new or a restored one. */
static void service_args(struct argv_builder *b, const struct domain *d)
{
	arg(b, "--control=%s/control.sock", d->dir);
	arg(b, "--exit-file=%s/exit", d->dir);
	/* The PV console (hvc0) is the domain's console; COM1 is logged. */
	arg(b, "--vconsole=pty");
	arg(b, "--pty-link=%s/console.pty", d->dir);
	arg(b, "--serial=file:%s/serial.log", d->dir);
	if (d->mgr->opt.guest_xenstore)
		arg(b, "--xenstore=unix:%s/xenstore.sock", d->dir);
}

/* The machine and its devices come from the save file. */
static int build_restore_argv(struct argv_builder *b, const struct domain *d)
{
	arg(b, "--restore=%s", d->restore_file);
	/* Running again in milliseconds whatever the RAM size; each chunk is
	 * still checked before the guest sees it (docs/save-format.md). */
	arg(b, "--verify-ram=lazy");
	arg(b, "--name=%s", d->name);
	service_args(b, d);
	arg(b, "--paused");
	b->argv[b->n] = NULL;
	return b->oom ? -1 : 0;
}

/* The migration socket becomes this descriptor in the VMM. */
#define INCOMING_FD 100

/* The machine and its devices come from the migration stream. */
static int build_incoming_argv(struct argv_builder *b, const struct domain *d)
{
	arg(b, "--incoming=fd:%d", INCOMING_FD);
	arg(b, "--incoming-key-file=%s", d->mgr->opt.relocation_key);
	arg(b, "--name=%s", d->name);
	service_args(b, d);
	b->argv[b->n] = NULL;
	return b->oom ? -1 : 0;
}

static int build_argv(struct argv_builder *b, const struct domain *d)
{
	const struct domain_config *dc = &d->dc;
	const struct domain_manager_opts *o = &d->mgr->opt;
	char uuid[37];

	arg(b, "%s", o->vmm_path);
	if (d->restore_file)
		return build_restore_argv(b, d);
	if (d->incoming_fd >= 0)
		return build_incoming_argv(b, d);
	arg(b, "--name=%s", d->name);
	xl_uuid_format(d->uuid, uuid);
	arg(b, "--uuid=%s", uuid);
	arg(b, "--memory=%llu", (unsigned long long)dc->memory_mb);
	arg(b, "--vcpus=%u", dc->vcpus);
	arg(b, "--kernel=%s", dc->kernel);
	if (dc->ramdisk)
		arg(b, "--initrd=%s", dc->ramdisk);
	if (dc->cmdline)
		arg(b, "--cmdline=%s", dc->cmdline);
	service_args(b, d);
	for (size_t i = 0; i < dc->n_disks; i++) {
		arg(b, "--disk");
		arg(b, "%s", dc->disks[i].spec);
	}
	add_vifs(b, d);
	/* The domain is always created paused and unpaused by xenond once
	 * its store entries and console exist, as xl does. */
	arg(b, "--paused");
	b->argv[b->n] = NULL;
	return b->oom ? -1 : 0;
}

/* stdin from /dev/null, stdout/stderr to DIR/vmm.log, own session (a
 * terminal's Ctrl-C or xenond's death must not reach it). */
static int spawn_actions(posix_spawn_file_actions_t *fa,
			 posix_spawnattr_t *at, const struct domain *d)
{
	char log[600];

	snprintf(log, sizeof(log), "%s/vmm-%s.log", d->mgr->opt.log_dir,
		 d->name);
	if (posix_spawn_file_actions_init(fa) || posix_spawnattr_init(at))
		return -1;
	posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(fa, 1, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(fa, 1, 2);
	/* dup2 clears close-on-exec on the copy (domain_receive() makes
	 * sure the source is not INCOMING_FD itself). */
	if (d->incoming_fd >= 0)
		posix_spawn_file_actions_adddup2(fa, d->incoming_fd, INCOMING_FD);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETSID |
				 POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	{
		sigset_t none, all;

		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(at, &none);
		posix_spawnattr_setsigdefault(at, &all);
	}
	return 0;
}

int domain_vmm_spawn(struct domain *d, char *err, size_t errlen)
{
	struct argv_builder b = { .n = 0 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char path[600];
	int rc;

	snprintf(path, sizeof(path), "%s/exit", d->dir);
	unlink(path);
	if (build_argv(&b, d) < 0 || spawn_actions(&fa, &at, d) < 0) {
		argv_free(&b);
		snprintf(err, errlen, "out of memory building the VMM command");
		return -1;
	}
	rc = posix_spawn(&d->pid, b.argv[0], &fa, &at, b.argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	argv_free(&b);
	if (rc) {
		snprintf(err, errlen, "cannot run %s: %s", d->mgr->opt.vmm_path,
			 strerror(rc));
		return -1;
	}
	d->is_child = true;
	d->pid_start = proc_start_time(d->pid);
	return 0;
}

static int control_connect(const struct domain *d)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if ((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/control.sock",
			     d->dir) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Read one reply line within the timeout. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, VMM_REQUEST_TIMEOUT_MS) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0) {
			errno = n ? errno : ECONNRESET;
			return -1;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (strchr(buf, '\n'))
			return 0;
	}
	errno = EMSGSIZE;
	return -1;
}

/* The VMM's own last error line (its log), which names the bad input. */
static void vmm_log_error(const struct domain *d, const char *what, char *err,
			  size_t errlen)
{
	char path[600], line[1024], last[1024] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/vmm-%s.log", d->mgr->opt.log_dir,
		 d->name);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line, "error"))
			snprintf(last, sizeof(last), "%s", line);
	}
	if (f)
		fclose(f);
	if (!strncmp(last, "xenon-vmm: error: ", 18))
		memmove(last, last + 18, strlen(last + 18) + 1);
	snprintf(err, errlen, "domain %s: the VMM %s: %s", d->name, what,
		 last[0] ? last : "no message (see its log)");
}

/* Whether the VMM has ended (gone, or a zombie not reaped yet). */
static bool vmm_ended(const struct domain *d)
{
	struct proc_stat ps;

	return d->pid <= 0 || proc_stat_read(d->pid, NULL, &ps) < 0 ||
	       ps.state == 'Z' || ps.state == 'X';
}

int domain_vmm_request(const struct domain *d, const char *cmd,
		       json_t **reply, char *err, size_t errlen)
{
	char line[4096];
	int fd = control_connect(d), n;
	json_t *r;

	if (fd < 0) {
		snprintf(err, errlen, "domain %s: VMM control socket: %s",
			 d->name, strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}\n", cmd);
	if (write(fd, line, (size_t)n) != n || read_line(fd, line, sizeof(line)) < 0) {
		int e = errno;

		close(fd);
		usleep(20000);   /* a VMM that just failed: let it finish dying */
		if (vmm_ended(d))
			vmm_log_error(d, "stopped", err, errlen);
		else
			snprintf(err, errlen, "domain %s: VMM did not answer "
				 "'%s': %s", d->name, cmd, strerror(e));
		return -1;
	}
	close(fd);
	r = json_loads(line, 0, NULL);
	if (!r || !json_is_true(json_object_get(r, "ok"))) {
		const char *e = json_string_value(json_object_get(r, "error"));

		snprintf(err, errlen, "domain %s: VMM refused '%s': %s", d->name,
			 cmd, e ? e : "bad reply");
		json_decref(r);
		return -1;
	}
	if (reply)
		*reply = r;
	else
		json_decref(r);
	return 0;
}

/* The VMM recorded for d still runs: the same pid *and* start time, so a
 * reused pid or a zombie does not count. */
bool domain_vmm_alive(const struct domain *d)
{
	return d->pid > 0 && kill(d->pid, 0) == 0 &&
	       proc_start_time(d->pid) == d->pid_start;
}

int domain_vmm_find(struct domain *d)
{
	json_t *reply = NULL;
	char err[300];
	json_int_t pid;

	if (domain_vmm_request(d, "status", &reply, err, sizeof(err)) < 0)
		return -1;
	pid = json_integer_value(json_object_get(reply, "pid"));
	json_decref(reply);
	if (pid <= 0)
		return -1;
	d->pid = (pid_t)pid;
	d->pid_start = proc_start_time(d->pid);
	d->is_child = false;
	log_info("domain %s (%u): found its VMM, pid %d, through its control "
		 "socket", d->name, d->domid, (int)d->pid);
	return 0;
}

/* Poll until the control socket answers (the VMM has built the VM and its
 * devices) or the VMM dies; its log says why. */
static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int domain_vmm_wait_ready(struct domain *d, char *err, size_t errlen)
{
	uint64_t start = now_us(), end = start + VMM_READY_TIMEOUT_MS * 1000ULL;

	while (now_us() < end) {
		/* A VMM is usually ready within a few ms (a restore in ~3):
		 * look often at first, then every ms. */
		struct timespec ts = { 0, now_us() - start < 50000 ? 100000
								   : 1000000 };
		int fd = control_connect(d);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (d->is_child && waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			break;
		}
		if (!d->is_child && !domain_vmm_alive(d))
			break;
		nanosleep(&ts, NULL);
	}
	if (d->pid) {
		snprintf(err, errlen, "domain %s: VMM did not start within %d ms",
			 d->name, VMM_READY_TIMEOUT_MS);
		return -1;
	}
	vmm_log_error(d, "failed to start", err, errlen);
	return -1;
}

void domain_vmm_kill(struct domain *d)
{
	if (d->pid <= 0)
		return;
	if (d->pidfd >= 0)
		pidfd_send_signal(d->pidfd, SIGKILL, NULL, 0);
	else if (domain_vmm_alive(d))
		kill(d->pid, SIGKILL);
	if (d->is_child)
		waitpid(d->pid, NULL, 0);
	else
		for (int i = 0; i < 1000 && kill(d->pid, 0) == 0; i++)
			usleep(1000);
	d->pid = 0;
}

static void on_pid_exit(void *opaque, unsigned events)
{
	struct domain *d = opaque;
	int status = -1;

	(void)events;
	if (d->is_child) {
		if (waitpid(d->pid, &status, WNOHANG) != d->pid)
			status = -1;
	}
	event_loop_del_fd(d->mgr->loop, d->pid_ev);
	d->pid_ev = NULL;
	close(d->pidfd);
	d->pidfd = -1;
	d->pid = 0;
	domain_exited(d, domain_exit_reason(d, status));
}

int domain_watch_pid(struct domain *d)
{
	d->pidfd = pidfd_open(d->pid, 0);
	if (d->pidfd < 0)
		return -1;
	fcntl(d->pidfd, F_SETFD, FD_CLOEXEC);
	d->pid_ev = event_loop_add_fd(d->mgr->loop, d->pidfd, EV_READ,
				      on_pid_exit, d);
	return d->pid_ev ? 0 : -1;
}

/* The VMM's --exit-file word, else its exit status, else "crash". */
const char *domain_exit_reason(const struct domain *d, int status)
{
	static const char *const words[] = { "poweroff", "reboot", "crash",
					      "internal", "stopped", "error" };
	char path[600], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/exit", d->dir);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (!strcmp(buf, words[i]))
				return words[i];
	}
	if (status >= 0 && WIFEXITED(status)) {
		switch (WEXITSTATUS(status)) {
		case 0: return "poweroff";
		case 3: return "reboot";
		case 6: return "stopped";
		case 1: return "error";
		default: return "crash";
		}
	}
	return "crash";   /* killed by a signal, or vanished unseen */
}

/* Process start time in clock ticks since boot; 0 if the process does not
 * exist or has already exited (pid reuse is told apart by this value). */
unsigned long long proc_start_time(pid_t pid)
{
	struct proc_stat ps;

	/* A zombie is a VMM that has ended, not a live one. */
	if (proc_stat_read(pid, NULL, &ps) < 0 || ps.state == 'Z' ||
	    ps.state == 'X')
		return 0;
	return ps.starttime;
}
