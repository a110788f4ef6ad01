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
# Built like $(QVM_ENTROPY_SO) in mk/qvm.mk (same flags, PIC core, qvm_common),
# plus the watchdog helper wdt_qvm.o.
WDT_SP805_SO := $(QVM_B)/vdev-wdt-sp805.so
WDT_ESB_SO   := $(QVM_B)/vdev-wdt-i6300esb.so
WDT_QVM_OBJ  := $(QVM_B)/shim/wdt_qvm.o $(QVM_COMMON_OBJ)

$(WDT_SP805_SO): $(QVM_B)/shim/vdev_wdt_sp805.o $(WDT_QVM_OBJ) $(QVM_PIC_LIB)
	$(CC) $(QVM_CFLAGS) $(QVM_SO_LDFLAGS) $^ -o $@
$(WDT_ESB_SO): $(QVM_B)/shim/vdev_wdt_i6300esb.o $(WDT_QVM_OBJ) $(QVM_PIC_LIB)
	$(CC) $(QVM_CFLAGS) $(QVM_SO_LDFLAGS) $^ -o $@

.PHONY: wdt-so
wdt-so: $(WDT_SP805_SO) $(WDT_ESB_SO)
ALL_TARGETS += $(WDT_SP805_SO) $(WDT_ESB_SO)
