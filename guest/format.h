/* The printf engine behind console.c (kept apart so it stays testable). */
#ifndef GUEST_FORMAT_H
#define GUEST_FORMAT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef void (*format_out)(void *ctx, const char *s, size_t n);
void vformat(format_out out, void *ctx, const char *fmt, va_list ap);

#endif
