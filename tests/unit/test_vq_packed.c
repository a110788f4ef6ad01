/* Unit tests of the packed virtqueue engine (src/core/vq_packed.c, through
 * the queue's public calls).
 *
 * The first half is a list of attacks, one named test each: a hostile driver
 * (tg_pring raw writes) breaks one rule, and the test checks the outcome,
 * that nothing else of the queue changed, and that no byte outside guest RAM
 * was touched (canaries). The second half covers the normal paths: direct,
 * chained and indirect buffers, many laps of the ring, out-of-order
 * completion, event suppression both ways, the SET/GET_VRING_BASE encoding. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "core_priv.h"
#include "safevdev/virtqueue.h"
#include "tg_mem.h"
#include "tg_pring.h"

#define RAM_GPA 0x10000u
#define RAM_SIZE 0x100000u
#define BUF (RAM_GPA + 0x80000u) /* data buffers live here, far from the rings */
#define TABLE (RAM_GPA + 0x40000u) /* indirect tables */
#define NSEGS 16u
#define QSIZE 8u
#define W SVD_VQ_WRAP_BIT
#define F_AVAIL SVD_VRING_PACKED_DESC_F_AVAIL
#define F_USED SVD_VRING_PACKED_DESC_F_USED
#define F_NEXT SVD_VRING_DESC_F_NEXT
#define F_WRITE SVD_VRING_DESC_F_WRITE
#define F_INDIRECT SVD_VRING_DESC_F_INDIRECT

typedef struct fx {
    tg_mem mem;
    tg_pring pr;
    svd_vq q;
    svd_vq_desc segs[NSEGS];
    svd_vq_chain c;
} fx;

static void fx_start(fx *f, uint16_t size, bool event_idx, bool indirect)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(tg_mem_init(&f->mem, RAM_GPA, RAM_SIZE), 0);
    (void)tg_pring_init(&f->pr, &f->mem, size, RAM_GPA);
    assert_true(svd_is_ok(svd_vq_init(&f->q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(tg_pring_attach(&f->pr, &f->q)));
    assert_true(svd_is_ok(svd_vq_set_features(&f->q, event_idx, indirect)));
    assert_true(svd_is_ok(svd_vq_enable(&f->q, &f->mem.map)));
    svd_vq_chain_init(&f->c, f->segs, NSEGS);
}

static void fx_end(fx *f)
{
    assert_true(tg_mem_canaries_intact(&f->mem));
    tg_mem_free(&f->mem);
}

static void pop_ok(fx *f)
{
    assert_true(svd_is_ok(svd_vq_pop(&f->q, &f->mem.map, &f->c)));
}

static void push_ok(fx *f, svd_vq_chain *c, uint32_t written)
{
    assert_true(svd_is_ok(svd_vq_push(&f->q, &f->mem.map, c, written)));
}

static void pop_empty(fx *f)
{
    assert_true(svd_is_err(svd_vq_pop(&f->q, &f->mem.map, &f->c), SVD_ERR_EMPTY));
}

/* One buffer of @len bytes at @addr, device-writable if @write. */
static void add1(fx *f, uint64_t addr, uint32_t len, bool write, uint16_t id)
{
    const tg_pbuf b = { addr, len, write };
    tg_pring_add(&f->pr, &b, 1u, id);
}

/* Pop must fail with PROTOCOL naming @why, latch broken, and change nothing
 * else: not the queue, not the chain, not the ring, not the device's event
 * structure. Later calls are refused until reset. */
static void expect_pop_protocol(fx *f, svd_why why)
{
    svd_vq before_q;
    svd_vq_chain before_c;
    uint8_t ring_before[16u * 64u + 8u];
    const size_t ring_len = 16u * (size_t)f->pr.size + 8u;

    assert_true(ring_len <= sizeof(ring_before));
    memcpy(ring_before, tg_mem_ptr(&f->mem, f->pr.desc), ring_len);
    memcpy(&before_q, &f->q, sizeof(before_q));
    memcpy(&before_c, &f->c, sizeof(before_c));
    const svd_result r = svd_vq_pop(&f->q, &f->mem.map, &f->c);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_string_equal(svd_why_name(r.why), svd_why_name(why));
    before_q.broken = true;
    assert_memory_equal(&f->q, &before_q, sizeof(before_q));
    assert_memory_equal(&f->c, &before_c, sizeof(before_c));
    assert_memory_equal(tg_mem_ptr(&f->mem, f->pr.desc), ring_before, ring_len);
    assert_true(svd_is_err(svd_vq_pop(&f->q, &f->mem.map, &f->c), SVD_ERR_STATE));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* ------------------------------------------------------------------ attacks */

/* Wrap counter confusion at the head: a head marked available for the other
 * lap, or marked used, is not available (nothing consumed, no error, as the
 * spec's zero-initialised ring demands); the device only reads its slot. */
/* REQ: REQ-VQ-102.a REQ-VQ-030 */
static void test_attack_wrap_counter_confusion_at_head(void **state)
{
    static const uint16_t bad[] = { 0u, F_USED, F_AVAIL | F_USED };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        tg_pring_set_desc(&f.pr, 0, BUF, 64, 0, (uint16_t)(bad[i] | F_WRITE));
        pop_empty(&f);
        assert_int_equal(f.q.last_avail_idx, W);
        assert_int_equal(f.q.inflight, 0);
        assert_false(f.q.broken);
        /* Marked right, the same slot is served. */
        tg_pring_set_desc(&f.pr, 0, BUF, 64, 0, (uint16_t)(F_AVAIL | F_WRITE));
        pop_ok(&f);
        assert_int_equal(f.c.head, 0);
        fx_end(&f);
    }
}

/* Wrap counter confusion inside a chain: the head is available, a later
 * descriptor carries the flags of another lap (or of a used descriptor). */
/* REQ: REQ-VQ-102.b REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-010 */
static void test_attack_wrap_counter_confusion_in_chain(void **state)
{
    static const uint16_t bad[] = { 0u, F_USED, F_AVAIL | F_USED };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        tg_pring_set_desc(&f.pr, 1, BUF + 64u, 64, 0, (uint16_t)(bad[i] | F_WRITE));
        tg_pring_set_desc(&f.pr, 0, BUF, 64, 0, (uint16_t)(F_AVAIL | F_NEXT));
        expect_pop_protocol(&f, SVD_WHY_DESC_WRAP);
        fx_end(&f);
    }
    /* Across the end of the ring: the descriptor after the last slot belongs
     * to the next lap (AVAIL 0, USED 1); one marked for the current lap is
     * confusion. */
    fx f;
    fx_start(&f, QSIZE, false, false);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, (uint16_t)(W | 7u), (uint16_t)(W | 7u))));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    tg_pring_set_desc(&f.pr, 0, BUF + 64u, 64, 5, (uint16_t)(F_AVAIL | F_WRITE));
    tg_pring_set_desc(&f.pr, 7, BUF, 64, 0, (uint16_t)(F_AVAIL | F_NEXT));
    expect_pop_protocol(&f, SVD_WHY_DESC_WRAP);
    svd_vq_reset(&f.q);
    assert_true(svd_is_ok(tg_pring_attach(&f.pr, &f.q)));
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, (uint16_t)(W | 7u), (uint16_t)(W | 7u))));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    tg_pring_set_desc(&f.pr, 0, BUF + 64u, 64, 5, (uint16_t)(F_USED | F_WRITE));
    pop_ok(&f);
    assert_int_equal(f.c.head, 5);
    assert_int_equal(f.c.slots, 2);
    assert_int_equal(f.q.last_avail_idx, 1u); /* position 1, wrap counter 0 */
    fx_end(&f);
}

/* A buffer id made available while it is still in flight (the driver marked
 * it available twice): more requests than the ring holds, QEMU CVE-2016-5403
 * class. */
/* REQ: REQ-VQ-103 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-011 */
static void test_attack_buffer_made_available_twice(void **state)
{
    fx f;
    svd_vq_desc segs2[NSEGS];
    svd_vq_chain c2;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    add1(&f, BUF, 64, true, 3);
    pop_ok(&f);
    add1(&f, BUF + 64u, 64, true, 3);
    svd_vq_chain_init(&c2, segs2, NSEGS);
    svd_vq_chain saved = f.c;
    f.c = c2;
    expect_pop_protocol(&f, SVD_WHY_HEAD_INFLIGHT);
    f.c = saved;
    /* Latched: the first chain cannot be completed either. */
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    fx_end(&f);
}

/* The device side of "an id never made available": a completion for a
 * buffer id that is not in flight (a forged or replayed token, or one from
 * before a disable) is refused and writes nothing. */
/* REQ: REQ-VQ-019 REQ-VQ-104 */
/* FM: FM-VQ-015 */
static void test_attack_push_of_an_id_never_made_available(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    add1(&f, BUF, 64, true, 2);
    pop_ok(&f);
    svd_vq_chain forged = f.c;
    forged.head = 5; /* never made available */
    const uint16_t flags0 = tg_pring_flags(&f.pr, 0);
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &forged, 0), SVD_ERR_STATE));
    forged.head = QSIZE; /* out of range */
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &forged, 0), SVD_ERR_STATE));
    assert_int_equal(tg_pring_flags(&f.pr, 0), flags0);
    svd_vq_chain replay = f.c;
    push_ok(&f, &f.c, 8);
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &replay, 8), SVD_ERR_STATE));
    assert_int_equal(f.q.used_idx, (uint16_t)(W | 1u));
    /* A token popped before a disable is dead after it. */
    add1(&f, BUF, 64, true, 4);
    pop_ok(&f);
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    fx_end(&f);
}

/* A buffer id not below the queue size, in a single descriptor and in the
 * last descriptor of a chain (where the id lives). */
/* REQ: REQ-VQ-104 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-012 */
static void test_attack_buffer_id_out_of_range(void **state)
{
    static const uint16_t ids[] = { QSIZE, 0x7FFFu, 0xFFFFu };
    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        add1(&f, BUF, 64, true, ids[i]);
        expect_pop_protocol(&f, SVD_WHY_BUFFER_ID);
        fx_end(&f);
    }
    fx f;
    fx_start(&f, QSIZE, false, false);
    const tg_pbuf b[2] = { { BUF, 16, false }, { BUF + 16u, 16, true } };
    tg_pring_add(&f.pr, b, 2, QSIZE);
    expect_pop_protocol(&f, SVD_WHY_BUFFER_ID);
    fx_end(&f);
}

/* A chain longer than the ring: every descriptor available with NEXT, so
 * the walk would come back to the head; and an indirect table with more
 * entries than the queue size. */
/* REQ: REQ-VQ-105 REQ-VQ-010 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-013 */
static void test_attack_chain_longer_than_ring(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    for (uint16_t i = 0; i < QSIZE; i++) {
        tg_pring_set_desc(&f.pr, i, BUF + 16u * i, 16, 0, (uint16_t)(F_AVAIL | F_NEXT | F_WRITE));
    }
    expect_pop_protocol(&f, SVD_WHY_CHAIN_LOOP);
    fx_end(&f);

    /* Exactly the ring is fine. */
    fx_start(&f, QSIZE, false, false);
    tg_pbuf b[QSIZE];
    for (uint16_t i = 0; i < QSIZE; i++) {
        b[i] = (tg_pbuf){ BUF + 16u * i, 16, true };
    }
    tg_pring_add(&f.pr, b, QSIZE, 1);
    pop_ok(&f);
    assert_int_equal(f.c.ndesc, QSIZE);
    assert_int_equal(f.c.slots, QSIZE);
    assert_int_equal(f.q.last_avail_idx, 0u); /* a full lap: wrap counter 0 */
    push_ok(&f, &f.c, 16);
    assert_int_equal(f.q.used_idx, 0u);
    uint16_t id;
    uint32_t len;
    uint16_t fl;
    assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_int_equal(id, 1);
    assert_int_equal(f.pr.used, 0u);
    fx_end(&f);

    fx_start(&f, QSIZE, false, true);
    tg_pring_set_desc(&f.pr, 0, TABLE, 16u * (QSIZE + 1u), 0, (uint16_t)(F_AVAIL | F_INDIRECT));
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_LEN);
    fx_end(&f);
}

/* A chain that reaches ring descriptors still held by a request in flight:
 * the driver rewrote slots the device has not given back. */
/* REQ: REQ-VQ-105 REQ-VQ-017 REQ-VQ-030 */
/* FM: FM-VQ-013 */
static void test_attack_chain_reaches_descriptors_in_flight(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    const tg_pbuf two[2] = { { BUF, 16, false }, { BUF + 16u, 16, true } };
    tg_pring_add(&f.pr, two, 2, 0); /* slots 0, 1 in flight */
    pop_ok(&f);
    svd_vq_chain first = f.c;
    tg_pbuf b[7];
    for (uint16_t i = 0; i < 7u; i++) {
        b[i] = (tg_pbuf){ BUF + 64u + 16u * i, 16, true };
    }
    tg_pring_add(&f.pr, b, 7, 1); /* slots 2..7 and 0 of the next lap */
    svd_vq_chain_init(&f.c, f.segs, NSEGS);
    expect_pop_protocol(&f, SVD_WHY_RING_OVERRUN);
    (void)first;
    fx_end(&f);

    /* Six fit beside the two in flight. */
    fx_start(&f, QSIZE, false, false);
    tg_pring_add(&f.pr, two, 2, 0);
    pop_ok(&f);
    svd_vq_desc s2[NSEGS];
    svd_vq_chain c2;
    svd_vq_chain_init(&c2, s2, NSEGS);
    tg_pring_add(&f.pr, b, 6, 1);
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c2)));
    assert_int_equal(f.q.inflight_slots, QSIZE);
    push_ok(&f, &f.c, 16);
    push_ok(&f, &c2, 96);
    assert_int_equal(f.q.inflight_slots, 0);
    fx_end(&f);
}

/* Event suppression structures (and the ring) outside guest memory, without
 * the access the device needs, or misaligned: enable refuses and latches. */
/* REQ: REQ-VQ-101 REQ-VQ-030 */
/* FM: FM-VQ-014 */
static void test_attack_event_suppression_outside_memory(void **state)
{
    typedef struct c {
        uint64_t desc;
        uint64_t drv;
        uint64_t dev;
        svd_why why;
    } c;
    const uint64_t end = RAM_GPA + RAM_SIZE;
    const c cases[] = {
        { RAM_GPA, end, RAM_GPA + 0x200u, SVD_WHY_RING_MEMORY },
        { RAM_GPA, end - 2u, RAM_GPA + 0x200u, SVD_WHY_RING_ALIGN },
        { RAM_GPA, RAM_GPA + 0x200u, end, SVD_WHY_RING_MEMORY },
        { RAM_GPA, RAM_GPA + 0x200u, 0xFFFFFFFFFFFFFFFCull, SVD_WHY_RING_MEMORY },
        { RAM_GPA, RAM_GPA + 0x200u, RAM_GPA + 0x202u, SVD_WHY_RING_ALIGN },
        { end - 16u, RAM_GPA + 0x200u, RAM_GPA + 0x204u, SVD_WHY_RING_MEMORY },
        { RAM_GPA + 8u, RAM_GPA + 0x200u, RAM_GPA + 0x204u, SVD_WHY_RING_ALIGN },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        svd_vq_disable(&f.q);
        assert_true(svd_is_ok(svd_vq_set_addr(&f.q, SVD_VQ_RING_DESC, cases[i].desc)));
        assert_true(svd_is_ok(svd_vq_set_addr(&f.q, SVD_VQ_RING_AVAIL, cases[i].drv)));
        assert_true(svd_is_ok(svd_vq_set_addr(&f.q, SVD_VQ_RING_USED, cases[i].dev)));
        const svd_result r = svd_vq_enable(&f.q, &f.mem.map);
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_string_equal(svd_why_name(r.why), svd_why_name(cases[i].why));
        assert_true(f.q.broken);
        assert_false(svd_vq_enabled(&f.q));
        assert_true(svd_is_err(svd_vq_check_rings_packed(SVD_VQ_MAX_SIZE, QSIZE, cases[i].desc, cases[i].drv,
                                                         cases[i].dev, &f.mem.map),
                               SVD_ERR_PROTOCOL));
        fx_end(&f);
    }
    /* The device writes into the ring and its structure: a read-only region
     * for either is refused; the driver's structure only needs reading. */
    static const uint32_t which[] = { 0u, 1u, 2u };
    for (size_t i = 0; i < 3u; i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        svd_vq_disable(&f.q);
        const uint64_t ro = RAM_GPA + RAM_SIZE + 0x10000u;
        uint8_t *host = tg_mem_ptr(&f.mem, RAM_GPA + 0x1000u);
        assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, ro, 0x1000u, host, SVD_GMEM_READ)));
        const svd_vq_ring ring = which[i] == 0u ? SVD_VQ_RING_DESC : which[i] == 1u ? SVD_VQ_RING_AVAIL : SVD_VQ_RING_USED;
        assert_true(svd_is_ok(svd_vq_set_addr(&f.q, ring, ro)));
        const svd_result r = svd_vq_enable(&f.q, &f.mem.map);
        if (which[i] == 1u) {
            assert_true(svd_is_ok(r));
        } else {
            assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
            assert_int_equal(r.why, SVD_WHY_RING_MEMORY);
        }
        fx_end(&f);
    }
}

/* The host mappings must be 4-byte aligned for the flag and event atomics,
 * whatever the guest addresses. */
/* REQ: REQ-VQ-101 */
static void test_attack_ring_host_misaligned(void **state)
{
    (void)state;
    for (uint32_t which = 0u; which < 3u; which++) {
        fx f;
        tg_mem t;
        const uint64_t tgpa = RAM_GPA + RAM_SIZE + 0x10000u;
        fx_start(&f, QSIZE, false, false);
        assert_int_equal(tg_mem_init(&t, tgpa, 4096), 0);
        svd_vq_disable(&f.q);
        assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, tgpa, 1024u, t.ram + 2, SVD_GMEM_READ | SVD_GMEM_WRITE)));
        const svd_vq_ring ring = which == 0u ? SVD_VQ_RING_DESC : which == 1u ? SVD_VQ_RING_AVAIL : SVD_VQ_RING_USED;
        assert_true(svd_is_ok(svd_vq_set_addr(&f.q, ring, tgpa)));
        const svd_result r = svd_vq_enable(&f.q, &f.mem.map);
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_int_equal(r.why, SVD_WHY_RING_ALIGN);
        tg_mem_free(&t);
        fx_end(&f);
    }
}

/* Start positions (SET_VRING_BASE) not below the queue size. */
/* REQ: REQ-VQ-106.b */
static void test_attack_ring_base_out_of_range(void **state)
{
    static const uint16_t bases[][2] = {
        { QSIZE, 0u }, { 0u, QSIZE }, { (uint16_t)(W | QSIZE), W }, { W, 0x7FFFu }, { 0xFFFFu, W },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        fx f;
        fx_start(&f, QSIZE, false, false);
        svd_vq_disable(&f.q);
        assert_true(svd_is_ok(svd_vq_set_base(&f.q, bases[i][0], bases[i][1])));
        const svd_result r = svd_vq_enable(&f.q, &f.mem.map);
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_int_equal(r.why, SVD_WHY_RING_BASE);
        assert_true(f.q.broken);
        fx_end(&f);
    }
}

/* Indirect descriptors: every rule of the split ring plus "the only
 * descriptor of its list". */
/* REQ: REQ-VQ-107 REQ-VQ-009 REQ-VQ-010 REQ-VQ-011 REQ-VQ-012 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_indirect_rules(void **state)
{
    fx f;
    (void)state;
    /* Not negotiated. */
    fx_start(&f, QSIZE, false, false);
    tg_pring_set_desc(&f.pr, 0, TABLE, 16, 0, (uint16_t)(F_AVAIL | F_INDIRECT));
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_FEATURE);
    fx_end(&f);
    /* With NEXT. */
    fx_start(&f, QSIZE, false, true);
    tg_pring_set_desc(&f.pr, 1, BUF, 16, 0, (uint16_t)(F_AVAIL | F_WRITE));
    tg_pring_set_desc(&f.pr, 0, TABLE, 16, 0, (uint16_t)(F_AVAIL | F_INDIRECT | F_NEXT));
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_NEXT);
    fx_end(&f);
    /* Inside a NEXT chain. */
    fx_start(&f, QSIZE, false, true);
    tg_pring_set_indirect(&f.pr, TABLE, 0, BUF + 64u, 16, F_WRITE);
    tg_pring_set_desc(&f.pr, 1, TABLE, 16, 0, (uint16_t)(F_AVAIL | F_INDIRECT));
    tg_pring_set_desc(&f.pr, 0, BUF, 16, 0, (uint16_t)(F_AVAIL | F_NEXT));
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_NEXT);
    fx_end(&f);
    /* Nested. */
    fx_start(&f, QSIZE, false, true);
    tg_pring_set_indirect(&f.pr, TABLE, 0, TABLE + 0x100u, 16, F_INDIRECT);
    tg_pring_set_desc(&f.pr, 0, TABLE, 16, 0, (uint16_t)(F_AVAIL | F_INDIRECT));
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_NESTED);
    fx_end(&f);
    /* Lengths. */
    static const uint32_t lens[] = { 0u, 15u, 17u };
    for (size_t i = 0; i < 3u; i++) {
        fx_start(&f, QSIZE, false, true);
        tg_pring_set_desc(&f.pr, 0, TABLE, lens[i], 0, (uint16_t)(F_AVAIL | F_INDIRECT));
        expect_pop_protocol(&f, SVD_WHY_INDIRECT_LEN);
        fx_end(&f);
    }
    /* Table outside memory. */
    fx_start(&f, QSIZE, false, true);
    tg_pring_set_desc(&f.pr, 0, RAM_GPA + RAM_SIZE - 16u, 32, 0, (uint16_t)(F_AVAIL | F_INDIRECT));
    expect_pop_protocol(&f, SVD_WHY_INDIRECT_MEMORY);
    fx_end(&f);
    /* A bad buffer inside the table. */
    fx_start(&f, QSIZE, false, true);
    tg_pring_set_indirect(&f.pr, TABLE, 0, BUF, 16, F_WRITE);
    tg_pring_set_indirect(&f.pr, TABLE, 1, BUF + 16u, 16, 0);
    tg_pring_set_desc(&f.pr, 0, TABLE, 32, 0, (uint16_t)(F_AVAIL | F_INDIRECT));
    expect_pop_protocol(&f, SVD_WHY_WRITE_ORDER);
    fx_end(&f);
}

/* Buffer rules carried over from the split ring: write order, memory,
 * total length below 2^32 (QEMU CVE-2016-7422 class). */
/* REQ: REQ-VQ-013 REQ-VQ-014 REQ-VQ-015 REQ-VQ-017 REQ-VQ-030 */
static void test_attack_buffer_rules(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    const tg_pbuf order[2] = { { BUF, 16, true }, { BUF + 16u, 16, false } };
    tg_pring_add(&f.pr, order, 2, 0);
    expect_pop_protocol(&f, SVD_WHY_WRITE_ORDER);
    fx_end(&f);

    fx_start(&f, QSIZE, false, false);
    add1(&f, RAM_GPA + RAM_SIZE - 8u, 16, true, 0);
    expect_pop_protocol(&f, SVD_WHY_BUFFER_MEMORY);
    fx_end(&f);

    fx_start(&f, QSIZE, false, false);
    add1(&f, 0xFFFFFFFFFFFFFFF0ull, 0x20, false, 0);
    expect_pop_protocol(&f, SVD_WHY_BUFFER_MEMORY);
    fx_end(&f);

    /* Two halves of 2^31 add up to exactly 2^32: the buffers live in a huge
     * region whose bytes pop only checks, never touches. */
    fx_start(&f, QSIZE, false, false);
    svd_vq_disable(&f.q);
    uint8_t *host = tg_mem_ptr(&f.mem, RAM_GPA);
    assert_true(svd_is_ok(svd_gmem_add(&f.mem.map, 0x100000000ull, 0x100000000ull, host, SVD_GMEM_WRITE)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    const tg_pbuf big[2] = { { 0x100000000ull, 0x80000000u, true }, { 0x180000000ull, 0x80000000u, true } };
    tg_pring_add(&f.pr, big, 2, 0);
    expect_pop_protocol(&f, SVD_WHY_CHAIN_LEN);
    fx_end(&f);
}

/* Every call refuses a queue that is disabled, broken or whose map changed. */
/* REQ: REQ-VQ-018 */
static void test_attack_stale_map_and_disabled_queue(void **state)
{
    fx f;
    bool need;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    add1(&f, BUF, 64, true, 0);
    f.mem.map.generation++;
    assert_true(svd_is_err(svd_vq_pop(&f.q, &f.mem.map, &f.c), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_vq_need_interrupt(&f.q, &f.mem.map, &need), SVD_ERR_STATE));
    f.mem.map.generation--;
    pop_ok(&f);
    svd_vq_disable(&f.q);
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 0), SVD_ERR_STATE));
    fx_end(&f);
}

/* ------------------------------------------------------------------ normal paths */

/* A chain of readable and writable buffers: segments recorded, the used
 * descriptor written (id, length, WRITE, AVAIL = USED = wrap counter), the
 * driver model finds it. A chain larger than the caller's storage is
 * validated whole and marked truncated. */
/* REQ: REQ-VQ-027 REQ-VQ-108 */
static void test_pop_push_chain(void **state)
{
    fx f;
    uint16_t id;
    uint32_t len;
    uint16_t fl;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    const tg_pbuf b[3] = { { BUF, 10, false }, { BUF + 0x100u, 20, true }, { BUF + 0x200u, 30, true } };
    tg_pring_add(&f.pr, b, 3, 6);
    pop_ok(&f);
    assert_int_equal(f.c.head, 6);
    assert_int_equal(f.c.slots, 3);
    assert_int_equal(f.c.ndesc, 3);
    assert_int_equal(f.c.nsegs, 3);
    assert_int_equal(f.c.readable_len, 10);
    assert_int_equal(f.c.writable_len, 50);
    assert_false(f.c.truncated);
    assert_int_equal(f.segs[0].addr, BUF);
    assert_int_equal(f.segs[0].flags, 0);
    assert_int_equal(f.segs[1].flags, F_WRITE);
    assert_ptr_equal(f.segs[2].host, tg_mem_ptr(&f.mem, BUF + 0x200u));
    assert_false(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_true(svd_is_err(svd_vq_push(&f.q, &f.mem.map, &f.c, 51), SVD_ERR_INVALID_ARG));
    push_ok(&f, &f.c, 50);
    assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_int_equal(id, 6);
    assert_int_equal(len, 50);
    assert_int_equal(fl, F_AVAIL | F_USED | F_WRITE);
    assert_int_equal(f.q.used_idx, (uint16_t)(W | 3u));
    /* Nothing written: no WRITE flag. */
    add1(&f, BUF, 10, false, 0);
    pop_ok(&f);
    push_ok(&f, &f.c, 0);
    assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_int_equal(fl, F_AVAIL | F_USED);
    /* Truncated. */
    svd_vq_desc one[1];
    svd_vq_chain small;
    svd_vq_chain_init(&small, one, 1);
    tg_pring_add(&f.pr, b, 3, 1);
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &small)));
    assert_true(small.truncated);
    assert_int_equal(small.nsegs, 1);
    assert_int_equal(small.ndesc, 3);
    assert_int_equal(small.writable_len, 0);
    fx_end(&f);
}

/* Later guest writes to a popped descriptor change nothing popped. */
/* REQ: REQ-VQ-016 */
static void test_pop_copies_descriptors_once(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    const tg_pbuf b[2] = { { BUF, 16, false }, { BUF + 16u, 64, true } };
    tg_pring_add(&f.pr, b, 2, 1);
    pop_ok(&f);
    tg_pring_set_desc(&f.pr, 0, 0xFFFFFFFFFFFF0000ull, 0xFFFFFFFFu, 0xFFFFu, (uint16_t)(F_AVAIL | F_WRITE));
    tg_pring_set_desc(&f.pr, 1, 0xFFFFFFFFFFFF0000ull, 0xFFFFFFFFu, 0xFFFFu, (uint16_t)(F_AVAIL | F_WRITE));
    assert_int_equal(f.segs[0].addr, BUF);
    assert_int_equal(f.segs[1].len, 64);
    assert_int_equal(f.c.head, 1);
    push_ok(&f, &f.c, 64);
    fx_end(&f);
}

/* An indirect buffer: one ring slot, the table's entries as segments. */
/* REQ: REQ-VQ-107 REQ-VQ-027 */
static void test_pop_indirect(void **state)
{
    fx f;
    uint16_t id;
    uint32_t len;
    uint16_t fl;
    (void)state;
    fx_start(&f, QSIZE, false, true);
    const tg_pbuf b[3] = { { BUF, 8, false }, { BUF + 0x100u, 32, true }, { BUF + 0x200u, 32, true } };
    tg_pring_add_indirect(&f.pr, TABLE, b, 3, 4);
    pop_ok(&f);
    assert_int_equal(f.c.head, 4);
    assert_int_equal(f.c.slots, 1);
    assert_int_equal(f.c.ndesc, 3);
    assert_int_equal(f.c.writable_len, 64);
    assert_int_equal(f.segs[2].addr, BUF + 0x200u);
    push_ok(&f, &f.c, 64);
    assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_int_equal(id, 4);
    assert_int_equal(f.q.used_idx, (uint16_t)(W | 1u));
    fx_end(&f);
}

/* Many laps with chains of 1..3 descriptors: both wrap counters flip at the
 * end of the ring, the driver model stays in step with the device. */
/* REQ: REQ-VQ-102.c REQ-VQ-108 */
static void test_many_laps(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    for (uint32_t i = 0; i < 10u * QSIZE; i++) {
        const uint16_t n = (uint16_t)(1u + i % 3u);
        tg_pbuf b[3];
        for (uint16_t k = 0; k < n; k++) {
            b[k] = (tg_pbuf){ BUF + 0x100u * k, 16, true };
        }
        const uint16_t id = (uint16_t)(i % QSIZE);
        tg_pring_add(&f.pr, b, n, id);
        pop_ok(&f);
        assert_int_equal(f.c.head, id);
        assert_int_equal(f.c.ndesc, n);
        push_ok(&f, &f.c, 16u * n);
        uint16_t got;
        uint32_t len;
        uint16_t fl;
        assert_true(tg_pring_get_used(&f.pr, &got, &len, &fl));
        assert_int_equal(got, id);
        assert_int_equal(len, 16u * n);
        assert_int_equal(f.pr.used, f.q.used_idx);
        assert_int_equal(f.pr.avail, f.q.last_avail_idx);
        pop_empty(&f);
    }
    fx_end(&f);
}

/* Chains may be completed in any order: the used descriptors follow
 * completion order, each advancing by its own chain's slots. */
/* REQ: REQ-VQ-108 */
static void test_out_of_order_completion(void **state)
{
    fx f;
    svd_vq_desc s2[NSEGS];
    svd_vq_chain c2;
    uint16_t id;
    uint32_t len;
    uint16_t fl;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    const tg_pbuf two[2] = { { BUF, 16, false }, { BUF + 16u, 16, true } };
    tg_pring_add(&f.pr, two, 2, 0);
    add1(&f, BUF + 64u, 16, true, 1);
    pop_ok(&f);
    svd_vq_chain_init(&c2, s2, NSEGS);
    assert_true(svd_is_ok(svd_vq_pop(&f.q, &f.mem.map, &c2)));
    push_ok(&f, &c2, 16);
    push_ok(&f, &f.c, 16);
    assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_int_equal(id, 1);
    assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_int_equal(id, 0);
    assert_int_equal(f.pr.used, f.q.used_idx);
    assert_int_equal(f.q.used_idx, (uint16_t)(W | 3u));
    fx_end(&f);
}

/* The device event suppression structure: ENABLE without EVENT_IDX; with
 * it, DESC at the next position after every pop and when the ring is found
 * empty; the Linux driver's kick decision follows it. */
/* REQ: REQ-VQ-109 */
static void test_device_event_suppression(void **state)
{
    fx f;
    uint16_t ow;
    uint16_t fl;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    tg_pring_device_event(&f.pr, &ow, &fl);
    assert_int_equal(fl, SVD_VRING_PACKED_EVENT_ENABLE);
    uint16_t old = f.pr.avail;
    add1(&f, BUF, 16, true, 0);
    assert_true(tg_pring_should_kick(&f.pr, false, old));
    pop_ok(&f);
    push_ok(&f, &f.c, 16);
    pop_empty(&f);
    tg_pring_device_event(&f.pr, &ow, &fl);
    assert_int_equal(fl, SVD_VRING_PACKED_EVENT_ENABLE);
    fx_end(&f);

    fx_start(&f, QSIZE, true, false);
    tg_pring_device_event(&f.pr, &ow, &fl);
    assert_int_equal(fl, SVD_VRING_PACKED_EVENT_DESC);
    assert_int_equal(ow, W);
    for (uint32_t i = 0; i < 3u * QSIZE; i++) {
        old = f.pr.avail;
        add1(&f, BUF, 16, true, (uint16_t)(i % QSIZE));
        assert_true(tg_pring_should_kick(&f.pr, true, old));
        pop_ok(&f);
        tg_pring_device_event(&f.pr, &ow, &fl);
        assert_int_equal(ow, f.q.last_avail_idx);
        push_ok(&f, &f.c, 16);
        uint16_t id;
        uint32_t len;
        assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    }
    /* The device asked for the next slot only: two adds, one kick due. */
    old = f.pr.avail;
    add1(&f, BUF, 16, true, 0);
    add1(&f, BUF, 16, true, 1);
    assert_true(tg_pring_should_kick(&f.pr, true, old));
    pop_ok(&f);
    old = f.pr.avail;
    add1(&f, BUF, 16, true, 2);
    assert_false(tg_pring_should_kick(&f.pr, true, old)); /* the device has not caught up yet */
    fx_end(&f);
}

/* Found empty under EVENT_IDX: the device publishes its event, fences and
 * looks again, so a buffer made available in between is taken; without a
 * buffer, the event names the slot the driver fills next. */
/* REQ: REQ-VQ-109 REQ-VQ-023 */
static void test_empty_ring_publishes_event_and_rechecks(void **state)
{
    fx f;
    uint16_t ow;
    uint16_t fl;
    (void)state;
    fx_start(&f, QSIZE, true, false);
    tg_pring_set_driver_event(&f.pr, 0, 0);
    /* Scribble the device's structure: an empty pop rewrites it. */
    tg_mem_fill(&f.mem, f.pr.device, 4, 0xEE);
    pop_empty(&f);
    tg_pring_device_event(&f.pr, &ow, &fl);
    assert_int_equal(ow, W);
    assert_int_equal(fl, SVD_VRING_PACKED_EVENT_DESC);
    fx_end(&f);
}

/* Driver event suppression: DISABLE, ENABLE, DESC with off/wrap (EVENT_IDX
 * only), reserved values. */
/* REQ: REQ-VQ-110 */
static void test_driver_event_suppression(void **state)
{
    fx f;
    bool need;
    (void)state;
    /* ENABLE: interrupt when something was used since the last decision. */
    fx_start(&f, QSIZE, false, false);
    assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
    assert_false(need);
    add1(&f, BUF, 16, true, 0);
    pop_ok(&f);
    push_ok(&f, &f.c, 16);
    assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
    assert_true(need);
    assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
    assert_false(need);
    /* DISABLE. */
    tg_pring_set_driver_event(&f.pr, 0, SVD_VRING_PACKED_EVENT_DISABLE);
    add1(&f, BUF, 16, true, 1);
    pop_ok(&f);
    push_ok(&f, &f.c, 16);
    assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
    assert_false(need);
    /* DESC without EVENT_IDX and the reserved value count as ENABLE. */
    static const uint16_t as_enable[] = { SVD_VRING_PACKED_EVENT_DESC, 3u };
    for (size_t i = 0; i < 2u; i++) {
        tg_pring_set_driver_event(&f.pr, (uint16_t)(W | 7u), as_enable[i]);
        add1(&f, BUF, 16, true, 2);
        pop_ok(&f);
        push_ok(&f, &f.c, 16);
        assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
        assert_true(need);
    }
    fx_end(&f);

    /* DESC under EVENT_IDX: interrupt exactly when the event position is
     * among the positions used since the last decision, across laps. */
    fx_start(&f, QSIZE, true, false);
    for (uint32_t i = 0; i < 3u * QSIZE; i++) {
        const uint16_t used_before = f.q.used_idx;
        /* Ask for the completion two positions ahead. */
        const uint16_t ev = tg_pring_next(&f.pr, used_before, 1u);
        tg_pring_set_driver_event(&f.pr, ev, SVD_VRING_PACKED_EVENT_DESC);
        add1(&f, BUF, 16, true, 0);
        pop_ok(&f);
        push_ok(&f, &f.c, 16);
        assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
        assert_false(need); /* used position used_before only */
        add1(&f, BUF, 16, true, 1);
        pop_ok(&f);
        push_ok(&f, &f.c, 16);
        assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
        assert_true(need); /* ev was used */
        uint16_t id;
        uint32_t len;
        uint16_t fl;
        assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
        assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    }
    fx_end(&f);
}

/* More than a whole cycle (2 * size positions) used without a decision: the
 * off/wrap comparison would alias, so the next decision interrupts; DISABLE
 * still wins. */
/* REQ: REQ-VQ-110 */
static void test_event_desc_after_full_cycle_without_decision(void **state)
{
    fx f;
    bool need;
    (void)state;
    fx_start(&f, QSIZE, true, false);
    /* An event position never reached in the last few positions. */
    for (uint32_t i = 0; i < 2u * QSIZE; i++) {
        add1(&f, BUF, 16, true, (uint16_t)(i % QSIZE));
        pop_ok(&f);
        push_ok(&f, &f.c, 16);
        uint16_t id;
        uint32_t len;
        uint16_t fl;
        assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    }
    /* used is back where the last decision was: moved == 0 in the cycle. */
    assert_int_equal(f.q.used_idx, f.q.signalled_used);
    tg_pring_set_driver_event(&f.pr, (uint16_t)(W | 3u), SVD_VRING_PACKED_EVENT_DESC);
    assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
    assert_true(need);
    assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
    assert_false(need);
    /* The same under ENABLE, and DISABLE still wins. */
    static const uint16_t flags[] = { SVD_VRING_PACKED_EVENT_ENABLE, SVD_VRING_PACKED_EVENT_DISABLE };
    for (size_t k = 0; k < 2u; k++) {
        for (uint32_t i = 0; i < 2u * QSIZE; i++) {
            add1(&f, BUF, 16, true, (uint16_t)(i % QSIZE));
            pop_ok(&f);
            push_ok(&f, &f.c, 16);
            uint16_t id;
            uint32_t len;
            uint16_t fl;
            assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
        }
        tg_pring_set_driver_event(&f.pr, 0, flags[k]);
        assert_true(svd_is_ok(svd_vq_need_interrupt(&f.q, &f.mem.map, &need)));
        assert_int_equal(need, k == 0u);
    }
    fx_end(&f);
}

/* The race EVENT_IDX must not lose: the driver makes a buffer available
 * after the device found the ring empty but before it published its event.
 * Made deterministic as for the split ring: the device event structure sits
 * on a read-only page, the store faults, the fault handler plays the driver
 * (adds a buffer; it saw the old event, so it sends no kick), unprotects the
 * page and lets the store retry. The re-check after the fence must find the
 * buffer. Guest memory is mmap'd between PROT_NONE guard pages. */
static uint8_t *g_event_page;
static size_t g_page;
static tg_pring *g_pr;
static volatile sig_atomic_t g_faults;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    if ((uint8_t *)si->si_addr < g_event_page || (uint8_t *)si->si_addr >= g_event_page + g_page || g_faults > 0) {
        signal(SIGSEGV, SIG_DFL);
        return;
    }
    g_faults++;
    const tg_pbuf b = { g_pr->mem->gpa + 2u * g_page, 64, true };
    tg_pring_add(g_pr, &b, 1u, 3u);
    (void)mprotect(g_event_page, g_page, PROT_READ | PROT_WRITE);
}

/* REQ: REQ-VQ-109 REQ-VQ-023 */
static void test_event_idx_recheck_after_publishing_event(void **state)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *area;
    tg_mem m;
    tg_pring pr;
    svd_vq q;
    svd_vq_desc s[1];
    svd_vq_chain c;
    struct sigaction sa;
    struct sigaction old_sa;
    uint16_t ow;
    uint16_t fl;
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
    /* Ring and driver structure on page 0, device structure on page 1, buffers on page 2. */
    memset(&pr, 0, sizeof(pr));
    pr.mem = &m;
    pr.size = QSIZE;
    pr.desc = m.gpa;
    pr.driver = m.gpa + 16u * QSIZE;
    pr.device = m.gpa + pg;
    pr.avail = W;
    pr.used = W;

    assert_true(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(tg_pring_attach(&pr, &q)));
    assert_true(svd_is_ok(svd_vq_set_features(&q, true, false)));
    assert_true(svd_is_ok(svd_vq_enable(&q, &m.map)));
    svd_vq_chain_init(&c, s, 1);

    g_event_page = area + 2u * pg;
    g_page = pg;
    g_pr = &pr;
    g_faults = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGSEGV, &sa, &old_sa), 0);
    assert_int_equal(mprotect(g_event_page, pg, PROT_READ), 0);

    assert_true(svd_is_ok(svd_vq_pop(&q, &m.map, &c)));

    assert_int_equal(sigaction(SIGSEGV, &old_sa, NULL), 0);
    assert_int_equal(g_faults, 1);
    assert_int_equal(c.head, 3);
    /* The device found the buffer anyway and moved its event on. */
    tg_pring_device_event(&pr, &ow, &fl);
    assert_int_equal(ow, (uint16_t)(W | 1u));
    assert_true(svd_is_ok(svd_vq_push(&q, &m.map, &c, 64)));
    assert_int_equal(munmap(area, 5u * pg), 0);
}

/* SET/GET_VRING_BASE: positions carry their wrap counters; the chains in
 * flight are handed back (a restart re-serves them), also across the end of
 * the ring. */
/* REQ: REQ-VQ-106.a REQ-VQ-106.c */
static void test_base_encoding_and_hand_back(void **state)
{
    fx f;
    uint16_t a;
    uint16_t u;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    svd_vq_base(&f.q, &a, &u);
    assert_int_equal(a, W);
    assert_int_equal(u, W);
    svd_vq_disable(&f.q);
    /* QEMU's 0x80008000 for a new ring is 0 | wrap 1 for both. */
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, (uint16_t)(W | 6u), (uint16_t)(W | 6u))));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    f.pr.avail = (uint16_t)(W | 6u);
    f.pr.used = (uint16_t)(W | 6u);
    const tg_pbuf three[3] = { { BUF, 16, true }, { BUF + 16u, 16, true }, { BUF + 32u, 16, true } };
    tg_pring_add(&f.pr, three, 3, 2); /* slots 6, 7, 0 (next lap) */
    pop_ok(&f);
    assert_int_equal(f.q.last_avail_idx, 1u);
    svd_vq_base(&f.q, &a, &u);
    assert_int_equal(a, (uint16_t)(W | 6u)); /* handed back across the end */
    assert_int_equal(u, (uint16_t)(W | 6u));
    push_ok(&f, &f.c, 48);
    svd_vq_base(&f.q, &a, &u);
    assert_int_equal(a, 1u);
    assert_int_equal(u, 1u);
    /* Restart where the base says: the ring goes on. */
    svd_vq_disable(&f.q);
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, a, u)));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    add1(&f, BUF, 16, true, 5);
    pop_ok(&f);
    assert_int_equal(f.c.head, 5);
    svd_vq_base(&f.q, &a, &u);
    assert_int_equal(a, 1u);
    fx_end(&f);
}

/* The format is configuration: refused while enabled, back to split on reset. */
/* REQ: REQ-VQ-100.a REQ-VQ-100.c */
static void test_format_setting(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    assert_true(f.q.packed);
    const svd_result r = svd_vq_set_format(&f.q, false);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_QUEUE_ENABLED);
    assert_true(f.q.packed);
    svd_vq_disable(&f.q);
    assert_true(f.q.packed);
    svd_vq_reset(&f.q);
    assert_false(f.q.packed);
    fx_end(&f);
}

/* Selecting a format puts both indices where a new ring of that format
 * starts, whatever the queue held: packed position 0 with wrap counter 1
 * (QEMU's 0x80008000), split 0. */
/* REQ: REQ-VQ-100.b */
static void test_format_sets_start_indices(void **state)
{
    svd_vq q;
    (void)state;
    assert_true(svd_is_ok(svd_vq_init(&q, QSIZE)));
    assert_true(svd_is_ok(svd_vq_set_base(&q, 5u, 3u)));
    assert_true(svd_is_ok(svd_vq_set_format(&q, true)));
    assert_true(q.packed);
    assert_int_equal(q.last_avail_idx, W);
    assert_int_equal(q.used_idx, W);
    assert_true(svd_is_ok(svd_vq_set_base(&q, (uint16_t)(W | 5u), 3u)));
    assert_true(svd_is_ok(svd_vq_set_format(&q, false)));
    assert_false(q.packed);
    assert_int_equal(q.last_avail_idx, 0u);
    assert_int_equal(q.used_idx, 0u);
}

/* svd_vq_check_rings_packed gives the verdict enable would give. */
/* REQ: REQ-VQ-101 */
static void test_check_rings_packed(void **state)
{
    fx f;
    (void)state;
    fx_start(&f, QSIZE, false, false);
    const svd_gmem *m = &f.mem.map;
    assert_true(svd_is_ok(svd_vq_check_rings_packed(QSIZE, QSIZE, f.pr.desc, f.pr.driver, f.pr.device, m)));
    assert_true(svd_is_err(svd_vq_check_rings_packed(QSIZE, QSIZE, f.pr.desc, f.pr.driver, f.pr.device, NULL),
                           SVD_ERR_INVALID_ARG));
    static const uint32_t sizes[][2] = { { 8u, 0u }, { 8u, 16u }, { 8u, 6u }, { 65536u, 65536u } };
    for (size_t i = 0; i < 4u; i++) {
        const svd_result r =
            svd_vq_check_rings_packed(sizes[i][0], sizes[i][1], f.pr.desc, f.pr.driver, f.pr.device, m);
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_int_equal(r.why, SVD_WHY_QUEUE_SIZE);
    }
    const svd_result r = svd_vq_check_rings_packed(QSIZE, QSIZE, f.pr.desc, f.pr.driver + 1u, f.pr.device, m);
    assert_int_equal(r.why, SVD_WHY_RING_ALIGN);
    fx_end(&f);
}

/* The largest ring: positions up to 32767, wrap at 32768. */
/* REQ: REQ-VQ-102.c */
static void test_max_queue_size(void **state)
{
    fx f;
    uint16_t id;
    uint32_t len;
    uint16_t fl;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(tg_mem_init(&f.mem, RAM_GPA, 0x100000u), 0);
    (void)tg_pring_init(&f.pr, &f.mem, (uint16_t)SVD_VQ_MAX_SIZE, RAM_GPA);
    assert_true(svd_is_ok(svd_vq_init(&f.q, SVD_VQ_MAX_SIZE)));
    assert_true(svd_is_ok(svd_vq_set_format(&f.q, true)));
    assert_true(svd_is_ok(svd_vq_set_addr(&f.q, SVD_VQ_RING_DESC, f.pr.desc)));
    assert_true(svd_is_ok(svd_vq_set_addr(&f.q, SVD_VQ_RING_AVAIL, f.pr.driver)));
    assert_true(svd_is_ok(svd_vq_set_addr(&f.q, SVD_VQ_RING_USED, f.pr.device)));
    assert_true(svd_is_ok(svd_vq_set_base(&f.q, (uint16_t)(W | 0x7FFFu), (uint16_t)(W | 0x7FFFu))));
    assert_true(svd_is_ok(svd_vq_enable(&f.q, &f.mem.map)));
    svd_vq_chain_init(&f.c, f.segs, NSEGS);
    f.pr.avail = (uint16_t)(W | 0x7FFFu);
    f.pr.used = (uint16_t)(W | 0x7FFFu);
    add1(&f, RAM_GPA + 0x90000u, 16, true, 0x7FFFu);
    pop_ok(&f);
    assert_int_equal(f.c.head, 0x7FFFu);
    assert_int_equal(f.q.last_avail_idx, 0u);
    push_ok(&f, &f.c, 16);
    assert_true(tg_pring_get_used(&f.pr, &id, &len, &fl));
    assert_int_equal(id, 0x7FFFu);
    assert_int_equal(f.q.used_idx, 0u);
    tg_mem_free(&f.mem);
}

/* Ring slot flags for the resync tests: used / available in lap 1 (wrap
 * counter 1) or lap 2 (wrap counter 0). */
#define U1 (F_AVAIL | F_USED)
#define U2 0u
#define A1 F_AVAIL
#define A2 F_USED

/* Write @flags into the ring's slots (64-byte writable buffers, id = slot). */
static void ring_flags(fx *f, const uint16_t *flags)
{
    for (uint16_t i = 0; i < QSIZE; i++) {
        tg_pring_set_desc(&f->pr, i, BUF + 64u * i, 64, i, (uint16_t)(flags[i] | ((flags[i] != U1 && flags[i] != U2) ? F_WRITE : 0u)));
    }
}

/* Start at @base over a ring whose slots carry @flags, then resync. */
static bool resync_from(fx *f, const uint16_t *flags, uint16_t base, bool event_idx)
{
    fx_start(f, QSIZE, event_idx, false);
    ring_flags(f, flags);
    svd_vq_disable(&f->q);
    assert_true(svd_is_ok(svd_vq_set_base(&f->q, base, base)));
    assert_true(svd_is_ok(svd_vq_enable(&f->q, &f->mem.map)));
    return svd_vqp_resync(&f->q);
}

/* A front-end that lost its back-end resends a stale start position (QEMU
 * 7.2 packed rings): when the descriptor there cannot be the next one, both
 * positions move to where the driver's available buffers begin; a start
 * that can be right, or a ring with no run of available buffers, is kept. */
/* REQ: REQ-VQ-112.a REQ-VQ-112.b REQ-VQ-112.c */
static void test_resync_stale_start(void **state)
{
    fx f;
    uint16_t ow;
    uint16_t fl;
    (void)state;
    /* Can be right: zero ring; previous lap's used descriptor; an available one. */
    static const uint16_t zero[QSIZE] = { 0 };
    assert_false(resync_from(&f, zero, W, false));
    fx_end(&f);
    static const uint16_t lap1[QSIZE] = { U1, U1, U1, A1, U1, U1, U1, U1 };
    assert_false(resync_from(&f, lap1, W | 3u, false));
    assert_int_equal(f.q.last_avail_idx, W | 3u);
    fx_end(&f);
    static const uint16_t lap2[QSIZE] = { U2, A2, U1, U1, U1, U1, U1, U1 };
    assert_false(resync_from(&f, lap2, 2u, false)); /* lap 2, slot 2: the previous lap's used descriptor */
    fx_end(&f);
    /* Used in the start's own lap: stale; the buffer at slot 3 is next. */
    assert_true(resync_from(&f, lap1, W, true));
    assert_int_equal(f.q.last_avail_idx, W | 3u);
    assert_int_equal(f.q.used_idx, W | 3u);
    tg_pring_device_event(&f.pr, &ow, &fl);
    assert_int_equal(ow, W | 3u); /* the device's event moved with it */
    pop_ok(&f);
    assert_int_equal(f.c.head, 3);
    push_ok(&f, &f.c, 64);
    fx_end(&f);
    /* Available for the other lap: stale; lap 2 slot 1 is next. */
    assert_true(resync_from(&f, lap2, W | 1u, false));
    assert_int_equal(f.q.last_avail_idx, 1u);
    pop_ok(&f);
    assert_int_equal(f.c.head, 1);
    fx_end(&f);
    /* A run across the end of the ring starts at slot 6 of lap 1. */
    static const uint16_t across[QSIZE] = { A2, A2, U1, U1, U1, U1, A1, A1 };
    assert_true(resync_from(&f, across, W | 2u, false));
    assert_int_equal(f.q.last_avail_idx, W | 6u);
    fx_end(&f);
    /* Nothing available: kept. */
    static const uint16_t none[QSIZE] = { U1, U1, U1, U1, U1, U1, U1, U1 };
    assert_false(resync_from(&f, none, W, false));
    assert_int_equal(f.q.last_avail_idx, W);
    fx_end(&f);
    /* The whole ring available in lap 2: the run starts at slot 0. */
    static const uint16_t full[QSIZE] = { A2, A2, A2, A2, A2, A2, A2, A2 };
    assert_true(resync_from(&f, full, W, false));
    assert_int_equal(f.q.last_avail_idx, 0u);
    fx_end(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attack_wrap_counter_confusion_at_head),
        cmocka_unit_test(test_format_sets_start_indices),
        cmocka_unit_test(test_attack_wrap_counter_confusion_in_chain),
        cmocka_unit_test(test_attack_buffer_made_available_twice),
        cmocka_unit_test(test_attack_push_of_an_id_never_made_available),
        cmocka_unit_test(test_attack_buffer_id_out_of_range),
        cmocka_unit_test(test_attack_chain_longer_than_ring),
        cmocka_unit_test(test_attack_chain_reaches_descriptors_in_flight),
        cmocka_unit_test(test_attack_event_suppression_outside_memory),
        cmocka_unit_test(test_attack_ring_host_misaligned),
        cmocka_unit_test(test_attack_ring_base_out_of_range),
        cmocka_unit_test(test_attack_indirect_rules),
        cmocka_unit_test(test_attack_buffer_rules),
        cmocka_unit_test(test_attack_stale_map_and_disabled_queue),
        cmocka_unit_test(test_pop_push_chain),
        cmocka_unit_test(test_pop_copies_descriptors_once),
        cmocka_unit_test(test_pop_indirect),
        cmocka_unit_test(test_many_laps),
        cmocka_unit_test(test_out_of_order_completion),
        cmocka_unit_test(test_device_event_suppression),
        cmocka_unit_test(test_empty_ring_publishes_event_and_rechecks),
        cmocka_unit_test(test_driver_event_suppression),
        cmocka_unit_test(test_event_desc_after_full_cycle_without_decision),
        cmocka_unit_test(test_event_idx_recheck_after_publishing_event),
        cmocka_unit_test(test_base_encoding_and_hand_back),
        cmocka_unit_test(test_format_setting),
        cmocka_unit_test(test_check_rings_packed),
        cmocka_unit_test(test_max_queue_size),
        cmocka_unit_test(test_resync_stale_start),
    };
    return cmocka_run_group_tests_name("vq_packed", tests, NULL, NULL);
}
