/*
 * The contract between the monitor core (vmm/) and the device model
 * (devices/).  vmm/main.c calls these in order:
 *   vm_create() -> devices_create() -> boot loader (acpi_build inside) ->
 *   vCPUs run -> devices_destroy() -> vm_destroy()
 */
#ifndef XENON_DEVICES_H
#define XENON_DEVICES_H

struct vm;

/* Every device the options ask for: platform devices (ACPI PM, reset,
 * boot timer, RTC), COM1, the PCI host bridge and the virtio devices.
 * Prints a clear error and returns -1 on failure. */
int devices_create(struct vm *vm);
void devices_destroy(struct vm *vm);

/* Platform devices, created first by devices_create() (devices/platform.c). */
int platform_devices_create(struct vm *vm);
void platform_devices_destroy(struct vm *vm);

/* Press the ACPI power button (control socket "power-button"). */
void acpi_pm_press_power_button(struct vm *vm);

#endif
