/* Toy device model: completes requests with a fill byte (see tg_model.h). */
#include <string.h>

#include "safevdev/gmem.h"
#include "tg_model.h"

void tg_model_init(tg_model *t)
{
    memset(t, 0, sizeof(*t));
    t->write_len = UINT32_MAX;
    t->fill = 0x5Au;
    t->fail = svd_ok();
    t->wake_at = SVD_NO_DEADLINE;
}

/* Write up to @n fill bytes into the writable segments of the chain; returns the count. */
static uint32_t fill_chain(tg_model *t, const svd_gmem *m, uint32_t n)
{
    uint8_t buf[64];
    uint32_t done = 0u;
    memset(buf, t->fill, sizeof(buf));
    for (uint32_t i = 0u; i < t->chain.nsegs && done < n; i++) {
        const svd_vq_desc *d = &t->segs[i];
        if ((d->flags & SVD_VRING_DESC_F_WRITE) == 0u) {
            continue;
        }
        uint32_t off = 0u;
        while (off < d->len && done < n) {
            uint32_t k = d->len - off;
            if (k > n - done) {
                k = n - done;
            }
            if (k > sizeof(buf)) {
                k = sizeof(buf);
            }
            if (!svd_is_ok(svd_gmem_write(m, d->addr + off, buf, k))) {
                return done;
            }
            off += k;
            done += k;
        }
    }
    return done;
}

static svd_result tg_serve(void *ctx, svd_vq *q, uint32_t index, const svd_gmem *m, uint64_t now,
                           const svd_budget *budget, uint64_t *wake_at)
{
    tg_model *t = ctx;
    t->serves++;
    t->last_index = index;
    t->last_now = now;
    t->last_budget = *budget;
    *wake_at = t->wake_at;
    if (!svd_is_ok(t->fail)) {
        return t->fail;
    }
    while (!t->hold) {
        svd_vq_chain_init(&t->chain, t->segs, TG_MODEL_SEGS);
        const svd_result r = svd_vq_pop(q, m, &t->chain);
        if (svd_is_err(r, SVD_ERR_EMPTY)) {
            break;
        }
        if (!svd_is_ok(r)) {
            return r;
        }
        const uint32_t want = t->write_len < t->chain.writable_len ? t->write_len : t->chain.writable_len;
        const svd_result p = svd_vq_push(q, m, &t->chain, fill_chain(t, m, want));
        if (!svd_is_ok(p)) {
            return p;
        }
        t->completed++;
    }
    return svd_ok();
}

static void tg_reset(void *ctx, uint32_t index)
{
    tg_model *t = ctx;
    t->resets++;
    t->last_reset = index;
}

void tg_model_iface(tg_model *t, svd_model *m, uint32_t device_id, uint16_t num_queues, uint16_t queue_max,
                    const uint8_t *config, uint32_t config_len)
{
    memset(m, 0, sizeof(*m));
    m->device_id = device_id;
    m->num_queues = num_queues;
    m->queue_max = queue_max;
    m->config = config;
    m->config_len = config_len;
    m->serve = tg_serve;
    m->reset = tg_reset;
    m->ctx = t;
}
