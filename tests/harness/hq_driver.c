/* virtio driver model (Linux probe order); see hq_driver.h. Register offsets
 * are written from the virtio 1.2 spec here on purpose, not taken from the
 * engines' headers, so a wrong constant in an engine shows up as a failure. */
#include <string.h>

#include "hq_driver.h"

/* virtio 1.2 §4.2.2 (MMIO, version 2) */
#define M_MAGIC 0x000u
#define M_VERSION 0x004u
#define M_DEVICE_ID 0x008u
#define M_DEV_FEAT 0x010u
#define M_DEV_FEAT_SEL 0x014u
#define M_DRV_FEAT 0x020u
#define M_DRV_FEAT_SEL 0x024u
#define M_QUEUE_SEL 0x030u
#define M_QUEUE_NUM_MAX 0x034u
#define M_QUEUE_NUM 0x038u
#define M_QUEUE_READY 0x044u
#define M_QUEUE_NOTIFY 0x050u
#define M_INT_STATUS 0x060u
#define M_INT_ACK 0x064u
#define M_STATUS 0x070u
#define M_DESC_LO 0x080u
#define M_DESC_HI 0x084u
#define M_DRIVER_LO 0x090u
#define M_DRIVER_HI 0x094u
#define M_DEVICE_LO 0x0a0u
#define M_DEVICE_HI 0x0a4u

/* virtio 1.2 §4.1.4.3 common configuration */
#define C_DEV_FEAT_SEL 0x00u
#define C_DEV_FEAT 0x04u
#define C_DRV_FEAT_SEL 0x08u
#define C_DRV_FEAT 0x0cu
#define C_NUM_QUEUES 0x12u
#define C_STATUS 0x14u
#define C_MSIX_CONFIG 0x10u
#define C_QUEUE_SEL 0x16u
#define C_QUEUE_MSIX 0x1au
#define C_QUEUE_SIZE 0x18u
#define C_QUEUE_ENABLE 0x1cu
#define C_QUEUE_NOTIFY_OFF 0x1eu
#define C_QUEUE_DESC 0x20u
#define C_QUEUE_DRIVER 0x28u
#define C_QUEUE_DEVICE 0x30u

/* PCI 3.0 §6.8.2: MSI-X capability */
#define CAP_ID_MSIX 0x11u
#define MSIX_ENABLE 0x8000u
#define MSIX_FMASK 0x4000u
#define NO_VECTOR 0xffffu

#define S_ACK 0x01u
#define S_DRIVER 0x02u
#define S_DRIVER_OK 0x04u
#define S_FEATURES_OK 0x08u
#define S_NEEDS_RESET 0x40u
#define S_FAILED 0x80u
#define F_VERSION_1 (UINT64_C(1) << 32)
#define F_EVENT_IDX (UINT64_C(1) << 29)

static uint64_t acc(hq_drv *v, bool write, unsigned type, uint64_t loc, unsigned width, uint64_t val)
{
    uint64_t x = val;
    int r = hq_access(v->d, write, type, loc, width, &x);
    if (r < 0) {
        v->status_faults++; /* a refused access is a driver-visible fault in this model */
        return 0;
    }
    return write ? 0 : x;
}

static uint64_t cfg_read(hq_drv *v, uint32_t off, unsigned width)
{
    return acc(v, false, QST_PCI, off, width, 0);
}

static void cfg_write(hq_drv *v, uint32_t off, unsigned width, uint64_t val)
{
    (void)acc(v, true, QST_PCI, off, width, val);
}

uint64_t hq_drv_reg_read(hq_drv *v, uint32_t off, unsigned width)
{
    return acc(v, false, QST_MEMORY, v->base + (v->pci ? v->common_off : 0u) + off, width, 0);
}

void hq_drv_reg_write(hq_drv *v, uint32_t off, unsigned width, uint64_t val)
{
    (void)acc(v, true, QST_MEMORY, v->base + (v->pci ? v->common_off : 0u) + off, width, val);
}

uint8_t hq_drv_status(hq_drv *v)
{
    return (uint8_t)(v->pci ? hq_drv_reg_read(v, C_STATUS, 1) : hq_drv_reg_read(v, M_STATUS, 4));
}

static void set_status(hq_drv *v, uint8_t s)
{
    if (v->pci) {
        hq_drv_reg_write(v, C_STATUS, 1, s);
    } else {
        hq_drv_reg_write(v, M_STATUS, 4, s);
    }
}

static uint64_t read_features(hq_drv *v)
{
    uint64_t f = 0;
    for (uint32_t sel = 0; sel < 2u; sel++) {
        if (v->pci) {
            hq_drv_reg_write(v, C_DEV_FEAT_SEL, 4, sel);
            f |= hq_drv_reg_read(v, C_DEV_FEAT, 4) << (32u * sel);
        } else {
            hq_drv_reg_write(v, M_DEV_FEAT_SEL, 4, sel);
            f |= hq_drv_reg_read(v, M_DEV_FEAT, 4) << (32u * sel);
        }
    }
    return f;
}

static void write_features(hq_drv *v, uint64_t f)
{
    for (uint32_t sel = 0; sel < 2u; sel++) {
        uint64_t w = (f >> (32u * sel)) & 0xffffffffu;
        if (v->pci) {
            hq_drv_reg_write(v, C_DRV_FEAT_SEL, 4, sel);
            hq_drv_reg_write(v, C_DRV_FEAT, 4, w);
        } else {
            hq_drv_reg_write(v, M_DRV_FEAT_SEL, 4, sel);
            hq_drv_reg_write(v, M_DRV_FEAT, 4, w);
        }
    }
}

/* Firmware + virtio_pci_modern probe: BAR sizing/assignment, capabilities. */
static int pci_discover(hq_drv *v, uint64_t bar_gpa)
{
    if ((cfg_read(v, 0x00, 2) != 0x1af4u) || (cfg_read(v, 0x02, 2) != 0x1044u) || (cfg_read(v, 0x08, 1) < 1u)) {
        return HQ_DRV_E_IDENT;
    }
    /* BAR0 sizing, as firmware does it. */
    cfg_write(v, 0x10, 4, 0xffffffffu);
    uint32_t lo = (uint32_t)cfg_read(v, 0x10, 4);
    bool is64 = ((lo >> 1) & 3u) == 2u;
    uint64_t mask = lo & ~UINT32_C(0xf);
    if (is64) {
        cfg_write(v, 0x14, 4, 0xffffffffu);
        mask |= cfg_read(v, 0x14, 4) << 32;
    } else {
        mask |= UINT64_C(0xffffffff00000000);
    }
    uint64_t size = ~mask + 1u;
    if ((size == 0u) || ((size & (size - 1u)) != 0u) || ((bar_gpa & (size - 1u)) != 0u)) {
        return HQ_DRV_E_CAPS;
    }
    cfg_write(v, 0x10, 4, bar_gpa & 0xffffffffu);
    if (is64) {
        cfg_write(v, 0x14, 4, bar_gpa >> 32);
    }
    cfg_write(v, 0x04, 2, 0x0006u); /* MEMORY | BUS_MASTER */
    v->base = bar_gpa;
    if ((cfg_read(v, 0x06, 2) & 0x10u) == 0u) {
        return HQ_DRV_E_CAPS;
    }
    bool have[5] = { false, false, false, false, false };
    uint32_t pos = (uint32_t)cfg_read(v, 0x34, 1);
    for (unsigned guard = 0; (pos != 0u) && (guard < 48u); guard++) {
        if ((pos < 0x40u) || (pos > 0xf0u) || ((pos & 3u) != 0u)) {
            return HQ_DRV_E_CAPS;
        }
        uint32_t id = (uint32_t)cfg_read(v, pos, 1);
        uint32_t next = (uint32_t)cfg_read(v, pos + 1u, 1);
        if (id == 0x09u) {
            uint32_t type = (uint32_t)cfg_read(v, pos + 3u, 1);
            uint32_t bar = (uint32_t)cfg_read(v, pos + 4u, 1);
            uint32_t off = (uint32_t)cfg_read(v, pos + 8u, 4);
            uint32_t len = (uint32_t)cfg_read(v, pos + 12u, 4);
            if ((type >= 1u) && (type <= 4u)) {
                if ((bar != 0u) || ((uint64_t)off + len > size)) {
                    return HQ_DRV_E_CAPS;
                }
                have[type] = true;
                switch (type) {
                case 1: v->common_off = off; if (len < 0x38u) { return HQ_DRV_E_CAPS; } break;
                case 2: v->notify_off = off; v->notify_mult = (uint32_t)cfg_read(v, pos + 16u, 4); break;
                case 3: v->isr_off = off; break;
                case 4: v->device_off = off; break;
                default: break;
                }
            }
        }
        pos = next;
    }
    if (!have[1] || !have[2] || !have[3]) {
        return HQ_DRV_E_CAPS;
    }
    return HQ_DRV_OK;
}

/* The MSI-X capability, and where its table and PBA are (BIR 0 only). */
static void find_msix(hq_drv *v)
{
    uint32_t pos = (uint32_t)cfg_read(v, 0x34, 1);
    for (unsigned guard = 0; (pos != 0u) && (guard < 48u); guard++) {
        if (cfg_read(v, pos, 1) == CAP_ID_MSIX) {
            const uint32_t t = (uint32_t)cfg_read(v, pos + 4u, 4);
            const uint32_t p = (uint32_t)cfg_read(v, pos + 8u, 4);
            if (((t & 7u) == 0u) && ((p & 7u) == 0u)) {
                v->msix_cap = pos;
                v->msix_table = t & ~7u;
                v->msix_pba = p & ~7u;
            }
            return;
        }
        pos = (uint32_t)cfg_read(v, pos + 1u, 1);
    }
}

static void bar_write32(hq_drv *v, uint32_t off, uint32_t val)
{
    (void)acc(v, true, QST_MEMORY, v->base + off, 4, val);
}

/* vp_del_vqs + pci_free_irq_vectors: every vector back to NO_VECTOR, MSI-X off. */
static void msix_undo(hq_drv *v)
{
    hq_drv_reg_write(v, C_QUEUE_SEL, 2, 0);
    hq_drv_reg_write(v, C_QUEUE_MSIX, 2, NO_VECTOR);
    hq_drv_reg_write(v, C_MSIX_CONFIG, 2, NO_VECTOR);
    cfg_write(v, v->msix_cap + 2u, 2, 0);
}

/* One vp_find_vqs_msix() attempt for queue 0 (the entropy device has one). */
static bool msix_try(hq_drv *v, bool per_vq)
{
    const unsigned nvec = per_vq ? 1u + 1u : 2u; /* config + one per queue, or config + shared */
    const unsigned table = ((unsigned)cfg_read(v, v->msix_cap + 2u, 2) & 0x7ffu) + 1u;
    if ((nvec > table) || (nvec > v->os_vectors)) {
        return false; /* pci_alloc_irq_vectors() fails: nothing touched */
    }
    cfg_write(v, v->msix_cap + 2u, 2, MSIX_ENABLE | MSIX_FMASK);
    for (unsigned i = 0; i < nvec; i++) {
        const uint32_t e = v->msix_table + 16u * i;
        bar_write32(v, e, (uint32_t)HQ_MSI_ADDR(i));
        bar_write32(v, e + 4u, (uint32_t)(HQ_MSI_ADDR(i) >> 32));
        bar_write32(v, e + 8u, HQ_MSI_DATA(i));
        bar_write32(v, e + 12u, 1u); /* masked until request_irq */
    }
    cfg_write(v, v->msix_cap + 2u, 2, MSIX_ENABLE);
    for (unsigned i = 0; i < nvec; i++) {
        bar_write32(v, v->msix_table + 16u * i + 12u, 0u);
    }
    hq_drv_reg_write(v, C_MSIX_CONFIG, 2, 0);
    bool ok = hq_drv_reg_read(v, C_MSIX_CONFIG, 2) == 0u;
    if (ok) {
        hq_drv_reg_write(v, C_QUEUE_SEL, 2, 0);
        hq_drv_reg_write(v, C_QUEUE_MSIX, 2, 1u); /* queue 0: vector 1 either way */
        ok = hq_drv_reg_read(v, C_QUEUE_MSIX, 2) == 1u;
    }
    if (!ok) {
        msix_undo(v);
    }
    return ok;
}

/* vp_find_vqs(): per-queue vectors, then a shared one, then INTx. */
static void choose_irq(hq_drv *v)
{
    v->irq_mode = HQ_IRQ_INTX;
    find_msix(v);
    if (v->msix_cap == 0u) {
        return;
    }
    if (msix_try(v, true)) {
        v->irq_mode = HQ_IRQ_MSIX_PER_VQ;
    } else if (msix_try(v, false)) {
        v->irq_mode = HQ_IRQ_MSIX_SHARED;
    } else {
        /* vp_find_vqs_intx() */
    }
}

int hq_drv_probe(hq_drv *v, hq_dev *d, uint64_t bar_gpa, uint64_t ring_gpa, uint16_t qsize, uint64_t want)
{
    return hq_drv_probe_irq(v, d, bar_gpa, ring_gpa, qsize, want, 0u);
}

int hq_drv_probe_irq(hq_drv *v, hq_dev *d, uint64_t bar_gpa, uint64_t ring_gpa, uint16_t qsize, uint64_t want,
                     unsigned os_vectors)
{
    memset(v, 0, sizeof *v);
    v->d = d;
    v->os_vectors = os_vectors;
    v->msi_next = hq_msis();
    v->pci = hq_dev_is_pci(d);
    if (v->pci) {
        int r = pci_discover(v, bar_gpa);
        if (r != HQ_DRV_OK) {
            return r;
        }
    } else {
        v->base = hq_dev_loc(d);
        if ((hq_drv_reg_read(v, M_MAGIC, 4) != 0x74726976u) || (hq_drv_reg_read(v, M_VERSION, 4) != 2u) ||
            (hq_drv_reg_read(v, M_DEVICE_ID, 4) != 4u)) {
            return HQ_DRV_E_IDENT;
        }
    }
    set_status(v, 0);
    if (hq_drv_status(v) != 0u) {
        return HQ_DRV_E_RESET;
    }
    set_status(v, S_ACK);
    set_status(v, S_ACK | S_DRIVER);
    uint64_t dev_f = read_features(v);
    if ((dev_f & F_VERSION_1) == 0u) {
        return HQ_DRV_E_FEATURES;
    }
    v->features = dev_f & (F_VERSION_1 | want);
    write_features(v, v->features);
    set_status(v, S_ACK | S_DRIVER | S_FEATURES_OK);
    if ((hq_drv_status(v) & S_FEATURES_OK) == 0u) {
        set_status(v, S_ACK | S_DRIVER | S_FAILED);
        v->status_faults++;
        return HQ_DRV_E_FEATURES;
    }
    (void)tg_vring_init(&v->vr, hq_ram(), qsize, ring_gpa);
    if (v->pci) {
        if (hq_drv_reg_read(v, C_NUM_QUEUES, 2) < 1u) {
            return HQ_DRV_E_QUEUE;
        }
        choose_irq(v);
        hq_drv_reg_write(v, C_QUEUE_SEL, 2, 0);
        uint64_t max = hq_drv_reg_read(v, C_QUEUE_SIZE, 2);
        if ((max < qsize) || (hq_drv_reg_read(v, C_QUEUE_ENABLE, 2) != 0u)) {
            return HQ_DRV_E_QUEUE;
        }
        hq_drv_reg_write(v, C_QUEUE_SIZE, 2, qsize);
        /* vp_iowrite64_twopart: low half first */
        hq_drv_reg_write(v, C_QUEUE_DESC, 4, v->vr.desc & 0xffffffffu);
        hq_drv_reg_write(v, C_QUEUE_DESC + 4u, 4, v->vr.desc >> 32);
        hq_drv_reg_write(v, C_QUEUE_DRIVER, 4, v->vr.avail & 0xffffffffu);
        hq_drv_reg_write(v, C_QUEUE_DRIVER + 4u, 4, v->vr.avail >> 32);
        hq_drv_reg_write(v, C_QUEUE_DEVICE, 4, v->vr.used & 0xffffffffu);
        hq_drv_reg_write(v, C_QUEUE_DEVICE + 4u, 4, v->vr.used >> 32);
        v->queue_notify_off = (uint16_t)hq_drv_reg_read(v, C_QUEUE_NOTIFY_OFF, 2);
        hq_drv_reg_write(v, C_QUEUE_ENABLE, 2, 1);
    } else {
        hq_drv_reg_write(v, M_QUEUE_SEL, 4, 0);
        if (hq_drv_reg_read(v, M_QUEUE_READY, 4) != 0u) {
            return HQ_DRV_E_QUEUE;
        }
        uint64_t max = hq_drv_reg_read(v, M_QUEUE_NUM_MAX, 4);
        if (max < qsize) {
            return HQ_DRV_E_QUEUE;
        }
        hq_drv_reg_write(v, M_QUEUE_NUM, 4, qsize);
        hq_drv_reg_write(v, M_DESC_LO, 4, v->vr.desc & 0xffffffffu);
        hq_drv_reg_write(v, M_DESC_HI, 4, v->vr.desc >> 32);
        hq_drv_reg_write(v, M_DRIVER_LO, 4, v->vr.avail & 0xffffffffu);
        hq_drv_reg_write(v, M_DRIVER_HI, 4, v->vr.avail >> 32);
        hq_drv_reg_write(v, M_DEVICE_LO, 4, v->vr.used & 0xffffffffu);
        hq_drv_reg_write(v, M_DEVICE_HI, 4, v->vr.used >> 32);
        hq_drv_reg_write(v, M_QUEUE_READY, 4, 1);
        if (hq_drv_reg_read(v, M_QUEUE_READY, 4) != 1u) {
            return HQ_DRV_E_QUEUE;
        }
    }
    set_status(v, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    uint8_t st = hq_drv_status(v);
    if (((st & S_DRIVER_OK) == 0u) || ((st & S_NEEDS_RESET) != 0u)) {
        return HQ_DRV_E_DRIVER_OK;
    }
    return (v->status_faults == 0u) ? HQ_DRV_OK : HQ_DRV_E_ACCESS;
}

static void kick(hq_drv *v)
{
    if (v->pci) {
        uint64_t at = v->base + v->notify_off + (uint64_t)v->queue_notify_off * v->notify_mult;
        (void)acc(v, true, QST_MEMORY, at, 2, 0);
    } else {
        hq_drv_reg_write(v, M_QUEUE_NOTIFY, 4, 0);
    }
}

static bool handle_msi(hq_drv *v)
{
    bool any = false;
    hq_msi m;
    while (hq_msi_at(v->msi_next, &m)) {
        v->msi_next++;
        if (m.src != hq_dev_vdev(v->d)) {
            continue; /* another instance's */
        }
        if ((m.addr == HQ_MSI_ADDR(1)) && (m.data == HQ_MSI_DATA(1))) {
            v->msi_queue++;
            v->irq_seen++;
            any = true;
        } else if ((m.addr == HQ_MSI_ADDR(0)) && (m.data == HQ_MSI_DATA(0))) {
            v->msi_config++;
            v->status_faults++; /* configuration change: Linux re-reads status, sees NEEDS_RESET */
            any = true;
        } else {
            v->msi_stray++;
        }
    }
    return any;
}

bool hq_drv_handle_irq(hq_drv *v)
{
    if (v->pci && (v->irq_mode != HQ_IRQ_INTX)) {
        return handle_msi(v);
    }
    if (!hq_irq_level(hq_dev_pin(v->d))) {
        return false;
    }
    uint64_t isr;
    if (v->pci) {
        isr = acc(v, false, QST_MEMORY, v->base + v->isr_off, 1, 0); /* read clears */
    } else {
        isr = hq_drv_reg_read(v, M_INT_STATUS, 4);
        hq_drv_reg_write(v, M_INT_ACK, 4, isr);
    }
    if ((isr & 2u) != 0u) {
        v->status_faults++; /* configuration change: Linux re-reads status, sees NEEDS_RESET */
    }
    v->irq_seen++;
    return isr != 0u;
}

long hq_drv_read(hq_drv *v, uint64_t buf_gpa, uint32_t len, uint64_t step_ns, unsigned max_steps)
{
    uint16_t head = (uint16_t)(v->vr.avail_idx % v->vr.size);
    tg_vring_set_desc(&v->vr, head, buf_gpa, len, 2u /* WRITE */, 0);
    uint16_t old = v->vr.avail_idx;
    tg_vring_publish(&v->vr, head);
    if (tg_vring_should_kick(&v->vr, (v->features & F_EVENT_IDX) != 0u, old)) {
        kick(v);
    }
    for (unsigned step = 0;; step++) {
        (void)hq_drv_handle_irq(v);
        uint32_t id = 0;
        uint32_t got = 0;
        if (tg_vring_get_used(&v->vr, &id, &got)) {
            return (id == head) ? (long)got : -1;
        }
        if (step >= max_steps) {
            return -1;
        }
        hq_clock_advance(step_ns);
    }
}
