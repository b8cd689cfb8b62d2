/* CRC-32 as zlib computes it (reflected polynomial 0xedb88320). */
#ifndef GUEST_CRC32_H
#define GUEST_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32(uint32_t crc, const void *buf, size_t len);

#endif
