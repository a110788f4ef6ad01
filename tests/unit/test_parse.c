/* Unit tests of the one number grammar of every option (src/core/parse.c):
 * unsigned decimal or 0x/0X hexadecimal, the whole string, nothing else.
 * Adversarial inputs (what strtoull would have let through) are
 * test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/parse.h"

#define UNTOUCHED UINT64_C(0xC0FFEE)

static uint64_t ok_u64(const char *s)
{
    uint64_t v = UNTOUCHED;
    assert_true(svd_is_ok(svd_parse_u64(s, 0u, UINT64_MAX, &v)));
    return v;
}

/* Refused, and the output left as it was. */
static void refused(const char *s, uint64_t min, uint64_t max)
{
    uint64_t v = UNTOUCHED;
    assert_true(svd_is_err(svd_parse_u64(s, min, max, &v), SVD_ERR_INVALID_ARG));
    assert_int_equal(v, UNTOUCHED);
}

static void refused_any(const char *s)
{
    refused(s, 0u, UINT64_MAX);
}

/* REQ: REQ-CORE-021 */
static void test_decimal(void **state)
{
    (void)state;
    assert_int_equal(ok_u64("0"), 0u);
    assert_int_equal(ok_u64("7"), 7u);
    assert_int_equal(ok_u64("1024"), 1024u);
    assert_int_equal(ok_u64("010"), 10u); /* no octal: a leading zero is just a zero */
    assert_int_equal(ok_u64("0000"), 0u);
    assert_int_equal(ok_u64("4294967296"), UINT64_C(4294967296));
    assert_int_equal(ok_u64("18446744073709551615"), UINT64_MAX);
}

/* REQ: REQ-CORE-021 */
static void test_hexadecimal(void **state)
{
    (void)state;
    assert_int_equal(ok_u64("0x400"), 1024u);
    assert_int_equal(ok_u64("0X400"), 1024u);
    assert_int_equal(ok_u64("0x0"), 0u);
    assert_int_equal(ok_u64("0xaBcDeF"), 0xABCDEFu);
    assert_int_equal(ok_u64("0x00000000000000000001"), 1u);
    assert_int_equal(ok_u64("0xffffffffffffffff"), UINT64_MAX);
    assert_int_equal(ok_u64("0xFFFFFFFFFFFFFFFF"), UINT64_MAX);
}

/* REQ: REQ-CORE-021 */
static void test_attack_empty_and_null(void **state)
{
    (void)state;
    uint64_t v = UNTOUCHED;
    refused_any("");
    assert_true(svd_is_err(svd_parse_u64(NULL, 0u, 10u, &v), SVD_ERR_INVALID_ARG));
    assert_int_equal(v, UNTOUCHED);
    assert_true(svd_is_err(svd_parse_u64("1", 0u, 10u, NULL), SVD_ERR_INVALID_ARG));
    refused_any("0x"); /* a prefix is not a number */
    refused_any("0X");
}

/* REQ: REQ-CORE-021 */
static void test_attack_signs_and_spaces(void **state)
{
    (void)state;
    static const char *const bad[] = { "+1", "-1", "-0", " 1", "1 ", "\t1", "1\n", " ", "1 2", "0x 1", "- 1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused_any(bad[i]);
    }
}

/* REQ: REQ-CORE-021 */
static void test_attack_junk_suffixes_and_other_bases(void **state)
{
    (void)state;
    static const char *const bad[] = { "12a", "1k", "1K", "4096M", "1_000", "1,000", "1.0", "1e3", "0b101",
                                       "0o17", "0x1g", "0xG", "x10", "0xx10", "00x10", "0x-1", "0x+1",
                                       "1\x01", "\xff" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused_any(bad[i]);
    }
    /* A NUL ends the string: what follows it is not read as part of it. */
    assert_int_equal(ok_u64("12\0" "34"), 12u);
}

/* 2^64 and above do not wrap to small numbers. */
/* REQ: REQ-CORE-021 */
static void test_attack_overflow_at_2_64(void **state)
{
    (void)state;
    static const char *const bad[] = { "18446744073709551616", "18446744073709551625", "99999999999999999999",
                                       "184467440737095516150", "0x10000000000000000", "0xffffffffffffffff0",
                                       "0x1ffffffffffffffff" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused_any(bad[i]);
    }
}

/* SVD_PARSE_MAX_LEN characters are read, never more: a longer string is
 * refused even when it would be a valid number, and the parser does not
 * read past the limit of an unterminated buffer (ASan / valgrind watch). */
/* REQ: REQ-CORE-021 REQ-CORE-022 */
static void test_attack_too_long(void **state)
{
    (void)state;
    char s[SVD_PARSE_MAX_LEN + 2u];
    memset(s, '0', SVD_PARSE_MAX_LEN);
    s[SVD_PARSE_MAX_LEN - 1u] = '7';
    s[SVD_PARSE_MAX_LEN] = '\0';
    assert_int_equal(ok_u64(s), 7u); /* exactly the limit */
    s[SVD_PARSE_MAX_LEN] = '7';
    s[SVD_PARSE_MAX_LEN + 1u] = '\0';
    refused_any(s); /* one more */
    char *raw = malloc(SVD_PARSE_MAX_LEN + 1u); /* no terminator anywhere */
    assert_non_null(raw);
    memset(raw, '1', SVD_PARSE_MAX_LEN + 1u);
    refused_any(raw);
    uint64_t a = UNTOUCHED;
    uint64_t b = UNTOUCHED;
    assert_true(svd_is_err(svd_parse_pair(raw, &a, &b), SVD_ERR_INVALID_ARG));
    free(raw);
}

/* REQ: REQ-CORE-021 */
static void test_range(void **state)
{
    (void)state;
    uint64_t v = UNTOUCHED;
    assert_true(svd_is_ok(svd_parse_u64("5", 5u, 5u, &v)));
    assert_int_equal(v, 5u);
    assert_true(svd_is_ok(svd_parse_u64("0x10", 16u, 32u, &v)));
    assert_int_equal(v, 16u);
    assert_true(svd_is_ok(svd_parse_u64("32", 16u, 32u, &v)));
    assert_int_equal(v, 32u);
    refused("15", 16u, 32u);
    refused("33", 16u, 32u);
    refused("0", 1u, UINT64_MAX);
    refused("0x21", 16u, 32u);
    refused("5", 6u, 4u); /* an empty range accepts nothing */
}

/* REQ: REQ-CORE-022 */
static void test_pairs(void **state)
{
    (void)state;
    uint64_t a = UNTOUCHED;
    uint64_t b = UNTOUCHED;
    assert_true(svd_is_ok(svd_parse_pair("1,2", &a, &b)));
    assert_int_equal(a, 1u);
    assert_int_equal(b, 2u);
    assert_true(svd_is_ok(svd_parse_pair("0x1000,4096", &a, &b)));
    assert_int_equal(a, 0x1000u);
    assert_int_equal(b, 4096u);
    assert_true(svd_is_ok(svd_parse_pair("18446744073709551615,0xffffffffffffffff", &a, &b)));
    assert_int_equal(a, UINT64_MAX);
    assert_int_equal(b, UINT64_MAX);
    assert_true(svd_is_ok(svd_parse_pair("0,0", &a, &b)));
    assert_int_equal(a, 0u);
    assert_int_equal(b, 0u);
}

/* REQ: REQ-CORE-022 */
static void test_attack_malformed_pairs(void **state)
{
    (void)state;
    static const char *const bad[] = { "",      ",",      "1,",     ",1",      "12",     "1,2,3", "1 ,2", "1, 2",
                                       "1;2",   "0x,1",   "1,0x",   "-1,2",    "1,+2",   "1,,2",  "a,1",   "1,b",
                                       "18446744073709551616,1", "1,0x10000000000000000" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t a = UNTOUCHED;
        uint64_t b = UNTOUCHED;
        assert_true(svd_is_err(svd_parse_pair(bad[i], &a, &b), SVD_ERR_INVALID_ARG));
        assert_int_equal(a, UNTOUCHED); /* nothing half-written: not even the good first half */
        assert_int_equal(b, UNTOUCHED);
    }
    uint64_t a = UNTOUCHED;
    uint64_t b = UNTOUCHED;
    assert_true(svd_is_err(svd_parse_pair(NULL, &a, &b), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_parse_pair("1,2", NULL, &b), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_parse_pair("1,2", &a, NULL), SVD_ERR_INVALID_ARG));
    assert_int_equal(a, UNTOUCHED);
    assert_int_equal(b, UNTOUCHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_hexadecimal),
        cmocka_unit_test(test_attack_empty_and_null),
        cmocka_unit_test(test_attack_signs_and_spaces),
        cmocka_unit_test(test_attack_junk_suffixes_and_other_bases),
        cmocka_unit_test(test_attack_overflow_at_2_64),
        cmocka_unit_test(test_attack_too_long),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_attack_malformed_pairs),
    };
    return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
