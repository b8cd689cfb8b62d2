/*
 * Every config in tests/data/configs/ is a test: its comment lines say
 * what must happen, and this file checks it.
 *
 *   # expect: ok | error                  (required) the outcome
 *   # expect-error: TEXT                  each error, in order, exactly
 *   # expect-warning: TEXT                each warning, in order, exactly
 *   # expect-json: PATH = JSON            a value in the JSON form; PATH is
 *                                         keys and array indexes, dotted
 *   # expect-override: KEY=VALUE          applied as on xm's command line
 *
 * Messages name the file by its base name.  The same files seed the
 * fuzzer (make fuzz-config).
 */
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/domain_config.h"

#define MAX_LINES 64

struct expect {
	int ok;                         /* -1 until "# expect:" */
	char *errors[MAX_LINES], *warnings[MAX_LINES];
	char *json[MAX_LINES], *overrides[MAX_LINES];
	size_t n_errors, n_warnings, n_json, n_overrides;
};

static char corpus_dir[PATH_MAX];

/* The corpus relative to the source tree: the working directory when run
 * by make, else two levels above build/tests/. */
static int find_corpus(void)
{
	char exe[PATH_MAX];
	ssize_t n;
	DIR *d = opendir("tests/data/configs");

	if (d) {
		closedir(d);
		snprintf(corpus_dir, sizeof(corpus_dir), "tests/data/configs");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			return -1;
		*slash = '\0';
	}
	snprintf(corpus_dir, sizeof(corpus_dir), "%.*s/tests/data/configs",
		 (int)(sizeof(corpus_dir) - 32), exe);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	assert_non_null(f);
	*len = 0;
	for (;;) {
		buf = realloc(buf, cap += 4096);
		assert_non_null(buf);
		size_t got = fread(buf + *len, 1, cap - *len - 1, f);

		*len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static void add(char **v, size_t *n, const char *s)
{
	assert_true(*n < MAX_LINES);
	v[(*n)++] = strdup(s);
}

static void read_expect(const char *text, struct expect *e)
{
	const char *line = text;

	memset(e, 0, sizeof(*e));
	e->ok = -1;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];

		snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
		buf[strcspn(buf, "\r")] = '\0';
		if (!strncmp(buf, "# expect: ", 10))
			e->ok = !strcmp(buf + 10, "ok");
		else if (!strncmp(buf, "# expect-error: ", 16))
			add(e->errors, &e->n_errors, buf + 16);
		else if (!strncmp(buf, "# expect-warning: ", 18))
			add(e->warnings, &e->n_warnings, buf + 18);
		else if (!strncmp(buf, "# expect-json: ", 15))
			add(e->json, &e->n_json, buf + 15);
		else if (!strncmp(buf, "# expect-override: ", 19))
			add(e->overrides, &e->n_overrides, buf + 19);
		line = end ? end + 1 : line + len;
	}
}

static void free_expect(struct expect *e)
{
	for (size_t i = 0; i < MAX_LINES; i++) {
		free(e->errors[i]);
		free(e->warnings[i]);
		free(e->json[i]);
		free(e->overrides[i]);
	}
}

static void show_all(const struct xl_msgs *m)
{
	print_message("all messages:\n");
	for (size_t i = 0; i < m->n; i++)
		print_message("  %s: %s\n", m->v[i].severity == XL_ERROR ?
			      "error" : "warning", m->v[i].text);
}

static void check_messages(const struct xl_msgs *m, enum xl_severity sev,
			   char *const *want, size_t n_want)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].severity != sev)
			continue;
		if (k >= n_want || strcmp(m->v[i].text, want[k]) != 0) {
			print_message("unexpected %s: %s\n    expected: %s\n",
				      sev == XL_ERROR ? "error" : "warning",
				      m->v[i].text, k < n_want ? want[k] : "(none)");
			show_all(m);
			fail();
		}
		k++;
	}
	if (k != n_want) {
		print_message("missing: %s\n", want[k]);
		show_all(m);
		fail();
	}
}

/* PATH = JSON: walk the dotted path, compare with the parsed JSON. */
static void check_json(json_t *root, const char *line)
{
	const char *eq = strstr(line, " = ");
	char path[256], *tok, *save = NULL;
	json_t *v = root, *want;

	assert_non_null(eq);
	snprintf(path, sizeof(path), "%.*s", (int)(eq - line), line);
	for (tok = strtok_r(path, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10)) :
		    json_object_get(v, tok);
	want = json_loads(eq + 3, JSON_DECODE_ANY, NULL);
	assert_non_null(want);
	if (!v || !json_equal(v, want)) {
		char *got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

		print_message("%s: got %s\n", line, got ? got : "(missing)");
		free(got);
		fail();
	}
	json_decref(want);
}

static void check_file(void **state)
{
	const char *name = *state;
	struct domain_config dc;
	struct xl_msgs m;
	struct expect e;
	char path[PATH_MAX + 64];
	size_t len;
	char *text;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
	text = slurp(path, &len);
	read_expect(text, &e);
	assert_int_not_equal(e.ok, -1);   /* every file says what it expects */
	xl_msgs_init(&m);
	rc = domain_config_load_text(&dc, name, text, len,
				     (const char *const *)e.overrides,
				     e.n_overrides, &m);
	check_messages(&m, XL_ERROR, e.errors, e.n_errors);
	check_messages(&m, XL_WARNING, e.warnings, e.n_warnings);
	assert_int_equal(rc, e.ok ? 0 : -1);
	if (rc == 0) {
		json_t *j = domain_config_to_json(&dc);

		for (size_t i = 0; i < e.n_json; i++)
			check_json(j, e.json[i]);
		json_decref(j);
	}
	domain_config_free(&dc);
	xl_msgs_free(&m);
	free_expect(&e);
	free(text);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	struct CMUnitTest *tests;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	if (find_corpus() < 0 || !(d = opendir(corpus_dir))) {
		fprintf(stderr, "test_xl_corpus: cannot find tests/data/configs\n");
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l > 4 && !strcmp(de->d_name + l - 4, ".cfg")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	tests = calloc(n ? n : 1, sizeof(*tests));
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ .name = names[i],
			.test_func = check_file, .initial_state = names[i] };
	/* A corpus that vanished must not pass as "nothing failed". */
	if (n < 20) {
		fprintf(stderr, "test_xl_corpus: only %zu configs in %s\n", n,
			corpus_dir);
		return 1;
	}
	rc = _cmocka_run_group_tests("xl_corpus", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	return rc;
}
