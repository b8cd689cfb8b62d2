/*
 * 64-bit decoding of int3, fwait and ldmxcsr/stmxcsr m32 (Intel SDM vol. 2,
 * ch. 2: prefixes, REX, ModRM, SIB, displacement).  Anything else, or any
 * prefix that would change what these do, is INSN_UNKNOWN: the caller then
 * reports the emulation failure as before rather than guess.
 */
#include "vmm/insn_decode.h"

#include <string.h>

struct prefixes {
	unsigned rex;		/* 0x40-0x4f, or 0 */
	int addr32;
	int rep_or_opsize;	/* 66, f2, f3: select other instructions */
	int lock;
	enum insn_seg seg;
};

/* Legacy prefixes, then at most one REX right before the opcode (a REX
 * followed by a legacy prefix is ignored, as the CPU does).  Returns the
 * number of bytes they take. */
static size_t read_prefixes(const uint8_t *b, size_t n, struct prefixes *p)
{
	size_t i = 0;

	memset(p, 0, sizeof(*p));
	for (; i < n && i < INSN_MAX_LEN; i++) {
		uint8_t c = b[i];

		if (c >= 0x40 && c <= 0x4f) {
			p->rex = c;
			continue;
		}
		if (c == 0x66 || c == 0xf2 || c == 0xf3)
			p->rep_or_opsize = 1;
		else if (c == 0x67)
			p->addr32 = 1;
		else if (c == 0xf0)
			p->lock = 1;
		else if (c == 0x64)
			p->seg = SEG_FS;
		else if (c == 0x65)
			p->seg = SEG_GS;
		else if (c == 0x26 || c == 0x2e || c == 0x36 || c == 0x3e)
			p->seg = SEG_DEFAULT;	/* no effect in 64-bit mode */
		else
			break;
		p->rex = 0;
	}
	return i;
}

static int64_t read_disp(const uint8_t *b, unsigned size)
{
	if (size == 1)
		return (int8_t)b[0];
	return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
			 (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

/* ModRM (and SIB, displacement) of a memory operand at b[0..n).  Returns
 * the bytes used, 0 if not a memory form or truncated. */
static size_t decode_modrm_mem(const uint8_t *b, size_t n, unsigned rex,
			       struct insn_mem *m)
{
	unsigned mod = b[0] >> 6, rm = b[0] & 7, dsize;
	size_t used = 1;

	m->base = -1;
	m->index = -1;
	m->scale = 1;
	if (mod == 3)
		return 0;
	if (rm == 4) {
		unsigned sib, idx, base;

		if (n < 2)
			return 0;
		sib = b[1];
		used = 2;
		idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
		base = (sib & 7) | ((rex & 1) << 3);
		m->scale = 1u << (sib >> 6);
		if (idx != 4)
			m->index = (int)idx;
		if (!((sib & 7) == 5 && mod == 0))
			m->base = (int)base;
		dsize = mod == 1 ? 1 : (mod == 2 || (sib & 7) == 5) ? 4 : 0;
	} else if (rm == 5 && mod == 0) {
		m->rip_relative = 1;
		dsize = 4;
	} else {
		m->base = (int)(rm | ((rex & 1) << 3));
		dsize = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	}
	if (used + dsize > n)
		return 0;
	m->disp = dsize ? read_disp(b + used, dsize) : 0;
	return used + dsize;
}

enum insn_kind insn_decode(const uint8_t *bytes, size_t n, struct insn *out)
{
	struct prefixes p;
	size_t i = read_prefixes(bytes, n, &p), used;
	unsigned reg;

	memset(out, 0, sizeof(*out));
	if (i >= n)
		return INSN_UNKNOWN;
	if (i == 0 && bytes[0] == 0xcc) {
		out->kind = INSN_INT3;
		out->len = 1;
	} else if (i == 0 && bytes[0] == 0x9b) {
		out->kind = INSN_FWAIT;
		out->len = 1;
	} else if (i + 2 < n && bytes[i] == 0x0f && bytes[i + 1] == 0xae &&
		   !p.rep_or_opsize && !p.lock) {
		reg = (bytes[i + 2] >> 3) & 7;
		if (reg != 2 && reg != 3)
			return INSN_UNKNOWN;
		used = decode_modrm_mem(bytes + i + 2, n - i - 2, p.rex,
					&out->mem);
		if (!used || i + 2 + used > INSN_MAX_LEN)
			return INSN_UNKNOWN;
		out->kind = reg == 2 ? INSN_LDMXCSR : INSN_STMXCSR;
		out->len = (unsigned)(i + 2 + used);
		out->mem.addr32 = p.addr32;
		out->mem.seg = p.seg;
	}
	return out->kind;
}

uint64_t insn_mem_address(const struct insn *in, const uint64_t gpr[16],
			  uint64_t rip, uint64_t fs_base, uint64_t gs_base)
{
	const struct insn_mem *m = &in->mem;
	uint64_t a = (uint64_t)m->disp;

	if (m->rip_relative)
		a += rip + in->len;
	if (m->base >= 0)
		a += gpr[m->base];
	if (m->index >= 0)
		a += gpr[m->index] * m->scale;
	if (m->addr32)
		a &= 0xffffffffu;
	if (m->seg == SEG_FS)
		a += fs_base;
	else if (m->seg == SEG_GS)
		a += gs_base;
	return a;
}

const char *insn_kind_name(enum insn_kind k)
{
	switch (k) {
	case INSN_INT3: return "int3";
	case INSN_FWAIT: return "fwait";
	case INSN_LDMXCSR: return "ldmxcsr";
	case INSN_STMXCSR: return "stmxcsr";
	default: return "unknown";
	}
}
