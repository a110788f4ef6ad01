/* Entropy-serve Eva drivers: the virtio-entropy model's serve (what the
 * engine calls on a kick or a due wake-up, the call that fills the guest's
 * buffers) over one live queue.
 *
 * The queue is set up and enabled as the queue drivers do (eva_vq.h: five
 * regions of unknown contents, any size 1..8, the format's start indices or
 * any); the model is built as a shim builds it (eva_common.h: any rate
 * limits, source-open policy and stated min-entropy, a source that answers
 * any count up to the request, more than the request, or a failure). Then
 * the model's and the health tests' totals set to any value, and one serve
 * at any now with a byte budget of any value the engine accepts and a
 * descriptor budget of one: the model takes exactly one chain (of any
 * length the walk accepts, from a ring of unknown contents) and stops. That
 * one chain is the whole serve path: the pop, the limiter's admission, the
 * source's rounds through the health tests, the copy into each writable
 * segment (in one region or across a region edge), the push.
 *
 * A driver file defines EVA_VQ_PACKED and EVA_VQ_EVENT_IDX and includes this
 * header (EVA_VQ_INDIRECT is 0: the table walk is the queue drivers'). */
#ifndef SVD_EVA_ENTROPY_SERVE_H
#define SVD_EVA_ENTROPY_SERVE_H

#define EVA_VQ_INDIRECT 0
#include "eva_vq.h"
#include "eva_common.h"

#include <string.h>

/* How each bucket of the limiter is configured (0 unlimited, 1 limited):
 * prove.py partitions Eva's states on both (-eva-partition-value), since a
 * bucket's size never changes after init and a join of an unlimited
 * bucket's state with a limited one's loses that a bucket found short of
 * tokens has a non-zero size (as in eva_ratelimit). */
static int eva_es_rl_bytes;
static int eva_es_rl_ops;

/* Any bytes the source may answer with, written once: the source copies
 * them with one memcpy rather than writing byte by byte (the same values to
 * Eva, every byte any of 0..255; one builtin step instead of a loop of up
 * to a stage's worth of iterations, in each of the source's rounds). */
static uint8_t eva_es_pool[SVD_ENTROPY_STAGE];

/* The shim's source as getrandom(2) may answer: a failure (retry or
 * error), or any count up to the request with any bytes, or a count above
 * the request (which the model must refuse). */
static svd_result eva_es_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    switch (eva_int(0, 2)) {
    case 0:
        return svd_fail(SVD_ERR_AGAIN);
    case 1:
        return svd_fail(SVD_ERR_SOURCE);
    default:
        break;
    }
    const size_t n = eva_size(0u, len);
    (void)memcpy(buf, eva_es_pool, n);
    *got = eva_int(0, 1) != 0 ? n : eva_size(0u, SIZE_MAX);
    return svd_ok();
}

static int eva_entropy_serve_main(void)
{
    static svd_gmem m;
    static svd_vq q;
    static svd_entropy e;
    svd_entropy_cfg cfg;
    svd_model model;
    svd_budget budget;
    uint64_t wake = 0u;

    if (eva_vq_setup(&m, &q) != 0) {
        return 1;
    }
    eva_unknown(eva_es_pool, sizeof(eva_es_pool));
    eva_entropy_cfg(&cfg);
    cfg.source.read = eva_es_read;
    eva_es_rl_bytes = eva_int(0, 1);
    eva_es_rl_ops = eva_int(0, 1);
    cfg.rate_bytes.size = eva_es_rl_bytes != 0 ? eva_u64r(1u, SVD_TB_MAX_SIZE) : 0u;
    cfg.rate_ops.size = eva_es_rl_ops != 0 ? eva_u64r(1u, SVD_TB_MAX_SIZE) : 0u;
    if (!svd_is_ok(svd_entropy_init(&e, &cfg, any_u64()))) {
        return 1;
    }
    /* The totals any value: a model that has served for any time (a superset
     * of the states a call sequence reaches; the model only adds to them and
     * copies them out, and no test reads them). Left at init's zeros, Eva
     * widens each counter, step by step, inside the fill's nested loops: it
     * halved the analysis. Written here, in the analysis driver only: the
     * fields are the model's and health.c's. */
    e.stats.requests = any_u64();
    e.stats.bytes = any_u64();
    e.stats.source_failures = any_u64();
    e.stats.rate_deferrals = any_u64();
    e.stats.health_rct_failures = any_u64();
    e.stats.health_apt_failures = any_u64();
    e.stats.health_discarded = any_u64();
    e.health.stats.samples = any_u64();
    e.health.stats.released = any_u64();
    e.health.stats.discarded = any_u64();
    e.health.stats.rct_failures = any_u64();
    e.health.stats.apt_failures = any_u64();
    e.health.stats.startups = any_u64();
    svd_entropy_model(&e, &model);
    budget.bytes = eva_u64r(1u, SVD_BUDGET_MAX_BYTES);
    budget.descs = 1u;
    (void)model.serve(model.ctx, &q, 0u, &m, any_u64(), &budget, &wake);
    (void)svd_entropy_stats_of(&e);
    return 0;
}

#endif /* SVD_EVA_ENTROPY_SERVE_H */
