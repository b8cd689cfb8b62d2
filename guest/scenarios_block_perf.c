/*
 * blk-perf: throughput of the disk as the guest sees it.  Four runs over
 * the whole disk (or the first spanmb MiB): sequential 1 MiB writes and
 * reads (mb= MiB each, default 64), random 4 KiB writes and reads (rmb=
 * MiB each, default 16), `depth` requests in flight per queue (default
 * 16) on `queues` queues (default 1).  The request loop runs in ring 3,
 * polled: the guest side costs next to nothing, so the numbers are the
 * device's (and the exits').  Writes go first, so reads find data.
 * With irq=1 the sequential runs wait halted instead, woken by the
 * device's interrupt once half of the requests in flight are done (as an
 * interrupt-driven driver would), so the vCPU leaves the host CPU to the
 * device while 1 MiB requests are copied; the random runs always poll.
 * Every request of a run reuses one 1 MiB buffer (like fio's one buffer
 * per job): the bytes moved, not the guest's memory footprint, are what
 * is measured.
 *
 * Prints one line per run and a result with seqwrite_mbps, seqread_mbps
 * (MB/s, 10^6 bytes), randwrite_iops and randread_iops.
 */
#include <stdint.h>

#include "guest/memory.h"
#include "guest/scenario.h"
#include "guest/scenarios_block.h"
#include "guest/timer.h"
#include "guest/user.h"
#include "guest/x86.h"

#define SEQ_SECTORS  2048u   /* 1 MiB */
#define RAND_SECTORS 8u      /* 4 KiB */
#define RUN_TIMEOUT_US 120000000ULL

struct perf_run {
	const char *name;
	uint32_t type, sectors;
	bool random;
	uint64_t mib;
	uint64_t us, mbps, iops;
};

static bool run_one(struct vblk *b, struct perf_run *p, uint8_t *buf,
		    uint64_t span)
{
	struct vblk_batch j = {
		.b = b, .type = p->type, .first = 0, .span = span,
		.req_sectors = p->sectors, .random = p->random,
		.count = (p->mib << 20) / ((uint64_t)p->sectors * SECTOR_SIZE),
		.rng = 0x2545f4914f6cdd1dULL, .buf = buf,
		.depth = (unsigned)blk_arg("depth", 16),
		.queues = (unsigned)blk_arg("queues", 1),
		.deadline_tsc = tsc_after_us(RUN_TIMEOUT_US),
	};
	bool halt = b->irq && !p->random;
	uint64_t t0 = rdtsc();
	uint64_t rc = halt ? vblk_batch_wait(&j) : user_call(vblk_batch_run, &j);
	uint64_t t1 = rdtsc();
	uint64_t bytes = j.count * p->sectors * SECTOR_SIZE;

	p->us = (t1 - t0) * 1000000 / tsc_hz();
	if (!p->us)
		p->us = 1;
	p->mbps = bytes / p->us;
	p->iops = j.count * 1000000 / p->us;
	printk("xenon-guest: blk-perf %s bytes=%lu us=%lu mbps=%lu iops=%lu "
	       "kicks=%lu waits=%lu errors=%lu\n", p->name, (unsigned long)bytes,
	       (unsigned long)p->us, (unsigned long)p->mbps,
	       (unsigned long)p->iops, (unsigned long)j.kicks,
	       (unsigned long)j.waits, (unsigned long)j.errors);
	return rc == 0;
}

void scn_blk_perf(void)
{
	static struct vblk b;
	struct perf_run runs[] = {
		{ "seqwrite", VBLK_T_OUT, SEQ_SECTORS, false, blk_arg("mb", 64), 0, 0, 0 },
		{ "seqread", VBLK_T_IN, SEQ_SECTORS, false, blk_arg("mb", 64), 0, 0, 0 },
		{ "randwrite", VBLK_T_OUT, RAND_SECTORS, true, blk_arg("rmb", 16), 0, 0, 0 },
		{ "randread", VBLK_T_IN, RAND_SECTORS, true, blk_arg("rmb", 16), 0, 0, 0 },
	};
	uint64_t span;
	uint8_t *buf;

	if (!blk_open_arg(&b))
		return;
	span = blk_arg("spanmb", 0) << 11;
	if (!span || span > b.capacity)
		span = b.capacity;
	if (span < SEQ_SECTORS || vblk_has(&b, VBLK_F_RO)) {
		result(false, "reason=disk-too-small-or-ro capacity=%lu",
		       (unsigned long)b.capacity);
		return;
	}
	buf = page_alloc_uninit(SEQ_SECTORS * SECTOR_SIZE / PAGE_SIZE);
	for (unsigned i = 0; i < 4; i++) {
		if (!run_one(&b, &runs[i], buf, span)) {
			result(false, "reason=io-error run=%s", runs[i].name);
			return;
		}
	}
	result(true, "seqwrite_mbps=%lu seqread_mbps=%lu randwrite_iops=%lu "
	       "randread_iops=%lu", (unsigned long)runs[0].mbps,
	       (unsigned long)runs[1].mbps, (unsigned long)runs[2].iops,
	       (unsigned long)runs[3].iops);
}
