/* Allocation, formatting and string helpers for the config parser. */
#include "lib/xl_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *oom(void)
{
	fputs("xenon: out of memory while reading a guest config\n", stderr);
	abort();
}

void *xl_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom();
}

void *xl_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom();
}

void xl_xgrow(void **v, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / size)
		oom();
	p = realloc(*v, ncap * size);
	if (!p)
		oom();
	*v = p;
	*cap = ncap;
}

char *xl_xstrdup(const char *s)
{
	return xl_xstrndup(s, strlen(s));
}

char *xl_xstrndup(const char *s, size_t n)
{
	char *p = xl_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xl_xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *xl_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xl_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

bool xl_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Levenshtein distance over two short strings (key names), one row at a
 * time; keys longer than the row are simply "far". */
unsigned xl_edit_distance(const char *a, const char *b, unsigned max)
{
	enum { ROW = 64 };
	unsigned prev[ROW + 1], cur[ROW + 1];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (lb > ROW || la > ROW)
		return max + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		unsigned best;

		cur[0] = (unsigned)i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
			if (cur[j] < best)
				best = cur[j];
		}
		if (best > max)
			return max + 1;
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb] > max ? max + 1 : prev[lb];
}
