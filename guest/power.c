/* Power-off and reboot. */
#include "guest/power.h"

#include "guest/acpi.h"
#include "guest/pci.h"
#include "guest/timer.h"
#include "guest/x86.h"
#include "lib/platform.h"

#define SLP_EN             (1u << 13)
#define PORT_DEBUG_EXIT    0xf4  /* QEMU isa-debug-exit (benchmarks) */
#define RESET_CF9_VALUE    0x06
#define I8042_PULSE_RESET  0xfe

static void write_pm1_cnt(uint16_t port, unsigned slp_typ)
{
	uint16_t v = inw(port);

	v = (uint16_t)((v & ~(7u << 10)) | slp_typ << 10 | SLP_EN);
	outw(port, v);
}

/* A byte write to an ACPI register, wherever the GAS says it lives. */
static void gas_write8(const struct acpi_gas *r, uint8_t v)
{
	switch (r->space) {
	case GAS_SPACE_IO:
		outb((uint16_t)r->address, v);
		break;
	case GAS_SPACE_MEMORY:
		mmio_write8(r->address, v);
		break;
	case GAS_SPACE_PCI: {
		/* Address: device bits 32-47, function 16-31, offset 0-15. */
		struct pci_dev d = { (uint8_t)(r->address >> 32),
				     (uint8_t)(r->address >> 16), 0, 0, 0 };

		pci_write8(&d, (uint8_t)r->address, v);
		break;
	}
	}
}

/*
 * Give an ACPI power-off time to land before trying the next method: QEMU
 * acts on it from its main loop, a little after the write returns, and
 * an isa-debug-exit meanwhile would turn a clean power-off (status 0)
 * into status 1.  100 ms, or ~100 ms at 3 GHz before calibration.
 */
static void grace_period(void)
{
	uint64_t end = rdtsc() + (tsc_hz() ? tsc_hz() / 10 : 300000000ULL);

	while (rdtsc() < end)
		cpu_relax();
}

void poweroff(void)
{
	/* Without \_S5 in the DSDT, trust the platform's own value. */
	int s5 = acpi_slp_typ_s5();
	unsigned typ = s5 >= 0 ? (unsigned)s5 : PLAT_SLP_TYP_S5;

	if (acpi.pm1a_cnt) {
		if (acpi.pm1b_cnt)
			write_pm1_cnt(acpi.pm1b_cnt, typ);
		write_pm1_cnt(acpi.pm1a_cnt, typ);
	}
	if (acpi.has_sleep_ctl)  /* SLP_TYPx in bits 2-4, SLP_EN bit 5 */
		gas_write8(&acpi.sleep_ctl, (uint8_t)((typ & 7) << 2 | 1 << 5));
	if (acpi.pm1a_cnt || acpi.has_sleep_ctl)
		grace_period();
	outb(PORT_DEBUG_EXIT, 0);
	halt_forever();
}

void reboot(void)
{
	if (acpi.has_reset)
		gas_write8(&acpi.reset_reg, acpi.reset_value);
	outb(PLAT_PORT_RESET, RESET_CF9_VALUE);
	outb(PLAT_PORT_I8042_CMD, I8042_PULSE_RESET);
	halt_forever();
}
