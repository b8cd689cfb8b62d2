/* Non-blocking VMM control requests (see vmm_call.h). */
#include "daemon/vmm_call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX 65536

struct vmm_call {
	struct event_loop *loop;
	int fd;
	struct ev_fd *ev;
	struct ev_timer *timer;
	char buf[REPLY_MAX];
	size_t len;
	vmm_call_done done;
	void *opaque;
};

void vmm_call_cancel(struct vmm_call *c)
{
	if (!c)
		return;
	if (c->ev)
		event_loop_del_fd(c->loop, c->ev);
	if (c->timer)
		event_loop_del_timer(c->loop, c->timer);
	close(c->fd);
	free(c);
}

static void finish(struct vmm_call *c, json_t *reply, const char *err)
{
	vmm_call_done done = c->done;
	void *opaque = c->opaque;

	vmm_call_cancel(c);
	done(opaque, reply, err);
}

static void on_timeout(void *opaque)
{
	struct vmm_call *c = opaque;

	c->timer = NULL;	/* one-shot: the loop frees it */
	finish(c, NULL, "the VMM did not answer in time");
}

static void on_readable(void *opaque, unsigned events)
{
	struct vmm_call *c = opaque;
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	json_t *reply;
	char *nl;

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		finish(c, NULL, n == 0 ? "the VMM closed its control connection"
				       : strerror(errno));
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = strchr(c->buf, '\n');
	if (!nl) {
		if (c->len == sizeof(c->buf) - 1)
			finish(c, NULL, "the VMM's reply is too long");
		return;
	}
	*nl = '\0';
	reply = json_loads(c->buf, 0, NULL);
	if (!reply) {
		finish(c, NULL, "the VMM's reply is not JSON");
		return;
	}
	finish(c, reply, NULL);
	json_decref(reply);
}

/* The request line, with a descriptor attached when there is one. */
static int send_request(int fd, const char *text, size_t len, int pass_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov[2] = { { (void *)text, len }, { "\n", 1 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	return n == (ssize_t)(len + 1) ? 0 : -1;
}

struct vmm_call *vmm_call_start(struct event_loop *loop, const char *path,
				json_t *req, int pass_fd, unsigned timeout_ms,
				vmm_call_done done, void *opaque, char *err,
				size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct vmm_call *c = calloc(1, sizeof(*c));
	char *text = json_dumps(req, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;

	if (!c || !text || strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "cannot build the VMM request");
		goto fail;
	}
	strcpy(a.sun_path, path);
	c->loop = loop;
	c->done = done;
	c->opaque = opaque;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* The request is sent blocking (it is small); the reply is awaited
	 * on the event loop. */
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    send_request(c->fd, text, len, pass_fd) < 0) {
		snprintf(err, errlen, "VMM control socket %s: %s", path,
			 strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		goto fail;
	}
	c->ev = event_loop_add_fd(loop, c->fd, EV_READ, on_readable, c);
	c->timer = event_loop_add_timer(loop, timeout_ms, false, on_timeout, c);
	if (!c->ev || !c->timer) {
		snprintf(err, errlen, "out of memory");
		free(text);
		vmm_call_cancel(c);
		return NULL;
	}
	free(text);
	return c;
fail:
	free(text);
	free(c);
	return NULL;
}
