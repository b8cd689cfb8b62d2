/* Placeholder until the migration code lands. */
#include "vmm/migrate.h"

json_t *migrate_send_request(struct vm *vm, json_t *req, int *passed_fd,
			     void *token)
{
	(void)vm; (void)req; (void)passed_fd; (void)token;
	return json_pack("{s:b, s:s}", "ok", 0, "error", "not yet");
}

json_t *migrate_cancel_request(struct vm *vm)
{
	(void)vm;
	return json_pack("{s:b, s:s}", "ok", 0, "error", "no migration running");
}

void migrate_status(struct vm *vm, json_t *reply)
{
	(void)vm; (void)reply;
}

void migrate_shutdown(struct vm *vm)
{
	(void)vm;
}

int incoming_open(const struct vmm_options *cli, struct vmm_options *opts,
		  struct incoming_ctx **out)
{
	(void)cli; (void)opts; (void)out;
	return -1;
}

int incoming_receive(struct vm *vm, struct incoming_ctx *ctx)
{
	(void)vm; (void)ctx;
	return -1;
}

void incoming_finish(struct vm *vm, struct incoming_ctx *ctx)
{
	(void)vm; (void)ctx;
}

void incoming_close(struct incoming_ctx *ctx)
{
	(void)ctx;
}
