/* Unit tests of the split virtqueue engine (src/core/virtqueue.c).
 *
 * The first half is a list of attacks, one named test each: a hostile driver
 * (tg_vring raw writes) breaks one rule, and the test checks the outcome the
 * spec demands, that nothing else of the queue changed, and that no byte
 * outside guest RAM was touched (canaries). The second half covers the
 * normal paths: direct, indirect and region-split chains, EVENT_IDX both
 * ways, NO_INTERRUPT, set_base, disable/reset. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "safevdev/virtqueue.h"
#include "tg_mem.h"
#include "tg_vring.h"

#define RAM_GPA 0x10000u
#define RAM_SIZE 0x100000u
#define BUF (RAM_GPA + 0x80000u) /* data buffers live here, far from the rings */
#define NSEGS 16u
#define QSIZE 8u

typedef struct fx {
    tg_mem mem;
    tg_vring vr;
    svd_vq q;
    svd_vq_desc segs[NSEGS];
    svd_vq_chain c;
} fx;

/* The three ring addresses of @q, stopping at the first refusal. */
static svd_result set_rings(svd_vq *q, uint64_t desc, uint64_t avail, uint64_t used)
{
    SVD_GUARD(svd_vq_set_addr(q, SVD_VQ_RING_DESC, desc));
    SVD_GUARD(svd_vq_set_addr(q, SVD_VQ_RING_AVAIL, avail));
    return svd_vq_set_addr(q, SVD_VQ_RING_USED, used);
}

/* Guest RAM with rings at RAM_GPA, queue configured and enabled. */
static void fx_start(fx *f, uint16_t size, bool event_idx, bool indirect)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(tg_mem_init(&f->mem, RAM_GPA, RAM_SIZE), 0);
    (void)tg_vring_init(&f->vr, &f->mem, size, RAM_GPA);
    assert_true(svd_is_ok(svd_vq_init(&f->q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(svd_vq_set_size(&f->q, size)));
    assert_true(svd_is_ok(set_rings(&f->q, f->vr.desc, f->vr.avail, f->vr.used)));
    assert_true(svd_is_ok(svd_vq_set_features(&f->q, event_idx, indirect)));
    assert_true(svd_is_ok(svd_vq_enable(&f->q, &f->mem.map)));
    svd_vq_chain_init(&f->c, f->segs, NSEGS);
}

static void fx_end(fx *f)
{
    assert_true(tg_mem_canaries_intact(&f->mem));
    tg_mem_free(&f->mem);
}

/* Pop must fail with PROTOCOL, latch broken, and change nothing else: not
 * the queue, not the chain, not the used ring. Later calls are refused until
 * reset. */
static void expect_pop_protocol(fx *f, svd_why why)
{
    svd_vq before_q;
    svd_vq_chain before_c;
    const uint16_t used_before = tg_vring_used_idx(&f->vr);
    const uint16_t avail_event_before = tg_vring_avail_event(&f->vr);

    memcpy(&before_q, &f->q, sizeof(before_q));
    memcpy(&before_c, &f->c, sizeof(before_c));
    const svd_result r = svd_vq_pop(&f->q, &f->mem.map, &f->c);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_string_equal(svd_why_name(r.why), svd_why_name(why));
    before_q.broken = true;
    assert_memory_equal(&f->q, &before_q, sizeof(before_q));
    assert_memory_equal(&f->c, &before_c, sizeof(before_c));
    assert_int_equal(tg_vring_used_idx(&f->vr), used_before);
    assert_int_equal(tg_vring_avail_event(&f->vr), avail_event_before);
    /* Latched: nothing more happens until reset. */
    assert_true(svd_is_err(svd_vq_pop(&f->q, &f->mem.map, &f->c), SVD_ERR_STATE));
    assert_true(f->q.broken);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A configuration write on an enabled queue: refused with the rule named. */
static void expect_queue_enabled(svd_result r)
{
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_QUEUE_ENABLED);
}

static void pop_ok(fx *f)
{
    assert_true(svd_is_ok(svd_vq_pop(&f->q, &f->mem.map, &f->c)));
}

/* ------------------------------------------------------------------ attacks */

/* REQ: REQ-VQ-008 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-002 */
static void test_attack_descriptor_loop(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 16, SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_desc(&f.vr, 1, BUF + 16u, 16, SVD_VRING_DESC_F_NEXT, 2);
    tg_vring_set_desc(&f.vr, 2, BUF + 32u, 16, SVD_VRING_DESC_F_NEXT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_CHAIN_LOOP);
    assert_int_equal(f.q.last_avail_idx, 0);
    assert_int_equal(f.q.inflight, 0);
    fx_end(&f);
}

/* rust-vmm vm-virtio #236: a descriptor whose next is itself. */
/* REQ: REQ-VQ-008 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_self_referential_descriptor_rust_vmm_236(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 3, BUF, 16, SVD_VRING_DESC_F_NEXT, 3);
    tg_vring_publish(&f.vr, 3);
    expect_pop_protocol(&f, SVD_WHY_CHAIN_LOOP);
    fx_end(&f);
}

/* REQ: REQ-VQ-006 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_next_out_of_range(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 16, SVD_VRING_DESC_F_NEXT, QSIZE);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_NEXT_RANGE);
    fx_end(&f);
}

/* QEMU CVE-2011-2512 class: an index from the guest used unchecked. */
/* REQ: REQ-VQ-005 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-003 */
static void test_attack_head_out_of_range_cve_2011_2512(void **state)
{
    static const uint16_t heads[] = { QSIZE, 0xFFFFu };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        tg_vring_publish(&f.vr, heads[i]);
        expect_pop_protocol(&f, SVD_WHY_HEAD_RANGE);
        fx_end(&f);
    }
}

/* rust-vmm vm-virtio #196: avail->idx claims more entries than the ring holds. */
/* REQ: REQ-VQ-004 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-001 */
static void test_attack_avail_idx_jump_rust_vmm_196(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 16, 0, 0);
    tg_vring_set_avail_idx(&f.vr, QSIZE + 1u);
    expect_pop_protocol(&f, SVD_WHY_AVAIL_JUMP);
    fx_end(&f);

    /* Same across the 16-bit wrap: last_avail 0xFFFC, avail idx 0xFFFC + 9. */
    fx_start(&f, QSIZE, false, false);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, 0xFFFCu, 0u)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    tg_vring_set_avail_idx(&f.vr, (uint16_t)(0xFFFCu + QSIZE + 1u));
    expect_pop_protocol(&f, SVD_WHY_AVAIL_JUMP);
    fx_end(&f);

    /* Exactly a full ring is fine. */
    fx_start(&f, QSIZE, false, false);
    for (uint16_t i = 0; i < QSIZE; i++) {
        tg_vring_set_desc(&f.vr, i, BUF + 16u * i, 16, 0, 0);
        tg_vring_set_avail_slot(&f.vr, i, i);
    }
    tg_vring_set_avail_idx(&f.vr, QSIZE);
    pop_ok(&f);
    assert_int_equal(f.c.head, 0);
    fx_end(&f);
}

/* A chain visiting more descriptors than the queue holds: through an
 * indirect table with more entries than the queue size, and a direct chain
 * that reuses every descriptor once and then comes back. */
/* REQ: REQ-VQ-008 REQ-VQ-010 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_chain_longer_than_queue_size(void **state)
{
    fx f;
    const uint64_t table = BUF + 0x1000u;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    for (uint16_t i = 0; i <= QSIZE; i++) {
        tg_vring_set_indirect(&f.vr, table, i, BUF, 8, (i < QSIZE) ? SVD_VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1u));
    }
    tg_vring_set_desc(&f.vr, 0, table, 16u * (QSIZE + 1u), SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_LEN);
    fx_end(&f);

    fx_start(&f, QSIZE, false, false);
    for (uint16_t i = 0; i < QSIZE; i++) {
        tg_vring_set_desc(&f.vr, i, BUF, 8, SVD_VRING_DESC_F_NEXT, (uint16_t)((i + 1u) % QSIZE));
    }
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_CHAIN_LOOP);
    fx_end(&f);
}

/* QEMU CVE-2016-7422 class: total length must stay below 2^32. The buffers
 * live in a huge region whose bytes are never touched by pop (only checked). */
/* REQ: REQ-VQ-015 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_total_length_over_4g(void **state)
{
    fx f;
    const uint64_t big = 0x100000000000ull;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, big, 0x200000000ull, f.mem.ram, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    /* 0xFFFFFFFF in one descriptor is the largest legal total. */
    tg_vring_set_desc(&f.vr, 0, big, 0xFFFFFFFFu, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    assert_int_equal(f.c.writable_len, 0xFFFFFFFFu);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 0)));
    /* Two halves of 2^31 add up to exactly 2^32. */
    tg_vring_set_desc(&f.vr, 1, big, 0x80000000u, SVD_VRING_DESC_F_NEXT, 2);
    tg_vring_set_desc(&f.vr, 2, big + 0x80000000u, 0x80000000u, 0, 0);
    tg_vring_publish(&f.vr, 1);
    expect_pop_protocol(&f, SVD_WHY_CHAIN_LEN);
    fx_end(&f);
}

/* REQ: REQ-VQ-009 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_not_negotiated(void **state)
{
    fx f;
    const uint64_t table = BUF + 0x1000u;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_indirect(&f.vr, table, 0, BUF, 8, 0, 0);
    tg_vring_set_desc(&f.vr, 0, table, 16, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_FEATURE);
    fx_end(&f);
}

/* REQ: REQ-VQ-011 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_nested_indirect(void **state)
{
    fx f;
    const uint64_t t1 = BUF + 0x1000u;
    const uint64_t t2 = BUF + 0x2000u;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    tg_vring_set_indirect(&f.vr, t2, 0, BUF, 8, 0, 0);
    tg_vring_set_indirect(&f.vr, t1, 0, BUF, 8, SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_indirect(&f.vr, t1, 1, t2, 16, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_set_desc(&f.vr, 0, t1, 32, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_NESTED);
    fx_end(&f);
}

/* REQ: REQ-VQ-010 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_len_not_multiple_of_16(void **state)
{
    fx f;
    const uint64_t table = BUF + 0x1000u;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    /* Entry 0 alone is a complete chain: only the multiple-of-16 rule can object. */
    tg_vring_set_indirect(&f.vr, table, 0, BUF, 8, 0, 0);
    tg_vring_set_desc(&f.vr, 0, table, 24, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_LEN);
    fx_end(&f);
}

/* REQ: REQ-VQ-010 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_len_zero(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    tg_vring_set_desc(&f.vr, 0, BUF + 0x1000u, 0, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_LEN);
    fx_end(&f);
}

/* REQ: REQ-VQ-012 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_with_next(void **state)
{
    fx f;
    const uint64_t table = BUF + 0x1000u;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    tg_vring_set_indirect(&f.vr, table, 0, BUF, 8, 0, 0);
    tg_vring_set_desc(&f.vr, 0, table, 16, SVD_VRING_DESC_F_INDIRECT | SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_desc(&f.vr, 1, BUF, 8, 0, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_NEXT);
    fx_end(&f);
}

/* REQ: REQ-VQ-010 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_table_outside_memory(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    /* Starts inside, ends 16 bytes past the end of RAM. */
    tg_vring_set_desc(&f.vr, 0, RAM_GPA + RAM_SIZE - 16u, 32, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_MEMORY);
    fx_end(&f);
}

/* REQ: REQ-VQ-006 REQ-VQ-008 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_next_out_of_range(void **state)
{
    fx f;
    const uint64_t table = BUF + 0x1000u;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    /* Table of 2 entries; entry 1 points at entry 2 (exists in the queue, not in the table). */
    tg_vring_set_indirect(&f.vr, table, 0, BUF, 8, SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_indirect(&f.vr, table, 1, BUF, 8, SVD_VRING_DESC_F_NEXT, 2);
    tg_vring_set_indirect(&f.vr, table, 2, BUF, 8, 0, 0);
    tg_vring_set_desc(&f.vr, 0, table, 32, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_NEXT_RANGE);
    fx_end(&f);
}

/* REQ: REQ-VQ-008 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_loop(void **state)
{
    fx f;
    const uint64_t table = BUF + 0x1000u;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    tg_vring_set_indirect(&f.vr, table, 0, BUF, 8, SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_indirect(&f.vr, table, 1, BUF, 8, SVD_VRING_DESC_F_NEXT, 0);
    tg_vring_set_desc(&f.vr, 0, table, 32, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_CHAIN_LOOP);
    fx_end(&f);
}

/* REQ: REQ-VQ-014 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-005 */
static void test_attack_descriptor_outside_memory(void **state)
{
    static const uint64_t addrs[] = { 0u, RAM_GPA - 1u, RAM_GPA + RAM_SIZE - 8u, RAM_GPA + RAM_SIZE,
                                      0x8000000000000000ull };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        tg_vring_set_desc(&f.vr, 0, addrs[i], 16, SVD_VRING_DESC_F_WRITE, 0);
        tg_vring_publish(&f.vr, 0);
        expect_pop_protocol(&f, SVD_WHY_BUFFER_MEMORY);
        fx_end(&f);
    }
}

/* REQ: REQ-VQ-014 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_descriptor_address_wraps_2_64(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    /* addr + len wraps to a small address inside RAM: must not be taken for it. */
    tg_vring_set_desc(&f.vr, 0, 0xFFFFFFFFFFFFFF00ull, (uint32_t)(0x100u + RAM_GPA + 0x100u), 0, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_BUFFER_MEMORY);
    fx_end(&f);
}

/* REQ: REQ-VQ-014 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_writable_buffer_in_read_only_region(void **state)
{
    fx f;
    static uint8_t rom[64];
    (void)state;
    fx_start(&f, QSIZE, false, false);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, 0x4000000u, sizeof(rom), rom, SVD_GMEM_READ)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    /* Reading from it is fine ... */
    tg_vring_set_desc(&f.vr, 0, 0x4000000u, 64, 0, 0);
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 0)));
    /* ... writing into it is not. */
    tg_vring_set_desc(&f.vr, 1, 0x4000000u, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 1);
    expect_pop_protocol(&f, SVD_WHY_BUFFER_MEMORY);
    fx_end(&f);
}

/* REQ: REQ-VQ-013 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_readable_after_writable(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 16, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_desc(&f.vr, 1, BUF + 16u, 16, 0, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_WRITE_ORDER);
    fx_end(&f);
}

/* Enable must refuse a queue whose enable fails, latch broken, and keep the
 * configuration as it was. */
static void expect_enable_protocol(fx *f, svd_why why)
{
    svd_vq before;
    memcpy(&before, &f->q, sizeof(before));
    const svd_result r = svd_vq_enable(&f->q, &f->mem.map);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_string_equal(svd_why_name(r.why), svd_why_name(why));
    before.broken = true;
    assert_memory_equal(&f->q, &before, sizeof(before));
    assert_false(f->q.enabled);
    /* Latched: a second enable is refused until reset. */
    assert_true(svd_is_err(svd_vq_enable(&f->q, &f->mem.map), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_vq_pop(&f->q, &f->mem.map, &f->c), SVD_ERR_STATE));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* Configure (not enable) a queue of @size over RAM with rings at @d/@a/@u. */
static void fx_config(fx *f, uint16_t size, bool event_idx, uint64_t d, uint64_t a, uint64_t u)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(tg_mem_init(&f->mem, RAM_GPA, RAM_SIZE), 0);
    assert_true(svd_is_ok(svd_vq_init(&f->q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(svd_vq_set_size(&f->q, size)));
    assert_true(svd_is_ok(set_rings(&f->q, d, a, u)));
    assert_true(svd_is_ok(svd_vq_set_features(&f->q, event_idx, false)));
    svd_vq_chain_init(&f->c, f->segs, NSEGS);
}

/* REQ: REQ-VQ-002 REQ-VQ-030 */
static void test_attack_rings_unaligned(void **state)
{
    const uint64_t d = RAM_GPA;
    const uint64_t a = RAM_GPA + 0x1000u;
    const uint64_t u = RAM_GPA + 0x2000u;
    const uint64_t bad[][3] = { { d + 8u, a, u }, { d, a + 1u, u }, { d, a, u + 2u }, { d + 1u, a + 1u, u + 1u } };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx f;
        fx_config(&f, QSIZE, false, bad[i][0], bad[i][1], bad[i][2]);
        expect_enable_protocol(&f, SVD_WHY_RING_ALIGN);
        fx_end(&f);
    }
    /* Guest addresses misaligned while the host addresses are aligned (the
     * region's host base is offset): the guest-side rule alone must refuse. */
    {
        static uint8_t host[8192] __attribute__((aligned(16)));
        const uint64_t base = 0x4000000u;
        fx g;
        fx_config(&g, QSIZE, false, d, base + 0x101u, u); /* avail odd in gpa, even in host */
        assert_true(svd_is_ok(svd_gmem_add(&g.mem.map, base, 4096, host + 1, SVD_GMEM_READ | SVD_GMEM_WRITE)));
        expect_enable_protocol(&g, SVD_WHY_RING_ALIGN);
        fx_end(&g);
        fx_config(&g, QSIZE, false, d, a, base + 0x102u); /* used 2 mod 4 in gpa, 0 mod 4 in host */
        assert_true(svd_is_ok(svd_gmem_add(&g.mem.map, base, 4096, host + 2, SVD_GMEM_READ | SVD_GMEM_WRITE)));
        expect_enable_protocol(&g, SVD_WHY_RING_ALIGN);
        fx_end(&g);
        /* Control: guest- and host-aligned rings in an offset region are accepted. */
        fx_config(&g, QSIZE, false, d, base + 0x100u, base + 0x200u);
        assert_true(svd_is_ok(svd_gmem_add(&g.mem.map, base, 4096, host + 4, SVD_GMEM_READ | SVD_GMEM_WRITE)));
        assert_true(svd_is_ok(svd_vq_enable(&g.q, &g.mem.map)));
        fx_end(&g);
    }
    /* The aligned layout itself is fine. */
    fx f;
    fx_config(&f, QSIZE, false, d, a, u);
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    fx_end(&f);
}

/* REQ: REQ-VQ-003 REQ-VQ-030 */
/* FM: FM-VQ-006 */
static void test_attack_rings_outside_memory(void **state)
{
    const uint64_t d = RAM_GPA;
    const uint64_t a = RAM_GPA + 0x1000u;
    const uint64_t u = RAM_GPA + 0x2000u;
    const uint64_t end = RAM_GPA + RAM_SIZE;
    /* Each ring in turn: below RAM, straddling the end, past the end, near 2^64. */
    const uint64_t bad[][3] = {
        { 0u, a, u },
        { end - 16u * QSIZE + 16u, a, u },
        { d, end - 2u, u },
        { d, a, end - 8u * QSIZE },
        { d, a, end },
        { 0xFFFFFFFFFFFFFFF0ull, a, u },
        { d, 0xFFFFFFFFFFFFFFFEull, u },
        { d, a, 0xFFFFFFFFFFFFFFFCull },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx f;
        fx_config(&f, QSIZE, false, bad[i][0], bad[i][1], bad[i][2]);
        expect_enable_protocol(&f, SVD_WHY_RING_MEMORY);
        fx_end(&f);
    }
    /* With EVENT_IDX the trailing used_event / avail_event fields must fit too. */
    {
        fx f;
        const uint64_t a_tight = end - (4u + 2u * QSIZE);
        fx_config(&f, QSIZE, false, d, a_tight, u);
        assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
        fx_end(&f);
        fx_config(&f, QSIZE, true, d, a_tight, u);
        expect_enable_protocol(&f, SVD_WHY_RING_MEMORY);
        fx_end(&f);
        const uint64_t u_tight = end - (4u + 8u * QSIZE);
        fx_config(&f, QSIZE, true, d, a, u_tight);
        expect_enable_protocol(&f, SVD_WHY_RING_MEMORY);
        fx_end(&f);
    }
}

/* Ring placed in a region the device may not use the way it needs. */
/* REQ: REQ-VQ-003 REQ-VQ-030 */
static void test_attack_used_ring_in_read_only_region(void **state)
{
    fx f;
    static uint8_t rom[4096] __attribute__((aligned(16)));
    (void)state;
    fx_config(&f, QSIZE, false, RAM_GPA, RAM_GPA + 0x1000u, 0x4000000u);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, 0x4000000u, sizeof(rom), rom, SVD_GMEM_READ)));
    expect_enable_protocol(&f, SVD_WHY_RING_MEMORY);
    fx_end(&f);
    static uint8_t wom[4096] __attribute__((aligned(16)));
    fx_config(&f, QSIZE, false, 0x4000000u, RAM_GPA + 0x1000u, RAM_GPA + 0x2000u);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, 0x4000000u, sizeof(wom), wom, SVD_GMEM_WRITE)));
    expect_enable_protocol(&f, SVD_WHY_RING_MEMORY);
    fx_end(&f);
}

/* The index atomics need the host addresses aligned; a map whose host side is
 * misaligned is refused rather than touched with a misaligned atomic. */
/* REQ: REQ-VQ-029 REQ-VQ-030 */
static void test_attack_ring_host_address_misaligned(void **state)
{
    static uint8_t host[8192] __attribute__((aligned(16)));
    const uint64_t base = 0x4000000u;
    (void)state;
    /* Host side offset by 1: avail (gpa 2-aligned) lands on an odd host address. */
    fx f;
    fx_config(&f, QSIZE, false, RAM_GPA, base + 0x100u, RAM_GPA + 0x2000u);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, base, 4096, host + 1, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    expect_enable_protocol(&f, SVD_WHY_RING_ALIGN);
    fx_end(&f);
    /* Host side offset by 2: used (gpa 4-aligned) lands on a 2-aligned host address. */
    fx_config(&f, QSIZE, false, RAM_GPA, RAM_GPA + 0x1000u, base + 0x100u);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, base, 4096, host + 2, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    expect_enable_protocol(&f, SVD_WHY_RING_ALIGN);
    fx_end(&f);
}

/* REQ: REQ-VQ-001 REQ-VQ-030 */
static void test_attack_queue_size_zero(void **state)
{
    fx f;
    svd_vq before;
    (void)state;
    fx_config(&f, QSIZE, false, RAM_GPA, RAM_GPA + 0x1000u, RAM_GPA + 0x2000u);
    memcpy(&before, &f.q, sizeof(before));
    const svd_result r = svd_vq_set_size(&f.q, 0);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_QUEUE_SIZE);
    before.broken = true;
    assert_memory_equal(&f.q, &before, sizeof(before));
    assert_int_equal(f.q.size, QSIZE);
    assert_true(svd_is_err(svd_vq_enable(&f.q, &f.mem.map), SVD_ERR_STATE));
    fx_end(&f);
    /* A queue whose size was never set runs at its maximum (the preset),
     * never at size 0. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE), 0);
    assert_true(svd_is_ok(svd_vq_init(&f.q, QSIZE)));
    assert_int_equal(svd_vq_size(&f.q), QSIZE);
    assert_true(svd_is_ok(set_rings(&f.q, RAM_GPA, RAM_GPA + 0x1000u, RAM_GPA + 0x2000u)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    assert_int_equal(svd_vq_size(&f.q), QSIZE);
    fx_end(&f);
}

/* The enable-time size check is defensive (a size is checked when it is
 * set): in builds where it is compiled (not coverage builds, where
 * SVD_NEVER is the constant 0) a size corrupted behind the setters' back is
 * still refused rather than used. */
/* REQ: REQ-VQ-001 REQ-VQ-030 */
static void test_attack_corrupted_size_still_refused_at_enable(void **state)
{
    (void)state;
#if !defined(SVD_COVERAGE)
    fx f;
    fx_config(&f, QSIZE, false, RAM_GPA, RAM_GPA + 0x1000u, RAM_GPA + 0x2000u);
    f.q.size = 3u;
    expect_enable_protocol(&f, SVD_WHY_QUEUE_SIZE);
    fx_end(&f);
#endif
}

/* REQ: REQ-VQ-001 REQ-VQ-030 */
static void test_attack_queue_size_not_power_of_two(void **state)
{
    static const uint32_t bad[] = { 3u, 6u, 100u, 32767u, 32769u, 65535u, 65536u, 0x80000000u, 0xFFFFFFFFu };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        svd_vq q;
        svd_vq before;
        assert_true(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
        memcpy(&before, &q, sizeof(before));
        const svd_result r = svd_vq_set_size(&q, bad[i]);
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_int_equal(r.why, SVD_WHY_QUEUE_SIZE);
        before.broken = true;
        assert_memory_equal(&q, &before, sizeof(before));
    }
    /* Every power of two from 1 to 32768 is accepted. */
    for (uint32_t s = 1u; s <= SVD_VQ_MAX_SIZE; s <<= 1) {
        svd_vq q;
        assert_true(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
        assert_true(svd_is_ok(svd_vq_set_size(&q, s)));
        assert_int_equal(q.size, s);
        assert_false(q.broken);
    }
}

/* Every value a queue size can take is one of the sixteen powers of two
 * 1 .. 32768, checked over every value up to 2^16 + 1 for both doors (the
 * maximum at init, the size at set_size). The proof's contracts name the
 * sizes one by one (vq_size16 in core_priv.h); this is the check that the
 * bit test the code uses accepts exactly them. */
static bool is_listed_size(uint32_t s)
{
    for (uint32_t k = 0u; k < 16u; k++) {
        if (s == (1u << k)) {
            return true;
        }
    }
    return false;
}

/* REQ: REQ-VQ-001 */
static void test_queue_sizes_are_the_sixteen_powers_of_two(void **state)
{
    uint32_t accepted = 0u;
    (void)state;
    for (uint32_t s = 0u; s <= 65537u; s++) {
        svd_vq q;
        const bool listed = is_listed_size(s);
        assert_int_equal(svd_is_ok(svd_vq_init(&q, s)), listed);
        assert_true(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
        assert_int_equal(svd_is_ok(svd_vq_set_size(&q, s)), listed);
        if (listed) {
            assert_int_equal(q.size, s);
            accepted++;
        }
    }
    assert_int_equal(accepted, 16u);
}

/* QEMU CVE-2016-5403: the guest submits more requests than the queue holds by
 * re-using heads that are still in flight. */
/* REQ: REQ-VQ-007 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-007 */
static void test_attack_more_in_flight_than_queue_size_cve_2016_5403(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    svd_vq_chain chains[QSIZE];
    svd_vq_desc segs[QSIZE][2];
    for (uint16_t i = 0; i < QSIZE; i++) {
        tg_vring_set_desc(&f.vr, i, BUF + 64u * i, 64, SVD_VRING_DESC_F_WRITE, 0);
        tg_vring_publish(&f.vr, i);
        svd_vq_chain_init(&chains[i], segs[i], 2);
        assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &chains[i])));
    }
    assert_int_equal(f.q.inflight, QSIZE);
    /* A ninth request can only name a head that is in flight. */
    tg_vring_publish(&f.vr, 5);
    expect_pop_protocol(&f, SVD_WHY_HEAD_INFLIGHT);
    assert_int_equal(f.q.inflight, QSIZE);
    fx_end(&f);
}

/* REQ: REQ-VQ-007 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_head_resubmitted_while_in_flight(void **state)
{
    fx f;
    svd_vq_desc segs2[2];
    svd_vq_chain c2;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 2, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 2);
    pop_ok(&f);
    tg_vring_publish(&f.vr, 2);
    svd_vq_chain_init(&c2, segs2, 2);
    {
        svd_vq before;
        memcpy(&before, &f.q, sizeof(before));
        assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &c2), SVD_ERR_PROTOCOL));
        before.broken = true;
        assert_memory_equal(&f.q, &before, sizeof(before));
        assert_false(c2.valid);
    }
    /* The first request cannot complete on a broken queue either. */
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    assert_int_equal(tg_vring_used_idx(&f.vr), 0);
    fx_end(&f);
}

/* QEMU CVE-2016-7422 class: a huge length must never reach a copy. */
/* REQ: REQ-VQ-014 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-004 */
static void test_attack_huge_length_cve_2016_7422(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 0xFFFFFFFFu, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    expect_pop_protocol(&f, SVD_WHY_BUFFER_MEMORY);
    fx_end(&f);
}

/* REQ: REQ-VQ-019 REQ-VQ-030 */
static void test_attack_push_twice(void **state)
{
    fx f;
    svd_vq_chain copy;
    uint32_t id;
    uint32_t len;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 1, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 1);
    pop_ok(&f);
    memcpy(&copy, &f.c, sizeof(copy));
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 10)));
    assert_false(f.c.valid);
    /* The consumed token, and a copy made before it was consumed, are both refused. */
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 10), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &copy, 10), SVD_ERR_STATE));
    assert_int_equal(tg_vring_used_idx(&f.vr), 1);
    assert_int_equal(f.q.used_idx, 1);
    assert_true(tg_vring_get_used(&f.vr, &id, &len));
    assert_int_equal(id, 1);
    assert_int_equal(len, 10);
    assert_false(tg_vring_get_used(&f.vr, &id, &len));
    assert_false(f.q.broken);
    fx_end(&f);
}

/* REQ: REQ-VQ-019 REQ-VQ-030 */
static void test_attack_push_never_popped_chain(void **state)
{
    fx f;
    svd_vq before;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    memcpy(&before, &f.q, sizeof(before));
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    /* A forged token naming a head that was never popped. */
    f.c.valid = true;
    f.c.head = 4;
    f.c.epoch = f.q.epoch;
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    /* ... or a head outside the queue. */
    f.c.head = 0xFFFFu;
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    assert_memory_equal(&f.q, &before, sizeof(before));
    assert_int_equal(tg_vring_used_idx(&f.vr), 0);
    /* Head 0 in flight, and a fresh chain (no token) whose head and epoch
     * fields happen to match it: still refused, the token is what counts. */
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    {
        svd_vq_desc s2[1];
        svd_vq_chain c2;
        svd_vq_chain_init(&c2, s2, 1);
        assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c2)));
        assert_int_equal(c2.head, 0);
        svd_vq_chain_init(&f.c, f.segs, NSEGS);
        assert_int_equal(f.c.head, 0);
        assert_int_equal(f.c.epoch, f.q.epoch);
        assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
        assert_int_equal(tg_vring_used_idx(&f.vr), 0);
        assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &c2, 0)));
    }
    fx_end(&f);
}

/* REQ: REQ-VQ-019 REQ-VQ-021 REQ-VQ-030 */
static void test_attack_push_after_reset(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    svd_vq_reset(&f.q);
    /* Even on a reconfigured, re-enabled queue with head 0 in flight again. */
    assert_true(svd_is_ok(svd_vq_set_size(&f.q, QSIZE)));
    assert_true(svd_is_ok(set_rings(&f.q, f.vr.desc, f.vr.avail, f.vr.used)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    {
        svd_vq_desc s2[2];
        svd_vq_chain c2;
        svd_vq before;
        svd_vq_chain_init(&c2, s2, 2);
        assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c2)));
        assert_int_equal(c2.head, 0);
        memcpy(&before, &f.q, sizeof(before));
        assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
        assert_memory_equal(&f.q, &before, sizeof(before));
        assert_int_equal(tg_vring_used_idx(&f.vr), 0);
        assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &c2, 4)));
    }
    assert_int_equal(tg_vring_used_idx(&f.vr), 1);
    fx_end(&f);
}

/* REQ: REQ-VQ-021 REQ-VQ-030 */
static void test_attack_reset_mid_request(void **state)
{
    fx f;
    const uint32_t epoch = 0;
    (void)state;
    fx_start(&f, QSIZE, true, true);
    assert_int_equal(f.q.epoch, epoch);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_set_desc(&f.vr, 1, BUF + 64u, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    tg_vring_publish(&f.vr, 1);
    pop_ok(&f);
    assert_int_equal(f.q.inflight, 1);
    svd_vq_reset(&f.q);
    /* Everything forgotten but the epoch, which moved on. */
    assert_false(f.q.enabled);
    assert_false(f.q.broken);
    assert_int_equal(svd_vq_max(&f.q), SVD_VQ_MAX_SIZE); /* the maximum is kept ... */
    assert_int_equal(svd_vq_size(&f.q), SVD_VQ_MAX_SIZE); /* ... and the size preset to it again */
    assert_int_equal(f.q.inflight, 0);
    assert_int_equal(f.q.last_avail_idx, 0);
    assert_int_equal(f.q.used_idx, 0);
    assert_false(f.q.event_idx);
    assert_false(f.q.indirect);
    assert_int_equal(f.q.desc_gpa, 0);
    assert_null(f.q.desc);
    assert_int_equal(f.q.epoch, epoch + 1u);
    for (size_t i = 0; i < SVD_VQ_MAX_SIZE / 32u; i++) {
        assert_int_equal(f.q.inflight_map[i], 0);
    }
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    /* Reset also clears a latched break. */
    f.q.broken = true;
    svd_vq_reset(&f.q);
    assert_false(f.q.broken);
    assert_int_equal(f.q.epoch, epoch + 2u);
    assert_int_equal(tg_vring_used_idx(&f.vr), 0);
    fx_end(&f);
}

/* REQ: REQ-VQ-018 REQ-VQ-030 */
/* FM: FM-VQ-009 */
static void test_attack_memory_map_changed_after_enable(void **state)
{
    fx f;
    static uint8_t extra[64];
    bool need = false;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, 0x4000000u, sizeof(extra), extra, SVD_GMEM_READ)));
    {
        svd_vq before;
        svd_vq_desc s2[2];
        svd_vq_chain c2;
        svd_vq_chain_init(&c2, s2, 2);
        memcpy(&before, &f.q, sizeof(before));
        assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &c2), SVD_ERR_STATE));
        assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
        assert_true(svd_is_err(svd_vq_need_interrupt(&f.q, &f.mem.map, &need), SVD_ERR_STATE));
        assert_memory_equal(&f.q, &before, sizeof(before));
        assert_true(f.c.valid);
    }
    /* Re-initialising the map in place also counts as a change. */
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    svd_gmem_init(&f.mem.map);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, RAM_GPA, RAM_SIZE, f.mem.ram, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_STATE));
    /* Disable + enable picks the new map up; the old chain stays dead. */
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    f.c.valid = false;
    pop_ok(&f);
    assert_int_equal(f.c.head, 0);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 1)));
    fx_end(&f);
}

/* REQ: REQ-VQ-018 REQ-VQ-028 REQ-VQ-030 */
static void test_attack_calls_on_disabled_or_busy_queue(void **state)
{
    fx f;
    bool need = true;
    svd_vq_chain c2;
    svd_vq_desc s2[1];
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE), 0);
    assert_true(svd_is_ok(svd_vq_init(&f.q, SVD_VQ_MAX_SIZE)));
    svd_vq_chain_init(&f.c, f.segs, NSEGS);
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_vq_need_interrupt(&f.q, &f.mem.map, &need), SVD_ERR_STATE));
    assert_true(need);
    fx_end(&f);

    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_set_desc(&f.vr, 1, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    tg_vring_publish(&f.vr, 1);
    pop_ok(&f);
    /* A chain still holding a token cannot receive another one. */
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_STATE));
    assert_int_equal(f.c.head, 0);
    assert_int_equal(f.q.last_avail_idx, 1);
    /* Enabling twice is refused; reconfiguring while enabled breaks the
     * "not while enabled" rule (the device latches on it), and changes
     * nothing in the queue, which is not latched broken itself. */
    assert_true(svd_is_err(svd_vq_enable(&f.q, &f.mem.map), SVD_ERR_STATE));
    {
        svd_vq before;
        memcpy(&before, &f.q, sizeof(before));
        expect_queue_enabled(svd_vq_set_size(&f.q, 4));
        expect_queue_enabled(svd_vq_set_size(&f.q, 0)); /* the enabled rule is checked first */
        expect_queue_enabled(set_rings(&f.q, 0, 0, 0));
        expect_queue_enabled(svd_vq_set_addr(&f.q, SVD_VQ_RING_AVAIL, 0));
        expect_queue_enabled(svd_vq_set_addr(&f.q, SVD_VQ_RING_USED, 0));
        expect_queue_enabled(svd_vq_set_addr_half(&f.q, SVD_VQ_RING_DESC, false, 0));
        expect_queue_enabled(svd_vq_set_addr_half(&f.q, SVD_VQ_RING_USED, true, 1));
        expect_queue_enabled(svd_vq_set_features(&f.q, true, true));
        expect_queue_enabled(svd_vq_set_base(&f.q, 5, 5));
        assert_memory_equal(&f.q, &before, sizeof(before));
    }
    assert_false(f.q.broken);
    assert_int_equal(f.q.size, QSIZE);
    assert_int_equal(f.q.desc_gpa, f.vr.desc);
    assert_false(f.q.event_idx);
    assert_int_equal(f.q.used_idx, 0);
    /* Written more than the chain can hold. */
    {
        svd_vq before;
        memcpy(&before, &f.q, sizeof(before));
        assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 65), SVD_ERR_INVALID_ARG));
        assert_memory_equal(&f.q, &before, sizeof(before));
        assert_true(f.c.valid);
        assert_int_equal(tg_vring_used_idx(&f.vr), 0);
    }
    /* Chain without storage still pops (everything truncated). */
    svd_vq_chain_init(&c2, NULL, 5);
    assert_int_equal(c2.cap, 0);
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c2)));
    assert_true(c2.truncated);
    assert_int_equal(c2.nsegs, 0);
    assert_int_equal(c2.ndesc, 1);
    assert_int_equal(c2.writable_len, 0);
    (void)s2;
    fx_end(&f);
}

/* ------------------------------------------------------------- normal paths */

/* REQ: REQ-VQ-020 REQ-VQ-027 REQ-VQ-014 */
static void test_pop_push_direct_chain(void **state)
{
    fx f;
    uint32_t id;
    uint32_t len;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 5, BUF, 12, SVD_VRING_DESC_F_NEXT, 2);
    tg_vring_set_desc(&f.vr, 2, BUF + 100u, 0, SVD_VRING_DESC_F_NEXT, 7); /* zero-length is legal */
    tg_vring_set_desc(&f.vr, 7, BUF + 200u, 64, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 0);
    tg_vring_set_desc(&f.vr, 0, BUF + 300u, 32, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 5);
    pop_ok(&f);
    assert_true(f.c.valid);
    assert_int_equal(f.c.head, 5);
    assert_int_equal(f.c.ndesc, 4);
    assert_int_equal(f.c.nsegs, 4);
    assert_false(f.c.truncated);
    assert_int_equal(f.c.readable_len, 12);
    assert_int_equal(f.c.writable_len, 96);
    assert_int_equal(f.segs[0].addr, BUF);
    assert_int_equal(f.segs[0].len, 12);
    assert_int_equal(f.segs[0].flags, 0);
    assert_int_equal(f.segs[1].len, 0);
    assert_int_equal(f.segs[2].addr, BUF + 200u);
    assert_int_equal(f.segs[2].flags, SVD_VRING_DESC_F_WRITE);
    assert_int_equal(f.segs[3].addr, BUF + 300u);
    assert_int_equal(f.segs[3].len, 32);
    /* Each buffer inside one region comes with its host address; a
     * zero-length one has none. */
    assert_ptr_equal(f.segs[0].host, tg_mem_ptr(&f.mem, BUF));
    assert_null(f.segs[1].host);
    assert_ptr_equal(f.segs[2].host, tg_mem_ptr(&f.mem, BUF + 200u));
    assert_ptr_equal(f.segs[3].host, tg_mem_ptr(&f.mem, BUF + 300u));
    assert_int_equal(f.q.inflight, 1);
    assert_int_equal(f.q.last_avail_idx, 1);
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &(svd_vq_chain){ 0 }), SVD_ERR_EMPTY));
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 96)));
    assert_int_equal(f.q.inflight, 0);
    assert_true(tg_vring_get_used(&f.vr, &id, &len));
    assert_int_equal(id, 5);
    assert_int_equal(len, 96);
    /* Heads are reusable once completed. */
    tg_vring_publish(&f.vr, 5);
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 0)));
    assert_true(tg_vring_get_used(&f.vr, &id, &len));
    assert_int_equal(id, 5);
    assert_int_equal(len, 0);
    fx_end(&f);
}

/* The longest legal direct chain: every descriptor of the queue once. */
/* REQ: REQ-VQ-008 REQ-VQ-027 */
static void test_pop_chain_of_queue_size(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    for (uint16_t i = 0; i < QSIZE; i++) {
        tg_vring_set_desc(&f.vr, i, BUF + 8u * i, 8, (i + 1u < QSIZE) ? SVD_VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1u));
    }
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    assert_int_equal(f.c.ndesc, QSIZE);
    assert_int_equal(f.c.readable_len, 8u * QSIZE);
    fx_end(&f);
}

/* REQ: REQ-VQ-027 */
static void test_pop_truncated_chain(void **state)
{
    fx f;
    svd_vq_desc s[2];
    svd_vq_chain c;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 10, SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_desc(&f.vr, 1, BUF, 20, SVD_VRING_DESC_F_NEXT | SVD_VRING_DESC_F_WRITE, 2);
    tg_vring_set_desc(&f.vr, 2, BUF, 30, SVD_VRING_DESC_F_NEXT | SVD_VRING_DESC_F_WRITE, 3);
    tg_vring_set_desc(&f.vr, 3, BUF, 40, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    svd_vq_chain_init(&c, s, 2);
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c)));
    assert_int_equal(c.ndesc, 4);
    assert_int_equal(c.nsegs, 2);
    assert_true(c.truncated);
    assert_int_equal(c.readable_len, 10);
    assert_int_equal(c.writable_len, 20);
    /* Only what was recorded may be reported written. */
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &c, 21), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &c, 20)));
    fx_end(&f);
}

/* REQ: REQ-VQ-010 REQ-VQ-027 */
static void test_pop_indirect_chain(void **state)
{
    fx f;
    const uint64_t table = BUF + 0x1000u + 8u; /* indirect tables need no alignment */
    uint32_t id;
    uint32_t len;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    tg_vring_set_indirect(&f.vr, table, 0, BUF, 16, SVD_VRING_DESC_F_NEXT, 2);
    tg_vring_set_indirect(&f.vr, table, 2, BUF + 16u, 16, SVD_VRING_DESC_F_NEXT, 1);
    tg_vring_set_indirect(&f.vr, table, 1, BUF + 64u, 64, SVD_VRING_DESC_F_WRITE, 0);
    /* WRITE on the descriptor naming the table is ignored (§2.7.5.3.2). */
    tg_vring_set_desc(&f.vr, 3, table, 48, SVD_VRING_DESC_F_INDIRECT | SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 3);
    pop_ok(&f);
    assert_int_equal(f.c.head, 3);
    assert_int_equal(f.c.ndesc, 3);
    assert_int_equal(f.c.readable_len, 32);
    assert_int_equal(f.c.writable_len, 64);
    assert_int_equal(f.segs[2].addr, BUF + 64u);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 64)));
    assert_true(tg_vring_get_used(&f.vr, &id, &len));
    assert_int_equal(id, 3);
    assert_int_equal(len, 64);
    /* Direct descriptors may precede the indirect one; a table of exactly
     * queue-size entries is accepted. */
    for (uint16_t i = 0; i < QSIZE; i++) {
        tg_vring_set_indirect(&f.vr, table, i, BUF, 4, (i + 1u < QSIZE) ? SVD_VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1u));
    }
    tg_vring_set_desc(&f.vr, 4, BUF, 4, SVD_VRING_DESC_F_NEXT, 6);
    tg_vring_set_desc(&f.vr, 6, table, 16u * QSIZE, SVD_VRING_DESC_F_INDIRECT, 0);
    tg_vring_publish(&f.vr, 4);
    pop_ok(&f);
    assert_int_equal(f.c.ndesc, 1u + QSIZE);
    assert_int_equal(f.c.readable_len, 4u * (1u + QSIZE));
    fx_end(&f);
}

/* Descriptors are copied once: a guest that rewrites a descriptor after the
 * pop cannot change what the device was handed. */
/* REQ: REQ-VQ-016 */
/* FM: FM-VQ-008 */
static void test_pop_copies_descriptors_once(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    tg_vring_set_desc(&f.vr, 0, 0xFFFFFFFFFFFF0000ull, 0xFFFFFFFFu, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_set_avail_slot(&f.vr, 0, 0xFFFFu);
    assert_int_equal(f.segs[0].addr, BUF);
    assert_int_equal(f.segs[0].len, 64);
    assert_int_equal(f.c.head, 0);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 64)));
    fx_end(&f);
}

/* Little-endian descriptor bytes at @p (any alignment), as a driver writes them. */
static void put_desc(uint8_t *p, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    for (unsigned i = 0; i < 8u; i++) {
        p[i] = (uint8_t)(addr >> (8u * i));
    }
    for (unsigned i = 0; i < 4u; i++) {
        p[8u + i] = (uint8_t)(len >> (8u * i));
    }
    p[12] = (uint8_t)flags;
    p[13] = (uint8_t)(flags >> 8);
    p[14] = (uint8_t)next;
    p[15] = (uint8_t)(next >> 8);
}

/* The descriptor table is read with two 64-bit loads when its host address
 * is 8-byte aligned and byte by byte otherwise: the guest address is 16-byte
 * aligned either way, only the host mapping differs. Both paths decode the
 * same chain, and a later rewrite of the table changes nothing popped. */
/* REQ: REQ-VQ-016 REQ-VQ-027 */
static void test_pop_desc_table_host_alignment(void **state)
{
    static const size_t shifts[] = { 0u, 1u, 2u, 4u, 8u, 12u };
    const uint64_t tgpa = RAM_GPA + RAM_SIZE + 0x10000u;
    (void)state;
    for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
        fx f;
        tg_mem t;
        uint8_t *tab;
        fx_start(&f, QSIZE, false, false);
        assert_int_equal(tg_mem_init(&t, tgpa, 4096), 0);
        tab = t.ram + shifts[k];
        svd_vq_disable(&f.q);
        assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, tgpa, 16u * QSIZE, tab, SVD_GMEM_READ)));
        assert_true(svd_is_ok(set_rings(&f.q, tgpa, f.vr.avail, f.vr.used)));
        assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
        assert_int_equal(f.q.desc_aligned, (shifts[k] % 8u) == 0u);
        put_desc(tab + 16u * 3u, BUF + 0x405u, 0x30, SVD_VRING_DESC_F_NEXT, 7);
        put_desc(tab + 16u * 7u, BUF + 0x2000u, 0x1234, SVD_VRING_DESC_F_WRITE, 0xBEEF);
        tg_vring_publish(&f.vr, 3);
        pop_ok(&f);
        put_desc(tab + 16u * 3u, 0xFFFFFFFFFFFF0000ull, 0xFFFFFFFFu, SVD_VRING_DESC_F_WRITE, 0);
        assert_int_equal(f.c.head, 3);
        assert_int_equal(f.c.nsegs, 2);
        assert_int_equal(f.segs[0].addr, BUF + 0x405u);
        assert_int_equal(f.segs[0].len, 0x30);
        assert_int_equal(f.segs[0].flags, 0);
        assert_int_equal(f.segs[1].addr, BUF + 0x2000u);
        assert_int_equal(f.segs[1].len, 0x1234);
        assert_int_equal(f.segs[1].flags, SVD_VRING_DESC_F_WRITE);
        assert_int_equal(f.c.readable_len, 0x30);
        assert_int_equal(f.c.writable_len, 0x1234);
        assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 0x1234)));
        /* A next index past the table is still refused on either path. */
        put_desc(tab + 16u * 5u, BUF, 8, SVD_VRING_DESC_F_NEXT, QSIZE);
        tg_vring_publish(&f.vr, 5);
        expect_pop_protocol(&f, SVD_WHY_NEXT_RANGE);
        assert_true(tg_mem_canaries_intact(&t));
        tg_mem_free(&t);
        fx_end(&f);
    }
}

/* A buffer crossing from one region into an adjacent one is accepted and
 * reported as one segment, without a single host address: a model fills it
 * piece by piece (svd_gmem_translate_prefix, here through tg_gmem_write). */
/* REQ: REQ-VQ-014 */
static void test_pop_region_split_buffer(void **state)
{
    fx f;
    tg_mem hi;
    uint8_t out[16];
    (void)state;
    fx_start(&f, QSIZE, false, false);
    assert_int_equal(tg_mem_init(&hi, RAM_GPA + RAM_SIZE, 4096), 0);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, hi.gpa, hi.size, hi.ram, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    tg_vring_set_desc(&f.vr, 0, RAM_GPA + RAM_SIZE - 8u, 16, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    assert_int_equal(f.c.writable_len, 16);
    assert_null(f.segs[0].host); /* crosses a region edge: no single host address */
    memset(out, 0x3C, sizeof(out));
    assert_true(svd_is_ok(tg_gmem_write(&f.mem.map, f.segs[0].addr, out, f.segs[0].len)));
    assert_true(tg_mem_all(&f.mem, RAM_GPA + RAM_SIZE - 8u, 8, 0x3C));
    assert_true(tg_mem_all(&hi, hi.gpa, 8, 0x3C));
    assert_true(tg_mem_all(&hi, hi.gpa + 8u, 8, 0));
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 16)));
    assert_true(tg_mem_canaries_intact(&hi));
    tg_mem_free(&hi);
    fx_end(&f);
}

/* REQ: REQ-VQ-026.a REQ-VQ-020 */
static void test_set_base(void **state)
{
    fx f;
    uint32_t id;
    uint32_t len;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, 0xFFFFu, 0xFFFFu)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    assert_int_equal(f.q.last_avail_idx, 0xFFFFu);
    f.vr.avail_idx = 0xFFFFu;
    f.vr.last_used = 0xFFFFu;
    tg_vring_set_desc(&f.vr, 6, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_set_desc(&f.vr, 1, BUF + 64u, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 6); /* slot 7, avail idx wraps to 0 */
    tg_vring_publish(&f.vr, 1); /* slot 0 */
    pop_ok(&f);
    assert_int_equal(f.c.head, 6);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 3)));
    assert_int_equal(tg_vring_used_idx(&f.vr), 0);
    pop_ok(&f);
    assert_int_equal(f.c.head, 1);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 4)));
    assert_int_equal(tg_vring_used_idx(&f.vr), 1);
    assert_true(tg_vring_get_used(&f.vr, &id, &len)); /* slot 7 */
    assert_int_equal(id, 6);
    assert_int_equal(len, 3);
    assert_true(tg_vring_get_used(&f.vr, &id, &len)); /* slot 0 */
    assert_int_equal(id, 1);
    assert_int_equal(len, 4);
    assert_int_equal(f.q.last_avail_idx, 1);
    fx_end(&f);
}

/* REQ: REQ-VQ-022 */
static void test_disable_keeps_indices_drops_in_flight(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, true, true);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    pop_ok(&f);
    svd_vq_disable(&f.q);
    assert_false(f.q.enabled);
    assert_int_equal(f.q.size, QSIZE);
    assert_true(f.q.event_idx);
    assert_true(f.q.indirect);
    assert_int_equal(f.q.last_avail_idx, 1);
    assert_int_equal(f.q.inflight, 0);
    assert_int_equal(f.q.epoch, 1);
    assert_int_equal(f.q.inflight_map[0], 0);
    /* Disabled (same map, same generation): nothing touches the rings. */
    {
        bool need = false;
        svd_vq_desc s2[1];
        svd_vq_chain c2;
        svd_vq_chain_init(&c2, s2, 1);
        tg_vring_publish(&f.vr, 0);
        assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &c2), SVD_ERR_STATE));
        assert_true(svd_is_err(svd_vq_need_interrupt(&f.q, &f.mem.map, &need), SVD_ERR_STATE));
        assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
        assert_int_equal(f.q.last_avail_idx, 1);
    }
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    assert_int_equal(tg_vring_used_idx(&f.vr), 0);
    fx_end(&f);
}

/* REQ: REQ-VQ-001 REQ-VQ-003 */
static void test_max_queue_size(void **state)
{
    tg_mem m;
    tg_vring vr;
    svd_vq q;
    svd_vq_desc s[1];
    svd_vq_chain c;
    (void)state;
    assert_int_equal(tg_mem_init(&m, 0, 0x200000), 0);
    (void)tg_vring_init(&vr, &m, 0x8000u, 0);
    assert_true(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(svd_vq_set_size(&q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(set_rings(&q, vr.desc, vr.avail, vr.used)));
    assert_true(svd_is_ok(svd_vq_set_features(&q, true, false)));
    assert_true(svd_is_ok(svd_vq_enable(&q, &m.map)));
    tg_vring_set_desc(&vr, 0x7FFFu, 0x100000u, 8, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&vr, 0x7FFFu);
    svd_vq_chain_init(&c, s, 1);
    assert_true(svd_is_ok(svd_vq_pop(&q, &m.map, &c)));
    assert_int_equal(c.head, 0x7FFFu);
    assert_true(svd_is_ok(svd_vq_push(&q, &m.map, &c, 8)));
    assert_true(tg_mem_canaries_intact(&m));
    tg_mem_free(&m);
}

/* REQ: REQ-VQ-023 */
static void test_event_idx_avail_event_written(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, true, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    /* Empty: the device asks to be kicked at the next add. */
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_EMPTY));
    assert_int_equal(tg_vring_avail_event(&f.vr), 0);
    uint16_t old = f.vr.avail_idx;
    tg_vring_publish(&f.vr, 0);
    assert_true(tg_vring_should_kick(&f.vr, true, old));
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 1)));
    /* A successful pop moves avail_event to the next index too, so a caller
     * that does not pop until empty still gets the next kick. */
    assert_int_equal(tg_vring_avail_event(&f.vr), 1);
    old = f.vr.avail_idx;
    tg_vring_publish(&f.vr, 0);
    assert_true(tg_vring_should_kick(&f.vr, true, old));
    /* Two buffers added before the device pops: one kick for both. */
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 1)));
    assert_int_equal(tg_vring_avail_event(&f.vr), 2);
    old = f.vr.avail_idx;
    tg_vring_set_desc(&f.vr, 1, BUF + 64u, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    assert_true(tg_vring_should_kick(&f.vr, true, old));
    old = f.vr.avail_idx;
    tg_vring_publish(&f.vr, 1);
    assert_false(tg_vring_should_kick(&f.vr, true, old));
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 1)));
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 1)));
    /* Found empty: avail_event is the next index to consume. */
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_EMPTY));
    assert_int_equal(tg_vring_avail_event(&f.vr), 4);
    old = f.vr.avail_idx;
    tg_vring_publish(&f.vr, 0);
    assert_true(tg_vring_should_kick(&f.vr, true, old));
    fx_end(&f);

    /* Without EVENT_IDX the field is not written (it may not even exist). */
    fx_start(&f, QSIZE, false, false);
    tg_mem_fill(&f.mem, f.vr.used + 4u + 8u * QSIZE, 2, 0xEE);
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_EMPTY));
    assert_true(tg_mem_all(&f.mem, f.vr.used + 4u + 8u * QSIZE, 2, 0xEE));
    assert_true(tg_vring_should_kick(&f.vr, false, 0));
    fx_end(&f);
}

/* The race EVENT_IDX must not lose: the driver adds a buffer after the
 * device found the ring empty but before it published avail_event. The
 * test makes that happen deterministically: the used ring sits on a
 * read-only page, the avail_event store faults, the fault handler plays the
 * driver (adds a buffer, and, since it saw the old avail_event, sends no
 * kick), unprotects the page and lets the store retry. The re-check after the
 * fence must find the buffer. Guest memory is mmap'd between PROT_NONE guard
 * pages (hardware canaries). */
static uint8_t *g_used_page;
static size_t g_page;
static tg_vring *g_vr;
static volatile sig_atomic_t g_faults;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    if ((uint8_t *)si->si_addr < g_used_page || (uint8_t *)si->si_addr >= g_used_page + g_page || g_faults > 0) {
        signal(SIGSEGV, SIG_DFL);
        return;
    }
    g_faults++;
    tg_vring_publish(g_vr, 0);
    (void)mprotect(g_used_page, g_page, PROT_READ | PROT_WRITE);
}

/* REQ: REQ-VQ-023 */
static void test_event_idx_recheck_after_publishing_avail_event(void **state)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *area;
    tg_mem m;
    tg_vring vr;
    svd_vq q;
    svd_vq_desc s[1];
    svd_vq_chain c;
    struct sigaction sa;
    struct sigaction old_sa;
    (void)state;

    area = mmap(NULL, 5u * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(area != MAP_FAILED);
    assert_int_equal(mprotect(area + pg, 3u * pg, PROT_READ | PROT_WRITE), 0);
    memset(&m, 0, sizeof(m));
    m.ram = area + pg;
    m.gpa = 0x1000000u;
    m.size = 3u * pg;
    svd_gmem_init(&m.map);
    assert_true(svd_is_ok(svd_gmem_add(&m.map, m.gpa, m.size, m.ram, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    /* desc + avail on page 0, used ring on page 1, buffers on page 2. */
    memset(&vr, 0, sizeof(vr));
    vr.mem = &m;
    vr.size = QSIZE;
    vr.desc = m.gpa;
    vr.avail = m.gpa + 16u * QSIZE;
    vr.used = m.gpa + pg;
    tg_vring_set_desc(&vr, 0, m.gpa + 2u * pg, 64, SVD_VRING_DESC_F_WRITE, 0);

    assert_true(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(svd_vq_set_size(&q, QSIZE)));
    assert_true(svd_is_ok(set_rings(&q, vr.desc, vr.avail, vr.used)));
    assert_true(svd_is_ok(svd_vq_set_features(&q, true, false)));
    assert_true(svd_is_ok(svd_vq_enable(&q, &m.map)));
    svd_vq_chain_init(&c, s, 1);

    g_used_page = area + 2u * pg;
    g_page = pg;
    g_vr = &vr;
    g_faults = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGSEGV, &sa, &old_sa), 0);
    assert_int_equal(mprotect(g_used_page, pg, PROT_READ), 0);

    assert_true(svd_is_ok(svd_vq_pop(&q, &m.map, &c)));

    assert_int_equal(sigaction(SIGSEGV, &old_sa, NULL), 0);
    assert_int_equal(g_faults, 1);
    assert_int_equal(c.head, 0);
    /* The driver added with avail_event still unset (it would not have
     * kicked); the device found the buffer anyway and moved avail_event on. */
    assert_int_equal(tg_vring_avail_event(&vr), 1);
    assert_true(svd_is_ok(svd_vq_push(&q, &m.map, &c, 64)));
    assert_int_equal(tg_vring_used_idx(&vr), 1);
    assert_int_equal(munmap(area, 5u * pg), 0);
}

/* Complete @n requests on head 0. */
static void complete_n(fx *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        tg_vring_publish(&f->vr, 0);
        pop_ok(f);
        assert_true(svd_is_ok(svd_vq_push(&f->q, &f->mem.map, &f->c, 0)));
    }
}

static bool need_irq(fx *f)
{
    bool need = false;
    assert_true(svd_is_ok(svd_vq_need_interrupt(&f->q, &f->mem.map, &need)));
    return need;
}

/* REQ: REQ-VQ-024 */
static void test_event_idx_used_event_honoured(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, true, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    /* Nothing pushed: no interrupt whatever used_event says. */
    tg_vring_set_used_event(&f.vr, 0);
    assert_false(need_irq(&f));
    /* used_event 0: interrupt on the first completion (used idx 0 -> 1). */
    complete_n(&f, 1);
    assert_true(need_irq(&f));
    /* used_event 3 (driver wants to hear when entry 3 is used): 1 -> 3 no, 3 -> 4 yes. */
    tg_vring_set_used_event(&f.vr, 3);
    complete_n(&f, 2);
    assert_false(need_irq(&f));
    complete_n(&f, 1);
    assert_true(need_irq(&f));
    /* used_event already passed (driver is behind): no interrupt. */
    tg_vring_set_used_event(&f.vr, 2);
    complete_n(&f, 1);
    assert_false(need_irq(&f));
    /* Several completions at once covering used_event: one interrupt. */
    tg_vring_set_used_event(&f.vr, 6);
    complete_n(&f, 3); /* 5 -> 8 covers 6 */
    assert_true(need_irq(&f));
    assert_false(need_irq(&f)); /* nothing new since */
    /* The NO_INTERRUPT flag is ignored under EVENT_IDX. */
    tg_vring_set_avail_flags(&f.vr, SVD_VRING_AVAIL_F_NO_INTERRUPT);
    tg_vring_set_used_event(&f.vr, 8);
    complete_n(&f, 1);
    assert_true(need_irq(&f));
    fx_end(&f);
}

/* REQ: REQ-VQ-024 REQ-VQ-026.a */
static void test_event_idx_used_event_wraps(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, true, false);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, 0xFFFDu, 0xFFFDu)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    f.vr.avail_idx = 0xFFFDu;
    f.vr.last_used = 0xFFFDu;
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    /* used_event 0xFFFF: 0xFFFD -> 0x0001 crosses it, across the wrap. */
    tg_vring_set_used_event(&f.vr, 0xFFFFu);
    complete_n(&f, 4);
    assert_int_equal(f.q.used_idx, 1);
    assert_true(need_irq(&f));
    /* used_event 0x0001 with used 1 -> 2: yes; used_event 0xFFF0 far behind: no. */
    tg_vring_set_used_event(&f.vr, 1);
    complete_n(&f, 1);
    assert_true(need_irq(&f));
    tg_vring_set_used_event(&f.vr, 0xFFF0u);
    complete_n(&f, 1);
    assert_false(need_irq(&f));
    fx_end(&f);
}

/* 2^16 completions without a decision make used_event comparisons alias;
 * the engine must interrupt then rather than guess. */
/* REQ: REQ-VQ-024 */
static void test_event_idx_interrupts_after_index_wrap_without_decision(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, true, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_set_used_event(&f.vr, 0x8000u);
    complete_n(&f, 0x10000u);
    assert_int_equal(f.q.used_idx, 0);
    assert_false(f.q.signalled_valid);
    /* vring_need_event(0x8000, 0, 0) alone would say no. */
    assert_true(need_irq(&f));
    assert_true(f.q.signalled_valid);
    fx_end(&f);
}

/* REQ: REQ-VQ-025 */
static void test_no_interrupt_flag(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    assert_false(need_irq(&f)); /* nothing pushed */
    complete_n(&f, 1);
    assert_true(need_irq(&f));
    assert_false(need_irq(&f)); /* nothing new */
    tg_vring_set_avail_flags(&f.vr, SVD_VRING_AVAIL_F_NO_INTERRUPT);
    complete_n(&f, 2);
    assert_false(need_irq(&f));
    tg_vring_set_avail_flags(&f.vr, 0);
    assert_false(need_irq(&f)); /* those were already decided */
    complete_n(&f, 1);
    assert_true(need_irq(&f));
    /* used_event is ignored without EVENT_IDX. */
    tg_vring_set_used_event(&f.vr, 0x1234u);
    complete_n(&f, 1);
    assert_true(need_irq(&f));
    /* 2^16 completions since the last decision are still completions. */
    complete_n(&f, 0x10000u);
    assert_true(need_irq(&f));
    fx_end(&f);
}

/* REQ: REQ-VQ-001 */
static void test_attack_init_with_bad_maximum(void **state)
{
    static const uint32_t bad[] = { 0u, 3u, 48u, SVD_VQ_MAX_SIZE + 1u, 2u * SVD_VQ_MAX_SIZE, 0xFFFFFFFFu };
    svd_vq q;
    svd_vq before;
    (void)state;
    assert_true(svd_is_err(svd_vq_init(NULL, 8u), SVD_ERR_INVALID_ARG));
    memset(&q, 0x5A, sizeof(q));
    memcpy(&before, &q, sizeof(before));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(svd_is_err(svd_vq_init(&q, bad[i]), SVD_ERR_INVALID_ARG));
        assert_memory_equal(&q, &before, sizeof(q)); /* untouched */
    }
    assert_true(svd_is_ok(svd_vq_init(&q, 1u)));
    assert_int_equal(svd_vq_max(&q), 1u);
    assert_int_equal(svd_vq_size(&q), 1u);
    assert_false(svd_vq_enabled(&q));
    assert_int_equal(q.epoch, 0u);
    assert_true(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
    assert_int_equal(svd_vq_max(&q), SVD_VQ_MAX_SIZE);
    assert_int_equal(svd_vq_size(&q), SVD_VQ_MAX_SIZE);
}

/* The queue's own maximum bounds the size, not only SVD_VQ_MAX_SIZE. */
/* REQ: REQ-VQ-001 REQ-VQ-030 */
static void test_attack_queue_size_above_the_queues_maximum(void **state)
{
    svd_vq q;
    svd_vq before;
    (void)state;
    assert_true(svd_is_ok(svd_vq_init(&q, 16u)));
    memcpy(&before, &q, sizeof(before));
    const svd_result r = svd_vq_set_size(&q, 32u);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_QUEUE_SIZE);
    before.broken = true;
    assert_memory_equal(&q, &before, sizeof(q)); /* not stored, latched broken */
    svd_vq_reset(&q);
    assert_false(q.broken);
    assert_true(svd_is_ok(svd_vq_set_size(&q, 16u)));
    assert_true(svd_is_ok(svd_vq_set_size(&q, 2u)));
    assert_int_equal(svd_vq_size(&q), 2u);
    svd_vq_reset(&q);
    assert_int_equal(svd_vq_size(&q), 16u); /* preset to the maximum again */
}

/* virtio-mmio and virtio-pci write ring addresses as 32-bit halves; each
 * half replaces its own bits and keeps the other half. */
/* REQ: REQ-VQ-026.c */
static void test_ring_addresses_set_by_halves(void **state)
{
    static const svd_vq_ring rings[] = { SVD_VQ_RING_DESC, SVD_VQ_RING_AVAIL, SVD_VQ_RING_USED };
    svd_vq q;
    (void)state;
    assert_true(svd_is_ok(svd_vq_init(&q, 8u)));
    for (size_t i = 0; i < 3u; i++) {
        const svd_vq_ring r = rings[i];
        const uint32_t tag = (uint32_t)(i + 1u);
        assert_true(svd_is_ok(svd_vq_set_addr(&q, r, 0x1111111122222222ull * tag)));
        assert_int_equal(svd_vq_addr(&q, r), 0x1111111122222222ull * tag);
        assert_true(svd_is_ok(svd_vq_set_addr_half(&q, r, false, 0xA0000000u + tag)));
        assert_int_equal(svd_vq_addr(&q, r), ((0x1111111122222222ull * tag) & 0xFFFFFFFF00000000ull) | (0xA0000000u + tag));
        assert_true(svd_is_ok(svd_vq_set_addr_half(&q, r, true, 0xB0u + tag)));
        assert_int_equal(svd_vq_addr(&q, r), ((uint64_t)(0xB0u + tag) << 32) | (0xA0000000u + tag));
    }
    /* The three rings are independent. */
    assert_int_equal(svd_vq_addr(&q, SVD_VQ_RING_DESC), 0x000000B1A0000001ull);
    assert_int_equal(svd_vq_addr(&q, SVD_VQ_RING_AVAIL), 0x000000B2A0000002ull);
    assert_int_equal(svd_vq_addr(&q, SVD_VQ_RING_USED), 0x000000B3A0000003ull);
    /* A ring that does not exist: refused, nothing changes, reads 0. */
    {
        svd_vq before;
        const svd_vq_ring bogus = (svd_vq_ring)7;
        memcpy(&before, &q, sizeof(before));
        assert_true(svd_is_err(svd_vq_set_addr(&q, bogus, 0x1000u), SVD_ERR_INVALID_ARG));
        assert_true(svd_is_err(svd_vq_set_addr_half(&q, bogus, true, 1u), SVD_ERR_INVALID_ARG));
        assert_int_equal(svd_vq_addr(&q, bogus), 0u);
        assert_memory_equal(&q, &before, sizeof(q));
    }
}

/* A setter on an enabled queue: a protocol error naming the rule, the
 * queue not latched broken (the device engine decides about the latch). */
static void expect_rule(svd_result r)
{
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_QUEUE_ENABLED);
}

/* An enabled queue's configuration is frozen: each setter is refused as
 * the guest's protocol error, a second enable as a state error, and the
 * queue is left exactly as it was (not broken: it keeps serving). */
/* REQ: REQ-VQ-026.b */
static void test_setters_refused_while_enabled(void **state)
{
    fx f;
    svd_vq before;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    assert_true(svd_vq_enabled(&f.q));
    memcpy(&before, &f.q, sizeof(before));
    expect_rule(svd_vq_set_size(&f.q, QSIZE / 2u));
    expect_rule(svd_vq_set_addr(&f.q, SVD_VQ_RING_DESC, RAM_GPA + 0x1000u));
    expect_rule(svd_vq_set_addr(&f.q, SVD_VQ_RING_AVAIL, RAM_GPA + 0x1000u));
    expect_rule(svd_vq_set_addr(&f.q, SVD_VQ_RING_USED, RAM_GPA + 0x1000u));
    expect_rule(svd_vq_set_addr_half(&f.q, SVD_VQ_RING_DESC, false, 0x1000u));
    expect_rule(svd_vq_set_addr_half(&f.q, SVD_VQ_RING_USED, true, 1u));
    expect_rule(svd_vq_set_features(&f.q, true, true));
    expect_rule(svd_vq_set_base(&f.q, 7u, 7u));
    assert_true(svd_is_err(svd_vq_enable(&f.q, &f.mem.map), SVD_ERR_STATE));
    assert_memory_equal(&f.q, &before, sizeof(before));
    assert_true(svd_vq_enabled(&f.q));
    /* Disabled again, the same calls are accepted. */
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, 7u, 7u)));
    assert_true(svd_is_ok(svd_vq_set_features(&f.q, true, false)));
    assert_true(svd_is_ok(svd_vq_set_size(&f.q, QSIZE / 2u)));
    fx_end(&f);
}

/* Where a restart resumes (vhost-user GET_VRING_BASE): requests still in
 * flight are handed back, so the next start serves them again instead of
 * losing the guest's buffers. */
/* REQ: REQ-VQ-026.d REQ-VQ-022 */
static void test_base_hands_back_requests_in_flight(void **state)
{
    fx f;
    svd_vq_desc s2[1];
    svd_vq_desc s3[1];
    svd_vq_chain c2;
    svd_vq_chain c3;
    uint16_t next_avail = 0xAAAAu;
    uint16_t next_used = 0xAAAAu;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    svd_vq_base(&f.q, &next_avail, &next_used);
    assert_int_equal(next_avail, 0u);
    assert_int_equal(next_used, 0u);
    for (uint16_t i = 0; i < 3u; i++) {
        tg_vring_set_desc(&f.vr, i, BUF + 64u * i, 64, SVD_VRING_DESC_F_WRITE, 0);
        tg_vring_publish(&f.vr, i);
    }
    svd_vq_chain_init(&c2, s2, 1);
    svd_vq_chain_init(&c3, s3, 1);
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c2)));
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c3)));
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 1)));
    /* Three popped, one completed: resume at the second. */
    svd_vq_base(&f.q, &next_avail, &next_used);
    assert_int_equal(next_avail, 1u);
    assert_int_equal(next_used, 1u);
    /* The restart re-serves heads 1 and 2. */
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, next_avail, next_used)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    pop_ok(&f);
    assert_int_equal(f.c.head, 1u);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 2)));
    pop_ok(&f);
    assert_int_equal(f.c.head, 2u);
    assert_true(svd_is_ok(svd_vq_push(&f.q, &f.mem.map, &f.c, 3)));
    svd_vq_base(&f.q, &next_avail, &next_used);
    assert_int_equal(next_avail, 3u);
    assert_int_equal(next_used, 3u);
    fx_end(&f);

    /* Across the 16-bit wrap of the indices. */
    fx_start(&f, QSIZE, false, false);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, 0xFFFFu, 0xFFFEu)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    f.vr.avail_idx = 0xFFFFu;
    tg_vring_set_desc(&f.vr, 0, BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_set_desc(&f.vr, 1, BUF + 64u, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&f.vr, 0);
    tg_vring_publish(&f.vr, 1);
    svd_vq_chain_init(&c2, s2, 1);
    pop_ok(&f);
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c2)));
    assert_int_equal(f.q.last_avail_idx, 1u);
    svd_vq_base(&f.q, &next_avail, &next_used);
    assert_int_equal(next_avail, 0xFFFFu);
    assert_int_equal(next_used, 0xFFFEu);
    fx_end(&f);
}

/* The ring rules on a configuration that is not a queue's (vhost-user
 * validates a ring before it starts it): each verdict is the one enable
 * gives a queue so configured, and nothing changes. */
/* REQ: REQ-VQ-031 */
static void test_check_rings_gives_the_enable_verdict_without_a_queue(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, true, false);
    const svd_gmem *m = &f.mem.map;
    const uint64_t d = f.vr.desc;
    const uint64_t a = f.vr.avail;
    const uint64_t u = f.vr.used;
    const svd_vq before = f.q;
    assert_true(svd_is_ok(svd_vq_check_rings(QSIZE, QSIZE, d, a, u, true, m)));
    assert_true(svd_is_ok(svd_vq_check_rings(SVD_VQ_MAX_SIZE, QSIZE, d, a, u, false, m)));
    assert_true(svd_is_err(svd_vq_check_rings(QSIZE, QSIZE, d, a, u, true, NULL), SVD_ERR_INVALID_ARG));
    static const struct {
        uint32_t max, size;
        uint64_t d_off, a_off, u_off;
        svd_why why;
    } bad[] = {
        { QSIZE, 0u, 0u, 0u, 0u, SVD_WHY_QUEUE_SIZE },                   /* size 0 */
        { QSIZE, 2u * QSIZE, 0u, 0u, 0u, SVD_WHY_QUEUE_SIZE },           /* above the maximum */
        { 2u * SVD_VQ_MAX_SIZE, QSIZE, 0u, 0u, 0u, SVD_WHY_QUEUE_SIZE }, /* maximum above the limit */
        { QSIZE, 6u, 0u, 0u, 0u, SVD_WHY_QUEUE_SIZE },                   /* not a power of two */
        { QSIZE, QSIZE, 8u, 0u, 0u, SVD_WHY_RING_ALIGN },
        { QSIZE, QSIZE, 0u, 1u, 0u, SVD_WHY_RING_ALIGN },
        { QSIZE, QSIZE, 0u, 0u, 2u, SVD_WHY_RING_ALIGN },
        { QSIZE, QSIZE, 0u, 0u, RAM_SIZE, SVD_WHY_RING_MEMORY },         /* used ring past the end of RAM */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const svd_result r =
            svd_vq_check_rings(bad[i].max, bad[i].size, d + bad[i].d_off, a + bad[i].a_off, u + bad[i].u_off, true, m);
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_string_equal(svd_why_name(r.why), svd_why_name(bad[i].why));
        /* A queue configured the same way is refused for the same rule
         * (by the size write or by enable), unless its maximum cannot exist. */
        if (bad[i].max <= SVD_VQ_MAX_SIZE) {
            svd_vq q;
            assert_true(svd_is_ok(svd_vq_init(&q, bad[i].max)));
            svd_result e = svd_vq_set_size(&q, bad[i].size);
            if (svd_is_ok(e)) {
                assert_true(svd_is_ok(set_rings(&q, d + bad[i].d_off, a + bad[i].a_off, u + bad[i].u_off)));
                assert_true(svd_is_ok(svd_vq_set_features(&q, true, false)));
                e = svd_vq_enable(&q, m);
            }
            assert_true(svd_is_err(e, SVD_ERR_PROTOCOL));
            assert_int_equal(e.why, r.why);
        }
    }
    /* The queue the rings belong to was not touched. */
    assert_memory_equal(&f.q, &before, sizeof(before));
    fx_end(&f);
}

/* The ring features are recorded as set, and dropped by a reset. */
/* REQ: REQ-VQ-023 REQ-VQ-009 */
static void test_ring_features_read_back(void **state)
{
    svd_vq q;
    (void)state;
    assert_true(svd_is_ok(svd_vq_init(&q, 8u)));
    assert_false(q.event_idx);
    assert_false(q.indirect);
    assert_true(svd_is_ok(svd_vq_set_features(&q, true, false)));
    assert_true(q.event_idx);
    assert_false(q.indirect);
    assert_true(svd_is_ok(svd_vq_set_features(&q, false, true)));
    assert_false(q.event_idx);
    assert_true(q.indirect);
    svd_vq_reset(&q);
    assert_false(q.indirect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attack_descriptor_loop),
        cmocka_unit_test(test_attack_self_referential_descriptor_rust_vmm_236),
        cmocka_unit_test(test_attack_next_out_of_range),
        cmocka_unit_test(test_attack_head_out_of_range_cve_2011_2512),
        cmocka_unit_test(test_attack_avail_idx_jump_rust_vmm_196),
        cmocka_unit_test(test_attack_chain_longer_than_queue_size),
        cmocka_unit_test(test_attack_total_length_over_4g),
        cmocka_unit_test(test_attack_indirect_not_negotiated),
        cmocka_unit_test(test_attack_nested_indirect),
        cmocka_unit_test(test_attack_indirect_len_not_multiple_of_16),
        cmocka_unit_test(test_attack_indirect_len_zero),
        cmocka_unit_test(test_attack_indirect_with_next),
        cmocka_unit_test(test_attack_indirect_table_outside_memory),
        cmocka_unit_test(test_attack_indirect_next_out_of_range),
        cmocka_unit_test(test_attack_indirect_loop),
        cmocka_unit_test(test_attack_descriptor_outside_memory),
        cmocka_unit_test(test_attack_descriptor_address_wraps_2_64),
        cmocka_unit_test(test_attack_writable_buffer_in_read_only_region),
        cmocka_unit_test(test_attack_readable_after_writable),
        cmocka_unit_test(test_attack_rings_unaligned),
        cmocka_unit_test(test_attack_rings_outside_memory),
        cmocka_unit_test(test_attack_used_ring_in_read_only_region),
        cmocka_unit_test(test_attack_ring_host_address_misaligned),
        cmocka_unit_test(test_attack_queue_size_zero),
        cmocka_unit_test(test_attack_queue_size_not_power_of_two),
        cmocka_unit_test(test_queue_sizes_are_the_sixteen_powers_of_two),
        cmocka_unit_test(test_attack_corrupted_size_still_refused_at_enable),
        cmocka_unit_test(test_attack_more_in_flight_than_queue_size_cve_2016_5403),
        cmocka_unit_test(test_attack_head_resubmitted_while_in_flight),
        cmocka_unit_test(test_attack_huge_length_cve_2016_7422),
        cmocka_unit_test(test_attack_push_twice),
        cmocka_unit_test(test_attack_push_never_popped_chain),
        cmocka_unit_test(test_attack_push_after_reset),
        cmocka_unit_test(test_attack_reset_mid_request),
        cmocka_unit_test(test_attack_memory_map_changed_after_enable),
        cmocka_unit_test(test_attack_calls_on_disabled_or_busy_queue),
        cmocka_unit_test(test_attack_init_with_bad_maximum),
        cmocka_unit_test(test_attack_queue_size_above_the_queues_maximum),
        cmocka_unit_test(test_pop_push_direct_chain),
        cmocka_unit_test(test_pop_chain_of_queue_size),
        cmocka_unit_test(test_pop_truncated_chain),
        cmocka_unit_test(test_pop_indirect_chain),
        cmocka_unit_test(test_pop_copies_descriptors_once),
        cmocka_unit_test(test_pop_desc_table_host_alignment),
        cmocka_unit_test(test_pop_region_split_buffer),
        cmocka_unit_test(test_set_base),
        cmocka_unit_test(test_disable_keeps_indices_drops_in_flight),
        cmocka_unit_test(test_max_queue_size),
        cmocka_unit_test(test_event_idx_avail_event_written),
        cmocka_unit_test(test_event_idx_recheck_after_publishing_avail_event),
        cmocka_unit_test(test_event_idx_used_event_honoured),
        cmocka_unit_test(test_event_idx_used_event_wraps),
        cmocka_unit_test(test_event_idx_interrupts_after_index_wrap_without_decision),
        cmocka_unit_test(test_no_interrupt_flag),
        cmocka_unit_test(test_ring_addresses_set_by_halves),
        cmocka_unit_test(test_base_hands_back_requests_in_flight),
        cmocka_unit_test(test_setters_refused_while_enabled),
        cmocka_unit_test(test_check_rings_gives_the_enable_verdict_without_a_queue),
        cmocka_unit_test(test_ring_features_read_back),
    };
    return cmocka_run_group_tests_name("virtqueue", tests, NULL, NULL);
}
