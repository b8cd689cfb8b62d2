/* AML byte-code builder (see acpi_aml.h). */
#include "vmm/acpi_aml.h"
#include "lib/le.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* Opcodes (ACPI 6.x, 20.2). */
#define ZERO_OP          0x00
#define ONE_OP           0x01
#define NAME_OP          0x08
#define BYTE_PREFIX      0x0a
#define WORD_PREFIX      0x0b
#define DWORD_PREFIX     0x0c
#define STRING_PREFIX    0x0d
#define QWORD_PREFIX     0x0e
#define SCOPE_OP         0x10
#define BUFFER_OP        0x11
#define PACKAGE_OP       0x12
#define METHOD_OP        0x14
#define DUAL_NAME_PREFIX 0x2e
#define MULTI_NAME_PREFIX 0x2f
#define EXT_OP_PREFIX    0x5b
#define DEVICE_OP        0x82 /* after EXT_OP_PREFIX */
#define ROOT_CHAR        0x5c
#define PARENT_CHAR      0x5e
#define RETURN_OP        0xa4
#define ONES_OP          0xff

#define MAX_NAME_SEGS    255

static void fail(struct aml *a, const char *why)
{
	if (!a->error)
		a->error = why;
}

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->data);
	memset(a, 0, sizeof(*a));
}

int aml_finish(struct aml *a)
{
	if (!a->error && a->depth)
		fail(a, "unclosed scope, device, method, package or buffer");
	if (a->error) {
		log_error("acpi: cannot build AML: %s", a->error);
		return -1;
	}
	return 0;
}

static bool reserve(struct aml *a, size_t more)
{
	size_t cap = a->cap ? a->cap : 256;
	uint8_t *p;

	if (a->error)
		return false;
	if (a->len + more <= a->cap)
		return true;
	while (cap < a->len + more)
		cap *= 2;
	p = realloc(a->data, cap);
	if (!p) {
		fail(a, "out of memory");
		return false;
	}
	a->data = p;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!reserve(a, n))
		return;
	memcpy(a->data + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* Insert n bytes at pos, moving what follows (a package's header, whose
 * size is only known once its body is complete). */
static void insert(struct aml *a, size_t pos, const uint8_t *p, size_t n)
{
	if (!reserve(a, n))
		return;
	memmove(a->data + pos + n, a->data + pos, a->len - pos);
	memcpy(a->data + pos, p, n);
	a->len += n;
}

static size_t encode_integer(uint64_t v, uint8_t out[9])
{
	if (v == 0 || v == 1) {
		out[0] = v ? ONE_OP : ZERO_OP;
		return 1;
	}
	if (v == UINT64_MAX) {
		out[0] = ONES_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = BYTE_PREFIX;
		le_put(out + 1, v, 1);
		return 2;
	}
	if (v <= UINT16_MAX) {
		out[0] = WORD_PREFIX;
		le_put(out + 1, v, 2);
		return 3;
	}
	if (v <= UINT32_MAX) {
		out[0] = DWORD_PREFIX;
		le_put(out + 1, v, 4);
		return 5;
	}
	out[0] = QWORD_PREFIX;
	le_put(out + 1, v, 8);
	return 9;
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t buf[9];

	aml_bytes(a, buf, encode_integer(v, buf));
}

/*
 * PkgLength counts its own bytes plus the body.  One byte holds up to 63;
 * longer lengths put the count of following bytes in bits 7-6 of the lead
 * byte, the low nibble in bits 3-0, and the rest in the following bytes.
 */
static size_t encode_pkglen(size_t body, uint8_t out[4])
{
	for (size_t n = 1; n <= 4; n++) {
		size_t total = body + n;

		if (n == 1 && total <= 0x3f) {
			out[0] = (uint8_t)total;
			return 1;
		}
		if (n > 1 && total < ((size_t)1 << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
			for (size_t i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0;
}

static bool valid_seg_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* One NameSeg: 1-4 characters, padded with '_'.  Returns chars consumed. */
static size_t name_seg(struct aml *a, const char *s, uint8_t seg[4])
{
	size_t n = 0;

	while (s[n] && s[n] != '.') {
		if (n == 4 || !valid_seg_char(s[n], n == 0)) {
			fail(a, "bad name segment");
			return n;
		}
		seg[n] = (uint8_t)s[n];
		n++;
	}
	if (n == 0)
		fail(a, "empty name segment");
	for (size_t i = n; i < 4; i++)
		seg[i] = '_';
	return n;
}

void aml_name_string(struct aml *a, const char *path)
{
	uint8_t segs[4 * 8];
	size_t nsegs = 0;

	if (*path == '\\') {
		aml_byte(a, ROOT_CHAR);
		path++;
	} else {
		while (*path == '^') {
			aml_byte(a, PARENT_CHAR);
			path++;
		}
	}
	while (*path && !a->error) {
		if (nsegs == sizeof(segs) / 4) {
			fail(a, "name has too many segments");
			return;
		}
		path += name_seg(a, path, segs + 4 * nsegs);
		nsegs++;
		if (*path == '.' && !*++path)
			fail(a, "name ends with '.'");
	}
	if (nsegs == 0)
		aml_byte(a, ZERO_OP); /* NullName */
	else if (nsegs == 2)
		aml_byte(a, DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(a, MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nsegs);
	}
	aml_bytes(a, segs, 4 * nsegs);
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			fail(a, "string is not ASCII");
			return;
		}
	}
	aml_byte(a, STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * An EISA id "LLLHHHH": three letters, 5 bits each (A = 1), then four hex
 * digits; stored so that the bytes in memory read 0lllllll llllllll hhhh...
 * i.e. big-endian, as ASL's EisaId() does.  0 for a malformed id.
 */
uint32_t aml_eisaid_value(const char *id)
{
	uint32_t letters = 0, digits = 0;

	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		letters = letters << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0)
			return 0;
		digits = digits << 4 | (uint32_t)d;
	}
	/* Big-endian bytes: letters (15 bits) then digits (16 bits). */
	uint32_t be = letters << 16 | digits;

	return (be >> 24) | ((be >> 8) & 0xff00) | ((be << 8) & 0xff0000) |
	       (be << 24);
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = aml_eisaid_value(id);

	if (!v) {
		fail(a, "bad EISA id");
		return;
	}
	/* Always a DWord, like iasl, so the object is recognisably an id. */
	uint8_t buf[5] = { DWORD_PREFIX };

	le_put(buf + 1, v, 4);
	aml_bytes(a, buf, sizeof(buf));
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, NAME_OP);
	aml_name_string(a, path);
}

void aml_return(struct aml *a)
{
	aml_byte(a, RETURN_OP);
}

static void open_pkg(struct aml *a, enum aml_kind kind)
{
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, "nesting too deep");
		return;
	}
	a->open[a->depth].kind = kind;
	a->open[a->depth].start = a->len;
	a->depth++;
}

void aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, SCOPE_OP);
	open_pkg(a, AML_SCOPE);
	aml_name_string(a, path);
}

void aml_device_begin(struct aml *a, const char *path)
{
	aml_byte(a, EXT_OP_PREFIX);
	aml_byte(a, DEVICE_OP);
	open_pkg(a, AML_DEVICE);
	aml_name_string(a, path);
}

void aml_method_begin(struct aml *a, const char *path, unsigned nargs,
		      bool serialized)
{
	if (nargs > 7)
		fail(a, "method takes at most 7 arguments");
	aml_byte(a, METHOD_OP);
	open_pkg(a, AML_METHOD);
	aml_name_string(a, path);
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
}

void aml_package_begin(struct aml *a, unsigned nelems)
{
	if (nelems > 255)
		fail(a, "package has more than 255 elements");
	aml_byte(a, PACKAGE_OP);
	open_pkg(a, AML_PACKAGE);
	aml_byte(a, (uint8_t)nelems);
}

void aml_buffer_begin(struct aml *a)
{
	aml_byte(a, BUFFER_OP);
	open_pkg(a, AML_BUFFER);
}

void aml_end(struct aml *a)
{
	uint8_t head[4 + 9];
	uint8_t size[9];
	size_t start, body, nsize = 0, nlen;

	if (a->error)
		return;
	if (!a->depth) {
		fail(a, "aml_end() without a matching begin");
		return;
	}
	a->depth--;
	start = a->open[a->depth].start;
	body = a->len - start;
	/* A buffer's body starts with its size in bytes, as an integer. */
	if (a->open[a->depth].kind == AML_BUFFER)
		nsize = encode_integer(body, size);
	nlen = encode_pkglen(body + nsize, head);
	if (!nlen) {
		fail(a, "package longer than 256 MiB");
		return;
	}
	memcpy(head + nlen, size, nsize);
	insert(a, start, head, nlen + nsize);
}

/* ---- Resource descriptors ---------------------------------------------- */

#define RES_IO          0x47
#define RES_IRQ_NOFLAGS 0x22
#define RES_END         0x79
#define RES_DWORD_ADDR  0x87
#define RES_WORD_ADDR   0x88

#define ADDR_TYPE_MEM   0
#define ADDR_TYPE_IO    1
#define ADDR_TYPE_BUS   2
/* General flags: MinFixed | MaxFixed, positive decode, ResourceProducer
 * (a bridge window: the device passes the range on to its children). */
#define ADDR_FLAGS_WINDOW 0x0c
#define IO_RANGE_ENTIRE   0x03
#define MEM_RW_UNCACHED   0x01

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len)
{
	uint8_t d[8] = { RES_IO, 0x01 /* 16-bit decode */ };

	le_put(d + 2, min, 2);
	le_put(d + 4, max, 2);
	d[6] = align;
	d[7] = len;
	aml_bytes(a, d, sizeof(d));
}

void aml_res_irq_noflags(struct aml *a, uint16_t irq_mask)
{
	uint8_t d[3] = { RES_IRQ_NOFLAGS };

	le_put(d + 1, irq_mask, 2);
	aml_bytes(a, d, sizeof(d));
}

static void word_addr(struct aml *a, uint8_t type, uint8_t type_flags,
		      uint16_t min, uint16_t max)
{
	uint8_t d[16] = { RES_WORD_ADDR, 13, 0, type, ADDR_FLAGS_WINDOW,
			  type_flags };

	/* granularity 0, translation 0 */
	le_put(d + 8, min, 2);
	le_put(d + 10, max, 2);
	le_put(d + 14, (uint32_t)max - min + 1, 2);
	aml_bytes(a, d, sizeof(d));
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	word_addr(a, ADDR_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	word_addr(a, ADDR_TYPE_IO, IO_RANGE_ENTIRE, min, max);
}

void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
	uint8_t d[26] = { RES_DWORD_ADDR, 23, 0, ADDR_TYPE_MEM,
			  ADDR_FLAGS_WINDOW, MEM_RW_UNCACHED };

	le_put(d + 10, min, 4);
	le_put(d + 14, max, 4);
	le_put(d + 22, (uint64_t)max - min + 1, 4);
	aml_bytes(a, d, sizeof(d));
}

void aml_res_end(struct aml *a)
{
	/* Checksum 0: "treated as if the checksum operation succeeded". */
	uint8_t d[2] = { RES_END, 0 };

	aml_bytes(a, d, sizeof(d));
}
