#include "daemon/xs_record.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xs_path.h"
#include "lib/le.h"

uint32_t xs_crc32(const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffu;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* --- encoding ---------------------------------------------------------- */

static int put_path(struct xs_buf *b, char op, const char *path)
{
	size_t len = strlen(path);
	char *p = xs_buf_reserve(b, 3 + len);

	if (!p)
		return -1;
	p[0] = op;
	le_put16((uint8_t *)p + 1, (uint16_t)len);
	memcpy(p + 3, path, len);
	b->tail += 3 + len;
	return 0;
}

int xs_rec_put(struct xs_buf *b, const char *path, const struct xs_perm *pm,
	       unsigned np, const void *value, uint32_t vlen)
{
	size_t need = 2 + (size_t)np * 5 + 4 + vlen;
	size_t start = b->tail;
	char *p;

	if (put_path(b, 'P', path) < 0 || !(p = xs_buf_reserve(b, need))) {
		b->tail = start;
		return -1;
	}
	le_put16((uint8_t *)p, (uint16_t)np);
	p += 2;
	for (unsigned i = 0; i < np; i++, p += 5) {
		le_put32((uint8_t *)p, pm[i].domid);
		p[4] = (char)pm[i].access;
	}
	le_put32((uint8_t *)p, vlen);
	if (vlen)
		memcpy(p + 4, value, vlen);
	b->tail += need;
	return 0;
}

int xs_rec_del(struct xs_buf *b, const char *path)
{
	return put_path(b, 'D', path);
}

/* u16 length, bytes. */
static int put_str(struct xs_buf *b, const char *s)
{
	size_t len = strlen(s);
	char *p = xs_buf_reserve(b, 2 + len);

	if (!p || len > 0xffff)
		return -1;
	le_put16((uint8_t *)p, (uint16_t)len);
	memcpy(p + 2, s, len);
	b->tail += 2 + len;
	return 0;
}

int xs_rec_watch(struct xs_buf *b, char op, unsigned domid,
		 const char *path, const char *token, uint32_t rel_prefix)
{
	size_t start = b->tail;
	char *p = xs_buf_reserve(b, 7);

	if (!p)
		return -1;
	p[0] = op;
	le_put32((uint8_t *)p + 1, domid);
	le_put16((uint8_t *)p + 5, (uint16_t)rel_prefix);
	b->tail += op == 'W' ? 7 : 5;
	if (op != 'R' && (put_str(b, path) < 0 || put_str(b, token) < 0)) {
		b->tail = start;
		return -1;
	}
	return 0;
}

int xs_rec_commit(struct xs_buf *b, unsigned domid, uint32_t txid)
{
	char *p = xs_buf_reserve(b, 9);

	if (!p)
		return -1;
	p[0] = 'C';
	le_put32((uint8_t *)p + 1, domid);
	le_put32((uint8_t *)p + 5, txid);
	b->tail += 9;
	return 0;
}

int xs_rec_end(struct xs_buf *b)
{
	return xs_buf_append(b, "E", 1);
}

int xs_rec_frame(struct xs_buf *out, const void *payload, size_t len)
{
	char *p = xs_buf_reserve(out, XS_REC_ENTRY_HDR + len);

	if (!p)
		return -1;
	le_put32((uint8_t *)p, (uint32_t)len);
	le_put32((uint8_t *)p + 4, xs_crc32(payload, len));
	memcpy(p + XS_REC_ENTRY_HDR, payload, len);
	out->tail += XS_REC_ENTRY_HDR + len;
	return 0;
}

void xs_rec_header(char out[XS_REC_HDR_SIZE], const char *magic,
		   uint64_t epoch)
{
	memcpy(out, magic, XS_REC_MAGIC_LEN);
	le_put32((uint8_t *)out + 8, (uint32_t)epoch);
	le_put32((uint8_t *)out + 12, (uint32_t)(epoch >> 32));
}

/* --- decoding ---------------------------------------------------------- */

int xs_rec_parse_header(const void *data, size_t len, const char *magic,
			uint64_t *epoch)
{
	const unsigned char *p = data;

	if (len < XS_REC_HDR_SIZE || memcmp(p, magic, XS_REC_MAGIC_LEN) != 0)
		return -1;
	*epoch = (uint64_t)le_get32(p + 8) | (uint64_t)le_get32(p + 12) << 32;
	return 0;
}

struct cursor {
	const unsigned char *p, *end;
	char path[XS_PATH_BUF];
	char token[XENSTORE_PAYLOAD_MAX + 1];
	struct xs_perm *perms;	/* XS_PERMS_MAX entries */
};

static bool take(struct cursor *c, size_t n, const unsigned char **out)
{
	if ((size_t)(c->end - c->p) < n)
		return false;
	*out = c->p;
	c->p += n;
	return true;
}

static bool parse_path(struct cursor *c, struct xs_rec_op *op)
{
	const unsigned char *q;
	uint32_t len;

	if (!take(c, 2, &q))
		return false;
	len = le_get16(q);
	if (len == 0 || len > XENSTORE_ABS_PATH_MAX || !take(c, len, &q))
		return false;
	memcpy(c->path, q, len);
	c->path[len] = '\0';
	op->path = c->path;
	return true;
}

static bool parse_put(struct cursor *c, struct xs_rec_op *op)
{
	const unsigned char *q;
	uint32_t np;

	if (!take(c, 2, &q))
		return false;
	np = le_get16(q);
	if (np == 0 || np > XS_PERMS_MAX)
		return false;
	for (uint32_t i = 0; i < np; i++) {
		if (!take(c, 5, &q))
			return false;
		c->perms[i].domid = le_get32(q);
		c->perms[i].access = q[4] & (XS_PERM_READ | XS_PERM_WRITE);
	}
	op->perms = c->perms;
	op->nperms = np;
	if (!take(c, 4, &q))
		return false;
	op->vlen = le_get32(q);
	if (!take(c, op->vlen, &q))
		return false;
	op->value = q;
	return true;
}

/* 'W'/'U'/'R': domid [rel_prefix] [path token]. */
static bool parse_watch(struct cursor *c, struct xs_rec_op *op)
{
	const unsigned char *q;
	uint32_t len;

	if (!take(c, 4, &q))
		return false;
	op->domid = le_get32(q);
	if (op->op == 'R')
		return true;
	if (op->op == 'W') {
		if (!take(c, 2, &q))
			return false;
		op->rel_prefix = le_get16(q);
	}
	if (!parse_path(c, op) || !take(c, 2, &q))
		return false;
	len = le_get16(q);
	if (len > XENSTORE_PAYLOAD_MAX || !take(c, len, &q) ||
	    op->rel_prefix >= strlen(op->path))
		return false;
	memcpy(c->token, q, len);
	c->token[len] = '\0';
	op->token = c->token;
	return true;
}

/* Parse the next op; false if the payload is malformed. */
static bool parse_op(struct cursor *c, struct xs_rec_op *op)
{
	const unsigned char *q;

	memset(op, 0, sizeof(*op));
	if (!take(c, 1, &q))
		return false;
	op->op = (char)q[0];
	switch (op->op) {
	case 'E':
		return true;
	case 'D':
		return parse_path(c, op);
	case 'P':
		return parse_path(c, op) && parse_put(c, op);
	case 'W':
	case 'U':
	case 'R':
		return parse_watch(c, op);
	case 'C':
		if (!take(c, 8, &q))
			return false;
		op->domid = le_get32(q);
		op->txid = le_get32(q + 4);
		return true;
	default:
		return false;
	}
}

/* Walk one payload; with fn == NULL only check it. */
static int run_payload(struct cursor *c, const unsigned char *p, size_t len,
		       xs_rec_fn fn, void *opaque, bool *ok)
{
	struct xs_rec_op op;

	c->p = p;
	c->end = p + len;
	*ok = true;
	while (c->p < c->end) {
		int r;

		if (!parse_op(c, &op)) {
			*ok = false;
			return 0;
		}
		if (fn && (r = fn(&op, opaque)) != 0)
			return r;
	}
	return 0;
}

static const char *check_entry(const unsigned char *p, size_t avail,
			       uint32_t *len)
{
	if (avail < XS_REC_ENTRY_HDR)
		return "truncated entry header";
	*len = le_get32(p);
	if (*len > XS_REC_ENTRY_MAX)
		return "entry length out of range";
	if (avail - XS_REC_ENTRY_HDR < *len)
		return "truncated entry";
	if (xs_crc32(p + XS_REC_ENTRY_HDR, *len) != le_get32(p + 4))
		return "checksum mismatch";
	return NULL;
}

void xs_rec_replay(const void *data, size_t len, xs_rec_fn fn, void *opaque,
		   struct xs_rec_result *res)
{
	const unsigned char *p = data;
	struct cursor *c = calloc(1, sizeof(*c));
	size_t off = 0;

	memset(res, 0, sizeof(*res));
	if (!c || !(c->perms = calloc(XS_PERMS_MAX, sizeof(*c->perms)))) {
		res->bad = "out of memory";
		free(c);
		return;
	}
	while (off < len) {
		const unsigned char *pl = p + off + XS_REC_ENTRY_HDR;
		uint32_t elen = 0;
		bool ok;

		res->bad = check_entry(p + off, len - off, &elen);
		if (res->bad)
			break;
		run_payload(c, pl, elen, NULL, NULL, &ok);
		if (!ok) {
			res->bad = "malformed entry";
			break;
		}
		res->fn_err = run_payload(c, pl, elen, fn, opaque, &ok);
		if (res->fn_err)
			break;
		off += XS_REC_ENTRY_HDR + elen;
		res->good = off;
		res->entries++;
	}
	free(c->perms);
	free(c);
}
