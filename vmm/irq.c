/*
 * Interrupt plumbing: KVM's GSI routing table (KVM's irqchip defaults plus
 * one MSI route per device vector), irqfd and ioeventfd.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep our own copy that
 * starts with the same defaults KVM installs for the in-kernel PIC + IOAPIC.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "vmm/vm.h"

#define IOAPIC_PINS   24
#define FIRST_MSI_GSI IOAPIC_PINS
#define MAX_ROUTES    1024

static int push_route(struct vm *vm, const struct kvm_irq_routing_entry *e)
{
	if (vm->nr_routes == MAX_ROUTES) {
		errno = ENOSPC;
		return -1;
	}
	if (!vm->routes) {
		vm->routes = calloc(MAX_ROUTES, sizeof(*vm->routes));
		if (!vm->routes)
			return -1;
	}
	vm->routes[vm->nr_routes++] = *e;
	return 0;
}

static int commit_routes(struct vm *vm)
{
	size_t sz = sizeof(struct kvm_irq_routing) +
		    vm->nr_routes * sizeof(struct kvm_irq_routing_entry);
	struct kvm_irq_routing *table = calloc(1, sz);
	int ret;

	if (!table)
		return -1;
	table->nr = vm->nr_routes;
	memcpy(table->entries, vm->routes,
	       vm->nr_routes * sizeof(struct kvm_irq_routing_entry));
	ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table);
	if (ret < 0)
		log_errno("KVM_SET_GSI_ROUTING (%u routes)", vm->nr_routes);
	free(table);
	return ret;
}

static int add_irqchip_route(struct vm *vm, unsigned gsi, unsigned chip,
			     unsigned pin)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};

	return push_route(vm, &e);
}

/* Same layout as KVM's default: GSI 0-15 on both PICs and the IOAPIC,
 * 16-23 on the IOAPIC only. */
int vm_irq_routing_init(struct vm *vm)
{
	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (gsi < 8 && add_irqchip_route(vm, gsi, KVM_IRQCHIP_PIC_MASTER, gsi))
			return -1;
		if (gsi >= 8 && gsi < 16 &&
		    add_irqchip_route(vm, gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8))
			return -1;
		if (add_irqchip_route(vm, gsi, KVM_IRQCHIP_IOAPIC, gsi))
			return -1;
	}
	vm->next_msi_gsi = FIRST_MSI_GSI;
	return commit_routes(vm);
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		log_errno("KVM_IRQ_LINE gsi %u", gsi);
		return -1;
	}
	return 0;
}

static void fill_msi(struct kvm_irq_routing_entry *e, unsigned gsi,
		     uint64_t addr, uint32_t data)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

int vm_msi_route_alloc(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry e;
	int gsi = -1;

	pthread_mutex_lock(&vm->irq_lock);
	if (vm->next_msi_gsi < VM_MAX_GSI * 4) {
		fill_msi(&e, vm->next_msi_gsi, addr, data);
		if (push_route(vm, &e) == 0) {
			if (commit_routes(vm) == 0)
				gsi = (int)vm->next_msi_gsi++;
			else
				vm->nr_routes--;
		}
	}
	pthread_mutex_unlock(&vm->irq_lock);
	if (gsi < 0)
		log_error("no free MSI route");
	return gsi;
}

int vm_msi_route_update(struct vm *vm, unsigned gsi, uint64_t addr,
			uint32_t data)
{
	int ret = -1;

	pthread_mutex_lock(&vm->irq_lock);
	for (unsigned i = 0; i < vm->nr_routes; i++) {
		if (vm->routes[i].gsi == gsi &&
		    vm->routes[i].type == KVM_IRQ_ROUTING_MSI) {
			fill_msi(&vm->routes[i], gsi, addr, data);
			ret = commit_routes(vm);
			break;
		}
	}
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0) {
		log_errno("KVM_SIGNAL_MSI");
		return -1;
	}
	return 0;
}

int vm_irqfd(struct vm *vm, int fd, unsigned gsi, bool assign)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &req) < 0) {
		log_errno("KVM_IRQFD gsi %u", gsi);
		return -1;
	}
	return 0;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, unsigned len, bool is_pio,
		 int fd, bool assign)
{
	struct kvm_ioeventfd req = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (is_pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &req) < 0) {
		log_errno("KVM_IOEVENTFD %s 0x%llx", is_pio ? "port" : "mmio",
			  (unsigned long long)addr);
		return -1;
	}
	return 0;
}
