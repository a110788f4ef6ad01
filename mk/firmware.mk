# Discovery: the firmware descriptions our adapters hand a guest, checked
# against real ones (tests/fdt/, tests/acpi/).
#   make fdt-check   the qvm adapters' GEN_FDT nodes grafted into QEMU 7.2's
#                    aarch64 virt tree: dtc warnings are errors, the virtio-mmio
#                    node equals QEMU's (differences explained), the SP805 node
#                    has the arm,sp805 binding's shape (tests/fdt/check_fdt.py)
PKGS += device-tree-compiler libfdt-dev qemu-system-arm python3

FDT_B     := $(B)/fdt
FDT_TOOL  := $(FDT_B)/fdt_adapters

$(FDT_TOOL): tests/fdt/fdt_adapters.c $$(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $$(HQ_HDRS) | $(FDT_B)
	$(CC) $(CPPFLAGS_ALL) $(HQ_CFLAGS) $< $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(HQ_LIBS) $(LDFLAGS_ALL) -o $@
$(FDT_B):
	mkdir -p $@

.PHONY: fdt-check
fdt-check: $(FDT_TOOL) $$(QVM_SO)
	python3 tests/fdt/check_fdt.py $(FDT_TOOL) $(QVM_B)/vdev-virtio-entropy.so $(QVM_B)/vdev-wdt-sp805.so $(FDT_B)
