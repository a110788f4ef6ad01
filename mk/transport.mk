# Transport engines: virtio-mmio, virtio-pci modern, FDT node generator.
# Their unit tests are built by mk/core.mk's pattern rule, except test_fdt: it
# checks the generated blobs with an independent reader (libfdt) and with the
# device-tree compiler, so it links -lfdt. This explicit rule overrides the
# pattern rule for that one binary (same inputs and flags plus -lfdt).
PKGS += libfdt-dev device-tree-compiler

$(B)/unit/test_fdt: tests/unit/test_fdt.c $(CORE_LIB) $(COMMON_OBJ) $(wildcard tests/unit/*.h) | $(B)/unit
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -Itests/unit $< $(COMMON_OBJ) $(CORE_LIB) -lcmocka -lfdt $(LDFLAGS_ALL) -o $@
