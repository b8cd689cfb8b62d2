/*
 * `xenon-vmm --restore FILE`: rebuild a domain from a save file.
 *
 * restore_open() reads the whole file and checks it — every section's
 * CRC, the structure, the RAM image's chunk CRCs (--verify-ram=eager, the
 * default), the end marker, the file size — before anything is created,
 * so a truncated, corrupted, foreign or newer file is refused with a
 * message and leaves nothing behind.  The machine is then created from
 * the saved command line (vmm_options_merge_saved()), its RAM mapped
 * copy-on-write from the file's image — or, with --verify-ram=lazy, paged
 * in through userfaultfd with each chunk checked before the guest sees it
 * (restore_lazy.c) — and restore_apply() loads devices, irqchip and vCPUs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/options.h"
#include "vmm/ram_pager.h"
#include "vmm/restore_lazy.h"
#include "vmm/save.h"
#include "vmm/snapshot.h"
#include "vmm/snapshot_ram.h"
#include "vmm/vm.h"

struct restore_ctx {
	int fd;
	const char *path;
	json_t *config;
	struct snapshot_sections ss;
	struct ram_image_info ri;
	struct ram_image image;
	bool have_image;
	enum verify_ram verify;
	struct lazy_restore *lazy;
};

/* Parse the config section and build the options of the saved machine. */
int snapshot_config_options(const void *text, size_t len,
			    const struct vmm_options *cli,
			    struct vmm_options *opts, json_t **config,
			    bool *running, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *cfg = json_loadb(text, len, 0, &jerr), *vmm, *argv, *v;
	char **args = NULL;
	size_t n;

	if (!cfg || !json_is_object(cfg)) {
		snprintf(err, errlen, "config section is not a JSON object%s%s",
			 cfg ? "" : ": ", cfg ? "" : jerr.text);
		goto fail;
	}
	vmm = json_object_get(cfg, "vmm");
	argv = json_object_get(vmm, "argv");
	if (!json_is_array(argv)) {
		snprintf(err, errlen, "config section has no vmm.argv array");
		goto fail;
	}
	n = json_array_size(argv);
	args = calloc(n + 1, sizeof(*args));
	if (!args) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		args[i] = (char *)json_string_value(json_array_get(argv, i));
		if (!args[i]) {
			snprintf(err, errlen, "config section: vmm.argv[%zu] is not "
				 "a string", i);
			goto fail;
		}
	}
	if (vmm_options_merge_saved(opts, cli, (int)n, args) < 0) {
		snprintf(err, errlen, "config section: the saved command line "
			 "is not valid here (see above)");
		goto fail;
	}
	v = json_object_get(vmm, "memory_mib");
	if (json_integer_value(v) != (json_int_t)opts->mem_mib ||
	    json_integer_value(json_object_get(vmm, "vcpus")) !=
	    (json_int_t)opts->vcpus) {
		snprintf(err, errlen, "config section: memory/vCPUs disagree with "
			 "the saved command line");
		goto fail;
	}
	*running = json_is_true(json_object_get(cfg, "running"));
	*config = cfg;
	free(args);   /* the merged options copied the pointers */
	return 0;
fail:
	free(args);
	json_decref(cfg);
	return -1;
}

/* The image goes from image_offset to image_offset + RAM; the end marker
 * follows it directly. */
static int skip_image(struct restore_ctx *ctx, struct ss_stream *s,
		      const struct ss_section *sec, off_t file_size)
{
	uint64_t end = ctx->ri.image_offset + ctx->ri.ram_size;

	if ((uint64_t)file_size < end + SS_SECTION_HDR_SIZE)
		return ss_fail(s, sec, "truncated: the file is %llu bytes, the RAM "
			       "image and end marker need %llu",
			       (unsigned long long)file_size,
			       (unsigned long long)(end + SS_SECTION_HDR_SIZE + 8));
	if (lseek(ctx->fd, (off_t)end, SEEK_SET) < 0)
		return ss_fail(s, sec, "seek: %s", strerror(errno));
	s->offset = end;
	return 0;
}

static int read_sections(struct restore_ctx *ctx, struct ss_stream *s,
			 off_t file_size, uint64_t ram_size)
{
	struct ss_section sec;
	char err[256];
	void *p;
	int r;

	while ((r = ss_read_section(s, &sec, &p, SS_MAX_PAYLOAD)) == 1) {
		if (sec.type == SS_SEC_RAM_IMAGE) {
			int bad = ctx->have_image ||
				  ram_image_parse(p, (size_t)sec.length, ram_size,
						  s->offset, &ctx->ri, err,
						  sizeof(err)) < 0;

			free(p);
			if (bad)
				return ss_fail(s, &sec, "%s", ctx->have_image ?
					       "repeated" : err);
			ctx->have_image = true;
			if (skip_image(ctx, s, &sec, file_size) < 0)
				return -1;
			continue;
		}
		if (snapshot_collect(&ctx->ss, &sec, p, err, sizeof(err)) < 0) {
			free(p);
			return ss_fail(s, &sec, "%s", err);
		}
	}
	if (r < 0)
		return -1;
	if ((uint64_t)file_size != s->offset)
		return ss_fail(s, NULL, "%llu unexpected bytes after the end marker",
			       (unsigned long long)((uint64_t)file_size - s->offset));
	if (!ctx->have_image)
		return ss_fail(s, NULL, "no RAM image in the file");
	return 0;
}

static int read_file(struct restore_ctx *ctx, const struct vmm_options *cli,
		     struct vmm_options *opts, char *what)
{
	struct ss_io io = ss_fd_io(&ctx->fd);
	struct ss_stream s;
	struct ss_section sec;
	struct stat st;
	bool running;
	void *p = NULL;
	char err[256];

	ss_init(&s, &io, what);
	if (fstat(ctx->fd, &st) < 0 || ss_read_header(&s) < 0)
		goto fail;
	if (s.flags & SS_HDR_F_MIGRATION) {
		ss_fail(&s, NULL, "this is a migration stream, not a save file");
		goto fail;
	}
	if (ss_read_section(&s, &sec, &p, 1 << 20) != 1) {
		ss_fail(&s, NULL, "no config section");
		goto fail;
	}
	if (sec.type != SS_SEC_CONFIG) {
		ss_fail(&s, &sec, "the first section must be the config");
		goto fail;
	}
	if (snapshot_config_options(p, (size_t)sec.length, cli, opts,
				    &ctx->config, &running, err,
				    sizeof(err)) < 0) {
		ss_fail(&s, &sec, "%s", err);
		goto fail;
	}
	free(p);
	p = NULL;
	if (read_sections(ctx, &s, st.st_size, opts->mem_mib << 20) < 0)
		goto fail;
	ctx->verify = cli->verify_ram;
	if (ctx->verify == VERIFY_RAM_LAZY && !ram_pager_available()) {
		log_info("--verify-ram=lazy: userfaultfd is not available here "
			 "(%s); checking the RAM image first", strerror(errno));
		ctx->verify = VERIFY_RAM_EAGER;
	}
	if (ctx->verify == VERIFY_RAM_EAGER &&
	    ram_image_verify(ctx->fd, &ctx->ri, err, sizeof(err)) < 0) {
		ss_fail(&s, NULL, "%s", err);
		goto fail;
	}
	opts->start_paused = cli->start_paused || !running;
	return 0;
fail:
	free(p);
	log_error("%s", s.error[0] ? s.error : "cannot read the save file");
	return -1;
}

int restore_open(const struct vmm_options *cli, struct vmm_options *opts,
		 struct restore_ctx **out)
{
	struct restore_ctx *ctx = calloc(1, sizeof(*ctx));
	char what[300];

	if (!ctx)
		return -1;
	ctx->path = cli->restore;
	ctx->fd = open(cli->restore, O_RDONLY | O_CLOEXEC);
	if (ctx->fd < 0) {
		log_errno("--restore: '%s'", cli->restore);
		free(ctx);
		return -1;
	}
	snprintf(what, sizeof(what), "save file '%s'", cli->restore);
	if (read_file(ctx, cli, opts, what) < 0) {
		restore_close(ctx);
		return -1;
	}
	/* Lazy: a new memfd filled by the pager (restore_apply()); else the
	 * image itself, mapped copy-on-write. */
	ctx->image = (struct ram_image){ ctx->fd, ctx->ri.image_offset,
					 ctx->ri.present };
	opts->ram_image = ctx->verify == VERIFY_RAM_LAZY ? NULL : &ctx->image;
	*out = ctx;
	return 0;
}

int restore_apply(struct vm *vm, struct restore_ctx *ctx)
{
	char err[320];

	/* First, before anything reads guest RAM (device state does). */
	if (ctx->verify == VERIFY_RAM_LAZY &&
	    lazy_restore_start(&ctx->lazy, vm, ctx->fd, ctx->path, &ctx->ri) < 0) {
		log_error("--restore: '%s': cannot page guest RAM in "
			  "(--verify-ram=lazy)", ctx->path);
		return -1;
	}
	if (snapshot_apply(vm, &ctx->ss, err, sizeof(err)) < 0) {
		log_error("--restore: '%s': %s", ctx->path, err);
		return -1;
	}
	snapshot_sections_free(&ctx->ss);
	return 0;
}

void restore_stop_paging(struct restore_ctx *ctx)
{
	if (ctx) {
		lazy_restore_destroy(ctx->lazy);
		ctx->lazy = NULL;
	}
}

void restore_close(struct restore_ctx *ctx)
{
	if (!ctx)
		return;
	snapshot_sections_free(&ctx->ss);
	ram_image_info_free(&ctx->ri);
	json_decref(ctx->config);
	if (ctx->fd >= 0)
		close(ctx->fd);
	free(ctx);
}

int restore_print_info(const struct vmm_options *cli)
{
	struct vmm_options opts;
	struct restore_ctx *ctx;
	json_t *info;
	char *text;

	if (restore_open(cli, &opts, &ctx) < 0)
		return -1;
	info = json_pack("{s:b, s:s, s:i, s:I, s:I, s:O}", "ok", 1, "file",
			 ctx->path, "format_version", SS_FORMAT_VERSION, "ram_bytes",
			 (json_int_t)ctx->ri.ram_size, "data_pages",
			 (json_int_t)ctx->ri.data_pages, "config", ctx->config);
	text = info ? json_dumps(info, JSON_COMPACT) : NULL;
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(info);
	restore_close(ctx);
	return text ? 0 : -1;
}
