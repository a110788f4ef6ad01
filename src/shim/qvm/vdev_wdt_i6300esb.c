/*
 * vdev-svd-wdt-i6300esb.so: the safevdev Intel 6300ESB watchdog (PCI 8086:25ab)
 * for QNX qvm.
 *
 * The adapter frame (qvm_frame.c) is the vdev; this file is the device's
 * table. qvm places the device on its PCI bus (`loc pci:...` or a location
 * qvm assigns); the engine decodes configuration-space accesses, and BAR0
 * accesses that reach it through the trapping region the frame describes at
 * PCI_BARS (at the address qvm assigns and writes back into BAR0). The frame
 * applies what the engine reports: the stage-1 interrupt on v_intr (INTA#),
 * the stage-2 action through qvm's watchdog service.
 *
 * Options (checked whole; the first bad one fails OPTIONS_END naming it):
 *   action A           [dump,]terminate (default terminate) | [dump,]fiq |
 *                      none (ours: logged only); the values of QNX's
 *                      watchdog vdevs (QNX ships no i6300ESB)
 *   loc pci:...        qvm's: optional; a memory location is refused
 *   intr PIC:PIN       qvm's: optional, qvm assigns the INTx pin otherwise
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qvm_frame.h"
#include "safevdev/wdt_i6300esb.h"

#define VDEV_NAME "svd-wdt-i6300esb"

enum { OPT_ACTION = 0, OPT_COUNT };

/* The device's part of the instance block. */
typedef struct esb_inst {
    svd_esb eng;
    svd_qvm_action action;
} esb_inst;

static const char *const esb_options[OPT_COUNT + 1] = {
    [OPT_ACTION] = "action",
    [OPT_COUNT] = NULL,
};

static void esb_option(void *inst, unsigned idx, const char *value, svd_qvm_badopt *bad)
{
    esb_inst *e = inst;
    (void)idx; /* one option */
    svd_qvm_opt_action(bad, esb_options[OPT_ACTION], value, &e->action);
}

static int esb_options_end(vdev_t *vdp, void *inst, svd_qvm_badopt *bad, uint64_t now)
{
    esb_inst *e = inst;
    if (SVD_QSB_TYPE(&vdp->v_block) != QST_PCI) {
        svd_qvm_badopt_set(bad, "loc", "", "a PCI device: want pci:... or no loc");
        return EINVAL;
    }
    svd_esb_cfg cfg;
    (void)memset(&cfg, 0, sizeof cfg);
    cfg.action = svd_qvm_action_engine(e->action);
    cfg.subsys_vendor = (uint16_t)SVD_ESB_VENDOR_ID;
    cfg.subsys_id = (uint16_t)SVD_ESB_DEVICE_ID;
    if (SVD_NEVER(!svd_is_ok(svd_esb_init(&e->eng, &cfg, now)))) {
        return EINVAL; /* the action was parsed: not reached */
    }
    return EOK;
}

static svd_result esb_access(const vdev_t *vdp, void *inst, svd_space sp, uint64_t addr, uint32_t width, bool write,
                             uint64_t *val, uint64_t now, svd_fx *fx)
{
    esb_inst *e = inst;
    (void)vdp;
    return svd_esb_access(&e->eng, sp, addr, width, write, val, now, fx);
}

static void esb_tick(void *inst, uint64_t now, svd_fx *fx)
{
    esb_inst *e = inst;
    svd_esb_tick(&e->eng, now, fx);
}

static svd_qvm_action esb_action(const void *inst)
{
    const esb_inst *e = inst;
    return e->action;
}

static bool esb_pci_bar0(const void *inst, uint64_t *size, bool *mem64)
{
    (void)inst;
    *size = SVD_ESB_BAR0_SIZE;
    *mem64 = false; /* a 32-bit memory BAR */
    return true;
}

static void esb_status(const void *inst, uint64_t actions, char *buf, size_t len)
{
    const esb_inst *e = inst;
    svd_qvm_wdt_status(e->action, actions, buf, len);
}

const svd_qvm_dev svd_qvm_device = {
    .name = VDEV_NAME,
    .options = esb_options,
    .factory_flags = VFF_VDEV_PCI,
    .inst_size = (unsigned)sizeof(esb_inst),
    .loc_type = QST_PCI,
    .option = esb_option,
    .options_end = esb_options_end,
    .access = esb_access,
    .tick = esb_tick,
    .action = esb_action,
    .pci_bar0 = esb_pci_bar0,
    .status = esb_status,
};
