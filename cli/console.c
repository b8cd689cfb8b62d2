/* xm console: attach the terminal to a domain's console through xenond.
 * After the daemon accepts {"op":"console"}, the connection carries raw
 * console bytes both ways; Ctrl-] detaches, as in Xen. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/xm.h"

#define CTRL_RIGHT_BRACKET 0x1d

static struct termios saved_tio;
static bool tio_saved;

static void restore_terminal(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_saved = false;
}

static void raw_terminal(void)
{
	struct termios tio;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	tio = saved_tio;
	cfmakeraw(&tio);
	tio_saved = tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == 0;
}

static int copy_out(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	return write(to, buf, (size_t)n) == n ? 0 : -1;
}

/* Keyboard to console; returns 1 on the detach key. */
static int copy_in(int sock)
{
	char buf[512];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == CTRL_RIGHT_BRACKET && tio_saved) {
			if (i && write(sock, buf, (size_t)i) != i)
				return -1;
			return 1;
		}
	}
	return write(sock, buf, (size_t)n) == n ? 0 : -1;
}

static int relay(int sock)
{
	struct pollfd fds[2] = { { sock, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
	nfds_t nfds = 2;

	for (;;) {
		if (poll(fds, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (fds[0].revents && copy_out(sock, STDOUT_FILENO) < 0)
			return 0; /* domain's console closed: it went away */
		if (fds[1].revents) {
			int r = copy_in(sock);

			if (r == 1)
				return 0;
			if (r < 0) /* stdin ended: keep showing output */
				nfds = 1;
		}
	}
}

int xm_console_attach(const char *cmd, const char *dom)
{
	int fd = xm_connect(), rc;
	json_t *reply;

	if (fd < 0)
		return 1;
	reply = xm_request_fd(fd, cmd, "console", json_pack("{s:s}", "domain", dom));
	if (!reply) {
		close(fd);
		return 1;
	}
	json_decref(reply);
	signal(SIGPIPE, SIG_IGN);
	raw_terminal();
	rc = relay(fd);
	restore_terminal();
	close(fd);
	return rc;
}

int cmd_console(int argc, char **argv)
{
	if (argc != 2)
		return xm_usage_error("console", "expects exactly one domain");
	return xm_console_attach("console", argv[1]);
}
