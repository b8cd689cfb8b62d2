#include "daemon/xs_socket.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"

#define READ_CHUNK (64u * 1024)
#define MAX_CLIENTS 4096
#define EAGER_READS_MAX 256

struct client {
	struct xs_socket *sock;
	int fd;
	struct ev_fd *ev;
	struct xs_conn *conn;
	bool dirty, dead;
	uint64_t round;			/* of the eager reads below */
	unsigned eager_reads;
	struct client *next, *prev;	/* all live clients */
	struct client *dirty_next;	/* dirty list, or graveyard */
};

struct xs_socket {
	struct event_loop *loop;
	struct xs_server *srv;
	struct xs_socket_opts opts;
	char *path;
	int fd;
	struct ev_fd *ev;
	struct ev_hook *hook;
	struct ev_timer *accept_pause;
	struct client *clients, *dirty, *graveyard;
	struct client **dirty_tail;
	unsigned nclients;
	pid_t peer_pid;			/* xs_socket_set_peer_pid */
	bool refused_logged;
	uint64_t round;
	char buf[READ_CHUNK];
};

static void client_close(struct client *cl, const char *why)
{
	struct xs_socket *s = cl->sock;

	if (cl->dead)
		return;
	log_debug("xenstore: socket client fd %d closed: %s", cl->fd, why);
	cl->dead = true;
	event_loop_del_fd(s->loop, cl->ev);
	close(cl->fd);
	xs_conn_free(cl->conn);
	cl->conn = NULL;
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		s->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	s->nclients--;
	/* Freed after the round's dirty list is done with it. */
	if (!cl->dirty) {
		cl->dirty_next = s->graveyard;
		s->graveyard = cl;
	}
}

static void mark_dirty(struct client *cl)
{
	if (cl->dirty || cl->dead)
		return;
	/* FIFO, so a client read eagerly goes behind those waiting. */
	cl->dirty = true;
	cl->dirty_next = NULL;
	*cl->sock->dirty_tail = cl;
	cl->sock->dirty_tail = &cl->dirty_next;
}

static void wake(void *opaque)
{
	mark_dirty(opaque);
}

static const struct xs_conn_ops client_ops = { .wake = wake };

/* Send what we can; returns false if the client had to be closed. */
static bool write_out(struct client *cl)
{
	const void *data;
	size_t len;

	while ((len = xs_conn_output(cl->conn, &data)) != 0) {
		ssize_t n = send(cl->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0) {
			client_close(cl, strerror(errno));
			return false;
		}
		xs_conn_consume(cl->conn, (size_t)n);
	}
	return true;
}

static void update_interest(struct client *cl)
{
	const void *data;
	unsigned ev = 0;

	if (xs_conn_want_input(cl->conn))
		ev |= EV_READ;
	if (xs_conn_output(cl->conn, &data))
		ev |= EV_WRITE;
	event_loop_mod_fd(cl->sock->loop, cl->ev, ev);
}

/* Journal first, then replies; then requests that waited on output. */
static void flush_client(struct client *cl)
{
	const void *data;
	const char *why;

	for (;;) {
		xs_server_flush(cl->sock->srv);
		if (!write_out(cl))
			return;
		if (xs_conn_output(cl->conn, &data))
			break;	/* socket full: EV_WRITE will call back */
		xs_conn_process(cl->conn);
		if (!xs_conn_output(cl->conn, &data))
			break;
	}
	if (xs_conn_closing(cl->conn, &why)) {
		client_close(cl, why);
		return;
	}
	update_interest(cl);
}

static void client_read(struct client *cl)
{
	struct xs_socket *s = cl->sock;
	ssize_t n = read(cl->fd, s->buf, sizeof(s->buf));
	const char *why;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl, n == 0 ? "end of file" : strerror(errno));
		return;
	}
	if (xs_conn_feed(cl->conn, s->buf, (size_t)n) < 0) {
		xs_conn_closing(cl->conn, &why);
		client_close(cl, why ? why : "protocol error");
		return;
	}
	mark_dirty(cl);
}

static void client_event(void *opaque, unsigned events)
{
	struct client *cl = opaque;

	if (events & EV_READ)
		client_read(cl);
	if (!cl->dead && (events & EV_WRITE))
		mark_dirty(cl);
}

/* A domain has one channel: a new connection means xenon-vmm came back
 * (or was restarted), so whatever is left of the old one goes. */
static void replace_channel(struct xs_socket *s)
{
	while (s->clients) {
		struct client *cl = s->clients;

		log_info("xenstore: domain %u channel reconnected; dropping "
			 "the previous connection", s->opts.domid);
		write_out(cl);
		client_close(cl, "replaced by a new connection");
	}
}

/* Is the peer the one process allowed (if any)?  Checked before the
 * channel is replaced, so a refused dialler disturbs nothing. */
static bool peer_allowed(struct xs_socket *s, int fd)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);

	if (!s->peer_pid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    cred.pid == s->peer_pid)
		return true;
	/* Once at warning level: a stray monitor retries twice a second. */
	log_msg(s->refused_logged ? LOG_DEBUG : LOG_WARN,
		"xenstore: domain %u channel: refusing a connection from pid "
		"%d (the domain's monitor is pid %d)", s->opts.domid,
		(int)cred.pid, (int)s->peer_pid);
	s->refused_logged = true;
	return false;
}

static void accept_one(struct xs_socket *s, int fd)
{
	struct client *cl;

	if (!peer_allowed(s, fd)) {
		close(fd);
		return;
	}
	if (s->opts.channel)
		replace_channel(s);
	cl = calloc(1, sizeof(*cl));

	if (!cl || s->nclients >= MAX_CLIENTS) {
		log_warn("xenstore: refusing socket client: %s",
			 cl ? "too many clients" : "out of memory");
		free(cl);
		close(fd);
		return;
	}
	cl->sock = s;
	cl->fd = fd;
	cl->conn = xs_conn_new(s->srv, s->opts.domid, &client_ops, cl);
	cl->ev = cl->conn ? event_loop_add_fd(s->loop, fd, EV_READ,
					      client_event, cl) : NULL;
	if (!cl->ev) {
		log_errno("xenstore: cannot serve socket client");
		xs_conn_free(cl->conn);
		close(fd);
		free(cl);
		return;
	}
	cl->next = s->clients;
	if (s->clients)
		s->clients->prev = cl;
	s->clients = cl;
	s->nclients++;
	if (s->opts.channel && xs_conn_make_channel(cl->conn) < 0)
		client_close(cl, "cannot re-arm its watches");
}

static void resume_accept(void *opaque)
{
	struct xs_socket *s = opaque;

	s->accept_pause = NULL;
	event_loop_mod_fd(s->loop, s->ev, EV_READ);
}

static void listener_event(void *opaque, unsigned events)
{
	struct xs_socket *s = opaque;

	(void)events;
	for (;;) {
		int fd = accept4(s->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(s, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE) {
			/* Out of fds: stop polling the listener a moment
			 * instead of spinning on it. */
			log_warn("xenstore: accept: %s; pausing",
				 strerror(errno));
			event_loop_mod_fd(s->loop, s->ev, 0);
			s->accept_pause = event_loop_add_timer(
				s->loop, 100, false, resume_accept, s);
		}
		return;
	}
}

/* After each round: write the journal once, then every dirty client. */
static void round_done(void *opaque)
{
	struct xs_socket *s = opaque;

	s->round++;
	xs_server_flush(s->srv);
	while (s->dirty) {
		struct client *cl = s->dirty;

		s->dirty = cl->dirty_next;
		if (!s->dirty)
			s->dirty_tail = &s->dirty;
		cl->dirty = false;
		if (cl->dead) {
			cl->dirty_next = s->graveyard;
			s->graveyard = cl;
			continue;
		}
		flush_client(cl);
		/* A request/response client has often sent its next request
		 * by now: take it without another trip through epoll (a big
		 * saving in context switches), but only a few times per
		 * round so that others are not kept waiting. */
		if (cl->round != s->round) {
			cl->round = s->round;
			cl->eager_reads = 0;
		}
		if (!cl->dead && cl->eager_reads < EAGER_READS_MAX &&
		    xs_conn_want_input(cl->conn)) {
			cl->eager_reads++;
			client_read(cl);
		}
	}
	while (s->graveyard) {
		struct client *cl = s->graveyard;
		s->graveyard = cl->dirty_next;
		free(cl);
	}
}

static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		snprintf(err, errlen, "%s is in use by another xenstored",
			 path);
		close(fd);
		return -1;
	}
	/* A stale socket of a dead daemon goes; anything else stays. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int make_parent(const char *path)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return 0;	/* listen_unix reports it */
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

struct xs_socket *xs_socket_open(struct event_loop *loop,
				 struct xs_server *srv, const char *path,
				 char *err, size_t errlen)
{
	static const struct xs_socket_opts dom0 = { 0, false };

	return xs_socket_listen(loop, srv, path, &dom0, err, errlen);
}

struct xs_socket *xs_socket_listen(struct event_loop *loop,
				   struct xs_server *srv, const char *path,
				   const struct xs_socket_opts *opts,
				   char *err, size_t errlen)
{
	struct xs_socket *s = calloc(1, sizeof(*s));

	if (!s || !(s->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	s->loop = loop;
	s->srv = srv;
	s->opts = *opts;
	s->fd = -1;
	s->dirty_tail = &s->dirty;
	if (make_parent(path) < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s",
			 path, strerror(errno));
		goto fail;
	}
	s->fd = listen_unix(path, err, errlen);
	if (s->fd < 0)
		goto fail;
	s->ev = event_loop_add_fd(loop, s->fd, EV_READ, listener_event, s);
	s->hook = event_loop_add_hook(loop, round_done, s);
	if (!s->ev || !s->hook) {
		snprintf(err, errlen, "cannot watch %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	return s;
fail:
	xs_socket_close(s);
	return NULL;
}

void xs_socket_set_peer_pid(struct xs_socket *s, pid_t pid)
{
	s->peer_pid = pid;
}

void xs_socket_close(struct xs_socket *s)
{
	if (!s)
		return;
	/* Send what is already queued, without waiting for anyone. */
	xs_server_flush(s->srv);
	while (s->clients) {
		struct client *cl = s->clients;
		write_out(cl);
		client_close(cl, "shutdown");
	}
	round_done(s);
	event_loop_del_hook(s->loop, s->hook);
	event_loop_del_timer(s->loop, s->accept_pause);
	event_loop_del_fd(s->loop, s->ev);
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
	}
	free(s->path);
	free(s);
}
