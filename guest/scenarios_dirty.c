/*
 * test=dirty: keep rewriting a working set of pages while the domain is
 * saved, restored or migrated, prove afterwards that no write was lost,
 * and report the longest pause the guest itself saw.
 *
 * Command line: wss_mib=N (working set, default 16), rate_mib=N (MiB of
 * page writes per second after the first pass, which fills the working
 * set at full speed; 0 = as fast as it goes; default 0), secs=N
 * (stop after N seconds; default 0 = until told), report_ms=N (progress
 * line interval, default 500).
 *
 * Every page of the working set carries a generation number: a write
 * bumps it and stores it with the page index and two values derived from
 * both in three words spread over the page; a separate array holds the
 * generation each page should have.  Verification reads every page back:
 * a page whose words disagree with its expected generation lost a write
 * (or got someone else's).  The writing and checking run in ring 3
 * (user_call), where they run natively.
 *
 * Pauses: the loop reads the TSC at least every few microseconds; the
 * longest gap between two readings (and how late a timed sleep woke up)
 * is the longest time the guest did not run, as the guest sees it.  Time
 * keeps moving across save/restore and migration (the monitor moves the
 * TSC on by the wall-clock time away), so the gap is the downtime.
 *
 * Serial input (COM1): 'v' verifies now and prints a line, 'q' verifies
 * and prints the result line (then the guest powers off).
 */
#include <stdint.h>

#include "guest/bootinfo.h"
#include "guest/memory.h"
#include "guest/scenario.h"
#include "guest/serial.h"
#include "guest/timer.h"
#include "guest/user.h"
#include "guest/x86.h"

#define WORDS_PER_PAGE (PAGE_SIZE / 8)
#define BATCH 16                /* pages between TSC readings */
#define CHUNK_MS 10             /* ring-3 stretch between input checks */
#define MIN_SLEEP_US 500        /* shorter waits are spun in ring 3 */

struct dirty {
	/* set up in ring 0 */
	uint64_t *base;
	uint32_t *gens;         /* expected generation per page, 0 = unwritten */
	uint64_t npages, hz, rate, start;
	uint64_t rate_start, rate_base;   /* the rate counts after pass 1 */
	/* ring-3 writer */
	uint64_t cursor, passes, written;
	uint64_t last, max_gap, interval_gap;
	uint64_t chunk_end, wake_at;
	/* verification */
	uint64_t checked, checks_total, errors, first_bad;
	uint32_t bad_has, bad_want;
};

/* a * b / c without 128-bit division (no libgcc here); b * c < 2^64. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	return a / c * b + a % c * b / c;
}

static uint64_t mix(uint64_t page, uint64_t gen)
{
	uint64_t x = page * 0x9e3779b97f4a7c15ULL ^ gen * 0xc2b2ae3d27d4eb4fULL;

	return x ^ (x >> 29) ^ 0x5845444952545931ULL;
}

static void write_page(uint64_t *p, uint64_t index, uint32_t gen)
{
	p[0] = index << 32 | gen;
	p[WORDS_PER_PAGE / 2] = mix(index, gen);
	p[WORDS_PER_PAGE - 1] = ~mix(index, gen);
}

static void note_gap(struct dirty *d, uint64_t now)
{
	uint64_t gap = now - d->last;

	if (gap > d->max_gap)
		d->max_gap = gap;
	if (gap > d->interval_gap)
		d->interval_gap = gap;
	d->last = now;
}

/* Ring 3: check every written page against its expected generation. */
static uint64_t verify_all(void *arg)
{
	struct dirty *d = arg;

	d->checked = 0;
	for (uint64_t i = 0; i < d->npages; i++) {
		const uint64_t *p = d->base + i * WORDS_PER_PAGE;
		uint32_t want = d->gens[i];

		if (!want)
			continue;
		d->checked++;
		if (p[0] == (i << 32 | want) && p[WORDS_PER_PAGE / 2] == mix(i, want) &&
		    p[WORDS_PER_PAGE - 1] == ~mix(i, want))
			continue;
		if (!d->errors++) {
			d->first_bad = i;
			d->bad_has = (uint32_t)p[0];
			d->bad_want = want;
		}
	}
	d->checks_total += d->checked;
	return d->errors;
}

/* Pages the rate allows by TSC value now: all of them if unlimited or
 * during the first pass, which fills the working set at full speed. */
static uint64_t allowed(const struct dirty *d, uint64_t now)
{
	if (!d->rate || !d->passes)
		return ~0ULL;
	return d->rate_base + muldiv(now - d->rate_start, d->rate, d->hz);
}

/*
 * Ring 3: write pages until the chunk ends (returns 0) or the rate says
 * to wait long enough to sleep (returns 1 with wake_at set).
 */
static uint64_t dirty_run(void *arg)
{
	struct dirty *d = arg;

	for (;;) {
		uint64_t now = rdtsc(), quota, n;

		note_gap(d, now);
		if (now >= d->chunk_end)
			return 0;
		quota = allowed(d, now);
		if (d->written >= quota) {
			uint64_t due = d->rate_start + muldiv(d->written + BATCH -
							      d->rate_base, d->hz, d->rate);

			if (due - now > d->hz / 1000000 * MIN_SLEEP_US) {
				d->wake_at = due;
				return 1;
			}
			continue;
		}
		n = quota - d->written < BATCH ? quota - d->written : BATCH;
		for (uint64_t k = 0; k < n; k++) {
			uint64_t i = d->cursor;
			uint32_t gen = d->gens[i] + 1;

			write_page(d->base + i * WORDS_PER_PAGE, i, gen);
			d->gens[i] = gen;
			d->written++;
			if (++d->cursor == d->npages) {
				d->cursor = 0;
				if (!d->passes++) {
					d->rate_start = rdtsc();
					d->rate_base = d->written;
				}
				verify_all(d);
				d->last = rdtsc();   /* checking is not a pause */
			}
		}
	}
}

static uint64_t arg_u64(const char *key, uint64_t def)
{
	char buf[24];
	uint64_t v = 0;

	if (!cmdline_value(key, buf, sizeof(buf)) || !buf[0])
		return def;
	for (const char *p = buf; *p; p++) {
		if (*p < '0' || *p > '9')
			return def;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

static uint64_t to_us(const struct dirty *d, uint64_t ticks)
{
	return muldiv(ticks, 1000000, d->hz);
}

static void report_verify(struct dirty *d, const char *why)
{
	user_call(verify_all, d);
	printk("xenon-guest: dirty verify (%s) checked=%llu errors=%llu\n", why,
	       (unsigned long long)d->checked, (unsigned long long)d->errors);
	d->last = rdtsc();
}

static void progress(struct dirty *d)
{
	printk("xenon-guest: dirty t=%llums passes=%llu written=%llu "
	       "checks=%llu errors=%llu pause_us=%llu max_pause_us=%llu\n",
	       (unsigned long long)to_us(d, rdtsc() - d->start) / 1000,
	       (unsigned long long)d->passes, (unsigned long long)d->written,
	       (unsigned long long)d->checks_total,
	       (unsigned long long)d->errors,
	       (unsigned long long)to_us(d, d->interval_gap),
	       (unsigned long long)to_us(d, d->max_gap));
	d->interval_gap = 0;
}

/* Ring 0 between stretches: sleep if asked, poll input, report.
 * Returns false when the guest was told to finish. */
static bool between(struct dirty *d, uint64_t r, uint64_t end,
		    uint64_t *next_report, uint64_t report)
{
	char c;

	if (r == 1) {
		sleep_until(d->wake_at);
		d->last = d->wake_at;    /* asleep on purpose until then... */
		note_gap(d, rdtsc());    /* ...waking late is a pause */
	}
	while (serial_try_getc(&c)) {
		if (c == 'q')
			return false;
		if (c == 'v')
			report_verify(d, "asked");
	}
	if (rdtsc() >= *next_report) {
		progress(d);
		*next_report = rdtsc() + report;
	}
	return !end || rdtsc() < end;
}

void scn_dirty(void)
{
	static struct dirty d;
	uint64_t wss = arg_u64("wss_mib", 16), secs = arg_u64("secs", 0);
	uint64_t report, next_report, end;

	timer_init();
	d.hz = tsc_hz();
	d.npages = wss * 256;
	d.rate = arg_u64("rate_mib", 0) * 256;
	d.base = page_alloc_uninit(d.npages);
	d.gens = page_alloc((d.npages * sizeof(uint32_t) + PAGE_SIZE - 1) / PAGE_SIZE);
	if (!d.npages || !d.base || !d.gens) {
		result(false, "reason=no-memory wss_mib=%llu", (unsigned long long)wss);
		return;
	}
	report = d.hz / 1000 * arg_u64("report_ms", 500);
	printk("xenon-guest: dirty wss_mib=%llu pages=%llu rate_mib=%llu\n",
	       (unsigned long long)wss, (unsigned long long)d.npages,
	       (unsigned long long)d.rate / 256);
	d.start = d.last = rdtsc();
	next_report = d.start + report;
	end = secs ? d.start + secs * d.hz : 0;
	for (;;) {
		uint64_t r;

		d.chunk_end = rdtsc() + d.hz / 1000 * CHUNK_MS;
		r = user_call(dirty_run, &d);
		if (!between(&d, r, end, &next_report, report))
			break;
	}
	user_call(verify_all, &d);
	if (d.errors)
		printk("xenon-guest: dirty page %llu: generation %u, expected %u\n",
		       (unsigned long long)d.first_bad, d.bad_has, d.bad_want);
	result(!d.errors && d.checked > 0,
	       "verified=%llu errors=%llu passes=%llu written=%llu checks=%llu "
	       "max_pause_us=%llu wss_mib=%llu",
	       (unsigned long long)d.checked, (unsigned long long)d.errors,
	       (unsigned long long)d.passes, (unsigned long long)d.written,
	       (unsigned long long)d.checks_total,
	       (unsigned long long)to_us(&d, d.max_gap),
	       (unsigned long long)wss);
}
