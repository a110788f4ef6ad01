/* virtio-entropy device model.
 *
 * One request at a time is "pending": popped from the queue, maybe admitted
 * by the rate limiter, not yet completed. It survives across calls so a
 * deferred or source-starved request is served later without being popped
 * again, and it is dropped as soon as the queue's epoch shows a reset.
 *
 * Choices where the contract leaves room:
 * - Every request costs one operation token, even one without writable
 *   bytes, so a guest cannot flood the device with free empty requests.
 * - Short reads: the model keeps calling the source for the rest of the
 *   granted bytes until it has them all or the source returns nothing or
 *   fails; a request with at least one byte is then completed with exactly
 *   the bytes written (a contiguous prefix of the writable area). Only a
 *   request that got no byte at all stays pending.
 * - Tokens for granted bytes the source did not deliver are not refunded
 *   (conservative: the limiter never lets more than configured through).
 * - Health tests: the source fills the model's stage, the bytes go through
 *   svd_health_feed(), and only a batch the tests pass is copied to guest
 *   memory; a writable segment that lies in one region is written at the
 *   host address the pop recorded (no second lookup); one crossing a region
 *   edge is walked with svd_gmem_translate_prefix() and filled piece by
 *   piece. A batch the tests discard ends the fill like a source that gave
 *   nothing (the request stays pending if it got no byte). While a start-up
 *   test runs the source is asked for a start-up test's worth at a time, so
 *   the first request is not held up by many retries.
 */
#include "safevdev/entropy.h"

#include <string.h>

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        return UINT64_MAX;
    }
    return r;
}

void svd_entropy_dev_params(svd_dev_params *p)
{
    (void)memset(p, 0, sizeof(*p));
    p->device_id = SVD_ENTROPY_DEVICE_ID;
    p->device_features = 0u;
    p->num_queues = 1u;
    p->queue_max = 256u;
    p->config = NULL;
    p->config_len = 0u;
}

/* Forget the rate-limiter decision about the pending request. */
static void admission_clear(svd_entropy *e)
{
    e->admitted = false;
    e->granted = 0u;
}

static void pending_clear(svd_entropy *e)
{
    svd_vq_chain_init(&e->pending, e->segs, SVD_ENTROPY_MAX_SEGS);
    admission_clear(e);
}

svd_result svd_entropy_init(svd_entropy *e, const svd_entropy_cfg *cfg, uint64_t now)
{
    svd_ratelimit rl;
    svd_health hl;

    SVD_ENSURE(e != NULL && cfg != NULL && cfg->source.read != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_ratelimit_init(&rl, &cfg->rate_bytes, &cfg->rate_ops, now));
    SVD_GUARD(svd_health_init(&hl, cfg->min_entropy != 0u ? cfg->min_entropy : SVD_HEALTH_MAX_H));
    (void)memset(e, 0, sizeof(*e));
    e->source = cfg->source;
    e->rl = rl;
    e->health = hl;
    e->stats.health_state = svd_health_state_of(&hl);
    e->retry_ns = cfg->retry_ns != 0u ? cfg->retry_ns : SVD_ENTROPY_DEFAULT_RETRY_NS;
    pending_clear(e);
    return svd_ok();
}

void svd_entropy_reset(svd_entropy *e)
{
    pending_clear(e);
}

static void health_note(svd_entropy *e)
{
    const svd_health_stats hs = svd_health_stats_of(&e->health);
    e->stats.health_state = svd_health_state_of(&e->health);
    e->stats.health_rct_failures = hs.rct_failures;
    e->stats.health_apt_failures = hs.apt_failures;
    e->stats.health_discarded = hs.discarded;
}

/* Fill [dst, dst+len) from the source through the health tests. Returns the
 * bytes delivered to dst; 0 when the source failed, returned nothing or
 * claimed more than it was given, or the tests discarded its bytes. */
static size_t source_fill(svd_entropy *e, uint8_t *dst, size_t len)
{
    for (uint32_t round = 0u; round < SVD_ENTROPY_STARTUP_ROUNDS; round++) {
        /* While a start-up test runs, its bytes are discarded whatever len is:
         * ask for a start-up test's worth. */
        const bool testing = svd_health_state_of(&e->health) != SVD_HEALTH_OK;
        size_t want = testing ? (size_t)SVD_HEALTH_STARTUP_SAMPLES : len;
        if (want > SVD_ENTROPY_STAGE) {
            want = SVD_ENTROPY_STAGE;
        }
        size_t got = 0u;
        const svd_result r = e->source.read(e->source.ctx, e->stage, want, &got);
        if (!svd_is_ok(r) || got == 0u || got > want) {
            e->stats.source_failures++;
            return 0u;
        }
        const svd_result h = svd_health_feed(&e->health, e->stage, got, NULL);
        health_note(e);
        if (svd_is_ok(h)) {
            /* Released only when the engine was operational: then want <= len. */
            (void)memcpy(dst, e->stage, got);
            return got;
        }
        if (!svd_is_err(h, SVD_ERR_AGAIN)) {
            return 0u; /* a test failed: the bytes are gone, retry later */
        }
    }
    return 0u;
}

/* Fill up to @limit bytes of the pending chain's writable segments, in
 * order, stopping early when the source gives out; *written receives the
 * bytes written (a prefix of the writable area). Returns false only if guest
 * memory no longer backs a segment, which cannot happen while the map keeps
 * the generation the queue checked (the caller verified it). */
static bool fill_chain(svd_entropy *e, const svd_gmem *m, uint64_t limit, uint32_t *written)
{
    uint64_t total = 0u;
    bool dry = false;

    *written = 0u;
    for (uint32_t i = 0u; i < e->pending.nsegs && total < limit && !dry; i++) {
        const svd_vq_desc *d = &e->segs[i];
        if ((d->flags & SVD_VRING_DESC_F_WRITE) == 0u) {
            continue;
        }
        uint64_t off = 0u;
        while (off < d->len && total < limit && !dry) {
            uint64_t want = d->len - off;
            if (want > limit - total) {
                want = limit - total;
            }
            svd_span s;
            if (d->host != NULL) {
                /* The whole segment lies in one region of this map (checked
                 * by the pop; the caller verified the queue is usable with
                 * the map, so the generation is the pop's). */
                s.ptr = &d->host[(size_t)off];
                s.len = (size_t)want;
            } else {
                /* addr + len was checked not to wrap when the chain was popped. */
                const svd_result r = svd_gmem_translate_prefix(m, d->addr + off, want, SVD_GMEM_WRITE, &s);
                if (SVD_NEVER(!svd_is_ok(r))) {
                    return false;
                }
            }
            const size_t got = source_fill(e, s.ptr, s.len);
            total += got;
            off += got;
            /* A short read is followed by another call for the rest; a call
             * that gives nothing ends the attempt. */
            dry = got == 0u;
        }
    }
    /* total <= writable_len < 2^32. */
    *written = (uint32_t)total;
    return true;
}

/* The queue can be used with this map: enabled, not broken, same generation. */
static bool queue_usable(const svd_vq *q, const svd_gmem *m)
{
    return q->enabled && !q->broken && q->gmem_generation == m->generation;
}

/* Pass the pending request through the limiter once. False when deferred
 * (out->wake set to the time it will fit). */
static bool admit_pending(svd_entropy *e, uint64_t now, svd_entropy_out *out)
{
    if (e->admitted) {
        return true;
    }
    uint64_t wait = 0u;
    if (!svd_ratelimit_admit(&e->rl, e->pending.writable_len, now, &e->granted, &wait)) {
        e->stats.rate_deferrals++;
        if (SVD_NEVER(wait == 0u)) {
            wait = 1u;
        }
        out->wake = true;
        out->wake_at = sat_add(now, wait);
        return false;
    }
    e->admitted = true;
    return true;
}

/* Fill and complete the admitted pending request. ::SVD_ERR_AGAIN when the
 * source gave nothing (the request stays pending, out->wake set). */
static svd_result complete_pending(svd_entropy *e, svd_vq *q, const svd_gmem *m, uint64_t now,
                                   svd_entropy_out *out)
{
    uint32_t written = 0u;
    const bool filled = fill_chain(e, m, e->granted, &written);
    if (SVD_NEVER(!filled)) {
        return svd_fail(SVD_ERR_STATE);
    }
    if (written == 0u && e->pending.writable_len != 0u) {
        out->wake = true;
        out->wake_at = sat_add(now, e->retry_ns);
        return svd_fail(SVD_ERR_AGAIN);
    }
    /* Cannot fail: the queue is usable, the chain is from this epoch and in
     * flight, and written <= writable_len. */
    const svd_result pr = svd_vq_push(q, m, &e->pending, written);
    if (SVD_NEVER(!svd_is_ok(pr))) {
        return pr;
    }
    /* The push consumed the token (pending.valid is false); the next pop
     * rewrites every other field of the chain, so only the limiter state of
     * the request is cleared here. */
    admission_clear(e);
    out->completed++;
    out->bytes += written;
    e->stats.requests++;
    e->stats.bytes += written;
    return svd_ok();
}

svd_result svd_entropy_process(svd_entropy *e, svd_vq *q, const svd_gmem *m, uint64_t now, svd_entropy_out *out)
{
    (void)memset(out, 0, sizeof(*out));
    if (e->pending.valid && e->pending.epoch != q->epoch) {
        pending_clear(e); /* the queue was reset or disabled under it */
    }
    SVD_ENSURE(queue_usable(q, m), SVD_ERR_STATE);

    for (;;) {
        if (!e->pending.valid) {
            const svd_result r = svd_vq_pop(q, m, &e->pending);
            if (svd_is_err(r, SVD_ERR_EMPTY)) {
                return svd_ok();
            }
            SVD_GUARD(r);
            admission_clear(e);
        }
        if (!admit_pending(e, now, out)) {
            return svd_ok();
        }
        const svd_result r = complete_pending(e, q, m, now, out);
        if (svd_is_err(r, SVD_ERR_AGAIN)) {
            return svd_ok();
        }
        if (SVD_NEVER(!svd_is_ok(r))) {
            return r;
        }
    }
}
