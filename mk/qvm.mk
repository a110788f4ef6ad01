# QNX qvm adapters (vdev-*.so) and the host harness that plays qvm.
#
#   make qvm-so            build $(B)/qvm/vdev-virtio-entropy.so
#   make harness           build and run every harness test (cmocka)
#   make harness-valgrind  the same under valgrind --leak-check=full --error-exitcode=1
#
# The .so is built like a QNX vdev: -fPIC -shared, RELRO + BIND_NOW, hidden
# visibility (nothing exported but what the constructor registers). The core
# is recompiled position-independent for it ($(B)/qvm/pic), from the same
# sources and flags as $(CORE_LIB) plus -fPIC. Compat headers are used (no
# QNX SDK on the host); the harness provides the qvm functions, exported to
# the dlopen()ed adapter with -rdynamic.
#
# Another adapter (e.g. a watchdog vdev-wdt-*.so) is its device table (one
# object) linked with $(QVM_COMMON_OBJ) (the adapter frame: factory, callbacks,
# options, effects; and its helpers: dma windows, clock/timer, irq, vCPU
# transfer) and $(QVM_PIC_LIB), with $(QVM_CFLAGS) and $(QVM_SO_LDFLAGS), and
# its harness tests are tests/harness/test_*.c (each gets HQ_* paths in env).
QVM_B        := $(B)/qvm
QVM_CFLAGS   := $(CFLAGS_SHIM) -fPIC -fvisibility=hidden -Isrc/shim/qvm -DSVD_QVM_SDK=0
QVM_SO_LDFLAGS := -shared -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack $(LDFLAGS_ALL)
QVM_PIC_OBJ  := $(CORE_SRC:src/core/%.c=$(QVM_B)/pic/%.o)
QVM_PIC_LIB  := $(QVM_B)/libsvdcore_pic.a
QVM_COMMON_OBJ := $(QVM_B)/shim/qvm_frame.o $(QVM_B)/shim/qvm_common.o
QVM_HDRS     := $(wildcard src/shim/qvm/*.h src/shim/qvm/compat/*.h include/safevdev/*.h)
QVM_ENTROPY_SO := $(QVM_B)/vdev-virtio-entropy.so

$(QVM_B)/pic/%.o: src/core/%.c $(wildcard include/safevdev/*.h src/core/*.h) | $(QVM_B)/pic
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_CORE) -fPIC -fvisibility=hidden -c $< -o $@
$(QVM_PIC_LIB): $(QVM_PIC_OBJ)
	rm -f $@ && ar rcs $@ $^
$(QVM_B)/shim/%.o: src/shim/qvm/%.c $(QVM_HDRS) | $(QVM_B)/shim
	$(CC) $(CPPFLAGS_ALL) $(QVM_CFLAGS) -c $< -o $@
$(QVM_ENTROPY_SO): $(QVM_B)/shim/vdev_entropy.o $(QVM_COMMON_OBJ) $(QVM_PIC_LIB)
	$(CC) $(QVM_CFLAGS) $(QVM_SO_LDFLAGS) $(QVM_B)/shim/vdev_entropy.o $(QVM_COMMON_OBJ) $(QVM_PIC_LIB) -o $@
$(QVM_B)/pic $(QVM_B)/shim $(QVM_B)/harness:
	mkdir -p $@

# ---------------------------------------------------------------- harness
HQ_SRC  := $(filter-out tests/harness/test_%.c,$(sort $(wildcard tests/harness/*.c)))
HQ_OBJ  := $(HQ_SRC:tests/harness/%.c=$(QVM_B)/harness/%.o)
HQ_TEST_SRC := $(sort $(wildcard tests/harness/test_*.c))
HQ_TESTS := $(HQ_TEST_SRC:tests/harness/%.c=$(QVM_B)/harness/%)
HQ_CFLAGS := $(CFLAGS_TEST) -Itests/harness -Isrc/shim/qvm -DSVD_QVM_SDK=0 -pthread
HQ_LIBS := -rdynamic -ldl -lfdt -lcmocka -pthread

$(QVM_B)/harness/%.o: tests/harness/%.c $(wildcard tests/harness/*.h tests/common/*.h) $(QVM_HDRS) | $(QVM_B)/harness
	$(CC) $(CPPFLAGS_ALL) $(HQ_CFLAGS) -c $< -o $@
$(QVM_B)/harness/test_%: tests/harness/test_%.c $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(wildcard tests/harness/*.h) | $(QVM_B)/harness
	$(CC) $(CPPFLAGS_ALL) $(HQ_CFLAGS) $< $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(HQ_LIBS) $(LDFLAGS_ALL) -o $@

.PHONY: qvm-so harness harness-build harness-valgrind
qvm-so: $(QVM_ENTROPY_SO)
harness-build: $(QVM_ENTROPY_SO) $(HQ_TESTS)

# Each test program gets the .so path and the build dir in the environment.
# HQ_RELEASE_SO: a release build of the .so (no sanitizer/coverage flags), whose
# sections and symbols the tests inspect, with the watchdog .so files beside it
# (the same checks run on them); instrumented builds add data of their
# own. It is built in its own tree, fixed by the first make that reads this
# file and exported to the recursive ones (harness-asan, coverage).
ifndef HQ_RELEASE_B
HQ_RELEASE_B  := $(abspath $(B))/qvm-release
HQ_RELEASE_CC := $(CC)
export HQ_RELEASE_B HQ_RELEASE_CC
endif
HQ_RELEASE_SO := $(HQ_RELEASE_B)/qvm/vdev-virtio-entropy.so
.PHONY: qvm-release-so
qvm-release-so:
	@$(MAKE) --no-print-directory B=$(HQ_RELEASE_B) CC=$(HQ_RELEASE_CC) OPT="-O2 -g" \
	  VARIANT_CFLAGS= VARIANT_LDFLAGS= qvm-so wdt-so
harness-build: qvm-release-so
HQ_ENV := HQ_ENTROPY_SO=$(abspath $(QVM_ENTROPY_SO)) HQ_RELEASE_SO=$(HQ_RELEASE_SO) HQ_BUILD=$(abspath $(QVM_B))
harness: harness-build
	@set -e; n=0; for t in $(HQ_TESTS); do echo "--- $$t"; $(HQ_ENV) $$t; n=$$((n+1)); done; \
	echo "harness: $$n test programs passed"

harness-valgrind: harness-build
	@set -e; n=0; for t in $(HQ_TESTS); do echo "--- valgrind $$t"; \
	  $(HQ_ENV) HQ_VALGRIND=1 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 $$t; n=$$((n+1)); done; \
	echo "harness-valgrind: $$n test programs clean (no errors, no leaks)"

ALL_TARGETS   += $(QVM_ENTROPY_SO)
PKGS          += valgrind libfdt-dev device-tree-compiler libcmocka-dev binutils
CHECK_TARGETS += harness harness-valgrind

# The harness again with ASan+UBSan (clang, own build tree): the adapter .so and
# the harness are both instrumented.
.PHONY: harness-asan
harness-asan:
	$(MAKE) --no-print-directory B=$(B)/asan CC=clang OPT="-O1 -g" \
	  VARIANT_CFLAGS="$(SAN_FLAGS)" VARIANT_LDFLAGS="$(SAN_FLAGS)" harness
CHECK_TARGETS += harness-asan
