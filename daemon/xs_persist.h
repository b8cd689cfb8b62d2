/*
 * Durability of the xenstore tree: a snapshot plus an append-only journal
 * in the state directory (see docs/xenstore.md, "Durability").
 *
 * Each request's changes become one journal entry.  Entries are written
 * with write(2) before any reply leaves the daemon (the socket layer calls
 * xs_persist_flush() first), so a kill -9 at any moment loses nothing that
 * was acknowledged: the page cache survives the process.  fdatasync runs
 * on a timer, so a host crash loses at most that interval.  When the
 * journal grows large it is folded into a new snapshot.
 */
#ifndef XENON_XS_PERSIST_H
#define XENON_XS_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/xs_dwatch.h"
#include "daemon/xs_store.h"

struct xs_persist;

struct xs_persist_stats {
	uint64_t epoch;
	size_t journal_bytes, snapshot_bytes;
	uint64_t entries_written, compactions, write_errors;
};

/*
 * Lock the state directory dir (creating it), then load its snapshot and
 * journal into store, which must be new, and the durable watches into dw
 * (empty; may be NULL, then they are skipped).  On failure returns NULL
 * with a sentence in err.  The lock keeps a second xenond off the files.
 */
struct xs_persist *xs_persist_open(const char *dir, struct xs_store *store,
				   struct xs_dwatches *dw, char *err,
				   size_t errlen);
void xs_persist_close(struct xs_persist *p);

/* Record a change of the request in progress (after it is applied). */
void xs_persist_put(struct xs_persist *p, const struct xs_node *n);
void xs_persist_del(struct xs_persist *p, const char *path);
/* Record a durable watch change ('W' add, 'U' remove, 'R' all of domid). */
void xs_persist_watch(struct xs_persist *p, char op, unsigned domid,
		      const char *path, const char *token, size_t rel_prefix);
/* Record that a transaction of domid's channel committed ('C'). */
void xs_persist_txmark(struct xs_persist *p, unsigned domid, uint32_t txid);
/* End of the request: its changes become one entry, queued for writing. */
void xs_persist_commit(struct xs_persist *p);

/* write(2) the queued entries.  0, or -1 (logged; retried next time). */
int xs_persist_flush(struct xs_persist *p);
/* fdatasync the journal if anything was written since the last sync. */
int xs_persist_sync(struct xs_persist *p);
/* Should the journal be folded into a snapshot now? */
bool xs_persist_want_compact(const struct xs_persist *p);
/* Write a snapshot of the whole store and start an empty journal. */
int xs_persist_compact(struct xs_persist *p);
/* Journal size that triggers compaction (at least twice the snapshot). */
void xs_persist_set_compact_bytes(struct xs_persist *p, size_t bytes);

void xs_persist_get_stats(const struct xs_persist *p,
			  struct xs_persist_stats *st);

#endif
