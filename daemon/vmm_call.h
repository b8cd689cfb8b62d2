/*
 * One request to a VMM's control socket that may take long (save,
 * migrate-send): sent without blocking, answered through a callback from
 * the event loop, so xenond keeps serving everything else meanwhile.
 */
#ifndef XENON_VMM_CALL_H
#define XENON_VMM_CALL_H

#include <jansson.h>

#include "daemon/event_loop.h"

struct vmm_call;

/* reply is the VMM's reply object (borrowed), or NULL with err set (the
 * VMM closed the connection, died, or timed out). */
typedef void (*vmm_call_done)(void *opaque, json_t *reply, const char *err);

/* Send req (borrowed) to the control socket at path, with pass_fd (if
 * not -1) attached as SCM_RIGHTS.  NULL with a sentence in err if it
 * cannot even be sent. */
struct vmm_call *vmm_call_start(struct event_loop *loop, const char *path,
				json_t *req, int pass_fd, unsigned timeout_ms,
				vmm_call_done done, void *opaque, char *err,
				size_t errlen);
/* Forget it (done is not called). */
void vmm_call_cancel(struct vmm_call *c);

#endif
