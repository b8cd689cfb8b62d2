/*
 * The monitor's main thread: an epoll loop over the control socket, console
 * input and device eventfds.  vCPUs run in their own threads; anything that
 * must not run on a vCPU thread is driven from here.
 */
#ifndef XENON_MAIN_LOOP_H
#define XENON_MAIN_LOOP_H

#include <stdint.h>

typedef void (*main_loop_fn)(void *opaque, uint32_t events);

int main_loop_init(void);
/* events: EPOLLIN etc.  The callback runs on the main thread. */
int main_loop_add_fd(int fd, uint32_t events, main_loop_fn fn, void *opaque);
int main_loop_mod_fd(int fd, uint32_t events);
void main_loop_del_fd(int fd);
/* Runs until main_loop_quit(); returns then. */
void main_loop_run(void);
void main_loop_quit(void);

#endif
