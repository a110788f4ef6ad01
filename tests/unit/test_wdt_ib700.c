/* Unit tests of the iBASE IB700 watchdog engine (src/core/wdt_ib700.c).
 * Expected values follow the board's register description (as Linux's
 * ib700wdt.c quotes it: stop at 0x441, start at 0x443, timeouts 30 - 2 x V
 * seconds) and the ISA bus rules summarised in wdt_ib700.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/wdt_ib700.h"

#define S UINT64_C(1000000000)
#define STOP 0x441u
#define START 0x443u
#define T0 UINT64_C(5000)   /* the engines' clock at init: any instant works */

static void dirty(svd_fx *fx)
{
    memset(fx, 0xA5, sizeof(*fx));
}

/* Every call fills the whole effect: the line is low and never moves, the
 * deadline is the engine's, nothing a watchdog cannot cause is reported. */
static void check_fx(const svd_fx *fx, const svd_ib700 *w)
{
    assert_int_equal(fx->deadline, svd_ib700_next_deadline(w));
    assert_false(fx->irq_level);
    assert_false(fx->irq_changed);
    assert_int_equal(fx->queue_notify, 0u);
    assert_false(fx->config_notify);
    assert_false(fx->reset);
    assert_false(fx->failed);
    assert_int_equal(fx->why, SVD_WHY_NONE);
    assert_false(fx->bars_changed);
    assert_true(fx->fired == (fx->fires != 0u));
    assert_int_equal(fx->action, w->cfg.action);
}

static svd_ib700 make(svd_wdt_action action, uint32_t base)
{
    svd_ib700 w;
    const svd_ib700_cfg cfg = { action, base };
    assert_true(svd_is_ok(svd_ib700_init(&w, &cfg, T0)));
    return w;
}

static svd_fx io_w(svd_ib700 *w, uint32_t port, uint32_t width, uint64_t val, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    assert_true(svd_is_ok(svd_ib700_access(w, SVD_SPACE_IO, port, width, true, &val, now, &fx)));
    check_fx(&fx, w);
    return fx;
}

static uint64_t io_r(svd_ib700 *w, uint32_t port, uint32_t width, uint64_t now, svd_fx *fx)
{
    uint64_t v = 0x1234u;
    dirty(fx);
    assert_true(svd_is_ok(svd_ib700_access(w, SVD_SPACE_IO, port, width, false, &v, now, fx)));
    check_fx(fx, w);
    return v;
}

static svd_fx tick(svd_ib700 *w, uint64_t now)
{
    svd_fx fx;
    dirty(&fx);
    svd_ib700_tick(w, now, &fx);
    check_fx(&fx, w);
    return fx;
}

/* REQ: REQ-WDT-080 REQ-WDT-004 */
static void test_init_validates_config(void **state)
{
    (void)state;
    svd_ib700 w;
    memset(&w, 0x5a, sizeof w);
    svd_ib700 before;
    memcpy(&before, &w, sizeof w);
    const svd_ib700_cfg bad_action = { SVD_WDT_ACTION__COUNT, STOP };
    const svd_ib700_cfg bad_base = { SVD_WDT_ACTION_RESET, SVD_IB700_MAX_BASE + 1u };
    const svd_ib700_cfg good = { SVD_WDT_ACTION_NONE, SVD_IB700_MAX_BASE };
    assert_int_equal(svd_ib700_init(NULL, &good, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_ib700_init(&w, NULL, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_ib700_init(&w, &bad_action, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_ib700_init(&w, &bad_base, 0u).err, SVD_ERR_INVALID_ARG);
    assert_memory_equal(&w, &before, sizeof w);
    assert_true(svd_is_ok(svd_ib700_init(&w, &good, 7u)));
    assert_int_equal(svd_ib700_next_deadline(&w), SVD_NO_DEADLINE);
}

/* REQ: REQ-WDT-081.a */
static void test_timeout_table_is_thirty_minus_twice_the_nibble(void **state)
{
    (void)state;
    static const uint32_t table[16] = { 30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0 };
    for (uint32_t v = 0u; v < 0x100u; v++) {
        assert_int_equal(svd_ib700_timeout_s(v), table[v & 0xFu]);
    }
    assert_int_equal(svd_ib700_timeout_s(0xFFFFFFF0u), 30u); /* only the low nibble counts */
}

/* REQ: REQ-WDT-001.b */
static void test_power_on_stopped_never_fires(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    assert_int_equal(svd_ib700_next_deadline(&w), SVD_NO_DEADLINE);
    svd_fx fx = tick(&w, T0 + 3600u * S);
    assert_false(fx.fired);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
}

/* REQ: REQ-WDT-081.a REQ-WDT-081.d REQ-WDT-031 */
/* FM: FM-WDT-004 */
static void test_start_fires_at_the_timeout_not_before_and_once(void **state)
{
    (void)state;
    for (uint32_t v = 0u; v < 15u; v++) {
        svd_ib700 w = make(SVD_WDT_ACTION_TERMINATE, STOP);
        const uint64_t t = T0 + 1000u;
        svd_fx fx = io_w(&w, START, 1u, v, t);
        assert_false(fx.fired);
        const uint64_t exp = t + (uint64_t)svd_ib700_timeout_s(v) * S;
        assert_int_equal(fx.deadline, exp);
        assert_false(tick(&w, exp - 1u).fired);
        fx = tick(&w, exp);
        assert_true(fx.fired);
        assert_int_equal(fx.fires, 1u);
        assert_int_equal(fx.action, SVD_WDT_ACTION_TERMINATE);
        /* One shot: stopped afterwards, a later tick fires nothing. */
        assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
        assert_false(tick(&w, exp + 100u * S).fired);
    }
}

/* REQ: REQ-WDT-081.a */
static void test_restart_pushes_the_deadline(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    (void)io_w(&w, START, 1u, 13u, T0);               /* 4 s */
    for (uint64_t k = 1u; k <= 10u; k++) {
        svd_fx fx = io_w(&w, START, 1u, 13u, T0 + k * 3u * S); /* ping every 3 s */
        assert_false(fx.fired);
        assert_int_equal(fx.deadline, T0 + k * 3u * S + 4u * S);
    }
    /* A new value applies from the write that carries it. */
    svd_fx fx = io_w(&w, START, 1u, 0u, T0 + 31u * S);
    assert_int_equal(fx.deadline, T0 + 61u * S);
    assert_false(tick(&w, T0 + 61u * S - 1u).fired);
    assert_true(tick(&w, T0 + 61u * S).fired);
}

/* REQ: REQ-WDT-081.b REQ-WDT-081.c */
static void test_stop_port_stops_with_any_value_and_between_is_nothing(void **state)
{
    (void)state;
    for (uint32_t v = 0u; v < 0x100u; v += 0x11u) {
        svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
        (void)io_w(&w, START, 1u, 0u, T0);
        svd_fx fx = io_w(&w, STOP, 1u, v, T0 + S);
        assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
        assert_false(tick(&w, T0 + 100u * S).fired);
    }
    /* 0x442, between the registers, neither stops nor starts. */
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    svd_fx fx = io_w(&w, STOP + 1u, 1u, 14u, T0);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    (void)io_w(&w, START, 1u, 14u, T0);
    fx = io_w(&w, STOP + 1u, 1u, 0u, T0 + 1u);
    assert_int_equal(fx.deadline, T0 + 2u * S);
}

/* REQ: REQ-WDT-081.e */
static void test_zero_timeout_fires_in_the_write(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_DUMP, STOP);
    svd_fx fx = io_w(&w, START, 1u, 0xFFu, T0 + 77u);
    assert_true(fx.fired);
    assert_int_equal(fx.fires, 1u);
    assert_int_equal(fx.action, SVD_WDT_ACTION_DUMP);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
}

/* REQ: REQ-WDT-082 */
static void test_wide_writes_are_byte_cycles_lowest_port_first(void **state)
{
    (void)state;
    /* outw 0x443, 0x000F (the board manual's `OUT DX,AX` for 0 s): 0x0F at
     * 0x443 acts at once; the 0x00 lands on 0x444, another device's. */
    svd_ib700 w = make(SVD_WDT_ACTION_NONE, STOP);
    svd_fx fx = io_w(&w, START, 2u, 0x000Fu, T0);
    assert_true(fx.fired);
    assert_int_equal(fx.fires, 1u);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    /* outw 0x442: nothing, then start (0x05: 20 s). */
    w = make(SVD_WDT_ACTION_NONE, STOP);
    fx = io_w(&w, 0x442u, 2u, 0x0500u, T0);
    assert_false(fx.fired);
    assert_int_equal(fx.deadline, T0 + 20u * S);
    /* outl 0x441: stop, nothing, start 10 s, (0x444 not ours). */
    w = make(SVD_WDT_ACTION_NONE, STOP);
    fx = io_w(&w, STOP, 4u, 0x000A00FFu, T0);
    assert_int_equal(fx.deadline, T0 + 10u * S);
    /* outl 0x440 of a running timer: 0x440 not ours; stop, nothing, start 30 s:
     * the stop cycle comes first, the start wins. */
    w = make(SVD_WDT_ACTION_NONE, STOP);
    (void)io_w(&w, START, 1u, 14u, T0);
    fx = io_w(&w, 0x440u, 4u, 0x00FFFFFFu, T0 + S);
    assert_int_equal(fx.deadline, T0 + 31u * S);
    /* outw 0x441, 0x0E00: stop, then nothing: stopped. */
    fx = io_w(&w, STOP, 2u, 0x0E00u, T0 + 2u * S);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    /* The upper bytes of a 64-bit value are never looked at. */
    w = make(SVD_WDT_ACTION_NONE, STOP);
    fx = io_w(&w, START, 1u, UINT64_C(0xFFFFFFFFFFFFFF0D), T0);
    assert_int_equal(fx.deadline, T0 + 4u * S);
}

/* REQ: REQ-WDT-082 */
static void test_bytes_outside_the_window_are_another_devices(void **state)
{
    (void)state;
    /* outw 0x440: only the high byte (at 0x441, stop) is ours. */
    svd_ib700 w = make(SVD_WDT_ACTION_NONE, STOP);
    (void)io_w(&w, START, 1u, 0u, T0);
    svd_fx fx = io_w(&w, 0x440u, 2u, 0x0000u, T0 + 1u);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    /* outl 0x443 reaches past the window: only 0x443 acts (0x0B: 8 s);
     * 0x444..0x446 are not ours (their 2 s would otherwise win). */
    fx = io_w(&w, START, 4u, 0x0E0E0E0Bu, T0 + 3u);
    assert_int_equal(fx.deadline, T0 + 3u + 8u * S);
    /* outl 0x43E: 0x43E..0x440 not ours, 0x441 stops. */
    fx = io_w(&w, 0x43Eu, 4u, 0x000E0E0Eu, T0 + 4u);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
}

/* A late caller's expiry and a 0 s start in the same write: both count.
 * REQ: REQ-WDT-081.e REQ-WDT-081.f */
static void test_late_expiry_and_zero_start_in_one_write(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_TERMINATE, STOP);
    (void)io_w(&w, START, 1u, 14u, T0);
    svd_fx fx = io_w(&w, START, 1u, 15u, T0 + 3u * S);
    assert_true(fx.fired);
    assert_int_equal(fx.fires, 2u);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
}

/* REQ: REQ-WDT-082 */
static void test_reads_float_high_and_change_only_time(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    svd_fx fx;
    (void)io_w(&w, START, 1u, 14u, T0); /* 2 s */
    const uint32_t widths[3] = { 1u, 2u, 4u };
    const uint64_t ones[3] = { 0xFFu, 0xFFFFu, 0xFFFFFFFFu };
    for (uint32_t port = 0x43Eu; port < 0x444u; port++) {
        for (unsigned i = 0u; i < 3u; i++) {
            if (port + widths[i] <= STOP) {
                continue; /* no byte in the window: refused (other test) */
            }
            assert_int_equal(io_r(&w, port, widths[i], T0 + 1u, &fx), ones[i]);
            assert_false(fx.fired);
            assert_int_equal(fx.deadline, T0 + 2u * S);
        }
    }
    /* A read after the deadline finds the expiry (late caller): fires once. */
    assert_int_equal(io_r(&w, STOP, 1u, T0 + 5u * S, &fx), 0xFFu);
    assert_true(fx.fired);
    assert_int_equal(fx.fires, 1u);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
}

/* Attacks: accesses the device does not decode change nothing at all (no
 * state, no time) and read all ones of their width.
 * REQ: REQ-WDT-083 REQ-WDT-003 */
/* FM: FM-WDT-006 */
static void test_attack_undecoded_accesses_change_nothing(void **state)
{
    (void)state;
    struct {
        svd_space sp;
        uint64_t addr;
        uint32_t width;
        uint64_t ones;
    } const atk[] = {
        { SVD_SPACE_MEM, STOP, 1u, 0xFFu },               /* memory space at the port number */
        { SVD_SPACE_PCI_CFG, START, 1u, 0xFFu },          /* configuration space */
        { (svd_space)77, START, 1u, 0xFFu },              /* a space that does not exist */
        { SVD_SPACE_IO, START, 0u, UINT64_MAX },          /* zero width */
        { SVD_SPACE_IO, START, 3u, UINT64_MAX },          /* no bus has 3-byte cycles */
        { SVD_SPACE_IO, START, 8u, UINT64_MAX },          /* nor 8-byte I/O */
        { SVD_SPACE_IO, START, 0xFFFFFFFFu, UINT64_MAX }, /* huge width */
        { SVD_SPACE_IO, 0x440u, 1u, 0xFFu },              /* just below the window */
        { SVD_SPACE_IO, 0x444u, 1u, 0xFFu },              /* just above it */
        { SVD_SPACE_IO, 0x444u, 4u, 0xFFFFFFFFu },
        { SVD_SPACE_IO, 0x43Du, 4u, 0xFFFFFFFFu },        /* ends just below it */
        { SVD_SPACE_IO, 0x10000u + START, 1u, 0xFFu },    /* aliases the port beyond 16 bits */
        { SVD_SPACE_IO, UINT64_MAX, 2u, 0xFFFFu },        /* wraps the address */
        { SVD_SPACE_IO, UINT64_MAX - 1u, 4u, 0xFFFFFFFFu },
    };
    for (size_t i = 0; i < sizeof atk / sizeof atk[0]; i++) {
        for (int write = 0; write < 2; write++) {
            svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
            (void)io_w(&w, START, 1u, 14u, T0); /* running, 2 s */
            svd_ib700 before;
            memcpy(&before, &w, sizeof w);
            uint64_t v = 0x0Fu; /* a 0 s start, were it decoded */
            svd_fx fx;
            dirty(&fx);
            const svd_result r = svd_ib700_access(&w, atk[i].sp, atk[i].addr, atk[i].width, write != 0, &v,
                                                  T0 + 100u * S, &fx);
            assert_int_equal(r.err, SVD_ERR_BOUNDS);
            assert_memory_equal(&w, &before, sizeof w); /* not even the time moved */
            check_fx(&fx, &w);
            assert_false(fx.fired);
            assert_int_equal(v, write ? 0x0Fu : atk[i].ones);
        }
    }
}

/* REQ: REQ-WDT-083 REQ-WDT-003 */
static void test_attack_null_arguments_refused(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    uint64_t v = 0u;
    svd_fx fx;
    assert_int_equal(svd_ib700_access(NULL, SVD_SPACE_IO, START, 1u, true, &v, T0, &fx).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_ib700_access(&w, SVD_SPACE_IO, START, 1u, true, NULL, T0, &fx).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_ib700_access(&w, SVD_SPACE_IO, START, 1u, true, &v, T0, NULL).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_ib700_next_deadline(&w), SVD_NO_DEADLINE);
}

/* Attack: a guest that starts the timer near the end of the clock's range
 * gets a saturated deadline, never a wrapped one that fires at once.
 * REQ: REQ-WDT-001.d REQ-WDT-083 */
/* FM: FM-WDT-005 */
static void test_attack_deadline_saturates_at_the_end_of_time(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    svd_fx fx = io_w(&w, START, 1u, 0u, UINT64_MAX - S);
    assert_false(fx.fired);
    assert_int_equal(w.deadline, UINT64_MAX);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    /* Reported as none, and none it is: the end of the clock fires nothing. */
    assert_false(tick(&w, UINT64_MAX).fired);
}

/* REQ: REQ-WDT-001.c */
static void test_clock_going_backwards_is_no_time_passing(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    (void)io_w(&w, START, 1u, 14u, T0 + 10u * S); /* expires at T0 + 12 s */
    assert_false(tick(&w, T0).fired);              /* earlier than the write */
    svd_fx fx = io_w(&w, START, 1u, 14u, T0);     /* a ping "in the past" counts from the latest time */
    assert_int_equal(fx.deadline, T0 + 12u * S);
    assert_true(tick(&w, T0 + 12u * S).fired);
}

/* REQ: REQ-WDT-084 */
static void test_reset_stops_the_timer(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, STOP);
    (void)io_w(&w, START, 1u, 14u, T0);
    svd_fx fx;
    dirty(&fx);
    svd_ib700_reset(&w, T0 + S, &fx);
    check_fx(&fx, &w);
    assert_false(fx.fired);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    assert_false(tick(&w, T0 + 60u * S).fired);
    /* A reset with an older clock keeps the latest time. */
    dirty(&fx);
    svd_ib700_reset(&w, 0u, &fx);
    check_fx(&fx, &w);
    fx = io_w(&w, START, 1u, 14u, 0u);
    assert_int_equal(fx.deadline, T0 + 60u * S + 2u * S);
}

/* REQ: REQ-WDT-080 REQ-WDT-082 */
static void test_window_follows_the_configured_base(void **state)
{
    (void)state;
    svd_ib700 w = make(SVD_WDT_ACTION_RESET, 0x200u);
    svd_fx fx;
    uint64_t v = 0u;
    /* The default ports are nobody's now. */
    dirty(&fx);
    assert_int_equal(svd_ib700_access(&w, SVD_SPACE_IO, START, 1u, true, &v, T0, &fx).err, SVD_ERR_BOUNDS);
    fx = io_w(&w, 0x202u, 1u, 0u, T0);
    assert_int_equal(fx.deadline, T0 + 30u * S);
    /* The highest base: the start port is 0xFFFF. */
    w = make(SVD_WDT_ACTION_RESET, SVD_IB700_MAX_BASE);
    assert_int_equal(SVD_IB700_MAX_BASE, 0xFFFDu);
    fx = io_w(&w, 0xFFFCu, 4u, 0x0E000000u, T0);
    assert_int_equal(fx.deadline, T0 + 2u * S);
    fx = io_w(&w, 0xFFFDu, 2u, 0u, T0 + 1u);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    fx = io_w(&w, 0xFFFFu, 1u, 0u, T0);
    assert_int_equal(fx.deadline, T0 + 1u + 30u * S);
    dirty(&fx);
    assert_int_equal(svd_ib700_access(&w, SVD_SPACE_IO, 0xFFFFu, 2u, false, &v, T0, &fx).err, SVD_ERR_BOUNDS);
    /* Base 0: port 0 is the first stop port. */
    w = make(SVD_WDT_ACTION_RESET, 0u);
    (void)io_w(&w, 2u, 1u, 0u, T0);
    fx = io_w(&w, 0u, 1u, 0u, T0 + 1u);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_validates_config),
        cmocka_unit_test(test_timeout_table_is_thirty_minus_twice_the_nibble),
        cmocka_unit_test(test_power_on_stopped_never_fires),
        cmocka_unit_test(test_start_fires_at_the_timeout_not_before_and_once),
        cmocka_unit_test(test_restart_pushes_the_deadline),
        cmocka_unit_test(test_stop_port_stops_with_any_value_and_between_is_nothing),
        cmocka_unit_test(test_zero_timeout_fires_in_the_write),
        cmocka_unit_test(test_wide_writes_are_byte_cycles_lowest_port_first),
        cmocka_unit_test(test_bytes_outside_the_window_are_another_devices),
        cmocka_unit_test(test_late_expiry_and_zero_start_in_one_write),
        cmocka_unit_test(test_reads_float_high_and_change_only_time),
        cmocka_unit_test(test_attack_undecoded_accesses_change_nothing),
        cmocka_unit_test(test_attack_null_arguments_refused),
        cmocka_unit_test(test_attack_deadline_saturates_at_the_end_of_time),
        cmocka_unit_test(test_clock_going_backwards_is_no_time_passing),
        cmocka_unit_test(test_reset_stops_the_timer),
        cmocka_unit_test(test_window_follows_the_configured_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
