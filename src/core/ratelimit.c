/* Token bucket with caller-injected time.
 *
 * Exactness without 128-bit arithmetic: a refill multiplies the elapsed time
 * (< refill_ns <= 2^32, longer gaps refill completely without multiplying) by
 * the size (<= 2^30) and adds the carried fraction (< refill_ns), so the
 * product stays below 2^63 and one 64-bit division gives both the whole
 * tokens and the new fraction. svd_tb_wait_ns() inverts the same formula with
 * need <= size, so need * refill_ns <= 2^62. Plain 64-bit division is a single
 * instruction on the 64-bit targets and imports nothing (checked by
 * `make purity`).
 */
#include "safevdev/ratelimit.h"

#include "safevdev/parse.h"

#include <string.h>

/*@ requires cfg == \null || \valid_read(cfg);
    assigns \nothing;
    ensures \result.err == SVD_OK ==> cfg != \null && cfg->size <= SVD_TB_MAX_SIZE &&
        (cfg->size != 0 ==> cfg->one_time_burst <= SVD_TB_MAX_SIZE && 1 <= cfg->refill_ns <= SVD_TB_MAX_REFILL_NS);
    ensures \result.err == SVD_OK || \result.err == SVD_ERR_INVALID_ARG; */
static svd_result tb_cfg_check(const svd_tb_cfg *cfg)
{
    SVD_ENSURE(cfg != NULL, SVD_ERR_INVALID_ARG);
    if (cfg->size == 0u) {
        /* Unlimited: the other fields are meaningless and ignored. */
        return svd_ok();
    }
    SVD_ENSURE(cfg->size <= SVD_TB_MAX_SIZE, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(cfg->one_time_burst <= SVD_TB_MAX_SIZE, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(cfg->refill_ns >= 1u && cfg->refill_ns <= SVD_TB_MAX_REFILL_NS, SVD_ERR_INVALID_ARG);
    return svd_ok();
}

svd_result svd_tb_init(svd_tb *tb, const svd_tb_cfg *cfg, uint64_t now)
{
    SVD_ENSURE(tb != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(tb_cfg_check(cfg));
    /* Built whole, then stored: every field is named (no byte-wise memset),
     * which is what the WP contract speaks about. */
    svd_tb t = { { 0u, 0u, 0u }, 0u, 0u, 0u, 0u };
    if (cfg->size != 0u) {
        t.cfg = *cfg;
        t.tokens = cfg->size;
        t.burst = cfg->one_time_burst;
    }
    t.last_ns = now;
    *tb = t;
    return svd_ok();
}

bool svd_tb_unlimited(const svd_tb *tb)
{
    return tb->cfg.size == 0u;
}

void svd_tb_refill(svd_tb *tb, uint64_t now)
{
    if (svd_tb_unlimited(tb)) {
        return;
    }
    if (now <= tb->last_ns) {
        /* Backwards (or no) time earns nothing. Re-anchoring at the earlier
         * time means the interval already credited is not credited again,
         * and a clock that jumped back does not starve the bucket until it
         * catches up with the old reading. */
        tb->last_ns = now;
        return;
    }
    const uint64_t elapsed = now - tb->last_ns;
    tb->last_ns = now;
    if (tb->tokens >= tb->cfg.size || elapsed >= tb->cfg.refill_ns) {
        /* A full bucket earns nothing; a complete refill period fills it. */
        tb->tokens = tb->cfg.size;
        tb->frac = 0u;
        return;
    }
    /* elapsed < refill_ns <= 2^32, size <= 2^30, frac < refill_ns: < 2^63. */
    const uint64_t earned = elapsed * tb->cfg.size + tb->frac;
    const uint64_t whole = earned / tb->cfg.refill_ns;
    tb->frac = earned % tb->cfg.refill_ns;
    /* whole <= 2 * size, tokens < size: no wrap. */
    tb->tokens += whole;
    if (tb->tokens >= tb->cfg.size) {
        tb->tokens = tb->cfg.size;
        tb->frac = 0u;
    }
}

/* Tokens usable right now (after a refill by the caller): burst first, then regular. */
/*@ requires \valid_read(tb) && tb_ok(tb);
    assigns \nothing;
    ensures \result <==> (tb->cfg.size == 0 || tb->burst + tb->tokens >= n); */
static bool tb_has(const svd_tb *tb, uint64_t n)
{
    if (svd_tb_unlimited(tb)) {
        return true;
    }
    /* burst and tokens are each <= 2^30: the sum cannot wrap. */
    return tb->burst + tb->tokens >= n;
}

/* Take n tokens the caller has checked are there (tb_has()). */
/*@ requires \valid(tb) && tb_ok(tb) && (tb->cfg.size == 0 || tb->burst + tb->tokens >= n);
    assigns tb->burst, tb->tokens;
    ensures tb_ok(tb); */
static void tb_take(svd_tb *tb, uint64_t n)
{
    if (svd_tb_unlimited(tb)) {
        return;
    }
    if (tb->burst >= n) {
        tb->burst -= n;
        return;
    }
    const uint64_t rest = n - tb->burst;
    tb->burst = 0u;
    tb->tokens -= rest;
}

bool svd_tb_consume(svd_tb *tb, uint64_t n, uint64_t now)
{
    svd_tb_refill(tb, now);
    if (!tb_has(tb, n)) {
        return false;
    }
    tb_take(tb, n);
    return true;
}

uint64_t svd_tb_cap(const svd_tb *tb, uint64_t n)
{
    if (svd_tb_unlimited(tb) || n <= tb->cfg.size) {
        return n;
    }
    return tb->cfg.size;
}

uint64_t svd_tb_wait_ns(svd_tb *tb, uint64_t n, uint64_t now)
{
    svd_tb_refill(tb, now);
    if (tb_has(tb, n)) {
        return 0u;
    }
    /* Here the bucket is limited and tokens + burst < n. */
    uint64_t need = n - tb->burst - tb->tokens;
    if (need > tb->cfg.size) {
        /* Caller broke the n <= size contract: answer with the time to a
         * full bucket rather than a figure that overflows. */
        need = tb->cfg.size;
    }
    /* Smallest t with t * size + frac >= need * refill_ns; frac < refill_ns
     * <= need * refill_ns, so the numerator is positive and < 2^62. */
    const uint64_t num = need * tb->cfg.refill_ns - tb->frac;
    return (num + tb->cfg.size - 1u) / tb->cfg.size;
}

svd_result svd_ratelimit_init(svd_ratelimit *rl, const svd_tb_cfg *bytes, const svd_tb_cfg *ops, uint64_t now)
{
    static const svd_tb_cfg unlimited = { 0u, 0u, 0u };
    svd_ratelimit tmp;

    SVD_ENSURE(rl != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_tb_init(&tmp.bytes, bytes != NULL ? bytes : &unlimited, now));
    SVD_GUARD(svd_tb_init(&tmp.ops, ops != NULL ? ops : &unlimited, now));
    *rl = tmp;
    return svd_ok();
}

/* Some bucket is limited: refill both, take from both or compute the wait. */
/*@ requires \valid(rl) && tb_ok(&rl->bytes) && tb_ok(&rl->ops) && \valid(granted) && \valid(wait_ns);
    requires \separated(rl, granted, wait_ns);
    assigns rl->bytes.tokens, rl->bytes.frac, rl->bytes.last_ns, rl->bytes.burst,
            rl->ops.tokens, rl->ops.frac, rl->ops.last_ns, rl->ops.burst, *granted, *wait_ns;
    ensures tb_ok(&rl->bytes) && tb_ok(&rl->ops);
    ensures \result ==> *granted <= want; */
static bool rl_admit_limited(svd_ratelimit *rl, uint64_t want, uint64_t now, uint64_t *granted, uint64_t *wait_ns)
{
    const uint64_t g = svd_tb_cap(&rl->bytes, want);

    svd_tb_refill(&rl->bytes, now);
    svd_tb_refill(&rl->ops, now);
    if (tb_has(&rl->ops, 1u) && tb_has(&rl->bytes, g)) {
        tb_take(&rl->ops, 1u);
        tb_take(&rl->bytes, g);
        *granted = g;
        *wait_ns = 0u;
        return true;
    }
    const uint64_t w_ops = svd_tb_wait_ns(&rl->ops, 1u, now);
    const uint64_t w_bytes = svd_tb_wait_ns(&rl->bytes, g, now);
    *granted = 0u;
    *wait_ns = w_ops > w_bytes ? w_ops : w_bytes;
    return false;
}

bool svd_ratelimit_admit(svd_ratelimit *rl, uint64_t want, uint64_t now, uint64_t *granted, uint64_t *wait_ns)
{
    /* One test per bucket, each with its own call, rather than one `||`:
     * gcc then keeps rl_admit_limited() out of line, and the common
     * unlimited case below costs a few instructions (no register saves). */
    if (!svd_tb_unlimited(&rl->bytes)) {
        return rl_admit_limited(rl, want, now, granted, wait_ns);
    }
    if (!svd_tb_unlimited(&rl->ops)) {
        return rl_admit_limited(rl, want, now, granted, wait_ns);
    }
    /* Both unlimited: what rl_admit_limited() would do (their refill, check
     * and take change nothing), without the calls. */
    *granted = want;
    *wait_ns = 0u;
    return true;
}

/* ---- per-second rate options -------------------------------------------- */

const char *svd_rate_opt_name(svd_rate_opt o)
{
    const char *name;
    switch (o) {
    case SVD_RATE_BYTES:
        name = "rate-bytes";
        break;
    case SVD_RATE_BURST:
        name = "rate-burst";
        break;
    case SVD_RATE_OPS:
        name = "rate-ops";
        break;
    case SVD_RATE_OPS_BURST:
        name = "rate-ops-burst";
        break;
    case SVD_RATE__COUNT:
    default:
        name = "unknown";
        break;
    }
    return name;
}

const char *svd_rate_opt_expects(svd_rate_opt o)
{
    const char *what;
    switch (o) {
    case SVD_RATE_BYTES:
        what = "bytes per second, 0 (unlimited) to 1073741824";
        break;
    case SVD_RATE_BURST:
        what = "bytes, 0 to 1073741824";
        break;
    case SVD_RATE_OPS:
        what = "requests per second, 0 (unlimited) to 1073741824";
        break;
    case SVD_RATE_OPS_BURST:
        what = "requests, 0 to 1073741824";
        break;
    case SVD_RATE__COUNT:
    default:
        what = "a known rate option";
        break;
    }
    return what;
}

svd_result svd_rate_opt_set(svd_rate_opts *r, svd_rate_opt o, const char *value)
{
    uint64_t v = 0u;
    SVD_ENSURE(r != NULL && (unsigned)o < (unsigned)SVD_RATE__COUNT, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_parse_u64(value, 0u, SVD_RATE_MAX, &v));
    r->v[o] = v;
    return svd_ok();
}

/* One bucket from a per-second rate (see ratelimit.h). */
static void rate_bucket(uint64_t per_s, uint64_t burst, svd_tb_cfg *c)
{
    (void)memset(c, 0, sizeof(*c));
    if (per_s == 0u) {
        return;
    }
    c->size = per_s / 10u;
    if (c->size == 0u) {
        c->size = 1u;
    }
    /* size * 1e9 < 2^27 * 2^30: no overflow; per_s >= 1. */
    c->refill_ns = (c->size * UINT64_C(1000000000) + per_s / 2u) / per_s;
    c->one_time_burst = burst;
}

svd_result svd_rate_to_buckets(const svd_rate_opts *r, svd_tb_cfg *bytes, svd_tb_cfg *ops, svd_rate_opt *bad)
{
    SVD_ENSURE(r != NULL && bytes != NULL && ops != NULL && bad != NULL, SVD_ERR_INVALID_ARG);
    if (r->v[SVD_RATE_BURST] != 0u && r->v[SVD_RATE_BYTES] == 0u) {
        *bad = SVD_RATE_BURST;
        return svd_fail(SVD_ERR_INVALID_ARG);
    }
    if (r->v[SVD_RATE_OPS_BURST] != 0u && r->v[SVD_RATE_OPS] == 0u) {
        *bad = SVD_RATE_OPS_BURST;
        return svd_fail(SVD_ERR_INVALID_ARG);
    }
    rate_bucket(r->v[SVD_RATE_BYTES], r->v[SVD_RATE_BURST], bytes);
    rate_bucket(r->v[SVD_RATE_OPS], r->v[SVD_RATE_OPS_BURST], ops);
    return svd_ok();
}
