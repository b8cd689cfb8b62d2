/*
 * The platform devices every domain has, whatever its options: ACPI PM
 * registers, the reset control register at 0xcf9, the boot timer, the RTC
 * and the i8042.  One domain per process, so they are plain statics, which
 * is also how the control socket's power-button press finds the PM device.
 */
#include "devices/devices.h"

#include <pthread.h>
#include <string.h>

#include "devices/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "lib/log.h"
#include "lib/platform.h"
#include "lib/vmstate.h"
#include "vmm/vm.h"

/* Reset control register (Intel's RST_CNT): setting RST_CPU resets;
 * SYS_RST and FULL_RST only choose the kind of reset, all the same here. */
#define RST_SYS  0x02
#define RST_CPU  0x04
#define RST_FULL 0x08

static struct {
	struct vm *vm;
	struct acpi_pm *pm;
	struct cmos_rtc *rtc;
	struct i8042 *kbd;
	bool reset_port, boot_timer;
	pthread_mutex_t lock;   /* rst_cnt */
	uint8_t rst_cnt;
} plat = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void reset_io(void *opaque, uint64_t offset, uint8_t *data,
		     uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	(void)offset;
	if (!is_write) {
		pthread_mutex_lock(&plat.lock);
		data[0] = plat.rst_cnt;
		pthread_mutex_unlock(&plat.lock);
		memset(data + 1, 0xff, len - 1);
		return;
	}
	pthread_mutex_lock(&plat.lock);
	plat.rst_cnt = data[0] & (RST_SYS | RST_FULL);
	pthread_mutex_unlock(&plat.lock);
	if (data[0] & RST_CPU) {
		log_info("guest reset through port 0x%x", PLAT_PORT_RESET);
		vm_request_exit(vm, VM_EXIT_REBOOT);
	}
}

static int platform_state_register(void);

int platform_devices_create(struct vm *vm)
{
	plat.vm = vm;
	plat.pm = acpi_pm_create(vm);
	if (!plat.pm)
		goto fail;
	if (io_bus_register(&vm->pio, PLAT_PORT_RESET, 1, reset_io, vm) < 0) {
		log_errno("reset: cannot claim port 0x%x", PLAT_PORT_RESET);
		goto fail;
	}
	plat.reset_port = true;
	if (boot_timer_create(vm) < 0)
		goto fail;
	plat.boot_timer = true;
	plat.rtc = cmos_rtc_create(vm);
	plat.kbd = plat.rtc ? i8042_create(vm) : NULL;
	if (!plat.kbd || platform_state_register() < 0)
		goto fail;
	return 0;
fail:
	platform_devices_destroy(vm);
	return -1;
}

/* Safe after a partial platform_devices_create(). */
void platform_devices_destroy(struct vm *vm)
{
	vmstate_unregister(&plat);
	i8042_destroy(plat.kbd);
	cmos_rtc_destroy(plat.rtc);
	if (plat.boot_timer)
		boot_timer_destroy(vm);
	if (plat.reset_port)
		io_bus_unregister(&vm->pio, PLAT_PORT_RESET);
	acpi_pm_destroy(plat.pm);
	pthread_mutex_lock(&plat.lock);
	plat.vm = NULL;
	plat.pm = NULL;
	plat.rtc = NULL;
	plat.kbd = NULL;
	plat.reset_port = plat.boot_timer = false;
	plat.rst_cnt = 0;
	pthread_mutex_unlock(&plat.lock);
}

void acpi_pm_press_power_button(struct vm *vm)
{
	if (!plat.pm || plat.vm != vm) {
		log_warn("power button: this domain has no ACPI PM device");
		return;
	}
	acpi_pm_power_button(plat.pm);
}

/* ---- save/restore ------------------------------------------------------------ */

/* The reset control register and the boot timer's mark (so `status` still
 * reports the boot time the guest measured where it booted). */
static void plat_save(void *opaque, struct sbuf *out)
{
	uint64_t done = atomic_load(&plat.vm->boot_done_ns);

	(void)opaque;
	pthread_mutex_lock(&plat.lock);
	sbuf_u8(out, plat.rst_cnt);
	pthread_mutex_unlock(&plat.lock);
	sbuf_u64(out, done ? done - plat.vm->start_ns : 0);
}

static void plat_load(void *opaque, struct sreader *in, uint32_t version)
{
	uint8_t rst = sr_u8(in);
	uint64_t boot = sr_u64(in);

	(void)opaque;
	(void)version;
	if (!sr_done(in))
		return;
	pthread_mutex_lock(&plat.lock);
	plat.rst_cnt = rst & (RST_SYS | RST_FULL);
	pthread_mutex_unlock(&plat.lock);
	atomic_store(&plat.vm->boot_done_ns, boot ? plat.vm->start_ns + boot : 0);
}

static const struct vmstate_ops plat_state_ops = {
	.version = 1,
	.save = plat_save,
	.load = plat_load,
};

static int platform_state_register(void)
{
	return vmstate_register(&plat_state_ops, &plat, "platform");
}
