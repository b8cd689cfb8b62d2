/*
 * The platform devices through their ports, as a guest drives them: ACPI
 * PM (SCI, power button, S5, PM timer, GPE0), the 0xcf9 reset register,
 * the i8042, the boot timer and the CMOS RTC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "devices/acpi_pm.h"
#include "devices/devices.h"
#include "lib/platform.h"
#include "vm_stubs.h"

#define MIB (1ULL << 20)

/* ---- What the devices need from the core -------------------------------- */

static int exit_requests, last_exit;
static uint64_t fake_ns = 1;

void vm_request_exit(struct vm *vm, enum vm_exit_status status)
{
	(void)vm;
	exit_requests++;
	last_exit = status;
}

uint64_t monotonic_ns(void)
{
	return fake_ns;
}

/* ---- Fixture -------------------------------------------------------------- */

static struct vm vm;

static int setup_mem(void **state, uint64_t mem)
{
	(void)state;
	test_vm_init(&vm);
	assert_int_equal(guest_memory_init(&vm.mem, mem), 0);
	vm.nr_vcpus = 4;
	exit_requests = 0;
	last_exit = -1;
	fake_ns = 1000;
	assert_int_equal(platform_devices_create(&vm), 0);
	return 0;
}

static int setup(void **state)
{
	return setup_mem(state, 64 * MIB);
}

static int setup_big(void **state)
{
	return setup_mem(state, 5ULL << 30);
}

static int teardown(void **state)
{
	(void)state;
	platform_devices_destroy(&vm);
	assert_int_equal(vm.pio.count, 0);      /* every port given back */
	guest_memory_destroy(&vm.mem);
	test_vm_destroy(&vm);
	return 0;
}

static uint32_t in(uint16_t port, unsigned len)
{
	uint8_t b[4] = { 0 };
	uint32_t v = 0;

	io_bus_access(&vm.pio, port, b, len, false);
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static void out(uint16_t port, unsigned len, uint32_t v)
{
	uint8_t b[4];

	for (unsigned i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	io_bus_access(&vm.pio, port, b, len, true);
}

#define PM1_STS   PLAT_PORT_PM1A_EVT
#define PM1_EN    (PLAT_PORT_PM1A_EVT + 2)
#define PM1_CNT   PLAT_PORT_PM1A_CNT
#define PWRBTN    0x0100
#define WAK_STS   0x8000
#define SLP_EN    0x2000
#define SLP_TYP(t) ((t) << 10)

/* ---- ACPI PM -------------------------------------------------------------- */

static void sci_en_is_always_set(void **state)
{
	(void)state;
	assert_int_equal(in(PM1_CNT, 2) & 1, 1);
	out(PM1_CNT, 2, 0);
	assert_int_equal(in(PM1_CNT, 2) & 1, 1);
	out(PM1_CNT, 2, SLP_TYP(3));
	assert_int_equal(in(PM1_CNT, 2), SLP_TYP(3) | 1);
}

static void s5_powers_off(void **state)
{
	(void)state;
	/* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN. */
	out(PM1_CNT, 2, SLP_TYP(PLAT_SLP_TYP_S5) | 1);
	assert_int_equal(exit_requests, 0);
	out(PM1_CNT, 2, SLP_TYP(PLAT_SLP_TYP_S5) | SLP_EN | 1);
	assert_int_equal(exit_requests, 1);
	assert_int_equal(last_exit, VM_EXIT_POWEROFF);
	assert_int_equal(in(PM1_CNT, 2) & SLP_EN, 0);   /* write-only */
}

static void s5_by_a_byte_write(void **state)
{
	(void)state;
	out(PM1_CNT + 1, 1, (SLP_TYP(PLAT_SLP_TYP_S5) | SLP_EN) >> 8);
	assert_int_equal(last_exit, VM_EXIT_POWEROFF);
}

static void other_sleep_states_wake_at_once(void **state)
{
	(void)state;
	out(PM1_CNT, 2, SLP_TYP(1) | SLP_EN);
	assert_int_equal(exit_requests, 0);
	assert_int_equal(in(PM1_STS, 2) & WAK_STS, WAK_STS);
	out(PM1_STS, 2, WAK_STS);                       /* write 1 to clear */
	assert_int_equal(in(PM1_STS, 2) & WAK_STS, 0);
}

static void power_button_raises_the_sci(void **state)
{
	(void)state;
	/* Not enabled yet: status only. */
	acpi_pm_press_power_button(&vm);
	assert_int_equal(in(PM1_STS, 2), PWRBTN);
	assert_int_equal(stub.irq_level[PLAT_IRQ_SCI], 0);
	/* Enabling it with the status pending raises the SCI (level). */
	out(PM1_EN, 2, PWRBTN);
	assert_int_equal(stub.irq_level[PLAT_IRQ_SCI], 1);
	assert_int_equal(in(PM1_STS, 4), PWRBTN | PWRBTN << 16);
	/* Writing 0 bits changes nothing; writing 1 clears and drops it. */
	out(PM1_STS, 2, 0);
	assert_int_equal(stub.irq_level[PLAT_IRQ_SCI], 1);
	out(PM1_STS, 2, PWRBTN);
	assert_int_equal(stub.irq_level[PLAT_IRQ_SCI], 0);
	assert_int_equal(in(PM1_STS, 2), 0);
	/* Enabled: a press asserts at once; disabling drops it. */
	acpi_pm_press_power_button(&vm);
	assert_int_equal(stub.irq_level[PLAT_IRQ_SCI], 1);
	out(PM1_EN + 1, 1, 0);
	assert_int_equal(stub.irq_level[PLAT_IRQ_SCI], 0);
	assert_int_equal(in(PM1_STS + 1, 1), PWRBTN >> 8);
}

static void enables_without_sources_are_dropped(void **state)
{
	(void)state;
	out(PM1_EN, 2, 0xffff);
	assert_int_equal(in(PM1_EN, 2), 0x0721);
}

static void pm_timer_counts_at_3_58_mhz(void **state)
{
	uint32_t t0, t1;

	(void)state;
	assert_int_equal(acpi_pm_timer_ticks(0), 0);
	assert_int_equal(acpi_pm_timer_ticks(1000000000ULL), 3579545);
	assert_int_equal(acpi_pm_timer_ticks(1000), 3);
	/* Wraps at 24 bits, and does not overflow after a year. */
	assert_int_equal(acpi_pm_timer_ticks(5000000000ULL), (5 * 3579545) & 0xffffff);
	assert_int_equal(acpi_pm_timer_ticks(365ULL * 86400 * 1000000000ULL),
			 (uint32_t)((365ULL * 86400 * 3579545) & 0xffffff));

	t0 = in(PLAT_PORT_PM_TMR, 4);
	fake_ns += 1000000;                             /* 1 ms */
	t1 = in(PLAT_PORT_PM_TMR, 4);
	assert_int_equal((t1 - t0) & 0xffffff, 3579);
	assert_int_equal(t1 >> 24, 0);
	out(PLAT_PORT_PM_TMR, 4, 0);                    /* read-only */
	assert_int_equal(in(PLAT_PORT_PM_TMR, 4), t1);
	assert_int_equal(in(PLAT_PORT_PM_TMR + 1, 1), (t1 >> 8) & 0xff);
}

static void gpe0_has_no_events(void **state)
{
	(void)state;
	out(PLAT_PORT_GPE0, 2, 0xffff);
	assert_int_equal(in(PLAT_PORT_GPE0, 2), 0);
	out(PLAT_PORT_GPE0 + 2, 1, 0x5a);
	out(PLAT_PORT_GPE0 + 3, 1, 0xa5);
	assert_int_equal(in(PLAT_PORT_GPE0, 4), 0xa55a0000);
	assert_int_equal(stub.irq_level[PLAT_IRQ_SCI], 0);
}

/* ---- Reset register --------------------------------------------------------- */

static void cf9_resets(void **state)
{
	(void)state;
	out(PLAT_PORT_RESET, 1, 0x02);                  /* SYS_RST: not yet */
	assert_int_equal(exit_requests, 0);
	assert_int_equal(in(PLAT_PORT_RESET, 1), 0x02);
	out(PLAT_PORT_RESET, 1, 0x06);
	assert_int_equal(exit_requests, 1);
	assert_int_equal(last_exit, VM_EXIT_REBOOT);
	out(PLAT_PORT_RESET, 1, 0x0e);
	assert_int_equal(exit_requests, 2);
}

/* ---- i8042 ------------------------------------------------------------------- */

#define KBD_DATA PLAT_PORT_I8042_DATA
#define KBD_CMD  PLAT_PORT_I8042_CMD

static uint8_t kbd_reply(uint8_t cmd)
{
	out(KBD_CMD, 1, cmd);
	assert_int_equal(in(KBD_CMD, 1) & 1, 1);        /* OBF */
	return (uint8_t)in(KBD_DATA, 1);
}

static void i8042_answers_its_commands(void **state)
{
	(void)state;
	assert_int_equal(in(KBD_CMD, 1) & 0x03, 0);     /* nothing to read */
	assert_int_equal(in(KBD_CMD, 1) & 0x04, 0x04);  /* system flag */
	assert_int_equal(kbd_reply(0xaa), 0x55);
	assert_int_equal(in(KBD_CMD, 1) & 1, 0);
	assert_int_equal(kbd_reply(0xab), 0x00);
	assert_int_equal(kbd_reply(0x20), 0x65);
	out(KBD_CMD, 1, 0x60);
	out(KBD_DATA, 1, 0x47);
	assert_int_equal(kbd_reply(0x20), 0x47);
	assert_int_equal(kbd_reply(0xd0), 0x03);        /* output port */
	assert_int_equal(exit_requests, 0);
}

static void i8042_devices_nak(void **state)
{
	unsigned calls;

	(void)state;
	out(KBD_CMD, 1, 0x60);
	out(KBD_DATA, 1, 0x03);                 /* both interrupts on */
	calls = stub.irq_calls;
	out(KBD_DATA, 1, 0xf2);                 /* keyboard: identify */
	assert_int_equal(in(KBD_CMD, 1) & 0x21, 0x01);
	assert_int_equal(in(KBD_DATA, 1), 0xfe);
	assert_int_equal(stub.irq_calls, calls + 2);    /* one pulse on IRQ 1 */
	out(KBD_CMD, 1, 0xd4);
	out(KBD_DATA, 1, 0xf2);                 /* aux device */
	assert_int_equal(in(KBD_CMD, 1) & 0x21, 0x21);
	assert_int_equal(in(KBD_DATA, 1), 0xfe);
	assert_int_equal(stub.irq_level[12], 0);
	assert_int_equal(exit_requests, 0);
}

static void i8042_pulse_resets(void **state)
{
	(void)state;
	out(KBD_CMD, 1, 0xff);                  /* pulse nothing */
	assert_int_equal(exit_requests, 0);
	out(KBD_CMD, 1, 0xfe);
	assert_int_equal(exit_requests, 1);
	assert_int_equal(last_exit, VM_EXIT_REBOOT);
	out(KBD_CMD, 1, 0xd1);
	out(KBD_DATA, 1, 0x03);                 /* reset line stays high */
	assert_int_equal(exit_requests, 1);
	out(KBD_CMD, 1, 0xd1);
	out(KBD_DATA, 1, 0x02);
	assert_int_equal(exit_requests, 2);
}

/* ---- Boot timer -------------------------------------------------------------- */

static void boot_timer_records_first_signal(void **state)
{
	(void)state;
	vm.start_ns = 1000;
	fake_ns = 5000000;
	out(PLAT_PORT_BOOT_TIMER, 1, 122);               /* wrong value */
	out(PLAT_PORT_BOOT_TIMER, 2, PLAT_BOOT_TIMER_MAGIC); /* wrong size */
	assert_int_equal(atomic_load(&vm.boot_done_ns), 0);
	out(PLAT_PORT_BOOT_TIMER, 1, PLAT_BOOT_TIMER_MAGIC);
	assert_int_equal(atomic_load(&vm.boot_done_ns), 5000000);
	fake_ns = 9000000;
	out(PLAT_PORT_BOOT_TIMER, 1, PLAT_BOOT_TIMER_MAGIC);
	assert_int_equal(atomic_load(&vm.boot_done_ns), 5000000);
}

/* ---- RTC / CMOS ------------------------------------------------------------- */

static uint8_t cmos(uint8_t idx)
{
	out(PLAT_PORT_RTC, 1, idx);
	return (uint8_t)in(PLAT_PORT_RTC + 1, 1);
}

static void cmos_set(uint8_t idx, uint8_t v)
{
	out(PLAT_PORT_RTC, 1, idx);
	out(PLAT_PORT_RTC + 1, 1, v);
}

static int bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* Read the clock as Linux does; retry if a second ticked meanwhile. */
static void read_clock(struct tm *got, struct tm *host)
{
	time_t t;

	do {
		t = time(NULL);
		got->tm_sec = cmos(0);
		got->tm_min = cmos(2);
		got->tm_hour = cmos(4);
		got->tm_mday = cmos(7);
		got->tm_mon = cmos(8);
		got->tm_year = cmos(9) | cmos(PLAT_RTC_CENTURY) << 8;
		got->tm_wday = cmos(6);
	} while (time(NULL) != t);
	gmtime_r(&t, host);
}

static void rtc_tells_host_utc_in_bcd(void **state)
{
	struct tm got, host;

	(void)state;
	assert_int_equal(cmos(0x0a) & 0x7f, 0x26);
	assert_int_equal(cmos(0x0b), 0x02);     /* 24 hours, BCD */
	assert_int_equal(cmos(0x0d), 0x80);     /* valid */
	read_clock(&got, &host);
	assert_int_equal(bcd((uint8_t)got.tm_sec), host.tm_sec);
	assert_int_equal(bcd((uint8_t)got.tm_min), host.tm_min);
	assert_int_equal(bcd((uint8_t)got.tm_hour), host.tm_hour);
	assert_int_equal(bcd((uint8_t)got.tm_mday), host.tm_mday);
	assert_int_equal(bcd((uint8_t)got.tm_mon), host.tm_mon + 1);
	assert_int_equal(bcd((uint8_t)got.tm_wday), host.tm_wday + 1);
	assert_int_equal(bcd(got.tm_year & 0xff) + 100 * bcd((uint8_t)(got.tm_year >> 8)),
			 host.tm_year + 1900);
}

static void rtc_binary_and_12_hour_modes(void **state)
{
	struct tm got, host;
	int h;

	(void)state;
	cmos_set(0x0b, 0x04);                   /* binary, 12 hours */
	read_clock(&got, &host);
	assert_int_equal(got.tm_min, host.tm_min);
	h = host.tm_hour % 12 ? host.tm_hour % 12 : 12;
	assert_int_equal(got.tm_hour & 0x7f, h);
	assert_int_equal(!!(got.tm_hour & 0x80), host.tm_hour >= 12);
}

static void rtc_set_by_the_guest(void **state)
{
	(void)state;
	cmos_set(0x0b, 0x82);                   /* SET: freeze */
	cmos_set(9, 0x99);
	cmos_set(PLAT_RTC_CENTURY, 0x19);
	cmos_set(8, 0x12);
	cmos_set(7, 0x31);
	cmos_set(4, 0x23);
	cmos_set(2, 0x59);
	cmos_set(0, 0x30);
	assert_int_equal(cmos(0), 0x30);        /* frozen while SET */
	cmos_set(0x0b, 0x02);                   /* run from there */
	assert_int_equal(cmos(9), 0x99);
	assert_int_equal(cmos(PLAT_RTC_CENTURY), 0x19);
	assert_int_equal(cmos(8), 0x12);
	assert_int_equal(cmos(7), 0x31);
	assert_int_equal(cmos(6), 0x06);        /* 31 Dec 1999: a Friday */
	assert_int_equal(cmos(4), 0x23);
}

static void rtc_status_c_clears_on_read(void **state)
{
	time_t t;
	uint8_t c;

	(void)state;
	cmos_set(0x0b, 0x12);                   /* update interrupts on */
	do {                                    /* within one second: */
		t = time(NULL);
		cmos(0x0c);
		c = cmos(0x0c);
	} while (time(NULL) != t);
	assert_int_equal(c & 0x80, 0);         /* nothing new since */
	cmos_set(0x0c, 0xff);                   /* read-only */
	assert_int_equal(cmos(0x0d), 0x80);
}

static void cmos_index_and_memory(void **state)
{
	(void)state;
	out(PLAT_PORT_RTC, 1, 0x80 | 0x0d);     /* NMI off, status D */
	assert_int_equal(in(PLAT_PORT_RTC + 1, 1), 0x80);
	assert_int_equal(in(PLAT_PORT_RTC, 1), 0xff);   /* index is write-only */
	cmos_set(0x40, 0xab);
	assert_int_equal(cmos(0x40), 0xab);
	/* 64 MiB: 640 KiB base, 63 MiB above 1 MiB, 48 MiB above 16 MiB. */
	assert_int_equal(cmos(0x15) | cmos(0x16) << 8, 640);
	assert_int_equal(cmos(0x17) | cmos(0x18) << 8, 63 * 1024);
	assert_int_equal(cmos(0x30) | cmos(0x31) << 8, 63 * 1024);
	assert_int_equal(cmos(0x34) | cmos(0x35) << 8, 48 * 16);
	assert_int_equal(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16, 0);
	assert_int_equal(cmos(0x5f), 3);
}

static void cmos_memory_above_4g(void **state)
{
	(void)state;
	/* 5 GiB: 3 GiB below the hole, 2 GiB above 4 GiB. */
	assert_int_equal(cmos(0x30) | cmos(0x31) << 8, 0xffff);
	assert_int_equal(cmos(0x34) | cmos(0x35) << 8, (3072 - 16) * 16);
	assert_int_equal(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16,
			 2048 * 16);
}

/* ---- Platform ------------------------------------------------------------------ */

static void nop_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
	(void)is_write;
}

static void create_fails_cleanly(void **state)
{
	(void)state;
	test_vm_init(&vm);
	assert_int_equal(guest_memory_init(&vm.mem, 64 * MIB), 0);
	/* Someone else holds the RTC ports: nothing of ours may stay. */
	assert_int_equal(io_bus_register(&vm.pio, PLAT_PORT_RTC, 2, nop_io, NULL), 0);
	assert_int_equal(platform_devices_create(&vm), -1);
	assert_int_equal(vm.pio.count, 1);
	acpi_pm_press_power_button(&vm);        /* no device: just a warning */
	io_bus_unregister(&vm.pio, PLAT_PORT_RTC);
	guest_memory_destroy(&vm.mem);
	test_vm_destroy(&vm);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(sci_en_is_always_set),
		T(s5_powers_off),
		T(s5_by_a_byte_write),
		T(other_sleep_states_wake_at_once),
		T(power_button_raises_the_sci),
		T(enables_without_sources_are_dropped),
		T(pm_timer_counts_at_3_58_mhz),
		T(gpe0_has_no_events),
		T(cf9_resets),
		T(i8042_answers_its_commands),
		T(i8042_devices_nak),
		T(i8042_pulse_resets),
		T(boot_timer_records_first_signal),
		T(rtc_tells_host_utc_in_bcd),
		T(rtc_binary_and_12_hour_modes),
		T(rtc_set_by_the_guest),
		T(rtc_status_c_clears_on_read),
		T(cmos_index_and_memory),
		cmocka_unit_test_setup_teardown(cmos_memory_above_4g, setup_big, teardown),
		cmocka_unit_test(create_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
