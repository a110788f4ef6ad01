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
 * maximum (the queue engine does it), as virtio-pci's queue_size register
 * requires; virtio-mmio drivers overwrite it anyway.
 *
 * The notification chain: a kick on a ready queue calls the model's serve,
 * then asks the queue whether the driver wants an interrupt for what was
 * completed, and sets the interrupt status; the model's failure latches.
 * A host-driven device (no emulated transport) has no status machine of its
 * own: its front-end negotiated and starts queues with svd_dev_queue_start().
 */
#include "core_priv.h"

#include <string.h>

#define DEV_ORDERED_BITS \
    (SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK | SVD_STATUS_DRIVER_OK)
#define DEV_DRIVER_BITS (DEV_ORDERED_BITS | SVD_STATUS_FAILED)
#define DEV_SPECIFIC_FEATURES ((UINT64_C(1) << 24) - 1u)
#define DEV_TRANSPORT_FEATURES \
    (SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC | SVD_F_RING_PACKED)

static void dev_queues_reset(svd_dev *d)
{
    for (uint32_t i = 0u; i < d->model.num_queues; i++) {
        svd_vq_reset(&d->queues[i]);
        d->wake_at[i] = SVD_NO_DEADLINE;
    }
}

/* Latch NEEDS_RESET for reason @why; the first reason is kept. */
static void dev_latch(svd_dev *d, svd_why why, svd_fx *fx)
{
    if ((d->status & SVD_STATUS_NEEDS_RESET) != 0u) {
        return;
    }
    d->status = (uint8_t)(d->status | SVD_STATUS_NEEDS_RESET);
    d->why = why;
    for (uint32_t i = 0u; i < d->model.num_queues; i++) {
        svd_vq_disable(&d->queues[i]);
        d->wake_at[i] = SVD_NO_DEADLINE;
    }
    d->model.reset(d->model.ctx, SVD_MODEL_ALL_QUEUES);
    fx->failed = true;
    fx->why = why;
    if ((d->status & SVD_STATUS_DRIVER_OK) != 0u) {
        d->isr = (uint8_t)(d->isr | SVD_ISR_CONFIG);
        d->config_generation++;
        fx->config_notify = true;
    }
}

/* Latch when @r is a protocol error; pass @r on either way. */
static svd_result dev_check(svd_dev *d, svd_result r, svd_fx *fx)
{
    if (svd_is_err(r, SVD_ERR_PROTOCOL)) {
        dev_latch(d, r.why, fx);
    }
    return r;
}

static svd_result dev_protocol_error(svd_dev *d, svd_why why, svd_fx *fx)
{
    return dev_check(d, svd_protocol(why), fx);
}

svd_result svd_dev_init(svd_dev *d, const svd_model *model, const svd_gmem *m, bool host_driven)
{
    SVD_ENSURE(d != NULL && model != NULL && m != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(model->serve != NULL && model->reset != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(model->device_id != 0u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE((model->device_features & ~DEV_SPECIFIC_FEATURES) == 0u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(model->num_queues >= 1u && model->num_queues <= SVD_DEV_MAX_QUEUES, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(model->config != NULL || model->config_len == 0u, SVD_ERR_INVALID_ARG);

    /* The queue-size rule decides whether queue_max is acceptable; a queue it
     * refuses is left untouched, so a refused init leaves @d as it was
     * (REQ-DEV-001) without an engine-sized probe on the stack. */
    SVD_GUARD(svd_vq_init(&d->queues[0], model->queue_max));

    /* Built in place: no engine-sized temporaries on the stack. */
    (void)memset(d, 0, sizeof(*d));
    for (uint32_t i = 0u; i < SVD_DEV_MAX_QUEUES; i++) {
        const svd_result qr = svd_vq_init(&d->queues[i], model->queue_max);
        if (SVD_NEVER(!svd_is_ok(qr))) {
            return qr; /* accepted just above */
        }
        d->wake_at[i] = SVD_NO_DEADLINE;
    }
    d->model = *model;
    d->host_features = model->device_features | DEV_TRANSPORT_FEATURES;
    d->host_driven = host_driven;
    d->gmem = m;
    d->budget.bytes = SVD_BUDGET_DEFAULT_BYTES;
    d->budget.descs = SVD_BUDGET_DEFAULT_DESCS;
    return svd_ok();
}

svd_result svd_dev_set_budget(svd_dev *d, const svd_budget *b)
{
    SVD_ENSURE(b->bytes <= SVD_BUDGET_MAX_BYTES && b->descs <= SVD_VQ_MAX_SIZE, SVD_ERR_INVALID_ARG);
    d->budget.bytes = b->bytes != 0u ? b->bytes : SVD_BUDGET_DEFAULT_BYTES;
    d->budget.descs = b->descs != 0u ? b->descs : SVD_BUDGET_DEFAULT_DESCS;
    return svd_ok();
}

void svd_dev_reset(svd_dev *d)
{
    dev_queues_reset(d);
    d->model.reset(d->model.ctx, SVD_MODEL_ALL_QUEUES);
    d->driver_features = 0u;
    d->status = 0u;
    d->isr = 0u;
    d->why = SVD_WHY_NONE;
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

svd_result svd_dev_set_status(svd_dev *d, uint8_t status, svd_fx *fx)
{
    if (status == 0u) {
        svd_dev_reset(d);
        fx->reset = true;
        return svd_ok();
    }
    const bool latched = (d->status & SVD_STATUS_NEEDS_RESET) != 0u;
    if ((status & SVD_STATUS_NEEDS_RESET) != 0u && !latched) {
        return dev_protocol_error(d, SVD_WHY_STATUS_ORDER, fx);
    }
    if ((status & (uint8_t)~(DEV_DRIVER_BITS | SVD_STATUS_NEEDS_RESET)) != 0u) {
        return dev_protocol_error(d, SVD_WHY_STATUS_ORDER, fx);
    }
    const uint8_t old = (uint8_t)(d->status & DEV_DRIVER_BITS);
    const uint8_t neu = (uint8_t)(status & DEV_DRIVER_BITS);
    if ((old & (uint8_t)~neu) != 0u) {
        return dev_protocol_error(d, SVD_WHY_STATUS_ORDER, fx); /* a bit was cleared */
    }
    const uint8_t added = (uint8_t)(neu & (uint8_t)~old);
    if (added == 0u) {
        return svd_ok();
    }
    if ((latched || (old & SVD_STATUS_FAILED) != 0u) && added != SVD_STATUS_FAILED) {
        return dev_protocol_error(d, SVD_WHY_STATUS_ORDER, fx);
    }
    if (!ordered_prefix(neu)) {
        return dev_protocol_error(d, SVD_WHY_STATUS_ORDER, fx);
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

uint64_t svd_dev_host_features(const svd_dev *d)
{
    return d->host_features;
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

uint32_t svd_dev_device_id(const svd_dev *d)
{
    return d->model.device_id;
}

uint16_t svd_dev_num_queues(const svd_dev *d)
{
    return d->model.num_queues;
}

uint32_t svd_dev_config_len(const svd_dev *d)
{
    return d->model.config_len;
}

uint16_t svd_dev_queue_max(const svd_dev *d, uint32_t q)
{
    return q < d->model.num_queues ? svd_vq_max(&d->queues[q]) : 0u;
}

const svd_vq *svd_dev_queue(const svd_dev *d, uint32_t q)
{
    return q < d->model.num_queues ? &d->queues[q] : NULL;
}

/* Common gate of the queue configuration writes: the queue exists and the
 * device is between FEATURES_OK and DRIVER_OK, with no latch or FAILED. */
static svd_result queue_cfg_gate(const svd_dev *d, uint32_t q)
{
    SVD_ENSURE(q < d->model.num_queues, SVD_ERR_BOUNDS);
    const uint8_t s = d->status;
    SVD_ENSURE((s & SVD_STATUS_FEATURES_OK) != 0u, SVD_ERR_STATE);
    SVD_ENSURE((s & (SVD_STATUS_DRIVER_OK | SVD_STATUS_NEEDS_RESET | SVD_STATUS_FAILED)) == 0u, SVD_ERR_STATE);
    return svd_ok();
}

svd_result svd_dev_queue_set_size(svd_dev *d, uint32_t q, uint32_t size, svd_fx *fx)
{
    SVD_GUARD(queue_cfg_gate(d, q));
    return dev_check(d, svd_vq_set_size(&d->queues[q], size), fx);
}

svd_result svd_dev_queue_set_addr_half(svd_dev *d, uint32_t q, svd_vq_ring ring, bool high, uint32_t val,
                                       svd_fx *fx)
{
    SVD_GUARD(queue_cfg_gate(d, q));
    return dev_check(d, svd_vq_set_addr_half(&d->queues[q], ring, high, val), fx);
}

svd_result svd_dev_queue_set_addr(svd_dev *d, uint32_t q, svd_vq_ring ring, uint64_t gpa, svd_fx *fx)
{
    SVD_GUARD(queue_cfg_gate(d, q));
    return dev_check(d, svd_vq_set_addr(&d->queues[q], ring, gpa), fx);
}

/* Record the negotiated ring features and format, and start the queue. */
static svd_result queue_start(svd_dev *d, uint32_t q, svd_fx *fx)
{
    svd_vq *vq = &d->queues[q];
    const uint64_t f = d->driver_features;
    /* The caller found the queue disabled, and recording features or the
     * format is refused only on an enabled queue: defensive. */
    const svd_result fr =
        svd_vq_set_features(vq, (f & SVD_F_RING_EVENT_IDX) != 0u, (f & SVD_F_RING_INDIRECT_DESC) != 0u);
    if (SVD_NEVER(!svd_is_ok(fr))) {
        return dev_check(d, fr, fx);
    }
    const svd_result pr = svd_vq_set_format(vq, (f & SVD_F_RING_PACKED) != 0u);
    if (SVD_NEVER(!svd_is_ok(pr))) {
        return dev_check(d, pr, fx);
    }
    d->wake_at[q] = SVD_NO_DEADLINE;
    return dev_check(d, svd_vq_enable(vq, d->gmem), fx);
}

svd_result svd_dev_queue_set_ready(svd_dev *d, uint32_t q, bool ready, svd_fx *fx)
{
    SVD_GUARD(queue_cfg_gate(d, q));
    const svd_vq *vq = &d->queues[q];
    if (!ready) {
        if (svd_vq_enabled(vq)) {
            /* virtio 1.2 offers no queue reset here */
            return dev_protocol_error(d, SVD_WHY_QUEUE_ENABLED, fx);
        }
        return svd_ok();
    }
    if (svd_vq_enabled(vq)) {
        return svd_ok(); /* ready written twice: nothing changes */
    }
    return queue_start(d, q, fx);
}

svd_result svd_dev_queue_start(svd_dev *d, uint32_t q, const svd_vq_setup *s, svd_fx *fx)
{
    SVD_ENSURE(d->host_driven, SVD_ERR_STATE);
    SVD_ENSURE(q < d->model.num_queues, SVD_ERR_BOUNDS);
    SVD_ENSURE((d->status & SVD_STATUS_NEEDS_RESET) == 0u, SVD_ERR_STATE);
    svd_vq *vq = &d->queues[q];
    SVD_ENSURE(!svd_vq_enabled(vq), SVD_ERR_STATE);
    /* A refused start leaves the queue reset, never half configured. */
    svd_vq_reset(vq);
    svd_result r = svd_vq_set_size(vq, s->size);
    if (svd_is_ok(r)) {
        r = svd_vq_set_addr(vq, SVD_VQ_RING_DESC, s->desc);
    }
    if (svd_is_ok(r)) {
        r = svd_vq_set_addr(vq, SVD_VQ_RING_AVAIL, s->avail);
    }
    if (svd_is_ok(r)) {
        r = svd_vq_set_addr(vq, SVD_VQ_RING_USED, s->used);
    }
    if (svd_is_ok(r)) {
        r = svd_vq_set_format(vq, s->packed);
    }
    if (svd_is_ok(r)) {
        r = svd_vq_set_base(vq, s->next_avail, s->next_used);
    }
    if (svd_is_ok(r)) {
        r = svd_vq_set_features(vq, s->event_idx, s->indirect);
    }
    if (svd_is_ok(r)) {
        r = svd_vq_enable(vq, d->gmem);
    }
    if (!svd_is_ok(r)) {
        svd_vq_reset(vq);
        return r;
    }
    if (s->packed && s->resync) {
        (void)svd_vqp_resync(vq);
    }
    (void)fx;
    d->wake_at[q] = SVD_NO_DEADLINE;
    return svd_ok();
}

svd_result svd_dev_queue_stop(svd_dev *d, uint32_t q, uint16_t *next_avail, uint16_t *next_used)
{
    SVD_ENSURE(q < d->model.num_queues, SVD_ERR_BOUNDS);
    svd_vq *vq = &d->queues[q];
    svd_vq_base(vq, next_avail, next_used);
    d->model.reset(d->model.ctx, q);
    svd_vq_reset(vq);
    d->wake_at[q] = SVD_NO_DEADLINE;
    return svd_ok();
}

/* A queue may be served: it exists and is ready, and the device is live
 * (DRIVER_OK without NEEDS_RESET/FAILED, or host-driven without a latch). */
static svd_result queue_live(const svd_dev *d, uint32_t q)
{
    const uint8_t s = d->status;
    SVD_ENSURE(d->host_driven || (s & SVD_STATUS_DRIVER_OK) != 0u, SVD_ERR_STATE);
    SVD_ENSURE((s & (SVD_STATUS_NEEDS_RESET | SVD_STATUS_FAILED)) == 0u, SVD_ERR_STATE);
    SVD_ENSURE(q < d->model.num_queues, SVD_ERR_BOUNDS);
    SVD_ENSURE(svd_vq_enabled(&d->queues[q]), SVD_ERR_STATE);
    return svd_ok();
}

svd_result svd_dev_kick(svd_dev *d, uint32_t q, uint64_t now, svd_fx *fx)
{
    SVD_GUARD(queue_live(d, q));
    svd_vq *vq = &d->queues[q];
    uint64_t wake = SVD_NO_DEADLINE;
    const svd_result r = d->model.serve(d->model.ctx, vq, q, d->gmem, now, &d->budget, &wake);
    if (!svd_is_ok(r) && !svd_is_err(r, SVD_ERR_STATE)) {
        dev_latch(d, r.why, fx);
        return r;
    }
    d->wake_at[q] = svd_is_ok(r) ? wake : SVD_NO_DEADLINE;
    bool need = false;
    if (svd_is_ok(svd_vq_need_interrupt(vq, d->gmem, &need)) && need) {
        fx->queue_notify |= 1u << q;
        if (!d->host_driven) {
            d->isr = (uint8_t)(d->isr | SVD_ISR_QUEUE);
        }
    }
    return r;
}

void svd_dev_tick(svd_dev *d, uint64_t now, svd_fx *fx)
{
    for (uint32_t q = 0u; q < d->model.num_queues; q++) {
        if (d->wake_at[q] <= now) {
            /* A queue that is no longer live has nothing to serve: its
             * refusal is the answer, and a model failure latched inside. */
            d->wake_at[q] = SVD_NO_DEADLINE;
            const svd_result r = svd_dev_kick(d, q, now, fx);
            (void)r;
        }
    }
}

uint64_t svd_dev_deadline(const svd_dev *d)
{
    uint64_t t = SVD_NO_DEADLINE;
    for (uint32_t q = 0u; q < d->model.num_queues; q++) {
        if (d->wake_at[q] < t) {
            t = d->wake_at[q];
        }
    }
    return t;
}

svd_why svd_dev_why(const svd_dev *d)
{
    return d->why;
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
    SVD_GUARD(svd_range_check(off, width, d->model.config_len));
    uint32_t v = 0u;
    for (uint32_t i = 0u; i < width; i++) {
        v |= (uint32_t)d->model.config[off + i] << (8u * i);
    }
    *val = v;
    return svd_ok();
}
