/*
 * virtio-console (device type 3), port 0 only: receiveq 0, transmitq 1,
 * no MULTIPORT.  Receive completions arrive as MSI-X interrupts.
 */
#ifndef GUEST_VIRTIO_CONSOLE_H
#define GUEST_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

/* Find and start the first virtio console; false if there is none. */
bool vcons_init(void);
bool vcons_present(void);
/* Send bytes and wait until the device has taken them. */
void vcons_write(const char *buf, size_t len);
/* Read one line (the newline dropped, '\r' ignored) into buf, NUL
 * terminated; sleeps with hlt until receive interrupts bring it. */
size_t vcons_read_line(char *buf, size_t size);
/* Receive interrupts taken so far. */
unsigned vcons_rx_irqs(void);

#endif
