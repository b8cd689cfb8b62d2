/*
 * devices_create()/devices_destroy(): the device model of one domain, in
 * the order the guest expects to find it.  One domain per process, so the
 * devices are plain statics here.
 */
#include "devices/devices.h"

#include <string.h>

#include "devices/chardev.h"
#include "devices/net_vif.h"
#include "devices/disks.h"
#include "devices/pci.h"
#include "devices/serial_16550.h"
#include "devices/virtio_console.h"
#include "devices/xs_channel.h"
#include "lib/platform.h"
#include "vmm/vm.h"

static struct {
	struct chardev *serial_cd, *vconsole_cd;
	struct serial *com1;
	struct pci_bus *pci;
	struct virtio_console *vconsole;
	bool platform;
	struct chardev *xs_cd;
	struct xs_channel *xs;
} devs;

/* Until devices/platform.c is linked in, these keep the build whole. */
__attribute__((weak)) int platform_devices_create(struct vm *vm)
{
	(void)vm;
	return 0;
}

__attribute__((weak)) void platform_devices_destroy(struct vm *vm)
{
	(void)vm;
}

/* --pty-link names the first pty console: the serial port's if it has one. */
static const char *pty_link_for(const struct vmm_options *o,
				const struct chardev_spec *spec)
{
	if (spec->kind != CHARDEV_PTY)
		return NULL;
	if (spec == &o->vconsole && o->serial.kind == CHARDEV_PTY)
		return NULL;
	return o->pty_link;
}

/*
 * Both consoles' back ends are opened before any device exists.  The
 * virtio console goes first: when both are stdio, the keyboard belongs to
 * the one asked for explicitly (--vconsole) and the serial port, stdio by
 * default, is output-only.
 */
static int open_consoles(const struct vmm_options *o)
{
	if (o->vconsole.kind != CHARDEV_NONE) {
		devs.vconsole_cd = chardev_open(&o->vconsole, "virtio",
						pty_link_for(o, &o->vconsole));
		if (!devs.vconsole_cd)
			return -1;
	}
	if (o->serial.kind != CHARDEV_NONE) {
		devs.serial_cd = chardev_open(&o->serial, "serial",
					      pty_link_for(o, &o->serial));
		if (!devs.serial_cd)
			return -1;
	}
	return 0;
}

int devices_create(struct vm *vm)
{
	if (platform_devices_create(vm) < 0)
		return -1;
	devs.platform = true;
	if (open_consoles(vm->opts) < 0)
		return -1;
	/* No --serial: no UART at all, the ports float. */
	if (devs.serial_cd) {
		devs.com1 = serial_create(vm, PLAT_PORT_COM1, PLAT_IRQ_COM1,
					  devs.serial_cd);
		if (!devs.com1)
			return -1;
	}
	devs.pci = pci_bus_create(vm);
	if (!devs.pci)
		return -1;
	if (devs.vconsole_cd) {
		devs.vconsole = virtio_console_create(vm, devs.pci,
						      devs.vconsole_cd);
		if (!devs.vconsole)
			return -1;
	}
	if (vm->opts->xenstore.kind != CHARDEV_NONE) {
		devs.xs_cd = chardev_open(&vm->opts->xenstore, "xenstore", NULL);
		devs.xs = devs.xs_cd ? xs_channel_create(vm, devs.pci, devs.xs_cd)
				     : NULL;
		if (!devs.xs)
			return -1;
	}
	/* Disks first, in devnum order: their PCI slots then follow Xen's
	 * disk order whatever the vifs are. */
	if (disks_create(vm, devs.pci) < 0)
		return -1;
	if (net_vifs_create(vm, devs.pci) < 0)
		return -1;
	return 0;
}

/* Safe after a partial devices_create(). */
void devices_destroy(struct vm *vm)
{
	xs_channel_destroy(devs.xs);
	net_vifs_destroy();
	virtio_console_destroy(devs.vconsole);
	disks_destroy();
	pci_bus_destroy(devs.pci);
	serial_destroy(devs.com1);
	/* Closing flushes whatever the guest printed last. */
	chardev_close(devs.vconsole_cd);
	chardev_close(devs.serial_cd);
	chardev_close(devs.xs_cd);
	if (devs.platform)
		platform_devices_destroy(vm);
	memset(&devs, 0, sizeof(devs));
}
