/*
 * Config keys that xl understands and Xenon reads, but cannot honour yet.
 * Giving one is an error naming it, never a silent no-op: a guest that
 * asked for a TPM or a passed-through PCI card must not boot without it.
 *
 * When a feature lands, delete its line here and handle the key in
 * lib/domain_config.c.  sub names an option inside a device spec, or
 * "option=value" for one value of it; "on_*" covers the three on_ keys.
 */
#include "lib/domain_config.h"
#include "lib/xl_internal.h"

#include <string.h>

static const struct xl_unsupported table[] = {
	{ "bootloader", NULL, "running a bootloader such as pygrub is not "
	  "supported yet; give kernel= (and ramdisk=) to boot the guest's "
	  "kernel directly" },
	{ "bootloader_args", NULL, "bootloaders are not supported yet" },
	{ "firmware", NULL, "choosing guest firmware (pvgrub, OVMF, SeaBIOS) "
	  "is not supported yet" },
	{ "pci", NULL, "PCI passthrough is not supported yet" },
	{ "dtdev", NULL, "device-tree passthrough is not supported" },
	{ "iomem", NULL, "I/O memory passthrough is not supported yet" },
	{ "ioports", NULL, "I/O port passthrough is not supported yet" },
	{ "irqs", NULL, "interrupt passthrough is not supported yet" },
	{ "rdm", NULL, "reserved device memory is not supported yet" },
	{ "vtpm", NULL, "virtual TPMs are not supported yet" },
	{ "vfb", NULL, "paravirtual framebuffers are not supported yet" },
	{ "vkb", NULL, "paravirtual keyboards are not supported yet" },
	{ "vdispl", NULL, "paravirtual displays are not supported yet" },
	{ "vsnd", NULL, "paravirtual sound is not supported yet" },
	{ "channel", NULL, "PV channels are not supported yet" },
	{ "p9", NULL, "9pfs shares are not supported yet" },
	{ "pvcalls", NULL, "PV calls are not supported yet" },
	{ "usb", NULL, "USB is not supported yet" },
	{ "usbctrl", NULL, "USB is not supported yet" },
	{ "usbdev", NULL, "USB is not supported yet" },
	{ "usbdevice", NULL, "USB is not supported yet" },
	{ "soundhw", NULL, "emulated sound cards are not supported yet" },
	{ "spice", NULL, "SPICE displays are not supported yet" },
	{ "vnuma", NULL, "virtual NUMA is not supported yet" },
	{ "pool", NULL, "CPU pools are not supported yet" },
	{ "cpus_soft", NULL, "soft CPU affinity is not supported yet" },
	{ "seclabel", NULL, "XSM security labels do not exist under KVM" },
	{ "init_seclabel", NULL, "XSM security labels do not exist under KVM" },
	{ "nestedhvm", NULL, "nested virtualization is not supported yet" },
	{ "viridian", NULL, "Hyper-V enlightenments are not supported yet" },
	{ "device_model_stubdomain_override", NULL, "stub domains are not "
	  "supported" },
	{ "on_*", "soft-reset", "soft-reset is not supported yet" },
	{ "disk", "backend", "driver domains (backends outside Domain-0) are "
	  "not supported yet" },
	{ "disk", "backendtype=standalone", "the standalone backend is not "
	  "supported" },
	{ "disk", "format=qcow", "only raw and qcow2 images are supported" },
	{ "disk", "format=vhd", "only raw and qcow2 images are supported" },
	{ "disk", "format=qed", "only raw and qcow2 images are supported" },
	{ "disk", "colo", "COLO replication is not supported" },
	{ "vif", "backend", "driver domains (backends outside Domain-0) are "
	  "not supported yet" },
	{ "vif", "accel", "accelerated vifs are not supported" },
};

const struct xl_unsupported *xl_unsupported_find(const char *key,
						 const char *sub)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct xl_unsupported *u = &table[i];

		if (strcmp(u->key, key) != 0)
			continue;
		if (sub ? xl_streq(u->sub, sub) : !u->sub)
			return u;
	}
	return NULL;
}
