/* Unit tests of the virtio-entropy model (src/core/entropy.c), driven the
 * way a product drives it: the model plugged into the composed engine
 * (svd_vdev over virtio-mmio), a virtio driver (tests/common/tg_vdrv) and a
 * split-ring driver model over canary-guarded guest RAM. A notify write runs
 * the model inside the access; a request left waiting is served again by
 * svd_vdev_tick() at the deadline the effect asked for. The model's own
 * defences (a queue the engine would never hand it) are tested on its
 * interface (svd_model.serve) directly. The entropy source is a test double
 * that emits a counter pattern (1, 2, ..., 255, 1, ...: never 0), so
 * delivered bytes can be told from zeros and from untouched sentinels.
 * Adversarial tests are test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/entropy.h"
#include "safevdev/vdev.h"
#include "tg_mem.h"
#include "tg_vdrv.h"
#include "tg_vring.h"

#define RAM_GPA 0x100000u
#define RAM_SIZE 0x10000u
#define QSIZE 32u
#define BUF_GPA (RAM_GPA + 0x4000u) /* data buffers live from here */
#define SENTINEL 0x5Cu
#define T0 1000000u
#define MMIO_BASE 0xd0000000u
#define NS_PER_S UINT64_C(1000000000)

typedef struct tsrc {
    uint8_t next;      /* next counter value */
    uint32_t calls;    /* read() calls */
    size_t cap;        /* max bytes per call (0 = no cap) */
    uint32_t fail;     /* fail this many calls first */
    svd_err fail_err;  /* error to fail with; SVD_OK = return 0 bytes */
    uint32_t fail_after; /* after this many good calls, fail forever (0 = never) */
    bool overclaim;    /* report more bytes than asked */
    size_t lens[64];   /* len of each call */
    const uint8_t *bufs[64]; /* where each call was asked to write */
    bool stuck;        /* deliver stuck_value only (a stuck source) */
    uint8_t stuck_value;
} tsrc;

static svd_result tsrc_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    tsrc *t = ctx;
    if (t->calls < 64u) {
        t->lens[t->calls] = len;
        t->bufs[t->calls] = buf;
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

typedef struct fix {
    tg_mem mem;
    tg_vring ring;
    svd_entropy ent;
    svd_entropy_cfg cfg;
    svd_budget budget;   /* the composed engine's work per call (zero: the defaults) */
    svd_vdev v;
    tg_vdrv drv;
    tsrc src;
    svd_fx fx;           /* effect of the last tick / host reset */
    uint32_t done;       /* requests completed by the last kick / tick */
    uint64_t bytes;      /* bytes delivered by the last kick / tick */
    uint64_t deadline;   /* deadline the last kick / tick asked for */
    uint8_t expect_next; /* the counter value the next delivered byte must have */
} fix;

static int setup(void **state)
{
    static fix f;
    memset(&f, 0, sizeof(f));
    if (tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE) != 0) {
        return -1;
    }
    tg_mem_fill(&f.mem, BUF_GPA, RAM_SIZE - 0x4000u, SENTINEL);
    (void)tg_vring_init(&f.ring, &f.mem, QSIZE, RAM_GPA);
    f.src.next = 1u;
    f.expect_next = 1u;
    f.cfg.source.read = tsrc_read;
    f.cfg.source.ctx = &f.src;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    const bool ok = tg_mem_canaries_intact(&f->mem);
    tg_mem_free(&f->mem);
    return ok ? 0 : -1;
}

static const svd_entropy_stats *stats(const fix *f)
{
    return svd_entropy_stats_of(&f->ent);
}

/* The guest driver brings the device up with @feats over the current rings. */
/* DEVICE_NEEDS_RESET is latched: what the status byte says. */
static bool latched(const fix *f)
{
    return (svd_vdev_status(&f->v) & SVD_STATUS_NEEDS_RESET) != 0u;
}

static void bring_up(fix *f, uint64_t feats)
{
    f->drv.errors = 0u;
    assert_true(tg_vdrv_up(&f->drv, feats, &f->ring, 1u));
}

/* The model's health tests begin with a start-up test that takes the first
 * 1024 source bytes; the tests of the model's other rules start past it (fed
 * here straight to the health engine), so the counts and bytes they check
 * are the source's own. The health path has its own tests (test_health_*,
 * and tests/unit/test_health.c for the engine). */
static void prime_health(fix *f)
{
    uint8_t b[SVD_HEALTH_STARTUP_SAMPLES];
    for (size_t i = 0; i < sizeof(b); i++) {
        b[i] = (uint8_t)(i * 7u + 1u);
    }
    assert_true(svd_is_err(svd_health_feed(&f->ent.health, b, sizeof(b), NULL), SVD_ERR_AGAIN));
    assert_int_equal(svd_health_state_of(&f->ent.health), SVD_HEALTH_OK);
}

/* The composed engine over the instance f->ent already holds. */
static void compose(fix *f)
{
    svd_vdev_cfg c;
    memset(&c, 0, sizeof(c));
    c.xport = SVD_XPORT_MMIO;
    svd_entropy_model(&f->ent, &c.model);
    c.mmio_base = MMIO_BASE;
    c.mmio_vendor = 0x554d4551u;
    c.budget = f->budget;
    assert_true(svd_is_ok(svd_vdev_init(&f->v, &c, &f->mem.map)));
    tg_vdrv_init(&f->drv, &f->v, SVD_XPORT_MMIO, MMIO_BASE);
    f->drv.now = T0;
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_INDIRECT_DESC);
}

/* The product's composition: the entropy instance created at T0 from
 * f->cfg (its health start-up test passed), its model in a virtio-mmio
 * device, the guest driver up. */
static void start(fix *f)
{
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    prime_health(f);
    compose(f);
}

/* What a call did, from the model's totals and the call's effect. */
static void account(fix *f, uint64_t req0, uint64_t bytes0, const svd_fx *fx)
{
    f->done = (uint32_t)(stats(f)->requests - req0);
    f->bytes = stats(f)->bytes - bytes0;
    f->deadline = fx->deadline;
}

/* The guest notifies the queue at @now (a QueueNotify write). */
static svd_result kick(fix *f, uint64_t now)
{
    const uint64_t r0 = stats(f)->requests;
    const uint64_t b0 = stats(f)->bytes;
    f->drv.now = now;
    const svd_result r = tg_vdrv_notify(&f->drv, 0u);
    account(f, r0, b0, &f->drv.fx);
    return r;
}

/* The shim's timer fires at @now. */
static void tick(fix *f, uint64_t now)
{
    const uint64_t r0 = stats(f)->requests;
    const uint64_t b0 = stats(f)->bytes;
    svd_vdev_tick(&f->v, now, &f->fx);
    account(f, r0, b0, &f->fx);
}

/* The last call left a request waiting. */
static bool waiting(const fix *f)
{
    return f->deadline != SVD_NO_DEADLINE;
}

static void post_w(fix *f, uint16_t head, uint64_t gpa, uint32_t len)
{
    tg_vring_set_desc(&f->ring, head, gpa, len, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, head);
}

/* The next used element is @head with @len. */
static void expect_used(fix *f, uint32_t head, uint32_t len)
{
    uint32_t id = 0xffffu, l = 0xffffu;
    assert_true(tg_vring_get_used(&f->ring, &id, &l));
    assert_int_equal(id, head);
    assert_int_equal(l, len);
}

static void expect_no_used(fix *f)
{
    uint32_t id, l;
    assert_false(tg_vring_get_used(&f->ring, &id, &l));
}

/* Bytes [gpa, gpa+len) carry the next @len counter values. */
static void expect_source_bytes(fix *f, uint64_t gpa, size_t len)
{
    const uint8_t *p = tg_mem_ptr(&f->mem, gpa);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(p[i], f->expect_next);
        f->expect_next = (uint8_t)(f->expect_next == 255u ? 1u : f->expect_next + 1u);
    }
}

/* The model's interface, called directly as the engine would (for the
 * model's own defences against a queue the engine would never hand it). */
static svd_result serve_direct(fix *f, svd_vq *q, const svd_gmem *m, uint64_t now, uint64_t *wake)
{
    const svd_budget b = { SVD_BUDGET_DEFAULT_BYTES, SVD_BUDGET_DEFAULT_DESCS };
    svd_model md;
    svd_entropy_model(&f->ent, &md);
    return md.serve(md.ctx, q, 0u, m, now, &b, wake);
}

/* A queue of its own over f->ring, enabled, that no device engine knows about. */
static void own_queue(fix *f, svd_vq *q)
{
    assert_true(svd_is_ok(svd_vq_init(q, QSIZE)));
    assert_true(svd_is_ok(tg_vring_attach(&f->ring, q)));
    assert_true(svd_is_ok(svd_vq_set_features(q, false, true)));
    assert_true(svd_is_ok(svd_vq_enable(q, &f->mem.map)));
}

/* REQ: REQ-ENT-010 REQ-VDEV-008 */
static void test_model_is_virtio_entropy(void **state)
{
    fix *f = *state;
    svd_model p;
    memset(&p, 0xff, sizeof(p));
    svd_entropy_model(&f->ent, &p);
    assert_int_equal(p.device_id, 4u);
    assert_int_equal(p.device_features, 0u);
    assert_int_equal(p.num_queues, 1u);
    assert_int_equal(p.queue_max, SVD_ENTROPY_QUEUE_MAX);
    assert_true(p.queue_max >= 1u && (p.queue_max & (p.queue_max - 1u)) == 0u);
    assert_null(p.config);
    assert_int_equal(p.config_len, 0u);
    assert_non_null(p.serve);
    assert_non_null(p.reset);
    assert_ptr_equal(p.ctx, &f->ent);
    /* As the guest sees it through the transport. */
    start(f);
    assert_int_equal(tg_vdrv_rd(&f->drv, SVD_MMIO_DEVICE_ID, 4u), 4u);
    assert_int_equal(tg_vdrv_rd(&f->drv, SVD_MMIO_QUEUE_NUM_MAX, 4u), SVD_ENTROPY_QUEUE_MAX);
    assert_true(svd_is_ok(tg_vdrv_wr(&f->drv, SVD_MMIO_DEVICE_FEATURES_SEL, 4u, 0u)));
    assert_int_equal(tg_vdrv_rd(&f->drv, SVD_MMIO_DEVICE_FEATURES, 4u),
                     (uint32_t)(SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC));
    assert_int_equal(tg_vdrv_rd(&f->drv, SVD_MMIO_CONFIG_OFFSET, 1u), 0u);
    assert_true(svd_is_err(f->drv.last, SVD_ERR_BOUNDS)); /* no configuration space */
    assert_int_equal(svd_vdev_features(&f->v),
                     SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC | SVD_F_RING_PACKED);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-020.a REQ-ENT-020.b */
static void test_init_validates_config(void **state)
{
    fix *f = *state;
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
    assert_int_equal(f->ent.open_retry_ns, SVD_ENTROPY_DEFAULT_OPEN_RETRY_NS);
    assert_int_equal(f->ent.open_timeout_ns, 0u);
    assert_true(f->ent.opened); /* no source-open policy: the source counts as open */
    assert_false(svd_entropy_gave_up(&f->ent));
    assert_false(f->ent.pending.valid);
    assert_int_equal(stats(f)->requests, 0u);
    c = f->cfg;
    c.retry_ns = 77u;
    c.open_timeout_ns = 5u;
    c.open_retry_ns = 3u;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &c, 0u)));
    assert_int_equal(f->ent.retry_ns, 77u);
    assert_int_equal(f->ent.open_retry_ns, 3u);
    assert_false(f->ent.opened); /* a policy: open only once the source delivered */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-011 REQ-ENT-013 */
static void test_fills_write_only_buffers_with_source_bytes(void **state)
{
    fix *f = *state;
    start(f);
    for (uint16_t h = 0u; h < 3u; h++) {
        post_w(f, h, BUF_GPA + 0x100u * h, 64u);
    }
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 3u);
    assert_int_equal(f->bytes, 192u);
    assert_false(waiting(f));
    /* The line rose in the notify write itself. */
    assert_true(f->drv.fx.irq_changed);
    assert_true(f->drv.fx.irq_level);
    assert_int_equal(f->drv.fx.queue_notify, 1u);
    for (uint16_t h = 0u; h < 3u; h++) {
        expect_used(f, h, 64u);
        expect_source_bytes(f, BUF_GPA + 0x100u * h, 64u);
        /* Nothing past the buffer. */
        assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u * h + 64u, 0x100u - 64u, SENTINEL));
    }
    expect_no_used(f);
    assert_true(tg_mem_all(&f->mem, BUF_GPA - 1u, 1u, 0u)); /* byte before untouched */
    assert_int_equal(stats(f)->requests, 3u);
    assert_int_equal(stats(f)->bytes, 192u);
    /* The driver takes the interrupt; an empty queue then raises nothing. */
    assert_int_equal(tg_vdrv_take_irq(&f->drv), SVD_ISR_QUEUE);
    assert_false(f->drv.fx.irq_level);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 0u);
    assert_int_equal(f->drv.fx.queue_notify, 0u);
    assert_false(f->drv.fx.irq_level);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-011 REQ-ENT-012 */
static void test_attack_read_only_buffer_gets_nothing_and_len_0(void **state)
{
    fix *f = *state;
    start(f);
    tg_vring_set_desc(&f->ring, 0u, BUF_GPA, 64u, 0u, 0u);
    tg_vring_publish(&f->ring, 0u);
    /* A zero-length writable descriptor has no writable byte either. */
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x100u, 0u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 1u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 2u);
    assert_int_equal(f->bytes, 0u);
    expect_used(f, 0u, 0u);
    expect_used(f, 1u, 0u);
    assert_int_equal(f->src.calls, 0u); /* the source was never asked */
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 0x200u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-011 */
static void test_attack_chain_mixing_readable_and_writable(void **state)
{
    fix *f = *state;
    start(f);
    tg_vring_set_desc(&f->ring, 0u, BUF_GPA, 16u, SVD_VRING_DESC_F_NEXT, 1u);
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x100u, 8u, SVD_VRING_DESC_F_NEXT, 2u);
    tg_vring_set_desc(&f->ring, 2u, BUF_GPA + 0x200u, 24u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 3u);
    tg_vring_set_desc(&f->ring, 3u, BUF_GPA + 0x300u, 40u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 0u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 1u);
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
    fix *f = *state;
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
    fix *f = *state;
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

/* REQ: REQ-ENT-014.a REQ-ENT-014.b REQ-ENT-014.c REQ-ENT-013 */
/* FM: FM-ENT-001 */
static void test_source_failing_then_recovering(void **state)
{
    fix *f = *state;
    f->cfg.retry_ns = 5000u;
    start(f);
    const svd_err modes[] = { SVD_ERR_SOURCE, SVD_ERR_AGAIN, SVD_OK /* 0 bytes */ };
    uint64_t now = T0;
    for (size_t i = 0; i < 3u; i++) {
        f->src.fail = 2u;
        f->src.fail_err = modes[i];
        post_w(f, (uint16_t)i, BUF_GPA + 0x100u * i, 64u);
        for (int attempt = 0; attempt < 2; attempt++) {
            if (attempt == 0) {
                assert_true(svd_is_ok(kick(f, now))); /* the guest's notify */
            } else {
                tick(f, now); /* the retry timer */
            }
            assert_int_equal(f->done, 0u);
            assert_true(waiting(f));
            assert_int_equal(f->deadline, now + 5000u);
            expect_no_used(f);
            assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u * i, 64u, SENTINEL)); /* no fake fill */
            now = f->deadline;
        }
        tick(f, now);
        assert_int_equal(f->done, 1u);
        assert_false(waiting(f));
        expect_used(f, (uint32_t)i, 64u);
        expect_source_bytes(f, BUF_GPA + 0x100u * i, 64u);
    }
    assert_int_equal(stats(f)->source_failures, 6u);
    assert_int_equal(stats(f)->requests, 3u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-014.a REQ-ENT-014.b REQ-ENT-014.c */
/* FM: FM-ENT-002 */
static void test_attack_source_claiming_more_than_asked_is_a_failure(void **state)
{
    fix *f = *state;
    start(f);
    f->src.overclaim = true;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 0u);
    assert_true(waiting(f));
    assert_int_equal(f->deadline, T0 + SVD_ENTROPY_DEFAULT_RETRY_NS);
    expect_no_used(f);
    f->src.overclaim = false;
    tick(f, f->deadline);
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-015 REQ-ENT-013 */
static void test_short_reads_keep_filling(void **state)
{
    fix *f = *state;
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
    fix *f = *state;
    start(f);
    f->src.cap = 10u;
    f->src.fail_after = 2u; /* two good calls of 10 bytes, then dry */
    f->src.fail_err = SVD_ERR_SOURCE;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 1u);
    assert_false(waiting(f));
    expect_used(f, 0u, 20u);
    expect_source_bytes(f, BUF_GPA, 20u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 20u, 44u, SENTINEL));
    assert_int_equal(stats(f)->source_failures, 1u);
    /* Next request: the source is dry: it waits, nothing fake. */
    post_w(f, 1u, BUF_GPA + 0x100u, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 0u);
    assert_true(waiting(f));
    expect_no_used(f);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 64u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-015 REQ-ENT-011 */
static void test_source_dry_in_first_segment_leaves_later_segments_alone(void **state)
{
    fix *f = *state;
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

/* REQ: REQ-ENT-016.a REQ-ENT-016.b REQ-ENT-016.c REQ-ENT-006 */
/* FM: FM-ENT-005 */
static void test_rate_limiter_exhausts_and_refills(void **state)
{
    fix *f = *state;
    const svd_tb_cfg bytes = { 128u, 0u, 1000000000u }; /* 128 B/s */
    f->cfg.rate_bytes = bytes;
    start(f);
    for (uint16_t h = 0u; h < 4u; h++) {
        post_w(f, h, BUF_GPA + 0x100u * h, 64u);
    }
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 2u);
    assert_true(waiting(f));
    assert_int_equal(f->deadline, T0 + 500000000u); /* 64 bytes at 128 B/s */
    const uint64_t wake = f->deadline;
    /* An early kick: still deferred, same wake time; an early tick serves nothing. */
    assert_true(svd_is_ok(kick(f, wake - 1u)));
    assert_int_equal(f->done, 0u);
    assert_true(waiting(f));
    assert_int_equal(f->deadline, wake);
    const uint64_t deferrals = stats(f)->rate_deferrals;
    tick(f, wake - 1u);
    assert_int_equal(f->done, 0u);
    assert_int_equal(f->deadline, wake);
    assert_int_equal(stats(f)->rate_deferrals, deferrals); /* not even asked */
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x200u, 64u, SENTINEL));
    tick(f, wake);
    assert_int_equal(f->done, 1u);
    assert_true(waiting(f));
    tick(f, f->deadline);
    assert_int_equal(f->done, 1u);
    assert_false(waiting(f));
    for (uint16_t h = 0u; h < 4u; h++) {
        expect_used(f, h, 64u);
        expect_source_bytes(f, BUF_GPA + 0x100u * h, 64u);
    }
    assert_int_equal(stats(f)->rate_deferrals, 3u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-016.a REQ-ENT-016.b REQ-ENT-016.c REQ-ENT-016.d REQ-ENT-006 */
static void test_attack_buffer_larger_than_byte_bucket_gets_bucket_size(void **state)
{
    fix *f = *state;
    const svd_tb_cfg bytes = { 100u, 0u, 1000000u };
    const svd_tb_cfg ops = { 1u, 0u, 1000000u }; /* 1 request per ms */
    f->cfg.rate_bytes = bytes;
    f->cfg.rate_ops = ops;
    start(f);
    post_w(f, 0u, BUF_GPA, 4096u);
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x2000u, 8u, 0u, 0u); /* read-only: still costs an op */
    tg_vring_publish(&f->ring, 1u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 1u);
    assert_true(waiting(f));
    assert_int_equal(f->deadline, T0 + 1000000u);
    expect_used(f, 0u, 100u);
    expect_source_bytes(f, BUF_GPA, 100u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 100u, 4096u - 100u, SENTINEL));
    tick(f, T0 + 1000000u);
    expect_used(f, 1u, 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-017 */
static void test_reset_mid_request_drops_pending(void **state)
{
    fix *f = *state;
    for (int host_reset = 0; host_reset < 2; host_reset++) {
        memset(&f->ring, 0, sizeof(f->ring));
        (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
        tg_mem_fill(&f->mem, BUF_GPA, 0x1000u, SENTINEL);
        f->src.fail = 1u;
        f->src.fail_err = SVD_ERR_SOURCE;
        start(f);
        post_w(f, 3u, BUF_GPA, 64u);
        assert_true(svd_is_ok(kick(f, T0)));
        assert_true(waiting(f));
        assert_true(f->ent.pending.valid);
        if (host_reset == 0) {
            /* The driver resets the device while the request waits. */
            assert_true(svd_is_ok(tg_vdrv_set_status(&f->drv, 0u)));
            assert_true(f->drv.fx.reset);
            assert_int_equal(f->drv.fx.deadline, SVD_NO_DEADLINE);
        } else {
            /* The host resets the guest while the request waits. */
            svd_vdev_reset(&f->v, T0, &f->fx);
            assert_true(f->fx.reset);
            assert_int_equal(f->fx.deadline, SVD_NO_DEADLINE);
        }
        assert_false(f->ent.pending.valid); /* the model was told */
        /* The timer the shim armed fires anyway: nothing is touched. */
        const uint32_t calls = f->src.calls;
        tick(f, T0 + SVD_ENTROPY_DEFAULT_RETRY_NS);
        assert_int_equal(f->done, 0u);
        assert_int_equal(f->src.calls, calls);
        assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
        /* Fresh rings, new request: only it is completed, the old head never. */
        (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
        bring_up(f, SVD_F_VERSION_1);
        post_w(f, 1u, BUF_GPA + 0x100u, 64u);
        assert_true(svd_is_ok(kick(f, T0 + 2u)));
        assert_int_equal(f->done, 1u);
        expect_used(f, 1u, 64u);
        expect_no_used(f);
        assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
        expect_source_bytes(f, BUF_GPA + 0x100u, 64u);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* The engine always tells the model of a reset; a queue reset behind the
 * model's back (the epoch moved) must still drop the request it holds. */
/* REQ: REQ-ENT-017 REQ-ENT-016.b REQ-ENT-016.c */
static void test_attack_queue_reset_behind_the_models_back_drops_pending(void **state)
{
    fix *f = *state;
    const svd_tb_cfg ops = { 1u, 0u, 1000u };
    f->cfg.rate_ops = ops;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    prime_health(f);
    svd_vq q;
    own_queue(f, &q);
    post_w(f, 0u, BUF_GPA, 64u);
    post_w(f, 1u, BUF_GPA + 0x100u, 64u);
    uint64_t wake = 0u;
    assert_true(svd_is_ok(serve_direct(f, &q, &f->mem.map, T0, &wake)));
    assert_int_equal(stats(f)->requests, 1u);
    assert_int_equal(wake, T0 + 1000u);
    assert_true(f->ent.pending.valid); /* head 1 popped, deferred */
    /* The queue is reset and set up again without the model being told. */
    svd_vq_reset(&q);
    (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
    assert_true(svd_is_ok(tg_vring_attach(&f->ring, &q)));
    assert_true(svd_is_ok(svd_vq_enable(&q, &f->mem.map)));
    post_w(f, 2u, BUF_GPA + 0x200u, 64u);
    assert_true(svd_is_ok(serve_direct(f, &q, &f->mem.map, T0 + 1000u, &wake)));
    assert_int_equal(stats(f)->requests, 2u);
    assert_int_equal(wake, SVD_NO_DEADLINE);
    expect_used(f, 2u, 64u); /* not head 1 from the old epoch */
    expect_no_used(f);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 64u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* The shim changed the memory map (a region added) without restarting the
 * queue: the device hands the queue to the model, which refuses it
 * untouched rather than use ring pointers from the old map. */
/* REQ: REQ-ENT-019 */
static void test_attack_kick_after_the_memory_map_changed_is_refused(void **state)
{
    fix *f = *state;
    static uint8_t extra[64];
    start(f);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(svd_gmem_add(&f->mem.map, 0x4000000u, sizeof(extra), extra, SVD_GMEM_READ)));
    assert_true(svd_is_err(kick(f, T0), SVD_ERR_STATE));
    assert_int_equal(f->done, 0u);
    assert_false(f->drv.fx.failed); /* nobody broke a rule */
    assert_false(latched(f));
    assert_false(waiting(f));
    assert_int_equal(f->src.calls, 0u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
    expect_no_used(f);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* The model's own check, on a queue the engine would never hand it. */
/* REQ: REQ-ENT-019 */
static void test_unusable_queue_is_refused(void **state)
{
    fix *f = *state;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    prime_health(f);
    svd_vq q;
    uint64_t wake = 0u;
    assert_true(svd_is_ok(svd_vq_init(&q, QSIZE)));
    assert_true(svd_is_err(serve_direct(f, &q, &f->mem.map, T0, &wake), SVD_ERR_STATE)); /* disabled */
    assert_int_equal(wake, SVD_NO_DEADLINE);
    own_queue(f, &q);
    post_w(f, 0u, BUF_GPA, 64u);
    /* The memory map changed since the queue was enabled. */
    svd_gmem m2 = f->mem.map;
    m2.generation++;
    assert_true(svd_is_err(serve_direct(f, &q, &m2, T0, &wake), SVD_ERR_STATE));
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
    fix *f = *state;
    f->src.fail = 1u;
    f->src.fail_err = SVD_ERR_SOURCE;
    start(f);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_true(f->ent.pending.valid);
    const uint32_t calls = f->src.calls;
    svd_vq *q = &f->v.dev.queues[0];
    svd_gmem m2 = f->mem.map;
    m2.generation++;
    uint64_t wake = 0u;
    assert_true(svd_is_err(serve_direct(f, q, &m2, T0 + 1u, &wake), SVD_ERR_STATE));
    assert_int_equal(f->src.calls, calls);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
    expect_no_used(f);
    assert_true(f->ent.pending.valid);
    /* Through the map the queue was enabled with, it is served (the timer). */
    tick(f, T0 + SVD_ENTROPY_DEFAULT_RETRY_NS);
    assert_int_equal(f->done, 1u);
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* The model passes the queue's protocol error on; a caller that kept
 * calling it anyway gets nothing more out of the broken queue. */
/* REQ: REQ-ENT-019 */
static void test_attack_broken_queue_stays_refused(void **state)
{
    fix *f = *state;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    prime_health(f);
    svd_vq q;
    own_queue(f, &q);
    tg_vring_set_avail_idx(&f->ring, (uint16_t)(QSIZE + 1u)); /* rust-vmm #196 jump */
    uint64_t wake = 0u;
    const svd_result r = serve_direct(f, &q, &f->mem.map, T0, &wake);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_AVAIL_JUMP);
    assert_int_equal(wake, SVD_NO_DEADLINE);
    assert_true(svd_is_err(serve_direct(f, &q, &f->mem.map, T0, &wake), SVD_ERR_STATE));
    assert_int_equal(f->src.calls, 0u);
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-019 */
static void test_attack_broken_ring_latches_the_device_with_its_reason(void **state)
{
    fix *f = *state;
    start(f);
    tg_vring_set_avail_slot(&f->ring, 0u, 0x7777u); /* head out of range */
    tg_vring_set_avail_idx(&f->ring, 1u);
    const svd_result r = kick(f, T0);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_HEAD_RANGE);
    assert_true(f->drv.fx.failed);
    assert_int_equal(f->drv.fx.why, SVD_WHY_HEAD_RANGE);
    assert_true(latched(f));
    assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_HEAD_RANGE);
    assert_true(f->drv.fx.config_notify);
    assert_true(f->drv.fx.irq_level);
    assert_int_equal(tg_vdrv_take_irq(&f->drv) & SVD_ISR_CONFIG, SVD_ISR_CONFIG);
    assert_int_equal(f->src.calls, 0u);
    expect_no_used(f);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-ENT-018 REQ-ENT-011 */
static void test_buffer_across_region_edge_filled_piecewise(void **state)
{
    fix *f = *state;
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

/* A retry beyond the end of the clock saturates there, which is "no
 * deadline": the request stays pending and the next notify serves it. */
/* REQ: REQ-ENT-014.a REQ-ENT-014.b REQ-ENT-014.c */
static void test_wake_time_saturates_at_clock_end(void **state)
{
    fix *f = *state;
    f->cfg.retry_ns = UINT64_MAX;
    start(f);
    f->src.fail = 1u;
    f->src.fail_err = SVD_ERR_SOURCE;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 0u);
    assert_int_equal(f->deadline, UINT64_MAX);
    assert_int_equal(SVD_NO_DEADLINE, UINT64_MAX);
    assert_true(f->ent.pending.valid);
    expect_no_used(f);
    assert_true(svd_is_ok(kick(f, T0 + 1u)));
    assert_int_equal(f->done, 1u);
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* Every 64-byte request the Linux guest posts gets 64 bytes while the source works. */
/* REQ: REQ-ENT-013 */
static void test_many_requests_around_the_ring(void **state)
{
    fix *f = *state;
    f->cfg.retry_ns = 1u;
    start(f);
    for (uint32_t i = 0u; i < 100u; i++) {
        const uint16_t head = (uint16_t)(i % QSIZE);
        post_w(f, head, BUF_GPA + 0x40u * head, 64u);
        assert_true(svd_is_ok(kick(f, T0 + i)));
        assert_int_equal(f->done, 1u);
        expect_used(f, head, 64u);
        expect_source_bytes(f, BUF_GPA + 0x40u * head, 64u);
    }
    assert_int_equal(stats(f)->bytes, 6400u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* ------------------------------------------------------- work per call */

/* One call moves at most the budget's bytes: a larger request is filled
 * over several calls, each asking to be called again at once (deadline =
 * now), its bytes contiguous, completed (and interrupted for) only when it
 * has them all. */
/* REQ: REQ-VDEV-012.a REQ-VDEV-012.c REQ-VDEV-012.d REQ-VDEV-012.e REQ-ENT-013 */
static void test_request_larger_than_the_budget_is_served_over_several_calls(void **state)
{
    fix *f = *state;
    f->budget.bytes = 1000u;
    start(f);
    /* 4096 writable bytes in two segments: the progress crosses the edge. */
    tg_vring_set_desc(&f->ring, 0u, BUF_GPA, 2048u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 1u);
    tg_vring_set_desc(&f->ring, 1u, BUF_GPA + 0x1000u, 2048u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 0u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 0u);
    assert_int_equal(f->deadline, T0); /* again, at once */
    assert_int_equal(f->drv.fx.queue_notify, 0u);
    assert_false(f->drv.fx.irq_level);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 1000u, 2048u - 1000u, SENTINEL));
    expect_no_used(f);
    uint64_t now = T0;
    for (unsigned call = 2u; call <= 4u; call++) {
        tick(f, now);
        assert_int_equal(f->done, 0u);
        assert_int_equal(f->deadline, now);
        expect_no_used(f);
        now += 1u;
    }
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x1000u + 2000u, 48u, SENTINEL)); /* 4000 so far */
    tick(f, now);
    assert_int_equal(f->done, 1u);
    assert_int_equal(f->bytes, 4096u);
    assert_int_equal(f->deadline, SVD_NO_DEADLINE);
    assert_true(f->fx.irq_level);
    expect_used(f, 0u, 4096u);
    expect_source_bytes(f, BUF_GPA, 2048u);
    expect_source_bytes(f, BUF_GPA + 0x1000u, 2048u);
    assert_int_equal(stats(f)->bytes, 4096u);
    assert_int_equal(stats(f)->requests, 1u);
    assert_int_equal(f->src.lens[0], 1000u); /* never asked for more than the budget */
    /* Progress is the request's: a reset drops it, the next request starts at its first byte. */
    tg_vring_set_desc(&f->ring, 2u, BUF_GPA + 0x2000u, 2048u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 2u);
    assert_true(svd_is_ok(kick(f, now)));
    assert_int_equal(f->ent.done, 1000u);
    svd_vdev_reset(&f->v, now, &f->fx);
    assert_int_equal(f->ent.done, 0u);
    (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
    f->drv.now = now;
    bring_up(f, SVD_F_VERSION_1);
    tg_mem_fill(&f->mem, BUF_GPA, 1500u, SENTINEL);
    post_w(f, 0u, BUF_GPA, 1500u);
    assert_true(svd_is_ok(kick(f, now)));
    tick(f, now);
    expect_used(f, 0u, 1500u);
    const uint8_t *p = tg_mem_ptr(&f->mem, BUF_GPA);
    for (size_t i = 0; i + 1u < 1500u; i++) {
        assert_int_equal(p[i + 1u], p[i] == 255u ? 1u : p[i] + 1u); /* one contiguous run of source bytes */
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* Requests that use the byte budget up exactly: the call stops at the
 * boundary and the next request waits for the next call. */
/* REQ: REQ-VDEV-012.a REQ-VDEV-012.d */
static void test_byte_budget_spent_at_a_request_boundary(void **state)
{
    fix *f = *state;
    f->budget.bytes = 128u;
    start(f);
    for (uint16_t h = 0u; h < 3u; h++) {
        post_w(f, h, BUF_GPA + 0x100u * h, 64u);
    }
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 2u);
    assert_int_equal(f->bytes, 128u);
    assert_int_equal(f->deadline, T0);
    assert_true(f->drv.fx.irq_level); /* what was completed is reported at once */
    expect_used(f, 0u, 64u);
    expect_used(f, 1u, 64u);
    expect_no_used(f);
    assert_false(f->ent.pending.valid); /* the third was not even taken */
    tick(f, T0);
    assert_int_equal(f->done, 1u);
    assert_int_equal(f->deadline, SVD_NO_DEADLINE);
    expect_used(f, 2u, 64u);
    for (uint16_t h = 0u; h < 3u; h++) {
        expect_source_bytes(f, BUF_GPA + 0x100u * h, 64u);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A source that gives out after a call of progress: the request is
 * completed with the bytes it has (a prefix), never padded. */
/* REQ: REQ-VDEV-012.d REQ-VDEV-012.e REQ-ENT-015 */
static void test_source_dry_after_some_progress_completes_with_what_it_has(void **state)
{
    fix *f = *state;
    f->budget.bytes = 1000u;
    start(f);
    post_w(f, 0u, BUF_GPA, 4096u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->deadline, T0);
    f->src.fail = 1000u;
    f->src.fail_err = SVD_ERR_SOURCE;
    tick(f, T0);
    assert_int_equal(f->done, 1u);
    assert_int_equal(f->bytes, 1000u);
    expect_used(f, 0u, 1000u);
    expect_source_bytes(f, BUF_GPA, 1000u);
    assert_true(tg_mem_all(&f->mem, BUF_GPA + 1000u, 4096u - 1000u, SENTINEL));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* No further chain is taken once the call's descriptors are spent; a chain
 * is always taken (validated) whole, even past the budget. */
/* REQ: REQ-VDEV-012.b REQ-VDEV-012.d */
static void test_descriptor_budget_stops_taking_chains(void **state)
{
    fix *f = *state;
    f->budget.descs = 2u;
    start(f);
    for (uint16_t h = 0u; h < 3u; h++) {
        post_w(f, h, BUF_GPA + 0x100u * h, 16u);
    }
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 2u);
    assert_int_equal(f->deadline, T0);
    expect_used(f, 0u, 16u);
    expect_used(f, 1u, 16u);
    expect_no_used(f);
    tick(f, T0);
    assert_int_equal(f->done, 1u);
    assert_int_equal(f->deadline, SVD_NO_DEADLINE);
    expect_used(f, 2u, 16u);
    /* A three-descriptor chain with a budget of two: taken whole. */
    tg_vring_set_desc(&f->ring, 3u, BUF_GPA + 0x400u, 8u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 4u);
    tg_vring_set_desc(&f->ring, 4u, BUF_GPA + 0x500u, 8u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 5u);
    tg_vring_set_desc(&f->ring, 5u, BUF_GPA + 0x600u, 8u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 3u);
    post_w(f, 6u, BUF_GPA + 0x700u, 8u);
    assert_true(svd_is_ok(kick(f, T0 + 1u)));
    assert_int_equal(f->done, 1u);
    assert_int_equal(f->deadline, T0 + 1u);
    expect_used(f, 3u, 24u);
    expect_no_used(f);
    tick(f, T0 + 1u);
    expect_used(f, 6u, 8u);
    assert_int_equal(f->deadline, SVD_NO_DEADLINE);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* ----------------------------------------------------- source-open policy */

/* A source that may take a while to open (a daemon's device file): the
 * model waits from the guest's first request, retrying every
 * open_retry_ns, and gives up exactly at open_timeout_ns, not before. */
/* REQ: REQ-ENT-014.a REQ-ENT-021.a REQ-ENT-021.b REQ-ENT-021.c */
/* FM: FM-ENT-004 */
static void test_source_open_policy_gives_up_at_its_limit_not_before(void **state)
{
    fix *f = *state;
    f->cfg.open_timeout_ns = 5u * NS_PER_S;
    f->cfg.open_retry_ns = NS_PER_S;
    f->src.fail = 1000u;
    f->src.fail_err = SVD_ERR_SOURCE;
    start(f);
    /* The clock starts at the first request, not at init (T0). */
    const uint64_t t1 = T0 + 100u * NS_PER_S;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, t1)));
    assert_int_equal(f->deadline, t1 + NS_PER_S);
    for (uint64_t k = 1u; k <= 4u; k++) {
        tick(f, t1 + k * NS_PER_S);
        assert_false(f->fx.failed);
        assert_int_equal(f->deadline, t1 + (k + 1u) * NS_PER_S);
    }
    /* One nanosecond before the limit the guest kicks: still waiting, and
     * the next retry is pulled in to the limit itself. */
    assert_true(svd_is_ok(kick(f, t1 + 5u * NS_PER_S - 1u)));
    assert_false(f->drv.fx.failed);
    assert_false(svd_entropy_gave_up(&f->ent));
    assert_int_equal(f->deadline, t1 + 5u * NS_PER_S);
    expect_no_used(f);
    /* At the limit: given up, the device latched for it, the guest told. */
    tick(f, t1 + 5u * NS_PER_S);
    assert_true(f->fx.failed);
    assert_int_equal(f->fx.why, SVD_WHY_SOURCE_GAVE_UP);
    assert_true(f->fx.config_notify);
    assert_true(f->fx.irq_level);
    assert_int_equal(f->deadline, SVD_NO_DEADLINE);
    assert_true(svd_entropy_gave_up(&f->ent));
    assert_true(latched(f));
    assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_SOURCE_GAVE_UP);
    expect_no_used(f);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL)); /* no fake fill */
    assert_int_equal(stats(f)->source_failures, 7u); /* one last attempt at the limit itself */

    /* Giving up is final: the source comes back, the guest resets the
     * device and asks again: refused at once, the source not even asked. */
    f->src.fail = 0u;
    (void)tg_vring_init(&f->ring, &f->mem, QSIZE, RAM_GPA);
    f->drv.now = t1 + 6u * NS_PER_S;
    bring_up(f, SVD_F_VERSION_1);
    assert_false(latched(f));
    const uint32_t calls = f->src.calls;
    post_w(f, 0u, BUF_GPA, 64u);
    const svd_result r = kick(f, t1 + 6u * NS_PER_S);
    assert_true(svd_is_err(r, SVD_ERR_SOURCE));
    assert_int_equal(r.why, SVD_WHY_SOURCE_GAVE_UP);
    assert_true(f->drv.fx.failed);
    assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_SOURCE_GAVE_UP);
    assert_int_equal(f->src.calls, calls);
    expect_no_used(f);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* open_timeout_ns = SVD_NO_DEADLINE: wait forever, retrying at the open
 * cadence (the default one here), and serve once the source opens. */
/* REQ: REQ-ENT-014.a REQ-ENT-014.c REQ-ENT-022 */
static void test_source_open_policy_forever_never_gives_up(void **state)
{
    fix *f = *state;
    f->cfg.open_timeout_ns = SVD_NO_DEADLINE;
    f->src.fail = 1000u;
    f->src.fail_err = SVD_ERR_AGAIN;
    start(f);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->deadline, T0 + SVD_ENTROPY_DEFAULT_OPEN_RETRY_NS);
    tick(f, f->deadline);
    assert_false(f->fx.failed);
    /* A year later it still waits. */
    const uint64_t late = T0 + UINT64_C(31536000) * NS_PER_S;
    tick(f, late);
    assert_false(f->fx.failed);
    assert_false(svd_entropy_gave_up(&f->ent));
    assert_false(latched(f));
    assert_int_equal(f->deadline, late + SVD_ENTROPY_DEFAULT_OPEN_RETRY_NS);
    expect_no_used(f);
    /* Even at the very end of the clock (where "forever" as a time would be reached). */
    assert_true(svd_is_ok(kick(f, UINT64_MAX)));
    assert_false(f->drv.fx.failed);
    assert_false(svd_entropy_gave_up(&f->ent));
    assert_int_equal(f->deadline, UINT64_MAX);
    /* The source opens: the request is served at the next notification. */
    f->src.fail = 0u;
    assert_true(svd_is_ok(kick(f, UINT64_MAX)));
    assert_int_equal(f->done, 1u);
    assert_false(waiting(f));
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A source that delivered once is open: a later outage is an ordinary
 * failure (retry_ns cadence), never a reason to give up. */
/* REQ: REQ-ENT-014.a REQ-ENT-014.b REQ-ENT-014.c REQ-ENT-022 */
static void test_source_open_policy_never_gives_up_on_a_source_that_delivered(void **state)
{
    fix *f = *state;
    f->cfg.open_timeout_ns = 5u * NS_PER_S;
    f->cfg.open_retry_ns = NS_PER_S;
    f->cfg.retry_ns = 7000u;
    start(f);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 1u);
    expect_used(f, 0u, 64u);
    expect_source_bytes(f, BUF_GPA, 64u);
    /* The source goes away for a long time. */
    f->src.fail = 1000u;
    f->src.fail_err = SVD_ERR_SOURCE;
    post_w(f, 1u, BUF_GPA + 0x100u, 64u);
    assert_true(svd_is_ok(kick(f, T0 + 1u)));
    assert_int_equal(f->deadline, T0 + 1u + 7000u); /* retry_ns, not open_retry_ns */
    for (uint64_t s = 10u; s <= 100u; s += 30u) {
        tick(f, T0 + s * NS_PER_S);
        assert_false(f->fx.failed);
        assert_int_equal(f->deadline, T0 + s * NS_PER_S + 7000u);
    }
    assert_false(svd_entropy_gave_up(&f->ent));
    assert_false(latched(f));
    expect_no_used(f);
    f->src.fail = 0u;
    tick(f, f->deadline);
    expect_used(f, 1u, 64u);
    expect_source_bytes(f, BUF_GPA + 0x100u, 64u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* The start-up test's bytes are discarded: the guest's first buffer gets
 * the bytes after the first 1024 the source gave. */
/* REQ: REQ-ENT-030.a REQ-ENT-030.b REQ-ENT-030.c REQ-ENT-032.c REQ-HLT-001 */
static void test_health_startup_bytes_never_reach_the_guest(void **state)
{
    fix *f = *state;
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    assert_int_equal(stats(f)->health_state, SVD_HEALTH_STARTUP);
    compose(f);
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 1u);
    expect_used(f, 0u, 64u);
    assert_int_equal(f->src.calls, 2u);
    assert_int_equal(f->src.lens[0], SVD_HEALTH_STARTUP_SAMPLES);
    assert_int_equal(f->src.lens[1], 64u);
    /* The counter ran through 1024 values (1..255 cycling) before the guest's bytes. */
    for (size_t i = 0; i < SVD_HEALTH_STARTUP_SAMPLES; i++) {
        f->expect_next = (uint8_t)(f->expect_next == 255u ? 1u : f->expect_next + 1u);
    }
    expect_source_bytes(f, BUF_GPA, 64u);
    assert_int_equal(stats(f)->health_discarded, SVD_HEALTH_STARTUP_SAMPLES);
    assert_int_equal(stats(f)->health_state, SVD_HEALTH_OK);
    /* The source was handed the model's stage, never the guest's buffer. */
    for (uint32_t i = 0u; i < f->src.calls && i < 64u; i++) {
        assert_ptr_equal(f->src.bufs[i], f->ent.stage);
    }
}

/* A stuck source: the request waits (never completed with the stuck bytes),
 * the failure is counted; once healthy again (1024 fresh bytes) it completes. */
/* REQ: REQ-ENT-030.a REQ-ENT-030.c REQ-ENT-031 */
/* FM: FM-ENT-003 */
static void test_attack_stuck_source_request_stays_pending(void **state)
{
    fix *f = *state;
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
        assert_int_equal(f->done, 0u);
        assert_true(waiting(f));
        expect_no_used(f);
        assert_true(tg_mem_all(&f->mem, BUF_GPA + 0x100u, 64u, SENTINEL));
    }
    assert_int_equal(stats(f)->health_state, SVD_HEALTH_FAILED);
    assert_true(stats(f)->health_rct_failures >= 5u);
    /* Healthy again: recovery takes 1024 bytes, then the request completes. */
    f->src.stuck = false;
    assert_true(svd_is_ok(kick(f, T0 + 10u)));
    assert_int_equal(f->done, 1u);
    expect_used(f, 1u, 64u);
    assert_int_equal(stats(f)->health_state, SVD_HEALTH_OK);
    const uint8_t *p = tg_mem_ptr(&f->mem, BUF_GPA + 0x100u);
    size_t zeros = 0;
    for (size_t i = 0; i < 64u; i++) {
        zeros += p[i] == 0u;
    }
    assert_int_equal(zeros, 0u); /* the counter source never emits 0 */
}

/* min_entropy bounds; a start-up test against a source of 16 bytes a call
 * gives up after SVD_ENTROPY_STARTUP_ROUNDS calls and resumes at the retry;
 * a buffer twice the stage is filled in stage-sized source calls. */
/* REQ: REQ-ENT-032.a REQ-ENT-032.b REQ-ENT-032.d REQ-ENT-032.e */
static void test_health_slow_startup_large_request_and_config(void **state)
{
    fix *f = *state;
    svd_entropy_cfg c = f->cfg;
    c.min_entropy = 9u;
    assert_true(svd_is_err(svd_entropy_init(&f->ent, &c, T0), SVD_ERR_INVALID_ARG));
    /* The health tests take their cut-offs from min_entropy (0: 8 bits). */
    const uint32_t hs[] = { 0u, 1u, 8u, 4u };
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        svd_health ref;
        assert_true(svd_is_ok(svd_health_init(&ref, hs[i] == 0u ? 8u : hs[i])));
        c.min_entropy = hs[i];
        assert_true(svd_is_ok(svd_entropy_init(&f->ent, &c, T0)));
        assert_int_equal(f->ent.health.rct_cutoff, ref.rct_cutoff);
        assert_int_equal(f->ent.health.apt_cutoff, ref.apt_cutoff);
    }
    assert_int_not_equal(f->ent.health.rct_cutoff, 6u); /* H = 4 is not H = 8's 1 + 40/8 */
    compose(f);
    f->src.cap = 16u;
    post_w(f, 0u, BUF_GPA, 64u);
    assert_true(svd_is_ok(kick(f, T0)));
    assert_int_equal(f->done, 0u);
    assert_true(waiting(f));
    assert_int_equal(f->src.calls, SVD_ENTROPY_STARTUP_ROUNDS);
    assert_true(tg_mem_all(&f->mem, BUF_GPA, 64u, SENTINEL));
    /* More rounds finish the start-up test (1024 / 16 = 64 calls), at the retries. */
    uint32_t done = 0u;
    for (int i = 1; i < 9 && done == 0u; i++) {
        tick(f, f->deadline);
        done = f->done;
    }
    assert_int_equal(done, 1u);
    expect_used(f, 0u, 64u);
    /* A buffer twice the stage: filled in stage-sized source calls. */
    f->src.cap = 0u;
    f->src.calls = 0u;
    post_w(f, 1u, BUF_GPA + 0x1000u, 2u * SVD_ENTROPY_STAGE);
    assert_true(svd_is_ok(kick(f, T0 + 20u * NS_PER_S)));
    expect_used(f, 1u, 2u * SVD_ENTROPY_STAGE);
    assert_int_equal(f->src.calls, 2u);
    assert_int_equal(f->src.lens[0], SVD_ENTROPY_STAGE);
    assert_int_equal(f->src.lens[1], SVD_ENTROPY_STAGE);
}

/* The request of the issue that measured 4 s in one call: a single 1 GiB
 * writable descriptor. Each call moves exactly the default budget (64 KiB),
 * asks to come back at once, and the request stays pending (it is completed
 * only whole); nothing is written past what the calls moved. */
/* REQ: REQ-VDEV-012.a REQ-VDEV-012.c REQ-VDEV-012.d */
/* FM: FM-VDEV-001 */
/* DFA: DFA-004 */
static void test_attack_gib_request_is_bounded_per_call(void **state)
{
    fix *f = *state;
    const uint64_t gib = UINT64_C(1) << 30;
    static tg_mem big;
    tg_vring ring;
    svd_vdev v;
    svd_fx fx;
    assert_int_equal(tg_mem_init(&big, RAM_GPA, (size_t)(gib + 0x10000u)), 0);
    (void)tg_vring_init(&ring, &big, 4u, RAM_GPA);
    assert_true(svd_is_ok(svd_entropy_init(&f->ent, &f->cfg, T0)));
    prime_health(f);
    svd_vdev_cfg c;
    memset(&c, 0, sizeof(c));
    c.xport = SVD_XPORT_NONE;
    svd_entropy_model(&f->ent, &c.model);
    assert_true(svd_is_ok(svd_vdev_init(&v, &c, &big.map)));
    svd_vq_setup qs;
    tg_vring_setup(&ring, false, false, &qs);
    assert_true(svd_is_ok(svd_vdev_queue_start(&v, 0u, &qs, &fx)));
    const uint64_t buf = RAM_GPA + 0x10000u;
    tg_vring_set_desc(&ring, 0u, buf, (uint32_t)gib, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&ring, 0u);
    uint64_t src_bytes = 0u;
    for (uint32_t call = 1u; call <= 4u; call++) {
        const uint32_t calls0 = f->src.calls;
        assert_true(svd_is_ok(svd_vdev_kick(&v, 0u, T0 + call, &fx)));
        uint64_t moved = 0u;
        for (uint32_t i = calls0; i < f->src.calls && i < 64u; i++) {
            moved += f->src.lens[i];
        }
        src_bytes += moved;
        assert_int_equal(moved, SVD_BUDGET_DEFAULT_BYTES); /* the budget, exactly */
        assert_int_equal(fx.deadline, T0 + call);        /* come back at once */
        uint32_t id = 0u, len = 0u;
        assert_false(tg_vring_get_used(&ring, &id, &len)); /* pending: never completed early */
    }
    /* Bytes past what the four calls moved are untouched. */
    assert_true(tg_mem_all(&big, buf + src_bytes, 4096u, 0u));
    assert_false(tg_mem_all(&big, buf + src_bytes - 4096u, 4096u, 0u));
    tg_mem_free(&big);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_model_is_virtio_entropy),
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
        T(test_attack_queue_reset_behind_the_models_back_drops_pending),
        T(test_attack_kick_after_the_memory_map_changed_is_refused),
        T(test_unusable_queue_is_refused),
        T(test_pending_request_refused_after_map_change),
        T(test_attack_broken_queue_stays_refused),
        T(test_attack_broken_ring_latches_the_device_with_its_reason),
        T(test_buffer_across_region_edge_filled_piecewise),
        T(test_wake_time_saturates_at_clock_end),
        T(test_many_requests_around_the_ring),
        T(test_request_larger_than_the_budget_is_served_over_several_calls),
        T(test_attack_gib_request_is_bounded_per_call),
        T(test_byte_budget_spent_at_a_request_boundary),
        T(test_source_dry_after_some_progress_completes_with_what_it_has),
        T(test_descriptor_budget_stops_taking_chains),
        T(test_source_open_policy_gives_up_at_its_limit_not_before),
        T(test_source_open_policy_forever_never_gives_up),
        T(test_source_open_policy_never_gives_up_on_a_source_that_delivered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
