/*
 * vdev-wdt-i6300esb.so: the safevdev Intel 6300ESB watchdog (PCI 8086:25ab)
 * for QNX qvm.
 *
 * The adapter frame (qvm_frame.c) is the vdev; this file is the device's
 * table. qvm places the device on its PCI bus (no `loc`); the engine decodes
 * configuration-space accesses and BAR0 (wherever the guest programs it,
 * while memory decoding is on) itself. The frame applies what it reports:
 * the stage-1 interrupt on v_intr (INTA#), the stage-2 action through qvm's
 * watchdog service, and after a reset action the engine's reset (TIMEOUT
 * survives it, so the guest's driver reports the cause).
 *
 * Options (checked whole; the first bad one fails OPTIONS_END naming it):
 *   action A           reset (default) | terminate | dump | none
 *   intr PIC:PIN       qvm's: optional, qvm assigns the INTx pin otherwise
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qvm_frame.h"
#include "safevdev/wdt_i6300esb.h"

#define VDEV_NAME "wdt-i6300esb"

enum { OPT_ACTION = 0, OPT_COUNT };

/* The device's part of the instance block. */
typedef struct esb_inst {
    svd_esb eng;
    svd_wdt_action action;
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
    if (vdp->v_block.location != QSL_NO_LOCATION) {
        svd_qvm_badopt_set(bad, "loc", "", "not supported: a PCI device is placed by qvm");
        return EINVAL;
    }
    svd_esb_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.action = e->action;
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

static void esb_reset(void *inst, uint64_t now, svd_fx *fx)
{
    esb_inst *e = inst;
    svd_esb_reset(&e->eng, now, fx);
}

static bool esb_pci_bar0(const void *inst, struct vpci_bar *bar0)
{
    (void)inst;
    bar0->size = SVD_ESB_BAR0_SIZE; /* 32-bit memory BAR: no flag */
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
    .option = esb_option,
    .options_end = esb_options_end,
    .access = esb_access,
    .tick = esb_tick,
    .reset = esb_reset,
    .pci_bar0 = esb_pci_bar0,
    .status = esb_status,
};
