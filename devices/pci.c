/*
 * PCI bus 0 (see pci.h).  Locking: bus->lock serialises config space (the
 * 0xcf8 address latch is global), bus->intx_lock the INTx lines, and each
 * device's msix.lock its MSI-X table; the order is bus -> msix.
 */
#include "devices/pci.h"
#include "lib/le.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/platform.h"
#include "lib/vmstate.h"
#include "vmm/vm.h"

#define HOST_VENDOR  0x1b36   /* Red Hat, Inc. */
#define HOST_DEVICE  0x0008   /* QEMU PCIe host bridge */
#define CLASS_HOST_BRIDGE 0x060000

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;
	pthread_mutex_t intx_lock;
	uint32_t cf8;
	struct pci_device *slots[PLAT_PCI_MAX_SLOTS];
	uint32_t intx_asserted[8];  /* per INTx GSI: slots holding it high */
	uint64_t mmio_next;         /* BAR allocator */
	struct pci_device host;
	bool ports_claimed, ecam_claimed;
};

/* ---- config space helpers ------------------------------------------------ */

uint32_t pci_cfg_read32(const struct pci_device *d, unsigned off)
{
	return le_get32(d->cfg + off);
}

unsigned pci_intx_gsi(unsigned slot)
{
	return PLAT_PCI_INTX_GSI_BASE + slot % 8;
}

void pci_device_init(struct pci_device *d, struct pci_bus *bus,
		     const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->name = name;
	d->slot = -1;
	d->cap_end = PCI_CAP_START;
	le_put16(d->cfg + PCI_VENDOR_ID, vendor);
	le_put16(d->cfg + PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION_ID] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	le_put16(d->cfg + PCI_CLASS_PROG + 1, (uint16_t)(class_code >> 8));
	/* I/O, memory, bus master, parity, SERR, INTx disable. */
	le_put16(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
	      PCI_COMMAND_MASTER | 0x0040 | 0x0100 | PCI_COMMAND_INTX_DISABLE);
	d->wmask[PCI_CACHE_LINE] = 0xff;
	d->wmask[PCI_LATENCY] = 0xff;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_set_subsystem(struct pci_device *d, uint16_t vendor, uint16_t id)
{
	le_put16(d->cfg + PCI_SUBSYS_VENDOR, vendor);
	le_put16(d->cfg + PCI_SUBSYS_ID, id);
}

int pci_add_bar(struct pci_device *d, unsigned bar, uint64_t size,
		io_handler_fn handler, void *opaque)
{
	if (bar >= PCI_NUM_BARS || size < 4096 || (size & (size - 1)) ||
	    size > PLAT_PCI_MMIO_SIZE) {
		log_error("%s: bad BAR %u of size 0x%llx", d->name, bar,
			  (unsigned long long)size);
		return -1;
	}
	d->bars[bar] = (struct pci_bar){ .size = size, .handler = handler,
					 .opaque = opaque };
	/* Address bits above the size are writable; type bits (32-bit,
	 * non-prefetchable memory) read as 0.  Writing all-ones then reads
	 * back the size mask: the sizing protocol. */
	le_put32(d->wmask + PCI_BAR0 + 4 * bar, (uint32_t)~(size - 1));
	return 0;
}

int pci_add_cap(struct pci_device *d, const void *cap, unsigned len)
{
	unsigned off = d->cap_end;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -1;
	memcpy(d->cfg + off, cap, len);
	d->cfg[off + 1] = 0;
	if (d->last_cap)
		d->cfg[d->last_cap + 1] = (uint8_t)off;
	else
		d->cfg[PCI_CAP_PTR] = (uint8_t)off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->last_cap = (uint8_t)off;
	d->cap_end = (uint8_t)((off + len + 3) & ~3u);
	return (int)off;
}

/* ---- BAR mapping --------------------------------------------------------- */

static void unmap_bar(struct pci_device *d, unsigned i)
{
	struct pci_bar *b = &d->bars[i];

	if (!b->mapped)
		return;
	io_bus_unregister(&d->bus->vm->mmio, b->mapped_at);
	b->mapped = false;
	if (d->ops && d->ops->bar_map)
		d->ops->bar_map(d, i, b->mapped_at, false);
}

/*
 * Make the MMIO bus match BAR i's register and the memory-decode bit.  A
 * BAR left at 0 or at the sizing pattern (ending at 4 GiB) stays unmapped,
 * as on real chipsets.
 */
static void update_bar(struct pci_device *d, unsigned i)
{
	struct pci_bar *b = &d->bars[i];
	uint64_t addr = pci_cfg_read32(d, PCI_BAR0 + 4 * i) & ~0xfULL;
	bool decode = le_get16(d->cfg + PCI_COMMAND) & PCI_COMMAND_MEMORY;
	bool want = decode && addr && addr + b->size < (1ULL << 32);

	if (!b->size || (want == b->mapped && (!want || addr == b->mapped_at)))
		return;
	unmap_bar(d, i);
	if (!want)
		return;
	if (io_bus_register(&d->bus->vm->mmio, addr, b->size, b->handler,
			    b->opaque) < 0) {
		log_warn("%s: BAR %u at 0x%llx overlaps another device; "
			 "left unmapped", d->name, i, (unsigned long long)addr);
		return;
	}
	b->mapped = true;
	b->mapped_at = addr;
	if (d->ops && d->ops->bar_map)
		d->ops->bar_map(d, i, addr, true);
}

static void update_bars(struct pci_device *d)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		update_bar(d, i);
}

bool pci_bar_access(struct pci_device *d, unsigned bar, uint64_t offset,
		    uint8_t *data, unsigned len, bool is_write)
{
	struct pci_bar *b;

	if (bar >= PCI_NUM_BARS)
		return false;
	b = &d->bars[bar];
	if (!b->size || offset >= b->size || len > b->size - offset)
		return false;
	b->handler(b->opaque, offset, data, len, is_write);
	return true;
}

/* ---- INTx ----------------------------------------------------------------- */

/* With intx_lock held: drive the shared GSI from all slots on it. */
static void intx_update(struct pci_device *d)
{
	unsigned slot = (unsigned)d->slot, line = slot % 8;
	uint32_t before = d->bus->intx_asserted[line];
	bool high = d->intx_level && !d->intx_disabled;

	if (high)
		d->bus->intx_asserted[line] |= 1u << slot;
	else
		d->bus->intx_asserted[line] &= ~(1u << slot);
	if (!before != !d->bus->intx_asserted[line])
		vm_irq_line(d->bus->vm, pci_intx_gsi(slot),
			    d->bus->intx_asserted[line] != 0);
}

void pci_set_intx(struct pci_device *d, bool level)
{
	if (d->slot < 0)
		return;
	pthread_mutex_lock(&d->bus->intx_lock);
	d->intx_level = level;
	intx_update(d);
	pthread_mutex_unlock(&d->bus->intx_lock);
}

static void command_written(struct pci_device *d)
{
	bool disabled = le_get16(d->cfg + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;

	pthread_mutex_lock(&d->bus->intx_lock);
	if (disabled != d->intx_disabled) {
		d->intx_disabled = disabled;
		intx_update(d);
	}
	pthread_mutex_unlock(&d->bus->intx_lock);
}

/* ---- MSI-X ----------------------------------------------------------------- */

/* msix.lock held. */
static void msix_fire(struct pci_device *d, unsigned v)
{
	struct msix_vector *m = &d->msix.vec[v];
	uint64_t one = 1;

	if (m->route_stale) {
		uint64_t addr = (uint64_t)m->addr_hi << 32 | m->addr_lo;

		if (vm_msi_route_update(d->bus->vm, (unsigned)m->gsi, addr,
					m->data) < 0)
			return;
		m->route_stale = false;
	}
	if (write(m->fd, &one, sizeof(one)) < 0)
		log_errno("%s: MSI-X vector %u", d->name, v);
	d->msix.fired++;
}

static bool vec_masked(const struct pci_msix *x, unsigned v)
{
	return x->masked || (x->vec[v].ctrl & PCI_MSIX_VEC_MASKED);
}

/* Deliver what was held back by a mask that is now gone. */
static void msix_flush_pending(struct pci_device *d)
{
	struct pci_msix *x = &d->msix;

	if (!x->enabled)
		return;
	for (unsigned v = 0; v < x->nvec; v++) {
		uint64_t bit = 1ULL << (v % 64);

		if ((x->pba[v / 64] & bit) && !vec_masked(x, v)) {
			x->pba[v / 64] &= ~bit;
			msix_fire(d, v);
		}
	}
}

bool pci_msix_notify(struct pci_device *d, unsigned v)
{
	struct pci_msix *x = &d->msix;

	if (!x->nvec)
		return false;
	pthread_mutex_lock(&x->lock);
	if (!x->enabled) {
		pthread_mutex_unlock(&x->lock);
		return false;
	}
	if (v < x->nvec) {
		if (vec_masked(x, v))
			x->pba[v / 64] |= 1ULL << (v % 64);
		else
			msix_fire(d, v);
	}
	pthread_mutex_unlock(&x->lock);
	return true;
}

bool pci_msix_enabled(struct pci_device *d)
{
	bool on;

	if (!d->msix.nvec)
		return false;
	pthread_mutex_lock(&d->msix.lock);
	on = d->msix.enabled;
	pthread_mutex_unlock(&d->msix.lock);
	return on;
}

/* Message control was written (bus lock held). */
static void msix_control_written(struct pci_device *d)
{
	uint16_t ctrl = le_get16(d->cfg + d->msix.cap + 2);

	pthread_mutex_lock(&d->msix.lock);
	d->msix.enabled = ctrl & PCI_MSIX_ENABLE;
	d->msix.masked = ctrl & PCI_MSIX_MASKALL;
	msix_flush_pending(d);
	pthread_mutex_unlock(&d->msix.lock);
}

static void msix_table_write(struct pci_device *d, unsigned v, unsigned off,
			     const uint8_t *data, unsigned len)
{
	struct msix_vector *m = &d->msix.vec[v];
	uint8_t entry[PCI_MSIX_ENTRY_SIZE];
	bool was_masked = m->ctrl & PCI_MSIX_VEC_MASKED;

	le_put32(entry, m->addr_lo);
	le_put32(entry + 4, m->addr_hi);
	le_put32(entry + 8, m->data);
	le_put32(entry + 12, m->ctrl);
	memcpy(entry + off, data, len);
	m->addr_lo = le_get32(entry);
	m->addr_hi = le_get32(entry + 4);
	m->data = le_get32(entry + 8);
	m->ctrl = le_get32(entry + 12) & PCI_MSIX_VEC_MASKED;
	if (off < 12)
		m->route_stale = true;
	if (was_masked && !(m->ctrl & PCI_MSIX_VEC_MASKED))
		msix_flush_pending(d);
}

static void msix_table_read(struct pci_device *d, unsigned v, unsigned off,
			    uint8_t *data, unsigned len)
{
	const struct msix_vector *m = &d->msix.vec[v];
	uint8_t entry[PCI_MSIX_ENTRY_SIZE];

	le_put32(entry, m->addr_lo);
	le_put32(entry + 4, m->addr_hi);
	le_put32(entry + 8, m->data);
	le_put32(entry + 12, m->ctrl);
	memcpy(data, entry + off, len);
}

/* The MSI-X BAR: table at 0, PBA at pba_offset (read-only). */
static void msix_bar_io(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct pci_device *d = opaque;
	struct pci_msix *x = &d->msix;
	uint64_t table_end = (uint64_t)x->nvec * PCI_MSIX_ENTRY_SIZE;
	unsigned off = (unsigned)(offset % PCI_MSIX_ENTRY_SIZE);

	pthread_mutex_lock(&x->lock);
	if (offset < table_end && off + len <= PCI_MSIX_ENTRY_SIZE) {
		if (is_write)
			msix_table_write(d, (unsigned)(offset / 16), off, data, len);
		else
			msix_table_read(d, (unsigned)(offset / 16), off, data, len);
	} else if (!is_write) {
		for (uint32_t i = 0; i < len; i++) {
			uint64_t byte = offset + i - x->pba_offset;

			data[i] = 0;
			if (offset + i >= x->pba_offset &&
			    byte < ((x->nvec + 63) / 64) * 8ULL)
				data[i] = (uint8_t)(x->pba[byte / 8] >> (8 * (byte % 8)));
		}
	}
	pthread_mutex_unlock(&x->lock);
}

static int msix_vector_init(struct pci_device *d, struct msix_vector *m)
{
	m->ctrl = PCI_MSIX_VEC_MASKED;  /* masked at reset */
	m->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->fd < 0) {
		log_errno("%s: MSI-X eventfd", d->name);
		return -1;
	}
	m->gsi = vm_msi_route_alloc(d->bus->vm, 0, 0);
	if (m->gsi < 0)
		return -1;
	return vm_irqfd(d->bus->vm, m->fd, (unsigned)m->gsi, true);
}

int pci_msix_init(struct pci_device *d, unsigned nvec, unsigned bar)
{
	struct pci_msix *x = &d->msix;
	uint32_t table = nvec * PCI_MSIX_ENTRY_SIZE;
	uint32_t pba = table > 0x800 ? (table + 15) & ~15u : 0x800;
	uint64_t size = 4096;
	uint8_t cap[12] = { PCI_CAP_ID_MSIX };
	int off;

	if (nvec == 0 || nvec > 2048)
		return -1;
	while (size < pba + (nvec + 63) / 64 * 8)
		size <<= 1;
	x->vec = calloc(nvec, sizeof(*x->vec));
	x->pba = calloc((nvec + 63) / 64, sizeof(*x->pba));
	if (!x->vec || !x->pba)
		goto fail;
	pthread_mutex_init(&x->lock, NULL);
	x->nvec = nvec;
	x->bar = bar;
	x->pba_offset = pba;
	for (unsigned v = 0; v < nvec; v++)
		x->vec[v].fd = -1;
	for (unsigned v = 0; v < nvec; v++)
		if (msix_vector_init(d, &x->vec[v]) < 0)
			goto fail;
	le_put16(cap + 2, (uint16_t)(nvec - 1));
	le_put32(cap + 4, 0 | bar);        /* table at offset 0 of the BAR */
	le_put32(cap + 8, pba | bar);
	off = pci_add_cap(d, cap, sizeof(cap));
	if (off < 0 || pci_add_bar(d, bar, size, msix_bar_io, d) < 0)
		goto fail;
	x->cap = (unsigned)off;
	d->wmask[off + 3] = (PCI_MSIX_ENABLE | PCI_MSIX_MASKALL) >> 8;
	return 0;
fail:
	log_error("%s: cannot set up %u MSI-X vectors", d->name, nvec);
	return -1;
}

static void msix_destroy(struct pci_device *d)
{
	struct pci_msix *x = &d->msix;

	for (unsigned v = 0; x->vec && v < x->nvec; v++) {
		if (x->vec[v].fd < 0)
			continue;
		if (x->vec[v].gsi >= 0)
			vm_irqfd(d->bus->vm, x->vec[v].fd, (unsigned)x->vec[v].gsi,
				 false);
		close(x->vec[v].fd);
	}
	if (x->nvec)
		pthread_mutex_destroy(&x->lock);
	free(x->vec);
	free(x->pba);
	memset(x, 0, sizeof(*x));
}

/* ---- config access --------------------------------------------------------- */

static bool overlaps(unsigned reg, unsigned len, unsigned start, unsigned size)
{
	return reg < start + size && start < reg + len;
}

static void cfg_write(struct pci_device *d, unsigned reg, const uint8_t *data,
		      unsigned len)
{
	for (unsigned i = 0; i < len && reg + i < PCI_CFG_SIZE; i++) {
		uint8_t m = d->wmask[reg + i];

		d->cfg[reg + i] = (uint8_t)((d->cfg[reg + i] & ~m) | (data[i] & m));
	}
	if (reg >= PCI_CFG_SIZE)
		return;
	if (overlaps(reg, len, PCI_COMMAND, 2))
		command_written(d);
	if (overlaps(reg, len, PCI_COMMAND, 2) ||
	    overlaps(reg, len, PCI_BAR0, 4 * PCI_NUM_BARS))
		update_bars(d);
	if (d->msix.nvec && overlaps(reg, len, d->msix.cap + 2, 2))
		msix_control_written(d);
	if (d->ops && d->ops->cfg_write)
		d->ops->cfg_write(d, reg, len);
}

static void cfg_read(struct pci_device *d, unsigned reg, uint8_t *data,
		     unsigned len)
{
	bool intx;

	if (d->ops && d->ops->cfg_read && reg < PCI_CFG_SIZE)
		d->ops->cfg_read(d, reg, len);
	pthread_mutex_lock(&d->bus->intx_lock);
	intx = d->intx_level;
	pthread_mutex_unlock(&d->bus->intx_lock);
	for (unsigned i = 0; i < len; i++) {
		unsigned off = reg + i;

		/* Extended space (ECAM 0x100-0xfff) is empty: no PCIe caps. */
		data[i] = off < PCI_CFG_SIZE ? d->cfg[off] : 0;
		if (off == PCI_STATUS && intx)
			data[i] |= PCI_STATUS_INTX;
	}
}

void pci_cfg_access(struct pci_bus *bus, unsigned devfn, unsigned reg,
		    uint8_t *data, unsigned len, bool is_write)
{
	struct pci_device *d = NULL;

	pthread_mutex_lock(&bus->lock);
	/* Single-function devices: only function 0 answers. */
	if ((devfn & 7) == 0 && (devfn >> 3) < PLAT_PCI_MAX_SLOTS)
		d = bus->slots[devfn >> 3];
	if (!d) {
		if (!is_write)
			memset(data, 0xff, len);
	} else if (is_write) {
		cfg_write(d, reg, data, len);
	} else {
		cfg_read(d, reg, data, len);
	}
	pthread_mutex_unlock(&bus->lock);
}

/* 0xcf8: the address latch; dword accesses only (0xcf9 is the reset
 * control register, someone else's). */
static void cf8_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct pci_bus *bus = opaque;

	if (offset != 0 || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write)
		bus->cf8 = le_get32(data);
	else
		le_put32(data, bus->cf8);
	pthread_mutex_unlock(&bus->lock);
}

/* 0xcfc-0xcff: data window into the register the latch selects. */
static void cfc_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct pci_bus *bus = opaque;
	uint32_t cf8;

	pthread_mutex_lock(&bus->lock);
	cf8 = bus->cf8;
	pthread_mutex_unlock(&bus->lock);
	if (!(cf8 & 0x80000000u) || ((cf8 >> 16) & 0xff) != 0 ||
	    offset + len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_cfg_access(bus, (cf8 >> 8) & 0xff, (cf8 & 0xfc) + (unsigned)offset,
		       data, len, is_write);
}

/* ECAM, bus 0: 4 KiB of config space per function. */
static void ecam_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		    bool is_write)
{
	unsigned reg = (unsigned)(offset & 0xfff);

	if (reg + len > 0x1000) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_cfg_access(opaque, (unsigned)(offset >> 12) & 0xff, reg, data, len,
		       is_write);
}

/* ---- registration ---------------------------------------------------------- */

/* Give each BAR a naturally aligned address in the 32-bit window. */
static int assign_bars(struct pci_device *d)
{
	struct pci_bus *bus = d->bus;

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t size = d->bars[i].size;
		uint64_t addr = (bus->mmio_next + size - 1) & ~(size - 1);

		if (!size)
			continue;
		if (addr + size > PLAT_PCI_MMIO_START + PLAT_PCI_MMIO_SIZE) {
			log_error("%s: PCI MMIO window full", d->name);
			return -1;
		}
		le_put32(d->cfg + PCI_BAR0 + 4 * i, (uint32_t)addr);
		bus->mmio_next = addr + size;
	}
	return 0;
}

int pci_register_device(struct pci_device *d)
{
	struct pci_bus *bus = d->bus;
	int slot = -1;

	pthread_mutex_lock(&bus->lock);
	for (int s = 0; s < PLAT_PCI_MAX_SLOTS && slot < 0; s++)
		if (!bus->slots[s])
			slot = s;
	if (slot < 0 || assign_bars(d) < 0) {
		pthread_mutex_unlock(&bus->lock);
		if (slot < 0)
			log_error("%s: no free PCI slot", d->name);
		return -1;
	}
	d->slot = slot;
	bus->slots[slot] = d;
	if (slot > 0) {   /* the host bridge has no interrupt */
		d->cfg[PCI_INTERRUPT_PIN] = 1;   /* INTA# */
		d->cfg[PCI_INTERRUPT_LINE] = (uint8_t)pci_intx_gsi((unsigned)slot);
	}
	/* Decode on, as firmware leaves it. */
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		if (d->bars[i].size)
			le_put16(d->cfg + PCI_COMMAND, PCI_COMMAND_MEMORY);
	update_bars(d);
	pthread_mutex_unlock(&bus->lock);
	log_debug("pci: 00:%02x.0 %s", slot, d->name);
	return 0;
}

void pci_device_destroy(struct pci_device *d)
{
	if (d->slot >= 0) {
		pthread_mutex_lock(&d->bus->lock);
		for (unsigned i = 0; i < PCI_NUM_BARS; i++)
			unmap_bar(d, i);
		d->bus->slots[d->slot] = NULL;
		pthread_mutex_unlock(&d->bus->lock);
		pci_set_intx(d, false);
		d->slot = -1;
	}
	msix_destroy(d);
}

struct pci_bus *pci_bus_create(struct vm *vm)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus) {
		log_error("pci: out of memory");
		return NULL;
	}
	bus->vm = vm;
	bus->mmio_next = PLAT_PCI_MMIO_START;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->intx_lock, NULL);
	pci_device_init(&bus->host, bus, "host bridge", HOST_VENDOR, HOST_DEVICE,
			CLASS_HOST_BRIDGE, 0);
	if (pci_register_device(&bus->host) < 0)
		goto fail;
	/* 0xcf8 is claimed one byte wide so that 0xcf9 stays free. */
	if (io_bus_register(&vm->pio, PLAT_PORT_PCI_ADDR, 1, cf8_io, bus) < 0 ||
	    io_bus_register(&vm->pio, PLAT_PORT_PCI_DATA, 4, cfc_io, bus) < 0) {
		log_errno("pci: cannot claim ports 0xcf8/0xcfc");
		goto fail;
	}
	bus->ports_claimed = true;
	if (io_bus_register(&vm->mmio, PLAT_PCI_ECAM_START, PLAT_PCI_ECAM_SIZE,
			    ecam_io, bus) < 0) {
		log_errno("pci: cannot claim the ECAM window");
		goto fail;
	}
	bus->ecam_claimed = true;
	if (pci_bus_state_register(bus) < 0)
		goto fail;
	return bus;
fail:
	pci_bus_destroy(bus);
	return NULL;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	vmstate_unregister(bus);
	if (bus->ports_claimed) {
		io_bus_unregister(&bus->vm->pio, PLAT_PORT_PCI_ADDR);
		io_bus_unregister(&bus->vm->pio, PLAT_PORT_PCI_DATA);
	}
	if (bus->ecam_claimed)
		io_bus_unregister(&bus->vm->mmio, PLAT_PCI_ECAM_START);
	pci_device_destroy(&bus->host);
	pthread_mutex_destroy(&bus->lock);
	pthread_mutex_destroy(&bus->intx_lock);
	free(bus);
}

/* ---- save/restore ---------------------------------------------------------- */

/* Config space, the INTx level and the MSI-X table and pending bits. */
void pci_device_save(struct pci_device *d, struct sbuf *out)
{
	struct pci_msix *x = &d->msix;

	pthread_mutex_lock(&d->bus->lock);
	sbuf_put(out, d->cfg, PCI_CFG_SIZE);
	pthread_mutex_unlock(&d->bus->lock);
	pthread_mutex_lock(&d->bus->intx_lock);
	sbuf_bool(out, d->intx_level);
	pthread_mutex_unlock(&d->bus->intx_lock);
	sbuf_u32(out, x->nvec);
	if (!x->nvec)
		return;
	pthread_mutex_lock(&x->lock);
	for (unsigned v = 0; v < x->nvec; v++) {
		sbuf_u32(out, x->vec[v].addr_lo);
		sbuf_u32(out, x->vec[v].addr_hi);
		sbuf_u32(out, x->vec[v].data);
		sbuf_u32(out, x->vec[v].ctrl);
	}
	for (unsigned w = 0; w < (x->nvec + 63) / 64; w++)
		sbuf_u64(out, x->pba[w]);
	pthread_mutex_unlock(&x->lock);
}

/* Bytes the guest cannot write must match ours: else it is not the same
 * device (a different type, version or option set). */
static void check_identity(struct pci_device *d, const uint8_t *cfg,
			   struct sreader *in)
{
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
		if ((cfg[i] ^ d->cfg[i]) & ~d->wmask[i]) {
			sr_fail(in, "%s: config byte 0x%02x is 0x%02x in the stream, "
				"0x%02x here: not the same device", d->name, i,
				cfg[i], d->cfg[i]);
			return;
		}
	}
}

/* Read it all, check it, then apply (BARs move, MSI-X routes follow at
 * the next delivery).  Call without the device's own lock: moving a BAR
 * calls its bar_map hook. */
void pci_device_load(struct pci_device *d, struct sreader *in)
{
	struct pci_msix *x = &d->msix;
	uint8_t cfg[PCI_CFG_SIZE];
	struct msix_vector *vec = NULL;
	uint64_t *pba = NULL;
	unsigned nwords = (x->nvec + 63) / 64;
	bool intx;
	uint32_t nvec;

	sr_get(in, cfg, sizeof(cfg));
	intx = sr_bool(in);
	nvec = sr_u32(in);
	if (sr_ok(in))
		check_identity(d, cfg, in);
	if (sr_ok(in) && nvec != x->nvec)
		sr_fail(in, "%s: %u MSI-X vectors in the stream, %u here", d->name,
			nvec, x->nvec);
	if (sr_ok(in) && nvec) {
		vec = calloc(nvec, sizeof(*vec));
		pba = calloc(nwords, sizeof(*pba));
		if (!vec || !pba)
			sr_fail(in, "out of memory");
	}
	for (unsigned v = 0; sr_ok(in) && v < nvec; v++) {
		vec[v].addr_lo = sr_u32(in);
		vec[v].addr_hi = sr_u32(in);
		vec[v].data = sr_u32(in);
		vec[v].ctrl = sr_u32(in) & PCI_MSIX_VEC_MASKED;
	}
	for (unsigned w = 0; sr_ok(in) && w < nwords; w++)
		pba[w] = sr_u64(in);
	if (sr_ok(in)) {
		pthread_mutex_lock(&d->bus->lock);
		memcpy(d->cfg, cfg, sizeof(cfg));
		command_written(d);
		update_bars(d);
		if (x->nvec) {
			uint16_t ctrl = le_get16(d->cfg + x->cap + 2);

			pthread_mutex_lock(&x->lock);
			for (unsigned v = 0; v < x->nvec; v++) {
				x->vec[v].addr_lo = vec[v].addr_lo;
				x->vec[v].addr_hi = vec[v].addr_hi;
				x->vec[v].data = vec[v].data;
				x->vec[v].ctrl = vec[v].ctrl;
				x->vec[v].route_stale = true;
			}
			memcpy(x->pba, pba, nwords * sizeof(*pba));
			x->enabled = ctrl & PCI_MSIX_ENABLE;
			x->masked = ctrl & PCI_MSIX_MASKALL;
			pthread_mutex_unlock(&x->lock);
		}
		pthread_mutex_unlock(&d->bus->lock);
		pci_set_intx(d, intx);
	}
	free(vec);
	free(pba);
}

static void bus_save(void *opaque, struct sbuf *out)
{
	struct pci_bus *bus = opaque;

	pthread_mutex_lock(&bus->lock);
	sbuf_u32(out, bus->cf8);
	pthread_mutex_unlock(&bus->lock);
	pci_device_save(&bus->host, out);
}

static void bus_load(void *opaque, struct sreader *in, uint32_t version)
{
	struct pci_bus *bus = opaque;
	uint32_t cf8 = sr_u32(in);

	(void)version;
	pci_device_load(&bus->host, in);
	if (sr_done(in)) {
		pthread_mutex_lock(&bus->lock);
		bus->cf8 = cf8;
		pthread_mutex_unlock(&bus->lock);
	}
}

static const struct vmstate_ops bus_state_ops = {
	.version = 1,
	.save = bus_save,
	.load = bus_load,
};

int pci_bus_state_register(struct pci_bus *bus)
{
	return vmstate_register(&bus_state_ops, bus, "pci-bus");
}
