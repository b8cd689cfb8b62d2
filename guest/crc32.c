/* Table-driven CRC-32; the table is built on first use (1 KiB of .bss). */
#include "guest/crc32.h"

#include <stdbool.h>

#include "guest/memory.h"

static uint32_t table[256] NOINIT;
static bool table_ready;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	table_ready = true;
}

/* crc32(0, buf, len) gives zlib.crc32(buf); pass the previous result to
 * continue over more data. */
uint32_t crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!table_ready)
		build_table();
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
