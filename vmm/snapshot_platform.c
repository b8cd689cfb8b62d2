/*
 * VM-wide KVM state in the save stream: the in-kernel PICs and IOAPIC,
 * the PIT and kvmclock.  KVM's own structures are stored as they are
 * (x86-64 ABI, fixed layout), each with its length so a mismatch is
 * refused instead of misread.
 *
 * kvmclock is moved on by the wall-clock time since the save, like the
 * TSC (snapshot_vcpu.c): time passes for the guest while it is away.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "lib/log.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

struct platform_state {
	uint64_t realtime;
	struct kvm_clock_data clock;
	struct kvm_irqchip chip[3];     /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static const char *const chip_name[3] = { "PIC master", "PIC slave", "IOAPIC" };

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int snapshot_platform_save(struct vm *vm, struct sbuf *out)
{
	struct platform_state st;

	memset(&st, 0, sizeof(st));
	for (unsigned i = 0; i < 3; i++) {
		st.chip[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &st.chip[i]) < 0) {
			log_errno("KVM_GET_IRQCHIP (%s)", chip_name[i]);
			return -1;
		}
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &st.pit) < 0) {
		log_errno("KVM_GET_PIT2");
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &st.clock) < 0) {
		log_errno("KVM_GET_CLOCK");
		return -1;
	}
	st.realtime = realtime_ns();
	sbuf_u64(out, st.realtime);
	sbuf_u32(out, sizeof(st.clock));
	sbuf_put(out, &st.clock, sizeof(st.clock));
	for (unsigned i = 0; i < 3; i++) {
		sbuf_u32(out, sizeof(st.chip[i]));
		sbuf_put(out, &st.chip[i], sizeof(st.chip[i]));
	}
	sbuf_u32(out, sizeof(st.pit));
	sbuf_put(out, &st.pit, sizeof(st.pit));
	return 0;
}

static void get_blob(struct sreader *in, void *p, uint32_t len, const char *what)
{
	uint32_t n = sr_u32(in);

	if (sr_ok(in) && n != len) {
		sr_fail(in, "%s: %u bytes, expected %u", what, n, len);
		return;
	}
	sr_get(in, p, len);
}

static void parse(struct sreader *in, struct platform_state *st)
{
	st->realtime = sr_u64(in);
	get_blob(in, &st->clock, sizeof(st->clock), "kvmclock");
	for (unsigned i = 0; i < 3; i++) {
		get_blob(in, &st->chip[i], sizeof(st->chip[i]), chip_name[i]);
		if (sr_ok(in) && st->chip[i].chip_id != i)
			sr_fail(in, "%s: chip id %u", chip_name[i],
				st->chip[i].chip_id);
	}
	get_blob(in, &st->pit, sizeof(st->pit), "PIT");
	sr_done(in);
}

uint64_t snapshot_platform_saved_at(const void *payload, size_t len)
{
	struct sreader in;

	sr_init(&in, payload, len);
	return sr_u64(&in);
}

int snapshot_platform_load(struct vm *vm, const void *payload, size_t len,
			   uint32_t version, uint64_t now_ns, char *err,
			   size_t errlen)
{
	struct platform_state st;
	struct kvm_clock_data clock;
	struct sreader in;
	const char *what = NULL;

	if (version > SNAP_PLATFORM_VERSION) {
		snprintf(err, errlen, "platform state version %u is newer than "
			 "supported (%u)", version, SNAP_PLATFORM_VERSION);
		return -1;
	}
	memset(&st, 0, sizeof(st));
	sr_init(&in, payload, len);
	parse(&in, &st);
	if (!sr_ok(&in)) {
		snprintf(err, errlen, "platform state: %s", in.error);
		return -1;
	}
	for (unsigned i = 0; i < 3 && !what; i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &st.chip[i]) < 0)
			what = chip_name[i];
	if (!what && ioctl(vm->vm_fd, KVM_SET_PIT2, &st.pit) < 0)
		what = "PIT";
	memset(&clock, 0, sizeof(clock));
	clock.clock = st.clock.clock +
		      (now_ns > st.realtime ? now_ns - st.realtime : 0);
	if (!what && ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		what = "kvmclock";
	if (what) {
		snprintf(err, errlen, "KVM refused the %s state: %s", what,
			 strerror(errno));
		return -1;
	}
	return 0;
}
