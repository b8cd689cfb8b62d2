/* epoll loop of the monitor's main thread. */
#include "vmm/main_loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/log.h"

#define MAX_WATCHES 256

struct watch {
	int fd;
	main_loop_fn fn;
	void *opaque;
	bool used;
};

static int epfd = -1;
static bool quit;
static struct watch watches[MAX_WATCHES];

int main_loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		log_errno("epoll_create1");
	return epfd < 0 ? -1 : 0;
}

int main_loop_add_fd(int fd, uint32_t events, main_loop_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };

	for (unsigned i = 0; i < MAX_WATCHES; i++) {
		if (watches[i].used)
			continue;
		watches[i] = (struct watch){ fd, fn, opaque, true };
		ev.data.ptr = &watches[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_errno("epoll_ctl add fd %d", fd);
			watches[i].used = false;
			return -1;
		}
		return 0;
	}
	log_error("main loop: too many file descriptors");
	return -1;
}

static struct watch *find_watch(int fd)
{
	for (unsigned i = 0; i < MAX_WATCHES; i++)
		if (watches[i].used && watches[i].fd == fd)
			return &watches[i];
	return NULL;
}

int main_loop_mod_fd(int fd, uint32_t events)
{
	struct watch *w = find_watch(fd);
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (!w)
		return -1;
	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

void main_loop_del_fd(int fd)
{
	struct watch *w = find_watch(fd);

	if (!w)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	w->used = false;
	w->fd = -1;
}

void main_loop_quit(void)
{
	quit = true;
}

void main_loop_run(void)
{
	struct epoll_event evs[32];

	while (!quit) {
		int n = epoll_wait(epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_errno("epoll_wait");
			return;
		}
		for (int i = 0; i < n && !quit; i++) {
			struct watch *w = evs[i].data.ptr;

			/* A callback may have removed this watch already. */
			if (w->used)
				w->fn(w->opaque, evs[i].events);
		}
	}
}
