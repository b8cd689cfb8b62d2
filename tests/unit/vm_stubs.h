/*
 * Stand-ins for the KVM side of vmm/vm.h, for device unit tests: they record
 * what the device asked for instead of making ioctls.  Include once, in the
 * test's .c file.
 */
#ifndef XENON_TEST_VM_STUBS_H
#define XENON_TEST_VM_STUBS_H

#include <string.h>
#include <unistd.h>

#include "vmm/vm.h"

struct stub_state {
	int irq_level[64];          /* last level per GSI */
	unsigned irq_calls;
	unsigned next_gsi;
	uint64_t route_addr[1024];
	uint32_t route_data[1024];
	unsigned route_updates;
	unsigned irqfds, ioeventfds_assigned, ioeventfds_deassigned;
	uint64_t last_ioeventfd_addr;
};

static struct stub_state stub;

static inline void stub_reset(void)
{
	memset(&stub, 0, sizeof(stub));
	stub.next_gsi = 24;
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	(void)vm;
	if (gsi < 64)
		stub.irq_level[gsi] = level;
	stub.irq_calls++;
	return 0;
}

int vm_msi_route_alloc(struct vm *vm, uint64_t addr, uint32_t data)
{
	unsigned gsi = stub.next_gsi++;

	(void)vm;
	stub.route_addr[gsi] = addr;
	stub.route_data[gsi] = data;
	return (int)gsi;
}

int vm_msi_route_update(struct vm *vm, unsigned gsi, uint64_t addr,
			uint32_t data)
{
	(void)vm;
	stub.route_addr[gsi] = addr;
	stub.route_data[gsi] = data;
	stub.route_updates++;
	return 0;
}

int vm_irqfd(struct vm *vm, int fd, unsigned gsi, bool assign)
{
	(void)vm;
	(void)fd;
	(void)gsi;
	if (assign)
		stub.irqfds++;
	return 0;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, unsigned len, bool is_pio,
		 int fd, bool assign)
{
	(void)vm;
	(void)len;
	(void)is_pio;
	(void)fd;
	if (assign) {
		stub.ioeventfds_assigned++;
		stub.last_ioeventfd_addr = addr;
	} else {
		stub.ioeventfds_deassigned++;
	}
	return 0;
}

/* Bytes waiting on an eventfd (0 if none); drains it. */
static inline uint64_t eventfd_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static inline void test_vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	io_bus_init(&vm->pio, "pio");
	io_bus_init(&vm->mmio, "mmio");
	stub_reset();
}

static inline void test_vm_destroy(struct vm *vm)
{
	io_bus_destroy(&vm->pio);
	io_bus_destroy(&vm->mmio);
}

#endif
