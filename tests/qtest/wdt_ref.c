/* Host stand-in for the qtest comparison: a PC with up to four i6300ESB
 * engines on PCI bus 0 (devices 5..8), an IB700 engine at I/O port 0x441, a
 * virtual clock that only moves when told to run, and a line protocol the
 * comparison script (wdt_qtest.py) speaks to it exactly as it speaks qtest
 * to QEMU:
 *
 *   cfgr DEV OFF SIZE        -> OK 0xVAL     configuration read
 *   cfgw DEV OFF SIZE VAL    -> OK           configuration write
 *   mr ADDR SIZE             -> OK 0xVAL     memory read, routed by BAR0 decode
 *   mw ADDR SIZE VAL         -> OK           memory write, routed by BAR0 decode
 *   pr PORT SIZE             -> OK 0xVAL     I/O read (the IB700 decodes its ports; others float high)
 *   pw PORT SIZE VAL         -> OK           I/O write
 *   now                      -> OK NS
 *   run                      -> FIRE NS | IDLE   run to the next action (QEMU: cont until WATCHDOG)
 *   step_to NS               -> OK NS        run the clock to NS (to meet QEMU where its VM stopped)
 *
 * An expiry with action "pause" (what the QEMU side is started with) stops
 * the clock at the expiry instant, as QEMU stops the VM. An IB700 write that
 * expires at once (a 0 s timeout) is an action the next `run` reports at
 * the current instant, as QEMU's VM stops as soon as it is continued.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safevdev/wdt_i6300esb.h"
#include "safevdev/wdt_ib700.h"

#define NDEV 4u
#define FIRST_SLOT 5u

static svd_esb devs[NDEV];
static svd_ib700 ib;
static int ib_fired; /* an access fired the IB700: reported by the next run */
static uint64_t clk;

static svd_esb *dev_of(unsigned long slot)
{
    if (slot < FIRST_SLOT || slot >= FIRST_SLOT + NDEV) {
        return NULL;
    }
    return &devs[slot - FIRST_SLOT];
}

static svd_esb *route(uint32_t addr, uint32_t *off)
{
    for (unsigned i = 0; i < NDEV; i++) {
        const uint32_t bar = svd_esb_bar0(&devs[i]);
        if (svd_esb_mem_enabled(&devs[i]) && bar != 0u && addr >= bar && addr - bar < SVD_ESB_BAR0_SIZE) {
            *off = addr - bar;
            return &devs[i];
        }
    }
    return NULL;
}

/* Run the clock to @limit (UINT64_MAX: to the first action); 1 if something fired. */
static int run_to(uint64_t limit)
{
    for (;;) {
        if (ib_fired) {
            ib_fired = 0; /* the VM stops as soon as it runs */
            if (limit == UINT64_MAX) {
                return 1;
            }
        }
        uint64_t dl = svd_ib700_next_deadline(&ib);
        for (unsigned i = 0; i < NDEV; i++) {
            const uint64_t d = svd_esb_next_deadline(&devs[i]);
            if (d < dl) {
                dl = d;
            }
        }
        if (dl == SVD_NO_DEADLINE || dl > limit) {
            if (limit != UINT64_MAX) {
                clk = limit > clk ? limit : clk;
            }
            return 0;
        }
        clk = dl;
        int fired = 0;
        for (unsigned i = 0; i < NDEV; i++) {
            svd_fx fx;
            svd_esb_tick(&devs[i], clk, &fx);
            fired |= fx.fired ? 1 : 0;
        }
        svd_fx ifx;
        svd_ib700_tick(&ib, clk, &ifx);
        fired |= ifx.fired ? 1 : 0;
        if (fired && limit == UINT64_MAX) {
            return 1;
        }
    }
}

int main(void)
{
    const svd_esb_cfg cfg = {
        .action = SVD_WDT_ACTION_NONE, /* the stand-in "pauses": it only reports */
        .subsys_vendor = 0x1af4u,      /* what QEMU's pc machine puts there */
        .subsys_id = 0x1100u,
        .revision = 0u,
        .irq_line = 0u,
    };
    for (unsigned i = 0; i < NDEV; i++) {
        if (!svd_is_ok(svd_esb_init(&devs[i], &cfg, 0u))) {
            fprintf(stderr, "init failed\n");
            return 1;
        }
    }
    const svd_ib700_cfg icfg = { SVD_WDT_ACTION_NONE, SVD_IB700_DEFAULT_BASE };
    if (!svd_is_ok(svd_ib700_init(&ib, &icfg, 0u))) {
        fprintf(stderr, "init failed\n");
        return 1;
    }
    char line[256];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin) != NULL) {
        char cmd[16];
        unsigned long a = 0, b = 0, c = 0, d = 0;
        const int n = sscanf(line, "%15s %li %li %li %li", cmd, (long *)&a, (long *)&b, (long *)&c, (long *)&d);
        svd_fx fx;
        uint32_t v = 0;
        svd_result r = svd_fail(SVD_ERR_INVALID_ARG);
        if (n >= 1 && strcmp(cmd, "now") == 0) {
            printf("OK %" PRIu64 "\n", clk);
            continue;
        }
        if (n >= 1 && strcmp(cmd, "run") == 0) {
            if (run_to(UINT64_MAX) != 0) {
                printf("FIRE %" PRIu64 "\n", clk);
            } else {
                printf("IDLE\n");
            }
            continue;
        }
        if (n == 2 && strcmp(cmd, "step_to") == 0) {
            (void)run_to((uint64_t)a);
            printf("OK %" PRIu64 "\n", clk);
            continue;
        }
        if (n == 4 && strcmp(cmd, "cfgr") == 0 && dev_of(a) != NULL) {
            r = svd_esb_cfg_read(dev_of(a), (uint32_t)b, (uint32_t)c, clk, &v, &fx);
        } else if (n == 5 && strcmp(cmd, "cfgw") == 0 && dev_of(a) != NULL) {
            r = svd_esb_cfg_write(dev_of(a), (uint32_t)b, (uint32_t)c, (uint32_t)d, clk, &fx);
        } else if (n == 3 && strcmp(cmd, "mr") == 0) {
            uint32_t off = 0;
            svd_esb *w = route((uint32_t)a, &off);
            if (w == NULL) {
                v = 0; /* unassigned memory reads 0 on QEMU's pc */
                r = svd_ok();
            } else {
                r = svd_esb_mmio_read(w, off, (uint32_t)b, clk, &v, &fx);
            }
        } else if ((n == 3 && strcmp(cmd, "pr") == 0) || (n == 4 && strcmp(cmd, "pw") == 0)) {
            uint64_t x = (cmd[1] == 'w') ? (uint64_t)c : 0u;
            /* A refused access is the floating bus: all ones read, write lost. */
            const svd_result ir = svd_ib700_access(&ib, SVD_SPACE_IO, (uint64_t)a, (uint32_t)b, cmd[1] == 'w', &x, clk, &fx);
            (void)ir;
            if (fx.fired) {
                ib_fired = 1;
            }
            v = (uint32_t)x;
            r = svd_ok();
        } else if (n == 4 && strcmp(cmd, "mw") == 0) {
            uint32_t off = 0;
            svd_esb *w = route((uint32_t)a, &off);
            r = (w == NULL) ? svd_ok() : svd_esb_mmio_write(w, off, (uint32_t)b, (uint32_t)c, clk, &fx);
        } else {
            printf("ERR bad command\n");
            continue;
        }
        if (!svd_is_ok(r)) {
            printf("ERR %s\n", svd_err_name(r.err));
        } else if (cmd[1] == 'f' && cmd[3] == 'w') {
            printf("OK\n");
        } else if (strcmp(cmd, "mw") == 0 || strcmp(cmd, "pw") == 0) {
            printf("OK\n");
        } else {
            printf("OK 0x%x\n", v);
        }
    }
    return 0;
}
