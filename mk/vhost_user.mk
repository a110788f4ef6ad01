# vhost-user back-end daemon `vhost-user-entropy` (src/shim/vhost_user/) and
# its protocol tests with a fake front-end (tests/vhost_user/).
#   make vhost-user   the daemon at $(VHU_BIN)
#   make vhu-test     protocol, robustness, lifecycle and CLI tests, and the temporal group
#                     (VHU_TEMPORAL=1: a greedy neighbour and a 1 GiB request against the other
#                     instance's latency; host only, the emulated aarch64 run leaves it out)
#   make vhu-asan     the same tests, daemon and dispatcher built with $(SAN_FLAGS) ($(B)/asan)
# Requirements: docs/req/vhu.md. User guide: docs/vhost-user.md.
# The daemon and its sources are also used by mk/e2e.mk, mk/bench.mk,
# mk/faults.mk and mk/fuzz.mk.
VHU_DIR      := $(B)/vhost-user
VHU_BIN      := $(VHU_DIR)/vhost-user-entropy
VHU_LIB      := $(VHU_DIR)/libvhu.a
# Everything but main() goes into a library that the tests and the fuzz
# regression programs link (the fuzz target compiles VHU_LIB_SRC itself).
VHU_LIB_SRC  := src/shim/vhost_user/vhu_dev.c
# main() and the seccomp sandbox are the daemon only (not in libvhu.a).
VHU_MAIN_SRC := src/shim/vhost_user/vhu_main.c src/shim/vhost_user/vhu_sandbox.c
VHU_SRC      := $(VHU_LIB_SRC) $(VHU_MAIN_SRC)
VHU_HDR      := $(wildcard src/shim/vhost_user/*.h) $(API_HDRS)
VHU_CPPFLAGS := -Isrc/shim/vhost_user
VHU_OBJ      := $(VHU_LIB_SRC:src/shim/vhost_user/%.c=$(VHU_DIR)/obj/%.o)
VHU_TEST     := $(VHU_DIR)/test_vhu

$(VHU_DIR)/obj/%.o: src/shim/vhost_user/%.c $(VHU_HDR) | $(VHU_DIR)/obj
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) -c $< -o $@
$(VHU_LIB): $(VHU_OBJ)
	rm -f $@ && ar rcs $@ $^
# The sandbox (libseccomp) is linked into the daemon only, not into libvhu.a.
VHU_LIBS  := -lseccomp
$(VHU_BIN): $(VHU_MAIN_SRC:src/shim/vhost_user/%.c=$(VHU_DIR)/obj/%.o) $(VHU_LIB) $(CORE_LIB)
	$(CC) $(CFLAGS_SHIM) $(HARDEN_LDFLAGS) $^ $(LDFLAGS_ALL) $(VHU_LIBS) -o $@
$(VHU_DIR)/obj:
	mkdir -p $@

$(VHU_TEST): tests/vhost_user/test_vhu.c $(wildcard tests/vhost_user/*.h) $(VHU_LIB) $(CORE_LIB) $(VHU_HDR)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $(VHU_CPPFLAGS) $< $(VHU_LIB) $(CORE_LIB) -lcmocka $(LDFLAGS_ALL) -o $@
# Packed rings and refused feature sets, through the dispatcher in-process
# with the packed-ring driver model of tests/common.
VHU_TEST_PACKED := $(VHU_DIR)/test_vhu_packed
$(VHU_TEST_PACKED): tests/vhost_user/test_vhu_packed.c $(VHU_LIB) $(CORE_LIB) $(COMMON_OBJ) $(VHU_HDR)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $(VHU_CPPFLAGS) $< $(VHU_LIB) $(COMMON_OBJ) $(CORE_LIB) -lcmocka $(LDFLAGS_ALL) -o $@

.PHONY: vhost-user vhu-test vhu-asan
vhost-user: $(VHU_BIN)

# The tests start the real daemon binary (sockets, signals) and also call the
# dispatcher in-process (fd and mapping leak checks on this process).
vhu-test: $(VHU_BIN) $(VHU_TEST) $(VHU_TEST_PACKED)
	@rm -rf $(VHU_DIR)/tmp
	VHU_TEMPORAL=1 VHU_DAEMON=$(VHU_BIN) VHU_TMP=$(VHU_DIR)/tmp $(VHU_TEST)
	$(VHU_TEST_PACKED)

# A sanitizer report in the daemon aborts it, which the tests see (a test or
# the final SIGTERM exit status fails); the logs are grepped as well.
vhu-asan:
	$(MAKE) $(SAN_TREE) vhu-test
	@if grep -l -E 'Sanitizer|runtime error' $(B)/asan/vhost-user/tmp/*.log 2>/dev/null; then \
	  echo "vhu-asan: sanitizer reports in the daemon logs above"; exit 1; fi

PKGS += libcmocka-dev clang libclang-rt-14-dev libseccomp-dev
ALL_TARGETS += $(VHU_BIN)
