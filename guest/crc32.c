/*
 * CRC-32 (zlib's), slicing by 8: eight 256-entry tables let one step
 * consume 8 bytes with one 64-bit load and eight table look-ups.  Where
 * every instruction is emulated, memory operands are what cost, and this
 * needs about half the loads of the byte-at-a-time loop.  The tables
 * (8 KiB) are built on first use.
 */
#include "guest/crc32.h"

#include <stdbool.h>

#include "guest/memory.h"

#define POLY 0xedb88320u

static uint32_t table[8][256] NOINIT;
static bool table_ready;

static void build_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? POLY ^ (c >> 1) : c >> 1;
		table[0][i] = c;
	}
	/* table[k][i]: the CRC of byte i followed by k zero bytes. */
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			table[k][i] = (table[k - 1][i] >> 8) ^
				      table[0][table[k - 1][i] & 0xff];
	table_ready = true;
}

static uint32_t crc_bytes(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

static uint32_t crc_words(uint32_t crc, const uint64_t *p, size_t n)
{
	while (n--) {
		uint64_t v = *p++ ^ crc;

		crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^
		      table[5][(v >> 16) & 0xff] ^ table[4][(v >> 24) & 0xff] ^
		      table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
		      table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
	}
	return crc;
}

/* crc32(0, buf, len) gives zlib.crc32(buf); pass the previous result to
 * continue over more data. */
uint32_t crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t head = (8 - ((uintptr_t)p & 7)) & 7;

	if (!table_ready)
		build_tables();
	if (head > len)
		head = len;
	crc = crc_bytes(~crc, p, head);
	p += head;
	len -= head;
	crc = crc_words(crc, (const uint64_t *)p, len / 8);
	p += len & ~(size_t)7;
	return ~crc_bytes(crc, p, len & 7);
}
