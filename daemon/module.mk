# daemon/: xenond, the management daemon (xend + xenstored + xenconsoled).
# The xenstore service is transport-independent (xs_server/xs_conn) and
# split one concern per file; xs_socket.c is its UNIX socket transport.
XS_CORE_SRCS := daemon/xs_hmap.c daemon/xs_buf.c daemon/xs_path.c \
		daemon/xs_perms.c daemon/xs_store.c daemon/xs_record.c \
		daemon/xs_persist.c daemon/xs_quota.c daemon/xs_watch.c \
		daemon/xs_db.c daemon/xs_txn.c daemon/xs_conn.c \
		daemon/xs_events.c daemon/xs_ops_node.c daemon/xs_ops_watch.c \
		daemon/xs_ops_domain.c daemon/xs_control.c daemon/xs_server.c \
		daemon/xs_dwatch.c daemon/xs_channel.c

LIB_SRCS += lib/xs_wire.c

XENOND_SRCS += daemon/main.c daemon/event_loop.c daemon/xs_socket.c \
	       $(XS_CORE_SRCS) daemon/xs_local.c daemon/xs_domain_socket.c \
	       daemon/domain_manager.c daemon/domain_vmm.c \
	       daemon/domain_store.c daemon/domain_record.c \
	       daemon/domain_stats.c daemon/console.c daemon/api.c \
	       daemon/api_ops.c daemon/log_ring.c daemon/host_info.c \
	       daemon/vmm_call.c daemon/domain_save.c \
	       daemon/domain_migrate.c daemon/relocation_auth.c \
	       daemon/proc_stat.c
XENOND_LIBS += -ljansson -lcrypto
PROGRAMS += $(BUILD)/xenond

UNIT_TESTS += tests/unit/test_xenstore_store.c tests/unit/test_xenstore_ops.c \
	      tests/unit/test_xenstore_txn.c tests/unit/test_xenstore_watch.c \
	      tests/unit/test_xenstore_persist.c \
	      tests/unit/test_xenstore_channel.c
# Each test links the whole service core plus the in-process test client.
XS_TEST_SRCS := $(XS_CORE_SRCS) tests/unit/test_xenstore_util.c
test_xenstore_store_SRCS := $(XS_TEST_SRCS)
test_xenstore_ops_SRCS := $(XS_TEST_SRCS)
test_xenstore_txn_SRCS := $(XS_TEST_SRCS)
test_xenstore_watch_SRCS := $(XS_TEST_SRCS)
test_xenstore_persist_SRCS := $(XS_TEST_SRCS)
test_xenstore_channel_SRCS := $(XS_TEST_SRCS)

# Benchmark: build, start a private xenond, measure reads/s and writes/s.
$(BUILD)/xenstore_bench: bench/xenstore_bench.c $(LIBXENON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-xenstore: $(BUILD)/xenond $(BUILD)/xenstore_bench
	$(BUILD)/xenstore_bench --xenond $(BUILD)/xenond $(BENCH_ARGS)

.PHONY: bench-xenstore

# Keep the shared test client object between test builds.
.SECONDARY: $(BUILD)/obj/tests/unit/test_xenstore_util.o

UNIT_TESTS += tests/unit/test_daemon_helpers.c
test_daemon_helpers_SRCS := daemon/proc_stat.c daemon/relocation_auth.c
test_daemon_helpers_LIBS := -lcrypto

# a guest's own store nodes across save/restore and migration
XENOND_SRCS += daemon/xs_node_export.c daemon/domain_guest_nodes.c
