/* Unit tests of the ARM SP805 watchdog engine (src/core/wdt_sp805.c). Expected
 * values follow the SP805 TRM (ARM DDI 0270) as summarised in wdt_sp805.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/wdt_sp805.h"

#define HZ 1000000u     /* 1 MHz: one clock per microsecond */
#define US 1000u
#define BASE UINT64_C(0x1c0f0000) /* guest-physical window base (svd_sp805_access) */


/* Every call fills the whole effect (the engine clears it first: the
 * garbage planted by dirty() must be gone), asks for the engine's next
 * deadline, and reports nothing a watchdog cannot cause. */
static void dirty(svd_fx *fx)
{
    memset(fx, 0xA5, sizeof(*fx));
}

static void check_fx(const svd_fx *fx, uint64_t deadline)
{
    assert_int_equal(fx->deadline, deadline);
    assert_int_equal(fx->queue_notify, 0u);
    assert_false(fx->config_notify);
    assert_false(fx->reset);
    assert_false(fx->failed);
    assert_int_equal(fx->why, SVD_WHY_NONE);
    assert_false(fx->bars_changed);
    assert_true(fx->fired == (fx->fires != 0u));
}

static svd_sp805 make(svd_wdt_action action, uint32_t hz)
{
    svd_sp805 w;
    const svd_sp805_cfg cfg = { action, hz, BASE };
    assert_true(svd_is_ok(svd_sp805_init(&w, &cfg, 0u)));
    return w;
}

static uint32_t rd(svd_sp805 *w, uint32_t off, uint64_t now)
{
    uint32_t v = 0xdeadbeefu;
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_sp805_read(w, off, 4, now, &v, &fx)));
    check_fx(&fx, svd_sp805_next_deadline(w));
    return v;
}

static svd_fx wr(svd_sp805 *w, uint32_t off, uint32_t val, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_sp805_write(w, off, 4, val, now, &fx)));
    check_fx(&fx, svd_sp805_next_deadline(w));
    return fx;
}

static svd_fx tick(svd_sp805 *w, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    svd_sp805_tick(w, now, &fx);
    check_fx(&fx, svd_sp805_next_deadline(w));
    return fx;
}

/* REQ: REQ-WDT-027 */
static void test_init_validates_config(void **state)
{
    (void)state;
    svd_sp805 w;
    memset(&w, 0x5a, sizeof w);
    const svd_sp805 before = w;
    const svd_sp805_cfg bad[] = { { SVD_WDT_ACTION_RESET, 0u, BASE }, { SVD_WDT_ACTION_RESET, SVD_SP805_MAX_HZ + 1u, BASE },
                                  { SVD_WDT_ACTION__COUNT, HZ, BASE }, { (svd_wdt_action)-1, HZ, BASE } };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(svd_is_err(svd_sp805_init(&w, &bad[i], 0u), SVD_ERR_INVALID_ARG));
        assert_memory_equal(&w, &before, sizeof w);
    }
    assert_true(svd_is_err(svd_sp805_init(NULL, &bad[0], 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_sp805_init(&w, NULL, 0u), SVD_ERR_INVALID_ARG));
    const svd_sp805_cfg edge[] = { { SVD_WDT_ACTION_NONE, 1u, 0u }, { SVD_WDT_ACTION_DUMP, SVD_SP805_MAX_HZ, UINT64_MAX } };
    for (unsigned i = 0; i < 2u; i++) {
        assert_true(svd_is_ok(svd_sp805_init(&w, &edge[i], 0u)));
    }
}

/* REQ: REQ-WDT-020.a REQ-WDT-020.b REQ-WDT-020.c */
static void test_reset_values_and_id_registers(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    assert_int_equal(rd(&w, SVD_SP805_LOAD, 0), 0xFFFFFFFFu);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 0), 0xFFFFFFFFu);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 1000000000u), 0xFFFFFFFFu); /* not counting */
    assert_int_equal(rd(&w, SVD_SP805_CONTROL, 0), 0u);
    assert_int_equal(rd(&w, SVD_SP805_RIS, 0), 0u);
    assert_int_equal(rd(&w, SVD_SP805_MIS, 0), 0u);
    assert_int_equal(rd(&w, SVD_SP805_LOCK, 0), 0u);
    assert_int_equal(rd(&w, SVD_SP805_ITCR, 0), 0u);
    const uint32_t periph[] = { 0x05, 0x18, 0x14, 0x00 };
    const uint32_t pcell[] = { 0x0D, 0xF0, 0x05, 0xB1 };
    uint32_t pid = 0, cid = 0;
    for (uint32_t i = 0; i < 4u; i++) {
        assert_int_equal(rd(&w, SVD_SP805_PERIPHID0 + 4u * i, 0), periph[i]);
        assert_int_equal(rd(&w, SVD_SP805_PCELLID0 + 4u * i, 0), pcell[i]);
        pid |= rd(&w, SVD_SP805_PERIPHID0 + 4u * i, 0) << (8u * i);
        cid |= rd(&w, SVD_SP805_PCELLID0 + 4u * i, 0) << (8u * i);
        (void)wr(&w, SVD_SP805_PERIPHID0 + 4u * i, 0xFF, 0); /* read-only */
        (void)wr(&w, SVD_SP805_PCELLID0 + 4u * i, 0xFF, 0);
    }
    assert_int_equal(pid, SVD_SP805_PERIPH_ID);
    assert_int_equal(cid, SVD_SP805_PCELL_ID);
    assert_int_equal(rd(&w, SVD_SP805_PERIPHID0, 0), 0x05u);
    /* write-only registers read zero; reserved offsets read zero and ignore writes */
    assert_int_equal(rd(&w, SVD_SP805_INTCLR, 0), 0u);
    assert_int_equal(rd(&w, SVD_SP805_ITOP, 0), 0u);
    (void)wr(&w, 0x018, 0xFFFFFFFFu, 0);
    (void)wr(&w, 0xBFC, 0xFFFFFFFFu, 0);
    assert_int_equal(rd(&w, 0x018, 0), 0u);
    assert_int_equal(rd(&w, 0x800, 0), 0u);
    assert_int_equal(rd(&w, 0xFDC, 0), 0u);
    /* read-only registers ignore writes */
    (void)wr(&w, SVD_SP805_VALUE, 5u, 0);
    (void)wr(&w, SVD_SP805_RIS, 1u, 0);
    (void)wr(&w, SVD_SP805_MIS, 1u, 0);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 0), 0xFFFFFFFFu);
    assert_int_equal(rd(&w, SVD_SP805_RIS, 0), 0u);
}

/* REQ: REQ-WDT-003 */
static void test_bad_accesses_refused_without_effect(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_CONTROL, 3u, 0);
    const svd_sp805 before = w;
    svd_fx fx;
    uint32_t v = 0x77u;
    const struct { uint32_t off, size; } bad[] = { { 0x000, 1 }, { 0x000, 2 }, { 0x002, 4 }, { 0x1000, 4 },
                                                  { 0xFFFFFFFCu, 4 }, { 0x008, 8 }, { 0x001, 4 } };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(svd_is_err(svd_sp805_read(&w, bad[i].off, bad[i].size, 999999999u, &v, &fx), SVD_ERR_BOUNDS));
        assert_true(svd_is_err(svd_sp805_write(&w, bad[i].off, bad[i].size, 0, 999999999u, &fx), SVD_ERR_BOUNDS));
    }
    assert_int_equal(v, 0x77u);
    assert_memory_equal(&w, &before, sizeof w);
    assert_true(svd_is_err(svd_sp805_read(NULL, 0, 4, 0, &v, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_sp805_read(&w, 0, 4, 0, NULL, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_sp805_read(&w, 0, 4, 0, &v, NULL), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_sp805_write(NULL, 0, 4, 0, 0, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_sp805_write(&w, 0, 4, 0, 0, NULL), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&w, &before, sizeof w);
}

/* REQ: REQ-WDT-021 REQ-WDT-022.a REQ-WDT-022.c REQ-WDT-001.b REQ-WDT-001.c */
static void test_value_counts_down_in_real_time(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_RESEN, 50u); /* RESEN alone does not start it */
    assert_int_equal(rd(&w, SVD_SP805_CONTROL, 50u), SVD_SP805_CTRL_RESEN);
    assert_int_equal(svd_sp805_next_deadline(&w), SVD_NO_DEADLINE);
    (void)wr(&w, SVD_SP805_LOAD, 1000u, 100u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 100u), 1000u);
    assert_int_equal(svd_sp805_next_deadline(&w), SVD_NO_DEADLINE); /* INTEN clear: stopped */
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN, 5000u);
    assert_int_equal(rd(&w, SVD_SP805_CONTROL, 5000u), SVD_SP805_CTRL_INTEN);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u), 1000u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + US - 1u), 1000u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + US), 999u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + 400u * US + 3u), 600u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + 1000u * US), 0u);
    assert_int_equal(svd_sp805_next_deadline(&w), 5000u + 1001u * US); /* period load+1 */
    /* backwards clock: no time passes */
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 0u), 0u);
    /* clearing INTEN freezes the count; setting it reloads */
    (void)wr(&w, SVD_SP805_LOAD, 500u, 5000u + 1000u * US);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + 1100u * US), 400u);
    (void)wr(&w, SVD_SP805_CONTROL, 0u, 5000u + 1100u * US);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + 9000u * US), 400u);
    assert_int_equal(svd_sp805_next_deadline(&w), SVD_NO_DEADLINE);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN | SVD_SP805_CTRL_RESEN | 0xFCu, 5000u + 9000u * US);
    assert_int_equal(rd(&w, SVD_SP805_CONTROL, 5000u + 9000u * US), 3u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + 9000u * US), 500u);
    /* RESEN toggled while running does not restart the count */
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN, 5000u + 9010u * US);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 5000u + 9010u * US), 490u);
}

/* REQ: REQ-WDT-021 */
static void test_odd_frequencies_round_exactly(void **state)
{
    (void)state;
    /* 3 Hz: clocks at 333333334 ns, 666666667 ns, 1 s ... */
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, 3u);
    (void)wr(&w, SVD_SP805_LOAD, 2u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN, 0u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 333333333u), 2u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 333333334u), 1u);
    assert_int_equal(svd_sp805_next_deadline(&w), 1000000000u);
    assert_false(tick(&w, 999999999u).irq_level);
    assert_true(tick(&w, 1000000000u).irq_level);
    /* the top frequency: one clock per ns */
    svd_sp805 f = make(SVD_WDT_ACTION_RESET, SVD_SP805_MAX_HZ);
    (void)wr(&f, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN, 10u);
    assert_int_equal(svd_sp805_next_deadline(&f), 10u + 0x100000000u);
    assert_int_equal(rd(&f, SVD_SP805_VALUE, UINT64_C(10) + 0xFFFFFFFFu), 0u);
    /* a deadline beyond the clock saturates instead of wrapping */
    svd_sp805 s = make(SVD_WDT_ACTION_RESET, 1u);
    (void)wr(&s, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN, UINT64_MAX - 10u);
    assert_int_equal(svd_sp805_next_deadline(&s), UINT64_MAX);
}

/* REQ: REQ-WDT-023 REQ-WDT-031 */
/* FM: FM-WDT-001 */
static void test_first_expiry_interrupts_second_resets_not_before(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_TERMINATE, HZ);
    (void)wr(&w, SVD_SP805_LOAD, 99u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN | SVD_SP805_CTRL_RESEN, 0u);
    svd_fx fx = tick(&w, 100u * US - 1u);
    assert_false(fx.irq_level);
    fx = tick(&w, 100u * US);
    assert_true(fx.irq_changed);
    assert_true(fx.irq_level);
    assert_false(fx.fired);
    assert_int_equal(rd(&w, SVD_SP805_RIS, 100u * US), 1u);
    assert_int_equal(rd(&w, SVD_SP805_MIS, 100u * US), 1u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 100u * US), 99u); /* reloaded */
    assert_int_equal(svd_sp805_next_deadline(&w), 200u * US);
    fx = tick(&w, 200u * US - 1u);
    assert_false(fx.fired);
    fx = tick(&w, 200u * US);
    assert_true(fx.fired);
    assert_int_equal(fx.fires, 1u);
    assert_int_equal(fx.action, SVD_WDT_ACTION_TERMINATE);
    assert_false(fx.irq_changed);
    /* the reset output is a level: no second action while it stays asserted */
    assert_int_equal(svd_sp805_next_deadline(&w), SVD_NO_DEADLINE);
    assert_false(tick(&w, 900u * US).fired);
    /* IntClr deasserts both and reloads; the cycle can repeat */
    fx = wr(&w, SVD_SP805_INTCLR, 0u, 900u * US);
    assert_true(fx.irq_changed);
    assert_false(fx.irq_level);
    assert_int_equal(rd(&w, SVD_SP805_RIS, 900u * US), 0u);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 900u * US), 99u);
    assert_false(tick(&w, 1000u * US).fired);
    assert_true(tick(&w, 1100u * US).fired);
}

/* REQ: REQ-WDT-023 REQ-WDT-022.b */
static void test_mis_and_resen_gate(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_LOAD, 9u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN, 0u); /* no RESEN */
    svd_fx fx = tick(&w, 1000u * US);                     /* 100 periods late */
    assert_true(fx.irq_level);
    assert_false(fx.fired);
    assert_int_equal(svd_sp805_next_deadline(&w), SVD_NO_DEADLINE);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 1000u * US + 3u * US), 6u); /* still wrapping */
    /* RESEN set now: the next expiry resets */
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN | SVD_SP805_CTRL_RESEN, 1003u * US);
    assert_int_equal(svd_sp805_next_deadline(&w), 1010u * US);
    assert_true(tick(&w, 1010u * US).fired);
    /* INTEN cleared: MIS and the line drop, RIS stays */
    fx = wr(&w, SVD_SP805_CONTROL, 0u, 1011u * US);
    assert_true(fx.irq_changed);
    assert_false(fx.irq_level);
    assert_int_equal(rd(&w, SVD_SP805_RIS, 1011u * US), 1u);
    assert_int_equal(rd(&w, SVD_SP805_MIS, 1011u * US), 0u);
    /* IntClr while stopped: value reloads, nothing runs */
    (void)wr(&w, SVD_SP805_INTCLR, 1u, 1012u * US);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 1012u * US), 9u);
    assert_int_equal(svd_sp805_next_deadline(&w), SVD_NO_DEADLINE);
}

/* REQ: REQ-WDT-023 */
/* FM: FM-WDT-003 */
static void test_late_caller_fires_once_and_intclr_in_same_call(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_LOAD, 9u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN | SVD_SP805_CTRL_RESEN, 0u);
    /* the guest's IntClr arrives after both expiries were due: the reset still happens */
    svd_fx fx = wr(&w, SVD_SP805_INTCLR, 0u, 25u * US);
    assert_true(fx.fired);
    assert_false(fx.irq_level);
    assert_int_equal(rd(&w, SVD_SP805_VALUE, 25u * US), 9u);
}

/* REQ: REQ-WDT-024 */
static void test_intclr_pings_a_guest_that_keeps_pinging(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_LOAD, 999u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN | SVD_SP805_CTRL_RESEN, 0u);
    uint64_t t = 0;
    for (int i = 0; i < 1000; i++) {
        t += 999u * US;
        const uint64_t dl = svd_sp805_next_deadline(&w);
        assert_true(dl > t);
        svd_fx fx = wr(&w, SVD_SP805_INTCLR, 0u, t);
        assert_false(fx.fired);
        assert_false(fx.irq_level);
    }
    /* pinging after the interrupt (inside the second period) still saves it */
    t += 1500u * US;
    svd_fx fx = tick(&w, t);
    assert_true(fx.irq_level);
    fx = wr(&w, SVD_SP805_INTCLR, 0u, t);
    assert_false(fx.fired);
    assert_false(fx.irq_level);
}

/* REQ: REQ-WDT-025.a REQ-WDT-025.b REQ-WDT-025.c */
static void test_lock_blocks_every_other_write(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_LOCK, 1u, 0u);
    assert_int_equal(rd(&w, SVD_SP805_LOCK, 0u), 1u);
    (void)wr(&w, SVD_SP805_LOAD, 5u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, 3u, 0u);
    (void)wr(&w, SVD_SP805_ITCR, 1u, 0u);
    (void)wr(&w, SVD_SP805_ITOP, 3u, 0u);
    assert_int_equal(rd(&w, SVD_SP805_LOAD, 0u), 0xFFFFFFFFu);
    assert_int_equal(rd(&w, SVD_SP805_CONTROL, 0u), 0u);
    assert_int_equal(rd(&w, SVD_SP805_ITCR, 0u), 0u);
    (void)wr(&w, SVD_SP805_LOCK, SVD_SP805_UNLOCK_KEY + 1u, 0u);
    assert_int_equal(rd(&w, SVD_SP805_LOCK, 0u), 1u);
    (void)wr(&w, SVD_SP805_LOCK, SVD_SP805_UNLOCK_KEY, 0u);
    assert_int_equal(rd(&w, SVD_SP805_LOCK, 0u), 0u);
    (void)wr(&w, SVD_SP805_LOAD, 5u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, 3u, 0u);
    (void)wr(&w, SVD_SP805_LOCK, 0u, 0u); /* any other value locks */
    assert_int_equal(rd(&w, SVD_SP805_LOCK, 0u), 1u);
    /* locked IntClr does not ping */
    assert_true(tick(&w, 6u * US).irq_level);
    svd_fx fx = wr(&w, SVD_SP805_INTCLR, 0u, 7u * US);
    assert_true(fx.irq_level);
    assert_true(wr(&w, SVD_SP805_INTCLR, 0u, 12u * US).fired);
}

/* REQ: REQ-WDT-026 */
static void test_integration_test_mode_drives_outputs(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_DUMP, HZ);
    (void)wr(&w, SVD_SP805_ITOP, SVD_SP805_ITOP_INT, 0u); /* ignored outside test mode */
    assert_false(tick(&w, 1u).irq_level);
    svd_fx fx = wr(&w, SVD_SP805_ITCR, 0xFFu, 1u);
    assert_true(fx.irq_changed); /* the ITOP value written earlier now drives the line */
    assert_true(fx.irq_level);
    assert_int_equal(rd(&w, SVD_SP805_ITCR, 1u), 1u);
    fx = tick(&w, 2u);
    assert_false(fx.irq_changed);
    assert_true(fx.irq_level);
    fx = wr(&w, SVD_SP805_ITOP, 0u, 3u);
    assert_false(fx.irq_level);
    fx = wr(&w, SVD_SP805_ITOP, SVD_SP805_ITOP_RES, 4u);
    assert_true(fx.fired);
    assert_int_equal(fx.action, SVD_WDT_ACTION_DUMP);
    assert_false(wr(&w, SVD_SP805_ITOP, SVD_SP805_ITOP_RES, 5u).fired); /* level, not edge */
    /* in test mode the counter's own outputs do not reach the pins */
    (void)wr(&w, SVD_SP805_ITOP, 0u, 6u);
    (void)wr(&w, SVD_SP805_LOAD, 0u, 6u);
    (void)wr(&w, SVD_SP805_CONTROL, 3u, 6u);
    fx = tick(&w, 6u + 10u * US);
    assert_false(fx.fired);
    assert_false(fx.irq_level);
    assert_int_equal(rd(&w, SVD_SP805_RIS, 6u + 10u * US), 1u);
    /* leaving test mode: the counter's reset output (asserted meanwhile) takes over */
    fx = wr(&w, SVD_SP805_ITCR, 0u, 6u + 10u * US);
    assert_true(fx.fired);
    assert_true(fx.irq_level);
}

/* REQ: REQ-WDT-028 */
static void test_reset_restores_reset_state(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_LOAD, 0u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, 1u, 0u);
    (void)wr(&w, SVD_SP805_LOCK, 0u, 0u);
    assert_true(tick(&w, 10u * US).irq_level);
    svd_fx fx;
    dirty(&fx);
    svd_sp805_reset(&w, 10u * US, &fx);
    check_fx(&fx, svd_sp805_next_deadline(&w));
    assert_true(fx.irq_changed);
    assert_false(fx.irq_level);
    assert_int_equal(rd(&w, SVD_SP805_LOCK, 11u * US), 0u);
    assert_int_equal(rd(&w, SVD_SP805_LOAD, 11u * US), 0xFFFFFFFFu);
    assert_int_equal(rd(&w, SVD_SP805_CONTROL, 11u * US), 0u);
    assert_int_equal(rd(&w, SVD_SP805_RIS, 11u * US), 0u);
    assert_int_equal(svd_sp805_next_deadline(&w), SVD_NO_DEADLINE);
    dirty(&fx);
    svd_sp805_reset(&w, 0u, &fx); /* backwards: no harm */
    check_fx(&fx, svd_sp805_next_deadline(&w));
    assert_false(fx.irq_changed);
}

/* A device reset leaves integration test mode and clears ITOP: re-entering
 * test mode afterwards drives neither output. */
/* REQ: REQ-WDT-028 REQ-WDT-026 */
static void test_reset_clears_itcr_and_itop(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_ITCR, 1u, 0u);
    svd_fx fx = wr(&w, SVD_SP805_ITOP, SVD_SP805_ITOP_INT | SVD_SP805_ITOP_RES, 0u);
    assert_true(fx.fired);
    assert_true(fx.irq_level);
    assert_int_equal(rd(&w, SVD_SP805_ITCR, 0u), 1u);
    dirty(&fx);
    svd_sp805_reset(&w, 1u, &fx);
    check_fx(&fx, svd_sp805_next_deadline(&w));
    assert_true(fx.irq_changed);
    assert_false(fx.irq_level);
    assert_false(fx.fired);
    assert_int_equal(rd(&w, SVD_SP805_ITCR, 1u), 0u);
    assert_int_equal(rd(&w, SVD_SP805_ITOP, 1u), 0u);
    fx = wr(&w, SVD_SP805_ITCR, 1u, 2u);
    assert_int_equal(rd(&w, SVD_SP805_ITCR, 2u), 1u);
    assert_false(fx.fired); /* ITOP's RES bit is gone */
    assert_false(fx.irq_level); /* and its INT bit */
    assert_false(fx.irq_changed);
}

/* ------------------------------------------------------------ device face */

/* One access through the device face; the effect is checked like every other. */
static svd_result acc(svd_sp805 *w, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                      uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    const svd_result r = svd_sp805_access(w, sp, addr, width, write, val, now, &fx);
    check_fx(&fx, svd_sp805_next_deadline(w));
    assert_int_equal(fx.irq_level, w->irq_level);
    return r;
}

/* The face decodes the 4 KiB window at cfg.base itself; the count runs and
 * the effect carries the deadline as for the offset-based calls. */
/* REQ: REQ-VDEV-010 REQ-WDT-020.d */
static void test_access_face_decodes_its_window(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    uint64_t v = 0u;
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BASE + SVD_SP805_PERIPHID0, 4u, false, &v, 0u)));
    assert_int_equal(v, 0x05u);
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BASE + SVD_SP805_SIZE - 4u, 4u, false, &v, 0u)));
    assert_int_equal(v, 0xB1u); /* PCellID3, the last register */
    v = 999u; /* 1000 clocks per period */
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BASE + SVD_SP805_LOAD, 4u, true, &v, 0u)));
    assert_int_equal(v, 999u); /* a write leaves *val alone */
    v = SVD_SP805_CTRL_INTEN;
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_sp805_access(&w, SVD_SPACE_MEM, BASE + SVD_SP805_CONTROL, 4u, true, &v, 0u, &fx)));
    check_fx(&fx, 1000u * US);
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BASE + SVD_SP805_VALUE, 4u, false, &v, 250u * US)));
    assert_int_equal(v, 749u);
    /* The first expiry raises the interrupt in the call that reaches it. */
    dirty(&fx);
    assert_true(svd_is_ok(svd_sp805_access(&w, SVD_SPACE_MEM, BASE + SVD_SP805_RIS, 4u, false, &v, 1000u * US, &fx)));
    assert_int_equal(v, 1u);
    assert_true(fx.irq_changed);
    assert_true(fx.irq_level);
    check_fx(&fx, svd_sp805_next_deadline(&w));
    /* A window at the very top of the address space does not wrap. */
    const svd_sp805_cfg top = { SVD_WDT_ACTION_NONE, HZ, UINT64_MAX - (SVD_SP805_SIZE - 1u) };
    svd_sp805 t;
    assert_true(svd_is_ok(svd_sp805_init(&t, &top, 0u)));
    assert_true(svd_is_ok(acc(&t, SVD_SPACE_MEM, UINT64_MAX - 3u, 4u, false, &v, 0u)));
    assert_int_equal(v, 0xB1u);
    assert_true(svd_is_err(acc(&t, SVD_SPACE_MEM, 0xFFCu, 4u, false, &v, 0u), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0u);
}

/* Outside the window, another space, a width the registers do not allow:
 * refused, read as zero, nothing changes (not even the clock). */
/* REQ: REQ-VDEV-010 REQ-WDT-020.d */
static void test_attack_access_face_outside_its_window(void **state)
{
    (void)state;
    svd_sp805 w = make(SVD_WDT_ACTION_RESET, HZ);
    (void)wr(&w, SVD_SP805_LOAD, 999u, 0u);
    (void)wr(&w, SVD_SP805_CONTROL, SVD_SP805_CTRL_INTEN | SVD_SP805_CTRL_RESEN, 0u);
    const svd_sp805 before = w;
    struct {
        svd_space sp;
        uint64_t addr;
        uint32_t width;
    } bad[] = {
        { SVD_SPACE_MEM, BASE - 4u, 4u },
        { SVD_SPACE_MEM, BASE + SVD_SP805_SIZE, 4u },
        { SVD_SPACE_MEM, BASE + SVD_SP805_SIZE + SVD_SP805_CONTROL, 4u },
        { SVD_SPACE_MEM, BASE + UINT64_C(0x100000000), 4u },        /* the window if truncated */
        { SVD_SPACE_MEM, BASE + SVD_SP805_CONTROL, 2u },            /* 32-bit registers only */
        { SVD_SPACE_MEM, BASE + SVD_SP805_CONTROL + 1u, 4u },
        { SVD_SPACE_MEM, BASE + SVD_SP805_CONTROL, 8u },
        { SVD_SPACE_PCI_CFG, SVD_SP805_CONTROL, 4u },               /* not a PCI device */
        { SVD_SPACE_IO, BASE + SVD_SP805_CONTROL, 4u },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0x1234u;
        assert_false(svd_is_ok(acc(&w, bad[i].sp, bad[i].addr, bad[i].width, false, &v, 5u * US)));
        assert_int_equal(v, 0u);
        v = 0u; /* a write of 0 to the control register would stop the count */
        assert_false(svd_is_ok(acc(&w, bad[i].sp, bad[i].addr, bad[i].width, true, &v, 5u * US)));
    }
    assert_memory_equal(&w, &before, sizeof w);
    uint64_t v = 0u;
    svd_fx fx;
    assert_true(svd_is_err(svd_sp805_access(NULL, SVD_SPACE_MEM, BASE, 4u, false, &v, 0u, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_sp805_access(&w, SVD_SPACE_MEM, BASE, 4u, false, NULL, 0u, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_sp805_access(&w, SVD_SPACE_MEM, BASE, 4u, false, &v, 0u, NULL), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&w, &before, sizeof w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_validates_config),
        cmocka_unit_test(test_reset_values_and_id_registers),
        cmocka_unit_test(test_bad_accesses_refused_without_effect),
        cmocka_unit_test(test_value_counts_down_in_real_time),
        cmocka_unit_test(test_odd_frequencies_round_exactly),
        cmocka_unit_test(test_first_expiry_interrupts_second_resets_not_before),
        cmocka_unit_test(test_mis_and_resen_gate),
        cmocka_unit_test(test_late_caller_fires_once_and_intclr_in_same_call),
        cmocka_unit_test(test_intclr_pings_a_guest_that_keeps_pinging),
        cmocka_unit_test(test_lock_blocks_every_other_write),
        cmocka_unit_test(test_integration_test_mode_drives_outputs),
        cmocka_unit_test(test_reset_restores_reset_state),
        cmocka_unit_test(test_reset_clears_itcr_and_itop),
        cmocka_unit_test(test_access_face_decodes_its_window),
        cmocka_unit_test(test_attack_access_face_outside_its_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
