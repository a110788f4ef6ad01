/* Replace one virtio-mmio node of a device tree by the one the qvm
 * virtio-entropy adapter writes at GEN_FDT, for the aarch64 guest run
 * (tests/e2e/e2e_aarch64.py).
 *
 * usage: fdt_graft IN.dtb OUT.dtb BASE SIZE SPI PROPS.txt
 *
 * IN.dtb is the tree QEMU gives a -M virt guest (-machine dumpdtb). The node
 * for the transport at BASE (SIZE bytes, GIC SPI number SPI) is built with
 * the calls and arguments the adapter's GEN_FDT makes for `loc BASE intr
 * gic:<32 + SPI>` (src/shim/qvm/vdev_entropy.c): svd_fdt_virtio_mmio(), then
 * svd_fdt_gic_irq() level-high with no interrupt-parent (the node inherits
 * the root's, as QEMU's does), dma-coherent; `make fdt-check` compares the
 * adapter's own node with QEMU's the same way. It is encoded with
 * svd_fdt_blob() and checked:
 *   - the blob passes libfdt's fdt_check_full(), and its node's properties
 *     are byte for byte what svd_fdt_prop() gives (the two outputs agree);
 *   - it has exactly QEMU's properties, each with QEMU's bytes but
 *     interrupts, whose trigger cell is ours (4, level-high: the adapter
 *     drives a level) where QEMU writes 1 (edge-rising); the type, SPI
 *     number and cell count are QEMU's (so the guest can tell the nodes
 *     apart by that one cell).
 * Then QEMU's node is deleted and ours, copied from the blob, takes its place.
 * PROPS.txt gets one line per property, "qemu NAME HEX" and "ours NAME HEX",
 * for the host to compare with what the guest reads back from
 * /sys/firmware/devicetree. Exit status 0 only if every check held. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "safevdev/fdt.h"

#define GIC_SPI_BASE 32u  /* GIC interrupt ID of SPI 0 (`intr gic:N` names the ID) */
#define IRQ_EDGE_RISING 1u /* third cell: IRQ_TYPE_EDGE_RISING, as QEMU's virt writes it */
#define IRQ_LEVEL_HIGH 4u  /* third cell: IRQ_TYPE_LEVEL_HIGH, what the adapter writes */
#define SLACK 4096

static int fail(const char *what)
{
    fprintf(stderr, "fdt_graft: %s\n", what);
    return 1;
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    void *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    *len = (n > 0) ? (size_t)n : 0u;
    return buf;
}

static void put_hex(FILE *out, const char *who, const char *name, const void *val, int len)
{
    const uint8_t *b = val;
    fprintf(out, "%s %s ", who, name);
    for (int i = 0; i < len; i++) {
        fprintf(out, "%02x", b[i]);
    }
    fputc('\n', out);
}

static uint64_t parse_u64(const char *s, int *bad)
{
    char *end = NULL;
    errno = 0;
    const unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0') {
        *bad = 1;
    }
    return (uint64_t)v;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        return fail("usage: fdt_graft IN.dtb OUT.dtb BASE SIZE SPI PROPS.txt");
    }
    int bad = 0;
    const uint64_t base = parse_u64(argv[3], &bad);
    const uint64_t size = parse_u64(argv[4], &bad);
    const uint64_t spi = parse_u64(argv[5], &bad);
    if (bad != 0 || spi > UINT32_MAX) {
        return fail("BASE, SIZE and SPI must be numbers");
    }
    size_t in_len = 0;
    void *in = read_file(argv[1], &in_len);
    if (in == NULL || fdt_check_full(in, in_len) != 0) {
        return fail("IN.dtb unreadable or not a valid device tree");
    }

    /* The node as our writer describes it, with the root's cell sizes. */
    const int acells = fdt_address_cells(in, 0);
    const int scells = fdt_size_cells(in, 0);
    if (acells < 1 || scells < 0 || spi > UINT32_MAX - GIC_SPI_BASE) {
        return fail("IN.dtb: root has no #address-cells/#size-cells, or SPI out of range");
    }
    svd_fdt_node n;
    if (!svd_is_ok(svd_fdt_virtio_mmio(&n, base, size, NULL, 0u, (uint32_t)acells, (uint32_t)scells)) ||
        !svd_is_ok(svd_fdt_gic_irq(&n, GIC_SPI_BASE + (uint32_t)spi, SVD_IRQ_LEVEL_HIGH, 0u))) {
        return fail("our writer refused the adapter's node");
    }
    n.dma_coherent = true;

    char name[SVD_FDT_MAX_NAME + 24];
    size_t name_len = 0;
    uint8_t blob[1024];
    size_t blob_len = 0;
    if (!svd_is_ok(svd_fdt_node_name(&n, name, sizeof name, &name_len)) ||
        !svd_is_ok(svd_fdt_blob(&n, blob, sizeof blob, &blob_len))) {
        return fail("our writer refused the node");
    }
    if (fdt_check_full(blob, blob_len) != 0) {
        return fail("our blob fails libfdt's fdt_check_full");
    }
    const int ours = fdt_subnode_offset(blob, 0, name);
    char path[sizeof name + 1];
    snprintf(path, sizeof path, "/%s", name);
    const int qemu = fdt_path_offset(in, path);
    if (ours < 0 || qemu < 0) {
        return fail("node missing from our blob or from IN.dtb");
    }

    FILE *props = fopen(argv[6], "w");
    if (props == NULL) {
        return fail("cannot write PROPS.txt");
    }
    int errors = 0;
    /* Ours, property by property: equal to svd_fdt_prop(), and to QEMU's. */
    uint32_t count = 0;
    int off;
    fdt_for_each_property_offset(off, blob, ours)
    {
        const char *pname = NULL;
        int len = 0;
        const void *val = fdt_getprop_by_offset(blob, off, &pname, &len);
        uint8_t enc[SVD_FDT_MAX_PROP];
        svd_fdt_propval pv;
        if (!svd_is_ok(svd_fdt_prop(&n, count, enc, sizeof enc, &pv)) || strcmp(pv.name, pname) != 0 ||
            pv.len != (uint32_t)len || memcmp(enc, val, (size_t)len) != 0) {
            fprintf(stderr, "fdt_graft: %s: svd_fdt_blob and svd_fdt_prop disagree\n", pname);
            errors++;
        }
        count++;
        put_hex(props, "ours", pname, val, len);
        int qlen = 0;
        const void *qval = fdt_getprop(in, qemu, pname, &qlen);
        if (strcmp(pname, "interrupts") == 0) {
            /* QEMU's cells with our trigger: the only difference allowed */
            const fdt32_t *q = qval;
            const fdt32_t *o = val;
            const int same = (qval != NULL) && (qlen == 12) && (len == 12) && (q[0] == o[0]) && (q[1] == o[1]) &&
                             (fdt32_to_cpu(q[2]) == IRQ_EDGE_RISING) && (fdt32_to_cpu(o[2]) == IRQ_LEVEL_HIGH);
            printf("fdt_graft: %s: interrupts: QEMU's type and number, trigger %s (QEMU's edge-rising 1, ours "
                   "level-high 4)\n", name, same ? "differs as expected" : "WRONG");
            errors += same ? 0 : 1;
        } else if (qval == NULL || qlen != len || memcmp(qval, val, (size_t)len) != 0) {
            fprintf(stderr, "fdt_graft: %s: %s differs from QEMU's\n", name, pname);
            errors++;
        } else {
            printf("fdt_graft: %s: %s: %d bytes, the same as QEMU's\n", name, pname, len);
        }
    }
    svd_fdt_propval extra;
    uint8_t scratch[SVD_FDT_MAX_PROP];
    if (svd_fdt_prop(&n, count, scratch, sizeof scratch, &extra).err != SVD_ERR_EMPTY) {
        fprintf(stderr, "fdt_graft: svd_fdt_prop has more properties than the blob\n");
        errors++;
    }
    fdt_for_each_property_offset(off, in, qemu)
    {
        const char *pname = NULL;
        int len = 0;
        const void *val = fdt_getprop_by_offset(in, off, &pname, &len);
        put_hex(props, "qemu", pname, val, len);
        if (fdt_getprop(blob, ours, pname, NULL) == NULL) {
            fprintf(stderr, "fdt_graft: %s: QEMU's %s is missing from ours\n", name, pname);
            errors++;
        }
    }
    fclose(props);
    if (errors != 0) {
        return fail("checks failed");
    }

    /* Graft: QEMU's node out, ours in. */
    const int out_len = (int)fdt_totalsize(in) + SLACK;
    void *out = malloc((size_t)out_len);
    if (out == NULL || fdt_open_into(in, out, out_len) != 0) {
        return fail("fdt_open_into failed");
    }
    int node = fdt_path_offset(out, path);
    if (node < 0 || fdt_del_node(out, node) != 0 || (node = fdt_add_subnode(out, 0, name)) < 0) {
        return fail("could not replace the node");
    }
    fdt_for_each_property_offset(off, blob, ours)
    {
        const char *pname = NULL;
        int len = 0;
        const void *val = fdt_getprop_by_offset(blob, off, &pname, &len);
        if (fdt_setprop(out, node, pname, val, len) != 0) {
            return fail("fdt_setprop failed");
        }
    }
    if (fdt_pack(out) != 0 || fdt_check_full(out, fdt_totalsize(out)) != 0) {
        return fail("the grafted tree is not valid");
    }
    FILE *f = fopen(argv[2], "wb");
    if (f == NULL || fwrite(out, 1, fdt_totalsize(out), f) != fdt_totalsize(out) || fclose(f) != 0) {
        return fail("cannot write OUT.dtb");
    }
    printf("fdt_graft: %s replaced by the adapter's node (%" PRIu32 " properties, blob %zu bytes): %s\n", path,
           count, blob_len, argv[2]);
    free(out);
    free(in);
    return 0;
}
