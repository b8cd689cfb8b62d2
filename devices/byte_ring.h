/*
 * The byte ring behind a console back end's output buffer (chardev.c,
 * chardev_unix.c): appended to by any thread under the owner's lock,
 * drained in contiguous chunks.  The owner keeps buf, head and len in its
 * own struct; these helpers only do the arithmetic and the copying.
 */
#ifndef XENON_BYTE_RING_H
#define XENON_BYTE_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Append up to n bytes; returns how many fitted (the rest is the caller's
 * to count as dropped). */
static inline size_t ring_append(uint8_t *buf, size_t cap, size_t head,
				 size_t *len, const void *src, size_t n)
{
	const uint8_t *p = src;
	size_t tail = (head + *len) % cap;

	if (n > cap - *len)
		n = cap - *len;
	for (size_t done = 0; done < n;) {
		size_t part = n - done;

		if (part > cap - tail)
			part = cap - tail;
		memcpy(buf + tail, p + done, part);
		tail = (tail + part) % cap;
		done += part;
	}
	*len += n;
	return n;
}

/* How much can be read in one piece from buf + head. */
static inline size_t ring_chunk(size_t cap, size_t head, size_t len)
{
	return head + len > cap ? cap - head : len;
}

static inline void ring_consume(size_t cap, size_t *head, size_t *len,
				size_t n)
{
	*head = (*head + n) % cap;
	*len -= n;
}

#endif
