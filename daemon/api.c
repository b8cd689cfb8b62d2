/* The management API's UNIX socket transport (see api.h). */
#include "daemon/api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/console.h"
#include "daemon/domain.h"
#include "daemon/xs_server.h"
#include "lib/log.h"

struct api_waiter {
	struct api_client *client;  /* NULL once the client went away */
};

struct api_client {
	struct api *api;
	struct api_waiter *waiter;  /* a deferred reply is pending */
	int fd;
	struct ev_fd *ev;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len;
	bool closing;
	struct api_client *next;
};

struct api {
	struct api_ctx *ctx;
	int fd;
	struct ev_fd *ev;
	char path[108];
	struct api_client *clients;
};

static void client_unlink(struct api_client *c)
{
	for (struct api_client **pp = &c->api->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

static void client_free(struct api_client *c, bool close_fd)
{
	if (c->waiter)
		c->waiter->client = NULL;
	client_unlink(c);
	event_loop_del_fd(c->api->ctx->loop, c->ev);
	if (close_fd)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Non-blocking send of what is queued; true when all is out. */
static bool client_flush(struct api_client *c)
{
	while (c->out_len) {
		ssize_t n = write(c->fd, c->out, c->out_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			c->closing = true;
			c->out_len = 0;
			return true;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	event_loop_mod_fd(c->api->ctx->loop, c->ev,
			  c->out_len ? EV_WRITE : EV_READ);
	return c->out_len == 0;
}

static void client_send(struct api_client *c, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	char *p = text ? realloc(c->out, c->out_len + len + 1) : NULL;

	json_decref(reply);
	if (!p) {
		free(text);
		c->closing = true;
		return;
	}
	memcpy(p + c->out_len, text, len);
	p[c->out_len + len] = '\n';
	c->out = p;
	c->out_len += len + 1;
	free(text);
	/* What the request wrote to the store (a domain's layout, a
	 * control/shutdown request) is journaled before the reply says it
	 * is done, as for xenstore's own replies: then a kill -9 right
	 * after `xm create` or `xm shutdown` returns loses none of it. */
	xs_server_flush(c->api->ctx->dm->xs);
	client_flush(c);
}

/* The console op: the reply goes out first (blocking briefly: it is
 * short), then the connection belongs to the console. */
static void hand_to_console(struct api_client *c, struct console *con,
			    bool history)
{
	int fd = c->fd, fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	while (c->out_len) {
		ssize_t n = write(fd, c->out, c->out_len);

		if (n <= 0)
			break;
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	client_free(c, false);
	console_attach(con, fd, history);
}

/* What became of the client after a request. */
enum line_result { LINE_DONE, LINE_HANDED_OFF, LINE_DEFERRED };

static enum line_result handle_line(struct api_client *c, char *line)
{
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr), *reply;
	struct api_call call = { .client = c };
	bool history;

	if (!req || !json_is_object(req)) {
		client_send(c, api_error("EINVAL", "request is not a JSON object: "
					 "%s", req ? "wrong type" : jerr.text));
		json_decref(req);
		return LINE_DONE;
	}
	history = !json_is_false(json_object_get(req, "history"));
	reply = api_handle(c->api->ctx, req, &call);
	json_decref(req);
	if (!reply)
		return call.waiter ? LINE_DEFERRED : LINE_DONE;
	client_send(c, reply);
	if (call.take) {
		hand_to_console(c, call.take, history);
		return LINE_HANDED_OFF;
	}
	return LINE_DONE;
}

static void process_lines(struct api_client *c)
{
	char *nl;

	while (!c->waiter && (nl = memchr(c->in, '\n', c->in_len))) {
		size_t used = (size_t)(nl + 1 - c->in);

		*nl = '\0';
		if (handle_line(c, c->in) == LINE_HANDED_OFF)
			return;   /* c is gone: its fd belongs to a console */
		memmove(c->in, c->in + used, c->in_len - used + 1);
		c->in_len -= used;
	}
}

struct api_waiter *api_defer(struct api_call *call)
{
	struct api_waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->client = call->client;
	call->client->waiter = w;
	call->waiter = w;
	return w;
}

void api_waiter_progress(struct api_waiter *w, json_t *progress)
{
	if (w->client)
		client_send(w->client, json_pack("{s:o}", "progress", progress));
	else
		json_decref(progress);
}

void api_waiter_reply(struct api_waiter *w, json_t *reply)
{
	struct api_client *c = w->client;

	free(w);
	if (!c) {
		json_decref(reply);
		return;
	}
	c->waiter = NULL;
	client_send(c, reply);
	process_lines(c);	/* requests that arrived meanwhile */
}

static void on_client(void *opaque, unsigned events)
{
	struct api_client *c = opaque;
	ssize_t n;

	if ((events & EV_WRITE) && !client_flush(c))
		return;
	if (c->closing && !c->out_len) {
		client_free(c, true);
		return;
	}
	if (!(events & (EV_READ | EV_ERROR)) || c->out_len)
		return;
	if (c->waiter) {
		/* Only notice a hang-up; requests wait for the reply. */
		char probe;

		if (recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			client_free(c, true);
		return;
	}
	if (c->in_cap - c->in_len < 4096) {
		size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
		char *p = cap <= API_MAX_REQUEST + 8192 ? realloc(c->in, cap) : NULL;

		if (!p) {
			client_send(c, api_error("E2BIG", "request longer than %d "
						 "bytes", API_MAX_REQUEST));
			c->closing = true;
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_free(c, true);
		return;
	}
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	process_lines(c);
}

static void on_accept(void *opaque, unsigned events)
{
	struct api *api = opaque;
	int fd;

	(void)events;
	while ((fd = accept4(api->fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct api_client *c = calloc(1, sizeof(*c));

		if (!c) {
			close(fd);
			continue;
		}
		c->api = api;
		c->fd = fd;
		c->ev = event_loop_add_fd(api->ctx->loop, fd, EV_READ,
					  on_client, c);
		if (!c->ev) {
			close(fd);
			free(c);
			continue;
		}
		c->next = api->clients;
		api->clients = c;
	}
}

static void make_parents(const char *path)
{
	char dir[108];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
}

struct api *api_open(struct api_ctx *ctx, const char *path, char *err,
		     size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct api *api = calloc(1, sizeof(*api));

	if (!api || strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "management socket '%s': %s", path,
			 api ? "path too long" : "out of memory");
		free(api);
		return NULL;
	}
	api->ctx = ctx;
	snprintf(api->path, sizeof(api->path), "%s", path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	make_parents(path);
	api->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(path);
	if (api->fd < 0 || bind(api->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(path, 0600) < 0 || listen(api->fd, 64) < 0 ||
	    !(api->ev = event_loop_add_fd(ctx->loop, api->fd, EV_READ,
					  on_accept, api))) {
		snprintf(err, errlen, "management socket '%s': %s", path,
			 strerror(errno));
		if (api->fd >= 0)
			close(api->fd);
		free(api);
		return NULL;
	}
	return api;
}

void api_close(struct api *api)
{
	if (!api)
		return;
	while (api->clients)
		client_free(api->clients, true);
	event_loop_del_fd(api->ctx->loop, api->ev);
	close(api->fd);
	unlink(api->path);
	free(api);
}
