# Transport engines: virtio-mmio, virtio-pci modern, FDT node generator. Their
# unit tests are mk/core.mk's; test_fdt also checks the generated blobs with an
# independent reader (libfdt) and with the device-tree compiler.
UNIT_LIBS_test_fdt := -lfdt
PKGS += libfdt-dev device-tree-compiler
