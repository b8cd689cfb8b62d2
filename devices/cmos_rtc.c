/*
 * MC146818 RTC + CMOS.
 *
 * Time: computed at every read from the host's CLOCK_REALTIME (UTC) plus
 * an offset the guest changes by writing the clock, normally with SET
 * (status B bit 7) held, which freezes the registers until it is cleared.
 * Encoding follows status B: BCD or binary, 24- or 12-hour (default BCD,
 * 24-hour).  UIP (status A bit 7) reads 1 during the last 244 us of each
 * second, as on the real chip, so a reader that sees it clear has time to
 * read a consistent set of registers.  The century sits at CMOS 0x32,
 * which the FADT names.
 *
 * Interrupts: none are raised.  Status C still reports the update, alarm
 * and periodic flags as they would have been set since its last read, for
 * guests that poll them.
 *
 * Memory: 0x15/0x16 base KiB, 0x17/0x18 and 0x30/0x31 KiB above 1 MiB,
 * 0x34/0x35 64 KiB units above 16 MiB, 0x5b-0x5d 64 KiB units above 4 GiB
 * and 0x5f the vCPU count minus one, as SeaBIOS reads them from QEMU.
 */
#include "devices/cmos_rtc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "lib/vmstate.h"
#include "vmm/vm.h"

enum {
	R_SEC, R_SEC_ALARM, R_MIN, R_MIN_ALARM, R_HOUR, R_HOUR_ALARM,
	R_WDAY, R_MDAY, R_MON, R_YEAR, R_A, R_B, R_C, R_D,
	R_CENTURY = PLAT_RTC_CENTURY,
};

#define A_UIP       0x80
#define A_DEFAULT   0x26   /* 32.768 kHz time base, 1024 Hz periodic rate */
#define B_SET       0x80
#define B_PIE       0x40
#define B_AIE       0x20
#define B_UIE       0x10
#define B_BINARY    0x04
#define B_24H       0x02
#define B_DEFAULT   B_24H
#define C_IRQF      0x80
#define C_PF        0x40
#define C_AF        0x20
#define C_UF        0x10
#define D_VRT       0x80   /* battery good: time and RAM valid */
#define ALARM_ANY   0xc0   /* alarm register values >= this match anything */

#define CMOS_SIZE   128
#define NS_PER_SEC  1000000000L
#define UIP_NS      244000L
#define MIB         (1ULL << 20)

struct cmos_rtc {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t index;
	bool nmi_disabled;        /* kept, but there is no NMI source anyway */
	uint8_t ram[CMOS_SIZE];
	int64_t offset;           /* guest seconds minus host seconds */
	struct tm held;           /* the clock while B.SET is 1 */
	struct timespec last_c;   /* last read of status C */
};

/* ---- Encoding ----------------------------------------------------------- */

static uint8_t enc(const struct cmos_rtc *r, int v)
{
	if (r->ram[R_B] & B_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static int dec(const struct cmos_rtc *r, uint8_t v)
{
	if (r->ram[R_B] & B_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t enc_hour(const struct cmos_rtc *r, int h)
{
	if (r->ram[R_B] & B_24H)
		return enc(r, h);
	return (uint8_t)(enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

static int dec_hour(const struct cmos_rtc *r, uint8_t v)
{
	if (r->ram[R_B] & B_24H)
		return dec(r, v);
	return dec(r, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* ---- Clock -------------------------------------------------------------- */

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static void clock_tm(const struct cmos_rtc *r, const struct timespec *ts,
		     struct tm *tm)
{
	time_t t;

	if (r->ram[R_B] & B_SET) {
		*tm = r->held;
		return;
	}
	t = (time_t)(ts->tv_sec + r->offset);
	gmtime_r(&t, tm);
}

static void set_clock(struct cmos_rtc *r, struct tm *tm)
{
	struct timespec ts;

	now(&ts);
	r->offset = (int64_t)timegm(tm) - ts.tv_sec;
}

static bool is_time_reg(uint8_t idx)
{
	return idx == R_SEC || idx == R_MIN || idx == R_HOUR ||
	       (idx >= R_WDAY && idx <= R_YEAR) || idx == R_CENTURY;
}

static uint8_t read_time(const struct cmos_rtc *r, uint8_t idx,
			 const struct tm *tm)
{
	switch (idx) {
	case R_SEC: return enc(r, tm->tm_sec);
	case R_MIN: return enc(r, tm->tm_min);
	case R_HOUR: return enc_hour(r, tm->tm_hour);
	case R_WDAY: return enc(r, tm->tm_wday + 1);   /* Sunday = 1 */
	case R_MDAY: return enc(r, tm->tm_mday);
	case R_MON: return enc(r, tm->tm_mon + 1);
	case R_YEAR: return enc(r, tm->tm_year % 100);
	default: return enc(r, (tm->tm_year + 1900) / 100); /* century */
	}
}

/* The day of the week is derived from the date, so writes to it are lost. */
static void write_time(struct cmos_rtc *r, uint8_t idx, uint8_t v)
{
	struct timespec ts;
	struct tm tm;

	now(&ts);
	clock_tm(r, &ts, &tm);
	switch (idx) {
	case R_SEC: tm.tm_sec = dec(r, v); break;
	case R_MIN: tm.tm_min = dec(r, v); break;
	case R_HOUR: tm.tm_hour = dec_hour(r, v); break;
	case R_MDAY: tm.tm_mday = dec(r, v); break;
	case R_MON: tm.tm_mon = dec(r, v) - 1; break;
	case R_YEAR: tm.tm_year = tm.tm_year / 100 * 100 + dec(r, v) % 100; break;
	case R_CENTURY:
		tm.tm_year = (dec(r, v) * 100 - 1900) + (tm.tm_year + 1900) % 100;
		break;
	default: return;
	}
	/* While SET is held the fields are kept as written (a date may be
	 * invalid until all of them are in); they take effect when it drops. */
	if (r->ram[R_B] & B_SET)
		r->held = tm;
	else
		set_clock(r, &tm);
}

/* ---- Status registers ---------------------------------------------------- */

static bool alarm_matches(const struct cmos_rtc *r, const struct tm *tm)
{
	uint8_t s = r->ram[R_SEC_ALARM], m = r->ram[R_MIN_ALARM];
	uint8_t h = r->ram[R_HOUR_ALARM];

	return (s >= ALARM_ANY || dec(r, s) == tm->tm_sec) &&
	       (m >= ALARM_ANY || dec(r, m) == tm->tm_min) &&
	       (h >= ALARM_ANY || dec_hour(r, h) == tm->tm_hour);
}

static int64_t periodic_ns(const struct cmos_rtc *r)
{
	unsigned rate = r->ram[R_A] & 0x0f;

	if (!rate)
		return 0;
	if (rate < 3)
		rate += 7;      /* rates 1 and 2 alias 256 and 128 Hz */
	return NS_PER_SEC / (65536 >> rate);
}

/* Flags that would have been raised since status C was last read. */
static uint8_t read_status_c(struct cmos_rtc *r)
{
	struct timespec ts;
	struct tm tm;
	uint8_t c = 0;
	int64_t elapsed, period = periodic_ns(r);

	now(&ts);
	elapsed = (ts.tv_sec - r->last_c.tv_sec) * NS_PER_SEC +
		  (ts.tv_nsec - r->last_c.tv_nsec);
	if (!(r->ram[R_B] & B_SET) && ts.tv_sec != r->last_c.tv_sec) {
		c |= C_UF;
		clock_tm(r, &ts, &tm);
		if (alarm_matches(r, &tm))
			c |= C_AF;
	}
	if (period && elapsed >= period)
		c |= C_PF;
	if (c & r->ram[R_B] & (B_PIE | B_AIE | B_UIE))
		c |= C_IRQF;    /* the flag bits line up with the enables */
	r->last_c = ts;
	return c;
}

static void write_status_b(struct cmos_rtc *r, uint8_t v)
{
	struct timespec ts;
	uint8_t old = r->ram[R_B];

	if ((v & B_SET) && !(old & B_SET)) {
		now(&ts);
		clock_tm(r, &ts, &r->held);     /* freeze */
	}
	if (v & B_SET)
		v &= (uint8_t)~B_UIE;           /* as the chip does */
	r->ram[R_B] = v;
	if (!(v & B_SET) && (old & B_SET))
		set_clock(r, &r->held);         /* restart from what was set */
}

static uint8_t reg_read(struct cmos_rtc *r, uint8_t idx)
{
	struct timespec ts;
	struct tm tm;

	if (is_time_reg(idx)) {
		now(&ts);
		clock_tm(r, &ts, &tm);
		return read_time(r, idx, &tm);
	}
	switch (idx) {
	case R_A:
		now(&ts);
		return (uint8_t)(r->ram[R_A] |
				 (!(r->ram[R_B] & B_SET) &&
				  ts.tv_nsec >= NS_PER_SEC - UIP_NS ? A_UIP : 0));
	case R_C: return read_status_c(r);
	case R_D: return D_VRT;
	default: return r->ram[idx];
	}
}

static void reg_write(struct cmos_rtc *r, uint8_t idx, uint8_t v)
{
	if (is_time_reg(idx)) {
		write_time(r, idx, v);
		return;
	}
	switch (idx) {
	case R_A: r->ram[R_A] = v & (uint8_t)~A_UIP; break;
	case R_B: write_status_b(r, v); break;
	case R_C: case R_D: break;      /* read-only */
	default: r->ram[idx] = v;
	}
}

static void rtc_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct cmos_rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	if (off == 0 && is_write) {
		r->index = data[0] & (CMOS_SIZE - 1);
		r->nmi_disabled = data[0] & 0x80;
	} else if (off == 0) {
		data[0] = 0xff;                 /* the index port is write-only */
	} else if (is_write) {
		reg_write(r, r->index, data[0]);
	} else {
		data[0] = reg_read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
	for (uint32_t i = 1; i < len && !is_write; i++)
		data[i] = 0xff;
}

/* ---- Set-up ------------------------------------------------------------- */

static void put16(uint8_t *p, uint64_t v, uint64_t max)
{
	if (v > max)
		v = max;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void memory_fields(struct cmos_rtc *r, const struct vm *vm)
{
	uint64_t low = guest_memory_low_size(&vm->mem);
	uint64_t high = vm->mem.size > low ? vm->mem.size - low : 0;
	uint64_t above4g = high >> 16;

	put16(r->ram + 0x15, 640, 0xffff);
	put16(r->ram + 0x17, low > MIB ? (low - MIB) >> 10 : 0, 0xffff);
	put16(r->ram + 0x30, low > MIB ? (low - MIB) >> 10 : 0, 0xffff);
	put16(r->ram + 0x34, low > 16 * MIB ? (low - 16 * MIB) >> 16 : 0, 0xffff);
	if (above4g > 0xffffff)
		above4g = 0xffffff;
	r->ram[0x5b] = (uint8_t)above4g;
	r->ram[0x5c] = (uint8_t)(above4g >> 8);
	r->ram[0x5d] = (uint8_t)(above4g >> 16);
	r->ram[0x5f] = (uint8_t)(vm->nr_vcpus ? vm->nr_vcpus - 1 : 0);
}

static int rtc_state_register(struct cmos_rtc *r);

struct cmos_rtc *cmos_rtc_create(struct vm *vm)
{
	struct cmos_rtc *r = calloc(1, sizeof(*r));

	if (!r) {
		log_error("rtc: out of memory");
		return NULL;
	}
	r->vm = vm;
	r->ram[R_A] = A_DEFAULT;
	r->ram[R_B] = B_DEFAULT;
	memory_fields(r, vm);
	now(&r->last_c);
	pthread_mutex_init(&r->lock, NULL);
	if (io_bus_register(&vm->pio, PLAT_PORT_RTC, 2, rtc_io, r) < 0) {
		log_errno("rtc: cannot claim ports 0x%x-0x%x", PLAT_PORT_RTC,
			  PLAT_PORT_RTC + 1);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return NULL;
	}
	if (rtc_state_register(r) < 0) {
		cmos_rtc_destroy(r);
		return NULL;
	}
	return r;
}

void cmos_rtc_destroy(struct cmos_rtc *r)
{
	if (!r)
		return;
	vmstate_unregister(r);
	io_bus_unregister(&r->vm->pio, PLAT_PORT_RTC);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- save/restore ------------------------------------------------------------ */

/* The clock is host UTC plus the guest's offset, so it needs no help to
 * keep time across a save; the held registers (SET) are kept as fields. */
static void rtc_save(void *opaque, struct sbuf *out)
{
	struct cmos_rtc *r = opaque;
	const struct tm *h = &r->held;

	pthread_mutex_lock(&r->lock);
	sbuf_u8(out, r->index);
	sbuf_bool(out, r->nmi_disabled);
	sbuf_put(out, r->ram, CMOS_SIZE);
	sbuf_u64(out, (uint64_t)r->offset);
	sbuf_u32(out, (uint32_t)h->tm_sec);
	sbuf_u32(out, (uint32_t)h->tm_min);
	sbuf_u32(out, (uint32_t)h->tm_hour);
	sbuf_u32(out, (uint32_t)h->tm_mday);
	sbuf_u32(out, (uint32_t)h->tm_mon);
	sbuf_u32(out, (uint32_t)h->tm_year);
	sbuf_u32(out, (uint32_t)h->tm_wday);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_load(void *opaque, struct sreader *in, uint32_t version)
{
	struct cmos_rtc *r = opaque;
	uint8_t index = sr_u8(in), ram[CMOS_SIZE];
	bool nmi = sr_bool(in);
	int64_t offset;
	struct tm h;

	(void)version;
	memset(&h, 0, sizeof(h));
	sr_get(in, ram, sizeof(ram));
	offset = (int64_t)sr_u64(in);
	h.tm_sec = (int)sr_u32(in);
	h.tm_min = (int)sr_u32(in);
	h.tm_hour = (int)sr_u32(in);
	h.tm_mday = (int)sr_u32(in);
	h.tm_mon = (int)sr_u32(in);
	h.tm_year = (int)sr_u32(in);
	h.tm_wday = (int)sr_u32(in);
	if (sr_ok(in) && index >= CMOS_SIZE)
		sr_fail(in, "CMOS index 0x%x out of range", index);
	if (!sr_done(in))
		return;
	pthread_mutex_lock(&r->lock);
	r->index = index;
	r->nmi_disabled = nmi;
	memcpy(r->ram, ram, sizeof(ram));
	r->offset = offset;
	r->held = h;
	now(&r->last_c);
	pthread_mutex_unlock(&r->lock);
}

static const struct vmstate_ops rtc_state_ops = {
	.version = 1,
	.save = rtc_save,
	.load = rtc_load,
};

static int rtc_state_register(struct cmos_rtc *r)
{
	return vmstate_register(&rtc_state_ops, r, "rtc");
}
