/* Unit tests of spans, cursors, LE accessors and checked math (src/core/span.c). */
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
    uint32_t o32 = 7;
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
    assert_true(svd_is_ok(svd_add_u32(0xFFFFFFFEu, 1u, &o32)));
    assert_int_equal(o32, 0xFFFFFFFFu);
    o32 = 7;
    assert_true(svd_is_err(svd_add_u32(0xFFFFFFFFu, 1u, &o32), SVD_ERR_OVERFLOW));
    assert_int_equal(o32, 7);
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

/* REQ: REQ-CORE-005 */
static void test_span_sub(void **state)
{
    uint8_t buf[16];
    svd_span s = svd_span_make(buf, sizeof(buf));
    svd_span out = { (uint8_t *)1, 99 };
    (void)state;
    assert_ptr_equal(s.ptr, buf);
    assert_int_equal(s.len, 16);
    assert_true(svd_is_ok(svd_span_sub(s, 4, 8, &out)));
    assert_ptr_equal(out.ptr, buf + 4);
    assert_int_equal(out.len, 8);
    assert_true(svd_is_ok(svd_span_sub(s, 16, 0, &out)));
    assert_int_equal(out.len, 0);
    out.len = 99;
    assert_true(svd_is_err(svd_span_sub(s, 9, 8, &out), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_span_sub(s, SIZE_MAX, 2, &out), SVD_ERR_BOUNDS));
    assert_int_equal(out.len, 99);
    /* The empty span with a NULL pointer has exactly one sub-span: itself. */
    svd_span e = svd_span_make(NULL, 0);
    assert_true(svd_is_ok(svd_span_sub(e, 0, 0, &out)));
    assert_null(out.ptr);
    assert_int_equal(out.len, 0);
    assert_true(svd_is_err(svd_span_sub(e, 0, 1, &out), SVD_ERR_BOUNDS));
}

/* REQ: REQ-CORE-006 */
static void test_cursor_bounds(void **state)
{
    uint8_t buf[8];
    uint8_t tmp[9];
    svd_cursor c;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    (void)state;
    memset(buf, 0x11, sizeof(buf));
    memset(tmp, 0x22, sizeof(tmp));
    svd_cursor_init(&c, svd_span_make(buf, sizeof(buf)));
    assert_int_equal(svd_cursor_remaining(&c), 8);
    assert_true(svd_is_err(svd_cursor_skip(&c, 9), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_read(&c, tmp, 9), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_write(&c, tmp, 9), SVD_ERR_BOUNDS));
    assert_int_equal(c.pos, 0);
    assert_true(tmp[0] == 0x22 && buf[0] == 0x11);
    assert_true(svd_is_ok(svd_cursor_skip(&c, 5)));
    assert_int_equal(svd_cursor_remaining(&c), 3);
    /* Fewer than 4/8 bytes left: the wide accessors fail and move nothing. */
    v32 = 0xAAAAAAAAu;
    v64 = 0xAAu;
    assert_true(svd_is_err(svd_cursor_read_le32(&c, &v32), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_read_le64(&c, &v64), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_write_le32(&c, 1), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_write_le64(&c, 1), SVD_ERR_BOUNDS));
    assert_int_equal(v32, 0xAAAAAAAAu);
    assert_int_equal(v64, 0xAAu);
    assert_int_equal(c.pos, 5);
    assert_true(svd_is_ok(svd_cursor_read_le16(&c, &v16)));
    assert_int_equal(v16, 0x1111);
    assert_true(svd_is_ok(svd_cursor_read_u8(&c, &v8)));
    assert_int_equal(c.pos, 8);
    /* Exhausted: every accessor fails, including the 1- and 2-byte ones. */
    assert_true(svd_is_err(svd_cursor_read_u8(&c, &v8), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_read_le16(&c, &v16), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_write_u8(&c, 1), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_write_le16(&c, 1), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_cursor_skip(&c, 1), SVD_ERR_BOUNDS));
    /* Zero-length operations succeed anywhere, even at the end. */
    assert_true(svd_is_ok(svd_cursor_read(&c, NULL, 0)));
    assert_true(svd_is_ok(svd_cursor_write(&c, NULL, 0)));
    assert_true(svd_is_ok(svd_cursor_skip(&c, 0)));
    assert_int_equal(c.pos, 8);
    for (size_t i = 0; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], 0x11);
    }
    /* A cursor over the empty span. */
    svd_cursor_init(&c, svd_span_make(NULL, 0));
    assert_int_equal(svd_cursor_remaining(&c), 0);
    assert_true(svd_is_err(svd_cursor_read_u8(&c, &v8), SVD_ERR_BOUNDS));
}

/* REQ: REQ-CORE-006 REQ-CORE-007 */
static void test_cursor_round_trip_little_endian(void **state)
{
    uint8_t buf[1 + 2 + 4 + 8 + 3];
    const uint8_t raw[3] = { 0xDE, 0xAD, 0x01 };
    uint8_t back[3];
    static const uint8_t expect[] = { 0x7F, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0xEF, 0xCD,
                                      0xAB, 0x89, 0x67, 0x45, 0x23, 0x01, 0xDE, 0xAD, 0x01 };
    svd_cursor c;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    (void)state;
    svd_cursor_init(&c, svd_span_make(buf, sizeof(buf)));
    assert_true(svd_is_ok(svd_cursor_write_u8(&c, 0x7F)));
    assert_true(svd_is_ok(svd_cursor_write_le16(&c, 0x1234)));
    assert_true(svd_is_ok(svd_cursor_write_le32(&c, 0x12345678u)));
    assert_true(svd_is_ok(svd_cursor_write_le64(&c, 0x0123456789ABCDEFull)));
    assert_true(svd_is_ok(svd_cursor_write(&c, raw, sizeof(raw))));
    assert_int_equal(svd_cursor_remaining(&c), 0);
    /* Byte order on the wire is little-endian whatever the host is. */
    assert_memory_equal(buf, expect, sizeof(expect));
    svd_cursor_init(&c, svd_span_make(buf, sizeof(buf)));
    assert_true(svd_is_ok(svd_cursor_read_u8(&c, &v8)));
    assert_true(svd_is_ok(svd_cursor_read_le16(&c, &v16)));
    assert_true(svd_is_ok(svd_cursor_read_le32(&c, &v32)));
    assert_true(svd_is_ok(svd_cursor_read_le64(&c, &v64)));
    assert_true(svd_is_ok(svd_cursor_read(&c, back, sizeof(back))));
    assert_int_equal(v8, 0x7F);
    assert_int_equal(v16, 0x1234);
    assert_int_equal(v32, 0x12345678u);
    assert_true(v64 == 0x0123456789ABCDEFull);
    assert_memory_equal(back, raw, sizeof(raw));
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
        assert_int_equal(buf[off + 3], 0x80);
        assert_int_equal(svd_load_le32(buf + off), 0x80000001u);
        svd_store_le16(buf + off, 0xFF01u);
        assert_int_equal(buf[off], 0x01);
        assert_int_equal(buf[off + 1], 0xFF);
        assert_int_equal(svd_load_le16(buf + off), 0xFF01u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked_math),
        cmocka_unit_test(test_range_check),
        cmocka_unit_test(test_span_sub),
        cmocka_unit_test(test_cursor_bounds),
        cmocka_unit_test(test_cursor_round_trip_little_endian),
        cmocka_unit_test(test_le_accessors_unaligned_and_extremes),
    };
    return cmocka_run_group_tests_name("span", tests, NULL, NULL);
}
