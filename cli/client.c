#include "cli/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/xm.h"

#define DEFAULT_SOCKET "/run/xenon/xenond.sock"
#define MAX_REPLY (16 << 20)

const char *xm_daemon_socket(void)
{
	const char *p = getenv("XENOND_SOCKET");

	return p && *p ? p : DEFAULT_SOCKET;
}

int xm_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = xm_daemon_socket();
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "%s: socket path too long: %s\n", xm_progname, path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "%s: cannot reach xenond at %s: %s (is the daemon "
			"running?)\n", xm_progname, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line from fd, byte by byte: replies are small and this keeps any
 * bytes after the newline (a console stream) unread in the socket. */
static char *read_line(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len + 1 >= MAX_REPLY)
			break;
		if (c == '\n') {
			buf[len] = 0;
			return buf;
		}
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
		buf[len++] = c;
	}
	free(buf);
	return NULL;
}

static xm_progress_fn progress_fn;

void xm_set_progress(xm_progress_fn fn)
{
	progress_fn = fn;
}

static json_t *request_fd(int fd, const char *cmd, const char *op,
			  json_t *fields, void (*seen)(json_t *reply))
{
	json_t *req = fields ? fields : json_object(), *reply = NULL;
	json_error_t err = { .text = "" };
	char *text, *line;
	int rc;

	json_object_set_new(req, "op", json_string(op));
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	rc = text ? write_all(fd, text, strlen(text)) : -1;
	free(text);
	if (rc < 0 || write_all(fd, "\n", 1) < 0)
		line = NULL;
	else
		line = read_line(fd);
	/* Long operations (save, migrate) send progress lines first. */
	while (line) {
		reply = json_loads(line, 0, &err);
		free(line);
		line = NULL;
		if (!reply || json_object_get(reply, "ok"))
			break;
		if (progress_fn)
			progress_fn(json_object_get(reply, "progress"));
		json_decref(reply);
		line = read_line(fd);
		if (!line)
			reply = NULL;
	}
	if (!line && !reply && err.text[0] == '\0') {
		fprintf(stderr, "%s %s: lost the connection to xenond\n",
			xm_progname, cmd);
		return NULL;
	}
	if (!reply) {
		fprintf(stderr, "%s %s: bad reply from xenond: %s\n", xm_progname,
			cmd, err.text);
		return NULL;
	}
	if (seen)
		seen(reply);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *msg = json_string_value(json_object_get(reply, "error"));

		fprintf(stderr, "%s %s: %s\n", xm_progname, cmd,
			msg ? msg : "request failed");
		json_decref(reply);
		return NULL;
	}
	return reply;
}

json_t *xm_request_fd(int fd, const char *cmd, const char *op, json_t *fields)
{
	return request_fd(fd, cmd, op, fields, NULL);
}

json_t *xm_request_warn(const char *cmd, const char *op, json_t *fields,
			void (*seen)(json_t *reply))
{
	int fd = xm_connect();
	json_t *reply;

	if (fd < 0) {
		json_decref(fields);
		return NULL;
	}
	reply = request_fd(fd, cmd, op, fields, seen);
	close(fd);
	return reply;
}

json_t *xm_request(const char *cmd, const char *op, json_t *fields)
{
	return xm_request_warn(cmd, op, fields, NULL);
}
