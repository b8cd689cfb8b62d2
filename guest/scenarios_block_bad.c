/*
 * blk-bad: a guest that breaks the rules.  Each case resets the device,
 * posts one malformed chain on queue 0 and waits for the device to say
 * DEVICE_NEEDS_RESET (the monitor must carry on); then requests that are
 * well formed but wrong must get IOERR / UNSUPP; finally the device is
 * reset once more and must read and write normally.
 *
 * Parameters: disk=N.  Result: cases= broken= (cases that set
 * NEEDS_RESET) errors= (wrong requests answered correctly) recovered=1.
 */
#include <stdint.h>

#include "guest/memory.h"
#include "guest/scenario.h"
#include "guest/scenarios_block.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/x86.h"

#define NOT_RAM     0x0000fffffff00000ULL   /* far above any guest RAM */
#define HUGE_LEN    0xfffffff0u
#define WAIT_US     2000000ULL
#define IO_TIMEOUT  5000000ULL

enum bad_kind { BAD_OOB, BAD_LOOP, BAD_HUGE, BAD_NOSTATUS, BAD_SHORTHDR,
		BAD_HEAD, BAD_N };
static const char *const bad_name[BAD_N] = {
	"out-of-ram", "loop", "huge-length", "no-status", "short-header",
	"bad-head",
};

/* Guest memory the chains point at: header, a sector, a status byte. */
struct bad_bufs {
	struct vblk_hdr hdr;
	uint8_t status;
	uint8_t pad[7];
	uint8_t data[SECTOR_SIZE];
};

static struct vring_desc desc(void *addr, uint32_t len, uint16_t flags,
			      uint16_t next)
{
	return (struct vring_desc){ (uint64_t)addr, len, flags, next };
}

/* Write the chain straight into the descriptor table (the driver's free
 * list is abandoned: the device is reset afterwards anyway). */
static void post(struct virtq *vq, const struct vring_desc *d, unsigned n,
		 uint16_t head)
{
	for (unsigned i = 0; i < n; i++)
		vq->desc[i] = d[i];
	vq->avail->ring[vq->avail->idx & (vq->size - 1)] = head;
	barrier();
	vq->avail->idx++;
	virtq_kick(vq);
}

static void post_bad(struct virtq *vq, enum bad_kind k, struct bad_bufs *m)
{
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE;
	struct vring_desc d[3];

	m->hdr = (struct vblk_hdr){ VBLK_T_IN, 0, 0 };
	switch (k) {
	case BAD_OOB:
		d[0] = desc((void *)NOT_RAM, 16, N, 1);
		d[1] = desc(&m->status, 1, W, 0);
		post(vq, d, 2, 0);
		break;
	case BAD_LOOP:
		d[0] = desc(&m->hdr, 16, N, 1);
		d[1] = desc(m->data, SECTOR_SIZE, N | W, 0);
		post(vq, d, 2, 0);
		break;
	case BAD_HUGE:
		d[0] = desc(&m->hdr, 16, N, 1);
		d[1] = desc(m->data, HUGE_LEN, N | W, 2);
		d[2] = desc(&m->status, 1, W, 0);
		post(vq, d, 3, 0);
		break;
	case BAD_NOSTATUS:
		m->hdr.type = VBLK_T_OUT;
		d[0] = desc(&m->hdr, 16, N, 1);
		d[1] = desc(m->data, SECTOR_SIZE, 0, 0);
		post(vq, d, 2, 0);
		break;
	case BAD_SHORTHDR:
		d[0] = desc(&m->hdr, 8, N, 1);
		d[1] = desc(&m->status, 1, W, 0);
		post(vq, d, 2, 0);
		break;
	default:
		d[0] = desc(&m->hdr, 16, N, 1);
		d[1] = desc(&m->status, 1, W, 0);
		post(vq, d, 2, (uint16_t)(vq->size + 72));
		break;
	}
}

static bool wait_needs_reset(struct vblk *b)
{
	uint64_t deadline = tsc_after_us(WAIT_US);

	while (rdtsc() < deadline) {
		if (virtio_status(&b->vd) & VIRTIO_STATUS_NEEDS_RESET)
			return true;
		udelay(1000);
	}
	return false;
}

/* Well-formed requests with wrong contents: each gets its status. */
static unsigned wrong_requests(struct vblk *b, uint8_t *buf)
{
	unsigned ok = 0;

	ok += vblk_request(b, 0, VBLK_T_IN, b->capacity, buf, SECTOR_SIZE,
			   IO_TIMEOUT) == VBLK_S_IOERR;
	ok += vblk_request(b, 0, VBLK_T_IN, 0, buf, 100, IO_TIMEOUT) ==
	      VBLK_S_IOERR;
	ok += vblk_request(b, 0, 99, 0, NULL, 0, IO_TIMEOUT) == VBLK_S_UNSUPP;
	return ok;
}

/* Write a sector, read it back. */
static bool works(struct vblk *b, uint8_t *buf)
{
	for (unsigned i = 0; i < SECTOR_SIZE; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	if (vblk_request(b, 0, VBLK_T_OUT, 1, buf, SECTOR_SIZE, IO_TIMEOUT) !=
	    VBLK_S_OK)
		return false;
	memset(buf + SECTOR_SIZE, 0, SECTOR_SIZE);
	if (vblk_request(b, 0, VBLK_T_IN, 1, buf + SECTOR_SIZE, SECTOR_SIZE,
			 IO_TIMEOUT) != VBLK_S_OK)
		return false;
	return !memcmp(buf, buf + SECTOR_SIZE, SECTOR_SIZE);
}

void scn_blk_bad(void)
{
	static struct vblk b;
	struct bad_bufs *m;
	uint8_t *buf;
	unsigned broken = 0, errors;
	bool recovered;

	if (!blk_open_arg(&b))
		return;
	m = page_alloc(1);
	buf = page_alloc(1);
	for (unsigned k = 0; k < BAD_N; k++) {
		bool hit;

		if (!vblk_open((unsigned)blk_arg("disk", 0), &b, 1)) {
			result(false, "reason=reopen case=%s", bad_name[k]);
			return;
		}
		post_bad(&b.q[0], (enum bad_kind)k, m);
		hit = wait_needs_reset(&b);
		printk("xenon-guest: blk-bad case=%s needs_reset=%d\n",
		       bad_name[k], hit);
		broken += hit;
	}
	vblk_open((unsigned)blk_arg("disk", 0), &b, 1);
	errors = wrong_requests(&b, buf);
	recovered = works(&b, buf) &&
		    !(virtio_status(&b.vd) & VIRTIO_STATUS_NEEDS_RESET);
	result(broken == BAD_N && errors == 3 && recovered,
	       "cases=%u broken=%u errors=%u recovered=%d", BAD_N, broken,
	       errors, recovered);
}
