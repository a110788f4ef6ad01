/* Unit tests of the entropy source health tests (src/core/health.c):
 * NIST SP 800-90B §4.3 start-up test, §4.4.1 repetition count test, §4.4.2
 * adaptive proportion test. The sources that must be caught (all zeros, a
 * stuck byte, a biased source) are attacks; a healthy source must never trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/health.h"

/* splitmix64: a deterministic stand-in for a healthy source. */
static uint64_t g_seed;
static uint8_t rnd8(void)
{
    uint64_t z = (g_seed += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (uint8_t)(z ^ (z >> 31));
}

static void fill_random(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = rnd8();
    }
}

/* Bytes 0, 1, 2, ... 255, 0, ...: no repetition, each value once per 256. */
static void fill_counting(uint8_t *b, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(start + i);
    }
}

static svd_health make(uint32_t h_bits)
{
    svd_health h;
    assert_true(svd_is_ok(svd_health_init(&h, h_bits)));
    return h;
}

/* Feed the start-up test with samples that pass it. */
static void pass_startup(svd_health *h)
{
    uint8_t b[SVD_HEALTH_STARTUP_SAMPLES];
    fill_counting(b, sizeof(b), 0);
    assert_true(svd_is_err(svd_health_feed(h, b, sizeof(b), NULL), SVD_ERR_AGAIN));
    assert_int_equal(svd_health_state_of(h), SVD_HEALTH_OK);
}

/* REQ: REQ-HLT-001 */
static void test_init_rejects_bad_arguments(void **state)
{
    svd_health h;
    svd_health before;
    (void)state;
    memset(&h, 0x5a, sizeof(h));
    before = h;
    assert_true(svd_is_err(svd_health_init(&h, 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_health_init(&h, 9u), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&h, &before, sizeof(h));
    assert_true(svd_is_err(svd_health_init(NULL, 8u), SVD_ERR_INVALID_ARG));
    h = make(8u);
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_STARTUP);
    {
        uint8_t b[4] = { 1, 2, 3, 4 };
        svd_health_stats st;
        svd_health copy = h;
        assert_true(svd_is_err(svd_health_feed(NULL, b, 4, NULL), SVD_ERR_INVALID_ARG));
        assert_true(svd_is_err(svd_health_feed(&h, NULL, 4, NULL), SVD_ERR_INVALID_ARG));
        assert_true(svd_is_err(svd_health_feed(&h, b, 0, NULL), SVD_ERR_INVALID_ARG));
        assert_memory_equal(&h, &copy, sizeof(h));
        st = svd_health_stats_of(&h);
        assert_int_equal(st.samples, 0);
    }
}

/* The cut-offs are NIST's formulas for alpha = 2^-40, W = 512
 * (tools/health/cutoffs.py): RCT 1 + ceil(40/H), APT 1 + CRITBINOM.
 * REQ: REQ-HLT-002 */
static void test_cutoffs_follow_stated_min_entropy(void **state)
{
    static const uint32_t rct[8] = { 41, 21, 15, 11, 9, 8, 7, 6 };
    static const uint32_t apt[8] = { 336, 201, 123, 78, 51, 35, 26, 19 };
    (void)state;
    for (uint32_t hb = 1; hb <= 8; hb++) {
        svd_health h = make(hb);
        const uint32_t r = h.rct_cutoff;
        const uint32_t a = h.apt_cutoff;
        assert_int_equal(r, rct[hb - 1]);
        assert_int_equal(a, apt[hb - 1]);
        assert_int_equal(r, 1u + (40u + hb - 1u) / hb);
    }
}

/* §4.3: the first 1024 samples are tested and discarded; output comes only
 * after; the batch in which the start-up test completes is discarded too.
 * REQ: REQ-HLT-003.b REQ-HLT-003.c REQ-HLT-003.d REQ-HLT-006.a */
static void test_startup_discards_first_1024_samples(void **state)
{
    svd_health h = make(8u);
    uint8_t b[SVD_HEALTH_STARTUP_SAMPLES + 64];
    svd_health_test why = SVD_HEALTH_APT;
    svd_health_stats st;
    (void)state;
    fill_counting(b, sizeof(b), 7);
    assert_true(svd_is_err(svd_health_feed(&h, b, 1023, &why), SVD_ERR_AGAIN));
    assert_int_equal(why, SVD_HEALTH_NONE);
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_STARTUP);
    /* The 1024th sample completes it, but this batch of 2 is still discarded. */
    assert_true(svd_is_err(svd_health_feed(&h, b + 1023, 2, NULL), SVD_ERR_AGAIN));
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_OK);
    assert_true(svd_is_ok(svd_health_feed(&h, b + 1025, 63, &why)));
    assert_int_equal(why, SVD_HEALTH_NONE);
    st = svd_health_stats_of(&h);
    assert_int_equal(st.samples, 1088);
    assert_int_equal(st.discarded, 1025);
    assert_int_equal(st.released, 63);
    assert_int_equal(st.startups, 1);
}

/* /dev/zero as a source: the repetition count test trips at the start-up
 * test, and nothing is ever released however much is fed.
 * REQ: REQ-HLT-003.a REQ-HLT-003.c REQ-HLT-004 REQ-HLT-006.a REQ-HLT-006.b */
static void test_attack_all_zero_source_never_released(void **state)
{
    svd_health h = make(8u);
    uint8_t z[64];
    svd_health_test why = SVD_HEALTH_NONE;
    svd_health_stats st;
    (void)state;
    memset(z, 0, sizeof(z));
    for (int i = 0; i < 1000; i++) {
        svd_result r = svd_health_feed(&h, z, sizeof(z), &why);
        assert_false(svd_is_ok(r));
        assert_true(svd_is_err(r, SVD_ERR_SOURCE));
        assert_int_equal(why, SVD_HEALTH_RCT);
        assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_FAILED);
    }
    st = svd_health_stats_of(&h);
    assert_int_equal(st.released, 0);
    assert_int_equal(st.rct_failures, 1000);
    assert_int_equal(st.startups, 0);
}

/* A healthy source whose output sticks at one byte: caught by the RCT at
 * exactly the cut-off (6 identical bytes for H = 8; 5 pass), the batch with
 * the failure is discarded whole, and output resumes only after a full
 * recovery start-up test.
 * REQ: REQ-HLT-004 REQ-HLT-007 REQ-HLT-006.a REQ-HLT-006.b */
static void test_attack_stuck_byte_caught_at_cutoff(void **state)
{
    svd_health h = make(8u);
    uint8_t b[64];
    svd_health_test why = SVD_HEALTH_NONE;
    svd_health_stats st;
    (void)state;
    pass_startup(&h);
    /* Five repeats (below the cut-off) pass. */
    memset(b, 0xa5, 5);
    b[5] = 0x01;
    assert_true(svd_is_ok(svd_health_feed(&h, b, 6, &why)));
    /* Good bytes then six identical ones: the whole batch is discarded. */
    fill_counting(b, 10, 0x10);
    memset(b + 10, 0xa5, 6);
    fill_counting(b + 16, 48, 0x40);
    assert_true(svd_is_err(svd_health_feed(&h, b, 64, &why), SVD_ERR_SOURCE));
    assert_int_equal(why, SVD_HEALTH_RCT);
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_FAILED);
    /* Recovery: good samples are discarded until 1024 of them passed. */
    fill_counting(b, 64, 0);
    for (int i = 0; i < 15; i++) {
        assert_true(svd_is_err(svd_health_feed(&h, b, 64, &why), SVD_ERR_AGAIN));
        assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_FAILED);
    }
    assert_true(svd_is_err(svd_health_feed(&h, b, 64, &why), SVD_ERR_AGAIN));
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_OK);
    assert_true(svd_is_ok(svd_health_feed(&h, b, 64, &why)));
    st = svd_health_stats_of(&h);
    assert_int_equal(st.rct_failures, 1);
    assert_int_equal(st.startups, 2);
}

/* A failure during the recovery test restarts it: 1024 consecutive passing
 * samples are needed.
 * REQ: REQ-HLT-007 */
static void test_failure_during_recovery_restarts_it(void **state)
{
    svd_health h = make(8u);
    uint8_t b[1024];
    uint8_t z[6] = { 0 };
    (void)state;
    assert_true(svd_is_err(svd_health_feed(&h, z, 6, NULL), SVD_ERR_SOURCE));
    fill_counting(b, 1000, 0);
    assert_true(svd_is_err(svd_health_feed(&h, b, 1000, NULL), SVD_ERR_AGAIN));
    assert_true(svd_is_err(svd_health_feed(&h, z, 6, NULL), SVD_ERR_SOURCE));
    fill_counting(b, 1023, 0);
    assert_true(svd_is_err(svd_health_feed(&h, b, 1023, NULL), SVD_ERR_AGAIN));
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_FAILED);
    assert_true(svd_is_err(svd_health_feed(&h, b, 1, NULL), SVD_ERR_AGAIN));
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_OK);
}

/* A biased source with no runs: one value in every 20 samples. The window's
 * first sample is that value, so it counts 1 + 25 > 19 in 512: the APT trips
 * while the RCT never does, within the start-up test (before 512 samples).
 * REQ: REQ-HLT-003.a REQ-HLT-005 REQ-HLT-006.b */
static void test_attack_biased_source_caught_by_apt(void **state)
{
    svd_health h = make(8u);
    uint8_t b[2048];
    svd_health_test why = SVD_HEALTH_NONE;
    svd_result r = svd_ok();
    size_t fed = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(b); i++) {
        /* 0x55 at every 20th sample (and first), otherwise a counting
         * sequence that skips 0x55 and never repeats. */
        uint8_t v = (uint8_t)(i % 200u);
        b[i] = (i % 20u == 0u) ? 0x55u : (uint8_t)(v == 0x55u ? 0xeeu : v);
    }
    for (fed = 0; fed < sizeof(b); fed += 16) {
        r = svd_health_feed(&h, b + fed, 16, &why);
        if (svd_is_err(r, SVD_ERR_SOURCE)) {
            break;
        }
    }
    assert_true(svd_is_err(r, SVD_ERR_SOURCE));
    assert_int_equal(why, SVD_HEALTH_APT);
    assert_true(fed < SVD_HEALTH_APT_WINDOW);
    assert_int_equal(svd_health_stats_of(&h).apt_failures, 1);
    assert_int_equal(svd_health_stats_of(&h).rct_failures, 0);
}

/* A random source biased to 16 of the 256 values (4 bits of entropy per byte
 * where 8 were stated) is caught within the first windows.
 * REQ: REQ-HLT-005 */
static void test_attack_low_entropy_random_source_caught(void **state)
{
    svd_health h = make(8u);
    uint8_t b[4096];
    svd_result r = svd_ok();
    (void)state;
    g_seed = 42;
    for (size_t i = 0; i < sizeof(b); i++) {
        b[i] = (uint8_t)(rnd8() & 0x0fu);
    }
    for (size_t off = 0; off < sizeof(b) && !svd_is_err(r, SVD_ERR_SOURCE); off += 64) {
        r = svd_health_feed(&h, b + off, 64, NULL);
    }
    assert_true(svd_is_err(r, SVD_ERR_SOURCE));
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_FAILED);
}

/* The APT counts within one window: the count restarts with each window's
 * first sample, so cut-off - 1 occurrences per window never trip, across
 * many windows; cut-off occurrences in one window do.
 * REQ: REQ-HLT-005 */
static void test_apt_window_boundaries_exact(void **state)
{
    svd_health h = make(8u);
    uint8_t w[SVD_HEALTH_APT_WINDOW];
    svd_health_test why = SVD_HEALTH_NONE;
    (void)state;
    pass_startup(&h); /* 1024 samples: two full windows, the next starts fresh */
    /* 18 occurrences of the window's first value (0x77): passes. */
    fill_counting(w, sizeof(w), 0);
    for (size_t i = 0; i < sizeof(w); i++) {
        if (w[i] == 0x77u) {
            w[i] = 0x78u; /* keep 0x77 only where placed below */
        }
    }
    for (size_t k = 0; k < 18u; k++) {
        w[k * 25u] = 0x77u;
    }
    for (int rep = 0; rep < 4; rep++) {
        assert_true(svd_is_ok(svd_health_feed(&h, w, sizeof(w), &why)));
    }
    /* 19 in one window: trips. */
    w[18u * 25u] = 0x77u;
    assert_true(svd_is_err(svd_health_feed(&h, w, sizeof(w), &why), SVD_ERR_SOURCE));
    assert_int_equal(why, SVD_HEALTH_APT);
}

/* 24 MiB from a healthy source (H = 8 stated) never trip either test.
 * REQ: REQ-HLT-008 */
static void test_healthy_source_24_mib_never_trips(void **state)
{
    svd_health h = make(8u);
    uint8_t b[4096];
    svd_health_stats st;
    (void)state;
    g_seed = UINT64_C(0x5eed);
    for (size_t n = 0; n < (size_t)24 * 1024u * 1024u; n += sizeof(b)) {
        svd_result r;
        fill_random(b, sizeof(b));
        r = svd_health_feed(&h, b, sizeof(b), NULL);
        assert_true(svd_is_ok(r) || (n == 0 && svd_is_err(r, SVD_ERR_AGAIN)));
    }
    st = svd_health_stats_of(&h);
    assert_int_equal(st.rct_failures, 0);
    assert_int_equal(st.apt_failures, 0);
    assert_int_equal(st.samples, (uint64_t)24 * 1024u * 1024u);
    assert_int_equal(st.released, (uint64_t)24 * 1024u * 1024u - sizeof(b));
    assert_int_equal(svd_health_state_of(&h), SVD_HEALTH_OK);
}

/* A weaker stated H relaxes the cut-offs: a run of 6 trips at H = 8 but not
 * at H = 4 (cut-off 11); 11 trip at H = 4.
 * REQ: REQ-HLT-002 */
static void test_lower_min_entropy_tolerates_more(void **state)
{
    svd_health h = make(4u);
    uint8_t b[16];
    (void)state;
    pass_startup(&h);
    memset(b, 3, 10);
    b[10] = 4;
    assert_true(svd_is_ok(svd_health_feed(&h, b, 11, NULL)));
    memset(b, 3, 11);
    assert_true(svd_is_err(svd_health_feed(&h, b, 11, NULL), SVD_ERR_SOURCE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_arguments),
        cmocka_unit_test(test_cutoffs_follow_stated_min_entropy),
        cmocka_unit_test(test_startup_discards_first_1024_samples),
        cmocka_unit_test(test_attack_all_zero_source_never_released),
        cmocka_unit_test(test_attack_stuck_byte_caught_at_cutoff),
        cmocka_unit_test(test_failure_during_recovery_restarts_it),
        cmocka_unit_test(test_attack_biased_source_caught_by_apt),
        cmocka_unit_test(test_attack_low_entropy_random_source_caught),
        cmocka_unit_test(test_apt_window_boundaries_exact),
        cmocka_unit_test(test_healthy_source_24_mib_never_trips),
        cmocka_unit_test(test_lower_min_entropy_tolerates_more),
    };
    return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
