/*
 * Save, restore and migration inside xenon-vmm: what goes into the save
 * stream (lib/save_stream.h, docs/save-format.md) and how it is put back.
 *
 *   snapshot_vcpu.c      one vCPU: registers, FPU, MSRs, LAPIC, events
 *   snapshot_platform.c  KVM's irqchip, PIT and clock
 *   snapshot.c           config section, device sections, ordering
 *   snapshot_ram.c       guest RAM: the file image and page records
 *   save.c / restore.c   the `save` request and `--restore FILE`
 *   migrate_*.c          live migration, both ends
 */
#ifndef XENON_SNAPSHOT_H
#define XENON_SNAPSHOT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/save_stream.h"
#include "lib/state_buf.h"

struct vm;
struct vcpu;
struct vmm_options;

#define SNAP_VCPU_VERSION     1
#define SNAP_PLATFORM_VERSION 1
#define SNAP_CONFIG_VERSION   1
#define SNAP_RAM_VERSION      1
#define SNAP_DEVICE_MAX       (4u << 20)

/* ---- vCPUs and platform (vCPUs paused) ---- */
int snapshot_vcpu_save(struct vcpu *vcpu, struct sbuf *out);
/* now_ns: CLOCK_REALTIME when the guest is about to run again; the TSC
 * moves on by the wall-clock time since it was saved. */
int snapshot_vcpu_load(struct vcpu *vcpu, const void *payload, size_t len,
		       uint32_t version, uint64_t now_ns, char *err,
		       size_t errlen);
int snapshot_platform_save(struct vm *vm, struct sbuf *out);
int snapshot_platform_load(struct vm *vm, const void *payload, size_t len,
			   uint32_t version, uint64_t now_ns, char *err,
			   size_t errlen);
/* The realtime stamp a platform section was taken at (0 if unreadable). */
uint64_t snapshot_platform_saved_at(const void *payload, size_t len);

/* ---- the whole machine state (vCPUs, platform, devices) ---- */
/* Write vCPU, platform and device sections (vCPUs paused, devices
 * quiesced with vmstate_quiesce_all()). */
int snapshot_write_machine(struct vm *vm, struct ss_stream *s);

/* State sections collected from a stream, applied once all arrived. */
struct snapshot_sections {
	struct { void *p; size_t len; uint32_t version; } vcpu[64];
	unsigned nr_vcpu_seen;
	void *platform;
	size_t platform_len;
	uint32_t platform_version;
	struct { void *p; size_t len; uint32_t version; } *dev;
	unsigned nr_dev;
};

/* Keep a vcpu/platform/device section (payload ownership moves); 0, or -1
 * with a message for duplicates and out-of-range ids. */
int snapshot_collect(struct snapshot_sections *ss, const struct ss_section *sec,
		     void *payload, char *err, size_t errlen);
void snapshot_sections_free(struct snapshot_sections *ss);
/* Check that the collected sections fit this VM (every vCPU, every
 * device, nothing extra), then load them all.  -1 with a message. */
int snapshot_apply(struct vm *vm, struct snapshot_sections *ss, char *err,
		   size_t errlen);

/* ---- config ---- */
/* Parse a config section and build the saved machine's options merged
 * with the restoring command line (vmm_options_merge_saved()); *config
 * keeps the strings the options point into alive (json_decref at exit). */
int snapshot_config_options(const void *text, size_t len,
			    const struct vmm_options *cli,
			    struct vmm_options *opts, json_t **config,
			    bool *running, char *err, size_t errlen);
/* The config section: domain (may be NULL), the model's argv, running. */
json_t *snapshot_config(struct vm *vm, json_t *domain, bool running);
int snapshot_write_config(struct ss_stream *s, json_t *config);

#endif
