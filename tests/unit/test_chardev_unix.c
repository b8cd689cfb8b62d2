/* unix:PATH console back end: connecting late, both directions, losing the
 * peer (output kept, link callbacks), reconnecting, a requested reconnect. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/chardev.h"
#include "vmm/main_loop.h"

static char path[108];
static int ups, downs, inputs;

static void on_link(void *opaque, bool up)
{
	(void)opaque;
	__atomic_fetch_add(up ? &ups : &downs, 1, __ATOMIC_SEQ_CST);
}

static void on_input(void *opaque)
{
	(void)opaque;
	__atomic_fetch_add(&inputs, 1, __ATOMIC_SEQ_CST);
}

static int load(int *v)
{
	return __atomic_load_n(v, __ATOMIC_SEQ_CST);
}

static int listen_at(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, p);
	unlink(p);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Accept within 3 s (the reconnect backoff is at most 0.5 s). */
static int accept_within(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 3000), 1);
	return accept(lfd, NULL, NULL);
}

static void read_exactly(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&p, 1, 3000), 1);
		n = read(fd, buf + got, len - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	buf[got] = '\0';
}

static void wait_for(int *counter, int value)
{
	for (int i = 0; i < 300 && load(counter) < value; i++)
		usleep(10000);
	assert_true(load(counter) >= value);
}

static void *loop_thread(void *arg)
{
	(void)arg;
	main_loop_run();
	return NULL;
}

static void on_wake(void *opaque, uint32_t events)
{
	(void)opaque;
	(void)events;
}

static void test_reconnecting_socket(void **state)
{
	struct chardev_spec spec = { CHARDEV_UNIX, path };
	struct chardev *cd;
	char buf[64];
	uint8_t in[16] = { 0 };
	size_t n = 0;
	int lfd, cfd;
	pthread_t t;

	(void)state;
	/* Nobody listens yet: opening still works, retrying in the loop. */
	unlink(path);
	cd = chardev_open(&spec, "test", NULL);
	assert_non_null(cd);
	assert_false(chardev_connected(cd));
	chardev_set_link(cd, on_link, NULL);
	assert_int_equal(chardev_set_input(cd, on_input, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, loop_thread, NULL), 0);
	lfd = listen_at(path);
	cfd = accept_within(lfd);
	wait_for(&ups, 1);
	assert_true(chardev_connected(cd));

	chardev_write(cd, "hello", 5);
	read_exactly(cfd, buf, 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(write(cfd, "world", 5), 5);
	wait_for(&inputs, 1);
	for (int i = 0; i < 100 && n < 5; i++, usleep(5000))
		n += chardev_read(cd, in + n, sizeof(in) - 1 - n);
	assert_string_equal((char *)in, "world");

	/* The peer dies (a kill -9 of xenond): output waits for the next. */
	close(cfd);
	close(lfd);
	unlink(path);
	wait_for(&downs, 1);
	assert_false(chardev_connected(cd));
	chardev_write(cd, "queued", 6);
	assert_int_equal(chardev_write_room(cd), CHARDEV_OUT_BUF - 6);
	lfd = listen_at(path);
	cfd = accept_within(lfd);
	wait_for(&ups, 2);
	read_exactly(cfd, buf, 6);
	assert_string_equal(buf, "queued");
	assert_int_equal(chardev_write_room(cd), CHARDEV_OUT_BUF);

	/* Discarded output never reaches anyone; a requested reconnection
	 * makes a new connection. */
	chardev_reconnect(cd);
	{
		int c2 = accept_within(lfd);
		char c;

		assert_true(c2 >= 0);
		assert_int_equal(read(cfd, &c, 1), 0);	/* old one closed */
		wait_for(&ups, 3);
		chardev_write(cd, "new", 3);
		read_exactly(c2, buf, 3);
		assert_string_equal(buf, "new");
		close(c2);
	}
	/* A peer that fills our input and half-closes is not polled in a
	 * loop while the device is not reading; once it reads, the end of
	 * the stream is seen. */
	{
		static char fill[CHARDEV_IN_BUF + 512];
		uint8_t sink[512];
		struct timespec a, b;
		int c3, d0;

		memset(fill, 'f', sizeof(fill));
		/* c2 went: the chardev is back on its own */
		c3 = accept_within(lfd);
		wait_for(&ups, 4);
		d0 = load(&downs);
		assert_int_equal(write(c3, fill, sizeof(fill)),
				 (ssize_t)sizeof(fill));
		shutdown(c3, SHUT_WR);
		usleep(50000);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		usleep(300000);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		assert_true((b.tv_sec - a.tv_sec) * 1000000000L +
			    (b.tv_nsec - a.tv_nsec) < 100000000L);
		assert_int_equal(load(&downs), d0);
		while (chardev_read(cd, sink, sizeof(sink)))
			;
		wait_for(&downs, d0 + 1);
		close(c3);
	}

	/* Stop the loop before closing: callbacks run on its thread. */
	main_loop_quit();
	{
		int w[2];

		assert_int_equal(pipe(w), 0);
		main_loop_add_fd(w[0], 1 /* EPOLLIN */, on_wake, NULL);
		assert_int_equal(write(w[1], "q", 1), 1);
		pthread_join(t, NULL);
		main_loop_del_fd(w[0]);
		close(w[0]);
		close(w[1]);
	}
	chardev_close(cd);
	close(cfd);
	close(lfd);
	unlink(path);
}

static void test_other_kinds_always_connected(void **state)
{
	struct chardev_spec spec = { CHARDEV_NULL, NULL };
	struct chardev *cd = chardev_open(&spec, "test", NULL);

	(void)state;
	assert_true(chardev_connected(cd));
	assert_int_equal(chardev_write_room(cd), CHARDEV_OUT_BUF);
	chardev_discard_output(cd);
	chardev_reconnect(cd);
	chardev_close(cd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reconnecting_socket),
		cmocka_unit_test(test_other_kinds_always_connected),
	};

	snprintf(path, sizeof(path), "/tmp/xenon-cu-%d.sock", (int)getpid());
	if (main_loop_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
