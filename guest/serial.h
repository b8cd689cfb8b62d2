/* 16550A UART on COM1: polled output and input. */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

void serial_init(void);
void serial_write(const char *buf, size_t len);
/* True and *c set when a received byte was waiting. */
bool serial_try_getc(char *c);
/* Wait (polling) for one received byte. */
char serial_getc(void);

#endif
