/* The virtio modern PCI transport with a toy device: identity and
 * capabilities, feature negotiation, queue round trips with MSI-X and
 * INTx, NEEDS_RESET on hostile rings, reset, the PCI_CFG window, and
 * ioeventfds following BAR moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "devices/virtio_pci.h"
#include "lib/platform.h"
#include "vmm/main_loop.h"
#include "vm_stubs.h"

#define RAM    (1u << 20)
#define QSIZE  8
#define DESC   0x1000
#define AVAIL  0x2000
#define USED   0x3000
#define BUF    0x10000

/* Common config offsets (virtio 1.2 4.1.4.3). */
enum {
	DFSELECT = 0x00, DF = 0x04, GFSELECT = 0x08, GF = 0x0c, MSIX_CONFIG = 0x10,
	NUM_QUEUES = 0x12, STATUS = 0x14, GENERATION = 0x15, Q_SELECT = 0x16,
	Q_SIZE = 0x18, Q_MSIX = 0x1a, Q_ENABLE = 0x1c, Q_NOTIFY_OFF = 0x1e,
	Q_DESC = 0x20, Q_DRIVER = 0x28, Q_DEVICE = 0x30,
};

struct toy {
	unsigned notifies, resets;
	uint32_t cfg_rw;
	char seen[64];
};

struct fixture {
	struct vm vm;
	struct pci_bus *bus;
	struct virtio_dev *vdev;
	struct pci_device *pci;
	struct toy toy;
	uint16_t avail_idx;
};

static struct fixture *F(void **state)
{
	return *state;
}

/* ---- the toy device: echoes "ok" into each chain's writable part ------------- */

static uint64_t toy_features(struct virtio_dev *vdev)
{
	(void)vdev;
	return 1ULL << 0;
}

static void toy_get_config(struct virtio_dev *vdev, uint32_t off, void *buf,
			   uint32_t len)
{
	struct toy *t = vdev->priv;
	uint32_t cfg[2] = { t->cfg_rw, 0x5a5a5a5a };

	memcpy(buf, (uint8_t *)cfg + off, len);
}

static void toy_set_config(struct virtio_dev *vdev, uint32_t off,
			   const void *buf, uint32_t len)
{
	struct toy *t = vdev->priv;

	if (off == 0 && len == 4)
		memcpy(&t->cfg_rw, buf, 4);
}

static void toy_notify(struct virtio_dev *vdev, unsigned q)
{
	struct toy *t = vdev->priv;
	struct iovec iov[QSIZE];
	struct virtq_elem e = { .iov = iov, .max_iov = QSIZE };

	t->notifies++;
	while (virtio_queue_pop(vdev, q, &e) == 1) {
		size_t n = virtq_iov_to_buf(iov, e.out_num, t->seen, sizeof(t->seen) - 1);

		t->seen[n] = 0;
		virtq_buf_to_iov(iov + e.out_num, e.in_num, "ok", 2);
		virtio_queue_push(vdev, q, &e, 2);
	}
	virtio_queue_signal(vdev, q);
}

static void toy_reset(struct virtio_dev *vdev)
{
	((struct toy *)vdev->priv)->resets++;
}

static const struct virtio_device_ops toy_ops = {
	.name = "virtio-toy",
	.type = 42,
	.pci_class = 0xff0000,
	.num_queues = 2,
	.queue_max_size = 16,
	.config_size = 8,
	.get_features = toy_features,
	.get_config = toy_get_config,
	.set_config = toy_set_config,
	.queue_notify = toy_notify,
	.reset = toy_reset,
};

/* ---- fixture --------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	test_vm_init(&f->vm);
	f->vm.mem.host = aligned_alloc(4096, RAM);
	memset(f->vm.mem.host, 0, RAM);
	f->vm.mem.size = RAM;
	f->vm.mem.nr_regions = 1;
	f->vm.mem.regions[0] = (struct guest_region){ 0, RAM, 0 };
	f->bus = pci_bus_create(&f->vm);
	f->vdev = virtio_pci_create(&f->vm, f->bus, &toy_ops, &f->toy);
	assert_non_null(f->vdev);
	f->pci = virtio_pci_function(f->vdev);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = F(state);

	virtio_pci_destroy(f->vdev);
	pci_bus_destroy(f->bus);
	free(f->vm.mem.host);
	test_vm_destroy(&f->vm);
	free(f);
	return 0;
}

static uint64_t bar0(struct fixture *f)
{
	return f->pci->bars[VIRTIO_PCI_BAR].mapped_at;
}

static uint64_t rd(struct fixture *f, uint64_t off, unsigned len)
{
	uint64_t v = 0;

	io_bus_access(&f->vm.mmio, bar0(f) + off, (uint8_t *)&v, len, false);
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint64_t v, unsigned len)
{
	io_bus_access(&f->vm.mmio, bar0(f) + off, (uint8_t *)&v, len, true);
}

static uint32_t cfg(struct fixture *f, unsigned reg, unsigned len)
{
	uint32_t v = 0;

	pci_cfg_access(f->bus, (unsigned)f->pci->slot << 3, reg, (uint8_t *)&v,
		       len, false);
	return v;
}

static void cfg_wr(struct fixture *f, unsigned reg, uint32_t v, unsigned len)
{
	pci_cfg_access(f->bus, (unsigned)f->pci->slot << 3, reg, (uint8_t *)&v,
		       len, true);
}

static void *host(struct fixture *f, uint64_t gpa)
{
	return f->vm.mem.host + gpa;
}

/* Negotiate, set up queue 0 at the fixed rings, optionally with MSI-X
 * (config vector 0, queue vector 1). */
static void driver_init(struct fixture *f, bool msix)
{
	wr(f, STATUS, 0, 1);
	wr(f, STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(f, GFSELECT, 0, 4);
	wr(f, GF, 1u << VIRTIO_F_INDIRECT_DESC | 1, 4);
	wr(f, GFSELECT, 1, 4);
	wr(f, GF, 1, 4);            /* VERSION_1 */
	wr(f, STATUS, 0x0b, 1);
	assert_int_equal(rd(f, STATUS, 1), 0x0b);
	wr(f, Q_SELECT, 0, 2);
	wr(f, Q_SIZE, QSIZE, 2);
	wr(f, Q_DESC, DESC, 8);
	wr(f, Q_DRIVER, AVAIL, 4);  /* 32-bit halves work too */
	wr(f, Q_DRIVER + 4, 0, 4);
	wr(f, Q_DEVICE, USED, 8);
	if (msix) {
		unsigned cap = f->pci->msix.cap;

		wr(f, MSIX_CONFIG, 0, 2);
		wr(f, Q_MSIX, 1, 2);
		cfg_wr(f, cap + 2, PCI_MSIX_ENABLE, 2);
		for (unsigned v = 0; v < 3; v++)
			f->pci->msix.vec[v].ctrl = 0;   /* unmask */
	}
	wr(f, Q_ENABLE, 1, 2);
	wr(f, STATUS, 0x0f, 1);
	assert_int_equal(rd(f, STATUS, 1), 0x0f);
}

static void post(struct fixture *f, const char *msg)
{
	struct virtq_desc d[2] = {
		{ BUF, (uint32_t)strlen(msg), VIRTQ_DESC_F_NEXT, 1 },
		{ BUF + 0x100, 16, VIRTQ_DESC_F_WRITE, 0 },
	};
	struct virtq_avail *a = host(f, AVAIL);

	memcpy(host(f, DESC), d, sizeof(d));
	memcpy(host(f, BUF), msg, strlen(msg));
	a->ring[f->avail_idx % QSIZE] = 0;
	a->idx = ++f->avail_idx;
}

static void kick(struct fixture *f, unsigned q)
{
	/* Through the MMIO path; KVM's ioeventfd would do the same. */
	wr(f, VIRTIO_PCI_NOTIFY_OFF + 4 * q, q, 2);
	virtio_pci_poll(f->vdev);
}

static struct virtq_used *used(struct fixture *f)
{
	return host(f, USED);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_identity_and_caps(void **state)
{
	struct fixture *f = F(state);
	bool seen[6] = { 0 };

	assert_int_equal(cfg(f, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg(f, PCI_DEVICE_ID, 2), 0x1040 + 42);
	assert_int_equal(cfg(f, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg(f, PCI_SUBSYS_VENDOR, 2), 0x1af4);
	assert_int_equal(cfg(f, PCI_SUBSYS_ID, 2), 42);
	assert_int_equal(cfg(f, PCI_REVISION_ID, 4) >> 8, 0xff0000);
	for (unsigned p = cfg(f, PCI_CAP_PTR, 1); p; p = cfg(f, p + 1, 1)) {
		unsigned type, off;

		if (cfg(f, p, 1) != PCI_CAP_ID_VNDR)
			continue;
		type = cfg(f, p + 3, 1);
		off = cfg(f, p + 8, 4);
		assert_true(type >= 1 && type <= 5);
		seen[type] = true;
		if (type != 5)
			assert_int_equal(cfg(f, p + 4, 1), 0);  /* BAR 0 */
		if (type == 1)
			assert_int_equal(off, VIRTIO_PCI_COMMON_OFF);
		if (type == 2) {
			assert_int_equal(off, VIRTIO_PCI_NOTIFY_OFF);
			assert_int_equal(cfg(f, p + 16, 4), 4);
			assert_int_equal(cfg(f, p + 2, 1), 20);
		}
		if (type == 4)
			assert_int_equal(cfg(f, p + 12, 4), 8);
	}
	for (unsigned t = 1; t <= 5; t++)
		assert_true(seen[t]);
	assert_int_equal(rd(f, NUM_QUEUES, 2), 2);
	assert_int_equal(stub.ioeventfds_assigned, 2);
	assert_int_equal(stub.last_ioeventfd_addr, bar0(f) + VIRTIO_PCI_NOTIFY_OFF + 4);
}

static void test_features(void **state)
{
	struct fixture *f = F(state);

	wr(f, DFSELECT, 0, 4);
	assert_int_equal(rd(f, DF, 4),
			 1u | 1u << VIRTIO_F_INDIRECT_DESC | 1u << VIRTIO_F_EVENT_IDX);
	wr(f, DFSELECT, 1, 4);
	assert_int_equal(rd(f, DF, 4), 1);  /* VERSION_1 */
	wr(f, DFSELECT, 2, 4);
	assert_int_equal(rd(f, DF, 4), 0);

	/* No VERSION_1: FEATURES_OK does not stick. */
	wr(f, STATUS, 3, 1);
	wr(f, GFSELECT, 0, 4);
	wr(f, GF, 1, 4);
	wr(f, STATUS, 0x0b, 1);
	assert_int_equal(rd(f, STATUS, 1), 0x03);

	/* Something we never offered: refused too. */
	wr(f, GFSELECT, 1, 4);
	wr(f, GF, 1 | 1u << 3, 4);
	wr(f, STATUS, 0x0b, 1);
	assert_int_equal(rd(f, STATUS, 1), 0x03);

	/* And DRIVER_OK without FEATURES_OK is ignored. */
	wr(f, STATUS, 0x07, 1);
	assert_int_equal(rd(f, STATUS, 1) & VIRTIO_STATUS_DRIVER_OK, 0);

	wr(f, GF, 1, 4);
	wr(f, STATUS, 0x0b, 1);
	assert_int_equal(rd(f, STATUS, 1), 0x0b);
	/* Frozen once accepted. */
	wr(f, GFSELECT, 0, 4);
	wr(f, GF, 0, 4);
	assert_int_equal(rd(f, GF, 4), 1);
}

static void test_roundtrip_msix(void **state)
{
	struct fixture *f = F(state);

	driver_init(f, true);
	post(f, "hello");
	kick(f, 0);
	assert_string_equal(f->toy.seen, "hello");
	assert_int_equal(used(f)->idx, 1);
	assert_int_equal(used(f)->ring[0].len, 2);
	assert_memory_equal(host(f, BUF + 0x100), "ok", 2);
	assert_int_equal(eventfd_count(f->pci->msix.vec[1].fd), 1);
	assert_int_equal(eventfd_count(f->pci->msix.vec[0].fd), 0);
	/* A kick with nothing posted does nothing. */
	kick(f, 0);
	assert_int_equal(used(f)->idx, 1);
}

static void test_roundtrip_intx(void **state)
{
	struct fixture *f = F(state);
	unsigned gsi = pci_intx_gsi((unsigned)f->pci->slot);

	driver_init(f, false);
	post(f, "x");
	kick(f, 0);
	assert_int_equal(used(f)->idx, 1);
	assert_int_equal(stub.irq_level[gsi], 1);
	assert_int_equal(rd(f, VIRTIO_PCI_ISR_OFF, 1), 1);
	assert_int_equal(stub.irq_level[gsi], 0);
	assert_int_equal(rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
}

static void test_posted_before_driver_ok(void **state)
{
	struct fixture *f = F(state);

	post(f, "early");
	driver_init(f, true);   /* DRIVER_OK makes the transport look */
	virtio_pci_poll(f->vdev);
	assert_string_equal(f->toy.seen, "early");
	assert_int_equal(used(f)->idx, 1);
}

static void test_bad_chain_needs_reset(void **state)
{
	struct fixture *f = F(state);
	struct virtq_desc loop = { BUF, 4, VIRTQ_DESC_F_NEXT, 0 };

	driver_init(f, true);
	post(f, "x");
	memcpy(host(f, DESC), &loop, sizeof(loop));
	kick(f, 0);
	assert_int_equal(used(f)->idx, 0);
	assert_true(rd(f, STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(eventfd_count(f->pci->msix.vec[0].fd), 1);  /* config */
	/* Further kicks are ignored while broken... */
	kick(f, 0);
	/* ...and a reset brings it back. */
	wr(f, STATUS, 0, 1);
	assert_int_equal(rd(f, STATUS, 1), 0);
	assert_int_equal(f->toy.resets, 1);
	memset(host(f, AVAIL), 0, 0x100);
	memset(host(f, USED), 0, 0x100);
	f->avail_idx = 0;
	driver_init(f, true);
	post(f, "again");
	kick(f, 0);
	assert_string_equal(f->toy.seen, "again");
}

static void test_ring_outside_ram(void **state)
{
	struct fixture *f = F(state);

	wr(f, STATUS, 3, 1);
	wr(f, GFSELECT, 1, 4);
	wr(f, GF, 1, 4);
	wr(f, STATUS, 0x0b, 1);
	wr(f, Q_SELECT, 1, 2);
	wr(f, Q_DESC, RAM - 64, 8);
	wr(f, Q_DRIVER, AVAIL, 8);
	wr(f, Q_DEVICE, USED, 8);
	wr(f, Q_ENABLE, 1, 2);
	assert_int_equal(rd(f, Q_ENABLE, 2), 0);
	assert_true(rd(f, STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	/* Too large a size is refused the same way (after a reset). */
	wr(f, STATUS, 0, 1);
	wr(f, Q_SIZE, 32, 2);
	wr(f, Q_DESC, DESC, 8);
	wr(f, Q_ENABLE, 1, 2);
	assert_true(rd(f, STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_queue_registers(void **state)
{
	struct fixture *f = F(state);

	wr(f, Q_SELECT, 1, 2);
	assert_int_equal(rd(f, Q_SIZE, 2), 16);
	assert_int_equal(rd(f, Q_NOTIFY_OFF, 2), 1);
	assert_int_equal(rd(f, Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(f, Q_MSIX, 2, 2);
	assert_int_equal(rd(f, Q_MSIX, 2), 2);
	wr(f, Q_MSIX, 3, 2);    /* only 3 vectors: refused */
	assert_int_equal(rd(f, Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(f, MSIX_CONFIG, 99, 2);
	assert_int_equal(rd(f, MSIX_CONFIG, 2), VIRTIO_MSI_NO_VECTOR);
	wr(f, Q_DESC, 0x123456789000ULL, 8);
	assert_int_equal(rd(f, Q_DESC, 8), 0x123456789000ULL);
	assert_int_equal(rd(f, Q_DESC + 4, 4), 0x1234);
	wr(f, Q_SELECT, 2, 2);  /* no such queue */
	assert_int_equal(rd(f, Q_SIZE, 2), 0);
	wr(f, Q_ENABLE, 1, 2);
	assert_int_equal(rd(f, STATUS, 1), 0);
}

static void test_reset_clears_queues(void **state)
{
	struct fixture *f = F(state);

	driver_init(f, true);
	assert_int_equal(rd(f, Q_ENABLE, 2), 1);
	wr(f, STATUS, 0, 1);
	assert_int_equal(rd(f, Q_ENABLE, 2), 0);
	assert_int_equal(rd(f, Q_SIZE, 2), 16);
	assert_int_equal(rd(f, Q_DESC, 8), 0);
	assert_int_equal(rd(f, Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(f, GF, 4), 0);
	assert_int_equal(f->toy.resets, 1);
}

static void test_device_config(void **state)
{
	struct fixture *f = F(state);
	uint8_t gen;

	assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF + 4, 4), 0x5a5a5a5a);
	wr(f, VIRTIO_PCI_DEVICE_OFF, 0xcafe, 4);
	assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF, 4), 0xcafe);
	assert_int_equal(rd(f, VIRTIO_PCI_DEVICE_OFF + 8, 4), 0);  /* past the end */
	gen = (uint8_t)rd(f, GENERATION, 1);
	driver_init(f, true);
	virtio_lock(f->vdev);
	virtio_config_changed(f->vdev);
	virtio_unlock(f->vdev);
	assert_int_equal(rd(f, GENERATION, 1), (uint8_t)(gen + 1));
	assert_int_equal(eventfd_count(f->pci->msix.vec[0].fd), 1);
}

static void test_pci_cfg_window(void **state)
{
	struct fixture *f = F(state);
	unsigned p;

	for (p = cfg(f, PCI_CAP_PTR, 1); p; p = cfg(f, p + 1, 1))
		if (cfg(f, p, 1) == PCI_CAP_ID_VNDR && cfg(f, p + 3, 1) == 5)
			break;
	assert_int_not_equal(p, 0);
	cfg_wr(f, p + 4, 0, 1);         /* BAR 0 */
	cfg_wr(f, p + 8, STATUS, 4);
	cfg_wr(f, p + 12, 1, 4);
	cfg_wr(f, p + 16, 3, 1);        /* write status through the window */
	assert_int_equal(rd(f, STATUS, 1), 3);
	wr(f, STATUS, 1, 1);
	assert_int_equal(cfg(f, p + 16, 1), 1);
	/* Dword read of the device features. */
	cfg_wr(f, p + 8, DF, 4);
	cfg_wr(f, p + 12, 4, 4);
	assert_int_equal(cfg(f, p + 16, 4), rd(f, DF, 4));
	/* Misaligned or odd lengths are ignored. */
	cfg_wr(f, p + 8, 1, 4);
	cfg_wr(f, p + 12, 4, 4);
	cfg_wr(f, p + 16, 0xffffffff, 4);
	assert_int_equal(rd(f, DFSELECT, 4), 0);
}

static void test_ioeventfd_follows_bar(void **state)
{
	struct fixture *f = F(state);
	uint32_t to = PLAT_PCI_MMIO_START + 0x1000000;

	cfg_wr(f, PCI_BAR0, to, 4);
	assert_int_equal(stub.ioeventfds_deassigned, 2);
	assert_int_equal(stub.ioeventfds_assigned, 4);
	assert_int_equal(stub.last_ioeventfd_addr, to + VIRTIO_PCI_NOTIFY_OFF + 4);
	assert_int_equal(bar0(f), to);
	assert_int_equal(rd(f, NUM_QUEUES, 2), 2);
	cfg_wr(f, PCI_COMMAND, 0, 2);
	assert_int_equal(stub.ioeventfds_deassigned, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_identity_and_caps),
		T(test_features),
		T(test_roundtrip_msix),
		T(test_roundtrip_intx),
		T(test_posted_before_driver_ok),
		T(test_bad_chain_needs_reset),
		T(test_ring_outside_ram),
		T(test_queue_registers),
		T(test_reset_clears_queues),
		T(test_device_config),
		T(test_pci_cfg_window),
		T(test_ioeventfd_follows_bar),
#undef T
	};

	if (main_loop_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
