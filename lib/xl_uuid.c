/* Domain UUIDs: the 8-4-4-4-12 text form, and random version 4 ones. */
#include "lib/domain_config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int xl_uuid_parse(const char *s, uint8_t uuid[16])
{
	static const char layout[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	unsigned byte = 0;

	if (strlen(s) != sizeof(layout) - 1)
		return -1;
	for (size_t i = 0; layout[i]; i++) {
		if (layout[i] == '-') {
			if (s[i] != '-')
				return -1;
			continue;
		}
		if (hexval((unsigned char)s[i]) < 0 ||
		    hexval((unsigned char)s[i + 1]) < 0)
			return -1;
		uuid[byte++] = (uint8_t)(hexval((unsigned char)s[i]) << 4 |
					 hexval((unsigned char)s[i + 1]));
		i++;
	}
	return 0;
}

void xl_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
		 u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

/* Last resort if the kernel cannot give randomness: not cryptographic,
 * but distinct enough to keep two domains' UUIDs apart. */
static void weak_random(uint8_t *buf, size_t n)
{
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
	    ((uint64_t)getpid() << 32);
	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		buf[i] = (uint8_t)((x * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

void xl_uuid_generate(uint8_t uuid[16])
{
	if (getrandom(uuid, 16, 0) != 16)
		weak_random(uuid, 16);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);   /* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
}
