# guest/: the freestanding test kernel, built with its own flags (never the
# top-level CFLAGS, which may carry sanitizers) into $(BUILD)/guest/.
# Every guest/*.c and guest/*.S is part of it: a new driver is one file.

GUEST_CC     ?= gcc
GUEST_ELF    := $(BUILD)/guest/xenon-guest.elf
GUEST_SRCS   := $(sort $(wildcard guest/*.c) $(wildcard guest/*.S))
GUEST_OBJS   := $(patsubst guest/%,$(BUILD)/guest/obj/%.o,$(GUEST_SRCS))

# -mgeneral-regs-only/-mno-sse: the nested KVM layer here cannot save
# vector state (no xsave), so no SSE at all.  No red zone: interrupts run
# on the same stack.  -fno-tree-loop-distribute-patterns: gcc must not turn
# loops (memset itself included) into calls to memset/memcpy.
GUEST_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -no-pie -nostdlib \
	-fno-stack-protector -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx \
	-mcmodel=small -fcf-protection=none -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -O2 -g -Wall -Wextra -Werror \
	-Wno-format-zero-length -I. -MMD -MP
GUEST_LDFLAGS := -static -Wl,-T,guest/guest.ld -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096

$(BUILD)/guest/obj/%.c.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/obj/%.S.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

# Link, then refuse instructions the nested KVM layer cannot run.
$(GUEST_ELF): $(GUEST_OBJS) guest/guest.ld guest/check-insns.sh
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@.tmp $(GUEST_OBJS)
	guest/check-insns.sh $@.tmp
	mv $@.tmp $@

guest: $(GUEST_ELF)

-include $(GUEST_OBJS:.o=.d)

# Host-side unit tests of the guest's pure logic (formatting, CRC-32, AML
# \_S5, command line), built with the host compiler and cmocka.
GUEST_TEST_SRCS := guest/tests/test_guest_lib.c guest/format.c guest/crc32.c \
	guest/acpi_aml.c guest/bootinfo.c
GUEST_TEST_BIN  := $(BUILD)/guest/test_guest_lib

$(GUEST_TEST_BIN): $(GUEST_TEST_SRCS) $(wildcard guest/*.h)
	@mkdir -p $(dir $@)
	$(GUEST_CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -o $@ \
		$(GUEST_TEST_SRCS) -lcmocka

guest-check: $(GUEST_TEST_BIN)
	$(GUEST_TEST_BIN)

.PHONY: guest-check
