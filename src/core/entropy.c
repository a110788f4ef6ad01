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

#include "core_priv.h"

/* What one serve did and asks for, and what is left of its budget. */
typedef struct ent_out {
    bool wake;        /* a request is waiting: serve again at wake_at */
    uint64_t wake_at;
    uint64_t bytes_left; /* of the call's byte budget */
    uint32_t descs_left; /* of the call's descriptor budget */
} ent_out;

/* Forget the rate-limiter decision about the pending request, and its progress. */
static void admission_clear(svd_entropy *e)
{
    e->admitted = false;
    e->granted = 0u;
    e->done = 0u;
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
    e->open_timeout_ns = cfg->open_timeout_ns;
    e->open_retry_ns = cfg->open_retry_ns != 0u ? cfg->open_retry_ns : SVD_ENTROPY_DEFAULT_OPEN_RETRY_NS;
    e->opened = cfg->open_timeout_ns == 0u; /* no policy: the source counts as open */
    pending_clear(e);
    return svd_ok();
}

/* Model reset (device reset, or a stop of the one request queue): drop the
 * pending request. The rate-limit state and the source-open policy's state
 * are kept. */
static void ent_reset(void *ctx, uint32_t index)
{
    (void)index; /* one queue: every index names it or all */
    pending_clear(ctx);
}

const svd_entropy_stats *svd_entropy_stats_of(const svd_entropy *e)
{
    return &e->stats;
}

bool svd_entropy_gave_up(const svd_entropy *e)
{
    return e->gave_up;
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
 * claimed more than it was given, or the tests discarded its bytes. A source
 * that delivered bytes counts as open (the source-open policy) whatever the
 * tests then say about them. */
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
        e->opened = true;
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
 * order, starting @start bytes into the writable area (what earlier calls
 * wrote), stopping early when the source gives out (*dry); *written receives
 * the bytes written, so start + *written stays a prefix of the writable area.
 * Returns false only if guest memory no longer backs a segment, which cannot
 * happen while the map keeps the generation the queue checked (the caller
 * verified it). */
static bool fill_chain(svd_entropy *e, const svd_gmem *m, uint64_t start, uint64_t limit, uint32_t *written,
                       bool *dry_out)
{
    uint64_t total = 0u;
    uint64_t skip = start;
    bool dry = false;

    *written = 0u;
    for (uint32_t i = 0u; i < e->pending.nsegs && total < limit && !dry; i++) {
        const svd_vq_desc *d = &e->segs[i];
        if ((d->flags & SVD_VRING_DESC_F_WRITE) == 0u) {
            continue;
        }
        if (skip >= d->len) {
            skip -= d->len; /* filled by an earlier call */
            continue;
        }
        uint64_t off = skip;
        skip = 0u;
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
    *dry_out = dry;
    return true;
}

/* The queue can be used with this map: enabled, not broken, same generation. */
static bool queue_usable(const svd_vq *q, const svd_gmem *m)
{
    return q->enabled && !q->broken && q->gmem_generation == m->generation;
}

/* Pass the pending request through the limiter once. False when deferred
 * (out->wake set to the time it will fit). */
static bool admit_pending(svd_entropy *e, uint64_t now, ent_out *out)
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
        out->wake_at = svd_sat_add_u64(now, wait);
        return false;
    }
    e->admitted = true;
    return true;
}

/* The source gave nothing for the pending request: retry later, or, under
 * the source-open policy, give up once its time is over. */
static svd_result source_starved(svd_entropy *e, uint64_t now, ent_out *out)
{
    if (!e->opened) {
        if (e->open_timeout_ns != SVD_NO_DEADLINE && now >= e->open_deadline) {
            e->gave_up = true;
            return svd_fail_why(SVD_ERR_SOURCE, SVD_WHY_SOURCE_GAVE_UP);
        }
        out->wake = true;
        out->wake_at = svd_sat_add_u64(now, e->open_retry_ns);
        if (out->wake_at > e->open_deadline) {
            out->wake_at = e->open_deadline;
        }
        return svd_fail(SVD_ERR_AGAIN);
    }
    out->wake = true;
    out->wake_at = svd_sat_add_u64(now, e->retry_ns);
    return svd_fail(SVD_ERR_AGAIN);
}

/* Fill (within the call's budget) and complete the admitted pending request.
 * ::SVD_ERR_AGAIN when it stays pending: the source gave nothing (out->wake
 * at the retry time) or the budget ran out first (out->wake now). */
static svd_result complete_pending(svd_entropy *e, svd_vq *q, const svd_gmem *m, uint64_t now, ent_out *out)
{
    uint32_t written = 0u;
    bool dry = false;
    /* done <= granted: every call adds at most granted - done. */
    uint64_t chunk = e->granted - e->done;
    if (chunk > out->bytes_left) {
        chunk = out->bytes_left;
    }
    const bool filled = fill_chain(e, m, e->done, chunk, &written, &dry);
    if (SVD_NEVER(!filled)) {
        return svd_fail(SVD_ERR_STATE);
    }
    e->done += written;
    out->bytes_left -= written;
    /* dry means the source was asked for a writable byte: the request has one. */
    if (dry && e->done == 0u) {
        return source_starved(e, now, out);
    }
    if (!dry && e->done < e->granted) {
        /* The budget ran out before the request had its bytes: the rest is
         * served by the next call, which the caller makes at once. */
        out->wake = true;
        out->wake_at = now;
        return svd_fail(SVD_ERR_AGAIN);
    }
    /* Cannot fail: the queue is usable, the chain is from this epoch and in
     * flight, and done <= writable_len (< 2^32). */
    const svd_result pr = svd_vq_push(q, m, &e->pending, (uint32_t)e->done);
    if (SVD_NEVER(!svd_is_ok(pr))) {
        return pr;
    }
    e->stats.requests++;
    e->stats.bytes += e->done;
    /* The push consumed the token (pending.valid is false); the next pop
     * rewrites every other field of the chain, so only the limiter state and
     * progress of the request are cleared here. */
    admission_clear(e);
    return svd_ok();
}

/* Serve the queue until it is empty, the source gives out or the limiter defers. */
static svd_result ent_process(svd_entropy *e, svd_vq *q, const svd_gmem *m, uint64_t now, ent_out *out)
{
    if (e->pending.valid && e->pending.epoch != q->epoch) {
        pending_clear(e); /* the queue was reset or disabled under it */
    }
    SVD_ENSURE(queue_usable(q, m), SVD_ERR_STATE);
    if (e->gave_up) {
        return svd_fail_why(SVD_ERR_SOURCE, SVD_WHY_SOURCE_GAVE_UP);
    }

    for (;;) {
        if (!e->pending.valid) {
            if (out->bytes_left == 0u || out->descs_left == 0u) {
                /* Budget spent: the next request waits for the next call,
                 * which the caller makes at once. */
                out->wake = true;
                out->wake_at = now;
                return svd_ok();
            }
            const svd_result r = svd_vq_pop(q, m, &e->pending);
            if (svd_is_err(r, SVD_ERR_EMPTY)) {
                return svd_ok();
            }
            SVD_GUARD(r);
            admission_clear(e);
            out->descs_left = (e->pending.ndesc < out->descs_left) ? out->descs_left - e->pending.ndesc : 0u;
            if (!e->first_seen) {
                /* The source-open policy's clock starts at the first request. */
                e->first_seen = true;
                e->open_deadline = svd_sat_add_u64(now, e->open_timeout_ns);
            }
        }
        if (!admit_pending(e, now, out)) {
            return svd_ok();
        }
        const svd_result r = complete_pending(e, q, m, now, out);
        if (svd_is_err(r, SVD_ERR_AGAIN)) {
            return svd_ok();
        }
        SVD_GUARD(r);
    }
}

static svd_result ent_serve(void *ctx, svd_vq *q, uint32_t index, const svd_gmem *m, uint64_t now,
                            const svd_budget *budget, uint64_t *wake_at)
{
    ent_out out = { false, 0u, budget->bytes, budget->descs };
    (void)index; /* one queue */
    const svd_result r = ent_process(ctx, q, m, now, &out);
    *wake_at = (svd_is_ok(r) && out.wake) ? out.wake_at : SVD_NO_DEADLINE;
    return r;
}

void svd_entropy_model(svd_entropy *e, svd_model *m)
{
    (void)memset(m, 0, sizeof(*m));
    m->device_id = SVD_ENTROPY_DEVICE_ID;
    m->device_features = 0u;
    m->num_queues = 1u;
    m->queue_max = (uint16_t)SVD_ENTROPY_QUEUE_MAX;
    m->config = NULL;
    m->config_len = 0u;
    m->serve = ent_serve;
    m->reset = ent_reset;
    m->ctx = e;
}
