/*
 * Receiving a domain: xenon-vmm --incoming tcp:HOST:PORT | fd:N
 * --incoming-key-file FILE (see migrate.h).
 *
 * incoming_open() listens (or takes the inherited socket), accepts one
 * connection, authenticates it and reads the config section, which names
 * the machine to build; main.c builds it; incoming_receive() then takes
 * RAM pages as they come (straight into guest memory), collects the
 * vCPU/platform/device state, checks and applies it at the end marker,
 * says "ready", and waits for "go" — until then the source still owns the
 * domain, and any failure here just ends this process (status 1).  Once
 * the vCPUs run, incoming_finish() says "running" and announces the move.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/block_backend.h"
#include "lib/log.h"
#include "lib/vmstate.h"
#include "vmm/mig_channel.h"
#include "vmm/migrate.h"
#include "vmm/migrate_msg.h"
#include "vmm/options.h"
#include "vmm/postcopy.h"
#include "vmm/ram_pager.h"
#include "vmm/snapshot.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

#define TIMEOUT_MS 10000

struct incoming_ctx {
	int fd;
	struct mig_channel *ch;
	struct ss_io io;
	struct ss_stream in, out;
	json_t *config;
	bool cli_paused;
	struct snapshot_sections ss;
	uint64_t pages;
	uint64_t *postcopy_bits;        /* pages the source kept (post-copy) */
	struct postcopy_dest *pd;
};

static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535 * 16384L)
		return -1;
	*out = (int)v;
	return 0;
}

/* tcp:HOST:PORT: listen there and take the first connection. */
static int accept_tcp(const char *spec)
{
	char host[256], *port;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *res;
	int lfd, fd, one = 1, r;

	snprintf(host, sizeof(host), "%s", spec);
	port = strrchr(host, ':');
	if (!port || !port[1]) {
		log_error("--incoming: '%s': expected tcp:HOST:PORT or fd:N", spec);
		return -1;
	}
	*port++ = 0;
	r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (r) {
		log_error("--incoming: '%s': %s", spec, gai_strerror(r));
		return -1;
	}
	lfd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, res->ai_addr, res->ai_addrlen) < 0 || listen(lfd, 1) < 0) {
		log_errno("--incoming: '%s'", spec);
		freeaddrinfo(res);
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	freeaddrinfo(res);
	log_info("waiting for an incoming migration on %s", spec);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		log_errno("--incoming: accept");
	close(lfd);
	return fd;
}

static int open_socket(const char *spec)
{
	struct stat st;
	int fd;

	if (!strncmp(spec, "tcp:", 4))
		return accept_tcp(spec + 4);
	if (strncmp(spec, "fd:", 3) || parse_int(spec + 3, &fd) < 0) {
		log_error("--incoming: '%s': expected tcp:HOST:PORT or fd:N", spec);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_error("--incoming: '%s': not an open socket", spec);
		return -1;
	}
	return fd;
}

/* Best effort: tell the source why, so it can say so. */
static void tell_source(struct incoming_ctx *ctx, const char *why)
{
	if (!ctx->ch)
		return;
	if (mig_msg_send(&ctx->out, "error", why, false) == 0)
		mig_channel_flush(ctx->ch);
}

static int fail(struct incoming_ctx *ctx, const char *what)
{
	log_error("incoming migration: %s", what);
	tell_source(ctx, what);
	return -1;
}

static int read_config(struct incoming_ctx *ctx, const struct vmm_options *cli,
		       struct vmm_options *opts)
{
	struct ss_section sec;
	char err[300];
	bool running;
	void *p = NULL;

	if (ss_read_header(&ctx->in) < 0)
		return fail(ctx, ctx->in.error);
	if (!(ctx->in.flags & SS_HDR_F_MIGRATION))
		return fail(ctx, "the stream is not a migration stream");
	if (ss_read_section(&ctx->in, &sec, &p, 1 << 20) != 1 ||
	    sec.type != SS_SEC_CONFIG) {
		free(p);
		return fail(ctx, ctx->in.error[0] ? ctx->in.error :
			    "the stream does not start with the config");
	}
	if (snapshot_config_options(p, (size_t)sec.length, cli, opts,
				    &ctx->config, &running, err,
				    sizeof(err)) < 0) {
		free(p);
		return fail(ctx, err);
	}
	free(p);
	/* The vCPUs start only after "go", which says whether they run. */
	opts->start_paused = true;
	return 0;
}

int incoming_open(const struct vmm_options *cli, struct vmm_options *opts,
		  struct incoming_ctx **out)
{
	struct incoming_ctx *ctx = calloc(1, sizeof(*ctx));
	uint8_t key[MIG_KEY_MAX];
	size_t keylen = 0;
	char err[300];

	if (!ctx)
		return -1;
	ctx->fd = -1;
	ctx->cli_paused = cli->start_paused;
	*out = ctx;
	if (!cli->incoming_key_file) {
		log_error("--incoming needs --incoming-key-file FILE (the shared "
			  "migration secret)");
		return -1;
	}
	if (mig_read_key_file(cli->incoming_key_file, key, &keylen, err,
			      sizeof(err)) < 0) {
		log_error("--incoming-key-file: %s", err);
		return -1;
	}
	ctx->fd = open_socket(cli->incoming);
	if (ctx->fd < 0)
		return -1;
	ctx->ch = mig_channel_open(ctx->fd, key, keylen, false,
				   cli->incoming_timeout_ms ?
				   (int)cli->incoming_timeout_ms : TIMEOUT_MS,
				   err, sizeof(err));
	memset(key, 0, sizeof(key));
	if (!ctx->ch) {
		log_error("incoming migration: %s", err);
		return -1;
	}
	ctx->io = mig_channel_io(ctx->ch);
	ss_init(&ctx->in, &ctx->io, "migration stream");
	ss_init(&ctx->out, &ctx->io, "migration reply");
	return read_config(ctx, cli, opts);
}

/* During the stream the source only asks "sync" (answer once everything
 * before it is in place); anything else means it gave up. */
static int on_message(struct incoming_ctx *ctx, const void *p, size_t len,
		      char *err, size_t errlen)
{
	char msg[32], text[256];

	if (mig_msg_parse(p, len, msg, sizeof(msg), text, sizeof(text), NULL, err,
			  errlen) < 0)
		return -1;
	if (!strcmp(msg, "sync"))
		return mig_msg_send(&ctx->out, "synced", NULL, false) < 0 ||
		       mig_channel_flush(ctx->ch) < 0 ? -1 : 0;
	snprintf(err, errlen, "the source gave up%s%s", text[0] ? ": " : "",
		 text);
	return -1;
}

/* Before "go", with the post-copy reader running (writes are locked). */
static int fail_postcopy(struct incoming_ctx *ctx, const char *what)
{
	log_error("incoming migration: %s", what);
	postcopy_dest_send(ctx->pd, "error", what, false);
	return -1;
}

/* While RAM streams in: a page nothing placed yet is zero. */
static int fill_fault(struct ram_pager *pg, void *opaque, uint64_t offset)
{
	(void)opaque;
	return ram_pager_place(pg, offset, NULL, 4096);
}

static int fill_background(struct ram_pager *pg, void *opaque)
{
	(void)pg;
	(void)opaque;
	return 0;
}

static void fill_failed(void *opaque, const char *err)
{
	(void)opaque;
	log_error("incoming migration: %s", err);
}

static const struct ram_pager_ops fill_ops = {
	.fault = fill_fault, .background = fill_background,
	.failed = fill_failed,
};

/*
 * Incoming pages go straight into fresh memfd pages with UFFDIO_COPY
 * (ram_receive()): faulting them in first would have the kernel clear
 * every page only to overwrite it, which was half the destination's time.
 * Without userfaultfd they are simply copied.
 */
static struct ram_pager *fill_start(struct vm *vm)
{
	struct ram_pager *pg = NULL;

	if (vm->mem.memfd < 0 || !ram_pager_available() ||
	    ram_pager_start(&pg, &vm->mem, &fill_ops, NULL) < 0)
		return NULL;
	return pg;
}

static void fill_end(struct ram_pager *pg)
{
	if (!pg)
		return;
	ram_pager_finish(pg);
	ram_pager_wait(pg);
	ram_pager_destroy(pg);
}

static int receive_sections_into(struct vm *vm, struct incoming_ctx *ctx,
				 struct ram_pager *pg)
{
	uint8_t *seen = calloc(vm->mem.size / 4096 / 8 + 1, 1);
	struct ss_section sec;
	char err[300];
	void *p;
	int r;

	if (!seen)
		return fail(ctx, "out of memory");
	while ((r = ss_read_section(&ctx->in, &sec, &p, SS_MAX_PAYLOAD)) == 1) {
		if (sec.type == SS_SEC_RAM_PAGES)
			r = ram_receive(&vm->mem, seen, pg, p, (size_t)sec.length,
					err, sizeof(err));
		else if (sec.type == SS_SEC_MIG_MSG)
			r = on_message(ctx, p, (size_t)sec.length, err, sizeof(err));
		else if (sec.type == SS_SEC_POSTCOPY && !ctx->postcopy_bits)
			r = postcopy_parse_bitmap(p, (size_t)sec.length,
						  vm->mem.size / 4096,
						  &ctx->postcopy_bits, err,
						  sizeof(err));
		else {
			r = snapshot_collect(&ctx->ss, &sec, p, err, sizeof(err));
			if (r == 0)
				p = NULL;   /* kept */
		}
		free(p);
		if (r < 0) {
			free(seen);
			ss_fail(&ctx->in, &sec, "%s", err);
			return fail(ctx, ctx->in.error);
		}
	}
	free(seen);
	if (r < 0 && strcmp(mig_channel_error(ctx->ch), "no error"))
		return fail(ctx, mig_channel_error(ctx->ch));
	return r < 0 ? fail(ctx, ctx->in.error) : 0;
}

static int receive_sections(struct vm *vm, struct incoming_ctx *ctx)
{
	struct ram_pager *pg = fill_start(vm);
	int ret = receive_sections_into(vm, ctx, pg);

	fill_end(pg);   /* before post-copy registers RAM itself */
	return ret;
}

/* Post-copy: run with pages still at the source (postcopy.h).  From here
 * a reader thread owns the incoming stream. */
static int receive_postcopy(struct vm *vm, struct incoming_ctx *ctx)
{
	char err[400];
	bool running = false;
	uint64_t *bits = ctx->postcopy_bits;

	ctx->postcopy_bits = NULL;
	if (postcopy_dest_start(&ctx->pd, vm, ctx->ch, &ctx->in, &ctx->out,
				bits) < 0)
		return fail(ctx, "cannot page guest RAM in for post-copy");
	if (snapshot_apply(vm, &ctx->ss, err, sizeof(err)) < 0)
		return fail_postcopy(ctx, err);
	snapshot_sections_free(&ctx->ss);
	if (postcopy_dest_send(ctx->pd, "ready", NULL, false) < 0)
		return fail_postcopy(ctx, mig_channel_error(ctx->ch));
	if (postcopy_dest_wait_go(ctx->pd, &running) < 0)
		return -1;   /* the reader said why */
	vm->state = running && !ctx->cli_paused ? VM_RUNNING : VM_PAUSED;
	return 0;
}

int incoming_receive(struct vm *vm, struct incoming_ctx *ctx)
{
	char err[400], msg[32], text[256];
	bool running = false;

	uint64_t t_end, t_applied;

	if (receive_sections(vm, ctx) < 0)
		return -1;
	if (ctx->postcopy_bits)
		return receive_postcopy(vm, ctx);
	t_end = monotonic_ns();
	if (snapshot_apply(vm, &ctx->ss, err, sizeof(err)) < 0)
		return fail(ctx, err);
	t_applied = monotonic_ns();
	log_debug("incoming migration: state applied in %llu us",
		  (unsigned long long)((t_applied - t_end) / 1000));
	snapshot_sections_free(&ctx->ss);
	if (mig_msg_send(&ctx->out, "ready", NULL, false) < 0 ||
	    mig_channel_flush(ctx->ch) < 0)
		return fail(ctx, mig_channel_error(ctx->ch));
	if (mig_msg_read(&ctx->in, msg, sizeof(msg), text, sizeof(text), &running,
			 err, sizeof(err)) < 0)
		return fail(ctx, err);
	if (strcmp(msg, "go")) {
		snprintf(err, sizeof(err), "the source sent '%s' instead of 'go'%s%s",
			 msg, text[0] ? ": " : "", text);
		return fail(ctx, err);
	}
	/* From here the domain is ours. */
	vm->state = running && !ctx->cli_paused ? VM_RUNNING : VM_PAUSED;
	return 0;
}

void incoming_finish(struct vm *vm, struct incoming_ctx *ctx)
{
	/* The source gave the disks' locks up before "go". */
	block_locks_take();
	if (ctx->pd) {
		/* The reader thread keeps the channel until the last page. */
		if (postcopy_dest_send(ctx->pd, "running", NULL,
				       vm->state == VM_RUNNING) < 0)
			log_warn("incoming migration: could not confirm to the "
				 "source: %s", mig_channel_error(ctx->ch));
		vmstate_announce_all();
		return;
	}
	if (mig_msg_send(&ctx->out, "running", NULL, vm->state == VM_RUNNING) < 0 ||
	    mig_channel_flush(ctx->ch) < 0)
		log_warn("incoming migration: could not confirm to the source: %s",
			 mig_channel_error(ctx->ch));
	mig_channel_free(ctx->ch);
	ctx->ch = NULL;
	close(ctx->fd);
	ctx->fd = -1;
	vmstate_announce_all();
}

void incoming_stop_paging(struct incoming_ctx *ctx)
{
	if (ctx) {
		postcopy_dest_destroy(ctx->pd);
		ctx->pd = NULL;
	}
}

void incoming_close(struct incoming_ctx *ctx)
{
	if (!ctx)
		return;
	incoming_stop_paging(ctx);
	free(ctx->postcopy_bits);
	snapshot_sections_free(&ctx->ss);
	mig_channel_free(ctx->ch);
	json_decref(ctx->config);
	if (ctx->fd >= 0)
		close(ctx->fd);
	free(ctx);
}
