/* The xenstore channel relay: see xs_relay.h for the rules. */
#include "devices/xs_relay.h"

#include <string.h>

#include "lib/log.h"

void xs_relay_init(struct xs_relay *r,
		   void (*send)(void *opaque, const void *buf, size_t len),
		   void *opaque)
{
	memset(r, 0, sizeof(*r));
	r->send = send;
	r->opaque = opaque;
}

static uint32_t payload_len(const uint8_t *msg)
{
	struct xsd_sockmsg h;

	memcpy(&h, msg, XS_HDR_SIZE);
	return h.len;
}

static uint32_t msg_type(const uint8_t *msg)
{
	struct xsd_sockmsg h;

	memcpy(&h, msg, XS_HDR_SIZE);
	return h.type;
}

bool xs_relay_guest_ready(const struct xs_relay *r)
{
	return r->pending_len < XS_RELAY_PENDING_MAX;
}

/* Bytes still missing from a message of which `have` are there. */
static size_t missing(const uint8_t *msg, size_t have)
{
	if (have < XS_HDR_SIZE)
		return XS_HDR_SIZE - have;
	return XS_HDR_SIZE + payload_len(msg) - have;
}

size_t xs_relay_from_guest(struct xs_relay *r, const void *buf, size_t len,
			   const char **err)
{
	const uint8_t *p = buf;
	size_t taken = 0;

	*err = NULL;
	while (taken < len && xs_relay_guest_ready(r)) {
		size_t n = missing(r->cur, r->cur_len);

		if (n > len - taken)
			n = len - taken;
		memcpy(r->cur + r->cur_len, p + taken, n);
		r->cur_len += n;
		taken += n;
		if (r->cur_len == XS_HDR_SIZE &&
		    payload_len(r->cur) > XENSTORE_PAYLOAD_MAX) {
			*err = "request payload over 4096 bytes";
			r->cur_len = 0;
			return 0;
		}
		if (missing(r->cur, r->cur_len))
			continue;
		memcpy(r->pending + r->pending_len, r->cur, r->cur_len);
		r->pending_len += r->cur_len;
		r->npending++;
		r->send(r->opaque, r->cur, r->cur_len);
		r->cur_len = 0;
	}
	return taken;
}

size_t xs_relay_store_want(const struct xs_relay *r)
{
	return r->msg_complete ? 0 : missing(r->msg, r->msg_len);
}

/* A whole message from the store: a reply answers the oldest request. */
static void store_msg_done(struct xs_relay *r)
{
	size_t first;

	r->delivered = 0;
	if (msg_type(r->msg) == XS_WATCH_EVENT) {
		r->msg_complete = true;
		return;
	}
	r->replies++;
	if (r->skip_replies) {
		/* for a driver that is gone (its requests were dropped) */
		r->skip_replies--;
		r->msg_len = 0;
		return;
	}
	if (r->npending) {
		first = XS_HDR_SIZE + payload_len(r->pending);
		memmove(r->pending, r->pending + first, r->pending_len - first);
		r->pending_len -= first;
		r->npending--;
	} else {
		log_warn("xenstore channel: a reply to no request; passed on");
	}
	r->msg_complete = true;
}

int xs_relay_from_store(struct xs_relay *r, const void *buf, size_t len,
			const char **err)
{
	*err = NULL;
	if (len > xs_relay_store_want(r)) {
		*err = "more bytes than asked for";
		return -1;
	}
	memcpy(r->msg + r->msg_len, buf, len);
	r->msg_len += len;
	if (r->msg_len == XS_HDR_SIZE &&
	    payload_len(r->msg) > XENSTORE_PAYLOAD_MAX) {
		*err = "message payload over 4096 bytes";
		r->msg_len = 0;
		return -1;
	}
	if (r->msg_len >= XS_HDR_SIZE && !missing(r->msg, r->msg_len))
		store_msg_done(r);
	return 0;
}

size_t xs_relay_to_guest(const struct xs_relay *r, const void **data)
{
	*data = r->msg + r->delivered;
	return r->msg_complete ? r->msg_len - r->delivered : 0;
}

void xs_relay_delivered(struct xs_relay *r, size_t n)
{
	r->delivered += n;
	if (r->msg_complete && r->delivered >= r->msg_len) {
		r->msg_complete = false;
		r->msg_len = r->delivered = 0;
	}
}

void xs_relay_link_down(struct xs_relay *r)
{
	/* A complete message still goes to the guest; a torn one never
	 * will: its request is pending and is asked again. */
	if (!r->msg_complete)
		r->msg_len = 0;
	/* Those replies will not come: their requests are not re-sent. */
	r->skip_replies = 0;
}

void xs_relay_link_up(struct xs_relay *r)
{
	size_t off = 0;

	for (unsigned i = 0; i < r->npending; i++) {
		size_t n = XS_HDR_SIZE + payload_len(r->pending + off);

		r->send(r->opaque, r->pending + off, n);
		off += n;
		r->resent++;
	}
}

void xs_relay_guest_reset(struct xs_relay *r)
{
	r->skip_replies += r->npending;
	r->npending = 0;
	r->pending_len = 0;
	r->cur_len = 0;
	if (r->msg_complete) {
		r->msg_complete = false;
		r->msg_len = r->delivered = 0;
	}
}
