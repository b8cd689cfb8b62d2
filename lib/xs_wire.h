/*
 * Xen's xenstore wire protocol (xs_wire), written from the public protocol
 * description (docs/misc/xenstore.txt and io/xs_wire.h): every message in
 * either direction is a 16-byte header followed by `len` payload bytes.
 * The numbers below are the protocol; they must never change.
 *
 * Shared by xenond (the server), its tests and the benchmark client.
 */
#ifndef XENON_XS_WIRE_H
#define XENON_XS_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum xs_msg_type {
	XS_CONTROL = 0,		/* was XS_DEBUG */
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_GET_PERMS = 3,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_INTRODUCE = 8,
	XS_RELEASE = 9,
	XS_GET_DOMAIN_PATH = 10,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_RM = 13,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
	XS_IS_DOMAIN_INTRODUCED = 17,
	XS_RESUME = 18,
	XS_SET_TARGET = 19,
	XS_RESTRICT = 20,	/* Xen 4.7-4.8 only; Xenon uses it, see docs */
	XS_RESET_WATCHES = 21,
	XS_DIRECTORY_PART = 22,
	XS_GET_FEATURE = 23,
	XS_SET_FEATURE = 24,
	XS_GET_QUOTA = 25,
	XS_SET_QUOTA = 26,
	XS_TYPE_COUNT,
	XS_INVALID = 0xffff
};

/* The header, in host byte order (both ends run on the same machine). */
struct xsd_sockmsg {
	uint32_t type;		/* enum xs_msg_type */
	uint32_t req_id;	/* echoed in the reply */
	uint32_t tx_id;		/* transaction, 0 for none */
	uint32_t len;		/* payload bytes that follow */
};

#define XS_HDR_SIZE ((size_t)sizeof(struct xsd_sockmsg))

/* A payload longer than this kills the connection (both directions). */
#define XENSTORE_PAYLOAD_MAX 4096
/* Longer paths get EINVAL. */
#define XENSTORE_ABS_PATH_MAX 3072
#define XENSTORE_REL_PATH_MAX 2048

/* Domain ids from here on are special (DOMID_SELF etc. in Xen's xen.h). */
#define XS_DOMID_FIRST_RESERVED 0x7ff0u
#define XS_DOMID_SELF 0x7ff0u

/* Name of a message type ("READ"), or "UNKNOWN". */
const char *xs_type_name(uint32_t type);

/* The errno name sent in an XS_ERROR payload ("ENOENT").  Errors outside
 * the protocol's list map to "EINVAL", as Xen does. */
const char *xs_errno_name(int err);

/* The errno for a name from an XS_ERROR payload; 0 if not in the list. */
int xs_errno_from_name(const char *name);

/* Write header + payload into buf (cap bytes).  Returns the message size,
 * or 0 if it does not fit or len exceeds XENSTORE_PAYLOAD_MAX. */
size_t xs_msg_build(void *buf, size_t cap, uint32_t type, uint32_t req_id,
		    uint32_t tx_id, const void *payload, uint32_t len);

#endif
