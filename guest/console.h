/*
 * Console output: printf-style formatting onto the serial port and, for
 * lines every console must carry (results), onto extra sinks such as the
 * virtio console.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* Formatted output to the serial port. */
void printk(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Like printk, but silent when the command line says "quiet". */
void info(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* One line (up to CONSOLE_LINE_MAX bytes) to serial and every sink. */
void print_all(const char *fmt, ...) PRINTF_LIKE(1, 2);
void vprint_all(const char *fmt, va_list ap);

int snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#define CONSOLE_LINE_MAX 1024
/* Extra consoles; print_all() writes each line to all of them. */
typedef void (*console_sink)(const char *buf, size_t len);
void console_add_sink(console_sink sink);
void console_set_quiet(bool quiet);

#endif
