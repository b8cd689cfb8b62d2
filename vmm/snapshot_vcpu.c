/*
 * One vCPU's state in the save stream: general and segment registers
 * (SREGS2 where KVM has it, so PAE PDPTRs survive), FPU/SSE state (XSAVE
 * area, or the legacy FPU block), XCRs, every MSR KVM lists plus the MTRRs,
 * the LAPIC, the MP state, pending events and debug registers.
 *
 * Time: the TSC is stored with the wall-clock time it was read at; on load
 * it is moved on by the wall-clock time since, so the guest sees the pause
 * as time passing (as a Xen guest does) and can measure its own downtime.
 *
 * Order on load follows what KVM needs: SREGS (APIC base, modes) before
 * the LAPIC, the LAPIC before TSC_DEADLINE (ignored unless the LVT timer
 * is in deadline mode), the TSC before TSC_DEADLINE.
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
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define MSR_IA32_TSC          0x10
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MAX_MSRS              256

enum {
	F_SREGS2 = 1 << 0,
	F_XSAVE = 1 << 1,
	F_XCRS = 1 << 2,
};

/* MTRRs are not in KVM's list but are guest state (firmware and Linux
 * program them). */
static const uint32_t extra_msrs[] = {
	0x2ff, 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d,
	0x26e, 0x26f, 0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool has_cap(struct vm *vm, int cap)
{
	return ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

/* KVM's MSR list plus the MTRRs, without duplicates (once per process). */
static unsigned msr_list(struct vm *vm, uint32_t *out)
{
	static uint32_t list[MAX_MSRS];
	static unsigned n;
	/* struct kvm_msr_list with room for the indices. */
	struct { uint32_t nmsrs; uint32_t indices[MAX_MSRS]; } ml;

	if (n)
		goto done;
	ml.nmsrs = MAX_MSRS;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &ml) < 0) {
		log_errno("KVM_GET_MSR_INDEX_LIST");
		ml.nmsrs = 0;
	}
	for (unsigned i = 0; i < ml.nmsrs; i++)
		list[n++] = ml.indices[i];
	for (size_t i = 0; i < sizeof(extra_msrs) / sizeof(extra_msrs[0]); i++) {
		bool dup = false;

		for (unsigned j = 0; j < n; j++)
			dup |= list[j] == extra_msrs[i];
		if (!dup && n < MAX_MSRS)
			list[n++] = extra_msrs[i];
	}
done:
	memcpy(out, list, n * sizeof(*out));
	return n;
}

/* struct kvm_msrs with room for the entries (same layout). */
struct msrs {
	struct {
		uint32_t nmsrs, pad;
	} hdr;
	struct kvm_msr_entry e[MAX_MSRS];
};
_Static_assert(sizeof(struct kvm_msrs) == 8, "kvm_msrs layout");

/* KVM_GET/SET_MSRS stop at the first MSR they refuse: drop it and go on
 * with the rest.  Returns how many were done (entries compacted). */
static unsigned msrs_io(struct vcpu *vcpu, struct msrs *m, unsigned long req,
			const char *what)
{
	unsigned done = 0, total = m->hdr.nmsrs;
	struct msrs *tmp = malloc(sizeof(*tmp));

	if (!tmp)
		return 0;
	while (done < total) {
		int r;

		tmp->hdr.nmsrs = total - done;
		memcpy(tmp->e, m->e + done, (total - done) * sizeof(m->e[0]));
		r = ioctl(vcpu->fd, req, tmp);
		if (r < 0) {
			log_errno("vcpu%u: %s", vcpu->id, what);
			break;
		}
		memcpy(m->e + done, tmp->e, (size_t)r * sizeof(m->e[0]));
		done += (unsigned)r;
		if (done < total) {
			log_debug("vcpu%u: %s: MSR 0x%x refused, skipped", vcpu->id,
				  what, m->e[done].index);
			memmove(m->e + done, m->e + done + 1,
				(total - done - 1) * sizeof(m->e[0]));
			total--;
		}
	}
	free(tmp);
	m->hdr.nmsrs = done;
	return done;
}

static void put_blob(struct sbuf *out, const void *p, uint32_t len)
{
	sbuf_u32(out, len);
	sbuf_put(out, p, len);
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

/* Everything of one vCPU, read from KVM or from the stream. */
struct vcpu_state {
	uint64_t realtime;
	uint32_t tsc_khz, flags;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_sregs2 sregs2;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	struct msrs msrs;
	struct kvm_xsave xsave;     /* last: it ends in a flexible array */
};

static int get_state(struct vcpu *vcpu, struct vcpu_state *st)
{
	struct vm *vm = vcpu->vm;
	uint32_t idx[MAX_MSRS];
	unsigned n = msr_list(vm, idx);
	int tsc = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

	st->flags = (has_cap(vm, KVM_CAP_SREGS2) ? F_SREGS2 : 0) |
		    (has_cap(vm, KVM_CAP_XSAVE) ? F_XSAVE : 0) |
		    (has_cap(vm, KVM_CAP_XCRS) ? F_XCRS : 0);
	st->tsc_khz = tsc > 0 ? (uint32_t)tsc : 0;
	st->msrs.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++)
		st->msrs.e[i] = (struct kvm_msr_entry){ .index = idx[i] };
	if (ioctl(vcpu->fd, KVM_GET_REGS, &st->regs) < 0 ||
	    ((st->flags & F_SREGS2) ?
	     ioctl(vcpu->fd, KVM_GET_SREGS2, &st->sregs2) :
	     ioctl(vcpu->fd, KVM_GET_SREGS, &st->sregs)) < 0 ||
	    ((st->flags & F_XSAVE) ? ioctl(vcpu->fd, KVM_GET_XSAVE, &st->xsave) :
	     ioctl(vcpu->fd, KVM_GET_FPU, &st->fpu)) < 0 ||
	    ((st->flags & F_XCRS) && ioctl(vcpu->fd, KVM_GET_XCRS, &st->xcrs) < 0) ||
	    ioctl(vcpu->fd, KVM_GET_LAPIC, &st->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_MP_STATE, &st->mp) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &st->events) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &st->dregs) < 0) {
		log_errno("vcpu%u: reading state", vcpu->id);
		return -1;
	}
	/* The TSC and the clock it is matched against, read together. */
	msrs_io(vcpu, &st->msrs, KVM_GET_MSRS, "KVM_GET_MSRS");
	st->realtime = realtime_ns();
	return 0;
}

int snapshot_vcpu_save(struct vcpu *vcpu, struct sbuf *out)
{
	struct vcpu_state *st = calloc(1, sizeof(*st));

	if (!st || get_state(vcpu, st) < 0) {
		free(st);
		return -1;
	}
	sbuf_u64(out, st->realtime);
	sbuf_u32(out, st->tsc_khz);
	sbuf_u32(out, st->flags);
	put_blob(out, &st->regs, sizeof(st->regs));
	if (st->flags & F_SREGS2)
		put_blob(out, &st->sregs2, sizeof(st->sregs2));
	else
		put_blob(out, &st->sregs, sizeof(st->sregs));
	if (st->flags & F_XSAVE)
		put_blob(out, &st->xsave, sizeof(st->xsave));
	else
		put_blob(out, &st->fpu, sizeof(st->fpu));
	if (st->flags & F_XCRS)
		put_blob(out, &st->xcrs, sizeof(st->xcrs));
	put_blob(out, &st->lapic, sizeof(st->lapic));
	sbuf_u32(out, st->mp.mp_state);
	put_blob(out, &st->events, sizeof(st->events));
	put_blob(out, &st->dregs, sizeof(st->dregs));
	sbuf_u32(out, st->msrs.hdr.nmsrs);
	for (unsigned i = 0; i < st->msrs.hdr.nmsrs; i++) {
		sbuf_u32(out, st->msrs.e[i].index);
		sbuf_u64(out, st->msrs.e[i].data);
	}
	free(st);
	return 0;
}

static void parse_state(struct sreader *in, struct vcpu_state *st)
{
	uint32_t n;

	st->realtime = sr_u64(in);
	st->tsc_khz = sr_u32(in);
	st->flags = sr_u32(in);
	if (st->flags & ~(uint32_t)(F_SREGS2 | F_XSAVE | F_XCRS))
		sr_fail(in, "unknown flags 0x%x", st->flags);
	get_blob(in, &st->regs, sizeof(st->regs), "regs");
	if (st->flags & F_SREGS2)
		get_blob(in, &st->sregs2, sizeof(st->sregs2), "sregs2");
	else
		get_blob(in, &st->sregs, sizeof(st->sregs), "sregs");
	if (st->flags & F_XSAVE)
		get_blob(in, &st->xsave, sizeof(st->xsave), "xsave");
	else
		get_blob(in, &st->fpu, sizeof(st->fpu), "fpu");
	if (st->flags & F_XCRS)
		get_blob(in, &st->xcrs, sizeof(st->xcrs), "xcrs");
	get_blob(in, &st->lapic, sizeof(st->lapic), "lapic");
	st->mp.mp_state = sr_u32(in);
	get_blob(in, &st->events, sizeof(st->events), "vcpu events");
	get_blob(in, &st->dregs, sizeof(st->dregs), "debug registers");
	n = sr_u32(in);
	if (n > MAX_MSRS)
		sr_fail(in, "%u MSRs (at most %u)", n, MAX_MSRS);
	for (uint32_t i = 0; sr_ok(in) && i < n; i++) {
		st->msrs.e[i].index = sr_u32(in);
		st->msrs.e[i].data = sr_u64(in);
	}
	st->msrs.hdr.nmsrs = sr_ok(in) ? n : 0;
	sr_done(in);
}

/* Move the TSC on by the wall-clock time since it was read, and split
 * off TSC_DEADLINE, which must follow the LAPIC. */
static void adjust_msrs(struct vcpu_state *st, uint64_t now_ns,
			struct msrs *late)
{
	uint64_t gone = now_ns > st->realtime ? now_ns - st->realtime : 0;
	unsigned keep = 0;

	late->hdr.nmsrs = 0;
	for (unsigned i = 0; i < st->msrs.hdr.nmsrs; i++) {
		struct kvm_msr_entry e = st->msrs.e[i];

		if (e.index == MSR_IA32_TSC)
			e.data += (uint64_t)((unsigned __int128)gone * st->tsc_khz /
					     1000000);
		if (e.index == MSR_IA32_TSC_DEADLINE)
			late->e[late->hdr.nmsrs++] = e;
		else
			st->msrs.e[keep++] = e;
	}
	st->msrs.hdr.nmsrs = keep;
}

static int set_tsc_khz(struct vcpu *vcpu, uint32_t khz, char *err, size_t errlen)
{
	int here = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

	if (!khz || here <= 0 || (uint32_t)here == khz)
		return 0;
	if (ioctl(vcpu->fd, KVM_SET_TSC_KHZ, khz) == 0)
		return 0;
	/* No TSC scaling on this host: the guest would see its clock run at
	 * the wrong speed, so refuse rather than corrupt its time. */
	snprintf(err, errlen, "vcpu%u: the guest's TSC runs at %u kHz, this "
		 "host's at %d kHz and KVM cannot scale it", vcpu->id, khz, here);
	return -1;
}

static int put_state(struct vcpu *vcpu, struct vcpu_state *st,
		     struct msrs *late, char *err, size_t errlen)
{
	const char *what = NULL;

	st->events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING |
			    KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if (((st->flags & F_SREGS2) ?
	     ioctl(vcpu->fd, KVM_SET_SREGS2, &st->sregs2) :
	     ioctl(vcpu->fd, KVM_SET_SREGS, &st->sregs)) < 0)
		what = "segment registers";
	else if (ioctl(vcpu->fd, KVM_SET_REGS, &st->regs) < 0)
		what = "registers";
	else if (((st->flags & F_XSAVE) ?
		  ioctl(vcpu->fd, KVM_SET_XSAVE, &st->xsave) :
		  ioctl(vcpu->fd, KVM_SET_FPU, &st->fpu)) < 0)
		what = "FPU state";
	else if ((st->flags & F_XCRS) &&
		 ioctl(vcpu->fd, KVM_SET_XCRS, &st->xcrs) < 0)
		what = "XCRs";
	if (!what) {
		msrs_io(vcpu, &st->msrs, KVM_SET_MSRS, "KVM_SET_MSRS");
		if (ioctl(vcpu->fd, KVM_SET_LAPIC, &st->lapic) < 0)
			what = "LAPIC";
		else
			msrs_io(vcpu, late, KVM_SET_MSRS, "KVM_SET_MSRS");
	}
	if (!what && ioctl(vcpu->fd, KVM_SET_MP_STATE, &st->mp) < 0)
		what = "MP state";
	else if (!what && ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &st->events) < 0)
		what = "pending events";
	else if (!what && ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &st->dregs) < 0)
		what = "debug registers";
	if (what) {
		snprintf(err, errlen, "vcpu%u: KVM refused the %s: %s", vcpu->id,
			 what, strerror(errno));
		return -1;
	}
	return 0;
}

int snapshot_vcpu_load(struct vcpu *vcpu, const void *payload, size_t len,
		       uint32_t version, uint64_t now_ns, char *err,
		       size_t errlen)
{
	struct vcpu_state *st = calloc(1, sizeof(*st));
	struct msrs *late = calloc(1, sizeof(*late));
	struct sreader in;
	int ret = -1;

	if (!st || !late) {
		snprintf(err, errlen, "vcpu%u: out of memory", vcpu->id);
		goto out;
	}
	if (version > SNAP_VCPU_VERSION) {
		snprintf(err, errlen, "vcpu%u: state version %u is newer than "
			 "supported (%u)", vcpu->id, version, SNAP_VCPU_VERSION);
		goto out;
	}
	sr_init(&in, payload, len);
	parse_state(&in, st);
	if (!sr_ok(&in)) {
		snprintf(err, errlen, "vcpu%u: %s", vcpu->id, in.error);
		goto out;
	}
	if ((st->flags & F_SREGS2) && !has_cap(vcpu->vm, KVM_CAP_SREGS2)) {
		snprintf(err, errlen, "vcpu%u: saved with SREGS2, which this "
			 "host's KVM lacks", vcpu->id);
		goto out;
	}
	if (set_tsc_khz(vcpu, st->tsc_khz, err, errlen) < 0)
		goto out;
	adjust_msrs(st, now_ns, late);
	ret = put_state(vcpu, st, late, err, errlen);
out:
	free(st);
	free(late);
	return ret;
}
