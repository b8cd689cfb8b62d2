#include "vmm/control.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/devices.h"
#include "lib/log.h"
#include "vmm/main_loop.h"
#include "vmm/vm.h"

/* Big enough for a save request carrying a domain's config. */
#define MAX_REQUEST 65536
#define MAX_CLIENTS 16

struct client {
	int fd;
	int passed_fd;            /* received with SCM_RIGHTS, or -1 */
	bool reply_pending;       /* a deferred reply (migrate-send) is owed */
	size_t len;
	char buf[MAX_REQUEST];
};

static struct vm *control_vm;
static struct client *clients[MAX_CLIENTS];
static int listen_fd = -1;
static char *socket_path;

static const char *state_name(enum vm_run_state s)
{
	return s == VM_RUNNING ? "running" : s == VM_PAUSED ? "paused" : "exiting";
}

static json_t *status_reply(struct vm *vm)
{
	uint64_t boot = atomic_load(&vm->boot_done_ns);
	json_t *r = json_pack("{s:b, s:s, s:I, s:I, s:i}", "ok", 1, "state",
			      state_name(vm->state), "memory_mib",
			      (json_int_t)vm->opts->mem_mib, "vcpus",
			      (json_int_t)vm->nr_vcpus, "pid", (int)getpid());

	if (vm->opts->name)
		json_object_set_new(r, "name", json_string(vm->opts->name));
	if (boot)
		json_object_set_new(r, "boot_time_us",
				    json_integer((json_int_t)((boot - vm->start_ns) / 1000)));
	control_snapshot_status(vm, r);
	return r;
}

static json_t *error_reply(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *run_command(struct vm *vm, const char *cmd, json_t *req,
			   struct client *c)
{
	json_t *r;

	if (!strcmp(cmd, "status"))
		return status_reply(vm);
	r = control_snapshot_request(vm, cmd, req, &c->passed_fd, c);
	if (r == CONTROL_DEFERRED) {
		c->reply_pending = true;
		return NULL;
	}
	if (r)
		return r;
	if (!strcmp(cmd, "pause"))
		vm_pause(vm);
	else if (!strcmp(cmd, "resume") || !strcmp(cmd, "unpause"))
		vm_resume(vm);
	else if (!strcmp(cmd, "stop") || !strcmp(cmd, "destroy"))
		vm_request_exit(vm, VM_EXIT_STOPPED);
	else if (!strcmp(cmd, "power-button"))
		acpi_pm_press_power_button(vm);
	else {
		char msg[128];

		snprintf(msg, sizeof(msg), "unknown command '%.64s'", cmd);
		return error_reply(msg);
	}
	return status_reply(vm);
}

static json_t *handle_line(struct vm *vm, const char *line, struct client *c)
{
	json_error_t err;
	json_t *req = json_loads(line, 0, &err), *reply;
	const char *cmd;

	if (!req) {
		char msg[256];

		snprintf(msg, sizeof(msg), "request is not JSON: %s", err.text);
		return error_reply(msg);
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	reply = cmd ? run_command(vm, cmd, req, c)
		    : error_reply("request has no \"cmd\" string");
	json_decref(req);
	return reply;
}

static void client_close(struct client *c)
{
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	main_loop_del_fd(c->fd);
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	free(c);
}

static void send_reply(struct client *c, json_t *reply)
{
	char *text;

	if (!reply)
		return;         /* deferred: control_deferred_reply() sends it */
	text = json_dumps(reply, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;

	/* Replies are small; a client that does not read them is dropped. */
	if (text && (write(c->fd, text, len) != (ssize_t)len ||
		     write(c->fd, "\n", 1) != 1))
		log_debug("control: client went away");
	free(text);
	json_decref(reply);
}

/* Read more of the request; a descriptor sent along (SCM_RIGHTS, for
 * migrate-send {"fd": true}) is kept for the next request. */
static ssize_t read_request(struct client *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { c->buf + c->len, sizeof(c->buf) - c->len - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	struct cmsghdr *h;

	for (h = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; h; h = CMSG_NXTHDR(&msg, h)) {
		int fd;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len != CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&fd, CMSG_DATA(h), sizeof(fd));
		if (c->passed_fd >= 0)
			close(c->passed_fd);
		c->passed_fd = fd;
	}
	return n;
}

static void client_readable(void *opaque, uint32_t events)
{
	struct client *c = opaque;
	ssize_t n = read_request(c);
	char *nl;

	(void)events;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	while ((nl = strchr(c->buf, '\n'))) {
		*nl = 0;
		send_reply(c, handle_line(control_vm, c->buf, c));
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->buf) - 1) {
		send_reply(c, error_reply("request longer than 65535 bytes"));
		client_close(c);
	}
}

static void accept_client(void *opaque, uint32_t events)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct client *c;
	unsigned slot = 0;

	(void)opaque;
	(void)events;
	if (fd < 0)
		return;
	while (slot < MAX_CLIENTS && clients[slot])
		slot++;
	c = slot < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c || main_loop_add_fd(fd, EPOLLIN, client_readable, c) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->passed_fd = -1;
	clients[slot] = c;
}

void control_deferred_reply(void *token, json_t *reply)
{
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i] != token || !clients[i]->reply_pending)
			continue;
		clients[i]->reply_pending = false;
		send_reply(clients[i], reply);
		return;
	}
	json_decref(reply);     /* the client went away */
}

int control_open(struct vm *vm, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	control_vm = vm;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("--control: '%s': path too long for a socket", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return -1;
	unlink(path);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(listen_fd, MAX_CLIENTS) < 0) {
		log_errno("--control: '%s'", path);
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	socket_path = strdup(path);
	return main_loop_add_fd(listen_fd, EPOLLIN, accept_client, NULL);
}

void control_close(void)
{
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		if (clients[i])
			client_close(clients[i]);
	if (listen_fd < 0)
		return;
	main_loop_del_fd(listen_fd);
	close(listen_fd);
	listen_fd = -1;
	if (socket_path)
		unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
}
