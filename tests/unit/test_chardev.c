/* Console back ends: null, file (append), pty, and stdio over pipes —
 * output never blocks and drops are counted, input arrives and EOF is
 * noticed. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/chardev.h"
#include "vmm/main_loop.h"

static void test_null(void **state)
{
	struct chardev_spec spec = { CHARDEV_NULL, NULL };
	struct chardev *cd = chardev_open(&spec, "test", NULL);
	uint8_t b;

	(void)state;
	assert_non_null(cd);
	chardev_write(cd, "discarded", 9);
	assert_int_equal(chardev_read(cd, &b, 1), 0);
	assert_int_equal(chardev_set_input(cd, NULL, NULL), 0);
	assert_null(chardev_path(cd));
	chardev_close(cd);
}

static void test_file_appends(void **state)
{
	char path[] = "/tmp/xenon-chardev-XXXXXX", buf[64] = { 0 };
	int fd = mkstemp(path);
	struct chardev_spec spec = { CHARDEV_FILE, path };
	struct chardev *cd;

	(void)state;
	assert_int_equal(write(fd, "old\n", 4), 4);
	close(fd);
	cd = chardev_open(&spec, "test", NULL);
	assert_non_null(cd);
	chardev_write(cd, "new", 3);
	chardev_putc(cd, '\n');
	chardev_close(cd);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	unlink(path);
	assert_string_equal(buf, "old\nnew\n");
}

static void test_file_unwritable(void **state)
{
	struct chardev_spec spec = { CHARDEV_FILE, "/nonexistent/dir/log" };

	(void)state;
	assert_null(chardev_open(&spec, "test", NULL));
}

static void test_pty_and_link(void **state)
{
	struct chardev_spec spec = { CHARDEV_PTY, NULL };
	char link[] = "/tmp/xenon-pty-link-XXXXXX", target[64] = { 0 };
	struct chardev *cd;
	int fd = mkstemp(link);
	char buf[16] = { 0 };
	ssize_t n;

	(void)state;
	close(fd);
	/* A regular file in the way is refused... */
	assert_null(chardev_open(&spec, "test", link));
	unlink(link);
	/* ...a free name gets the link. */
	cd = chardev_open(&spec, "test", link);
	assert_non_null(cd);
	assert_true(readlink(link, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, chardev_path(cd));
	fd = open(link, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	chardev_write(cd, "to pty", 6);
	for (int i = 0; i < 100 && buf[0] == 0; i++) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			usleep(10000);
	}
	assert_string_equal(buf, "to pty");   /* raw: no \r added, no echo */
	close(fd);
	chardev_close(cd);
	assert_int_equal(access(link, F_OK), -1);   /* link removed */
}

/* Run the chardev with fd 0 / fd 1 replaced by pipes. */
struct stdio_pipes {
	int in[2], out[2], saved_in, saved_out;
};

static void swap_stdio(struct stdio_pipes *p)
{
	assert_int_equal(pipe(p->in), 0);
	assert_int_equal(pipe(p->out), 0);
	p->saved_in = dup(0);
	p->saved_out = dup(1);
	dup2(p->in[0], 0);
	dup2(p->out[1], 1);
}

static void restore_stdio(struct stdio_pipes *p)
{
	dup2(p->saved_in, 0);
	dup2(p->saved_out, 1);
	close(p->saved_in);
	close(p->saved_out);
	close(p->in[0]);
	close(p->out[1]);
}

/* Nobody reads stdout: writes still return at once; the excess is
 * dropped and counted; closing gives up after the drain deadline. */
static void test_stdout_never_blocks(void **state)
{
	struct chardev_spec spec = { CHARDEV_STDIO, NULL };
	struct stdio_pipes p;
	static char big[1 << 20];
	struct timespec t0, t1;
	struct chardev *cd;

	(void)state;
	swap_stdio(&p);
	cd = chardev_open(&spec, "test", NULL);
	restore_stdio(&p);
	assert_non_null(cd);
	/* Our stdout stayed blocking: only the chardev's copy is not. */
	assert_int_equal(fcntl(1, F_GETFL) & O_NONBLOCK, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(big, 'x', sizeof(big));
	chardev_write(cd, big, sizeof(big));
	chardev_write(cd, big, sizeof(big));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_true(chardev_dropped(cd) > sizeof(big));
	chardev_close(cd);
	close(p.in[1]);
	close(p.out[0]);
}

static void *loop_thread(void *arg)
{
	(void)arg;
	main_loop_run();
	return NULL;
}

static int input_calls;

static void on_input(void *opaque)
{
	(void)opaque;
	__atomic_fetch_add(&input_calls, 1, __ATOMIC_SEQ_CST);
}

static void on_wake(void *opaque, uint32_t events)
{
	(void)opaque;
	(void)events;
}

static void test_stdin_input_and_output(void **state)
{
	struct chardev_spec spec = { CHARDEV_STDIO, NULL };
	struct stdio_pipes p;
	struct chardev *cd;
	char got[32] = { 0 }, out[32] = { 0 };
	size_t n = 0;
	pthread_t t;

	(void)state;
	swap_stdio(&p);
	cd = chardev_open(&spec, "test", NULL);
	restore_stdio(&p);
	assert_non_null(cd);
	assert_int_equal(chardev_set_input(cd, on_input, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, loop_thread, NULL), 0);
	assert_int_equal(write(p.in[1], "hello", 5), 5);
	close(p.in[1]);         /* EOF after the data */
	for (int i = 0; i < 500 && n < 5; i++) {
		n += chardev_read(cd, (uint8_t *)got + n, sizeof(got) - 1 - n);
		usleep(2000);
	}
	assert_string_equal(got, "hello");
	assert_true(__atomic_load_n(&input_calls, __ATOMIC_SEQ_CST) >= 1);
	chardev_write(cd, "bye", 3);
	chardev_close(cd);      /* flushes */
	assert_int_equal(read(p.out[0], out, sizeof(out)), 3);
	assert_string_equal(out, "bye");
	close(p.out[0]);
	main_loop_quit();
	/* Wake the loop with a throwaway fd so it sees the quit flag. */
	{
		int w[2];

		assert_int_equal(pipe(w), 0);
		main_loop_add_fd(w[0], 1 /* EPOLLIN */, on_wake, NULL);
		assert_int_equal(write(w[1], "q", 1), 1);
		pthread_join(t, NULL);
		close(w[0]);
		close(w[1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_file_appends),
		cmocka_unit_test(test_file_unwritable),
		cmocka_unit_test(test_pty_and_link),
		cmocka_unit_test(test_stdout_never_blocks),
		cmocka_unit_test(test_stdin_input_and_output),
	};

	if (main_loop_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
