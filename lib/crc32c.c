/* CRC-32C: hardware (SSE4.2) or slicing-by-8 (see crc32c.h). */
#include "lib/crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define POLY 0x82f63b78u   /* 0x1edc6f41 reflected */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^
				      table[0][table[t - 1][i] & 0xff];
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&table_once, make_table);
	crc = ~crc;
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);   /* little-endian hosts only (x86-64) */
		w ^= crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		      table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		      table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		      table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

#if defined(__x86_64__)
/*
 * Hardware CRC: the crc32 instruction has a latency of 3 cycles and a
 * throughput of 1, so big buffers run as three interleaved streams of BLK
 * bytes.  The CRC state update is linear: state(A||B) = shift_|B|(state
 * after A) ^ state(B from 0), so the streams are merged with "shift by BLK
 * (or 2 BLK) zero bytes" operators, precomputed as byte tables.
 */
#define BLK 2048

static uint32_t shift_tab[2][4][256];   /* [0]: BLK bytes, [1]: 2*BLK */
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2")))
static uint64_t hw_run(uint64_t c, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return c;
}

/* Raw state after `len` zero bytes starting from state s. */
static uint32_t zeros_from(uint32_t s, size_t len)
{
	static const uint8_t zero[2 * BLK];

	return (uint32_t)hw_run(s, zero, len);
}

static void make_shift_tables(void)
{
	for (int t = 0; t < 2; t++) {
		uint32_t basis[32];

		for (int k = 0; k < 32; k++)
			basis[k] = zeros_from(1u << k, (size_t)BLK * (t + 1));
		for (int byte = 0; byte < 4; byte++)
			for (uint32_t v = 0; v < 256; v++) {
				uint32_t r = 0;

				for (int k = 0; k < 8; k++)
					if (v & (1u << k))
						r ^= basis[byte * 8 + k];
				shift_tab[t][byte][v] = r;
			}
	}
}

static uint32_t shift(int t, uint32_t s)
{
	return shift_tab[t][0][s & 0xff] ^ shift_tab[t][1][(s >> 8) & 0xff] ^
	       shift_tab[t][2][(s >> 16) & 0xff] ^ shift_tab[t][3][s >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	if (len >= 3 * BLK)
		pthread_once(&shift_once, make_shift_tables);
	while (len >= 3 * BLK) {
		uint64_t c1 = 0, c2 = 0;

		for (size_t i = 0; i < BLK; i += 8) {
			uint64_t w0, w1, w2;

			memcpy(&w0, p + i, 8);
			memcpy(&w1, p + BLK + i, 8);
			memcpy(&w2, p + 2 * BLK + i, 8);
			c = __builtin_ia32_crc32di(c, w0);
			c1 = __builtin_ia32_crc32di(c1, w1);
			c2 = __builtin_ia32_crc32di(c2, w2);
		}
		c = shift(1, (uint32_t)c) ^ shift(0, (uint32_t)c1) ^ (uint32_t)c2;
		p += 3 * BLK;
		len -= 3 * BLK;
	}
	return ~(uint32_t)hw_run(c, p, len);
}

static bool have_hw(void)
{
	static int cached = -1;

	if (cached < 0) {
		__builtin_cpu_init();
		cached = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	}
	return cached;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	return have_hw() ? crc32c_hw(crc, buf, len) : crc32c_sw(crc, buf, len);
}
#else
uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_sw(crc, buf, len);
}
#endif
