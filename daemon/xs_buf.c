#include "daemon/xs_buf.h"

#include <stdlib.h>
#include <string.h>

void xs_buf_free(struct xs_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *xs_buf_reserve(struct xs_buf *b, size_t n)
{
	size_t len = xs_buf_len(b);

	if (b->tail + n <= b->cap)
		return b->data + b->tail;
	/* Slide live bytes to the front before growing. */
	if (b->head && len + n <= b->cap) {
		memmove(b->data, b->data + b->head, len);
	} else {
		size_t cap = b->cap ? b->cap : 256;
		char *d;

		while (cap < len + n)
			cap *= 2;
		d = malloc(cap);
		if (!d)
			return NULL;
		if (len)
			memcpy(d, b->data + b->head, len);
		free(b->data);
		b->data = d;
		b->cap = cap;
	}
	b->head = 0;
	b->tail = len;
	return b->data + b->tail;
}

int xs_buf_append(struct xs_buf *b, const void *p, size_t n)
{
	char *dst = xs_buf_reserve(b, n);

	if (!dst)
		return -1;
	if (n)
		memcpy(dst, p, n);
	b->tail += n;
	return 0;
}

void xs_buf_consume(struct xs_buf *b, size_t n)
{
	b->head += n;
	if (b->head >= b->tail)
		b->head = b->tail = 0;
}

void xs_buf_reset(struct xs_buf *b)
{
	b->head = b->tail = 0;
}
