/* virtio-pci modern transport engine.
 *
 * Configuration space is computed, not stored: each access is resolved on the
 * aligned dword that contains it (accesses are width-aligned, so they never
 * straddle a dword), which keeps a single source of truth for every field and
 * makes "read-only" the default. Only the few writable fields live in the
 * context. BAR0 is decoded by region; the common configuration by field with
 * its natural width. Ring addresses are not shadowed (see mmio.c). */
#include "core_priv.h"

#include <string.h>

#define CAP_VNDR 0x09u
#define CAP_LEN 16u
#define CAP_LEN_NOTIFY 20u
#define CAP_LEN_PCICFG 20u
#define CFG_TYPE_COMMON 1u
#define CFG_TYPE_NOTIFY 2u
#define CFG_TYPE_ISR 3u
#define CFG_TYPE_DEVICE 4u
#define CFG_TYPE_PCI 5u
#define CMD_WRITABLE (SVD_PCI_CMD_MEMORY | SVD_PCI_CMD_BUS_MASTER | SVD_PCI_CMD_INTX_DISABLE)
#define BAR_MEM_64 0x4u
#define BAR_MEM_PREFETCH 0x8u
#define ISR_LEN 1u
#define CAP_ID_MSIX 0x11u
#define MSIX_CTRL_WRITABLE (SVD_PCI_MSIX_ENABLE | SVD_PCI_MSIX_FMASK)
#define MSIX_CTRL_WRITABLE_DWORD 0xc0000000u /* the same bits in the capability's first dword */
#define MSIX_TABLE_LEN (SVD_PCI_MSIX_VECTORS * 16u)
#define MSIX_PBA_LEN 8u
#define MSIX_ENTRY_ADDR_LO 0u
#define MSIX_ENTRY_ADDR_HI 1u
#define MSIX_ENTRY_DATA 2u
#define MSIX_ENTRY_CTRL 3u
#define MSIX_VEC_MASKED 1u

_Static_assert(MSIX_CTRL_WRITABLE_DWORD == (MSIX_CTRL_WRITABLE * 0x10000u), "message control is the upper half");
_Static_assert(SVD_PCI_MSIX_VECTORS <= SVD_FX_MAX_MSI, "one message per vector fits every call's effect");
_Static_assert(SVD_PCI_MSIX_TABLE_OFF + MSIX_TABLE_LEN <= SVD_PCI_MSIX_PBA_OFF, "table below the PBA");
_Static_assert(SVD_PCI_MSIX_PBA_OFF + MSIX_PBA_LEN <= SVD_PCI_ISR_OFF, "PBA below the ISR");
_Static_assert(SVD_PCI_COMMON_OFF + SVD_PCI_COMMON_LEN <= SVD_PCI_MSIX_TABLE_OFF, "table above the common cfg");

/* Common configuration field offsets (virtio 1.2 §4.1.4.3). */
#define CC_DFSELECT 0x00u
#define CC_DF 0x04u
#define CC_GFSELECT 0x08u
#define CC_GF 0x0cu
#define CC_MSIX 0x10u
#define CC_NUMQ 0x12u
#define CC_STATUS 0x14u
#define CC_CFGGEN 0x15u
#define CC_Q_SELECT 0x16u
#define CC_Q_SIZE 0x18u
#define CC_Q_MSIX 0x1au
#define CC_Q_ENABLE 0x1cu
#define CC_Q_NOFF 0x1eu
#define CC_Q_DESC 0x20u
#define CC_Q_AVAIL 0x28u
#define CC_Q_USED 0x30u

static bool msix_enabled(const svd_pci *p)
{
    return (p->msix_ctrl & SVD_PCI_MSIX_ENABLE) != 0u;
}

void svd_pci_sync_irq(svd_pci *p, svd_fx *fx)
{
    /* With MSI-X enabled the function does not use INTx (PCI 3.0 §6.8.2.3). */
    const bool level =
        svd_dev_isr(p->dev) != 0u && (p->command & SVD_PCI_CMD_INTX_DISABLE) == 0u && !msix_enabled(p);
    if (level != p->irq_level) {
        p->irq_level = level;
        fx->irq_changed = true;
    }
    fx->irq_level = p->irq_level;
}

/* ------------------------------------------------------------ MSI-X */

static void vectors_reset(svd_pci *p)
{
    p->config_vector = SVD_PCI_NO_VECTOR;
    for (uint32_t q = 0u; q < SVD_DEV_MAX_QUEUES; q++) {
        p->queue_vector[q] = SVD_PCI_NO_VECTOR;
    }
}

/* The PCI-level MSI-X state after a host reset: disabled, unmasked function,
 * every entry masked with address and data 0, nothing pending. */
static void msix_reset(svd_pci *p)
{
    p->msix_ctrl = 0u;
    p->msix_pending = 0u;
    (void)memset(p->msix_table, 0, sizeof(p->msix_table));
    for (uint32_t v = 0u; v < SVD_PCI_MSIX_VECTORS; v++) {
        p->msix_table[v][MSIX_ENTRY_CTRL] = MSIX_VEC_MASKED;
    }
    vectors_reset(p);
}

/* A vector register write: a number the table holds, else the mapping fails
 * and the register reads back NO_VECTOR (virtio 1.2 §4.1.5.1.2). */
static uint16_t vector_map(const svd_pci *p, uint64_t val)
{
    return (p->params.msix && val < SVD_PCI_MSIX_VECTORS) ? (uint16_t)val : (uint16_t)SVD_PCI_NO_VECTOR;
}

static bool vector_masked(const svd_pci *p, uint32_t v)
{
    return (p->msix_ctrl & SVD_PCI_MSIX_FMASK) != 0u || (p->msix_table[v][MSIX_ENTRY_CTRL] & MSIX_VEC_MASKED) != 0u;
}

/* Send vector @v's message now, at most once per call. */
static void msix_send(const svd_pci *p, uint32_t v, svd_fx *fx)
{
    if (SVD_ALWAYS(fx->n_msi < SVD_FX_MAX_MSI)) {
        svd_msi *m = &fx->msi[fx->n_msi];
        m->addr = (uint64_t)p->msix_table[v][MSIX_ENTRY_ADDR_LO] |
                  ((uint64_t)p->msix_table[v][MSIX_ENTRY_ADDR_HI] << 32);
        m->data = p->msix_table[v][MSIX_ENTRY_DATA];
        fx->n_msi++;
    }
}

/* Vectors in @set (bit v): send the unmasked ones, hold the others pending. */
static void msix_fire(svd_pci *p, uint32_t set, svd_fx *fx)
{
    for (uint32_t v = 0u; v < SVD_PCI_MSIX_VECTORS; v++) {
        if ((set & (1u << v)) == 0u) {
            continue;
        }
        if (vector_masked(p, v)) {
            p->msix_pending |= 1u << v;
        } else {
            p->msix_pending &= ~(1u << v);
            msix_send(p, v, fx);
        }
    }
}

/* After a change of a mask: pending vectors no longer masked are sent. */
static void msix_unmasked(svd_pci *p, svd_fx *fx)
{
    if (msix_enabled(p)) {
        uint32_t ready = 0u;
        for (uint32_t v = 0u; v < SVD_PCI_MSIX_VECTORS; v++) {
            if ((p->msix_pending & (1u << v)) != 0u && !vector_masked(p, v)) {
                ready |= 1u << v;
            }
        }
        msix_fire(p, ready, fx);
    }
}

void svd_pci_msix_notify(svd_pci *p, svd_fx *fx)
{
    if (!msix_enabled(p)) {
        return;
    }
    uint32_t set = 0u;
    const uint32_t nq = svd_dev_num_queues(p->dev);
    for (uint32_t q = 0u; q < nq; q++) {
        if ((fx->queue_notify & (1u << q)) != 0u && p->queue_vector[q] < SVD_PCI_MSIX_VECTORS) {
            set |= 1u << p->queue_vector[q];
        }
    }
    if (fx->config_notify && p->config_vector < SVD_PCI_MSIX_VECTORS) {
        set |= 1u << p->config_vector;
    }
    msix_fire(p, set, fx);
}

/* Table and PBA accesses: aligned dwords, or aligned qwords (two dwords). */
static bool msix_width_ok(uint32_t off, uint32_t width)
{
    return (width == 4u || width == 8u) && (off & (width - 1u)) == 0u;
}

static uint32_t table_dword(const svd_pci *p, uint32_t off)
{
    return p->msix_table[off / 16u][(off % 16u) / 4u];
}

static svd_result msix_read(const svd_pci *p, uint32_t o, uint32_t width, uint64_t *val)
{
    SVD_ENSURE(msix_width_ok(o, width), SVD_ERR_INVALID_ARG);
    if (o >= SVD_PCI_MSIX_PBA_OFF) {
        *val = (o == SVD_PCI_MSIX_PBA_OFF) ? p->msix_pending : 0u;
        return svd_ok();
    }
    const uint32_t t = o - SVD_PCI_MSIX_TABLE_OFF;
    /* The caller found o in the table (in_msix); checked again here so that
     * the table index is bounded by this function alone. */
    SVD_ENSURE(SVD_ALWAYS(o >= SVD_PCI_MSIX_TABLE_OFF) && SVD_ALWAYS(t < MSIX_TABLE_LEN), SVD_ERR_BOUNDS);
    uint64_t v = table_dword(p, t);
    /* A qword is 8-aligned (msix_width_ok), so its second dword is inside the
     * table; the bound is checked again so that it holds without reasoning
     * about alignment. */
    if (width == 8u && SVD_ALWAYS(t + 4u < MSIX_TABLE_LEN)) {
        v |= (uint64_t)table_dword(p, t + 4u) << 32;
    }
    *val = v;
    return svd_ok();
}

static void table_store(svd_pci *p, uint32_t t, uint32_t v, svd_fx *fx)
{
    const uint32_t e = t / 16u;
    const uint32_t f = (t % 16u) / 4u;
    switch (f) {
    case MSIX_ENTRY_ADDR_LO:
        p->msix_table[e][f] = v & ~3u; /* dword aligned: bits 1:0 read 0 */
        break;
    case MSIX_ENTRY_CTRL:
        p->msix_table[e][f] = v & MSIX_VEC_MASKED;
        msix_unmasked(p, fx);
        break;
    default:
        p->msix_table[e][f] = v;
        break;
    }
}

static svd_result msix_write(svd_pci *p, uint32_t o, uint32_t width, uint64_t val, svd_fx *fx)
{
    SVD_ENSURE(msix_width_ok(o, width), SVD_ERR_INVALID_ARG);
    SVD_ENSURE(o < SVD_PCI_MSIX_PBA_OFF, SVD_ERR_BOUNDS); /* the PBA is read-only */
    const uint32_t t = o - SVD_PCI_MSIX_TABLE_OFF;
    SVD_ENSURE(SVD_ALWAYS(o >= SVD_PCI_MSIX_TABLE_OFF) && SVD_ALWAYS(t < MSIX_TABLE_LEN), SVD_ERR_BOUNDS); /* as in msix_read */
    table_store(p, t, (uint32_t)(val & UINT64_C(0xffffffff)), fx);
    if (width == 8u && SVD_ALWAYS(t + 4u < MSIX_TABLE_LEN)) { /* inside the table, as in msix_read */
        table_store(p, t + 4u, (uint32_t)(val >> 32), fx);
    }
    return svd_ok();
}

/* Whether BAR offset @o is in the MSI-X table or PBA (when offered). */
static bool in_msix(const svd_pci *p, uint32_t o)
{
    return p->params.msix && ((o >= SVD_PCI_MSIX_TABLE_OFF && o < SVD_PCI_MSIX_TABLE_OFF + MSIX_TABLE_LEN) ||
                              (o >= SVD_PCI_MSIX_PBA_OFF && o < SVD_PCI_MSIX_PBA_OFF + MSIX_PBA_LEN));
}

/* After a BAR write: a device reset returns the selectors to 0 and the
 * vectors to NO_VECTOR. */
static void after_bar_write(svd_pci *p, const svd_fx *fx)
{
    if (fx->reset) {
        p->dev_features_sel = 0u;
        p->drv_features_sel = 0u;
        p->queue_sel = 0u;
        vectors_reset(p);
    }
}

static bool width_ok(uint64_t off, uint32_t width)
{
    return (width == 1u || width == 2u || width == 4u) && (off & (width - 1u)) == 0u;
}

svd_result svd_pci_init(svd_pci *p, svd_dev *dev, const svd_pci_params *params)
{
    SVD_ENSURE(p != NULL && dev != NULL && params != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(svd_dev_device_id(dev) <= SVD_PCI_MAX_VIRTIO_ID, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(params->class_code <= 0xffffffu, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(svd_dev_config_len(dev) <= SVD_PCI_DEVICE_LEN, SVD_ERR_INVALID_ARG);
    (void)memset(p, 0, sizeof(*p));
    p->dev = dev;
    p->params = *params;
    msix_reset(p);
    return svd_ok();
}

uint64_t svd_pci_bar0_address(const svd_pci *p)
{
    return p->bar0;
}

bool svd_pci_mem_enabled(const svd_pci *p)
{
    return (p->command & SVD_PCI_CMD_MEMORY) != 0u;
}

/* ------------------------------------------------------------ BAR0 access */

/* Which ring a queue address field names (off is CC_Q_DESC..CC_Q_USED+7). */
static svd_vq_ring ring_of(uint32_t off)
{
    if (off < CC_Q_AVAIL) {
        return SVD_VQ_RING_DESC;
    }
    return off < CC_Q_USED ? SVD_VQ_RING_AVAIL : SVD_VQ_RING_USED;
}

static uint64_t half(uint64_t v, uint32_t off)
{
    return (off & 4u) != 0u ? (v >> 32) : (v & UINT64_C(0xffffffff));
}

/* Natural width of the common-configuration field at @off (0: no field starts
 * there). 64-bit fields also accept a 32-bit access to either half. */
static bool common_access_ok(uint32_t off, uint32_t width)
{
    switch (off) {
    case CC_DFSELECT:
    case CC_DF:
    case CC_GFSELECT:
    case CC_GF:
        return width == 4u;
    case CC_MSIX:
    case CC_NUMQ:
    case CC_Q_SELECT:
    case CC_Q_SIZE:
    case CC_Q_MSIX:
    case CC_Q_ENABLE:
    case CC_Q_NOFF:
        return width == 2u;
    case CC_STATUS:
    case CC_CFGGEN:
        return width == 1u;
    case CC_Q_DESC:
    case CC_Q_AVAIL:
    case CC_Q_USED:
        return width == 4u || width == 8u;
    case CC_Q_DESC + 4u:
    case CC_Q_AVAIL + 4u:
    case CC_Q_USED + 4u:
        return width == 4u;
    default:
        return false;
    }
}

static svd_result common_read(const svd_pci *p, uint32_t off, uint32_t width, uint64_t *val)
{
    SVD_ENSURE(common_access_ok(off, width), SVD_ERR_INVALID_ARG);
    const svd_vq *q = svd_dev_queue(p->dev, p->queue_sel);
    switch (off) {
    case CC_DFSELECT:
        *val = p->dev_features_sel;
        return svd_ok();
    case CC_DF:
        *val = svd_dev_host_features_word(p->dev, p->dev_features_sel);
        return svd_ok();
    case CC_GFSELECT:
        *val = p->drv_features_sel;
        return svd_ok();
    case CC_GF:
        *val = svd_dev_driver_features_word(p->dev, p->drv_features_sel);
        return svd_ok();
    case CC_MSIX:
        *val = p->config_vector;
        return svd_ok();
    case CC_Q_MSIX:
        *val = q == NULL ? SVD_PCI_NO_VECTOR : p->queue_vector[p->queue_sel];
        return svd_ok();
    case CC_NUMQ:
        *val = svd_dev_num_queues(p->dev);
        return svd_ok();
    case CC_STATUS:
        *val = svd_dev_status(p->dev);
        return svd_ok();
    case CC_CFGGEN:
        *val = svd_dev_config_generation(p->dev) & 0xffu;
        return svd_ok();
    case CC_Q_SELECT:
        *val = p->queue_sel;
        return svd_ok();
    case CC_Q_SIZE:
        /* The device engine presets each size to the maximum on reset. */
        *val = q == NULL ? 0u : svd_vq_size(q);
        return svd_ok();
    case CC_Q_ENABLE:
        *val = 0u;
        if (q != NULL && svd_vq_enabled(q)) {
            *val = 1u;
        }
        return svd_ok();
    case CC_Q_NOFF:
        *val = q == NULL ? 0u : p->queue_sel;
        return svd_ok();
    default:
        break;
    }
    /* The remaining fields are the ring addresses (common_access_ok() admitted
     * nothing else). */
    const uint64_t ring = q == NULL ? 0u : svd_vq_addr(q, ring_of(off));
    *val = width == 8u ? ring : half(ring, off);
    return svd_ok();
}

static svd_result ring_write(svd_pci *p, uint32_t off, uint32_t width, uint64_t val, svd_fx *fx)
{
    if (width == 8u) {
        return svd_dev_queue_set_addr(p->dev, p->queue_sel, ring_of(off), val, fx);
    }
    return svd_dev_queue_set_addr_half(p->dev, p->queue_sel, ring_of(off), (off & 4u) != 0u, (uint32_t)val, fx);
}

static svd_result queue_enable(svd_pci *p, uint64_t val, svd_fx *fx)
{
    SVD_ENSURE(val <= 1u, SVD_ERR_BOUNDS);
    return svd_dev_queue_set_ready(p->dev, p->queue_sel, val == 1u, fx);
}

static svd_result common_write(svd_pci *p, uint32_t off, uint32_t width, uint64_t val, svd_fx *fx)
{
    SVD_ENSURE(common_access_ok(off, width), SVD_ERR_INVALID_ARG);
    /* A value wider than the field is not truncated into it: ignored. */
    const uint32_t field_bits = 8u * width;
    SVD_ENSURE(width >= 8u || (val >> field_bits) == 0u, SVD_ERR_BOUNDS);
    switch (off) {
    case CC_DFSELECT:
        p->dev_features_sel = (uint32_t)val;
        return svd_ok();
    case CC_GFSELECT:
        p->drv_features_sel = (uint32_t)val;
        return svd_ok();
    case CC_GF:
        return svd_dev_set_driver_features_word(p->dev, p->drv_features_sel, (uint32_t)val);
    case CC_MSIX:
        p->config_vector = vector_map(p, val);
        return svd_ok();
    case CC_Q_MSIX:
        SVD_ENSURE(svd_dev_queue(p->dev, p->queue_sel) != NULL, SVD_ERR_BOUNDS);
        p->queue_vector[p->queue_sel] = vector_map(p, val);
        return svd_ok();
    case CC_STATUS:
        return svd_dev_set_status(p->dev, (uint8_t)val, fx);
    case CC_Q_SELECT:
        p->queue_sel = (uint16_t)val;
        return svd_ok();
    case CC_Q_SIZE:
        return svd_dev_queue_set_size(p->dev, p->queue_sel, (uint32_t)val, fx);
    case CC_Q_ENABLE:
        return queue_enable(p, val, fx);
    case CC_DF:
    case CC_NUMQ:
    case CC_CFGGEN:
    case CC_Q_NOFF:
        return svd_fail(SVD_ERR_BOUNDS);
    default:
        return ring_write(p, off, width, val, fx);
    }
}

static svd_result notify_write(svd_pci *p, uint32_t off, uint32_t width, uint64_t now, svd_fx *fx)
{
    SVD_ENSURE(width == 2u || width == 4u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(off % SVD_PCI_NOTIFY_MULT == 0u, SVD_ERR_INVALID_ARG);
    return svd_dev_kick(p->dev, off / SVD_PCI_NOTIFY_MULT, now, fx);
}

/* BAR access without the MEMORY-enable check (also used by the PCI
 * configuration access capability, which exists to reach the BAR without
 * mapping it). *val is 0 unless the read succeeds. */
static svd_result bar_read(svd_pci *p, uint64_t off, uint32_t width, uint64_t *val)
{
    *val = 0u;
    SVD_ENSURE(off < SVD_PCI_BAR_SIZE, SVD_ERR_BOUNDS);
    const uint32_t o = (uint32_t)off;
    uint64_t v = 0u;
    if (o < SVD_PCI_COMMON_OFF + SVD_PCI_COMMON_LEN) {
        SVD_GUARD(common_read(p, o - SVD_PCI_COMMON_OFF, width, &v));
    } else if (in_msix(p, o)) {
        SVD_GUARD(msix_read(p, o, width, &v));
    } else if (o >= SVD_PCI_ISR_OFF && o < SVD_PCI_ISR_OFF + ISR_LEN) {
        SVD_ENSURE(width == 1u, SVD_ERR_INVALID_ARG);
        v = svd_dev_isr_read_clear(p->dev);
    } else if (o >= SVD_PCI_DEVICE_OFF && o < SVD_PCI_DEVICE_OFF + SVD_PCI_DEVICE_LEN) {
        SVD_ENSURE(width_ok(o, width), SVD_ERR_INVALID_ARG);
        uint32_t c = 0u;
        SVD_GUARD(svd_dev_config_read(p->dev, o - SVD_PCI_DEVICE_OFF, width, &c));
        v = c;
    } else {
        return svd_fail(SVD_ERR_BOUNDS);
    }
    *val = v;
    return svd_ok();
}

static svd_result bar_write(svd_pci *p, uint64_t off, uint32_t width, uint64_t val, uint64_t now, svd_fx *fx)
{
    SVD_ENSURE(off < SVD_PCI_BAR_SIZE, SVD_ERR_BOUNDS);
    const uint32_t o = (uint32_t)off;
    svd_result r;
    if (o < SVD_PCI_COMMON_OFF + SVD_PCI_COMMON_LEN) {
        r = common_write(p, o - SVD_PCI_COMMON_OFF, width, val, fx);
    } else if (in_msix(p, o)) {
        r = msix_write(p, o, width, val, fx);
    } else if (o >= SVD_PCI_NOTIFY_OFF) {
        r = notify_write(p, o - SVD_PCI_NOTIFY_OFF, width, now, fx);
    } else {
        r = svd_fail(SVD_ERR_BOUNDS);
    }
    after_bar_write(p, fx);
    return r;
}

svd_result svd_pci_bar_read(svd_pci *p, uint64_t off, uint32_t width, uint64_t *val, svd_fx *fx)
{
    *val = 0u;
    svd_result r = svd_fail(SVD_ERR_STATE);
    if (svd_pci_mem_enabled(p)) {
        r = bar_read(p, off, width, val);
    }
    svd_pci_sync_irq(p, fx);
    return r;
}

svd_result svd_pci_bar_write(svd_pci *p, uint64_t off, uint32_t width, uint64_t val, uint64_t now, svd_fx *fx)
{
    fx->irq_level = p->irq_level;
    SVD_ENSURE(svd_pci_mem_enabled(p), SVD_ERR_STATE);
    const svd_result r = bar_write(p, off, width, val, now, fx);
    svd_pci_sync_irq(p, fx);
    return r;
}

/* ------------------------------------------------------- configuration space */

static uint32_t cap_header(uint32_t next, uint32_t len, uint32_t type)
{
    return CAP_VNDR | (next << 8) | (len << 16) | (type << 24);
}

static uint32_t bar0_low(const svd_pci *p)
{
    uint32_t v = (uint32_t)(p->bar0 & UINT64_C(0xffffffff)) & ~(SVD_PCI_BAR_SIZE - 1u);
    if (p->params.bar64) {
        v |= BAR_MEM_64;
    }
    if (p->params.prefetchable) {
        v |= BAR_MEM_PREFETCH;
    }
    return v;
}

/* The PCI configuration access capability's window: a BAR access of
 * cap.length at cap.offset, if the fields describe one. */
static bool pcicfg_window_ok(const svd_pci *p)
{
    return p->cfg_bar == 0u && (p->cfg_length == 1u || p->cfg_length == 2u || p->cfg_length == 4u) &&
           (p->cfg_offset & (p->cfg_length - 1u)) == 0u;
}

static uint32_t pcicfg_data_read(svd_pci *p)
{
    uint64_t v = 0u;
    if (pcicfg_window_ok(p) && svd_is_ok(bar_read(p, p->cfg_offset, p->cfg_length, &v))) {
        p->cfg_data = (uint32_t)v;
    } else {
        p->cfg_data = 0u;
    }
    return p->cfg_data;
}

/* Value of the configuration dword at @off (4-aligned). */
static uint32_t cfg_dword(svd_pci *p, uint32_t off)
{
    uint16_t status = SVD_PCI_STATUS_CAP_LIST;
    if (svd_dev_isr(p->dev) != 0u) {
        status = (uint16_t)(status | (uint16_t)SVD_PCI_STATUS_INTERRUPT);
    }
    switch (off) {
    case 0x00u:
        return SVD_PCI_VENDOR_VIRTIO | ((SVD_PCI_DEVICE_ID_BASE + svd_dev_device_id(p->dev)) << 16);
    case 0x04u:
        return p->command | ((uint32_t)status << 16);
    case 0x08u:
        return SVD_PCI_REVISION | (p->params.class_code << 8);
    case SVD_PCI_CFG_BAR0:
        return bar0_low(p);
    case SVD_PCI_CFG_BAR1:
        return p->params.bar64 ? (uint32_t)(p->bar0 >> 32) : 0u;
    case 0x2cu:
        return p->params.subsystem_vendor | ((uint32_t)p->params.subsystem_id << 16);
    case 0x34u:
        return SVD_PCI_CAP_COMMON;
    case SVD_PCI_CFG_INT_LINE:
        return p->int_line | 0x100u; /* interrupt pin INTA (byte 1) */
    case SVD_PCI_CAP_COMMON:
        return cap_header(SVD_PCI_CAP_NOTIFY, CAP_LEN, CFG_TYPE_COMMON);
    case SVD_PCI_CAP_COMMON + 8u:
        return SVD_PCI_COMMON_OFF;
    case SVD_PCI_CAP_COMMON + 12u:
        return SVD_PCI_COMMON_LEN;
    case SVD_PCI_CAP_NOTIFY:
        return cap_header(SVD_PCI_CAP_ISR, CAP_LEN_NOTIFY, CFG_TYPE_NOTIFY);
    case SVD_PCI_CAP_NOTIFY + 8u:
        return SVD_PCI_NOTIFY_OFF;
    case SVD_PCI_CAP_NOTIFY + 12u:
        return (uint32_t)svd_dev_num_queues(p->dev) * SVD_PCI_NOTIFY_MULT;
    case SVD_PCI_CAP_NOTIFY + 16u:
        return SVD_PCI_NOTIFY_MULT;
    case SVD_PCI_CAP_ISR:
        return cap_header(SVD_PCI_CAP_DEVICE, CAP_LEN, CFG_TYPE_ISR);
    case SVD_PCI_CAP_ISR + 8u:
        return SVD_PCI_ISR_OFF;
    case SVD_PCI_CAP_ISR + 12u:
        return ISR_LEN;
    case SVD_PCI_CAP_DEVICE:
        return cap_header(SVD_PCI_CAP_PCICFG, CAP_LEN, CFG_TYPE_DEVICE);
    case SVD_PCI_CAP_DEVICE + 8u:
        return SVD_PCI_DEVICE_OFF;
    case SVD_PCI_CAP_DEVICE + 12u:
        return SVD_PCI_DEVICE_LEN;
    case SVD_PCI_CAP_PCICFG:
        return cap_header(p->params.msix ? SVD_PCI_CAP_MSIX : 0u, CAP_LEN_PCICFG, CFG_TYPE_PCI);
    case SVD_PCI_CAP_PCICFG + 4u:
        return p->cfg_bar;
    case SVD_PCI_CAP_PCICFG + 8u:
        return p->cfg_offset;
    case SVD_PCI_CAP_PCICFG + 12u:
        return p->cfg_length;
    case SVD_PCI_CAP_PCICFG + 16u:
        return pcicfg_data_read(p);
    case SVD_PCI_CAP_MSIX:
        /* Table size is encoded minus one (PCI 3.0 §6.8.2.3). */
        return p->params.msix ? (CAP_ID_MSIX | (((SVD_PCI_MSIX_VECTORS - 1u) | p->msix_ctrl) << 16)) : 0u;
    case SVD_PCI_CAP_MSIX + 4u:
        return p->params.msix ? SVD_PCI_MSIX_TABLE_OFF : 0u; /* BIR 0 */
    case SVD_PCI_CAP_MSIX + 8u:
        return p->params.msix ? SVD_PCI_MSIX_PBA_OFF : 0u; /* BIR 0 */
    default:
        /* Every other dword (including the cap.bar fields of the fixed
         * capabilities, which name BAR0) reads 0. */
        return 0u;
    }
}

static uint32_t width_mask(uint32_t width)
{
    /* Every caller passes 1, 2 or 4; no shift, so no width can make one
     * undefined (MISRA 12.2, and nothing for the proof to assume). */
    uint32_t mask;
    switch (width) {
    case 1u:
        mask = 0xffu;
        break;
    case 2u:
        mask = 0xffffu;
        break;
    default:
        mask = 0xffffffffu;
        break;
    }
    return mask;
}

svd_result svd_pci_cfg_read(svd_pci *p, uint32_t off, uint32_t width, uint32_t *val, svd_fx *fx)
{
    *val = 0u;
    svd_result r = svd_fail(SVD_ERR_BOUNDS);
    if (!width_ok(off, width)) {
        r = svd_fail(SVD_ERR_INVALID_ARG);
    } else if (off < SVD_PCI_CFG_SIZE) {
        const uint32_t shift = (off & 3u) * 8u;
        *val = (cfg_dword(p, off & ~3u) >> shift) & width_mask(width);
        r = svd_ok();
    } else {
        /* beyond the space: defined answer */
    }
    svd_pci_sync_irq(p, fx);
    return r;
}

static void set_bar0(svd_pci *p, uint64_t bar, svd_fx *fx)
{
    if (bar != p->bar0) {
        p->bar0 = bar;
        fx->bars_changed = true;
    }
}

/* Byte mask of the writable bytes of the configuration dword at @off (0: none)
 * and, in *old, their current value. */
static uint32_t cfg_writable(const svd_pci *p, uint32_t off, uint32_t *old)
{
    switch (off) {
    case 0x04u:
        *old = p->command;
        return 0x0000ffffu;
    case SVD_PCI_CFG_BAR0:
        *old = (uint32_t)(p->bar0 & UINT64_C(0xffffffff));
        return 0xffffffffu;
    case SVD_PCI_CFG_BAR1:
        *old = (uint32_t)(p->bar0 >> 32);
        return p->params.bar64 ? 0xffffffffu : 0u;
    case SVD_PCI_CFG_INT_LINE:
        *old = p->int_line;
        return 0x000000ffu;
    case SVD_PCI_CAP_PCICFG + 4u:
        *old = p->cfg_bar;
        return 0x000000ffu;
    case SVD_PCI_CAP_PCICFG + 8u:
        *old = p->cfg_offset;
        return 0xffffffffu;
    case SVD_PCI_CAP_PCICFG + 12u:
        *old = p->cfg_length;
        return 0xffffffffu;
    case SVD_PCI_CAP_PCICFG + 16u:
        *old = p->cfg_data;
        return 0xffffffffu;
    case SVD_PCI_CAP_MSIX:
        *old = (uint32_t)p->msix_ctrl << 16;
        return p->params.msix ? (MSIX_CTRL_WRITABLE_DWORD) : 0u;
    default:
        *old = 0u;
        return 0u;
    }
}

/* Apply the merged dword @v at @off, one of the offsets cfg_writable() admits. */
static svd_result cfg_dword_write(svd_pci *p, uint32_t off, uint32_t v, uint64_t now, svd_fx *fx)
{
    switch (off) {
    case 0x04u: {
        const uint16_t cmd = (uint16_t)(v & CMD_WRITABLE);
        if (((cmd ^ p->command) & SVD_PCI_CMD_MEMORY) != 0u) {
            fx->bars_changed = true;
        }
        p->command = cmd;
        return svd_ok();
    }
    case SVD_PCI_CFG_BAR0:
        set_bar0(p, (p->bar0 & UINT64_C(0xffffffff00000000)) | (v & ~(SVD_PCI_BAR_SIZE - 1u)), fx);
        return svd_ok();
    case SVD_PCI_CFG_BAR1:
        set_bar0(p, (p->bar0 & UINT64_C(0xffffffff)) | ((uint64_t)v << 32), fx);
        return svd_ok();
    case SVD_PCI_CFG_INT_LINE:
        p->int_line = (uint8_t)v;
        return svd_ok();
    case SVD_PCI_CAP_PCICFG + 4u:
        p->cfg_bar = (uint8_t)v;
        return svd_ok();
    case SVD_PCI_CAP_PCICFG + 8u:
        p->cfg_offset = v;
        return svd_ok();
    case SVD_PCI_CAP_PCICFG + 12u:
        p->cfg_length = v;
        return svd_ok();
    case SVD_PCI_CAP_MSIX:
        p->msix_ctrl = (uint16_t)((v >> 16) & MSIX_CTRL_WRITABLE);
        msix_unmasked(p, fx);
        return svd_ok();
    case SVD_PCI_CAP_PCICFG + 16u:
    default:
        /* pci_cfg_data: store, then perform the BAR write it describes. */
        p->cfg_data = v;
        SVD_ENSURE(pcicfg_window_ok(p), SVD_ERR_BOUNDS);
        return bar_write(p, p->cfg_offset, p->cfg_length, v & width_mask(p->cfg_length), now, fx);
    }
}

svd_result svd_pci_cfg_write(svd_pci *p, uint32_t off, uint32_t width, uint32_t val, uint64_t now, svd_fx *fx)
{
    svd_result r = svd_fail(SVD_ERR_BOUNDS);
    if (!width_ok(off, width)) {
        r = svd_fail(SVD_ERR_INVALID_ARG);
    } else if (off < SVD_PCI_CFG_SIZE) {
        const uint32_t base = off & ~3u;
        const uint32_t shift = (off & 3u) * 8u;
        const uint32_t mask = width_mask(width) << shift;
        uint32_t old = 0u;
        const uint32_t writable = cfg_writable(p, base, &old) & mask;
        if (writable != 0u) {
            r = cfg_dword_write(p, base, (old & ~writable) | ((val << shift) & writable), now, fx);
        }
    } else {
        /* beyond the space: defined answer */
    }
    svd_pci_sync_irq(p, fx);
    return r;
}

void svd_pci_reset(svd_pci *p, svd_fx *fx)
{
    svd_dev_reset(p->dev);
    fx->reset = true;
    if (p->bar0 != 0u || p->command != 0u) {
        fx->bars_changed = true;
    }
    p->command = 0u;
    p->bar0 = 0u;
    p->int_line = 0u;
    p->cfg_bar = 0u;
    p->cfg_offset = 0u;
    p->cfg_length = 0u;
    p->cfg_data = 0u;
    msix_reset(p);
    after_bar_write(p, fx);
    svd_pci_sync_irq(p, fx);
}
