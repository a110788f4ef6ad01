/* Unit tests of the virtio device engine (src/core/device.c): status
 * machine, feature negotiation, queue configuration, notify, interrupts,
 * configuration space. Adversarial tests are named test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/device.h"
#include "tg_mem.h"
#include "tg_vring.h"

#define RAM_GPA 0x100000u
#define RAM_SIZE 0x10000u
#define QSIZE 8u
#define QMAX 16u
#define DEV_FEATS (UINT64_C(1) << 0 | UINT64_C(1) << 3)
#define ALL_TRANSPORT (SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC)

static const uint8_t cfg_bytes[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };

typedef struct fx {
    tg_mem mem;
    tg_vring ring;
    svd_dev dev;
    svd_dev_event ev;
} fx;

static svd_dev_params params(void)
{
    svd_dev_params p;
    memset(&p, 0, sizeof(p));
    p.device_id = 26u;
    p.device_features = DEV_FEATS;
    p.num_queues = 2u;
    p.queue_max = QMAX;
    p.config = cfg_bytes;
    p.config_len = sizeof(cfg_bytes);
    return p;
}

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof(f));
    if (tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE) != 0) {
        return -1;
    }
    (void)tg_vring_init(&f.ring, &f.mem, QSIZE, RAM_GPA);
    const svd_dev_params p = params();
    if (!svd_is_ok(svd_dev_init(&f.dev, &p, &f.mem.map))) {
        return -1;
    }
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

static void status_ok(fx *f, uint8_t s)
{
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, s, &f->ev)));
    assert_int_equal(svd_dev_status(&f->dev), s);
    assert_false(f->ev.failed);
}

static void negotiate(fx *f, uint64_t feats)
{
    status_ok(f, SVD_STATUS_ACKNOWLEDGE);
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, (uint32_t)feats)));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, (uint32_t)(feats >> 32))));
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK);
}

static void setup_queue0(fx *f)
{
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, &f->ev)));
    assert_true(svd_is_ok(
        svd_dev_queue_set_addrs(&f->dev, 0u, f->ring.desc, f->ring.avail, f->ring.used, &f->ev)));
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 0u, true, &f->ev)));
}

#define S_FOK (SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK)
#define S_LIVE (S_FOK | SVD_STATUS_DRIVER_OK)

static void bring_up(fx *f, uint64_t feats)
{
    negotiate(f, feats);
    setup_queue0(f);
    status_ok(f, S_LIVE);
}

/* Check the latch and what the event says about the config interrupt. */
static void assert_latched(fx *f, bool was_live)
{
    assert_true(svd_dev_needs_reset(&f->dev));
    assert_true((svd_dev_status(&f->dev) & SVD_STATUS_NEEDS_RESET) != 0u);
    assert_true(f->ev.failed);
    assert_int_equal(f->ev.irq, was_live);
    assert_int_equal((svd_dev_isr(&f->dev) & SVD_ISR_CONFIG) != 0u, was_live);
    assert_int_equal(svd_dev_config_generation(&f->dev), was_live ? 1u : 0u);
    for (uint32_t q = 0u; q < 2u; q++) {
        assert_false(svd_dev_queue(&f->dev, q)->enabled);
    }
}

/* REQ: REQ-DEV-001 */
static void test_init_rejects_bad_params(void **state)
{
    fx *f = *state;
    svd_dev d;
    memset(&d, 0x77, sizeof(d));
    const svd_dev before = d;
    svd_dev_params p;

    p = params();
    assert_true(svd_is_err(svd_dev_init(&d, NULL, &f->mem.map), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_dev_init(&d, &p, NULL), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_dev_init(NULL, &p, &f->mem.map), SVD_ERR_INVALID_ARG));
    p.device_id = 0u;
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map), SVD_ERR_INVALID_ARG));
    p = params();
    p.device_features = UINT64_C(1) << 24; /* transport bits are the engine's */
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map), SVD_ERR_INVALID_ARG));
    const uint16_t bad_nq[] = { 0u, SVD_DEV_MAX_QUEUES + 1u };
    for (size_t i = 0; i < 2u; i++) {
        p = params();
        p.num_queues = bad_nq[i];
        assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map), SVD_ERR_INVALID_ARG));
    }
    const uint16_t bad_qmax[] = { 0u, 3u, 48u, 65535u };
    for (size_t i = 0; i < 4u; i++) {
        p = params();
        p.queue_max = bad_qmax[i];
        assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map), SVD_ERR_INVALID_ARG));
    }
    p = params();
    p.config = NULL;
    assert_true(svd_is_err(svd_dev_init(&d, &p, &f->mem.map), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&d, &before, sizeof(d));

    /* Largest queue and config-less device are fine. */
    p = params();
    p.queue_max = (uint16_t)SVD_VQ_MAX_SIZE;
    p.config = NULL;
    p.config_len = 0u;
    assert_true(svd_is_ok(svd_dev_init(&d, &p, &f->mem.map)));
    assert_int_equal(svd_dev_queue(&d, 0u)->size, SVD_VQ_MAX_SIZE);
    assert_int_equal(svd_dev_status(&d), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-002 */
static void test_host_features_add_transport_bits(void **state)
{
    fx *f = *state;
    const uint64_t want = DEV_FEATS | ALL_TRANSPORT;
    assert_int_equal(svd_dev_host_features_word(&f->dev, 0u), (uint32_t)want);
    assert_int_equal(svd_dev_host_features_word(&f->dev, 1u), (uint32_t)(want >> 32));
    assert_int_equal(svd_dev_host_features_word(&f->dev, 1u), 1u);
    assert_int_equal(svd_dev_host_features_word(&f->dev, 2u), 0u);
    assert_int_equal(svd_dev_host_features_word(&f->dev, 0xffffffffu), 0u);
    assert_int_equal(svd_dev_queue_max(&f->dev, 0u), QMAX);
    assert_int_equal(svd_dev_queue_max(&f->dev, 1u), QMAX);
    assert_int_equal(svd_dev_queue_max(&f->dev, 2u), 0u);
    assert_null(svd_dev_queue(&f->dev, 2u));
    assert_non_null(svd_dev_queue(&f->dev, 1u));
    assert_int_equal(svd_dev_queue(&f->dev, 0u)->size, QMAX); /* preset to the maximum */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-004 REQ-DEV-002 */
static void test_full_bring_up_in_order(void **state)
{
    fx *f = *state;
    assert_false(svd_dev_has_feature(&f->dev, SVD_F_VERSION_1)); /* not before FEATURES_OK */
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | 1u);
    assert_true(svd_dev_has_feature(&f->dev, SVD_F_VERSION_1));
    assert_true(svd_dev_has_feature(&f->dev, SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX));
    assert_false(svd_dev_has_feature(&f->dev, SVD_F_RING_INDIRECT_DESC));
    assert_false(svd_dev_has_feature(&f->dev, 0u));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), (uint32_t)(SVD_F_RING_EVENT_IDX | 1u));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 1u), 1u);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 7u), 0u);
    assert_false(svd_dev_needs_reset(&f->dev));
    /* Re-writing the same status, and adding FAILED, are accepted. */
    status_ok(f, S_LIVE);
    status_ok(f, S_LIVE | SVD_STATUS_FAILED);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-004 */
static void test_several_bits_in_one_write_if_the_result_is_in_order(void **state)
{
    fx *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    status_ok(f, S_LIVE); /* FEATURES_OK and DRIVER_OK together, features valid */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-005 REQ-DEV-014 */
static void test_attack_features_ok_without_version_1_is_refused(void **state)
{
    fx *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE);
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, (uint32_t)SVD_F_RING_EVENT_IDX)));
    const svd_dev before = f->dev;
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_FOK, &f->ev), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_int_equal(svd_dev_status(&f->dev) & SVD_STATUS_FEATURES_OK, 0u); /* driver re-reads: clear */
    assert_false(svd_dev_needs_reset(&f->dev));
    assert_false(f->ev.failed);
    assert_false(f->ev.irq);
    /* Trying to jump straight to DRIVER_OK with the bad set is refused the same way. */
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_LIVE, &f->ev), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    /* The driver fixes its features and succeeds. */
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    status_ok(f, S_FOK);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-005 */
static void test_attack_features_ok_with_unoffered_feature_is_refused(void **state)
{
    fx *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, 1u << 5))); /* not offered */
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_FOK, &f->ev), SVD_ERR_STATE));
    assert_int_equal(svd_dev_status(&f->dev), SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    assert_false(svd_dev_needs_reset(&f->dev));
    /* A feature in the high window that was not offered (bit 33). */
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 0u, 0u)));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 3u)));
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_FOK, &f->ev), SVD_ERR_STATE));
    assert_false(svd_dev_needs_reset(&f->dev));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 */
static void test_attack_status_bit_cleared_before_driver_ok_latches_without_irq(void **state)
{
    fx *f = *state;
    negotiate(f, SVD_F_VERSION_1);
    setup_queue0(f);
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER, &f->ev),
                           SVD_ERR_PROTOCOL));
    assert_latched(f, false);
    assert_int_equal(svd_dev_status(&f->dev), S_FOK | SVD_STATUS_NEEDS_RESET); /* bits kept */
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 REQ-DEV-015 */
static void test_attack_status_bit_cleared_after_driver_ok_latches_with_config_irq(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_FOK, &f->ev), SVD_ERR_PROTOCOL));
    assert_latched(f, true);
    svd_vq *q = NULL;
    assert_true(svd_is_err(svd_dev_notify(&f->dev, 0u, &q), SVD_ERR_STATE));
    assert_null(q);
    /* A second violation and an explicit fail are idempotent: no second interrupt. */
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, SVD_STATUS_ACKNOWLEDGE, &f->ev), SVD_ERR_PROTOCOL));
    assert_false(f->ev.failed);
    assert_false(f->ev.irq);
    svd_dev_fail(&f->dev, &f->ev);
    assert_false(f->ev.failed);
    assert_int_equal(svd_dev_config_generation(&f->dev), 1u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 */
static void test_attack_status_bits_out_of_order(void **state)
{
    fx *f = *state;
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
        assert_true(svd_is_err(svd_dev_set_status(&f->dev, to[i], &f->ev), SVD_ERR_PROTOCOL));
        assert_latched(f, false);
        assert_int_equal(svd_dev_status(&f->dev), from[i] | SVD_STATUS_NEEDS_RESET);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 */
static void test_attack_driver_sets_needs_reset_or_reserved_bits(void **state)
{
    fx *f = *state;
    const uint8_t bad[] = { SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_NEEDS_RESET, SVD_STATUS_ACKNOWLEDGE | 0x10u,
                            SVD_STATUS_ACKNOWLEDGE | 0x20u };
    for (size_t i = 0; i < sizeof(bad); i++) {
        svd_dev_reset(&f->dev);
        assert_true(svd_is_err(svd_dev_set_status(&f->dev, bad[i], &f->ev), SVD_ERR_PROTOCOL));
        assert_latched(f, false);
        assert_int_equal(svd_dev_status(&f->dev), SVD_STATUS_NEEDS_RESET);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-006 REQ-DEV-015 */
static void test_latched_device_accepts_echo_and_failed_only(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    svd_dev_fail(&f->dev, &f->ev);
    assert_latched(f, true);
    const uint8_t s = svd_dev_status(&f->dev);
    /* Linux writes back what it read, NEEDS_RESET included. */
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, s, &f->ev)));
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, (uint8_t)(s & ~SVD_STATUS_NEEDS_RESET), &f->ev)));
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, (uint8_t)(s | SVD_STATUS_FAILED), &f->ev)));
    assert_int_equal(svd_dev_status(&f->dev), s | SVD_STATUS_FAILED);
    assert_true(svd_dev_needs_reset(&f->dev));

    /* Latched before DRIVER_OK: DRIVER_OK is not accepted any more. */
    svd_dev_reset(&f->dev);
    negotiate(f, SVD_F_VERSION_1);
    svd_dev_fail(&f->dev, &f->ev);
    assert_true(f->ev.failed);
    assert_false(f->ev.irq);
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, S_LIVE | SVD_STATUS_NEEDS_RESET, &f->ev), SVD_ERR_PROTOCOL));
    assert_int_equal(svd_dev_status(&f->dev) & SVD_STATUS_DRIVER_OK, 0u);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-004 REQ-DEV-010 */
static void test_failed_is_terminal_until_reset(void **state)
{
    fx *f = *state;
    status_ok(f, SVD_STATUS_FAILED); /* any time, even first */
    assert_true(svd_is_err(svd_dev_set_status(&f->dev, SVD_STATUS_FAILED | SVD_STATUS_ACKNOWLEDGE, &f->ev),
                           SVD_ERR_PROTOCOL));
    assert_true(svd_dev_needs_reset(&f->dev));
    status_ok(f, 0u);
    bring_up(f, SVD_F_VERSION_1);
    status_ok(f, S_LIVE | SVD_STATUS_FAILED);
    svd_vq *q = NULL;
    assert_true(svd_is_err(svd_dev_notify(&f->dev, 0u, &q), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 0u, 0u), SVD_ERR_STATE));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-003 REQ-DEV-015 */
static void test_reset_clears_latch_queues_features_and_isr(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_INDIRECT_DESC);
    const uint32_t epoch = svd_dev_queue(&f->dev, 0u)->epoch;
    svd_dev_fail(&f->dev, &f->ev);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_CONFIG);
    assert_true(svd_is_ok(svd_dev_set_status(&f->dev, 0u, &f->ev)));
    assert_true(f->ev.reset);
    assert_false(f->ev.irq);
    assert_int_equal(svd_dev_status(&f->dev), 0u);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    assert_false(svd_dev_needs_reset(&f->dev));
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), 0u);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 1u), 0u);
    const svd_vq *q = svd_dev_queue(&f->dev, 0u);
    assert_false(q->enabled);
    assert_false(q->indirect);
    assert_int_equal(q->size, QMAX);
    assert_int_equal(q->desc_gpa, 0u);
    assert_true(q->epoch != epoch);
    assert_int_equal(svd_dev_config_generation(&f->dev), 1u); /* generation survives */
    /* And the device comes up again. */
    bring_up(f, SVD_F_VERSION_1);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-007 */
static void test_driver_features_only_between_driver_and_features_ok(void **state)
{
    fx *f = *state;
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
    assert_true(svd_dev_has_feature(&f->dev, 0x9u));
    svd_dev_fail(&f->dev, &f->ev);
    svd_dev_reset(&f->dev);
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    svd_dev_fail(&f->dev, &f->ev);
    assert_true(svd_is_err(svd_dev_set_driver_features_word(&f->dev, 0u, 1u), SVD_ERR_STATE));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 REQ-DEV-014 */
static void test_queue_config_refused_outside_its_window(void **state)
{
    fx *f = *state;
    status_ok(f, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    const svd_dev before = f->dev;
    assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, &f->ev), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_addrs(&f->dev, 0u, 0u, 0u, 0u, &f->ev), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, 0u, true, &f->ev), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_true(svd_is_ok(svd_dev_set_driver_features_word(&f->dev, 1u, 1u)));
    status_ok(f, S_FOK);
    setup_queue0(f);
    status_ok(f, S_LIVE);
    const svd_dev live = f->dev;
    assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, 1u, QSIZE, &f->ev), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_addrs(&f->dev, 1u, 0u, 0u, 0u, &f->ev), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, 0u, false, &f->ev), SVD_ERR_STATE));
    assert_memory_equal(&f->dev, &live, sizeof(f->dev));
    assert_false(f->ev.failed);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 REQ-DEV-010 REQ-DEV-014 */
static void test_attack_queue_config_on_unknown_queue_index(void **state)
{
    fx *f = *state;
    negotiate(f, SVD_F_VERSION_1);
    const svd_dev before = f->dev;
    const uint32_t idx[] = { 2u, 0xffffu, 0xffffffffu };
    for (size_t i = 0; i < 3u; i++) {
        assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, idx[i], QSIZE, &f->ev), SVD_ERR_BOUNDS));
        assert_true(svd_is_err(svd_dev_queue_set_addrs(&f->dev, idx[i], 0u, 0u, 0u, &f->ev), SVD_ERR_BOUNDS));
        assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, idx[i], true, &f->ev), SVD_ERR_BOUNDS));
    }
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 */
static void test_attack_bad_queue_sizes_latch(void **state)
{
    fx *f = *state;
    const uint32_t bad[] = { 0u, 3u, 12u, 2u * QMAX, 0x10000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        svd_dev_reset(&f->dev);
        negotiate(f, SVD_F_VERSION_1);
        assert_true(svd_is_err(svd_dev_queue_set_size(&f->dev, 0u, bad[i], &f->ev), SVD_ERR_PROTOCOL));
        assert_latched(f, false);
        assert_int_equal(svd_dev_queue(&f->dev, 0u)->size, QMAX); /* not stored */
    }
    svd_dev_reset(&f->dev);
    negotiate(f, SVD_F_VERSION_1);
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 1u, 1u, &f->ev)));
    assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 1u, QMAX, &f->ev)));
    assert_int_equal(svd_dev_queue(&f->dev, 1u)->size, QMAX);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-008 */
static void test_attack_changing_a_ready_queue_latches(void **state)
{
    fx *f = *state;
    for (int which = 0; which < 3; which++) {
        svd_dev_reset(&f->dev);
        negotiate(f, SVD_F_VERSION_1);
        setup_queue0(f);
        svd_result r;
        if (which == 0) {
            r = svd_dev_queue_set_size(&f->dev, 0u, 4u, &f->ev);
        } else if (which == 1) {
            r = svd_dev_queue_set_addrs(&f->dev, 0u, 0u, 0u, 0u, &f->ev);
        } else {
            r = svd_dev_queue_set_ready(&f->dev, 0u, false, &f->ev);
        }
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_latched(f, false);
        assert_int_equal(svd_dev_queue(&f->dev, 0u)->size, QSIZE);
        assert_int_equal(svd_dev_queue(&f->dev, 0u)->desc_gpa, f->ring.desc);
    }
    /* Writing ready twice, or not-ready to a queue that is not ready, is harmless. */
    svd_dev_reset(&f->dev);
    negotiate(f, SVD_F_VERSION_1);
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 1u, false, &f->ev)));
    setup_queue0(f);
    assert_true(svd_is_ok(svd_dev_queue_set_ready(&f->dev, 0u, true, &f->ev)));
    assert_true(svd_dev_queue(&f->dev, 0u)->enabled);
    assert_false(svd_dev_needs_reset(&f->dev));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-009 */
static void test_set_ready_applies_negotiated_ring_features(void **state)
{
    fx *f = *state;
    const uint64_t sets[] = { SVD_F_VERSION_1, SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX,
                              SVD_F_VERSION_1 | SVD_F_RING_INDIRECT_DESC, SVD_F_VERSION_1 | ALL_TRANSPORT };
    for (size_t i = 0; i < 4u; i++) {
        svd_dev_reset(&f->dev);
        negotiate(f, sets[i]);
        setup_queue0(f);
        const svd_vq *q = svd_dev_queue(&f->dev, 0u);
        assert_true(q->enabled);
        assert_int_equal(q->event_idx, (sets[i] & SVD_F_RING_EVENT_IDX) != 0u);
        assert_int_equal(q->indirect, (sets[i] & SVD_F_RING_INDIRECT_DESC) != 0u);
        assert_int_equal(q->size, QSIZE);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-009 */
static void test_attack_rings_outside_memory_or_misaligned_latch(void **state)
{
    fx *f = *state;
    const uint64_t descs[] = { f->ring.desc + 8u,              /* misaligned */
                               RAM_GPA + RAM_SIZE - 16u,       /* table runs off RAM */
                               0x1000u,                        /* unmapped */
                               UINT64_MAX - 15u };             /* wraps */
    for (size_t i = 0; i < 4u; i++) {
        svd_dev_reset(&f->dev);
        negotiate(f, SVD_F_VERSION_1);
        assert_true(svd_is_ok(svd_dev_queue_set_size(&f->dev, 0u, QSIZE, &f->ev)));
        assert_true(svd_is_ok(
            svd_dev_queue_set_addrs(&f->dev, 0u, descs[i], f->ring.avail, f->ring.used, &f->ev)));
        assert_true(svd_is_err(svd_dev_queue_set_ready(&f->dev, 0u, true, &f->ev), SVD_ERR_PROTOCOL));
        assert_latched(f, false);
    }
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-010 */
static void test_attack_notify_before_driver_ok_is_ignored(void **state)
{
    fx *f = *state;
    svd_vq *q = NULL;
    assert_true(svd_is_err(svd_dev_notify(&f->dev, 0u, &q), SVD_ERR_STATE));
    negotiate(f, SVD_F_VERSION_1);
    setup_queue0(f); /* queue ready, DRIVER_OK not yet */
    tg_vring_set_desc(&f->ring, 0u, RAM_GPA + 0x8000u, 64u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 0u);
    const svd_dev before = f->dev;
    assert_true(svd_is_err(svd_dev_notify(&f->dev, 0u, &q), SVD_ERR_STATE));
    assert_null(q);
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    status_ok(f, S_LIVE);
    assert_true(svd_is_ok(svd_dev_notify(&f->dev, 0u, &q)));
    assert_ptr_equal(q, svd_dev_queue(&f->dev, 0u));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* CVE-2011-2512: QEMU trusted the queue index written by the guest. */
/* REQ: REQ-DEV-010 */
static void test_attack_notify_unknown_queue_index_cve_2011_2512(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    const svd_dev before = f->dev;
    const uint32_t idx[] = { 2u, 3u, 0x7fffu, 0xffffu, 0x10000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        svd_vq *q = NULL;
        assert_true(svd_is_err(svd_dev_notify(&f->dev, idx[i], &q), SVD_ERR_BOUNDS));
        assert_null(q);
    }
    /* Existing but never made ready. */
    svd_vq *q = NULL;
    assert_true(svd_is_err(svd_dev_notify(&f->dev, 1u, &q), SVD_ERR_STATE));
    assert_null(q);
    assert_memory_equal(&f->dev, &before, sizeof(f->dev));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* Complete one write-only buffer directly through the queue engine. */
static void complete_one(fx *f, svd_vq *q, uint16_t head)
{
    svd_vq_desc segs[2];
    svd_vq_chain c;
    svd_vq_chain_init(&c, segs, 2u);
    tg_vring_set_desc(&f->ring, head, RAM_GPA + 0x8000u, 64u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, head);
    assert_true(svd_is_ok(svd_vq_pop(q, &f->mem.map, &c)));
    assert_true(svd_is_ok(svd_vq_push(q, &f->mem.map, &c, 8u)));
}

/* REQ: REQ-DEV-011 REQ-DEV-012 */
static void test_queue_processed_raises_queue_interrupt(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    svd_vq *q = NULL;
    assert_true(svd_is_ok(svd_dev_notify(&f->dev, 0u, &q)));
    complete_one(f, q, 0u);
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev);
    assert_true(f->ev.irq);
    assert_false(f->ev.failed);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_QUEUE);
    assert_int_equal(svd_dev_isr(&f->dev), SVD_ISR_QUEUE); /* reading has no side effect */
    /* Nothing new completed: no interrupt. */
    svd_dev_queue_processed(&f->dev, 0u, svd_fail(SVD_ERR_EMPTY), &f->ev);
    assert_false(f->ev.irq);
    /* The driver suppresses interrupts (no EVENT_IDX). */
    tg_vring_set_avail_flags(&f->ring, SVD_VRING_AVAIL_F_NO_INTERRUPT);
    complete_one(f, q, 1u);
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev);
    assert_false(f->ev.irq);
    /* Queue 1 not running, unknown queue: nothing. */
    svd_dev_queue_processed(&f->dev, 1u, svd_ok(), &f->ev);
    assert_false(f->ev.irq);
    svd_dev_queue_processed(&f->dev, 9u, svd_ok(), &f->ev);
    assert_false(f->ev.irq);
    assert_false(svd_dev_needs_reset(&f->dev));
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-011 */
static void test_queue_processed_honours_used_event(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX);
    svd_vq *q = NULL;
    assert_true(svd_is_ok(svd_dev_notify(&f->dev, 0u, &q)));
    complete_one(f, q, 0u);
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev); /* first decision interrupts */
    assert_true(f->ev.irq);
    tg_vring_set_used_event(&f->ring, 5u); /* driver wants to hear only after used idx passes 5 */
    complete_one(f, q, 1u);
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev);
    assert_false(f->ev.irq);
    tg_vring_set_used_event(&f->ring, 2u);
    complete_one(f, q, 2u);
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev);
    assert_true(f->ev.irq);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-011 REQ-DEV-015 */
static void test_queue_protocol_error_latches_device(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    svd_vq *q = NULL;
    assert_true(svd_is_ok(svd_dev_notify(&f->dev, 0u, &q)));
    /* rust-vmm #196: avail idx jumps past the queue size. */
    tg_vring_set_avail_idx(&f->ring, (uint16_t)(QSIZE + 1u));
    svd_vq_desc segs[2];
    svd_vq_chain c;
    svd_vq_chain_init(&c, segs, 2u);
    const svd_result r = svd_vq_pop(q, &f->mem.map, &c);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    svd_dev_queue_processed(&f->dev, 0u, r, &f->ev);
    assert_latched(f, true);
    /* Once latched, processing reports nothing more. */
    svd_dev_queue_processed(&f->dev, 0u, r, &f->ev);
    assert_false(f->ev.failed); /* already latched: idempotent */
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev);
    assert_false(f->ev.irq);
    assert_false(f->ev.failed);
    assert_int_equal(tg_vring_used_idx(&f->ring), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* A shim that forgot to report a queue's protocol error still cannot get the
 * broken queue processed again. */
/* REQ: REQ-DEV-010 */
static void test_attack_notify_on_broken_queue_is_ignored(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    svd_vq *q = NULL;
    assert_true(svd_is_ok(svd_dev_notify(&f->dev, 0u, &q)));
    tg_vring_set_avail_slot(&f->ring, 0u, QSIZE); /* head out of range */
    tg_vring_set_avail_idx(&f->ring, 1u);
    svd_vq_desc segs[2];
    svd_vq_chain c;
    svd_vq_chain_init(&c, segs, 2u);
    assert_true(svd_is_err(svd_vq_pop(q, &f->mem.map, &c), SVD_ERR_PROTOCOL));
    svd_vq *again = NULL;
    assert_true(svd_is_err(svd_dev_notify(&f->dev, 0u, &again), SVD_ERR_STATE));
    assert_null(again);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-011 */
static void test_queue_processed_before_driver_ok_raises_nothing(void **state)
{
    fx *f = *state;
    negotiate(f, SVD_F_VERSION_1);
    setup_queue0(f);
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev);
    assert_false(f->ev.irq);
    assert_int_equal(svd_dev_isr(&f->dev), 0u);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

/* REQ: REQ-DEV-012 */
static void test_isr_ack_and_read_clear(void **state)
{
    fx *f = *state;
    bring_up(f, SVD_F_VERSION_1);
    svd_vq *q = NULL;
    assert_true(svd_is_ok(svd_dev_notify(&f->dev, 0u, &q)));
    complete_one(f, q, 0u);
    svd_dev_queue_processed(&f->dev, 0u, svd_ok(), &f->ev);
    svd_dev_fail(&f->dev, &f->ev);
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
    fx *f = *state;
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
    svd_dev_params p = params();
    p.config = NULL;
    p.config_len = 0u;
    assert_true(svd_is_ok(svd_dev_init(&d, &p, &f->mem.map)));
    assert_true(svd_is_err(svd_dev_config_read(&d, 0u, 1u, &v), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0xabcdu);
    assert_true(tg_mem_canaries_intact(&f->mem));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_rejects_bad_params),
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
        T(test_reset_clears_latch_queues_features_and_isr),
        T(test_driver_features_only_between_driver_and_features_ok),
        T(test_queue_config_refused_outside_its_window),
        T(test_attack_queue_config_on_unknown_queue_index),
        T(test_attack_bad_queue_sizes_latch),
        T(test_attack_changing_a_ready_queue_latches),
        T(test_set_ready_applies_negotiated_ring_features),
        T(test_attack_rings_outside_memory_or_misaligned_latch),
        T(test_attack_notify_before_driver_ok_is_ignored),
        T(test_attack_notify_unknown_queue_index_cve_2011_2512),
        T(test_queue_processed_raises_queue_interrupt),
        T(test_queue_processed_honours_used_event),
        T(test_queue_protocol_error_latches_device),
        T(test_attack_notify_on_broken_queue_is_ignored),
        T(test_queue_processed_before_driver_ok_raises_nothing),
        T(test_isr_ack_and_read_clear),
        T(test_config_read_widths_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
