/*
 * The xenstore channel, guest side: the virtio console whose PCI
 * subsystem ID is PLAT_XS_CHANNEL_SUBSYS_ID, used as a byte pipe to
 * xenond (the monitor relays it; only whole xs_wire messages arrive).
 * Both queues interrupt, so every wait is a halt, never a spin: while
 * xenond restarts the guest sleeps.
 */
#ifndef GUEST_XS_CHANNEL_H
#define GUEST_XS_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Find and start the channel; false if there is none. */
bool xsc_init(void);
/* Queue len (<= 8 KiB) bytes and halt until the device has taken them. */
void xsc_send(const void *buf, size_t len);
/* Received bytes waiting (after collecting completed buffers). */
size_t xsc_available(void);
/* Take up to len received bytes, halting until at least one is there or
 * the TSC reaches deadline (0: no limit).  Returns the count (0: time). */
size_t xsc_recv(void *buf, size_t len, uint64_t deadline);
/* Has the device flagged DEVICE_NEEDS_RESET (we broke the protocol)? */
bool xsc_needs_reset(void);

#endif
