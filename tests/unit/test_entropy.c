/* Unit tests of the virtio-entropy model (src/core/entropy.c), driven through
 * the device engine and a split-ring driver model over canary-guarded guest
 * RAM. The entropy source is a test double that emits a counter pattern
 * (1, 2, ..., 255, 1, ...: never 0), so delivered bytes can be told from
 * zeros and from untouched sentinels. Adversarial tests are test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/entropy.h"
#include "tg_mem.h"
#include "tg_vring.h"

#define RAM_GPA 0x100000u
#define RAM_SIZE 0x10000u
#define QSIZE 32u
#define BUF_GPA (RAM_GPA + 0x4000u) /* data buffers live from here */
#define SENTINEL 0x5Cu
#define T0 1000000u

typedef struct tsrc {
    uint8_t next;      /* next counter value */
    uint32_t calls;    /* read() calls */
    size_t cap;        /* max bytes per call (0 = no cap) */
    uint32_t fail;     /* fail this many calls first */
    svd_err fail_err;  /* error to fail with; SVD_OK = return 0 bytes */
    uint32_t fail_after; /* after this many good calls, fail forever (0 = never) */
    bool overclaim;    /* report more bytes than asked */
    bool stuck;        /* emit stuck_value for ever (a failed noise source) */
    uint8_t stuck_value;
    size_t lens[64];   /* len of each call */
} tsrc;

static svd_result tsrc_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    tsrc *t = ctx;
    if (t->calls < 64u) {
        t->lens[t->calls] = len;
    }
    t->calls++;
    if (len == 0u) {
        return svd_fail(SVD_ERR_INVALID_ARG); /* contract: never called with 0 */
    }
    if (t->fail > 0u || (t->fail_after != 0u && t->calls > t->fail_after)) {
        if (t->fail > 0u) {
            t->fail--;
        }
        *got = 0u;
        return t->fail_err == SVD_OK ? svd_ok() : svd_fail(t->fail_err);
    }
    if (t->overclaim) {
        *got = len + 1u;
        return svd_ok();
    }
    size_t n = len;
    if (t->cap != 0u && n > t->cap) {
        n = t->cap;
    }
    for (size_t i = 0; i < n; i++) {
        if (t->stuck) {
            buf[i] = t->stuck_value;
            continue;
        }
        buf[i] = t->next;
        t->next = (uint8_t)(t->next == 255u ? 1u : t->next + 1u);
    }
    *got = n;
    return svd_ok();
}

typedef struct fx {
    tg_mem mem;
    tg_vring ring;
    svd_dev dev;
    svd_dev_event ev;
    svd_entropy ent;
    svd_entropy_cfg cfg;
    tsrc src;
    svd_entropy_out out;
    uint8_t expect_next; /* the counter value the next delivered byte must have */
} fx;

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof(f));
    if (tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE) != 0) {
        return -1;
    }
    tg_mem_fill(&f.mem, BUF_GPA, RAM_SIZE - 0x4000u, SENTINEL);
    (void)tg_vring_init(&f.ring, &f.mem, QSIZE, RAM_GPA);
    svd_dev_params p;
    svd_entropy_dev_params(&p);
    if (!svd_is_ok(svd_dev_init(&f.dev, &p, &f.mem.map))) {
        return -1;
    }
    f.src.next = 1u;
    f.expect_next = 1u;
    f.cfg.source.read = tsrc_read;
    f.cfg.source.ctx = &f.src;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    const bool ok = tg_mem_canaries_intact(&f->mem);
    tg_mem_free(&f->mem);
    return ok ? 0 : -1;
}

static void status(fx *f, uint8_t s)
{
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, s, &f->ev)));
}

/* Guest driver bring-up with @feats, entropy instance created at T0. */
static void bring_up(fx *f, uint64_t feats)
{
    status(f, 0u);
    status(f, SVD_STATUS_ACKNOWLEDGE);
    status(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, (uint32_t)feats)));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, (uint32_t)(feats >> 32))));
    status(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK);
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, &f->ev)));
    assert_true(svd_is_ok(svd_dev_queue_set_addrs(&f->dev, 0u, f->ring.desc, f->ring.avail, f->ring.used, &f->ev)));
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 0u, true, &f->ev)));
    status(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK | SVD_STATUS_DRIVER_OK);
}

/* The model's health tests begin with a start-up test that takes the first
 * 1024 source bytes; the tests of the model's other rules start past it (fed
 * here straight to the health engine), so the counts and bytes they check
 * are the source's own. The health path has its own tests (test_health_*). */
static void prime_health(fx *f)
{
    uint8_t b[SVD_HEALTH_STARTUP_SAMPLES];
    for (size_t i = 0; i < sizeof(b); i++) {
        b[i] = (uint8_t)(i * 7u + 1u);
    }
    assert_true(svd_is_err(svd_health_feed(&f->ent.health, b, sizeof(b), NULL), SVD_ERR_AGAIN));
    assert_int_equal(svd_health_state_of(&f->ent.health), SVD_HEALTH_OK);
}

static void start(fx *f)
{
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    prime_health(f);
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_INDIRECT_DESC);
}

/* Notify the device and let the model run at @now, as a shim does. */
static svd_result kick(fx *f, uint64_t now)
{
    svd_vq *q = NULL;
    svd_result r = svd_dev_notify(&f->dev, 0u, &q);
    if (!svd_is_ok(r)) {
        return r;
    }
    r = svd_entropy_process(&f->ent, q, &f->mem.map, now, &f->out);
    svd_dev_queue_processed(&f->dev, 0u, r, &f->ev);
    return r;
}

static void post_w(fx *f, uint16_t head, uint64_t gpa, uint32_t len)
{
    tg_vring_set_desc(&f->ring, head, gpa, len, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, head);
}

/* The next used element is @head with @len, and the driver sees no more. */
static void expect_used(fx *f, uint32_t head, uint32_t len)
{
    uint32_t id = 0xffffu, l = 0xffffu;
    assert_true(tg_vring_get_used(&f->ring, &id, &l));
    assert_int_equal(id, head);
    assert_int_equal(l, len);
}

static void expect_no_used(fx *f)
{
    uint32_t id, l;
    assert_false(tg_vring_get_used(&f->ring, &id, &l));
}

/* Bytes [gpa, gpa+len) carry the next @len counter values. */
static void expect_source_bytes(fx *f, uint64_t gpa, size_t len)
{
    const uint8_t *p = tg_mem_ptr(&f->mem, gpa);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(p[i], f->expect_next);
        f->expect_next = (uint8_t)(f->expect_next == 255u ? 1u : f->expect_next + 1u);
    }
}

/* REQ: REQ-ENT-010 */
static void test_device_params_are_virtio_entropy(void **state)
{
    fx *f = *state;
    svd_dev_params p;
    memset(&p, 0xff, sizeof(p));
    svd_entropy_dev_params(&p);
    assert_int_equal(p.device_id, 4u);
    assert_int_equal(p.device_features, 0u);
    assert_int_equal(p.num_queues, 1u);
    assert_true(p.queue_max >= 1u && (p.queue_max & (p.queue_max - 1u)) == 0u);
    assert_null(p.config);
    assert_int_equal(p.config_len, 0u);
    uint32_t v = 0u;
    assert_true(svd_is_err(svd_dev_config_read(&f->dev, 0u, 1u, &v), SVD_ERR_BOUNDS));
    assert_int_equal(svd_dev_host_features_word(&f->dev, 0u),
                     (uint32_t)(SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-020 */
static void test_init_validates_config(void **state)
{
    fx *f = *state;
    svd_entropy_cfg c = f->cfg;
    c.source.read = NULL;
    assert_true(svd_is_err(svd_entropy_init(&f->ent, &c, 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_entropy_init(&f->ent, NULL, 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_entropy_init(NULL, &f->cfg, 0u), SVD_ERR_INVALID_ARG));
    c = f->cfg;
    c.rate_bytes.size = 64u; /* refill_ns 0 with a limited bucket */
    assert_true(svd_is_err(svd_entropy_init(&f->ent, &c, 0u), SVD_ERR_INVALID_ARG));
    c = f->cfg;
    c.rate_ops.size = SVD_TB_MAX_SIZE + 1u;
    c.rate_ops.refill_ns = 1u;
    assert_true(svd_is_err(svd_entropy_init(&f->ent, &c, 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, 0u)));
    assert_int_equal(f->ent.retry_ns, SVD_ENTROPY_DEFAULT_RETRY_NS);
    assert_false(f->ent.pending.valid);
    c = f->cfg;
    c.retry_ns = 77u;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &c, 0u)));
    assert_int_equal(f->ent.retry_ns, 77u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-011 REQ-ENT-013 */
static void test_fills_write_only_buffers_with_source_bytes(void **state)
{
    fx *f = *state;
    start(f);
    for (uint16_t h = 0u; h < 3u; h++) {
        post_w(f, h, BUF_GPA + 0x100u * h, 64u);
    }
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 3u);
    assert_int_equal(f->out.bytes, 192u);
    assert_false(f->out.wake);
    assert_true(f->ev.irq);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_QUEUE);
    for (uint16_t h = 0u; h < 3u; h++) {
        expect_used(f, h, 64u);
        expect_source_bytes(f, BUF_GPA + 0x100u * h, 64u);
        /* Nothing past the buffer. */
        assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u * h + 64u, 0x100u - 64u, SENTINEL));
    }
    expect_no_used(f);
    assert_true(tg_mem_all(&f->mem, BUF_GPA - 1u, 1u, 0u)); /* byte before untouched */
    assert_int_equal(f->ent.stats.requests, 3u);
    assert_int_equal(f->ent.stats.bytes, 192u);
    /* Empty queue: nothing happens. */
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 0u);
    assert_false(f->ev.irq);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-011 REQ-ENT-012 */
static void test_attack_read_only_buffer_gets_nothing_and_len_0(void **state)
{
    fx *f = *state;
    start(f);
    tg_vring_set_desc(&f->ring, 0u, BUF_GPA, 64u, 0u, 0u);
    tg_vring_publish(&f->ring, 0u);
    /* A zero-length writable descriptor has no writable byte either. */
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x100u, 0u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 1u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 2u);
    assert_int_equal(f->out.bytes, 0u);
    expect_used(f, 0u, 0u);
    expect_used(f, 1u, 0u);
    assert_int_equal(f->src.calls, 0u); /* the source was never asked */
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 0x200u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-011 */
static void test_attack_chain_mixing_readable_and_writable(void **state)
{
    fx *f = *state;
    start(f);
    tg_vring_set_desc(&f->ring, 0u, BUF_GPA, 16u, SVD_VRING_DESC_F_NEXT, 1u);
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x100u, 8u, SVD_VRING_DESC_F_NEXT, 2u);
    tg_vring_set_desc(&f->ring, 2u, BUF_GPA + 0x200u, 24u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 3u);
    tg_vring_set_desc(&f->ring, 3u, BUF_GPA + 0x300u, 40u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 0u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 1u);
    expect_used(f, 0u, 64u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 0x100u, SENTINEL));
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 0x100u, SENTINEL));
    expect_source_bytes(f, BUF_GPA + 0x200u, 24u);
    expect_source_bytes(f, BUF_GPA + 0x300u, 40u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x200u + 24u, 0x100u - 24u, SENTINEL));
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x300u + 40u, 0x100u - 40u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-011 REQ-ENT-013 */
static void test_indirect_chain_is_filled(void **state)
{
    fx *f = *state;
    start(f);
    const uint64_t table = RAM_GPA + 0x2000u;
    tg_vring_set_indirect(&f->ring, table, 0u, BUF_GPA, 32u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 1u);
    tg_vring_set_indirect(&f->ring, table, 1u, BUF_GPA + 0x100u, 32u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_set_desc(&f->ring, 5u, table, 32u, SVD_VRING_DESC_F_INDIRECT, 0u);
    tg_vring_publish(&f->ring, 5u);
    assert_true(svd_is_ok(kick(f, T0)));
    expect_used(f, 5u, 64u);
    expect_source_bytes(f, BUF_GPA, 32u);
    expect_source_bytes(f, BUF_GPA + 0x100u, 32u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A chain longer than the model records: the extra segments were validated
 * by the queue but are neither filled nor counted. */
/* REQ: REQ-ENT-011 REQ-ENT-013 */
static void test_attack_chain_longer_than_recorded_segments(void **state)
{
    fx *f = *state;
    start(f);
    const uint64_t table = RAM_GPA + 0x2000u;
    const uint16_t n = SVD_ENTROPY_MAX_SEGS + 2u;
    for (uint16_t i = 0u; i < n; i++) {
        const uint16_t fl = (uint16_t)(SVD_VRING_DESC_F_WRITE | (i + 1u < n ? SVD_VRING_DESC_F_NEXT : 0u));
        tg_vring_set_indirect(&f->ring, table, i, BUF_GPA + 0x10u * i, 4u, fl, (uint16_t)(i + 1u));
    }
    tg_vring_set_desc(&f->ring, 0u, table, 16u * n, SVD_VRING_DESC_F_INDIRECT, 0u);
    tg_vring_publish(&f->ring, 0u);
    assert_true(svd_is_ok(kick(f, T0)));
    expect_used(f, 0u, 4u * SVD_ENTROPY_MAX_SEGS);
    for (uint16_t i = 0u; i < n; i++) {
        if (i < SVD_ENTROPY_MAX_SEGS) {
            expect_source_bytes(f, BUF_GPA + 0x10u * i, 4u);
        } else {
            assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x10u * i, 4u, SENTINEL));
        }
        assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x10u * i + 4u, 12u, SENTINEL));
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-014 REQ-ENT-013 */
static void test_source_failing_then_recovering(void **state)
{
    fx *f = *state;
    f->cfg.retry_ns = 5000u;
    start(f);
    const svd_err modes[] = { SVD_ERR_SOURCE, SVD_ERR_AGAIN, SVD_OK /* 0 bytes */ };
    uint64_t now = T0;
    for (size_t i = 0; i < 3u; i++) {
        f->src.fail = 2u;
        f->src.fail_err = modes[i];
        post_w(f, (uint16_t)i, BUF_GPA + 0x100u * i, 64u);
        for (int attempt = 0; attempt < 2; attempt++) {
            assert_true(svd_is_ok(kick(f, now)));
            assert_int_equal(f->out.completed, 0u);
            assert_true(f->out.wake);
            assert_int_equal(f->out.wake_at, now + 5000u);
            expect_no_used(f);
            assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u * i, 64u, SENTINEL)); /* no fake fill */
            now = f->out.wake_at;
        }
        assert_true(svd_is_ok(kick(f, now)));
        assert_int_equal(f->out.completed, 1u);
        assert_false(f->out.wake);
        expect_used(f, (uint32_t)i, 64u);
        expect_source_bytes(f, BUF_GPA + 0x100u * i, 64u);
    }
    assert_int_equal(f->ent.stats.source_failures, 6u);
    assert_int_equal(f->ent.stats.requests, 3u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-014 */
static void test_attack_source_claiming_more_than_asked_is_a_failure(void **state)
{
    fx *f = *state;
    start(f);
    f->src.overclaim = true;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 0u);
    assert_true(f->out.wake);
    assert_int_equal(f->out.wake_at, T0 + SVD_ENTROPY_DEFAULT_RETRY_NS);
    expect_no_used(f);
    f->src.overclaim = false;
    assert_true(svd_is_ok(kick(f, f->out.wake_at)));
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-015 REQ-ENT-013 */
static void test_short_reads_keep_filling(void **state)
{
    fx *f = *state;
    start(f);
    f->src.cap = 10u;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_int_equal(f->src.calls, 7u);
    assert_int_equal(f->src.lens[0], 64u);
    assert_int_equal(f->src.lens[1], 54u);
    assert_int_equal(f->src.lens[6], 4u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-015 REQ-ENT-013 REQ-ENT-011 */
static void test_short_read_then_failure_completes_with_what_was_written(void **state)
{
    fx *f = *state;
    start(f);
    f->src.cap = 10u;
    f->src.fail_after = 2u; /* two good calls of 10 bytes, then dry */
    f->src.fail_err = SVD_ERR_SOURCE;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 1u);
    assert_false(f->out.wake);
    expect_used(f, 0u, 20u);
    expect_source_bytes(f, BUF_GPA, 20u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 20u, 44u, SENTINEL));
    assert_int_equal(f->ent.stats.source_failures, 1u);
    /* Next request: the source is dry: it waits, nothing fake. */
    post_w(f, 1u, BUF_GPA + 0x100u, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 0u);
    assert_true(f->out.wake);
    expect_no_used(f);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 64u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-015 REQ-ENT-011 */
static void test_source_dry_in_first_segment_leaves_later_segments_alone(void **state)
{
    fx *f = *state;
    start(f);
    f->src.cap = 8u;
    f->src.fail_after = 1u;
    f->src.fail_err = SVD_ERR_AGAIN;
    tg_vring_set_desc(&f->ring, 0u, BUF_GPA, 32u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 1u);
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x100u, 32u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 0u);
    assert_true(svd_is_ok(kick(f, T0)));
    expect_used(f, 0u, 8u);
    expect_source_bytes(f, BUF_GPA, 8u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 8u, 24u, SENTINEL));
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 32u, SENTINEL));
    assert_int_equal(f->src.calls, 2u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-016 REQ-ENT-006 */
static void test_rate_limiter_exhausts_and_refills(void **state)
{
    fx *f = *state;
    const svd_tb_cfg bytes = { 128u, 0u, 1000000000u }; /* 128 B/s */
    f->cfg.rate_bytes = bytes;
    start(f);
    for (uint16_t h = 0u; h < 4u; h++) {
        post_w(f, h, BUF_GPA + 0x100u * h, 64u);
    }
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 2u);
    assert_true(f->out.wake);
    assert_int_equal(f->out.wake_at, T0 + 500000000u); /* 64 bytes at 128 B/s */
    const uint64_t wake = f->out.wake_at;
    /* Early retry: still deferred, same wake time. */
    assert_true(svd_is_ok(kick(f, wake - 1u)));
    assert_int_equal(f->out.completed, 0u);
    assert_true(f->out.wake);
    assert_int_equal(f->out.wake_at, wake);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x200u, 64u, SENTINEL));
    assert_true(svd_is_ok(kick(f, wake)));
    assert_int_equal(f->out.completed, 1u);
    assert_true(f->out.wake);
    assert_true(svd_is_ok(kick(f, f->out.wake_at)));
    assert_int_equal(f->out.completed, 1u);
    assert_false(f->out.wake);
    for (uint16_t h = 0u; h < 4u; h++) {
        expect_used(f, h, 64u);
        expect_source_bytes(f, BUF_GPA + 0x100u * h, 64u);
    }
    assert_int_equal(f->ent.stats.rate_deferrals, 3u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-016 REQ-ENT-006 */
static void test_attack_buffer_larger_than_byte_bucket_gets_bucket_size(void **state)
{
    fx *f = *state;
    const svd_tb_cfg bytes = { 100u, 0u, 1000000u };
    const svd_tb_cfg ops = { 1u, 0u, 1000000u }; /* 1 request per ms */
    f->cfg.rate_bytes = bytes;
    f->cfg.rate_ops = ops;
    start(f);
    post_w(f, 0u, BUF_GPA, 4096u);
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x2000u, 8u, 0u, 0u); /* read-only: still costs an op */
    tg_vring_publish(&f->ring, 1u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 1u);
    assert_true(f->out.wake);
    assert_int_equal(f->out.wake_at, T0 + 1000000u);
    expect_used(f, 0u, 100u);
    expect_source_bytes(f, BUF_GPA, 100u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 100u, 4096u - 100u, SENTINEL));
    assert_true(svd_is_ok(kick(f, T0 + 1000000u)));
    expect_used(f, 1u, 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-017 */
static void test_reset_mid_request_drops_pending(void **state)
{
    fx *f = *state;
    for (int explicit_reset = 0; explicit_reset < 2; explicit_reset++) {
        memset(&f->ring, 0, sizeof(f->ring));
        (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
        tg_mem_fill(&f->mem, BUF_GPA, 0x1000u, SENTINEL);
        f->src.fail = 1u;
        f->src.fail_err = SVD_ERR_SOURCE;
        start(f);
        post_w(f, 3u, BUF_GPA, 64u);
        assert_true(svd_is_ok(kick(f, T0)));
        assert_true(f->out.wake);
        assert_true(f->ent.pending.valid);
        /* The driver resets the device while the request waits. */
        status(f, 0u);
        assert_true(f->ev.reset);
        if (explicit_reset != 0) {
            svd_entropy_reset(&f->ent);
            assert_false(f->ent.pending.valid);
        }
        /* The timer fires on a device that is not live: nothing is touched. */
        svd_vq *q = &f->dev.queues[0];
        assert_true(svd_is_err(svd_entropy_process(&f->ent, q, &f->mem.map, T0 + 1u, &f->out), SVD_ERR_STATE));
        assert_int_equal(f->out.completed, 0u);
        assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
        assert_false(f->ent.pending.valid);
        /* Fresh rings, new request: only it is completed, the old head never. */
        (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
        bring_up(f, SVD_F_VERSION_1);
        post_w(f, 1u, BUF_GPA + 0x100u, 64u);
        assert_true(svd_is_ok(kick(f, T0 + 2u)));
        assert_int_equal(f->out.completed, 1u);
        expect_used(f, 1u, 64u);
        expect_no_used(f);
        assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
        expect_source_bytes(f, BUF_GPA + 0x100u, 64u);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-017 REQ-ENT-016 */
static void test_reset_while_rate_deferred_drops_pending(void **state)
{
    fx *f = *state;
    const svd_tb_cfg ops = { 1u, 0u, 1000u };
    f->cfg.rate_ops = ops;
    start(f);
    post_w(f, 0u, BUF_GPA, 64u);
    post_w(f, 1u, BUF_GPA + 0x100u, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 1u);
    assert_true(f->out.wake);
    assert_true(f->ent.pending.valid); /* head 1 popped, deferred */
    /* The queue is reset and set up again without the model being told. */
    (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
    bring_up(f, SVD_F_VERSION_1);
    post_w(f, 2u, BUF_GPA + 0x200u, 64u);
    assert_true(svd_is_ok(kick(f, T0 + 1000u)));
    assert_int_equal(f->out.completed, 1u);
    expect_used(f, 2u, 64u); /* not head 1 from the old epoch */
    expect_no_used(f);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 64u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-019 */
static void test_unusable_queue_is_refused(void **state)
{
    fx *f = *state;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    prime_health(f);
    svd_vq *q = &f->dev.queues[0];
    assert_true(svd_is_err(svd_entropy_process(&f->ent, q, &f->mem.map, T0, &f->out), SVD_ERR_STATE));
    bring_up(f, SVD_F_VERSION_1);
    post_w(f, 0u, BUF_GPA, 64u);
    /* The memory map changed since the queue was enabled. */
    svd_gmem m2 = f->mem.map;
    m2.generation++;
    assert_true(svd_is_err(svd_entropy_process(&f->ent, q, &m2, T0, &f->out), SVD_ERR_STATE));
    assert_int_equal(f->src.calls, 0u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
    expect_no_used(f);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A request left pending (the source gave nothing) is not filled through a
 * memory map other than the one its queue was enabled with. */
/* REQ: REQ-ENT-019 */
static void test_pending_request_refused_after_map_change(void **state)
{
    fx *f = *state;
    f->src.fail = 1u;
    f->src.fail_err = SVD_ERR_SOURCE;
    start(f);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_true(f->ent.pending.valid);
    const uint32_t calls = f->src.calls;
    svd_vq *q = &f->dev.queues[0];
    svd_gmem m2 = f->mem.map;
    m2.generation++;
    assert_true(svd_is_err(svd_entropy_process(&f->ent, q, &m2, T0 + 1u, &f->out), SVD_ERR_STATE));
    assert_int_equal(f->src.calls, calls);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
    expect_no_used(f);
    assert_true(f->ent.pending.valid);
    /* Through the map the queue was enabled with, it is served. */
    assert_true(svd_is_ok(svd_entropy_process(&f->ent, q, &f->mem.map, T0 + 2u, &f->out)));
    assert_int_equal(f->out.completed, 1u);
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A shim that does not latch the device after a protocol error still gets
 * nothing more out of the broken queue. */
/* REQ: REQ-ENT-019 */
static void test_attack_broken_queue_stays_refused(void **state)
{
    fx *f = *state;
    start(f);
    svd_vq *q = NULL;
    assert_true(svd_is_ok(svd_dev_notify(&f->dev, 0u, &q)));
    tg_vring_set_avail_idx(&f->ring, (uint16_t)(QSIZE + 1u)); /* rust-vmm #196 jump */
    assert_true(svd_is_err(svd_entropy_process(&f->ent, q, &f->mem.map, T0, &f->out), SVD_ERR_PROTOCOL));
    assert_true(svd_is_err(svd_entropy_process(&f->ent, q, &f->mem.map, T0, &f->out), SVD_ERR_STATE));
    assert_int_equal(f->src.calls, 0u);
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-019 */
static void test_attack_broken_ring_reports_protocol_error(void **state)
{
    fx *f = *state;
    start(f);
    tg_vring_set_avail_slot(&f->ring, 0u, 0x7777u); /* head out of range */
    tg_vring_set_avail_idx(&f->ring, 1u);
    assert_true(svd_is_err(kick(f, T0), SVD_ERR_PROTOCOL));
    assert_true(svd_dev_needs_reset(&f->dev));
    assert_true(f->ev.failed);
    assert_int_equal(svd_dev_isr(&f->dev) & SVD_ISR_CONFIG, SVD_ISR_CONFIG);
    assert_int_equal(f->src.calls, 0u);
    expect_no_used(f);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-018 REQ-ENT-011 */
static void test_buffer_across_region_edge_filled_piecewise(void **state)
{
    fx *f = *state;
    /* Two regions, adjacent in guest-physical space, apart in the host:
     * [RAM_GPA, +0x8000) -> ram[0..0x8000), [RAM_GPA+0x8000, +0x7000) -> ram[0x9000..). */
    svd_gmem_init(&f->mem.map);
    assert_true(svd_is_ok(svd_gmem_add(&f->mem.map, RAM_GPA, 0x8000u, f->mem.ram, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    assert_true(svd_is_ok(svd_gmem_add(&f->mem.map, RAM_GPA + 0x8000u, 0x7000u, f->mem.ram + 0x9000u,
                                       SVD_GMEM_READ | SVD_GMEM_WRITE)));
    start(f);
    const uint64_t gpa = RAM_GPA + 0x8000u - 24u;
    post_w(f, 0u, gpa, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    expect_used(f, 0u, 64u);
    assert_int_equal(f->src.calls, 2u);
    assert_int_equal(f->src.lens[0], 24u);
    assert_int_equal(f->src.lens[1], 40u);
    expect_source_bytes(f, gpa, 24u); /* first region maps linearly */
    const uint8_t *second = f->mem.ram + 0x9000u;
    for (size_t i = 0; i < 40u; i++) {
        assert_int_equal(second[i], (uint8_t)(25u + i));
    }
    assert_int_equal(second[40], SENTINEL);
    /* The host gap between the two regions is untouched. */
    assert_true(tg_mem_all(&f->mem, RAM_GPA + 0x8000u, 0x1000u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-014 */
static void test_wake_time_saturates_at_clock_end(void **state)
{
    fx *f = *state;
    f->cfg.retry_ns = UINT64_MAX;
    start(f);
    f->src.fail = 1u;
    f->src.fail_err = SVD_ERR_SOURCE;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_true(f->out.wake);
    assert_int_equal(f->out.wake_at, UINT64_MAX);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* Every 64-byte request the Linux guest posts gets 64 bytes while the source works. */
/* REQ: REQ-ENT-013 */
static void test_many_requests_around_the_ring(void **state)
{
    fx *f = *state;
    f->cfg.retry_ns = 1u;
    start(f);
    for (uint32_t i = 0u; i < 100u; i++) {
        const uint16_t head = (uint16_t)(i % QSIZE);
        post_w(f, head, BUF_GPA + 0x40u * head, 64u);
        assert_true(svd_is_ok(kick(f, T0 + i)));
        assert_int_equal(f->out.completed, 1u);
        expect_used(f, head, 64u);
        expect_source_bytes(f, BUF_GPA + 0x40u * head, 64u);
    }
    assert_int_equal(f->ent.stats.bytes, 6400u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* The first 1024 source bytes go to the health tests' start-up test, asked
 * for in one call whatever the request size; the guest gets only the bytes
 * after them.
 * REQ: REQ-ENT-030 REQ-HLT-003 */
static void test_health_startup_bytes_never_reach_the_guest(void **state)
{
    fx *f = *state;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    assert_int_equal(f->ent.stats.health_state, SVD_HEALTH_STARTUP);
    bring_up(f, SVD_F_VERSION_1);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 1u);
    expect_used(f, 0u, 64u);
    assert_int_equal(f->src.calls, 2u);
    assert_int_equal(f->src.lens[0], SVD_HEALTH_STARTUP_SAMPLES);
    assert_int_equal(f->src.lens[1], 64u);
    /* The counter ran through 1024 values (1..255 cycling) before the guest's bytes. */
    for (size_t i = 0; i < SVD_HEALTH_STARTUP_SAMPLES; i++) {
        f->expect_next = (uint8_t)(f->expect_next == 255u ? 1u : f->expect_next + 1u);
    }
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_int_equal(f->ent.stats.health_discarded, SVD_HEALTH_STARTUP_SAMPLES);
    assert_int_equal(f->ent.stats.health_state, SVD_HEALTH_OK);
}

/* A source stuck on one byte (here: /dev/zero's zeros) after working: the
 * health tests discard its bytes, the request stays pending (no byte written
 * to the guest, a retry asked for); when the source is healthy again the
 * request is served after a recovery start-up test, with healthy bytes only.
 * REQ: REQ-ENT-030 REQ-ENT-031 REQ-HLT-004 REQ-HLT-007 */
static void test_attack_stuck_source_request_stays_pending(void **state)
{
    fx *f = *state;
    start(f);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    f->src.stuck = true;
    f->src.stuck_value = 0u;
    post_w(f, 1u, BUF_GPA + 0x100u, 64u);
    for (int i = 0; i < 5; i++) {
        assert_true(svd_is_ok(kick(f, T0 + (uint64_t)i)));
        assert_int_equal(f->out.completed, 0u);
        assert_true(f->out.wake);
        expect_no_used(f);
        assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 64u, SENTINEL));
    }
    assert_int_equal(f->ent.stats.health_state, SVD_HEALTH_FAILED);
    assert_true(f->ent.stats.health_rct_failures >= 5u);
    /* Healthy again: recovery takes 1024 bytes, then the request completes. */
    f->src.stuck = false;
    assert_true(svd_is_ok(kick(f, T0 + 10u)));
    assert_int_equal(f->out.completed, 1u);
    expect_used(f, 1u, 64u);
    assert_int_equal(f->ent.stats.health_state, SVD_HEALTH_OK);
    {
        const uint8_t *p = tg_mem_ptr(&f->mem, BUF_GPA + 0x100u);
        size_t zeros = 0;
        for (size_t i = 0; i < 64u; i++) {
            zeros += p[i] == 0u;
        }
        assert_int_equal(zeros, 0u); /* the counter source never emits 0 */
    }
}

/* A start-up test that cannot complete within one fill (the source gives
 * 16 bytes a call) leaves the request pending until the retry; a request
 * larger than the stage is filled a stage at a time; min_entropy is checked.
 * REQ: REQ-ENT-030 REQ-ENT-032 */
static void test_health_slow_startup_large_request_and_config(void **state)
{
    fx *f = *state;
    svd_entropy_cfg c = f->cfg;
    c.min_entropy = 9u;
    assert_true(svd_is_err(svd_entropy_init(&f->ent, &c, T0), SVD_ERR_INVALID_ARG));
    c.min_entropy = 4u;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &c, T0)));
    bring_up(f, SVD_F_VERSION_1);
    f->src.cap = 16u;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->out.completed, 0u);
    assert_true(f->out.wake);
    assert_int_equal(f->src.calls, SVD_ENTROPY_STARTUP_ROUNDS);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
    /* More rounds finish the start-up test (1024 / 16 = 64 calls). */
    for (int i = 1; i < 9 && f->out.completed == 0u; i++) {
        assert_true(svd_is_ok(svd_entropy_process(&f->ent, &f->dev.queues[0], &f->mem.map, T0 + (uint64_t)i,
                                                  &f->out)));
    }
    assert_int_equal(f->out.completed, 1u);
    expect_used(f, 0u, 64u);
    /* A buffer twice the stage: filled in stage-sized source calls. */
    f->src.cap = 0u;
    f->src.calls = 0u;
    post_w(f, 1u, BUF_GPA + 0x1000u, 2u * SVD_ENTROPY_STAGE);
    assert_true(svd_is_ok(kick(f, T0 + 20u)));
    expect_used(f, 1u, 2u * SVD_ENTROPY_STAGE);
    assert_int_equal(f->src.calls, 2u);
    assert_int_equal(f->src.lens[0], SVD_ENTROPY_STAGE);
    assert_int_equal(f->src.lens[1], SVD_ENTROPY_STAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_device_params_are_virtio_entropy),
        T(test_health_startup_bytes_never_reach_the_guest),
        T(test_attack_stuck_source_request_stays_pending),
        T(test_health_slow_startup_large_request_and_config),
        T(test_init_validates_config),
        T(test_fills_write_only_buffers_with_source_bytes),
        T(test_attack_read_only_buffer_gets_nothing_and_len_0),
        T(test_attack_chain_mixing_readable_and_writable),
        T(test_indirect_chain_is_filled),
        T(test_attack_chain_longer_than_recorded_segments),
        T(test_source_failing_then_recovering),
        T(test_attack_source_claiming_more_than_asked_is_a_failure),
        T(test_short_reads_keep_filling),
        T(test_short_read_then_failure_completes_with_what_was_written),
        T(test_source_dry_in_first_segment_leaves_later_segments_alone),
        T(test_rate_limiter_exhausts_and_refills),
        T(test_attack_buffer_larger_than_byte_bucket_gets_bucket_size),
        T(test_reset_mid_request_drops_pending),
        T(test_reset_while_rate_deferred_drops_pending),
        T(test_unusable_queue_is_refused),
        T(test_pending_request_refused_after_map_change),
        T(test_attack_broken_queue_stays_refused),
        T(test_attack_broken_ring_reports_protocol_error),
        T(test_buffer_across_region_edge_filled_piecewise),
        T(test_wake_time_saturates_at_clock_end),
        T(test_many_requests_around_the_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
