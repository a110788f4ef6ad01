/* Write the SSDT our AML writer (src/core/aml.c) makes for one virtio-mmio
 * device, for `make acpi-check` (tests/acpi/check_acpi.py).
 *
 * usage: aml_ssdt OUT.aml NAME UID BASE SIZE GSI level|edge cca|nocca
 *
 * OUT.aml gets the table (svd_aml_ssdt), OUT.aml.dev the device's Device term
 * alone (svd_aml_virtio_mmio), for a byte comparison with another table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safevdev/aml.h"

static int num(const char *s, uint32_t *v)
{
    char *end = NULL;
    errno = 0;
    const unsigned long long x = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || x > UINT32_MAX) {
        return -1;
    }
    *v = (uint32_t)x;
    return 0;
}

int main(int argc, char **argv)
{
    svd_aml_mmio_dev d;
    memset(&d, 0, sizeof d);
    if (argc != 9 || num(argv[3], &d.uid) || num(argv[4], &d.base) || num(argv[5], &d.size) ||
        num(argv[6], &d.gsi)) {
        fprintf(stderr, "usage: aml_ssdt OUT.aml NAME UID BASE SIZE GSI level|edge cca|nocca\n");
        return 2;
    }
    d.name = argv[2];
    d.trigger = (strcmp(argv[7], "edge") == 0) ? SVD_AML_EDGE : SVD_AML_LEVEL;
    d.coherent = strcmp(argv[8], "cca") == 0;
    static uint8_t buf[SVD_AML_MAX_SSDT];
    size_t len = 0;
    const svd_result r = svd_aml_ssdt(&d, 1u, buf, sizeof buf, &len);
    if (!svd_is_ok(r)) {
        fprintf(stderr, "aml_ssdt: svd_aml_ssdt refused the device (error %d)\n", (int)r.err);
        return 1;
    }
    FILE *f = fopen(argv[1], "wb");
    if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "aml_ssdt: cannot write %s\n", argv[1]);
        return 1;
    }
    static uint8_t dev[SVD_AML_MAX_DEVICE];
    size_t dlen = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s.dev", argv[1]);
    f = NULL;
    if (!svd_is_ok(svd_aml_virtio_mmio(&d, dev, sizeof dev, &dlen)) || (f = fopen(path, "wb")) == NULL ||
        fwrite(dev, 1, dlen, f) != dlen || fclose(f) != 0) {
        fprintf(stderr, "aml_ssdt: cannot write %s\n", path);
        return 1;
    }
    printf("aml_ssdt: %s: %zu bytes, device %s\n", argv[1], len, d.name);
    return 0;
}
