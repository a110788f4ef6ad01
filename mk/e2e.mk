# End-to-end tests: Debian's 6.1 cloud kernel + a busybox initramfs under
# QEMU 7.2 TCG, reading /dev/hwrng from the vhost-user entropy daemon
# (tests/e2e/, requirements in docs/req/e2e.md). Everything is fetched here:
# the kernel with `apt-get download` (unpacked, never installed). The daemon is
# mk/vhost_user.mk's $(VHU_BIN).
PKGS += qemu-system-x86 busybox-static cpio gzip rng-tools5 python3 apt dpkg

E2E_DIR    := $(B)/e2e
E2E_KERNEL := $(E2E_DIR)/kernel/.done
E2E_INITRD := $(E2E_DIR)/initramfs.cpio.gz
# The case names come from e2e.py, asked once per tree (list_once).
$(eval $(call list_once,E2E_CASES,python3 tests/e2e/e2e.py --list))
E2E_RUN     = B=$(B) E2E_DAEMON=$(VHU_BIN) python3 tests/e2e/e2e.py

$(E2E_KERNEL): tests/e2e/fetch-kernel.sh
	tests/e2e/fetch-kernel.sh $(E2E_DIR)/kernel && touch $@

$(E2E_INITRD): tests/e2e/mkinitramfs.sh tests/e2e/guest-init.sh $(E2E_KERNEL)
	tests/e2e/mkinitramfs.sh $(E2E_DIR)/kernel $@

.PHONY: e2e e2e-prep demo-e2e $(E2E_CASES:%=e2e-%)
e2e-prep: $(E2E_KERNEL) $(E2E_INITRD)

# All cases in one run (the rngtest case pools the bytes of the others).
e2e: e2e-prep $$(VHU_BIN)
	$(E2E_RUN)

# One case alone: make e2e-pci, e2e-mmio, e2e-baseline, ...
$(E2E_CASES:%=e2e-%): e2e-%: e2e-prep $$(VHU_BIN)
	$(E2E_RUN) $*

# The guest's own view of our device, then rngtest on what it read.
demo-e2e: e2e-prep $$(VHU_BIN)
	$(E2E_RUN) --demo
