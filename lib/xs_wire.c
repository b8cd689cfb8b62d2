#include "lib/xs_wire.h"

#include <errno.h>
#include <string.h>

static const char *const type_names[XS_TYPE_COUNT] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[XS_RESTRICT] = "RESTRICT",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
	[XS_GET_FEATURE] = "GET_FEATURE",
	[XS_SET_FEATURE] = "SET_FEATURE",
	[XS_GET_QUOTA] = "GET_QUOTA",
	[XS_SET_QUOTA] = "SET_QUOTA",
};

const char *xs_type_name(uint32_t type)
{
	if (type < XS_TYPE_COUNT && type_names[type])
		return type_names[type];
	return "UNKNOWN";
}

/* The errors the protocol can carry, in Xen's order. */
static const struct {
	int err;
	const char *name;
} errors[] = {
	{ EINVAL, "EINVAL" }, { EACCES, "EACCES" }, { EEXIST, "EEXIST" },
	{ EISDIR, "EISDIR" }, { ENOENT, "ENOENT" }, { ENOMEM, "ENOMEM" },
	{ ENOSPC, "ENOSPC" }, { EIO, "EIO" }, { ENOTEMPTY, "ENOTEMPTY" },
	{ ENOSYS, "ENOSYS" }, { EROFS, "EROFS" }, { EBUSY, "EBUSY" },
	{ EAGAIN, "EAGAIN" }, { EISCONN, "EISCONN" }, { E2BIG, "E2BIG" },
	{ EPERM, "EPERM" },
};

const char *xs_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].err == err)
			return errors[i].name;
	return "EINVAL";
}

int xs_errno_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (strcmp(errors[i].name, name) == 0)
			return errors[i].err;
	return 0;
}

size_t xs_msg_build(void *buf, size_t cap, uint32_t type, uint32_t req_id,
		    uint32_t tx_id, const void *payload, uint32_t len)
{
	struct xsd_sockmsg hdr = { type, req_id, tx_id, len };

	if (len > XENSTORE_PAYLOAD_MAX || cap < XS_HDR_SIZE + len)
		return 0;
	memcpy(buf, &hdr, XS_HDR_SIZE);
	if (len)
		memcpy((char *)buf + XS_HDR_SIZE, payload, len);
	return XS_HDR_SIZE + len;
}
