/* Unit tests of the virtio device engine (src/core/device.c): status
 * machine, feature negotiation, queue configuration, the notification chain
 * (kick -> model -> used ring -> interrupt decision), deadlines, the latch
 * and its reason, the host-driven queue start, configuration space.
 *
 * The engine's functions are the core's internals (core_priv.h); products
 * reach them through the composed engine (test_vdev.c). A toy model
 * (tests/common/tg_model) stands in for a device model. Adversarial tests are
 * named test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_priv.h"
#include "safevdev/device.h"
#include "tg_mem.h"
#include "tg_model.h"
#include "tg_vring.h"

#define RAM_GPA 0x100000u
#define RAM_SIZE 0x10000u
#define BUF (RAM_GPA + 0x8000u)
#define QSIZE 8u
#define QMAX 16u
#define DEV_ID 26u
#define DEV_FEATS (UINT64_C(1) << 0 | UINT64_C(1) << 3)
#define ALL_TRANSPORT (SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC | SVD_F_RING_PACKED)
#define S_FOK (SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK)
#define S_LIVE (S_FOK | SVD_STATUS_DRIVER_OK)
#define T0 1000u

static const uint8_t cfg_bytes[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };

typedef struct fix {
    tg_mem mem;
    tg_vring ring;
    tg_model tm;
    svd_dev dev;
    svd_fx fx;
} fix;

static svd_model model_of(fix *f)
{
    svd_model m;
    tg_model_iface(&f->tm, &m, DEV_ID, 2u, QMAX, cfg_bytes, sizeof(cfg_bytes));
    m.device_features = DEV_FEATS;
    return m;
}

static int setup(void **state)
{
    static fix f;
    memset(&f, 0, sizeof(f));
    if (tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE) != 0) {
        return -1;
    }
    (void)tg_vring_init(&f.ring, &f.mem, QSIZE, RAM_GPA);
    tg_model_init(&f.tm);
    const svd_model m = model_of(&f);
    if (!svd_is_ok(svd_dev_init(&f.dev, &m, &f.mem.map, false))) {
        return -1;
    }
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

/* The effect of the next call starts empty (the composed engine clears it once per face call). */
static svd_fx *clr(fix *f)
{
    svd_fx_reset(&f->fx);
    return &f->fx;
}

static void status_ok(fix *f, uint8_t s)
{
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, s, clr(f))));
    assert_int_equal(svd_dev_status(&f->dev), s);
    assert_false(f->fx.failed);
}

static void negotiate(fix *f, uint64_t feats)
{
    status_ok(f, SVD_STATUS_ACKNOWLEDGE);
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, (uint32_t)feats)));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, (uint32_t)(feats >> 32))));
    status_ok(f, S_FOK);
}

/* The three ring addresses of queue @q, stopping at the first refusal. */
static svd_result set_rings(fix *f, uint32_t q, uint64_t desc, uint64_t avail, uint64_t used)
{
    SVD_GUARD(svd_dev_queue_set_addr(&f->dev, q, SVD_VQ_RING_DESC, desc, clr(f)));
    SVD_GUARD(svd_dev_queue_set_addr(&f->dev, q, SVD_VQ_RING_AVAIL, avail, clr(f)));
    return svd_dev_queue_set_addr(&f->dev, q, SVD_VQ_RING_USED, used, clr(f));
}

static void setup_queue0(fix *f)
{
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, clr(f))));
    assert_true(svd_is_ok(set_rings(f, 0u, f->ring.desc, f->ring.avail, f->ring.used)));
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 0u, true, clr(f))));
}

static void bring_up(fix *f, uint64_t feats)
{
    negotiate(f, feats);
    setup_queue0(f);
    status_ok(f, S_LIVE);
}

static const svd_vq *queue(const fix *f, uint32_t q)
{
    return svd_dev_queue(&f->dev, q);
}

/* DEVICE_NEEDS_RESET is latched. */
static bool is_latched(const fix *f)
{
    return (svd_dev_status(&f->dev) & SVD_STATUS_NEEDS_RESET) != 0u;
}

/* Check the latch, its reason, and what the effect says about the config interrupt. */
static void assert_latched(fix *f, svd_why why, bool was_live)
{
    assert_true(is_latched(f));
    assert_true((svd_dev_status(&f->dev) & SVD_STATUS_NEEDS_RESET) != 0u);
    assert_true(f->fx.failed);
    assert_string_equal(svd_why_name(f->fx.why), svd_why_name(why));
    assert_string_equal(svd_why_name(svd_dev_why(&f->dev)), svd_why_name(why));
    assert_int_equal(f->fx.config_notify, was_live);
    assert_int_equal((svd_dev_isr(&f->dev) & SVD_ISR_CONFIG) != 0u, was_live);
    assert_int_equal(svd_dev_config_generation(&f->dev), was_live ? 1u : 0u);
    for (uint32_t q = 0u; q < 2u; q++) {
        assert_false(svd_vq_enabled(queue(f, q)));
    }
}

/* A protocol error naming @why. */
static void assert_rule(svd_result r, svd_why why)
{
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_string_equal(svd_why_name(r.why), svd_why_name(why));
}

/* The driver offers one write-only buffer at head @head. */
static void offer(fix *f, uint16_t head)
{
    tg_vring_set_desc(&f->ring, head, BUF + 64u * head, 64u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, head);
}

/* The driver writes a reserved status bit: a protocol error in any state. */
static void bad_status_write(fix *f)
{
    const uint8_t s = svd_dev_status(&f->dev);
    assert_rule(svd_dev_set_status(&f->dev, (uint8_t)(s | 0x10u), clr(f)), SVD_WHY_STATUS_ORDER);
}

/* The model gives up on queue 0 of a live device (its backing service is
 * gone, as svd_entropy does after its source-open policy): the device
 * latches with SVD_WHY_SOURCE_GAVE_UP. */
static void model_gives_up(fix *f)
{
    f->tm.fail = svd_fail_why(SVD_ERR_SOURCE, SVD_WHY_SOURCE_GAVE_UP);
    offer(f, 0u);
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_SOURCE));
    f->tm.fail = svd_ok();
}

/* REQ: REQ-DEV-001 REQ-DEV-014 */
static void test_init_rejects_bad_models(void **state)
{
    fix *f = *state;
    svd_dev d;
    memset(&d, 0x77, sizeof(d));
    const svd_dev before = d;
    svd_model p;

    p = model_of(f);
    assert_true(svd_is_err(svd_dev_init(&d, NULL, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_dev_init(&d, &p, NULL, false), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_dev_init(NULL, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    p.serve = NULL;
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    p = model_of(f);
    p.reset = NULL;
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    p = model_of(f);
    p.device_id = 0u;
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    p = model_of(f);
    p.device_features = UINT64_C(1) << 24; /* transport bits are the engine's */
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    p.device_features = SVD_F_VERSION_1;
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, true), SVD_ERR_INVALID_ARG));
    const uint16_t bad_nq[] = { 0u, SVD_DEV_MAX_QUEUES + 1u };
    for (size_t i = 0; i < 2u; i++) {
        p = model_of(f);
        p.num_queues = bad_nq[i];
        assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    }
    const uint16_t bad_qmax[] = { 0u, 3u, 48u, 65535u };
    for (size_t i = 0; i < 4u; i++) {
        p = model_of(f);
        p.queue_max = bad_qmax[i];
        assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    }
    p = model_of(f);
    p.config = NULL;
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map, false), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&d, &before, sizeof(d));
    assert_int_equal(f->tm.resets, 0u); /* the model was never called */

    /* Largest queue and config-less device are fine. */
    p = model_of(f);
    p.queue_max = (uint16_t)SVD_VQ_MAX_SIZE;
    p.config = NULL;
    p.config_len = 0u;
    assert_true(svd_is_ok(svd_dev_init(&d, &p, &f->mem.map, false)));
    assert_int_equal(svd_vq_size(svd_dev_queue(&d, 0u)), SVD_VQ_MAX_SIZE);
    assert_int_equal(svd_dev_status(&d), 0u);
    assert_int_equal(svd_dev_why(&d), SVD_WHY_NONE);
    assert_int_equal(svd_dev_deadline(&d), SVD_NO_DEADLINE);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-002 */
static void test_host_features_add_transport_bits(void **state)
{
    fix *f = *state;
    const uint64_t want = DEV_FEATS | ALL_TRANSPORT;
    assert_int_equal(svd_dev_host_features(&f->dev), want);
    assert_int_equal(svd_dev_host_features_word(&f->dev, 0u), (uint32_t)want);
    assert_int_equal(svd_dev_host_features_word(&f->dev, 1u), (uint32_t)(want >> 32));
    assert_int_equal(svd_dev_host_features_word(&f->dev, 1u), 5u); /* VERSION_1 | RING_PACKED */
    assert_int_equal(svd_dev_host_features_word(&f->dev, 2u), 0u);
    assert_int_equal(svd_dev_host_features_word(&f->dev, 0xffffffffu), 0u);
    assert_int_equal(svd_dev_device_id(&f->dev), DEV_ID);
    assert_int_equal(svd_dev_num_queues(&f->dev), 2u);
    assert_int_equal(svd_dev_config_len(&f->dev), sizeof(cfg_bytes));
    assert_int_equal(svd_dev_queue_max(&f->dev, 0u), QMAX);
    assert_int_equal(svd_dev_queue_max(&f->dev, 1u), QMAX);
    assert_int_equal(svd_dev_queue_max(&f->dev, 2u), 0u);
    assert_null(svd_dev_queue(&f->dev, 2u));
    assert_non_null(svd_dev_queue(&f->dev, 1u));
    assert_int_equal(svd_vq_size(queue(f, 0u)), QMAX); /* preset to the maximum */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-004 REQ-DEV-002 REQ-DEV-009 */
static void test_full_bring_up_in_order(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | 1u);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), (uint32_t)(SVD_F_RING_EVENT_IDX | 1u));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 1u), 1u);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 7u), 0u);
    /* What was negotiated reached the queue; what was not did not. */
    assert_true(queue(f, 0u)->event_idx);
    assert_false(queue(f, 0u)->indirect);
    assert_false(is_latched(f));
    /* Re-writing the same status, and adding FAILED, are accepted. */
    status_ok(f, S_LIVE);
    status_ok(f, S_LIVE | SVD_STATUS_FAILED);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-004 */
static void test_several_bits_in_one_write_if_the_result_is_in_order(void **state)
{
    fix *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    status_ok(f, S_LIVE); /* FEATURES_OK and DRIVER_OK together, features valid */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-005 REQ-DEV-014 */
static void test_attack_features_ok_without_version_1_is_refused(void **state)
{
    fix *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE);
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, (uint32_t)SVD_F_RING_EVENT_IDX)));
    const svd_dev before = f->dev;
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_FOK, clr(f)), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_int_equal(svd_dev_status(&f->dev) & SVD_STATUS_FEATURES_OK, 0u); /* driver re-reads: clear */
    assert_false(is_latched(f));
    assert_false(f->fx.failed);
    assert_false(f->fx.config_notify);
    /* Trying to jump straight to DRIVER_OK with the bad set is refused the same way. */
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_LIVE, clr(f)), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    /* The driver fixes its features and succeeds. */
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    status_ok(f, S_FOK);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-005 */
static void test_attack_features_ok_with_unoffered_feature_is_refused(void **state)
{
    fix *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, 1u << 5))); /* not offered */
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_FOK, clr(f)), SVD_ERR_STATE));
    assert_int_equal(svd_dev_status(&f->dev), SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_false(is_latched(f));
    /* A feature in the high window that was not offered (bit 33). */
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, 0u)));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 3u)));
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_FOK, clr(f)), SVD_ERR_STATE));
    assert_false(is_latched(f));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 */
static void test_attack_status_bit_cleared_before_driver_ok_latches_without_irq(void **state)
{
    fix *f = *state;
    negotiate(f, SVD_F_VERSION_1);
    setup_queue0(f);
    assert_rule(svd_dev_set_status(&f->dev, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER, clr(f)),
                SVD_WHY_STATUS_ORDER);
    assert_latched(f, SVD_WHY_STATUS_ORDER, false);
    assert_int_equal(svd_dev_status(&f->dev), S_FOK | SVD_STATUS_NEEDS_RESET); /* bits kept */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 REQ-DEV-015 */
/* FM: FM-DEV-001 */
static void test_attack_status_bit_cleared_after_driver_ok_latches_with_config_irq(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    assert_rule(svd_dev_set_status(&f->dev, S_FOK, clr(f)), SVD_WHY_STATUS_ORDER);
    assert_latched(f, SVD_WHY_STATUS_ORDER, true);
    assert_int_equal(f->tm.resets, 1u); /* the latch dropped what the model held, for every queue */
    assert_int_equal(f->tm.last_reset, SVD_MODEL_ALL_QUEUES);
    offer(f, 0u);
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    assert_int_equal(f->tm.serves, 0u);
    /* A second violation is idempotent: no second latch, no second interrupt. */
    assert_rule(svd_dev_set_status(&f->dev, SVD_STATUS_ACKNOWLEDGE, clr(f)), SVD_WHY_STATUS_ORDER);
    assert_false(f->fx.failed);
    assert_false(f->fx.config_notify);
    bad_status_write(f);
    assert_false(f->fx.failed);
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_STATUS_ORDER);
    assert_int_equal(svd_dev_config_generation(&f->dev), 1u);
    assert_int_equal(f->tm.resets, 1u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 */
static void test_attack_status_bits_out_of_order(void **state)
{
    fix *f = *state;
    const uint8_t from[] = { 0u, 0u, SVD_STATUS_ACKNOWLEDGE, SVD_STATUS_ACKNOWLEDGE,
                             SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER };
    const uint8_t to[] = {
        SVD_STATUS_DRIVER,                                   /* DRIVER before ACK */
        SVD_STATUS_DRIVER_OK,                                /* DRIVER_OK first */
        SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_FEATURES_OK,     /* skips DRIVER */
        SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER_OK,       /* skips two */
        SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_DRIVER_OK, /* skips FEATURES_OK */
    };
    for (size_t i = 0; i < sizeof(to); i++) {
        svd_dev_reset(&f->dev);
        if (from[i] != 0u) {
            status_ok(f, from[i]);
        }
        assert_rule(svd_dev_set_status(&f->dev, to[i], clr(f)), SVD_WHY_STATUS_ORDER);
        assert_latched(f, SVD_WHY_STATUS_ORDER, false);
        assert_int_equal(svd_dev_status(&f->dev), from[i] | SVD_STATUS_NEEDS_RESET);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 */
static void test_attack_driver_sets_needs_reset_or_reserved_bits(void **state)
{
    fix *f = *state;
    const uint8_t bad[] = { SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_NEEDS_RESET, SVD_STATUS_ACKNOWLEDGE | 0x10u,
                            SVD_STATUS_ACKNOWLEDGE | 0x20u };
    for (size_t i = 0; i < sizeof(bad); i++) {
        svd_dev_reset(&f->dev);
        assert_rule(svd_dev_set_status(&f->dev, bad[i], clr(f)), SVD_WHY_STATUS_ORDER);
        assert_latched(f, SVD_WHY_STATUS_ORDER, false);
        assert_int_equal(svd_dev_status(&f->dev), SVD_STATUS_NEEDS_RESET);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 REQ-DEV-015 */
static void test_latched_device_accepts_echo_and_failed_only(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    model_gives_up(f);
    assert_latched(f, SVD_WHY_SOURCE_GAVE_UP, true);
    const uint8_t s = svd_dev_status(&f->dev);
    /* Linux writes back what it read, NEEDS_RESET included. */
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, s, clr(f))));
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, (uint8_t)(s & ~SVD_STATUS_NEEDS_RESET), clr(f))));
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, (uint8_t)(s | SVD_STATUS_FAILED), clr(f))));
    assert_int_equal(svd_dev_status(&f->dev), s | SVD_STATUS_FAILED);
    assert_true(is_latched(f));
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_SOURCE_GAVE_UP);

    /* Latched before DRIVER_OK: DRIVER_OK is not accepted any more. */
    svd_dev_reset(&f->dev);
    negotiate(f, SVD_F_VERSION_1);
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, clr(f))));
    assert_true(svd_is_ok(set_rings(f, 0u, f->ring.desc, f->ring.avail, RAM_GPA + RAM_SIZE)));
    assert_rule(svd_dev_queue_set_ready(&f->dev, 0u, true, clr(f)), SVD_WHY_RING_MEMORY);
    assert_true(f->fx.failed);
    assert_false(f->fx.config_notify);
    assert_rule(svd_dev_set_status(&f->dev, S_LIVE | SVD_STATUS_NEEDS_RESET, clr(f)), SVD_WHY_STATUS_ORDER);
    assert_int_equal(svd_dev_status(&f->dev) & SVD_STATUS_DRIVER_OK, 0u);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_RING_MEMORY); /* the first reason stays */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-004 REQ-DEV-010 */
static void test_failed_is_terminal_until_reset(void **state)
{
    fix *f = *state;
    status_ok(f, SVD_STATUS_FAILED); /* any time, even first */
    assert_rule(svd_dev_set_status(&f->dev, SVD_STATUS_FAILED | SVD_STATUS_ACKNOWLEDGE, clr(f)),
                SVD_WHY_STATUS_ORDER);
    assert_true(is_latched(f));
    status_ok(f, 0u);
    assert_true(f->fx.reset);
    bring_up(f, SVD_F_VERSION_1);
    status_ok(f, S_LIVE | SVD_STATUS_FAILED);
    offer(f, 0u);
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    assert_int_equal(f->tm.serves, 0u);
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 0u, 0u), SVD_ERR_STATE));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-003 REQ-DEV-015 */
static void test_reset_clears_latch_reason_queues_features_and_isr(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_INDIRECT_DESC);
    const uint32_t epoch = queue(f, 0u)->epoch;
    tg_vring_publish_loop(&f->ring, 0u, BUF);
    assert_rule(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_WHY_CHAIN_LOOP);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_CONFIG);
    const uint32_t resets = f->tm.resets;
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, 0u, clr(f))));
    assert_true(f->fx.reset);
    assert_false(f->fx.config_notify);
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_int_equal(f->tm.resets, resets + 1u); /* the model dropped its requests */
    assert_int_equal(f->tm.last_reset, SVD_MODEL_ALL_QUEUES);
    assert_int_equal(svd_dev_status(&f->dev), 0u);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    assert_false(is_latched(f));
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_NONE);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), 0u);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 1u), 0u);
    const svd_vq *q = queue(f, 0u);
    assert_false(svd_vq_enabled(q));
    assert_false(q->indirect);
    assert_int_equal(svd_vq_size(q), QMAX);
    assert_int_equal(svd_vq_addr(q, SVD_VQ_RING_DESC), 0u);
    assert_true(q->epoch != epoch);
    assert_int_equal(svd_dev_config_generation(&f->dev), 1u); /* generation survives */
    /* And the device comes up again. */
    bring_up(f, SVD_F_VERSION_1);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-007 */
static void test_driver_features_only_between_driver_and_features_ok(void **state)
{
    fix *f = *state;
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 0u, 1u), SVD_ERR_STATE));
    status_ok(f, SVD_STATUS_ACKNOWLEDGE);
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 0u, 1u), SVD_ERR_STATE));
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 2u, 1u), SVD_ERR_BOUNDS));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), 0u);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, 0xdeadbeefu)));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 0x1u)));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, 0x9u)));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), 0x9u);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 1u), 0x1u);
    status_ok(f, S_FOK);
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 0u, 0u), SVD_ERR_STATE));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), 0x9u);
    /* Nor once latched: between DRIVER and FEATURES_OK, but NEEDS_RESET. */
    svd_dev_reset(&f->dev);
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    bad_status_write(f);
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 0u, 1u), SVD_ERR_STATE));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 REQ-DEV-014 */
static void test_queue_config_refused_outside_its_window(void **state)
{
    fix *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    const svd_dev before = f->dev;
    assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, clr(f)), SVD_ERR_STATE));
    assert_true(svd_is_err(set_rings(f, 0u, 0u, 0u, 0u), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_addr_half(&f->dev, 0u, SVD_VQ_RING_USED, true, 1u, clr(f)),
                           SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, 0u, true, clr(f)), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    status_ok(f, S_FOK);
    setup_queue0(f);
    status_ok(f, S_LIVE);
    const svd_dev live = f->dev;
    assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, 1u, QSIZE, clr(f)), SVD_ERR_STATE));
    assert_true(svd_is_err(set_rings(f, 1u, 0u, 0u, 0u), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_addr_half(&f->dev, 1u, SVD_VQ_RING_DESC, false, 1u, clr(f)),
                           SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, 0u, false, clr(f)), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &live, sizeof(f->dev));
    assert_false(f->fx.failed);
    /* Nor once latched, before DRIVER_OK. */
    svd_dev_reset(&f->dev);
    negotiate(f, SVD_F_VERSION_1);
    bad_status_write(f);
    const svd_dev latched = f->dev;
    assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, clr(f)), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, 0u, true, clr(f)), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &latched, sizeof(f->dev));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 REQ-DEV-010 REQ-DEV-014 */
static void test_attack_queue_config_on_unknown_queue_index(void **state)
{
    fix *f = *state;
    negotiate(f, SVD_F_VERSION_1);
    const svd_dev before = f->dev;
    const uint32_t idx[] = { 2u, 0xffffu, 0xffffffffu };
    for (size_t i = 0; i < 3u; i++) {
        assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, idx[i], QSIZE, clr(f)), SVD_ERR_BOUNDS));
        assert_true(svd_is_err(set_rings(f, idx[i], 0u, 0u, 0u), SVD_ERR_BOUNDS));
        assert_true(svd_is_err(svd_dev_queue_set_addr_half(&f->dev, idx[i], SVD_VQ_RING_DESC, false, 0u, clr(f)),
                               SVD_ERR_BOUNDS));
        assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, idx[i], true, clr(f)), SVD_ERR_BOUNDS));
    }
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 */
static void test_attack_bad_queue_sizes_latch(void **state)
{
    fix *f = *state;
    const uint32_t bad[] = { 0u, 3u, 12u, 2u * QMAX, 0x10000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        svd_dev_reset(&f->dev);
        negotiate(f, SVD_F_VERSION_1);
        assert_rule(svd_dev_queue_set_size(&f->dev, 0u, bad[i], clr(f)), SVD_WHY_QUEUE_SIZE);
        assert_latched(f, SVD_WHY_QUEUE_SIZE, false);
        assert_int_equal(svd_vq_size(queue(f, 0u)), QMAX); /* not stored */
    }
    svd_dev_reset(&f->dev);
    negotiate(f, SVD_F_VERSION_1);
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 1u, 1u, clr(f))));
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 1u, QMAX, clr(f))));
    assert_int_equal(svd_vq_size(queue(f, 1u)), QMAX);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 */
static void test_attack_changing_a_ready_queue_latches(void **state)
{
    fix *f = *state;
    for (int which = 0; which < 5; which++) {
        svd_dev_reset(&f->dev);
        negotiate(f, SVD_F_VERSION_1);
        setup_queue0(f);
        svd_result r;
        if (which == 0) {
            r = svd_dev_queue_set_size(&f->dev, 0u, 4u, clr(f));
        } else if (which == 1) {
            r = svd_dev_queue_set_addr(&f->dev, 0u, SVD_VQ_RING_DESC, 0u, clr(f));
        } else if (which == 2) {
            r = svd_dev_queue_set_addr_half(&f->dev, 0u, SVD_VQ_RING_USED, true, 1u, clr(f));
        } else if (which == 3) {
            r = svd_dev_queue_set_size(&f->dev, 0u, 3u, clr(f)); /* the enabled rule comes first */
        } else {
            r = svd_dev_queue_set_ready(&f->dev, 0u, false, clr(f));
        }
        assert_rule(r, SVD_WHY_QUEUE_ENABLED);
        assert_latched(f, SVD_WHY_QUEUE_ENABLED, false);
        assert_int_equal(svd_vq_size(queue(f, 0u)), QSIZE);
        assert_int_equal(svd_vq_addr(queue(f, 0u), SVD_VQ_RING_DESC), f->ring.desc);
        assert_int_equal(svd_vq_addr(queue(f, 0u), SVD_VQ_RING_USED), f->ring.used);
    }
    /* Writing ready twice, or not-ready to a queue that is not ready, is harmless. */
    svd_dev_reset(&f->dev);
    negotiate(f, SVD_F_VERSION_1);
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 1u, false, clr(f))));
    setup_queue0(f);
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 0u, true, clr(f))));
    assert_true(svd_vq_enabled(queue(f, 0u)));
    assert_false(is_latched(f));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* virtio-mmio writes ring addresses in 32-bit halves; the queue merges them. */
/* REQ: REQ-DEV-008 REQ-DEV-009 */
static void test_queue_addresses_by_halves(void **state)
{
    fix *f = *state;
    negotiate(f, SVD_F_VERSION_1);
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, clr(f))));
    const uint64_t r[3] = { f->ring.desc, f->ring.avail, f->ring.used };
    const svd_vq_ring which[3] = { SVD_VQ_RING_DESC, SVD_VQ_RING_AVAIL, SVD_VQ_RING_USED };
    for (size_t i = 0; i < 3u; i++) {
        assert_true(svd_is_ok(svd_dev_queue_set_addr_half(&f->dev, 0u, which[i], true, 0xffu, clr(f))));
        assert_true(svd_is_ok(svd_dev_queue_set_addr_half(&f->dev, 0u, which[i], false, (uint32_t)r[i], clr(f))));
        assert_int_equal(svd_vq_addr(queue(f, 0u), which[i]), (UINT64_C(0xff) << 32) | r[i]);
        assert_true(svd_is_ok(svd_dev_queue_set_addr_half(&f->dev, 0u, which[i], true, (uint32_t)(r[i] >> 32), clr(f))));
        assert_int_equal(svd_vq_addr(queue(f, 0u), which[i]), r[i]);
    }
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 0u, true, clr(f))));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-009 */
static void test_set_ready_applies_negotiated_ring_features(void **state)
{
    fix *f = *state;
    const uint64_t sets[] = { SVD_F_VERSION_1, SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX,
                              SVD_F_VERSION_1 | SVD_F_RING_INDIRECT_DESC, SVD_F_VERSION_1 | ALL_TRANSPORT };
    for (size_t i = 0; i < 4u; i++) {
        svd_dev_reset(&f->dev);
        negotiate(f, sets[i]);
        setup_queue0(f);
        const svd_vq *q = queue(f, 0u);
        assert_true(svd_vq_enabled(q));
        assert_int_equal(q->event_idx, (sets[i] & SVD_F_RING_EVENT_IDX) != 0u);
        assert_int_equal(q->indirect, (sets[i] & SVD_F_RING_INDIRECT_DESC) != 0u);
        assert_int_equal(svd_vq_size(q), QSIZE);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-009 */
static void test_attack_rings_outside_memory_or_misaligned_latch(void **state)
{
    fix *f = *state;
    const uint64_t descs[] = { f->ring.desc + 8u,              /* misaligned */
                               RAM_GPA + RAM_SIZE - 16u,       /* table runs off RAM */
                               0x1000u,                        /* unmapped */
                               UINT64_MAX - 15u };             /* wraps */
    const svd_why whys[] = { SVD_WHY_RING_ALIGN, SVD_WHY_RING_MEMORY, SVD_WHY_RING_MEMORY, SVD_WHY_RING_MEMORY };
    for (size_t i = 0; i < 4u; i++) {
        svd_dev_reset(&f->dev);
        negotiate(f, SVD_F_VERSION_1);
        assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, clr(f))));
        assert_true(svd_is_ok(set_rings(f, 0u, descs[i], f->ring.avail, f->ring.used)));
        assert_rule(svd_dev_queue_set_ready(&f->dev, 0u, true, clr(f)), whys[i]);
        assert_latched(f, whys[i], false);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-010 */
static void test_attack_notify_before_driver_ok_is_ignored(void **state)
{
    fix *f = *state;
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    negotiate(f, SVD_F_VERSION_1);
    setup_queue0(f); /* queue ready, DRIVER_OK not yet */
    offer(f, 0u);
    const svd_dev before = f->dev;
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    assert_int_equal(f->tm.serves, 0u); /* never served */
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    status_ok(f, S_LIVE);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->tm.serves, 1u);
    assert_int_equal(tg_vring_used_idx(&f->ring), 1u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* CVE-2011-2512: QEMU trusted the queue index written by the guest. */
/* REQ: REQ-DEV-010 */
/* FM: FM-DEV-002 */
static void test_attack_notify_unknown_queue_index_cve_2011_2512(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    offer(f, 0u);
    const svd_dev before = f->dev;
    const uint32_t idx[] = { 2u, 3u, 0x7fffu, 0xffffu, 0x10000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        assert_true(svd_is_err(svd_dev_kick(&f->dev, idx[i], T0, clr(f)), SVD_ERR_BOUNDS));
        assert_int_equal(f->fx.queue_notify, 0u);
    }
    /* Existing but never made ready. */
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 1u, T0, clr(f)), SVD_ERR_STATE));
    assert_int_equal(f->tm.serves, 0u);
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* The whole chain in one call: the model serves, the used ring is
 * published, the interrupt decision is taken. */
/* REQ: REQ-DEV-011 REQ-DEV-012 */
static void test_kick_serves_the_queue_and_raises_the_queue_interrupt(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    offer(f, 0u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0 + 5u, clr(f))));
    assert_int_equal(f->tm.serves, 1u);
    assert_int_equal(f->tm.last_index, 0u);
    assert_int_equal(f->tm.last_now, T0 + 5u);
    assert_int_equal(f->tm.completed, 1u);
    uint32_t id = 0u;
    uint32_t len = 0u;
    assert_true(tg_vring_get_used(&f->ring, &id, &len));
    assert_int_equal(id, 0u);
    assert_int_equal(len, 64u);
    assert_true(tg_mem_all(&f->mem, BUF, 64u, f->tm.fill));
    assert_int_equal(f->fx.queue_notify, 1u);
    assert_false(f->fx.failed);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_QUEUE);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_QUEUE); /* reading has no side effect */
    /* Nothing new completed: no interrupt. */
    svd_dev_isr_ack(&f->dev, SVD_ISR_QUEUE);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0 + 6u, clr(f))));
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    /* The driver suppresses interrupts (no EVENT_IDX). */
    tg_vring_set_avail_flags(&f->ring, SVD_VRING_AVAIL_F_NO_INTERRUPT);
    offer(f, 1u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0 + 7u, clr(f))));
    assert_int_equal(f->tm.completed, 2u);
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    assert_false(is_latched(f));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-011 */
static void test_kick_honours_used_event(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX);
    offer(f, 0u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f)))); /* first decision interrupts */
    assert_int_equal(f->fx.queue_notify, 1u);
    tg_vring_set_used_event(&f->ring, 5u); /* driver wants to hear only after used idx passes 5 */
    offer(f, 1u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->fx.queue_notify, 0u);
    tg_vring_set_used_event(&f->ring, 2u);
    offer(f, 2u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->fx.queue_notify, 1u);
    assert_int_equal(f->tm.completed, 3u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A guest that breaks the queue while the model serves it latches the
 * device with the rule it broke (rust-vmm #196 here). */
/* REQ: REQ-DEV-011 REQ-DEV-015 */
static void test_attack_queue_protocol_error_during_serve_latches_with_its_reason(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    tg_vring_set_avail_idx(&f->ring, (uint16_t)(QSIZE + 1u)); /* avail idx jumps past the queue size */
    const uint32_t resets = f->tm.resets;
    assert_rule(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_WHY_AVAIL_JUMP);
    assert_latched(f, SVD_WHY_AVAIL_JUMP, true);
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_int_equal(f->tm.resets, resets + 1u);
    /* Once latched, nothing is served and nothing more is reported. */
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    assert_false(f->fx.failed);
    assert_false(f->fx.config_notify);
    assert_int_equal(f->tm.serves, 1u);
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A model that cannot go on (its source gave up) latches the device with
 * the model's reason, whatever error class it used. */
/* REQ: REQ-DEV-011 REQ-DEV-015 */
/* FM: FM-DEV-003 */
static void test_model_failure_latches_with_the_models_reason(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    offer(f, 0u);
    f->tm.fail = svd_fail_why(SVD_ERR_SOURCE, SVD_WHY_SOURCE_GAVE_UP);
    f->tm.wake_at = T0 + 100u; /* ignored on failure */
    const svd_result r = svd_dev_kick(&f->dev, 0u, T0, clr(f));
    assert_true(svd_is_err(r, SVD_ERR_SOURCE));
    assert_int_equal(r.why, SVD_WHY_SOURCE_GAVE_UP);
    assert_latched(f, SVD_WHY_SOURCE_GAVE_UP, true);
    assert_int_equal(svd_dev_deadline(&f->dev), SVD_NO_DEADLINE);
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A model that found its queue unusable says so with SVD_ERR_STATE: not a
 * failure of anyone, nothing latched, no deadline kept. */
/* REQ: REQ-DEV-011 REQ-DEV-014 */
static void test_model_state_refusal_is_not_a_failure(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    f->tm.fail = svd_fail(SVD_ERR_STATE);
    f->tm.wake_at = T0 + 100u;
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    assert_false(f->fx.failed);
    assert_false(is_latched(f));
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_NONE);
    assert_int_equal(svd_dev_deadline(&f->dev), SVD_NO_DEADLINE);
    assert_int_equal(f->tm.serves, 1u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A model with work left asks for a time; the device keeps it per queue,
 * reports the earliest, and a tick serves exactly the queues that are due. */
/* REQ: REQ-DEV-011 */
static void test_deadline_and_tick_serve_only_due_queues(void **state)
{
    fix *f = *state;
    negotiate(f, SVD_F_VERSION_1);
    setup_queue0(f);
    tg_vring r1;
    (void)tg_vring_init(&r1, &f->mem, QSIZE, RAM_GPA + 0x1000u);
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 1u, QSIZE, clr(f))));
    assert_true(svd_is_ok(set_rings(f, 1u, r1.desc, r1.avail, r1.used)));
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 1u, true, clr(f))));
    status_ok(f, S_LIVE);
    assert_int_equal(svd_dev_deadline(&f->dev), SVD_NO_DEADLINE);

    f->tm.hold = true; /* requests wait for something */
    f->tm.wake_at = T0 + 500u;
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    f->tm.wake_at = T0 + 300u;
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 1u, T0, clr(f))));
    assert_int_equal(svd_dev_deadline(&f->dev), T0 + 300u);
    assert_int_equal(f->tm.serves, 2u);

    /* Before anything is due: nothing served. */
    svd_dev_tick(&f->dev, T0 + 299u, clr(f));
    assert_int_equal(f->tm.serves, 2u);
    /* Queue 1 is due: it alone is served; the model now has nothing waiting. */
    f->tm.wake_at = SVD_NO_DEADLINE;
    svd_dev_tick(&f->dev, T0 + 300u, clr(f));
    assert_int_equal(f->tm.serves, 3u);
    assert_int_equal(f->tm.last_index, 1u);
    assert_int_equal(f->tm.last_now, T0 + 300u);
    assert_int_equal(svd_dev_deadline(&f->dev), T0 + 500u);
    /* A late tick serves queue 0 and the deadline goes away. */
    svd_dev_tick(&f->dev, T0 + 10000u, clr(f));
    assert_int_equal(f->tm.serves, 4u);
    assert_int_equal(f->tm.last_index, 0u);
    assert_int_equal(svd_dev_deadline(&f->dev), SVD_NO_DEADLINE);
    svd_dev_tick(&f->dev, T0 + 20000u, clr(f));
    assert_int_equal(f->tm.serves, 4u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A deadline that outlives its queue (FAILED set in between) serves
 * nothing: the tick drops it. */
/* REQ: REQ-DEV-010 REQ-DEV-011 */
static void test_attack_tick_on_a_queue_that_is_no_longer_live(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    f->tm.hold = true;
    f->tm.wake_at = T0 + 10u;
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(svd_dev_deadline(&f->dev), T0 + 10u);
    status_ok(f, S_LIVE | SVD_STATUS_FAILED);
    svd_dev_tick(&f->dev, T0 + 10u, clr(f));
    assert_int_equal(f->tm.serves, 1u);
    assert_int_equal(svd_dev_deadline(&f->dev), SVD_NO_DEADLINE);
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_false(f->fx.failed);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A shim cannot get a broken queue served again: the latch stops it. */
/* REQ: REQ-DEV-010 */
static void test_attack_notify_on_broken_queue_is_ignored(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    tg_vring_set_avail_slot(&f->ring, 0u, QSIZE); /* head out of range */
    tg_vring_set_avail_idx(&f->ring, 1u);
    assert_rule(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_WHY_HEAD_RANGE);
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    assert_int_equal(f->tm.serves, 1u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-012 */
static void test_isr_ack_and_read_clear(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    offer(f, 0u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    tg_vring_publish_loop(&f->ring, 1u, BUF + 64u);
    assert_rule(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_WHY_CHAIN_LOOP);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_QUEUE | SVD_ISR_CONFIG);
    svd_dev_isr_ack(&f->dev, SVD_ISR_QUEUE);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_CONFIG);
    svd_dev_isr_ack(&f->dev, 0u);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_CONFIG);
    assert_int_equal(svd_dev_isr_read_clear(&f->dev), SVD_ISR_CONFIG);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    assert_int_equal(svd_dev_isr_read_clear(&f->dev), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-013 */
static void test_config_read_widths_and_bounds(void **state)
{
    fix *f = *state;
    uint32_t v = 0u;
    assert_true(svd_is_ok(svd_dev_config_read(&f->dev, 0u, 1u, &v)));
    assert_int_equal(v, 0x11u);
    assert_true(svd_is_ok(svd_dev_config_read(&f->dev, 1u, 2u, &v)));
    assert_int_equal(v, 0x3322u);
    assert_true(svd_is_ok(svd_dev_config_read(&f->dev, 2u, 4u, &v)));
    assert_int_equal(v, 0x66554433u);
    assert_true(svd_is_ok(svd_dev_config_read(&f->dev, 5u, 1u, &v)));
    assert_int_equal(v, 0x66u);
    v = 0xabcdu;
    assert_true(svd_is_err(svd_dev_config_read(&f->dev, 3u, 4u, &v), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_dev_config_read(&f->dev, 6u, 1u, &v), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_dev_config_read(&f->dev, 0xffffffffu, 4u, &v), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_dev_config_read(&f->dev, 0u, 3u, &v), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_dev_config_read(&f->dev, 0u, 8u, &v), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_dev_config_read(&f->dev, 0u, 0u, &v), SVD_ERR_INVALID_ARG));
    assert_int_equal(v, 0xabcdu);
    /* A device without configuration space answers BOUNDS everywhere. */
    svd_dev d;
    svd_model p = model_of(f);
    p.config = NULL;
    p.config_len = 0u;
    assert_true(svd_is_ok(svd_dev_init(&d, &p, &f->mem.map, false)));
    assert_true(svd_is_err(svd_dev_config_read(&d, 0u, 1u, &v), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0xabcdu);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* The work one call may do: defaults, limits, and the model is handed it. */
/* REQ: REQ-DEV-014 */
static void test_budget_defaults_limits_and_reaches_the_model(void **state)
{
    fix *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->tm.last_budget.bytes, SVD_BUDGET_DEFAULT_BYTES);
    assert_int_equal(f->tm.last_budget.descs, SVD_BUDGET_DEFAULT_DESCS);
    const svd_budget mine = { 100u, 3u };
    assert_true(svd_is_ok(svd_dev_set_budget(&f->dev, &mine)));
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->tm.last_budget.bytes, 100u);
    assert_int_equal(f->tm.last_budget.descs, 3u);
    const svd_budget top = { SVD_BUDGET_MAX_BYTES, SVD_VQ_MAX_SIZE };
    assert_true(svd_is_ok(svd_dev_set_budget(&f->dev, &top)));
    const svd_dev before = f->dev;
    const svd_budget bad[] = { { SVD_BUDGET_MAX_BYTES + 1u, 1u }, { 1u, SVD_VQ_MAX_SIZE + 1u },
                               { UINT64_MAX, UINT32_MAX } };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(svd_is_err(svd_dev_set_budget(&f->dev, &bad[i]), SVD_ERR_INVALID_ARG));
        assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    }
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->tm.last_budget.bytes, SVD_BUDGET_MAX_BYTES);
    assert_int_equal(f->tm.last_budget.descs, SVD_VQ_MAX_SIZE);
    /* Zero fields take the defaults, each on its own. */
    const svd_budget half = { 0u, 7u };
    assert_true(svd_is_ok(svd_dev_set_budget(&f->dev, &half)));
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->tm.last_budget.bytes, SVD_BUDGET_DEFAULT_BYTES);
    assert_int_equal(f->tm.last_budget.descs, 7u);
    const svd_budget other = { 9u, 0u };
    assert_true(svd_is_ok(svd_dev_set_budget(&f->dev, &other)));
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->tm.last_budget.bytes, 9u);
    assert_int_equal(f->tm.last_budget.descs, SVD_BUDGET_DEFAULT_DESCS);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* ------------------------------------------------------- host-driven device */

/* A device with no emulated transport (vhost-user) over the same fixture. */
static void host_driven(fix *f)
{
    const svd_model m = model_of(f);
    assert_true(svd_is_ok(svd_dev_init(&f->dev, &m, &f->mem.map, true)));
}

/* REQ: REQ-DEV-010 REQ-DEV-011 */
static void test_host_driven_start_serve_and_stop(void **state)
{
    fix *f = *state;
    host_driven(f);
    svd_vq_setup s;
    tg_vring_setup(&f->ring, true, false, &s);
    assert_true(svd_is_ok(svd_dev_queue_start(&f->dev, 0u, &s, clr(f))));
    assert_false(f->fx.failed);
    const svd_vq *q = queue(f, 0u);
    assert_true(svd_vq_enabled(q));
    assert_true(q->event_idx);
    assert_false(q->indirect);
    assert_int_equal(svd_vq_size(q), QSIZE);
    /* No status machine gates a host-driven kick; the notification is an
     * edge for the host, never an ISR bit. */
    assert_int_equal(svd_dev_status(&f->dev), 0u);
    offer(f, 0u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    assert_int_equal(f->tm.completed, 1u);
    assert_int_equal(f->fx.queue_notify, 1u);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    /* Starting a running queue is refused and changes nothing. */
    const svd_dev before = f->dev;
    assert_true(svd_is_err(svd_dev_queue_start(&f->dev, 0u, &s, clr(f)), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    /* Stop hands back where to resume and drops the model's requests. */
    uint16_t na = 0xAAAAu;
    uint16_t nu = 0xAAAAu;
    const uint32_t resets = f->tm.resets;
    assert_true(svd_is_ok(svd_dev_queue_stop(&f->dev, 0u, &na, &nu)));
    assert_int_equal(na, 1u);
    assert_int_equal(nu, 1u);
    assert_int_equal(f->tm.resets, resets + 1u);
    assert_int_equal(f->tm.last_reset, 0u); /* only the stopped queue's requests */
    assert_false(svd_vq_enabled(queue(f, 0u)));
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    /* Resume at the base it handed back. */
    s.next_avail = na;
    s.next_used = nu;
    assert_true(svd_is_ok(svd_dev_queue_start(&f->dev, 0u, &s, clr(f))));
    offer(f, 1u);
    assert_true(svd_is_ok(svd_dev_kick(&f->dev, 0u, T0, clr(f))));
    uint32_t id = 0u;
    uint32_t len = 0u;
    assert_true(tg_vring_get_used(&f->ring, &id, &len));
    assert_true(tg_vring_get_used(&f->ring, &id, &len));
    assert_int_equal(id, 1u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* Every rule of a host-driven start refuses with its reason, leaves the
 * queue reset (never half configured) and does not latch the device: the
 * front-end is told, the device stays usable. */
/* REQ: REQ-DEV-008 REQ-DEV-009 REQ-DEV-014 */
static void test_attack_host_driven_start_with_bad_setup(void **state)
{
    fix *f = *state;
    host_driven(f);
    svd_vq_setup good;
    tg_vring_setup(&f->ring, false, false, &good);
    struct {
        svd_vq_setup s;
        svd_why why;
    } bad[6];
    for (size_t i = 0; i < 6u; i++) {
        bad[i].s = good;
    }
    bad[0].s.size = 3u;
    bad[0].why = SVD_WHY_QUEUE_SIZE;
    bad[1].s.size = 2u * QMAX;
    bad[1].why = SVD_WHY_QUEUE_SIZE;
    bad[2].s.desc = good.desc + 8u;
    bad[2].why = SVD_WHY_RING_ALIGN;
    bad[3].s.avail = good.avail + 1u;
    bad[3].why = SVD_WHY_RING_ALIGN;
    bad[4].s.used = RAM_GPA + RAM_SIZE;
    bad[4].why = SVD_WHY_RING_MEMORY;
    bad[5].s.desc = 0u;
    bad[5].why = SVD_WHY_RING_MEMORY;
    for (size_t i = 0; i < 6u; i++) {
        assert_rule(svd_dev_queue_start(&f->dev, 0u, &bad[i].s, clr(f)), bad[i].why);
        assert_false(f->fx.failed);
        assert_false(is_latched(f));
        const svd_vq *q = queue(f, 0u);
        assert_false(svd_vq_enabled(q));
        assert_false(q->broken);
        assert_int_equal(svd_vq_size(q), QMAX);
        assert_int_equal(svd_vq_addr(q, SVD_VQ_RING_DESC), 0u);
        assert_int_equal(svd_vq_addr(q, SVD_VQ_RING_AVAIL), 0u);
    }
    /* No such queue; a latched device. */
    assert_true(svd_is_err(svd_dev_queue_start(&f->dev, 2u, &good, clr(f)), SVD_ERR_BOUNDS));
    uint16_t na = 0xAAAAu;
    uint16_t nu = 0xAAAAu;
    assert_true(svd_is_err(svd_dev_queue_stop(&f->dev, 2u, &na, &nu), SVD_ERR_BOUNDS));
    assert_int_equal(na, 0xAAAAu);
    assert_int_equal(nu, 0xAAAAu);
    assert_true(svd_is_ok(svd_dev_queue_start(&f->dev, 0u, &good, clr(f))));
    tg_vring_publish_loop(&f->ring, 0u, BUF);
    assert_rule(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_WHY_CHAIN_LOOP);
    assert_true(f->fx.failed);
    assert_false(f->fx.config_notify); /* no DRIVER_OK: no config interrupt */
    assert_true(svd_is_err(svd_dev_queue_start(&f->dev, 0u, &good, clr(f)), SVD_ERR_STATE));
    /* A latched host-driven device serves nothing either. */
    assert_true(svd_is_err(svd_dev_kick(&f->dev, 0u, T0, clr(f)), SVD_ERR_STATE));
    /* The good setup works once the device is reset. */
    svd_dev_reset(&f->dev);
    assert_true(svd_is_ok(svd_dev_queue_start(&f->dev, 0u, &good, clr(f))));
    /* A transport-driven device has no host start. */
    svd_dev t;
    const svd_model m = model_of(f);
    assert_true(svd_is_ok(svd_dev_init(&t, &m, &f->mem.map, false)));
    assert_true(svd_is_err(svd_dev_queue_start(&t, 0u, &good, clr(f)), SVD_ERR_STATE));
    assert_false(svd_vq_enabled(svd_dev_queue(&t, 0u)));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_rejects_bad_models),
        T(test_host_features_add_transport_bits),
        T(test_full_bring_up_in_order),
        T(test_several_bits_in_one_write_if_the_result_is_in_order),
        T(test_attack_features_ok_without_version_1_is_refused),
        T(test_attack_features_ok_with_unoffered_feature_is_refused),
        T(test_attack_status_bit_cleared_before_driver_ok_latches_without_irq),
        T(test_attack_status_bit_cleared_after_driver_ok_latches_with_config_irq),
        T(test_attack_status_bits_out_of_order),
        T(test_attack_driver_sets_needs_reset_or_reserved_bits),
        T(test_latched_device_accepts_echo_and_failed_only),
        T(test_failed_is_terminal_until_reset),
        T(test_reset_clears_latch_reason_queues_features_and_isr),
        T(test_driver_features_only_between_driver_and_features_ok),
        T(test_queue_config_refused_outside_its_window),
        T(test_attack_queue_config_on_unknown_queue_index),
        T(test_attack_bad_queue_sizes_latch),
        T(test_attack_changing_a_ready_queue_latches),
        T(test_queue_addresses_by_halves),
        T(test_set_ready_applies_negotiated_ring_features),
        T(test_attack_rings_outside_memory_or_misaligned_latch),
        T(test_attack_notify_before_driver_ok_is_ignored),
        T(test_attack_notify_unknown_queue_index_cve_2011_2512),
        T(test_kick_serves_the_queue_and_raises_the_queue_interrupt),
        T(test_kick_honours_used_event),
        T(test_attack_queue_protocol_error_during_serve_latches_with_its_reason),
        T(test_model_failure_latches_with_the_models_reason),
        T(test_model_state_refusal_is_not_a_failure),
        T(test_deadline_and_tick_serve_only_due_queues),
        T(test_attack_tick_on_a_queue_that_is_no_longer_live),
        T(test_attack_notify_on_broken_queue_is_ignored),
        T(test_isr_ack_and_read_clear),
        T(test_config_read_widths_and_bounds),
        T(test_budget_defaults_limits_and_reaches_the_model),
        T(test_host_driven_start_serve_and_stop),
        T(test_attack_host_driven_start_with_bad_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
