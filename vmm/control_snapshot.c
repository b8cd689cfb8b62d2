/*
 * Control-socket requests for save and migration (docs/monitor.md):
 *
 *   {"cmd":"save","path":P,"config":{...},"keep_running":false,"sync":true}
 *   {"cmd":"migrate-send","address":"HOST:PORT"|"fd":true,"live":true,
 *    "downtime_ms":30,"max_rounds":30,"key":"secret",...}
 *   {"cmd":"migrate-cancel"}
 */
#include <string.h>

#include "vmm/control.h"
#include "vmm/migrate.h"
#include "vmm/save.h"
#include "vmm/vm.h"

static json_t *error(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *do_save(struct vm *vm, json_t *req)
{
	json_t *path = json_object_get(req, "path");
	json_t *cfg = json_object_get(req, "config");
	json_t *keep = json_object_get(req, "keep_running");
	json_t *sync = json_object_get(req, "sync");
	struct save_request sr;

	if (!json_is_string(path) || !json_string_length(path))
		return error("save: \"path\" (a file name) is required");
	if (cfg && !json_is_object(cfg) && !json_is_null(cfg))
		return error("save: \"config\" must be a JSON object");
	if ((keep && !json_is_boolean(keep)) || (sync && !json_is_boolean(sync)))
		return error("save: \"keep_running\" and \"sync\" are booleans");
	sr = (struct save_request){
		.path = json_string_value(path),
		.domain = json_is_object(cfg) ? cfg : NULL,
		.keep_running = json_is_true(keep),
		.sync = !sync || json_is_true(sync),
	};
	return vm_save(vm, &sr);
}

json_t *control_snapshot_request(struct vm *vm, const char *cmd, json_t *req,
				 int *passed_fd, void *token)
{
	if (!strcmp(cmd, "save"))
		return do_save(vm, req);
	if (!strcmp(cmd, "migrate-send"))
		return migrate_send_request(vm, req, passed_fd, token);
	if (!strcmp(cmd, "migrate-cancel"))
		return migrate_cancel_request(vm);
	return NULL;
}

void control_snapshot_status(struct vm *vm, json_t *reply)
{
	migrate_status(vm, reply);
}
