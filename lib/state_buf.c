/* Little-endian state encoding (see state_buf.h). */
#include "lib/state_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/le.h"

void sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void sbuf_free(struct sbuf *b)
{
	free(b->data);
	sbuf_init(b);
}

void *sbuf_reserve(struct sbuf *b, size_t len)
{
	void *p;

	if (b->failed)
		return NULL;
	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *n;

		while (cap - b->len < len) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return NULL;
			}
			cap *= 2;
		}
		n = realloc(b->data, cap);
		if (!n) {
			b->failed = true;
			return NULL;
		}
		b->data = n;
		b->cap = cap;
	}
	p = b->data + b->len;
	b->len += len;
	return p;
}

void sbuf_put(struct sbuf *b, const void *p, size_t len)
{
	void *dst = sbuf_reserve(b, len);

	if (dst && len)
		memcpy(dst, p, len);
}

static void put_le(struct sbuf *b, uint64_t v, unsigned n)
{
	uint8_t tmp[8];

	le_put(tmp, v, n);
	sbuf_put(b, tmp, n);
}

void sbuf_u8(struct sbuf *b, uint8_t v) { put_le(b, v, 1); }
void sbuf_u16(struct sbuf *b, uint16_t v) { put_le(b, v, 2); }
void sbuf_u32(struct sbuf *b, uint32_t v) { put_le(b, v, 4); }
void sbuf_u64(struct sbuf *b, uint64_t v) { put_le(b, v, 8); }
void sbuf_bool(struct sbuf *b, bool v) { put_le(b, v ? 1 : 0, 1); }

void sbuf_str(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	sbuf_u32(b, (uint32_t)n);
	sbuf_put(b, s, n);
}

void sr_init(struct sreader *r, const void *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = len;
}

void sr_fail(struct sreader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

const void *sr_ptr(struct sreader *r, size_t len)
{
	const void *p;

	if (r->failed)
		return NULL;
	if (len > r->len - r->pos) {
		sr_fail(r, "state ends early: %zu bytes wanted at offset %zu, "
			"%zu left", len, r->pos, r->len - r->pos);
		return NULL;
	}
	p = r->p + r->pos;
	r->pos += len;
	return p;
}

void sr_get(struct sreader *r, void *out, size_t len)
{
	const void *p = sr_ptr(r, len);

	if (p)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

static uint64_t get_le(struct sreader *r, unsigned n)
{
	const uint8_t *p = sr_ptr(r, n);

	return p ? le_get(p, n) : 0;
}

uint8_t sr_u8(struct sreader *r) { return (uint8_t)get_le(r, 1); }
uint16_t sr_u16(struct sreader *r) { return (uint16_t)get_le(r, 2); }
uint32_t sr_u32(struct sreader *r) { return (uint32_t)get_le(r, 4); }
uint64_t sr_u64(struct sreader *r) { return get_le(r, 8); }

bool sr_bool(struct sreader *r)
{
	uint8_t v = sr_u8(r);

	if (v > 1)
		sr_fail(r, "boolean with value %u at offset %zu", v, r->pos - 1);
	return v == 1;
}

void sr_str(struct sreader *r, char *buf, size_t size)
{
	uint32_t n = sr_u32(r);
	const char *p;

	buf[0] = 0;
	if (r->failed)
		return;
	if (n >= size) {
		sr_fail(r, "string of %u bytes at offset %zu is too long (max %zu)",
			n, r->pos - 4, size - 1);
		return;
	}
	p = sr_ptr(r, n);
	if (!p)
		return;
	memcpy(buf, p, n);
	buf[n] = 0;
	if (strlen(buf) != n)
		sr_fail(r, "string at offset %zu contains a NUL byte", r->pos - n);
}

size_t sr_left(const struct sreader *r)
{
	return r->len - r->pos;
}

bool sr_ok(const struct sreader *r)
{
	return !r->failed;
}

bool sr_done(struct sreader *r)
{
	if (!r->failed && r->pos != r->len)
		sr_fail(r, "%zu unexpected trailing bytes", r->len - r->pos);
	return !r->failed;
}
