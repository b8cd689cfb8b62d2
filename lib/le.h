/*
 * Little-endian integers in byte buffers: ACPI tables, PCI config space,
 * the save stream, xenstore records, migration page records.  Byte by
 * byte, so alignment and host byte order never matter.
 */
#ifndef XENON_LE_H
#define XENON_LE_H

#include <stdint.h>

/* The low n bytes (n <= 8) of v. */
static inline void le_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void le_put16(uint8_t *p, uint16_t v) { le_put(p, v, 2); }
static inline void le_put32(uint8_t *p, uint32_t v) { le_put(p, v, 4); }
static inline void le_put64(uint8_t *p, uint64_t v) { le_put(p, v, 8); }

static inline uint16_t le_get16(const uint8_t *p) { return (uint16_t)le_get(p, 2); }
static inline uint32_t le_get32(const uint8_t *p) { return (uint32_t)le_get(p, 4); }
static inline uint64_t le_get64(const uint8_t *p) { return le_get(p, 8); }

#endif
