/*
 * 16550A UART.
 *
 * Transmission is instantaneous: a THR write goes straight to the chardev,
 * so THRE/TEMT are always set and the THRE interrupt re-arms at once.  The
 * receive FIFO (16 bytes, 1 with FIFOs off) is refilled from the chardev
 * whenever it has room, so host input waits in the chardev instead of
 * overrunning.  The receive interrupt fires as soon as one byte is there
 * (trigger level 1; no character-timeout emulation: Linux treats both the
 * same).  Loopback (MCR bit 4) feeds THR into the FIFO and MCR into MSR,
 * which is how Linux's 8250 driver probes.  The IRQ line follows IIR (level
 * semantics; the IOAPIC sees the edges) and is not gated by OUT2, like
 * QEMU and kvmtool.
 */
#include "devices/serial_16550.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "devices/chardev.h"
#include "lib/log.h"
#include "lib/vmstate.h"
#include "vmm/vm.h"

/* Register offsets (DLAB=0 / DLAB=1). */
enum { R_DATA, R_IER, R_IIR, R_LCR, R_MCR, R_LSR, R_MSR, R_SCR };

#define IER_RDI    0x01
#define IER_THRI   0x02
#define IER_RLSI   0x04
#define IER_MSI    0x08

#define IIR_NO_INT 0x01
#define IIR_MSI    0x00
#define IIR_THRI   0x02
#define IIR_RDI    0x04
#define IIR_RLSI   0x06
#define IIR_FIFO   0xc0

#define FCR_ENABLE 0x01
#define FCR_CLR_RX 0x02

#define LCR_DLAB   0x80

#define MCR_DTR    0x01
#define MCR_RTS    0x02
#define MCR_OUT1   0x04
#define MCR_OUT2   0x08
#define MCR_LOOP   0x10

#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_BI     0x10
#define LSR_THRE   0x20
#define LSR_TEMT   0x40

#define MSR_DCTS   0x01
#define MSR_DDSR   0x02
#define MSR_TERI   0x04
#define MSR_DDCD   0x08
#define MSR_CTS    0x10
#define MSR_DSR    0x20
#define MSR_RI     0x40
#define MSR_DCD    0x80
#define MSR_DELTAS 0x0f

#define RX_FIFO_SIZE 16

struct serial {
	struct vm *vm;
	uint16_t base;
	unsigned irq;
	struct chardev *cd;

	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, msr, scr, fcr;
	uint8_t lsr_err;           /* OE/BI until LSR is read */
	uint16_t divisor;
	bool thr_pending;          /* THRE interrupt not yet acknowledged */
	uint8_t rx[RX_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool irq_level;
};

static unsigned rx_capacity(const struct serial *s)
{
	return (s->fcr & FCR_ENABLE) ? RX_FIFO_SIZE : 1;
}

static uint8_t lsr(const struct serial *s)
{
	return s->lsr_err | LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
}

/* Highest-priority pending interrupt, as IIR reports it. */
static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RLSI) && s->lsr_err)
		return fifo | IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_pending)
		return fifo | IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return fifo | IIR_MSI;
	return fifo | IIR_NO_INT;
}

static void update_irq(struct serial *s)
{
	bool level = !(iir(s) & IIR_NO_INT);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->vm)
		vm_irq_line(s->vm, s->irq, level);
}

static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == rx_capacity(s)) {
		s->lsr_err |= LSR_OE;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % RX_FIFO_SIZE] = c;
	s->rx_count++;
}

/* Pull waiting host input into the FIFO (not in loopback: the line is
 * disconnected from the outside then). */
static void rx_fill(struct serial *s)
{
	uint8_t buf[RX_FIFO_SIZE];
	size_t n;

	if ((s->mcr & MCR_LOOP) || s->rx_count >= rx_capacity(s))
		return;
	n = chardev_read(s->cd, buf, rx_capacity(s) - s->rx_count);
	for (size_t i = 0; i < n; i++)
		rx_push(s, buf[i]);
}

static void rx_clear(struct serial *s)
{
	s->rx_head = s->rx_count = 0;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t c;

	if (!s->rx_count)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
	s->rx_count--;
	rx_fill(s);
	return c;
}

/* Modem status lines: in loopback they mirror MCR, otherwise the other end
 * is always there (carrier, DSR, CTS). */
static void update_msr(struct serial *s)
{
	uint8_t old = s->msr, now;

	if (s->mcr & MCR_LOOP)
		now = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
		      ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
		      ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
		      ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
	else
		now = MSR_DCD | MSR_DSR | MSR_CTS;
	s->msr = now | (old & MSR_DELTAS);
	if ((old ^ now) & MSR_CTS)
		s->msr |= MSR_DCTS;
	if ((old ^ now) & MSR_DSR)
		s->msr |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		s->msr |= MSR_TERI;
	if ((old ^ now) & MSR_DCD)
		s->msr |= MSR_DDCD;
}

static void write_thr(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP)
		rx_push(s, c);
	else
		chardev_putc(s->cd, c);
	/* Sent at once: the holding register is empty again. */
	s->thr_pending = true;
}

static void write_ier(struct serial *s, uint8_t val)
{
	uint8_t old = s->ier;

	s->ier = val & 0x0f;
	/* Enabling THRI with the transmitter empty raises THRE again; Linux
	 * checks for this ("THRE test") before trusting the interrupt. */
	if (!(old & IER_THRI) && (s->ier & IER_THRI))
		s->thr_pending = true;
}

static void write_fcr(struct serial *s, uint8_t val)
{
	if ((val ^ s->fcr) & FCR_ENABLE)
		rx_clear(s);        /* toggling FIFO mode clears the FIFOs */
	else if (val & FCR_CLR_RX)
		rx_clear(s);
	s->fcr = val & (FCR_ENABLE | 0xc0);
	rx_fill(s);
}

static void write_mcr(struct serial *s, uint8_t val)
{
	uint8_t old = s->mcr;

	s->mcr = val & 0x1f;
	update_msr(s);
	if ((old & MCR_LOOP) && !(s->mcr & MCR_LOOP))
		rx_fill(s);
}

static void write_locked(struct serial *s, unsigned off, uint8_t val)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case R_DATA:
		if (dlab)
			s->divisor = (s->divisor & 0xff00) | val;
		else
			write_thr(s, val);
		break;
	case R_IER:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | (val << 8));
		else
			write_ier(s, val);
		break;
	case R_IIR: write_fcr(s, val); break;
	case R_LCR: s->lcr = val; break;
	case R_MCR: write_mcr(s, val); break;
	case R_SCR: s->scr = val; break;
	default: break;     /* LSR, MSR: read-only */
	}
}

static uint8_t read_locked(struct serial *s, unsigned off)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (off) {
	case R_DATA:
		return dlab ? (uint8_t)s->divisor : rx_pop(s);
	case R_IER:
		return dlab ? (uint8_t)(s->divisor >> 8) : s->ier;
	case R_IIR:
		v = iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thr_pending = false;  /* reading IIR acknowledges THRE */
		return v;
	case R_LCR: return s->lcr;
	case R_MCR: return s->mcr;
	case R_LSR:
		v = lsr(s);
		s->lsr_err = 0;
		return v;
	case R_MSR:
		v = s->msr;
		s->msr &= (uint8_t)~MSR_DELTAS;
		return v;
	case R_SCR: return s->scr;
	default: return 0xff;
	}
}

uint8_t serial_read_reg(struct serial *s, unsigned off)
{
	uint8_t v;

	pthread_mutex_lock(&s->lock);
	v = read_locked(s, off);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

void serial_write_reg(struct serial *s, unsigned off, uint8_t val)
{
	pthread_mutex_lock(&s->lock);
	write_locked(s, off, val);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* vCPU threads: one exit per access; wider accesses cover several ports. */
static void serial_io(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len, bool is_write)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len; i++) {
		unsigned off = (unsigned)(offset + i);

		if (off > R_SCR)
			data[i] = 0xff;
		else if (is_write)
			write_locked(s, off, data[i]);
		else
			data[i] = read_locked(s, off);
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* Main loop: host input is waiting. */
static void serial_input(void *opaque)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	rx_fill(s);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_reset(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0x03;      /* 8N1 */
	s->mcr = 0;
	s->fcr = 0;
	s->scr = 0;
	s->lsr_err = 0;
	s->divisor = 12;    /* 9600 baud */
	s->thr_pending = false;
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	rx_clear(s);
}

static int serial_state_register(struct serial *s);

struct serial *serial_create(struct vm *vm, uint16_t base, unsigned irq,
			     struct chardev *cd)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s) {
		log_error("serial: out of memory");
		return NULL;
	}
	s->vm = vm;
	s->base = base;
	s->irq = irq;
	s->cd = cd;
	pthread_mutex_init(&s->lock, NULL);
	serial_reset(s);
	if (vm && io_bus_register(&vm->pio, base, 8, serial_io, s) < 0) {
		log_errno("serial: cannot claim ports 0x%x-0x%x", base, base + 7);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	if (chardev_set_input(cd, serial_input, s) < 0 ||
	    serial_state_register(s) < 0) {
		serial_destroy(s);
		return NULL;
	}
	return s;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	vmstate_unregister(s);
	if (s->vm)
		io_bus_unregister(&s->vm->pio, s->base);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- save/restore ------------------------------------------------------------ */

static void serial_save(void *opaque, struct sbuf *out)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	sbuf_u8(out, s->ier);
	sbuf_u8(out, s->lcr);
	sbuf_u8(out, s->mcr);
	sbuf_u8(out, s->msr);
	sbuf_u8(out, s->scr);
	sbuf_u8(out, s->fcr);
	sbuf_u8(out, s->lsr_err);
	sbuf_u16(out, s->divisor);
	sbuf_bool(out, s->thr_pending);
	sbuf_u8(out, (uint8_t)s->rx_count);
	for (unsigned i = 0; i < s->rx_count; i++)
		sbuf_u8(out, s->rx[(s->rx_head + i) % RX_FIFO_SIZE]);
	pthread_mutex_unlock(&s->lock);
}

static void serial_load(void *opaque, struct sreader *in, uint32_t version)
{
	struct serial *s = opaque;
	uint8_t r[7], rx[RX_FIFO_SIZE], count;
	uint16_t divisor;
	bool thr;

	(void)version;
	for (unsigned i = 0; i < sizeof(r); i++)
		r[i] = sr_u8(in);
	divisor = sr_u16(in);
	thr = sr_bool(in);
	count = sr_u8(in);
	if (count > RX_FIFO_SIZE)
		sr_fail(in, "receive FIFO holds %u bytes (max %u)", count,
			RX_FIFO_SIZE);
	for (unsigned i = 0; sr_ok(in) && i < count; i++)
		rx[i] = sr_u8(in);
	if (!sr_done(in))
		return;
	pthread_mutex_lock(&s->lock);
	s->ier = r[0] & 0x0f;
	s->lcr = r[1];
	s->mcr = r[2] & 0x1f;
	s->msr = r[3];
	s->scr = r[4];
	s->fcr = r[5];
	s->lsr_err = r[6];
	s->divisor = divisor;
	s->thr_pending = thr;
	s->rx_head = 0;
	s->rx_count = count;
	for (unsigned i = 0; i < count; i++)
		s->rx[i] = rx[i];
	/* The new VM's line is low: drive it to what IIR says. */
	s->irq_level = false;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct vmstate_ops serial_state_ops = {
	.version = 1,
	.save = serial_save,
	.load = serial_load,
};

static int serial_state_register(struct serial *s)
{
	return vmstate_register(&serial_state_ops, s, "serial@0x%x", s->base);
}
