/* Unit tests of the token-bucket rate limiter and its per-second rate options
 * (src/core/ratelimit.c). Adversarial tests are test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/ratelimit.h"

/* A limiter whose byte bucket is the bucket under test and whose operation
 * bucket is unlimited: a request of n bytes (n <= size) costs exactly n of
 * the bucket's tokens, the way the entropy model spends them. */
static svd_ratelimit make_rl(uint64_t size, uint64_t burst, uint64_t refill_ns, uint64_t now)
{
    svd_ratelimit rl;
    const svd_tb_cfg cfg = { size, burst, refill_ns };
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &cfg, NULL, now)));
    return rl;
}

/* One request of @n bytes at @now: admitted with min(n, size) bytes and no
 * wait, or refused with nothing granted and a wait of at least 1 ns. */
static bool take(svd_ratelimit *rl, uint64_t n, uint64_t now)
{
    uint64_t granted = 7u;
    uint64_t wait = 7u;
    const bool ok = svd_ratelimit_admit(rl, n, now, &granted, &wait);
    if (ok) {
        assert_int_equal(granted, svd_tb_cap(&rl->bytes, n));
        assert_int_equal(wait, 0u);
    } else {
        assert_int_equal(granted, 0u);
        assert_true(wait >= 1u);
    }
    return ok;
}

/* REQ: REQ-ENT-004 */
static void test_init_rejects_out_of_range_configs(void **state)
{
    (void)state;
    const svd_tb_cfg bad[] = {
        { SVD_TB_MAX_SIZE + 1u, 0u, 1000u },
        { 10u, SVD_TB_MAX_SIZE + 1u, 1000u },
        { 10u, 0u, 0u },
        { 10u, 0u, SVD_TB_MAX_REFILL_NS + 1u },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        svd_tb tb;
        memset(&tb, 0x5a, sizeof(tb));
        svd_tb before = tb;
        assert_true(svd_is_err(svd_tb_init(&tb, &bad[i], 7u), SVD_ERR_INVALID_ARG));
        assert_memory_equal(&tb, &before, sizeof(tb));
    }
    svd_tb tb;
    assert_true(svd_is_err(svd_tb_init(&tb, NULL, 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_tb_init(NULL, &bad[0], 0u), SVD_ERR_INVALID_ARG));
    /* The exact limits are accepted. */
    const svd_tb_cfg edge = { SVD_TB_MAX_SIZE, SVD_TB_MAX_SIZE, SVD_TB_MAX_REFILL_NS };
    assert_true(svd_is_ok(svd_tb_init(&tb, &edge, 0u)));
    assert_int_equal(tb.tokens, SVD_TB_MAX_SIZE);
    assert_int_equal(tb.burst, SVD_TB_MAX_SIZE);
}

/* REQ: REQ-ENT-004 */
static void test_unlimited_bucket_always_grants(void **state)
{
    (void)state;
    /* size 0: other fields are ignored, even nonsense ones. */
    const svd_tb_cfg nonsense = { 0u, 99u, 0u };
    svd_tb tb;
    assert_true(svd_is_ok(svd_tb_init(&tb, &nonsense, 5u)));
    assert_true(svd_tb_unlimited(&tb));
    assert_int_equal(svd_tb_cap(&tb, UINT64_MAX), UINT64_MAX);
    assert_int_equal(svd_tb_wait_ns(&tb, UINT64_MAX, 0u), 0u);
    svd_tb_refill(&tb, 100u);
    assert_int_equal(tb.tokens, 0u);
    /* Two unlimited buckets admit anything, whole, again and again. */
    svd_ratelimit rl;
    uint64_t g = 0u;
    uint64_t w = 1u;
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &nonsense, NULL, 5u)));
    assert_true(svd_ratelimit_admit(&rl, UINT64_MAX, 0u, &g, &w));
    assert_int_equal(g, UINT64_MAX);
    assert_int_equal(w, 0u);
    assert_true(svd_ratelimit_admit(&rl, UINT64_MAX, 1u, &g, &w));
    assert_int_equal(g, UINT64_MAX);
    /* An unlimited byte bucket beside a limited operation bucket: bytes are
     * never what limits, the one operation token is. */
    const svd_tb_cfg one_op = { 1u, 0u, 1000u };
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &nonsense, &one_op, 0u)));
    assert_true(svd_ratelimit_admit(&rl, UINT64_MAX, 0u, &g, &w));
    assert_int_equal(g, UINT64_MAX);
    assert_int_equal(w, 0u);
    assert_false(svd_ratelimit_admit(&rl, 1u, 0u, &g, &w));
    assert_int_equal(g, 0u);
    assert_int_equal(w, 1000u);
    assert_int_equal(rl.bytes.tokens, 0u);
    assert_true(svd_ratelimit_admit(&rl, UINT64_MAX, 1000u, &g, &w));
    assert_int_equal(g, UINT64_MAX);
}

/* REQ: REQ-ENT-001 REQ-ENT-002 */
static void test_starts_full_and_refills_with_carried_fraction(void **state)
{
    (void)state;
    /* 3 tokens per 10 ns: one token every 3.33 ns. */
    svd_ratelimit rl = make_rl(3u, 0u, 10u, 1000u);
    svd_tb *tb = &rl.bytes;
    assert_int_equal(tb->tokens, 3u);
    assert_true(take(&rl, 3u, 1000u));
    assert_false(take(&rl, 1u, 1000u));
    svd_tb_refill(tb, 1003u); /* 9/10 of a token */
    assert_int_equal(tb->tokens, 0u);
    assert_int_equal(tb->frac, 9u);
    svd_tb_refill(tb, 1004u); /* 12/10: one token, 2/10 carried */
    assert_int_equal(tb->tokens, 1u);
    assert_int_equal(tb->frac, 2u);
    svd_tb_refill(tb, 1006u); /* 2 + 6 = 8/10 */
    assert_int_equal(tb->tokens, 1u);
    assert_int_equal(tb->frac, 8u);
    svd_tb_refill(tb, 1010u); /* 8 + 12 = 20/10: two more: full at 3 */
    assert_int_equal(tb->tokens, 3u);
    assert_int_equal(tb->frac, 0u);
}

/* REQ: REQ-ENT-001 */
static void test_refill_exact_however_time_is_sliced(void **state)
{
    (void)state;
    /* Tokens earned over T ns from empty must be floor(T * size / refill)
     * whether time arrives in one step or in many odd-sized steps. */
    const uint64_t size = 1000003u, refill = 999999937u; /* co-prime, awkward */
    svd_ratelimit ra = make_rl(size, 0u, refill, 0u);
    assert_true(take(&ra, size, 0u));
    svd_tb a = ra.bytes;
    svd_tb b = ra.bytes;
    uint64_t t = 0u, seed = 12345u;
    while (t < refill - 5000u) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        t += 1u + ((seed >> 33) % 4000u);
        if (t >= refill - 5000u) {
            t = refill - 5000u;
        }
        svd_tb_refill(&b, t);
    }
    svd_tb_refill(&a, t);
    const uint64_t expect = (t * size) / refill; /* < 2^63 within limits */
    assert_int_equal(a.tokens, expect);
    assert_int_equal(b.tokens, expect);
    assert_int_equal(a.frac, b.frac);
    assert_int_equal(a.frac, (t * size) % refill);
}

/* REQ: REQ-ENT-001 */
static void test_largest_config_does_not_overflow(void **state)
{
    (void)state;
    svd_ratelimit rl = make_rl(SVD_TB_MAX_SIZE, 0u, SVD_TB_MAX_REFILL_NS, 0u);
    assert_true(take(&rl, SVD_TB_MAX_SIZE, 0u));
    svd_tb tb = rl.bytes;
    svd_tb_refill(&tb, SVD_TB_MAX_REFILL_NS - 1u);
    /* (2^32 - 1) * 2^30 / 2^32 = 2^30 - 2^-2: 2^30 - 1 tokens, 3/4 carried. */
    assert_int_equal(tb.tokens, SVD_TB_MAX_SIZE - 1u);
    assert_int_equal(tb.frac, SVD_TB_MAX_REFILL_NS - SVD_TB_MAX_SIZE);
    svd_tb_refill(&tb, SVD_TB_MAX_REFILL_NS);
    assert_int_equal(tb.tokens, SVD_TB_MAX_SIZE);
    assert_int_equal(tb.frac, 0u);
}

/* REQ: REQ-ENT-002 */
static void test_bucket_never_exceeds_size(void **state)
{
    (void)state;
    svd_ratelimit rl = make_rl(8u, 0u, 100u, 0u);
    svd_tb_refill(&rl.bytes, 1000000u);
    assert_int_equal(rl.bytes.tokens, 8u);
    assert_true(take(&rl, 1u, 1000000u));
    assert_int_equal(rl.bytes.tokens, 7u);
    svd_tb_refill(&rl.bytes, UINT64_MAX); /* huge gap: full, not wrapped */
    assert_int_equal(rl.bytes.tokens, 8u);
    assert_int_equal(rl.bytes.frac, 0u);
    /* Partial refill that would cross the size stops at it. */
    svd_ratelimit r2 = make_rl(8u, 0u, 100u, 0u);
    assert_true(take(&r2, 1u, 0u));
    svd_tb_refill(&r2.bytes, 99u); /* would earn 7.92 tokens: capped at 8 */
    assert_int_equal(r2.bytes.tokens, 8u);
    assert_int_equal(r2.bytes.frac, 0u);
}

/* REQ: REQ-ENT-002 */
static void test_one_time_burst_spent_first_and_never_refilled(void **state)
{
    (void)state;
    svd_ratelimit rl = make_rl(4u, 6u, 40u, 0u);
    assert_true(take(&rl, 4u, 0u)); /* burst only */
    assert_int_equal(rl.bytes.burst, 2u);
    assert_int_equal(rl.bytes.tokens, 4u);
    assert_true(take(&rl, 3u, 0u)); /* 2 burst + 1 regular */
    assert_int_equal(rl.bytes.burst, 0u);
    assert_int_equal(rl.bytes.tokens, 3u);
    /* Burst and tokens together: 3 regular left, 4 wanted, refused whole. */
    assert_false(take(&rl, 4u, 0u));
    assert_int_equal(rl.bytes.tokens, 3u);
    svd_tb_refill(&rl.bytes, 1000000u);
    assert_int_equal(rl.bytes.burst, 0u);
    assert_int_equal(rl.bytes.tokens, 4u);
}

/* REQ: REQ-ENT-007.a REQ-ENT-007.b REQ-ENT-007.c */
static void test_attack_request_larger_than_bucket_never_granted(void **state)
{
    (void)state;
    /* 4 bytes per 10 ns with a 6-byte one-time burst; every request wants
     * more than the bucket can hold. Over 1000 ns of asking, no request gets
     * more than the bucket's size, and all of them together no more than
     * the burst, the full bucket and what 1000 ns earn. */
    svd_ratelimit rl = make_rl(4u, 6u, 10u, 0u);
    uint64_t total = 0u;
    for (uint64_t t = 0u; t <= 1000u; t += 7u) {
        const uint64_t want = (t % 2u) != 0u ? 5u : UINT64_MAX;
        uint64_t g = 0u;
        uint64_t w = 0u;
        while (svd_ratelimit_admit(&rl, want, t, &g, &w)) {
            assert_int_equal(g, 4u);
            total += g;
        }
        assert_int_equal(g, 0u);
        assert_true(rl.bytes.tokens <= 4u);
    }
    assert_true(total <= 6u + 4u + 1000u * 4u / 10u);
    assert_int_equal(svd_tb_cap(&rl.bytes, 5u), 4u);
    assert_int_equal(svd_tb_cap(&rl.bytes, UINT64_MAX), 4u);
    assert_int_equal(svd_tb_cap(&rl.bytes, 3u), 3u);
    /* Contract broken (n > size): wait_ns answers the time to a full bucket, no overflow. */
    svd_ratelimit e = make_rl(4u, 0u, 10u, 2000u);
    assert_true(take(&e, 4u, 2000u));
    assert_int_equal(svd_tb_wait_ns(&e.bytes, UINT64_MAX, 2000u), 10u);
    assert_int_equal(svd_tb_wait_ns(&e.bytes, 5u, 2000u), 10u);
}

/* REQ: REQ-ENT-003 */
static void test_attack_clock_going_backwards_earns_nothing(void **state)
{
    (void)state;
    svd_ratelimit rl = make_rl(10u, 0u, 10u, 1000u);
    assert_true(take(&rl, 10u, 1000u));
    svd_tb_refill(&rl.bytes, 500u); /* back by 500 ns */
    assert_int_equal(rl.bytes.tokens, 0u);
    assert_false(take(&rl, 1u, 0u)); /* further back */
    assert_false(take(&rl, 1u, 0u)); /* same time */
    /* Time then moves forward from the new reading: 3 ns earn 3 tokens, no more. */
    svd_tb_refill(&rl.bytes, 3u);
    assert_int_equal(rl.bytes.tokens, 3u);
    /* Wrap-around of the clock is a backwards step too. */
    svd_ratelimit r2 = make_rl(10u, 0u, 10u, UINT64_MAX - 1u);
    assert_true(take(&r2, 10u, UINT64_MAX - 1u));
    assert_false(take(&r2, 1u, 2u));
    assert_int_equal(r2.bytes.tokens, 0u);
}

/* REQ: REQ-ENT-005 */
static void test_wait_ns_is_exact(void **state)
{
    (void)state;
    const uint64_t cases[][3] = { /* size, refill, n */
        { 3u, 10u, 1u }, { 3u, 10u, 3u }, { 7u, 1000u, 5u }, { 1u, 1u, 1u },
        { SVD_TB_MAX_SIZE, SVD_TB_MAX_REFILL_NS, SVD_TB_MAX_SIZE },
        { SVD_TB_MAX_SIZE, SVD_TB_MAX_REFILL_NS, 1u }, { 1000u, 3u, 999u },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (uint64_t pre = 0u; pre < 3u; pre++) {
            svd_ratelimit rl = make_rl(cases[i][0], 0u, cases[i][1], 100u);
            assert_true(take(&rl, cases[i][0], 100u));
            svd_tb_refill(&rl.bytes, 100u + pre); /* leave a fraction behind */
            const uint64_t now = 100u + pre;
            const uint64_t n = cases[i][2];
            if (rl.bytes.tokens >= n) {
                assert_int_equal(svd_tb_wait_ns(&rl.bytes, n, now), 0u);
                continue;
            }
            const uint64_t w = svd_tb_wait_ns(&rl.bytes, n, now);
            assert_true(w >= 1u);
            svd_ratelimit early = rl, on_time = rl;
            assert_false(take(&early, n, now + w - 1u));
            assert_true(take(&on_time, n, now + w));
        }
    }
    svd_ratelimit full = make_rl(4u, 0u, 10u, 0u);
    assert_int_equal(svd_tb_wait_ns(&full.bytes, 4u, 0u), 0u);
    /* Burst counts as available. */
    svd_ratelimit bur = make_rl(4u, 2u, 40u, 0u);
    assert_true(take(&bur, 4u, 0u));
    assert_int_equal(svd_tb_wait_ns(&bur.bytes, 2u, 0u), 0u);
    assert_int_equal(svd_tb_wait_ns(&bur.bytes, 3u, 0u), 10u);
}

/* REQ: REQ-ENT-004 REQ-ENT-006 */
static void test_ratelimit_init_null_means_unlimited_and_failure_changes_nothing(void **state)
{
    (void)state;
    svd_ratelimit rl;
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, NULL, NULL, 0u)));
    uint64_t g = 1u, w = 1u;
    assert_true(svd_ratelimit_admit(&rl, 1u << 20, 0u, &g, &w));
    assert_int_equal(g, 1u << 20);
    assert_int_equal(w, 0u);

    const svd_tb_cfg ok = { 10u, 0u, 10u }, bad = { 10u, 0u, 0u };
    memset(&rl, 0x33, sizeof(rl));
    svd_ratelimit before = rl;
    assert_true(svd_is_err(svd_ratelimit_init(&rl, &ok, &bad, 0u), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&rl, &before, sizeof(rl));
    assert_true(svd_is_err(svd_ratelimit_init(&rl, &bad, &ok, 0u), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&rl, &before, sizeof(rl));
    assert_true(svd_is_err(svd_ratelimit_init(NULL, &ok, &ok, 0u), SVD_ERR_INVALID_ARG));
}

/* REQ: REQ-ENT-006 */
static void test_admit_takes_both_or_neither(void **state)
{
    (void)state;
    svd_ratelimit rl;
    const svd_tb_cfg bytes = { 100u, 0u, 1000u }; /* 0.1 byte/ns */
    const svd_tb_cfg ops = { 2u, 0u, 1000u };     /* 1 op per 500 ns */
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &bytes, &ops, 0u)));
    uint64_t g = 0u, w = 0u;
    /* want above the bucket: granted is capped at its size. */
    assert_true(svd_ratelimit_admit(&rl, 1000u, 0u, &g, &w));
    assert_int_equal(g, 100u);
    assert_int_equal(w, 0u);
    assert_int_equal(rl.ops.tokens, 1u);
    assert_int_equal(rl.bytes.tokens, 0u);
    /* Bytes short, ops there: neither is taken; wait is the byte wait. */
    assert_false(svd_ratelimit_admit(&rl, 64u, 0u, &g, &w));
    assert_int_equal(g, 0u);
    assert_int_equal(w, 640u);
    assert_int_equal(rl.ops.tokens, 1u);
    /* At the reported time it fits. */
    assert_true(svd_ratelimit_admit(&rl, 64u, 640u, &g, &w));
    assert_int_equal(g, 64u);
    /* ops: 1 left + 1.28 earned in 640 ns, capped at 2, minus the one taken. */
    assert_int_equal(rl.ops.tokens, 1u);
}

/* REQ: REQ-ENT-006 */
static void test_admit_ops_exhausted_takes_no_bytes_and_waits_longest(void **state)
{
    (void)state;
    svd_ratelimit rl;
    const svd_tb_cfg bytes = { 1000u, 0u, 1000u };
    const svd_tb_cfg ops = { 1u, 0u, 1000u };
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &bytes, &ops, 0u)));
    uint64_t g = 0u, w = 0u;
    assert_true(svd_ratelimit_admit(&rl, 10u, 0u, &g, &w));
    assert_int_equal(rl.bytes.tokens, 990u);
    assert_false(svd_ratelimit_admit(&rl, 10u, 100u, &g, &w));
    assert_int_equal(rl.bytes.tokens, 1000u); /* refilled, not taken */
    assert_int_equal(w, 900u);                /* op token at t=1000 */
    assert_true(svd_ratelimit_admit(&rl, 10u, 1000u, &g, &w));
    /* Zero-byte request still costs an op. */
    assert_false(svd_ratelimit_admit(&rl, 0u, 1000u, &g, &w));
    assert_int_equal(w, 1000u);
}

/* REQ: REQ-ENT-006 */
static void test_admit_rate_over_long_run_matches_config(void **state)
{
    (void)state;
    /* 64-byte requests against 6400 B/s (size 640 over 100 ms): in 10 s of
     * polling at the advertised wait times, at most 640 + 6400 * 10 bytes pass. */
    svd_ratelimit rl;
    const svd_tb_cfg bytes = { 640u, 0u, 100000000u };
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &bytes, NULL, 0u)));
    uint64_t now = 0u, total = 0u, g = 0u, w = 0u;
    while (now <= 10000000000u) {
        if (svd_ratelimit_admit(&rl, 64u, now, &g, &w)) {
            total += g;
        } else {
            assert_true(w > 0u);
            now += w;
        }
    }
    assert_true(total <= 640u + 64000u);
    assert_true(total >= 64000u);
}

/* ------------------------------------------------------ per-second options */

/* The names both hosts print, and what they tell a user who got one wrong. */
/* REQ: REQ-ENT-008 */
static void test_rate_option_names_and_expectations(void **state)
{
    (void)state;
    static const char *const names[] = { "rate-bytes", "rate-burst", "rate-ops", "rate-ops-burst" };
    for (unsigned i = 0u; i < (unsigned)SVD_RATE__COUNT; i++) {
        assert_string_equal(svd_rate_opt_name((svd_rate_opt)i), names[i]);
        assert_non_null(strstr(svd_rate_opt_expects((svd_rate_opt)i), "1073741824"));
    }
    assert_string_equal(svd_rate_opt_expects(SVD_RATE_BYTES), "bytes per second, 0 (unlimited) to 1073741824");
    assert_string_equal(svd_rate_opt_expects(SVD_RATE_BURST), "bytes, 0 to 1073741824");
    assert_string_equal(svd_rate_opt_expects(SVD_RATE_OPS), "requests per second, 0 (unlimited) to 1073741824");
    assert_string_equal(svd_rate_opt_expects(SVD_RATE_OPS_BURST), "requests, 0 to 1073741824");
    assert_string_equal(svd_rate_opt_name(SVD_RATE__COUNT), "unknown");
    assert_string_equal(svd_rate_opt_name((svd_rate_opt)99), "unknown");
    assert_string_equal(svd_rate_opt_expects(SVD_RATE__COUNT), "a known rate option");
    assert_string_equal(svd_rate_opt_expects((svd_rate_opt)99), "a known rate option");
}

/* Every option takes 0 .. SVD_RATE_MAX in the one number grammar, and
 * nothing else; a refused value leaves the options as they were. */
/* REQ: REQ-ENT-008 */
static void test_attack_rate_option_values_outside_range_or_grammar(void **state)
{
    (void)state;
    static const char *const bad[] = { "1073741825", "0x40000001", "18446744073709551616", "-1", "+1",
                                       "1k", "1 ", "", "1e9", "0x" };
    for (unsigned o = 0u; o < (unsigned)SVD_RATE__COUNT; o++) {
        svd_rate_opts r;
        memset(&r, 0, sizeof(r));
        assert_true(svd_is_ok(svd_rate_opt_set(&r, (svd_rate_opt)o, "0")));
        assert_int_equal(r.v[o], 0u);
        assert_true(svd_is_ok(svd_rate_opt_set(&r, (svd_rate_opt)o, "1073741824")));
        assert_int_equal(r.v[o], SVD_RATE_MAX);
        assert_true(svd_is_ok(svd_rate_opt_set(&r, (svd_rate_opt)o, "0x400")));
        assert_int_equal(r.v[o], 1024u);
        const svd_rate_opts before = r;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_true(svd_is_err(svd_rate_opt_set(&r, (svd_rate_opt)o, bad[i]), SVD_ERR_INVALID_ARG));
            assert_memory_equal(&r, &before, sizeof(r));
        }
        assert_true(svd_is_err(svd_rate_opt_set(&r, (svd_rate_opt)o, NULL), SVD_ERR_INVALID_ARG));
        assert_memory_equal(&r, &before, sizeof(r));
        /* Each option sets its own slot only. */
        for (unsigned k = 0u; k < (unsigned)SVD_RATE__COUNT; k++) {
            assert_int_equal(r.v[k], k == o ? 1024u : 0u);
        }
    }
    svd_rate_opts r;
    memset(&r, 0, sizeof(r));
    assert_true(svd_is_err(svd_rate_opt_set(&r, SVD_RATE__COUNT, "1"), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_rate_opt_set(&r, (svd_rate_opt)99, "1"), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_rate_opt_set(NULL, SVD_RATE_BYTES, "1"), SVD_ERR_INVALID_ARG));
    for (unsigned k = 0u; k < (unsigned)SVD_RATE__COUNT; k++) {
        assert_int_equal(r.v[k], 0u);
    }
}

/* Nothing set: both buckets unlimited (and acceptable to the limiter). */
/* REQ: REQ-ENT-008 */
static void test_rate_zero_means_unlimited(void **state)
{
    (void)state;
    svd_rate_opts r;
    svd_tb_cfg bytes;
    svd_tb_cfg ops;
    svd_rate_opt bad = SVD_RATE__COUNT;
    memset(&r, 0, sizeof(r));
    memset(&bytes, 0x5A, sizeof(bytes));
    memset(&ops, 0x5A, sizeof(ops));
    assert_true(svd_is_ok(svd_rate_to_buckets(&r, &bytes, &ops, &bad)));
    assert_int_equal(bad, SVD_RATE__COUNT); /* untouched on success */
    assert_int_equal(bytes.size, 0u);
    assert_int_equal(bytes.one_time_burst, 0u);
    assert_int_equal(bytes.refill_ns, 0u);
    assert_int_equal(ops.size, 0u);
    assert_int_equal(ops.refill_ns, 0u);
    svd_ratelimit rl;
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &bytes, &ops, 0u)));
    uint64_t granted = 0u;
    uint64_t wait = 1u;
    assert_true(svd_ratelimit_admit(&rl, UINT64_C(1) << 40, 0u, &granted, &wait));
    assert_int_equal(granted, UINT64_C(1) << 40);
    assert_int_equal(wait, 0u);
    /* One rate set, the other stays unlimited. */
    assert_true(svd_is_ok(svd_rate_opt_set(&r, SVD_RATE_OPS, "50")));
    assert_true(svd_is_ok(svd_rate_to_buckets(&r, &bytes, &ops, &bad)));
    assert_int_equal(bytes.size, 0u);
    assert_int_equal(ops.size, 5u);
}

/* A burst means nothing without its rate: refused, *bad names it, the
 * buckets are not written. */
/* REQ: REQ-ENT-008 */
static void test_attack_burst_without_its_rate_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *set[SVD_RATE__COUNT];
        svd_rate_opt bad;
    } cases[] = {
        { { "0", "64", "0", "0" }, SVD_RATE_BURST },
        { { "0", "0", "0", "8" }, SVD_RATE_OPS_BURST },
        { { "1000", "0", "0", "8" }, SVD_RATE_OPS_BURST }, /* the other rate does not count */
        { { "0", "64", "100", "0" }, SVD_RATE_BURST },
        { { "0", "64", "0", "8" }, SVD_RATE_BURST },       /* both wrong: the first is named */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        svd_rate_opts r;
        memset(&r, 0, sizeof(r));
        for (unsigned o = 0u; o < (unsigned)SVD_RATE__COUNT; o++) {
            assert_true(svd_is_ok(svd_rate_opt_set(&r, (svd_rate_opt)o, cases[i].set[o])));
        }
        svd_tb_cfg bytes;
        svd_tb_cfg ops;
        memset(&bytes, 0x5A, sizeof(bytes));
        memset(&ops, 0x5A, sizeof(ops));
        const svd_tb_cfg b0 = bytes;
        const svd_tb_cfg o0 = ops;
        svd_rate_opt bad = SVD_RATE__COUNT;
        assert_true(svd_is_err(svd_rate_to_buckets(&r, &bytes, &ops, &bad), SVD_ERR_INVALID_ARG));
        assert_int_equal(bad, cases[i].bad);
        assert_string_equal(svd_rate_opt_name(bad), i == 1u || i == 2u ? "rate-ops-burst" : "rate-burst");
        assert_memory_equal(&bytes, &b0, sizeof(bytes));
        assert_memory_equal(&ops, &o0, sizeof(ops));
    }
    svd_rate_opts r;
    svd_tb_cfg c;
    svd_rate_opt bad;
    memset(&r, 0, sizeof(r));
    assert_true(svd_is_err(svd_rate_to_buckets(NULL, &c, &c, &bad), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_rate_to_buckets(&r, NULL, &c, &bad), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_rate_to_buckets(&r, &c, NULL, &bad), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_rate_to_buckets(&r, &c, &c, NULL), SVD_ERR_INVALID_ARG));
}

/* A rate becomes a bucket of a tenth of a second's worth (at least one
 * token) refilling in a tenth of a second, rounded to the nearest ns; the
 * burst rides along as the bucket's one-time burst. */
/* REQ: REQ-ENT-009 */
static void test_rate_to_bucket_tenth_of_a_second(void **state)
{
    (void)state;
    static const struct {
        uint64_t per_s;
        uint64_t size;
        uint64_t refill_ns;
    } cases[] = {
        { 1u, 1u, 1000000000u },        /* below 10/s: one token, refilled at the rate */
        { 9u, 1u, 111111111u },         /* 1e9/9 = 111111111.1 */
        { 10u, 1u, 100000000u },
        { 15u, 1u, 66666667u },         /* 66666666.67 rounds up */
        { 19u, 1u, 52631579u },
        { 1000u, 100u, 100000000u },
        { 1001u, 100u, 99900100u },     /* size truncates, the refill time makes up for it */
        { SVD_RATE_MAX, 107374182u, 100000000u },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        svd_rate_opts r;
        memset(&r, 0, sizeof(r));
        r.v[SVD_RATE_BYTES] = cases[i].per_s;
        r.v[SVD_RATE_BURST] = 4096u;
        r.v[SVD_RATE_OPS] = cases[i].per_s;
        r.v[SVD_RATE_OPS_BURST] = 7u;
        svd_tb_cfg bytes;
        svd_tb_cfg ops;
        svd_rate_opt bad = SVD_RATE__COUNT;
        assert_true(svd_is_ok(svd_rate_to_buckets(&r, &bytes, &ops, &bad)));
        assert_int_equal(bytes.size, cases[i].size);
        assert_int_equal(bytes.refill_ns, cases[i].refill_ns);
        assert_int_equal(bytes.one_time_burst, 4096u);
        assert_int_equal(ops.size, cases[i].size);
        assert_int_equal(ops.refill_ns, cases[i].refill_ns);
        assert_int_equal(ops.one_time_burst, 7u);
        /* Within the limiter's limits, every time. */
        svd_ratelimit rl;
        assert_true(svd_is_ok(svd_ratelimit_init(&rl, &bytes, &ops, 0u)));
    }
}

/* The long-run rate is the one asked for: 1000 B/s with a 300-byte burst
 * lets 100 (the full bucket) + 300 + 10 s x 1000 bytes through in 10 s of
 * a greedy guest, and not one byte more. */
/* REQ: REQ-ENT-009 */
static void test_rate_long_run_is_the_rate_asked_for(void **state)
{
    (void)state;
    svd_rate_opts r;
    memset(&r, 0, sizeof(r));
    assert_true(svd_is_ok(svd_rate_opt_set(&r, SVD_RATE_BYTES, "1000")));
    assert_true(svd_is_ok(svd_rate_opt_set(&r, SVD_RATE_BURST, "300")));
    svd_tb_cfg bytes;
    svd_tb_cfg ops;
    svd_rate_opt bad;
    assert_true(svd_is_ok(svd_rate_to_buckets(&r, &bytes, &ops, &bad)));
    svd_ratelimit rl;
    assert_true(svd_is_ok(svd_ratelimit_init(&rl, &bytes, &ops, 0u)));
    uint64_t total = 0u;
    for (uint64_t t = 0u; t <= UINT64_C(10000000000); t += 1000000u) { /* every ms for 10 s */
        uint64_t granted = 0u;
        uint64_t wait = 0u;
        while (svd_ratelimit_admit(&rl, 64u, t, &granted, &wait)) {
            total += granted;
        }
        assert_true(wait > 0u);
    }
    assert_true(total <= 100u + 300u + 10000u);
    assert_true(total >= 100u + 300u + 10000u - 64u); /* whole requests only */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_out_of_range_configs),
        cmocka_unit_test(test_unlimited_bucket_always_grants),
        cmocka_unit_test(test_starts_full_and_refills_with_carried_fraction),
        cmocka_unit_test(test_refill_exact_however_time_is_sliced),
        cmocka_unit_test(test_largest_config_does_not_overflow),
        cmocka_unit_test(test_bucket_never_exceeds_size),
        cmocka_unit_test(test_one_time_burst_spent_first_and_never_refilled),
        cmocka_unit_test(test_attack_request_larger_than_bucket_never_granted),
        cmocka_unit_test(test_attack_clock_going_backwards_earns_nothing),
        cmocka_unit_test(test_wait_ns_is_exact),
        cmocka_unit_test(test_ratelimit_init_null_means_unlimited_and_failure_changes_nothing),
        cmocka_unit_test(test_admit_takes_both_or_neither),
        cmocka_unit_test(test_admit_ops_exhausted_takes_no_bytes_and_waits_longest),
        cmocka_unit_test(test_admit_rate_over_long_run_matches_config),
        cmocka_unit_test(test_rate_option_names_and_expectations),
        cmocka_unit_test(test_attack_rate_option_values_outside_range_or_grammar),
        cmocka_unit_test(test_rate_zero_means_unlimited),
        cmocka_unit_test(test_attack_burst_without_its_rate_is_refused),
        cmocka_unit_test(test_rate_to_bucket_tenth_of_a_second),
        cmocka_unit_test(test_rate_long_run_is_the_rate_asked_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
