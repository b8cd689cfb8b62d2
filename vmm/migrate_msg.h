/* Hand-shake messages of a migration (migration-message sections, JSON:
 * {"msg": "sync"|"synced"|"ready"|"go"|"running"|"error", "error": TEXT,
 * "running": B}). */
#ifndef XENON_MIGRATE_MSG_H
#define XENON_MIGRATE_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/save_stream.h"

int mig_msg_send(struct ss_stream *s, const char *msg, const char *error,
		 bool running);
/* Next section must be a message: fills msg, text (the error text, or
 * ""), *running (if non-NULL).  -1 with err on anything else. */
int mig_msg_read(struct ss_stream *s, char *msg, size_t msglen, char *text,
		 size_t textlen, bool *running, char *err, size_t errlen);

/* The same for a message section already read. */
int mig_msg_parse(const void *payload, size_t len, char *msg, size_t msglen,
		  char *text, size_t textlen, bool *running, char *err,
		  size_t errlen);

#endif
