# Watchdog engines (i6300ESB, SP805) against QEMU. Their unit tests are
# mk/core.mk's; their qvm adapters and harness tests are adapters in mk/qvm.mk.
#   make wdt-qtest   the same access sequences against QEMU 7.2's i6300esb (qtest +
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

PKGS += qemu-system-x86 python3
