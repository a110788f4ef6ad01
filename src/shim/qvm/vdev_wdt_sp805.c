/*
 * vdev-wdt-sp805.so: the safevdev ARM SP805 watchdog for QNX qvm.
 *
 * One instance per `vdev wdt-sp805` line; its whole state is the instance
 * block (extra_space). Register accesses go to the pure SP805 engine with the
 * time of the instance's guest timer; the engine's next deadline arms that
 * timer, and the timer callback ticks the engine. What the engine reports is
 * carried out here: the interrupt line (v_intr) and the action (wdt_qvm.c).
 *
 * Options (checked whole; the first bad one fails OPTIONS_END naming it):
 *   loc ADDR           qvm's: base of the 4 KiB register page (required)
 *   intr PIC:PIN       qvm's: the interrupt (required)
 *   frequency HZ       WDOGCLK, 1..1000000000 (default 1000000)
 *   action A           reset (default) | terminate | dump | none
 *
 * GEN_FDT adds the node Linux's arm,sp805 binding expects: compatible
 * "arm,sp805","arm,primecell", reg, interrupts (GIC: SPI, level high),
 * clocks + clock-names "wdog_clk","apb_pclk" pointing at a fixed-clock node
 * this adapter adds beside it (clock-frequency = frequency), so the guest's
 * driver computes the same rate the engine counts at.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qvm_common.h"
#include "safevdev/fdt.h"
#include "safevdev/wdt_sp805.h"
#include "wdt_qvm.h"

#define VDEV_NAME "wdt-sp805"
#define SP_MAGIC 0x35303853u
#define SP_DEFAULT_HZ 1000000u
#define SP_CLOCK_PHANDLE_BASE 0x58050000u /* [assumed] phandle range no qvm-made node uses */
#define GIC_SPI_BASE 32u

enum { OPT_FREQUENCY = 0, OPT_ACTION, OPT_COUNT };

/** @brief The instance block: everything one wdt-sp805 instance owns. */
typedef struct sp_inst {
    svd_sp805 eng;     /**< the SP805 engine */
    svd_wdt_qvm w;     /**< timer, options, action, interrupt level */
    uint64_t base;     /**< guest-physical base of the register page (loc) */
    uint64_t refused;  /**< accesses the engine refused (RAZ/WI) */
    uint32_t freq_hz;  /**< the frequency option */
    uint32_t magic;    /**< set by OPTIONS_START: the block is ours */
    bool ready;        /**< OPTIONS_END succeeded */
} sp_inst;

static const char *const sp_options[OPT_COUNT + 1] = {
    [OPT_FREQUENCY] = "frequency",
    [OPT_ACTION] = "action",
    [OPT_COUNT] = NULL,
};

static sp_inst *inst_of(vdev_t *vdp)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return NULL;
    }
    sp_inst *s = vdp->v_device;
    return (s->magic == SP_MAGIC) ? s : NULL;
}

/* After every engine call: carry out its effects, re-arm the timer. */
static void settle(vdev_t *vdp, sp_inst *s, const svd_wdt_fx *fx, uint64_t now)
{
    if (svd_wdt_qvm_apply(vdp, &s->w, fx, VDEV_NAME)) {
        svd_wdt_fx rfx;
        svd_sp805_reset(&s->eng, now, &rfx);
        (void)svd_wdt_qvm_apply(vdp, &s->w, &rfx, VDEV_NAME);
    }
    svd_wdt_qvm_rearm(&s->w, svd_sp805_next_deadline(&s->eng), VDEV_NAME);
}

static vdev_ref_status_t access(vdev_t *vdp, bool write, const struct qvm_state_block *vopnd,
                                const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    sp_inst *s = inst_of(vdp);
    if ((vopnd == NULL) || (oopnd == NULL)) {
        return VRS_NORMAL;
    }
    uint32_t width = (vopnd->length <= 8u) ? vopnd->length : 8u;
    if ((s == NULL) || !s->ready) {
        return write ? VRS_NORMAL : svd_qvm_reply(gcp, oopnd, width, 0u);
    }
    uint64_t v = 0;
    if (write) {
        vdev_ref_status_t st = svd_qvm_fetch(gcp, oopnd, width, &v);
        if (st != VRS_NORMAL) {
            return st;
        }
    }
    (void)pthread_mutex_lock(&vdp->v_mtx);
    uint64_t now = svd_qvm_clock_now(&s->w.clock);
    uint32_t off = UINT32_MAX; /* refused by the engine unless inside the page */
    if ((vopnd->location >= s->base) && ((vopnd->location - s->base) < SVD_SP805_SIZE)) {
        off = (uint32_t)(vopnd->location - s->base);
    }
    svd_wdt_fx fx;
    svd_result r;
    uint32_t v32 = 0;
    if (write) {
        r = svd_sp805_write(&s->eng, off, vopnd->length, (uint32_t)v, now, &fx);
    } else {
        r = svd_sp805_read(&s->eng, off, vopnd->length, now, &v32, &fx);
    }
    if (svd_is_ok(r)) {
        settle(vdp, s, &fx, now);
    } else {
        s->refused++; /* RAZ/WI: what an APB slave gives an access it does not decode */
    }
    (void)pthread_mutex_unlock(&vdp->v_mtx);
    return write ? VRS_NORMAL : svd_qvm_reply(gcp, oopnd, width, v32);
}

static vdev_ref_status_t sp_vread(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                  const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, false, vopnd, oopnd, gcp);
}

static vdev_ref_status_t sp_vwrite(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                   const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, true, vopnd, oopnd, gcp);
}

static void sp_timer(vdev_t *vdp, void *data, const struct guest_timer_data *tdp, struct guest_cpu *gcp)
{
    (void)data;
    (void)tdp;
    (void)gcp;
    sp_inst *s = inst_of(vdp);
    if ((s == NULL) || !s->ready) {
        return;
    }
    (void)pthread_mutex_lock(&vdp->v_mtx);
    svd_qvm_clock_fired(&s->w.clock);
    uint64_t now = svd_qvm_clock_now(&s->w.clock);
    svd_wdt_fx fx;
    svd_sp805_tick(&s->eng, now, &fx);
    settle(vdp, s, &fx, now);
    (void)pthread_mutex_unlock(&vdp->v_mtx);
}

static void opt_value(sp_inst *s, unsigned idx, const char *arg)
{
    uint64_t v = 0;
    switch (idx) {
    case OPT_FREQUENCY:
        if (svd_is_ok(svd_qvm_parse_u64(arg, 1u, SVD_SP805_MAX_HZ, &v))) {
            s->freq_hz = (uint32_t)v;
        } else {
            svd_qvm_badopt_set(&s->w.bad, sp_options[idx], arg, "want Hz 1..1000000000");
        }
        break;
    case OPT_ACTION:
        svd_wdt_qvm_opt_action(&s->w, sp_options[idx], arg);
        break;
    default:
        svd_qvm_badopt_set(&s->w.bad, "?", arg, "unknown option index");
        break;
    }
}

static int options_end(vdev_t *vdp, sp_inst *s)
{
    if (!s->w.bad.set && (vdp->v_block.location == QSL_NO_LOCATION)) {
        svd_qvm_badopt_set(&s->w.bad, "loc", "", "required (the register page)");
    }
    if (!s->w.bad.set && (vdp->v_block.location > UINT64_MAX - SVD_SP805_SIZE)) {
        svd_qvm_badopt_set(&s->w.bad, "loc", "", "page would wrap the address space");
    }
    if (!s->w.bad.set && (vdp->v_intr.pic == NULL)) {
        svd_qvm_badopt_set(&s->w.bad, "intr", "", "required");
    }
    if (s->w.bad.set) {
        svd_qvm_badopt_report(&s->w.bad, VDEV_NAME);
        return EINVAL;
    }
    if (!svd_is_ok(svd_qvm_clock_init(&s->w.clock, vdp, s))) {
        qvm_report("%s: cannot create a guest timer", VDEV_NAME);
        return EIO;
    }
    const svd_sp805_cfg cfg = { s->w.action, s->freq_hz };
    if (!svd_is_ok(svd_sp805_init(&s->eng, &cfg, svd_qvm_clock_now(&s->w.clock)))) {
        return EINVAL; /* options were range-checked: not reached */
    }
    s->base = vdp->v_block.location;
    s->ready = true;
    return EOK;
}

/* Write every property of @n into @node. */
static int put_props(int node, const svd_fdt_node *n)
{
    uint8_t buf[SVD_FDT_MAX_PROP];
    for (uint32_t i = 0;; i++) {
        svd_fdt_propval pv;
        svd_result r = svd_fdt_prop(n, i, buf, sizeof buf, &pv);
        if (svd_is_err(r, SVD_ERR_EMPTY)) {
            return EOK;
        }
        if (!svd_is_ok(r)) {
            return EINVAL;
        }
        gfdt_update_property(node, pv.name, buf, pv.len);
    }
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int gen_fdt(vdev_t *vdp, sp_inst *s, const char *arg)
{
    const int parent = (int)(intptr_t)arg;
    const uint32_t phandle = SP_CLOCK_PHANDLE_BASE | (uint32_t)((s->base >> 12) & 0xffffu);
    /* The fixed clock the node's clocks point at. */
    int clk = gfdt_update_node(parent, "wdt-clk", s->base);
    if (clk < 0) {
        qvm_report("%s: cannot add the FDT clock node", VDEV_NAME);
        return EIO;
    }
    static const char fixed[] = "fixed-clock";
    uint8_t cell[4];
    gfdt_update_property(clk, "compatible", fixed, sizeof fixed);
    be32(cell, 0u);
    gfdt_update_property(clk, "#clock-cells", cell, sizeof cell);
    be32(cell, s->freq_hz);
    gfdt_update_property(clk, "clock-frequency", cell, sizeof cell);
    be32(cell, phandle);
    gfdt_update_property(clk, "phandle", cell, sizeof cell);

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
    const uint32_t pin = vdp->v_intr.param & 0xffffu;
    n.interrupts[0] = 0u; /* GIC SPI */
    n.interrupts[1] = (pin >= GIC_SPI_BASE) ? pin - GIC_SPI_BASE : pin;
    n.interrupts[2] = 4u; /* level, active high */
    n.n_interrupts = 3u;
    n.clocks[0] = phandle;
    n.clocks[1] = phandle;
    n.n_clocks = 2u;
    n.clock_names[0] = "wdog_clk";
    n.clock_names[1] = "apb_pclk";
    n.n_clock_names = 2u;
    if (!svd_is_ok(svd_fdt_node_check(&n))) {
        return EINVAL;
    }
    int node = gfdt_update_node(parent, "watchdog", s->base);
    if (node < 0) {
        qvm_report("%s: cannot add the FDT node", VDEV_NAME);
        return EIO;
    }
    return put_props(node, &n);
}

static int command(vdev_t *vdp, sp_inst *s, unsigned ctrl, const char *arg)
{
    int rc = EOK;
    switch (ctrl) {
    case VDEV_CTRL_OPTIONS_END:
        rc = s->ready ? EBUSY : options_end(vdp, s);
        break;
    case VDEV_CTRL_GEN_FDT:
        rc = s->ready ? gen_fdt(vdp, s, arg) : EINVAL;
        break;
    case VDEV_CTRL_STATUS:
        if (s->ready) {
            qvm_report("%s: action %s, expiries acted on %llu, refused accesses %llu", VDEV_NAME,
                       svd_wdt_action_name(s->w.action), (unsigned long long)s->w.bites,
                       (unsigned long long)s->refused);
        }
        break;
    case VDEV_CTRL_TERMINATE:
        if (s->ready) {
            (void)svd_qvm_irq_set(vdp, &s->w.irq, false);
        }
        s->ready = false;
        s->magic = 0u;
        break;
    default:
        break; /* GUEST_CONFIGURED, GEN_ACPI, PCI_BARS and others: nothing to do */
    }
    return rc;
}

static int sp_control(vdev_t *vdp, unsigned ctrl, const char *arg)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return EINVAL;
    }
    if (ctrl == VDEV_CTRL_OPTIONS_START) {
        sp_inst *s = vdp->v_device;
        memset(s, 0, sizeof *s);
        s->magic = SP_MAGIC;
        s->freq_hz = SP_DEFAULT_HZ;
        s->w.action = SVD_WDT_ACTION_RESET;
        vdp->v_block.type = QST_MEMORY;
        vdp->v_block.location = QSL_NO_LOCATION;
        return EOK;
    }
    sp_inst *s = inst_of(vdp);
    if (s == NULL) {
        return EINVAL;
    }
    int rc = EOK;
    (void)pthread_mutex_lock(&vdp->v_mtx);
    if ((ctrl >= VDEV_CTRL_FIRST_OPTIDX) && (ctrl < VDEV_CTRL_FIRST_OPTIDX + OPT_COUNT)) {
        if (s->ready) {
            rc = EBUSY;
        } else {
            opt_value(s, ctrl - VDEV_CTRL_FIRST_OPTIDX, arg);
        }
    } else {
        rc = command(vdp, s, ctrl, arg);
    }
    (void)pthread_mutex_unlock(&vdp->v_mtx);
    return rc;
}

static struct vdev_factory sp_factory = {
    .next = NULL,
    .control = sp_control,
    .vread = sp_vread,
    .vwrite = sp_vwrite,
    .timer = sp_timer,
    .option_list = sp_options,
    .name = VDEV_NAME,
    .factory_flags = VFF_INTR_NONPCI | VFF_VDEV_MEM | VFF_MUTEX | VFF_MUTEX_RECURSIVE,
    .acc_sizes = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8),
    .extra_space = (unsigned)sizeof(sp_inst),
};

__attribute__((constructor)) static void sp_register(void)
{
    vdev_register_factory(&sp_factory, QVM_VDEV_ABI);
}
