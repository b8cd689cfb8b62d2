/*
 * Block scenarios over the virtio-blk driver (docs/test-guest.md):
 *
 *   blk-list     every virtio-blk device: id, capacity, read-only
 *   blk-pattern  write a seeded pattern, flush, read back, verify
 *   blk-verify   only read and verify (after a kill -9 or a reboot)
 *   blk-ro       a write must fail with IOERR; reads work
 *   blk-perf     sequential 1 MiB and random 4 KiB throughput
 *
 * (blk-bad is in scenarios_block_bad.c.)  Parameters come from the
 * command line: disk=N (the N-th virtio-blk function, default 0),
 * seed=S, start=SECTOR, sectors=N, reqkb=K, depth=D, queues=Q, hold.
 * Pattern filling and checking run in ring 3 (user_call): in ring 0 every
 * instruction is emulated here.
 */
#include <stdint.h>

#include "guest/bootinfo.h"
#include "guest/crc32.h"
#include "guest/memory.h"
#include "guest/scenario.h"
#include "guest/scenarios_block.h"
#include "guest/timer.h"
#include "guest/user.h"
#include "guest/x86.h"

#define IO_TIMEOUT_US 20000000ULL
#define MAX_PATTERN_SECTORS (64u << 11)   /* 64 MiB */

/* ---- parameters ---------------------------------------------------------------- */

uint64_t blk_arg(const char *key, uint64_t def)
{
	char v[24];
	uint64_t n = 0;

	if (!cmdline_value(key, v, sizeof(v)) || !v[0])
		return def;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return def;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	return n;
}

bool blk_open_arg(struct vblk *b)
{
	unsigned disk = (unsigned)blk_arg("disk", 0);

	timer_init();
	unsigned queues = (unsigned)blk_arg("queues", VBLK_MAX_QUEUES);

	if (!(blk_arg("irq", 0) ? vblk_open_irq : vblk_open)(disk, b, queues)) {
		result(false, "reason=no-disk disk=%u", disk);
		return false;
	}
	info("xenon-guest: virtio-blk disk=%u id=%s capacity=%lu ro=%d "
	     "queues=%u/%u seg_max=%u\n", disk, b->id,
	     (unsigned long)b->capacity, vblk_has(b, VBLK_F_RO), b->nq,
	     b->dev_queues, b->seg_max);
	return true;
}

/* ---- the pattern (ring 3) ------------------------------------------------------ */

/* splitmix64's finaliser; tests/system/test_virtio_blk.py has the same. */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Word i (0..63) of sector s under seed. */
static uint64_t pattern_word(uint64_t seed, uint64_t s, unsigned i)
{
	return mix((seed * 0x9e3779b97f4a7c15ULL) ^ (s << 6 | i));
}

struct pattern_job {
	uint64_t *buf;
	uint64_t seed, first, sectors;
	uint64_t bad, first_bad;
};

static uint64_t pattern_fill(void *arg)
{
	struct pattern_job *p = arg;

	for (uint64_t s = 0; s < p->sectors; s++)
		for (unsigned i = 0; i < 64; i++)
			p->buf[s * 64 + i] = pattern_word(p->seed, p->first + s, i);
	return 0;
}

static uint64_t pattern_check(void *arg)
{
	struct pattern_job *p = arg;

	p->bad = 0;
	for (uint64_t s = 0; s < p->sectors; s++) {
		for (unsigned i = 0; i < 64; i++) {
			if (p->buf[s * 64 + i] !=
			    pattern_word(p->seed, p->first + s, i)) {
				if (!p->bad++)
					p->first_bad = p->first + s;
				break;
			}
		}
	}
	return p->bad;
}

/* ---- pattern scenarios --------------------------------------------------------- */

struct pattern_run {
	struct vblk b;
	struct pattern_job pj;
	struct vblk_batch job;
};

/* Set up the buffer and the batch from the command line. */
static bool pattern_setup(struct pattern_run *r)
{
	uint64_t sectors = blk_arg("sectors", 2048), start = blk_arg("start", 0);
	uint64_t reqkb = blk_arg("reqkb", 64);

	if (!blk_open_arg(&r->b))
		return false;
	if (!sectors || sectors > MAX_PATTERN_SECTORS || !reqkb ||
	    reqkb > 4096 || start > r->b.capacity ||
	    sectors > r->b.capacity - start) {
		result(false, "reason=bad-range start=%lu sectors=%lu capacity=%lu",
		       (unsigned long)start, (unsigned long)sectors,
		       (unsigned long)r->b.capacity);
		return false;
	}
	r->pj = (struct pattern_job){
		.buf = page_alloc_uninit((sectors * SECTOR_SIZE + PAGE_SIZE - 1) /
					 PAGE_SIZE),
		.seed = blk_arg("seed", 1), .first = start, .sectors = sectors,
	};
	if (!r->pj.buf) {
		result(false, "reason=no-memory sectors=%lu", (unsigned long)sectors);
		return false;
	}
	r->job = (struct vblk_batch){
		.b = &r->b, .first = start, .span = sectors,
		.req_sectors = (uint32_t)(reqkb * 2), .per_sector = true,
		.buf = (uint8_t *)r->pj.buf,
		.count = (sectors + reqkb * 2 - 1) / (reqkb * 2),
		.depth = (unsigned)blk_arg("depth", 8),
		.queues = (unsigned)blk_arg("queues", VBLK_MAX_QUEUES),
	};
	if (r->job.req_sectors > sectors)
		r->job.req_sectors = (uint32_t)sectors;
	return true;
}

/* One batch of the given type; false (and a failed result) on error. */
static bool pattern_io(struct pattern_run *r, uint32_t type, const char *what)
{
	struct vblk_batch *j = &r->job;

	j->type = type;
	j->done = j->errors = j->kicks = 0;
	j->timed_out = false;
	j->deadline_tsc = tsc_after_us(IO_TIMEOUT_US);
	if (!user_call(vblk_batch_run, j))
		return true;
	result(false, "reason=%s-%s status=%u done=%lu", what,
	       j->timed_out ? "timeout" : "error", j->first_error,
	       (unsigned long)j->done);
	return false;
}

/* Read the range back over a scrambled buffer and check it. */
static bool pattern_readback(struct pattern_run *r)
{
	struct pattern_job scramble = r->pj;

	scramble.seed = ~r->pj.seed;
	user_call(pattern_fill, &scramble);
	if (!pattern_io(r, VBLK_T_IN, "read"))
		return false;
	if (user_call(pattern_check, &r->pj)) {
		result(false, "reason=mismatch bad=%lu first_bad=%lu",
		       (unsigned long)r->pj.bad, (unsigned long)r->pj.first_bad);
		return false;
	}
	return true;
}

static void hold_if_asked(void)
{
	if (!cmdline_has("hold"))
		return;
	for (;;)
		sleep_until(rdtsc() + tsc_hz());
}

void scn_blk_pattern(void)
{
	static struct pattern_run r;
	uint8_t st;

	if (!pattern_setup(&r))
		return;
	user_call(pattern_fill, &r.pj);
	if (!pattern_io(&r, VBLK_T_OUT, "write"))
		return;
	st = vblk_request(&r.b, 0, VBLK_T_FLUSH, 0, NULL, 0, IO_TIMEOUT_US);
	if (st != VBLK_S_OK) {
		result(false, "reason=flush status=%u", st);
		return;
	}
	printk("xenon-guest: blk flushed sectors=%lu\n",
	       (unsigned long)r.pj.sectors);
	if (!pattern_readback(&r))
		return;
	result(true, "disk=%lu id=%s sectors=%lu start=%lu capacity=%lu "
	       "queues=%u requests=%lu kicks=%lu",
	       (unsigned long)blk_arg("disk", 0), r.b.id,
	       (unsigned long)r.pj.sectors, (unsigned long)r.pj.first,
	       (unsigned long)r.b.capacity, r.job.queues,
	       (unsigned long)r.job.count * 2, (unsigned long)r.job.kicks);
	hold_if_asked();
}

void scn_blk_verify(void)
{
	static struct pattern_run r;

	if (!pattern_setup(&r) || !pattern_readback(&r))
		return;
	result(true, "disk=%lu id=%s sectors=%lu start=%lu",
	       (unsigned long)blk_arg("disk", 0), r.b.id,
	       (unsigned long)r.pj.sectors, (unsigned long)r.pj.first);
}

/* ---- list, read-only ------------------------------------------------------------ */

void scn_blk_list(void)
{
	static struct vblk b;
	char ids[256];
	size_t len = 0;
	unsigned n = 0;

	timer_init();
	ids[0] = '\0';
	while (n < 32 && vblk_open(n, &b, 1)) {
		printk("xenon-guest: blk disk=%u id=%s capacity=%lu ro=%d "
		       "discard=%d queues=%u\n", n, b.id,
		       (unsigned long)b.capacity, vblk_has(&b, VBLK_F_RO),
		       vblk_has(&b, VBLK_F_DISCARD), b.dev_queues);
		len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%s",
					n ? "," : "", b.id[0] ? b.id : "-");
		if (len >= sizeof(ids))
			len = sizeof(ids) - 1;
		n++;
	}
	result(n > 0, "disks=%u ids=%s", n, n ? ids : "-");
}

struct crc_job {
	const void *buf;
	size_t len;
};

static uint64_t crc_of(void *arg)
{
	struct crc_job *c = arg;

	return crc32(0, c->buf, c->len);
}

/* Writes are refused with IOERR, reads work: report the CRC-32 of the
 * first `sectors` sectors so the host can compare with the image. */
void scn_blk_ro(void)
{
	static struct vblk b;
	uint64_t sectors = blk_arg("sectors", 64);
	struct crc_job c;
	uint8_t *buf;
	uint8_t wst, rst;

	if (!blk_open_arg(&b))
		return;
	if (sectors > b.capacity)
		sectors = b.capacity;
	if (!sectors || sectors > 8192) {
		result(false, "reason=bad-range capacity=%lu",
		       (unsigned long)b.capacity);
		return;
	}
	buf = page_alloc_uninit((sectors * SECTOR_SIZE + PAGE_SIZE - 1) / PAGE_SIZE);
	wst = vblk_request(&b, 0, VBLK_T_OUT, 0, buf, SECTOR_SIZE, IO_TIMEOUT_US);
	rst = vblk_request(&b, 0, VBLK_T_IN, 0, buf,
			   (uint32_t)(sectors * SECTOR_SIZE), IO_TIMEOUT_US);
	c = (struct crc_job){ buf, (size_t)(sectors * SECTOR_SIZE) };
	result(vblk_has(&b, VBLK_F_RO) && wst == VBLK_S_IOERR && rst == VBLK_S_OK,
	       "ro=%d write_status=%u read_status=%u sectors=%lu crc32=%08x",
	       vblk_has(&b, VBLK_F_RO), wst, rst, (unsigned long)sectors,
	       (uint32_t)user_call(crc_of, &c));
}

/* ---- write-zeroes, discard ------------------------------------------------------ */

struct zero_job {
	uint64_t *buf;
	uint64_t words;
	uint64_t value;
};

static uint64_t words_fill(void *arg)
{
	struct zero_job *z = arg;

	for (uint64_t i = 0; i < z->words; i++)
		z->buf[i] = z->value;
	return 0;
}

/* Number of words that are not zero. */
static uint64_t words_nonzero(void *arg)
{
	struct zero_job *z = arg;
	uint64_t bad = 0;

	for (uint64_t i = 0; i < z->words; i++)
		bad += z->buf[i] != 0;
	return bad;
}

struct dwz_seg {
	uint64_t sector;
	uint32_t sectors, flags;
};

/* WRITE_ZEROES over start..start+sectors (with the unmap flag when the
 * word "unmap" is given), read it back as zeros, then DISCARD it. */
void scn_blk_zero(void)
{
	static struct vblk b;
	uint64_t start = blk_arg("start", 0), sectors = blk_arg("sectors", 256);
	struct dwz_seg *seg;
	struct zero_job z;
	uint8_t wz, rd, dc;
	uint64_t bad;

	if (!blk_open_arg(&b))
		return;
	if (!sectors || sectors > 8192 || start > b.capacity ||
	    sectors > b.capacity - start) {
		result(false, "reason=bad-range capacity=%lu",
		       (unsigned long)b.capacity);
		return;
	}
	seg = page_alloc(1);
	z = (struct zero_job){ page_alloc_uninit(sectors * SECTOR_SIZE / PAGE_SIZE + 1),
			       sectors * SECTOR_SIZE / 8, ~0ULL };
	*seg = (struct dwz_seg){ start, (uint32_t)sectors,
				 cmdline_has("unmap") ? 1u : 0u };
	wz = vblk_request(&b, 0, VBLK_T_WRITE_ZEROES, 0, seg, sizeof(*seg),
			  IO_TIMEOUT_US);
	user_call(words_fill, &z);
	rd = vblk_request(&b, 0, VBLK_T_IN, start, z.buf,
			  (uint32_t)(sectors * SECTOR_SIZE), IO_TIMEOUT_US);
	bad = user_call(words_nonzero, &z);
	seg->flags = 0;
	dc = vblk_request(&b, 0, VBLK_T_DISCARD, 0, seg, sizeof(*seg),
			  IO_TIMEOUT_US);
	result(wz == VBLK_S_OK && rd == VBLK_S_OK && !bad && dc == VBLK_S_OK &&
	       vblk_has(&b, VBLK_F_WRITE_ZEROES) && vblk_has(&b, VBLK_F_DISCARD),
	       "write_zeroes=%u read=%u nonzero_words=%lu discard=%u "
	       "features=%d%d", wz, rd, (unsigned long)bad, dc,
	       vblk_has(&b, VBLK_F_WRITE_ZEROES), vblk_has(&b, VBLK_F_DISCARD));
}
