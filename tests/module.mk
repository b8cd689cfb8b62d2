# Unit tests (cmocka).  A module adds tests/unit/test_NAME.c to UNIT_TESTS;
# each is linked with libxenon.a and, if set, the extra sources in
# test_NAME_SRCS (for code that lives outside lib/).
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TESTS))

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $$(call obj,$$($$*_SRCS)) $(LIBXENON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $($*_LIBS) -lcmocka $(LDLIBS)

PYTEST ?= pytest-3

check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

check-system: all
	XENON_BUILD=$(abspath $(BUILD)) $(PYTEST) -v -p no:cacheprovider tests/system $(PYTEST_ARGS)

# Every libFuzzer harness (tests/fuzz/) built and run for a few seconds, so
# none of them rots as the code it covers changes; `make fuzz-NAME
# FUZZ_TIME=600` for a real run.
FUZZ_SMOKE_TIME ?= 5
.PHONY: fuzz-smoke
fuzz-smoke:
	$(MAKE) FUZZ_TIME=$(FUZZ_SMOKE_TIME) fuzz-virtqueue fuzz-virtio-pci \
		fuzz-virtio-net fuzz-virtio-blk fuzz-config

# The whole default suite: the plain build, then the sanitizer build of the
# same binaries through the same tests.
check: deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) fuzz-smoke
	$(MAKE) guest-check
	$(MAKE) SAN=1 all
	$(MAKE) SAN=1 check-unit
	XENON_BUILD=$(abspath build) XENON_BUILD_SAN=$(abspath build-san) \
		$(PYTEST) -v -p no:cacheprovider tests/system $(PYTEST_ARGS)

check-slow: all
	scripts/build-linux-guest.sh
	scripts/build-linux-virtio-kernel.sh
	XENON_BUILD=$(abspath $(BUILD)) $(PYTEST) -v -p no:cacheprovider tests/slow $(PYTEST_ARGS)

demo: deps
	$(MAKE) all
	scripts/demo.sh
