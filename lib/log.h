/* Logging shared by every Xenon program: one line per message, prefixed by
 * the program name, to stderr (or a file chosen by the program). */
#ifndef XENON_LOG_H
#define XENON_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(const char *progname, enum log_level level);
void log_set_file(FILE *f);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Also hand every logged line (without the newline) to fn: xenond keeps
 * the recent ones for `xm dmesg`.  Called with the log lock held. */
typedef void (*log_hook_fn)(enum log_level level, const char *line);
void log_set_hook(log_hook_fn fn);

/* Print "prog: <fmt>: <strerror(errno)>" at error level. */
void log_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
