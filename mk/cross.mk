# Portability (docs/portability.md): the core, the unit tests, the qvm adapters
# + harness, the daemon and the two-thread ordering test built for aarch64 (weakly ordered,
# the QNX boards' CPU) and s390x (big-endian), with this Makefile's own rules,
# flags and warning set, and run under qemu-user; big-endian coverage of the
# core; the ordering test natively and under ThreadSanitizer; an aarch64 Linux
# guest end to end.
#   make cross-aarch64      build tree $(CROSS_B)/aarch64: purity of the core
#                           objects, the ordering instructions in the emitted
#                           code, then every unit, harness and ordering program
#                           under qemu-aarch64
#   make cross-s390x        the same for s390x under qemu-s390x (no barrier check)
#   make cross-be-coverage  the unit and harness suites under qemu-s390x, built
#                           with --coverage: src/core's thresholds as compiled
#                           big-endian, every big-endian-only line executed
#   make order              the ordering test natively and under TSan, then its
#                           self-test: seeded ordering defects must be caught
#   make e2e-aarch64        QEMU 7.2 -M virt (TCG): Debian's arm64 cloud kernel,
#                           our (host) vhost-user daemon on virtio-mmio, once with
#                           QEMU's device tree and once with the slot's node
#                           replaced by our FDT writer's; then the daemon's own
#                           tests, built for aarch64, on that guest's kernel
#
# What it takes from the other fragments, by name, expanded late (recipes,
# `=` variables, $$() prerequisites) and mostly inside the per-CPU tree (a
# recursive make of this Makefile with B=$(CROSS_B)/<cpu>, CC=<triple>-gcc):
#   UNIT_BIN, unit-build, purity      (mk/core.mk)   unit programs; the purity gate
#   HQ_TESTS, HQ_ENV, harness-build,  (mk/qvm.mk)    harness programs, their environment;
#   HQ_RELEASE_B, HQ_RELEASE_CC                      the release adapters' tree and compiler
#   vhost-user, VHU_BIN, VHU_TEST     (mk/vhost_user.mk) the daemon and its test program
#                                                    (cross-built; the host daemon serves
#                                                    the aarch64 guest)
#   COV_CORE_LINES, COV_CORE_BRANCH   (mk/coverage.mk) the core's coverage thresholds
#   CORE_LIB, COMMON_OBJ, COMMON_HDRS, API_HDRS, CFLAGS_CORE, CFLAGS_TEST, LDFLAGS_ALL,
#   STD, WARN, RELEASE_OPT, SAN_OPT   (Makefile)
# so the cross runs follow whatever sources and test programs those lists hold.
# The recipes there call binutils by their plain names (ar, nm, size, objdump,
# readelf): the tree's bin/ directory, first on PATH, holds the target's.
CROSS_CPUS           := aarch64 s390x
CROSS_TRIPLE_aarch64 := aarch64-linux-gnu
CROSS_TRIPLE_s390x   := s390x-linux-gnu
# Debian architecture names (multiarch packages, apt-get download).
CROSS_DEB_aarch64    := arm64
CROSS_DEB_s390x      := s390x
# The big-endian one (coverage, byte-order self-test).
CROSS_BE             := s390x
CROSS_B              := $(B)/cross
CROSS_BINUTILS       := ar nm size objdump readelf ranlib strip
# Debian's libfdt-dev cannot be installed for two architectures at once (and
# the host needs its own); the target's libfdt1 is enough: the tree's lib/
# directory holds the libfdt.so link name the -lfdt of the harness needs.
CROSS_LIBFDT         = /usr/lib/$(CROSS_TRIPLE_$(1))/libfdt.so.1

# The recursive make of CPU $(1)'s tree; $(2): more variable assignments.
cross_tree = PATH="$(abspath $(CROSS_B)/$(1)/bin):$$PATH" $(MAKE) --no-print-directory \
  B=$(CROSS_B)/$(1) CC=$(CROSS_TRIPLE_$(1))-gcc CROSS_CPU=$(1) \
  VARIANT_LDFLAGS="-L$(abspath $(CROSS_B)/$(1)/lib)" \
  HQ_RELEASE_B=$(abspath $(CROSS_B)/$(1))/qvm-release HQ_RELEASE_CC=$(CROSS_TRIPLE_$(1))-gcc $(2)

# ---------------------------------------------------------------- packages
# Multiarch: the foreign architectures must be known to dpkg before `make deps`
# installs the :arm64/:s390x packages below (its apt-get update then fetches
# their lists). Idempotent; as another user it prints the command and fails.
CROSS_DEB_ARCHES := $(foreach c,$(CROSS_CPUS),$(CROSS_DEB_$(c)))
.PHONY: cross-multiarch
cross-multiarch:
	@for a in $(CROSS_DEB_ARCHES); do \
	  dpkg --print-foreign-architectures | grep -qx "$$a" && continue; \
	  if [ "$$(id -u)" = 0 ]; then echo "cross: dpkg --add-architecture $$a"; dpkg --add-architecture "$$a"; \
	  else echo "cross: run as root: dpkg --add-architecture $$a && apt-get update"; exit 1; fi; \
	done
deps: cross-multiarch

# Compilers (with their binutils and gcov), the target C libraries' headers,
# qemu-user, the targets' cmocka and libfdt, and libseccomp for the daemon's
# sandbox (co-installable with the host's, unlike libfdt-dev); clang for TSan.
PKGS += $(foreach c,$(CROSS_CPUS),gcc-$(CROSS_TRIPLE_$(c)) libc6-dev-$(CROSS_DEB_$(c))-cross \
          libcmocka-dev:$(CROSS_DEB_$(c)) libfdt1:$(CROSS_DEB_$(c)) libseccomp-dev:$(CROSS_DEB_$(c))) \
        qemu-user libfdt-dev clang libclang-rt-14-dev lcov python3

# ---------------------------------------------------------------- per-CPU trees
# bin/: the target's binutils under their plain names; lib/: the libfdt link.
$(CROSS_CPUS:%=$(CROSS_B)/%/.tools): $(CROSS_B)/%/.tools:
	@mkdir -p $(@D)/bin $(@D)/lib
	@for u in $(CROSS_BINUTILS); do ln -sf "$$(command -v $(CROSS_TRIPLE_$*)-$$u)" $(@D)/bin/$$u || exit 1; done
	@ln -sf $(call CROSS_LIBFDT,$*) $(@D)/lib/libfdt.so && touch $@

# The two-thread ordering test(s), built in whatever tree this make builds.
ORDER_SRC := $(sort $(wildcard tests/cross/test_*.c))
ORDER_BIN := $(ORDER_SRC:tests/cross/%.c=$(B)/order/%)
$(ORDER_BIN): $(B)/order/%: tests/cross/%.c $(CORE_LIB) $(COMMON_OBJ) $(COMMON_HDRS) $(API_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -pthread $< $(COMMON_OBJ) $(CORE_LIB) -lcmocka -pthread $(LDFLAGS_ALL) -o $@

# Inside a CPU's tree (CROSS_CPU set by cross_tree): every suite under qemu-user.
# The harness's randomized loops run the counts they use under valgrind (a
# tenth: every test case runs, the random exploration is shorter); the full
# counts run natively in `make harness`.
CROSS_EMU    = qemu-$(CROSS_CPU)
CROSS_RUN   := tests/cross/run-suite.sh
CROSS_HQ_ENV := HQ_VALGRIND=1
.PHONY: cross-tree-build cross-tree-run
# REQ-ANALYSIS: REQ-PORT-001
cross-tree-build: unit-build harness-build vhost-user $(ORDER_BIN)
cross-tree-run: cross-tree-build
	@echo "cross $(CROSS_CPU): $(CC) $(CFLAGS_CORE) (core); $(CFLAGS_TEST) (tests)"
	@$(CROSS_RUN) "cross $(CROSS_CPU) unit" "$(CROSS_EMU)" $(UNIT_BIN)
	@$(HQ_ENV) $(CROSS_HQ_ENV) $(CROSS_RUN) "cross $(CROSS_CPU) harness" "$(CROSS_EMU)" $(HQ_TESTS)
	@$(CROSS_RUN) "cross $(CROSS_CPU) order" "$(CROSS_EMU)" $(ORDER_BIN)

# In the tree: the purity gate on its core objects.
# REQ-ANALYSIS: REQ-PORT-003
cross-tree-purity: purity
# The aarch64 tree's virtqueue object carries the ordering instructions.
cross-barriers: $(CROSS_B)/aarch64/.tools
	@+$(call cross_tree,aarch64) $(CROSS_B)/aarch64/core/virtqueue.o
	@tests/cross/check-barriers.sh $(CROSS_TRIPLE_aarch64)-objdump $(CROSS_B)/aarch64/core/virtqueue.o

# The stages: purity, on aarch64 the barrier check, every suite, and on the
# big-endian CPU the byte-order self-test.
.PHONY: $(CROSS_CPUS:%=cross-%) cross-tree-purity cross-barriers
$(CROSS_CPUS:%=cross-%): cross-%: $(CROSS_B)/%/.tools
	@+$(call cross_tree,$*) cross-tree-purity
	@+if [ $* = aarch64 ]; then $(MAKE) --no-print-directory cross-barriers; fi
	@+$(call cross_tree,$*) cross-tree-run
	@+if [ $* = $(CROSS_BE) ]; then $(call cross_tree,$*) cross-be-selftest; fi

# ---------------------------------------------------------------- big-endian coverage
CROSS_COV_B   := $(CROSS_B)/$(CROSS_BE)-cov
CROSS_COV_RC  := --rc lcov_branch_coverage=1
CROSS_LCOV     = lcov --quiet $(CROSS_COV_RC) --gcov-tool $(CROSS_TRIPLE_$(CROSS_BE))-gcov
.PHONY: cross-be-coverage cross-tree-cov
cross-tree-cov: unit-build harness-build
	@$(CROSS_RUN) "be-coverage $(CROSS_CPU) unit" "$(CROSS_EMU)" $(UNIT_BIN)
	@$(HQ_ENV) $(CROSS_HQ_ENV) $(CROSS_RUN) "be-coverage $(CROSS_CPU) harness" "$(CROSS_EMU)" $(HQ_TESTS)
cross-be-coverage: $(CROSS_B)/$(CROSS_BE)/.tools
	@rm -rf $(CROSS_COV_B)
	@+$(call cross_tree,$(CROSS_BE),B=$(CROSS_COV_B) OPT="-O0 -g" VARIANT_CFLAGS="-DSVD_COVERAGE --coverage" \
	  VARIANT_LDFLAGS="--coverage -L$(abspath $(CROSS_B)/$(CROSS_BE)/lib)" \
	  HQ_RELEASE_B=$(abspath $(CROSS_COV_B))/qvm-release) cross-tree-cov
	@$(CROSS_LCOV) --capture --initial --directory $(CROSS_COV_B) --base-directory . --output-file $(CROSS_COV_B)/base.info \
	  2>$(CROSS_COV_B)/lcov.log || { cat $(CROSS_COV_B)/lcov.log; exit 1; }
	@$(CROSS_LCOV) --capture --directory $(CROSS_COV_B) --base-directory . --output-file $(CROSS_COV_B)/run.info \
	  2>>$(CROSS_COV_B)/lcov.log || { cat $(CROSS_COV_B)/lcov.log; exit 1; }
	@$(CROSS_LCOV) -a $(CROSS_COV_B)/base.info -a $(CROSS_COV_B)/run.info --output-file $(CROSS_COV_B)/all.info \
	  2>>$(CROSS_COV_B)/lcov.log
	@$(CROSS_LCOV) --extract $(CROSS_COV_B)/all.info '$(CURDIR)/src/core/*' --output-file $(CROSS_COV_B)/core.info \
	  2>>$(CROSS_COV_B)/lcov.log
	@python3 tests/cross/be_coverage.py $(CROSS_COV_B)/core.info $(CURDIR) $(COV_CORE_LINES) $(COV_CORE_BRANCH)

# ---------------------------------------------------------------- ordering
# ThreadSanitizer checks the ordering test's synchronisation against the C11
# memory model (which the emitted acquire/release instructions implement on a
# weakly ordered CPU), not against the host CPU's stronger ordering.
TSAN_CC    := clang
TSAN_FLAGS := -fsanitize=thread
# Every report fails the run (exit status 66).
TSAN_ENV   := env TSAN_OPTIONS=halt_on_error=1:exitcode=66
TSAN_TREE   = --no-print-directory B=$(B)/tsan CC=$(TSAN_CC) OPT="$(SAN_OPT)" \
              VARIANT_CFLAGS="$(TSAN_FLAGS)" VARIANT_LDFLAGS="$(TSAN_FLAGS)"
# Self-tests: a seeded defect (src/core/virtqueue.c edited by sed) must make
# the ordering test fail. The copy is built with the core's private header on
# the include path, as the original. $(call order_defect,NAME,SED) builds it, with this
# tree's compiler and flags, as $(ORDER_ST)/order_NAME.
ORDER_ST      = $(B)/order-selftest
ORDER_VQ_TEST := tests/cross/test_vq_order.c
define order_defect
mkdir -p $(ORDER_ST) && sed '$(2)' src/core/virtqueue.c >$(ORDER_ST)/vq_$(1).c && \
{ ! cmp -s src/core/virtqueue.c $(ORDER_ST)/vq_$(1).c || { echo "selftest: defect $(1) not applied"; exit 1; }; } && \
$(CC) $(CPPFLAGS_ALL) -Isrc/core $(CFLAGS_CORE) -c $(ORDER_ST)/vq_$(1).c -o $(ORDER_ST)/vq_$(1).o && \
$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -pthread $(ORDER_VQ_TEST) $(ORDER_ST)/vq_$(1).o $(COMMON_OBJ) $(CORE_LIB) \
  -lcmocka -pthread $(LDFLAGS_ALL) -o $(ORDER_ST)/order_$(1)
endef
# Ordering (in the TSan tree): the acquire, or the release, made relaxed must
# be reported by TSan and must fail the aarch64 barrier check.
ORDER_DEFECTS     := acquire release
ORDER_SED_acquire := s/__ATOMIC_ACQUIRE/__ATOMIC_RELAXED/g
ORDER_SED_release := s/__ATOMIC_RELEASE/__ATOMIC_RELAXED/g
.PHONY: order order-tree order-selftest cross-be-selftest
order-tree: $(ORDER_BIN)
	@$(CROSS_RUN) "order $(CC) $(TSAN_FLAGS)" "$(TSAN_ENV)" $(ORDER_BIN)
# REQ: REQ-PORT-008
order-selftest: $(CORE_LIB) $(COMMON_OBJ)
	@$(foreach d,$(ORDER_DEFECTS),$(call order_defect,$(d),$(ORDER_SED_$(d))) || exit 1; \
	  if $(TSAN_ENV) $(ORDER_ST)/order_$(d) >$(ORDER_ST)/order_$(d).log 2>&1; then \
	    echo "order-selftest: $(d) made relaxed: TSan did NOT fail"; exit 1; fi; \
	  grep -q 'ThreadSanitizer: data race' $(ORDER_ST)/order_$(d).log || \
	    { cat $(ORDER_ST)/order_$(d).log; echo "order-selftest: $(d) made relaxed: failed without a race report"; exit 1; }; \
	  echo "order-selftest: $(d) made relaxed: TSan reports a data race in $$(grep -m1 -oE '#0 [a-z_0-9]+' $(ORDER_ST)/order_$(d).log | cut -c4-) (caught)"; \
	  $(CROSS_TRIPLE_aarch64)-gcc $(CPPFLAGS_ALL) -Isrc/core $(STD) $(WARN) $(RELEASE_OPT) -fno-common -c $(ORDER_ST)/vq_$(d).c \
	    -o $(ORDER_ST)/vq_$(d).aarch64.o || exit 1; \
	  if tests/cross/check-barriers.sh $(CROSS_TRIPLE_aarch64)-objdump $(ORDER_ST)/vq_$(d).aarch64.o >$(ORDER_ST)/barriers_$(d).log; then \
	    cat $(ORDER_ST)/barriers_$(d).log; echo "order-selftest: $(d) made relaxed: barrier check did NOT fail"; exit 1; fi; \
	  echo "order-selftest: $(d) made relaxed: barrier check fails: $$(grep -m1 'missing' $(ORDER_ST)/barriers_$(d).log | sed 's/^barriers: //') (caught)";)
# Byte order (in the big-endian tree): virtqueue.c without its byte swaps
# (the big-endian test made false) must fail the ordering test under qemu-user.
ORDER_SED_noswap := s/== __ORDER_BIG_ENDIAN__/== __ORDER_BIG_ENDIAN__ + 1/g
# REQ: REQ-PORT-005
cross-be-selftest: $(CORE_LIB) $(COMMON_OBJ)
	@$(call order_defect,noswap,$(ORDER_SED_noswap))
	@if $(CROSS_EMU) $(ORDER_ST)/order_noswap >$(ORDER_ST)/order_noswap.log 2>&1; then \
	  cat $(ORDER_ST)/order_noswap.log; echo "be-selftest: virtqueue.c without byte swaps: the test did NOT fail"; exit 1; fi
	@echo "be-selftest: virtqueue.c without byte swaps on $(CROSS_CPU): $$(grep -m1 '^order: ' $(ORDER_ST)/order_noswap.log) (caught)"
order: $(ORDER_BIN)
	@$(CROSS_RUN) "order native" "" $(ORDER_BIN)
	@$(MAKE) $(TSAN_TREE) order-tree
	@$(MAKE) $(TSAN_TREE) order-selftest

# ---------------------------------------------------------------- aarch64 guest
# Debian's arm64 cloud kernel and busybox-static:arm64, both fetched with
# `apt-get download` (multiarch lists) and unpacked, never installed; the
# initramfs from the x86 runs' scripts; fdt_graft (host build, our FDT writer
# + libfdt) for the case with our device-tree node.
E2E_A64_DIR    := $(B)/e2e-aarch64
E2E_A64_KERNEL := $(E2E_A64_DIR)/kernel/.done
E2E_A64_BB     := $(E2E_A64_DIR)/busybox/.done
E2E_A64_INITRD := $(E2E_A64_DIR)/initramfs.cpio.gz
E2E_A64_GRAFT  := $(E2E_A64_DIR)/fdt_graft
E2E_A64_META   := linux-image-cloud-arm64:$(CROSS_DEB_aarch64)

$(E2E_A64_KERNEL): tests/e2e/fetch-kernel.sh
	E2E_KERNEL_META=$(E2E_A64_META) tests/e2e/fetch-kernel.sh $(@D)
$(E2E_A64_BB): tests/e2e/fetch-busybox.sh
	tests/e2e/fetch-busybox.sh $(CROSS_DEB_aarch64) $(@D)
$(E2E_A64_INITRD): tests/e2e/mkinitramfs.sh tests/e2e/guest-init.sh $(E2E_A64_KERNEL) $(E2E_A64_BB)
	E2E_BUSYBOX=$(E2E_A64_DIR)/busybox/root/bin/busybox tests/e2e/mkinitramfs.sh $(E2E_A64_DIR)/kernel $@
$(E2E_A64_GRAFT): tests/e2e/fdt_graft.c $(CORE_LIB) $(API_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $< $(CORE_LIB) -lfdt $(LDFLAGS_ALL) -o $@

# The daemon and its test program built in the aarch64 tree (their host paths
# moved there), in an overlay whose /init runs the tests on the guest's kernel.
E2E_A64_VHU_PROGS   = $(patsubst $(B)/%,$(CROSS_B)/aarch64/%,$(VHU_BIN) $(VHU_TEST))
E2E_A64_VHU_OVERLAY := $(E2E_A64_DIR)/overlay-vhu.cpio.gz
E2E_A64_VHU_INITRD  := $(E2E_A64_DIR)/initramfs-vhu.cpio.gz

.PHONY: e2e-aarch64 e2e-aarch64-prep e2e-aarch64-vhu-prep
e2e-aarch64-vhu-prep: $(CROSS_B)/aarch64/.tools $(E2E_A64_INITRD)
	@+$(call cross_tree,aarch64) $(E2E_A64_VHU_PROGS)
	tests/e2e/mkoverlay.sh $(CROSS_TRIPLE_aarch64) $(E2E_A64_VHU_OVERLAY) $(E2E_A64_VHU_PROGS)
	cat $(E2E_A64_INITRD) $(E2E_A64_VHU_OVERLAY) >$(E2E_A64_VHU_INITRD)
e2e-aarch64-prep: $(E2E_A64_KERNEL) $(E2E_A64_INITRD) $(E2E_A64_GRAFT) e2e-aarch64-vhu-prep
e2e-aarch64: e2e-aarch64-prep $$(VHU_BIN)
	B=$(B) E2E_DAEMON=$(VHU_BIN) E2E_A64_GRAFT=$(E2E_A64_GRAFT) E2E_A64_VHU_INITRD=$(E2E_A64_VHU_INITRD) \
	  python3 tests/e2e/e2e_aarch64.py

PKGS += qemu-system-arm libfdt-dev cpio gzip rng-tools5 apt dpkg python3
