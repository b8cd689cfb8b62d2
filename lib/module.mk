# lib/: code shared by the monitor, the daemon and the CLI.
LIB_SRCS += lib/log.c

# Xen guest config files (docs/config-files.md): the KEY = VALUE grammar,
# struct domain_config, disk/vif specs, JSON.  Programs using
# domain_config_to_json() link -ljansson.
LIB_SRCS += lib/xl_util.c lib/xl_msgs.c lib/xl_parse.c lib/xl_config.c \
	    lib/xl_values.c lib/xl_uuid.c lib/xl_cpus.c lib/xl_vdev.c \
	    lib/xl_disk.c lib/xl_net.c lib/xl_vif.c lib/xl_unsupported.c \
	    lib/xl_keys.c lib/xl_devices.c lib/xl_finish.c \
	    lib/xl_finish_dev.c lib/domain_config.c lib/xl_json.c

UNIT_TESTS += tests/unit/test_xl_config.c tests/unit/test_xl_disk.c \
	      tests/unit/test_xl_vif.c tests/unit/test_xl_domain.c \
	      tests/unit/test_xl_corpus.c
test_xl_domain_LIBS := -ljansson
test_xl_corpus_LIBS := -ljansson

# This file is included before the top-level Makefile defines 'all', so
# without this the first rule below (or devices/'s fuzzer) would become
# what a bare 'make' builds.
.DEFAULT_GOAL := all

# libFuzzer harness over the whole config path (needs clang).  Seeds come
# from tests/data/configs; what the fuzzer finds goes to its own corpus.
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 20
XL_FUZZ_SRCS := tests/fuzz/fuzz_xl_config.c $(filter lib/xl_% lib/domain_config.c,$(LIB_SRCS))
XL_FUZZ_FLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
		 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/fuzz_xl_config: $(XL_FUZZ_SRCS) lib/xl_config.h lib/domain_config.h \
			      lib/xl_internal.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(XL_FUZZ_FLAGS) -o $@ $(XL_FUZZ_SRCS) -ljansson

fuzz-config: $(BUILD)/fuzz/fuzz_xl_config
	@mkdir -p $(BUILD)/fuzz/corpus-xl-config
	$(BUILD)/fuzz/fuzz_xl_config -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
		-dict=tests/fuzz/xl_config.dict \
		$(BUILD)/fuzz/corpus-xl-config tests/data/configs

.PHONY: fuzz-config

# The save/migration stream framing (docs/save-format.md).
LIB_SRCS += lib/crc32c.c lib/state_buf.c lib/save_stream.c lib/vmstate.c
UNIT_TESTS += tests/unit/test_save_stream.c
