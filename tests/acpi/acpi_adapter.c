/* The SSDT the qvm virtio-entropy adapter hands qvm at GEN_ACPI, as qvm
 * would build it, for `make acpi-check` (tests/acpi/check_acpi.py).
 *
 * usage: acpi_adapter ENTROPY.so OUT.aml
 *
 * Loads the adapter into the harness (tests/harness/hq_qvm.c plays qvm),
 * creates `vdev svd-virtio-entropy loc 0xfeb00000 intr ioapic:5` (the window
 * and interrupt the -M pc guest of the check is given), and writes the one
 * table the instance added with acpi_add_table(), assembled as
 * docs/qvm-compat.md reads that call: the header from its arguments, the
 * body after it. Exit status 0 only if exactly one table was added. */
#include <stdint.h>
#include <stdio.h>

#include "hq.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: acpi_adapter ENTROPY.so OUT.aml\n");
        return 2;
    }
    if ((hq_init(1u << 20) != 0) || (hq_load(argv[1]) != 0)) {
        fprintf(stderr, "acpi_adapter: cannot load %s\n", argv[1]);
        return 1;
    }
    static const char *const opts[] = { "loc", "0xfeb00000", "intr", "ioapic:5", "dma", "0x40000000,0x100000", NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", opts, &rc);
    size_t len = 0;
    const uint8_t *t = (hq_acpi_tables() == 1u) ? hq_acpi_table(0, &len) : NULL;
    int bad = (d == NULL) || (t == NULL);
    if (!bad) {
        FILE *f = fopen(argv[2], "wb");
        bad = (f == NULL) || (fwrite(t, 1, len, f) != len);
        bad |= (f != NULL) && (fclose(f) != 0);
    }
    if (bad) {
        fprintf(stderr, "acpi_adapter: no table (instance rc %d, %u tables)\n", rc, hq_acpi_tables());
        hq_log_dump();
    } else {
        printf("acpi_adapter: %s: %zu bytes from the adapter's acpi_add_table()\n", argv[2], len);
    }
    if (d != NULL) {
        hq_dev_free(d);
    }
    hq_fini();
    return bad;
}
