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

struct api_ctx {
	struct domain_manager *dm;
	struct event_loop *loop;
};

struct api *api_open(struct api_ctx *ctx, const char *path, char *err,
		     size_t errlen);
void api_close(struct api *api);

/* api_ops.c: answer one request.  *take is set when the reply must be
 * followed by handing the connection to a console (op "console"). */
json_t *api_handle(struct api_ctx *ctx, json_t *req, struct console **take);
json_t *api_error(const char *errname, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The daemon's recent log for `xm dmesg` (daemon/log_ring.c). */
void log_ring_install(void);
char *log_ring_text(void);
void log_ring_clear(void);

#endif
