/*
 * xenond's single-threaded event loop: epoll over file descriptors, plus
 * timers and "after each round" hooks.  Every service of the daemon
 * (xenstore now, domains and consoles later) registers here, so no locks
 * are needed anywhere in the daemon.
 */
#ifndef XENON_EVENT_LOOP_H
#define XENON_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;
struct ev_fd;
struct ev_timer;
struct ev_hook;

#define EV_READ  0x1u
#define EV_WRITE 0x2u
/* Reported only: the peer hung up or the fd is in error. */
#define EV_ERROR 0x4u

typedef void (*ev_fd_fn)(void *opaque, unsigned events);
typedef void (*ev_timer_fn)(void *opaque);
typedef void (*ev_hook_fn)(void *opaque);

struct event_loop *event_loop_new(void);
/* Frees the loop; handlers still registered are freed too (not their fds). */
void event_loop_free(struct event_loop *loop);

/* Watch fd for events (EV_READ|EV_WRITE).  NULL on failure (errno set). */
struct ev_fd *event_loop_add_fd(struct event_loop *loop, int fd,
				unsigned events, ev_fd_fn fn, void *opaque);
int event_loop_mod_fd(struct event_loop *loop, struct ev_fd *h,
		      unsigned events);
/* Safe to call from inside any callback, including h's own. */
void event_loop_del_fd(struct event_loop *loop, struct ev_fd *h);

/* Call fn every interval_ms (repeat) or once after it. */
struct ev_timer *event_loop_add_timer(struct event_loop *loop,
				      unsigned interval_ms, bool repeat,
				      ev_timer_fn fn, void *opaque);
void event_loop_del_timer(struct event_loop *loop, struct ev_timer *t);

/* fn runs once after every round of fd and timer callbacks: the place to
 * do work batched over a round (flushing a journal, then replies). */
struct ev_hook *event_loop_add_hook(struct event_loop *loop, ev_hook_fn fn,
				    void *opaque);
void event_loop_del_hook(struct event_loop *loop, struct ev_hook *h);

/* Runs rounds until event_loop_stop(); returns 0, or -1 if epoll failed. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

/* Monotonic milliseconds. */
uint64_t event_loop_now_ms(void);

#endif
