/*
 * COM1 driver.  Every port access is a VM exit (~10 us here), so output
 * waits for an empty transmitter once and then fills the whole 16-byte
 * FIFO, instead of polling the line status before every byte.  The bytes
 * go out with one rep outsb: still one exit per byte, but no loop
 * instructions around them (each instruction is emulated, ~0.4 us).
 */
#include "guest/serial.h"

#include "guest/x86.h"
#include "lib/platform.h"

#define COM1 PLAT_PORT_COM1
enum {
	UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_LCR = 3, UART_MCR = 4,
	UART_LSR = 5, UART_DLL = 0, UART_DLM = 1,
};
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20
#define FIFO_SIZE      16

/* Bytes that were already received when we reset the FIFOs. */
#define EARLY_MAX        64
#define EARLY_IDLE_POLLS 16
static char early[EARLY_MAX];
static unsigned early_len, early_pos;

/*
 * Input can be waiting before we run (monitors feed stdin to the UART at
 * once) and the FIFO reset in serial_init() would drop it, so keep it
 * aside first.  Once a byte is there more usually follow (QEMU refills
 * the receive register a little after each read): keep reading until the
 * line stays quiet for a few polls.  No input costs one port read.
 */
static void save_early_input(void)
{
	unsigned idle = 0;

	if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return;
	while (early_len < EARLY_MAX && idle < EARLY_IDLE_POLLS) {
		if (inb(COM1 + UART_LSR) & LSR_DATA_READY) {
			early[early_len++] = (char)inb(COM1 + UART_DATA);
			idle = 0;
		} else {
			idle++;
		}
	}
}

void serial_init(void)
{
	save_early_input();
	outb(COM1 + UART_FCR, 0xc7);  /* FIFOs on and cleared, at once */
	outb(COM1 + UART_IER, 0x00);  /* polled: no interrupts */
	outb(COM1 + UART_LCR, 0x80);  /* divisor latch access */
	outb(COM1 + UART_DLL, 0x01);  /* 115200 baud */
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, 0x03);  /* 8N1 */
	outb(COM1 + UART_MCR, 0x03);  /* DTR, RTS */
}

static void wait_tx_empty(void)
{
	/* Bounded so a UART that never drains cannot hang the guest: the
	 * output is lost then, not the test result on the other console. */
	for (unsigned i = 0; i < 1000000; i++) {
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			return;
		cpu_relax();
	}
}

void serial_write(const char *buf, size_t len)
{
	while (len) {
		size_t chunk = len < FIFO_SIZE ? len : FIFO_SIZE;

		wait_tx_empty();
		outsb(COM1 + UART_DATA, buf, chunk);
		buf += chunk;
		len -= chunk;
	}
}

bool serial_try_getc(char *c)
{
	if (early_pos < early_len) {
		*c = early[early_pos++];
		return true;
	}
	if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return false;
	*c = (char)inb(COM1 + UART_DATA);
	return true;
}

char serial_getc(void)
{
	char c;

	while (!serial_try_getc(&c))
		cpu_relax();
	return c;
}
