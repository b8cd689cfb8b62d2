/* The save stream's framing (see save_stream.h, docs/save-format.md). */
#include "lib/save_stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/crc32c.h"
#include "lib/le.h"

/* ---- little-endian helpers ---------------------------------------------- */

/* ---- set-up and messages -------------------------------------------------- */

void ss_init(struct ss_stream *s, const struct ss_io *io, const char *what)
{
	memset(s, 0, sizeof(*s));
	s->io = *io;
	s->what = what ? what : "save stream";
}

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	return read(*(int *)ctx, buf, len);
}

static ssize_t fd_write(void *ctx, const void *buf, size_t len)
{
	return write(*(int *)ctx, buf, len);
}

static int fd_skip(void *ctx, uint64_t len)
{
	return lseek(*(int *)ctx, (off_t)len, SEEK_CUR) < 0 ? -1 : 0;
}

struct ss_io ss_fd_io(int *fd)
{
	return (struct ss_io){ fd_read, fd_write, fd_skip, fd };
}

const char *ss_section_name(uint16_t type)
{
	switch (type) {
	case SS_SEC_CONFIG: return "config";
	case SS_SEC_VCPU: return "vcpu";
	case SS_SEC_PLATFORM: return "platform";
	case SS_SEC_DEVICE: return "device";
	case SS_SEC_RAM_PAGES: return "ram-pages";
	case SS_SEC_RAM_IMAGE: return "ram-image";
	case SS_SEC_MIG_MSG: return "migration-message";
	case SS_SEC_POSTCOPY: return "postcopy";
	case SS_SEC_PAGE_REQUEST: return "page-request";
	case SS_SEC_END: return "end";
	default: return NULL;
	}
}

int ss_fail(struct ss_stream *s, const struct ss_section *sec,
	    const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (s->error[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sec) {
		const char *name = ss_section_name(sec->type);

		if (name)
			snprintf(s->error, sizeof(s->error),
				 "%s: offset %llu: section '%s' (id %u): %s",
				 s->what, (unsigned long long)sec->offset, name,
				 sec->id, msg);
		else
			snprintf(s->error, sizeof(s->error),
				 "%s: offset %llu: section type 0x%04x: %s",
				 s->what, (unsigned long long)sec->offset,
				 sec->type, msg);
	} else {
		snprintf(s->error, sizeof(s->error), "%s: offset %llu: %s",
			 s->what, (unsigned long long)s->offset, msg);
	}
	return -1;
}

/* ---- raw I/O ---------------------------------------------------------------- */

int ss_write_raw(struct ss_stream *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = s->io.write(s->io.ctx, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ss_fail(s, NULL, "write failed: %s",
				       n < 0 ? strerror(errno) : "no progress");
		p += n;
		len -= (size_t)n;
		s->offset += (uint64_t)n;
	}
	return 0;
}

/* Read up to len bytes; returns how many (short only at the end). */
static ssize_t read_some(struct ss_stream *s, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = s->io.read(s->io.ctx, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ss_fail(s, NULL, "read failed: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		s->offset += (uint64_t)n;
	}
	return (ssize_t)got;
}

int ss_read_raw(struct ss_stream *s, void *buf, size_t len)
{
	ssize_t n = read_some(s, buf, len);

	if (n < 0)
		return -1;
	if ((size_t)n < len)
		return ss_fail(s, NULL, "truncated: %zu bytes wanted, the stream "
			       "ends after %zd", len, n);
	return 0;
}

int ss_skip_raw(struct ss_stream *s, uint64_t len)
{
	uint8_t tmp[65536];

	if (s->io.skip && s->io.skip(s->io.ctx, len) == 0) {
		s->offset += len;
		return 0;
	}
	while (len) {
		size_t chunk = len < sizeof(tmp) ? (size_t)len : sizeof(tmp);

		if (ss_read_raw(s, tmp, chunk) < 0)
			return -1;
		len -= chunk;
	}
	return 0;
}

/* ---- writing -------------------------------------------------------------- */

int ss_write_header(struct ss_stream *s, uint32_t flags)
{
	uint8_t h[SS_HEADER_SIZE] = { 0 };

	memcpy(h, SS_MAGIC, 8);
	le_put32(h + 8, SS_FORMAT_VERSION);
	le_put32(h + 12, SS_HEADER_SIZE);
	le_put32(h + 16, SS_PAGE_SIZE);
	le_put32(h + 20, flags);
	le_put32(h + 28, crc32c(0, h, 28));
	s->flags = flags;
	return ss_write_raw(s, h, sizeof(h));
}

static void encode_section(uint8_t *h, uint16_t type, uint16_t flags,
			   uint32_t id, uint32_t version, uint64_t len,
			   uint32_t crc)
{
	memset(h, 0, SS_SECTION_HDR_SIZE);
	le_put32(h, SS_SECTION_MARKER);
	le_put16(h + 4, type);
	le_put16(h + 6, flags);
	le_put32(h + 8, id);
	le_put32(h + 12, version);
	le_put64(h + 16, len);
	le_put32(h + 24, crc);
	le_put32(h + 28, crc32c(0, h, 28));
}

int ss_write_section(struct ss_stream *s, uint16_t type, uint16_t flags,
		     uint32_t id, uint32_t version, const void *payload,
		     uint64_t len)
{
	uint8_t h[SS_SECTION_HDR_SIZE];

	encode_section(h, type, flags, id, version, len,
		       len ? crc32c(0, payload, (size_t)len) : 0);
	if (ss_write_raw(s, h, sizeof(h)) < 0 ||
	    (len && ss_write_raw(s, payload, (size_t)len) < 0))
		return -1;
	if (type != SS_SEC_END)
		s->sections++;
	return 0;
}

int ss_write_section2(struct ss_stream *s, uint16_t type, uint16_t flags,
		      uint32_t id, uint32_t version, const void *p1,
		      uint64_t len1, const void *p2, uint64_t len2)
{
	uint8_t h[SS_SECTION_HDR_SIZE];
	uint32_t crc = len1 ? crc32c(0, p1, (size_t)len1) : 0;

	if (len2)
		crc = crc32c(crc, p2, (size_t)len2);
	encode_section(h, type, flags, id, version, len1 + len2, crc);
	if (ss_write_raw(s, h, sizeof(h)) < 0 ||
	    (len1 && ss_write_raw(s, p1, (size_t)len1) < 0) ||
	    (len2 && ss_write_raw(s, p2, (size_t)len2) < 0))
		return -1;
	s->sections++;
	return 0;
}

int ss_write_end(struct ss_stream *s)
{
	uint8_t p[8];

	le_put64(p, s->sections);
	return ss_write_section(s, SS_SEC_END, SS_SEC_F_MANDATORY, 0, 1, p,
				sizeof(p));
}

/* ---- reading -------------------------------------------------------------- */

int ss_read_header(struct ss_stream *s)
{
	uint8_t h[SS_HEADER_SIZE];
	ssize_t n = read_some(s, h, sizeof(h));
	uint32_t version, size, page;

	if (n < 0)
		return -1;
	if (n >= 8 && memcmp(h, SS_MAGIC, 8) != 0) {
		s->offset = 0;
		return ss_fail(s, NULL, "not a Xenon save stream (bad magic)");
	}
	if ((size_t)n < sizeof(h)) {
		s->offset = 0;
		return ss_fail(s, NULL, "truncated: %zd of %zu header bytes%s",
			       n, sizeof(h), n < 8 ? " (not a Xenon save stream?)" : "");
	}
	version = le_get32(h + 8);
	size = le_get32(h + 12);
	page = le_get32(h + 16);
	s->offset = 0;
	if (le_get32(h + 28) != crc32c(0, h, 28))
		return ss_fail(s, NULL, "header checksum mismatch (corrupted)");
	if (version > SS_FORMAT_VERSION)
		return ss_fail(s, NULL, "format version %u is newer than this "
			       "xenon-vmm supports (%u)", version,
			       SS_FORMAT_VERSION);
	if (version == 0)
		return ss_fail(s, NULL, "format version 0 is not valid");
	if (size != SS_HEADER_SIZE)
		return ss_fail(s, NULL, "unexpected header size %u", size);
	if (page != SS_PAGE_SIZE)
		return ss_fail(s, NULL, "page size %u is not supported (only %u)",
			       page, SS_PAGE_SIZE);
	s->flags = le_get32(h + 20);
	s->offset = SS_HEADER_SIZE;
	return 0;
}

static bool known_type(uint16_t type)
{
	return ss_section_name(type) != NULL;
}

static int read_section_header(struct ss_stream *s, struct ss_section *sec)
{
	uint8_t h[SS_SECTION_HDR_SIZE];
	uint64_t at = s->offset;
	ssize_t n = read_some(s, h, sizeof(h));

	memset(sec, 0, sizeof(*sec));
	sec->offset = at;
	if (n < 0)
		return -1;
	s->offset = at;
	if (n == 0)
		return ss_fail(s, NULL, "truncated: the stream ends without an "
			       "end marker (after %llu sections)",
			       (unsigned long long)s->sections);
	if ((size_t)n < sizeof(h))
		return ss_fail(s, NULL, "truncated: the stream ends inside a "
			       "section header (%zd of %zu bytes)", n, sizeof(h));
	if (le_get32(h) != SS_SECTION_MARKER)
		return ss_fail(s, NULL, "no section marker (corrupted)");
	if (le_get32(h + 28) != crc32c(0, h, 28))
		return ss_fail(s, NULL, "section header checksum mismatch "
			       "(corrupted)");
	sec->type = le_get16(h + 4);
	sec->flags = le_get16(h + 6);
	sec->id = le_get32(h + 8);
	sec->version = le_get32(h + 12);
	sec->length = le_get64(h + 16);
	sec->payload_crc = le_get32(h + 24);
	s->offset = at + sizeof(h);
	return 0;
}

int ss_read_payload(struct ss_stream *s, const struct ss_section *sec,
		    void *buf)
{
	ssize_t n = read_some(s, buf, (size_t)sec->length);

	if (n < 0)
		return -1;
	if ((uint64_t)n < sec->length)
		return ss_fail(s, sec, "truncated: payload of %llu bytes, the "
			       "stream ends after %zd",
			       (unsigned long long)sec->length, n);
	if (crc32c(0, buf, (size_t)sec->length) != sec->payload_crc)
		return ss_fail(s, sec, "payload checksum mismatch (corrupted)");
	return 0;
}

/* Read and drop a payload, still checking its CRC: a skipped section
 * that was corrupted means the stream was. */
int ss_skip_payload(struct ss_stream *s, const struct ss_section *sec)
{
	uint8_t tmp[65536];
	uint64_t left = sec->length;
	uint32_t crc = 0;

	while (left) {
		size_t chunk = left < sizeof(tmp) ? (size_t)left : sizeof(tmp);
		ssize_t n = read_some(s, tmp, chunk);

		if (n < 0)
			return -1;
		if ((size_t)n < chunk)
			return ss_fail(s, sec, "truncated: payload of %llu bytes, "
				       "the stream ends early",
				       (unsigned long long)sec->length);
		crc = crc32c(crc, tmp, chunk);
		left -= chunk;
	}
	if (crc != sec->payload_crc)
		return ss_fail(s, sec, "payload checksum mismatch (corrupted)");
	return 0;
}

static int check_end(struct ss_stream *s, const struct ss_section *sec)
{
	uint8_t p[8];

	if (sec->length != sizeof(p))
		return ss_fail(s, sec, "end marker of %llu bytes (expected 8)",
			       (unsigned long long)sec->length);
	if (ss_read_payload(s, sec, p) < 0)
		return -1;
	if (le_get64(p) != s->sections)
		return ss_fail(s, sec, "end marker counts %llu sections, the "
			       "stream had %llu (sections lost)",
			       (unsigned long long)le_get64(p),
			       (unsigned long long)s->sections);
	return 0;
}

int ss_read_section(struct ss_stream *s, struct ss_section *sec,
		    void **payload, uint64_t max_len)
{
	for (;;) {
		if (payload)
			*payload = NULL;
		if (read_section_header(s, sec) < 0)
			return -1;
		if (sec->type == SS_SEC_END)
			return check_end(s, sec) < 0 ? -1 : 0;
		if (!known_type(sec->type)) {
			if (sec->flags & SS_SEC_F_MANDATORY)
				return ss_fail(s, sec, "unknown mandatory section "
					       "(written by a newer xenon-vmm?)");
			if (ss_skip_payload(s, sec) < 0)
				return -1;
			s->sections++;
			continue;
		}
		if (sec->length > max_len || sec->length > SS_MAX_PAYLOAD)
			return ss_fail(s, sec, "payload of %llu bytes is larger "
				       "than allowed (%llu)",
				       (unsigned long long)sec->length,
				       (unsigned long long)(max_len < SS_MAX_PAYLOAD ?
							    max_len : SS_MAX_PAYLOAD));
		s->sections++;
		if (!payload)
			return 1;
		*payload = malloc(sec->length ? (size_t)sec->length : 1);
		if (!*payload)
			return ss_fail(s, sec, "out of memory");
		if (ss_read_payload(s, sec, *payload) < 0) {
			free(*payload);
			*payload = NULL;
			return -1;
		}
		return 1;
	}
}
