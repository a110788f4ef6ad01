/* virtio-mmio transport engine. The register file is decoded by offset in two
 * switch statements (read, write); every path that is not an allowed access
 * falls through to the defined answer (0 / ignored) without touching state.
 * Queue addresses are not shadowed here: a half write (Low or High) is merged
 * with the other half the device engine already holds, so there is a single
 * copy of the ring configuration. */
#include "safevdev/mmio.h"

#include <string.h>

static void act_clear(svd_mmio_action *act)
{
    (void)memset(act, 0, sizeof(*act));
}

/* Compare the line level the device implies with the one last reported. */
static void update_irq(svd_mmio *m, svd_mmio_action *act)
{
    const bool level = svd_dev_isr(m->dev) != 0u;
    if (level != m->irq_level) {
        m->irq_level = level;
        act->irq_change = true;
    }
    act->irq_level = m->irq_level;
}

static void apply_event(svd_mmio *m, const svd_dev_event *ev, svd_mmio_action *act)
{
    if (ev->reset) {
        act->reset = true;
        m->dev_features_sel = 0u;
        m->drv_features_sel = 0u;
        m->queue_sel = 0u;
    }
    if (ev->failed) {
        act->failed = true;
    }
    update_irq(m, act);
}

svd_result svd_mmio_init(svd_mmio *m, svd_dev *dev, uint32_t vendor_id)
{
    SVD_ENSURE(m != NULL && dev != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(dev->config_len <= SVD_MMIO_CONFIG_MAX, SVD_ERR_INVALID_ARG);
    (void)memset(m, 0, sizeof(*m));
    m->dev = dev;
    m->vendor_id = vendor_id;
    return svd_ok();
}

static svd_result read_config(const svd_mmio *m, uint32_t off, uint32_t width, uint32_t *val)
{
    SVD_ENSURE(width == 1u || width == 2u || width == 4u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE((off & (width - 1u)) == 0u, SVD_ERR_INVALID_ARG);
    return svd_dev_config_read(m->dev, off, width, val);
}

static uint32_t queue_ready(const svd_mmio *m)
{
    const svd_vq *q = svd_dev_queue(m->dev, m->queue_sel);
    return (q != NULL && q->enabled) ? 1u : 0u;
}

static svd_result read_reg(const svd_mmio *m, uint32_t off, uint32_t *val)
{
    switch (off) {
    case SVD_MMIO_MAGIC_VALUE:
        *val = SVD_MMIO_MAGIC;
        return svd_ok();
    case SVD_MMIO_VERSION_REG:
        *val = SVD_MMIO_VERSION;
        return svd_ok();
    case SVD_MMIO_DEVICE_ID:
        *val = m->dev->device_id;
        return svd_ok();
    case SVD_MMIO_VENDOR_ID:
        *val = m->vendor_id;
        return svd_ok();
    case SVD_MMIO_DEVICE_FEATURES:
        *val = svd_dev_host_features_word(m->dev, m->dev_features_sel);
        return svd_ok();
    case SVD_MMIO_QUEUE_NUM_MAX:
        *val = svd_dev_queue_max(m->dev, m->queue_sel);
        return svd_ok();
    case SVD_MMIO_QUEUE_READY:
        *val = queue_ready(m);
        return svd_ok();
    case SVD_MMIO_INTERRUPT_STATUS:
        *val = svd_dev_isr(m->dev);
        return svd_ok();
    case SVD_MMIO_STATUS:
        *val = svd_dev_status(m->dev);
        return svd_ok();
    case SVD_MMIO_SHM_LEN_LOW:
    case SVD_MMIO_SHM_LEN_HIGH:
    case SVD_MMIO_SHM_BASE_LOW:
    case SVD_MMIO_SHM_BASE_HIGH:
        /* §4.2.2: a region that does not exist has length (and base) -1. */
        *val = 0xffffffffu;
        return svd_ok();
    case SVD_MMIO_QUEUE_RESET:
        *val = 0u;
        return svd_ok();
    case SVD_MMIO_CONFIG_GENERATION:
        *val = svd_dev_config_generation(m->dev);
        return svd_ok();
    default:
        return svd_fail(SVD_ERR_BOUNDS);
    }
}

svd_result svd_mmio_read(svd_mmio *m, uint64_t off, uint32_t width, uint32_t *val, svd_mmio_action *act)
{
    SVD_ENSURE(m != NULL && val != NULL && act != NULL, SVD_ERR_INVALID_ARG);
    act_clear(act);
    act->irq_level = m->irq_level;
    *val = 0u;
    SVD_ENSURE(off < SVD_MMIO_WINDOW_SIZE, SVD_ERR_BOUNDS);
    const uint32_t o = (uint32_t)off;
    uint32_t v = 0u;
    svd_result r;
    if (o >= SVD_MMIO_CONFIG_OFFSET) {
        r = read_config(m, o - SVD_MMIO_CONFIG_OFFSET, width, &v);
    } else if (width != 4u || (o & 3u) != 0u) {
        r = svd_fail(SVD_ERR_INVALID_ARG);
    } else {
        r = read_reg(m, o, &v);
    }
    if (svd_is_ok(r)) {
        *val = v;
    }
    return r;
}

/* Replace the low or high half of a 64-bit value. */
static uint64_t set_half(uint64_t old, bool high, uint32_t val)
{
    if (high) {
        return (old & UINT64_C(0xffffffff)) | ((uint64_t)val << 32);
    }
    return (old & UINT64_C(0xffffffff00000000)) | val;
}

/* QueueDesc/Driver/Device Low/High: which ring (0..2) and which half. */
static svd_result write_ring_addr(svd_mmio *m, uint32_t off, uint32_t val, svd_dev_event *ev)
{
    const svd_vq *q = svd_dev_queue(m->dev, m->queue_sel);
    SVD_ENSURE(q != NULL, SVD_ERR_BOUNDS);
    const uint32_t ring = (off - SVD_MMIO_QUEUE_DESC_LOW) >> 4;
    const bool high = (off & 4u) != 0u;
    uint64_t desc = q->desc_gpa;
    uint64_t avail = q->avail_gpa;
    uint64_t used = q->used_gpa;
    if (ring == 0u) {
        desc = set_half(desc, high, val);
    } else if (ring == 1u) {
        avail = set_half(avail, high, val);
    } else {
        used = set_half(used, high, val);
    }
    return svd_dev_queue_set_addrs(m->dev, m->queue_sel, desc, avail, used, ev);
}

static svd_result write_notify(svd_mmio *m, uint32_t val, svd_mmio_action *act)
{
    svd_vq *vq = NULL;
    SVD_GUARD(svd_dev_notify(m->dev, val, &vq));
    act->notify = true;
    act->queue = val;
    act->vq = vq;
    return svd_ok();
}

static svd_result write_reg(svd_mmio *m, uint32_t off, uint32_t val, svd_dev_event *ev, svd_mmio_action *act)
{
    switch (off) {
    case SVD_MMIO_DEVICE_FEATURES_SEL:
        m->dev_features_sel = val;
        return svd_ok();
    case SVD_MMIO_DRIVER_FEATURES:
        return svd_dev_set_driver_features_word(m->dev, m->drv_features_sel, val);
    case SVD_MMIO_DRIVER_FEATURES_SEL:
        m->drv_features_sel = val;
        return svd_ok();
    case SVD_MMIO_QUEUE_SEL:
        m->queue_sel = val;
        return svd_ok();
    case SVD_MMIO_QUEUE_NUM:
        return svd_dev_queue_set_size(m->dev, m->queue_sel, val, ev);
    case SVD_MMIO_QUEUE_READY:
        SVD_ENSURE(val <= 1u, SVD_ERR_BOUNDS);
        return svd_dev_queue_set_ready(m->dev, m->queue_sel, val == 1u, ev);
    case SVD_MMIO_QUEUE_NOTIFY:
        return write_notify(m, val, act);
    case SVD_MMIO_INTERRUPT_ACK:
        svd_dev_isr_ack(m->dev, (uint8_t)(val & (SVD_ISR_QUEUE | SVD_ISR_CONFIG)));
        return svd_ok();
    case SVD_MMIO_STATUS:
        SVD_ENSURE(val <= 0xffu, SVD_ERR_BOUNDS);
        return svd_dev_set_status(m->dev, (uint8_t)val, ev);
    case SVD_MMIO_QUEUE_DESC_LOW:
    case SVD_MMIO_QUEUE_DESC_HIGH:
    case SVD_MMIO_QUEUE_DRIVER_LOW:
    case SVD_MMIO_QUEUE_DRIVER_HIGH:
    case SVD_MMIO_QUEUE_DEVICE_LOW:
    case SVD_MMIO_QUEUE_DEVICE_HIGH:
        return write_ring_addr(m, off, val, ev);
    case SVD_MMIO_SHM_SEL:
    case SVD_MMIO_QUEUE_RESET:
        /* Accepted registers without an effect: no shared memory, no RING_RESET. */
        return svd_ok();
    default:
        return svd_fail(SVD_ERR_BOUNDS);
    }
}

svd_result svd_mmio_write(svd_mmio *m, uint64_t off, uint32_t width, uint32_t val, svd_mmio_action *act)
{
    SVD_ENSURE(m != NULL && act != NULL, SVD_ERR_INVALID_ARG);
    act_clear(act);
    act->irq_level = m->irq_level;
    SVD_ENSURE(off < SVD_MMIO_WINDOW_SIZE, SVD_ERR_BOUNDS);
    const uint32_t o = (uint32_t)off;
    if (o >= SVD_MMIO_CONFIG_OFFSET) {
        /* The device configuration is read-only for every device we model. */
        return svd_fail(width == 1u || width == 2u || width == 4u ? SVD_ERR_BOUNDS : SVD_ERR_INVALID_ARG);
    }
    SVD_ENSURE(width == 4u && (o & 3u) == 0u, SVD_ERR_INVALID_ARG);
    svd_dev_event ev;
    (void)memset(&ev, 0, sizeof(ev));
    const svd_result r = write_reg(m, o, val, &ev, act);
    apply_event(m, &ev, act);
    return r;
}

void svd_mmio_sync_irq(svd_mmio *m, svd_mmio_action *act)
{
    act_clear(act);
    update_irq(m, act);
}

void svd_mmio_reset(svd_mmio *m, svd_mmio_action *act)
{
    act_clear(act);
    svd_dev_reset(m->dev);
    const svd_dev_event ev = { .reset = true, .irq = false, .failed = false };
    apply_event(m, &ev, act);
}
