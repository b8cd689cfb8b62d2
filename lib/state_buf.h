/*
 * Little-endian encoding of device and vCPU state for the save stream.
 *
 * Writers append to a growable struct sbuf; an allocation failure is
 * remembered (sbuf.failed) and checked once at the end.  Readers walk a
 * struct sreader over a section payload: every get is bounds-checked, and
 * the first problem (short payload, bad value reported by the caller with
 * sr_fail()) sticks, so a load function reads everything, then checks
 * sr_ok() once and never acts on garbage.
 */
#ifndef XENON_STATE_BUF_H
#define XENON_STATE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	uint8_t *data;
	size_t len, cap;
	bool failed;          /* out of memory */
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_put(struct sbuf *b, const void *p, size_t len);
void sbuf_u8(struct sbuf *b, uint8_t v);
void sbuf_u16(struct sbuf *b, uint16_t v);
void sbuf_u32(struct sbuf *b, uint32_t v);
void sbuf_u64(struct sbuf *b, uint64_t v);
void sbuf_bool(struct sbuf *b, bool v);
/* u32 length + bytes (no NUL). */
void sbuf_str(struct sbuf *b, const char *s);
/* Reserve len bytes and return them (NULL after a failure). */
void *sbuf_reserve(struct sbuf *b, size_t len);

struct sreader {
	const uint8_t *p;
	size_t len, pos;
	bool failed;
	char error[192];
};

void sr_init(struct sreader *r, const void *p, size_t len);
void sr_get(struct sreader *r, void *out, size_t len);
uint8_t sr_u8(struct sreader *r);
uint16_t sr_u16(struct sreader *r);
uint32_t sr_u32(struct sreader *r);
uint64_t sr_u64(struct sreader *r);
bool sr_bool(struct sreader *r);
/* A string written by sbuf_str, copied into buf (NUL-terminated); a
 * longer one fails the reader. */
void sr_str(struct sreader *r, char *buf, size_t size);
/* Pointer to the next len bytes (NULL and failed if short). */
const void *sr_ptr(struct sreader *r, size_t len);
size_t sr_left(const struct sreader *r);
/* Record the first error (printf-style); later ones are ignored. */
void sr_fail(struct sreader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* True if nothing failed. */
bool sr_ok(const struct sreader *r);
/* True if nothing failed and every byte was consumed (else fails with
 * "N unexpected trailing bytes"). */
bool sr_done(struct sreader *r);

#endif
