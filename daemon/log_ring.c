/* The daemon's recent log lines, kept in memory for `xm dmesg` (as Xen
 * keeps its console ring). */
#include "daemon/api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

#define LOG_RING_BYTES 65536

static char ring[LOG_RING_BYTES];
static size_t ring_start, ring_len;

static void ring_put(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ring[(ring_start + ring_len) % LOG_RING_BYTES] = s[i];
		if (ring_len < LOG_RING_BYTES)
			ring_len++;
		else
			ring_start = (ring_start + 1) % LOG_RING_BYTES;
	}
}

static void on_log(enum log_level level, const char *line)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	(void)level;
	strftime(stamp, sizeof(stamp), "[%Y-%m-%d %H:%M:%S] ",
		 localtime_r(&now, &tm));
	ring_put(stamp, strlen(stamp));
	ring_put(line, strlen(line));
	ring_put("\n", 1);
}

void log_ring_install(void)
{
	log_set_hook(on_log);
}

char *log_ring_text(void)
{
	char *s = malloc(ring_len + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < ring_len; i++)
		s[i] = ring[(ring_start + i) % LOG_RING_BYTES];
	s[ring_len] = '\0';
	return s;
}

void log_ring_clear(void)
{
	ring_start = ring_len = 0;
}
