/* xenconsoled: see console.h. */
#include "daemon/console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lib/log.h"

struct console_client {
	struct console *con;
	int fd;
	struct ev_fd *ev;
	char *out;              /* bytes not yet sent to the client */
	size_t out_len;
	struct console_client *next;
};

struct console {
	struct event_loop *loop;
	char name[64];
	char tty[PATH_MAX];
	int pty_fd, log_fd;
	struct ev_fd *pty_ev;
	char history[CONSOLE_HISTORY];
	size_t hist_start, hist_len;     /* ring buffer */
	struct console_client *clients;
};

static void client_free(struct console_client *cl)
{
	struct console *c = cl->con;

	for (struct console_client **pp = &c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	event_loop_del_fd(c->loop, cl->ev);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

static void client_flush(struct console_client *cl)
{
	while (cl->out_len) {
		ssize_t n = write(cl->fd, cl->out, cl->out_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
		cl->out_len -= (size_t)n;
	}
	event_loop_mod_fd(cl->con->loop, cl->ev,
			  EV_READ | (cl->out_len ? EV_WRITE : 0));
}

/* Queue output for one client; false if it fell too far behind. */
static bool client_queue(struct console_client *cl, const char *buf,
			 size_t len)
{
	char *p;

	if (!len)
		return true;	/* realloc(p, 0) would free p */
	if (cl->out_len + len > CONSOLE_CLIENT_QUEUE)
		return false;
	p = realloc(cl->out, cl->out_len + len);
	if (!p)
		return false;
	memcpy(p + cl->out_len, buf, len);
	cl->out = p;
	cl->out_len += len;
	client_flush(cl);
	return true;
}

static void history_add(struct console *c, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		size_t pos = (c->hist_start + c->hist_len) % CONSOLE_HISTORY;

		c->history[pos] = buf[i];
		if (c->hist_len < CONSOLE_HISTORY)
			c->hist_len++;
		else
			c->hist_start = (c->hist_start + 1) % CONSOLE_HISTORY;
	}
}

static void console_output(struct console *c, const char *buf, size_t len)
{
	struct console_client *cl, *next;

	if (c->log_fd >= 0 && write(c->log_fd, buf, len) != (ssize_t)len)
		log_warn("console %s: log write failed: %s", c->name,
			 strerror(errno));
	history_add(c, buf, len);
	for (cl = c->clients; cl; cl = next) {
		next = cl->next;
		if (!client_queue(cl, buf, len)) {
			log_warn("console %s: client too slow, disconnected",
				 c->name);
			client_free(cl);
		}
	}
}

static void on_pty(void *opaque, unsigned events)
{
	struct console *c = opaque;
	char buf[4096];
	ssize_t n;

	(void)events;
	while ((n = read(c->pty_fd, buf, sizeof(buf))) > 0)
		console_output(c, buf, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* The VMM closed the pty: it is exiting; the domain manager
		 * closes the console when the process is gone. */
		event_loop_del_fd(c->loop, c->pty_ev);
		c->pty_ev = NULL;
	}
}

static void on_client(void *opaque, unsigned events)
{
	struct console_client *cl = opaque;
	char buf[1024];
	ssize_t n;

	if (events & EV_WRITE)
		client_flush(cl);
	if (!(events & (EV_READ | EV_ERROR)))
		return;
	n = read(cl->fd, buf, sizeof(buf));
	if (n > 0) {
		/* A full pty only delays the guest's keyboard; drop if so. */
		if (write(cl->con->pty_fd, buf, (size_t)n) < 0 && errno != EAGAIN)
			log_debug("console %s: input: %s", cl->con->name,
				  strerror(errno));
		return;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		client_free(cl);
}

static int open_pty(struct console *c, const char *link, char *err,
		    size_t errlen)
{
	struct termios tio;

	if (!realpath(link, c->tty)) {
		snprintf(err, errlen, "console %s: %s: %s", c->name, link,
			 strerror(errno));
		return -1;
	}
	c->pty_fd = open(c->tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (c->pty_fd < 0) {
		snprintf(err, errlen, "console %s: %s: %s", c->name, c->tty,
			 strerror(errno));
		return -1;
	}
	/* Raw: no echo back to the guest, no newline translation. */
	if (tcgetattr(c->pty_fd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(c->pty_fd, TCSANOW, &tio);
	}
	return 0;
}

struct console *console_open(struct event_loop *loop, const char *name,
			     const char *pty_link, const char *log_path,
			     char *err, size_t errlen)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->loop = loop;
	c->pty_fd = c->log_fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (open_pty(c, pty_link, err, errlen) < 0)
		goto fail;
	c->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			 0640);
	if (c->log_fd < 0)
		log_warn("console %s: cannot open log %s: %s", name, log_path,
			 strerror(errno));
	c->pty_ev = event_loop_add_fd(loop, c->pty_fd, EV_READ, on_pty, c);
	if (!c->pty_ev) {
		snprintf(err, errlen, "console %s: %s", name, strerror(errno));
		goto fail;
	}
	return c;
fail:
	console_close(c);
	return NULL;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	if (c->pty_ev) {
		on_pty(c, EV_READ);     /* whatever the guest printed last */
		if (c->pty_ev)
			event_loop_del_fd(c->loop, c->pty_ev);
	}
	while (c->clients)
		client_free(c->clients);
	if (c->pty_fd >= 0)
		close(c->pty_fd);
	if (c->log_fd >= 0)
		close(c->log_fd);
	free(c);
}

const char *console_tty(const struct console *c)
{
	return c->tty[0] ? c->tty : NULL;
}

unsigned console_clients(const struct console *c)
{
	unsigned n = 0;

	for (const struct console_client *cl = c->clients; cl; cl = cl->next)
		n++;
	return n;
}

int console_attach(struct console *c, int fd, bool history)
{
	struct console_client *cl = calloc(1, sizeof(*cl));
	int fl = fcntl(fd, F_GETFL);

	if (!cl || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		free(cl);
		close(fd);
		return -1;
	}
	cl->con = c;
	cl->fd = fd;
	cl->ev = event_loop_add_fd(c->loop, fd, EV_READ, on_client, cl);
	if (!cl->ev) {
		free(cl);
		close(fd);
		return -1;
	}
	cl->next = c->clients;
	c->clients = cl;
	if (history && c->hist_len) {
		size_t first = CONSOLE_HISTORY - c->hist_start;

		if (first > c->hist_len)
			first = c->hist_len;
		client_queue(cl, c->history + c->hist_start, first);
		client_queue(cl, c->history, c->hist_len - first);
	}
	return 0;
}
