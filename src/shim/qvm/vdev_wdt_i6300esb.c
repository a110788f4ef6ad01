/*
 * vdev-wdt-i6300esb.so: the safevdev Intel 6300ESB watchdog (PCI 8086:25ab)
 * for QNX qvm.
 *
 * One instance per `vdev wdt-i6300esb` line, state in the instance block.
 * qvm places the device on its PCI bus (no `loc`); configuration-space
 * accesses (QST_PCI) and BAR0 accesses (guest-physical, routed by the BAR the
 * guest programmed while memory decoding is on) go to the pure engine with
 * the time of the instance's guest timer; the engine's next deadline arms
 * that timer. The stage-1 interrupt drives v_intr (INTA#); the stage-2
 * action is carried out by wdt_qvm.c; after a guest reset the engine is
 * reset too (TIMEOUT survives, so the guest's driver reports the cause).
 *
 * Options (checked whole; the first bad one fails OPTIONS_END naming it):
 *   action A           reset (default) | terminate | dump | none
 *   intr PIC:PIN       qvm's: optional, qvm assigns the INTx pin otherwise
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qvm_common.h"
#include "safevdev/wdt_i6300esb.h"
#include "wdt_qvm.h"

#define VDEV_NAME "wdt-i6300esb"
#define ESB_MAGIC 0x42534545u

enum { OPT_ACTION = 0, OPT_COUNT };

/** @brief The instance block: everything one wdt-i6300esb instance owns. */
typedef struct esb_inst {
    svd_esb eng;       /**< the 6300ESB engine */
    svd_wdt_qvm w;     /**< timer, options, action, interrupt level */
    uint64_t refused;  /**< accesses the engine refused (RAZ/WI) */
    uint32_t magic;    /**< set by OPTIONS_START: the block is ours */
    bool ready;        /**< OPTIONS_END succeeded */
} esb_inst;

static const char *const esb_options[OPT_COUNT + 1] = {
    [OPT_ACTION] = "action",
    [OPT_COUNT] = NULL,
};

static esb_inst *inst_of(vdev_t *vdp)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return NULL;
    }
    esb_inst *e = vdp->v_device;
    return (e->magic == ESB_MAGIC) ? e : NULL;
}

static void settle(vdev_t *vdp, esb_inst *e, const svd_wdt_fx *fx, uint64_t now)
{
    if (svd_wdt_qvm_apply(vdp, &e->w, fx, VDEV_NAME)) {
        svd_wdt_fx rfx;
        svd_esb_reset(&e->eng, now, &rfx);
        (void)svd_wdt_qvm_apply(vdp, &e->w, &rfx, VDEV_NAME);
    }
    svd_wdt_qvm_rearm(&e->w, svd_esb_next_deadline(&e->eng), VDEV_NAME);
}

/* One access to the engine; false when it was refused (RAZ/WI). */
static bool esb_call(esb_inst *e, bool write, bool cfg, uint32_t off, uint32_t width, uint64_t now, uint32_t *v,
                     svd_wdt_fx *fx)
{
    svd_result r;
    if (cfg) {
        r = write ? svd_esb_cfg_write(&e->eng, off, width, *v, now, fx)
                  : svd_esb_cfg_read(&e->eng, off, width, now, v, fx);
    } else {
        r = write ? svd_esb_mmio_write(&e->eng, off, width, *v, now, fx)
                  : svd_esb_mmio_read(&e->eng, off, width, now, v, fx);
    }
    return svd_is_ok(r);
}

static vdev_ref_status_t access(vdev_t *vdp, bool write, const struct qvm_state_block *vopnd,
                                const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    esb_inst *e = inst_of(vdp);
    if ((vopnd == NULL) || (oopnd == NULL)) {
        return VRS_NORMAL;
    }
    uint32_t width = (vopnd->length <= 8u) ? vopnd->length : 8u;
    if ((e == NULL) || !e->ready) {
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
    const bool cfg = vopnd->type == QST_PCI;
    uint32_t off = UINT32_MAX; /* refused by the engine unless decoded */
    if (cfg) {
        off = SVD_QSL_PCI_OFF(vopnd->location);
    } else {
        const uint64_t bar = svd_esb_bar0(&e->eng);
        if (svd_esb_mem_enabled(&e->eng) && (bar != 0u) && (vopnd->location >= bar) &&
            ((vopnd->location - bar) < SVD_ESB_BAR0_SIZE)) {
            off = (uint32_t)(vopnd->location - bar);
        }
    }
    uint64_t now = svd_qvm_clock_now(&e->w.clock);
    uint32_t v32 = (uint32_t)v;
    svd_wdt_fx fx;
    if (esb_call(e, write, cfg, off, vopnd->length, now, &v32, &fx)) {
        settle(vdp, e, &fx, now);
    } else {
        e->refused++;
        v32 = cfg ? 0u : UINT32_MAX; /* an undecoded memory read floats high */
    }
    (void)pthread_mutex_unlock(&vdp->v_mtx);
    return write ? VRS_NORMAL : svd_qvm_reply(gcp, oopnd, width, v32);
}

static vdev_ref_status_t esb_vread(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                   const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, false, vopnd, oopnd, gcp);
}

static vdev_ref_status_t esb_vwrite(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                    const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, true, vopnd, oopnd, gcp);
}

static void esb_timer(vdev_t *vdp, void *data, const struct guest_timer_data *tdp, struct guest_cpu *gcp)
{
    (void)data;
    (void)tdp;
    (void)gcp;
    esb_inst *e = inst_of(vdp);
    if ((e == NULL) || !e->ready) {
        return;
    }
    (void)pthread_mutex_lock(&vdp->v_mtx);
    svd_qvm_clock_fired(&e->w.clock);
    uint64_t now = svd_qvm_clock_now(&e->w.clock);
    svd_wdt_fx fx;
    svd_esb_tick(&e->eng, now, &fx);
    settle(vdp, e, &fx, now);
    (void)pthread_mutex_unlock(&vdp->v_mtx);
}

static int options_end(vdev_t *vdp, esb_inst *e)
{
    if (!e->w.bad.set && (vdp->v_block.location != QSL_NO_LOCATION)) {
        svd_qvm_badopt_set(&e->w.bad, "loc", "", "not supported: a PCI device is placed by qvm");
    }
    if (e->w.bad.set) {
        svd_qvm_badopt_report(&e->w.bad, VDEV_NAME);
        return EINVAL;
    }
    if (!svd_is_ok(svd_qvm_clock_init(&e->w.clock, vdp, e))) {
        qvm_report("%s: cannot create a guest timer", VDEV_NAME);
        return EIO;
    }
    svd_esb_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.action = e->w.action;
    cfg.subsys_vendor = (uint16_t)SVD_ESB_VENDOR_ID;
    cfg.subsys_id = (uint16_t)SVD_ESB_DEVICE_ID;
    if (!svd_is_ok(svd_esb_init(&e->eng, &cfg, svd_qvm_clock_now(&e->w.clock)))) {
        return EINVAL; /* the action was parsed: not reached */
    }
    e->ready = true;
    return EOK;
}

static int pci_bars(const char *arg)
{
    if (arg == NULL) {
        return 1;
    }
    /* The argument is the caller's BAR array (docs/qvm-compat.md), passed
     * through the const char * every command shares. */
    union {
        const char *arg;
        struct vpci_bar *bars;
    } u;
    u.arg = arg;
    struct vpci_bar *bars = u.bars;
    for (int i = 0; i < SVD_QVM_PCI_NBARS; i++) {
        bars[i].size = 0;
        bars[i].flags = 0;
    }
    bars[0].size = SVD_ESB_BAR0_SIZE; /* 32-bit memory BAR: no flag */
    return -SVD_QVM_PCI_NBARS;
}

static int command(vdev_t *vdp, esb_inst *e, unsigned ctrl, const char *arg)
{
    int rc = EOK;
    switch (ctrl) {
    case VDEV_CTRL_OPTIONS_END:
        rc = e->ready ? EBUSY : options_end(vdp, e);
        break;
    case VDEV_CTRL_PCI_BARS:
        rc = e->ready ? pci_bars(arg) : 1;
        break;
    case VDEV_CTRL_STATUS:
        if (e->ready) {
            qvm_report("%s: action %s, expiries acted on %llu, refused accesses %llu", VDEV_NAME,
                       svd_wdt_action_name(e->w.action), (unsigned long long)e->w.bites,
                       (unsigned long long)e->refused);
        }
        break;
    case VDEV_CTRL_TERMINATE:
        if (e->ready) {
            (void)svd_qvm_irq_set(vdp, &e->w.irq, false);
        }
        e->ready = false;
        e->magic = 0u;
        break;
    default:
        break; /* GUEST_CONFIGURED, GEN_FDT (PCI is enumerated), GEN_ACPI: nothing to do */
    }
    return rc;
}

static int esb_control(vdev_t *vdp, unsigned ctrl, const char *arg)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return EINVAL;
    }
    if (ctrl == VDEV_CTRL_OPTIONS_START) {
        esb_inst *e = vdp->v_device;
        memset(e, 0, sizeof *e);
        e->magic = ESB_MAGIC;
        e->w.action = SVD_WDT_ACTION_RESET;
        vdp->v_block.type = QST_MEMORY;
        vdp->v_block.location = QSL_NO_LOCATION;
        return EOK;
    }
    esb_inst *e = inst_of(vdp);
    if (e == NULL) {
        return EINVAL;
    }
    int rc = EOK;
    (void)pthread_mutex_lock(&vdp->v_mtx);
    if ((ctrl >= VDEV_CTRL_FIRST_OPTIDX) && (ctrl < VDEV_CTRL_FIRST_OPTIDX + OPT_COUNT)) {
        if (e->ready) {
            rc = EBUSY;
        } else {
            svd_wdt_qvm_opt_action(&e->w, esb_options[OPT_ACTION], arg);
        }
    } else {
        rc = command(vdp, e, ctrl, arg);
    }
    (void)pthread_mutex_unlock(&vdp->v_mtx);
    return rc;
}

static struct vdev_factory esb_factory = {
    .next = NULL,
    .control = esb_control,
    .vread = esb_vread,
    .vwrite = esb_vwrite,
    .timer = esb_timer,
    .option_list = esb_options,
    .name = VDEV_NAME,
    .factory_flags = VFF_VDEV_PCI | VFF_MUTEX | VFF_MUTEX_RECURSIVE,
    .acc_sizes = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8),
    .extra_space = (unsigned)sizeof(esb_inst),
};

__attribute__((constructor)) static void esb_register(void)
{
    vdev_register_factory(&esb_factory, QVM_VDEV_ABI);
}
