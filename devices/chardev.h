/*
 * Console back ends (null, stdio, pty, file:PATH, and unix:PATH, a
 * reconnecting socket client: chardev_unix.h) for the serial port,
 * virtio-console and the xenstore channel.
 *
 * Output never blocks the caller (a vCPU or the main loop): bytes go into a
 * bounded buffer that a writer thread drains to a non-blocking descriptor.
 * If the reader falls behind and the buffer is full, the newest bytes are
 * dropped and counted (one warning, and the total at exit), so what was
 * already buffered stays intact.  At exit the buffer is flushed, waiting at
 * most CHARDEV_DRAIN_MS for a slow reader.
 *
 * Input is read by the main loop into a small buffer and pulled by the
 * device with chardev_read() when it has room (RX FIFO, posted virtio
 * buffers).  While the buffer is full the descriptor is not polled, so the
 * producer is throttled and nothing is lost.
 */
#ifndef XENON_CHARDEV_H
#define XENON_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/options.h"

#define CHARDEV_OUT_BUF   65536
#define CHARDEV_IN_BUF    4096
#define CHARDEV_DRAIN_MS  2000

struct chardev;

/* Called on the main thread when input is waiting in the buffer. */
typedef void (*chardev_input_fn)(void *opaque);

/*
 * name is the device ("serial", "virtio-console") for messages.  A pty
 * prints "xenon-vmm: <name> console on /dev/pts/N" and, if link is set,
 * points that symlink at it.  NULL after a clear error.
 */
struct chardev *chardev_open(const struct chardev_spec *spec,
			     const char *name, const char *link);
void chardev_close(struct chardev *cd);

/* Start reading input (main loop); fn is told when bytes are waiting. */
int chardev_set_input(struct chardev *cd, chardev_input_fn fn, void *opaque);
/* Take up to len waiting input bytes; any thread. */
size_t chardev_read(struct chardev *cd, uint8_t *buf, size_t len);
/* Bytes waiting in the input buffer. */
size_t chardev_input_pending(struct chardev *cd);

/* Queue output; any thread, never blocks. */
void chardev_write(struct chardev *cd, const void *buf, size_t len);
void chardev_putc(struct chardev *cd, uint8_t c);

/* Reconnecting back ends (unix:PATH): the peer came (up) or went.
 * Main thread. */
typedef void (*chardev_link_fn)(void *opaque, bool up);
void chardev_set_link(struct chardev *cd, chardev_link_fn fn, void *opaque);
/* Is there a peer to send to?  Always true for the other kinds. */
bool chardev_connected(struct chardev *cd);
/* Output bytes that can be queued now without any being dropped. */
size_t chardev_write_room(struct chardev *cd);
/* Forget queued output not sent yet (a device that re-sends what its
 * peer did not answer, after a reconnection). */
void chardev_discard_output(struct chardev *cd);
/* unix:PATH: drop the connection and connect again (done soon by the
 * main loop; any thread, any lock held). */
void chardev_reconnect(struct chardev *cd);

/* For tests and messages. */
uint64_t chardev_dropped(struct chardev *cd);
const char *chardev_path(struct chardev *cd); /* pty path, or NULL */

#endif
