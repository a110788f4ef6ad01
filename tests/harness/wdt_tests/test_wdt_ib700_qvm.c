/* Harness tests of vdev-svd-wdt-ib700.so: qvm's control sequence and
 * options (QNX's defaults), and Linux's ib700wdt.c replayed access by access
 * against the adapter on the harness's virtual clock.
 *
 * The driver writes with outb_p(): outb to the register, then a dummy outb
 * to port 0x80 (the POST port) as a bus delay. Port 0x80 belongs to another
 * device: qvm never delivers it to this vdev, so the replay does not either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wdt_hq.h"

#define NAME "svd-wdt-ib700"
#define NS_S UINT64_C(1000000000)
#define WDT_STOP 0x441u
#define WDT_START 0x443u

static const char *so_path(void)
{
    const char *p = getenv("HQ_WDT_IB700_SO");
    return (p != NULL) ? p : "build/qvm/vdev-svd-wdt-ib700.so";
}

static int group_setup(void **state)
{
    (void)state;
    if (hq_init(1u << 20) != 0) {
        return -1;
    }
    return hq_load(so_path());
}

static int group_teardown(void **state)
{
    (void)state;
    hq_fini();
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    hq_log_clear();
    wdt_bites_clear();
    return 0;
}

static hq_dev *dev(const char *action)
{
    const char *o[] = { "action", action, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new(NAME, o, &rc);
    assert_non_null(d);
    assert_int_equal(rc, EOK);
    return d;
}

static void outb(hq_dev *d, uint32_t port, uint32_t v)
{
    uint64_t x = v;
    assert_int_equal(hq_access(d, true, QST_X86_IO, port, 1u, &x), VRS_NORMAL);
}

static uint64_t in(hq_dev *d, uint32_t port, unsigned width)
{
    uint64_t v = 0x1234u;
    assert_int_equal(hq_access(d, false, QST_X86_IO, port, width, &v), VRS_NORMAL);
    return v;
}

/* ib700wdt.c, the driver's state: its timeout module parameter. */
typedef struct linux_ib {
    int timeout; /* seconds, 0..30 */
    char expect_close;
} linux_ib;

/* ibwdt_ping(): wd_margin = 15 - ((timeout + 1) / 2) to the start port. */
static void ibwdt_ping(hq_dev *d, const linux_ib *l)
{
    outb(d, WDT_START, (uint32_t)(15 - ((l->timeout + 1) / 2)));
}

/* ibwdt_disable(): 0 to the stop port. */
static void ibwdt_disable(hq_dev *d)
{
    outb(d, WDT_STOP, 0u);
}

/* ibwdt_open(): activate. */
static void ibwdt_open(hq_dev *d, linux_ib *l)
{
    l->expect_close = 0;
    ibwdt_ping(d, l);
}

/* ibwdt_write(): a 'V' arms the magic close; every write pings. */
static void ibwdt_write(hq_dev *d, linux_ib *l, const char *buf)
{
    l->expect_close = 0;
    for (size_t i = 0; buf[i] != '\0'; i++) {
        if (buf[i] == 'V') {
            l->expect_close = 42;
        }
    }
    ibwdt_ping(d, l);
}

/* ibwdt_close(): stop after the magic 'V', else keep it running (ping). */
static void ibwdt_close(hq_dev *d, linux_ib *l)
{
    if (l->expect_close == 42) {
        ibwdt_disable(d);
    } else {
        ibwdt_ping(d, l);
    }
    l->expect_close = 0;
}

/* WDIOC_SETTIMEOUT: 0..30 accepted, then a ping. */
static void ibwdt_settimeout(hq_dev *d, linux_ib *l, int t)
{
    assert_true(t >= 0 && t <= 30);
    l->timeout = t;
    ibwdt_ping(d, l);
}

/* With no option at all the device is where QNX's wdt-ib700 puts it (io
 * port 0x441), and the driver's default 30 s start then silence resets the
 * guest at exactly 30 s (hardware value 0: 30 s), not a nanosecond before;
 * the guest reset stops the timer.
 * REQ: REQ-WDT-090 REQ-WDT-087 REQ-WDT-031 REQ-WDT-041.b */
static void linux_open_then_silence_resets_at_30s_not_before(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = hq_dev_new(NAME, NULL, &rc);
    assert_non_null(d);
    assert_int_equal(rc, EOK);
    assert_int_equal(SVD_QSB_TYPE(&hq_dev_vdev(d)->v_block), QST_X86_IO);
    assert_int_equal(hq_dev_loc(d), 0x441u);
    assert_int_equal(hq_dev_vdev(d)->v_block.length, 3u);
    assert_false(hq_dev_is_pci(d));
    assert_int_equal(hq_factory_count(), 1u);
    assert_int_not_equal(hq_factory(NAME)->factory_flags & VFF_VDEV_X86_IO, 0u);
    assert_null(hq_factory("wdt-ib700")); /* never QNX's own name */
    linux_ib l = { 30, 0 };
    const uint64_t t0 = hq_clock_now();
    ibwdt_open(d, &l);
    wdt_clock_to(t0 + 30u * NS_S - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t0 + 30u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t0 + 30u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    assert_true(wdt_bite_at(0)->from_timer);
    assert_true(hq_log_has("terminating the guest"));
    wdt_clock_to(t0 + 600u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    assert_true(hq_dev_block_intact(d));
    hq_dev_free(d);
}

/* watchdogd with timeout 5 (the driver rounds to the hardware's 6 s): a
 * ping every 4 s for 400 s never sees an action; the magic close stops it;
 * an unexpected close keeps it running and it acts 6 s after that ping.
 * REQ: REQ-WDT-091.a REQ-WDT-091.b REQ-WDT-091.c REQ-WDT-041.b */
static void linux_pinging_guest_never_sees_an_action(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate");
    linux_ib l = { 30, 0 };
    ibwdt_open(d, &l);
    ibwdt_settimeout(d, &l, 5);
    const uint64_t t0 = hq_clock_now();
    for (unsigned i = 1; i <= 100u; i++) {
        wdt_clock_to(t0 + (uint64_t)i * 4u * NS_S);
        ibwdt_write(d, &l, "\n");
    }
    assert_int_equal(wdt_bites(), 0u);
    ibwdt_write(d, &l, "V");
    ibwdt_close(d, &l);
    wdt_clock_to(hq_clock_now() + 1000u * NS_S);
    assert_int_equal(wdt_bites(), 0u);
    /* Opened again, closed without the magic character: still running. */
    ibwdt_open(d, &l);
    wdt_clock_to(hq_clock_now() + 3u * NS_S);
    const uint64_t t1 = hq_clock_now();
    ibwdt_close(d, &l);
    wdt_clock_to(t1 + 6u * NS_S - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t1 + 60u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t1 + 6u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    hq_dev_free(d);
}

/* WDIOC_SETOPTIONS: DISABLECARD stops, ENABLECARD starts (a ping); the
 * shutdown hook stops; every timeout the driver accepts acts at the
 * hardware's value for it (even seconds, rounded up).
 * REQ: REQ-WDT-091.b REQ-WDT-091.d */
static void linux_setoptions_shutdown_and_every_timeout(void **state)
{
    (void)state;
    hq_dev *d = dev("none");
    linux_ib l = { 10, 0 };
    ibwdt_open(d, &l);
    ibwdt_disable(d); /* WDIOS_DISABLECARD */
    wdt_clock_to(hq_clock_now() + 100u * NS_S);
    assert_int_equal(hq_log_count(), 0u);
    for (int t = 1; t <= 30; t++) {
        hq_log_clear();
        const uint64_t t0 = hq_clock_now();
        ibwdt_settimeout(d, &l, t);
        const uint64_t hw = (uint64_t)(t + (t & 1)) * NS_S; /* (t + 1) / 2 x 2 */
        wdt_clock_to(t0 + hw - 1u);
        assert_int_equal(hq_log_count(), 0u);
        wdt_clock_to(t0 + hw);
        assert_int_equal(hq_log_count(), 1u);
        assert_true(hq_log_has("action none"));
    }
    /* ENABLECARD, then the platform shutdown hook (ibwdt_shutdown). */
    hq_log_clear();
    ibwdt_ping(d, &l);
    ibwdt_disable(d);
    wdt_clock_to(hq_clock_now() + 100u * NS_S);
    assert_int_equal(hq_log_count(), 0u);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("expiries acted on 30"));
    hq_dev_free(d);
}

/* timeout=0 (hardware value 15: 0 s) acts in the guest's own write, from the
 * vCPU access rather than the timer; so does the board manual's `OUT DX,AX`
 * of 0x000F (a 16-bit write: 0x0F at 0x443, 0x00 at 0x444, not ours), and
 * nothing runs afterwards.
 * REQ: REQ-WDT-090 REQ-WDT-082 */
static void zero_timeout_and_manual_word_write(void **state)
{
    (void)state;
    hq_dev *d = dev("dump,terminate");
    linux_ib l = { 0, 0 };
    const uint64_t t0 = hq_clock_now();
    ibwdt_open(d, &l);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t0, WDOG_ACTION_TERMINATE, WDOG_FLAG_DUMP);
    assert_false(wdt_bite_at(0)->from_timer);
    hq_dev_free(d);

    wdt_bites_clear();
    d = dev("terminate");
    const uint64_t t1 = hq_clock_now();
    uint64_t x = 0x000Fu;
    /* qvm traps the three ports only: the word at 0x443 is not delivered whole. */
    assert_int_equal(hq_access(d, true, QST_X86_IO, WDT_START, 2u, &x), HQ_UNROUTED);
    x = 0x0F00u; /* the same 0x0F reaches 0x443 as the high byte of a word at 0x442 */
    assert_int_equal(hq_access(d, true, QST_X86_IO, WDT_STOP + 1u, 2u, &x), VRS_NORMAL);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t1, WDOG_ACTION_TERMINATE, 0u);
    wdt_clock_to(t1 + 300u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    hq_dev_free(d);
}

/* Reads float high (the board drives nothing) and change nothing; accesses
 * outside the window, in another space or of an undecoded width are
 * answered (all ones through the engine, 0 when the frame refuses the
 * space), change nothing and are counted.
 * REQ: REQ-WDT-088 REQ-WDT-043 */
static void reads_float_high_and_stray_accesses_change_nothing(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate");
    linux_ib l = { 2, 0 };
    const uint64_t t0 = hq_clock_now();
    ibwdt_open(d, &l);
    assert_int_equal(in(d, WDT_STOP, 1u), 0xFFu);
    assert_int_equal(in(d, WDT_STOP + 1u, 2u), 0xFFFFu);
    uint64_t v = 0x0Fu;
    assert_int_equal(hq_access(d, true, QST_X86_IO, 0x80u, 1u, &v), HQ_UNROUTED);  /* not ours */
    assert_int_equal(hq_access(d, true, QST_X86_IO, 0x444u, 1u, &v), HQ_UNROUTED); /* just past */
    assert_int_equal(hq_access(d, true, QST_MEMORY, WDT_START, 1u, &v), HQ_UNROUTED);
    assert_int_equal(hq_access(d, true, QST_X86_IO, WDT_STOP, 8u, &v), HQ_UNROUTED);
    v = 0u;
    assert_int_equal(hq_access(d, false, 0x1234u, WDT_START, 1u, &v), VRS_NORMAL); /* no such space */
    assert_int_equal(v, 0u);
    wdt_clock_to(t0 + 2u * NS_S - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t0 + 2u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t0 + 2u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("refused accesses 1"));
    hq_dev_free(d);
}

/* `loc io:PORT` moves the window (the default ports are then nobody's);
 * `intr` is accepted and never driven; a location that is not an I/O port,
 * a window past port 0xFFFF and an unknown action are refused by name.
 * REQ: REQ-WDT-087 REQ-WDT-089 */
static void options_as_qnx_documents_them(void **state)
{
    (void)state;
    const char *o[] = { "loc", "io:0x300", "intr", "ioapic:5", "action", "terminate", NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new(NAME, o, &rc);
    assert_non_null(d);
    assert_int_equal(hq_dev_loc(d), 0x300u);
    const uint64_t t0 = hq_clock_now();
    uint64_t x = 14u; /* not ours any more */
    assert_int_equal(hq_access(d, true, QST_X86_IO, WDT_START, 1u, &x), HQ_UNROUTED);
    wdt_clock_to(t0 + 100u * NS_S);
    assert_int_equal(wdt_bites(), 0u);
    const uint64_t t1 = hq_clock_now();
    outb(d, 0x302u, 14u);
    wdt_clock_to(t1 + 2u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t1 + 2u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    assert_int_equal(hq_irq_edges(5u), 0u);
    assert_false(hq_irq_level(5u));
    hq_dev_free(d);

    struct {
        const char *o[8];
        const char *named;
    } cases[] = {
        { { "loc", "0x441", NULL }, "'loc'" },        /* a memory address, not a port */
        { { "loc", "io:0xfffe", NULL }, "'loc'" },    /* start port 0x10000 */
        { { "loc", "io:0x10000", NULL }, "'loc'" },
        { { "action", "reboot", NULL }, "'action'" },
        { { "action", "", NULL }, "'action'" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hq_log_clear();
        rc = EOK;
        d = hq_dev_new(NAME, cases[i].o, &rc);
        if (d != NULL || !hq_log_has(cases[i].named)) {
            print_error("case %zu\n", i);
            hq_log_dump();
        }
        assert_null(d);
        assert_int_not_equal(rc, EOK);
        assert_true(hq_log_has(cases[i].named));
        assert_int_equal(hq_live_timers(), 0u);
    }
    /* The highest window that fits. */
    const char *top[] = { "loc", "io:0xfffd", NULL };
    d = hq_dev_new(NAME, top, &rc);
    assert_non_null(d);
    hq_dev_free(d);
}

/* Two instances at two port pairs keep their timers apart.
 * REQ: REQ-WDT-089 */
static void two_instances_are_independent(void **state)
{
    (void)state;
    const char *oa[] = { "loc", "io:0x441", "action", "terminate", NULL };
    const char *ob[] = { "loc", "io:0x451", "action", "dump,terminate", NULL };
    int rc = -1;
    hq_dev *a = hq_dev_new(NAME, oa, &rc);
    hq_dev *b = hq_dev_new(NAME, ob, &rc);
    assert_non_null(a);
    assert_non_null(b);
    const uint64_t t0 = hq_clock_now();
    outb(a, 0x443u, 13u); /* 4 s */
    outb(b, 0x453u, 11u); /* 8 s */
    wdt_clock_to(t0 + 10u * NS_S);
    assert_int_equal(wdt_bites(), 2u);
    wdt_expect_bite(0, t0 + 4u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    wdt_expect_bite(1, t0 + 8u * NS_S, WDOG_ACTION_TERMINATE, WDOG_FLAG_DUMP);
    hq_dev_free(a);
    hq_dev_free(b);
}

/* qvm refuses the instance timer (the first try and the retry) while the
 * guest starts the watchdog: the adapter cannot time the expiry, so it acts
 * at once (fail-safe) and says so; a stop needs no timer and never acts.
 * REQ: REQ-WDT-060
 * FM: FM-QVM-007 */
static void timer_refused_is_fail_safe(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate");
    hq_log_clear();
    hq_fault_timer_notify(true);
    outb(d, WDT_START, 13u); /* 4 s: counting, needs its timer */
    hq_fault_timer_notify(false);
    assert_true(hq_log_has("cannot arm the guest timer"));
    assert_true(hq_log_has("watchdog cannot be timed: carrying out its action now (fail-safe)"));
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, hq_clock_now(), WDOG_ACTION_TERMINATE, 0u);
    /* Stopped: no timer needed, a refusal changes nothing. */
    wdt_bites_clear();
    hq_fault_timer_notify(true);
    outb(d, WDT_STOP, 0u);
    hq_fault_timer_notify(false);
    const uint64_t t0 = hq_clock_now();
    wdt_clock_to(t0 + 60u * NS_S);
    assert_int_equal(wdt_bites(), 0u);
    hq_dev_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(linux_open_then_silence_resets_at_30s_not_before, test_setup),
        cmocka_unit_test_setup(linux_pinging_guest_never_sees_an_action, test_setup),
        cmocka_unit_test_setup(linux_setoptions_shutdown_and_every_timeout, test_setup),
        cmocka_unit_test_setup(zero_timeout_and_manual_word_write, test_setup),
        cmocka_unit_test_setup(reads_float_high_and_stray_accesses_change_nothing, test_setup),
        cmocka_unit_test_setup(options_as_qnx_documents_them, test_setup),
        cmocka_unit_test_setup(two_instances_are_independent, test_setup),
        cmocka_unit_test_setup(timer_refused_is_fail_safe, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
