/*
 * Sending a domain (the control request migrate-send; see migrate.h).
 *
 * A migration thread does the work so that the main loop keeps serving
 * devices while the guest runs through the pre-copy rounds:
 *
 *   connect, authenticate (mig_channel.c), header + config section;
 *   live: dirty logging on, round 0 sends every page that may hold data,
 *     each later round the pages dirtied during the previous one, until
 *     what is left would go within the downtime budget at the bandwidth
 *     measured so far, or the round limit is reached;
 *   final: park the main loop (no device may touch the guest now), pause
 *     the vCPUs, finish in-flight I/O, send the last dirty pages (warm
 *     migration: all of them), vCPU/platform/device state and the end
 *     marker; wait for "ready", send "go", wait for "running".
 *
 * Until "go" is sent any failure — refused key, destination gone, link
 * cut, timeout — resumes the guest here, unchanged.  After "go" the
 * destination may be running it: if its confirmation never comes the
 * domain stays paused here rather than risk running twice, and the reply
 * says so.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "devices/block_backend.h"
#include "lib/log.h"
#include "lib/vmstate.h"
#include "vmm/control.h"
#include "vmm/dirty_log.h"
#include "vmm/main_loop.h"
#include "vmm/mig_channel.h"
#include "vmm/migrate.h"
#include "vmm/migrate_msg.h"
#include "vmm/postcopy.h"
#include "vmm/ram_pager.h"
#include "vmm/snapshot.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

#define FIXED_DOWNTIME_US 2000   /* pause, device state, hand-shake */

struct migration {
	struct vm *vm;
	void *token;
	/* request */
	char address[256];
	int fd;
	bool live;
	bool postcopy;              /* may switch to post-copy */
	uint64_t downtime_ms;
	unsigned max_rounds;
	int timeout_ms;
	uint64_t max_bps;           /* pre-copy bandwidth cap, 0 = none */
	uint8_t key[MIG_KEY_MAX];
	size_t keylen;
	json_t *domain;
	/* thread and main-loop hand-offs */
	pthread_t thread;
	int done_fd, park_fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool parked, release;
	atomic_bool cancel;
	/* progress (status) and result, under lock */
	const char *phase;
	unsigned round;
	uint64_t remaining, sent_pages;
	json_t *reply;
	bool success;
	/* working state of the thread */
	struct mig_channel *ch;
	struct ss_stream out, in;
	struct ss_io io;
	struct dirty_log dl;
	uint64_t *dirty;
	struct ram_sender rs;
	uint64_t t_start, t_pause, wire_ns;
	uint64_t t_paused, t_sent, t_ready;     /* final-phase timeline */
	uint64_t final_pages_before, final_pages, fetch_ns;
	bool paused_by_us, was_running, go_sent;
	bool switch_postcopy;       /* pre-copy stopped converging */
	struct postcopy_source pc;
	char err[400];
};

static struct migration *current;

static void set_phase(struct migration *m, const char *phase)
{
	pthread_mutex_lock(&m->lock);
	m->phase = phase;
	pthread_mutex_unlock(&m->lock);
}

static int fail(struct migration *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct migration *m, const char *fmt, ...)
{
	va_list ap;

	if (m->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- main loop parking ------------------------------------------------------ */

/* Main thread: sit here until the migration thread lets go. */
static void on_park(void *opaque, uint32_t events)
{
	struct migration *m = opaque;
	uint64_t v;

	(void)events;
	if (read(m->park_fd, &v, sizeof(v)) < 0)
		return;
	pthread_mutex_lock(&m->lock);
	m->parked = true;
	pthread_cond_broadcast(&m->cond);
	while (!m->release)
		pthread_cond_wait(&m->cond, &m->lock);
	m->parked = m->release = false;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static int park_main_loop(struct migration *m)
{
	uint64_t one = 1;
	int ret = 0;

	if (write(m->park_fd, &one, sizeof(one)) < 0)
		return fail(m, "cannot reach the main loop");
	pthread_mutex_lock(&m->lock);
	while (!m->parked && !atomic_load(&m->cancel))
		pthread_cond_wait(&m->cond, &m->lock);
	if (!m->parked)
		ret = fail(m, "cancelled");
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static void unpark_main_loop(struct migration *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->parked) {
		m->release = true;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
}

/* ---- connection ------------------------------------------------------------- */

static int connect_to(struct migration *m)
{
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int r, fd = -1;

	snprintf(host, sizeof(host), "%s", m->address);
	port = strrchr(host, ':');
	if (!port || port == host || !port[1])
		return fail(m, "address '%s': expected HOST:PORT", m->address);
	*port++ = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r)
		return fail(m, "address '%s': %s", m->address, gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next) {
		struct timeval tv = { m->timeout_ms / 1000,
				      (m->timeout_ms % 1000) * 1000 };

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		r = errno;
		close(fd);
		fd = -1;
		errno = r;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fail(m, "cannot connect to %s: %s", m->address,
			    strerror(errno));
	m->fd = fd;
	return 0;
}

static void tune_socket(int fd, int timeout_ms)
{
	unsigned t = (unsigned)timeout_ms;
	int buf = 4 << 20;

	/* A cut link (unacknowledged data) fails after the timeout too. */
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &t, sizeof(t));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
}

/* ---- pages -------------------------------------------------------------------- */

/* Hold pre-copy to max_bps: sleep until the bytes sent so far are due. */
static void throttle(struct migration *m)
{
	uint64_t due, now = monotonic_ns();

	if (!m->max_bps)
		return;
	due = m->t_start + mig_channel_sent(m->ch) * 1000000000ULL / m->max_bps;
	if (due > now) {
		struct timespec ts = { (time_t)((due - now) / 1000000000ULL),
				       (long)((due - now) % 1000000000ULL) };

		nanosleep(&ts, NULL);
	}
}

/* One page; every batch, honour the bandwidth cap (not while paused). */
static int send_page(struct migration *m, uint64_t page)
{
	if (ram_send_page(&m->rs, page) < 0)
		return -1;
	if (m->rs.n == 0 && !m->t_pause)
		throttle(m);
	return 0;
}

static uint64_t send_bitmap(struct migration *m, const uint64_t *bits)
{
	uint64_t words = m->dl.words, n = 0;

	for (uint64_t w = 0; w < words; w++) {
		uint64_t v = bits[w];

		while (v) {
			if (send_page(m, w * 64 + (uint64_t)__builtin_ctzll(v)) < 0)
				return UINT64_MAX;
			n++;
			v &= v - 1;
		}
	}
	return n;
}

static int send_candidates(struct migration *m)
{
	uint64_t pages = m->vm->mem.size / 4096;
	uint8_t *cand = ram_candidates(&m->vm->mem);

	if (!cand)
		return fail(m, "out of memory");
	for (uint64_t p = 0; p < pages; p++)
		if (cand[p] && send_page(m, p) < 0) {
			free(cand);
			return -1;
		}
	free(cand);
	return 0;
}

static int expect(struct migration *m, const char *what);

/*
 * End of a round: flush, and wait until the destination has everything in
 * place ("sync"/"synced").  Otherwise data still queued in socket buffers
 * (megabytes) would be copied during the pause, and the bandwidth
 * measured would be the sender's, not the pipeline's.  Throttling counts:
 * it is the bandwidth we get.
 */
static int flush_timed(struct migration *m, uint64_t t0)
{
	if (ram_send_flush(&m->rs) < 0 ||
	    mig_msg_send(&m->out, "sync", NULL, false) < 0 ||
	    mig_channel_flush(m->ch) < 0 || expect(m, "synced") < 0)
		return -1;
	throttle(m);
	m->wire_ns += monotonic_ns() - t0;
	return 0;
}

static uint64_t bytes_per_sec(struct migration *m)
{
	uint64_t sent = mig_channel_sent(m->ch);

	return m->wire_ns ? sent * 1000000000ULL / m->wire_ns : 0;
}

static bool must_stop(struct migration *m)
{
	if (atomic_load(&m->cancel))
		return fail(m, "cancelled"), true;
	if (m->vm->state == VM_EXITING)
		return fail(m, "the domain is shutting down"), true;
	return false;
}

/* With post-copy allowed: pre-copy has stopped paying off when the guest
 * dirtied memory during the last round at 90% or more of the rate the link
 * moves it (no round can then shrink the dirty set), when a round leaves
 * at least 90% of the previous round's pages dirty, or when the round
 * limit is reached with more left than the downtime budget allows. */
static bool not_converging(const struct migration *m, unsigned round,
			   uint64_t count, uint64_t prev, uint64_t round_ns,
			   uint64_t bps, bool over_budget)
{
	uint64_t dirty_bps = round_ns ? count * 4096 * 1000000000ULL / round_ns
				      : 0;

	if (!m->postcopy || !over_budget)
		return false;
	return round > m->max_rounds || dirty_bps * 10 >= bps * 9 ||
	       (round >= 2 && count * 10 >= prev * 9);
}

/* Round 0 and the rounds after; leaves the last round's set in m->dirty. */
static int precopy(struct migration *m)
{
	uint64_t t0 = monotonic_ns(), count = 0, prev = UINT64_MAX;
	uint64_t t_fetch = t0, round_ns;

	set_phase(m, "precopy");
	if (dirty_log_start(m->vm, &m->dl) < 0)
		return fail(m, "cannot start dirty logging");
	m->dirty = calloc(m->dl.words + 1, sizeof(uint64_t));
	if (!m->dirty)
		return fail(m, "out of memory");
	if (send_candidates(m) < 0 || flush_timed(m, t0) < 0)
		return -1;
	for (unsigned round = 1;; round++) {
		uint64_t bps, est_us;

		if (must_stop(m))
			return -1;
		if (dirty_log_fetch(m->vm, &m->dl, m->dirty, &count) < 0)
			return fail(m, "cannot read the dirty log");
		round_ns = monotonic_ns() - t_fetch;
		t_fetch += round_ns;
		bps = bytes_per_sec(m);
		est_us = bps ? count * 4096 * 1000000 / bps : UINT64_MAX;
		pthread_mutex_lock(&m->lock);
		m->round = round;
		m->remaining = count;
		m->sent_pages = m->rs.pages;
		pthread_mutex_unlock(&m->lock);
		log_debug("migration: round %u: %llu dirty pages, %llu MiB/s, "
			  "%llu us to send", round, (unsigned long long)count,
			  (unsigned long long)(bps >> 20), (unsigned long long)est_us);
		if (not_converging(m, round, count, prev, round_ns, bps, est_us +
				   FIXED_DOWNTIME_US > m->downtime_ms * 1000)) {
			m->switch_postcopy = true;
			log_info("migration: round %u leaves %llu of %llu pages "
				 "dirty: switching to post-copy", round,
				 (unsigned long long)count,
				 (unsigned long long)(prev == UINT64_MAX ? 0 : prev));
			return 0;
		}
		if (est_us + FIXED_DOWNTIME_US <= m->downtime_ms * 1000 ||
		    round > m->max_rounds)
			return 0;
		prev = count;
		t0 = monotonic_ns();
		if (send_bitmap(m, m->dirty) == UINT64_MAX || flush_timed(m, t0) < 0)
			return -1;
	}
}

/* ---- messages ------------------------------------------------------------------ */

static int expect(struct migration *m, const char *what)
{
	char err[256], msg[32], text[256];

	if (mig_msg_read(&m->in, msg, sizeof(msg), text, sizeof(text), NULL,
			 err, sizeof(err)) < 0)
		return fail(m, "waiting for '%s' from the destination: %s", what,
			    strcmp(mig_channel_error(m->ch), "no error") ?
			    mig_channel_error(m->ch) : err);
	if (!strcmp(msg, "error"))
		return fail(m, "the destination failed: %s", text);
	if (strcmp(msg, what))
		return fail(m, "the destination sent '%s' instead of '%s'", msg,
			    what);
	return 0;
}

/* After a failed write: the destination may have said why it quit. */
static void peer_reason(struct migration *m)
{
	char msg[32], text[256], err[64];
	struct timeval tv = { 0, 500000 };

	/* Briefly: a cut link would otherwise cost the whole timeout again. */
	setsockopt(m->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mig_msg_read(&m->in, msg, sizeof(msg), text, sizeof(text), NULL, err,
			 sizeof(err)) == 0 && !strcmp(msg, "error")) {
		m->err[0] = 0;
		fail(m, "the destination failed: %s", text);
	}
}

/* ---- the final phase -------------------------------------------------------------- */

/* The dirty set stays here: send its bitmap and the machine, then serve
 * the pages while the destination runs (postcopy.h). */
static int postcopy_handover(struct migration *m)
{
	struct postcopy_source *pc = &m->pc;

	set_phase(m, "postcopy");
	m->final_pages = m->rs.pages;
	if (ram_send_flush(&m->rs) < 0 ||
	    postcopy_write_bitmap(&m->out, m->dirty, m->dl.words,
				  m->vm->mem.size / 4096) < 0 ||
	    snapshot_write_machine(m->vm, &m->out) < 0 ||
	    ss_write_end(&m->out) < 0 || mig_channel_flush(m->ch) < 0)
		return -1;
	m->t_sent = monotonic_ns();
	*pc = (struct postcopy_source){
		.ch = m->ch, .out = &m->out, .in = &m->in, .rs = &m->rs,
		.todo = m->dirty, .words = m->dl.words,
		.was_running = m->was_running, .timeout_ms = m->timeout_ms,
		.max_bps = m->max_bps, .t_start = m->t_start,
		.cancel = &m->cancel,
	};
	if (postcopy_serve(pc) < 0) {
		m->go_sent = atomic_load(&pc->go_sent);
		return fail(m, "%s", pc->err[0] ? pc->err : "post-copy failed");
	}
	m->go_sent = true;
	m->t_ready = pc->t_go;
	return 0;
}

static int stop_and_copy(struct migration *m)
{
	uint64_t count;

	set_phase(m, "stop-and-copy");
	if (park_main_loop(m) < 0)
		return -1;
	m->was_running = m->vm->state == VM_RUNNING;
	m->t_pause = monotonic_ns();
	vm_pause(m->vm);
	m->t_paused = monotonic_ns();
	m->final_pages_before = m->rs.pages;
	m->paused_by_us = m->was_running;
	if (m->vm->state == VM_EXITING)
		return fail(m, "the domain is shutting down");
	vmstate_quiesce_all();
	if (m->dl.on) {
		uint64_t *more = calloc(m->dl.words + 1, sizeof(uint64_t));

		uint64_t t0 = monotonic_ns();

		if (!more || dirty_log_fetch(m->vm, &m->dl, more, &count) < 0) {
			free(more);
			return fail(m, "cannot read the dirty log");
		}
		m->fetch_ns = monotonic_ns() - t0;
		for (uint64_t w = 0; w < m->dl.words; w++)
			m->dirty[w] |= more[w];
		free(more);
		if (m->switch_postcopy)
			return postcopy_handover(m);
		if (send_bitmap(m, m->dirty) == UINT64_MAX)
			return -1;
	} else if (send_candidates(m) < 0) {
		return -1;
	}
	m->final_pages = m->rs.pages;
	if (ram_send_flush(&m->rs) < 0 || snapshot_write_machine(m->vm, &m->out) < 0 ||
	    ss_write_end(&m->out) < 0 || mig_channel_flush(m->ch) < 0)
		return -1;
	m->t_sent = monotonic_ns();
	set_phase(m, "handover");
	if (expect(m, "ready") < 0)
		return -1;
	m->t_ready = monotonic_ns();
	/* Paused, I/O finished: the destination may take the disks. */
	block_locks_release();
	if (mig_msg_send(&m->out, "go", NULL, m->was_running) < 0 ||
	    mig_channel_flush(m->ch) < 0)
		return -1;
	m->go_sent = true;
	return expect(m, "running");
}

static int run(struct migration *m)
{
	json_t *cfg;
	int ret;

	if (m->vm->pager && ram_pager_wait(m->vm->pager) < 0)
		return fail(m, "guest RAM is not all restored yet");
	set_phase(m, "connecting");
	if (m->fd < 0 && connect_to(m) < 0)
		return -1;
	tune_socket(m->fd, m->timeout_ms);
	m->ch = mig_channel_open(m->fd, m->key, m->keylen, true, m->timeout_ms,
				 m->err, sizeof(m->err));
	if (!m->ch)
		return -1;
	m->io = mig_channel_io(m->ch);
	ss_init(&m->out, &m->io, "migration stream");
	ss_init(&m->in, &m->io, "migration reply");
	if (ram_sender_init(&m->rs, &m->out, &m->vm->mem) < 0)
		return fail(m, "out of memory");
	cfg = snapshot_config(m->vm, m->domain, m->vm->state == VM_RUNNING);
	ret = ss_write_header(&m->out, SS_HDR_F_MIGRATION) < 0 ||
	      snapshot_write_config(&m->out, cfg) < 0 ? -1 : 0;
	json_decref(cfg);
	if (ret < 0)
		return -1;
	if (m->live && m->vm->state == VM_RUNNING && precopy(m) < 0)
		return -1;
	return stop_and_copy(m);
}

/* ---- thread, result ---------------------------------------------------------------- */

static json_t *result(struct migration *m)
{
	uint64_t now = monotonic_ns(), bytes = m->ch ? mig_channel_sent(m->ch) : 0;
	json_t *r;

	/* Post-copy: the guest runs again at the destination's "running",
	 * long before the last page is sent. */
	uint64_t back = m->switch_postcopy && m->pc.t_running ? m->pc.t_running
							      : now;

	r = json_pack("{s:b, s:s, s:b, s:i, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "ok", 1, "state", "migrated", "live", m->dl.on,
			 "rounds", (int)m->round, "pages", (json_int_t)m->rs.pages,
			 "zero_pages", (json_int_t)m->rs.zero_pages,
			 "bytes", (json_int_t)bytes,
			 "downtime_us", (json_int_t)((back - m->t_pause) / 1000),
			 "total_us", (json_int_t)((now - m->t_start) / 1000),
			 "bandwidth_mib_s", (json_int_t)(bytes_per_sec(m) >> 20));
	/* Where the downtime went: pausing, sending, the destination loading,
	 * the go/running exchange. */
	json_object_set_new(r, "final", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		"pages", (json_int_t)(m->rs.pages - m->final_pages_before),
		"pause_us", (json_int_t)((m->t_paused - m->t_pause) / 1000),
		"fetch_us", (json_int_t)(m->fetch_ns / 1000),
		"send_us", (json_int_t)((m->t_sent - m->t_paused) / 1000),
		"ready_us", (json_int_t)((m->t_ready - m->t_sent) / 1000),
		"go_us", (json_int_t)((back - m->t_ready) / 1000)));
	if (m->switch_postcopy)
		json_object_set_new(r, "postcopy", json_pack(
			"{s:I, s:I, s:I, s:I}",
			"requested_pages", (json_int_t)m->pc.requested,
			"pushed_pages", (json_int_t)m->pc.pushed,
			"all_sent_us", (json_int_t)((m->pc.t_done - m->t_pause) / 1000),
			"complete_us", (json_int_t)((now - m->t_pause) / 1000)));
	return r;
}

static void *thread_main(void *arg)
{
	struct migration *m = arg;
	uint64_t one = 1;
	bool ok = run(m) == 0;
	json_t *reply;

	if (!ok && !m->go_sent && atomic_load(&m->cancel)) {
		/* Whatever broke, it broke because we pulled the plug. */
		m->err[0] = 0;
		fail(m, "%s", m->vm->state == VM_EXITING ?
		     "the domain is shutting down" : "cancelled");
	}
	if (!ok && !m->err[0])
		fail(m, "%s", m->ch && strcmp(mig_channel_error(m->ch), "no error") ?
		     mig_channel_error(m->ch) : m->out.error[0] ? m->out.error :
		     m->in.error);
	if (!ok && !m->go_sent && m->ch)
		peer_reason(m);
	if (ok) {
		reply = result(m);
		log_info("migrated to %s: downtime %lld us, %d rounds",
			 m->address[0] ? m->address : "the passed socket",
			 (long long)json_integer_value(json_object_get(reply, "downtime_us")),
			 (int)m->round);
	} else if (m->go_sent) {
		log_error("migration: %s; the destination may be running the "
			  "domain, so it stays paused here", m->err);
		reply = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", m->err,
				  "state", "paused");
	} else {
		log_error("migration failed: %s; the domain carries on here",
			  m->err);
		block_locks_take();	/* if they were given up for "go" */
		if (m->paused_by_us)
			vm_resume(m->vm);
		reply = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", m->err,
				  "state", m->paused_by_us || m->vm->state ==
				  VM_RUNNING ? "running" : "paused");
	}
	dirty_log_stop(m->vm, &m->dl);
	unpark_main_loop(m);
	pthread_mutex_lock(&m->lock);
	m->reply = reply;
	m->success = ok;
	m->phase = ok ? "done" : "failed";
	pthread_mutex_unlock(&m->lock);
	if (write(m->done_fd, &one, sizeof(one)) < 0)
		log_errno("migration: completion");
	return NULL;
}

static void migration_free(struct migration *m)
{
	main_loop_del_fd(m->done_fd);
	main_loop_del_fd(m->park_fd);
	close(m->done_fd);
	close(m->park_fd);
	mig_channel_free(m->ch);
	if (m->fd >= 0)
		close(m->fd);
	ram_sender_free(&m->rs);
	free(m->dirty);
	json_decref(m->domain);
	json_decref(m->reply);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	memset(m->key, 0, sizeof(m->key));
	free(m);
}

/* Main thread: the thread finished; reply, and leave if it worked. */
static void on_done(void *opaque, uint32_t events)
{
	struct migration *m = opaque;
	json_t *reply;

	(void)events;
	pthread_join(m->thread, NULL);
	reply = m->reply;
	m->reply = NULL;
	current = NULL;
	if (m->success)
		vm_request_exit(m->vm, VM_EXIT_SAVED);
	control_deferred_reply(m->token, reply);
	migration_free(m);
}

/* ---- the request -------------------------------------------------------------- */

static json_t *error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *error(const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static bool int_field(json_t *req, const char *key, long long lo, long long hi,
		      long long *out)
{
	json_t *v = json_object_get(req, key);

	if (!v)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return false;
	*out = json_integer_value(v);
	return true;
}

/* Check the request and fill m; NULL or an error reply. */
static json_t *parse_request(struct migration *m, json_t *req, int *passed_fd)
{
	json_t *addr = json_object_get(req, "address");
	json_t *fd = json_object_get(req, "fd");
	json_t *key = json_object_get(req, "key");
	json_t *live = json_object_get(req, "live");
	json_t *postcopy = json_object_get(req, "postcopy");
	json_t *cfg = json_object_get(req, "config");
	long long downtime = 30, rounds = 30, timeout = 10000, bw = 0;

	if (!addr == !fd)
		return error("migrate-send: give \"address\" (HOST:PORT) or "
			     "\"fd\": true (a socket sent with the request)");
	if (addr && (!json_is_string(addr) ||
		     json_string_length(addr) >= sizeof(m->address)))
		return error("migrate-send: \"address\" must be \"HOST:PORT\"");
	if (fd && (!json_is_true(fd) || *passed_fd < 0))
		return error("migrate-send: \"fd\": true needs a socket passed "
			     "with the request (SCM_RIGHTS)");
	if (!json_is_string(key) || !json_string_length(key) ||
	    json_string_length(key) > MIG_KEY_MAX)
		return error("migrate-send: \"key\" (the shared secret, 1 to %d "
			     "bytes) is required", MIG_KEY_MAX);
	if (live && !json_is_boolean(live))
		return error("migrate-send: \"live\" is a boolean");
	if (postcopy && (!json_is_boolean(postcopy) ||
			 (json_is_true(postcopy) && json_is_false(live))))
		return error("migrate-send: \"postcopy\" is a boolean and needs "
			     "a live migration");
	if (cfg && !json_is_object(cfg))
		return error("migrate-send: \"config\" must be a JSON object");
	if (!int_field(req, "downtime_ms", 1, 60000, &downtime) ||
	    !int_field(req, "max_rounds", 0, 1000, &rounds) ||
	    !int_field(req, "timeout_ms", 100, 3600000, &timeout) ||
	    !int_field(req, "max_bandwidth_mib_s", 0, 1 << 20, &bw))
		return error("migrate-send: downtime_ms (1-60000), max_rounds "
			     "(0-1000), timeout_ms (100-3600000) and "
			     "max_bandwidth_mib_s (0 = no cap) are integers");
	if (addr)
		snprintf(m->address, sizeof(m->address), "%s",
			 json_string_value(addr));
	else {
		m->fd = *passed_fd;
		*passed_fd = -1;
	}
	m->keylen = json_string_length(key);
	memcpy(m->key, json_string_value(key), m->keylen);
	m->live = !live || json_is_true(live);
	m->postcopy = json_is_true(postcopy);
	m->downtime_ms = (uint64_t)downtime;
	m->max_rounds = (unsigned)rounds;
	m->timeout_ms = (int)timeout;
	m->max_bps = (uint64_t)bw << 20;
	m->domain = cfg ? json_incref(cfg) : NULL;
	return NULL;
}

static struct migration *migration_new(struct vm *vm, void *token)
{
	struct migration *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->vm = vm;
	m->token = token;
	m->fd = -1;
	m->phase = "starting";
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m->park_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->done_fd < 0 || m->park_fd < 0 ||
	    main_loop_add_fd(m->done_fd, EPOLLIN, on_done, m) < 0 ||
	    main_loop_add_fd(m->park_fd, EPOLLIN, on_park, m) < 0) {
		migration_free(m);
		return NULL;
	}
	return m;
}

json_t *migrate_send_request(struct vm *vm, json_t *req, int *passed_fd,
			     void *token)
{
	struct migration *m;
	json_t *err;

	if (current)
		return error("migrate-send: a migration is already running");
	if (vm->state == VM_EXITING)
		return error("migrate-send: the domain is shutting down");
	m = migration_new(vm, token);
	if (!m)
		return error("migrate-send: out of resources");
	err = parse_request(m, req, passed_fd);
	if (err) {
		migration_free(m);
		return err;
	}
	m->t_start = monotonic_ns();
	if (pthread_create(&m->thread, NULL, thread_main, m) != 0) {
		migration_free(m);
		return error("migrate-send: cannot start the migration thread");
	}
	current = m;
	return CONTROL_DEFERRED;
}

json_t *migrate_cancel_request(struct vm *vm)
{
	(void)vm;
	if (!current)
		return error("migrate-cancel: no migration is running");
	pthread_mutex_lock(&current->lock);
	/* After "go" (post-copy: during the push) the destination runs the
	 * guest: cutting the link now would lose it. */
	if (current->go_sent || atomic_load(&current->pc.go_sent)) {
		pthread_mutex_unlock(&current->lock);
		return error("migrate-cancel: too late, the destination has "
			     "taken over");
	}
	atomic_store(&current->cancel, true);
	pthread_cond_broadcast(&current->cond);
	pthread_mutex_unlock(&current->lock);
	/* Unblock a send or receive in progress. */
	if (current->fd >= 0)
		shutdown(current->fd, SHUT_RDWR);
	return json_pack("{s:b, s:s}", "ok", 1, "state", "cancelling");
}

void migrate_status(struct vm *vm, json_t *reply)
{
	json_t *mig;

	(void)vm;
	if (!current)
		return;
	pthread_mutex_lock(&current->lock);
	mig = json_pack("{s:s, s:i, s:I, s:I}", "phase", current->phase,
			"round", (int)current->round, "remaining_pages",
			(json_int_t)current->remaining, "sent_pages",
			(json_int_t)current->sent_pages);
	pthread_mutex_unlock(&current->lock);
	json_object_set_new(reply, "migration", mig);
}

void migrate_shutdown(struct vm *vm)
{
	struct migration *m = current;

	(void)vm;
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	atomic_store(&m->cancel, true);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	if (m->fd >= 0)
		shutdown(m->fd, SHUT_RDWR);
	pthread_join(m->thread, NULL);
	current = NULL;
	migration_free(m);
}
