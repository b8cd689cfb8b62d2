/*
 * printk and friends.  Serial output is streamed through a small buffer so
 * long strings (a 64 KiB command line) need no big line buffer; lines for
 * every console are formatted once into a line buffer and handed to each
 * sink whole, which lets the virtio console send one buffer per line.
 */
#include "guest/console.h"

#include "guest/format.h"
#include "guest/serial.h"
#include "guest/string.h"

#define MAX_SINKS 4

static console_sink sinks[MAX_SINKS];
static unsigned nr_sinks;
static bool quiet;

struct stream {
	char buf[128];
	size_t len;
};

static void stream_out(void *ctx, const char *s, size_t n)
{
	struct stream *st = ctx;

	while (n) {
		size_t room = sizeof(st->buf) - st->len;
		size_t take = n < room ? n : room;

		memcpy(st->buf + st->len, s, take);
		st->len += take;
		s += take;
		n -= take;
		if (st->len == sizeof(st->buf)) {
			serial_write(st->buf, st->len);
			st->len = 0;
		}
	}
}

static void to_sinks(const char *fmt, va_list ap);

/* The serial port gets everything, streamed (no length limit); the other
 * consoles (the PV console that `xm console` shows) get the line, cut at
 * CONSOLE_LINE_MAX. */
static void vprintk(const char *fmt, va_list ap)
{
	struct stream st;
	va_list copy;

	va_copy(copy, ap);
	st.len = 0;
	vformat(stream_out, &st, fmt, ap);
	serial_write(st.buf, st.len);
	if (nr_sinks)
		to_sinks(fmt, copy);
	va_end(copy);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

struct bounded {
	char *buf;
	size_t size, len;  /* len counts everything, even what did not fit */
};

static void bounded_out(void *ctx, const char *s, size_t n)
{
	struct bounded *b = ctx;

	for (size_t i = 0; i < n; i++, b->len++)
		if (b->len + 1 < b->size)
			b->buf[b->len] = s[i];
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct bounded b = { buf, size, 0 };

	vformat(bounded_out, &b, fmt, ap);
	if (size)
		buf[b.len < size ? b.len : size - 1] = '\0';
	return (int)b.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void to_sinks(const char *fmt, va_list ap)
{
	char line[CONSOLE_LINE_MAX];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	size_t len = n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1;

	for (unsigned i = 0; i < nr_sinks; i++)
		sinks[i](line, len);
}

void vprint_all(const char *fmt, va_list ap)
{
	char line[CONSOLE_LINE_MAX];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	size_t len = n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1;

	serial_write(line, len);
	for (unsigned i = 0; i < nr_sinks; i++)
		sinks[i](line, len);
}

void print_all(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_all(fmt, ap);
	va_end(ap);
}

void console_add_sink(console_sink sink)
{
	if (nr_sinks < MAX_SINKS)
		sinks[nr_sinks++] = sink;
}

void console_set_quiet(bool q)
{
	quiet = q;
}
