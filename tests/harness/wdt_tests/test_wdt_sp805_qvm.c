/* Harness tests of vdev-svd-wdt-sp805.so: qvm's control sequence, options, the
 * FDT node (checked with libfdt and dtc), and Linux's sp805_wdt.c replayed
 * access by access against the adapter on the harness's virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "wdt_hq.h"

#define BASE 0x1c0f0000u
#define RATE 1000000u          /* frequency option: 1 MHz */
#define NS_S UINT64_C(1000000000)
#define WDTLOAD 0x000u
#define WDTVALUE 0x004u
#define WDTCONTROL 0x008u
#define WDTINTCLR 0x00Cu
#define WDTRIS 0x010u
#define WDTMIS 0x014u
#define WDTLOCK 0xC00u
#define WDTITCR 0xF00u
#define WDTITOP 0xF04u
#define ITOP_RES 0x1u
#define ITOP_INT 0x2u
#define UNLOCK 0x1ACCE551u
#define LOCK 0x1u
#define INT_ENABLE 0x1u
#define RESET_ENABLE 0x2u
#define PIN 36u

static const char *so_path(void)
{
    const char *p = getenv("HQ_WDT_SP805_SO");
    return (p != NULL) ? p : "build/qvm/vdev-svd-wdt-sp805.so";
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

static hq_dev *dev(const char *action, int *rc)
{
    const char *o[] = { "loc", "0x1c0f0000", "intr", "gic:36", "frequency", "1000000", "action", action, NULL };
    return hq_dev_new("svd-wdt-sp805", o, rc);
}

static uint32_t rd(hq_dev *d, uint32_t off)
{
    return wdt_mr(d, BASE + off, 4);
}

static void wr(hq_dev *d, uint32_t off, uint32_t v)
{
    wdt_mw(d, BASE + off, 4, v);
}

/* sp805_wdt.c wdt_setload(): load = rate/2 * timeout - 1. */
static uint32_t linux_load(unsigned timeout_s)
{
    return (RATE / 2u) * timeout_s - 1u;
}

/* sp805_wdt.c wdt_config(): start (ping false) or ping (true). */
static void linux_config(hq_dev *d, uint32_t load, bool ping)
{
    wr(d, WDTLOCK, UNLOCK);
    wr(d, WDTLOAD, load);
    wr(d, WDTINTCLR, 1u);
    if (!ping) {
        wr(d, WDTCONTROL, INT_ENABLE | RESET_ENABLE);
    }
    wr(d, WDTLOCK, LOCK);
    assert_int_equal(rd(d, WDTLOCK), 1u); /* flush read */
}

/* sp805_wdt.c wdt_disable() */
static void linux_stop(hq_dev *d)
{
    wr(d, WDTLOCK, UNLOCK);
    wr(d, WDTCONTROL, 0u);
    wr(d, WDTLOCK, LOCK);
    (void)rd(d, WDTLOCK);
}

/* AMBA bus probe: the PrimeCell ID, then the periph ID the driver matches. */
/* REQ: REQ-WDT-040 */
static void linux_probe_sees_an_sp805(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    uint32_t pid = 0, cid = 0;
    for (uint32_t i = 0; i < 4u; i++) {
        pid |= (rd(d, 0xFE0u + 4u * i) & 0xFFu) << (8u * i);
        cid |= (rd(d, 0xFF0u + 4u * i) & 0xFFu) << (8u * i);
    }
    assert_int_equal(cid, 0xB105F00Du);
    assert_int_equal(pid & 0x000FFFFFu, 0x00041805u); /* amba id/mask in sp805_wdt.c */
    assert_int_equal(rd(d, WDTCONTROL) & INT_ENABLE, 0u); /* not running at boot */
    assert_true(hq_dev_block_intact(d));
    assert_int_equal(hq_factory_count(), 1u); /* the constructor registered exactly one factory */
    hq_dev_free(d);
}

/* REQ: REQ-WDT-050 REQ-WDT-031 REQ-WDT-041.b */
static void linux_start_then_silence_terminates_at_timeout_not_before(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    const uint32_t load = linux_load(5u);
    const uint64_t t0 = hq_clock_now();
    linux_config(d, load, false);
    /* half the timeout: interrupt (the driver's pretimeout point), no action */
    wdt_clock_to(t0 + 5u * NS_S / 2u - 1u);
    assert_false(hq_irq_level(PIN));
    wdt_clock_to(t0 + 5u * NS_S / 2u);
    assert_true(hq_irq_level(PIN));
    assert_int_equal(rd(d, WDTRIS), 1u);
    wdt_clock_to(t0 + 5u * NS_S - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t0 + 5u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t0 + 5u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    assert_true(hq_log_has("terminating the guest"));
    assert_int_equal(hq_logf_count(), 1u); /* an error line: vdev_logf, not qvm_report */
    assert_int_equal(hq_report_count(), 0u);
    /* qvm ends the guest; the device is not reset behind its back, and the
     * reset output, a level, acts once */
    assert_int_equal(rd(d, WDTCONTROL), INT_ENABLE | RESET_ENABLE);
    wdt_clock_to(t0 + 60u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    hq_dev_free(d);
}

/* REQ: REQ-WDT-051.a REQ-WDT-051.b REQ-WDT-051.c REQ-WDT-041.b */
static void linux_pinging_guest_never_sees_an_action(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    const uint32_t load = linux_load(5u);
    const uint64_t t0 = hq_clock_now();
    linux_config(d, load, false);
    const unsigned edges = hq_irq_edges(PIN);
    for (unsigned i = 1; i <= 100u; i++) { /* watchdogd: ping every 2 s for 200 s */
        wdt_clock_to(t0 + (uint64_t)i * 2u * NS_S);
        /* wdt_timeleft(): value (+ load + 1 while no interrupt) / rate */
        uint64_t left = rd(d, WDTVALUE);
        if ((rd(d, WDTRIS) & 1u) == 0u) {
            left += (uint64_t)load + 1u;
        }
        assert_int_equal(left, 3u * RATE - 1u); /* 5 s timeout, 2 s since the last ping */
        assert_int_equal(left / RATE, 2u);       /* what the driver reports (it truncates) */
        linux_config(d, load, true);
    }
    assert_int_equal(wdt_bites(), 0u);
    assert_int_equal(hq_irq_edges(PIN), edges);
    /* stop, then silence: still nothing */
    linux_stop(d);
    wdt_clock_to(t0 + 1000u * NS_S);
    assert_int_equal(wdt_bites(), 0u);
    /* started again and left alone: terminate at exactly 5 s */
    const uint64_t t1 = hq_clock_now();
    linux_config(d, load, false);
    wdt_clock_to(t1 + 10u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t1 + 5u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    hq_dev_free(d);
}

/* REQ: REQ-WDT-041.b REQ-WDT-041.c */
static void dump_and_none_actions(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("dump,terminate", &rc);
    assert_non_null(d);
    uint64_t t0 = hq_clock_now();
    linux_config(d, linux_load(1u), false);
    wdt_clock_to(t0 + NS_S);
    assert_int_equal(wdt_bites(), 1u);
    assert_int_equal(wdt_bite_at(0)->action, WDOG_ACTION_TERMINATE);
    assert_int_equal(wdt_bite_at(0)->flags, WDOG_FLAG_DUMP);
    hq_dev_free(d);

    wdt_bites_clear();
    hq_log_clear();
    d = dev("none", &rc);
    assert_non_null(d);
    t0 = hq_clock_now();
    linux_config(d, linux_load(1u), false);
    wdt_clock_to(t0 + 10u * NS_S);
    assert_int_equal(wdt_bites(), 0u); /* logged only, once per assertion */
    assert_int_equal(hq_log_count(), 1u);
    assert_true(hq_log_has("action none"));
    assert_int_equal(rd(d, WDTCONTROL), INT_ENABLE | RESET_ENABLE); /* guest still running */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("expiries acted on 1"));
    hq_dev_free(d);
}

/* REQ: REQ-WDT-042 REQ-WDT-041.a REQ-WDT-041.b */
static void options_are_validated(void **state)
{
    (void)state;
    struct {
        const char *o[12];
        const char *named;
    } cases[] = {
        { { "loc", "pci:3", "intr", "gic:36", NULL }, "'loc'" },
        { { "action", "dump", NULL }, "'action'" },   /* QNX's syntax: dump,terminate */
        { { "action", "reset", NULL }, "'action'" },  /* no such watchdog service */
        { { "action", "dump,none", NULL }, "'action'" },
        { { "loc", "0x1c0f0000", "intr", "gic:36", "frequency", "0", NULL }, "'frequency'" },
        { { "loc", "0x1c0f0000", "intr", "gic:36", "frequency", "1000000001", NULL }, "'frequency'" },
        { { "loc", "0x1c0f0000", "intr", "gic:36", "frequency", "12x", NULL }, "'frequency'" },
        { { "loc", "0x1c0f0000", "intr", "gic:36", "action", "reboot", NULL }, "'action'" },
        { { "loc", "0x1c0f0000", "intr", "gic:36", "action", "", NULL }, "'action'" },
        { { "loc", "0xfffffffffffff800", "intr", "gic:36", NULL }, "'loc'" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hq_log_clear();
        int rc = EOK;
        hq_dev *d = hq_dev_new("svd-wdt-sp805", cases[i].o, &rc);
        if (d != NULL || !hq_log_has(cases[i].named)) {
            print_error("case %zu\n", i);
            hq_log_dump();
        }
        assert_null(d);
        assert_int_not_equal(rc, EOK);
        assert_true(hq_log_has(cases[i].named));
        assert_int_equal(hq_live_timers(), 0u);
    }
    /* QNX's defaults, no option at all: loc 0x1C0F0000 (4 KiB window), no
     * interrupt, 25 MHz (40 ns a count), terminate */
    const char *o[] = { NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-wdt-sp805", o, &rc);
    assert_non_null(d);
    assert_int_equal(hq_dev_loc(d), 0x1C0F0000u);
    assert_int_equal(hq_dev_vdev(d)->v_block.length, 0x1000u);
    assert_null(hq_dev_vdev(d)->v_intr.pic);
    const uint64_t t0 = hq_clock_now();
    wr(d, WDTLOAD, 999u);
    wr(d, WDTCONTROL, INT_ENABLE | RESET_ENABLE);
    wdt_clock_to(t0 + 2000u * 40u - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t0 + 2000u * 40u);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t0 + 2000u * 40u, WDOG_ACTION_TERMINATE, 0u);
    /* no interrupt: the FDT node has none either; the clock is the 25 MHz one */
    static uint8_t blob[4096];
    assert_int_equal(hq_gen_fdt(d, blob, sizeof blob), EOK);
    const int off = fdt_path_offset(blob, "/watchdog@1c0f0000");
    assert_true(off >= 0);
    int len = 0;
    assert_null(fdt_getprop(blob, off, "interrupts", &len));
    /* the clock is qvm's (gfdt_get_clock): the node's two clocks are its phandle */
    const int clk = fdt_path_offset(blob, "/qvm-clk-25000000");
    assert_true(clk >= 0);
    const fdt32_t *hz = fdt_getprop(blob, clk, "clock-frequency", &len);
    assert_non_null(hz);
    assert_int_equal(fdt32_to_cpu(*hz), 25000000u);
    const fdt32_t *clocks = fdt_getprop(blob, off, "clocks", &len);
    assert_non_null(clocks);
    assert_int_equal(len, 8);
    assert_int_equal(fdt32_to_cpu(clocks[0]), fdt_get_phandle(blob, clk));
    assert_int_equal(fdt32_to_cpu(clocks[1]), fdt_get_phandle(blob, clk));
    hq_dev_free(d);
}

/* REQ: REQ-WDT-043 */
static void bad_accesses_read_zero_and_change_nothing(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    wr(d, WDTLOAD, 1234u);
    assert_int_equal(wdt_mr(d, BASE + WDTLOAD, 2), 0u);     /* 16-bit: not decoded */
    assert_int_equal(wdt_mr(d, BASE + 0x1u, 1), 0u);
    wdt_mw(d, BASE + WDTLOAD, 2, 5u);
    uint64_t v = 0;
    assert_int_equal(hq_access(d, false, QST_MEMORY, BASE + WDTLOAD, 8, &v), VRS_NORMAL);
    assert_int_equal(v, 0u);
    /* outside the page: no region of the device, qvm delivers it to no vdev */
    assert_int_equal(hq_access(d, true, QST_MEMORY, BASE + 0x1000u, 4, &v), HQ_UNROUTED);
    assert_int_equal(hq_access(d, false, QST_MEMORY, BASE + 0xFFEu, 4, &v), HQ_UNROUTED); /* crosses its end */
    assert_int_equal(rd(d, WDTLOAD), 1234u);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("refused accesses 4"));
    hq_dev_free(d);
}

/* REQ: REQ-WDT-044.a REQ-WDT-044.c */
static void fdt_node_as_linux_binding_expects(void **state)
{
    (void)state;
    int rc = -1;
    const char *o[] = { "loc", "0x1c0f0000", "intr", "gic:36", "frequency", "24000000", NULL };
    hq_dev *d = hq_dev_new("svd-wdt-sp805", o, &rc);
    assert_non_null(d);
    static uint8_t blob[4096];
    assert_int_equal(hq_gen_fdt(d, blob, sizeof blob), EOK);
    assert_int_equal(fdt_check_header(blob), 0);
    const int off = fdt_path_offset(blob, "/watchdog@1c0f0000");
    assert_true(off >= 0);
    assert_int_equal(fdt_stringlist_count(blob, off, "compatible"), 2);
    assert_string_equal(fdt_stringlist_get(blob, off, "compatible", 0, NULL), "arm,sp805");
    assert_string_equal(fdt_stringlist_get(blob, off, "compatible", 1, NULL), "arm,primecell");
    int len = 0;
    const fdt32_t *reg = fdt_getprop(blob, off, "reg", &len);
    assert_non_null(reg);
    assert_int_equal(len, 16);
    assert_int_equal(fdt32_to_cpu(reg[1]), BASE);
    assert_int_equal(fdt32_to_cpu(reg[3]), 0x1000u);
    const fdt32_t *irq = fdt_getprop(blob, off, "interrupts", &len);
    assert_int_equal(len, 12);
    assert_int_equal(fdt32_to_cpu(irq[0]), 0u);
    assert_int_equal(fdt32_to_cpu(irq[1]), PIN - 32u);
    assert_int_equal(fdt32_to_cpu(irq[2]), 4u);
    assert_int_equal(fdt_stringlist_count(blob, off, "clock-names"), 2);
    assert_string_equal(fdt_stringlist_get(blob, off, "clock-names", 0, NULL), "wdog_clk");
    assert_string_equal(fdt_stringlist_get(blob, off, "clock-names", 1, NULL), "apb_pclk");
    const fdt32_t *clk = fdt_getprop(blob, off, "clocks", &len);
    assert_int_equal(len, 8);
    const int coff = fdt_node_offset_by_phandle(blob, fdt32_to_cpu(clk[0]));
    assert_true(coff >= 0);
    assert_int_equal(fdt_node_offset_by_phandle(blob, fdt32_to_cpu(clk[1])), coff);
    assert_int_equal(fdt_node_check_compatible(blob, coff, "fixed-clock"), 0);
    const fdt32_t *f = fdt_getprop(blob, coff, "clock-frequency", &len);
    assert_int_equal(fdt32_to_cpu(*f), 24000000u);
    const fdt32_t *cc = fdt_getprop(blob, coff, "#clock-cells", &len);
    assert_int_equal(fdt32_to_cpu(*cc), 0u);
    /* and dtc reads it back */
    char path[] = "/tmp/wdt_sp805_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(blob, 1, fdt_totalsize(blob), fp), fdt_totalsize(blob));
    fclose(fp);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "dtc -q -I dtb -O dts %s | grep -q 'arm,sp805'", path);
    assert_int_equal(system(cmd), 0);
    remove(path);
    hq_dev_free(d);
}

/* `intr gic:N` is a GIC interrupt ID: gic:32 is SPI 0, gic:16 PPI 0, and
 * gic:0 (an SGI) has no device-tree specifier, so GEN_FDT refuses it with a
 * log line instead of writing the specifier gic:32 gets. */
/* REQ: REQ-FDT-009 REQ-WDT-044.a */
/* FM: FM-FDT-001 */
static void fdt_interrupt_follows_the_gic_numbering(void **state)
{
    (void)state;
    static const struct {
        const char *intr;
        int rc;
        uint32_t type, num;
    } cases[] = {
        { "gic:32", EOK, 0u, 0u }, { "gic:16", EOK, 1u, 0u },       { "gic:31", EOK, 1u, 15u },
        { "gic:63", EOK, 0u, 31u }, { "gic:0", EINVAL, 0u, 0u }, { "gic:15", EINVAL, 0u, 0u },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = -1;
        const char *o[] = { "loc", "0x1c0f0000", "intr", cases[i].intr, NULL };
        hq_dev *d = hq_dev_new("svd-wdt-sp805", o, &rc);
        assert_non_null(d);
        static uint8_t blob[4096];
        assert_int_equal(hq_gen_fdt(d, blob, sizeof blob), cases[i].rc);
        if (cases[i].rc == EOK) {
            const int off = fdt_path_offset(blob, "/watchdog@1c0f0000");
            assert_true(off >= 0);
            int len = 0;
            const fdt32_t *irq = fdt_getprop(blob, off, "interrupts", &len);
            assert_int_equal(len, 12);
            assert_int_equal(fdt32_to_cpu(irq[0]), cases[i].type);
            assert_int_equal(fdt32_to_cpu(irq[1]), cases[i].num);
            assert_int_equal(fdt32_to_cpu(irq[2]), 4u);
        } else {
            assert_true(hq_log_has("is not a GIC PPI or SPI"));
        }
        hq_dev_free(d);
    }
}

/* The whole PeriphID/PCellID words, not just the bits the AMBA match uses:
 * PeriphID2 0x14 (revision 1, designer ARM), PeriphID3 0x00, upper 24 bits
 * of every ID register 0; writes (unlocked) change none of them. */
/* REQ: REQ-WDT-040 REQ-WDT-020.a REQ-WDT-020.b */
static void id_registers_read_whole(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    const uint32_t want[8] = { 0x05u, 0x18u, 0x14u, 0x00u, 0x0Du, 0xF0u, 0x05u, 0xB1u };
    uint32_t pid = 0;
    for (uint32_t i = 0; i < 8u; i++) {
        assert_int_equal(rd(d, 0xFE0u + 4u * i), want[i]);
        if (i < 4u) {
            pid |= rd(d, 0xFE0u + 4u * i) << (8u * i);
        }
    }
    assert_int_equal(pid, 0x00141805u);
    assert_int_equal(rd(d, WDTLOCK), 0u);
    for (uint32_t i = 0; i < 8u; i++) {
        wr(d, 0xFE0u + 4u * i, 0xFFFFFFFFu);
    }
    for (uint32_t i = 0; i < 8u; i++) {
        assert_int_equal(rd(d, 0xFE0u + 4u * i), want[i]);
    }
    hq_dev_free(d);
}

/* WdogMIS = RIS AND INTEN, read through the adapter, and the pin follows MIS. */
/* REQ: REQ-WDT-023 REQ-WDT-022.a */
static void mis_is_ris_masked_by_inten(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    const uint64_t t0 = hq_clock_now();
    wr(d, WDTLOAD, 999u); /* 1000 clocks: 1 ms at 1 MHz */
    wr(d, WDTCONTROL, INT_ENABLE);
    wdt_clock_to(t0 + 1000000u - 1u);
    assert_int_equal(rd(d, WDTRIS), 0u);
    assert_int_equal(rd(d, WDTMIS), 0u);
    assert_false(hq_irq_level(PIN));
    wdt_clock_to(t0 + 1000000u);
    assert_int_equal(rd(d, WDTRIS), 1u);
    assert_int_equal(rd(d, WDTMIS), 1u);
    assert_true(hq_irq_level(PIN));
    /* INTEN clear: masked and the line drops, the raw status stays */
    wr(d, WDTCONTROL, 0u);
    assert_int_equal(rd(d, WDTRIS), 1u);
    assert_int_equal(rd(d, WDTMIS), 0u);
    assert_false(hq_irq_level(PIN));
    wdt_clock_to(t0 + NS_S);
    assert_int_equal(rd(d, WDTMIS), 0u);
    assert_false(hq_irq_level(PIN));
    /* INTEN set again: the pending interrupt shows again */
    wr(d, WDTCONTROL, INT_ENABLE);
    assert_int_equal(rd(d, WDTMIS), 1u);
    assert_true(hq_irq_level(PIN));
    wr(d, WDTINTCLR, 1u);
    assert_int_equal(rd(d, WDTRIS), 0u);
    assert_int_equal(rd(d, WDTMIS), 0u);
    assert_false(hq_irq_level(PIN));
    assert_int_equal(wdt_bites(), 0u); /* RESEN never set */
    hq_dev_free(d);
}

/* Control with RESEN clear (INTEN only): the interrupt is raised, the counter
 * keeps reloading, but no action ever comes; setting RESEN later acts at the
 * next period boundary. */
/* REQ: REQ-WDT-022.b REQ-WDT-023 REQ-WDT-041.b */
static void resen_clear_interrupts_but_never_acts(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    const uint64_t t0 = hq_clock_now();
    wr(d, WDTLOCK, UNLOCK);
    wr(d, WDTLOAD, linux_load(1u)); /* period 0.5 s */
    wr(d, WDTINTCLR, 1u);
    wr(d, WDTCONTROL, INT_ENABLE);
    wr(d, WDTLOCK, LOCK);
    wdt_clock_to(t0 + NS_S / 2u - 1u);
    assert_false(hq_irq_level(PIN));
    wdt_clock_to(t0 + NS_S / 2u);
    assert_true(hq_irq_level(PIN));
    const unsigned edges = hq_irq_edges(PIN);
    wdt_clock_to(t0 + 1000u * NS_S);
    assert_int_equal(wdt_bites(), 0u);
    assert_false(hq_log_has("watchdog expired"));
    assert_true(hq_irq_level(PIN)); /* a level: still up, no new edge */
    assert_int_equal(hq_irq_edges(PIN), edges);
    assert_int_equal(rd(d, WDTRIS), 1u);
    assert_int_equal(rd(d, WDTCONTROL), INT_ENABLE); /* not reset: still running as programmed */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("expiries acted on 0"));
    /* RESEN set while running: the count carried on, the next expiry acts */
    wdt_clock_to(t0 + 1000u * NS_S + NS_S / 10u);
    wr(d, WDTLOCK, UNLOCK);
    wr(d, WDTCONTROL, INT_ENABLE | RESET_ENABLE);
    wr(d, WDTLOCK, LOCK);
    wdt_clock_to(t0 + 1000u * NS_S + NS_S / 2u - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t0 + 1000u * NS_S + NS_S / 2u);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t0 + 1000u * NS_S + NS_S / 2u, WDOG_ACTION_TERMINATE, 0u);
    hq_dev_free(d);
}

/* While locked every write but Lock is dropped: Load, Control (no stop),
 * IntClr (no ping), ITCR and ITOP; a wrong key keeps it locked. */
/* REQ: REQ-WDT-025.b REQ-WDT-025.c REQ-WDT-041.b */
static void locked_writes_are_dropped(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    const uint32_t load = linux_load(5u);
    const uint64_t t0 = hq_clock_now();
    linux_config(d, load, false); /* started, then locked */
    wr(d, WDTLOAD, 1u);
    wr(d, WDTCONTROL, 0u);
    wr(d, WDTITCR, 1u);
    wr(d, WDTITOP, ITOP_INT | ITOP_RES);
    assert_int_equal(rd(d, WDTLOAD), load);
    assert_int_equal(rd(d, WDTCONTROL), INT_ENABLE | RESET_ENABLE);
    assert_int_equal(rd(d, WDTITCR), 0u);
    assert_false(hq_irq_level(PIN));
    assert_int_equal(wdt_bites(), 0u);
    wr(d, WDTLOCK, UNLOCK ^ 1u); /* wrong key: locks */
    assert_int_equal(rd(d, WDTLOCK), 1u);
    wr(d, WDTLOAD, 1u);
    assert_int_equal(rd(d, WDTLOAD), load);
    /* IntClr while locked is no ping: the action still comes at 5 s */
    wdt_clock_to(t0 + 5u * NS_S / 2u);
    assert_true(hq_irq_level(PIN));
    wdt_clock_to(t0 + 4u * NS_S);
    wr(d, WDTINTCLR, 1u);
    assert_int_equal(rd(d, WDTRIS), 1u);
    assert_true(hq_irq_level(PIN));
    wdt_clock_to(t0 + 5u * NS_S - 1u);
    assert_int_equal(wdt_bites(), 0u);
    wdt_clock_to(t0 + 5u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, t0 + 5u * NS_S, WDOG_ACTION_TERMINATE, 0u);
    /* unlocked, the same writes take effect */
    wr(d, WDTLOCK, UNLOCK);
    assert_int_equal(rd(d, WDTLOCK), 0u);
    wr(d, WDTCONTROL, 0u);
    wr(d, WDTINTCLR, 1u);
    assert_int_equal(rd(d, WDTCONTROL), 0u);
    assert_int_equal(rd(d, WDTRIS), 0u);
    assert_false(hq_irq_level(PIN));
    /* the ITOP value written while locked was dropped: test mode drives nothing */
    wr(d, WDTITCR, 1u);
    assert_int_equal(rd(d, WDTITCR), 1u);
    assert_false(hq_irq_level(PIN));
    assert_int_equal(wdt_bites(), 1u);
    wr(d, WDTITCR, 0u);
    wdt_clock_to(t0 + 100u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    hq_dev_free(d);
}

/* ITCR bit 0: ITOP drives the interrupt pin (bit 1) and the reset output
 * (bit 0, carried out as the instance's action once per assertion) through
 * the adapter; outside test mode ITOP drives nothing; a guest reset caused by
 * the test-mode reset output leaves test mode. */
/* REQ: REQ-WDT-026 REQ-WDT-041.b REQ-WDT-028 */
static void integration_test_mode_drives_pin_and_action(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("dump,terminate", &rc);
    assert_non_null(d);
    wr(d, WDTITOP, ITOP_INT); /* not in test mode: nothing at the pin */
    assert_false(hq_irq_level(PIN));
    const unsigned edges = hq_irq_edges(PIN);
    wr(d, WDTITCR, 1u);
    assert_int_equal(rd(d, WDTITCR), 1u);
    assert_true(hq_irq_level(PIN));
    assert_int_equal(hq_irq_edges(PIN), edges + 1u);
    assert_int_equal(rd(d, WDTITOP), 0u); /* write-only */
    wr(d, WDTITOP, 0u);
    assert_false(hq_irq_level(PIN));
    assert_int_equal(wdt_bites(), 0u);
    wr(d, WDTITOP, ITOP_RES);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, hq_clock_now(), WDOG_ACTION_TERMINATE, WDOG_FLAG_DUMP);
    assert_false(hq_irq_level(PIN));
    wr(d, WDTITOP, ITOP_RES); /* still asserted: no second action */
    assert_int_equal(wdt_bites(), 1u);
    wr(d, WDTITOP, 0u);
    wr(d, WDTITOP, ITOP_RES); /* a new assertion */
    assert_int_equal(wdt_bites(), 2u);
    wr(d, WDTITCR, 0u); /* counter stopped: its outputs are low */
    assert_int_equal(rd(d, WDTITCR), 0u);
    assert_false(hq_irq_level(PIN));
    assert_int_equal(wdt_bites(), 2u);
    hq_dev_free(d);

    /* action fiq (QNX's): an interrupt to the guest through qvm's watchdog
     * service; the guest and the device keep running, test mode included */
    wdt_bites_clear();
    d = dev("fiq", &rc);
    assert_non_null(d);
    wr(d, WDTITCR, 1u);
    wr(d, WDTITOP, ITOP_INT | ITOP_RES);
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, hq_clock_now(), WDOG_ACTION_INTR, 0u);
    assert_true(hq_irq_level(PIN));
    assert_int_equal(rd(d, WDTITCR), 1u);
    hq_dev_free(d);
}

/* REQ: REQ-WDT-047 REQ-WDT-044.b */
static void host_failures_and_control_misuse(void **state)
{
    (void)state;
    int rc = EOK;
    /* no guest timer: OPTIONS_END fails, nothing left behind */
    hq_fault_timer(true);
    assert_null(dev("terminate", &rc));
    assert_int_equal(rc, EIO);
    assert_true(hq_log_has("cannot create a guest timer"));
    hq_fault_timer(false);
    assert_int_equal(hq_live_timers(), 0u);

    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    /* options and OPTIONS_END after OPTIONS_END are refused */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_FIRST_OPTIDX + 1u, "none"), EBUSY);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_OPTIONS_END, NULL), EBUSY);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_GEN_ACPI, NULL), EOK);
    /* GEN_FDT with no tree to write into: refused with a log line */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_GEN_FDT, NULL), EIO);
    assert_true(hq_log_has("qvm gave no FDT clock of 1000000 Hz"));
    /* a write whose value qvm cannot fetch is not performed */
    wr(d, WDTLOAD, 77u);
    hq_fault_countdown(1);
    uint64_t v = 5u;
    (void)hq_access(d, true, QST_MEMORY, BASE + WDTLOAD, 4, &v);
    assert_non_null(hq_fault_fired());
    hq_fault_countdown(0);
    assert_int_equal(rd(d, WDTLOAD), 77u);
    /* one refusal of the timer is retried at once: armed, nothing logged */
    hq_log_clear();
    wr(d, WDTCONTROL, INT_ENABLE | RESET_ENABLE); /* timer armed ~77 us ahead */
    uint64_t before = 0;
    assert_true(hq_timer_armed(d, &before));
    bool refused_once = false;
    for (long n = 1; n < 8 && !refused_once; n++) {
        hq_fault_countdown(n);
        uint64_t x = 50u - (uint64_t)n; /* each load sooner: the timer must be re-armed */
        (void)hq_access(d, true, QST_MEMORY, BASE + WDTLOAD, 4, &x); /* fetch, then arm */
        const char *what = hq_fault_fired();
        refused_once = (what != NULL) && (strcmp(what, "guest_timer_notify") == 0);
        hq_fault_countdown(0);
    }
    assert_true(refused_once);
    uint64_t after = 0;
    assert_true(hq_timer_armed(d, &after));
    assert_true(after < before); /* the sooner deadline was armed on the retry */
    assert_false(hq_log_has("cannot arm"));
    assert_int_equal(wdt_bites(), 0u);
    const uint64_t t0 = hq_clock_now();
    linux_config(d, linux_load(1u), false);
    wdt_clock_to(t0 + 2u * NS_S);
    assert_int_equal(wdt_bites(), 1u);
    hq_dev_free(d);
}

/* Fail-safe: a watchdog whose expiry can no longer be timed (qvm refuses
 * the timer, twice) does not wait for a guest that may never touch it
 * again: it carries out its configured action at once, logged. */
/* REQ: REQ-WDT-060 */
/* FM: FM-QVM-001 */
static void timer_refused_is_fail_safe(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    hq_log_clear();
    wr(d, WDTLOAD, linux_load(5u));
    hq_fault_timer_notify(true);
    wr(d, WDTCONTROL, INT_ENABLE | RESET_ENABLE); /* counting: needs its timer */
    hq_fault_timer_notify(false);
    assert_true(hq_log_has("cannot arm the guest timer"));
    assert_true(hq_log_has("watchdog cannot be timed: carrying out its action now (fail-safe)"));
    assert_int_equal(wdt_bites(), 1u);
    wdt_expect_bite(0, hq_clock_now(), WDOG_ACTION_TERMINATE, 0u);
    /* A device that is not counting needs no timer: no action. */
    wdt_bites_clear();
    wr(d, WDTCONTROL, 0u);
    hq_fault_timer_notify(true);
    wr(d, WDTLOAD, linux_load(5u));
    hq_fault_timer_notify(false);
    assert_int_equal(wdt_bites(), 0u);
    hq_dev_free(d);
}

/* The action's lateness: from the expiry on the virtual clock to the bite,
 * and on the host from the dispatch of the timer callback to the bite, over
 * many expiries; printed, and bounded (0 virtual ns; under 1 ms of host
 * time, a bound with a wide margin for a shared CI machine). */
/* REQ: REQ-WDT-061 */
static void action_lateness_is_measured_and_bounded(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    uint64_t worst = 0;
    uint64_t sum = 0;
    const unsigned n = 200u;
    for (unsigned i = 0; i < n; i++) {
        wdt_bites_clear();
        const uint64_t t0 = hq_clock_now();
        linux_config(d, linux_load(1u), false); /* reset action 1 s after the start */
        wdt_clock_to(t0 + 2u * NS_S);
        assert_int_equal(wdt_bites(), 1u);
        const hq_bite *b = wdt_bite_at(0);
        assert_true(b->from_timer);
        assert_int_equal(b->virt_late_ns, 0u); /* at the virtual expiry itself */
        assert_int_equal(b->at_ns, t0 + NS_S);
        sum += b->host_late_ns;
        if (b->host_late_ns > worst) {
            worst = b->host_late_ns;
        }
    }
    /* The bound is for a native run; under valgrind or an emulated CPU
     * (HQ_VALGRIND set) host time says little, so the bound is 100x. */
    const bool slowed = getenv("HQ_VALGRIND") != NULL;
    const uint64_t bound = slowed ? UINT64_C(100000000) : UINT64_C(1000000);
    printf("sp805 action lateness over %u expiries: virtual 0 ns; host (timer dispatch to wdog_bite) mean %llu ns, "
           "max %llu ns (bound %llu ns%s)\n",
           n, (unsigned long long)(sum / n), (unsigned long long)worst, (unsigned long long)bound,
           slowed ? ", instrumented run" : "");
    assert_true(worst < bound);
    hq_dev_free(d);
}

/* The frame arms the instance timer at the deadline every engine call
 * reports (fx.deadline): 1000 clocks at 1 MHz after the start is t0 + 1 ms;
 * a sooner expiry re-arms it sooner; a stopped counter asks for nothing, and
 * the notification already pending then fires without an effect. */
/* REQ: REQ-WDT-031 */
static void frame_arms_the_timer_at_the_engine_deadline(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = dev("terminate", &rc);
    assert_non_null(d);
    assert_false(hq_timer_armed(d, NULL)); /* not counting: no deadline */
    const uint64_t t0 = hq_clock_now();
    wr(d, WDTLOAD, 999u);
    wr(d, WDTCONTROL, INT_ENABLE | RESET_ENABLE);
    uint64_t at = 0;
    assert_true(hq_timer_armed(d, &at));
    assert_int_equal(at, t0 + 1000000u);
    wdt_clock_to(t0 + 100000u);
    wr(d, WDTLOAD, 499u); /* reload: the period restarts, 500 clocks from now */
    assert_true(hq_timer_armed(d, &at));
    assert_int_equal(at, t0 + 600000u);
    wdt_clock_to(t0 + 600000u - 1u);
    assert_false(hq_irq_level(PIN));
    wdt_clock_to(t0 + 600000u);
    assert_true(hq_irq_level(PIN)); /* first expiry: the interrupt */
    assert_true(hq_timer_armed(d, &at));
    assert_int_equal(at, t0 + 1100000u); /* the second one, the action */
    wr(d, WDTCONTROL, 0u); /* stopped */
    wdt_clock_to(t0 + 1100000u);
    assert_false(hq_timer_armed(d, NULL));
    assert_int_equal(wdt_bites(), 0u);
    hq_dev_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(linux_probe_sees_an_sp805, test_setup),
        cmocka_unit_test_setup(linux_start_then_silence_terminates_at_timeout_not_before, test_setup),
        cmocka_unit_test_setup(linux_pinging_guest_never_sees_an_action, test_setup),
        cmocka_unit_test_setup(dump_and_none_actions, test_setup),
        cmocka_unit_test_setup(options_are_validated, test_setup),
        cmocka_unit_test_setup(bad_accesses_read_zero_and_change_nothing, test_setup),
        cmocka_unit_test_setup(fdt_node_as_linux_binding_expects, test_setup),
        cmocka_unit_test_setup(fdt_interrupt_follows_the_gic_numbering, test_setup),
        cmocka_unit_test_setup(host_failures_and_control_misuse, test_setup),
        cmocka_unit_test_setup(id_registers_read_whole, test_setup),
        cmocka_unit_test_setup(mis_is_ris_masked_by_inten, test_setup),
        cmocka_unit_test_setup(resen_clear_interrupts_but_never_acts, test_setup),
        cmocka_unit_test_setup(locked_writes_are_dropped, test_setup),
        cmocka_unit_test_setup(integration_test_mode_drives_pin_and_action, test_setup),
        cmocka_unit_test_setup(frame_arms_the_timer_at_the_engine_deadline, test_setup),
        cmocka_unit_test_setup(timer_refused_is_fail_safe, test_setup),
        cmocka_unit_test_setup(action_lateness_is_measured_and_bounded, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
