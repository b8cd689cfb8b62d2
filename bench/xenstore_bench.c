/*
 * xenstore throughput over the UNIX socket, as one client sees it:
 * reads/s and writes/s, one request at a time (request/response) and
 * pipelined (a window of requests in flight).
 *
 *   xenstore_bench --xenond build/xenond    start a private daemon
 *   xenstore_bench --socket PATH            use a running one
 *   options: --ops N (200000)  --window W (64)  --value-size B (16)
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/xs_wire.h"

#define MSG_MAX (XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX)

struct bench {
	const char *socket, *xenond;
	long ops;
	int window;
	int value_size;
	char tmpdir[64], sockpath[128];
	pid_t daemon;
	int fd;
	char req[2][MSG_MAX];	/* [0] read, [1] write */
	size_t reqlen[2];
	char rbuf[1 << 16];
	size_t rlen;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "xenstore_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void start_daemon(struct bench *b)
{
	char state[128], log[128], api[128], logdir[128];

	strcpy(b->tmpdir, "/tmp/xsbench-XXXXXX");
	if (!mkdtemp(b->tmpdir))
		die("mkdtemp");
	snprintf(b->sockpath, sizeof(b->sockpath), "%s/sock", b->tmpdir);
	snprintf(state, sizeof(state), "%s/state", b->tmpdir);
	snprintf(log, sizeof(log), "%s/xenond.log", b->tmpdir);
	snprintf(api, sizeof(api), "%s/api.sock", b->tmpdir);
	snprintf(logdir, sizeof(logdir), "%s/log", b->tmpdir);
	b->daemon = fork();
	if (b->daemon < 0)
		die("fork");
	if (b->daemon == 0) {
		execl(b->xenond, b->xenond, "--foreground", "--state-dir",
		      state, "--xenstore-socket", b->sockpath, "--log-file",
		      log, "--socket", api, "--log-dir", logdir, (char *)NULL);
		_exit(127);
	}
	b->socket = b->sockpath;
	for (int i = 0; i < 500; i++) {
		int fd = try_connect(b->socket);
		if (fd >= 0) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	fprintf(stderr, "xenstore_bench: %s did not start (see %s)\n",
		b->xenond, log);
	exit(1);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void stop_daemon(struct bench *b)
{
	if (b->daemon <= 0)
		return;
	kill(b->daemon, SIGTERM);
	waitpid(b->daemon, NULL, 0);
	nftw(b->tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

/* Read until at least one whole reply is buffered; count and drop all
 * whole replies.  Exits on an error reply. */
static long take_replies(struct bench *b)
{
	long got = 0;

	for (;;) {
		size_t off = 0;
		ssize_t n;

		while (b->rlen - off >= XS_HDR_SIZE) {
			struct xsd_sockmsg h;
			memcpy(&h, b->rbuf + off, XS_HDR_SIZE);
			if (b->rlen - off < XS_HDR_SIZE + h.len)
				break;
			if (h.type == XS_ERROR) {
				fprintf(stderr, "xenstore_bench: error %.*s\n",
					(int)h.len, b->rbuf + off + XS_HDR_SIZE);
				exit(1);
			}
			off += XS_HDR_SIZE + h.len;
			got++;
		}
		memmove(b->rbuf, b->rbuf + off, b->rlen - off);
		b->rlen -= off;
		if (got)
			return got;
		n = read(b->fd, b->rbuf + b->rlen, sizeof(b->rbuf) - b->rlen);
		if (n <= 0)
			die("read");
		b->rlen += (size_t)n;
	}
}

/* ops requests of kind k with up to `window` in flight; returns ops/s. */
static double run(struct bench *b, int k, int window)
{
	static char batch[64 * MSG_MAX];
	long sent = 0, done = 0;
	int in_flight = 0;
	double t0 = now_s();

	while (done < b->ops) {
		size_t blen = 0;
		while (in_flight < window && sent < b->ops &&
		       blen + b->reqlen[k] <= sizeof(batch)) {
			memcpy(batch + blen, b->req[k], b->reqlen[k]);
			blen += b->reqlen[k];
			in_flight++;
			sent++;
		}
		if (blen)
			send_all(b->fd, batch, blen);
		long got = take_replies(b);
		done += got;
		in_flight -= (int)got;
	}
	return (double)b->ops / (now_s() - t0);
}

static void build_requests(struct bench *b)
{
	char payload[XENSTORE_PAYLOAD_MAX];
	const char *path = "/bench/key";
	size_t pl = strlen(path) + 1;

	b->reqlen[0] = xs_msg_build(b->req[0], MSG_MAX, XS_READ, 1, 0, path,
				    (uint32_t)pl);
	memcpy(payload, path, pl);
	memset(payload + pl, 'v', (size_t)b->value_size);
	b->reqlen[1] = xs_msg_build(b->req[1], MSG_MAX, XS_WRITE, 2, 0,
				    payload, (uint32_t)(pl + b->value_size));
}

static void parse(struct bench *b, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "xenond", required_argument, NULL, 'x' },
		{ "ops", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, 'w' },
		{ "value-size", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	b->ops = 200000;
	b->window = 64;
	b->value_size = 16;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': b->socket = optarg; break;
		case 'x': b->xenond = optarg; break;
		case 'n': b->ops = atol(optarg); break;
		case 'w': b->window = atoi(optarg); break;
		case 'v': b->value_size = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: xenstore_bench [--socket PATH |"
				" --xenond PATH] [--ops N] [--window W] "
				"[--value-size B]\n");
			exit(2);
		}
	}
	if (b->window < 1 || b->window > 64 || b->ops < 1 ||
	    b->value_size < 0 || b->value_size > 2048) {
		fprintf(stderr, "xenstore_bench: window 1-64, ops > 0, "
			"value-size 0-2048\n");
		exit(2);
	}
	if (!b->socket && !b->xenond) {
		b->socket = getenv("XENSTORED_PATH");
		if (!b->socket)
			b->socket = "/run/xenstored/socket";
	}
}

int main(int argc, char **argv)
{
	static struct bench b;
	double rr, rp, wr, wp;

	parse(&b, argc, argv);
	if (b.xenond)
		start_daemon(&b);
	b.fd = try_connect(b.socket);
	if (b.fd < 0)
		die(b.socket);
	build_requests(&b);
	run(&b, 1, 1);		/* create the key, warm up */
	rr = run(&b, 0, 1);
	rp = run(&b, 0, b.window);
	wr = run(&b, 1, 1);
	wp = run(&b, 1, b.window);
	printf("xenstore over %s, %ld ops each, %d-byte values\n", b.socket,
	       b.ops, b.value_size);
	printf("reads/s   request/response: %10.0f\n", rr);
	printf("reads/s   pipelined (%2d):   %10.0f\n", b.window, rp);
	printf("writes/s  request/response: %10.0f\n", wr);
	printf("writes/s  pipelined (%2d):   %10.0f\n", b.window, wp);
	close(b.fd);
	stop_daemon(&b);
	return 0;
}
