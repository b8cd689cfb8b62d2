/*
 * The control socket's `save` request: pause, finish in-flight I/O, write
 * config + vCPUs + platform + devices + RAM image to PATH, then either
 * exit (status 7, VM_EXIT_SAVED) or carry on.
 *
 * The file is written under a temporary name in the same directory and
 * renamed into place once complete (and synced unless "sync": false), so
 * PATH never holds a partial stream; any failure removes the temporary
 * file and leaves the domain running as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/vmstate.h"
#include "vmm/ram_pager.h"
#include "vmm/save.h"
#include "vmm/snapshot.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

static int write_stream(struct vm *vm, const struct save_request *req, int fd,
			bool running, struct ss_stream *s, uint64_t *data_pages)
{
	json_t *cfg = snapshot_config(vm, req->domain, running);
	int ret;

	if (!cfg)
		return ss_fail(s, NULL, "out of memory");
	ret = ss_write_header(s, 0) < 0 || snapshot_write_config(s, cfg) < 0 ||
	      snapshot_write_machine(vm, s) < 0 ||
	      ram_image_write(vm, s, fd, data_pages) < 0 || ss_write_end(s) < 0 ?
	      -1 : 0;
	json_decref(cfg);
	if (ret == 0 && req->sync && fsync(fd) < 0)
		ret = ss_fail(s, NULL, "fsync: %s", strerror(errno));
	return ret;
}

static int close_fd(int *fd)
{
	int ret = *fd >= 0 ? close(*fd) : 0;

	*fd = -1;
	return ret;
}

json_t *vm_save(struct vm *vm, const struct save_request *req)
{
	char *tmp = malloc(strlen(req->path) + 8), what[300];
	uint64_t t0 = monotonic_ns(), data_pages = 0, paused_ns;
	bool running = vm->state == VM_RUNNING;
	struct ss_stream s;
	struct ss_io io;
	int fd;

	if (!tmp)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "out of memory");
	if (vm->state == VM_EXITING) {
		free(tmp);
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "save: the domain is shutting down");
	}
	sprintf(tmp, "%s.XXXXXX", req->path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(what, sizeof(what), "save: '%s': %s", req->path,
			 strerror(errno));
		free(tmp);
		return json_pack("{s:b, s:s}", "ok", 0, "error", what);
	}
	/* A lazily restored domain: its RAM must be all here to be saved. */
	if (vm->pager && ram_pager_wait(vm->pager) < 0) {
		close_fd(&fd);
		unlink(tmp);
		free(tmp);
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "save: guest RAM is not all restored yet");
	}
	vm_pause(vm);
	paused_ns = monotonic_ns();
	vmstate_quiesce_all();
	snprintf(what, sizeof(what), "save file '%s'", req->path);
	io = ss_fd_io(&fd);
	ss_init(&s, &io, what);
	if (write_stream(vm, req, fd, running, &s, &data_pages) < 0 ||
	    close_fd(&fd) < 0 || rename(tmp, req->path) < 0) {
		json_t *err;

		if (!s.error[0])
			snprintf(s.error, sizeof(s.error), "save: '%s': %s",
				 req->path, strerror(errno));
		log_error("%s", s.error);
		close_fd(&fd);
		unlink(tmp);
		free(tmp);
		if (running)
			vm_resume(vm);
		err = json_pack("{s:b, s:s}", "ok", 0, "error", s.error);
		return err;
	}
	free(tmp);
	log_info("saved to %s: %llu MiB of RAM data in %llu ms",
		 req->path, (unsigned long long)(data_pages >> 8),
		 (unsigned long long)((monotonic_ns() - t0) / 1000000));
	if (req->keep_running) {
		if (running)
			vm_resume(vm);
	} else {
		vm_request_exit(vm, VM_EXIT_SAVED);
	}
	return json_pack("{s:b, s:s, s:I, s:I, s:I, s:s}", "ok", 1, "path",
			 req->path, "bytes", (json_int_t)s.offset, "data_pages",
			 (json_int_t)data_pages, "time_us",
			 (json_int_t)((monotonic_ns() - paused_ns) / 1000), "state",
			 req->keep_running ? (running ? "running" : "paused") :
			 "saved");
}
