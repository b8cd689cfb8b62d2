/* Guest RAM as io_uring fixed buffers; see block_fixed.h. */
#include "devices/block_fixed.h"

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define CHUNK_MIN  (2ULL << 20)
#define MAX_CHUNKS 1024u
#define BUF_MAX    (1ULL << 30)   /* the kernel's limit per fixed buffer */

enum chunk_state { CHUNK_NONE, CHUNK_REGISTERED, CHUNK_FAILED };

struct block_fixed {
	struct io_uring *ring;
	uint8_t *base;
	uint64_t size, chunk;
	unsigned n;
	bool warned;
	char what[160];
	uint8_t state[];           /* enum chunk_state, per chunk */
};

struct block_fixed *block_fixed_create(struct io_uring *ring, void *base,
				       uint64_t size, const char *what)
{
	uint64_t chunk = CHUNK_MIN;
	struct block_fixed *bf;
	unsigned n;
	int rc;

	if (!base || !size)
		return NULL;
	while ((size + chunk - 1) / chunk > MAX_CHUNKS)
		chunk <<= 1;
	if (2 * chunk > BUF_MAX)
		return NULL;
	n = (unsigned)((size + chunk - 1) / chunk);
	bf = calloc(1, sizeof(*bf) + n);
	if (!bf) {
		log_error("%s: out of memory", what);
		return NULL;
	}
	rc = io_uring_register_buffers_sparse(ring, n);
	if (rc < 0) {
		log_info("%s: no io_uring fixed buffers (%s); reads use readv",
			 what, strerror(-rc));
		free(bf);
		return NULL;
	}
	bf->ring = ring;
	bf->base = base;
	bf->size = size;
	bf->chunk = chunk;
	bf->n = n;
	snprintf(bf->what, sizeof(bf->what), "%s", what);
	return bf;
}

/* Buffer i covers chunks i and i + 1, so that any range of up to one
 * chunk starting in chunk i is inside it, wherever the guest put it. */
static uint64_t buf_len(const struct block_fixed *bf, unsigned i)
{
	uint64_t off = (uint64_t)i * bf->chunk;

	return bf->size - off < 2 * bf->chunk ? bf->size - off : 2 * bf->chunk;
}

/* Register buffer i (pinning its pages); false if the kernel refused. */
static bool register_chunk(struct block_fixed *bf, unsigned i)
{
	uint64_t off = (uint64_t)i * bf->chunk;
	uint64_t len = buf_len(bf, i);
	struct iovec iov = { bf->base + off, len };
	__u64 tag = 0;
	int rc = io_uring_register_buffers_update_tag(bf->ring, i, &iov, &tag, 1);

	if (rc == 1)
		return true;
	if (!bf->warned) {
		bf->warned = true;
		log_warn("%s: cannot register guest RAM at +%llu MiB as an "
			 "io_uring buffer (%s); such reads use readv", bf->what,
			 (unsigned long long)(off >> 20),
			 strerror(rc < 0 ? -rc : EINVAL));
	}
	return false;
}

int block_fixed_index(struct block_fixed *bf, const void *p, uint64_t len)
{
	const uint8_t *b = p;
	uint64_t first, last;
	unsigned i;

	if (!bf || !len || b < bf->base || (uint64_t)(b - bf->base) >= bf->size ||
	    len > bf->size - (uint64_t)(b - bf->base))
		return -1;
	first = (uint64_t)(b - bf->base);
	last = first + len - 1;
	i = (unsigned)(first / bf->chunk);
	if (last - (uint64_t)i * bf->chunk >= buf_len(bf, i))
		return -1;
	if (bf->state[i] == CHUNK_NONE)
		bf->state[i] = register_chunk(bf, i) ? CHUNK_REGISTERED
						     : CHUNK_FAILED;
	return bf->state[i] == CHUNK_REGISTERED ? (int)i : -1;
}

void block_fixed_destroy(struct block_fixed *bf)
{
	free(bf);
}
