/* Harness tests of vdev-wdt-i6300esb.so: qvm's control sequence, the PCI
 * BAR, and Linux's i6300esb.c replayed access by access (probe, start, ping,
 * set heartbeat, stop) against the adapter on the harness's virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wdt_hq.h"

#define BAR 0xFEBF0000u
#define NS_1K (UINT64_C(1) << 15) * 30u
#define ESB_CONFIG_REG 0x60u
#define ESB_LOCK_REG 0x68u
#define ESB_TIMER1 (BAR + 0x0u)
#define ESB_TIMER2 (BAR + 0x4u)
#define ESB_GINTSR (BAR + 0x8u)
#define ESB_RELOAD (BAR + 0xCu)
#define ESB_WDT_ENABLE 0x02u
#define ESB_WDT_LOCK 0x01u
#define ESB_WDT_RELOAD 0x100u
#define ESB_WDT_TIMEOUT 0x200u

static const char *so_path(void)
{
    const char *p = getenv("HQ_WDT_ESB_SO");
    return (p != NULL) ? p : "build/qvm/vdev-wdt-i6300esb.so";
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

/* Firmware: place BAR0 and turn memory decoding on. */
static hq_dev *dev(const char *action)
{
    const char *o[] = { "action", action, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("wdt-i6300esb", o, &rc);
    assert_non_null(d);
    assert_int_equal(rc, EOK);
    assert_true(hq_dev_is_pci(d));
    wdt_cw(d, 0x10, 4, BAR);
    wdt_cw(d, 0x04, 2, 0x0002);
    return d;
}

static void unlock(hq_dev *d)
{
    wdt_mw(d, ESB_RELOAD, 2, 0x80);
    wdt_mw(d, ESB_RELOAD, 2, 0x86);
}

/* i6300esb.c esb_timer_keepalive() */
static void linux_ping(hq_dev *d)
{
    unlock(d);
    wdt_mw(d, ESB_RELOAD, 2, ESB_WDT_RELOAD);
}

/* i6300esb.c esb_timer_set_heartbeat(): time << 9 in both preloads, then reload */
static void linux_set_heartbeat(hq_dev *d, uint32_t time)
{
    const uint32_t val = time << 9;
    unlock(d);
    wdt_mw(d, ESB_TIMER1, 4, val);
    unlock(d);
    wdt_mw(d, ESB_TIMER2, 4, val);
    linux_ping(d);
}

/* i6300esb.c esb_initdevice(); returns whether the driver reports CARDRESET. */
static bool linux_probe(hq_dev *d, uint32_t heartbeat)
{
    wdt_cw(d, ESB_CONFIG_REG, 2, 0x0003);
    if ((wdt_cr(d, ESB_LOCK_REG, 1) & ESB_WDT_LOCK) != 0u) {
        fail_msg("nowayout already set");
    }
    wdt_cw(d, ESB_LOCK_REG, 1, 0x00);
    const bool cardreset = (wdt_mr(d, ESB_RELOAD, 2) & ESB_WDT_TIMEOUT) != 0u;
    unlock(d);
    wdt_mw(d, ESB_RELOAD, 2, ESB_WDT_TIMEOUT | ESB_WDT_RELOAD);
    linux_set_heartbeat(d, heartbeat);
    return cardreset;
}

/* i6300esb.c esb_timer_start() */
static void linux_start(hq_dev *d)
{
    linux_ping(d);
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE);
}

/* i6300esb.c esb_timer_stop(); returns the driver's "still enabled" check */
static bool linux_stop(hq_dev *d)
{
    linux_ping(d);
    wdt_cw(d, ESB_LOCK_REG, 1, 0x00);
    return (wdt_cr(d, ESB_LOCK_REG, 1) & ESB_WDT_ENABLE) != 0u;
}

/* REQ: REQ-WDT-045 */
static void pci_identity_and_bar(void **state)
{
    (void)state;
    const char *o[] = { NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("wdt-i6300esb", o, &rc);
    assert_non_null(d);
    assert_int_equal(wdt_cr(d, 0x00, 4), 0x25ab8086u);
    assert_int_equal(wdt_cr(d, 0x08, 4) >> 8, 0x088000u);
    assert_int_equal(wdt_cr(d, 0x2C, 4), 0x25ab8086u); /* subsystem = device */
    assert_int_equal(wdt_cr(d, 0x3D, 1), 1u);
    wdt_cw(d, 0x10, 4, 0xFFFFFFFFu);
    assert_int_equal(wdt_cr(d, 0x10, 4), 0xFFFFFFF0u);
    struct vpci_bar bars[SVD_QVM_PCI_NBARS];
    memset(bars, 0xa5, sizeof bars);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_PCI_BARS, (const char *)(void *)bars), -SVD_QVM_PCI_NBARS);
    assert_int_equal(bars[0].size, 16u);
    assert_int_equal(bars[0].flags, 0u);
    for (int i = 1; i < SVD_QVM_PCI_NBARS; i++) {
        assert_int_equal(bars[i].size, 0u);
    }
    /* BAR0 not decoded before firmware enables memory: reads float high */
    assert_int_equal(wdt_mr(d, ESB_RELOAD, 2), 0xFFFFu);
    hq_dev_free(d);
    /* options: a location is refused, a bad action is refused */
    const char *bad1[] = { "loc", "0x1000", NULL };
    const char *bad2[] = { "action", "explode", NULL };
    hq_log_clear();
    assert_null(hq_dev_new("wdt-i6300esb", bad1, &rc));
    assert_true(hq_log_has("'loc'"));
    assert_null(hq_dev_new("wdt-i6300esb", bad2, &rc));
    assert_true(hq_log_has("'action'"));
    assert_int_equal(hq_live_timers(), 0u);
}

/* REQ: REQ-WDT-052 REQ-WDT-031 REQ-WDT-041 */
static void linux_start_then_silence_resets_at_heartbeat_not_before(void **state)
{
    (void)state;
    hq_dev *d = dev("reset");
    assert_false(linux_probe(d, 30u));
    const uint64_t t0 = hq_clock_now();
    linux_start(d);
    const uint64_t expiry = t0 + 2u * (30u << 9) * NS_1K; /* 30.199 s: two stages of 15360 counts */
    wdt_clock_to(expiry - 1u);
    assert_int_equal(wdt_bites(), 0u);
    assert_int_equal(wdt_mr(d, ESB_GINTSR, 4), 1u); /* stage 1 ended (interrupt type disabled by Linux) */
    assert_false(hq_irq_level(hq_dev_pin(d)));
    wdt_clock_to(expiry);
    assert_int_equal(wdt_bites(), 1u);
    assert_int_equal(wdt_bite_at(0)->at_ns, expiry);
    assert_int_equal(wdt_bite_at(0)->action, WDOG_ACTION_RESET);
    /* guest reset: firmware places the BAR again; the driver sees CARDRESET */
    assert_int_equal(wdt_cr(d, 0x10, 4), 0u);
    wdt_cw(d, 0x10, 4, BAR);
    wdt_cw(d, 0x04, 2, 0x0002);
    assert_int_equal(wdt_cr(d, ESB_LOCK_REG, 1), 0u);
    assert_true(linux_probe(d, 30u));
    assert_false(linux_probe(d, 30u)); /* the probe cleared it */
    wdt_clock_to(expiry + 1000u * UINT64_C(1000000000));
    assert_int_equal(wdt_bites(), 1u); /* not started again: nothing */
    hq_dev_free(d);
}

/* REQ: REQ-WDT-053 REQ-WDT-041 */
static void linux_pinging_guest_never_sees_an_action(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate");
    (void)linux_probe(d, 10u);
    uint64_t t = hq_clock_now();
    linux_start(d);
    for (int i = 0; i < 60; i++) { /* watchdogd: ping every 5 s for 300 s */
        t += 5u * UINT64_C(1000000000);
        wdt_clock_to(t);
        linux_ping(d);
    }
    assert_int_equal(wdt_bites(), 0u);
    assert_int_equal(wdt_mr(d, ESB_GINTSR, 4), 0u); /* not even stage 1 ended */
    /* WDIOC_SETTIMEOUT 2 s while running, then silence: acts after 2 x 1024 counts */
    linux_set_heartbeat(d, 2u);
    const uint64_t t1 = hq_clock_now();
    wdt_clock_to(t1 + 2u * (2u << 9) * NS_1K - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t1 + 2u * (2u << 9) * NS_1K);
    assert_int_equal(wdt_bites(), 1u);
    assert_int_equal(wdt_bite_at(0)->action, WDOG_ACTION_TERMINATE);
    hq_dev_free(d);
}

/* REQ: REQ-WDT-053 */
static void linux_stop_means_no_action(void **state)
{
    (void)state;
    hq_dev *d = dev("dump");
    (void)linux_probe(d, 1u);
    linux_start(d);
    wdt_clock_to(hq_clock_now() + 500000000u);
    assert_false(linux_stop(d));
    wdt_clock_to(hq_clock_now() + 3600u * UINT64_C(1000000000));
    assert_int_equal(wdt_bites(), 0u);
    /* nowayout: enable + lock, a stop does not stop it */
    const uint64_t t0 = hq_clock_now();
    linux_ping(d);
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE | ESB_WDT_LOCK);
    assert_true(linux_stop(d));
    wdt_clock_to(t0 + 2u * (1u << 9) * NS_1K);
    assert_int_equal(wdt_bites(), 1u);
    assert_int_equal(wdt_bite_at(0)->action, WDOG_ACTION_TERMINATE);
    assert_int_equal(wdt_bite_at(0)->flags, WDOG_FLAG_DUMP);
    hq_dev_free(d);
}

/* REQ: REQ-WDT-046 */
static void stage1_interrupt_reaches_the_pin(void **state)
{
    (void)state;
    hq_dev *d = dev("none");
    const unsigned pin = hq_dev_pin(d);
    wdt_cw(d, ESB_CONFIG_REG, 2, 0x0000); /* interrupt type IRQ */
    unlock(d);
    wdt_mw(d, ESB_TIMER1, 4, 4u);
    unlock(d);
    wdt_mw(d, ESB_TIMER2, 4, 4u);
    const uint64_t t0 = hq_clock_now();
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE);
    wdt_clock_to(t0 + 4u * NS_1K - 1u);
    assert_false(hq_irq_level(pin));
    wdt_clock_to(t0 + 4u * NS_1K);
    assert_true(hq_irq_level(pin));
    assert_int_equal(wdt_cr(d, 0x06, 2) & 0x8u, 0x8u);
    unlock(d);
    wdt_mw(d, ESB_GINTSR, 4, 1u); /* the guest's handler clears it */
    assert_false(hq_irq_level(pin));
    wdt_clock_to(t0 + 8u * NS_1K);
    assert_int_equal(wdt_bites(), 0u); /* action none: logged */
    assert_true(hq_log_has("action none"));
    assert_int_equal(wdt_mr(d, ESB_RELOAD, 2), ESB_WDT_TIMEOUT);
    hq_dev_free(d);
    assert_false(hq_irq_level(pin));
}

/* REQ: REQ-WDT-047 REQ-WDT-043 */
static void host_failures_and_control_misuse(void **state)
{
    (void)state;
    const char *o[] = { "action", "reset", NULL };
    int rc = EOK;
    hq_fault_timer(true);
    assert_null(hq_dev_new("wdt-i6300esb", o, &rc));
    assert_int_equal(rc, EIO);
    assert_true(hq_log_has("cannot create a guest timer"));
    hq_fault_timer(false);
    hq_dev *d = dev("reset");
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_FIRST_OPTIDX, "none"), EBUSY);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_OPTIONS_END, NULL), EBUSY);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_PCI_BARS, NULL), 1);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_GEN_FDT, NULL), EOK); /* PCI: enumerated, no node */
    /* refused accesses (8-byte, outside BAR0) are counted in STATUS */
    uint64_t v = 0;
    assert_int_equal(hq_access(d, false, QST_PCI, 0x00, 8, &v), VRS_NORMAL);
    assert_int_equal(v, 0u);
    assert_int_equal(hq_access(d, true, QST_MEMORY, BAR + 0x10u, 4, &v), VRS_NORMAL);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("action reset, expiries acted on 0, refused accesses 2"));
    /* a write whose value qvm cannot fetch is not performed */
    hq_fault_countdown(1);
    v = ESB_WDT_ENABLE;
    (void)hq_access(d, true, QST_PCI, ESB_LOCK_REG, 1, &v);
    assert_non_null(hq_fault_fired());
    hq_fault_countdown(0);
    assert_int_equal(wdt_cr(d, ESB_LOCK_REG, 1), 0u);
    hq_dev_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(pci_identity_and_bar, test_setup),
        cmocka_unit_test_setup(linux_start_then_silence_resets_at_heartbeat_not_before, test_setup),
        cmocka_unit_test_setup(linux_pinging_guest_never_sees_an_action, test_setup),
        cmocka_unit_test_setup(linux_stop_means_no_action, test_setup),
        cmocka_unit_test_setup(stage1_interrupt_reaches_the_pin, test_setup),
        cmocka_unit_test_setup(host_failures_and_control_misuse, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
