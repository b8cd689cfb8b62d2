/*
 * A growable byte queue: append at the tail, consume from the head.  Used
 * for connection input and output and for journal batches.
 */
#ifndef XENON_XS_BUF_H
#define XENON_XS_BUF_H

#include <stddef.h>

struct xs_buf {
	char *data;
	size_t head;		/* first unconsumed byte */
	size_t tail;		/* end of data */
	size_t cap;
};

static inline size_t xs_buf_len(const struct xs_buf *b)
{
	return b->tail - b->head;
}

static inline const char *xs_buf_peek(const struct xs_buf *b)
{
	return b->data + b->head;
}

void xs_buf_free(struct xs_buf *b);
/* Make room for n more bytes; returns a pointer to it or NULL (ENOMEM). */
char *xs_buf_reserve(struct xs_buf *b, size_t n);
/* Returns 0 or -1 (ENOMEM). */
int xs_buf_append(struct xs_buf *b, const void *p, size_t n);
void xs_buf_consume(struct xs_buf *b, size_t n);
void xs_buf_reset(struct xs_buf *b);

#endif
