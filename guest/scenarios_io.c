/* Scenarios about input and output: console (virtio), serial-echo. */
#include "guest/scenario.h"
#include "guest/serial.h"
#include "guest/string.h"
#include "guest/virtio_console.h"

#define LINE_MAX 256

static void upcase(char *s)
{
	for (; *s; s++)
		*s = to_upper(*s);
}

void scn_console(void)
{
	static const char hello[] = "xenon-guest: hello from virtio-console\n";
	char line[LINE_MAX], reply[LINE_MAX + 8];
	int n;

	if (!vcons_present()) {
		result(false, "reason=no-virtio-console");
		return;
	}
	vcons_write(hello, sizeof(hello) - 1);
	vcons_read_line(line, sizeof(line));
	upcase(line);
	n = snprintf(reply, sizeof(reply), "ECHO: %s\n", line);
	vcons_write(reply, (size_t)n < sizeof(reply) ? (size_t)n : sizeof(reply) - 1);
	result(vcons_rx_irqs() > 0, "irqs=%u", vcons_rx_irqs());
}

/* One line from the serial port, polling (no UART interrupts). */
static size_t serial_read_line(char *buf, size_t size)
{
	size_t n = 0;
	char c;

	while ((c = serial_getc()) != '\n') {
		if (c != '\r' && n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return n;
}

void scn_serial_echo(void)
{
	char line[LINE_MAX];
	size_t n = serial_read_line(line, sizeof(line));

	upcase(line);
	printk("ECHO: %s\n", line);
	result(true, "len=%zu", n);
}
