/*
 * libFuzzer harness for the virtio-pci transport and PCI config space: the
 * input is a stream of guest accesses (BAR 0 / MSI-X BAR reads and writes
 * of any width and offset, config-space reads and writes, guest RAM
 * writes, queue kicks) against a toy device that echoes its queues.
 *
 *   make fuzz-virtio-pci           (clang, 20 s; FUZZ_TIME=secs to change)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/virtio_pci.h"
#include "lib/log.h"
#include "vmm/main_loop.h"
#include "../unit/vm_stubs.h"

#define RAM 0x10000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void toy_notify(struct virtio_dev *vdev, unsigned q)
{
	struct iovec iov[64];
	struct virtq_elem e = { .iov = iov, .max_iov = 64 };
	uint8_t scratch[256];

	while (virtio_queue_pop(vdev, q, &e) == 1) {
		virtq_iov_to_buf(iov, e.out_num, scratch, sizeof(scratch));
		virtio_queue_push(vdev, q, &e,
				  (uint32_t)virtq_buf_to_iov(iov + e.out_num, e.in_num,
							     scratch, sizeof(scratch)));
	}
	virtio_queue_signal(vdev, q);
}

static void toy_config(struct virtio_dev *vdev, uint32_t off, void *buf,
		       uint32_t len)
{
	(void)vdev;
	memset(buf, (int)off, len);
}

static const struct virtio_device_ops toy_ops = {
	.name = "virtio-fuzz", .type = 3, .pci_class = 0x078000,
	.num_queues = 3, .queue_max_size = 64, .config_size = 12,
	.get_config = toy_config, .queue_notify = toy_notify,
};

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct vm vm;
	struct pci_bus *bus;
	struct virtio_dev *vdev;
	struct pci_device *pci;

	if (!init) {
		log_init("fuzz", LOG_ERROR);
		main_loop_init();
		init = true;
	}
	test_vm_init(&vm);
	vm.mem.host = calloc(1, RAM);
	vm.mem.size = RAM;
	vm.mem.nr_regions = 1;
	vm.mem.regions[0] = (struct guest_region){ 0, RAM, 0 };
	bus = pci_bus_create(&vm);
	vdev = virtio_pci_create(&vm, bus, &toy_ops, NULL);
	if (!vdev)
		abort();
	pci = virtio_pci_function(vdev);

	/* Each access: op, offset (2 bytes), value (8 bytes). */
	for (size_t i = 0; i + 11 <= size; i += 11) {
		uint8_t op = data[i], buf[8];
		unsigned len = 1u << ((op >> 4) & 3);
		uint64_t off = get(data + i + 1, 2), val = get(data + i + 3, 8);
		uint64_t bar0 = pci->bars[0].mapped_at, bar1 = pci->bars[1].mapped_at;

		memcpy(buf, &val, 8);
		switch (op & 7) {
		case 0: case 1:     /* BAR 0, any width */
			io_bus_access(&vm.mmio, bar0 + off % VIRTIO_PCI_BAR_SIZE, buf,
				      len, !(op & 1));
			break;
		case 2: case 3:     /* MSI-X BAR */
			io_bus_access(&vm.mmio, bar1 + off % 4096, buf, len, !(op & 1));
			break;
		case 4: case 5:     /* config space, type-1 style */
			pci_cfg_access(bus, (unsigned)pci->slot << 3, (unsigned)(off % 256),
				       buf, len > 4 ? 4 : len, !(op & 1));
			break;
		case 6:             /* the guest writes its RAM (rings) */
			memcpy(vm.mem.host + off % (RAM - 8), &val, 8);
			break;
		case 7:             /* kicks reach the device */
			virtio_pci_poll(vdev);
			break;
		}
	}
	virtio_pci_poll(vdev);
	virtio_pci_destroy(vdev);
	pci_bus_destroy(bus);
	free(vm.mem.host);
	test_vm_destroy(&vm);
	return 0;
}
