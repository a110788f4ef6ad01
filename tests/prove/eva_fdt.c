/* Eva driver: the device-tree writers. A node described with any of the
 * public setters (svd_fdt_node_init, svd_fdt_virtio_mmio, svd_fdt_gic_irq
 * with any interrupt ID, trigger and parent) or filled field by field with
 * any values and strings of unknown content (NUL-terminated buffers, the
 * node's precondition), then encoded by svd_fdt_node_check, svd_fdt_node_name,
 * svd_fdt_prop (any index) and svd_fdt_blob into buffers of any capacity up
 * to their size. */
#include "eva_any.h"
#include "safevdev/fdt.h"

#define STR_CAP 72u
#define NSTR (2u * SVD_FDT_MAX_STRINGS + 1u)
#define OUT_CAP 1024u

static char strs[NSTR][STR_CAP];
static uint8_t out[OUT_CAP];
static char name[64];
/* Which way the node was built: prove.py partitions Eva's states on it
 * (-eva-partition-value), so the name and string pointers of one way are
 * never joined with another's. */
static int eva_node_kind;

static const char *any_string(uint32_t k)
{
    if (eva_int(0, 3) == 0) {
        return NULL;
    }
    eva_unknown((uint8_t *)strs[k], STR_CAP - 1u);
    strs[k][STR_CAP - 1u] = '\0';
    return strs[k];
}

int main(void)
{
    svd_fdt_node n;
    uint32_t irq[SVD_FDT_MAX_CELLS];
    svd_fdt_propval pv;
    size_t len = 0u;
    svd_result r;

    for (uint32_t i = 0u; i < SVD_FDT_MAX_CELLS; i++) {
        irq[i] = any_u32();
    }
    eva_node_kind = eva_int(0, 2);
    switch (eva_node_kind) {
    case 0:
        r = svd_fdt_virtio_mmio(&n, any_u64(), any_u64(), eva_int(0, 1) != 0 ? irq : NULL,
                                eva_u32r(0u, SVD_FDT_MAX_CELLS + 1u), eva_u32r(0u, 3u), eva_u32r(0u, 3u));
        if (!svd_is_ok(r)) {
            return 1;
        }
        break;
    case 1:
        svd_fdt_node_init(&n);
        n.name = any_string(0u);
        n.has_unit = eva_int(0, 1) != 0;
        n.unit = any_u64();
        for (uint32_t i = 0u; i < SVD_FDT_MAX_STRINGS; i++) {
            n.compatible[i] = any_string(1u + i);
            n.clock_names[i] = any_string(1u + SVD_FDT_MAX_STRINGS + i);
        }
        n.n_compatible = eva_u32r(0u, SVD_FDT_MAX_STRINGS + 1u);
        n.n_clock_names = eva_u32r(0u, SVD_FDT_MAX_STRINGS + 1u);
        n.address_cells = eva_u32r(0u, 3u);
        n.size_cells = eva_u32r(0u, 3u);
        for (uint32_t i = 0u; i < SVD_FDT_MAX_REG; i++) {
            n.reg_addr[i] = any_u64();
            n.reg_size[i] = any_u64();
        }
        n.n_reg = eva_u32r(0u, SVD_FDT_MAX_REG + 1u);
        n.interrupt_parent = any_u32();
        for (uint32_t i = 0u; i < SVD_FDT_MAX_CELLS; i++) {
            n.interrupts[i] = any_u32();
            n.clocks[i] = any_u32();
        }
        n.n_interrupts = eva_u32r(0u, SVD_FDT_MAX_CELLS + 1u);
        n.n_clocks = eva_u32r(0u, SVD_FDT_MAX_CELLS + 1u);
        n.dma_coherent = eva_int(0, 1) != 0;
        break;
    default:
        svd_fdt_node_init(&n);
        n.name = "watchdog";
        n.compatible[0] = "arm,sp805";
        n.n_compatible = 1u;
        break;
    }
    r = svd_fdt_gic_irq(eva_int(0, 3) != 0 ? &n : NULL, any_u32(), (svd_irq_trigger)eva_int(0, 7), any_u32());
    r = svd_fdt_node_check(eva_int(0, 3) != 0 ? &n : NULL);
    r = svd_fdt_node_name(&n, name, eva_size(0u, sizeof(name)), &len);
    r = svd_fdt_node_name(&n, NULL, 0u, &len);
    for (int i = 0; i < 3; i++) {
        r = svd_fdt_prop(&n, eva_u32r(0u, 9u), out, eva_size(0u, OUT_CAP), &pv);
    }
    r = svd_fdt_prop(&n, 0u, NULL, 0u, &pv);
    r = svd_fdt_blob(&n, out, eva_size(0u, OUT_CAP), &len);
    r = svd_fdt_blob(&n, NULL, 0u, &len);
    (void)r;
    return 0;
}
