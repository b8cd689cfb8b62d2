/*
 * PCI bus 0: host bridge, type-1 (0xcf8/0xcfc) and ECAM config access,
 * BAR assignment and moves, capabilities, INTx and MSI-X.
 *
 * A device embeds struct pci_device, fills it with pci_device_init(),
 * pci_add_bar(), pci_add_cap() and pci_msix_init(), then calls
 * pci_register_device(), which picks a slot and assigns its BARs from the
 * 32-bit window (as firmware would: the guests rely on it) with memory
 * decode on.  Guests may resize-probe and move BARs at run time; mappings
 * on the MMIO bus follow the BAR registers and the COMMAND memory bit.
 *
 * Only 32-bit memory BARs and single-function devices on bus 0 exist.
 */
#ifndef XENON_PCI_H
#define XENON_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/io_bus.h"

struct vm;
struct pci_bus;
struct pci_device;

#define PCI_CFG_SIZE       256
#define PCI_NUM_BARS       6

/* Type 0 header offsets. */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CACHE_LINE     0x0c
#define PCI_LATENCY        0x0d
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_CAP_START      0x40

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTX    0x0008
#define PCI_STATUS_CAP_LIST 0x0010

#define PCI_CAP_ID_VNDR    0x09
#define PCI_CAP_ID_MSIX    0x11

#define PCI_MSIX_ENABLE    0x8000
#define PCI_MSIX_MASKALL   0x4000
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_VEC_MASKED 0x1

/* Hooks a device may set; all are optional and run with the bus lock held
 * (config-space hooks) on vCPU threads. */
struct pci_device_ops {
	/* After a config write landed in cfg[off, off+len). */
	void (*cfg_write)(struct pci_device *d, unsigned off, unsigned len);
	/* Before cfg[off, off+len) is read (to refresh dynamic bytes). */
	void (*cfg_read)(struct pci_device *d, unsigned off, unsigned len);
	/* A BAR appeared at addr, or went away (mapped false). */
	void (*bar_map)(struct pci_device *d, unsigned bar, uint64_t addr,
			bool mapped);
};

struct pci_bar {
	uint64_t size;            /* 0: not implemented */
	io_handler_fn handler;
	void *opaque;
	bool mapped;
	uint64_t mapped_at;
};

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int gsi, fd;              /* MSI route + irqfd eventfd */
	bool route_stale;         /* message changed since the route was set */
};

struct pci_msix {
	unsigned nvec, bar, cap;  /* cap: config offset; nvec 0 = none */
	uint32_t pba_offset;
	pthread_mutex_t lock;
	bool enabled, masked;     /* message control, mirrored */
	struct msix_vector *vec;
	uint64_t *pba;
	unsigned fired;           /* deliveries, for tests and stats */
};

struct pci_device {
	struct pci_bus *bus;
	const char *name;
	int slot;                 /* -1 until registered */
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];  /* guest-writable bits */
	uint8_t last_cap, cap_end;
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_device_ops *ops;
	void *priv;
	bool intx_level, intx_disabled;   /* under the bus's intx lock */
	struct pci_msix msix;
};

struct pci_bus *pci_bus_create(struct vm *vm);
void pci_bus_destroy(struct pci_bus *bus);

void pci_device_init(struct pci_device *d, struct pci_bus *bus,
		     const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision);
void pci_set_subsystem(struct pci_device *d, uint16_t vendor, uint16_t id);
/* A 32-bit memory BAR of size bytes (power of two, at least 4 KiB). */
int pci_add_bar(struct pci_device *d, unsigned bar, uint64_t size,
		io_handler_fn handler, void *opaque);
/* Append a capability (cap[0] = ID; cap[1] is filled in); returns its
 * config offset, or -1 if config space is full. */
int pci_add_cap(struct pci_device *d, const void *cap, unsigned len);
/* MSI-X with nvec vectors, table and PBA in their own BAR (all masked,
 * disabled, each vector with an MSI route and an irqfd). */
int pci_msix_init(struct pci_device *d, unsigned nvec, unsigned bar);
/* Slot, INTx line, BAR addresses; maps the BARs. */
int pci_register_device(struct pci_device *d);
/* Unmap BARs, release MSI-X resources, free the slot. */
void pci_device_destroy(struct pci_device *d);

/* Config access as the guest sees it (devfn = slot << 3 | function). */
void pci_cfg_access(struct pci_bus *bus, unsigned devfn, unsigned reg,
		    uint8_t *data, unsigned len, bool is_write);
/* Access a BAR of d at offset, as the guest would (PCI_CFG capability). */
bool pci_bar_access(struct pci_device *d, unsigned bar, uint64_t offset,
		    uint8_t *data, unsigned len, bool is_write);

/* Interrupts: INTx is level-triggered on GSI 16 + slot % 8. */
void pci_set_intx(struct pci_device *d, bool level);
bool pci_msix_enabled(struct pci_device *d);
/* Deliver vector v (or set its pending bit if masked); false if MSI-X is
 * off and the caller should use INTx. */
bool pci_msix_notify(struct pci_device *d, unsigned v);

unsigned pci_intx_gsi(unsigned slot);

/* Save/restore (docs/save-format.md): a device's config space, INTx level
 * and MSI-X state.  pci_device_load() refuses a device whose read-only
 * config bytes differ (sr_fail) and applies nothing then. */
struct sbuf;
struct sreader;
void pci_device_save(struct pci_device *d, struct sbuf *out);
void pci_device_load(struct pci_device *d, struct sreader *in);
int pci_bus_state_register(struct pci_bus *bus);
uint32_t pci_cfg_read32(const struct pci_device *d, unsigned off);

#endif
