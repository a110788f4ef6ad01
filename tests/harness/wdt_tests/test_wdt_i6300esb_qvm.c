/* Harness tests of vdev-svd-wdt-i6300esb.so: qvm's control sequence, the PCI
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
#define NS_1M ((UINT64_C(1) << 5) * 30u) /* one count at the 1 MHz prescaler: 960 ns */
#define NS_S UINT64_C(1000000000)
#define ESB_CONFIG_REG 0x60u
#define ESB_LOCK_REG 0x68u
#define ESB_TIMER1 (BAR + 0x0u)
#define ESB_TIMER2 (BAR + 0x4u)
#define ESB_GINTSR (BAR + 0x8u)
#define ESB_RELOAD (BAR + 0xCu)
#define ESB_WDT_ENABLE 0x02u
#define ESB_WDT_LOCK 0x01u
#define ESB_WDT_FREERUN 0x04u
#define ESB_CFG_PRE_1MHZ 0x0004u
#define ESB_CFG_OUT_DIS 0x0020u
#define ESB_CFG_INT_DISABLED 0x0003u
#define ESB_WDT_RELOAD 0x100u
#define ESB_WDT_TIMEOUT 0x200u

static const char *so_path(void)
{
    const char *p = getenv("HQ_WDT_ESB_SO");
    return (p != NULL) ? p : "build/qvm/vdev-svd-wdt-i6300esb.so";
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
    hq_dev *d = hq_dev_new("svd-wdt-i6300esb", o, &rc);
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

/* Both preloads, each behind its own unlock. */
static void preloads(hq_dev *d, uint32_t p1, uint32_t p2)
{
    unlock(d);
    wdt_mw(d, ESB_TIMER1, 4, p1);
    unlock(d);
    wdt_mw(d, ESB_TIMER2, 4, p2);
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
    hq_dev *d = hq_dev_new("svd-wdt-i6300esb", o, &rc);
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
    /* a trapping region of 16 bytes, a 32-bit memory BAR written back through BAR0 */
    assert_int_equal(SVD_GRF_FLAGS(&bars[0].vb_mapping), GRF_VIRT_RD | GRF_VIRT_WR);
    assert_ptr_equal(bars[0].vb_mapping.vdev, hq_dev_vdev(d));
    assert_int_equal(bars[0].vb_mapping.guest.length, 16u);
    assert_int_equal(bars[0].vb_value, 0u);
    assert_int_equal(bars[0].vb_breg, 0x10u);
    assert_int_equal(bars[0].vb_zero, 0u);
    for (int i = 1; i < SVD_QVM_PCI_NBARS; i++) {
        assert_int_equal(bars[i].vb_mapping.guest.length, 0u);
        assert_int_equal(SVD_GRF_FLAGS(&bars[i].vb_mapping), 0u);
    }
    /* firmware places BAR0: qvm moves the trapping region there (and writes
     * the value back through vb_breg); not decoded before firmware enables
     * memory: reads float high */
    wdt_cw(d, 0x10, 4, BAR);
    struct vpci_bar kept;
    assert_true(hq_bar(d, 0, &kept));
    assert_int_equal(kept.vb_mapping.guest.location, BAR);
    assert_int_equal(kept.vb_value, BAR);
    assert_int_equal(wdt_cr(d, 0x10, 4), BAR);
    assert_int_equal(wdt_mr(d, ESB_RELOAD, 2), 0xFFFFu);
    uint64_t far = 0;
    assert_int_equal(hq_access(d, false, QST_MEMORY, BAR + 16u, 4, &far), HQ_UNROUTED);
    assert_int_equal(hq_factory_count(), 1u); /* the constructor registered exactly one factory */
    hq_dev_free(d);
    /* options: a location is refused, a bad action is refused */
    const char *bad1[] = { "loc", "0x1000", NULL };
    const char *bad2[] = { "action", "explode", NULL };
    hq_log_clear();
    assert_null(hq_dev_new("svd-wdt-i6300esb", bad1, &rc));
    assert_true(hq_log_has("'loc'"));
    const char *pciloc[] = { "loc", "pci:5", NULL }; /* a PCI location is qvm's to give */
    d = hq_dev_new("svd-wdt-i6300esb", pciloc, &rc);
    assert_non_null(d);
    assert_true(hq_dev_is_pci(d));
    assert_int_equal(wdt_cr(d, 0x00, 4), 0x25ab8086u);
    hq_dev_free(d);
    assert_null(hq_dev_new("svd-wdt-i6300esb", bad2, &rc));
    assert_true(hq_log_has("'action'"));
    assert_int_equal(hq_live_timers(), 0u);
}

/* REQ: REQ-WDT-052 REQ-WDT-031 REQ-WDT-041.b */
static void linux_start_then_silence_terminates_at_heartbeat_not_before(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate");
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
    wdt_expect_bite(0, expiry, WDOG_ACTION_TERMINATE, 0u);
    /* qvm ends the guest; the device is not reset behind its back: TIMEOUT
     * shows, BAR0 and the enable stay as the guest left them */
    assert_int_equal(wdt_cr(d, 0x10, 4), BAR);
    assert_int_equal(wdt_mr(d, ESB_RELOAD, 2), ESB_WDT_TIMEOUT);
    hq_dev_free(d);
}

/* REQ: REQ-WDT-053.a REQ-WDT-053.b REQ-WDT-041.b */
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

/* REQ: REQ-WDT-053.c */
static void linux_stop_means_no_action(void **state)
{
    (void)state;
    hq_dev *d = dev("dump,terminate");
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

/* Read-back through the adapter: the command register keeps 0x0507 (INTx
 * disable gates the pin, status bit 3 still shows the interrupt), the WDT
 * config register keeps 0x0027 (Linux's 0x0003 reads back as written), and
 * the revision is the adapter's 0 (QEMU 7.2's i6300esb gives 0 too). */
/* REQ: REQ-WDT-010.a REQ-WDT-010.b REQ-WDT-011.a REQ-WDT-011.d REQ-WDT-012 REQ-WDT-048 */
static void command_config_and_revision_read_back(void **state)
{
    (void)state;
    hq_dev *d = dev("none");
    const unsigned pin = hq_dev_pin(d);
    assert_int_equal(wdt_cr(d, 0x04, 2), 0x0002u); /* what the firmware step wrote */
    assert_int_equal(wdt_cr(d, 0x00, 4), 0x25ab8086u);
    assert_int_equal(wdt_cr(d, 0x2C, 4), 0x25ab8086u); /* subsystem IDs */
    assert_int_equal(wdt_cr(d, 0x08, 1), 0x00u);       /* revision ID */
    assert_int_equal(wdt_cr(d, 0x08, 4), 0x08800000u);
    wdt_cw(d, 0x08, 1, 0x5Au); /* read-only */
    assert_int_equal(wdt_cr(d, 0x08, 4), 0x08800000u);
    /* command: only I/O, memory, bus master, SERR and INTx disable hold */
    wdt_cw(d, 0x04, 2, 0xFFFFu);
    assert_int_equal(wdt_cr(d, 0x04, 2), 0x0507u);
    wdt_cw(d, 0x04, 1, 0x02u); /* low byte only: INTx disable (high byte) kept */
    assert_int_equal(wdt_cr(d, 0x04, 2), 0x0502u);
    wdt_cw(d, 0x05, 1, 0x00u);
    assert_int_equal(wdt_cr(d, 0x04, 2), 0x0002u);
    /* WDT config 0x60 */
    wdt_cw(d, ESB_CONFIG_REG, 2, ESB_CFG_INT_DISABLED); /* Linux esb_initdevice() */
    assert_int_equal(wdt_cr(d, ESB_CONFIG_REG, 2), ESB_CFG_INT_DISABLED);
    wdt_cw(d, ESB_CONFIG_REG, 2, 0xFFFFu);
    assert_int_equal(wdt_cr(d, ESB_CONFIG_REG, 4), 0x00000027u);
    wdt_cw(d, ESB_CONFIG_REG + 1u, 1, 0xFFu); /* 0x61: nothing there */
    assert_int_equal(wdt_cr(d, ESB_CONFIG_REG, 2), 0x0027u);
    wdt_cw(d, ESB_CONFIG_REG, 2, 0x0000u); /* IRQ type, 1 kHz, output enabled */
    assert_int_equal(wdt_cr(d, ESB_CONFIG_REG, 2), 0x0000u);
    /* INTx disable in the command register keeps the stage-1 interrupt off the pin */
    preloads(d, 1u, 4u);
    const uint64_t t0 = hq_clock_now();
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE);
    wdt_clock_to(t0 + NS_1K);
    assert_true(hq_irq_level(pin));
    wdt_cw(d, 0x04, 2, 0x0402u);
    assert_int_equal(wdt_cr(d, 0x04, 2), 0x0402u);
    assert_false(hq_irq_level(pin));
    assert_int_equal(wdt_cr(d, 0x06, 2) & 0x8u, 0x8u); /* the status still shows it */
    wdt_cw(d, 0x04, 2, 0x0002u);
    assert_true(hq_irq_level(pin));
    assert_int_equal(wdt_bites(), 0u);
    hq_dev_free(d);
}

/* 0x68 FREERUN: after stage 2 acts, stage 1 starts again at that instant (an
 * interrupt and an action every cycle, at exact virtual times) instead of the
 * timer stopping; clearing FREERUN lets the running cycle finish, then stops. */
/* REQ: REQ-WDT-013.c REQ-WDT-017.a REQ-WDT-017.b REQ-WDT-017.c REQ-WDT-041.b REQ-WDT-041.d */
static void freerun_acts_every_cycle_until_cleared(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate"); /* no guest reset: the device keeps its state */
    const unsigned pin = hq_dev_pin(d);
    wdt_cw(d, ESB_CONFIG_REG, 2, 0x0000u); /* IRQ type: stage-1 ends show at the pin */
    preloads(d, 3u, 5u);
    const uint64_t cycle = 8u * NS_1K;
    const uint64_t t0 = hq_clock_now();
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE | ESB_WDT_FREERUN);
    assert_int_equal(wdt_cr(d, ESB_LOCK_REG, 1), ESB_WDT_ENABLE | ESB_WDT_FREERUN);
    for (unsigned k = 0; k < 3u; k++) {
        const uint64_t c = t0 + k * cycle;
        wdt_clock_to(c + 3u * NS_1K - 1u);
        assert_false(hq_irq_level(pin));
        assert_int_equal(wdt_bites(), k);
        wdt_clock_to(c + 3u * NS_1K);
        assert_true(hq_irq_level(pin)); /* stage 1 of this cycle ended */
        unlock(d);
        wdt_mw(d, ESB_GINTSR, 4, 1u);
        assert_false(hq_irq_level(pin));
        wdt_clock_to(c + cycle - 1u);
        assert_int_equal(wdt_bites(), k);
        wdt_clock_to(c + cycle);
        assert_int_equal(wdt_bites(), k + 1u);
        wdt_expect_bite(k, c + cycle, WDOG_ACTION_TERMINATE, 0u);
        assert_int_equal(wdt_mr(d, ESB_RELOAD, 2), ESB_WDT_TIMEOUT);
    }
    /* FREERUN cleared while enabled: the cycle under way runs out, then the timer stops */
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE);
    assert_int_equal(wdt_cr(d, ESB_LOCK_REG, 1), ESB_WDT_ENABLE);
    wdt_clock_to(t0 + 4u * cycle);
    assert_int_equal(wdt_bites(), 4u);
    assert_int_equal(wdt_bite_at(3)->at_ns, t0 + 4u * cycle);
    wdt_clock_to(t0 + 100u * cycle);
    assert_int_equal(wdt_bites(), 4u);
    hq_dev_free(d);

    /* action dump,fiq (QNX's): an interrupt to the guest with a dump, every
     * cycle; the guest keeps running and so does the free-running timer */
    wdt_bites_clear();
    d = dev("dump,fiq");
    preloads(d, 1u, 1u);
    const uint64_t t1 = hq_clock_now();
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE | ESB_WDT_FREERUN);
    wdt_clock_to(t1 + 2u * NS_1K);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t1 + 2u * NS_1K, WDOG_ACTION_INTR, WDOG_FLAG_DUMP);
    wdt_clock_to(t1 + 4u * NS_1K);
    assert_int_equal(wdt_bites(), 2u);
    wdt_expect_bite(1, t1 + 4u * NS_1K, WDOG_ACTION_INTR, WDOG_FLAG_DUMP);
    assert_int_equal(wdt_cr(d, ESB_LOCK_REG, 1), ESB_WDT_ENABLE | ESB_WDT_FREERUN);
    hq_dev_free(d);
}

/* 0x60 bit 5 (output disabled): stage 2 runs out -- TIMEOUT set -- but no
 * action is taken and nothing is logged; with the output enabled again the
 * next stage 2 acts. */
/* REQ: REQ-WDT-017.a REQ-WDT-012 REQ-WDT-041.b */
static void reboot_disabled_reaches_stage2_without_action(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate");
    const unsigned pin = hq_dev_pin(d);
    wdt_cw(d, ESB_CONFIG_REG, 2, ESB_CFG_OUT_DIS); /* IRQ type, 1 kHz, reboot disabled */
    assert_int_equal(wdt_cr(d, ESB_CONFIG_REG, 2), ESB_CFG_OUT_DIS);
    preloads(d, 2u, 3u);
    const uint64_t t0 = hq_clock_now();
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE);
    wdt_clock_to(t0 + 2u * NS_1K - 1u);
    assert_false(hq_irq_level(pin));
    wdt_clock_to(t0 + 2u * NS_1K);
    assert_true(hq_irq_level(pin)); /* stage 1 ended as usual */
    wdt_clock_to(t0 + 5u * NS_1K - 1u);
    assert_int_equal(wdt_mr(d, ESB_RELOAD, 2), 0u);
    wdt_clock_to(t0 + 5u * NS_1K);
    assert_int_equal(wdt_mr(d, ESB_RELOAD, 2), ESB_WDT_TIMEOUT); /* stage 2 reached its end */
    assert_int_equal(wdt_bites(), 0u);
    assert_false(hq_log_has("watchdog expired"));
    wdt_clock_to(t0 + 3600u * NS_S);
    assert_int_equal(wdt_bites(), 0u);
    /* nothing was carried out: the device kept its registers */
    assert_int_equal(wdt_cr(d, ESB_LOCK_REG, 1), ESB_WDT_ENABLE);
    assert_int_equal(wdt_cr(d, ESB_CONFIG_REG, 2), ESB_CFG_OUT_DIS);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("expiries acted on 0"));
    /* output enabled again: a ping restarts stage 1 and stage 2 now acts */
    wdt_cw(d, ESB_CONFIG_REG, 2, ESB_CFG_INT_DISABLED);
    const uint64_t t1 = hq_clock_now();
    linux_ping(d);
    wdt_clock_to(t1 + 5u * NS_1K - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t1 + 5u * NS_1K);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t1 + 5u * NS_1K, WDOG_ACTION_TERMINATE, 0u);
    hq_dev_free(d);
}

/* 0x60 bit 2 (1 MHz prescaler): a count lasts 2^5 clocks, so preloads of 1000
 * and 500 end stage 1 at 960 us and act at 1.44 ms, not one ns before. */
/* REQ: REQ-WDT-015 REQ-WDT-031 REQ-WDT-041.b */
static void prescaler_1mhz_acts_at_its_virtual_time_not_before(void **state)
{
    (void)state;
    hq_dev *d = dev("terminate");
    wdt_cw(d, ESB_CONFIG_REG, 2, ESB_CFG_PRE_1MHZ | ESB_CFG_INT_DISABLED);
    assert_int_equal(wdt_cr(d, ESB_CONFIG_REG, 2), ESB_CFG_PRE_1MHZ | ESB_CFG_INT_DISABLED);
    preloads(d, 1000u, 500u);
    const uint64_t t0 = hq_clock_now();
    wdt_cw(d, ESB_LOCK_REG, 1, ESB_WDT_ENABLE);
    wdt_clock_to(t0 + 1000u * NS_1M - 1u);
    assert_int_equal(wdt_mr(d, ESB_GINTSR, 4), 0u);
    wdt_clock_to(t0 + 1000u * NS_1M);
    assert_int_equal(wdt_mr(d, ESB_GINTSR, 4), 1u);
    const uint64_t expiry = t0 + 1500u * NS_1M;
    assert_int_equal(expiry - t0, 1440000u);
    wdt_clock_to(expiry - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(expiry);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, expiry, WDOG_ACTION_TERMINATE, 0u);
    hq_dev_free(d);
}

/* REQ: REQ-WDT-047 REQ-WDT-043 */
static void host_failures_and_control_misuse(void **state)
{
    (void)state;
    const char *o[] = { "action", "terminate", NULL };
    int rc = EOK;
    hq_fault_timer(true);
    assert_null(hq_dev_new("svd-wdt-i6300esb", o, &rc));
    assert_int_equal(rc, EIO);
    assert_true(hq_log_has("cannot create a guest timer"));
    hq_fault_timer(false);
    hq_dev *d = dev("terminate");
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_FIRST_OPTIDX, "none"), EBUSY);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_OPTIONS_END, NULL), EBUSY);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_PCI_BARS, NULL), 1);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_GEN_FDT, NULL), EOK); /* PCI: enumerated, no node */
    /* refused accesses (8-byte, outside BAR0) are counted in STATUS */
    uint64_t v = 0;
    assert_int_equal(hq_access(d, false, QST_PCI, 0x00, 8, &v), VRS_NORMAL);
    assert_int_equal(v, 0u);
    assert_int_equal(hq_access(d, true, QST_MEMORY, BAR + 0x10u, 4, &v), HQ_UNROUTED); /* past BAR0: no vdev */
    /* a state block of a type the device has no registers in: read 0, refused */
    v = 0x1234u;
    assert_int_equal(hq_access(d, false, 7u, ESB_RELOAD, 2, &v), VRS_NORMAL);
    assert_int_equal(v, 0u);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("action terminate, expiries acted on 0, refused accesses 2"));
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
        cmocka_unit_test_setup(linux_start_then_silence_terminates_at_heartbeat_not_before, test_setup),
        cmocka_unit_test_setup(linux_pinging_guest_never_sees_an_action, test_setup),
        cmocka_unit_test_setup(linux_stop_means_no_action, test_setup),
        cmocka_unit_test_setup(stage1_interrupt_reaches_the_pin, test_setup),
        cmocka_unit_test_setup(host_failures_and_control_misuse, test_setup),
        cmocka_unit_test_setup(command_config_and_revision_read_back, test_setup),
        cmocka_unit_test_setup(freerun_acts_every_cycle_until_cleared, test_setup),
        cmocka_unit_test_setup(reboot_disabled_reaches_stage2_without_action, test_setup),
        cmocka_unit_test_setup(prescaler_1mhz_acts_at_its_virtual_time_not_before, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
