/* Console back ends: see chardev.h for the buffering rules. */
#include "devices/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices/byte_ring.h"
#include "devices/chardev_unix.h"
#include "lib/log.h"
#include "vmm/main_loop.h"

#define CTRL_A 0x01

struct chardev {
	const char *name;
	enum chardev_kind kind;
	int in_fd, out_fd;       /* -1 when absent; may be the same fd (pty) */
	int pty_slave;           /* held open so the master never hangs up */
	char *pty_path;
	char *link;              /* symlink we made, removed at close */
	bool stdin_owner;        /* in_fd is our copy of stdin */
	bool stdin_tty;          /* raw stdin: Ctrl-A x stops the domain */
	bool escape;

	/* Output ring, drained by the writer thread. */
	pthread_mutex_t out_lock;
	pthread_cond_t out_cond;
	uint8_t *out_buf;
	size_t out_head, out_len;
	uint64_t dropped;
	bool closing, writer_started, out_dead;
	struct timespec deadline;
	pthread_t writer;

	/* Input ring, filled by the main loop. */
	pthread_mutex_t in_lock;
	uint8_t in_buf[CHARDEV_IN_BUF];
	size_t in_head, in_len;
	bool in_watched, in_eof;
	int resume_fd;           /* eventfd: a reader made room again */
	chardev_input_fn input_fn;
	void *input_opaque;

	struct chardev_unix *sock;  /* unix:PATH does everything itself */
};

/* ---- stdio terminal mode ------------------------------------------------ */

static struct termios saved_tio;
static bool tio_saved, stdin_claimed;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = false;
}

/* Raw input so keys reach the guest, but keep output post-processing so a
 * guest that prints bare "\n" still gets a carriage return. */
static void make_stdin_raw(void)
{
	struct termios tio;

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	tio = saved_tio;
	cfmakeraw(&tio);
	tio.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) < 0)
		return;
	if (!tio_saved)
		atexit(restore_tty);
	tio_saved = true;
}

/*
 * A descriptor for stdin/stdout with its own open file description, so
 * making it non-blocking cannot affect the shell or whoever shares it.
 * Regular files never block and keep the shared offset (2>&1 into a file).
 * If /proc cannot reopen it (a socket), fall back to a plain dup.
 */
static int reopen_std(int std_fd, int flags)
{
	char path[32];
	struct stat st;
	int fd;

	if (fstat(std_fd, &st) == 0 && S_ISREG(st.st_mode))
		return fcntl(std_fd, F_DUPFD_CLOEXEC, 3);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", std_fd);
	fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fd = fcntl(std_fd, F_DUPFD_CLOEXEC, 3);
	return fd;
}

/* ---- back ends ----------------------------------------------------------- */

static int open_stdio(struct chardev *cd)
{
	cd->out_fd = reopen_std(STDOUT_FILENO, O_WRONLY);
	if (cd->out_fd < 0) {
		log_errno("%s console: stdout", cd->name);
		return -1;
	}
	/* Only one console can own the keyboard. */
	if (stdin_claimed) {
		log_debug("%s console: stdin already used by another console; "
			  "output only", cd->name);
		return 0;
	}
	cd->in_fd = reopen_std(STDIN_FILENO, O_RDONLY);
	if (cd->in_fd < 0) {
		log_errno("%s console: stdin", cd->name);
		return -1;
	}
	stdin_claimed = cd->stdin_owner = true;
	if (isatty(STDIN_FILENO)) {
		cd->stdin_tty = true;
		make_stdin_raw();
	}
	return 0;
}

static int make_link(struct chardev *cd, const char *link)
{
	struct stat st;

	if (lstat(link, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			log_error("--pty-link: '%s' exists and is not a symlink", link);
			return -1;
		}
		unlink(link);
	}
	if (symlink(cd->pty_path, link) < 0) {
		log_errno("--pty-link: cannot link '%s' to %s", link, cd->pty_path);
		return -1;
	}
	cd->link = strdup(link);
	return cd->link ? 0 : -1;
}

static int open_pty(struct chardev *cd, const char *link)
{
	char path[64];
	struct termios tio;
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 ||
	    ptsname_r(fd, path, sizeof(path)) != 0) {
		log_errno("%s console: cannot allocate a pty", cd->name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	cd->in_fd = cd->out_fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* Holding the slave open means no EPOLLHUP storm while nobody is
	 * attached; raw mode stops the line discipline echoing our output
	 * back as input. */
	cd->pty_slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (cd->pty_slave < 0) {
		log_errno("%s console: cannot open %s", cd->name, path);
		return -1;
	}
	if (tcgetattr(cd->pty_slave, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(cd->pty_slave, TCSANOW, &tio);
	}
	cd->pty_path = strdup(path);
	if (!cd->pty_path)
		return -1;
	if (link && make_link(cd, link) < 0)
		return -1;
	log_info("%s console on %s", cd->name, path);
	return 0;
}

static int open_file(struct chardev *cd, const char *path)
{
	cd->out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (cd->out_fd < 0) {
		log_errno("%s console: cannot open '%s'", cd->name, path);
		return -1;
	}
	return 0;
}

/* ---- output -------------------------------------------------------------- */

static bool past_deadline(const struct chardev *cd)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > cd->deadline.tv_sec ||
	       (now.tv_sec == cd->deadline.tv_sec &&
		now.tv_nsec >= cd->deadline.tv_nsec);
}

/* Write one chunk, waiting while the reader is slow.  Returns false if
 * the output is gone (or we are closing and out of time). */
static bool write_chunk(struct chardev *cd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(cd->out_fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = cd->out_fd, .events = POLLOUT };
			bool closing;

			poll(&pfd, 1, 100);
			pthread_mutex_lock(&cd->out_lock);
			closing = cd->closing;
			pthread_mutex_unlock(&cd->out_lock);
			if (closing && past_deadline(cd))
				return false;
			continue;
		}
		log_errno("%s console: write", cd->name);
		return false;
	}
	return true;
}

static void *writer_thread(void *arg)
{
	struct chardev *cd = arg;

	pthread_mutex_lock(&cd->out_lock);
	for (;;) {
		size_t chunk;
		bool ok;

		while (!cd->out_len && !cd->closing)
			pthread_cond_wait(&cd->out_cond, &cd->out_lock);
		if (!cd->out_len)
			break;
		chunk = ring_chunk(CHARDEV_OUT_BUF, cd->out_head, cd->out_len);
		/* Writers only append, so the chunk is stable while unlocked. */
		pthread_mutex_unlock(&cd->out_lock);
		ok = write_chunk(cd, cd->out_buf + cd->out_head, chunk);
		pthread_mutex_lock(&cd->out_lock);
		ring_consume(CHARDEV_OUT_BUF, &cd->out_head, &cd->out_len, chunk);
		if (!ok) {
			cd->dropped += cd->out_len;
			cd->out_len = 0;
			cd->out_dead = true;
			break;
		}
	}
	pthread_mutex_unlock(&cd->out_lock);
	return NULL;
}

void chardev_write(struct chardev *cd, const void *buf, size_t len)
{
	size_t room;
	bool first_drop = false;

	if (cd && cd->sock) {
		chardev_unix_write(cd->sock, buf, len);
		return;
	}
	if (!cd || cd->out_fd < 0)
		return;
	pthread_mutex_lock(&cd->out_lock);
	room = CHARDEV_OUT_BUF - cd->out_len;
	if (cd->out_dead)
		room = 0;
	if (len > room) {
		first_drop = cd->dropped == 0 && !cd->out_dead;
		cd->dropped += len - room;
		len = room;
	}
	len = ring_append(cd->out_buf, CHARDEV_OUT_BUF, cd->out_head,
			  &cd->out_len, buf, len);
	if (len)
		pthread_cond_signal(&cd->out_cond);
	pthread_mutex_unlock(&cd->out_lock);
	if (first_drop)
		log_warn("%s console: output is not being read; dropping output",
			 cd->name);
}

void chardev_putc(struct chardev *cd, uint8_t c)
{
	chardev_write(cd, &c, 1);
}

/* ---- input --------------------------------------------------------------- */

static void stop_watching(struct chardev *cd)
{
	if (cd->in_watched)
		main_loop_del_fd(cd->in_fd);
	cd->in_watched = false;
}

/* Ctrl-A x on a terminal stops the domain (SIGTERM reaches the main loop's
 * signalfd); Ctrl-A Ctrl-A sends a literal Ctrl-A. */
static bool console_escape(struct chardev *cd, uint8_t c)
{
	if (!cd->escape) {
		if (c != CTRL_A)
			return false;
		cd->escape = true;
		return true;
	}
	cd->escape = false;
	if (c == 'x' || c == 'X') {
		log_info("%s console: Ctrl-A x, stopping the domain", cd->name);
		kill(getpid(), SIGTERM);
		return true;
	}
	return false;
}

static void in_append(struct chardev *cd, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (cd->stdin_tty && console_escape(cd, p[i]))
			continue;
		if (cd->in_len == CHARDEV_IN_BUF)
			break; /* cannot happen: we read at most the free room */
		cd->in_buf[(cd->in_head + cd->in_len) % CHARDEV_IN_BUF] = p[i];
		cd->in_len++;
	}
}

static void on_input(void *opaque, uint32_t events)
{
	struct chardev *cd = opaque;
	uint8_t tmp[CHARDEV_IN_BUF];
	ssize_t n = 0;
	size_t room;
	bool waiting;

	(void)events;
	pthread_mutex_lock(&cd->in_lock);
	room = CHARDEV_IN_BUF - cd->in_len;
	if (room) {
		n = read(cd->in_fd, tmp, room);
		if (n > 0)
			in_append(cd, tmp, (size_t)n);
	}
	if (n == 0 && room) {
		cd->in_eof = true;       /* stdin closed: no more input */
		stop_watching(cd);
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		log_errno("%s console: read", cd->name);
		cd->in_eof = true;
		stop_watching(cd);
	} else if (cd->in_len == CHARDEV_IN_BUF) {
		stop_watching(cd);       /* full: resumed by chardev_read() */
	}
	waiting = cd->in_len != 0;
	pthread_mutex_unlock(&cd->in_lock);
	if (waiting && cd->input_fn)
		cd->input_fn(cd->input_opaque);
}

/* A reader made room: start polling the input again (main thread). */
static void on_resume(void *opaque, uint32_t events)
{
	struct chardev *cd = opaque;
	uint64_t v;

	(void)events;
	if (read(cd->resume_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_errno("%s console: resume", cd->name);
	pthread_mutex_lock(&cd->in_lock);
	if (!cd->in_watched && !cd->in_eof && cd->in_len < CHARDEV_IN_BUF &&
	    main_loop_add_fd(cd->in_fd, EPOLLIN, on_input, cd) == 0)
		cd->in_watched = true;
	pthread_mutex_unlock(&cd->in_lock);
}

/* epoll refuses regular files and /dev/null; ask a scratch epoll first so
 * the main loop does not log an error for a perfectly normal stdin. */
static bool pollable(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	bool ok;

	if (ep < 0)
		return true;
	ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 || errno != EPERM;
	close(ep);
	return ok;
}

int chardev_set_input(struct chardev *cd, chardev_input_fn fn, void *opaque)
{
	if (cd && cd->sock)
		return chardev_unix_set_input(cd->sock, fn, opaque);
	if (!cd || cd->in_fd < 0)
		return 0;
	cd->input_fn = fn;
	cd->input_opaque = opaque;
	if (!pollable(cd->in_fd)) {
		/* e.g. stdin redirected from a regular file or /dev/null */
		log_debug("%s console: input cannot be polled; ignored", cd->name);
		cd->in_eof = true;
		return 0;
	}
	cd->resume_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cd->resume_fd < 0 ||
	    main_loop_add_fd(cd->resume_fd, EPOLLIN, on_resume, cd) < 0) {
		log_errno("%s console: eventfd", cd->name);
		return -1;
	}
	if (main_loop_add_fd(cd->in_fd, EPOLLIN, on_input, cd) < 0)
		return -1;
	cd->in_watched = true;
	return 0;
}

size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len)
{
	size_t n = 0;
	bool resume;

	if (!cd)
		return 0;
	if (cd->sock)
		return chardev_unix_read(cd->sock, buf, len);
	pthread_mutex_lock(&cd->in_lock);
	while (n < len && cd->in_len) {
		buf[n++] = cd->in_buf[cd->in_head];
		cd->in_head = (cd->in_head + 1) % CHARDEV_IN_BUF;
		cd->in_len--;
	}
	resume = n && !cd->in_watched && !cd->in_eof && cd->resume_fd >= 0;
	pthread_mutex_unlock(&cd->in_lock);
	if (resume) {
		uint64_t one = 1;

		if (write(cd->resume_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_errno("%s console: resume", cd->name);
	}
	return n;
}

size_t chardev_input_pending(struct chardev *cd)
{
	size_t n;

	if (!cd)
		return 0;
	if (cd->sock)
		return chardev_unix_input_pending(cd->sock);
	pthread_mutex_lock(&cd->in_lock);
	n = cd->in_len;
	pthread_mutex_unlock(&cd->in_lock);
	return n;
}

/* ---- life cycle ---------------------------------------------------------- */

static struct chardev *chardev_alloc(const char *name, enum chardev_kind kind)
{
	struct chardev *cd = calloc(1, sizeof(*cd));

	if (!cd)
		return NULL;
	cd->name = name;
	cd->kind = kind;
	cd->in_fd = cd->out_fd = cd->pty_slave = cd->resume_fd = -1;
	pthread_mutex_init(&cd->out_lock, NULL);
	pthread_cond_init(&cd->out_cond, NULL);
	pthread_mutex_init(&cd->in_lock, NULL);
	return cd;
}

static int open_backend(struct chardev *cd, const struct chardev_spec *spec,
			const char *link)
{
	switch (spec->kind) {
	case CHARDEV_NONE:
	case CHARDEV_NULL:
		return 0;
	case CHARDEV_STDIO:
		return open_stdio(cd);
	case CHARDEV_PTY:
		return open_pty(cd, link);
	case CHARDEV_FILE:
		return open_file(cd, spec->path);
	case CHARDEV_UNIX:
		cd->sock = chardev_unix_open(cd->name, spec->path);
		return cd->sock ? 0 : -1;
	}
	return -1;
}

/* The writer must never take a process signal (SIGTERM & co. are read by
 * the main loop through a signalfd), so it starts with all of them blocked
 * whatever the creating thread had. */
static int start_writer(struct chardev *cd)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&cd->writer, NULL, writer_thread, cd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret == 0 ? 0 : -1;
}

struct chardev *chardev_open(const struct chardev_spec *spec,
			     const char *name, const char *link)
{
	struct chardev *cd = chardev_alloc(name, spec->kind);

	if (!cd) {
		log_error("%s console: out of memory", name);
		return NULL;
	}
	if (open_backend(cd, spec, link) < 0)
		goto fail;
	if (cd->out_fd < 0)
		return cd;
	cd->out_buf = malloc(CHARDEV_OUT_BUF);
	if (!cd->out_buf)
		goto fail;
	if (start_writer(cd) < 0) {
		log_error("%s console: cannot start the writer thread", name);
		goto fail;
	}
	cd->writer_started = true;
	return cd;
fail:
	chardev_close(cd);
	return NULL;
}

static void stop_writer(struct chardev *cd)
{
	pthread_mutex_lock(&cd->out_lock);
	cd->closing = true;
	clock_gettime(CLOCK_MONOTONIC, &cd->deadline);
	cd->deadline.tv_sec += CHARDEV_DRAIN_MS / 1000;
	cd->deadline.tv_nsec += (CHARDEV_DRAIN_MS % 1000) * 1000000L;
	if (cd->deadline.tv_nsec >= 1000000000L) {
		cd->deadline.tv_sec++;
		cd->deadline.tv_nsec -= 1000000000L;
	}
	pthread_cond_signal(&cd->out_cond);
	pthread_mutex_unlock(&cd->out_lock);
	pthread_join(cd->writer, NULL);
}

/*
 * Closing a pty's master discards what its reader has not read yet, so the
 * guest's last words (its result line, "powered off") would be lost to
 * xenconsoled.  Wait while a reader is making progress: the bytes still
 * queued are counted on the slave end we hold.  Nobody reading: give up
 * after PTY_STALL_MS.
 */
#define PTY_STALL_MS 100
/* Bytes written to the master reach the slave's queue through the tty
 * layer's deferred flip-buffer work, so an empty queue only counts once it
 * has stayed empty this long. */
#define PTY_SETTLE_MS 10

static void wait_pty_reader(struct chardev *cd)
{
	int left, last = -1, stalled = 0, empty = 0;

	for (int waited = 0; waited < CHARDEV_DRAIN_MS; waited++) {
		/* What was just written to the master may still wait in the
		 * tty's flip buffer, which FIONREAD does not count (it would
		 * say 0, and the close lose it); polling the slave moves it
		 * into the read buffer first. */
		struct pollfd pfd = { .fd = cd->pty_slave, .events = POLLIN };

		poll(&pfd, 1, 0);
		if (ioctl(cd->pty_slave, FIONREAD, &left) < 0)
			return;
		empty = left <= 0 ? empty + 1 : 0;
		if (empty >= PTY_SETTLE_MS)
			return;
		stalled = left > 0 && left == last ? stalled + 1 : 0;
		if (stalled >= PTY_STALL_MS)
			return;
		last = left;
		usleep(1000);
	}
}

void chardev_close(struct chardev *cd)
{
	if (!cd)
		return;
	chardev_unix_close(cd->sock);
	if (cd->writer_started)
		stop_writer(cd);
	if (cd->pty_slave >= 0)
		wait_pty_reader(cd);
	if (cd->dropped)
		log_warn("%s console: %llu output bytes dropped (reader too slow)",
			 cd->name, (unsigned long long)cd->dropped);
	stop_watching(cd);
	if (cd->resume_fd >= 0) {
		main_loop_del_fd(cd->resume_fd);
		close(cd->resume_fd);
	}
	if (cd->stdin_tty)
		restore_tty();
	if (cd->stdin_owner) {
		stdin_claimed = false;
		close(cd->in_fd);
	}
	if (cd->out_fd >= 0)
		close(cd->out_fd);
	if (cd->pty_slave >= 0)
		close(cd->pty_slave);
	if (cd->link)
		unlink(cd->link);
	free(cd->link);
	free(cd->pty_path);
	free(cd->out_buf);
	pthread_mutex_destroy(&cd->out_lock);
	pthread_cond_destroy(&cd->out_cond);
	pthread_mutex_destroy(&cd->in_lock);
	free(cd);
}

uint64_t chardev_dropped(struct chardev *cd)
{
	uint64_t n;

	if (cd->sock)
		return chardev_unix_dropped(cd->sock);
	pthread_mutex_lock(&cd->out_lock);
	n = cd->dropped;
	pthread_mutex_unlock(&cd->out_lock);
	return n;
}

const char *chardev_path(struct chardev *cd)
{
	return cd ? cd->pty_path : NULL;
}

/* ---- reconnecting back ends ---------------------------------------------- */

void chardev_set_link(struct chardev *cd, chardev_link_fn fn, void *opaque)
{
	if (cd && cd->sock)
		chardev_unix_set_link(cd->sock, fn, opaque);
}

bool chardev_connected(struct chardev *cd)
{
	return !cd || !cd->sock || chardev_unix_connected(cd->sock);
}

size_t chardev_write_room(struct chardev *cd)
{
	size_t room;

	if (!cd || cd->out_fd < 0)
		return cd && cd->sock ? chardev_unix_write_room(cd->sock) :
		       CHARDEV_OUT_BUF;
	pthread_mutex_lock(&cd->out_lock);
	room = cd->out_dead ? CHARDEV_OUT_BUF : CHARDEV_OUT_BUF - cd->out_len;
	pthread_mutex_unlock(&cd->out_lock);
	return room;
}

void chardev_discard_output(struct chardev *cd)
{
	if (cd && cd->sock)
		chardev_unix_discard_output(cd->sock);
}

void chardev_reconnect(struct chardev *cd)
{
	if (cd && cd->sock)
		chardev_unix_reconnect(cd->sock);
}
