/*
 * Post-copy, the source's half (see postcopy.h): after the end marker,
 * one loop answers the destination — page requests first, then the
 * hand-over messages — and between them pushes the pages still owned here
 * in page order, one batch at a time, so a request waits for at most one
 * batch (1 MiB) already queued.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/block_backend.h"
#include "lib/le.h"
#include "vmm/mig_channel.h"
#include "vmm/migrate_msg.h"
#include "vmm/postcopy.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

int postcopy_write_bitmap(struct ss_stream *out, const uint64_t *bits,
			  uint64_t words, uint64_t pages)
{
	size_t len = 16 + 8 * words;
	uint8_t *p = malloc(len);
	uint64_t count = 0;
	int ret;

	if (!p)
		return ss_fail(out, NULL, "out of memory");
	for (uint64_t w = 0; w < words; w++) {
		count += (uint64_t)__builtin_popcountll(bits[w]);
		le_put(p + 16 + 8 * w, bits[w], 8);
	}
	le_put(p, pages, 8);
	le_put(p + 8, count, 8);
	ret = ss_write_section(out, SS_SEC_POSTCOPY, SS_SEC_F_MANDATORY, 0, 1, p,
			       len);
	free(p);
	return ret;
}

static int fail(struct postcopy_source *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct postcopy_source *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Queue page p if it is still ours to send. */
static int send_owned(struct postcopy_source *ps, uint64_t p)
{
	uint64_t bit = 1ULL << (p % 64);

	if (p / 64 >= ps->words || !(ps->todo[p / 64] & bit))
		return 0;
	ps->todo[p / 64] &= ~bit;
	return ram_send_page(ps->rs, p);
}

static int flush(struct postcopy_source *ps)
{
	return ram_send_flush(ps->rs) < 0 || mig_channel_flush(ps->ch) < 0 ? -1
									   : 0;
}

static int on_request(struct postcopy_source *ps, const uint8_t *p, size_t len)
{
	uint64_t n = len >= 4 ? le_get(p, 4) : 0;

	if (!n || n > POSTCOPY_REQ_MAX || len != 4 + 8 * n)
		return fail(ps, "the destination sent a malformed page request");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t before = ps->rs->pages;

		if (send_owned(ps, le_get(p + 4 + 8 * i, 8)) < 0)
			return -1;
		ps->requested += ps->rs->pages - before;
	}
	return flush(ps);
}

static int on_message(struct postcopy_source *ps, const void *p, size_t len,
		      bool *running, bool *complete)
{
	char msg[32], text[256], err[64];

	if (mig_msg_parse(p, len, msg, sizeof(msg), text, sizeof(text), NULL,
			  err, sizeof(err)) < 0)
		return fail(ps, "from the destination: %s", err);
	if (!strcmp(msg, "ready")) {
		block_locks_release();	/* the destination takes the disks */
		if (mig_msg_send(ps->out, "go", NULL, ps->was_running) < 0 ||
		    mig_channel_flush(ps->ch) < 0)
			return -1;
		atomic_store(&ps->go_sent, true);
		ps->t_go = monotonic_ns();
	} else if (!strcmp(msg, "running")) {
		*running = true;
		ps->t_running = monotonic_ns();
	} else if (!strcmp(msg, "postcopy-complete")) {
		*complete = true;
	} else if (!strcmp(msg, "error")) {
		return fail(ps, "the destination failed: %s", text);
	} else {
		return fail(ps, "the destination sent '%s' during post-copy", msg);
	}
	return 0;
}

static int handle_input(struct postcopy_source *ps, bool *running,
			bool *complete)
{
	struct ss_section sec;
	void *p = NULL;
	int r = ss_read_section(ps->in, &sec, &p, 65536);

	if (r <= 0) {
		free(p);
		return fail(ps, "post-copy: %s", r < 0 ? ps->in->error :
			    "the destination ended its stream");
	}
	if (sec.type == SS_SEC_PAGE_REQUEST)
		r = on_request(ps, p, (size_t)sec.length);
	else if (sec.type == SS_SEC_MIG_MSG)
		r = on_message(ps, p, (size_t)sec.length, running, complete);
	else
		r = fail(ps, "post-copy: unexpected %s section from the "
			 "destination", ss_section_name(sec.type));
	free(p);
	return r;
}

/* Up to one batch of owned pages from *cursor on; 0 when none is left. */
static int push_batch(struct postcopy_source *ps, uint64_t *cursor)
{
	uint64_t sent = 0;

	for (; *cursor < ps->words && sent < RAM_BATCH; (*cursor)++) {
		while (ps->todo[*cursor] && sent < RAM_BATCH) {
			uint64_t p = *cursor * 64 +
				     (uint64_t)__builtin_ctzll(ps->todo[*cursor]);

			if (send_owned(ps, p) < 0)
				return -1;
			sent++;
		}
		if (ps->todo[*cursor])
			break;
	}
	ps->pushed += sent;
	if (sent && flush(ps) < 0)
		return -1;
	return sent ? 1 : 0;
}

/* ms until the bandwidth cap allows the next batch (requests are served
 * regardless: the guest is waiting for them). */
static int push_delay_ms(const struct postcopy_source *ps)
{
	uint64_t due, now = monotonic_ns();

	if (!ps->max_bps)
		return 0;
	due = ps->t_start + mig_channel_sent(ps->ch) * 1000000000ULL / ps->max_bps;
	return due > now ? (int)((due - now) / 1000000) + 1 : 0;
}

int postcopy_serve(struct postcopy_source *ps)
{
	bool running = false, complete = false, done_sent = false;
	uint64_t cursor = 0;

	for (;;) {
		int more;

		if (atomic_load(ps->cancel) && !atomic_load(&ps->go_sent))
			return fail(ps, "cancelled");
		while (!(complete && running) && mig_channel_readable(ps->ch, 0))
			if (handle_input(ps, &running, &complete) < 0)
				return -1;
		if (complete && running)
			return 0;
		if (!done_sent && (more = push_delay_ms(ps)) > 0) {
			mig_channel_readable(ps->ch, more);
			continue;
		}
		if (!done_sent) {
			more = push_batch(ps, &cursor);
			if (more < 0)
				return -1;
			if (more)
				continue;
			if (mig_msg_send(ps->out, "postcopy-done", NULL, false) < 0 ||
			    mig_channel_flush(ps->ch) < 0)
				return -1;
			done_sent = true;
			ps->t_done = monotonic_ns();
		}
		/* Only answers are left to come. */
		if (!mig_channel_readable(ps->ch, ps->timeout_ms))
			return fail(ps, "post-copy: the destination went silent");
	}
}
