/*
 * The C entry point: bring the platform up in the order the boot-time
 * benchmark wants (serial and the boot timer first), then run the
 * scenario the command line names and power off.
 */
#include <stdint.h>

#include "guest/acpi.h"
#include "guest/bootinfo.h"
#include "guest/console.h"
#include "guest/idt.h"
#include "guest/lapic.h"
#include "guest/memory.h"
#include "guest/pci.h"
#include "guest/power.h"
#include "guest/scenario.h"
#include "guest/serial.h"
#include "guest/user.h"
#include "guest/virtio_console.h"
#include "guest/x86.h"
#include "lib/platform.h"

#define TEST_NAME_MAX 64

void guest_main(uint32_t start_info_pa);

static void report_platform(void)
{
	info("xenon-guest: acpi=%s cpus=%u pci-functions=%u virtio-console=%s "
	     "pages=%s\n", acpi.present ? "yes" : "no", acpi.nr_cpus,
	     pci_scan(), vcons_present() ? "yes" : "no",
	     memory_gb_pages() ? "1g" : "2m");
}

void guest_main(uint32_t start_info_pa)
{
	char test[TEST_NAME_MAX] = "boot";

	serial_init();
	outb(PLAT_PORT_BOOT_TIMER, PLAT_BOOT_TIMER_MAGIC);
	printk("xenon-guest: boot-timer\n");
	idt_init();
	user_init();
	if (!bootinfo_init(start_info_pa)) {
		printk("xenon-guest: no PVH start_info at 0x%x\n", start_info_pa);
		result(false, "reason=bad-start-info");
		poweroff();
	}
	console_set_quiet(cmdline_has("quiet"));
	memory_init();
	acpi_init(boot.rsdp);
	lapic_init();
	if (vcons_init())
		console_add_sink(vcons_write);
	report_platform();
	cmdline_value("test", test, sizeof(test));
	scenario_run(test);
	poweroff();
}
