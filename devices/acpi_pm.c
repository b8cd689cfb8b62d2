/*
 * ACPI fixed hardware registers (ACPI 6.x, 4.8):
 *
 *   PM1a_EVT  0x600  PM1_STS (16 bits, write 1 to clear) + PM1_EN (16 bits)
 *   PM1a_CNT  0x604  SCI_EN always set (there is no SMM to hand over from),
 *                    SLP_TYP + SLP_EN: S5 powers the domain off
 *   PM_TMR    0x608  24-bit free-running counter at 3.579545 MHz
 *   GPE0      0x620  2 bytes of status (always 0) + 2 bytes of enables
 *
 * The SCI (GSI 9, level) is high while any status bit is set together
 * with its enable bit.  Of the event sources only the power button can
 * fire (the control socket presses it); the timer's TMR_STS is never set,
 * which Linux does not use.  Registers may be accessed with any width at
 * any offset inside their block, as ACPICA splits PM1 into 16-bit halves
 * and reads GPE registers a byte at a time.
 */
#include "devices/acpi_pm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "lib/vmstate.h"
#include "vmm/vm.h"

#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define PM_TMR_LEN  4
#define GPE0_LEN    4

#define PM1_TMR     (1u << 0)
#define PM1_GBL     (1u << 5)
#define PM1_PWRBTN  (1u << 8)
#define PM1_SLPBTN  (1u << 9)
#define PM1_RTC     (1u << 10)
#define PM1_WAK_STS (1u << 15)
/* Status bits that have an enable bit of the same number: SCI sources. */
#define PM1_EN_MASK (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC)

#define CNT_SCI_EN      (1u << 0)
#define CNT_BM_RLD      (1u << 1)
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP     (7u << CNT_SLP_TYP_SHIFT)
#define CNT_SLP_EN      (1u << 13)
#define CNT_STORED      (CNT_BM_RLD | CNT_SLP_TYP)

#define PM_TIMER_HZ     3579545ULL
#define NS_PER_SEC      1000000000ULL

struct acpi_pm {
	struct vm *vm;
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	uint16_t gpe_en;
	bool sci;               /* level last driven on the SCI line */
	uint64_t start_ns;
};

/* ---- Byte lanes: a block is one little-endian value of up to 4 bytes. --- */

static void lanes_read(uint64_t off, uint8_t *data, uint32_t len,
		       unsigned size, uint32_t value)
{
	for (uint32_t i = 0; i < len; i++)
		data[i] = off + i < size ? (uint8_t)(value >> (8 * (off + i))) : 0xff;
}

/* The written bytes as a value, and which bytes were written as a mask. */
static void lanes_write(uint64_t off, const uint8_t *data, uint32_t len,
			unsigned size, uint32_t *value, uint32_t *mask)
{
	*value = *mask = 0;
	for (uint32_t i = 0; i < len; i++) {
		if (off + i >= size)
			break;
		*value |= (uint32_t)data[i] << (8 * (off + i));
		*mask |= 0xffu << (8 * (off + i));
	}
}

/* Drive the SCI from the status and enable bits.  Called with the lock
 * held, so that line changes reach KVM in the order they were decided. */
static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & PM1_EN_MASK) != 0;

	if (level == pm->sci)
		return;
	pm->sci = level;
	vm_irq_line(pm->vm, PLAT_IRQ_SCI, level);
}

static void evt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct acpi_pm *pm = opaque;
	uint32_t val, mask;

	pthread_mutex_lock(&pm->lock);
	if (is_write) {
		lanes_write(off, data, len, PM1_EVT_LEN, &val, &mask);
		pm->sts &= (uint16_t)~(val & mask);
		mask >>= 16;
		pm->en = (uint16_t)((pm->en & ~mask) |
				    ((val >> 16) & mask & PM1_EN_MASK));
		update_sci(pm);
	} else {
		lanes_read(off, data, len, PM1_EVT_LEN,
			   pm->sts | (uint32_t)pm->en << 16);
	}
	pthread_mutex_unlock(&pm->lock);
}

/* A sleep request: S5 ends the domain; anything else is refused by
 * "waking up" at once, so the guest's wait for WAK_STS ends. */
static void sleep_request(struct acpi_pm *pm, unsigned typ)
{
	if (typ == PLAT_SLP_TYP_S5) {
		log_info("guest entered ACPI S5 (soft off)");
		vm_request_exit(pm->vm, VM_EXIT_POWEROFF);
		return;
	}
	log_warn("acpi: guest asked for sleep type %u; only S5 (%u) is "
		 "supported, ignoring", typ, PLAT_SLP_TYP_S5);
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_WAK_STS;
	pthread_mutex_unlock(&pm->lock);
}

static void cnt_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct acpi_pm *pm = opaque;
	uint32_t val, mask;
	bool sleep = false;
	unsigned typ = 0;

	pthread_mutex_lock(&pm->lock);
	if (is_write) {
		lanes_write(off, data, len, PM1_CNT_LEN, &val, &mask);
		pm->cnt = (uint16_t)((pm->cnt & ~(mask & CNT_STORED)) |
				     (val & mask & CNT_STORED));
		sleep = (val & mask & CNT_SLP_EN) != 0;
		typ = (pm->cnt & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT;
	} else {
		/* SLP_EN and GBL_RLS are write-only and read as 0. */
		lanes_read(off, data, len, PM1_CNT_LEN, pm->cnt | CNT_SCI_EN);
	}
	pthread_mutex_unlock(&pm->lock);
	if (sleep)
		sleep_request(pm, typ);
}

uint32_t acpi_pm_timer_ticks(uint64_t ns)
{
	/* Split so that ns * HZ cannot overflow 64 bits. */
	uint64_t ticks = ns / NS_PER_SEC * PM_TIMER_HZ +
			 ns % NS_PER_SEC * PM_TIMER_HZ / NS_PER_SEC;

	return (uint32_t)(ticks & 0xffffff);
}

static void tmr_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct acpi_pm *pm = opaque;

	if (is_write)
		return;         /* read-only */
	lanes_read(off, data, len, PM_TMR_LEN,
		   acpi_pm_timer_ticks(monotonic_ns() - pm->start_ns));
}

/* No general-purpose events: status reads 0, enables are kept. */
static void gpe_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct acpi_pm *pm = opaque;
	uint32_t val, mask;

	pthread_mutex_lock(&pm->lock);
	if (is_write) {
		lanes_write(off, data, len, GPE0_LEN, &val, &mask);
		pm->gpe_en = (uint16_t)((pm->gpe_en & ~(mask >> 16)) |
					((val & mask) >> 16));
	} else {
		lanes_read(off, data, len, GPE0_LEN, (uint32_t)pm->gpe_en << 16);
	}
	pthread_mutex_unlock(&pm->lock);
}

static const struct {
	uint16_t port, len;
	io_handler_fn fn;
} blocks[] = {
	{ PLAT_PORT_PM1A_EVT, PM1_EVT_LEN, evt_io },
	{ PLAT_PORT_PM1A_CNT, PM1_CNT_LEN, cnt_io },
	{ PLAT_PORT_PM_TMR, PM_TMR_LEN, tmr_io },
	{ PLAT_PORT_GPE0, GPE0_LEN, gpe_io },
};
#define NR_BLOCKS (sizeof(blocks) / sizeof(blocks[0]))

static void unregister(struct acpi_pm *pm, size_t n)
{
	for (size_t i = 0; i < n; i++)
		io_bus_unregister(&pm->vm->pio, blocks[i].port);
}

static int acpi_pm_state_register(struct acpi_pm *pm);

struct acpi_pm *acpi_pm_create(struct vm *vm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm) {
		log_error("acpi-pm: out of memory");
		return NULL;
	}
	pm->vm = vm;
	pm->start_ns = monotonic_ns();
	pthread_mutex_init(&pm->lock, NULL);
	for (size_t i = 0; i < NR_BLOCKS; i++) {
		if (io_bus_register(&vm->pio, blocks[i].port, blocks[i].len,
				    blocks[i].fn, pm) < 0) {
			log_errno("acpi-pm: cannot claim ports 0x%x-0x%x",
				  blocks[i].port, blocks[i].port + blocks[i].len - 1);
			unregister(pm, i);
			pthread_mutex_destroy(&pm->lock);
			free(pm);
			return NULL;
		}
	}
	if (acpi_pm_state_register(pm) < 0) {
		acpi_pm_destroy(pm);
		return NULL;
	}
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	vmstate_unregister(pm);
	unregister(pm, NR_BLOCKS);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	bool enabled;

	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_PWRBTN;
	enabled = (pm->en & PM1_PWRBTN) != 0;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (enabled)
		log_info("power button pressed");
	else
		log_info("power button pressed, but the guest has not enabled "
			 "its event (no ACPI, or not yet booted)");
}

/* ---- save/restore ------------------------------------------------------------ */

/* The PM timer is saved as the time it has run; on load it continues
 * from there plus the wall-clock time the guest was away. */
static void pm_save(void *opaque, struct sbuf *out)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	sbuf_u16(out, pm->sts);
	sbuf_u16(out, pm->en);
	sbuf_u16(out, pm->cnt);
	sbuf_u16(out, pm->gpe_en);
	sbuf_u64(out, monotonic_ns() - pm->start_ns);
	pthread_mutex_unlock(&pm->lock);
}

static void pm_load(void *opaque, struct sreader *in, uint32_t version)
{
	struct acpi_pm *pm = opaque;
	uint16_t sts = sr_u16(in), en = sr_u16(in), cnt = sr_u16(in);
	uint16_t gpe_en = sr_u16(in);
	uint64_t ran = sr_u64(in) + vmstate_downtime_ns();

	(void)version;
	if (!sr_done(in))
		return;
	pthread_mutex_lock(&pm->lock);
	pm->sts = sts;
	pm->en = en & PM1_EN_MASK;
	pm->cnt = cnt & CNT_STORED;
	pm->gpe_en = gpe_en;
	pm->start_ns = monotonic_ns() - ran;
	pm->sci = false;        /* the new VM's line is low */
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static const struct vmstate_ops pm_state_ops = {
	.version = 1,
	.save = pm_save,
	.load = pm_load,
};

static int acpi_pm_state_register(struct acpi_pm *pm)
{
	return vmstate_register(&pm_state_ops, pm, "acpi-pm");
}
