/* The virtio modern PCI transport: capabilities, status, features, queues. */
#include "guest/virtio_pci.h"

#include <stddef.h>

#include "guest/lapic.h"
#include "guest/x86.h"

/* virtio_pci_cap.cfg_type */
enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4 };

/* struct virtio_pci_common_cfg */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX_CONFIG = 0x10, CC_NUM_QUEUES = 0x12, CC_STATUS = 0x14,
	CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a,
	CC_Q_ENABLE = 0x1c, CC_Q_NOFF = 0x1e, CC_Q_DESC = 0x20,
	CC_Q_AVAIL = 0x28, CC_Q_USED = 0x30,
};

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED      128
#define NO_VECTOR          0xffff

/* Map the structure one vendor capability describes. */
static uint64_t map_cap(const struct pci_dev *d, uint8_t cap)
{
	uint8_t bar = pci_read8(d, cap + 4);
	uint32_t off = pci_read32(d, cap + 8), len = pci_read32(d, cap + 12);

	return pci_bar_map(d, bar, off, len ? len : 1);
}

static void read_caps(struct virtio_dev *vd)
{
	const struct pci_dev *d = vd->pci;

	for (uint8_t c = pci_find_cap(d, PCI_CAP_ID_VENDOR, 0); c;
	     c = pci_find_cap(d, PCI_CAP_ID_VENDOR, c)) {
		uint8_t type = pci_read8(d, c + 3);
		uint64_t *slot = type == CAP_COMMON ? &vd->common :
				 type == CAP_NOTIFY ? &vd->notify :
				 type == CAP_ISR ? &vd->isr :
				 type == CAP_DEVICE ? &vd->device : NULL;

		if (!slot || *slot)
			continue;  /* other types, or a later duplicate */
		*slot = map_cap(d, c);
		if (type == CAP_NOTIFY)
			vd->notify_mult = pci_read32(d, c + 16);
	}
}

bool virtio_pci_probe(unsigned type, unsigned index, struct virtio_dev *vd)
{
	*vd = (struct virtio_dev){ 0 };
	vd->pci = pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE(type), index);
	if (!vd->pci)
		return false;
	pci_enable(vd->pci);
	read_caps(vd);
	if (!vd->common || !vd->notify)
		return false;
	vd->has_msix = msix_init(vd->pci, &vd->msix);
	if (vd->has_msix)
		msix_enable(&vd->msix);
	return true;
}

static uint8_t get_status(const struct virtio_dev *vd)
{
	return mmio_read8(vd->common + CC_STATUS);
}

static void add_status(struct virtio_dev *vd, uint8_t bits)
{
	mmio_write8(vd->common + CC_STATUS, get_status(vd) | bits);
}

uint8_t virtio_status(const struct virtio_dev *vd)
{
	return get_status(vd);
}

void virtio_fail(struct virtio_dev *vd)
{
	add_status(vd, STATUS_FAILED);
}

static uint64_t read_features(const struct virtio_dev *vd)
{
	uint64_t f;

	mmio_write32(vd->common + CC_DFSELECT, 0);
	f = mmio_read32(vd->common + CC_DF);
	mmio_write32(vd->common + CC_DFSELECT, 1);
	return f | (uint64_t)mmio_read32(vd->common + CC_DF) << 32;
}

static void write_features(const struct virtio_dev *vd, uint64_t f)
{
	mmio_write32(vd->common + CC_GFSELECT, 0);
	mmio_write32(vd->common + CC_GF, (uint32_t)f);
	mmio_write32(vd->common + CC_GFSELECT, 1);
	mmio_write32(vd->common + CC_GF, (uint32_t)(f >> 32));
}

bool virtio_negotiate(struct virtio_dev *vd, uint64_t wanted)
{
	uint64_t offered;

	mmio_write8(vd->common + CC_STATUS, 0);  /* reset */
	for (unsigned i = 0; get_status(vd) && i < 1000000; i++)
		cpu_relax();
	add_status(vd, STATUS_ACKNOWLEDGE);
	add_status(vd, STATUS_DRIVER);
	offered = read_features(vd);
	if (!(offered & VIRTIO_F_VERSION_1))
		goto fail;
	vd->features = (wanted | VIRTIO_F_VERSION_1) & offered;
	write_features(vd, vd->features);
	add_status(vd, STATUS_FEATURES_OK);
	if (!(get_status(vd) & STATUS_FEATURES_OK))
		goto fail;
	mmio_write16(vd->common + CC_MSIX_CONFIG, NO_VECTOR);
	return true;
fail:
	virtio_fail(vd);
	return false;
}

/* Route the selected queue's interrupt to a new vector; false on failure. */
static bool bind_queue_irq(struct virtio_dev *vd, irq_handler handler,
			   void *ctx)
{
	unsigned entry = vd->msix_used;
	int vector;

	if (!vd->has_msix || entry >= vd->msix.size)
		return false;
	vector = irq_alloc_vector(handler, ctx);
	if (vector < 0 || !msix_route(&vd->msix, entry, lapic_id(), (uint8_t)vector))
		return false;
	mmio_write16(vd->common + CC_Q_MSIX, (uint16_t)entry);
	if (mmio_read16(vd->common + CC_Q_MSIX) != entry)
		return false;  /* the device could not allocate it */
	vd->msix_used++;
	return true;
}

static void write64(uint64_t addr, uint64_t v)
{
	mmio_write32(addr, (uint32_t)v);  /* two halves, as 4.1.3.1 allows */
	mmio_write32(addr + 4, (uint32_t)(v >> 32));
}

bool virtio_queue_init(struct virtio_dev *vd, struct virtq *vq,
		       uint16_t index, uint16_t max_size,
		       irq_handler handler, void *ctx)
{
	uint16_t size;

	mmio_write16(vd->common + CC_Q_SELECT, index);
	size = mmio_read16(vd->common + CC_Q_SIZE);
	if (!size)
		return false;  /* no such queue */
	if (size > max_size)
		size = max_size;
	while (size & (size - 1))
		size &= (uint16_t)(size - 1);  /* round down to a power of 2 */
	if (!virtq_alloc(vq, index, size))
		return false;
	mmio_write16(vd->common + CC_Q_SIZE, size);
	if (!handler)
		mmio_write16(vd->common + CC_Q_MSIX, NO_VECTOR);
	else if (!bind_queue_irq(vd, handler, ctx))
		return false;
	write64(vd->common + CC_Q_DESC, (uint64_t)vq->desc);
	write64(vd->common + CC_Q_AVAIL, (uint64_t)vq->avail);
	write64(vd->common + CC_Q_USED, (uint64_t)vq->used);
	vq->notify_addr = vd->notify +
		(uint64_t)mmio_read16(vd->common + CC_Q_NOFF) * vd->notify_mult;
	mmio_write16(vd->common + CC_Q_ENABLE, 1);
	return true;
}

void virtio_driver_ok(struct virtio_dev *vd)
{
	add_status(vd, STATUS_DRIVER_OK);
}

uint8_t virtio_config_read8(const struct virtio_dev *vd, unsigned off)
{
	return vd->device ? mmio_read8(vd->device + off) : 0;
}

uint16_t virtio_config_read16(const struct virtio_dev *vd, unsigned off)
{
	return vd->device ? mmio_read16(vd->device + off) : 0;
}

uint32_t virtio_config_read32(const struct virtio_dev *vd, unsigned off)
{
	return vd->device ? mmio_read32(vd->device + off) : 0;
}
