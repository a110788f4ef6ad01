/* Unit tests of spans, the reading cursor, LE accessors and checked math (src/core/span.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/result.h"
#include "safevdev/span.h"

/* REQ: REQ-CORE-003 */
static void test_checked_math(void **state)
{
    uint64_t o64 = 7;
    (void)state;
    assert_true(svd_is_ok(svd_add_u64(UINT64_MAX - 1u, 1u, &o64)));
    assert_true(o64 == UINT64_MAX);
    o64 = 7;
    assert_true(svd_is_err(svd_add_u64(UINT64_MAX, 1u, &o64), SVD_ERR_OVERFLOW));
    assert_int_equal(o64, 7);
    assert_true(svd_is_err(svd_add_u64(1u, UINT64_MAX, &o64), SVD_ERR_OVERFLOW));
    assert_int_equal(o64, 7);
    assert_true(svd_is_ok(svd_mul_u64(0x100000000ull, 0xFFFFFFFFull, &o64)));
    assert_true(o64 == 0xFFFFFFFF00000000ull);
    o64 = 7;
    assert_true(svd_is_err(svd_mul_u64(0x100000000ull, 0x100000000ull, &o64), SVD_ERR_OVERFLOW));
    assert_int_equal(o64, 7);
    assert_true(svd_is_ok(svd_mul_u64(UINT64_MAX, 0u, &o64)));
    assert_int_equal(o64, 0);
}

/* REQ: REQ-CORE-004 */
static void test_range_check(void **state)
{
    (void)state;
    assert_true(svd_is_ok(svd_range_check(0, 0, 0)));
    assert_true(svd_is_ok(svd_range_check(0, 10, 10)));
    assert_true(svd_is_ok(svd_range_check(10, 0, 10)));
    assert_true(svd_is_ok(svd_range_check(4, 6, 10)));
    assert_true(svd_is_err(svd_range_check(4, 7, 10), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_range_check(11, 0, 10), SVD_ERR_BOUNDS));
    /* off + len wraps to a small number: still out of bounds. */
    assert_true(svd_is_err(svd_range_check(8, UINT64_MAX - 3u, 10), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_range_check(UINT64_MAX, 2, 10), SVD_ERR_BOUNDS));
    assert_true(svd_is_ok(svd_range_check(UINT64_MAX, 0, UINT64_MAX)));
}

/* REQ: REQ-CORE-006.a REQ-CORE-006.b REQ-CORE-006.c */
static void test_cursor_bounds(void **state)
{
    uint8_t buf[13];
    svd_cursor c;
    uint64_t v64;
    (void)state;
    memset(buf, 0x11, sizeof(buf));
    svd_cursor_init(&c, svd_span_make(buf, sizeof(buf)));
    assert_ptr_equal(c.buf.ptr, buf);
    assert_int_equal(c.buf.len, sizeof(buf));
    assert_int_equal(svd_cursor_remaining(&c), 13);
    /* More than is left: refused, nothing moves. */
    assert_true(svd_is_err(svd_cursor_skip(&c, 14), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_skip(&c, SIZE_MAX), SVD_ERR_BOUNDS));
    assert_int_equal(c.pos, 0);
    assert_true(svd_is_ok(svd_cursor_skip(&c, 6)));
    assert_int_equal(svd_cursor_remaining(&c), 7);
    /* Seven bytes left, eight wanted: the read fails, *v and pos untouched. */
    v64 = 0xAAu;
    assert_true(svd_is_err(svd_cursor_read_le64(&c, &v64), SVD_ERR_BOUNDS));
    assert_int_equal(v64, 0xAAu);
    assert_int_equal(c.pos, 6);
    /* Exactly the rest: skip to the end, then every access fails. */
    assert_true(svd_is_ok(svd_cursor_skip(&c, 7)));
    assert_int_equal(svd_cursor_remaining(&c), 0);
    assert_true(svd_is_err(svd_cursor_skip(&c, 1), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_read_le64(&c, &v64), SVD_ERR_BOUNDS));
    /* Zero-length skips succeed anywhere, even at the end. */
    assert_true(svd_is_ok(svd_cursor_skip(&c, 0)));
    assert_int_equal(c.pos, 13);
    assert_int_equal(v64, 0xAAu);
    for (size_t i = 0; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], 0x11);
    }
    /* A cursor over the empty span. */
    svd_cursor_init(&c, svd_span_make(NULL, 0));
    assert_int_equal(svd_cursor_remaining(&c), 0);
    assert_true(svd_is_ok(svd_cursor_skip(&c, 0)));
    assert_true(svd_is_err(svd_cursor_read_le64(&c, &v64), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_skip(&c, 1), SVD_ERR_BOUNDS));
}

/* REQ: REQ-CORE-007 */
static void test_cursor_reads_little_endian_back_to_back(void **state)
{
    /* A skipped header, then two 64-bit fields: the layout of vhost-user's
     * SET_MEM_TABLE, read by the daemon with these calls. */
    static const uint8_t wire[3 + 8 + 8] = { 0xFF, 0xFF, 0xFF, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23,
                                             0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80 };
    uint8_t buf[sizeof(wire)];
    svd_cursor c;
    uint64_t a = 0u;
    uint64_t b = 0u;
    (void)state;
    memcpy(buf, wire, sizeof(buf));
    svd_cursor_init(&c, svd_span_make(buf, sizeof(buf)));
    assert_true(svd_is_ok(svd_cursor_skip(&c, 3)));
    /* Byte order on the wire is little-endian whatever the host is, at an odd offset too. */
    assert_true(svd_is_ok(svd_cursor_read_le64(&c, &a)));
    assert_true(a == 0x0123456789ABCDEFull);
    assert_int_equal(c.pos, 11);
    assert_true(svd_is_ok(svd_cursor_read_le64(&c, &b)));
    assert_true(b == 0x8000000000000001ull);
    assert_int_equal(svd_cursor_remaining(&c), 0);
    assert_memory_equal(buf, wire, sizeof(wire)); /* reading changes nothing */
}

/* REQ: REQ-CORE-007 */
static void test_le_accessors_unaligned_and_extremes(void **state)
{
    uint8_t buf[17];
    (void)state;
    for (size_t off = 0; off < 8; off++) {
        memset(buf, 0, sizeof(buf));
        svd_store_le64(buf + off, 0xFFFFFFFFFFFFFFFFull);
        assert_true(svd_load_le64(buf + off) == UINT64_MAX);
        svd_store_le64(buf + off, 0x8000000000000001ull);
        assert_int_equal(buf[off], 0x01);
        assert_int_equal(buf[off + 7], 0x80);
        assert_true(svd_load_le64(buf + off) == 0x8000000000000001ull);
        svd_store_le32(buf + off, 0x80000001u);
        assert_int_equal(buf[off], 0x01);
        assert_int_equal(buf[off + 3], 0x80);
        assert_int_equal(buf[off + 4], 0x00); /* the 64-bit value's fifth byte was 0 */
        assert_int_equal(svd_load_le32(buf + off), 0x80000001u);
        svd_store_le32(buf + off, 0x04030201u);
        for (size_t k = 0; k < 4; k++) {
            assert_int_equal(buf[off + k], k + 1u);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked_math),
        cmocka_unit_test(test_range_check),
        cmocka_unit_test(test_cursor_bounds),
        cmocka_unit_test(test_cursor_reads_little_endian_back_to_back),
        cmocka_unit_test(test_le_accessors_unaligned_and_extremes),
    };
    return cmocka_run_group_tests_name("span", tests, NULL, NULL);
}
