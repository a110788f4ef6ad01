# Watchdog emulation (issue 5): i6300ESB and SP805 engines (unit tests are
# picked up by mk/core.mk), the QEMU qtest reference comparison, the qvm
# adapters and their harness tests.
#
#   make wdt-qtest   same access sequences against QEMU 7.2's i6300esb (qtest +
#                    QMP, TCG with icount) and against our engine: read-backs and
#                    expiry times must match except the listed QEMU deviations
WDT_B := $(B)/wdt

$(WDT_B):
	mkdir -p $@

# Stand-in machine for the comparison: a host program linking the core.
$(WDT_B)/wdt-ref: tests/qtest/wdt_ref.c $(CORE_LIB) | $(WDT_B)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $(HARDEN_CFLAGS) $< $(CORE_LIB) $(HARDEN_LDFLAGS) $(LDFLAGS_ALL) -o $@

.PHONY: wdt-qtest
wdt-qtest: $(WDT_B)/wdt-ref
	python3 tests/qtest/wdt_qtest.py $(WDT_B)/wdt-ref

PKGS          += qemu-system-x86 python3
CHECK_TARGETS += wdt-qtest

# ---------------------------------------------------------------- qvm adapters
# Built like $(QVM_ENTROPY_SO) in mk/qvm.mk (same flags, PIC core, the adapter
# frame and its helpers).
WDT_SP805_SO := $(QVM_B)/vdev-wdt-sp805.so
WDT_ESB_SO   := $(QVM_B)/vdev-wdt-i6300esb.so
WDT_QVM_OBJ  := $(QVM_COMMON_OBJ)

$(WDT_SP805_SO): $(QVM_B)/shim/vdev_wdt_sp805.o $(WDT_QVM_OBJ) $(QVM_PIC_LIB)
	$(CC) $(QVM_CFLAGS) $(QVM_SO_LDFLAGS) $^ -o $@
$(WDT_ESB_SO): $(QVM_B)/shim/vdev_wdt_i6300esb.o $(WDT_QVM_OBJ) $(QVM_PIC_LIB)
	$(CC) $(QVM_CFLAGS) $(QVM_SO_LDFLAGS) $^ -o $@

.PHONY: wdt-so
wdt-so: $(WDT_SP805_SO) $(WDT_ESB_SO)
ALL_TARGETS += $(WDT_SP805_SO) $(WDT_ESB_SO)

# ---------------------------------------------------------------- harness tests
# tests/harness/wdt_tests/: Linux's drivers replayed against the adapters in
# the qvm harness (mk/qvm.mk's HQ_OBJ), plus the harness's watchdog service
# (wdt_hq.c: wdog_bite recorded with the virtual time).
WDT_HQ_DIR   := tests/harness/wdt_tests
WDT_HQ_SRC   := $(sort $(wildcard $(WDT_HQ_DIR)/test_*.c))
WDT_HQ_TESTS := $(WDT_HQ_SRC:$(WDT_HQ_DIR)/%.c=$(WDT_B)/harness/%)
WDT_HQ_CFLAGS := $(HQ_CFLAGS) -I$(WDT_HQ_DIR)

$(WDT_B)/harness:
	mkdir -p $@
$(WDT_B)/harness/wdt_hq.o: $(WDT_HQ_DIR)/wdt_hq.c $(WDT_HQ_DIR)/wdt_hq.h $(QVM_HDRS) | $(WDT_B)/harness
	$(CC) $(CPPFLAGS_ALL) $(WDT_HQ_CFLAGS) -c $< -o $@
$(WDT_B)/harness/test_%: $(WDT_HQ_DIR)/test_%.c $(WDT_B)/harness/wdt_hq.o $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(wildcard tests/harness/*.h) | $(WDT_B)/harness
	$(CC) $(CPPFLAGS_ALL) $(WDT_HQ_CFLAGS) $< $(WDT_B)/harness/wdt_hq.o $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(HQ_LIBS) $(LDFLAGS_ALL) -o $@

WDT_HQ_ENV := HQ_WDT_SP805_SO=$(abspath $(WDT_SP805_SO)) HQ_WDT_ESB_SO=$(abspath $(WDT_ESB_SO))

.PHONY: wdt-harness wdt-harness-valgrind wdt-test
# wdt-test: the name mk/coverage.mk runs under coverage (COV_OPTIONAL).
wdt-test: wdt-harness
wdt-harness: $(WDT_SP805_SO) $(WDT_ESB_SO) $(WDT_HQ_TESTS)
	@set -e; n=0; for t in $(WDT_HQ_TESTS); do echo "--- $$t"; $(WDT_HQ_ENV) $$t; n=$$((n+1)); done; \
	echo "wdt-harness: $$n test programs passed"

wdt-harness-valgrind: $(WDT_SP805_SO) $(WDT_ESB_SO) $(WDT_HQ_TESTS)
	@set -e; n=0; for t in $(WDT_HQ_TESTS); do echo "--- valgrind $$t"; \
	  $(WDT_HQ_ENV) HQ_VALGRIND=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
	    --show-leak-kinds=definite,indirect,possible --error-exitcode=1 $$t; n=$$((n+1)); done; \
	echo "wdt-harness-valgrind: $$n test programs clean (no errors, no leaks)"

PKGS          += valgrind libfdt-dev device-tree-compiler libcmocka-dev
CHECK_TARGETS += wdt-test wdt-harness-valgrind
