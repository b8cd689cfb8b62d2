/*
 * A minimal i8042 keyboard controller at 0x60/0x64 with nothing plugged
 * in: enough that guests probing it get sane answers quickly, and that the
 * classic reset (0xfe to port 0x64) reboots the domain.
 */
#ifndef XENON_I8042_H
#define XENON_I8042_H

#include <stdint.h>

struct vm;
struct i8042;

struct i8042 *i8042_create(struct vm *vm);
void i8042_destroy(struct i8042 *k);

#endif
