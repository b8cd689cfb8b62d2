/* The ACPI power button (see power_button.h). */
#include "guest/power_button.h"

#include <stdint.h>

#include "guest/acpi.h"
#include "guest/idt.h"
#include "guest/lapic.h"
#include "guest/x86.h"

#define PM1_PWRBTN        (1u << 8)   /* PWRBTN_STS / PWRBTN_EN */
#define IOAPIC_REGSEL     0x00
#define IOAPIC_WIN        0x10
#define IOAPIC_REDIR(n)   (0x10 + 2 * (n))
#define REDIR_LEVEL       (1u << 15)

static volatile bool pressed;
static bool armed;

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(acpi.ioapic_addr + IOAPIC_REGSEL, reg);
	mmio_write32(acpi.ioapic_addr + IOAPIC_WIN, v);
}

/* Clear PWRBTN_STS (write 1) if set; true if it was. */
static bool take_status(void)
{
	if (!(inw(acpi.pm1a_evt) & PM1_PWRBTN))
		return false;
	outw(acpi.pm1a_evt, PM1_PWRBTN);
	return true;
}

/* The SCI: clearing the status drops the line before the EOI. */
static void sci_interrupt(void *ctx)
{
	(void)ctx;
	if (take_status())
		pressed = true;
}

bool power_button_init(void)
{
	uint16_t en;
	int vector;

	if (armed)
		return true;
	if (!acpi.pm1a_evt || acpi.pm1_evt_len < 4 || !acpi.ioapic_addr ||
	    acpi.sci_int >= 24)
		return false;
	vector = irq_alloc_vector(sci_interrupt, 0);
	if (vector < 0)
		return false;
	en = (uint16_t)(acpi.pm1a_evt + acpi.pm1_evt_len / 2);
	/* A press from before we listened is kept: the monitor starts with
	 * PWRBTN_STS clear and exits on reset, so it was made during this
	 * boot (the toolstack asking a guest still starting up to stop). */
	outw(en, (uint16_t)(inw(en) | PM1_PWRBTN));
	ioapic_write(IOAPIC_REDIR(acpi.sci_int) + 1, lapic_id() << 24);
	ioapic_write(IOAPIC_REDIR(acpi.sci_int),
		     (uint32_t)vector | REDIR_LEVEL);
	armed = true;
	return true;
}

bool power_button_pressed(void)
{
	/* Also without the interrupt: a press while the vector was busy. */
	if (armed && !pressed && take_status())
		pressed = true;
	return pressed;
}
