# QNX qvm adapters (vdev-<adapter>.so) and the host harness that plays qvm.
#
#   make qvm-so            every adapter's .so in $(QVM_B)
#   make harness           every adapter's harness test programs (cmocka)
#   make harness-asan      the same, adapters and harness built with $(SAN_FLAGS) ($(B)/asan)
#   make harness-valgrind  the same programs under $(VALGRIND)
#   make harness-qnx8      the adapters and the harness built against the 8.0
#                          generation of the compat API (QVM_GEN=8, $(B)/qnx8)
#                          and the harness programs run
#
# QVM_GEN selects the qvm API generation the compat declarations lay out:
# 7 (SDP 7.0/7.1, Hypervisor 2.x: the default) or 8 (SDP 8.0); `make harness`
# and `make harness-qnx8` together build and run everything against both.
#
# An adapter is a name in QVM_ADAPTERS and three lines below it:
#   QVM_SRC_<adapter>    the sources of vdev-<adapter>.so (src/shim/qvm/)
#   QVM_TESTS_<adapter>  its harness test programs (tests/harness/)
#   QVM_ENV_<adapter>    the environment variable that gives those tests the .so path
# Every harness program gets the path of every adapter, $(HQ_RELEASE_SO) and
# HQ_BUILD=$(QVM_B) in its environment.
#
# Each .so is built like a QNX vdev: -fPIC -shared, RELRO + BIND_NOW, hidden
# visibility (nothing exported but what the constructor registers), linked with
# the core recompiled position-independent ($(QVM_B)/pic: the sources and flags
# of $(CORE_LIB) plus -fPIC). The compat headers stand in for the QNX SDK; the
# harness provides the qvm functions, exported to the dlopen()ed adapter with
# -rdynamic.
QVM_B   := $(B)/qvm
QVM_DIR := src/shim/qvm
# The compat qvm API (no QNX SDK on the host) of generation QVM_GEN; also
# used by mk/fuzz.mk.
QVM_GEN      ?= 7
QVM_CPPFLAGS := -I$(QVM_DIR) -DSVD_QVM_SDK=0 -DSVD_QVM_GEN=$(QVM_GEN)

# What every adapter links: the qvm frame and the qvm helpers (options, dma
# windows, clock/timer, irq, vCPU transfers). The frame is optional ($(wildcard)).
QVM_FRAME_SRC := $(wildcard $(QVM_DIR)/qvm_frame.c) $(QVM_DIR)/qvm_common.c
# The adapters install as vdev-svd-<device>.so: qvm loads `vdev NAME` from
# vdev-NAME.so on its search path, and QNX ships vdev-virtio-entropy.so,
# vdev-wdt-sp805.so and vdev-wdt-ib700.so itself; the svd- prefix keeps ours
# from shadowing them (or being shadowed), whatever the search path
# (docs/userguide.md). The factories leave `name` NULL, so qvm names them
# after the file.
QVM_ADAPTERS  := svd-virtio-entropy svd-wdt-i6300esb svd-wdt-sp805 svd-wdt-ib700

QVM_SRC_svd-virtio-entropy := $(QVM_FRAME_SRC) $(QVM_DIR)/vdev_entropy.c
QVM_TESTS_svd-virtio-entropy := tests/harness/test_qvm_entropy.c tests/harness/test_qvm_common.c
QVM_ENV_svd-virtio-entropy := HQ_ENTROPY_SO

QVM_SRC_svd-wdt-i6300esb := $(QVM_FRAME_SRC) $(QVM_DIR)/vdev_wdt_i6300esb.c
QVM_TESTS_svd-wdt-i6300esb := tests/harness/wdt_tests/test_wdt_i6300esb_qvm.c
QVM_ENV_svd-wdt-i6300esb := HQ_WDT_ESB_SO

QVM_SRC_svd-wdt-sp805 := $(QVM_FRAME_SRC) $(QVM_DIR)/vdev_wdt_sp805.c
QVM_TESTS_svd-wdt-sp805 := tests/harness/wdt_tests/test_wdt_sp805_qvm.c
QVM_ENV_svd-wdt-sp805 := HQ_WDT_SP805_SO

QVM_SRC_svd-wdt-ib700 := $(QVM_FRAME_SRC) $(QVM_DIR)/vdev_wdt_ib700.c
QVM_TESTS_svd-wdt-ib700 := tests/harness/wdt_tests/test_wdt_ib700_qvm.c
QVM_ENV_svd-wdt-ib700 := HQ_WDT_IB700_SO

# ---------------------------------------------------------------- adapters
QVM_SO         := $(QVM_ADAPTERS:%=$(QVM_B)/vdev-%.so)
# Position-independent, nothing visible outside the .so unless marked.
QVM_PIC        := -fPIC -fvisibility=hidden
QVM_CFLAGS     := $(CFLAGS_SHIM) $(QVM_PIC) $(QVM_CPPFLAGS)
QVM_SO_LDFLAGS := -shared $(HARDEN_LINK) $(LDFLAGS_ALL)
QVM_PIC_OBJ    := $(CORE_SRC:src/core/%.c=$(QVM_B)/pic/%.o)
QVM_PIC_LIB    := $(QVM_B)/libsvdcore_pic.a
QVM_HDRS       := $(wildcard $(QVM_DIR)/*.h $(QVM_DIR)/compat/*.h) $(API_HDRS)

$(QVM_B)/pic/%.o: src/core/%.c $(CORE_HDRS) | $(QVM_B)/pic
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_CORE) $(QVM_PIC) -c $< -o $@
$(QVM_PIC_LIB): $(QVM_PIC_OBJ)
	rm -f $@ && ar rcs $@ $^
$(QVM_B)/shim/%.o: $(QVM_DIR)/%.c $(QVM_HDRS) | $(QVM_B)/shim
	$(CC) $(CPPFLAGS_ALL) $(QVM_CFLAGS) -c $< -o $@
# vdev-<adapter>.so: the objects of QVM_SRC_<adapter>, then the PIC core.
qvm_obj = $(patsubst $(QVM_DIR)/%.c,$(QVM_B)/shim/%.o,$(QVM_SRC_$(1)))
$(QVM_SO): $(QVM_B)/vdev-%.so: $$(call qvm_obj,$$*) $(QVM_PIC_LIB)
	$(CC) $(QVM_CFLAGS) $(QVM_SO_LDFLAGS) $(call qvm_obj,$*) $(QVM_PIC_LIB) -o $@
$(QVM_B)/pic $(QVM_B)/shim:
	mkdir -p $@

# ---------------------------------------------------------------- harness
# The qvm stand-in is every non-test source under tests/harness/ (hq_qvm.c,
# the driver model, the watchdog service wdt_tests/wdt_hq.c); every harness
# program links all of it. Objects and programs mirror the tests/harness tree
# under $(QVM_B)/harness.
HQ_SRC      := $(sort $(shell find tests/harness -name '*.c' ! -name 'test_*'))
HQ_OBJ      := $(HQ_SRC:tests/harness/%.c=$(QVM_B)/harness/%.o)
HQ_HDRS     := $(sort $(shell find tests/harness -name '*.h')) $(COMMON_HDRS) $(QVM_HDRS)
HQ_TEST_SRC := $(foreach a,$(QVM_ADAPTERS),$(QVM_TESTS_$(a)))
HQ_TESTS    := $(HQ_TEST_SRC:tests/harness/%.c=$(QVM_B)/harness/%)
# A test program under tests/harness that no adapter lists (`make harness` fails on it).
HQ_UNLISTED := $(filter-out $(HQ_TEST_SRC),$(sort $(shell find tests/harness -name 'test_*.c')))
HQ_INC      := $(addprefix -I,$(sort $(patsubst %/,%,$(dir $(HQ_SRC) $(HQ_TEST_SRC)))))
HQ_CFLAGS   := $(CFLAGS_TEST) $(HQ_INC) $(QVM_CPPFLAGS) -pthread
HQ_LIBS     := -rdynamic -ldl -lfdt -lcmocka -pthread

$(HQ_OBJ): $(QVM_B)/harness/%.o: tests/harness/%.c $(HQ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(HQ_CFLAGS) -c $< -o $@
# A harness program may link adapter sources of its own: HQ_LINK_<program> (the
# helpers' own test links qvm_common.c, built with the harness's flags).
HQ_LINK_test_qvm_common := $(QVM_DIR)/qvm_common.c
$(HQ_TESTS): $(QVM_B)/harness/%: tests/harness/%.c $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(HQ_HDRS) $$(HQ_LINK_$$(notdir $$*))
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(HQ_CFLAGS) $< $(HQ_LINK_$(notdir $*)) $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(HQ_LIBS) \
	  $(LDFLAGS_ALL) -o $@

# HQ_RELEASE_SO: a release build of the entropy .so (no sanitizer or coverage
# flags), whose sections and symbols test_qvm_entropy inspects; instrumented
# builds add data of their own. The release adapters are built in their own
# tree, fixed by the first make that reads this file and exported to the
# recursive ones (harness-asan, coverage).
ifndef HQ_RELEASE_B
HQ_RELEASE_B  := $(abspath $(B))/qvm-release
HQ_RELEASE_CC := $(CC)
export HQ_RELEASE_B HQ_RELEASE_CC
endif
HQ_RELEASE_SO := $(HQ_RELEASE_B)/qvm/vdev-svd-virtio-entropy.so
HQ_ENV := $(foreach a,$(QVM_ADAPTERS),$(QVM_ENV_$(a))=$(abspath $(QVM_B)/vdev-$(a).so)) \
          HQ_RELEASE_SO=$(HQ_RELEASE_SO) HQ_BUILD=$(abspath $(QVM_B))

.PHONY: qvm-so qvm-release-so harness-build harness-listed harness harness-asan harness-valgrind harness-qnx8 \
        qvm-sdk-build
qvm-so: $(QVM_SO)
qvm-release-so:
	@$(MAKE) --no-print-directory B=$(HQ_RELEASE_B) CC=$(HQ_RELEASE_CC) OPT="$(RELEASE_OPT)" \
	  VARIANT_CFLAGS= VARIANT_LDFLAGS= qvm-so
harness-listed:
	@if [ -n "$(HQ_UNLISTED)" ]; then \
	  echo "harness: $(HQ_UNLISTED): not in any QVM_TESTS_<adapter> (mk/qvm.mk)"; exit 1; fi
harness-build: harness-listed $(QVM_SO) $(HQ_TESTS) qvm-release-so qvm-sdk-build

# The SDK branch of qvm_api.h (-DSVD_QVM_SDK=1), both generations: every
# adapter source compiled against tests/harness/sdk_stub, whose <qvm/*.h> are
# the file names the branch includes, each pulling in our compat declarations
# (there is no SDK here). It shows that the branch names only those headers
# and that nothing in it stops the build; it does not check the SDK's contents.
QVM_SDK_SRC := $(sort $(foreach a,$(QVM_ADAPTERS),$(QVM_SRC_$(a))))
qvm-sdk-build: $(QVM_SDK_SRC) $(QVM_HDRS)
	@mkdir -p $(QVM_B)/sdk
	@set -e; for g in 7 8; do for f in $(QVM_SDK_SRC); do \
	  $(CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) $(QVM_PIC) -I$(QVM_DIR) -Itests/harness/sdk_stub -DSVD_QVM_SDK=1 \
	    -DSVD_QVM_GEN=$$g -c $$f -o $(QVM_B)/sdk/$$(basename $$f .c)-$$g.o; done; done; \
	echo "qvm-sdk-build: $(words $(QVM_SDK_SRC)) adapter sources compiled through the SDK branch, generations 7 and 8"

harness: harness-build
	$(call run_each,harness,$(HQ_TESTS),$(HQ_ENV),passed)

harness-asan:
	$(MAKE) $(SAN_TREE) harness

# The 8.0 generation: its own tree (and its own release adapters), every
# adapter and harness program rebuilt with QVM_GEN=8.
harness-qnx8:
	@$(MAKE) --no-print-directory B=$(B)/qnx8 QVM_GEN=8 HQ_RELEASE_B=$(abspath $(B))/qnx8/qvm-release \
	  HQ_RELEASE_CC=$(CC) harness

# REQ-ANALYSIS: REQ-QVM-013.e
harness-valgrind: harness-build
	$(call run_each,harness-valgrind,$(HQ_TESTS),$(HQ_ENV) HQ_VALGRIND=1 $(VALGRIND),clean under memcheck (errors and leaks))

ALL_TARGETS += $(QVM_SO)
PKGS        += valgrind libfdt-dev device-tree-compiler libcmocka-dev binutils
