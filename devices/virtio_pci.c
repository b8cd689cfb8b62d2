/*
 * Virtio modern PCI transport (virtio 1.2 section 4.1), and the queue and
 * interrupt helpers of virtio.h.
 *
 * Threads: BAR and config-space accesses arrive on vCPU threads; queue
 * kicks arrive as eventfds (KVM ioeventfd, or our own write when the
 * notify address was reached through an exit) and are handled in the main
 * loop.  vp->lock (virtio_lock) serialises both with device work.  Lock
 * order: PCI bus lock -> vp->lock -> MSI-X / INTx locks.
 */
#include "devices/virtio_pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pci.h"
#include "lib/log.h"
#include "lib/vmstate.h"
#include "vmm/main_loop.h"
#include "vmm/vm.h"

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

/* Vendor capability types (virtio 1.2 4.1.4). */
enum { CAP_COMMON = 1, CAP_NOTIFY, CAP_ISR, CAP_DEVICE, CAP_PCI };

#define ISR_QUEUE  0x1
#define ISR_CONFIG 0x2

/* Common configuration structure layout (virtio 1.2 4.1.4.3). */
struct common_cfg {
	uint32_t device_feature_select;
	uint32_t device_feature;
	uint32_t driver_feature_select;
	uint32_t driver_feature;
	uint16_t config_msix_vector;
	uint16_t num_queues;
	uint8_t device_status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint16_t queue_size;
	uint16_t queue_msix_vector;
	uint16_t queue_enable;
	uint16_t queue_notify_off;
	uint64_t queue_desc;
	uint64_t queue_driver;
	uint64_t queue_device;
	uint16_t queue_notify_data;
	uint16_t queue_reset;
};
#define COMMON_SIZE 0x40
_Static_assert(offsetof(struct common_cfg, queue_desc) == 0x20, "layout");
_Static_assert(sizeof(struct common_cfg) <= COMMON_SIZE, "layout");

struct virtio_pci;

struct vpci_queue {
	struct virtio_pci *vp;
	unsigned index;
	struct virtqueue vq;
	uint16_t size, vector;
	bool enabled, ioeventfd;
	uint64_t desc, driver, device;
	int kick_fd;
};

struct virtio_pci {
	struct virtio_dev vdev;
	struct pci_device pci;
	pthread_mutex_t lock;
	uint64_t device_features, driver_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector, queue_sel;
	uint8_t status, generation, isr;
	bool broken;
	unsigned breakages;
	struct vpci_queue *queues;
	uint64_t notify_base;
	unsigned pci_cfg_cap;
};

#define VP(vdev) ((struct virtio_pci *)((char *)(vdev) - \
					offsetof(struct virtio_pci, vdev)))
#define VP_OF_PCI(d) ((struct virtio_pci *)((char *)(d) - \
					    offsetof(struct virtio_pci, pci)))

static const char *vp_name(const struct virtio_pci *vp)
{
	return vp->vdev.ops->name;
}

static bool overlaps(uint64_t off, uint64_t len, uint64_t start, uint64_t size)
{
	return off < start + size && start < off + len;
}

static struct vpci_queue *selected_queue(struct virtio_pci *vp)
{
	if (vp->queue_sel >= vp->vdev.ops->num_queues)
		return NULL;
	return &vp->queues[vp->queue_sel];
}

/* ---- interrupts ------------------------------------------------------------ */

/* MSI-X if the driver enabled it (NO_VECTOR then means: no interrupt),
 * else INTx with the reason in ISR. */
static void raise_irq(struct virtio_pci *vp, uint16_t vector, uint8_t isr)
{
	if (pci_msix_notify(&vp->pci, vector))
		return;
	vp->isr |= isr;
	pci_set_intx(&vp->pci, true);
}

static void kick(struct vpci_queue *q)
{
	uint64_t one = 1;

	if (write(q->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_errno("%s: queue %u kick", vp_name(q->vp), q->index);
}

/* ---- state machine ---------------------------------------------------------- */

static void reset_queue(struct virtio_pci *vp, struct vpci_queue *q)
{
	virtqueue_clear(&q->vq);
	q->enabled = false;
	q->size = vp->vdev.ops->queue_max_size;
	q->vector = VIRTIO_MSI_NO_VECTOR;
	q->desc = q->driver = q->device = 0;
}

static void device_reset(struct virtio_pci *vp)
{
	if (vp->status && vp->vdev.ops->reset)
		vp->vdev.ops->reset(&vp->vdev);
	for (unsigned i = 0; i < vp->vdev.ops->num_queues; i++)
		reset_queue(vp, &vp->queues[i]);
	vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_sel = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->status = 0;
	vp->isr = 0;
	vp->broken = false;
	pci_set_intx(&vp->pci, false);
}

/* FEATURES_OK is only granted for a subset of what we offer that
 * includes VERSION_1: there is no legacy interface. */
static bool features_acceptable(struct virtio_pci *vp)
{
	uint64_t extra = vp->driver_features & ~vp->device_features;

	if (extra) {
		log_warn("%s: driver accepted features we did not offer (0x%llx)",
			 vp_name(vp), (unsigned long long)extra);
		return false;
	}
	if (!(vp->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
		log_warn("%s: driver did not accept VIRTIO_F_VERSION_1 "
			 "(legacy drivers are not supported)", vp_name(vp));
		return false;
	}
	return true;
}

static void set_status(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = vp->status;

	if (val == 0) {
		device_reset(vp);
		return;
	}
	if ((val & VIRTIO_STATUS_FEATURES_OK) &&
	    !(old & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vp))
		val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_FEATURES_OK)) {
		log_warn("%s: DRIVER_OK without FEATURES_OK ignored", vp_name(vp));
		val &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	}
	/* NEEDS_RESET is ours to set; only a reset clears it. */
	vp->status = val | (old & VIRTIO_STATUS_NEEDS_RESET);
	if (vp->vdev.ops->status_changed)
		vp->vdev.ops->status_changed(&vp->vdev, old, vp->status);
	/* Buffers may have been posted before DRIVER_OK: look at every queue
	 * once, from the main loop. */
	if ((vp->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(old & VIRTIO_STATUS_DRIVER_OK))
		for (unsigned i = 0; i < vp->vdev.ops->num_queues; i++)
			if (vp->queues[i].enabled)
				kick(&vp->queues[i]);
}

static void enable_queue(struct virtio_pci *vp, struct vpci_queue *q)
{
	if (q->enabled)
		return;
	if (q->size > vp->vdev.ops->queue_max_size) {
		virtio_device_broken(&vp->vdev, "queue %u: size %u above the "
				     "maximum %u", q->index, q->size,
				     vp->vdev.ops->queue_max_size);
		return;
	}
	if (virtqueue_setup(&q->vq, &vp->vdev.vm->mem, q->size, q->desc,
			    q->driver, q->device,
			    virtio_has_feature(&vp->vdev, VIRTIO_F_INDIRECT_DESC),
			    virtio_has_feature(&vp->vdev, VIRTIO_F_EVENT_IDX)) < 0) {
		virtio_device_broken(&vp->vdev, "queue %u: %s", q->index,
				     q->vq.error);
		return;
	}
	q->enabled = true;
}

static uint16_t valid_vector(struct virtio_pci *vp, uint16_t v)
{
	/* Reading back NO_VECTOR tells the driver the vector was refused. */
	return v < vp->pci.msix.nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

/* ---- common configuration ----------------------------------------------------- */

static uint32_t feature_word(uint64_t f, uint32_t select)
{
	return select == 0 ? (uint32_t)f : select == 1 ? (uint32_t)(f >> 32) : 0;
}

static void common_image(struct virtio_pci *vp, struct common_cfg *c)
{
	struct vpci_queue *q = selected_queue(vp);

	memset(c, 0, sizeof(*c));
	c->device_feature_select = vp->dfselect;
	c->device_feature = feature_word(vp->device_features, vp->dfselect);
	c->driver_feature_select = vp->gfselect;
	c->driver_feature = feature_word(vp->driver_features, vp->gfselect);
	c->config_msix_vector = vp->config_vector;
	c->num_queues = (uint16_t)vp->vdev.ops->num_queues;
	c->device_status = vp->status;
	c->config_generation = vp->generation;
	c->queue_select = vp->queue_sel;
	if (!q)
		return;         /* queue_size 0: no such queue */
	c->queue_size = q->size;
	c->queue_msix_vector = q->vector;
	c->queue_enable = q->enabled;
	c->queue_notify_off = (uint16_t)q->index;
	c->queue_desc = q->desc;
	c->queue_driver = q->driver;
	c->queue_device = q->device;
}

static void set_driver_features(struct virtio_pci *vp, uint32_t val)
{
	if (vp->status & VIRTIO_STATUS_FEATURES_OK)
		return;         /* frozen once accepted */
	if (vp->gfselect == 0)
		vp->driver_features = (vp->driver_features & ~0xffffffffULL) | val;
	else if (vp->gfselect == 1)
		vp->driver_features = (vp->driver_features & 0xffffffffULL) |
				      (uint64_t)val << 32;
}

/* Did the write at [off, off+len) cover field f of *c? */
#define TOUCHED(f) overlaps(off, len, offsetof(struct common_cfg, f), \
			    sizeof(c->f))

static void queue_write(struct virtio_pci *vp, const struct common_cfg *c,
			uint64_t off, uint32_t len)
{
	struct vpci_queue *q = selected_queue(vp);

	if (!q)
		return;
	if (TOUCHED(queue_msix_vector))
		q->vector = valid_vector(vp, c->queue_msix_vector);
	if (!q->enabled) {      /* ring set-up is frozen once enabled */
		if (TOUCHED(queue_size))
			q->size = c->queue_size;
		if (TOUCHED(queue_desc))
			q->desc = c->queue_desc;
		if (TOUCHED(queue_driver))
			q->driver = c->queue_driver;
		if (TOUCHED(queue_device))
			q->device = c->queue_device;
	}
	if (TOUCHED(queue_enable) && c->queue_enable == 1)
		enable_queue(vp, q);
}

/* Any width or alignment: patch an image of the structure, then act on
 * each field the write touched, in layout order. */
static void common_write(struct virtio_pci *vp, uint64_t off,
			 const uint8_t *data, uint32_t len)
{
	uint8_t img[COMMON_SIZE];
	struct common_cfg cc, *c = &cc;

	if (off >= COMMON_SIZE || len > COMMON_SIZE - off)
		return;
	common_image(vp, c);
	memset(img, 0, sizeof(img));
	memcpy(img, c, sizeof(*c));
	memcpy(img + off, data, len);
	memcpy(c, img, sizeof(*c));
	if (TOUCHED(device_feature_select))
		vp->dfselect = c->device_feature_select;
	if (TOUCHED(driver_feature_select))
		vp->gfselect = c->driver_feature_select;
	if (TOUCHED(driver_feature))
		set_driver_features(vp, c->driver_feature);
	if (TOUCHED(config_msix_vector))
		vp->config_vector = valid_vector(vp, c->config_msix_vector);
	if (TOUCHED(device_status))
		set_status(vp, c->device_status);
	if (TOUCHED(queue_select))
		vp->queue_sel = c->queue_select;
	queue_write(vp, c, off, len);
}
#undef TOUCHED

static void common_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			uint32_t len)
{
	uint8_t img[COMMON_SIZE];
	struct common_cfg c;

	memset(data, 0, len);
	if (off >= COMMON_SIZE || len > COMMON_SIZE - off)
		return;
	common_image(vp, &c);
	memset(img, 0, sizeof(img));
	memcpy(img, &c, sizeof(c));
	memcpy(data, img + off, len);
}

/* ---- BAR 0 ----------------------------------------------------------------- */

static void device_cfg_io(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	const struct virtio_device_ops *ops = vp->vdev.ops;
	bool inside = off < ops->config_size && len <= ops->config_size - off;

	if (is_write) {
		if (inside && ops->set_config)
			ops->set_config(&vp->vdev, (uint32_t)off, data, len);
		return;
	}
	memset(data, 0, len);
	if (inside && ops->get_config)
		ops->get_config(&vp->vdev, (uint32_t)off, data, len);
}

static void notify_write(struct virtio_pci *vp, uint64_t off)
{
	uint64_t q = off / VIRTIO_PCI_NOTIFY_MULT;

	/* Normally KVM's ioeventfd catches this without an exit; if it was
	 * not registered we get here and forward the kick ourselves. */
	if (q < vp->vdev.ops->num_queues)
		kick(&vp->queues[q]);
}

static void bar0_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct virtio_pci *vp = opaque;

	pthread_mutex_lock(&vp->lock);
	if (off < VIRTIO_PCI_ISR_OFF) {
		if (is_write)
			common_write(vp, off, data, len);
		else
			common_read(vp, off, data, len);
	} else if (off < VIRTIO_PCI_DEVICE_OFF) {
		if (!is_write) {
			memset(data, 0, len);
			if (off == VIRTIO_PCI_ISR_OFF) {
				/* Reading ISR acknowledges the interrupt. */
				data[0] = vp->isr;
				vp->isr = 0;
				pci_set_intx(&vp->pci, false);
			}
		}
	} else if (off < VIRTIO_PCI_NOTIFY_OFF) {
		device_cfg_io(vp, off - VIRTIO_PCI_DEVICE_OFF, data, len, is_write);
	} else if (is_write) {
		notify_write(vp, off - VIRTIO_PCI_NOTIFY_OFF);
	} else {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&vp->lock);
}

/* ---- PCI hooks -------------------------------------------------------------- */

/* Notification addresses follow BAR 0: one ioeventfd per queue. */
static void vp_bar_map(struct pci_device *d, unsigned bar, uint64_t addr,
		       bool mapped)
{
	struct virtio_pci *vp = VP_OF_PCI(d);

	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&vp->lock);
	for (unsigned i = 0; i < vp->vdev.ops->num_queues; i++) {
		struct vpci_queue *q = &vp->queues[i];
		uint64_t notify = addr + VIRTIO_PCI_NOTIFY_OFF +
				  (uint64_t)i * VIRTIO_PCI_NOTIFY_MULT;

		if (mapped)
			q->ioeventfd = vm_ioeventfd(vp->vdev.vm, notify, 0, false,
						    q->kick_fd, true) == 0;
		else if (q->ioeventfd)
			vm_ioeventfd(vp->vdev.vm, notify, 0, false, q->kick_fd,
				     false);
		if (!mapped)
			q->ioeventfd = false;
	}
	vp->notify_base = mapped ? addr + VIRTIO_PCI_NOTIFY_OFF : 0;
	pthread_mutex_unlock(&vp->lock);
}

/* VIRTIO_PCI_CAP_PCI_CFG: a window into the BARs through config space
 * (bus lock held; the BAR handlers take their own locks). */
static void cfg_window(struct virtio_pci *vp, bool is_write)
{
	uint8_t *cap = vp->pci.cfg + vp->pci_cfg_cap;
	uint32_t off = pci_cfg_read32(&vp->pci, vp->pci_cfg_cap + 8);
	uint32_t len = pci_cfg_read32(&vp->pci, vp->pci_cfg_cap + 12);

	if ((len != 1 && len != 2 && len != 4) || off % len)
		return;
	pci_bar_access(&vp->pci, cap[4], off, cap + 16, len, is_write);
}

static void vp_cfg_write(struct pci_device *d, unsigned off, unsigned len)
{
	struct virtio_pci *vp = VP_OF_PCI(d);

	if (overlaps(off, len, vp->pci_cfg_cap + 16, 4))
		cfg_window(vp, true);
}

static void vp_cfg_read(struct pci_device *d, unsigned off, unsigned len)
{
	struct virtio_pci *vp = VP_OF_PCI(d);

	if (overlaps(off, len, vp->pci_cfg_cap + 16, 4))
		cfg_window(vp, false);
}

static const struct pci_device_ops vp_pci_ops = {
	.cfg_write = vp_cfg_write,
	.cfg_read = vp_cfg_read,
	.bar_map = vp_bar_map,
};

/* ---- queue kicks (main loop) ---------------------------------------------- */

static void run_queue(struct vpci_queue *q)
{
	struct virtio_pci *vp = q->vp;

	pthread_mutex_lock(&vp->lock);
	if (virtio_queue_ready(&vp->vdev, q->index))
		vp->vdev.ops->queue_notify(&vp->vdev, q->index);
	pthread_mutex_unlock(&vp->lock);
}

static void on_kick(void *opaque, uint32_t events)
{
	struct vpci_queue *q = opaque;
	uint64_t n;

	(void)events;
	if (read(q->kick_fd, &n, sizeof(n)) == sizeof(n))
		run_queue(q);
}

void virtio_pci_poll(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = VP(vdev);

	for (unsigned i = 0; i < vdev->ops->num_queues; i++)
		on_kick(&vp->queues[i], EPOLLIN);
}

/* ---- the device-facing API (virtio.h) -------------------------------------- */

void virtio_lock(struct virtio_dev *vdev)
{
	pthread_mutex_lock(&VP(vdev)->lock);
}

void virtio_unlock(struct virtio_dev *vdev)
{
	pthread_mutex_unlock(&VP(vdev)->lock);
}

bool virtio_has_feature(struct virtio_dev *vdev, unsigned bit)
{
	return bit < 64 && (VP(vdev)->driver_features & (1ULL << bit));
}

bool virtio_queue_ready(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_pci *vp = VP(vdev);

	return q < vdev->ops->num_queues && vp->queues[q].enabled &&
	       (vp->status & VIRTIO_STATUS_DRIVER_OK) && !vp->broken;
}

int virtio_queue_pop(struct virtio_dev *vdev, unsigned q, struct virtq_elem *e)
{
	struct virtqueue *vq;
	int ret;

	if (!virtio_queue_ready(vdev, q))
		return 0;
	vq = &VP(vdev)->queues[q].vq;
	ret = virtqueue_pop(vq, e);
	if (ret < 0) {
		virtio_device_broken(vdev, "queue %u: %s", q, vq->error);
		return 0;
	}
	return ret;
}

bool virtio_queue_unpop(struct virtio_dev *vdev, unsigned q)
{
	struct vpci_queue *vq = &VP(vdev)->queues[q];

	if (q >= vdev->ops->num_queues || !vq->enabled ||
	    vq->vq.last_avail == vq->vq.used_idx)
		return false;
	vq->vq.last_avail--;
	return true;
}

void virtio_queue_push(struct virtio_dev *vdev, unsigned q,
		       const struct virtq_elem *e, uint32_t written)
{
	if (!virtio_queue_ready(vdev, q))
		return;
	if (written > e->in_bytes)
		written = e->in_bytes;
	/* Log what the device wrote for migration (KVM sees only the guest). */
	for (unsigned i = e->out_num, left = written;
	     left && i < e->out_num + e->in_num; i++) {
		size_t n = e->iov[i].iov_len < left ? e->iov[i].iov_len : left;

		guest_memory_mark_dirty(&vdev->vm->mem, e->iov[i].iov_base, n);
		left -= (unsigned)n;
	}
	virtqueue_push(&VP(vdev)->queues[q].vq, e->head, written);
}

void virtio_queue_fill(struct virtio_dev *vdev, unsigned q,
		       const struct virtq_elem *e, uint32_t written,
		       unsigned offset)
{
	if (!virtio_queue_ready(vdev, q))
		return;
	if (written > e->in_bytes)
		written = e->in_bytes;
	virtqueue_fill(&VP(vdev)->queues[q].vq, offset, e->head, written);
}

void virtio_queue_flush(struct virtio_dev *vdev, unsigned q, unsigned count)
{
	if (virtio_queue_ready(vdev, q))
		virtqueue_flush(&VP(vdev)->queues[q].vq, count);
}

void virtio_queue_signal(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_pci *vp = VP(vdev);

	if (virtio_queue_ready(vdev, q) &&
	    virtqueue_should_notify(&vp->queues[q].vq))
		raise_irq(vp, vp->queues[q].vector, ISR_QUEUE);
}

bool virtio_queue_has_buffers(struct virtio_dev *vdev, unsigned q)
{
	return virtio_queue_ready(vdev, q) &&
	       virtqueue_has_buffers(&VP(vdev)->queues[q].vq);
}

void virtio_queue_set_notify(struct virtio_dev *vdev, unsigned q, bool on)
{
	if (virtio_queue_ready(vdev, q))
		virtqueue_set_notify(&VP(vdev)->queues[q].vq, on);
}

unsigned virtio_queue_size(struct virtio_dev *vdev, unsigned q)
{
	return virtio_queue_ready(vdev, q) ? VP(vdev)->queues[q].size : 0;
}

void virtio_config_changed(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = VP(vdev);

	vp->generation++;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(vp, vp->config_vector, ISR_CONFIG);
}

void virtio_device_broken(struct virtio_dev *vdev, const char *fmt, ...)
{
	struct virtio_pci *vp = VP(vdev);
	char msg[192];
	va_list ap;

	if (vp->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One clear error; a guest that keeps breaking it only gets debug. */
	if (vp->breakages++ == 0)
		log_error("%s: %s; device needs reset", vp_name(vp), msg);
	else
		log_debug("%s: %s; device needs reset", vp_name(vp), msg);
	vp->broken = true;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(vp, vp->config_vector, ISR_CONFIG);
}

/* ---- creation -------------------------------------------------------------- */

static int add_vendor_cap(struct virtio_pci *vp, uint8_t type, uint8_t bar,
			  uint32_t off, uint32_t len, const uint8_t *extra,
			  unsigned extra_len)
{
	uint8_t cap[20] = { PCI_CAP_ID_VNDR, 0, (uint8_t)(16 + extra_len), type,
			    bar };

	for (unsigned i = 0; i < 4; i++) {
		cap[8 + i] = (uint8_t)(off >> (8 * i));
		cap[12 + i] = (uint8_t)(len >> (8 * i));
	}
	if (extra_len)
		memcpy(cap + 16, extra, extra_len);
	return pci_add_cap(&vp->pci, cap, 16 + extra_len);
}

static int add_caps(struct virtio_pci *vp)
{
	const struct virtio_device_ops *ops = vp->vdev.ops;
	uint8_t mult[4] = { VIRTIO_PCI_NOTIFY_MULT }, data[4] = { 0 };
	int pci_cap;

	if (add_vendor_cap(vp, CAP_COMMON, 0, VIRTIO_PCI_COMMON_OFF,
			   COMMON_SIZE, NULL, 0) < 0 ||
	    add_vendor_cap(vp, CAP_NOTIFY, 0, VIRTIO_PCI_NOTIFY_OFF,
			   ops->num_queues * VIRTIO_PCI_NOTIFY_MULT, mult, 4) < 0 ||
	    add_vendor_cap(vp, CAP_ISR, 0, VIRTIO_PCI_ISR_OFF, 1, NULL, 0) < 0)
		return -1;
	if (ops->config_size &&
	    add_vendor_cap(vp, CAP_DEVICE, 0, VIRTIO_PCI_DEVICE_OFF,
			   ops->config_size, NULL, 0) < 0)
		return -1;
	pci_cap = add_vendor_cap(vp, CAP_PCI, 0, 0, 0, data, 4);
	if (pci_cap < 0)
		return -1;
	vp->pci_cfg_cap = (unsigned)pci_cap;
	/* The driver picks bar, offset and length, then moves data. */
	vp->pci.wmask[pci_cap + 4] = 0xff;
	memset(vp->pci.wmask + pci_cap + 8, 0xff, 12);
	return 0;
}

static int init_queues(struct virtio_pci *vp)
{
	unsigned n = vp->vdev.ops->num_queues;

	vp->queues = calloc(n, sizeof(*vp->queues));
	if (!vp->queues)
		return -1;
	for (unsigned i = 0; i < n; i++)
		vp->queues[i].kick_fd = -1;
	for (unsigned i = 0; i < n; i++) {
		struct vpci_queue *q = &vp->queues[i];

		q->vp = vp;
		q->index = i;
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0 ||
		    main_loop_add_fd(q->kick_fd, EPOLLIN, on_kick, q) < 0) {
			log_errno("%s: queue %u eventfd", vp_name(vp), i);
			return -1;
		}
	}
	return 0;
}

static int vp_state_register(struct virtio_pci *vp);

static bool ops_valid(const struct virtio_device_ops *ops)
{
	uint16_t m = ops->queue_max_size;

	return ops->num_queues && ops->num_queues <= VIRTIO_PCI_MAX_QUEUES &&
	       m && m <= VIRTQ_MAX_SIZE && !(m & (m - 1)) && ops->queue_notify &&
	       ops->config_size <= VIRTIO_PCI_NOTIFY_OFF - VIRTIO_PCI_DEVICE_OFF;
}

struct virtio_dev *virtio_pci_create(struct vm *vm, struct pci_bus *bus,
				     const struct virtio_device_ops *ops,
				     void *priv)
{
	struct virtio_pci *vp;

	if (!ops_valid(ops)) {
		log_error("%s: invalid device description", ops->name);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		log_error("%s: out of memory", ops->name);
		return NULL;
	}
	vp->vdev = (struct virtio_dev){ .ops = ops, .priv = priv, .vm = vm };
	pthread_mutex_init(&vp->lock, NULL);
	pci_device_init(&vp->pci, bus, ops->name, VIRTIO_PCI_VENDOR,
			(uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->type),
			ops->pci_class, 1 /* modern-only devices: rev >= 1 */);
	pci_set_subsystem(&vp->pci, VIRTIO_PCI_VENDOR, ops->type);
	vp->pci.ops = &vp_pci_ops;
	vp->pci.priv = vp;
	vp->device_features = (ops->get_features ? ops->get_features(&vp->vdev) : 0) |
			      1ULL << VIRTIO_F_VERSION_1 |
			      1ULL << VIRTIO_F_INDIRECT_DESC |
			      1ULL << VIRTIO_F_EVENT_IDX;
	if (init_queues(vp) < 0 ||
	    pci_add_bar(&vp->pci, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, bar0_io, vp) < 0 ||
	    pci_msix_init(&vp->pci, ops->num_queues + 1, VIRTIO_PCI_MSIX_BAR) < 0 ||
	    add_caps(vp) < 0)
		goto fail;
	device_reset(vp);
	if (pci_register_device(&vp->pci) < 0 || vp_state_register(vp) < 0)
		goto fail;
	return &vp->vdev;
fail:
	log_error("%s: cannot create the device", ops->name);
	virtio_pci_destroy(&vp->vdev);
	return NULL;
}

void virtio_pci_destroy(struct virtio_dev *vdev)
{
	struct virtio_pci *vp;

	if (!vdev)
		return;
	vp = VP(vdev);
	vmstate_unregister(vp);
	pci_device_destroy(&vp->pci);
	for (unsigned i = 0; vp->queues && i < vdev->ops->num_queues; i++) {
		if (vp->queues[i].kick_fd < 0)
			continue;
		main_loop_del_fd(vp->queues[i].kick_fd);
		close(vp->queues[i].kick_fd);
	}
	free(vp->queues);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

struct pci_device *virtio_pci_function(struct virtio_dev *vdev)
{
	return &VP(vdev)->pci;
}

/* ---- save/restore ------------------------------------------------------------ */

#define VP_STATE_VERSION 1

static void vp_quiesce(void *opaque)
{
	struct virtio_pci *vp = opaque;

	/* Kicks KVM signalled that the main loop did not get to yet. */
	virtio_pci_poll(&vp->vdev);
	if (vp->vdev.ops->quiesce)
		vp->vdev.ops->quiesce(&vp->vdev);
}

static void save_queue(struct sbuf *out, const struct vpci_queue *q)
{
	sbuf_u16(out, q->size);
	sbuf_u16(out, q->vector);
	sbuf_bool(out, q->enabled);
	sbuf_u64(out, q->desc);
	sbuf_u64(out, q->driver);
	sbuf_u64(out, q->device);
	sbuf_u16(out, q->vq.last_avail);
	sbuf_u16(out, q->vq.used_idx);
	sbuf_u16(out, q->vq.signalled_used);
	sbuf_bool(out, q->vq.signalled_valid);
	sbuf_bool(out, q->vq.broken);
}

static void vp_save(void *opaque, struct sbuf *out)
{
	struct virtio_pci *vp = opaque;
	const struct virtio_device_ops *ops = vp->vdev.ops;
	struct sbuf dev;

	pci_device_save(&vp->pci, out);
	sbuf_init(&dev);
	pthread_mutex_lock(&vp->lock);
	sbuf_u64(out, vp->device_features);
	sbuf_u64(out, vp->driver_features);
	sbuf_u32(out, vp->dfselect);
	sbuf_u32(out, vp->gfselect);
	sbuf_u16(out, vp->config_vector);
	sbuf_u16(out, vp->queue_sel);
	sbuf_u8(out, vp->status);
	sbuf_u8(out, vp->generation);
	sbuf_u8(out, vp->isr);
	sbuf_bool(out, vp->broken);
	sbuf_u32(out, ops->num_queues);
	for (unsigned i = 0; i < ops->num_queues; i++)
		save_queue(out, &vp->queues[i]);
	if (ops->save)
		ops->save(&vp->vdev, &dev);
	pthread_mutex_unlock(&vp->lock);
	sbuf_u32(out, ops->state_version);
	sbuf_u32(out, (uint32_t)dev.len);
	sbuf_put(out, dev.data, dev.len);
	out->failed |= dev.failed;
	sbuf_free(&dev);
}

/* The transport's fields as read from a stream, checked before use. */
struct vp_saved {
	uint64_t device_features, driver_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector, queue_sel;
	uint8_t status, generation, isr;
	bool broken;
	struct saved_queue {
		uint16_t size, vector, last_avail, used_idx, signalled_used;
		bool enabled, signalled_valid, broken;
		uint64_t desc, driver, device;
	} *q;
	uint32_t dev_version, dev_len;
	const void *dev;
};

static void parse_queue(struct sreader *in, struct saved_queue *q,
			uint16_t max, unsigned index)
{
	q->size = sr_u16(in);
	q->vector = sr_u16(in);
	q->enabled = sr_bool(in);
	q->desc = sr_u64(in);
	q->driver = sr_u64(in);
	q->device = sr_u64(in);
	q->last_avail = sr_u16(in);
	q->used_idx = sr_u16(in);
	q->signalled_used = sr_u16(in);
	q->signalled_valid = sr_bool(in);
	q->broken = sr_bool(in);
	if (sr_ok(in) && q->enabled &&
	    (!q->size || q->size > max || (q->size & (q->size - 1))))
		sr_fail(in, "queue %u: size %u is not valid (max %u)", index,
			q->size, max);
}

static void parse_transport(struct virtio_pci *vp, struct sreader *in,
			    struct vp_saved *s)
{
	const struct virtio_device_ops *ops = vp->vdev.ops;
	uint32_t nq;

	s->device_features = sr_u64(in);
	s->driver_features = sr_u64(in);
	s->dfselect = sr_u32(in);
	s->gfselect = sr_u32(in);
	s->config_vector = sr_u16(in);
	s->queue_sel = sr_u16(in);
	s->status = sr_u8(in);
	s->generation = sr_u8(in);
	s->isr = sr_u8(in);
	s->broken = sr_bool(in);
	nq = sr_u32(in);
	if (sr_ok(in) && s->device_features != vp->device_features)
		sr_fail(in, "device features 0x%llx in the stream, 0x%llx here",
			(unsigned long long)s->device_features,
			(unsigned long long)vp->device_features);
	if (sr_ok(in) && nq != ops->num_queues)
		sr_fail(in, "%u queues in the stream, %u here", nq, ops->num_queues);
	if (sr_ok(in) && !(s->q = calloc(nq, sizeof(*s->q))))
		sr_fail(in, "out of memory");
	for (unsigned i = 0; sr_ok(in) && i < nq; i++)
		parse_queue(in, &s->q[i], ops->queue_max_size, i);
	s->dev_version = sr_u32(in);
	s->dev_len = sr_u32(in);
	s->dev = sr_ptr(in, s->dev_len);
	if (sr_ok(in) && s->dev_version > ops->state_version)
		sr_fail(in, "device state version %u is newer than supported (%u)",
			s->dev_version, ops->state_version);
	sr_done(in);
}

/* vp->lock held. */
static void apply_queue(struct virtio_pci *vp, struct vpci_queue *q,
			const struct saved_queue *s, struct sreader *in)
{
	reset_queue(vp, q);
	q->size = s->size;
	q->vector = s->vector;
	q->desc = s->desc;
	q->driver = s->driver;
	q->device = s->device;
	if (!s->enabled)
		return;
	if (virtqueue_setup(&q->vq, &vp->vdev.vm->mem, q->size, q->desc,
			    q->driver, q->device,
			    virtio_has_feature(&vp->vdev, VIRTIO_F_INDIRECT_DESC),
			    virtio_has_feature(&vp->vdev, VIRTIO_F_EVENT_IDX)) < 0) {
		sr_fail(in, "queue %u: %s", q->index, q->vq.error);
		return;
	}
	q->enabled = true;
	q->vq.last_avail = s->last_avail;
	q->vq.used_idx = s->used_idx;
	/* Setting up zeroed the used ring's index in guest RAM, which the
	 * saved RAM had at used_idx: the guest would see 65536 - used_idx
	 * new entries (garbage) before the next push. */
	__atomic_store_n(&q->vq.used->idx, s->used_idx, __ATOMIC_RELEASE);
	q->vq.signalled_used = s->signalled_used;
	q->vq.signalled_valid = s->signalled_valid;
	q->vq.broken = s->broken;
}

static void vp_load(void *opaque, struct sreader *in, uint32_t version)
{
	struct virtio_pci *vp = opaque;
	const struct virtio_device_ops *ops = vp->vdev.ops;
	struct vp_saved s;

	memset(&s, 0, sizeof(s));
	if (version > VP_STATE_VERSION)
		sr_fail(in, "virtio-pci state version %u is newer than supported "
			"(%u)", version, VP_STATE_VERSION);
	pci_device_load(&vp->pci, in);
	parse_transport(vp, in, &s);
	if (sr_ok(in) && s.dev_len && !ops->load)
		sr_fail(in, "%u bytes of device state, which this device does "
			"not have", s.dev_len);
	if (sr_ok(in)) {
		pthread_mutex_lock(&vp->lock);
		vp->driver_features = s.driver_features;
		vp->dfselect = s.dfselect;
		vp->gfselect = s.gfselect;
		vp->config_vector = s.config_vector;
		vp->queue_sel = s.queue_sel;
		vp->status = s.status;
		vp->generation = s.generation;
		vp->isr = s.isr;
		vp->broken = s.broken;
		for (unsigned i = 0; sr_ok(in) && i < ops->num_queues; i++)
			apply_queue(vp, &vp->queues[i], &s.q[i], in);
		if (sr_ok(in) && ops->load) {
			struct sreader dev;

			sr_init(&dev, s.dev, s.dev_len);
			ops->load(&vp->vdev, &dev, s.dev_version);
			if (!sr_ok(&dev))
				sr_fail(in, "%s", dev.error);
		}
		pthread_mutex_unlock(&vp->lock);
	}
	free(s.q);
}

/* Buffers may have been posted while the guest was away: look once. */
static void vp_post_load(void *opaque)
{
	struct virtio_pci *vp = opaque;

	pthread_mutex_lock(&vp->lock);
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		for (unsigned i = 0; i < vp->vdev.ops->num_queues; i++)
			if (vp->queues[i].enabled)
				kick(&vp->queues[i]);
	pthread_mutex_unlock(&vp->lock);
}

static void vp_announce(void *opaque)
{
	struct virtio_pci *vp = opaque;

	pthread_mutex_lock(&vp->lock);
	if (vp->vdev.ops->announce && (vp->status & VIRTIO_STATUS_DRIVER_OK))
		vp->vdev.ops->announce(&vp->vdev);
	pthread_mutex_unlock(&vp->lock);
}

static const struct vmstate_ops vp_state_ops = {
	.version = VP_STATE_VERSION,
	.quiesce = vp_quiesce,
	.save = vp_save,
	.load = vp_load,
	.post_load = vp_post_load,
	.announce = vp_announce,
};

static int vp_state_register(struct virtio_pci *vp)
{
	return vmstate_register(&vp_state_ops, vp, "pci-00:%02x.0-%s",
				vp->pci.slot, vp_name(vp));
}
