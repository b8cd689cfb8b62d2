/*
 * i8042 keyboard controller with empty keyboard and aux ports.
 *
 * Controller commands written to 0x64 are answered through the output
 * buffer (read at 0x60) the way Linux's i8042 driver and BIOSes expect:
 * self tests pass, the command byte (CTR) and output port read back what
 * was written.  A byte sent to a device (a plain write to 0x60, or 0xd4
 * then a byte for the aux port) is answered with 0xfe (NAK), as a port
 * with nothing behind it would, so drivers give up at once instead of
 * waiting for time-outs.  Answers from the devices raise IRQ 1 / IRQ 12
 * when the CTR enables them; controller replies are polled and do too,
 * like the real part.
 *
 * Reset: command 0xfe (pulse output line 0 = reset) or an output port
 * write with bit 0 clear reboots the domain.
 */
#include "devices/i8042.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "lib/vmstate.h"
#include "vmm/vm.h"

#define STS_OBF      0x01  /* output buffer full */
#define STS_SYS      0x04  /* system flag, mirrors CTR */
#define STS_CMD      0x08  /* last write was to the command port */
#define STS_UNLOCKED 0x10  /* keyboard not inhibited */
#define STS_AUXDATA  0x20  /* output buffer holds aux data */

#define CTR_KBDINT   0x01
#define CTR_AUXINT   0x02
#define CTR_SYS      0x04
#define CTR_KBDDIS   0x10
#define CTR_AUXDIS   0x20
#define CTR_XLATE    0x40
#define CTR_DEFAULT  (CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE)

#define OUT_RESET_HIGH 0x01 /* output port bit 0: 0 holds the CPU in reset */
#define OUT_A20        0x02
#define OUT_DEFAULT    (OUT_RESET_HIGH | OUT_A20)

#define DEV_NAK      0xfe
#define IRQ_AUX      12
#define QUEUE_LEN    16

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ctr, outport, status_cmd;
	uint8_t pending;          /* command waiting for its data byte, or 0 */
	struct { uint8_t byte; bool aux; } q[QUEUE_LEN];
	unsigned head, count;
	uint8_t last;             /* what the output buffer last held */
};

static void raise_irq(struct i8042 *k)
{
	bool aux = k->q[k->head].aux;
	unsigned irq = aux ? IRQ_AUX : PLAT_IRQ_I8042_KBD;

	if (!(k->ctr & (aux ? CTR_AUXINT : CTR_KBDINT)))
		return;
	/* ISA interrupts are edge-triggered: one pulse per byte. */
	vm_irq_line(k->vm, irq, 1);
	vm_irq_line(k->vm, irq, 0);
}

/* Queue a byte for the guest; the interrupt fires when it reaches the
 * head (the one-byte output buffer of the real controller). */
static void push(struct i8042 *k, uint8_t byte, bool aux)
{
	if (k->count == QUEUE_LEN)
		return;
	k->q[(k->head + k->count) % QUEUE_LEN].byte = byte;
	k->q[(k->head + k->count) % QUEUE_LEN].aux = aux;
	if (k->count++ == 0)
		raise_irq(k);
}

static uint8_t pop(struct i8042 *k)
{
	uint8_t b;

	if (!k->count)
		return k->last; /* an empty buffer still holds its old byte */
	b = k->last = k->q[k->head].byte;
	k->head = (k->head + 1) % QUEUE_LEN;
	if (--k->count)
		raise_irq(k);
	return b;
}

static uint8_t status(const struct i8042 *k)
{
	uint8_t s = STS_UNLOCKED | k->status_cmd | (k->ctr & CTR_SYS);

	if (k->count)
		s |= STS_OBF | (k->q[k->head].aux ? STS_AUXDATA : 0);
	return s;
}

/* Returns true if the guest asked for a reset. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20: push(k, k->ctr, false); break;           /* read CTR */
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending = cmd;                           /* byte follows */
		break;
	case 0xa7: k->ctr |= CTR_AUXDIS; break;
	case 0xa8: k->ctr &= (uint8_t)~CTR_AUXDIS; break;
	case 0xa9: push(k, 0x00, false); break;             /* aux test: ok */
	case 0xaa: push(k, 0x55, false); break;             /* self test: ok */
	case 0xab: push(k, 0x00, false); break;             /* kbd test: ok */
	case 0xad: k->ctr |= CTR_KBDDIS; break;
	case 0xae: k->ctr &= (uint8_t)~CTR_KBDDIS; break;
	case 0xd0: push(k, k->outport, false); break;       /* read output port */
	default:
		/* 0xf0-0xff pulse the output lines whose bits are 0; line 0 is
		 * the CPU reset. */
		if (cmd >= 0xf0)
			return !(cmd & OUT_RESET_HIGH);
		log_debug("i8042: ignoring command 0x%02x", cmd);
	}
	return false;
}

static bool data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case 0x60: k->ctr = v; break;
	case 0xd1:
		k->outport = v;
		return !(v & OUT_RESET_HIGH);
	case 0xd2: push(k, v, false); break;    /* as if from the keyboard */
	case 0xd3: push(k, v, true); break;     /* as if from the aux device */
	case 0xd4: push(k, DEV_NAK, true); break;
	default: push(k, DEV_NAK, false); break; /* to the keyboard */
	}
	return false;
}

static void i8042_io(void *opaque, uint64_t port, uint8_t *data, uint32_t len,
		     bool is_write)
{
	struct i8042 *k = opaque;
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (!is_write) {
		data[0] = port == PLAT_PORT_I8042_CMD ? status(k) : pop(k);
		for (uint32_t i = 1; i < len; i++)
			data[i] = 0xff;
	} else if (port == PLAT_PORT_I8042_CMD) {
		k->status_cmd = STS_CMD;
		k->pending = 0;
		reset = command(k, data[0]);
	} else {
		k->status_cmd = 0;
		reset = data_write(k, data[0]);
	}
	pthread_mutex_unlock(&k->lock);
	if (reset) {
		log_info("guest reset through the i8042 keyboard controller");
		vm_request_exit(k->vm, VM_EXIT_REBOOT);
	}
}

static void io_data(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		    bool is_write)
{
	(void)off;
	i8042_io(opaque, PLAT_PORT_I8042_DATA, data, len, is_write);
}

static void io_cmd(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	(void)off;
	i8042_io(opaque, PLAT_PORT_I8042_CMD, data, len, is_write);
}

static int i8042_state_register(struct i8042 *k);

struct i8042 *i8042_create(struct vm *vm)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k) {
		log_error("i8042: out of memory");
		return NULL;
	}
	k->vm = vm;
	k->ctr = CTR_DEFAULT;
	k->outport = OUT_DEFAULT;
	pthread_mutex_init(&k->lock, NULL);
	if (io_bus_register(&vm->pio, PLAT_PORT_I8042_DATA, 1, io_data, k) < 0) {
		log_errno("i8042: cannot claim port 0x%x", PLAT_PORT_I8042_DATA);
		goto fail;
	}
	if (io_bus_register(&vm->pio, PLAT_PORT_I8042_CMD, 1, io_cmd, k) < 0) {
		log_errno("i8042: cannot claim port 0x%x", PLAT_PORT_I8042_CMD);
		io_bus_unregister(&vm->pio, PLAT_PORT_I8042_DATA);
		goto fail;
	}
	if (i8042_state_register(k) < 0) {
		i8042_destroy(k);
		return NULL;
	}
	return k;
fail:
	pthread_mutex_destroy(&k->lock);
	free(k);
	return NULL;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	vmstate_unregister(k);
	io_bus_unregister(&k->vm->pio, PLAT_PORT_I8042_DATA);
	io_bus_unregister(&k->vm->pio, PLAT_PORT_I8042_CMD);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/* ---- save/restore ------------------------------------------------------------ */

static void i8042_save(void *opaque, struct sbuf *out)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	sbuf_u8(out, k->ctr);
	sbuf_u8(out, k->outport);
	sbuf_u8(out, k->status_cmd);
	sbuf_u8(out, k->pending);
	sbuf_u8(out, k->last);
	sbuf_u8(out, (uint8_t)k->count);
	for (unsigned i = 0; i < k->count; i++) {
		sbuf_u8(out, k->q[(k->head + i) % QUEUE_LEN].byte);
		sbuf_bool(out, k->q[(k->head + i) % QUEUE_LEN].aux);
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042_load(void *opaque, struct sreader *in, uint32_t version)
{
	struct i8042 *k = opaque;
	uint8_t ctr = sr_u8(in), outport = sr_u8(in), status_cmd = sr_u8(in);
	uint8_t pending = sr_u8(in), last = sr_u8(in), count = sr_u8(in);
	struct { uint8_t byte; bool aux; } q[QUEUE_LEN];

	(void)version;
	if (sr_ok(in) && count > QUEUE_LEN)
		sr_fail(in, "output queue holds %u bytes (max %u)", count, QUEUE_LEN);
	for (unsigned i = 0; sr_ok(in) && i < count; i++) {
		q[i].byte = sr_u8(in);
		q[i].aux = sr_bool(in);
	}
	if (!sr_done(in))
		return;
	pthread_mutex_lock(&k->lock);
	k->ctr = ctr;
	k->outport = outport;
	k->status_cmd = status_cmd & STS_CMD;
	k->pending = pending;
	k->last = last;
	k->head = 0;
	k->count = count;
	for (unsigned i = 0; i < count; i++) {
		k->q[i].byte = q[i].byte;
		k->q[i].aux = q[i].aux;
	}
	pthread_mutex_unlock(&k->lock);
}

static const struct vmstate_ops i8042_state_ops = {
	.version = 1,
	.save = i8042_save,
	.load = i8042_load,
};

static int i8042_state_register(struct i8042 *k)
{
	return vmstate_register(&i8042_state_ops, k, "i8042");
}
