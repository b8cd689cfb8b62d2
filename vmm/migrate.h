/*
 * Live migration, both ends (docs/monitor.md "Migration").
 *
 * Source: the control request migrate-send starts a migration thread that
 * connects (or takes a passed socket), authenticates with the shared key,
 * streams RAM while the guest runs (pre-copy rounds driven by KVM's dirty
 * log), then pauses the guest, sends what is left and the machine state,
 * and waits for the destination to confirm it is running.  Any failure
 * before that point resumes the guest here, unchanged.
 *
 * Destination: xenon-vmm --incoming tcp:HOST:PORT | fd:N.
 */
#ifndef XENON_MIGRATE_H
#define XENON_MIGRATE_H

#include <jansson.h>

struct vm;
struct vmm_options;

json_t *migrate_send_request(struct vm *vm, json_t *req, int *passed_fd,
			     void *token);
json_t *migrate_cancel_request(struct vm *vm);
void migrate_status(struct vm *vm, json_t *reply);
/* At exit: stop a running migration and wait for its thread. */
void migrate_shutdown(struct vm *vm);

/* ---- destination ---- */
struct incoming_ctx;
/* Accept the connection, authenticate, read the config: fills *opts like
 * restore_open().  -1 with a message (nothing created). */
int incoming_open(const struct vmm_options *cli, struct vmm_options *opts,
		  struct incoming_ctx **out);
/* After vm_create() + devices_create(): receive RAM and state, apply,
 * hand-shake; returns once the source has let go (the caller starts the
 * vCPUs), -1 if the migration failed (the caller exits). */
int incoming_receive(struct vm *vm, struct incoming_ctx *ctx);
/* Once the vCPUs run: tell the source, announce the move. */
void incoming_finish(struct vm *vm, struct incoming_ctx *ctx);
/* At exit, before vm_destroy(): stop a post-copy still paging RAM in. */
void incoming_stop_paging(struct incoming_ctx *ctx);
void incoming_close(struct incoming_ctx *ctx);

#endif
