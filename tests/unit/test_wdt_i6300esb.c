/* Unit tests of the Intel 6300ESB watchdog engine (src/core/wdt_i6300esb.c)
 * and the shared action names (src/core/wdt.c). Expected values come from the
 * 6300ESB datasheet's WDT chapter, as summarised in wdt_i6300esb.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/wdt_i6300esb.h"

#define NS_1K ((uint64_t)(1u << 15) * 30u)
#define NS_1M ((uint64_t)(1u << 5) * 30u)


/* Every call fills the whole effect (the engine clears it first: the
 * garbage planted by dirty() must be gone), asks for the engine's next
 * deadline, and reports nothing a watchdog cannot cause. */
static void dirty(svd_fx *fx)
{
    memset(fx, 0xA5, sizeof(*fx));
}

static void check_fx_bars(const svd_fx *fx, uint64_t deadline, bool bars_may_change)
{
    assert_int_equal(fx->deadline, deadline);
    assert_int_equal(fx->queue_notify, 0u);
    assert_false(fx->config_notify);
    assert_false(fx->reset);
    assert_false(fx->failed);
    assert_int_equal(fx->why, SVD_WHY_NONE);
    if (!bars_may_change) {
        assert_false(fx->bars_changed);
    }
    assert_true(fx->fired == (fx->fires != 0u));
}

static void check_fx(const svd_fx *fx, uint64_t deadline)
{
    check_fx_bars(fx, deadline, false);
}

static svd_esb make(svd_wdt_action action)
{
    svd_esb w;
    const svd_esb_cfg cfg = { action, 0x1af4u, 0x1100u, 2u, 11u };
    assert_true(svd_is_ok(svd_esb_init(&w, &cfg, 0u)));
    return w;
}

static uint32_t cfgr(svd_esb *w, uint32_t off, uint32_t size, uint64_t now)
{
    uint32_t v = 0xdeadbeefu;
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_esb_cfg_read(w, off, size, now, &v, &fx)));
    check_fx(&fx, svd_esb_next_deadline(w));
    return v;
}

/* BAR0 as the guest reads it back from configuration space (offset 0x10),
 * at the engine's own latest time, so the read moves no timer; the host's
 * getter reports the same. */
static uint32_t bar0_of(svd_esb *w)
{
    const uint32_t v = cfgr(w, 0x10u, 4u, w->now);
    assert_int_equal(svd_esb_bar0(w), v);
    return v;
}

static svd_fx cfgw(svd_esb *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_esb_cfg_write(w, off, size, val, now, &fx)));
    check_fx_bars(&fx, svd_esb_next_deadline(w), true); /* the callers check bars_changed */
    return fx;
}

static uint32_t mr(svd_esb *w, uint32_t off, uint32_t size, uint64_t now)
{
    uint32_t v = 0xdeadbeefu;
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_esb_mmio_read(w, off, size, now, &v, &fx)));
    check_fx(&fx, svd_esb_next_deadline(w));
    return v;
}

static svd_fx mw(svd_esb *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_esb_mmio_write(w, off, size, val, now, &fx)));
    check_fx(&fx, svd_esb_next_deadline(w));
    return fx;
}

static void unlock(svd_esb *w, uint64_t now)
{
    (void)mw(w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_UNLOCK1, now);
    (void)mw(w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_UNLOCK2, now);
}

static void preloads(svd_esb *w, uint32_t p1, uint32_t p2, uint64_t now)
{
    unlock(w, now);
    (void)mw(w, SVD_ESB_BAR_PRELOAD1, 4, p1, now);
    unlock(w, now);
    (void)mw(w, SVD_ESB_BAR_PRELOAD2, 4, p2, now);
}

static svd_fx tick(svd_esb *w, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    svd_esb_tick(w, now, &fx);
    check_fx(&fx, svd_esb_next_deadline(w));
    return fx;
}

/* REQ: REQ-WDT-002 */
static void test_action_names_and_parse(void **state)
{
    (void)state;
    const char *names[] = { "reset", "terminate", "dump", "none" };
    for (unsigned i = 0; i < 4u; i++) {
        svd_wdt_action a = SVD_WDT_ACTION__COUNT;
        assert_true(svd_is_ok(svd_wdt_action_parse(names[i], &a)));
        assert_int_equal(a, i);
        assert_string_equal(svd_wdt_action_name(a), names[i]);
    }
    const char *bad[] = { "", "Reset", "resett", "rese", "dump ", "nonE" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        svd_wdt_action a = SVD_WDT_ACTION_NONE;
        assert_true(svd_is_err(svd_wdt_action_parse(bad[i], &a), SVD_ERR_INVALID_ARG));
        assert_int_equal(a, SVD_WDT_ACTION_NONE);
    }
    svd_wdt_action a;
    assert_true(svd_is_err(svd_wdt_action_parse(NULL, &a), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_wdt_action_parse("reset", NULL), SVD_ERR_INVALID_ARG));
    assert_string_equal(svd_wdt_action_name(SVD_WDT_ACTION__COUNT), "unknown");
    assert_string_equal(svd_wdt_action_name((svd_wdt_action)77), "unknown");
}

/* REQ: REQ-WDT-004 */
static void test_init_rejects_bad_arguments(void **state)
{
    (void)state;
    svd_esb w;
    memset(&w, 0x5a, sizeof w);
    const svd_esb before = w;
    svd_esb_cfg cfg = { SVD_WDT_ACTION__COUNT, 0, 0, 0, 0 };
    assert_true(svd_is_err(svd_esb_init(&w, &cfg, 0u), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&w, &before, sizeof w);
    cfg.action = SVD_WDT_ACTION_RESET;
    assert_true(svd_is_err(svd_esb_init(NULL, &cfg, 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_init(&w, NULL, 0u), SVD_ERR_INVALID_ARG));
}

/* REQ: REQ-WDT-010.a REQ-WDT-010.b REQ-WDT-010.c */
static void test_config_header_identity_and_read_only(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    assert_int_equal(cfgr(&w, 0x00, 4, 0), 0x25ab8086u);
    assert_int_equal(cfgr(&w, 0x00, 2, 0), 0x8086u);
    assert_int_equal(cfgr(&w, 0x02, 2, 0), 0x25abu);
    assert_int_equal(cfgr(&w, 0x03, 1, 0), 0x25u);
    assert_int_equal(cfgr(&w, 0x08, 4, 0), 0x08800002u); /* class 08 80 00, revision 2 */
    assert_int_equal(cfgr(&w, 0x0C, 4, 0), 0u);          /* header type 0, single function */
    assert_int_equal(cfgr(&w, 0x2C, 4, 0), 0x11001af4u);
    assert_int_equal(cfgr(&w, 0x3C, 4, 0), 0x0000010bu); /* INTA#, line 11 */
    assert_int_equal(cfgr(&w, 0x34, 4, 0), 0u);          /* no capabilities */
    /* Read-only fields ignore writes. */
    uint8_t img[256];
    for (uint32_t o = 0; o < 256u; o += 4u) {
        const uint32_t v = cfgr(&w, o, 4, 0);
        memcpy(&img[o], &v, 4);
    }
    const uint32_t ro[] = { 0x00, 0x08, 0x14, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x40, 0x64, 0x6C, 0xFC };
    for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        (void)cfgw(&w, ro[i], 4, 0xFFFFFFFFu, 0);
        uint32_t v;
        memcpy(&v, &img[ro[i]], 4);
        assert_int_equal(cfgr(&w, ro[i], 4, 0), v);
    }
    /* status: only the interrupt bit, which is clear; writes ignored */
    (void)cfgw(&w, 0x06, 2, 0xFFFF, 0);
    assert_int_equal(cfgr(&w, 0x06, 2, 0), 0u);
    /* Every byte no register implements reads as zero, after the writes above too. */
    for (uint32_t o = 0; o < 256u; o++) {
        const bool implemented = o <= 0x0Cu || (o >= 0x10u && o <= 0x13u) || (o >= 0x2Cu && o <= 0x2Fu) ||
                                 o == 0x3Cu || o == 0x3Du || o == SVD_ESB_REG_CONFIG || o == SVD_ESB_REG_CONFIG + 1u ||
                                 o == SVD_ESB_REG_LOCK;
        if (!implemented) {
            assert_int_equal(cfgr(&w, o, 1, 0), 0u);
        }
    }
}

/* REQ: REQ-WDT-011.a REQ-WDT-011.b REQ-WDT-011.c REQ-WDT-011.d */
static void test_command_bar_line_writable_bits(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    /* Decoding on or off and every BAR0 move report bars_changed; other writes do not. */
    assert_true(cfgw(&w, 0x04, 2, 0xFFFF, 0).bars_changed);
    assert_int_equal(cfgr(&w, 0x04, 2, 0), 0x0507u);
    assert_true(svd_esb_mem_enabled(&w));
    assert_false(cfgw(&w, 0x05, 1, 0x00, 0).bars_changed); /* byte write to the high half */
    assert_int_equal(cfgr(&w, 0x04, 2, 0), 0x0007u);
    assert_true(cfgw(&w, 0x04, 1, 0x00, 0).bars_changed);
    assert_false(svd_esb_mem_enabled(&w));
    /* BAR sizing: 16-byte 32-bit memory BAR. */
    assert_true(cfgw(&w, 0x10, 4, 0xFFFFFFFFu, 0).bars_changed);
    assert_int_equal(cfgr(&w, 0x10, 4, 0), 0xFFFFFFF0u);
    assert_true(cfgw(&w, 0x10, 4, 0xFEBF000Fu, 0).bars_changed);
    assert_int_equal(cfgr(&w, 0x10, 4, 0), 0xFEBF0000u);
    assert_int_equal(bar0_of(&w), 0xFEBF0000u);
    assert_false(cfgw(&w, 0x10, 4, 0xFEBF0000u, 0).bars_changed); /* the same address again */
    assert_true(cfgw(&w, 0x12, 2, 0x1234u, 0).bars_changed);
    assert_int_equal(bar0_of(&w), 0x12340000u);
    (void)cfgw(&w, 0x10, 1, 0xFFu, 0);
    assert_int_equal(bar0_of(&w), 0x123400F0u);
    assert_false(cfgw(&w, 0x3C, 1, 0x05u, 0).bars_changed);
    (void)cfgw(&w, 0x3C, 1, 0x05u, 0);
    assert_int_equal(cfgr(&w, 0x3C, 2, 0), 0x0105u);
    (void)cfgw(&w, 0x3D, 1, 0x04u, 0); /* pin is read-only */
    assert_int_equal(cfgr(&w, 0x3D, 1, 0), 1u);
    (void)cfgw(&w, 0x0C, 1, 0x10u, 0);
    assert_int_equal(cfgr(&w, 0x0C, 4, 0), 0x10u);
}

/* REQ: REQ-WDT-003 */
static void test_bad_accesses_refused_without_effect(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    const svd_esb before = w;
    svd_fx fx;
    uint32_t v = 0x1234u;
    const struct { uint32_t off, size; } cbad[] = { { 0x61, 2 }, { 0x62, 4 }, { 0x01, 4 }, { 0x100, 1 }, { 0xFE, 4 },
                                                   { 0x60, 3 }, { 0x60, 8 }, { 0x60, 0 }, { UINT32_MAX, 1 } };
    for (unsigned i = 0; i < sizeof(cbad) / sizeof(cbad[0]); i++) {
        assert_true(svd_is_err(svd_esb_cfg_read(&w, cbad[i].off, cbad[i].size, 5u, &v, &fx), SVD_ERR_BOUNDS));
        assert_true(svd_is_err(svd_esb_cfg_write(&w, cbad[i].off, cbad[i].size, 0xFF, 5u, &fx), SVD_ERR_BOUNDS));
    }
    const struct { uint32_t off, size; } mbad[] = { { 0x0D, 2 }, { 0x0E, 4 }, { 0x10, 1 }, { 0x0C, 3 }, { 0x0C, 8 },
                                                   { 0x02, 4 }, { UINT32_MAX - 1u, 2 } };
    for (unsigned i = 0; i < sizeof(mbad) / sizeof(mbad[0]); i++) {
        assert_true(svd_is_err(svd_esb_mmio_read(&w, mbad[i].off, mbad[i].size, 5u, &v, &fx), SVD_ERR_BOUNDS));
        assert_true(svd_is_err(svd_esb_mmio_write(&w, mbad[i].off, mbad[i].size, 0x80, 5u, &fx), SVD_ERR_BOUNDS));
    }
    assert_int_equal(v, 0x1234u);
    assert_memory_equal(&w, &before, sizeof w);
    assert_true(svd_is_err(svd_esb_cfg_read(&w, 0, 4, 0, NULL, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_cfg_read(&w, 0, 4, 0, &v, NULL), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_cfg_read(NULL, 0, 4, 0, &v, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_cfg_write(NULL, 0, 4, 0, 0, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_cfg_write(&w, 0, 4, 0, 0, NULL), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_mmio_read(&w, 0, 4, 0, NULL, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_mmio_read(NULL, 0, 4, 0, &v, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_mmio_read(&w, 0, 4, 0, &v, NULL), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_mmio_write(NULL, 0, 4, 0, 0, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_mmio_write(&w, 0, 4, 0, 0, NULL), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&w, &before, sizeof w);
}

/* REQ: REQ-WDT-012 */
static void test_config_register_bits(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    assert_int_equal(cfgr(&w, 0x60, 2, 0), 0u); /* IRQ type, 1 kHz, output enabled */
    (void)cfgw(&w, 0x60, 2, 0xFFFF, 0);
    assert_int_equal(cfgr(&w, 0x60, 2, 0), 0x0027u); /* bits 0,1,2,5 exist; reserved read 0 */
    assert_int_equal(cfgr(&w, 0x60, 4, 0), 0x0027u);
    (void)cfgw(&w, 0x60, 1, 0x03, 0);
    assert_int_equal(cfgr(&w, 0x60, 1, 0), 0x03u);
    (void)cfgw(&w, 0x61, 1, 0xFF, 0);
    assert_int_equal(cfgr(&w, 0x60, 2, 0), 0x0003u);
}

/* REQ: REQ-WDT-013.a REQ-WDT-013.b REQ-WDT-015 REQ-WDT-001.a REQ-WDT-001.b */
static void test_enable_starts_stage1_and_disable_stops(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    assert_int_equal(svd_esb_next_deadline(&w), SVD_NO_DEADLINE);
    preloads(&w, 10, 20, 0);
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE, 1000u);
    assert_int_equal(cfgr(&w, 0x68, 1, 1000u), SVD_ESB_LOCK_ENABLE);
    assert_int_equal(svd_esb_next_deadline(&w), 1000u + 10u * NS_1K);
    /* enable written again: no restart */
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE, 5000u);
    assert_int_equal(svd_esb_next_deadline(&w), 1000u + 10u * NS_1K);
    (void)cfgw(&w, 0x68, 1, 0, 6000u);
    assert_int_equal(svd_esb_next_deadline(&w), SVD_NO_DEADLINE);
    svd_fx fx = tick(&w, UINT64_MAX / 2u);
    assert_false(fx.fired);
    assert_int_equal(mr(&w, SVD_ESB_BAR_GINTSR, 4, UINT64_MAX / 2u), 0u);
    /* bits above 2 of the lock register do not exist */
    (void)cfgw(&w, 0x68, 1, 0xF8, UINT64_MAX / 2u);
    assert_int_equal(cfgr(&w, 0x68, 4, UINT64_MAX / 2u), 0u);
}

/* REQ: REQ-WDT-016 REQ-WDT-017.a REQ-WDT-017.c REQ-WDT-031 */
/* FM: FM-WDT-001 */
static void test_two_stages_interrupt_then_action_not_before(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_DUMP);
    preloads(&w, 3, 5, 0);
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE, 0);
    const uint64_t s1 = 3u * NS_1K;
    const uint64_t s2 = s1 + 5u * NS_1K;
    svd_fx fx = tick(&w, s1 - 1u);
    assert_false(fx.fired);
    assert_false(fx.irq_level);
    assert_int_equal(mr(&w, SVD_ESB_BAR_GINTSR, 1, s1 - 1u), 0u);
    fx = tick(&w, s1);
    assert_false(fx.fired);
    assert_true(fx.irq_level);
    assert_true(fx.irq_changed);
    assert_int_equal(mr(&w, SVD_ESB_BAR_GINTSR, 4, s1), 1u);
    assert_int_equal(cfgr(&w, 0x06, 2, s1), 0x0008u); /* PCI status: interrupt */
    assert_int_equal(svd_esb_next_deadline(&w), s2);
    fx = tick(&w, s2 - 1u);
    assert_false(fx.fired);
    assert_false(fx.irq_changed);
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD, 2, s2 - 1u), 0u);
    fx = tick(&w, s2);
    assert_true(fx.fired);
    assert_int_equal(fx.fires, 1u);
    assert_int_equal(fx.action, SVD_WDT_ACTION_DUMP);
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD, 2, s2), SVD_ESB_RELOAD_TIMEOUT);
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD + 1u, 1, s2), SVD_ESB_RELOAD_TIMEOUT >> 8);
    /* not free-running: stopped */
    assert_int_equal(svd_esb_next_deadline(&w), SVD_NO_DEADLINE);
    fx = tick(&w, s2 * 10u);
    assert_false(fx.fired);
    /* GINTSR is write-1-to-clear (after unlock): writing 0 keeps it, 1 drops the line */
    unlock(&w, s2);
    fx = mw(&w, SVD_ESB_BAR_GINTSR, 4, 0u, s2);
    assert_false(fx.irq_changed);
    assert_int_equal(mr(&w, SVD_ESB_BAR_GINTSR, 4, s2), 1u);
    unlock(&w, s2);
    fx = mw(&w, SVD_ESB_BAR_GINTSR, 4, 1u, s2);
    assert_true(fx.irq_changed);
    assert_false(fx.irq_level);
    assert_int_equal(mr(&w, SVD_ESB_BAR_GINTSR, 4, s2), 0u);
}

/* REQ: REQ-WDT-016 */
static void test_interrupt_type_and_intx_disable_gate_the_line(void **state)
{
    (void)state;
    for (uint32_t type = 0; type < 4u; type++) {
        svd_esb w = make(SVD_WDT_ACTION_RESET);
        (void)cfgw(&w, 0x60, 2, type, 0);
        preloads(&w, 1, 1, 0);
        (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE, 0);
        svd_fx fx = tick(&w, NS_1K);
        assert_int_equal(fx.irq_level, type == 0u);
        assert_int_equal(mr(&w, SVD_ESB_BAR_GINTSR, 4, NS_1K), 1u); /* status regardless of type */
        if (type != 0u) {
            assert_int_equal(cfgr(&w, 0x06, 2, NS_1K), 0u); /* no interrupt pending on the pin */
        }
        if (type == 0u) {
            fx = cfgw(&w, 0x04, 2, 0x0400, NS_1K); /* INTx disable */
            assert_true(fx.irq_changed);
            assert_false(fx.irq_level);
            assert_int_equal(cfgr(&w, 0x06, 2, NS_1K), 0x0008u); /* status still shows it */
        }
    }
}

/* REQ: REQ-WDT-015 */
static void test_prescaler_and_preload_width(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 0xFFFFFu); /* power-on */
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD2, 4, 0), 0xFFFFFu);
    (void)cfgw(&w, 0x60, 2, SVD_ESB_CFG_PRE_1MHZ, 0);
    preloads(&w, 0xFFFFFFFFu, 7, 0);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 0xFFFFFu);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD2, 4, 0), 7u);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1 + 2u, 2, 0), 0xFu);
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE, 0);
    assert_int_equal(svd_esb_next_deadline(&w), 0xFFFFFu * NS_1M);
    /* byte-wide preload writes merge into the register */
    unlock(&w, 0);
    (void)mw(&w, SVD_ESB_BAR_PRELOAD2 + 1u, 1, 0x12, 0);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD2, 4, 0), 0x1207u);
    /* zero counts as one */
    preloads(&w, 0, 0, 0);
    unlock(&w, 0);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_RELOAD_RELOAD, 0);
    assert_int_equal(svd_esb_next_deadline(&w), NS_1M);
    svd_fx fx = tick(&w, 2u * NS_1M);
    assert_true(fx.fired);
}

/* REQ: REQ-WDT-014.a REQ-WDT-014.b REQ-WDT-014.c REQ-WDT-014.d */
static void test_unlock_sequence_guards_every_write(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    (void)mw(&w, SVD_ESB_BAR_PRELOAD1, 4, 5, 0);              /* no unlock */
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 0xFFFFFu);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_UNLOCK2, 0);  /* wrong order */
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_UNLOCK1, 0);
    (void)mw(&w, SVD_ESB_BAR_PRELOAD1, 4, 5, 0);              /* half a sequence */
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 0xFFFFFu);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_UNLOCK1, 0);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, 0x85, 0);             /* broken sequence */
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_UNLOCK2, 0);
    (void)mw(&w, SVD_ESB_BAR_PRELOAD1, 4, 5, 0);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 0xFFFFFu);
    /* unlock bytes may be written at any width */
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 1, SVD_ESB_UNLOCK1, 0);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 4, SVD_ESB_UNLOCK2, 0);
    (void)mw(&w, SVD_ESB_BAR_PRELOAD1, 4, 5, 0);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 5u);
    /* the unlock is consumed by one write */
    (void)mw(&w, SVD_ESB_BAR_PRELOAD1, 4, 6, 0);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 5u);
    /* reads do not consume it */
    unlock(&w, 0);
    (void)mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0);
    (void)mw(&w, SVD_ESB_BAR_PRELOAD2, 4, 9, 0);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD2, 4, 0), 9u);
    /* reserved offsets: write consumed and ignored, read zero */
    unlock(&w, 0);
    (void)mw(&w, 0x0E, 2, 0xFFFF, 0);
    assert_int_equal(mr(&w, 0x0C, 4, 0), 0u);
    assert_int_equal(mr(&w, 0x08, 4, 0), 0u);
    (void)mw(&w, SVD_ESB_BAR_PRELOAD2, 4, 1, 0);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD2, 4, 0), 9u);
}

/* REQ: REQ-WDT-018 */
static void test_reload_pings_and_timeout_clears(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    preloads(&w, 4, 4, 0);
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE, 0);
    uint64_t t = 0;
    for (int i = 0; i < 50; i++) { /* a guest pinging every 3 counts never sees an action */
        t += 3u * NS_1K;
        svd_fx fx = tick(&w, t);
        assert_false(fx.fired);
        assert_false(fx.irq_level);
        unlock(&w, t);
        (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_RELOAD_RELOAD, t);
        assert_int_equal(svd_esb_next_deadline(&w), t + 4u * NS_1K);
    }
    /* ping in stage 2 goes back to stage 1 (full two stages again) */
    t += 5u * NS_1K;
    assert_false(tick(&w, t).fired);
    unlock(&w, t);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_RELOAD_RELOAD, t);
    assert_int_equal(svd_esb_next_deadline(&w), t + 4u * NS_1K);
    assert_false(tick(&w, t + 8u * NS_1K - 1u).fired);
    assert_true(tick(&w, t + 8u * NS_1K).fired);
    t += 8u * NS_1K;
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD, 2, t), SVD_ESB_RELOAD_TIMEOUT);
    /* a locked write of TIMEOUT does nothing; unlocked it clears */
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_RELOAD_TIMEOUT, t);
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD, 2, t), SVD_ESB_RELOAD_TIMEOUT);
    unlock(&w, t);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_RELOAD_TIMEOUT, t);
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD, 2, t), 0u);
    /* reload while disabled does not start the timer */
    (void)cfgw(&w, 0x68, 1, 0, t);
    unlock(&w, t);
    (void)mw(&w, SVD_ESB_BAR_RELOAD, 2, SVD_ESB_RELOAD_RELOAD, t);
    assert_int_equal(svd_esb_next_deadline(&w), SVD_NO_DEADLINE);
}

/* REQ: REQ-WDT-013.d REQ-WDT-019 */
static void test_lock_freezes_until_reset_and_timeout_survives(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    (void)cfgw(&w, 0x10, 4, 0xFEBF0000u, 0);
    (void)cfgw(&w, 0x04, 2, 0x2, 0);
    preloads(&w, 1, 1, 0);
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_LOCK | SVD_ESB_LOCK_ENABLE, 0);
    (void)cfgw(&w, 0x68, 1, 0, 10);
    assert_int_equal(cfgr(&w, 0x68, 1, 10), SVD_ESB_LOCK_LOCK | SVD_ESB_LOCK_ENABLE);
    svd_fx fx = tick(&w, 2u * NS_1K);
    assert_true(fx.fired);
    assert_int_equal(fx.action, SVD_WDT_ACTION_RESET);
    assert_true(fx.irq_level);
    /* the guest is reset: everything to power-on but TIMEOUT */
    dirty(&fx);
    svd_esb_reset(&w, 2u * NS_1K, &fx);
    check_fx(&fx, svd_esb_next_deadline(&w));
    assert_true(fx.irq_changed);
    assert_false(fx.irq_level);
    assert_int_equal(cfgr(&w, 0x68, 1, 3u * NS_1K), 0u);
    assert_int_equal(cfgr(&w, 0x10, 4, 3u * NS_1K), 0u);
    assert_int_equal(cfgr(&w, 0x04, 2, 3u * NS_1K), 0u);
    assert_int_equal(cfgr(&w, 0x3C, 1, 3u * NS_1K), 11u); /* back to the firmware's line */
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 3u * NS_1K), 0xFFFFFu);
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD, 2, 3u * NS_1K), SVD_ESB_RELOAD_TIMEOUT);
    assert_int_equal(svd_esb_next_deadline(&w), SVD_NO_DEADLINE);
    /* unlocked again after reset */
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_FREERUN, 3u * NS_1K);
    assert_int_equal(cfgr(&w, 0x68, 1, 3u * NS_1K), SVD_ESB_LOCK_FREERUN);
}

/* REQ: REQ-WDT-013.c REQ-WDT-017.a REQ-WDT-017.b REQ-WDT-017.d */
static void test_output_disabled_and_free_running(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_TERMINATE);
    (void)cfgw(&w, 0x60, 2, SVD_ESB_CFG_OUT_DIS | 3u, 0);
    preloads(&w, 2, 3, 0);
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE | SVD_ESB_LOCK_FREERUN, 0);
    svd_fx fx = tick(&w, 5u * NS_1K);
    assert_false(fx.fired); /* output disabled: no action ... */
    assert_int_equal(mr(&w, SVD_ESB_BAR_RELOAD, 2, 5u * NS_1K), SVD_ESB_RELOAD_TIMEOUT); /* ... but recorded */
    assert_int_equal(svd_esb_next_deadline(&w), 7u * NS_1K); /* free-running: stage 1 again */
    (void)cfgw(&w, 0x60, 2, 3u, 5u * NS_1K);
    fx = tick(&w, 10u * NS_1K);
    assert_true(fx.fired);
    assert_int_equal(fx.action, SVD_WDT_ACTION_TERMINATE);
    /* a caller late by many periods: every expiry counted, phase kept */
    fx = tick(&w, 10u * NS_1K + 7u * 5u * NS_1K);
    assert_int_equal(fx.fires, 7u);
    assert_int_equal(svd_esb_next_deadline(&w), 10u * NS_1K + 7u * 5u * NS_1K + 2u * NS_1K);
}

/* REQ: REQ-WDT-001.c REQ-WDT-001.d REQ-WDT-017.d */
/* FM: FM-WDT-002 */
/* DFA: DFA-003 */
static void test_clock_backwards_and_late_bound(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    preloads(&w, 1, 1, 0);
    (void)cfgw(&w, 0x60, 2, SVD_ESB_CFG_PRE_1MHZ, 1000000);
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE | SVD_ESB_LOCK_FREERUN, 1000000);
    /* backwards: no time passes, the deadline is not moved */
    assert_false(tick(&w, 5).fired);
    assert_int_equal(svd_esb_next_deadline(&w), 1000000u + NS_1M);
    /* hugely late with the shortest stages: folded, bounded, re-anchored */
    svd_fx fx = tick(&w, 1000000000000u);
    assert_int_equal(fx.fires, 32u);
    assert_int_equal(svd_esb_next_deadline(&w), 1000000000000u + NS_1M);
    fx = tick(&w, UINT64_MAX);
    assert_true(fx.fired);
    assert_int_equal(svd_esb_next_deadline(&w), UINT64_MAX); /* saturates, no wrap */
}

/* A device reset puts the WDT config register (0x60) and both preloads back
 * to power-on (0, 0xFFFFF), and they act so: 1 kHz, IRQ type, output enabled. */
/* REQ: REQ-WDT-019 REQ-WDT-012 REQ-WDT-015 */
static void test_reset_restores_config_register_and_preload2(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_TERMINATE);
    (void)cfgw(&w, 0x60, 2, 0x0027u, 0);
    preloads(&w, 0x12345u, 0x42u, 0);
    assert_int_equal(cfgr(&w, 0x60, 2, 0), 0x0027u);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD2, 4, 0), 0x42u);
    svd_fx fx;
    dirty(&fx);
    svd_esb_reset(&w, 10u, &fx);
    check_fx(&fx, svd_esb_next_deadline(&w));
    assert_int_equal(cfgr(&w, 0x60, 2, 10u), 0u);
    assert_int_equal(cfgr(&w, 0x60, 4, 10u), 0u);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD2, 4, 10u), 0xFFFFFu);
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 10u), 0xFFFFFu);
    const uint64_t stage = 0xFFFFFu * NS_1K;
    (void)cfgw(&w, 0x68, 1, SVD_ESB_LOCK_ENABLE, 10u);
    assert_int_equal(svd_esb_next_deadline(&w), 10u + stage); /* 1 kHz, not 1 MHz */
    fx = tick(&w, 10u + stage);
    assert_false(fx.fired);
    assert_true(fx.irq_level); /* interrupt type IRQ again */
    assert_int_equal(svd_esb_next_deadline(&w), 10u + 2u * stage); /* stage 2 from 0xFFFFF */
    assert_false(tick(&w, 10u + 2u * stage - 1u).fired);
    fx = tick(&w, 10u + 2u * stage);
    assert_true(fx.fired); /* output enabled again */
    assert_int_equal(fx.action, SVD_WDT_ACTION_TERMINATE);
}

/* ------------------------------------------------------------ device face */

#define BAR 0xFEBF0000u

/* One access through the device face; the effect is checked like every other. */
static svd_result acc(svd_esb *w, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    const uint32_t bar = bar0_of(w);
    const bool mem = svd_esb_mem_enabled(w);
    const svd_result r = svd_esb_access(w, sp, addr, width, write, val, now, &fx);
    check_fx_bars(&fx, svd_esb_next_deadline(w), true);
    /* bars_changed exactly when BAR0 moved or decoding switched. */
    assert_true(fx.bars_changed == ((bar0_of(w) != bar) || (svd_esb_mem_enabled(w) != mem)));
    assert_int_equal(fx.irq_level, w->irq_level);
    return r;
}

/* The face decodes the address itself: configuration space by offset, BAR0
 * by guest-physical address while it is programmed and decoding is on. */
/* REQ: REQ-VDEV-010 REQ-WDT-003 REQ-WDT-010.a */
static void test_access_face_decodes_config_space_and_bar0(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    uint64_t v = 0u;
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_PCI_CFG, 0x00u, 4u, false, &v, 0u)));
    assert_int_equal(v, 0x25ab8086u);
    /* BAR0 unprogrammed, then programmed with decoding off: the bus floats high. */
    v = 0u;
    assert_true(svd_is_err(acc(&w, SVD_SPACE_MEM, BAR, 4u, false, &v, 0u), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0xFFFFFFFFu);
    /* Decoding on with BAR0 still 0: nothing answers at address 0. */
    (void)cfgw(&w, 0x04, 2, 0x0002u, 0);
    v = 0u;
    assert_true(svd_is_err(acc(&w, SVD_SPACE_MEM, SVD_ESB_BAR_PRELOAD1, 4u, false, &v, 0u), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0xFFFFFFFFu);
    (void)cfgw(&w, 0x04, 2, 0x0000u, 0);
    v = BAR;
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_PCI_CFG, 0x10u, 4u, true, &v, 0u)));
    assert_int_equal(v, BAR); /* a write leaves *val alone */
    assert_true(svd_is_err(acc(&w, SVD_SPACE_MEM, BAR, 4u, false, &v, 0u), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0xFFFFFFFFu);
    v = SVD_ESB_CFG_PRE_1MHZ; /* not decoded: the write goes nowhere */
    assert_true(svd_is_err(acc(&w, SVD_SPACE_MEM, BAR + SVD_ESB_BAR_RELOAD, 2u, true, &v, 0u), SVD_ERR_BOUNDS));
    v = 0x0002u; /* memory decoding on */
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_PCI_CFG, 0x04u, 2u, true, &v, 0u)));
    assert_true(svd_esb_mem_enabled(&w));
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BAR + SVD_ESB_BAR_PRELOAD1, 4u, false, &v, 0u)));
    assert_int_equal(v, SVD_ESB_PRELOAD_MASK);
    /* Unlock and program preload 1 through the face. */
    v = SVD_ESB_UNLOCK1;
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BAR + SVD_ESB_BAR_RELOAD, 2u, true, &v, 0u)));
    v = SVD_ESB_UNLOCK2;
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BAR + SVD_ESB_BAR_RELOAD, 2u, true, &v, 0u)));
    v = 7u;
    assert_true(svd_is_ok(acc(&w, SVD_SPACE_MEM, BAR + SVD_ESB_BAR_PRELOAD1, 4u, true, &v, 0u)));
    assert_int_equal(mr(&w, SVD_ESB_BAR_PRELOAD1, 4, 0), 7u);
    /* Enable through configuration space: the effect carries the stage-1 deadline. */
    v = SVD_ESB_LOCK_ENABLE;
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_esb_access(&w, SVD_SPACE_PCI_CFG, SVD_ESB_REG_LOCK, 1u, true, &v, 100u, &fx)));
    check_fx(&fx, 100u + 7u * NS_1K);
    assert_false(fx.fired);
    assert_int_equal(bar0_of(&w), BAR);
}

/* Addresses that only alias the device if something truncates them, other
 * spaces, and accesses the registers do not allow: all refused, nothing
 * changes, reads answer 0 (configuration) or all ones (memory). */
/* REQ: REQ-VDEV-010 REQ-WDT-003 */
static void test_attack_access_face_aliases_and_other_spaces(void **state)
{
    (void)state;
    svd_esb w = make(SVD_WDT_ACTION_RESET);
    (void)cfgw(&w, 0x10, 4, BAR, 0);
    (void)cfgw(&w, 0x04, 2, 0x0002u, 0);
    (void)cfgw(&w, SVD_ESB_REG_LOCK, 1, SVD_ESB_LOCK_ENABLE, 0);
    const svd_esb before = w;
    struct {
        svd_space sp;
        uint64_t addr;
        uint32_t width;
        uint32_t answer;
    } bad[] = {
        { SVD_SPACE_PCI_CFG, 0x100u, 1u, 0u },                          /* past the space */
        { SVD_SPACE_PCI_CFG, UINT64_C(0x100000000), 4u, 0u },           /* offset 0 if truncated */
        { SVD_SPACE_PCI_CFG, UINT64_C(0x100000000) + SVD_ESB_REG_LOCK, 1u, 0u },
        { SVD_SPACE_PCI_CFG, 0x62u, 4u, 0u },                           /* misaligned */
        { SVD_SPACE_PCI_CFG, 0x00u, 8u, 0u },                           /* width */
        { SVD_SPACE_MEM, BAR - 4u, 4u, 0xFFFFFFFFu },                   /* below BAR0 */
        { SVD_SPACE_MEM, BAR + SVD_ESB_BAR0_SIZE, 4u, 0xFFFFFFFFu },    /* above BAR0 */
        { SVD_SPACE_MEM, UINT64_C(0x100000000) + BAR, 4u, 0xFFFFFFFFu },/* BAR0 if truncated */
        { SVD_SPACE_MEM, BAR + 0x0Eu, 4u, 0xFFFFFFFFu },                /* runs past BAR0 */
        { SVD_SPACE_MEM, BAR + 0x01u, 2u, 0xFFFFFFFFu },                /* misaligned */
        { SVD_SPACE_IO, BAR, 4u, 0xFFFFFFFFu },                         /* no I/O BAR */
        { SVD_SPACE_IO, 0x60u, 2u, 0xFFFFFFFFu },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0x1234u;
        assert_false(svd_is_ok(acc(&w, bad[i].sp, bad[i].addr, bad[i].width, false, &v, 5u)));
        assert_int_equal(v, bad[i].answer);
        v = 0u; /* a write of 0 to the lock or reload register would matter */
        assert_false(svd_is_ok(acc(&w, bad[i].sp, bad[i].addr, bad[i].width, true, &v, 5u)));
        assert_int_equal(v, 0u);
    }
    assert_memory_equal(&w, &before, sizeof w); /* not even the clock moved */
    uint64_t v = 0u;
    svd_fx fx;
    assert_true(svd_is_err(svd_esb_access(NULL, SVD_SPACE_PCI_CFG, 0u, 4u, false, &v, 0u, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_access(&w, SVD_SPACE_PCI_CFG, 0u, 4u, false, NULL, 0u, &fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_esb_access(&w, SVD_SPACE_PCI_CFG, 0u, 4u, false, &v, 0u, NULL), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&w, &before, sizeof w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_action_names_and_parse),
        cmocka_unit_test(test_init_rejects_bad_arguments),
        cmocka_unit_test(test_config_header_identity_and_read_only),
        cmocka_unit_test(test_command_bar_line_writable_bits),
        cmocka_unit_test(test_bad_accesses_refused_without_effect),
        cmocka_unit_test(test_config_register_bits),
        cmocka_unit_test(test_enable_starts_stage1_and_disable_stops),
        cmocka_unit_test(test_two_stages_interrupt_then_action_not_before),
        cmocka_unit_test(test_interrupt_type_and_intx_disable_gate_the_line),
        cmocka_unit_test(test_prescaler_and_preload_width),
        cmocka_unit_test(test_unlock_sequence_guards_every_write),
        cmocka_unit_test(test_reload_pings_and_timeout_clears),
        cmocka_unit_test(test_lock_freezes_until_reset_and_timeout_survives),
        cmocka_unit_test(test_output_disabled_and_free_running),
        cmocka_unit_test(test_clock_backwards_and_late_bound),
        cmocka_unit_test(test_reset_restores_config_register_and_preload2),
        cmocka_unit_test(test_access_face_decodes_config_space_and_bar0),
        cmocka_unit_test(test_attack_access_face_aliases_and_other_spaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
