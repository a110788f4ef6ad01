# Out-of-process device host for QEMU 7.2's multi-process protocol:
# `qemu-remote-vdev` (src/shim/qemu_remote/) serves one PCI device (the
# i6300ESB, or virtio-entropy on the core's virtio-pci) to -device
# x-pci-proxy-dev, and its tests (tests/remote/).
#   make qemu-remote     the daemon at $(B)/qemu-remote/qemu-remote-vdev
#   make remote-test     protocol, attack, watchdog-time, QMP and CLI tests against the binary (check)
#   make remote-asan     the same with daemon, dispatcher and tests built with clang ASan+UBSan (check)
#   make remote-faults   countdown fault injection of the daemon's syscalls (check)
#   make e2e-remote      real Linux drivers (i6300esb.ko, virtio_pci) through the proxy, side by side
#                        with QEMU's built-in i6300esb (check); e2e-remote-<case> runs one case
# Requirements: docs/req/rmt.md. User guide: docs/qemu-remote.md.
#
# Order-independent (`make fragment-order`): besides the Makefile's own names
# it uses mk/fuzz.mk's fuzz tree only through FUZZ_EXTRA_fuzz_remote (read in
# a recipe) and a target spelled with $(B).
RMT_DIR   := $(B)/qemu-remote
RMT_BIN   := $(RMT_DIR)/qemu-remote-vdev
RMT_LIB   := $(RMT_DIR)/libmpq.a
RMT_HDR   := $(wildcard src/shim/qemu_remote/*.h) $(API_HDRS)
# Everything but main() goes into a library the tests and the fuzz target link.
RMT_OBJ   := $(RMT_DIR)/obj/mpq_dev.o $(RMT_DIR)/obj/mpq_qmp.o
RMT_TEST  := $(RMT_DIR)/test_remote
RMT_TEST_SRC := tests/remote/test_remote.c

$(RMT_DIR)/obj/%.o: src/shim/qemu_remote/%.c $(RMT_HDR) | $(RMT_DIR)/obj
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) -c $< -o $@
$(RMT_LIB): $(RMT_OBJ)
	rm -f $@ && ar rcs $@ $^
$(RMT_BIN): $(RMT_DIR)/obj/mpq_main.o $(RMT_LIB) $(CORE_LIB)
	$(CC) $(CFLAGS_SHIM) $(HARDEN_LDFLAGS) $^ $(LDFLAGS_ALL) -o $@
$(RMT_DIR)/obj:
	mkdir -p $@

$(RMT_TEST): $(RMT_TEST_SRC) $(wildcard tests/remote/*.h) $(RMT_LIB) $(CORE_LIB) $(RMT_HDR) $(COMMON_OBJ)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -Isrc/shim/qemu_remote $< $(COMMON_OBJ) $(RMT_LIB) $(CORE_LIB) -lcmocka \
	  $(LDFLAGS_ALL) -o $@

.PHONY: qemu-remote remote-test remote-asan remote-faults
qemu-remote: $(RMT_BIN)

# The tests start the real daemon binary (socketpair, QMP server, signals) and
# also call the dispatcher and the QMP parser in-process (fd and mapping checks).
remote-test: $(RMT_BIN) $(RMT_TEST)
	@rm -rf $(RMT_DIR)/tmp && mkdir -p $(RMT_DIR)/tmp
	RMT_DAEMON=$(RMT_BIN) RMT_TMP=$(RMT_DIR)/tmp $(RMT_TEST)

# A sanitizer report in the daemon aborts it, which the tests see; the logs
# are grepped as well.
remote-asan:
	$(MAKE) $(SAN_TREE) remote-test
	@if grep -l -E 'Sanitizer|runtime error' $(B)/asan/qemu-remote/tmp/*.log 2>/dev/null; then \
	  echo "remote-asan: sanitizer reports in the daemon logs above"; exit 1; fi

# Countdown fault injection: the daemon rebuilt with clang ASan+UBSan, every
# syscall of its own code wrapped (tests/remote/inject_remote.c, which adds
# four calls to tests/faults/inject.c; every function inject.c defines must be
# wrapped for the link, whether the daemon calls it or not); tests/remote/run_faults.py fails the 1st,
# 2nd, ... call of one scenario per device until a run completes with no fault
# fired, and checks each run (no crash, no sanitizer report, no hang, the
# failure reported).
RMT_FAULT_DIR  := $(B)/faults-remote
RMT_FAULT_WRAP := socket bind listen accept4 setsockopt getsockopt connect recvmsg sendmsg recv __recv_chk send read \
                  __read_chk write epoll_create1 epoll_ctl epoll_wait timerfd_create timerfd_settime signalfd \
                  sigprocmask getrandom unlink open mmap fstat fcntl readlink \
                  poll __poll_chk eventfd malloc calloc realloc
RMT_FAULT_BIN  := $(RMT_FAULT_DIR)/qemu-remote-vdev
RMT_FAULT_SRC  := $(sort $(wildcard src/shim/qemu_remote/*.c))
RMT_FAULT_CORE := $(RMT_FAULT_DIR)/libsvdcore.a
# The sanitizer build by default; the coverage run (mk/coverage.mk) builds the
# same daemon with gcc --coverage at -O0, as it does the vhost-user one.
RMT_FAULT_CC   ?= $(SAN_CC)
RMT_FAULT_OPT  ?= $(SAN_OPT)
RMT_FAULT_SAN  ?= $(SAN_FLAGS)
.PHONY: $(RMT_FAULT_CORE) remote-faults-build
# The core in its own tree, built with the sanitizers (recursive make).
$(RMT_FAULT_CORE):
	@$(MAKE) --no-print-directory B=$(RMT_FAULT_DIR) CC=$(RMT_FAULT_CC) OPT="$(RMT_FAULT_OPT)" VARIANT_CFLAGS="$(RMT_FAULT_SAN)" $@
$(RMT_FAULT_DIR)/inject_remote.o: tests/remote/inject_remote.c tests/faults/inject.c | $(RMT_FAULT_CORE)
	$(RMT_FAULT_CC) $(STD) $(WARN) $(RMT_FAULT_OPT) $(RMT_FAULT_SAN) -c $< -o $@
$(RMT_FAULT_BIN): $(RMT_FAULT_SRC) $(RMT_HDR) $(RMT_FAULT_DIR)/inject_remote.o $(RMT_FAULT_CORE)
	$(RMT_FAULT_CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) $(RMT_FAULT_OPT) $(RMT_FAULT_SAN) $(RMT_FAULT_SRC) $(RMT_FAULT_DIR)/inject_remote.o \
	  $(RMT_FAULT_CORE) $(HARDEN_LDFLAGS) $(addprefix -Wl$(comma)--wrap=,$(RMT_FAULT_WRAP)) -o $@
remote-faults-build: $(RMT_FAULT_BIN)
remote-faults: $(RMT_FAULT_BIN)
	@python3 tests/remote/run_faults.py $(RMT_FAULT_BIN) $(RMT_FAULT_DIR)/run

# The message decoder and the QMP parser fuzz target links the daemon's
# socket-free part (mk/fuzz.mk builds every tests/fuzz/fuzz_*.c; the path is
# spelled out because mk/fuzz.mk may be read after this file).
FUZZ_EXTRA_fuzz_remote = -Isrc/shim/qemu_remote src/shim/qemu_remote/mpq_dev.c src/shim/qemu_remote/mpq_qmp.c
$(B)/fuzz/bin/fuzz_remote: $(wildcard src/shim/qemu_remote/*.c src/shim/qemu_remote/*.h)

# ------------------------------------------------------------ real drivers
# Debian's generic kernel (linux-image-amd64: watchdog.ko, i6300esb.ko and the
# virtio modules), fetched with `apt-get download` and unpacked, never
# installed; a busybox initramfs with tests/remote/guest-init.sh as /init.
RMT_E2E_DIR    := $(B)/e2e-remote
RMT_E2E_KERNEL := $(RMT_E2E_DIR)/kernel/.done
RMT_E2E_INITRD := $(RMT_E2E_DIR)/initramfs.cpio.gz
RMT_E2E_MODS   := watchdog i6300esb virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio-rng
# Asked once per tree (list_once).
$(eval $(call list_once,RMT_E2E_CASES,python3 tests/remote/e2e_remote.py --list))
RMT_E2E_RUN    := B=$(B) RMT_DAEMON=$(RMT_BIN) python3 tests/remote/e2e_remote.py

$(RMT_E2E_KERNEL): tests/e2e/fetch-kernel.sh
	E2E_KERNEL_META=linux-image-amd64 tests/e2e/fetch-kernel.sh $(RMT_E2E_DIR)/kernel && touch $@
$(RMT_E2E_INITRD): tests/e2e/mkinitramfs.sh tests/remote/guest-init.sh $(RMT_E2E_KERNEL)
	E2E_MODULES="$(RMT_E2E_MODS)" E2E_INIT=tests/remote/guest-init.sh \
	  tests/e2e/mkinitramfs.sh $(RMT_E2E_DIR)/kernel $@

.PHONY: e2e-remote e2e-remote-prep $(RMT_E2E_CASES:%=e2e-remote-%)
e2e-remote-prep: $(RMT_E2E_KERNEL) $(RMT_E2E_INITRD)
e2e-remote: e2e-remote-prep $(RMT_BIN)
	$(RMT_E2E_RUN)
$(RMT_E2E_CASES:%=e2e-remote-%): e2e-remote-%: e2e-remote-prep $(RMT_BIN)
	$(RMT_E2E_RUN) $*

PKGS += libcmocka-dev clang libclang-rt-14-dev qemu-system-x86 busybox-static cpio gzip python3 apt dpkg
ALL_TARGETS += $(RMT_BIN)
