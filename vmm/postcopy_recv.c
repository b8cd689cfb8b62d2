/*
 * Post-copy, the destination's half (see postcopy.h).
 *
 * `owed` holds the pages the source still owns.  Their stale pre-copy
 * versions are punched out of the memfd, so touching one faults into the
 * pager (vmm/ram_pager.c), which asks the source for it and a few owed
 * pages after it; any other missing page was never sent because it is
 * all zero, and is placed as zeros.  A reader thread takes the rest of
 * the stream: pages (placed with UFFDIO_COPY, which wakes whoever waits
 * on them, then cleared from `owed`), "go", and "postcopy-done".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/le.h"
#include "lib/log.h"
#include "vmm/mig_channel.h"
#include "vmm/migrate_msg.h"
#include "vmm/postcopy.h"
#include "vmm/ram_pager.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

#define PAGE 4096ULL
#define PREFETCH 16   /* owed pages asked for with a faulting one */

struct postcopy_dest {
	struct vm *vm;
	struct mig_channel *ch;
	struct ss_stream *in, *out;
	pthread_mutex_t send_lock;
	_Atomic uint64_t *owed, *asked;
	uint64_t words, pages;
	struct ram_pager *pg;
	pthread_t reader;
	bool reader_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int go;                 /* 0 waiting, 1 received, -1 failed */
	bool go_running, done;
	atomic_bool stopping;
	uint64_t t_start, requests;
	char err[400];
};

int postcopy_parse_bitmap(const void *payload, size_t len, uint64_t pages,
			  uint64_t **bits, char *err, size_t errlen)
{
	const uint8_t *p = payload;
	uint64_t words = (pages + 63) / 64, count = 0;

	if (len != 16 + 8 * words || le_get(p, 8) != pages) {
		snprintf(err, errlen, "postcopy bitmap of %zu bytes does not "
			 "describe %llu pages", len, (unsigned long long)pages);
		return -1;
	}
	*bits = calloc(words + 1, sizeof(uint64_t));
	if (!*bits) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint64_t w = 0; w < words; w++) {
		(*bits)[w] = le_get(p + 16 + 8 * w, 8);
		count += (uint64_t)__builtin_popcountll((*bits)[w]);
	}
	if (pages % 64 && (*bits)[words - 1] >> (pages % 64))
		count = UINT64_MAX;   /* bits past the end of RAM */
	if (count != le_get(p + 8, 8)) {
		free(*bits);
		*bits = NULL;
		snprintf(err, errlen, "postcopy bitmap: the page count does not "
			 "match the bits");
		return -1;
	}
	return 0;
}

static bool test_bit(_Atomic uint64_t *bits, uint64_t p)
{
	return atomic_load(&bits[p / 64]) & (1ULL << (p % 64));
}

int postcopy_dest_send(struct postcopy_dest *pd, const char *msg,
		       const char *error, bool running)
{
	int r;

	pthread_mutex_lock(&pd->send_lock);
	r = mig_msg_send(pd->out, msg, error, running) < 0 ||
	    mig_channel_flush(pd->ch) < 0 ? -1 : 0;
	pthread_mutex_unlock(&pd->send_lock);
	return r;
}

/* Ask for page p and the next owed pages not asked for yet. */
static int request(struct postcopy_dest *pd, uint64_t p)
{
	uint8_t buf[4 + 8 * POSTCOPY_REQ_MAX];
	uint32_t n = 0;
	int r;

	for (uint64_t q = p; q < pd->pages && n < PREFETCH && q < p + 4 * PREFETCH;
	     q++) {
		uint64_t bit = 1ULL << (q % 64);

		if (!test_bit(pd->owed, q) ||
		    (atomic_fetch_or(&pd->asked[q / 64], bit) & bit && q != p))
			continue;
		le_put(buf + 4 + 8 * n++, q, 8);
	}
	if (!n)
		return 0;
	le_put(buf, n, 4);
	pthread_mutex_lock(&pd->send_lock);
	r = ss_write_section(pd->out, SS_SEC_PAGE_REQUEST, SS_SEC_F_MANDATORY, 0,
			     1, buf, 4 + 8ULL * n) < 0 ||
	    mig_channel_flush(pd->ch) < 0 ? -1 : 0;
	pthread_mutex_unlock(&pd->send_lock);
	pd->requests++;
	return r;
}

/* Pager thread.  1: the page comes later (the reader's copy wakes the
 * faulting thread). */
static int on_fault(struct ram_pager *pg, void *opaque, uint64_t offset)
{
	struct postcopy_dest *pd = opaque;
	uint64_t p = offset / PAGE;

	if (!test_bit(pd->owed, p))
		return ram_pager_place(pg, offset, NULL, PAGE);
	if (request(pd, p) < 0) {
		snprintf(pd->err, sizeof(pd->err), "asking the source for page "
			 "%llu: %s", (unsigned long long)p,
			 mig_channel_error(pd->ch));
		return -1;
	}
	return 1;
}

static int on_background(struct ram_pager *pg, void *opaque)
{
	(void)pg;
	(void)opaque;
	return 0;   /* the source pushes; the reader places */
}

/* The guest cannot go on without memory only the source had. */
static void lost(struct postcopy_dest *pd, const char *why)
{
	log_error("incoming migration (post-copy): %s; the domain cannot run "
		  "without the pages the source still had", why);
	vmm_exit_now(pd->vm, VM_EXIT_ERROR);
}

static void on_failed(void *opaque, const char *err)
{
	struct postcopy_dest *pd = opaque;

	lost(pd, pd->err[0] ? pd->err : err);
}

static const struct ram_pager_ops dest_ops = {
	.fault = on_fault, .background = on_background, .failed = on_failed,
};

static int place_page(void *opaque, uint64_t p, const void *data)
{
	struct postcopy_dest *pd = opaque;

	if (ram_pager_place(pd->pg, p * PAGE, data, PAGE) < 0)
		return -1;
	atomic_fetch_and(&pd->owed[p / 64], ~(1ULL << (p % 64)));
	return 0;
}

static uint64_t owed_count(const struct postcopy_dest *pd)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < pd->words; w++)
		n += (uint64_t)__builtin_popcountll(atomic_load(&pd->owed[w]));
	return n;
}

static void set_go(struct postcopy_dest *pd, int go, bool running)
{
	pthread_mutex_lock(&pd->lock);
	if (!pd->go) {
		pd->go = go;
		pd->go_running = running;
	}
	pthread_cond_broadcast(&pd->cond);
	pthread_mutex_unlock(&pd->lock);
}

/* A message on the reader thread: 1 = the stream is over. */
static int on_message(struct postcopy_dest *pd, const void *p, size_t len)
{
	char msg[32], text[200];
	bool running = false;

	if (mig_msg_parse(p, len, msg, sizeof(msg), text, sizeof(text), &running,
			  pd->err, sizeof(pd->err)) < 0)
		return -1;
	if (!strcmp(msg, "go")) {
		set_go(pd, 1, running);
		return 0;
	}
	if (strcmp(msg, "postcopy-done")) {
		snprintf(pd->err, sizeof(pd->err), "the source sent '%s'%s%s", msg,
			 text[0] ? ": " : "", text);
		return -1;
	}
	if (owed_count(pd)) {
		snprintf(pd->err, sizeof(pd->err), "the source finished with %llu "
			 "pages not sent", (unsigned long long)owed_count(pd));
		return -1;
	}
	ram_pager_finish(pd->pg);
	log_info("incoming migration: post-copy complete in %llu ms (%llu "
		 "page requests)",
		 (unsigned long long)((monotonic_ns() - pd->t_start) / 1000000),
		 (unsigned long long)pd->requests);
	return postcopy_dest_send(pd, "postcopy-complete", NULL, false) < 0 ? -1 : 1;
}

static void *reader_main(void *arg)
{
	struct postcopy_dest *pd = arg;
	struct ss_section sec;
	int r = 0;

	while (r == 0) {
		void *p = NULL;

		if (ss_read_section(pd->in, &sec, &p, SS_MAX_PAYLOAD) != 1) {
			snprintf(pd->err, sizeof(pd->err), "%s",
				 strcmp(mig_channel_error(pd->ch), "no error") ?
				 mig_channel_error(pd->ch) : pd->in->error);
			r = -1;
		} else if (sec.type == SS_SEC_RAM_PAGES) {
			r = ram_receive_each(pd->pages, p, (size_t)sec.length,
					     place_page, pd, pd->err,
					     sizeof(pd->err));
		} else if (sec.type == SS_SEC_MIG_MSG) {
			r = on_message(pd, p, (size_t)sec.length);
		} else {
			snprintf(pd->err, sizeof(pd->err), "unexpected %s section "
				 "during post-copy", ss_section_name(sec.type));
			r = -1;
		}
		free(p);
	}
	pthread_mutex_lock(&pd->lock);
	pd->done = true;
	pthread_mutex_unlock(&pd->lock);
	if (r < 0 && !atomic_load(&pd->stopping)) {
		bool after_go;

		pthread_mutex_lock(&pd->lock);
		after_go = pd->go == 1;
		pthread_mutex_unlock(&pd->lock);
		if (after_go)
			lost(pd, pd->err);
		/* Before "go" the source still owns the domain and resumes it.
		 * This process cannot go on: a thread (the state being
		 * applied, say) may be waiting on a page that will not come. */
		log_error("incoming migration: %s", pd->err);
		postcopy_dest_send(pd, "error", pd->err, false);
		set_go(pd, -1, false);
		vmm_exit_now(pd->vm, VM_EXIT_ERROR);
	}
	return NULL;
}

/* The stale pre-copy versions of owed pages go, so touching one faults. */
static int drop_owed(struct postcopy_dest *pd)
{
	for (uint64_t p = 0; p < pd->pages;) {
		uint64_t start;

		while (p < pd->pages && !test_bit(pd->owed, p))
			p++;
		start = p;
		while (p < pd->pages && test_bit(pd->owed, p))
			p++;
		if (p > start &&
		    fallocate(pd->vm->mem.memfd, FALLOC_FL_PUNCH_HOLE |
			      FALLOC_FL_KEEP_SIZE, (off_t)(start * PAGE),
			      (off_t)((p - start) * PAGE)) < 0) {
			log_errno("incoming migration: dropping pages %llu-%llu",
				  (unsigned long long)start,
				  (unsigned long long)p - 1);
			return -1;
		}
	}
	return 0;
}

int postcopy_dest_start(struct postcopy_dest **out, struct vm *vm,
			struct mig_channel *ch, struct ss_stream *in,
			struct ss_stream *outs, uint64_t *bits)
{
	struct postcopy_dest *pd = calloc(1, sizeof(*pd));

	if (!pd) {
		free(bits);
		return -1;
	}
	*pd = (struct postcopy_dest){ .vm = vm, .ch = ch, .in = in, .out = outs,
				      .owed = (_Atomic uint64_t *)bits,
				      .pages = vm->mem.size / PAGE,
				      .t_start = monotonic_ns() };
	pd->words = (pd->pages + 63) / 64;
	pthread_mutex_init(&pd->send_lock, NULL);
	pthread_mutex_init(&pd->lock, NULL);
	pthread_cond_init(&pd->cond, NULL);
	*out = pd;
	pd->asked = calloc(pd->words + 1, sizeof(uint64_t));
	if (!pd->asked || vm->mem.memfd < 0 || drop_owed(pd) < 0 ||
	    ram_pager_start(&pd->pg, &vm->mem, &dest_ops, pd) < 0)
		return -1;
	vm->pager = pd->pg;
	log_info("incoming migration: post-copy of %llu pages",
		 (unsigned long long)owed_count(pd));
	if (pthread_create(&pd->reader, NULL, reader_main, pd) != 0)
		return -1;
	pd->reader_started = true;
	return 0;
}

int postcopy_dest_wait_go(struct postcopy_dest *pd, bool *running)
{
	int go;

	pthread_mutex_lock(&pd->lock);
	while (!pd->go)
		pthread_cond_wait(&pd->cond, &pd->lock);
	go = pd->go;
	*running = pd->go_running;
	pthread_mutex_unlock(&pd->lock);
	return go == 1 ? 0 : -1;
}

void postcopy_dest_destroy(struct postcopy_dest *pd)
{
	if (!pd)
		return;
	atomic_store(&pd->stopping, true);
	if (pd->reader_started) {
		bool done;

		pthread_mutex_lock(&pd->lock);
		done = pd->done;
		pthread_mutex_unlock(&pd->lock);
		if (!done)
			mig_channel_shutdown(pd->ch);
		pthread_join(pd->reader, NULL);
	}
	if (pd->vm->pager == pd->pg)
		pd->vm->pager = NULL;
	ram_pager_destroy(pd->pg);
	free((void *)pd->owed);
	free((void *)pd->asked);
	pthread_mutex_destroy(&pd->send_lock);
	pthread_mutex_destroy(&pd->lock);
	pthread_cond_destroy(&pd->cond);
	free(pd);
}
