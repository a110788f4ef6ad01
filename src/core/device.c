/* Virtio device engine: status machine, feature negotiation, queue
 * configuration, interrupt status and configuration space.
 *
 * Status write rules (virtio 1.2 §2.1, §3.1.1), the ones the header states
 * plus the choices made where the spec is silent:
 * - the driver bits of a write are ACKNOWLEDGE, DRIVER, FEATURES_OK,
 *   DRIVER_OK and FAILED; reserved bits 0x10/0x20 are a protocol error;
 * - NEEDS_RESET is the device's bit: a driver that echoes it back while it is
 *   latched is fine (Linux writes "read status | new bit"), setting it while
 *   it is clear is a protocol error;
 * - after the write the set of ordered bits must be a prefix of
 *   ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK; several may be added in one
 *   write as long as the result is such a prefix;
 * - once NEEDS_RESET is latched or FAILED set, only FAILED may still be added
 *   (the driver must reset);
 * - a FEATURES_OK the features do not allow refuses the whole write, so the
 *   state is unchanged (the result contract) and the bit reads back clear.
 *
 * Queues start (after init and every reset) with their size preset to the
 * maximum, as virtio-pci's queue_size register requires; virtio-mmio
 * drivers overwrite it anyway.
 */
#include "safevdev/device.h"

#include <string.h>

#include "safevdev/span.h"

#define DEV_ORDERED_BITS \
    (SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK | SVD_STATUS_DRIVER_OK)
#define DEV_DRIVER_BITS (DEV_ORDERED_BITS | SVD_STATUS_FAILED)
#define DEV_SPECIFIC_FEATURES ((UINT64_C(1) << 24) - 1u)
#define DEV_TRANSPORT_FEATURES (SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC)

static bool is_pow2(uint32_t v)
{
    return v != 0u && (v & (v - 1u)) == 0u;
}

static void ev_clear(svd_dev_event *ev)
{
    (void)memset(ev, 0, sizeof(*ev));
}

/* Queues back to their post-reset state: disabled, configuration forgotten,
 * in-flight dropped, size preset to the maximum. */
static void dev_queues_reset(svd_dev *d)
{
    for (uint32_t i = 0u; i < d->num_queues; i++) {
        svd_vq_reset(&d->queues[i]);
        /* queue_max was validated by svd_dev_init() and the queue is disabled.
         * (Calls stay outside SVD_NEVER: coverage builds do not evaluate it.) */
        const svd_result r = svd_vq_set_size(&d->queues[i], d->queue_max);
        if (SVD_NEVER(!svd_is_ok(r))) {
            svd_vq_reset(&d->queues[i]);
        }
    }
}

/* Latch NEEDS_RESET without clearing @ev (callers already did). */
static void dev_latch(svd_dev *d, svd_dev_event *ev)
{
    if ((d->status & SVD_STATUS_NEEDS_RESET) != 0u) {
        return;
    }
    d->status = (uint8_t)(d->status | SVD_STATUS_NEEDS_RESET);
    for (uint32_t i = 0u; i < d->num_queues; i++) {
        svd_vq_disable(&d->queues[i]);
    }
    ev->failed = true;
    if ((d->status & SVD_STATUS_DRIVER_OK) != 0u) {
        d->isr = (uint8_t)(d->isr | SVD_ISR_CONFIG);
        d->config_generation++;
        ev->irq = true;
    }
}

/* Return a protocol error after latching NEEDS_RESET. */
static svd_result dev_protocol_error(svd_dev *d, svd_dev_event *ev)
{
    dev_latch(d, ev);
    return svd_fail(SVD_ERR_PROTOCOL);
}

svd_result svd_dev_init(svd_dev *d, const svd_dev_params *p, const svd_gmem *m)
{
    SVD_ENSURE(d != NULL && p != NULL && m != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(p->device_id != 0u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE((p->device_features & ~DEV_SPECIFIC_FEATURES) == 0u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(p->num_queues >= 1u && p->num_queues <= SVD_DEV_MAX_QUEUES, SVD_ERR_INVALID_ARG);
    /* A 16-bit power of two is at most 2^15 = SVD_VQ_MAX_SIZE; kept in case either type changes. */
    SVD_ENSURE(is_pow2(p->queue_max) && SVD_ALWAYS(p->queue_max <= SVD_VQ_MAX_SIZE), SVD_ERR_INVALID_ARG);
    SVD_ENSURE(p->config != NULL || p->config_len == 0u, SVD_ERR_INVALID_ARG);

    (void)memset(d, 0, sizeof(*d));
    d->device_id = p->device_id;
    d->host_features = p->device_features | DEV_TRANSPORT_FEATURES;
    d->num_queues = p->num_queues;
    d->queue_max = p->queue_max;
    d->config = p->config;
    d->config_len = p->config_len;
    d->gmem = m;
    for (uint32_t i = 0u; i < SVD_DEV_MAX_QUEUES; i++) {
        svd_vq_init(&d->queues[i]);
    }
    dev_queues_reset(d);
    return svd_ok();
}

void svd_dev_reset(svd_dev *d)
{
    dev_queues_reset(d);
    d->driver_features = 0u;
    d->status = 0u;
    d->isr = 0u;
}

static bool features_acceptable(const svd_dev *d)
{
    return (d->driver_features & ~d->host_features) == 0u && (d->driver_features & SVD_F_VERSION_1) != 0u;
}

/* True when the ordered bits of @s form a prefix of ACK, DRIVER, FEATURES_OK, DRIVER_OK. */
static bool ordered_prefix(uint8_t s)
{
    static const uint8_t prefixes[] = {
        0u,
        SVD_STATUS_ACKNOWLEDGE,
        SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER,
        SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK,
        DEV_ORDERED_BITS,
    };
    const uint8_t o = (uint8_t)(s & DEV_ORDERED_BITS);
    for (size_t i = 0u; i < sizeof(prefixes); i++) {
        if (o == prefixes[i]) {
            return true;
        }
    }
    return false;
}

svd_result svd_dev_set_status(svd_dev *d, uint8_t status, svd_dev_event *ev)
{
    ev_clear(ev);
    if (status == 0u) {
        svd_dev_reset(d);
        ev->reset = true;
        return svd_ok();
    }
    const bool latched = (d->status & SVD_STATUS_NEEDS_RESET) != 0u;
    if ((status & SVD_STATUS_NEEDS_RESET) != 0u && !latched) {
        return dev_protocol_error(d, ev);
    }
    if ((status & (uint8_t)~(DEV_DRIVER_BITS | SVD_STATUS_NEEDS_RESET)) != 0u) {
        return dev_protocol_error(d, ev);
    }
    const uint8_t old = (uint8_t)(d->status & DEV_DRIVER_BITS);
    const uint8_t neu = (uint8_t)(status & DEV_DRIVER_BITS);
    if ((old & (uint8_t)~neu) != 0u) {
        return dev_protocol_error(d, ev); /* a bit was cleared */
    }
    const uint8_t added = (uint8_t)(neu & (uint8_t)~old);
    if (added == 0u) {
        return svd_ok();
    }
    if ((latched || (old & SVD_STATUS_FAILED) != 0u) && added != SVD_STATUS_FAILED) {
        return dev_protocol_error(d, ev);
    }
    if (!ordered_prefix(neu)) {
        return dev_protocol_error(d, ev);
    }
    if ((added & SVD_STATUS_FEATURES_OK) != 0u && !features_acceptable(d)) {
        return svd_fail(SVD_ERR_STATE);
    }
    d->status = (uint8_t)(d->status | added);
    return svd_ok();
}

uint8_t svd_dev_status(const svd_dev *d)
{
    return d->status;
}

static uint32_t feature_window(uint64_t f, uint32_t sel)
{
    switch (sel) {
    case 0u:
        return (uint32_t)(f & 0xffffffffu);
    case 1u:
        return (uint32_t)(f >> 32);
    default:
        return 0u;
    }
}

uint32_t svd_dev_host_features_word(const svd_dev *d, uint32_t sel)
{
    return feature_window(d->host_features, sel);
}

svd_result svd_dev_set_driver_features_word(svd_dev *d, uint32_t sel, uint32_t val)
{
    const uint8_t s = d->status;
    SVD_ENSURE((s & SVD_STATUS_DRIVER) != 0u, SVD_ERR_STATE);
    SVD_ENSURE((s & (SVD_STATUS_FEATURES_OK | SVD_STATUS_NEEDS_RESET | SVD_STATUS_FAILED)) == 0u, SVD_ERR_STATE);
    SVD_ENSURE(sel <= 1u, SVD_ERR_BOUNDS);
    const unsigned shift = sel * 32u;
    d->driver_features = (d->driver_features & ~(UINT64_C(0xffffffff) << shift)) | ((uint64_t)val << shift);
    return svd_ok();
}

uint32_t svd_dev_driver_features_word(const svd_dev *d, uint32_t sel)
{
    return feature_window(d->driver_features, sel);
}

bool svd_dev_has_feature(const svd_dev *d, uint64_t f)
{
    return f != 0u && (d->status & SVD_STATUS_FEATURES_OK) != 0u && (d->driver_features & f) == f;
}

uint16_t svd_dev_queue_max(const svd_dev *d, uint32_t q)
{
    return q < d->num_queues ? d->queue_max : 0u;
}

const svd_vq *svd_dev_queue(const svd_dev *d, uint32_t q)
{
    return q < d->num_queues ? &d->queues[q] : NULL;
}

/* Common gate of the queue configuration writes: the queue exists and the
 * device is between FEATURES_OK and DRIVER_OK, with no latch or FAILED. */
static svd_result queue_cfg_gate(const svd_dev *d, uint32_t q)
{
    SVD_ENSURE(q < d->num_queues, SVD_ERR_BOUNDS);
    const uint8_t s = d->status;
    SVD_ENSURE((s & SVD_STATUS_FEATURES_OK) != 0u, SVD_ERR_STATE);
    SVD_ENSURE((s & (SVD_STATUS_DRIVER_OK | SVD_STATUS_NEEDS_RESET | SVD_STATUS_FAILED)) == 0u, SVD_ERR_STATE);
    return svd_ok();
}

svd_result svd_dev_queue_set_size(svd_dev *d, uint32_t q, uint32_t size, svd_dev_event *ev)
{
    ev_clear(ev);
    SVD_GUARD(queue_cfg_gate(d, q));
    svd_vq *vq = &d->queues[q];
    if (vq->enabled || !is_pow2(size) || size > d->queue_max) {
        return dev_protocol_error(d, ev);
    }
    const svd_result r = svd_vq_set_size(vq, size);
    if (SVD_NEVER(!svd_is_ok(r))) {
        return dev_protocol_error(d, ev);
    }
    return svd_ok();
}

svd_result svd_dev_queue_set_addrs(svd_dev *d, uint32_t q, uint64_t desc, uint64_t avail, uint64_t used,
                                   svd_dev_event *ev)
{
    ev_clear(ev);
    SVD_GUARD(queue_cfg_gate(d, q));
    svd_vq *vq = &d->queues[q];
    if (vq->enabled) {
        return dev_protocol_error(d, ev);
    }
    const svd_result r = svd_vq_set_addrs(vq, desc, avail, used);
    if (SVD_NEVER(!svd_is_ok(r))) {
        return dev_protocol_error(d, ev);
    }
    return svd_ok();
}

svd_result svd_dev_queue_set_ready(svd_dev *d, uint32_t q, bool ready, svd_dev_event *ev)
{
    ev_clear(ev);
    SVD_GUARD(queue_cfg_gate(d, q));
    svd_vq *vq = &d->queues[q];
    if (!ready) {
        if (vq->enabled) {
            return dev_protocol_error(d, ev);
        }
        return svd_ok();
    }
    if (vq->enabled) {
        return svd_ok(); /* ready written twice: nothing changes */
    }
    const bool event_idx = (d->driver_features & SVD_F_RING_EVENT_IDX) != 0u;
    const bool indirect = (d->driver_features & SVD_F_RING_INDIRECT_DESC) != 0u;
    const svd_result r = svd_vq_set_features(vq, event_idx, indirect);
    if (SVD_NEVER(!svd_is_ok(r))) {
        return dev_protocol_error(d, ev);
    }
    if (!svd_is_ok(svd_vq_enable(vq, d->gmem))) {
        return dev_protocol_error(d, ev);
    }
    return svd_ok();
}

svd_result svd_dev_notify(svd_dev *d, uint32_t q, svd_vq **out)
{
    const uint8_t s = d->status;
    SVD_ENSURE((s & SVD_STATUS_DRIVER_OK) != 0u, SVD_ERR_STATE);
    SVD_ENSURE((s & (SVD_STATUS_NEEDS_RESET | SVD_STATUS_FAILED)) == 0u, SVD_ERR_STATE);
    SVD_ENSURE(q < d->num_queues, SVD_ERR_BOUNDS);
    svd_vq *vq = &d->queues[q];
    SVD_ENSURE(vq->enabled && !vq->broken, SVD_ERR_STATE);
    *out = vq;
    return svd_ok();
}

void svd_dev_queue_processed(svd_dev *d, uint32_t q, svd_result r, svd_dev_event *ev)
{
    ev_clear(ev);
    if (svd_is_err(r, SVD_ERR_PROTOCOL)) {
        dev_latch(d, ev);
        return;
    }
    if (q >= d->num_queues || (d->status & SVD_STATUS_DRIVER_OK) == 0u ||
        (d->status & SVD_STATUS_NEEDS_RESET) != 0u) {
        return;
    }
    bool need = false;
    if (!svd_is_ok(svd_vq_need_interrupt(&d->queues[q], d->gmem, &need))) {
        return; /* queue not running: nothing was completed on it */
    }
    if (need) {
        d->isr = (uint8_t)(d->isr | SVD_ISR_QUEUE);
        ev->irq = true;
    }
}

void svd_dev_fail(svd_dev *d, svd_dev_event *ev)
{
    ev_clear(ev);
    dev_latch(d, ev);
}

bool svd_dev_needs_reset(const svd_dev *d)
{
    return (d->status & SVD_STATUS_NEEDS_RESET) != 0u;
}

uint8_t svd_dev_isr(const svd_dev *d)
{
    return d->isr;
}

void svd_dev_isr_ack(svd_dev *d, uint8_t bits)
{
    d->isr = (uint8_t)(d->isr & (uint8_t)~bits);
}

uint8_t svd_dev_isr_read_clear(svd_dev *d)
{
    const uint8_t v = d->isr;
    d->isr = 0u;
    return v;
}

uint32_t svd_dev_config_generation(const svd_dev *d)
{
    return d->config_generation;
}

svd_result svd_dev_config_read(const svd_dev *d, uint32_t off, uint32_t width, uint32_t *val)
{
    SVD_ENSURE(width == 1u || width == 2u || width == 4u, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_range_check(off, width, d->config_len));
    uint32_t v = 0u;
    for (uint32_t i = 0u; i < width; i++) {
        v |= (uint32_t)d->config[off + i] << (8u * i);
    }
    *val = v;
    return svd_ok();
}
