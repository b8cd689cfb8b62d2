/*
 * --disk SPEC -> virtio-blk devices.  SPEC is an xl disk spec exactly as
 * in a domain config file (xl-disk-configuration(5)); the daemon passes
 * each `disk = [...]` entry through unchanged.  disk[N] in messages is
 * the spec's position on the command line, as in the config file.
 *
 * Disks become PCI functions sorted by Xen device number (xvda before
 * xvdb before hdc ...; equal numbers are refused), so the guest sees the
 * same order every boot whatever the order of the options.
 */
#include "devices/disks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/block_backend.h"
#include "devices/virtio_blk.h"
#include "lib/domain_config.h"
#include "lib/log.h"
#include "vmm/vm.h"

struct disk_slot {
	struct xl_disk d;
	unsigned index;            /* position on the command line */
};

static struct {
	struct disk_slot *slots;
	struct virtio_blk **devs;
	unsigned n;
} disks;

static int parse_one(struct disk_slot *s, const char *spec, unsigned index)
{
	char what[32];
	struct xl_msgs msgs;
	struct xl_spec_ctx ctx = { &msgs, { NULL, 0, 0 }, what };
	int rc;

	snprintf(what, sizeof(what), "disk[%u]", index);
	xl_msgs_init(&msgs);
	rc = xl_disk_parse(&s->d, spec, &ctx);
	for (size_t i = 0; i < msgs.n; i++)
		log_msg(msgs.v[i].severity == XL_ERROR ? LOG_ERROR : LOG_WARN,
			"%s", msgs.v[i].text);
	xl_msgs_free(&msgs);
	s->index = index;
	return rc;
}

/* Stable insertion sort by device number; a handful of disks. */
static int sort_slots(struct disk_slot *s, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct disk_slot t = s[i];
		unsigned j = i;

		for (; j > 0 && s[j - 1].d.devnum > t.d.devnum; j--)
			s[j] = s[j - 1];
		s[j] = t;
	}
	for (unsigned i = 1; i < n; i++) {
		if (s[i].d.devnum == s[i - 1].d.devnum) {
			log_error("disk[%u]: '%s': vdev %s is the same device as "
				  "disk[%u]'s %s", s[i].index, s[i].d.spec,
				  s[i].d.vdev, s[i - 1].index, s[i - 1].d.vdev);
			return -1;
		}
	}
	return 0;
}

/* Open every back end before creating any device, so a bad disk stops
 * the domain before anything is visible to the guest. */
static int open_all(struct block_backend **bbs)
{
	for (unsigned i = 0; i < disks.n; i++) {
		const struct xl_disk *d = &disks.slots[i].d;

		if (!d->target)
			continue;   /* empty cdrom drive */
		bbs[i] = block_backend_open(d, disks.slots[i].index);
		if (!bbs[i])
			return -1;
	}
	return 0;
}

int disks_create(struct vm *vm, struct pci_bus *bus)
{
	const struct vmm_options *o = vm->opts;
	struct block_backend **bbs;
	int rc = -1;

	if (!o->n_disks)
		return 0;
	disks.slots = calloc(o->n_disks, sizeof(*disks.slots));
	disks.devs = calloc(o->n_disks, sizeof(*disks.devs));
	bbs = calloc(o->n_disks, sizeof(*bbs));
	if (!disks.slots || !disks.devs || !bbs) {
		log_error("disks: out of memory");
		goto out;
	}
	for (; disks.n < o->n_disks; disks.n++)
		if (parse_one(&disks.slots[disks.n], o->disks[disks.n],
			      disks.n) < 0)
			goto out;
	if (sort_slots(disks.slots, disks.n) < 0 || open_all(bbs) < 0)
		goto out;
	for (unsigned i = 0; i < disks.n; i++) {
		disks.devs[i] = virtio_blk_create(vm, bus, &disks.slots[i].d,
						  bbs[i]);
		bbs[i] = NULL;   /* taken over, even on failure */
		if (!disks.devs[i])
			goto out;
	}
	rc = 0;
out:
	for (unsigned i = 0; bbs && i < o->n_disks; i++)
		block_backend_close(bbs[i]);
	free(bbs);
	return rc;
}

void disks_destroy(void)
{
	for (unsigned i = 0; disks.devs && i < disks.n; i++)
		virtio_blk_destroy(disks.devs[i]);
	for (unsigned i = 0; disks.slots && i < disks.n; i++)
		xl_disk_free(&disks.slots[i].d);
	free(disks.slots);
	free(disks.devs);
	memset(&disks, 0, sizeof(disks));
}
