# devices/: the device model (one file per device and per transport).
VMM_SRCS += devices/devices.c devices/chardev.c devices/serial_16550.c \
	    devices/pci.c devices/virtio_pci.c devices/virtqueue.c \
	    devices/virtio_console.c devices/chardev_unix.c devices/xs_relay.c \
	    devices/xs_channel.c devices/xs_relay_state.c devices/virtio_poll.c
# virtio-net on TAP (docs/devices.md "virtio-net")
VMM_SRCS += devices/virtio_net.c devices/virtio_net_hdr.c devices/net_tap.c \
	    devices/net_rate_limit.c devices/net_vif.c devices/net_announce.c
UNIT_TESTS += tests/unit/test_virtio_net.c
test_virtio_net_SRCS := devices/virtio_net.c devices/virtio_net_hdr.c \
			devices/net_rate_limit.c devices/net_tap.c \
			devices/virtio_pci.c devices/virtqueue.c devices/pci.c \
			vmm/io_bus.c vmm/guest_memory.c vmm/main_loop.c \
			devices/net_announce.c

UNIT_TESTS += tests/unit/test_virtqueue.c tests/unit/test_pci.c \
	      tests/unit/test_virtio_pci.c tests/unit/test_serial.c \
	      tests/unit/test_chardev.c tests/unit/test_xs_relay.c \
	      tests/unit/test_chardev_unix.c
test_virtqueue_SRCS := devices/virtqueue.c vmm/guest_memory.c
test_pci_SRCS := devices/pci.c vmm/io_bus.c
test_virtio_pci_SRCS := devices/virtio_pci.c devices/virtqueue.c devices/pci.c \
			vmm/io_bus.c vmm/guest_memory.c vmm/main_loop.c \
			devices/net_announce.c
test_serial_SRCS := devices/serial_16550.c devices/chardev.c \
		    devices/chardev_unix.c vmm/main_loop.c \
		    vmm/io_bus.c
test_chardev_SRCS := devices/chardev.c devices/chardev_unix.c vmm/main_loop.c
test_xs_relay_SRCS := devices/xs_relay.c
test_chardev_unix_SRCS := devices/chardev.c devices/chardev_unix.c \
			  vmm/main_loop.c

# libFuzzer harness for the virtqueue parser (needs clang).
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 20
FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=undefined
build/fuzz/fuzz_virtqueue: tests/fuzz/fuzz_virtqueue.c devices/virtqueue.c \
			   devices/virtqueue.h vmm/guest_memory.c lib/log.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_virtqueue.c \
		devices/virtqueue.c vmm/guest_memory.c lib/log.c

fuzz-virtqueue: build/fuzz/fuzz_virtqueue
	@mkdir -p build/fuzz/corpus-virtqueue
	build/fuzz/fuzz_virtqueue -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		build/fuzz/corpus-virtqueue

# The transport's register interface (BARs, config space, kicks).
FUZZ_VPCI_SRCS := tests/fuzz/fuzz_virtio_pci.c devices/virtio_pci.c \
	devices/virtqueue.c devices/pci.c vmm/io_bus.c vmm/guest_memory.c \
	vmm/main_loop.c lib/log.c lib/state_buf.c lib/vmstate.c
build/fuzz/fuzz_virtio_pci: $(FUZZ_VPCI_SRCS) $(wildcard devices/*.h) \
			    tests/unit/vm_stubs.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_VPCI_SRCS)

fuzz-virtio-pci: build/fuzz/fuzz_virtio_pci
	@mkdir -p build/fuzz/corpus-virtio-pci
	build/fuzz/fuzz_virtio_pci -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		build/fuzz/corpus-virtio-pci

# virtio-net's chains and headers, on a fake TAP.
FUZZ_VNET_SRCS := tests/fuzz/fuzz_virtio_net.c devices/virtio_net.c \
	devices/virtio_net_hdr.c devices/net_rate_limit.c devices/net_tap.c \
	devices/virtio_pci.c devices/virtqueue.c devices/pci.c vmm/io_bus.c \
	vmm/guest_memory.c vmm/main_loop.c lib/log.c devices/net_announce.c \
	lib/state_buf.c lib/vmstate.c
build/fuzz/fuzz_virtio_net: $(FUZZ_VNET_SRCS) $(wildcard devices/*.h) \
			    tests/unit/vm_stubs.h tests/unit/vnet_harness.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_VNET_SRCS)

fuzz-virtio-net: build/fuzz/fuzz_virtio_net
	@mkdir -p build/fuzz/corpus-virtio-net
	build/fuzz/fuzz_virtio_net -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		build/fuzz/corpus-virtio-net

.PHONY: fuzz-virtqueue fuzz-virtio-pci fuzz-virtio-net

# bench/net.sh's host end of the guest's UDP streams.
$(BUILD)/net_peer: bench/net_peer.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lz

bench-net: all $(BUILD)/net_peer
	bench/net.sh $(BENCH_ARGS)

.PHONY: bench-net

# platform devices
VMM_SRCS += vmm/acpi.c vmm/acpi_aml.c vmm/acpi_dsdt.c devices/platform.c \
	    devices/acpi_pm.c devices/boot_timer.c devices/i8042.c \
	    devices/cmos_rtc.c

UNIT_TESTS += tests/unit/test_acpi.c tests/unit/test_acpi_aml.c \
	      tests/unit/test_acpi_platform.c
test_acpi_SRCS := vmm/acpi.c vmm/acpi_aml.c vmm/acpi_dsdt.c vmm/guest_memory.c
test_acpi_aml_SRCS := vmm/acpi_aml.c
test_acpi_platform_SRCS := devices/platform.c devices/acpi_pm.c \
			   devices/boot_timer.c devices/i8042.c \
			   devices/cmos_rtc.c vmm/io_bus.c vmm/guest_memory.c

# virtio-blk and the block back ends (docs/devices.md, "virtio-blk").
VMM_SRCS += devices/disks.c devices/virtio_blk.c devices/virtio_blk_req.c \
	    devices/block_aio.c devices/block_backend.c devices/block_raw.c \
	    devices/block_qcow2.c devices/block_qcow2_cache.c \
	    devices/block_qcow2_refcount.c devices/block_qcow2_io.c
VMM_SRCS += devices/block_fixed.c devices/block_lock.c
VMM_LIBS += -luring -lz

UNIT_TESTS += tests/unit/test_block_lock.c
test_block_lock_SRCS := devices/block_lock.c

UNIT_TESTS += tests/unit/test_virtio_blk_req.c
test_virtio_blk_req_SRCS := devices/virtio_blk_req.c devices/virtqueue.c \
			    vmm/guest_memory.c

# libFuzzer harness for virtio-blk request framing and checks.
FUZZ_VBLK_SRCS := tests/fuzz/fuzz_virtio_blk.c devices/virtio_blk_req.c \
	devices/virtqueue.c vmm/guest_memory.c lib/log.c
build/fuzz/fuzz_virtio_blk: $(FUZZ_VBLK_SRCS) devices/virtio_blk_req.h \
			    devices/virtqueue.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_VBLK_SRCS)

fuzz-virtio-blk: build/fuzz/fuzz_virtio_blk
	@mkdir -p build/fuzz/corpus-virtio-blk
	build/fuzz/fuzz_virtio_blk -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		build/fuzz/corpus-virtio-blk

.PHONY: fuzz-virtio-blk
# saved device state (docs/save-format.md "Device state")
UNIT_TESTS += tests/unit/test_devstate.c
test_devstate_SRCS := devices/xs_relay.c devices/xs_relay_state.c \
		      devices/net_announce.c
