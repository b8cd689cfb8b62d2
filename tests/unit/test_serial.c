/* The 16550A: what Linux's 8250 probe checks, THRE and receive
 * interrupts, loopback, the divisor latch, output to a file chardev, and
 * input through a pty chardev with flow control (nothing lost). */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "devices/chardev.h"
#include "devices/serial_16550.h"
#include "vmm/main_loop.h"
#include "vm_stubs.h"

enum { DATA, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR
#define IRQ 4

struct fixture {
	struct vm vm;
	struct serial *s;
	struct chardev *cd;
	char path[64];
};

static struct fixture *F(void **state)
{
	return *state;
}

static int setup_with(void **state, struct chardev *cd)
{
	struct fixture *f = calloc(1, sizeof(*f));

	test_vm_init(&f->vm);
	f->cd = cd;
	f->s = serial_create(&f->vm, 0x3f8, IRQ, cd);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

static int teardown(void **state)
{
	struct fixture *f = F(state);

	serial_destroy(f->s);
	chardev_close(f->cd);
	test_vm_destroy(&f->vm);
	if (f->path[0])
		unlink(f->path);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned off)
{
	uint8_t v = 0;

	io_bus_access(&f->vm.pio, 0x3f8 + off, &v, 1, false);
	return v;
}

static void wr(struct fixture *f, unsigned off, uint8_t v)
{
	io_bus_access(&f->vm.pio, 0x3f8 + off, &v, 1, true);
}

/* The register checks of Linux's autoconfig() and autoconfig_16550a(). */
static void test_linux_probe(void **state)
{
	struct fixture *f = F(state);
	uint8_t save_mcr, status;

	/* IER holds exactly its low nibble. */
	wr(f, IER, 0);
	assert_int_equal(rd(f, IER) & 0x0f, 0);
	wr(f, IER, 0x0f);
	assert_int_equal(rd(f, IER), 0x0f);
	wr(f, IER, 0xff);
	assert_int_equal(rd(f, IER), 0x0f);     /* no UUE bit: not XScale */
	wr(f, IER, 0);
	/* Loopback: MCR 0x1a must show CTS+DCD (0x90) in MSR. */
	save_mcr = rd(f, MCR);
	wr(f, MCR, 0x1a);
	assert_int_equal(rd(f, MSR) & 0xf0, 0x90);
	wr(f, MCR, save_mcr);
	/* EFR probes (LCR 0xbf) read IIR, which must not be 0. */
	wr(f, LCR, 0xbf);
	assert_int_not_equal(rd(f, IIR), 0);
	wr(f, LCR, 0x80);
	assert_int_not_equal(rd(f, IIR), 0);
	wr(f, LCR, 0);
	/* FIFO enable: IIR bits 7:6 = 11 (16550A), never bit 5 (16750). */
	wr(f, FCR, 0x01 | 0x20);
	assert_int_equal(rd(f, IIR) & 0xe0, 0xc0);
	wr(f, FCR, 0);
	assert_int_equal(rd(f, IIR) & 0xc0, 0);
	/* Transmitter idle. */
	status = rd(f, LSR);
	assert_int_equal(status & 0x60, 0x60);
	assert_int_not_equal(status, 0xff);
}

static void test_thre_interrupt(void **state)
{
	struct fixture *f = F(state);

	assert_int_equal(rd(f, IIR) & 0x0f, 0x01);
	wr(f, IER, 0x02);
	assert_int_equal(stub.irq_level[IRQ], 1);
	assert_int_equal(rd(f, IIR) & 0x0f, 0x02);   /* reading acknowledges */
	assert_int_equal(rd(f, IIR) & 0x0f, 0x01);
	assert_int_equal(stub.irq_level[IRQ], 0);
	/* Linux's THRE test: re-enabling THRI re-asserts it. */
	wr(f, IER, 0);
	wr(f, IER, 0x02);
	assert_int_equal(rd(f, IIR) & 0x0f, 0x02);
	/* Each byte sent raises it again. */
	wr(f, DATA, 'x');
	assert_int_equal(stub.irq_level[IRQ], 1);
	wr(f, IER, 0);
	assert_int_equal(stub.irq_level[IRQ], 0);
}

static void test_loopback_receive(void **state)
{
	struct fixture *f = F(state);

	wr(f, FCR, 0x07);
	wr(f, MCR, 0x10);
	wr(f, IER, 0x01);
	for (int i = 0; i < 5; i++)
		wr(f, DATA, (uint8_t)('a' + i));
	assert_int_equal(rd(f, LSR) & 0x01, 1);
	assert_int_equal(rd(f, IIR), 0xc4);
	assert_int_equal(stub.irq_level[IRQ], 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rd(f, DATA), 'a' + i);
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	assert_int_equal(stub.irq_level[IRQ], 0);
	/* A full FIFO overruns; LSR reports it once. */
	for (int i = 0; i < 17; i++)
		wr(f, DATA, 'z');
	assert_int_equal(rd(f, LSR) & 0x03, 0x03);
	assert_int_equal(rd(f, LSR) & 0x02, 0);
	/* FCR clears the receive FIFO. */
	wr(f, FCR, 0x03);
	assert_int_equal(rd(f, LSR) & 0x01, 0);
	/* Without FIFOs the holding register keeps one byte. */
	wr(f, FCR, 0);
	wr(f, DATA, '1');
	wr(f, DATA, '2');
	assert_int_equal(rd(f, LSR) & 0x03, 0x03);
	assert_int_equal(rd(f, DATA), '1');
}

static void test_modem_status(void **state)
{
	struct fixture *f = F(state);

	assert_int_equal(rd(f, MSR), 0xb0);         /* DCD, DSR, CTS */
	wr(f, MCR, 0x10);                           /* loopback, all low */
	assert_int_equal(rd(f, MSR), 0x0b);         /* deltas of CTS, DSR, DCD */
	assert_int_equal(rd(f, MSR), 0x00);
	wr(f, IER, 0x08);
	wr(f, MCR, 0x10 | 0x04);                    /* OUT1 -> RI */
	assert_int_equal(rd(f, MSR), 0x40);
	wr(f, MCR, 0x10);                           /* RI falls: TERI */
	assert_int_equal(rd(f, IIR) & 0x0f, 0x00);
	assert_int_equal(stub.irq_level[IRQ], 1);
	assert_int_equal(rd(f, MSR), 0x04);
	assert_int_equal(stub.irq_level[IRQ], 0);
}

static void test_divisor_latch(void **state)
{
	struct fixture *f = F(state);

	wr(f, IER, 0x05);
	wr(f, LCR, 0x83);
	wr(f, DATA, 0x01);
	wr(f, IER, 0x00);
	assert_int_equal(rd(f, DATA), 0x01);
	assert_int_equal(rd(f, IER), 0x00);
	wr(f, LCR, 0x03);
	assert_int_equal(rd(f, IER), 0x05);
	assert_int_equal(rd(f, LCR), 0x03);
	wr(f, SCR, 0x5a);
	assert_int_equal(rd(f, SCR), 0x5a);
}

static int setup_file(void **state)
{
	char path[] = "/tmp/xenon-serial-XXXXXX";
	int fd = mkstemp(path);
	struct chardev_spec spec = { CHARDEV_FILE, path };
	struct fixture *f;

	close(fd);
	setup_with(state, chardev_open(&spec, "serial", NULL));
	f = F(state);
	strcpy(f->path, path);
	return 0;
}

static void test_output_to_file(void **state)
{
	struct fixture *f = F(state);
	char buf[64] = { 0 };
	FILE *fp;

	for (const char *p = "hello\r\n"; *p; p++) {
		while (!(rd(f, LSR) & 0x20))
			;
		wr(f, DATA, (uint8_t)*p);
	}
	chardev_close(f->cd);   /* flushes */
	f->cd = NULL;
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, sizeof(buf), fp), 7);
	fclose(fp);
	assert_string_equal(buf, "hello\r\n");
}

static void *loop_thread(void *arg)
{
	(void)arg;
	main_loop_run();
	return NULL;
}

static int setup_pty(void **state)
{
	struct chardev_spec spec = { CHARDEV_PTY, NULL };

	return setup_with(state, chardev_open(&spec, "serial", NULL));
}

/* More input than the chardev buffer holds arrives in order, complete:
 * the pty is simply not read while the guest is behind. */
static void test_pty_input_flow_control(void **state)
{
	struct fixture *f = F(state);
	enum { N = CHARDEV_IN_BUF * 2 + 123 };
	static char in[N];
	unsigned got = 0;
	pthread_t t;
	time_t deadline = time(NULL) + 10;
	int slave;

	for (unsigned i = 0; i < N; i++)
		in[i] = (char)('A' + i % 26);
	slave = open(chardev_path(f->cd), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	assert_int_equal(pthread_create(&t, NULL, loop_thread, NULL), 0);
	wr(f, FCR, 0x01);
	for (unsigned sent = 0; got < N && time(NULL) < deadline;) {
		if (sent < N) {
			ssize_t n = write(slave, in + sent, N - sent > 512 ? 512 : N - sent);

			if (n > 0)
				sent += (unsigned)n;
		}
		while (rd(f, LSR) & 0x01) {
			assert_int_equal(rd(f, DATA), (uint8_t)in[got]);
			got++;
		}
	}
	assert_int_equal(got, N);
	main_loop_quit();
	assert_int_equal(write(slave, "!", 1), 1); /* wake the loop: it sees quit */
	pthread_join(t, NULL);
	close(slave);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modem_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_divisor_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_to_file, setup_file, teardown),
		cmocka_unit_test_setup_teardown(test_pty_input_flow_control, setup_pty,
						teardown),
	};

	if (main_loop_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
