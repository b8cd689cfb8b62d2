/*
 * The on-disk record format shared by the journal and the snapshot.
 *
 * A file is an 8-byte magic, a u64 epoch, then entries.  An entry is
 * u32 payload length, u32 CRC-32 of the payload, payload.  A payload is a
 * sequence of operations, applied all or nothing (one request, or one
 * transaction commit, is one entry):
 *   'P' u16 pathlen, path, u16 nperms, nperms x (u32 domid, u8 access),
 *       u32 vlen, value       create or replace a node (not its children)
 *   'D' u16 pathlen, path     delete a node and everything below it
 *   'W' u32 domid, u16 rel_prefix, u16 pathlen, path, u16 toklen, token
 *                             a domain's durable watch (xs_dwatch.h)
 *   'U' u32 domid, u16 pathlen, path, u16 toklen, token
 *                             forget one durable watch
 *   'R' u32 domid             forget all durable watches of a domain
 *                             (and its commit markers)
 *   'C' u32 domid, u32 txid   a transaction of the domain's channel
 *                             committed (xs_dwatch.h)
 *   'E'                       end of a snapshot
 * Integers are little-endian.  A torn or corrupt entry ends the file.
 */
#ifndef XENON_XS_RECORD_H
#define XENON_XS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/xs_buf.h"
#include "daemon/xs_perms.h"

#define XS_REC_MAGIC_LEN 8
#define XS_REC_HDR_SIZE  (XS_REC_MAGIC_LEN + 8)
#define XS_REC_ENTRY_HDR 8
/* Entries larger than this are refused as corrupt on reading. */
#define XS_REC_ENTRY_MAX (64u << 20)

struct xs_rec_op {
	char op;		/* 'P', 'D', 'W', 'U', 'R', 'C' or 'E' */
	const char *path;	/* nul-terminated */
	const char *token;	/* 'W', 'U' */
	unsigned domid;		/* 'W', 'U', 'R', 'C' */
	uint32_t txid;		/* 'C' */
	uint32_t rel_prefix;	/* 'W' */
	const struct xs_perm *perms;
	unsigned nperms;
	const void *value;
	uint32_t vlen;
};

uint32_t xs_crc32(const void *data, size_t len);

/* Append one operation to an entry payload.  0 or -1 (ENOMEM). */
int xs_rec_put(struct xs_buf *b, const char *path, const struct xs_perm *p,
	       unsigned np, const void *value, uint32_t vlen);
int xs_rec_del(struct xs_buf *b, const char *path);
int xs_rec_end(struct xs_buf *b);
/* op 'W' (rel_prefix used), 'U' or 'R' (path and token unused). */
int xs_rec_watch(struct xs_buf *b, char op, unsigned domid,
		 const char *path, const char *token, uint32_t rel_prefix);

int xs_rec_commit(struct xs_buf *b, unsigned domid, uint32_t txid);

/* Append payload as a framed entry to out.  0 or -1 (ENOMEM). */
int xs_rec_frame(struct xs_buf *out, const void *payload, size_t len);

/* Write/parse a file header.  parse returns 0 or -1 (wrong magic/short). */
void xs_rec_header(char out[XS_REC_HDR_SIZE], const char *magic,
		   uint64_t epoch);
int xs_rec_parse_header(const void *data, size_t len, const char *magic,
			uint64_t *epoch);

typedef int (*xs_rec_fn)(const struct xs_rec_op *op, void *opaque);

struct xs_rec_result {
	size_t good;		/* bytes of complete, valid entries */
	size_t entries;
	int fn_err;		/* nonzero value returned by fn, if any */
	const char *bad;	/* why reading stopped early, or NULL */
};

/*
 * Check and apply the entries in data[0..len) (after the file header).
 * Each entry is validated completely before any of its operations is
 * passed to fn, so a torn entry applies nothing.  Stops at the first bad
 * entry or when fn returns nonzero.
 */
void xs_rec_replay(const void *data, size_t len, xs_rec_fn fn, void *opaque,
		   struct xs_rec_result *res);

#endif
