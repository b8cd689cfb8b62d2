#include "daemon/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

/*
 * Handlers are never freed while a round is running: deletion only marks
 * them dead, and they are reaped at the end of the round.  That way an
 * epoll event already fetched for a deleted fd, or a callback deleting
 * itself or another handler, never touches freed memory.
 */
struct ev_fd {
	int fd;
	unsigned events;
	bool dead;
	ev_fd_fn fn;
	void *opaque;
	struct ev_fd *next;
};

struct ev_timer {
	uint64_t due_ms;
	unsigned interval_ms;
	bool repeat, dead;
	ev_timer_fn fn;
	void *opaque;
	struct ev_timer *next;
};

struct ev_hook {
	bool dead;
	ev_hook_fn fn;
	void *opaque;
	struct ev_hook *next;
};

struct event_loop {
	int epfd;
	bool stop;
	bool reap;		/* something was marked dead this round */
	struct ev_fd *fds;
	struct ev_timer *timers;
	struct ev_hook *hooks;
};

#define MAX_EVENTS 64

uint64_t event_loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct event_loop *event_loop_new(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

void event_loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	while (loop->fds) {
		struct ev_fd *h = loop->fds;
		loop->fds = h->next;
		free(h);
	}
	while (loop->timers) {
		struct ev_timer *t = loop->timers;
		loop->timers = t->next;
		free(t);
	}
	while (loop->hooks) {
		struct ev_hook *h = loop->hooks;
		loop->hooks = h->next;
		free(h);
	}
	close(loop->epfd);
	free(loop);
}

static uint32_t to_epoll(unsigned events)
{
	return (events & EV_READ ? EPOLLIN : 0u) |
	       (events & EV_WRITE ? EPOLLOUT : 0u);
}

struct ev_fd *event_loop_add_fd(struct event_loop *loop, int fd,
				unsigned events, ev_fd_fn fn, void *opaque)
{
	struct ev_fd *h = calloc(1, sizeof(*h));
	struct epoll_event ev = { .events = to_epoll(events) };

	if (!h)
		return NULL;
	h->fd = fd;
	h->events = events;
	h->fn = fn;
	h->opaque = opaque;
	ev.data.ptr = h;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(h);
		return NULL;
	}
	h->next = loop->fds;
	loop->fds = h;
	return h;
}

int event_loop_mod_fd(struct event_loop *loop, struct ev_fd *h,
		      unsigned events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = h };

	if (h->dead || h->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0)
		return -1;
	h->events = events;
	return 0;
}

void event_loop_del_fd(struct event_loop *loop, struct ev_fd *h)
{
	if (!h || h->dead)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	h->dead = true;
	loop->reap = true;
}

struct ev_timer *event_loop_add_timer(struct event_loop *loop,
				      unsigned interval_ms, bool repeat,
				      ev_timer_fn fn, void *opaque)
{
	struct ev_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->interval_ms = interval_ms;
	t->due_ms = event_loop_now_ms() + interval_ms;
	t->repeat = repeat;
	t->fn = fn;
	t->opaque = opaque;
	t->next = loop->timers;
	loop->timers = t;
	return t;
}

void event_loop_del_timer(struct event_loop *loop, struct ev_timer *t)
{
	if (!t)
		return;
	t->dead = true;
	loop->reap = true;
}

struct ev_hook *event_loop_add_hook(struct event_loop *loop, ev_hook_fn fn,
				    void *opaque)
{
	struct ev_hook *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fn = fn;
	h->opaque = opaque;
	h->next = loop->hooks;
	loop->hooks = h;
	return h;
}

void event_loop_del_hook(struct event_loop *loop, struct ev_hook *h)
{
	if (!h)
		return;
	h->dead = true;
	loop->reap = true;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}

/* Milliseconds until the next live timer is due; -1 if none. */
static int next_timeout(const struct event_loop *loop)
{
	uint64_t now = event_loop_now_ms(), best = UINT64_MAX;

	for (const struct ev_timer *t = loop->timers; t; t = t->next)
		if (!t->dead && t->due_ms < best)
			best = t->due_ms;
	if (best == UINT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	return best - now > 60000 ? 60000 : (int)(best - now);
}

static void run_timers(struct event_loop *loop)
{
	uint64_t now = event_loop_now_ms();

	for (struct ev_timer *t = loop->timers; t; t = t->next) {
		if (t->dead || t->due_ms > now)
			continue;
		if (t->repeat) {
			t->due_ms = now + t->interval_ms;
		} else {
			t->dead = true;
			loop->reap = true;
		}
		t->fn(t->opaque);
	}
}

static void run_hooks(struct event_loop *loop)
{
	for (struct ev_hook *h = loop->hooks; h; h = h->next)
		if (!h->dead)
			h->fn(h->opaque);
}

/* Free everything marked dead during the round. */
static void reap(struct event_loop *loop)
{
	struct ev_fd **pf = &loop->fds;
	struct ev_timer **pt = &loop->timers;
	struct ev_hook **ph = &loop->hooks;

	if (!loop->reap)
		return;
	loop->reap = false;
	while (*pf) {
		struct ev_fd *h = *pf;
		if (h->dead) {
			*pf = h->next;
			free(h);
		} else {
			pf = &h->next;
		}
	}
	while (*pt) {
		struct ev_timer *t = *pt;
		if (t->dead) {
			*pt = t->next;
			free(t);
		} else {
			pt = &t->next;
		}
	}
	while (*ph) {
		struct ev_hook *h = *ph;
		if (h->dead) {
			*ph = h->next;
			free(h);
		} else {
			ph = &h->next;
		}
	}
}

static void dispatch(struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		struct ev_fd *h = evs[i].data.ptr;
		unsigned what = 0;

		if (h->dead)
			continue;
		if (evs[i].events & EPOLLIN)
			what |= EV_READ;
		if (evs[i].events & EPOLLOUT)
			what |= EV_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			what |= EV_ERROR | EV_READ;
		h->fn(h->opaque, what);
	}
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event evs[MAX_EVENTS];

	loop->stop = false;
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, evs, MAX_EVENTS,
				   next_timeout(loop));

		if (n < 0 && errno != EINTR) {
			log_errno("epoll_wait");
			return -1;
		}
		if (n > 0)
			dispatch(evs, n);
		run_timers(loop);
		run_hooks(loop);
		reap(loop);
	}
	return 0;
}
