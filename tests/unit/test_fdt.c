/* Unit tests of the device-tree node generator (src/core/fdt.c). The blobs
 * are checked by an independent reader (libfdt: fdt_check_header,
 * fdt_path_offset, fdt_getprop) and by the device-tree compiler
 * (`dtc -I dtb -O dts`), never by the generator's own code. Adversarial tests
 * (named test_attack_*) cover every capacity below the needed one and every
 * validation rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "safevdev/fdt.h"

#define BUF 1024u
#define POISON 0xa5u

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static void virtio_node(svd_fdt_node *n)
{
    const uint32_t irq[3] = { 0u, 16u, 4u }; /* GIC: SPI 16, level high */
    assert_true(svd_is_ok(svd_fdt_virtio_mmio(n, 0xa000000u, 0x200u, irq, 3u, 2u, 2u)));
}

static void sp805_node(svd_fdt_node *n)
{
    svd_fdt_node_init(n);
    n->name = "watchdog";
    n->has_unit = true;
    n->unit = 0x1c0f0000u;
    n->compatible[0] = "arm,sp805";
    n->compatible[1] = "arm,primecell";
    n->n_compatible = 2u;
    n->address_cells = 1u;
    n->size_cells = 1u;
    n->reg_addr[0] = 0x1c0f0000u;
    n->reg_size[0] = 0x1000u;
    n->n_reg = 1u;
    n->interrupt_parent = 0x8001u;
    n->interrupts[0] = 0u;
    n->interrupts[1] = 0u;
    n->interrupts[2] = 4u;
    n->n_interrupts = 3u;
    n->clocks[0] = 0x8002u;
    n->clocks[1] = 0x8002u;
    n->n_clocks = 2u;
    n->clock_names[0] = "wdog_clk";
    n->clock_names[1] = "apb_pclk";
    n->n_clock_names = 2u;
    n->dma_coherent = true;
}

static size_t build(const svd_fdt_node *n, uint8_t *buf)
{
    size_t len = 0u;
    memset(buf, POISON, BUF);
    assert_true(svd_is_ok(svd_fdt_blob(n, buf, BUF, &len)));
    assert_int_equal(fdt_check_header(buf), 0);
    assert_int_equal(fdt_totalsize(buf), len);
    assert_int_equal(fdt_version(buf), 17);
    for (size_t i = len; i < BUF; i++) {
        assert_int_equal(buf[i], POISON);
    }
    return len;
}

static const void *prop(const uint8_t *blob, const char *path, const char *name, int *len)
{
    const int off = fdt_path_offset(blob, path);
    assert_true(off >= 0);
    return fdt_getprop(blob, off, name, len);
}

/* REQ: REQ-FDT-001 REQ-FDT-002 */
static void test_virtio_mmio_blob_libfdt(void **state)
{
    (void)state;
    svd_fdt_node n;
    virtio_node(&n);
    uint8_t buf[BUF];
    (void)build(&n, buf);
    int len = 0;
    const uint32_t *c = prop(buf, "/", "#address-cells", &len);
    assert_int_equal(len, 4);
    assert_int_equal(be32(c), 2u);
    c = prop(buf, "/", "#size-cells", &len);
    assert_int_equal(be32(c), 2u);
    const char *s = prop(buf, "/virtio_mmio@a000000", "compatible", &len);
    assert_int_equal(len, (int)sizeof("virtio,mmio"));
    assert_memory_equal(s, "virtio,mmio", sizeof("virtio,mmio"));
    const uint8_t *r = prop(buf, "/virtio_mmio@a000000", "reg", &len);
    assert_int_equal(len, 16);
    assert_int_equal(be32(r), 0u);
    assert_int_equal(be32(r + 4), 0xa000000u);
    assert_int_equal(be32(r + 8), 0u);
    assert_int_equal(be32(r + 12), 0x200u);
    const uint8_t *i = prop(buf, "/virtio_mmio@a000000", "interrupts", &len);
    assert_int_equal(len, 12);
    assert_int_equal(be32(i + 4), 16u);
    assert_int_equal(be32(i + 8), 4u);
    /* absent properties are absent */
    assert_null(prop(buf, "/virtio_mmio@a000000", "clocks", &len));
    assert_null(prop(buf, "/virtio_mmio@a000000", "interrupt-parent", &len));
    assert_null(prop(buf, "/virtio_mmio@a000000", "dma-coherent", &len));
    /* exactly one child under the root */
    const int child = fdt_first_subnode(buf, 0);
    assert_true(child >= 0);
    assert_int_equal(fdt_next_subnode(buf, child), -FDT_ERR_NOTFOUND);
}

/* REQ: REQ-FDT-003 */
static void test_sp805_blob_libfdt(void **state)
{
    (void)state;
    svd_fdt_node n;
    sp805_node(&n);
    uint8_t buf[BUF];
    (void)build(&n, buf);
    const int off = fdt_path_offset(buf, "/watchdog@1c0f0000");
    assert_true(off >= 0);
    assert_int_equal(fdt_stringlist_count(buf, off, "compatible"), 2);
    assert_string_equal(fdt_stringlist_get(buf, off, "compatible", 0, NULL), "arm,sp805");
    assert_string_equal(fdt_stringlist_get(buf, off, "compatible", 1, NULL), "arm,primecell");
    assert_int_equal(fdt_node_check_compatible(buf, off, "arm,primecell"), 0);
    assert_int_equal(fdt_stringlist_count(buf, off, "clock-names"), 2);
    assert_string_equal(fdt_stringlist_get(buf, off, "clock-names", 1, NULL), "apb_pclk");
    int len = 0;
    const uint8_t *r = fdt_getprop(buf, off, "reg", &len);
    assert_int_equal(len, 8);
    assert_int_equal(be32(r), 0x1c0f0000u);
    assert_int_equal(be32(r + 4), 0x1000u);
    const uint8_t *ip = fdt_getprop(buf, off, "interrupt-parent", &len);
    assert_int_equal(len, 4);
    assert_int_equal(be32(ip), 0x8001u);
    const uint8_t *ck = fdt_getprop(buf, off, "clocks", &len);
    assert_int_equal(len, 8);
    assert_int_equal(be32(ck + 4), 0x8002u);
    assert_non_null(fdt_getprop(buf, off, "dma-coherent", &len));
    assert_int_equal(len, 0);
    /* parent cells follow the node's */
    const uint8_t *ac = prop(buf, "/", "#address-cells", &len);
    assert_int_equal(be32(ac), 1u);
}

/* REQ: REQ-FDT-004 */
static void test_reg_cell_layouts(void **state)
{
    (void)state;
    svd_fdt_node n;
    virtio_node(&n);
    n.address_cells = 2u;
    n.size_cells = 0u;
    n.reg_size[0] = 0u; /* MUST be 0 without size cells */
    n.reg_addr[1] = UINT64_C(0x123456789a);
    n.n_reg = 2u;
    uint8_t buf[BUF];
    (void)build(&n, buf);
    int len = 0;
    const uint8_t *r = prop(buf, "/virtio_mmio@a000000", "reg", &len);
    assert_int_equal(len, 16); /* two addresses, no sizes */
    assert_int_equal(be32(r + 8), 0x12u);
    assert_int_equal(be32(r + 12), 0x3456789au);
    /* unit address 0 prints as "@0" */
    n.unit = 0u;
    (void)build(&n, buf);
    assert_true(fdt_path_offset(buf, "/virtio_mmio@0") >= 0);
    /* no unit address at all */
    n.has_unit = false;
    (void)build(&n, buf);
    assert_true(fdt_path_offset(buf, "/virtio_mmio") >= 0);
    /* no reg */
    n.n_reg = 0u;
    (void)build(&n, buf);
    assert_null(prop(buf, "/virtio_mmio", "reg", &len));
}

/* REQ: REQ-FDT-005 */
static void test_prop_iteration_matches_blob(void **state)
{
    (void)state;
    svd_fdt_node n;
    sp805_node(&n);
    uint8_t blob[BUF];
    (void)build(&n, blob);
    const int off = fdt_path_offset(blob, "/watchdog@1c0f0000");
    assert_true(off >= 0);
    const char *want[] = { "compatible", "reg", "interrupt-parent", "interrupts", "clocks", "clock-names",
                           "dma-coherent" };
    uint8_t val[SVD_FDT_MAX_PROP];
    svd_fdt_propval pv;
    uint32_t i = 0u;
    for (;; i++) {
        const svd_result r = svd_fdt_prop(&n, i, val, sizeof(val), &pv);
        if (svd_is_err(r, SVD_ERR_EMPTY)) {
            break;
        }
        assert_true(svd_is_ok(r));
        assert_true(i < 7u);
        assert_string_equal(pv.name, want[i]);
        int len = -1;
        const void *bp = fdt_getprop(blob, off, pv.name, &len);
        assert_non_null(bp);
        assert_int_equal((uint32_t)len, pv.len);
        assert_memory_equal(bp, val, pv.len);
    }
    assert_int_equal(i, 7u);
    /* the worst case fits SVD_FDT_MAX_PROP */
    svd_fdt_node big;
    svd_fdt_node_init(&big);
    big.name = "x";
    static const char s63[] = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk";
    for (uint32_t k = 0u; k < SVD_FDT_MAX_STRINGS; k++) {
        big.compatible[k] = s63;
    }
    big.n_compatible = SVD_FDT_MAX_STRINGS;
    assert_true(svd_is_ok(svd_fdt_prop(&big, 0u, val, sizeof(val), &pv)));
    assert_int_equal(pv.len, SVD_FDT_MAX_PROP);
}

/* REQ: REQ-FDT-005 */
static void test_node_name(void **state)
{
    (void)state;
    svd_fdt_node n;
    virtio_node(&n);
    n.unit = UINT64_C(0xfedcba9876543210);
    char name[64];
    size_t len = 0u;
    assert_true(svd_is_ok(svd_fdt_node_name(&n, name, sizeof(name), &len)));
    assert_string_equal(name, "virtio_mmio@fedcba9876543210");
    assert_int_equal(len, strlen(name));
    assert_int_equal(svd_fdt_node_name(&n, name, len, &len).err, SVD_ERR_NOSPACE); /* no room for NUL */
    assert_true(svd_is_ok(svd_fdt_node_name(&n, name, strlen("virtio_mmio@fedcba9876543210") + 1u, &len)));
    assert_int_equal(svd_fdt_node_name(&n, NULL, 8u, &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_node_name(&n, name, 8u, NULL).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_node_name(NULL, name, 8u, &len).err, SVD_ERR_INVALID_ARG);
}

/* Run dtc on @blob; return its exit status, the dts in @dts (NUL-terminated). */
static int run_dtc(const uint8_t *blob, size_t len, char *dts, size_t cap, char *err, size_t errcap)
{
    char in[] = "/tmp/svd_fdt_in_XXXXXX";
    const int fd = mkstemp(in);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, blob, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o %s.dts %s 2>%s.err", in, in, in);
    const int rc = system(cmd);
    char path[64];
    snprintf(path, sizeof(path), "%s.dts", in);
    FILE *f = fopen(path, "r");
    size_t got = 0u;
    if (f != NULL) {
        got = fread(dts, 1u, cap - 1u, f);
        fclose(f);
    }
    dts[got] = '\0';
    (void)unlink(path);
    snprintf(path, sizeof(path), "%s.err", in);
    f = fopen(path, "r");
    got = 0u;
    if (f != NULL) {
        got = fread(err, 1u, errcap - 1u, f);
        fclose(f);
    }
    err[got] = '\0';
    (void)unlink(path);
    (void)unlink(in);
    return rc;
}

/* dtc may only warn about references into the host tree the node will be
 * grafted into (interrupt-parent / clock phandles); anything else fails. */
static void assert_only_reference_warnings(const char *err)
{
    const char *line = err;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        const size_t n = end != NULL ? (size_t)(end - line) : strlen(line);
        char buf[512];
        const size_t k = n < sizeof(buf) - 1u ? n : sizeof(buf) - 1u;
        memcpy(buf, line, k);
        buf[k] = '\0';
        if (strstr(buf, "Warning (interrupts_property)") == NULL && strstr(buf, "Warning (clocks_property)") == NULL) {
            fail_msg("unexpected dtc output: %s", buf);
        }
        line += n + (end != NULL ? 1u : 0u);
    }
}

/* REQ: REQ-FDT-006 */
static void test_dtc_decompiles_virtio_mmio(void **state)
{
    (void)state;
    svd_fdt_node n;
    virtio_node(&n);
    uint8_t buf[BUF];
    const size_t len = build(&n, buf);
    char dts[4096];
    char err[1024];
    assert_int_equal(run_dtc(buf, len, dts, sizeof(dts), err, sizeof(err)), 0);
    assert_only_reference_warnings(err);
    assert_non_null(strstr(dts, "virtio_mmio@a000000 {"));
    assert_non_null(strstr(dts, "compatible = \"virtio,mmio\";"));
    assert_non_null(strstr(dts, "reg = <0x00 0xa000000 0x00 0x200>;"));
    assert_non_null(strstr(dts, "interrupts = <0x00 0x10 0x04>;"));
}

/* REQ: REQ-FDT-006 */
static void test_dtc_decompiles_sp805(void **state)
{
    (void)state;
    svd_fdt_node n;
    sp805_node(&n);
    uint8_t buf[BUF];
    const size_t len = build(&n, buf);
    char dts[4096];
    char err[1024];
    assert_int_equal(run_dtc(buf, len, dts, sizeof(dts), err, sizeof(err)), 0);
    assert_only_reference_warnings(err);
    /* dtc 1.6 prints a string list as one string with \0 separators */
    assert_non_null(strstr(dts, "compatible = \"arm,sp805\\0arm,primecell\";"));
    assert_non_null(strstr(dts, "clock-names = \"wdog_clk\\0apb_pclk\";"));
    assert_non_null(strstr(dts, "reg = <0x1c0f0000 0x1000>;"));
    assert_non_null(strstr(dts, "clocks = <0x8002 0x8002>;"));
    assert_non_null(strstr(dts, "dma-coherent;"));
}

/* ------------------------------------------------------------ attacks */

/* REQ: REQ-FDT-007 */
static void test_attack_every_short_capacity(void **state)
{
    (void)state;
    svd_fdt_node n;
    sp805_node(&n);
    uint8_t ref[BUF];
    const size_t need = build(&n, ref);
    uint8_t buf[BUF];
    for (size_t cap = 0u; cap < need; cap++) {
        memset(buf, POISON, sizeof(buf));
        size_t len = 12345u;
        assert_int_equal(svd_fdt_blob(&n, buf, cap, &len).err, SVD_ERR_NOSPACE);
        assert_int_equal(len, 12345u);
        for (size_t i = cap; i < sizeof(buf); i++) {
            assert_int_equal(buf[i], POISON); /* not one byte past the capacity */
        }
    }
    size_t len = 0u;
    assert_true(svd_is_ok(svd_fdt_blob(&n, buf, need, &len)));
    assert_int_equal(len, need);
    assert_memory_equal(buf, ref, need);
    /* the property encoder too */
    uint8_t val[SVD_FDT_MAX_PROP + 8u];
    svd_fdt_propval pv;
    memset(val, POISON, sizeof(val));
    assert_int_equal(svd_fdt_prop(&n, 0u, val, 10u, &pv).err, SVD_ERR_NOSPACE); /* "arm,sp805\0arm,primecell\0" */
    for (size_t i = 10u; i < sizeof(val); i++) {
        assert_int_equal(val[i], POISON);
    }
}

/* REQ: REQ-FDT-008 */
static void test_attack_invalid_names(void **state)
{
    (void)state;
    const char *bad[] = { "", "1abc", "a@b", "a b", "a/b", "a\tb", "a~b", "a{", "\xc3\xa9t\xc3\xa9",
                          "abcdefghijklmnopqrstuvwxyzabcdef" /* 32 characters */ };
    uint8_t buf[BUF];
    size_t len = 0u;
    for (size_t i = 0u; i < sizeof(bad) / sizeof(bad[0]); i++) {
        svd_fdt_node n;
        virtio_node(&n);
        n.name = bad[i];
        assert_int_equal(svd_fdt_node_check(&n).err, SVD_ERR_INVALID_ARG);
        assert_int_equal(svd_fdt_blob(&n, buf, sizeof(buf), &len).err, SVD_ERR_INVALID_ARG);
    }
    svd_fdt_node n;
    virtio_node(&n);
    n.name = NULL;
    assert_int_equal(svd_fdt_node_check(&n).err, SVD_ERR_INVALID_ARG);
    n.name = "abcdefghijklmnopqrstuvwxyzabcde"; /* 31: the longest allowed */
    assert_true(svd_is_ok(svd_fdt_node_check(&n)));
    n.name = "Aa0,._+-";
    assert_true(svd_is_ok(svd_fdt_node_check(&n)));
}

/* REQ: REQ-FDT-008 */
static void test_attack_invalid_strings_and_counts(void **state)
{
    (void)state;
    static const char s64[] = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl";
    svd_fdt_node n;
    svd_fdt_node ok;
    sp805_node(&ok);
    assert_true(svd_is_ok(svd_fdt_node_check(&ok)));
#define EXPECT_BAD(mutation)                                                  \
    do {                                                                      \
        n = ok;                                                               \
        mutation;                                                             \
        assert_int_equal(svd_fdt_node_check(&n).err, SVD_ERR_INVALID_ARG);   \
    } while (0)
    EXPECT_BAD(n.n_compatible = 0u);
    EXPECT_BAD(n.n_compatible = SVD_FDT_MAX_STRINGS + 1u);
    EXPECT_BAD(n.compatible[1] = NULL);
    EXPECT_BAD(n.compatible[0] = "");
    EXPECT_BAD(n.compatible[0] = s64);
    EXPECT_BAD(n.compatible[0] = "arm,\x01");
    EXPECT_BAD(n.n_clock_names = SVD_FDT_MAX_STRINGS + 1u);
    EXPECT_BAD(n.clock_names[1] = NULL);
    EXPECT_BAD(n.address_cells = 0u);
    EXPECT_BAD(n.address_cells = 3u);
    EXPECT_BAD(n.size_cells = 3u);
    EXPECT_BAD(n.n_reg = SVD_FDT_MAX_REG + 1u);
    EXPECT_BAD(n.reg_addr[0] = UINT64_C(0x100000000));
    EXPECT_BAD(n.reg_size[0] = UINT64_C(0x100000000));
    EXPECT_BAD((n.size_cells = 0u, n.reg_size[0] = 1u));
    EXPECT_BAD(n.n_interrupts = SVD_FDT_MAX_CELLS + 1u);
    EXPECT_BAD(n.n_clocks = SVD_FDT_MAX_CELLS + 1u);
#undef EXPECT_BAD
    assert_int_equal(svd_fdt_node_check(NULL).err, SVD_ERR_INVALID_ARG);
    /* size 0 with size_cells 0 is fine */
    n = ok;
    n.size_cells = 0u;
    n.reg_size[0] = 0u;
    assert_true(svd_is_ok(svd_fdt_node_check(&n)));
}

/* REQ: REQ-FDT-008 */
static void test_attack_null_arguments(void **state)
{
    (void)state;
    svd_fdt_node n;
    virtio_node(&n);
    uint8_t buf[BUF];
    size_t len = 0u;
    svd_fdt_propval pv;
    assert_int_equal(svd_fdt_blob(NULL, buf, sizeof(buf), &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_blob(&n, NULL, sizeof(buf), &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_blob(&n, buf, sizeof(buf), NULL).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_prop(NULL, 0u, buf, sizeof(buf), &pv).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_prop(&n, 0u, NULL, sizeof(buf), &pv).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_prop(&n, 0u, buf, sizeof(buf), NULL).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_prop(&n, 3u, buf, sizeof(buf), &pv).err, SVD_ERR_EMPTY); /* 3 props only */
    assert_int_equal(svd_fdt_prop(&n, UINT32_MAX, buf, sizeof(buf), &pv).err, SVD_ERR_EMPTY);
    const uint32_t irq[1] = { 5u };
    svd_fdt_node m;
    virtio_node(&m);
    assert_int_equal(svd_fdt_virtio_mmio(NULL, 0u, 0u, irq, 1u, 2u, 2u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_virtio_mmio(&m, 0u, 0u, NULL, 1u, 2u, 2u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_virtio_mmio(&m, 0u, 0u, irq, SVD_FDT_MAX_CELLS + 1u, 2u, 2u).err,
                     SVD_ERR_INVALID_ARG);
    assert_int_equal(m.reg_addr[0], 0xa000000u); /* untouched by the refused calls */
    assert_true(svd_is_ok(svd_fdt_virtio_mmio(&m, 0x1000u, 0x200u, NULL, 0u, 1u, 1u)));
    assert_int_equal(m.n_interrupts, 0u);
    (void)build(&m, buf);
    int plen = 0;
    assert_null(prop(buf, "/virtio_mmio@1000", "interrupts", &plen));
}

/* The qvm `intr gic:N` number is the GIC interrupt ID: 32.. are SPIs, 16..31
 * PPIs; every adapter goes through svd_fdt_gic_irq(). */
/* REQ: REQ-FDT-009 */
/* FM: FM-FDT-001 */
static void test_gic_irq_spi_ppi_numbering(void **state)
{
    (void)state;
    svd_fdt_node n;
    svd_fdt_node_init(&n);
    assert_true(svd_is_ok(svd_fdt_gic_irq(&n, 42u, SVD_IRQ_LEVEL_HIGH, 0u)));
    assert_int_equal(n.n_interrupts, 3u);
    assert_int_equal(n.interrupts[0], 0u);
    assert_int_equal(n.interrupts[1], 10u);
    assert_int_equal(n.interrupts[2], 4u);
    assert_int_equal(n.interrupt_parent, 0u);
    assert_true(svd_is_ok(svd_fdt_gic_irq(&n, 32u, SVD_IRQ_EDGE_RISING, 0x8001u)));
    assert_int_equal(n.interrupts[0], 0u);
    assert_int_equal(n.interrupts[1], 0u);
    assert_int_equal(n.interrupts[2], 1u);
    assert_int_equal(n.interrupt_parent, 0x8001u);
    assert_true(svd_is_ok(svd_fdt_gic_irq(&n, SVD_GIC_LAST_SPI, SVD_IRQ_LEVEL_HIGH, 0u)));
    assert_int_equal(n.interrupts[1], 987u);
    assert_true(svd_is_ok(svd_fdt_gic_irq(&n, 31u, SVD_IRQ_LEVEL_HIGH, 0u)));
    assert_int_equal(n.interrupts[0], 1u);
    assert_int_equal(n.interrupts[1], 15u);
    assert_true(svd_is_ok(svd_fdt_gic_irq(&n, 16u, SVD_IRQ_LEVEL_HIGH, 0u)));
    assert_int_equal(n.interrupts[0], 1u);
    assert_int_equal(n.interrupts[1], 0u);
    /* gic:32 and gic:0 never meet: 0 is an SGI and refused. */
    svd_fdt_node m;
    svd_fdt_node_init(&m);
    assert_true(svd_is_ok(svd_fdt_gic_irq(&m, 33u, SVD_IRQ_LEVEL_HIGH, 0u)));
    assert_int_equal(svd_fdt_gic_irq(&m, 0u, SVD_IRQ_LEVEL_HIGH, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_gic_irq(&m, 15u, SVD_IRQ_LEVEL_HIGH, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_gic_irq(&m, SVD_GIC_LAST_SPI + 1u, SVD_IRQ_LEVEL_HIGH, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_gic_irq(&m, 40u, (svd_irq_trigger)2, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_fdt_gic_irq(NULL, 40u, SVD_IRQ_LEVEL_HIGH, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(m.interrupts[1], 1u); /* untouched by the refused calls */
    assert_int_equal(m.n_interrupts, 3u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtio_mmio_blob_libfdt),
        cmocka_unit_test(test_sp805_blob_libfdt),
        cmocka_unit_test(test_reg_cell_layouts),
        cmocka_unit_test(test_prop_iteration_matches_blob),
        cmocka_unit_test(test_node_name),
        cmocka_unit_test(test_dtc_decompiles_virtio_mmio),
        cmocka_unit_test(test_dtc_decompiles_sp805),
        cmocka_unit_test(test_attack_every_short_capacity),
        cmocka_unit_test(test_attack_invalid_names),
        cmocka_unit_test(test_attack_invalid_strings_and_counts),
        cmocka_unit_test(test_attack_null_arguments),
        cmocka_unit_test(test_gic_irq_spi_ppi_numbering),
    };
    return cmocka_run_group_tests_name("fdt", tests, NULL, NULL);
}
