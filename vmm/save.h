/* The `save` control request (vmm/save.c) and `--restore FILE`
 * (vmm/restore.c); docs/monitor.md and docs/save-format.md. */
#ifndef XENON_SAVE_H
#define XENON_SAVE_H

#include <jansson.h>
#include <stdbool.h>

struct vm;
struct vmm_options;

struct save_request {
	const char *path;
	json_t *domain;        /* the daemon's config, stored verbatim; may be NULL */
	bool keep_running;     /* false: the monitor exits with VM_EXIT_SAVED */
	bool sync;             /* fsync before reporting success */
};

/* Main thread.  Returns the reply for the control socket. */
json_t *vm_save(struct vm *vm, const struct save_request *req);

struct restore_ctx;
/* Read and check the whole save file named by cli->restore before
 * anything is created; fill *opts with the saved machine plus cli's host
 * options.  -1 with a message on stderr. */
int restore_open(const struct vmm_options *cli, struct vmm_options *opts,
		 struct restore_ctx **out);
/* After vm_create() and devices_create(): load the state. */
int restore_apply(struct vm *vm, struct restore_ctx *ctx);
/* At exit, before vm_destroy(): stop paging RAM in (--verify-ram=lazy). */
void restore_stop_paging(struct restore_ctx *ctx);
/* At exit, after vm_destroy() (the RAM image stays mapped until then). */
void restore_close(struct restore_ctx *ctx);
/* --save-info: the same checks as restore_open(), then one JSON line on
 * stdout: {"ok":true,"file":F,"format_version":1,"ram_bytes":N,
 * "data_pages":N,"config":{...the config section...}}. */
int restore_print_info(const struct vmm_options *cli);

#endif
