/*
 * Post-copy switch-over of a live migration (docs/save-format.md,
 * "Post-copy").
 *
 * When pre-copy stops converging (the guest dirties memory faster than
 * the link moves it), the source pauses the guest and sends, instead of
 * the remaining dirty pages, a `postcopy` section — the bitmap of pages it
 * still owns — then the machine state and the end marker.  The
 * destination drops its stale copies of those pages, registers guest RAM
 * with userfaultfd and runs the guest at once; a touched page that the
 * source still owns is asked for (`page-request` sections) while the
 * source pushes the rest in the background.  The source ends with
 * "postcopy-done"; the destination answers "postcopy-complete" once every
 * page is in place.
 *
 * The price: after "go", the source is the only holder of pages the
 * destination has not received, so losing either side or the link loses
 * the domain (it stays paused on the source, the destination stops).
 */
#ifndef XENON_POSTCOPY_H
#define XENON_POSTCOPY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/save_stream.h"

struct mig_channel;
struct ram_sender;
struct vm;

#define POSTCOPY_REQ_MAX 64      /* pages in one page-request section */

/* ---- source ---- */

/* The postcopy section: the pages still to come (bits, words of 64). */
int postcopy_write_bitmap(struct ss_stream *out, const uint64_t *bits,
			  uint64_t words, uint64_t pages);

struct postcopy_source {
	struct mig_channel *ch;
	struct ss_stream *out, *in;
	struct ram_sender *rs;
	uint64_t *todo, words;       /* pages not sent yet (cleared as sent) */
	bool was_running;            /* the "go" says whether it runs */
	int timeout_ms;
	uint64_t max_bps, t_start;   /* the migration's bandwidth cap, 0 = none */
	atomic_bool *cancel;
	/* results (go_sent is read by migrate-cancel on the main thread) */
	atomic_bool go_sent;
	uint64_t requested, pushed;   /* pages sent on request / in order */
	uint64_t t_go, t_running, t_done;   /* monotonic ns */
	char err[300];
};

/* After the end marker: hand the domain over and serve its pages until
 * the destination has all of them.  0, or -1 with ps->err. */
int postcopy_serve(struct postcopy_source *ps);

/* ---- destination ---- */

struct postcopy_dest;

/* Parse a postcopy section (RAM of `pages` pages).  -1 with err. */
int postcopy_parse_bitmap(const void *payload, size_t len, uint64_t pages,
			  uint64_t **bits, char *err, size_t errlen);
/* At the end marker: drop the stale copies of the bitmap's pages, page
 * guest RAM in through userfaultfd, and read the rest of the stream on a
 * thread of its own.  Takes bits.  Writes to `out` go through
 * postcopy_dest_send() from here on. */
int postcopy_dest_start(struct postcopy_dest **out, struct vm *vm,
			struct mig_channel *ch, struct ss_stream *in,
			struct ss_stream *outs, uint64_t *bits);
/* A message to the source (locked against the pager's requests). */
int postcopy_dest_send(struct postcopy_dest *pd, const char *msg,
		       const char *error, bool running);
/* Wait for "go"; *running says whether the vCPUs run.  -1: failed. */
int postcopy_dest_wait_go(struct postcopy_dest *pd, bool *running);
/* At exit: stop the reader thread and the pager. */
void postcopy_dest_destroy(struct postcopy_dest *pd);

#endif
