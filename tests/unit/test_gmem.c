/* Unit tests of the guest memory map (src/core/gmem.c). Attacks first (a
 * table or an address built to make translation go wrong), then the normal
 * paths. Every test that maps test RAM ends checking its canaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/gmem.h"
#include "tg_mem.h"

#define RW (SVD_GMEM_READ | SVD_GMEM_WRITE)

static uint8_t host_a[4096];
static uint8_t host_b[4096];
static uint8_t host_c[4096];

static void fresh(svd_gmem *m)
{
    memset(m, 0, sizeof(*m));
    svd_gmem_init(m);
}

/* A failing add must leave the map byte-for-byte unchanged. */
static void expect_add_fails(svd_gmem *m, uint64_t gpa, uint64_t size, void *host, uint32_t access, svd_err e)
{
    svd_gmem before;
    memcpy(&before, m, sizeof(before));
    assert_true(svd_is_err(svd_gmem_add(m, gpa, size, host, access), e));
    assert_memory_equal(m, &before, sizeof(before));
}

/* REQ: REQ-CORE-010 REQ-CORE-013 */
static void test_attack_add_invalid_arguments(void **state)
{
    svd_gmem m;
    (void)state;
    fresh(&m);
    expect_add_fails(&m, 0x1000, 0, host_a, RW, SVD_ERR_INVALID_ARG);
    expect_add_fails(&m, 0x1000, 16, NULL, RW, SVD_ERR_INVALID_ARG);
    expect_add_fails(&m, 0x1000, 16, host_a, 0, SVD_ERR_INVALID_ARG);
    expect_add_fails(&m, 0x1000, 16, host_a, 0x4, SVD_ERR_INVALID_ARG);
    expect_add_fails(&m, 0x1000, 16, host_a, RW | 0x80000000u, SVD_ERR_INVALID_ARG);
    assert_int_equal(m.count, 0);
}

/* REQ: REQ-CORE-011 REQ-CORE-013 */
/* FM: FM-GMEM-001 */
static void test_attack_add_wraps_2_64(void **state)
{
    svd_gmem m;
    (void)state;
    fresh(&m);
    /* Guest side: gpa + size wraps, or reaches exactly 2^64. */
    expect_add_fails(&m, UINT64_MAX - 10u, 12, host_a, RW, SVD_ERR_OVERFLOW);
    expect_add_fails(&m, UINT64_MAX - 10u, 11, host_a, RW, SVD_ERR_OVERFLOW);
    expect_add_fails(&m, 1, UINT64_MAX, host_a, RW, SVD_ERR_OVERFLOW);
    /* Host side: host + size wraps the address space. */
    expect_add_fails(&m, 0x1000, 0x100, (void *)(UINTPTR_MAX - 0x10u), RW, SVD_ERR_OVERFLOW);
    /* The last mappable byte is 2^64 - 2. */
    assert_true(svd_is_ok(svd_gmem_add(&m, UINT64_MAX - 10u, 10, host_a, RW)));
}

/* REQ: REQ-CORE-012.a REQ-CORE-012.b REQ-CORE-013 */
static void test_attack_add_overlapping_region(void **state)
{
    svd_gmem m;
    (void)state;
    fresh(&m);
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x10000, 0x1000, host_a, RW)));
    expect_add_fails(&m, 0x10000, 0x1000, host_b, RW, SVD_ERR_BOUNDS);  /* identical */
    expect_add_fails(&m, 0x10800, 0x10, host_b, RW, SVD_ERR_BOUNDS);    /* inside */
    expect_add_fails(&m, 0xF000, 0x1001, host_b, RW, SVD_ERR_BOUNDS);   /* over the start */
    expect_add_fails(&m, 0x10FFF, 0x1000, host_b, RW, SVD_ERR_BOUNDS);  /* over the end */
    expect_add_fails(&m, 0x8000, 0x10000, host_b, RW, SVD_ERR_BOUNDS);  /* containing */
    /* Adjacent on both sides is fine. */
    assert_true(svd_is_ok(svd_gmem_add(&m, 0xF000, 0x1000, host_b, RW)));
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x11000, 0x1000, host_c, RW)));
    assert_int_equal(m.count, 3);
}

/* REQ: REQ-CORE-013 */
static void test_attack_add_table_full(void **state)
{
    svd_gmem m;
    (void)state;
    fresh(&m);
    for (uint32_t i = 0; i < SVD_GMEM_MAX_REGIONS; i++) {
        assert_true(svd_is_ok(svd_gmem_add(&m, 0x100000u * i, 0x100, host_a, RW)));
    }
    expect_add_fails(&m, 0x100000u * SVD_GMEM_MAX_REGIONS, 0x100, host_a, RW, SVD_ERR_NOSPACE);
    /* Overlap is still reported as such on a full table. */
    expect_add_fails(&m, 0, 0x100, host_a, RW, SVD_ERR_BOUNDS);
    /* Every region of the full table translates. */
    for (uint32_t i = 0; i < SVD_GMEM_MAX_REGIONS; i++) {
        svd_span s;
        assert_true(svd_is_ok(svd_gmem_translate(&m, 0x100000u * i + 0xFFu, 1, RW, &s)));
        assert_ptr_equal(s.ptr, host_a + 0xFF);
    }
    svd_span s;
    assert_true(svd_is_err(svd_gmem_translate(&m, 0x100000u * SVD_GMEM_MAX_REGIONS, 1, RW, &s), SVD_ERR_BOUNDS));
}

/* REQ: REQ-CORE-014.a REQ-CORE-014.b */
static void test_generation_bumped_on_add_and_init(void **state)
{
    svd_gmem m;
    uint32_t g0;
    (void)state;
    fresh(&m);
    g0 = m.generation;
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x1000, 0x100, host_a, RW)));
    assert_int_equal(m.generation, g0 + 1u);
    /* A failed add is not a change. */
    assert_true(svd_is_err(svd_gmem_add(&m, 0x1000, 0x100, host_a, RW), SVD_ERR_BOUNDS));
    assert_int_equal(m.generation, g0 + 1u);
    /* Re-initialising in place and rebuilding the same table never repeats a
     * generation a queue might have cached. */
    svd_gmem_init(&m);
    assert_int_equal(m.count, 0);
    assert_int_equal(m.generation, g0 + 2u);
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x1000, 0x100, host_a, RW)));
    assert_int_equal(m.generation, g0 + 3u);
    svd_span s;
    assert_true(svd_is_ok(svd_gmem_translate(&m, 0x1000, 0x100, RW, &s)));
}

/* REQ: REQ-CORE-015 */
static void test_attack_translate_out_of_bounds(void **state)
{
    tg_mem g;
    svd_span s = { (uint8_t *)1, 77 };
    (void)state;
    assert_int_equal(tg_mem_init(&g, 0x10000, 0x1000), 0);
    /* Before, straddling the start, straddling the end, after. */
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0xFFFF, 1, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0xFFFF, 2, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0x10FFF, 2, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0x11000, 1, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0x10000, 0x1001, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    /* Zero length is a caller error, wrap-around an overflow. */
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0x10000, 0, SVD_GMEM_READ, &s), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0xFFFFFFFFFFFFF000ull, 0x11000, SVD_GMEM_READ, &s),
                           SVD_ERR_OVERFLOW));
    assert_true(svd_is_err(svd_gmem_translate(&g.map, 0x10010, UINT64_MAX, SVD_GMEM_READ, &s), SVD_ERR_OVERFLOW));
    assert_ptr_equal(s.ptr, (uint8_t *)1);
    assert_int_equal(s.len, 77);
    assert_true(tg_mem_canaries_intact(&g));
    tg_mem_free(&g);
}

/* REQ: REQ-CORE-015 REQ-CORE-016 REQ-CORE-017.a REQ-CORE-017.d */
static void test_attack_access_not_allowed(void **state)
{
    svd_gmem m;
    svd_span s;
    uint8_t *h = NULL;
    (void)state;
    fresh(&m);
    memset(host_a, 0, sizeof(host_a));
    memset(host_b, 0, sizeof(host_b));
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x1000, 0x1000, host_a, SVD_GMEM_READ)));
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x2000, 0x1000, host_b, SVD_GMEM_WRITE)));
    assert_true(svd_is_ok(svd_gmem_translate(&m, 0x1000, 4, SVD_GMEM_READ, &s)));
    assert_true(svd_is_err(svd_gmem_translate(&m, 0x1000, 4, SVD_GMEM_WRITE, &s), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_translate(&m, 0x2000, 4, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_translate(&m, 0x1000, 4, RW, &s), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_translate_prefix(&m, 0x1000, 4, SVD_GMEM_WRITE, &s), SVD_ERR_BOUNDS));
    /* Across the edge: readable then write-only, so neither access covers it. */
    assert_true(svd_is_err(svd_gmem_check_host(&m, 0x1FFE, 4, SVD_GMEM_READ, &h), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_check_host(&m, 0x1FFE, 4, SVD_GMEM_WRITE, &h), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_check_host(&m, 0x1000, 4, SVD_GMEM_WRITE, &h), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_check_host(&m, 0x2000, 4, SVD_GMEM_READ, &h), SVD_ERR_BOUNDS));
    assert_null(h);
    assert_true(svd_is_ok(svd_gmem_check_host(&m, 0x2000, 4, SVD_GMEM_WRITE, &h)));
    assert_ptr_equal(h, host_b);
}

/* svd_gmem_check_host's verdict alone. */
static svd_result check(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access)
{
    uint8_t *host = NULL;
    return svd_gmem_check_host(m, gpa, len, access, &host);
}

/* REQ: REQ-CORE-017.a REQ-CORE-017.b REQ-CORE-017.c REQ-CORE-017.d */
static void test_attack_check_gap_between_regions(void **state)
{
    svd_gmem m;
    (void)state;
    fresh(&m);
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x1000, 0x1000, host_a, RW)));
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x2001, 0x1000, host_b, RW))); /* one-byte hole at 0x2000 */
    assert_true(svd_is_err(check(&m, 0x1F00, 0x200, SVD_GMEM_READ), SVD_ERR_BOUNDS));
    assert_true(svd_is_ok(check(&m, 0x1000, 0x1000, SVD_GMEM_READ)));
    assert_true(svd_is_ok(check(&m, 0x2001, 0x1000, SVD_GMEM_READ)));
    assert_true(svd_is_err(check(&m, 0x2001, 0x1001, SVD_GMEM_READ), SVD_ERR_BOUNDS));
    /* len 0 checks only wrap-around: fine anywhere, even unmapped. */
    assert_true(svd_is_ok(check(&m, 0x2000, 0, SVD_GMEM_READ)));
    assert_true(svd_is_ok(check(&m, UINT64_MAX, 0, SVD_GMEM_READ)));
    assert_true(svd_is_err(check(&m, UINT64_MAX, 1, SVD_GMEM_READ), SVD_ERR_OVERFLOW));
    /* An empty map backs nothing. */
    fresh(&m);
    assert_true(svd_is_err(check(&m, 0, 1, SVD_GMEM_READ), SVD_ERR_BOUNDS));
}

/* svd_gmem_check_host: the host address when the range lies in one region. */
/* REQ: REQ-CORE-017.a REQ-CORE-017.b REQ-CORE-017.c REQ-CORE-017.d REQ-CORE-020 */
static void test_check_host(void **state)
{
    svd_gmem m;
    uint8_t *h = host_b;
    (void)state;
    fresh(&m);
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x1000, 0x1000, host_a, RW)));
    assert_true(svd_is_ok(svd_gmem_add(&m, 0x2000, 0x1000, host_b, SVD_GMEM_READ)));
    assert_true(svd_is_ok(svd_gmem_check_host(&m, 0x1010, 0x20, SVD_GMEM_WRITE, &h)));
    assert_ptr_equal(h, host_a + 0x10);
    assert_true(svd_is_ok(svd_gmem_check_host(&m, 0x2000, 0x1000, SVD_GMEM_READ, &h)));
    assert_ptr_equal(h, host_b);
    /* Across the edge of two adjacent regions: backed, but no single address. */
    assert_true(svd_is_ok(svd_gmem_check_host(&m, 0x1FF0, 0x20, SVD_GMEM_READ, &h)));
    assert_null(h);
    /* len 0: nothing to point at. */
    h = host_a;
    assert_true(svd_is_ok(svd_gmem_check_host(&m, 0x1800, 0, SVD_GMEM_READ, &h)));
    assert_null(h);
    /* Failures leave *host alone. */
    h = host_a;
    assert_true(svd_is_err(svd_gmem_check_host(&m, 0x1FF0, 0x20, SVD_GMEM_WRITE, &h), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_check_host(&m, 0x2F00, 0x200, SVD_GMEM_READ, &h), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_gmem_check_host(&m, UINT64_MAX, 2, SVD_GMEM_READ, &h), SVD_ERR_OVERFLOW));
    assert_ptr_equal(h, host_a);
}

/* REQ: REQ-CORE-015 */
static void test_translate_inside_region(void **state)
{
    tg_mem g;
    svd_span s;
    (void)state;
    assert_int_equal(tg_mem_init(&g, 0x10000, 0x1000), 0);
    assert_true(svd_is_ok(svd_gmem_translate(&g.map, 0x10000, 0x1000, RW, &s)));
    assert_ptr_equal(s.ptr, g.ram);
    assert_int_equal(s.len, 0x1000);
    assert_true(svd_is_ok(svd_gmem_translate(&g.map, 0x10FFF, 1, SVD_GMEM_WRITE, &s)));
    assert_ptr_equal(s.ptr, g.ram + 0xFFF);
    assert_int_equal(s.len, 1);
    tg_mem_free(&g);
}

/* REQ: REQ-CORE-015 REQ-CORE-016 REQ-CORE-017.a REQ-CORE-017.d */
static void test_buffer_across_adjacent_regions(void **state)
{
    tg_mem lo;
    tg_mem hi;
    svd_gmem m;
    svd_span s;
    (void)state;
    assert_int_equal(tg_mem_init(&lo, 0x10000, 0x1000), 0);
    assert_int_equal(tg_mem_init(&hi, 0x11000, 0x1000), 0);
    fresh(&m);
    /* Added in reverse order: the table need not be sorted. */
    assert_true(svd_is_ok(svd_gmem_add(&m, hi.gpa, hi.size, hi.ram, RW)));
    assert_true(svd_is_ok(svd_gmem_add(&m, lo.gpa, lo.size, lo.ram, RW)));
    /* The single-span translation refuses it ... */
    assert_true(svd_is_err(svd_gmem_translate(&m, 0x10FF8, 16, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    /* ... the prefix walks it piece by piece ... */
    assert_true(svd_is_ok(svd_gmem_translate_prefix(&m, 0x10FF8, 16, SVD_GMEM_READ, &s)));
    assert_ptr_equal(s.ptr, lo.ram + 0xFF8);
    assert_int_equal(s.len, 8);
    assert_true(svd_is_ok(svd_gmem_translate_prefix(&m, 0x11000, 8, SVD_GMEM_READ, &s)));
    assert_ptr_equal(s.ptr, hi.ram);
    assert_int_equal(s.len, 8);
    assert_true(svd_is_err(svd_gmem_translate_prefix(&m, 0x10FF8, 0, SVD_GMEM_READ, &s), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_gmem_translate_prefix(&m, 0x12000, 1, SVD_GMEM_READ, &s), SVD_ERR_BOUNDS));
    /* ... and the check takes it whole. */
    assert_true(svd_is_ok(check(&m, 0x10FF4, 24, RW)));
    assert_true(svd_is_ok(check(&m, 0x10000, 0x2000, RW)));
    assert_true(svd_is_err(check(&m, 0x10000, 0x2001, RW), SVD_ERR_BOUNDS));
    assert_true(tg_mem_canaries_intact(&lo));
    assert_true(tg_mem_canaries_intact(&hi));
    tg_mem_free(&lo);
    tg_mem_free(&hi);
}

/* The test helper itself: canaries detect a write just outside RAM. */
/* REQ: REQ-CORE-019 */
static void test_tg_mem_canaries_detect_overrun(void **state)
{
    tg_mem g;
    (void)state;
    assert_int_equal(tg_mem_init(&g, 0x1000, 64), 0);
    assert_true(tg_mem_canaries_intact(&g));
    assert_int_equal(g.map.count, 1);
    assert_true(tg_mem_all(&g, 0x1000, 64, 0));
    g.ram[64] = 0;
    assert_false(tg_mem_canaries_intact(&g));
    g.ram[64] = TG_CANARY_BYTE;
    g.ram[-1] = 0;
    assert_false(tg_mem_canaries_intact(&g));
    g.ram[-1] = TG_CANARY_BYTE;
    assert_true(tg_mem_canaries_intact(&g));
    tg_mem_free(&g);
    assert_false(tg_mem_canaries_intact(&g));
    assert_int_equal(tg_mem_init(&g, 0, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attack_add_invalid_arguments),
        cmocka_unit_test(test_attack_add_wraps_2_64),
        cmocka_unit_test(test_attack_add_overlapping_region),
        cmocka_unit_test(test_attack_add_table_full),
        cmocka_unit_test(test_generation_bumped_on_add_and_init),
        cmocka_unit_test(test_attack_translate_out_of_bounds),
        cmocka_unit_test(test_attack_access_not_allowed),
                cmocka_unit_test(test_attack_check_gap_between_regions),
        cmocka_unit_test(test_check_host),
        cmocka_unit_test(test_translate_inside_region),
        cmocka_unit_test(test_buffer_across_adjacent_regions),
        cmocka_unit_test(test_tg_mem_canaries_detect_overrun),
    };
    return cmocka_run_group_tests_name("gmem", tests, NULL, NULL);
}
