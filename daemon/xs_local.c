/* xenond's in-process domain 0 xenstore connection (see xs_local.h). */
#include "daemon/xs_local.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xs_wire.h"

struct xs_local {
	struct xs_server *srv;
	struct xs_conn *conn;
	uint32_t req_id;
};

static void local_wake(void *opaque)
{
	(void)opaque;	/* no watches are registered on this connection */
}

static const struct xs_conn_ops local_ops = { .wake = local_wake };

struct xs_local *xs_local_new(struct xs_server *srv)
{
	struct xs_local *xl = calloc(1, sizeof(*xl));

	if (!xl)
		return NULL;
	xl->srv = srv;
	xl->conn = xs_conn_new(srv, 0, &local_ops, xl);
	if (!xl->conn) {
		free(xl);
		return NULL;
	}
	return xl;
}

void xs_local_free(struct xs_local *xl)
{
	if (!xl)
		return;
	xs_conn_free(xl->conn);
	free(xl);
}

/*
 * Send one request and take its reply.  The reply payload (NUL-terminated,
 * malloc'd) goes to *out when out is set.  Returns 0 or -errno.
 */
static int transact(struct xs_local *xl, uint32_t type, const void *payload,
		    size_t len, char **out)
{
	char msg[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg hdr;
	const void *data;
	size_t n, avail;
	int rc = 0;

	n = xs_msg_build(msg, sizeof(msg), type, ++xl->req_id, 0, payload,
			 (uint32_t)len);
	if (!n)
		return -E2BIG;
	if (xs_conn_feed(xl->conn, msg, n) < 0)
		return -EIO;
	avail = xs_conn_output(xl->conn, &data);
	if (avail < XS_HDR_SIZE)
		return -EIO;
	memcpy(&hdr, data, sizeof(hdr));
	if (avail < XS_HDR_SIZE + hdr.len)
		return -EIO;
	if (hdr.type == XS_ERROR) {
		char name[32] = "";
		size_t l = hdr.len < sizeof(name) - 1 ? hdr.len : sizeof(name) - 1;

		memcpy(name, (const char *)data + XS_HDR_SIZE, l);
		rc = xs_errno_from_name(name);
		rc = rc ? -rc : -EIO;
	} else if (out) {
		*out = malloc(hdr.len + 1);
		if (*out) {
			memcpy(*out, (const char *)data + XS_HDR_SIZE, hdr.len);
			(*out)[hdr.len] = '\0';
		} else {
			rc = -ENOMEM;
		}
	}
	xs_conn_consume(xl->conn, XS_HDR_SIZE + hdr.len);
	/* Anything else queued (there should be nothing) is dropped. */
	avail = xs_conn_output(xl->conn, &data);
	xs_conn_consume(xl->conn, avail);
	return rc;
}

int xs_local_write(struct xs_local *xl, const char *path, const char *value)
{
	size_t plen = strlen(path) + 1, vlen = strlen(value);
	char buf[XENSTORE_PAYLOAD_MAX];

	if (plen + vlen > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, plen);
	memcpy(buf + plen, value, vlen);
	return transact(xl, XS_WRITE, buf, plen + vlen, NULL);
}

int xs_local_writef(struct xs_local *xl, const char *path,
		    const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	return xs_local_write(xl, path, value);
}

int xs_local_mkdir(struct xs_local *xl, const char *path)
{
	return transact(xl, XS_MKDIR, path, strlen(path) + 1, NULL);
}

int xs_local_rm(struct xs_local *xl, const char *path)
{
	int rc = transact(xl, XS_RM, path, strlen(path) + 1, NULL);

	return rc == -ENOENT ? 0 : rc;
}

int xs_local_set_perms(struct xs_local *xl, const char *path,
		       const char *const *perms, size_t n)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = strlen(path) + 1;

	if (len > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, len);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(perms[i]) + 1;

		if (len + l > sizeof(buf))
			return -E2BIG;
		memcpy(buf + len, perms[i], l);
		len += l;
	}
	return transact(xl, XS_SET_PERMS, buf, len, NULL);
}

int xs_local_set_perm_list(struct xs_local *xl, const char *path,
			   const struct xs_perm *perms, unsigned n)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = strlen(path) + 1, used;

	if (len > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, len);
	used = xs_perms_format(perms, n, buf + len, sizeof(buf) - len);
	if (!used)
		return -E2BIG;
	return transact(xl, XS_SET_PERMS, buf, len + used, NULL);
}

char *xs_local_read(struct xs_local *xl, const char *path)
{
	char *out = NULL;
	int rc = transact(xl, XS_READ, path, strlen(path) + 1, &out);

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return out;
}
