/* xenond's small helpers: /proc stat parsing and the relocation key
 * challenge/response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/proc_stat.h"
#include "daemon/relocation_auth.h"

static void test_proc_stat_self(void **state)
{
	struct proc_stat ps;

	(void)state;
	assert_int_equal(proc_stat_read(getpid(), NULL, &ps), 0);
	assert_string_equal(ps.name, "test_daemon_hel");   /* comm: 15 chars */
	assert_int_equal(ps.state, 'R');
	assert_true(ps.starttime > 0);
	assert_int_equal(proc_stat_read(999999999, NULL, &ps), -1);
}

static void test_proc_stat_thread(void **state)
{
	struct proc_stat ps;
	char tid[32];

	(void)state;
	/* A thread of ours, read through the task directory. */
	snprintf(tid, sizeof(tid), "%d", getpid());
	assert_int_equal(proc_stat_read(getpid(), tid, &ps), 0);
	assert_int_equal(ps.state, 'R');
}

static void write_key(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

static void test_relocation_mac(void **state)
{
	char path[] = "/tmp/xenon-key-XXXXXX", err[256];
	char ch[RELOC_CHALLENGE_HEX + 1], ch2[RELOC_CHALLENGE_HEX + 1];
	char mac[RELOC_MAC_HEX + 1];
	struct reloc_key k, other;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_key(path, "short\n");
	assert_int_equal(reloc_key_load(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at least"));
	write_key(path, "a perfectly good shared secret\n");
	assert_int_equal(reloc_key_load(&k, path, err, sizeof(err)), 0);
	assert_int_equal(k.len, strlen("a perfectly good shared secret"));
	write_key(path, "another perfectly good secret\n");
	assert_int_equal(reloc_key_load(&other, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(reloc_key_load(&k, path, err, sizeof(err)), -1);

	assert_int_equal(reloc_challenge(ch), 0);
	assert_int_equal(reloc_challenge(ch2), 0);
	assert_string_not_equal(ch, ch2);
	write_key(path, "a perfectly good shared secret\n");
	assert_int_equal(reloc_key_load(&k, path, err, sizeof(err)), 0);
	unlink(path);
	reloc_mac(&k, ch, "receive", mac);
	assert_int_equal(strlen(mac), RELOC_MAC_HEX);
	assert_true(reloc_mac_ok(&k, ch, "receive", mac));
	assert_false(reloc_mac_ok(&other, ch, "receive", mac)); /* wrong key */
	assert_false(reloc_mac_ok(&k, ch2, "receive", mac));    /* replayed */
	assert_false(reloc_mac_ok(&k, ch, "other", mac));       /* purpose */
	assert_false(reloc_mac_ok(&k, ch, "receive", "abc"));
	assert_false(reloc_mac_ok(&k, ch, "receive", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_stat_self),
		cmocka_unit_test(test_proc_stat_thread),
		cmocka_unit_test(test_relocation_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
