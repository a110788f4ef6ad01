/* virtio-mmio transport engine. The register file is decoded by offset in two
 * switch statements (read, write); every path that is not an allowed access
 * falls through to the defined answer (0 / ignored) without touching state.
 * Queue addresses are not shadowed here: a half write (Low or High) goes to
 * the queue, which merges it with the other half it holds, so there is a
 * single copy of the ring configuration. */
#include "core_priv.h"

#include <string.h>

void svd_mmio_sync_irq(svd_mmio *m, svd_fx *fx)
{
    const bool level = svd_dev_isr(m->dev) != 0u;
    if (level != m->irq_level) {
        m->irq_level = level;
        fx->irq_changed = true;
    }
    fx->irq_level = m->irq_level;
}

/* After a write: a device reset returns the selectors to 0; the line
 * follows the interrupt status. */
static void after_write(svd_mmio *m, svd_fx *fx)
{
    if (fx->reset) {
        m->dev_features_sel = 0u;
        m->drv_features_sel = 0u;
        m->queue_sel = 0u;
    }
    svd_mmio_sync_irq(m, fx);
}

svd_result svd_mmio_init(svd_mmio *m, svd_dev *dev, uint32_t vendor_id)
{
    SVD_ENSURE(m != NULL && dev != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(svd_dev_config_len(dev) <= SVD_MMIO_CONFIG_MAX, SVD_ERR_INVALID_ARG);
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
    return (q != NULL && svd_vq_enabled(q)) ? 1u : 0u;
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
        *val = svd_dev_device_id(m->dev);
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

svd_result svd_mmio_read(svd_mmio *m, uint64_t off, uint32_t width, uint32_t *val, svd_fx *fx)
{
    fx->irq_level = m->irq_level;
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

/* QueueDesc/Driver/Device Low/High: which ring and which half. */
static svd_result write_ring_addr(svd_mmio *m, uint32_t off, uint32_t val, svd_fx *fx)
{
    svd_vq_ring r = SVD_VQ_RING_USED;
    if (off < SVD_MMIO_QUEUE_DRIVER_LOW) {
        r = SVD_VQ_RING_DESC;
    } else if (off < SVD_MMIO_QUEUE_DEVICE_LOW) {
        r = SVD_VQ_RING_AVAIL;
    } else {
        /* QueueDevice Low/High */
    }
    return svd_dev_queue_set_addr_half(m->dev, m->queue_sel, r, (off & 4u) != 0u, val, fx);
}

static svd_result write_reg(svd_mmio *m, uint32_t off, uint32_t val, uint64_t now, svd_fx *fx)
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
        return svd_dev_queue_set_size(m->dev, m->queue_sel, val, fx);
    case SVD_MMIO_QUEUE_READY:
        SVD_ENSURE(val <= 1u, SVD_ERR_BOUNDS);
        return svd_dev_queue_set_ready(m->dev, m->queue_sel, val == 1u, fx);
    case SVD_MMIO_QUEUE_NOTIFY:
        return svd_dev_kick(m->dev, val, now, fx);
    case SVD_MMIO_INTERRUPT_ACK:
        svd_dev_isr_ack(m->dev, (uint8_t)(val & (SVD_ISR_QUEUE | SVD_ISR_CONFIG)));
        return svd_ok();
    case SVD_MMIO_STATUS:
        SVD_ENSURE(val <= 0xffu, SVD_ERR_BOUNDS);
        return svd_dev_set_status(m->dev, (uint8_t)val, fx);
    case SVD_MMIO_QUEUE_DESC_LOW:
    case SVD_MMIO_QUEUE_DESC_HIGH:
    case SVD_MMIO_QUEUE_DRIVER_LOW:
    case SVD_MMIO_QUEUE_DRIVER_HIGH:
    case SVD_MMIO_QUEUE_DEVICE_LOW:
    case SVD_MMIO_QUEUE_DEVICE_HIGH:
        return write_ring_addr(m, off, val, fx);
    case SVD_MMIO_SHM_SEL:
    case SVD_MMIO_QUEUE_RESET:
        /* Accepted registers without an effect: no shared memory, no RING_RESET. */
        return svd_ok();
    default:
        return svd_fail(SVD_ERR_BOUNDS);
    }
}

svd_result svd_mmio_write(svd_mmio *m, uint64_t off, uint32_t width, uint32_t val, uint64_t now, svd_fx *fx)
{
    fx->irq_level = m->irq_level;
    SVD_ENSURE(off < SVD_MMIO_WINDOW_SIZE, SVD_ERR_BOUNDS);
    const uint32_t o = (uint32_t)off;
    if (o >= SVD_MMIO_CONFIG_OFFSET) {
        /* The device configuration is read-only for every device we model. */
        return svd_fail(width == 1u || width == 2u || width == 4u ? SVD_ERR_BOUNDS : SVD_ERR_INVALID_ARG);
    }
    SVD_ENSURE(width == 4u && (o & 3u) == 0u, SVD_ERR_INVALID_ARG);
    const svd_result r = write_reg(m, o, val, now, fx);
    after_write(m, fx);
    return r;
}

void svd_mmio_reset(svd_mmio *m, svd_fx *fx)
{
    svd_dev_reset(m->dev);
    fx->reset = true;
    after_write(m, fx);
}
