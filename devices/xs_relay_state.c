/*
 * The xenstore channel relay's saved state (docs/save-format.md): the
 * guest's request being assembled, the requests sent and not answered,
 * and a complete store message not yet wholly given to the guest.  What
 * the old connection had half-received is not kept: after a restore or a
 * migration the channel is a new connection, so, as for a reconnection,
 * the pending requests are sent again and their replies come whole.
 */
#include "devices/xs_relay.h"

#include <string.h>

static uint32_t hdr_len(const uint8_t *msg)
{
	struct xsd_sockmsg h;

	memcpy(&h, msg, XS_HDR_SIZE);
	return h.len;
}

void xs_relay_save(const struct xs_relay *r, struct sbuf *out)
{
	size_t msg_len = r->msg_complete ? r->msg_len : 0;

	sbuf_u32(out, (uint32_t)r->cur_len);
	sbuf_put(out, r->cur, r->cur_len);
	sbuf_u32(out, r->npending);
	sbuf_u32(out, (uint32_t)r->pending_len);
	sbuf_put(out, r->pending, r->pending_len);
	sbuf_u32(out, (uint32_t)msg_len);
	sbuf_u32(out, msg_len ? (uint32_t)r->delivered : 0);
	sbuf_put(out, r->msg, msg_len);
}

/* Is buf exactly n whole messages, each within the payload limit? */
static bool whole_messages(const uint8_t *buf, size_t len, unsigned n)
{
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		if (len - off < XS_HDR_SIZE ||
		    hdr_len(buf + off) > XENSTORE_PAYLOAD_MAX ||
		    len - off < XS_HDR_SIZE + hdr_len(buf + off))
			return false;
		off += XS_HDR_SIZE + hdr_len(buf + off);
	}
	return off == len;
}

/* A partial request: shorter than its header says, within the limit. */
static bool partial_request(const uint8_t *buf, size_t len)
{
	if (len < XS_HDR_SIZE)
		return true;
	return hdr_len(buf) <= XENSTORE_PAYLOAD_MAX &&
	       len < XS_HDR_SIZE + hdr_len(buf);
}

void xs_relay_load(struct xs_relay *r, struct sreader *in)
{
	uint32_t cur_len, npending, pending_len, msg_len, delivered;
	const uint8_t *cur, *pending, *msg;

	cur_len = sr_u32(in);
	cur = sr_ptr(in, cur_len <= XS_RELAY_MSG_MAX ? cur_len : 0);
	npending = sr_u32(in);
	pending_len = sr_u32(in);
	pending = sr_ptr(in, pending_len <= sizeof(r->pending) ?
			 pending_len : 0);
	msg_len = sr_u32(in);
	delivered = sr_u32(in);
	msg = sr_ptr(in, msg_len <= XS_RELAY_MSG_MAX ? msg_len : 0);
	if (!sr_ok(in))
		return;
	if (cur_len > XS_RELAY_MSG_MAX || !partial_request(cur, cur_len))
		sr_fail(in, "xenstore relay: bad partial request (%u bytes)",
			cur_len);
	else if (pending_len > sizeof(r->pending) ||
		 !whole_messages(pending, pending_len, npending))
		sr_fail(in, "xenstore relay: %u pending requests do not fill "
			"%u bytes", npending, pending_len);
	else if (msg_len > XS_RELAY_MSG_MAX ||
		 (msg_len && (!whole_messages(msg, msg_len, 1) ||
			      delivered >= msg_len)))
		sr_fail(in, "xenstore relay: bad message for the guest (%u "
			"bytes, %u delivered)", msg_len, delivered);
	if (!sr_ok(in))
		return;
	memcpy(r->cur, cur, cur_len);
	r->cur_len = cur_len;
	memcpy(r->pending, pending, pending_len);
	r->pending_len = pending_len;
	r->npending = npending;
	memcpy(r->msg, msg, msg_len);
	r->msg_len = msg_len;
	r->delivered = msg_len ? delivered : 0;
	r->msg_complete = msg_len != 0;
	r->skip_replies = 0;	/* those were the old connection's */
}
