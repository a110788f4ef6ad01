/* Virtio driver over svd_vdev_access (see tg_vdrv.h). Register offsets are
 * written out here from the specification, independently of the engine. */
#include <string.h>

#include "tg_vdrv.h"

/* virtio-mmio (virtio 1.2 §4.2.2) */
#define MM_DRV_FEAT 0x020u
#define MM_DRV_FEAT_SEL 0x024u
#define MM_QSEL 0x030u
#define MM_QNUM 0x038u
#define MM_QREADY 0x044u
#define MM_QNOTIFY 0x050u
#define MM_ISR 0x060u
#define MM_ISR_ACK 0x064u
#define MM_STATUS 0x070u
#define MM_QDESC 0x080u
#define MM_QDRIVER 0x090u
#define MM_QDEVICE 0x0a0u
/* virtio-pci common configuration at BAR0 + 0 (§4.1.4.3), ISR at 0x1000,
 * notify at 0x3000 with multiplier 4 (what the capabilities advertise). */
#define PC_GFSEL 0x08u
#define PC_GF 0x0cu
#define PC_STATUS 0x14u
#define PC_QSEL 0x16u
#define PC_QSIZE 0x18u
#define PC_QEN 0x1cu
#define PC_QDESC 0x20u
#define PC_QDRV 0x28u
#define PC_QDEV 0x30u
#define PC_ISR 0x1000u
#define PC_NOTIFY 0x3000u
#define PC_MULT 4u

void tg_vdrv_init(tg_vdrv *d, svd_vdev *v, svd_xport xport, uint64_t base)
{
    memset(d, 0, sizeof(*d));
    d->v = v;
    d->xport = xport;
    d->base = base;
    d->last = svd_ok();
}

static svd_result vdrv_access(tg_vdrv *d, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val)
{
    d->last = svd_vdev_access(d->v, sp, addr, width, write, val, d->now, &d->fx);
    if (!svd_is_ok(d->last)) {
        d->errors++;
    }
    return d->last;
}

uint64_t tg_vdrv_rd(tg_vdrv *d, uint64_t off, uint32_t width)
{
    uint64_t v = 0u;
    (void)vdrv_access(d, SVD_SPACE_MEM, d->base + off, width, false, &v);
    return v;
}

svd_result tg_vdrv_wr(tg_vdrv *d, uint64_t off, uint32_t width, uint64_t val)
{
    return vdrv_access(d, SVD_SPACE_MEM, d->base + off, width, true, &val);
}

uint32_t tg_vdrv_cfg_rd(tg_vdrv *d, uint32_t off, uint32_t width)
{
    uint64_t v = 0u;
    (void)vdrv_access(d, SVD_SPACE_PCI_CFG, off, width, false, &v);
    return (uint32_t)v;
}

svd_result tg_vdrv_cfg_wr(tg_vdrv *d, uint32_t off, uint32_t width, uint32_t val)
{
    uint64_t v = val;
    return vdrv_access(d, SVD_SPACE_PCI_CFG, off, width, true, &v);
}

void tg_vdrv_pci_assign(tg_vdrv *d)
{
    (void)tg_vdrv_cfg_wr(d, 0x10u, 4u, (uint32_t)d->base);
    if ((d->base >> 32) != 0u) {
        (void)tg_vdrv_cfg_wr(d, 0x14u, 4u, (uint32_t)(d->base >> 32)); /* the high half of a 64-bit BAR */
    }
    (void)tg_vdrv_cfg_wr(d, 0x04u, 2u, 0x0006u); /* MEMORY | BUS_MASTER */
}

static bool is_mmio(const tg_vdrv *d)
{
    return d->xport == SVD_XPORT_MMIO;
}

uint8_t tg_vdrv_status(tg_vdrv *d)
{
    return (uint8_t)(is_mmio(d) ? tg_vdrv_rd(d, MM_STATUS, 4u) : tg_vdrv_rd(d, PC_STATUS, 1u));
}

svd_result tg_vdrv_set_status(tg_vdrv *d, uint8_t s)
{
    return is_mmio(d) ? tg_vdrv_wr(d, MM_STATUS, 4u, s) : tg_vdrv_wr(d, PC_STATUS, 1u, s);
}

void tg_vdrv_set_features(tg_vdrv *d, uint64_t feats)
{
    for (uint32_t sel = 0u; sel < 2u; sel++) {
        const uint32_t w = (uint32_t)(feats >> (32u * sel));
        if (is_mmio(d)) {
            (void)tg_vdrv_wr(d, MM_DRV_FEAT_SEL, 4u, sel);
            (void)tg_vdrv_wr(d, MM_DRV_FEAT, 4u, w);
        } else {
            (void)tg_vdrv_wr(d, PC_GFSEL, 4u, sel);
            (void)tg_vdrv_wr(d, PC_GF, 4u, w);
        }
    }
}

svd_result tg_vdrv_queue(tg_vdrv *d, uint32_t q, const tg_vring *r)
{
    const uint64_t a[3] = { r->desc, r->avail, r->used };
    const uint32_t before = d->errors;
    if (is_mmio(d)) {
        static const uint32_t reg[3] = { MM_QDESC, MM_QDRIVER, MM_QDEVICE };
        (void)tg_vdrv_wr(d, MM_QSEL, 4u, q);
        (void)tg_vdrv_wr(d, MM_QNUM, 4u, r->size);
        for (unsigned i = 0u; i < 3u; i++) {
            (void)tg_vdrv_wr(d, reg[i], 4u, (uint32_t)a[i]);
            (void)tg_vdrv_wr(d, reg[i] + 4u, 4u, (uint32_t)(a[i] >> 32));
        }
        (void)tg_vdrv_wr(d, MM_QREADY, 4u, 1u);
    } else {
        static const uint32_t reg[3] = { PC_QDESC, PC_QDRV, PC_QDEV };
        (void)tg_vdrv_wr(d, PC_QSEL, 2u, q);
        (void)tg_vdrv_wr(d, PC_QSIZE, 2u, r->size);
        for (unsigned i = 0u; i < 3u; i++) {
            (void)tg_vdrv_wr(d, reg[i], 8u, a[i]);
        }
        (void)tg_vdrv_wr(d, PC_QEN, 2u, 1u);
    }
    return d->errors == before ? svd_ok() : d->last;
}

svd_result tg_vdrv_notify(tg_vdrv *d, uint32_t q)
{
    return is_mmio(d) ? tg_vdrv_wr(d, MM_QNOTIFY, 4u, q) : tg_vdrv_wr(d, PC_NOTIFY + PC_MULT * (uint64_t)q, 2u, q);
}

uint8_t tg_vdrv_take_irq(tg_vdrv *d)
{
    if (is_mmio(d)) {
        const uint8_t isr = (uint8_t)tg_vdrv_rd(d, MM_ISR, 4u);
        (void)tg_vdrv_wr(d, MM_ISR_ACK, 4u, isr);
        return isr;
    }
    return (uint8_t)tg_vdrv_rd(d, PC_ISR, 1u);
}

bool tg_vdrv_up(tg_vdrv *d, uint64_t feats, const tg_vring *rings, uint32_t nq)
{
    const uint32_t before = d->errors;
    if (!is_mmio(d)) {
        tg_vdrv_pci_assign(d);
    }
    (void)tg_vdrv_set_status(d, 0u);
    (void)tg_vdrv_set_status(d, 0x01u);
    (void)tg_vdrv_set_status(d, 0x03u);
    tg_vdrv_set_features(d, feats);
    (void)tg_vdrv_set_status(d, 0x0bu);
    for (uint32_t q = 0u; q < nq; q++) {
        (void)tg_vdrv_queue(d, q, &rings[q]);
    }
    (void)tg_vdrv_set_status(d, 0x0fu);
    return d->errors == before && tg_vdrv_status(d) == 0x0fu;
}

/* ------------------------------------------------------------ MSI-X (Linux's order) */

#define PC_MSIX_CONFIG 0x10u
#define PC_QMSIX 0x1au
#define CAP_PTR 0x34u
#define CAP_ID_MSIX 0x11u
#define MSIX_ENABLE 0x8000u
#define NO_VECTOR 0xffffu

/* Offset of the MSI-X capability in configuration space, 0 if none. */
static uint32_t msix_cap(tg_vdrv *d)
{
    uint32_t pos = tg_vdrv_cfg_rd(d, CAP_PTR, 1u);
    for (unsigned n = 0u; pos != 0u && n < 48u; n++) {
        if (tg_vdrv_cfg_rd(d, pos, 1u) == CAP_ID_MSIX) {
            return pos;
        }
        pos = tg_vdrv_cfg_rd(d, pos + 1u, 1u);
    }
    return 0u;
}

/* One vp_find_vqs_msix() attempt; false leaves MSI-X disabled and every
 * vector NO_VECTOR (vp_del_vqs). The queues are enabled afterwards, as
 * vp_modern_find_vqs() does once the attempt succeeded. */
static bool try_msix(tg_vdrv *d, uint32_t cap, bool per_vq, uint32_t nq)
{
    const uint32_t nvec = per_vq ? nq + 1u : 2u;
    const uint32_t table = (tg_vdrv_cfg_rd(d, cap + 2u, 2u) & 0x7ffu) + 1u;
    const uint32_t os = d->os_vectors != 0u ? d->os_vectors : table;
    if (nvec > table || nvec > os) {
        return false; /* pci_alloc_irq_vectors() fails */
    }
    const uint32_t tbl = tg_vdrv_cfg_rd(d, cap + 4u, 4u) & ~7u; /* BIR 0 */
    (void)tg_vdrv_cfg_wr(d, cap + 2u, 2u, MSIX_ENABLE);
    for (uint32_t v = 0u; v < nvec; v++) {
        (void)tg_vdrv_wr(d, tbl + 16u * v, 4u, (uint32_t)TG_MSI_ADDR(v));
        (void)tg_vdrv_wr(d, tbl + 16u * v + 4u, 4u, 0u);
        (void)tg_vdrv_wr(d, tbl + 16u * v + 8u, 4u, TG_MSI_DATA(v));
        (void)tg_vdrv_wr(d, tbl + 16u * v + 12u, 4u, 0u);
    }
    (void)tg_vdrv_wr(d, PC_MSIX_CONFIG, 2u, 0u);
    bool ok = tg_vdrv_rd(d, PC_MSIX_CONFIG, 2u) != NO_VECTOR;
    for (uint32_t q = 0u; ok && q < nq; q++) {
        const uint32_t vec = per_vq ? q + 1u : 1u;
        (void)tg_vdrv_wr(d, PC_QSEL, 2u, q);
        (void)tg_vdrv_wr(d, PC_QMSIX, 2u, vec);
        ok = tg_vdrv_rd(d, PC_QMSIX, 2u) == vec;
    }
    if (!ok) {
        for (uint32_t q = 0u; q < nq; q++) {
            (void)tg_vdrv_wr(d, PC_QSEL, 2u, q);
            (void)tg_vdrv_wr(d, PC_QMSIX, 2u, NO_VECTOR);
        }
        (void)tg_vdrv_wr(d, PC_MSIX_CONFIG, 2u, NO_VECTOR);
        (void)tg_vdrv_cfg_wr(d, cap + 2u, 2u, 0u);
    }
    return ok;
}

tg_irq_mode tg_vdrv_up_irq(tg_vdrv *d, uint64_t feats, const tg_vring *rings, uint32_t nq, bool *ok)
{
    const uint32_t before = d->errors;
    tg_vdrv_pci_assign(d);
    (void)tg_vdrv_set_status(d, 0u);
    (void)tg_vdrv_set_status(d, 0x01u);
    (void)tg_vdrv_set_status(d, 0x03u);
    tg_vdrv_set_features(d, feats);
    (void)tg_vdrv_set_status(d, 0x0bu);
    const uint32_t cap = msix_cap(d);
    tg_irq_mode mode = TG_IRQ_INTX;
    if (cap != 0u && try_msix(d, cap, true, nq)) {
        mode = TG_IRQ_MSIX_PER_VQ;
    } else if (cap != 0u && try_msix(d, cap, false, nq)) {
        mode = TG_IRQ_MSIX_SHARED;
    } else {
        /* vp_find_vqs_intx() */
    }
    for (uint32_t q = 0u; q < nq; q++) {
        (void)tg_vdrv_queue(d, q, &rings[q]);
    }
    (void)tg_vdrv_set_status(d, 0x0fu);
    *ok = d->errors == before && tg_vdrv_status(d) == 0x0fu;
    return mode;
}
