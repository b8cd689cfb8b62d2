/*
 * The Xenon save stream (docs/save-format.md): what `save` writes to a
 * file, what `--restore` reads, and what live migration sends over TCP.
 *
 *   header   32 bytes: "XENONSAV", format version, header size, page size,
 *            flags, CRC-32C of the header
 *   section  32-byte header (marker "XSEC", type, flags, id, version,
 *            payload length, payload CRC-32C, header CRC-32C) + payload
 *   ...
 *   end      a section of type SS_SEC_END whose payload counts the
 *            sections before it
 *
 * All integers little-endian.  A reader refuses, with a message naming the
 * offset and the section: a wrong magic, a newer format version, a bad
 * header or payload checksum, a truncated stream, an unknown section that
 * is flagged mandatory (unknown optional sections are skipped), and
 * anything after the end marker of a file.
 *
 * The I/O underneath is a pair of callbacks, so the same code writes a
 * file, a pipe, a memory buffer (unit tests) or the authenticated
 * migration channel.
 */
#ifndef XENON_SAVE_STREAM_H
#define XENON_SAVE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SS_MAGIC            "XENONSAV"
#define SS_FORMAT_VERSION   1
#define SS_HEADER_SIZE      32
#define SS_SECTION_HDR_SIZE 32
#define SS_SECTION_MARKER   0x43455358u    /* "XSEC" */
#define SS_PAGE_SIZE        4096

/* Header flags. */
#define SS_HDR_F_MIGRATION  0x1   /* a live stream, RAM as SS_SEC_RAM_PAGES */

/* Section types. */
enum ss_section_type {
	SS_SEC_CONFIG = 1,     /* JSON: domain config + xenon-vmm options */
	SS_SEC_VCPU = 2,       /* one per vCPU, id = index */
	SS_SEC_PLATFORM = 3,   /* KVM irqchip, PIT, clock */
	SS_SEC_DEVICE = 4,     /* one per device, id = ordinal */
	SS_SEC_RAM_PAGES = 5,  /* a batch of page records (streams) */
	SS_SEC_RAM_IMAGE = 6,  /* descriptor of the page-aligned RAM image (files) */
	SS_SEC_MIG_MSG = 7,    /* migration handshake message (never in files) */
	SS_SEC_POSTCOPY = 8,   /* pages the source still owns (post-copy) */
	SS_SEC_PAGE_REQUEST = 9, /* destination asks for pages (post-copy) */
	SS_SEC_END = 0x7fff,
};

/* Section flags. */
#define SS_SEC_F_MANDATORY  0x1   /* a reader that does not know it must refuse */

/* Largest payload a reader accepts (a RAM image descriptor for 1 TiB of
 * RAM is 32 MiB of bitmap). */
#define SS_MAX_PAYLOAD      (64ULL << 20)

struct ss_io {
	/* Move up to len bytes; return how many (0 = end of stream), or -1
	 * with errno set.  Short counts are retried. */
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	ssize_t (*write)(void *ctx, const void *buf, size_t len);
	/* Optional: skip len bytes of input (e.g. lseek); else read them. */
	int (*skip)(void *ctx, uint64_t len);
	void *ctx;
};

struct ss_stream {
	struct ss_io io;
	const char *what;       /* "save file 'x'", for messages */
	uint64_t offset;        /* bytes read or written so far */
	uint64_t sections;      /* sections before the end marker */
	uint32_t flags;         /* header flags (after ss_read_header) */
	char error[320];
};

struct ss_section {
	uint16_t type, flags;
	uint32_t id, version;
	uint64_t length;
	uint32_t payload_crc;
	uint64_t offset;        /* of the section header in the stream */
};

void ss_init(struct ss_stream *s, const struct ss_io *io, const char *what);
/* I/O over a file descriptor (read/write/lseek). */
struct ss_io ss_fd_io(int *fd);

const char *ss_section_name(uint16_t type);

/* ---- writing ---- */
int ss_write_header(struct ss_stream *s, uint32_t flags);
int ss_write_section(struct ss_stream *s, uint16_t type, uint16_t flags,
		     uint32_t id, uint32_t version, const void *payload,
		     uint64_t len);
/* The same with the payload in two pieces (header + data). */
int ss_write_section2(struct ss_stream *s, uint16_t type, uint16_t flags,
		      uint32_t id, uint32_t version, const void *p1,
		      uint64_t len1, const void *p2, uint64_t len2);
int ss_write_end(struct ss_stream *s);
/* Raw bytes (the RAM image's padding); counted in the offset. */
int ss_write_raw(struct ss_stream *s, const void *buf, size_t len);

/* ---- reading ---- */
int ss_read_header(struct ss_stream *s);
/*
 * Next section: fills *sec and returns 1, with the payload (CRC checked)
 * in *payload (malloc'd, free() it) unless payload is NULL, in which case
 * the caller must call ss_read_payload() or ss_skip_payload() next.
 * Returns 0 at the end marker (its payload checked), -1 on error (message
 * in s->error).  Unknown optional sections are skipped; unknown mandatory
 * ones are refused.  max_len caps the payload accepted.
 */
int ss_read_section(struct ss_stream *s, struct ss_section *sec,
		    void **payload, uint64_t max_len);
int ss_read_payload(struct ss_stream *s, const struct ss_section *sec,
		    void *buf);
int ss_skip_payload(struct ss_stream *s, const struct ss_section *sec);
/* Exactly len raw bytes (-1 and "truncated" at a short read). */
int ss_read_raw(struct ss_stream *s, void *buf, size_t len);
int ss_skip_raw(struct ss_stream *s, uint64_t len);

/* Record an error "<what>: offset N[: section]: <msg>" (first one wins
 * unless s->error is empty); returns -1. */
int ss_fail(struct ss_stream *s, const struct ss_section *sec,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
