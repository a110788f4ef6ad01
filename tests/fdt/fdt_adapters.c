/* The qvm adapters' GEN_FDT nodes placed into a real platform's tree, for
 * `make fdt-check` (tests/fdt/check_fdt.py).
 *
 * usage: fdt_adapters ENTROPY.so SP805.so QEMU.dtb OUT.dtb
 *
 * Loads both adapters into the harness (tests/harness/hq_qvm.c plays qvm),
 * creates `vdev svd-virtio-entropy loc 0xa000000 intr gic:48` (where QEMU's
 * aarch64 virt machine puts its first virtio-mmio transport, GIC SPI 16) and
 * `vdev svd-wdt-sp805 loc 0x1c0f0000 intr gic:32` (QNX's documented default
 * location), asks each for GEN_FDT, and copies every node they add under the
 * root of QEMU.dtb (`-machine dumpdtb`), replacing QEMU's node of the same
 * name. The result is a tree with QEMU's GIC as interrupt parent, which dtc
 * then checks (interrupt cells against the GIC's #interrupt-cells, phandles,
 * unit addresses). Exit status 0 only if every step worked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "hq.h"

#define TREE_CAP (1u << 20)

static int fail(const char *what)
{
    fprintf(stderr, "fdt_adapters: %s\n", what);
    hq_log_dump();
    return 1;
}

static uint8_t *load(const char *path, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    uint8_t *buf = calloc(1, cap);
    size_t n = (buf != NULL) ? fread(buf, 1, cap, f) : 0u;
    fclose(f);
    if ((buf == NULL) || (n == 0u) || (fdt_check_header(buf) != 0) || (fdt_open_into(buf, buf, (int)cap) != 0)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Copy node @src_off of @src with its properties (no subnodes: the adapters
 * add flat nodes) under the root of @dst, replacing a node of that name. */
static int graft(void *dst, const void *src, int src_off)
{
    const char *name = fdt_get_name(src, src_off, NULL);
    if (name == NULL) {
        return -1;
    }
    const int old = fdt_subnode_offset(dst, 0, name);
    if (old >= 0 && fdt_del_node(dst, old) != 0) {
        return -1;
    }
    const int node = fdt_add_subnode(dst, 0, name);
    if (node < 0) {
        return -1;
    }
    int p;
    fdt_for_each_property_offset(p, src, src_off)
    {
        const char *pname = NULL;
        int len = 0;
        const void *val = fdt_getprop_by_offset(src, p, &pname, &len);
        if ((val == NULL) || (fdt_setprop(dst, node, pname, val, len) != 0)) {
            return -1;
        }
    }
    printf("fdt_adapters: /%s %s\n", name, (old >= 0) ? "replaces QEMU's node" : "added");
    return 0;
}

static int gen(const char *vdev, const char *const *opts, void *tree)
{
    int rc = -1;
    hq_dev *d = hq_dev_new(vdev, opts, &rc);
    if (d == NULL) {
        return fail(vdev);
    }
    static uint8_t blob[8192];
    if (hq_gen_fdt(d, blob, sizeof blob) != 0) {
        hq_dev_free(d);
        return fail("GEN_FDT failed");
    }
    hq_dev_free(d);
    int child;
    fdt_for_each_subnode(child, blob, 0)
    {
        if (graft(tree, blob, child) != 0) {
            return fail("cannot copy a node into the tree");
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        return fail("usage: fdt_adapters ENTROPY.so SP805.so QEMU.dtb OUT.dtb");
    }
    uint8_t *tree = load(argv[3], TREE_CAP);
    if (tree == NULL) {
        return fail("cannot read the QEMU tree");
    }
    int bad = (hq_init(1u << 20) != 0) || (hq_load(argv[1]) != 0) || (hq_load(argv[2]) != 0);
    if (bad) {
        free(tree);
        return fail("cannot load the adapters");
    }
    static const char *const ent[] = { "loc", "0xa000000", "intr", "gic:48", NULL };
    static const char *const sp[] = { "loc", "0x1c0f0000", "intr", "gic:32", NULL };
    bad = gen("svd-virtio-entropy", ent, tree) || gen("svd-wdt-sp805", sp, tree);
    if (!bad && (fdt_pack(tree) == 0)) {
        FILE *f = fopen(argv[4], "wb");
        bad = (f == NULL) || (fwrite(tree, 1, fdt_totalsize(tree), f) != fdt_totalsize(tree));
        bad |= (f != NULL) && (fclose(f) != 0);
    }
    hq_fini();
    free(tree);
    return bad ? fail("cannot write the tree") : 0;
}
