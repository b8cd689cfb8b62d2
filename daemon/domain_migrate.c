/*
 * xm migrate between two xenonds (Xen's relocation server, port 8002).
 *
 * The source xenond connects to the destination's relocation port and
 * proves it knows the shared key (relocation_auth.c); the destination
 * answers with a challenge first, then takes the domain's record, creates
 * the domain there and hands the very same TCP connection to a new
 * `xenon-vmm --incoming fd:N`.  The source hands its end to its VMM with
 * `migrate-send {"fd": true}`; the two VMMs authenticate again with the
 * key (end to end) and move the domain (docs/save-format.md).  If anything
 * fails before the destination runs the guest, the source VMM resumes it
 * and the destination cleans up.
 */
#include "daemon/domain.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/api.h"
#include "daemon/relocation_auth.h"
#include "daemon/vmm_call.h"
#include "lib/log.h"

#define HANDSHAKE_TIMEOUT_MS 5000
#define MIGRATE_TIMEOUT_MS (30 * 60 * 1000)
#define LINE_MAX_BYTES (1 << 20)

struct relocation {
	struct domain_manager *m;
	struct reloc_key key;
	int fd;
	struct ev_fd *ev;
};

/* ---- blocking line I/O with a deadline (handshakes are short) ------------ */

/* Sends and releases j. */
static int send_line(int fd, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	int rc = text && send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len &&
		 send(fd, "\n", 1, MSG_NOSIGNAL) == 1 ? 0 : -1;

	free(text);
	json_decref(j);
	return rc;
}

/* One JSON line, read byte by byte so that nothing after it (the VMMs'
 * stream) is consumed. */
static json_t *recv_line(int fd, int timeout_ms, char *err, size_t errlen)
{
	char *buf = malloc(LINE_MAX_BYTES);
	size_t len = 0;
	json_t *j;

	if (!buf)
		return NULL;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&p, 1, timeout_ms) <= 0) {
			snprintf(err, errlen, "no answer within %d ms", timeout_ms);
			goto fail;
		}
		if (recv(fd, &c, 1, 0) != 1) {
			snprintf(err, errlen, "connection closed");
			goto fail;
		}
		if (c == '\n')
			break;
		if (len + 1 >= LINE_MAX_BYTES) {
			snprintf(err, errlen, "message too long");
			goto fail;
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	j = json_loads(buf, 0, NULL);
	if (!j)
		snprintf(err, errlen, "not a JSON message");
	free(buf);
	return j;
fail:
	free(buf);
	return NULL;
}

/* ---- destination: the relocation server ---------------------------------- */

static void receive_one(struct relocation *r, int fd)
{
	char challenge[RELOC_CHALLENGE_HEX + 1], err[512];
	json_t *req, *rec;
	const char *mac;

	if (reloc_challenge(challenge) < 0 ||
	    send_line(fd, json_pack("{s:s}", "challenge", challenge)) < 0) {
		close(fd);
		return;
	}
	req = recv_line(fd, HANDSHAKE_TIMEOUT_MS, err, sizeof(err));
	mac = json_string_value(json_object_get(req, "mac"));
	rec = json_object_get(req, "record");
	if (!req || !reloc_mac_ok(&r->key, challenge, "receive", mac)) {
		log_error("relocation: refused a peer: %s", req ? "wrong key" : err);
		send_line(fd, json_pack("{s:b, s:s}", "ok", 0, "error",
					"authentication failed (relocation keys "
					"differ)"));
		json_decref(req);
		close(fd);
		return;
	}
	if (!json_is_object(rec)) {
		send_line(fd, json_pack("{s:b, s:s}", "ok", 0, "error",
					"no domain record"));
		json_decref(req);
		close(fd);
		return;
	}
	/* Tell the source first: its VMM may start talking at once, the
	 * kernel buffers it until ours runs. */
	if (send_line(fd, json_pack("{s:b}", "ok", 1)) < 0) {
		json_decref(req);
		close(fd);
		return;
	}
	if (!domain_receive(r->m, rec, fd, err, sizeof(err)))
		log_error("relocation: %s", err);
	json_decref(req);
}

static void on_accept(void *opaque, unsigned events)
{
	struct relocation *r = opaque;
	int fd;

	(void)events;
	while ((fd = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		receive_one(r, fd);
}

struct relocation *relocation_open(struct domain_manager *m,
				   const char *address, unsigned port,
				   char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct relocation *r = calloc(1, sizeof(*r));
	struct addrinfo *ai = NULL;
	char portstr[16];
	int one = 1;

	if (!r)
		return NULL;
	r->m = m;
	if (!m->opt.relocation_key) {
		snprintf(err, errlen, "--relocation-port needs --relocation-key");
		goto fail;
	}
	if (reloc_key_load(&r->key, m->opt.relocation_key, err, errlen) < 0)
		goto fail;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(address, portstr, &hints, &ai) != 0) {
		snprintf(err, errlen, "relocation address '%s': not resolvable",
			 address ? address : "*");
		goto fail;
	}
	r->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (r->fd < 0 || bind(r->fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(r->fd, 16) < 0 ||
	    !(r->ev = event_loop_add_fd(m->loop, r->fd, EV_READ, on_accept, r))) {
		snprintf(err, errlen, "relocation port %u: %s", port,
			 strerror(errno));
		if (r->fd >= 0)
			close(r->fd);
		goto fail;
	}
	freeaddrinfo(ai);
	log_info("relocation server on port %u", port);
	return r;
fail:
	if (ai)
		freeaddrinfo(ai);
	free(r);
	return NULL;
}

void relocation_close(struct relocation *r)
{
	if (!r)
		return;
	event_loop_del_fd(r->m->loop, r->ev);
	close(r->fd);
	free(r);
}

/* ---- source: xm migrate ---------------------------------------------------- */

static int connect_to(const char *host, unsigned port, char *err,
		      size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char portstr[16];
	int fd = -1, rc;

	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "host '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(err, errlen, "%s:%u: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Prove we hold the key and hand over the domain's record. */
static int handshake(int fd, const struct reloc_key *key, json_t *record,
		     char *err, size_t errlen)
{
	json_t *ch = recv_line(fd, HANDSHAKE_TIMEOUT_MS, err, errlen), *reply;
	const char *challenge = json_string_value(json_object_get(ch, "challenge"));
	char mac[RELOC_MAC_HEX + 1];
	int rc = -1;

	if (!challenge) {
		if (ch)
			snprintf(err, errlen, "the destination is not a xenond "
				 "relocation server");
		json_decref(ch);
		return -1;
	}
	reloc_mac(key, challenge, "receive", mac);
	json_decref(ch);
	if (send_line(fd, json_pack("{s:s, s:s, s:O}", "op", "receive", "mac",
				    mac, "record", record)) < 0) {
		snprintf(err, errlen, "connection lost");
		return -1;
	}
	reply = recv_line(fd, HANDSHAKE_TIMEOUT_MS, err, errlen);
	if (json_is_true(json_object_get(reply, "ok")))
		rc = 0;
	else if (reply)
		snprintf(err, errlen, "the destination refused: %s",
			 json_string_value(json_object_get(reply, "error")) ?: "?");
	json_decref(reply);
	return rc;
}

struct migrate_op {
	struct domain_manager *m;
	unsigned domid;
	struct api_waiter *waiter;
};

static void migrate_done(void *opaque, json_t *reply, const char *err)
{
	struct migrate_op *op = opaque;
	struct domain *d = domain_find_id(op->m, op->domid);
	const char *verr = json_string_value(json_object_get(reply, "error"));

	if (reply && json_is_true(json_object_get(reply, "ok"))) {
		json_t *r = json_deep_copy(reply);

		if (d)
			domain_gone_saved(d);	/* it runs over there now */
		api_waiter_reply(op->waiter, r);
	} else {
		log_error("domain %u: migration failed: %s", op->domid,
			  err ? err : verr ? verr : "?");
		api_waiter_reply(op->waiter,
				 api_error("EIO", "migration failed (the domain "
					   "keeps running here): %s",
					   err ? err : verr ? verr : "?"));
	}
	free(op);
}

json_t *domain_op_migrate(struct domain_manager *m, struct domain *d,
			  const struct migrate_params *mp,
			  struct api_call *call)
{
	const char *host = mp->host;
	unsigned port = mp->port;
	bool live = mp->live || mp->postcopy;
	struct reloc_key key;
	struct migrate_op *op;
	char err[512], sock[600];
	json_t *req, *rec;
	int fd;

	if (d->phase != DOMAIN_ACTIVE || d->incoming)
		return api_error("EINVAL", "domain %s is not running", d->name);
	if (!m->opt.relocation_key)
		return api_error("EINVAL", "migration needs xenond "
				 "--relocation-key (the same key as the "
				 "destination's)");
	if (reloc_key_load(&key, m->opt.relocation_key, err, sizeof(err)) < 0)
		return api_error("EINVAL", "%s", err);
	fd = connect_to(host, port, err, sizeof(err));
	rec = domain_portable_record(d);
	if (fd < 0 || handshake(fd, &key, rec, err, sizeof(err)) < 0) {
		json_decref(rec);
		if (fd >= 0)
			close(fd);
		return api_error("EIO", "migrate %s to %s: %s", d->name, host, err);
	}
	op = calloc(1, sizeof(*op));
	req = json_pack("{s:s, s:b, s:b, s:b, s:i, s:i, s:s#, s:o}", "cmd",
			"migrate-send", "fd", 1, "live", live, "postcopy",
			mp->postcopy, "downtime_ms", (int)mp->downtime_ms,
			"max_bandwidth_mib_s", (int)mp->max_mib_s,
			"key", (const char *)key.bytes, (int)key.len, "config", rec);
	snprintf(sock, sizeof(sock), "%s/control.sock", d->dir);
	if (op) {
		op->m = m;
		op->domid = d->domid;
	}
	struct vmm_call *c = op ? vmm_call_start(m->loop, sock, req, fd,
						 MIGRATE_TIMEOUT_MS, migrate_done,
						 op, err, sizeof(err)) : NULL;
	json_decref(req);
	close(fd);	/* the VMM has its own copy now */
	memset(&key, 0, sizeof(key));
	if (!c) {
		free(op);
		return api_error("EIO", "migrate %s: %s", d->name, err);
	}
	op->waiter = api_defer(call);
	log_info("domain %s (%u): %s migration to %s:%u started", d->name,
		 d->domid, mp->postcopy ? "live (post-copy allowed)" :
		 live ? "live" : "warm", host, port);
	return NULL;
}
