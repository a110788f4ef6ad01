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
	python3 tests/fdt/check_fdt.py $(FDT_TOOL) $(QVM_B)/vdev-svd-virtio-entropy.so $(QVM_B)/vdev-svd-wdt-sp805.so $(FDT_B)

#   make acpi-check  our AML (src/core/aml.c) three ways: iasl round trip;
#                    equal to QEMU 7.2 microvm's DSDT node for the same
#                    device (read in a Linux guest); a Linux guest on -M pc
#                    given the SSDT the qvm adapter hands acpi_add_table()
#                    (built as qvm would, tests/acpi/acpi_adapter.c) enumerates
#                    the device (tests/acpi/check_acpi.py).
#                    The guests use mk/e2e.mk's kernel and their own initramfs.
PKGS += acpica-tools qemu-system-x86 busybox-static cpio gzip

ACPI_B      := $(B)/acpi
ACPI_TOOL   := $(ACPI_B)/aml_ssdt
ACPI_QVM    := $(ACPI_B)/acpi_adapter
ACPI_INITRD := $(ACPI_B)/initramfs.cpio.gz
ACPI_MODS   := virtio_ring virtio virtio_mmio virtio-rng

$(ACPI_TOOL): tests/acpi/aml_ssdt.c $(CORE_LIB) $(API_HDRS) | $(ACPI_B)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $< $(CORE_LIB) $(LDFLAGS_ALL) -o $@
$(ACPI_QVM): tests/acpi/acpi_adapter.c $$(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $$(HQ_HDRS) | $(ACPI_B)
	$(CC) $(CPPFLAGS_ALL) $(HQ_CFLAGS) $< $(HQ_OBJ) $(COMMON_OBJ) $(CORE_LIB) $(HQ_LIBS) $(LDFLAGS_ALL) -o $@
$(ACPI_INITRD): tests/acpi/guest-init.sh tests/e2e/mkinitramfs.sh $$(E2E_KERNEL) | $(ACPI_B)
	E2E_INIT=tests/acpi/guest-init.sh E2E_MODULES="$(ACPI_MODS)" tests/e2e/mkinitramfs.sh $(E2E_DIR)/kernel $@
$(ACPI_B):
	mkdir -p $@

.PHONY: acpi-check
acpi-check: $(ACPI_TOOL) $(ACPI_QVM) $$(QVM_SO) $(ACPI_INITRD)
	python3 tests/acpi/check_acpi.py $(abspath $(ACPI_TOOL)) $(abspath $(E2E_DIR))/kernel/vmlinuz \
	  $(abspath $(ACPI_INITRD)) $(ACPI_B)/run $(abspath $(ACPI_QVM)) $(abspath $(QVM_B))/vdev-svd-virtio-entropy.so
