/* MAC addresses and vif rate limits (xl-network-configuration(5)). */
#include "lib/domain_config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int xl_mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval((unsigned char)p[0]);
		int lo = hexval((unsigned char)p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void xl_mac_format(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

void xl_mac_generate(const uint8_t uuid[16], unsigned devid, uint8_t mac[6])
{
	/* FNV-1a over the UUID and devid, then a final avalanche so that
	 * neighbouring devids differ in every byte. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ uuid[i]) * 0x100000001b3ULL;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((devid >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	/* The top bit stays clear, as libxl leaves it: the upper half of the
	 * range is for addresses chosen by hand. */
	mac[3] = (uint8_t)((h >> 16) & 0x7f);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* Decimal digits; *p advances past them.  -1 if none or too large. */
static int digits(const char **p, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)**p))
		return -1;
	for (; isdigit((unsigned char)**p); (*p)++) {
		v = v * 10 + (uint64_t)(**p - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* RATE: N[G|M|K](B|b)/s.  Multipliers are decimal, as in xl. */
static int rate_part(const char *s, const char *end, uint64_t *bps,
		     const char **why)
{
	uint64_t n, mult = 1;
	const char *p = s;

	*why = "expected a rate like 10Mb/s, 250KB/s or 1GB/s";
	if (digits(&p, UINT32_MAX, &n) < 0)
		return -1;
	if (*p == 'G' || *p == 'M' || *p == 'K') {
		mult = *p == 'G' ? 1000000000ULL : *p == 'M' ? 1000000ULL : 1000ULL;
		p++;
	}
	if ((*p != 'B' && *p != 'b') || end - p != 3 || strncmp(p + 1, "/s", 2))
		return -1;
	n *= mult;
	if (*p == 'b')
		n /= 8;
	if (n == 0) {
		*why = "the rate must be above zero";
		return -1;
	}
	*bps = n;
	return 0;
}

/* INTERVAL: N(s|ms|us), microseconds. */
static int interval_part(const char *p, uint32_t *us, const char **why)
{
	uint64_t n, mult;

	*why = "expected an interval like 20ms, 500us or 1s after '@'";
	if (digits(&p, UINT32_MAX, &n) < 0)
		return -1;
	if (!strcmp(p, "s"))
		mult = 1000000;
	else if (!strcmp(p, "ms"))
		mult = 1000;
	else if (!strcmp(p, "us"))
		mult = 1;
	else
		return -1;
	n *= mult;
	if (n == 0 || n > UINT32_MAX) {
		*why = n ? "interval too long" : "the interval must be above zero";
		return -1;
	}
	*us = (uint32_t)n;
	return 0;
}

int xl_rate_parse(const char *s, uint64_t *bytes_per_sec,
		  uint32_t *interval_us, const char **why)
{
	const char *at = strchr(s, '@');
	uint32_t us = 50000;       /* xl's default: 50 ms */
	uint64_t bps;

	if (rate_part(s, at ? at : s + strlen(s), &bps, why) < 0)
		return -1;
	if (at && interval_part(at + 1, &us, why) < 0)
		return -1;
	/* The backend is given rate x interval: that must fit too. */
	if (bps > UINT64_MAX / us) {
		*why = "rate too high";
		return -1;
	}
	*bytes_per_sec = bps;
	*interval_us = us;
	return 0;
}
