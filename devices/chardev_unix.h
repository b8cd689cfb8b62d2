/*
 * The unix:PATH console back end (chardev.c delegates to it): a client of
 * a UNIX stream socket that reconnects when the peer goes away.
 *
 * - Connecting is retried with a short backoff (20 ms doubling to
 *   500 ms), at start-up too, so the peer may start later or restart.
 *   The backoff starts again at 20 ms only after a connection that
 *   lasted a second, so a peer that keeps closing at once is not
 *   hammered.
 * - Output is queued in a ring (CHARDEV_OUT_BUF) and sent at once when
 *   possible, from whatever thread writes; what the peer has not taken
 *   when it goes stays queued for the next connection unless the device
 *   discards it (chardev_discard_output) from its link callback.
 * - Input is read by the main loop into CHARDEV_IN_BUF and pulled by the
 *   device; the socket is not read while that is full.  Input not pulled
 *   when the connection drops belonged to that connection and is
 *   forgotten.
 * - The link callback runs on the main thread when a connection is made
 *   (before anything queued is sent on it, by any thread) and when it is
 *   lost.
 */
#ifndef XENON_CHARDEV_UNIX_H
#define XENON_CHARDEV_UNIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/chardev.h"

struct chardev_unix;

struct chardev_unix *chardev_unix_open(const char *name, const char *path);
void chardev_unix_close(struct chardev_unix *cu);

int chardev_unix_set_input(struct chardev_unix *cu, chardev_input_fn fn,
			   void *opaque);
size_t chardev_unix_read(struct chardev_unix *cu, uint8_t *buf, size_t len);
size_t chardev_unix_input_pending(struct chardev_unix *cu);
void chardev_unix_write(struct chardev_unix *cu, const void *buf, size_t len);
uint64_t chardev_unix_dropped(struct chardev_unix *cu);

void chardev_unix_set_link(struct chardev_unix *cu, chardev_link_fn fn,
			   void *opaque);
bool chardev_unix_connected(struct chardev_unix *cu);
size_t chardev_unix_write_room(struct chardev_unix *cu);
void chardev_unix_discard_output(struct chardev_unix *cu);
void chardev_unix_reconnect(struct chardev_unix *cu);

#endif
