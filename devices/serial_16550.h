/* 16550A UART on the port-I/O bus (COM1), backed by a chardev. */
#ifndef XENON_SERIAL_16550_H
#define XENON_SERIAL_16550_H

#include <stdint.h>

struct vm;
struct chardev;
struct serial;

/* Registers 8 ports at base and drives GSI irq; input comes from cd. */
struct serial *serial_create(struct vm *vm, uint16_t base, unsigned irq,
			     struct chardev *cd);
void serial_destroy(struct serial *s);

/* The register file, for unit tests: offset 0-7. */
uint8_t serial_read_reg(struct serial *s, unsigned off);
void serial_write_reg(struct serial *s, unsigned off, uint8_t val);

#endif
