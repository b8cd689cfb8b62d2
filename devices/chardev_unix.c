/*
 * unix:PATH: a reconnecting UNIX socket client (rules in chardev_unix.h).
 *
 * The lock covers the buffers and the descriptor, so any thread may write
 * (and sends at once, non-blocking) or read.  Everything that changes the
 * connection or the epoll registration runs on the main thread; other
 * threads ask for it through an eventfd ("kick").
 */
#include "devices/byte_ring.h"
#include "devices/chardev_unix.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/main_loop.h"

#define BACKOFF_FIRST_MS 20
#define BACKOFF_MAX_MS   500
#define STABLE_MS        1000

struct chardev_unix {
	const char *name;
	char *path;
	pthread_mutex_t lock;
	int fd;                 /* -1 while disconnected */
	bool broken;            /* a send failed: main loop disconnects */
	bool want_out;          /* socket full: wait for EPOLLOUT */
	bool logged_failure;    /* since the last connection */
	bool want_reconnect;    /* chardev_reconnect() from any thread */
	bool linking;           /* new connection, link callback not done:
				 * nothing is sent yet (see try_connect) */
	uint32_t events;        /* registered on fd */
	int kick_fd, timer_fd;
	unsigned backoff_ms;
	uint64_t up_since_ms;   /* when the current connection was made */

	uint8_t out[CHARDEV_OUT_BUF];
	size_t out_head, out_len;
	uint64_t dropped;
	uint8_t in[CHARDEV_IN_BUF];
	size_t in_head, in_len;

	chardev_input_fn input_fn;
	void *input_opaque;
	chardev_link_fn link_fn;
	void *link_opaque;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void kick(struct chardev_unix *cu)
{
	uint64_t one = 1;

	if (write(cu->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_errno("%s: eventfd", cu->name);
}

/* ---- sending (any thread, lock held) --------------------------------- */

static void flush_locked(struct chardev_unix *cu)
{
	while (cu->fd >= 0 && !cu->broken && !cu->want_out && !cu->linking &&
	       cu->out_len) {
		size_t chunk = ring_chunk(CHARDEV_OUT_BUF, cu->out_head,
					  cu->out_len);
		ssize_t n;

		n = send(cu->fd, cu->out + cu->out_head, chunk,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			cu->want_out = true;
		} else if (n < 0) {
			cu->broken = true;
		} else {
			ring_consume(CHARDEV_OUT_BUF, &cu->out_head,
				     &cu->out_len, (size_t)n);
		}
	}
	if (!cu->out_len)
		cu->out_head = 0;
}

void chardev_unix_write(struct chardev_unix *cu, const void *buf, size_t len)
{
	size_t taken;
	bool first_drop = false, need_kick;

	pthread_mutex_lock(&cu->lock);
	taken = ring_append(cu->out, CHARDEV_OUT_BUF, cu->out_head, &cu->out_len,
			    buf, len);
	if (taken < len) {
		first_drop = cu->dropped == 0;
		cu->dropped += len - taken;
	}
	flush_locked(cu);
	/* The main loop must start polling for room, or disconnect. */
	need_kick = cu->broken || (cu->want_out && !(cu->events & EPOLLOUT));
	pthread_mutex_unlock(&cu->lock);
	if (need_kick)
		kick(cu);
	if (first_drop)
		log_warn("%s: %s is not reading; dropping output", cu->name,
			 cu->path);
}

/* ---- the connection (main thread) ------------------------------------ */

static void sock_event(void *opaque, uint32_t events);

/* What to poll for, from the buffers' state (lock held).  With the input
 * buffer full, not even EPOLLRDHUP: it would be reported over and over;
 * a peer that is gone still shows as EPOLLHUP. */
static void update_events_locked(struct chardev_unix *cu)
{
	uint32_t ev = 0;

	if (cu->fd < 0)
		return;
	if (cu->in_len < CHARDEV_IN_BUF)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (cu->want_out)
		ev |= EPOLLOUT;
	if (ev != cu->events && main_loop_mod_fd(cu->fd, ev) == 0)
		cu->events = ev;
}

static void arm_retry(struct chardev_unix *cu)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = cu->backoff_ms / 1000;
	its.it_value.tv_nsec = (long)(cu->backoff_ms % 1000) * 1000000L;
	if (timerfd_settime(cu->timer_fd, 0, &its, NULL) < 0)
		log_errno("%s: timerfd", cu->name);
	cu->backoff_ms *= 2;
	if (cu->backoff_ms > BACKOFF_MAX_MS)
		cu->backoff_ms = BACKOFF_MAX_MS;
}

static void disconnect(struct chardev_unix *cu, const char *why)
{
	int fd = cu->fd;

	if (fd < 0)
		return;
	main_loop_del_fd(fd);
	pthread_mutex_lock(&cu->lock);
	cu->fd = -1;
	cu->broken = cu->want_out = cu->linking = false;
	cu->events = 0;
	cu->in_len = cu->in_head = 0;
	pthread_mutex_unlock(&cu->lock);
	close(fd);
	/* Back to quick retries only after a connection that lasted: a peer
	 * that accepts and closes at once (xenond refusing a monitor that
	 * is not the domain's) is not hammered every 20 ms. */
	if (now_ms() - cu->up_since_ms >= STABLE_MS)
		cu->backoff_ms = BACKOFF_FIRST_MS;
	log_warn("%s: lost %s (%s); reconnecting", cu->name, cu->path, why);
	if (cu->link_fn)
		cu->link_fn(cu->link_opaque, false);
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Try once; on failure the timer tries again later. */
static void try_connect(struct chardev_unix *cu)
{
	int fd = dial(cu->path);
	bool broken;

	if (fd < 0) {
		if (!cu->logged_failure)
			log_warn("%s: cannot connect to %s: %s; retrying",
				 cu->name, cu->path, strerror(errno));
		cu->logged_failure = true;
		arm_retry(cu);
		return;
	}
	if (main_loop_add_fd(fd, EPOLLIN | EPOLLRDHUP, sock_event, cu) < 0) {
		close(fd);
		arm_retry(cu);
		return;
	}
	/* Held (linking) until the link callback is done: other threads
	 * may write from the moment fd is set, and what they queue, like
	 * what the last connection left, must wait for the device to
	 * re-queue or drop it, or the peer could get a message twice or
	 * the tail of a torn one. */
	pthread_mutex_lock(&cu->lock);
	cu->fd = fd;
	cu->linking = true;
	cu->events = EPOLLIN | EPOLLRDHUP;
	pthread_mutex_unlock(&cu->lock);
	cu->up_since_ms = now_ms();
	cu->logged_failure = false;
	log_info("%s: connected to %s", cu->name, cu->path);
	if (cu->link_fn)
		cu->link_fn(cu->link_opaque, true);
	pthread_mutex_lock(&cu->lock);
	cu->linking = false;
	flush_locked(cu);
	update_events_locked(cu);
	broken = cu->broken;
	pthread_mutex_unlock(&cu->lock);
	if (broken)
		kick(cu);
}

/* Read what fits; returns false at end of file or on an error. */
static bool read_locked(struct chardev_unix *cu, const char **why)
{
	while (cu->in_len < CHARDEV_IN_BUF) {
		size_t tail = (cu->in_head + cu->in_len) % CHARDEV_IN_BUF;
		size_t room = CHARDEV_IN_BUF - cu->in_len;
		ssize_t n;

		if (room > CHARDEV_IN_BUF - tail)
			room = CHARDEV_IN_BUF - tail;
		n = read(cu->fd, cu->in + tail, room);
		if (n > 0) {
			cu->in_len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		*why = n == 0 ? "end of file" : strerror(errno);
		return false;
	}
	return true;
}

static void sock_event(void *opaque, uint32_t events)
{
	struct chardev_unix *cu = opaque;
	const char *why = NULL;
	bool alive = true, input;

	pthread_mutex_lock(&cu->lock);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		alive = read_locked(cu, &why);
	if (events & EPOLLOUT) {
		cu->want_out = false;
		flush_locked(cu);
	}
	if (cu->broken && alive) {
		alive = false;
		why = "write failed";
	}
	/* A full buffer with the peer hung up: nothing more will come. */
	if (alive && (events & (EPOLLHUP | EPOLLERR)) &&
	    cu->in_len == CHARDEV_IN_BUF) {
		alive = false;
		why = "hung up";
	}
	update_events_locked(cu);
	input = cu->in_len != 0;
	pthread_mutex_unlock(&cu->lock);
	/* What the peer sent before it went is still its answer. */
	if (input && cu->input_fn)
		cu->input_fn(cu->input_opaque);
	if (!alive) {
		disconnect(cu, why);
		arm_retry(cu);
	}
}

static void kick_event(void *opaque, uint32_t events)
{
	struct chardev_unix *cu = opaque;
	uint64_t v;
	bool broken, reconnect;

	(void)events;
	if (read(cu->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_errno("%s: eventfd", cu->name);
	pthread_mutex_lock(&cu->lock);
	broken = cu->broken;
	reconnect = cu->want_reconnect;
	cu->want_reconnect = false;
	update_events_locked(cu);
	pthread_mutex_unlock(&cu->lock);
	if (reconnect) {
		disconnect(cu, "reconnect requested");
		cu->backoff_ms = BACKOFF_FIRST_MS;
		try_connect(cu);
	} else if (broken) {
		disconnect(cu, "write failed");
		arm_retry(cu);
	}
}

static void timer_event(void *opaque, uint32_t events)
{
	struct chardev_unix *cu = opaque;
	uint64_t v;

	(void)events;
	if (read(cu->timer_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_errno("%s: timerfd", cu->name);
	if (cu->fd < 0)
		try_connect(cu);
}

/* ---- the device's side ---------------------------------------------- */

int chardev_unix_set_input(struct chardev_unix *cu, chardev_input_fn fn,
			   void *opaque)
{
	cu->input_fn = fn;
	cu->input_opaque = opaque;
	return 0;
}

size_t chardev_unix_read(struct chardev_unix *cu, uint8_t *buf, size_t len)
{
	size_t n = 0;
	bool resume;

	pthread_mutex_lock(&cu->lock);
	resume = cu->in_len == CHARDEV_IN_BUF;
	while (n < len && cu->in_len) {
		buf[n++] = cu->in[cu->in_head];
		cu->in_head = (cu->in_head + 1) % CHARDEV_IN_BUF;
		cu->in_len--;
	}
	resume = resume && n && cu->fd >= 0;
	pthread_mutex_unlock(&cu->lock);
	if (resume)
		kick(cu);	/* poll the socket again */
	return n;
}

size_t chardev_unix_input_pending(struct chardev_unix *cu)
{
	size_t n;

	pthread_mutex_lock(&cu->lock);
	n = cu->in_len;
	pthread_mutex_unlock(&cu->lock);
	return n;
}

uint64_t chardev_unix_dropped(struct chardev_unix *cu)
{
	uint64_t n;

	pthread_mutex_lock(&cu->lock);
	n = cu->dropped;
	pthread_mutex_unlock(&cu->lock);
	return n;
}

void chardev_unix_set_link(struct chardev_unix *cu, chardev_link_fn fn,
			   void *opaque)
{
	cu->link_fn = fn;
	cu->link_opaque = opaque;
}

bool chardev_unix_connected(struct chardev_unix *cu)
{
	bool up;

	pthread_mutex_lock(&cu->lock);
	up = cu->fd >= 0 && !cu->broken;
	pthread_mutex_unlock(&cu->lock);
	return up;
}

size_t chardev_unix_write_room(struct chardev_unix *cu)
{
	size_t room;

	pthread_mutex_lock(&cu->lock);
	room = CHARDEV_OUT_BUF - cu->out_len;
	pthread_mutex_unlock(&cu->lock);
	return room;
}

void chardev_unix_discard_output(struct chardev_unix *cu)
{
	pthread_mutex_lock(&cu->lock);
	cu->out_head = cu->out_len = 0;
	pthread_mutex_unlock(&cu->lock);
}

/* Done by the main loop, where no device lock is held. */
void chardev_unix_reconnect(struct chardev_unix *cu)
{
	pthread_mutex_lock(&cu->lock);
	cu->want_reconnect = true;
	pthread_mutex_unlock(&cu->lock);
	kick(cu);
}

/* ---- life cycle ------------------------------------------------------ */

struct chardev_unix *chardev_unix_open(const char *name, const char *path)
{
	struct chardev_unix *cu = calloc(1, sizeof(*cu));

	if (!cu || !(cu->path = strdup(path))) {
		log_error("%s: out of memory", name);
		free(cu);
		return NULL;
	}
	cu->name = name;
	cu->fd = -1;
	cu->backoff_ms = BACKOFF_FIRST_MS;
	pthread_mutex_init(&cu->lock, NULL);
	cu->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cu->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				      TFD_CLOEXEC | TFD_NONBLOCK);
	if (cu->kick_fd < 0 || cu->timer_fd < 0 ||
	    main_loop_add_fd(cu->kick_fd, EPOLLIN, kick_event, cu) < 0 ||
	    main_loop_add_fd(cu->timer_fd, EPOLLIN, timer_event, cu) < 0) {
		log_errno("%s: cannot set up %s", name, path);
		chardev_unix_close(cu);
		return NULL;
	}
	try_connect(cu);
	return cu;
}

void chardev_unix_close(struct chardev_unix *cu)
{
	if (!cu)
		return;
	/* Whatever can go without waiting goes. */
	pthread_mutex_lock(&cu->lock);
	flush_locked(cu);
	pthread_mutex_unlock(&cu->lock);
	if (cu->fd >= 0) {
		main_loop_del_fd(cu->fd);
		close(cu->fd);
	}
	if (cu->kick_fd >= 0) {
		main_loop_del_fd(cu->kick_fd);
		close(cu->kick_fd);
	}
	if (cu->timer_fd >= 0) {
		main_loop_del_fd(cu->timer_fd);
		close(cu->timer_fd);
	}
	if (cu->dropped)
		log_warn("%s: %llu output bytes dropped", cu->name,
			 (unsigned long long)cu->dropped);
	pthread_mutex_destroy(&cu->lock);
	free(cu->path);
	free(cu);
}
