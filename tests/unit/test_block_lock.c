/* Image locks (devices/block_lock.c): taken on open, refused to a second
 * opener, deferred on the incoming side of a migration, released by the
 * sending side and taken by the receiving one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/block_backend.h"

static char img[] = "/tmp/xenon-lock-test-XXXXXX";

static int open_img(void)
{
	int fd = open(img, O_RDWR);

	assert_true(fd >= 0);
	return fd;
}

/* Whether an unrelated opener could lock it exclusively now. */
static bool free_now(void)
{
	int fd = open_img();
	bool ok = flock(fd, LOCK_EX | LOCK_NB) == 0;

	close(fd);
	return ok;
}

static void test_hand_over(void **state)
{
	int src, dst, other;

	(void)state;
	/* the source opens and locks it; nobody else may */
	src = open_img();
	assert_int_equal(block_lock_image("src", src, false), 0);
	other = open_img();
	assert_int_equal(block_lock_image("other", other, false), -1);
	close(other);
	assert_false(free_now());

	/* the incoming side opens without the lock */
	block_locks_defer();
	dst = open_img();
	assert_int_equal(block_lock_image("dst", dst, false), 0);
	assert_false(free_now());              /* still the source's */

	/* the source lets go at "go" (and its process ends) */
	block_locks_release();
	assert_true(free_now());
	close(src);

	/* the destination takes it as it runs the guest */
	assert_int_equal(block_locks_take(), 0);
	assert_false(free_now());
	close(dst);
	assert_true(free_now());
}

static void test_take_reports_a_lock_held_elsewhere(void **state)
{
	int holder = open_img(), mine;

	(void)state;
	assert_int_equal(flock(holder, LOCK_EX | LOCK_NB), 0);
	block_locks_defer();
	mine = open_img();
	assert_int_equal(block_lock_image("mine", mine, false), 0);
	assert_int_equal(block_locks_take(), -1);   /* runs, with a warning */
	close(holder);
	assert_int_equal(block_locks_take(), 0);    /* a later try gets it */
	assert_false(free_now());
	close(mine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_over),
		cmocka_unit_test(test_take_reports_a_lock_held_elsewhere),
	};
	int fd = mkstemp(img), rc;

	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests_name("block_lock", tests, NULL, NULL);
	unlink(img);
	return rc;
}
