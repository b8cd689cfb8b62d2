/* The monitor's control socket: newline-delimited JSON requests
 * {"cmd": "status"|"pause"|"resume"|"stop"|"power-button"} answered by one
 * JSON line {"ok": true, ...} or {"ok": false, "error": "..."}.
 * Protocol in docs/monitor.md; the daemon (xenond) is its main client. */
#ifndef XENON_CONTROL_H
#define XENON_CONTROL_H

struct vm;

int control_open(struct vm *vm, const char *path);
void control_close(void);

/* Save and migration requests (vmm/control_snapshot.c): a reply, NULL if
 * cmd is not one of theirs, or CONTROL_DEFERRED when the reply comes
 * later through control_deferred_reply(token, reply) on the main thread.
 * *passed_fd is a descriptor sent with the request (SCM_RIGHTS) or -1;
 * set it to -1 when taking it. */
#include <jansson.h>
#define CONTROL_DEFERRED ((json_t *)1)
json_t *control_snapshot_request(struct vm *vm, const char *cmd, json_t *req,
				 int *passed_fd, void *token);
void control_deferred_reply(void *token, json_t *reply);
/* Add save/migration fields ("migration": {...}, "restored": ...) to a
 * status reply. */
void control_snapshot_status(struct vm *vm, json_t *reply);

#endif
