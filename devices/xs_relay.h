/*
 * The xenstore channel relay: xs_wire framing between a guest and xenond,
 * so that a restart of xenond (kill -9 included) costs the guest nothing
 * but a delay.  Pure logic, no I/O: xs_channel.c moves the bytes.
 *
 * Guest -> store: requests are assembled whole, then sent and kept as
 * "pending" until their reply arrives (xenond answers each request once,
 * in order).  Store -> guest: a message is handed to the guest only once
 * it is complete.  When the connection drops, a partly received message
 * is forgotten and, on reconnection, every pending request is sent again,
 * so the guest gets exactly one whole reply per request and no torn
 * message.  A request re-sent after xenond had already carried it out is
 * carried out twice: harmless for reads, writes, mkdir, rm, a WATCH
 * (xenond acknowledges a WATCH it re-armed) and a commit (xenond
 * acknowledges a TRANSACTION_END it committed); an UNWATCH then answers
 * ENOENT, and the requests of a transaction still open ENOENT (its id
 * died with xenond), which guests handle by starting it again.
 *
 * Pending requests are bounded (XS_RELAY_PENDING_MAX); past that the
 * relay takes no more guest bytes until replies come (backpressure).
 */
#ifndef XENON_XS_RELAY_H
#define XENON_XS_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/state_buf.h"
#include "lib/xs_wire.h"

#define XS_RELAY_MSG_MAX     (XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX)
#define XS_RELAY_PENDING_MAX (32u * 1024)

struct xs_relay {
	/* the guest's request being assembled */
	uint8_t cur[XS_RELAY_MSG_MAX];
	size_t cur_len;
	/* requests sent, not answered: whole messages back to back */
	uint8_t pending[XS_RELAY_PENDING_MAX + XS_RELAY_MSG_MAX];
	size_t pending_len;
	unsigned npending;
	/* replies to drop: requests of a driver that reset the device */
	unsigned skip_replies;
	/* the store's message being assembled, then delivered */
	uint8_t msg[XS_RELAY_MSG_MAX];
	size_t msg_len, delivered;
	bool msg_complete;

	void (*send)(void *opaque, const void *buf, size_t len);
	void *opaque;
	uint64_t resent, replies;	/* statistics */
};

void xs_relay_init(struct xs_relay *r,
		   void (*send)(void *opaque, const void *buf, size_t len),
		   void *opaque);

/* Take up to len guest bytes; returns how many were taken (fewer when
 * the pending limit is reached).  A request announcing a payload over
 * XENSTORE_PAYLOAD_MAX breaks the channel: returns 0 with *err set. */
size_t xs_relay_from_guest(struct xs_relay *r, const void *buf, size_t len,
			   const char **err);
/* Would xs_relay_from_guest take anything now? */
bool xs_relay_guest_ready(const struct xs_relay *r);

/* Store bytes: how many the relay wants now (0 while a complete message
 * waits for the guest), then give them.  A malformed message sets *err
 * (the connection should be dropped) and returns -1. */
size_t xs_relay_store_want(const struct xs_relay *r);
int xs_relay_from_store(struct xs_relay *r, const void *buf, size_t len,
			const char **err);
/* The complete message's bytes not yet given to the guest. */
size_t xs_relay_to_guest(const struct xs_relay *r, const void **data);
void xs_relay_delivered(struct xs_relay *r, size_t n);

/* The connection dropped: forget a partial store message. */
void xs_relay_link_down(struct xs_relay *r);
/* A new connection: send every pending request again. */
void xs_relay_link_up(struct xs_relay *r);
/* The guest reset the device: forget its state; replies to requests
 * already sent will be dropped. */
void xs_relay_guest_reset(struct xs_relay *r);

/* Save/restore and migration (xs_relay_state.c): load reports bad input
 * with sr_fail() and changes nothing then; after it the relay is as after
 * a dropped connection (pending requests to be sent again). */
void xs_relay_save(const struct xs_relay *r, struct sbuf *out);
void xs_relay_load(struct xs_relay *r, struct sreader *in);

#endif
