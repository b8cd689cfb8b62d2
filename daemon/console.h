/*
 * xenconsoled inside xenond: one console per domain.  The VMM's PV console
 * is a pty; xenond reads it continuously, appends everything to the
 * domain's log file (guest-NAME.log) and copies it to every attached
 * client, and forwards what clients type to the guest.  Clients come and
 * go at any time; several may be attached at once; the log never misses
 * a byte because capture does not depend on them.
 */
#ifndef XENON_CONSOLE_H
#define XENON_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/event_loop.h"

/* Recent output kept to replay to a client that attaches. */
#define CONSOLE_HISTORY 16384
/* A client that falls this far behind is disconnected. */
#define CONSOLE_CLIENT_QUEUE 262144

struct console;

/* pty_link names the pty (a symlink the VMM made).  NULL with a sentence
 * in err on failure. */
struct console *console_open(struct event_loop *loop, const char *name,
			     const char *pty_link, const char *log_path,
			     char *err, size_t errlen);
/* Reads what is left, closes the log and every client. */
void console_close(struct console *c);
/* The pty's path (/dev/pts/N). */
const char *console_tty(const struct console *c);

/* Hand a client connection (fd) to the console: from now on it carries
 * raw console bytes both ways.  With history, the recent output is sent
 * first.  The console owns fd afterwards.  0 or -1. */
int console_attach(struct console *c, int fd, bool history);
unsigned console_clients(const struct console *c);

#endif
