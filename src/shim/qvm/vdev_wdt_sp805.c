/*
 * vdev-svd-wdt-sp805.so: the safevdev ARM SP805 watchdog for QNX qvm.
 *
 * The adapter frame (qvm_frame.c) is the vdev; this file is the device's
 * table and its FDT node. One instance per `vdev svd-wdt-sp805` line; its whole
 * state is the instance block. The engine decodes its 4 KiB register page
 * (at `loc`) itself; the frame applies what it reports: the interrupt line
 * (v_intr), the action through qvm's watchdog service, the timer.
 *
 * Options, QNX's wdt-sp805 ones with QNX's defaults (checked whole; the
 * first bad one fails OPTIONS_END naming it):
 *   loc ADDR           qvm's: base of the 4 KiB register page (default
 *                      0x1C0F0000, preset at OPTIONS_START)
 *   intr PIC:PIN       qvm's: the interrupt; optional (without it the
 *                      interrupt output goes nowhere, as on a board that
 *                      leaves it unconnected)
 *   frequency HZ       WDOGCLK, 1..1000000000 (default 25000000)
 *   action A           [dump,]terminate (default terminate) | [dump,]fiq |
 *                      none (ours: logged only)
 *
 * GEN_FDT adds the node Linux's arm,sp805 binding expects: compatible
 * "arm,sp805","arm,primecell", reg, interrupts (GIC: SPI, level high),
 * clocks + clock-names "wdog_clk","apb_pclk" pointing at the fixed-rate
 * clock of `frequency` Hz that qvm's gfdt_get_clock() gives, so the guest's
 * driver computes the same rate the engine counts at.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qvm_frame.h"
#include "safevdev/fdt.h"
#include "safevdev/parse.h"
#include "safevdev/wdt_sp805.h"

#define VDEV_NAME "svd-wdt-sp805"
#define SP_DEFAULT_HZ 25000000u          /* QNX's wdt-sp805 default (25 MHz) */
#define SP_DEFAULT_LOC UINT64_C(0x1C0F0000) /* QNX's wdt-sp805 default address */

enum { OPT_FREQUENCY = 0, OPT_ACTION, OPT_COUNT };

/* The device's part of the instance block. */
typedef struct sp_inst {
    svd_sp805 eng;
    uint64_t base;          /* guest-physical base of the register page (loc) */
    uint32_t freq_hz;
    svd_qvm_action action;
} sp_inst;

static const char *const sp_options[OPT_COUNT + 1] = {
    [OPT_FREQUENCY] = "frequency",
    [OPT_ACTION] = "action",
    [OPT_COUNT] = NULL,
};

static void sp_start(void *inst)
{
    sp_inst *s = inst;
    s->freq_hz = SP_DEFAULT_HZ;
}

static void sp_option(void *inst, unsigned idx, const char *value, svd_qvm_badopt *bad)
{
    sp_inst *s = inst;
    uint64_t v = 0;
    if (idx == OPT_ACTION) {
        svd_qvm_opt_action(bad, sp_options[OPT_ACTION], value, &s->action);
    } else if (svd_is_ok(svd_parse_u64(value, 1u, SVD_SP805_MAX_HZ, &v))) {
        s->freq_hz = (uint32_t)v;
    } else {
        svd_qvm_badopt_set(bad, sp_options[OPT_FREQUENCY], value, "want Hz 1..1000000000");
    }
}

static int sp_options_end(vdev_t *vdp, void *inst, svd_qvm_badopt *bad, uint64_t now)
{
    sp_inst *s = inst;
    if (SVD_QSB_TYPE(&vdp->v_block) != QST_MEMORY) {
        svd_qvm_badopt_set(bad, "loc", "", "want a memory address (the register page)");
    } else if (vdp->v_block.location > UINT64_MAX - SVD_SP805_SIZE) {
        svd_qvm_badopt_set(bad, "loc", "", "page would wrap the address space");
    } else {
        s->base = vdp->v_block.location;
    }
    if (bad->set) {
        return EINVAL;
    }
    const svd_sp805_cfg cfg = { svd_qvm_action_engine(s->action), s->freq_hz, s->base };
    if (SVD_NEVER(!svd_is_ok(svd_sp805_init(&s->eng, &cfg, now)))) {
        return EINVAL; /* options were range-checked: not reached */
    }
    return EOK;
}

static svd_result sp_access(const vdev_t *vdp, void *inst, svd_space sp, uint64_t addr, uint32_t width, bool write,
                            uint64_t *val, uint64_t now, svd_fx *fx)
{
    sp_inst *s = inst;
    (void)vdp;
    return svd_sp805_access(&s->eng, sp, addr, width, write, val, now, fx);
}

static void sp_tick(void *inst, uint64_t now, svd_fx *fx)
{
    sp_inst *s = inst;
    svd_sp805_tick(&s->eng, now, fx);
}

static svd_qvm_action sp_action(const void *inst)
{
    const sp_inst *s = inst;
    return s->action;
}

static int sp_gen_fdt(const vdev_t *vdp, void *inst, int parent)
{
    const sp_inst *s = inst;
    /* The fixed-rate clock the node's clocks point at is qvm's to make (one
     * node per frequency, its name without a unit address: it has no reg). */
    const int clk = gfdt_get_clock(parent, s->freq_hz);
    if (clk < 0) {
        svd_qvm_log(vdp, "%s: qvm gave no FDT clock of %u Hz", VDEV_NAME, (unsigned)s->freq_hz);
        return EIO;
    }
    const uint32_t phandle = (uint32_t)clk;

    svd_fdt_node n;
    svd_fdt_node_init(&n);
    n.name = "watchdog";
    n.has_unit = true;
    n.unit = s->base;
    n.compatible[0] = "arm,sp805";
    n.compatible[1] = "arm,primecell";
    n.n_compatible = 2u;
    n.reg_addr[0] = s->base;
    n.reg_size[0] = SVD_SP805_SIZE;
    n.n_reg = 1u;
    if ((vdp->v_intr.pic != NULL)
        && !svd_is_ok(svd_fdt_gic_irq(&n, vdp->v_intr.param & 0xffffu, SVD_IRQ_LEVEL_HIGH, 0u))) {
        svd_qvm_log(vdp, "%s: interrupt %u is not a GIC PPI or SPI (16..1019)", VDEV_NAME, vdp->v_intr.param & 0xffffu);
        return EINVAL;
    }
    n.clocks[0] = phandle;
    n.clocks[1] = phandle;
    n.n_clocks = 2u;
    n.clock_names[0] = "wdog_clk";
    n.clock_names[1] = "apb_pclk";
    n.n_clock_names = 2u;
    if (!svd_is_ok(svd_fdt_node_check(&n))) {
        return EINVAL;
    }
    return svd_qvm_fdt_add(vdp, parent, &n, VDEV_NAME);
}

static void sp_status(const void *inst, uint64_t actions, char *buf, size_t len)
{
    const sp_inst *s = inst;
    svd_qvm_wdt_status(s->action, actions, buf, len);
}

const svd_qvm_dev svd_qvm_device = {
    .name = VDEV_NAME,
    .options = sp_options,
    .factory_flags = VFF_INTR_NONPCI | VFF_VDEV_MEM,
    .inst_size = (unsigned)sizeof(sp_inst),
    .loc_type = QST_MEMORY,
    .loc_default = SP_DEFAULT_LOC,
    .loc_length = SVD_SP805_SIZE,
    .start = sp_start,
    .option = sp_option,
    .options_end = sp_options_end,
    .access = sp_access,
    .tick = sp_tick,
    .action = sp_action,
    .gen_fdt = sp_gen_fdt,
    .status = sp_status,
};
