/* The KEY = VALUE grammar (lib/xl_config.h): every construct, and every
 * syntax error with its exact file:line:col. */
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

#include "lib/xl_config.h"

struct parsed {
	struct xl_config cfg;
	struct xl_msgs m;
	int rc;
};

static struct parsed *parse(const char *text)
{
	struct parsed *p = calloc(1, sizeof(*p));

	xl_config_init(&p->cfg);
	xl_msgs_init(&p->m);
	p->rc = xl_config_parse(&p->cfg, "t.cfg", text, strlen(text), &p->m);
	return p;
}

static void done(struct parsed *p)
{
	xl_config_free(&p->cfg);
	xl_msgs_free(&p->m);
	free(p);
}

static const struct xl_value *get(const struct parsed *p, const char *key)
{
	const struct xl_setting *s = xl_config_get(&p->cfg, key);

	assert_non_null(s);
	return s->value;
}

static void want_string(const struct parsed *p, const char *key,
			  const char *want)
{
	const struct xl_value *v = get(p, key);

	assert_int_equal(v->type, XL_STRING);
	assert_string_equal(v->text, want);
}

static void want_number(const struct parsed *p, const char *key,
			  long long want)
{
	const struct xl_value *v = get(p, key);

	assert_int_equal(v->type, XL_NUMBER);
	assert_true(v->number == want);
}

/* TEXT fails to parse with exactly the one error WANT. */
static void want_error(const char *text, const char *want)
{
	struct parsed *p = parse(text);

	assert_int_equal(p->rc, -1);
	assert_int_equal(p->m.errors, 1);
	assert_int_equal(p->m.n, 1);
	assert_int_equal(p->m.v[0].severity, XL_ERROR);
	assert_string_equal(p->m.v[0].text, want);
	done(p);
}

static void test_strings(void **state)
{
	struct parsed *p = parse("a = \"double\"\nb = 'single'\n"
				 "c = 'it\\'s'\nd = \"say \\\"hi\\\"\"\n"
				 "e = \"\"\nf = 'mixed \"quotes\"'\n");

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.n, 0);
	want_string(p, "a", "double");
	want_string(p, "b", "single");
	want_string(p, "c", "it's");
	want_string(p, "d", "say \"hi\"");
	want_string(p, "e", "");
	want_string(p, "f", "mixed \"quotes\"");
	assert_int_equal(get(p, "a")->loc.line, 1);
	assert_int_equal(get(p, "a")->loc.col, 5);
	assert_string_equal(get(p, "b")->loc.file, "t.cfg");
	done(p);
}

static void test_escapes(void **state)
{
	struct parsed *p = parse("s = \"n\\n t\\t r\\r b\\\\ a\\a f\\f v\\v "
				 "b\\b q\\' dq\\\" x\\x41\\x7e o\\101\\7\"\n"
				 "cont = 'one \\\ntwo'\n");

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.n, 0);
	want_string(p, "s", "n\n t\t r\r b\\ a\a f\f v\v b\b q' dq\" xA~ oA\7");
	want_string(p, "cont", "one two");
	done(p);
}

static void test_unknown_escape_warns(void **state)
{
	struct parsed *p = parse("path = 'C:\\dir\\x41'\n");

	(void)state;
	assert_int_equal(p->rc, 0);
	want_string(p, "path", "C:\\dirA");
	assert_int_equal(p->m.n, 1);
	assert_int_equal(p->m.v[0].severity, XL_WARNING);
	assert_string_equal(p->m.v[0].text, "t.cfg:1:11: unknown escape '\\d' "
			    "kept as a backslash and 'd'");
	done(p);
}

static void test_string_errors(void **state)
{
	(void)state;
	want_error("name = \"abc\nx = 1\n", "t.cfg:1:8: unterminated string: "
		     "no closing \" before the end of the line");
	want_error("\n\nname = 'abc", "t.cfg:3:8: unterminated string: no "
		     "closing ' before the end of the input");
	want_error("s = 'a\\xZZ'", "t.cfg:1:7: bad escape: \\x needs two hex "
		     "digits");
	want_error("s = 'a\\x4'", "t.cfg:1:7: bad escape: \\x needs two hex "
		     "digits");
	want_error("s = 'ab\\400'", "t.cfg:1:8: bad escape: octal value 400 "
		     "is above \\377");
	want_error("s = 'a\\0b'", "t.cfg:1:7: a string cannot contain a NUL "
		     "character");
	want_error("s = 'a\\x00'", "t.cfg:1:7: a string cannot contain a NUL "
		     "character");
	want_error("s = 'a\\", "t.cfg:1:5: unterminated string: no closing ' "
		     "before the end of the input");
}

static void test_numbers(void **state)
{
	struct parsed *p = parse("dec = 512\noct = 010\nhex = 0x1F\nHEX = 0XfF\n"
				 "neg = -5\npos = +7\nzero = 0\npy = 0o17\n"
				 "big = 9223372036854775807\n"
				 "small = -9223372036854775808\n"
				 "t = True\nf = False\n");

	(void)state;
	assert_int_equal(p->rc, 0);
	want_number(p, "dec", 512);
	want_number(p, "oct", 8);
	want_number(p, "hex", 31);
	want_number(p, "HEX", 255);
	want_number(p, "neg", -5);
	want_number(p, "pos", 7);
	want_number(p, "zero", 0);
	want_number(p, "py", 15);
	want_number(p, "big", LLONG_MAX);
	want_number(p, "small", LLONG_MIN);
	want_number(p, "t", 1);
	want_number(p, "f", 0);
	assert_string_equal(get(p, "hex")->text, "0x1F");
	done(p);
}

static void test_number_errors(void **state)
{
	(void)state;
	want_error("m = 08", "t.cfg:1:5: bad number '08': a leading 0 means "
		     "octal, and octal digits are 0 to 7");
	want_error("m = 0x", "t.cfg:1:5: bad number '0x': no digits after the "
		     "prefix");
	want_error("m = 0xfg", "t.cfg:1:5: bad number '0xfg': expected hex "
		     "digits after 0x");
	want_error("m = 1.5", "t.cfg:1:5: bad number '1.5': only whole "
		     "numbers are allowed");
	want_error("m = 12ab", "t.cfg:1:5: bad number '12ab': expected decimal "
		     "digits");
	want_error("m = -", "t.cfg:1:5: bad number '-': no digits");
	want_error("m = 9223372036854775808", "t.cfg:1:5: bad number "
		     "'9223372036854775808': out of range");
	want_error("m = 0o8", "t.cfg:1:5: bad number '0o8': expected octal "
		     "digits");
}

static void test_lists(void **state)
{
	struct parsed *p = parse(
		"empty = []\n"
		"mixed = [ 'a', 1, [ 2, [ 'deep' ] ], ]\n"
		"multi = [ 'one',   # a comment\n"
		"          # a whole comment line\n"
		"\n"
		"          'two'\n"
		"        ]\n");
	const struct xl_value *v;

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.n, 0);
	v = get(p, "empty");
	assert_int_equal(v->type, XL_LIST);
	assert_int_equal(v->n_items, 0);
	v = get(p, "mixed");
	assert_int_equal(v->n_items, 3);
	assert_int_equal(v->items[0]->type, XL_STRING);
	assert_int_equal(v->items[1]->type, XL_NUMBER);
	assert_int_equal(v->items[2]->type, XL_LIST);
	assert_string_equal(v->items[2]->items[1]->items[0]->text, "deep");
	assert_int_equal(v->items[2]->loc.col, 19);
	v = get(p, "multi");
	assert_int_equal(v->n_items, 2);
	assert_string_equal(v->items[1]->text, "two");
	assert_int_equal(v->items[1]->loc.line, 6);
	assert_int_equal(v->items[1]->loc.col, 11);
	done(p);
}

static void test_list_errors(void **state)
{
	char deep[200];

	(void)state;
	want_error("d = [ 'a',\n  'b'\n", "t.cfg:1:5: unterminated list: no "
		     "']' for this '['");
	want_error("d = [ 'a' 'b' ]", "t.cfg:1:11: expected ',' or ']' in the "
		     "list opened at 1:5, found \"'\"");
	want_error("d = [ , ]", "t.cfg:1:7: expected a value (a quoted "
		     "string, a number or a [list]), found ','");
	want_error("d = [ 'a',, ]", "t.cfg:1:11: expected a value (a quoted "
		     "string, a number or a [list]), found ','");
	memset(deep, '[', 40);
	strcpy(deep + 40, "]");
	{
		char text[256];

		snprintf(text, sizeof(text), "d = %s", deep);
		want_error(text, "t.cfg:1:37: lists nested too deeply (more "
			     "than 32 levels)");
	}
}

static void test_statements(void **state)
{
	struct parsed *p = parse(
		"# leading comment\n"
		"a = 1; b = 2;c=3 ;\n"
		";;\n"
		"   d = 'x'   # trailing\n"
		"e = \\\n"
		"    4\n"
		"f = 5\r\n"
		"g\t=\t6");

	(void)state;
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.n, 0);
	want_number(p, "a", 1);
	want_number(p, "b", 2);
	want_number(p, "c", 3);
	want_string(p, "d", "x");
	want_number(p, "e", 4);
	want_number(p, "f", 5);
	want_number(p, "g", 6);
	assert_int_equal(xl_config_get(&p->cfg, "a")->loc.col, 1);
	assert_int_equal(xl_config_get(&p->cfg, "b")->loc.col, 8);
	assert_int_equal(xl_config_get(&p->cfg, "d")->loc.line, 4);
	assert_int_equal(xl_config_get(&p->cfg, "d")->loc.col, 4);
	assert_null(xl_config_get(&p->cfg, "missing"));
	assert_int_equal(p->cfg.n, 7);
	done(p);
}

static void test_statement_errors(void **state)
{
	(void)state;
	want_error("memory 512", "t.cfg:1:8: expected '=' after 'memory', "
		     "found '5'");
	want_error("memory", "t.cfg:1:7: expected '=' after 'memory', found "
		     "end of input");
	want_error("memory =\n", "t.cfg:1:9: expected a value (a quoted "
		     "string, a number or a [list]), found end of line");
	want_error("a = 1 2", "t.cfg:1:7: expected the end of the line or ';' "
		     "after the value of 'a', found '2'");
	want_error("a = 'x' b = 2", "t.cfg:1:9: expected the end of the line "
		     "or ';' after the value of 'a', found 'b'");
	want_error("1abc = 2", "t.cfg:1:1: expected a setting (KEY = VALUE), "
		     "found '1'");
	want_error("name = pv", "t.cfg:1:8: expected a value, found 'pv' "
		     "(strings need quotes: \"pv\")");
	want_error("x = @", "t.cfg:1:5: expected a value (a quoted string, a "
		     "number or a [list]), found '@'");
	want_error("x = \x01", "t.cfg:1:5: expected a value (a quoted string, "
		     "a number or a [list]), found byte 0x01");
	want_error("def f():\n", "t.cfg:1:5: expected '=' after 'def', found "
		     "'f'");
	want_error("a == 1", "t.cfg:1:4: expected a value (a quoted string, a "
		     "number or a [list]), found '='");
}

static void test_nul_and_size(void **state)
{
	struct xl_config cfg;
	struct xl_msgs m;
	static const char text[] = "a = 1\nb = 'x\0y'\n";
	char *big;

	(void)state;
	xl_config_init(&cfg);
	xl_msgs_init(&m);
	assert_int_equal(xl_config_parse(&cfg, "t.cfg", text, sizeof(text) - 1,
					 &m), -1);
	assert_string_equal(m.v[0].text, "t.cfg:2:7: NUL byte in the config "
			    "(is this a binary file?)");
	xl_msgs_free(&m);
	big = malloc(XL_CONFIG_MAX_BYTES + 1);
	memset(big, '#', XL_CONFIG_MAX_BYTES + 1);
	assert_int_equal(xl_config_parse(&cfg, "big.cfg", big,
					 XL_CONFIG_MAX_BYTES + 1, &m), -1);
	assert_string_equal(m.v[0].text, "big.cfg: too large for a guest config "
			    "(1048577 bytes, at most 1048576)");
	free(big);
	xl_msgs_free(&m);
	xl_config_free(&cfg);
}

static void test_reassign_warns(void **state)
{
	struct parsed *p = parse("memory = 256\nname = 'a'\nmemory = 512\n");

	(void)state;
	assert_int_equal(p->rc, 0);
	want_number(p, "memory", 512);
	assert_int_equal(p->cfg.n, 2);
	assert_string_equal(p->cfg.v[0].key, "memory");   /* first position */
	assert_int_equal(p->m.n, 1);
	assert_int_equal(p->m.v[0].severity, XL_WARNING);
	assert_string_equal(p->m.v[0].text, "t.cfg:3:1: memory: set again; this "
			    "value replaces the one at t.cfg:1:1");
	done(p);
}

static void test_overrides(void **state)
{
	struct parsed *p = parse("name = 'file'\nmemory = 128\n");

	(void)state;
	assert_int_equal(xl_config_override(&p->cfg, "name=foo", 1, &p->m), 0);
	assert_int_equal(xl_config_override(&p->cfg, "memory=256", 2, &p->m), 0);
	assert_int_equal(xl_config_override(&p->cfg, "vif=['a', 'b']", 3,
					    &p->m), 0);
	assert_int_equal(xl_config_override(&p->cfg, "extra=\"q s\"", 4, &p->m), 0);
	assert_int_equal(xl_config_override(&p->cfg, "root=/dev/sda1 ro", 5,
					    &p->m), 0);
	assert_int_equal(xl_config_override(&p->cfg, "maxmem=256abc", 6, &p->m), 0);
	assert_int_equal(xl_config_override(&p->cfg, "empty=", 7, &p->m), 0);
	assert_int_equal(xl_config_override(&p->cfg, "  vcpus = 2", 8, &p->m), 0);
	assert_int_equal(p->m.n, 0);       /* overriding is the point: no warning */
	want_string(p, "name", "foo");
	want_number(p, "memory", 256);
	assert_int_equal(get(p, "vif")->n_items, 2);
	want_string(p, "extra", "q s");
	want_string(p, "root", "/dev/sda1 ro");
	want_string(p, "maxmem", "256abc");
	want_string(p, "empty", "");
	want_number(p, "vcpus", 2);
	assert_string_equal(get(p, "memory")->loc.file, "command line");
	assert_int_equal(get(p, "memory")->loc.line, 2);
	assert_int_equal(get(p, "memory")->loc.col, 8);
	done(p);
}

static void test_override_errors(void **state)
{
	struct parsed *p = parse("");

	(void)state;
	assert_int_equal(xl_config_override(&p->cfg, "name=\"open", 3, &p->m), -1);
	assert_int_equal(xl_config_override(&p->cfg, "vif=['a'", 4, &p->m), -1);
	assert_int_equal(xl_config_override(&p->cfg, "=5", 5, &p->m), -1);
	assert_int_equal(xl_config_override(&p->cfg, "memory", 6, &p->m), -1);
	assert_int_equal(p->m.n, 4);
	assert_string_equal(p->m.v[0].text, "command line:3:6: unterminated "
			    "string: no closing \" before the end of the input");
	assert_string_equal(p->m.v[1].text, "command line:4:5: unterminated "
			    "list: no ']' for this '['");
	assert_string_equal(p->m.v[2].text, "command line:5:1: expected a "
			    "setting (KEY = VALUE), found '='");
	assert_string_equal(p->m.v[3].text, "command line:6:7: expected '=' "
			    "after 'memory', found end of input");
	assert_int_equal(p->cfg.n, 0);
	done(p);
}

static void test_parse_integer(void **state)
{
	long long n;
	const char *why;

	(void)state;
	assert_int_equal(xl_parse_integer("42", 2, &n, &why), 0);
	assert_true(n == 42);
	assert_int_equal(xl_parse_integer("4200", 2, &n, &why), 0);
	assert_true(n == 42);                 /* length, not NUL, ends it */
	assert_int_equal(xl_parse_integer("-0x10", 5, &n, &why), 0);
	assert_true(n == -16);
	assert_int_equal(xl_parse_integer("", 0, &n, &why), -1);
	assert_string_equal(why, "no digits");
	assert_int_equal(xl_parse_integer("12 ", 3, &n, &why), -1);
}

static void test_file_api(void **state)
{
	struct xl_config cfg;
	struct xl_msgs m;
	char path[] = "/tmp/test_xl_config_XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("name = 'f'\nmemory = 64\n", f);
	fclose(f);
	xl_config_init(&cfg);
	xl_msgs_init(&m);
	assert_int_equal(xl_config_parse_file(&cfg, path, &m), 0);
	assert_string_equal(xl_config_get(&cfg, "name")->value->text, "f");
	assert_string_equal(xl_config_get(&cfg, "name")->loc.file, path);
	unlink(path);
	assert_int_equal(xl_config_parse_file(&cfg, path, &m), -1);
	assert_int_equal(m.n, 1);
	assert_non_null(strstr(m.v[0].text, "cannot open: No such file"));
	xl_config_free(&cfg);
	xl_msgs_free(&m);
}

static void test_message_cap(void **state)
{
	char *text = malloc(300 * 6 + 1), *o = text;
	struct parsed *p;
	char *printed = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	for (int i = 0; i < 300; i++)
		o += sprintf(o, "a = 1\n");
	p = parse(text);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->m.n, XL_MSGS_MAX);
	assert_int_equal(p->m.warnings, 299);
	assert_int_equal(p->m.dropped, 99);
	out = open_memstream(&printed, &len);
	xl_msgs_print(&p->m, out);
	fclose(out);
	assert_non_null(strstr(printed, "warning: t.cfg:2:1: a: set again"));
	assert_non_null(strstr(printed, "(99 more messages not shown)\n"));
	free(printed);
	free(text);
	done(p);
}

static void test_setting_cap(void **state)
{
	char *text = malloc(1100 * 12), *o = text;
	struct parsed *p;

	(void)state;
	for (int i = 0; i < 1100; i++)
		o += sprintf(o, "k%d = %d\n", i, i);
	p = parse(text);
	assert_int_equal(p->rc, -1);
	assert_int_equal(p->cfg.n, XL_CONFIG_MAX_SETTINGS);
	assert_int_equal(p->m.n, 1);
	assert_string_equal(p->m.v[0].text, "t.cfg:1025:1: too many settings "
			    "(at most 1024 different keys)");
	free(text);
	done(p);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(xl_type_name(XL_STRING), "string");
	assert_string_equal(xl_type_name(XL_NUMBER), "number");
	assert_string_equal(xl_type_name(XL_LIST), "list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_unknown_escape_warns),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_number_errors),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_statement_errors),
		cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_reassign_warns),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_parse_integer),
		cmocka_unit_test(test_file_api),
		cmocka_unit_test(test_message_cap),
		cmocka_unit_test(test_setting_cap),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
