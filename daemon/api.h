/*
 * xenond's management API (docs/management-api.md): JSON lines on a UNIX
 * socket, one request and one reply per line, for xm/xl and the web UI.
 * api.c is the transport; api_ops.c answers the requests.
 */
#ifndef XENON_API_H
#define XENON_API_H

#include <jansson.h>
#include <stddef.h>

#include "daemon/event_loop.h"

#define API_SOCKET_DEFAULT "/run/xenon/xenond.sock"
#define API_MAX_REQUEST (1024 * 1024)   /* a config file fits */

struct domain_manager;
struct console;
struct api;
struct api_client;
struct api_waiter;

struct api_ctx {
	struct domain_manager *dm;
	struct event_loop *loop;
};

struct api *api_open(struct api_ctx *ctx, const char *path, char *err,
		     size_t errlen);
void api_close(struct api *api);

/* What an operation may do besides replying at once. */
struct api_call {
	struct api_client *client;
	struct console *take;       /* hand the connection to this console */
	struct api_waiter *waiter;  /* set by api_defer() */
};

/* api_ops.c: answer one request, or return NULL after api_defer() for an
 * operation that finishes later (save, migrate). */
json_t *api_handle(struct api_ctx *ctx, json_t *req, struct api_call *call);

/*
 * A deferred reply.  Until api_waiter_reply(), the client's further
 * requests wait; api_waiter_progress() sends {"progress": p} lines.  If the
 * client goes away meanwhile the operation carries on and its reply is
 * dropped.  Both calls consume their JSON reference.
 */
struct api_waiter *api_defer(struct api_call *call);
void api_waiter_progress(struct api_waiter *w, json_t *progress);
void api_waiter_reply(struct api_waiter *w, json_t *reply);
json_t *api_error(const char *errname, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The daemon's recent log for `xm dmesg` (daemon/log_ring.c). */
void log_ring_install(void);
char *log_ring_text(void);
void log_ring_clear(void);

#endif
