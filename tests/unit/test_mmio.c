/* Unit tests of the virtio-mmio transport engine (src/core/mmio.c): registers
 * after reset, the Linux virtio_mmio probe sequence, the defined answer for
 * bad widths/offsets/directions, interrupts, notify. The register rules are
 * tested on the transport's own functions (core_priv.h) over a device engine
 * with a toy model; the composed engine's address decoding is test_vdev.c's.
 * Adversarial tests are named test_attack_* and each ends by checking the
 * state the spec requires (and, for a latch, the rule it names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_priv.h"
#include "safevdev/mmio.h"
#include "tg_mem.h"
#include "tg_model.h"
#include "tg_vring.h"

#define RAM_GPA 0x40000000u
#define RAM_SIZE 0x10000u
#define QSIZE 8u
#define QMAX 64u
#define VENDOR 0x554d4551u
#define T0 1000u

static const uint8_t cfg_bytes[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

typedef struct fx {
    tg_mem mem;
    tg_vring ring;
    tg_model tm;
    svd_dev dev;
    svd_mmio m;
    svd_fx fx;
} fx;

/* Every transport call starts with an empty effect (the composed engine
 * clears it once per face call). */
static svd_fx *clr(fx *f)
{
    svd_fx_reset(&f->fx);
    return &f->fx;
}

/* DEVICE_NEEDS_RESET is latched. */
static bool latched(const fx *f)
{
    return (svd_dev_status(&f->dev) & SVD_STATUS_NEEDS_RESET) != 0u;
}

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof(f));
    if (tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE) != 0) {
        return -1;
    }
    (void)tg_vring_init(&f.ring, &f.mem, QSIZE, RAM_GPA);
    tg_model_init(&f.tm);
    svd_model p;
    tg_model_iface(&f.tm, &p, 4u, 2u, QMAX, cfg_bytes, sizeof(cfg_bytes));
    if (!svd_is_ok(svd_dev_init(&f.dev, &p, &f.mem.map, false)) || !svd_is_ok(svd_mmio_init(&f.m, &f.dev, VENDOR))) {
        return -1;
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    assert_true(tg_mem_canaries_intact(&f->mem));
    tg_mem_free(&f->mem);
    return 0;
}

/* Register read that must succeed. */
static uint32_t rd(fx *f, uint32_t off)
{
    uint32_t v = 0xdeadbeefu;
    assert_true(svd_is_ok(svd_mmio_read(&f->m, off, 4u, &v, clr(f))));
    return v;
}

static svd_result wr(fx *f, uint32_t off, uint32_t val)
{
    return svd_mmio_write(&f->m, off, 4u, val, T0, clr(f));
}

static void wr_ok(fx *f, uint32_t off, uint32_t val)
{
    assert_true(svd_is_ok(wr(f, off, val)));
}

/* A read that gets the defined answer: 0 and the given error. */
static void rd_refused(fx *f, uint64_t off, uint32_t width, svd_err e)
{
    uint32_t v = 0xdeadbeefu;
    assert_int_equal(svd_mmio_read(&f->m, off, width, &v, clr(f)).err, e);
    assert_int_equal(v, 0u);
}

/* Linux virtio_mmio + virtio core up to FEATURES_OK. */
static void negotiate(fx *f)
{
    wr_ok(f, SVD_MMIO_STATUS, 0u);
    wr_ok(f, SVD_MMIO_STATUS, SVD_STATUS_ACKNOWLEDGE);
    wr_ok(f, SVD_MMIO_STATUS, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    wr_ok(f, SVD_MMIO_DEVICE_FEATURES_SEL, 1u);
    const uint32_t hi = rd(f, SVD_MMIO_DEVICE_FEATURES);
    wr_ok(f, SVD_MMIO_DEVICE_FEATURES_SEL, 0u);
    const uint32_t lo = rd(f, SVD_MMIO_DEVICE_FEATURES);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES_SEL, 1u);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES, hi & 1u); /* VERSION_1 only */
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES_SEL, 0u);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES, lo & (uint32_t)SVD_F_RING_EVENT_IDX);
    wr_ok(f, SVD_MMIO_STATUS, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK);
    assert_true((rd(f, SVD_MMIO_STATUS) & SVD_STATUS_FEATURES_OK) != 0u);
}

static void setup_queue0(fx *f)
{
    wr_ok(f, SVD_MMIO_QUEUE_SEL, 0u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_READY), 0u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_NUM_MAX), QMAX);
    wr_ok(f, SVD_MMIO_QUEUE_NUM, QSIZE);
    wr_ok(f, SVD_MMIO_QUEUE_DESC_LOW, (uint32_t)f->ring.desc);
    wr_ok(f, SVD_MMIO_QUEUE_DESC_HIGH, (uint32_t)(f->ring.desc >> 32));
    wr_ok(f, SVD_MMIO_QUEUE_DRIVER_LOW, (uint32_t)f->ring.avail);
    wr_ok(f, SVD_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(f->ring.avail >> 32));
    wr_ok(f, SVD_MMIO_QUEUE_DEVICE_LOW, (uint32_t)f->ring.used);
    wr_ok(f, SVD_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(f->ring.used >> 32));
    wr_ok(f, SVD_MMIO_QUEUE_READY, 1u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_READY), 1u);
}

static void probe(fx *f)
{
    negotiate(f);
    setup_queue0(f);
    wr_ok(f, SVD_MMIO_STATUS, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK |
                                  SVD_STATUS_DRIVER_OK);
}

/* REQ: REQ-MMIO-001 */
static void test_identity_registers(void **state)
{
    fx *f = *state;
    assert_int_equal(rd(f, SVD_MMIO_MAGIC_VALUE), 0x74726976u);
    assert_int_equal(rd(f, SVD_MMIO_VERSION_REG), 2u);
    assert_int_equal(rd(f, SVD_MMIO_DEVICE_ID), 4u);
    assert_int_equal(rd(f, SVD_MMIO_VENDOR_ID), VENDOR);
}

/* REQ: REQ-MMIO-002 REQ-MMIO-010 */
static void test_registers_after_reset(void **state)
{
    fx *f = *state;
    assert_int_equal(rd(f, SVD_MMIO_DEVICE_FEATURES), (uint32_t)SVD_F_RING_EVENT_IDX | (uint32_t)SVD_F_RING_INDIRECT_DESC);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_NUM_MAX), QMAX);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_READY), 0u);
    assert_int_equal(rd(f, SVD_MMIO_INTERRUPT_STATUS), 0u);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0u);
    assert_int_equal(rd(f, SVD_MMIO_CONFIG_GENERATION), 0u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_RESET), 0u);
    assert_int_equal(rd(f, SVD_MMIO_SHM_LEN_LOW), 0xffffffffu);
    assert_int_equal(rd(f, SVD_MMIO_SHM_LEN_HIGH), 0xffffffffu);
    assert_int_equal(rd(f, SVD_MMIO_SHM_BASE_LOW), 0xffffffffu);
    assert_int_equal(rd(f, SVD_MMIO_SHM_BASE_HIGH), 0xffffffffu);
    assert_false(f->fx.irq_level);
    /* write-only registers read the defined answer */
    const uint32_t wo[] = { SVD_MMIO_DEVICE_FEATURES_SEL, SVD_MMIO_DRIVER_FEATURES, SVD_MMIO_DRIVER_FEATURES_SEL,
                            SVD_MMIO_QUEUE_SEL, SVD_MMIO_QUEUE_NUM, SVD_MMIO_QUEUE_NOTIFY,
                            SVD_MMIO_INTERRUPT_ACK, SVD_MMIO_QUEUE_DESC_LOW, SVD_MMIO_QUEUE_DESC_HIGH,
                            SVD_MMIO_QUEUE_DRIVER_LOW, SVD_MMIO_QUEUE_DRIVER_HIGH, SVD_MMIO_QUEUE_DEVICE_LOW,
                            SVD_MMIO_QUEUE_DEVICE_HIGH, SVD_MMIO_SHM_SEL, 0x018u, 0x0f8u };
    for (size_t i = 0u; i < sizeof(wo) / sizeof(wo[0]); i++) {
        rd_refused(f, wo[i], 4u, SVD_ERR_BOUNDS);
    }
}

/* REQ: REQ-MMIO-003 */
static void test_feature_windows(void **state)
{
    fx *f = *state;
    wr_ok(f, SVD_MMIO_DEVICE_FEATURES_SEL, 1u);
    assert_int_equal(rd(f, SVD_MMIO_DEVICE_FEATURES), 5u); /* VERSION_1 | RING_PACKED */
    wr_ok(f, SVD_MMIO_DEVICE_FEATURES_SEL, 2u);
    assert_int_equal(rd(f, SVD_MMIO_DEVICE_FEATURES), 0u);
    wr_ok(f, SVD_MMIO_DEVICE_FEATURES_SEL, 0xffffffffu);
    assert_int_equal(rd(f, SVD_MMIO_DEVICE_FEATURES), 0u);
}

/* REQ: REQ-MMIO-004 REQ-MMIO-005 */
static void test_linux_probe_sequence(void **state)
{
    fx *f = *state;
    probe(f);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x0fu);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), (uint32_t)SVD_F_RING_EVENT_IDX);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 1u), 1u); /* VERSION_1 */
    const svd_vq *q = svd_dev_queue(&f->dev, 0u);
    assert_int_equal(svd_vq_size(q), QSIZE);
    assert_int_equal(svd_vq_addr(q, SVD_VQ_RING_DESC), f->ring.desc);
    assert_int_equal(svd_vq_addr(q, SVD_VQ_RING_AVAIL), f->ring.avail);
    assert_int_equal(svd_vq_addr(q, SVD_VQ_RING_USED), f->ring.used);
    assert_true(svd_vq_enabled(q));
    assert_true(q->event_idx);
    assert_false(q->indirect);
    assert_false(f->fx.failed);
}

/* REQ: REQ-MMIO-004 */
static void test_features_ok_refused_without_version_1(void **state)
{
    fx *f = *state;
    wr_ok(f, SVD_MMIO_STATUS, SVD_STATUS_ACKNOWLEDGE);
    wr_ok(f, SVD_MMIO_STATUS, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES_SEL, 1u);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES, 0u);
    assert_int_equal(wr(f, SVD_MMIO_STATUS, 0x0bu).err, SVD_ERR_STATE);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x03u); /* the driver re-reads: not accepted */
    assert_false(f->fx.failed);
    assert_false(latched(f));
}

/* REQ: REQ-MMIO-006 */
static void test_bad_widths_and_alignment(void **state)
{
    fx *f = *state;
    negotiate(f);
    const uint32_t widths[] = { 0u, 1u, 2u, 3u, 8u };
    for (size_t i = 0u; i < sizeof(widths) / sizeof(widths[0]); i++) {
        rd_refused(f, SVD_MMIO_MAGIC_VALUE, widths[i], SVD_ERR_INVALID_ARG);
        assert_int_equal(svd_mmio_write(&f->m, SVD_MMIO_STATUS, widths[i], 0u, T0, clr(f)).err, SVD_ERR_INVALID_ARG);
        assert_false(f->fx.reset);
    }
    rd_refused(f, SVD_MMIO_MAGIC_VALUE + 2u, 4u, SVD_ERR_INVALID_ARG);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_SEL + 1u, 1u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(f->m.queue_sel, 0u);
    /* config: width 8 and misaligned refused */
    rd_refused(f, SVD_MMIO_CONFIG_OFFSET, 8u, SVD_ERR_INVALID_ARG);
    rd_refused(f, SVD_MMIO_CONFIG_OFFSET + 1u, 2u, SVD_ERR_INVALID_ARG);
    rd_refused(f, SVD_MMIO_CONFIG_OFFSET + 2u, 4u, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_mmio_write(&f->m, SVD_MMIO_CONFIG_OFFSET, 8u, 1u, T0, clr(f)).err, SVD_ERR_INVALID_ARG);
    /* nothing moved */
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x0bu);
    assert_false(latched(f));
}

/* REQ: REQ-MMIO-006 */
static void test_offsets_outside_window(void **state)
{
    fx *f = *state;
    rd_refused(f, SVD_MMIO_WINDOW_SIZE, 4u, SVD_ERR_BOUNDS);
    rd_refused(f, UINT64_C(0x100000000), 4u, SVD_ERR_BOUNDS);
    rd_refused(f, UINT64_MAX, 1u, SVD_ERR_BOUNDS);
    assert_int_equal(svd_mmio_write(&f->m, SVD_MMIO_WINDOW_SIZE, 4u, 0u, T0, clr(f)).err, SVD_ERR_BOUNDS);
    assert_int_equal(svd_mmio_write(&f->m, UINT64_C(0x100000000) + SVD_MMIO_STATUS, 4u, 1u, T0, clr(f)).err,
                     SVD_ERR_BOUNDS);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0u);
}

/* REQ: REQ-MMIO-007 */
static void test_writes_to_read_only_registers_ignored(void **state)
{
    fx *f = *state;
    negotiate(f);
    const uint32_t ro[] = { SVD_MMIO_MAGIC_VALUE, SVD_MMIO_VERSION_REG, SVD_MMIO_DEVICE_ID,
                            SVD_MMIO_VENDOR_ID, SVD_MMIO_DEVICE_FEATURES, SVD_MMIO_QUEUE_NUM_MAX,
                            SVD_MMIO_INTERRUPT_STATUS, SVD_MMIO_CONFIG_GENERATION, SVD_MMIO_SHM_LEN_LOW,
                            SVD_MMIO_SHM_BASE_HIGH, 0x0f0u };
    for (size_t i = 0u; i < sizeof(ro) / sizeof(ro[0]); i++) {
        assert_int_equal(wr(f, ro[i], 0x5au).err, SVD_ERR_BOUNDS);
    }
    assert_int_equal(rd(f, SVD_MMIO_MAGIC_VALUE), SVD_MMIO_MAGIC);
    assert_int_equal(rd(f, SVD_MMIO_DEVICE_ID), 4u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_NUM_MAX), QMAX);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x0bu);
    /* accepted without effect */
    wr_ok(f, SVD_MMIO_SHM_SEL, 0u);
    wr_ok(f, SVD_MMIO_QUEUE_RESET, 1u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_RESET), 0u);
    assert_int_equal(rd(f, SVD_MMIO_SHM_LEN_LOW), 0xffffffffu);
    assert_false(latched(f));
}

/* REQ: REQ-MMIO-008.a REQ-MMIO-008.b */
static void test_queue_select_out_of_range(void **state)
{
    fx *f = *state;
    negotiate(f);
    const uint32_t sels[] = { 2u, 0xffffu, 0xffffffffu };
    for (size_t i = 0u; i < sizeof(sels) / sizeof(sels[0]); i++) {
        wr_ok(f, SVD_MMIO_QUEUE_SEL, sels[i]);
        assert_int_equal(rd(f, SVD_MMIO_QUEUE_NUM_MAX), 0u);
        assert_int_equal(rd(f, SVD_MMIO_QUEUE_READY), 0u);
        assert_int_equal(wr(f, SVD_MMIO_QUEUE_NUM, QSIZE).err, SVD_ERR_BOUNDS);
        assert_int_equal(wr(f, SVD_MMIO_QUEUE_DESC_LOW, 0x1000u).err, SVD_ERR_BOUNDS);
        assert_int_equal(wr(f, SVD_MMIO_QUEUE_READY, 1u).err, SVD_ERR_BOUNDS);
        assert_false(f->fx.failed);
    }
    assert_false(latched(f));
    /* queue 1 exists and is independent of queue 0 */
    wr_ok(f, SVD_MMIO_QUEUE_SEL, 1u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_NUM_MAX), QMAX);
    wr_ok(f, SVD_MMIO_QUEUE_NUM, 4u);
    assert_int_equal(svd_vq_size(svd_dev_queue(&f->dev, 1u)), 4u);
    assert_int_equal(svd_vq_size(svd_dev_queue(&f->dev, 0u)), QMAX); /* preset by the device engine */
}

/* The value written to QueueNotify names the queue; the model serves it in the call. */
/* REQ: REQ-MMIO-009 */
static void test_notify_serves_the_queue(void **state)
{
    fx *f = *state;
    probe(f);
    wr_ok(f, SVD_MMIO_QUEUE_NOTIFY, 0u);
    assert_int_equal(f->tm.serves, 1u);
    assert_int_equal(f->tm.last_index, 0u);
    assert_int_equal(f->tm.last_now, T0);
    /* queue 1 exists but is not ready: not served */
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NOTIFY, 1u).err, SVD_ERR_STATE);
    assert_int_equal(f->tm.serves, 1u);
    assert_int_equal(f->fx.queue_notify, 0u);
}

/* REQ: REQ-MMIO-009 */
static void test_notify_before_driver_ok_ignored(void **state)
{
    fx *f = *state;
    negotiate(f);
    setup_queue0(f);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NOTIFY, 0u).err, SVD_ERR_STATE);
    assert_int_equal(f->tm.serves, 0u);
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_false(f->fx.irq_level);
}

/* REQ: REQ-MMIO-010 REQ-MMIO-011.a REQ-MMIO-011.b */
static void test_interrupt_raise_and_ack(void **state)
{
    fx *f = *state;
    probe(f);
    /* the driver offers a buffer and kicks */
    tg_vring_set_desc(&f->ring, 0u, RAM_GPA + 0x8000u, 64u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 0u);
    /* ... and the device model fills it, and the line rises, in the same call */
    wr_ok(f, SVD_MMIO_QUEUE_NOTIFY, 0u);
    assert_int_equal(f->tm.completed, 1u);
    assert_int_equal(f->fx.queue_notify, 1u);
    assert_true(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    /* no second edge while the level holds */
    svd_mmio_sync_irq(&f->m, clr(f));
    assert_false(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    assert_int_equal(rd(f, SVD_MMIO_INTERRUPT_STATUS), SVD_ISR_QUEUE);
    assert_true(f->fx.irq_level); /* a read does not clear */
    /* ack of a bit that is not pending changes nothing */
    wr_ok(f, SVD_MMIO_INTERRUPT_ACK, SVD_ISR_CONFIG | 0xfcu);
    assert_false(f->fx.irq_changed);
    assert_int_equal(rd(f, SVD_MMIO_INTERRUPT_STATUS), SVD_ISR_QUEUE);
    wr_ok(f, SVD_MMIO_INTERRUPT_ACK, SVD_ISR_QUEUE);
    assert_true(f->fx.irq_changed);
    assert_false(f->fx.irq_level);
    assert_int_equal(rd(f, SVD_MMIO_INTERRUPT_STATUS), 0u);
    uint32_t id = 0u;
    uint32_t len = 0u;
    assert_true(tg_vring_get_used(&f->ring, &id, &len));
    assert_int_equal(len, 64u);
}

/* REQ: REQ-MMIO-012 */
static void test_status_zero_resets(void **state)
{
    fx *f = *state;
    probe(f);
    wr_ok(f, SVD_MMIO_QUEUE_SEL, 1u);
    wr_ok(f, SVD_MMIO_DEVICE_FEATURES_SEL, 1u);
    /* A looping chain, notified: the device latches, config interrupt pending. */
    tg_vring_publish_loop(&f->ring, 0u, RAM_GPA + 0x8000u);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NOTIFY, 0u).err, SVD_ERR_PROTOCOL);
    assert_true(f->fx.failed);
    assert_true(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    assert_int_equal(rd(f, SVD_MMIO_INTERRUPT_STATUS), SVD_ISR_CONFIG);
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_CHAIN_LOOP);
    wr_ok(f, SVD_MMIO_STATUS, 0u);
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_NONE);
    assert_true(f->fx.reset);
    assert_true(f->fx.irq_changed);
    assert_false(f->fx.irq_level);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0u);
    assert_int_equal(rd(f, SVD_MMIO_INTERRUPT_STATUS), 0u);
    assert_int_equal(f->m.queue_sel, 0u);
    assert_int_equal(f->m.dev_features_sel, 0u);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_READY), 0u);
    /* the device can be probed again */
    probe(f);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x0fu);
}

/* REQ: REQ-MMIO-012 */
static void test_host_reset(void **state)
{
    fx *f = *state;
    probe(f);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES_SEL, 1u);
    wr_ok(f, SVD_MMIO_QUEUE_SEL, 1u);
    /* A looping chain, notified: the device latches and the line is up. */
    tg_vring_publish_loop(&f->ring, 0u, RAM_GPA + 0x8000u);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NOTIFY, 0u).err, SVD_ERR_PROTOCOL);
    assert_true(f->fx.irq_level);
    assert_true(latched(f));
    const uint32_t resets = f->tm.resets;
    svd_mmio_reset(&f->m, clr(f));
    assert_true(f->fx.reset);
    assert_true(f->fx.irq_changed);
    assert_false(f->fx.irq_level);
    assert_int_equal(f->tm.resets, resets + 1u);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0u);
    assert_int_equal(f->m.drv_features_sel, 0u);
    assert_int_equal(f->m.queue_sel, 0u);
    assert_false(svd_vq_enabled(svd_dev_queue(&f->dev, 0u)));
    assert_false(latched(f));
}

/* REQ: REQ-MMIO-013 */
static void test_config_space(void **state)
{
    fx *f = *state;
    uint32_t v = 0u;
    assert_true(svd_is_ok(svd_mmio_read(&f->m, SVD_MMIO_CONFIG_OFFSET, 1u, &v, clr(f))));
    assert_int_equal(v, 0x11u);
    assert_true(svd_is_ok(svd_mmio_read(&f->m, SVD_MMIO_CONFIG_OFFSET + 2u, 2u, &v, clr(f))));
    assert_int_equal(v, 0x4433u);
    assert_true(svd_is_ok(svd_mmio_read(&f->m, SVD_MMIO_CONFIG_OFFSET + 4u, 4u, &v, clr(f))));
    assert_int_equal(v, 0x88776655u);
    /* beyond config_len, inside the window */
    rd_refused(f, SVD_MMIO_CONFIG_OFFSET + 8u, 4u, SVD_ERR_BOUNDS);
    rd_refused(f, SVD_MMIO_WINDOW_SIZE - 1u, 1u, SVD_ERR_BOUNDS);
    /* read-only */
    assert_int_equal(svd_mmio_write(&f->m, SVD_MMIO_CONFIG_OFFSET, 1u, 0u, T0, clr(f)).err, SVD_ERR_BOUNDS);
    assert_int_equal(svd_mmio_write(&f->m, SVD_MMIO_CONFIG_OFFSET, 2u, 0u, T0, clr(f)).err, SVD_ERR_BOUNDS);
    assert_int_equal(svd_mmio_write(&f->m, SVD_MMIO_CONFIG_OFFSET, 4u, 0u, T0, clr(f)).err, SVD_ERR_BOUNDS);
    assert_true(svd_is_ok(svd_mmio_read(&f->m, SVD_MMIO_CONFIG_OFFSET, 1u, &v, clr(f))));
    assert_int_equal(v, 0x11u);
}

/* REQ: REQ-MMIO-014 */
static void test_values_out_of_range_ignored(void **state)
{
    fx *f = *state;
    negotiate(f);
    assert_int_equal(wr(f, SVD_MMIO_STATUS, 0x100u).err, SVD_ERR_BOUNDS); /* would be a reset if truncated */
    assert_false(f->fx.reset);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x0bu);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_READY, 2u).err, SVD_ERR_BOUNDS);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_READY), 0u);
    assert_false(latched(f));
}

/* The NULL checks of an access are the composed engine's (svd_vdev_access,
 * test_vdev.c); the transport refuses a device it cannot carry. */
/* REQ: REQ-MMIO-015 */
static void test_init_refuses_what_the_window_cannot_carry(void **state)
{
    fx *f = *state;
    svd_mmio m;
    memset(&m, 0x5a, sizeof(m));
    const svd_mmio before = m;
    assert_int_equal(svd_mmio_init(NULL, &f->dev, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_mmio_init(&m, NULL, 0u).err, SVD_ERR_INVALID_ARG);
    svd_dev big = f->dev;
    big.model.config_len = SVD_MMIO_CONFIG_MAX + 1u;
    assert_int_equal(svd_mmio_init(&m, &big, 0u).err, SVD_ERR_INVALID_ARG);
    assert_memory_equal(&m, &before, sizeof(m));
    big.model.config_len = SVD_MMIO_CONFIG_MAX;
    assert_true(svd_is_ok(svd_mmio_init(&m, &big, 0u)));
    assert_false(m.irq_level);
    assert_int_equal(m.queue_sel, 0u);
}

/* ------------------------------------------------------------ attacks */

/* The write just made broke rule @why: the device latched for it, in this call. */
static void latched_for(fx *f, svd_why why)
{
    assert_true(f->fx.failed);
    assert_string_equal(svd_why_name(f->fx.why), svd_why_name(why));
    assert_string_equal(svd_why_name(svd_dev_why(&f->dev)), svd_why_name(why));
    assert_true(latched(f));
}

/* REQ: REQ-MMIO-016 */
static void test_attack_queue_num_not_power_of_two(void **state)
{
    fx *f = *state;
    negotiate(f);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NUM, 3u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_QUEUE_SIZE);
    assert_true((rd(f, SVD_MMIO_STATUS) & SVD_STATUS_NEEDS_RESET) != 0u);
    assert_false(f->fx.irq_level); /* no config interrupt before DRIVER_OK */
}

/* REQ: REQ-MMIO-016 */
static void test_attack_queue_num_above_max(void **state)
{
    fx *f = *state;
    negotiate(f);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NUM, QMAX * 2u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_QUEUE_SIZE);
    assert_int_equal(svd_vq_size(svd_dev_queue(&f->dev, 0u)), QMAX); /* preset by the device engine */
}

/* REQ: REQ-MMIO-016 */
static void test_attack_rings_outside_guest_memory(void **state)
{
    fx *f = *state;
    negotiate(f);
    wr_ok(f, SVD_MMIO_QUEUE_NUM, QSIZE);
    wr_ok(f, SVD_MMIO_QUEUE_DESC_LOW, 0xfffff000u);
    wr_ok(f, SVD_MMIO_QUEUE_DESC_HIGH, 0xffffffffu);
    wr_ok(f, SVD_MMIO_QUEUE_DRIVER_LOW, (uint32_t)f->ring.avail);
    wr_ok(f, SVD_MMIO_QUEUE_DEVICE_LOW, (uint32_t)f->ring.used);
    assert_int_equal(svd_vq_addr(svd_dev_queue(&f->dev, 0u), SVD_VQ_RING_DESC), UINT64_C(0xfffffffffffff000));
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_READY, 1u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_RING_MEMORY);
    assert_int_equal(rd(f, SVD_MMIO_QUEUE_READY), 0u);
}

/* REQ: REQ-MMIO-016 */
static void test_attack_ring_address_change_while_ready(void **state)
{
    fx *f = *state;
    negotiate(f);
    setup_queue0(f);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_DESC_LOW, 0x1000u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_QUEUE_ENABLED);
    assert_int_equal(svd_vq_addr(svd_dev_queue(&f->dev, 0u), SVD_VQ_RING_DESC), f->ring.desc);
}

/* REQ: REQ-MMIO-016 */
static void test_attack_ready_zero_on_ready_queue(void **state)
{
    fx *f = *state;
    negotiate(f);
    setup_queue0(f);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_READY, 0u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_QUEUE_ENABLED);
    assert_false(svd_vq_enabled(svd_dev_queue(&f->dev, 0u)));
}

/* REQ: REQ-MMIO-016 */
static void test_attack_status_skips_order(void **state)
{
    fx *f = *state;
    assert_int_equal(wr(f, SVD_MMIO_STATUS, SVD_STATUS_DRIVER_OK).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_STATUS_ORDER);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), SVD_STATUS_NEEDS_RESET);
    /* only a reset clears it, and its reason */
    wr_ok(f, SVD_MMIO_STATUS, 0u);
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0u);
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_NONE);
}

/* REQ: REQ-MMIO-016 */
static void test_attack_status_clears_bit_after_driver_ok(void **state)
{
    fx *f = *state;
    probe(f);
    assert_int_equal(wr(f, SVD_MMIO_STATUS, SVD_STATUS_ACKNOWLEDGE).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_STATUS_ORDER);
    /* after DRIVER_OK the latch comes with a configuration interrupt */
    assert_true(f->fx.config_notify);
    assert_true(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    assert_true((rd(f, SVD_MMIO_INTERRUPT_STATUS) & SVD_ISR_CONFIG) != 0u);
    assert_int_equal(rd(f, SVD_MMIO_CONFIG_GENERATION), 1u);
    /* the queue stopped: a kick gives no work */
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NOTIFY, 0u).err, SVD_ERR_STATE);
    assert_int_equal(f->tm.serves, 0u);
    assert_int_equal(f->fx.queue_notify, 0u);
}

/* REQ: REQ-MMIO-016 */
static void test_attack_driver_sets_needs_reset(void **state)
{
    fx *f = *state;
    negotiate(f);
    assert_int_equal(wr(f, SVD_MMIO_STATUS, 0x4bu).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_STATUS_ORDER);
}

/* REQ: REQ-MMIO-008.c REQ-MMIO-016 */
static void test_attack_notify_huge_queue_index(void **state)
{
    fx *f = *state; /* QEMU CVE-2011-2512 class */
    probe(f);
    const uint32_t qs[] = { 2u, 0xffffu, 0x10000u, 0xffffffffu };
    for (size_t i = 0u; i < sizeof(qs) / sizeof(qs[0]); i++) {
        assert_int_equal(wr(f, SVD_MMIO_QUEUE_NOTIFY, qs[i]).err, SVD_ERR_BOUNDS);
        assert_int_equal(f->fx.queue_notify, 0u);
    }
    assert_int_equal(f->tm.serves, 0u);
    assert_false(latched(f));
}

/* REQ: REQ-MMIO-016 */
static void test_attack_features_after_features_ok(void **state)
{
    fx *f = *state;
    negotiate(f);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES_SEL, 0u);
    assert_int_equal(wr(f, SVD_MMIO_DRIVER_FEATURES, 0xffffffffu).err, SVD_ERR_STATE);
    assert_int_equal(svd_dev_driver_features_word(&f->dev, 0u), (uint32_t)SVD_F_RING_EVENT_IDX);
    wr_ok(f, SVD_MMIO_DRIVER_FEATURES_SEL, 7u);
    assert_int_equal(wr(f, SVD_MMIO_DRIVER_FEATURES, 1u).err, SVD_ERR_STATE);
    assert_false(latched(f));
}

/* REQ: REQ-MMIO-016 */
static void test_attack_queue_config_after_driver_ok(void **state)
{
    fx *f = *state;
    probe(f);
    wr_ok(f, SVD_MMIO_QUEUE_SEL, 1u);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_NUM, 4u).err, SVD_ERR_STATE);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_DEVICE_HIGH, 1u).err, SVD_ERR_STATE);
    assert_int_equal(wr(f, SVD_MMIO_QUEUE_READY, 1u).err, SVD_ERR_STATE);
    assert_int_equal(svd_vq_size(svd_dev_queue(&f->dev, 1u)), QMAX); /* unchanged */
    assert_int_equal(svd_vq_addr(svd_dev_queue(&f->dev, 1u), SVD_VQ_RING_USED), 0u);
    assert_false(svd_vq_enabled(svd_dev_queue(&f->dev, 1u)));
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x0fu);
}

/* REQ: REQ-MMIO-006 REQ-MMIO-016 */
static void test_attack_register_sweep(void **state)
{
    fx *f = *state; /* every offset, every width: the engine stays consistent */
    probe(f);
    for (uint32_t off = 0u; off < SVD_MMIO_WINDOW_SIZE + 8u; off++) {
        for (uint32_t w = 0u; w <= 8u; w++) {
            uint32_t v = 0xdeadbeefu;
            const svd_result r = svd_mmio_read(&f->m, off, w, &v, clr(f));
            assert_true(svd_is_ok(r) || v == 0u); /* refused reads give the defined answer */
            assert_false(f->fx.reset);
            assert_false(f->fx.failed);
        }
    }
    assert_int_equal(f->tm.serves, 0u); /* a read never runs the model */
    assert_int_equal(rd(f, SVD_MMIO_STATUS), 0x0fu);
    assert_true(svd_vq_enabled(svd_dev_queue(&f->dev, 0u)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_identity_registers),
        T(test_registers_after_reset),
        T(test_feature_windows),
        T(test_linux_probe_sequence),
        T(test_features_ok_refused_without_version_1),
        T(test_bad_widths_and_alignment),
        T(test_offsets_outside_window),
        T(test_writes_to_read_only_registers_ignored),
        T(test_queue_select_out_of_range),
        T(test_notify_serves_the_queue),
        T(test_notify_before_driver_ok_ignored),
        T(test_interrupt_raise_and_ack),
        T(test_status_zero_resets),
        T(test_host_reset),
        T(test_config_space),
        T(test_values_out_of_range_ignored),
        T(test_init_refuses_what_the_window_cannot_carry),
        T(test_attack_queue_num_not_power_of_two),
        T(test_attack_queue_num_above_max),
        T(test_attack_rings_outside_guest_memory),
        T(test_attack_ring_address_change_while_ready),
        T(test_attack_ready_zero_on_ready_queue),
        T(test_attack_status_skips_order),
        T(test_attack_status_clears_bit_after_driver_ok),
        T(test_attack_driver_sets_needs_reset),
        T(test_attack_notify_huge_queue_index),
        T(test_attack_features_after_features_ok),
        T(test_attack_queue_config_after_driver_ok),
        T(test_attack_register_sweep),
#undef T
    };
    return cmocka_run_group_tests_name("mmio", tests, NULL, NULL);
}
