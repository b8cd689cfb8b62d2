/*
 * A small printf engine: %d %i %u %x %X %p %s %c %% with the l, ll and z
 * length modifiers, '0' and '-' flags and a field width.  Output goes to a
 * callback in pieces, so callers can buffer or stream as they like.
 */
#include "guest/format.h"

#include <stdint.h>

#include "guest/string.h"

struct spec {
	bool left, zero;
	unsigned width;
	int size;      /* 0 int, 1 long, 2 long long/size_t */
	char conv;
};

static const char *parse_spec(const char *f, struct spec *s)
{
	*s = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '-')
			s->left = true;
		else if (*f == '0')
			s->zero = true;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		s->width = s->width * 10 + (unsigned)(*f++ - '0');
	while (*f == 'l' || *f == 'z') {
		s->size += *f == 'z' ? 2 : 1;
		f++;
	}
	s->conv = *f;
	return *f ? f + 1 : f;
}

static void pad(format_out out, void *ctx, char c, unsigned n)
{
	while (n--)
		out(ctx, &c, 1);
}

/* Emit str (len bytes) within the field width of s. */
static void emit_field(format_out out, void *ctx, const struct spec *s,
		       const char *str, size_t len)
{
	unsigned fill = s->width > len ? s->width - (unsigned)len : 0;
	char padc = s->zero && !s->left ? '0' : ' ';

	if (!s->left && padc == '0' && len && (*str == '-')) {
		out(ctx, str, 1);  /* the sign goes before zero padding */
		str++;
		len--;
	}
	if (!s->left)
		pad(out, ctx, padc, fill);
	out(ctx, str, len);
	if (s->left)
		pad(out, ctx, ' ', fill);
}

static void emit_number(format_out out, void *ctx, const struct spec *s,
			uint64_t v, bool negative)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	const char *digits = s->conv == 'X' ? upper : lower;
	unsigned base = (s->conv == 'x' || s->conv == 'X' || s->conv == 'p') ? 16 : 10;
	char buf[24];
	size_t i = sizeof(buf);

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		buf[--i] = '-';
	emit_field(out, ctx, s, buf + i, sizeof(buf) - i);
}

static uint64_t unsigned_arg(const struct spec *s, va_list *ap)
{
	if (s->size >= 2)
		return va_arg(*ap, unsigned long long);
	if (s->size == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t signed_arg(const struct spec *s, va_list *ap)
{
	if (s->size >= 2)
		return va_arg(*ap, long long);
	if (s->size == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void emit_conv(format_out out, void *ctx, struct spec *s, va_list *ap)
{
	switch (s->conv) {
	case 'd':
	case 'i': {
		int64_t v = signed_arg(s, ap);

		emit_number(out, ctx, s, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
		break;
	}
	case 'u':
	case 'x':
	case 'X':
		emit_number(out, ctx, s, unsigned_arg(s, ap), false);
		break;
	case 'p':
		out(ctx, "0x", 2);
		emit_number(out, ctx, s, (uintptr_t)va_arg(*ap, void *), false);
		break;
	case 's': {
		const char *str = va_arg(*ap, const char *);

		if (!str)
			str = "(null)";
		emit_field(out, ctx, s, str, strlen(str));
		break;
	}
	case 'c': {
		char c = (char)va_arg(*ap, int);

		emit_field(out, ctx, s, &c, 1);
		break;
	}
	default:  /* "%%" and anything unknown print as themselves */
		out(ctx, &s->conv, s->conv ? 1 : 0);
	}
}

void vformat(format_out out, void *ctx, const char *fmt, va_list ap)
{
	va_list args;
	struct spec s;

	va_copy(args, ap);
	while (*fmt) {
		const char *start = fmt;

		while (*fmt && *fmt != '%')
			fmt++;
		if (fmt != start)
			out(ctx, start, (size_t)(fmt - start));
		if (!*fmt)
			break;
		fmt = parse_spec(fmt + 1, &s);
		emit_conv(out, ctx, &s, &args);
	}
	va_end(args);
}
