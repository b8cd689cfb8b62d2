# vmm/: xenon-vmm core (KVM, vCPUs, memory, boot loaders, control socket).
VMM_SRCS += vmm/main.c vmm/options.c vmm/vm.c vmm/irq.c vmm/vcpu.c \
	    vmm/vcpu_dump.c vmm/cpuid.c vmm/guest_memory.c vmm/io_bus.c \
	    vmm/main_loop.c vmm/control.c vmm/boot.c vmm/boot_cpu.c \
	    vmm/loader_elf.c vmm/loader_bzimage.c \
	    vmm/insn_decode.c vmm/insn_fallback.c
# save, restore, migration (docs/save-format.md)
VMM_SRCS += vmm/snapshot.c vmm/snapshot_vcpu.c vmm/snapshot_platform.c \
	    vmm/snapshot_ram.c vmm/save.c vmm/restore.c vmm/control_snapshot.c \
	    vmm/migrate_send.c vmm/migrate_recv.c vmm/migrate_msg.c \
	    vmm/migrate_ram.c vmm/mig_channel.c vmm/dirty_log.c \
	    vmm/ram_pager.c vmm/restore_lazy.c \
	    vmm/postcopy_send.c vmm/postcopy_recv.c vmm/crypto_dl.c
VMM_LIBS += -ljansson   # libcrypto: dlopen()ed on demand (vmm/crypto_dl.c)
PROGRAMS += $(BUILD)/xenon-vmm

UNIT_TESTS += tests/unit/test_guest_memory.c tests/unit/test_io_bus.c
test_guest_memory_SRCS := vmm/guest_memory.c
test_io_bus_SRCS := vmm/io_bus.c

UNIT_TESTS += tests/unit/test_insn_decode.c
test_insn_decode_SRCS := vmm/insn_decode.c

UNIT_TESTS += tests/unit/test_migration.c
test_migration_SRCS := vmm/mig_channel.c vmm/migrate_ram.c vmm/snapshot_ram.c \
		       vmm/guest_memory.c vmm/ram_pager.c vmm/crypto_dl.c
test_migration_LIBS :=

UNIT_TESTS += tests/unit/test_ram_pager.c
test_ram_pager_SRCS := vmm/ram_pager.c vmm/guest_memory.c vmm/postcopy_recv.c \
		       vmm/mig_channel.c vmm/migrate_msg.c vmm/migrate_ram.c \
		       vmm/snapshot_ram.c vmm/crypto_dl.c
test_ram_pager_LIBS := -ljansson
