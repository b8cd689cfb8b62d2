/* Client side of xenond's management API: one JSON request per line on
 * the daemon's UNIX socket, one JSON reply per line (docs/management-api.md). */
#ifndef XENON_CLI_CLIENT_H
#define XENON_CLI_CLIENT_H

#include <jansson.h>

/* Socket path: $XENOND_SOCKET, else /run/xenon/xenond.sock. */
const char *xm_daemon_socket(void);

/* Connect, or print "cannot reach xenond at PATH: ..." and return -1. */
int xm_connect(void);

/*
 * Send {"op": op, ...fields} and return the reply object when "ok" is true.
 * On failure print the daemon's error (prefixed with the command name) and
 * return NULL.  Steals the reference to fields (may be NULL).
 */
json_t *xm_request(const char *cmd, const char *op, json_t *fields);

/* Same, and seen(reply) is called for every reply, failed ones too (for
 * warnings that come with either). */
json_t *xm_request_warn(const char *cmd, const char *op, json_t *fields,
			void (*seen)(json_t *reply));

/* Long operations send {"progress": {...}} lines before the reply; fn (if
 * set) sees each one. */
typedef void (*xm_progress_fn)(json_t *progress);
void xm_set_progress(xm_progress_fn fn);

/* Same, on an already-open connection (for streams such as console). */
json_t *xm_request_fd(int fd, const char *cmd, const char *op, json_t *fields);

#endif
