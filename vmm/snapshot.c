/*
 * The machine's state as stream sections: the config section first, then
 * one section per vCPU, the platform section and one per device
 * (lib/vmstate.h), and, when loading, the checks that a stream fits this
 * VM before anything of it is applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/vmstate.h"
#include "vmm/snapshot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- config ---------------------------------------------------------------- */

json_t *snapshot_config(struct vm *vm, json_t *domain, bool running)
{
	const struct vmm_options *o = vm->opts;
	json_t *argv = json_array(), *vmm, *cfg;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	for (int i = 0; i < o->model_argc; i++)
		json_array_append_new(argv, json_string(o->model_argv[i]));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	vmm = json_pack("{s:o, s:I, s:I}", "argv", argv, "memory_mib",
			(json_int_t)o->mem_mib, "vcpus", (json_int_t)vm->nr_vcpus);
	if (o->name)
		json_object_set_new(vmm, "name", json_string(o->name));
	if (o->kernel)
		json_object_set_new(vmm, "kernel", json_string(o->kernel));
	if (o->cmdline)
		json_object_set_new(vmm, "cmdline", json_string(o->cmdline));
	cfg = json_pack("{s:s, s:s, s:O, s:o, s:b, s:I}", "format", "xenon-save",
			"saved_at", when, "domain", domain ? domain : json_null(),
			"vmm", vmm, "running", running, "ram_bytes",
			(json_int_t)vm->mem.size);
	return cfg;
}

int snapshot_write_config(struct ss_stream *s, json_t *config)
{
	char *text = json_dumps(config, JSON_COMPACT);
	int ret;

	if (!text)
		return ss_fail(s, NULL, "cannot encode the config section");
	ret = ss_write_section(s, SS_SEC_CONFIG, SS_SEC_F_MANDATORY, 0,
			       SNAP_CONFIG_VERSION, text, strlen(text));
	free(text);
	return ret;
}

/* ---- writing ----------------------------------------------------------------- */

static int write_sbuf(struct ss_stream *s, struct sbuf *b, uint16_t type,
		      uint32_t id, uint32_t version)
{
	int ret;

	if (b->failed)
		ret = ss_fail(s, NULL, "out of memory encoding %s state",
			      ss_section_name(type));
	else
		ret = ss_write_section(s, type, SS_SEC_F_MANDATORY, id, version,
				       b->data, b->len);
	sbuf_free(b);
	return ret;
}

int snapshot_write_machine(struct vm *vm, struct ss_stream *s)
{
	struct sbuf b;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		sbuf_init(&b);
		if (snapshot_vcpu_save(&vm->vcpus[i], &b) < 0) {
			sbuf_free(&b);
			return ss_fail(s, NULL, "cannot read vcpu%u's state", i);
		}
		if (write_sbuf(s, &b, SS_SEC_VCPU, i, SNAP_VCPU_VERSION) < 0)
			return -1;
	}
	sbuf_init(&b);
	if (snapshot_platform_save(vm, &b) < 0) {
		sbuf_free(&b);
		return ss_fail(s, NULL, "cannot read the irqchip/PIT/clock state");
	}
	if (write_sbuf(s, &b, SS_SEC_PLATFORM, 0, SNAP_PLATFORM_VERSION) < 0)
		return -1;
	for (unsigned i = 0; i < vmstate_count(); i++) {
		const struct vmstate_entry *e = vmstate_get(i);

		sbuf_init(&b);
		sbuf_str(&b, e->name);
		e->ops->save(e->opaque, &b);
		if (write_sbuf(s, &b, SS_SEC_DEVICE, i, e->ops->version) < 0)
			return -1;
	}
	return 0;
}

/* ---- collecting and applying ---------------------------------------------- */

int snapshot_collect(struct snapshot_sections *ss, const struct ss_section *sec,
		     void *payload, char *err, size_t errlen)
{
	void *grown;

	switch (sec->type) {
	case SS_SEC_VCPU:
		if (sec->id >= 64 || ss->vcpu[sec->id].p) {
			snprintf(err, errlen, "vcpu section id %u is %s", sec->id,
				 sec->id >= 64 ? "out of range" : "repeated");
			return -1;
		}
		ss->vcpu[sec->id].p = payload;
		ss->vcpu[sec->id].len = (size_t)sec->length;
		ss->vcpu[sec->id].version = sec->version;
		ss->nr_vcpu_seen++;
		return 0;
	case SS_SEC_PLATFORM:
		if (ss->platform) {
			snprintf(err, errlen, "platform section is repeated");
			return -1;
		}
		ss->platform = payload;
		ss->platform_len = (size_t)sec->length;
		ss->platform_version = sec->version;
		return 0;
	case SS_SEC_DEVICE:
		grown = realloc(ss->dev, (ss->nr_dev + 1) * sizeof(*ss->dev));
		if (!grown) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ss->dev = grown;
		ss->dev[ss->nr_dev].p = payload;
		ss->dev[ss->nr_dev].len = (size_t)sec->length;
		ss->dev[ss->nr_dev].version = sec->version;
		ss->nr_dev++;
		return 0;
	default:
		snprintf(err, errlen, "unexpected %s section",
			 ss_section_name(sec->type));
		return -1;
	}
}

void snapshot_sections_free(struct snapshot_sections *ss)
{
	for (unsigned i = 0; i < 64; i++)
		free(ss->vcpu[i].p);
	free(ss->platform);
	for (unsigned i = 0; i < ss->nr_dev; i++)
		free(ss->dev[i].p);
	free(ss->dev);
	memset(ss, 0, sizeof(*ss));
}

/* Device sections against registered devices: one each, both ways. */
static int match_devices(struct snapshot_sections *ss,
			 const struct vmstate_entry **match, char *err,
			 size_t errlen)
{
	for (unsigned i = 0; i < ss->nr_dev; i++) {
		struct sreader r;
		char name[VMSTATE_NAME_MAX];

		sr_init(&r, ss->dev[i].p, ss->dev[i].len);
		sr_str(&r, name, sizeof(name));
		if (!sr_ok(&r)) {
			snprintf(err, errlen, "device section %u: %s", i, r.error);
			return -1;
		}
		match[i] = vmstate_find(name);
		if (!match[i]) {
			snprintf(err, errlen, "the stream has state for device '%s', "
				 "which this domain does not have", name);
			return -1;
		}
		for (unsigned j = 0; j < i; j++)
			if (match[j] == match[i]) {
				snprintf(err, errlen, "device '%s' appears twice", name);
				return -1;
			}
		if (ss->dev[i].version > match[i]->ops->version) {
			snprintf(err, errlen, "device '%s': state version %u is newer "
				 "than supported (%u)", name, ss->dev[i].version,
				 match[i]->ops->version);
			return -1;
		}
	}
	if (ss->nr_dev != vmstate_count()) {
		for (unsigned i = 0; i < vmstate_count(); i++) {
			bool found = false;

			for (unsigned j = 0; j < ss->nr_dev; j++)
				found |= match[j] == vmstate_get(i);
			if (!found) {
				snprintf(err, errlen, "device '%s' has no state in the "
					 "stream", vmstate_get(i)->name);
				return -1;
			}
		}
	}
	return 0;
}

static int check_shape(struct vm *vm, struct snapshot_sections *ss, char *err,
		       size_t errlen)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (!ss->vcpu[i].p) {
			snprintf(err, errlen, "vcpu%u has no state in the stream", i);
			return -1;
		}
	if (ss->nr_vcpu_seen != vm->nr_vcpus) {
		snprintf(err, errlen, "the stream has state for %u vCPUs, the "
			 "domain has %u", ss->nr_vcpu_seen, vm->nr_vcpus);
		return -1;
	}
	if (!ss->platform) {
		snprintf(err, errlen, "the stream has no platform section");
		return -1;
	}
	return 0;
}

static int load_devices(struct snapshot_sections *ss,
			const struct vmstate_entry **match, char *err,
			size_t errlen)
{
	for (unsigned i = 0; i < ss->nr_dev; i++) {
		const struct vmstate_entry *e = match[i];
		struct sreader r;
		char name[VMSTATE_NAME_MAX];

		sr_init(&r, ss->dev[i].p, ss->dev[i].len);
		sr_str(&r, name, sizeof(name));
		e->ops->load(e->opaque, &r, ss->dev[i].version);
		if (!sr_ok(&r)) {
			snprintf(err, errlen, "device '%s': %s", e->name, r.error);
			return -1;
		}
	}
	return 0;
}

/*
 * Devices first (they re-drive their interrupt lines into a fresh
 * irqchip), then the irqchip state over them, then the vCPUs (LAPIC IRRs
 * over whatever the re-driven lines delivered), with one `now` for every
 * clock so the TSCs stay in step.
 */
int snapshot_apply(struct vm *vm, struct snapshot_sections *ss, char *err,
		   size_t errlen)
{
	const struct vmstate_entry **match;
	uint64_t now = realtime_ns(), saved;
	int ret = -1;

	if (check_shape(vm, ss, err, errlen) < 0)
		return -1;
	match = calloc(ss->nr_dev + 1, sizeof(*match));
	if (!match) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (match_devices(ss, match, err, errlen) < 0)
		goto out;
	saved = snapshot_platform_saved_at(ss->platform, ss->platform_len);
	vmstate_set_downtime_ns(now > saved ? now - saved : 0);
	if (load_devices(ss, match, err, errlen) < 0 ||
	    snapshot_platform_load(vm, ss->platform, ss->platform_len,
				   ss->platform_version, now, err, errlen) < 0)
		goto out;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (snapshot_vcpu_load(&vm->vcpus[i], ss->vcpu[i].p,
				       ss->vcpu[i].len, ss->vcpu[i].version, now,
				       err, errlen) < 0)
			goto out;
	vmstate_post_load_all();
	ret = 0;
out:
	free(match);
	return ret;
}
