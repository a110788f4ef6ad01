/* Unit tests of the result type, its propagation macros, error names and
 * the names of the rules a protocol error carries (include/safevdev/result.h,
 * src/core/result.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/result.h"

/* REQ: REQ-CORE-001 */
static void test_err_names(void **state)
{
    static const struct {
        svd_err e;
        const char *name;
    } names[] = {
        { SVD_OK, "ok" },           { SVD_ERR_INVALID_ARG, "invalid_arg" }, { SVD_ERR_BOUNDS, "bounds" },
        { SVD_ERR_OVERFLOW, "overflow" }, { SVD_ERR_STATE, "state" },     { SVD_ERR_PROTOCOL, "protocol" },
        { SVD_ERR_EMPTY, "empty" },     { SVD_ERR_AGAIN, "again" },       { SVD_ERR_NOSPACE, "nospace" },
        { SVD_ERR_SOURCE, "source" },
    };
    (void)state;
    assert_int_equal(sizeof(names) / sizeof(names[0]), SVD_ERR__COUNT);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_string_equal(svd_err_name(names[i].e), names[i].name);
    }
    assert_string_equal(svd_err_name(SVD_ERR__COUNT), "unknown");
    assert_string_equal(svd_err_name((svd_err)1000), "unknown");
}

static svd_result ensure_positive(int v)
{
    SVD_ENSURE(v > 0, SVD_ERR_INVALID_ARG);
    return svd_ok();
}

static svd_result guard_twice(int a, int b, int *reached)
{
    SVD_GUARD(ensure_positive(a));
    *reached = 1;
    SVD_GUARD(ensure_positive(b));
    *reached = 2;
    return svd_ok();
}

/* REQ: REQ-CORE-002 */
static void test_result_propagation(void **state)
{
    int reached = 0;
    (void)state;
    assert_true(svd_is_ok(svd_ok()));
    assert_false(svd_is_ok(svd_fail(SVD_ERR_BOUNDS)));
    assert_true(svd_is_err(svd_fail(SVD_ERR_BOUNDS), SVD_ERR_BOUNDS));
    assert_false(svd_is_err(svd_fail(SVD_ERR_BOUNDS), SVD_ERR_OVERFLOW));
    assert_true(svd_is_err(guard_twice(0, 1, &reached), SVD_ERR_INVALID_ARG));
    assert_int_equal(reached, 0);
    assert_true(svd_is_err(guard_twice(1, -1, &reached), SVD_ERR_INVALID_ARG));
    assert_int_equal(reached, 1);
    assert_true(svd_is_ok(guard_twice(1, 1, &reached)));
    assert_int_equal(reached, 2);
}

/* The stable names a shim logs; every reason has its own. */
/* REQ: REQ-CORE-001 REQ-CORE-009 */
static void test_why_names(void **state)
{
    static const struct {
        svd_why w;
        const char *name;
    } names[] = {
        { SVD_WHY_NONE, "none" },
        { SVD_WHY_STATUS_ORDER, "status_order" },
        { SVD_WHY_QUEUE_SIZE, "queue_size" },
        { SVD_WHY_QUEUE_ENABLED, "queue_enabled" },
        { SVD_WHY_RING_ALIGN, "ring_align" },
        { SVD_WHY_RING_MEMORY, "ring_memory" },
        { SVD_WHY_AVAIL_JUMP, "avail_jump" },
        { SVD_WHY_HEAD_RANGE, "head_range" },
        { SVD_WHY_HEAD_INFLIGHT, "head_inflight" },
        { SVD_WHY_NEXT_RANGE, "next_range" },
        { SVD_WHY_CHAIN_LOOP, "chain_loop" },
        { SVD_WHY_INDIRECT_FEATURE, "indirect_feature" },
        { SVD_WHY_INDIRECT_NESTED, "indirect_nested" },
        { SVD_WHY_INDIRECT_NEXT, "indirect_next" },
        { SVD_WHY_INDIRECT_LEN, "indirect_len" },
        { SVD_WHY_INDIRECT_MEMORY, "indirect_memory" },
        { SVD_WHY_WRITE_ORDER, "write_order" },
        { SVD_WHY_BUFFER_MEMORY, "buffer_memory" },
        { SVD_WHY_CHAIN_LEN, "chain_len" },
        { SVD_WHY_SOURCE_GAVE_UP, "source_gave_up" },
        { SVD_WHY_RING_BASE, "ring_base" },
        { SVD_WHY_DESC_WRAP, "desc_wrap" },
        { SVD_WHY_BUFFER_ID, "buffer_id" },
        { SVD_WHY_RING_OVERRUN, "ring_overrun" },
    };
    (void)state;
    assert_int_equal(sizeof(names) / sizeof(names[0]), SVD_WHY__COUNT);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(names[i].w, i); /* the table lists every value once, in order */
        assert_string_equal(svd_why_name(names[i].w), names[i].name);
    }
    /* Distinct, and none of them is the out-of-range name. */
    for (unsigned a = 0u; a < (unsigned)SVD_WHY__COUNT; a++) {
        const char *na = svd_why_name((svd_why)a);
        assert_true(strcmp(na, "unknown") != 0);
        for (unsigned b = a + 1u; b < (unsigned)SVD_WHY__COUNT; b++) {
            assert_true(strcmp(na, svd_why_name((svd_why)b)) != 0);
        }
    }
    assert_string_equal(svd_why_name(SVD_WHY__COUNT), "unknown");
    assert_string_equal(svd_why_name((svd_why)1000), "unknown");
    assert_string_equal(svd_why_name((svd_why)-1), "unknown");
}

/* A failure carries the rule only when it names one; success never does. */
/* REQ: REQ-CORE-002 REQ-CORE-009 */
static void test_results_carry_their_reason(void **state)
{
    (void)state;
    assert_int_equal(svd_ok().why, SVD_WHY_NONE);
    assert_int_equal(svd_fail(SVD_ERR_STATE).why, SVD_WHY_NONE);
    const svd_result p = svd_protocol(SVD_WHY_CHAIN_LOOP);
    assert_true(svd_is_err(p, SVD_ERR_PROTOCOL));
    assert_int_equal(p.why, SVD_WHY_CHAIN_LOOP);
    const svd_result s = svd_fail_why(SVD_ERR_SOURCE, SVD_WHY_SOURCE_GAVE_UP);
    assert_true(svd_is_err(s, SVD_ERR_SOURCE));
    assert_int_equal(s.why, SVD_WHY_SOURCE_GAVE_UP);
}

static svd_result rule_checked(int v)
{
    SVD_ENSURE_RULE(v > 0, SVD_WHY_HEAD_RANGE);
    return svd_ok();
}

static svd_result guard_rule(int v, int *reached)
{
    SVD_GUARD(rule_checked(v));
    *reached = 1;
    return svd_ok();
}

/* SVD_ENSURE_RULE fails with a protocol error naming its rule, and
 * SVD_GUARD passes the reason on unchanged. */
/* REQ: REQ-CORE-002 REQ-CORE-009 */
static void test_ensure_rule_and_guard_keep_the_reason(void **state)
{
    int reached = 0;
    (void)state;
    const svd_result r = guard_rule(0, &reached);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_HEAD_RANGE);
    assert_int_equal(reached, 0);
    assert_true(svd_is_ok(guard_rule(1, &reached)));
    assert_int_equal(reached, 1);
}

/* Outside coverage builds the markers evaluate their argument, so a
 * defensive branch is still taken if the belief behind it is wrong. */
/* REQ: REQ-CORE-008 */
static void test_coverage_markers_evaluate_in_normal_builds(void **state)
{
    (void)state;
#if defined(SVD_COVERAGE)
    assert_true(SVD_ALWAYS(0));
    assert_false(SVD_NEVER(1));
#else
    assert_false(SVD_ALWAYS(0));
    assert_true(SVD_NEVER(1));
    assert_true(SVD_ALWAYS(1));
    assert_false(SVD_NEVER(0));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_names),
        cmocka_unit_test(test_result_propagation),
        cmocka_unit_test(test_why_names),
        cmocka_unit_test(test_results_carry_their_reason),
        cmocka_unit_test(test_ensure_rule_and_guard_keep_the_reason),
        cmocka_unit_test(test_coverage_markers_evaluate_in_normal_builds),
    };
    return cmocka_run_group_tests_name("result", tests, NULL, NULL);
}
