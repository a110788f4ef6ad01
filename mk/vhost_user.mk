# vhost-user back-end daemon `vhost-user-entropy` (src/shim/vhost_user/, issue 3)
# and its protocol tests with a fake front-end (tests/vhost_user/).
#   make vhost-user   the daemon at $(B)/vhost-user/vhost-user-entropy
#   make vhu-test     protocol, robustness, lifecycle and CLI tests (part of check)
# Requirements: docs/req/vhu.md. User guide: docs/vhost-user.md.
VHU_DIR   := $(B)/vhost-user
VHU_BIN   := $(VHU_DIR)/vhost-user-entropy
VHU_LIB   := $(VHU_DIR)/libvhu.a
VHU_HDR   := $(wildcard src/shim/vhost_user/*.h include/safevdev/*.h)
# Everything but main() goes into a library the tests and fuzz targets link.
VHU_OBJ   := $(VHU_DIR)/obj/vhu_dev.o
VHU_TEST  := $(VHU_DIR)/test_vhu

$(VHU_DIR)/obj/%.o: src/shim/vhost_user/%.c $(VHU_HDR) | $(VHU_DIR)/obj
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) -c $< -o $@
$(VHU_LIB): $(VHU_OBJ)
	rm -f $@ && ar rcs $@ $^
$(VHU_BIN): $(VHU_DIR)/obj/vhu_main.o $(VHU_LIB) $(CORE_LIB)
	$(CC) $(CFLAGS_SHIM) $(HARDEN_LDFLAGS) $^ $(LDFLAGS_ALL) -o $@
$(VHU_DIR)/obj:
	mkdir -p $@

$(VHU_TEST): tests/vhost_user/test_vhu.c $(wildcard tests/vhost_user/*.h) $(VHU_LIB) $(CORE_LIB) $(VHU_HDR)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -Isrc/shim/vhost_user $< $(VHU_LIB) $(CORE_LIB) -lcmocka $(LDFLAGS_ALL) -o $@

.PHONY: vhost-user vhu-test
vhost-user: $(VHU_BIN)

# The tests start the real daemon binary (sockets, signals) and also call the
# dispatcher in-process (fd and mapping leak checks on this process).
vhu-test: $(VHU_BIN) $(VHU_TEST)
	VHU_DAEMON=$(VHU_BIN) VHU_TMP=$(VHU_DIR)/tmp $(VHU_TEST)

PKGS += libcmocka-dev
ALL_TARGETS += $(VHU_BIN)
CHECK_TARGETS += vhu-test
