#include "lib/log.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static const char *log_prog = "xenon";
static enum log_level log_level = LOG_INFO;
static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_hook_fn log_hook;

void log_set_hook(log_hook_fn fn)
{
	log_hook = fn;
}

void log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_level = level;
}

void log_set_file(FILE *f)
{
	log_file = f;
}

enum log_level log_get_level(void)
{
	return log_level;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap,
		     const char *suffix) __attribute__((format(printf, 2, 0)));

static void log_vmsg(enum log_level level, const char *fmt, va_list ap,
		     const char *suffix)
{
	static const char *const names[] = { "error: ", "warning: ", "", "debug: " };
	FILE *out = log_file ? log_file : stderr;

	if (level > log_level)
		return;
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: %s", log_prog, names[level]);

	if (n >= 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (suffix) {
		size_t len = strlen(line);

		snprintf(line + len, sizeof(line) - len, ": %s", suffix);
	}
	pthread_mutex_lock(&log_lock);
	fprintf(out, "%s\n", line);
	fflush(out);
	if (log_hook)
		log_hook(level, line);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap, NULL);
	va_end(ap);
}

void log_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}
