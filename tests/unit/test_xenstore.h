/*
 * Helpers for the xenstore unit tests: an in-process client that speaks
 * xs_wire to an xs_conn, as a transport would, without any socket.
 */
#ifndef XENON_TEST_XENSTORE_H
#define XENON_TEST_XENSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/xs_quota.h"
#include "daemon/xs_server.h"
#include "lib/xs_wire.h"

#define T_MAX_EVENTS 256

struct t_reply {
	struct xsd_sockmsg hdr;
	char data[XENSTORE_PAYLOAD_MAX + 1];	/* nul added after len */
};

struct t_event {
	char path[XENSTORE_PAYLOAD_MAX];
	char token[XENSTORE_PAYLOAD_MAX];
};

struct tconn {
	struct xs_conn *c;
	uint32_t req_id;
	unsigned nevents, next_event;
	struct t_event *events;	/* T_MAX_EVENTS */
	unsigned wakes;
};

/* A memory-only server (state_dir NULL) or a persistent one. */
struct xs_server *t_server(const struct xs_quota *q, const char *state_dir);
struct tconn *t_conn(struct xs_server *srv, unsigned domid);
void t_conn_free(struct tconn *t);

/* Send one request; the reply (events are set aside) goes to r.
 * Returns 0 for a normal reply, or the errno of an XS_ERROR reply. */
int t_req(struct tconn *t, uint32_t type, uint32_t tx, const void *payload,
	  size_t len, struct t_reply *r);
/* Same, payload = one string with its nul. */
int t_req1(struct tconn *t, uint32_t type, uint32_t tx, const char *arg,
	   struct t_reply *r);

int t_write(struct tconn *t, uint32_t tx, const char *path, const char *v);
/* Reads into out (nul-terminated); returns 0 or the errno. */
int t_read(struct tconn *t, uint32_t tx, const char *path, char *out,
	   size_t cap);
int t_mkdir(struct tconn *t, uint32_t tx, const char *path);
int t_rm(struct tconn *t, uint32_t tx, const char *path);
/* Children joined by spaces into out. */
int t_dir(struct tconn *t, uint32_t tx, const char *path, char *out,
	  size_t cap);
/* Perms joined by spaces ("b0 r5"). */
int t_get_perms(struct tconn *t, uint32_t tx, const char *path, char *out,
		size_t cap);
/* perms as space-separated entries. */
int t_set_perms(struct tconn *t, uint32_t tx, const char *path,
		const char *perms);
int t_watch(struct tconn *t, const char *path, const char *token);
int t_unwatch(struct tconn *t, const char *path, const char *token);
/* Returns the new id, or 0 with *err set. */
uint32_t t_tx_start(struct tconn *t, int *err);
int t_tx_end(struct tconn *t, uint32_t tx, bool commit);
int t_restrict(struct tconn *t, unsigned domid);

/* Collect pending watch events; returns the next one or NULL. */
const struct t_event *t_event(struct tconn *t);
/* Number of events not yet taken (after collecting). */
unsigned t_pending_events(struct tconn *t);
void t_drop_events(struct tconn *t);

#endif
