# Xenon top-level Makefile.  Each directory contributes a module.mk fragment
# that appends to the variables below; this file only knows how to build
# objects, link programs and run tests.
#
#   make                 build everything into build/
#   make SAN=1           AddressSanitizer + UBSan build into build-san/
#   make check           unit + system tests, plain and sanitizer builds
#   make check-slow      Linux guest boots (minutes on nested KVM)
#   make demo            install packages, build, boot an example domain

CC      ?= gcc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS :=
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
           -Wstrict-prototypes -Wformat=2 -I. $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS  += -lpthread

# Filled in by module.mk fragments.
LIB_SRCS     :=
VMM_SRCS     :=
VMM_LIBS     :=
XENOND_SRCS  :=
XENOND_LIBS  :=
XM_SRCS      :=
XM_LIBS      :=
UNIT_TESTS   :=
PROGRAMS     :=

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBXENON := $(BUILD)/libxenon.a

include lib/module.mk vmm/module.mk devices/module.mk guest/module.mk
-include daemon/module.mk cli/module.mk
include tests/module.mk


all: $(PROGRAMS) guest

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBXENON): $(call obj,$(LIB_SRCS))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/xenon-vmm: $(call obj,$(VMM_SRCS)) $(LIBXENON)
	$(CC) $(LDFLAGS) -o $@ $^ $(VMM_LIBS) $(LDLIBS)

ifneq ($(XENOND_SRCS),)
$(BUILD)/xenond: $(call obj,$(XENOND_SRCS)) $(LIBXENON)
	$(CC) $(LDFLAGS) -o $@ $^ $(XENOND_LIBS) $(LDLIBS)
endif

ifneq ($(XM_SRCS),)
$(BUILD)/xm: $(call obj,$(XM_SRCS)) $(LIBXENON)
	$(CC) $(LDFLAGS) -o $@ $^ $(XM_LIBS) $(LDLIBS)
$(BUILD)/xl: $(BUILD)/xm
	ln -sf xm $@
endif

deps:
	scripts/install-deps.sh

clean:
	rm -rf build build-san

.PHONY: all deps clean guest check check-unit check-system check-slow demo bench
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
