/*
 * CRC-32C (Castagnoli, iSCSI/ext4's polynomial 0x1edc6f41, reflected),
 * the checksum of every save-stream section.  Uses the SSE4.2 crc32
 * instruction when the CPU has it (about 8 bytes per cycle), else a
 * slicing-by-8 table.
 */
#ifndef XENON_CRC32C_H
#define XENON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c(0, buf, len) is the CRC of buf; pass a previous result as crc to
 * continue over more data ("123456789" -> 0xe3069283). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable implementation, always (unit tests compare both). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
