/* Entropy source health tests (NIST SP 800-90B §4.3 start-up, §4.4.1
 * repetition count, §4.4.2 adaptive proportion) over 8-bit samples.
 *
 * The cut-offs come from a constant table (tools/health/cutoffs.py computes
 * it exactly; floating point and libm are not needed here). Both tests run on
 * every sample, in every state, so the start-up test is simply "the
 * continuous tests on SVD_HEALTH_STARTUP_SAMPLES consecutive samples, whose
 * output is discarded" (§4.3 (4)). A failure restarts both tests and the
 * start-up count: after a failure nothing is released until a full start-up
 * test has passed again. */
#include "safevdev/health.h"

#include <string.h>

static void tests_restart(svd_health *h)
{
    h->rct_count = 0u;
    h->apt_count = 0u;
    h->apt_seen = 0u;
    h->startup_left = SVD_HEALTH_STARTUP_SAMPLES;
}

svd_result svd_health_init(svd_health *h, uint32_t h_bits)
{
    /* Index: H - 1. alpha = 2^-40, W = 512 (tools/health/cutoffs.py). */
    static const uint32_t k_rct_cutoff[SVD_HEALTH_MAX_H] = { 41u, 21u, 15u, 11u, 9u, 8u, 7u, 6u };
    static const uint32_t k_apt_cutoff[SVD_HEALTH_MAX_H] = { 336u, 201u, 123u, 78u, 51u, 35u, 26u, 19u };

    SVD_ENSURE(h != NULL && h_bits >= SVD_HEALTH_MIN_H && h_bits <= SVD_HEALTH_MAX_H, SVD_ERR_INVALID_ARG);
    (void)memset(h, 0, sizeof(*h));
    h->h_bits = h_bits;
    h->rct_cutoff = k_rct_cutoff[h_bits - 1u];
    h->apt_cutoff = k_apt_cutoff[h_bits - 1u];
    h->state = SVD_HEALTH_STARTUP;
    h->last_failure = SVD_HEALTH_NONE;
    tests_restart(h);
    return svd_ok();
}

/* The tests' running state, held in locals while a batch is fed: the
 * compiler cannot keep fields of *h in registers across the byte loads of
 * the batch (a byte may alias anything), and this loop is the per-byte cost
 * of every request. */
typedef struct tests_run {
    uint32_t rct_count;
    uint32_t apt_count;
    uint32_t apt_seen;
    uint32_t startup_left;
    uint8_t rct_value;
    uint8_t apt_value;
} tests_run;

/* §4.4.1: A is the value of the current run, B its length; a run of C fails. */
static bool rct_pass(tests_run *t, uint32_t cutoff, uint8_t x)
{
    if (t->rct_count != 0u && x == t->rct_value) {
        t->rct_count++;
        return t->rct_count < cutoff;
    }
    t->rct_value = x;
    t->rct_count = 1u;
    return true;
}

/* §4.4.2: the first sample of each window of W is A; B counts A in the
 * window (A itself included); B reaching C fails. */
static bool apt_pass(tests_run *t, uint32_t cutoff, uint8_t x)
{
    bool pass = true;
    if (t->apt_seen == 0u) {
        t->apt_value = x;
        t->apt_count = 1u;
    } else if (x == t->apt_value) {
        t->apt_count++;
        pass = t->apt_count < cutoff;
    } else {
        /* another value: only the window position moves */
    }
    t->apt_seen++;
    if (t->apt_seen == SVD_HEALTH_APT_WINDOW) {
        t->apt_seen = 0u;
    }
    return pass;
}

svd_result svd_health_feed(svd_health *h, const uint8_t *buf, size_t len, svd_health_test *failed)
{
    svd_health_test why = SVD_HEALTH_NONE;
    bool was_ok;
    size_t i;

    SVD_ENSURE(h != NULL && buf != NULL && len != 0u, SVD_ERR_INVALID_ARG);
    was_ok = h->state == SVD_HEALTH_OK;
    tests_run t = { h->rct_count, h->apt_count, h->apt_seen, h->startup_left, h->rct_value, h->apt_value };
    const uint32_t rct_cutoff = h->rct_cutoff;
    const uint32_t apt_cutoff = h->apt_cutoff;
    bool started = false;
    for (i = 0u; i < len && why == SVD_HEALTH_NONE; i++) {
        /* Both tests see every sample (no short-circuit). */
        const bool rct = rct_pass(&t, rct_cutoff, buf[i]);
        const bool apt = apt_pass(&t, apt_cutoff, buf[i]);
        if (!rct) {
            why = SVD_HEALTH_RCT;
        } else if (!apt) {
            why = SVD_HEALTH_APT;
        } else if (t.startup_left != 0u) {
            t.startup_left--;
            if (t.startup_left == 0u) {
                started = true;
            }
        } else {
            /* operational: the sample passed */
        }
    }
    h->rct_count = t.rct_count;
    h->apt_count = t.apt_count;
    h->apt_seen = t.apt_seen;
    h->startup_left = t.startup_left;
    h->rct_value = t.rct_value;
    h->apt_value = t.apt_value;
    if (started) {
        /* The start-up test completed in this batch (at most once: a failure
         * after it ends the batch and restarts it below). */
        h->state = SVD_HEALTH_OK;
        h->stats.startups++;
    }
    h->stats.samples += (uint64_t)len;
    if (failed != NULL) {
        *failed = why;
    }
    if (why != SVD_HEALTH_NONE) {
        /* The samples after the failing one are discarded untested. */
        h->state = SVD_HEALTH_FAILED;
        h->last_failure = why;
        if (why == SVD_HEALTH_RCT) {
            h->stats.rct_failures++;
        } else {
            h->stats.apt_failures++;
        }
        tests_restart(h);
        h->stats.discarded += (uint64_t)len;
        return svd_fail(SVD_ERR_SOURCE);
    }
    if (!was_ok) {
        h->stats.discarded += (uint64_t)len;
        return svd_fail(SVD_ERR_AGAIN);
    }
    h->stats.released += (uint64_t)len;
    return svd_ok();
}

svd_health_state svd_health_state_of(const svd_health *h)
{
    return h->state;
}

svd_health_stats svd_health_stats_of(const svd_health *h)
{
    return h->stats;
}

void svd_health_cutoffs(const svd_health *h, uint32_t *rct, uint32_t *apt)
{
    *rct = h->rct_cutoff;
    *apt = h->apt_cutoff;
}
