/* libFuzzer target: the firmware-description writers (AML, FDT interrupt
 * specifier) on arbitrary host-side inputs: whatever a configuration file can
 * put into `loc` and `intr`, and any buffer capacity.
 *
 * Input: u8 device count n (folded into 1..SVD_AML_MAX_DEVS + 1), u16 capacity,
 * then per device: 4 name bytes, u32 uid, base, size, gsi, u8 flags
 * (bit 0 edge, bit 1 coherent, bits 2-3 a bad trigger value); then u32 intid,
 * u8 trigger, u32 phandle for svd_fdt_gic_irq.
 * Invariants: a result is OK, INVALID_ARG or NOSPACE; OK implies the table
 * fits the capacity, its header length is the returned length, its bytes sum
 * to zero and every device term alone fits SVD_AML_MAX_DEVICE; no call writes
 * a byte past the capacity (poison); a capacity of SVD_AML_MAX_SSDT never gets
 * NOSPACE; the GIC specifier is 3 cells of a PPI/SPI exactly for 16..1019. */
#include <string.h>

#include "fuzz_common.h"
#include "safevdev/aml.h"
#include "safevdev/fdt.h"

#define POISON 0x5au

static uint8_t g_buf[SVD_AML_MAX_SSDT + 64u];

static void check_poison(size_t from)
{
    for (size_t i = from; i < sizeof g_buf; i++) {
        FZ_CHECK(g_buf[i] == POISON);
    }
}

/* REQ: REQ-ACPI-007 REQ-FDT-009 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    static svd_aml_mmio_dev devs[SVD_AML_MAX_DEVS + 1u];
    static char names[SVD_AML_MAX_DEVS + 1u][5];
    const uint32_t n = 1u + (uint32_t)(fz_u8(&in) % (SVD_AML_MAX_DEVS + 1u));
    const size_t cap = fz_u16(&in) % (SVD_AML_MAX_SSDT + 1u);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < 4u; k++) {
            names[i][k] = (char)fz_u8(&in);
        }
        names[i][4] = '\0';
        devs[i].name = names[i];
        devs[i].uid = fz_u32(&in);
        devs[i].base = fz_u32(&in);
        devs[i].size = fz_u32(&in);
        devs[i].gsi = fz_u32(&in);
        const uint8_t f = fz_u8(&in);
        devs[i].trigger = (svd_aml_trigger)((f & 1u) | ((f >> 2) & 3u) << 1);
        devs[i].coherent = (f & 2u) != 0u;
    }
    size_t len = 0;
    memset(g_buf, POISON, sizeof g_buf);
    svd_result r = svd_aml_ssdt(devs, n, g_buf, cap, &len);
    FZ_CHECK(svd_is_ok(r) || r.err == SVD_ERR_INVALID_ARG || r.err == SVD_ERR_NOSPACE);
    check_poison(cap);
    if (svd_is_ok(r)) {
        FZ_CHECK(len <= cap && len >= SVD_AML_HEADER_LEN);
        const uint32_t hl = (uint32_t)g_buf[4] | (uint32_t)g_buf[5] << 8 | (uint32_t)g_buf[6] << 16 |
                            (uint32_t)g_buf[7] << 24;
        FZ_CHECK(hl == len);
        uint8_t sum = 0;
        for (size_t i = 0; i < len; i++) {
            sum = (uint8_t)(sum + g_buf[i]);
        }
        FZ_CHECK(sum == 0u);
    }
    if (r.err != SVD_ERR_INVALID_ARG) {
        memset(g_buf, POISON, sizeof g_buf);
        FZ_CHECK(svd_is_ok(svd_aml_ssdt(devs, n, g_buf, SVD_AML_MAX_SSDT, &len)));
        check_poison(SVD_AML_MAX_SSDT);
        for (uint32_t i = 0; i < n; i++) {
            memset(g_buf, POISON, sizeof g_buf);
            FZ_CHECK(svd_is_ok(svd_aml_virtio_mmio(&devs[i], g_buf, SVD_AML_MAX_DEVICE, &len)));
            check_poison(SVD_AML_MAX_DEVICE);
        }
    }
    memset(g_buf, POISON, sizeof g_buf);
    r = svd_aml_virtio_mmio(&devs[0], g_buf, cap, &len);
    FZ_CHECK(svd_is_ok(r) || r.err == SVD_ERR_INVALID_ARG || r.err == SVD_ERR_NOSPACE);
    check_poison(cap);

    const uint32_t intid = fz_u32(&in) % 2048u;
    const svd_irq_trigger trig = (svd_irq_trigger)(fz_u8(&in) % 6u);
    const uint32_t ph = fz_u32(&in);
    svd_fdt_node node;
    svd_fdt_node_init(&node);
    r = svd_fdt_gic_irq(&node, intid, trig, ph);
    const bool valid = intid >= SVD_GIC_FIRST_PPI && intid <= SVD_GIC_LAST_SPI &&
                       (trig == SVD_IRQ_EDGE_RISING || trig == SVD_IRQ_LEVEL_HIGH);
    FZ_CHECK(svd_is_ok(r) == valid);
    if (valid) {
        FZ_CHECK(node.n_interrupts == 3u && node.interrupt_parent == ph);
        FZ_CHECK(node.interrupts[0] == (intid >= SVD_GIC_FIRST_SPI ? 0u : 1u));
        FZ_CHECK(node.interrupts[1] + (intid >= SVD_GIC_FIRST_SPI ? SVD_GIC_FIRST_SPI : SVD_GIC_FIRST_PPI) == intid);
    } else {
        FZ_CHECK(node.n_interrupts == 0u);
    }
    return 0;
}
