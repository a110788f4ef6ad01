/*
 * vdev-svd-wdt-ib700.so: the safevdev iBASE IB700 watchdog for QNX qvm (x86).
 *
 * The adapter frame (qvm_frame.c) is the vdev; this file is the device's
 * table. One instance per `vdev svd-wdt-ib700` line; its whole state is the
 * instance block. The engine decodes its I/O ports itself (stop at loc,
 * start at loc+2); the frame applies what it reports: the
 * action through qvm's watchdog service and the timer. The board has no
 * interrupt, so the line is never driven.
 *
 * Name: QNX ships its own `wdt-ib700` (vdev-wdt-ib700.so); ours is
 * `svd-wdt-ib700` so that neither can shadow the other on the library
 * search path, and a configuration says which one it means.
 *
 * Options, as QNX documents them for its wdt-ib700 (its page refers to
 * wdt-sp805's options; a board with a fixed timeout table has no
 * `frequency`):
 *   loc io:PORT        qvm's: the stop port; default 0x441 (the board's and
 *                      QNX's default); the window is PORT..PORT+2
 *   intr PIC:PIN       qvm's: optional (the board raises no interrupt)
 *   action A           [dump,]terminate (default terminate) | [dump,]fiq |
 *                      none (ours: logged only)
 * A bad option fails OPTIONS_END naming it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qvm_frame.h"
#include "safevdev/wdt_ib700.h"

#define VDEV_NAME "svd-wdt-ib700"

enum { OPT_ACTION = 0, OPT_COUNT };

/* The device's part of the instance block. */
typedef struct ib_inst {
    svd_ib700 eng;
    svd_qvm_action action;
} ib_inst;

static const char *const ib_options[OPT_COUNT + 1] = {
    [OPT_ACTION] = "action",
    [OPT_COUNT] = NULL,
};

static void ib_option(void *inst, unsigned idx, const char *value, svd_qvm_badopt *bad)
{
    ib_inst *s = inst;
    (void)idx; /* the only option */
    svd_qvm_opt_action(bad, ib_options[OPT_ACTION], value, &s->action);
}

/* The frame presets io:0x441 (where the board's jumpers put it by default,
 * as QNX's own vdev does); qvm's `loc` may move it. */
static int ib_options_end(vdev_t *vdp, void *inst, svd_qvm_badopt *bad, uint64_t now)
{
    ib_inst *s = inst;
    if (SVD_QSB_TYPE(&vdp->v_block) != QST_X86_IO) {
        svd_qvm_badopt_set(bad, "loc", "", "want io:PORT (x86 I/O ports)");
    } else if (vdp->v_block.location > SVD_IB700_MAX_BASE) {
        svd_qvm_badopt_set(bad, "loc", "", "the start port would pass port 0xFFFF");
    } else {
        vdp->v_block.length = SVD_IB700_PORTS;
    }
    if (bad->set) {
        return EINVAL;
    }
    const svd_ib700_cfg cfg = { svd_qvm_action_engine(s->action), (uint32_t)vdp->v_block.location };
    if (SVD_NEVER(!svd_is_ok(svd_ib700_init(&s->eng, &cfg, now)))) {
        return EINVAL; /* options were range-checked: not reached */
    }
    return EOK;
}

static svd_result ib_access(const vdev_t *vdp, void *inst, svd_space sp, uint64_t addr, uint32_t width, bool write,
                            uint64_t *val, uint64_t now, svd_fx *fx)
{
    ib_inst *s = inst;
    (void)vdp;
    return svd_ib700_access(&s->eng, sp, addr, width, write, val, now, fx);
}

static void ib_tick(void *inst, uint64_t now, svd_fx *fx)
{
    ib_inst *s = inst;
    svd_ib700_tick(&s->eng, now, fx);
}

static svd_qvm_action ib_action(const void *inst)
{
    const ib_inst *s = inst;
    return s->action;
}

static void ib_status(const void *inst, uint64_t actions, char *buf, size_t len)
{
    const ib_inst *s = inst;
    svd_qvm_wdt_status(s->action, actions, buf, len);
}

const svd_qvm_dev svd_qvm_device = {
    .name = VDEV_NAME,
    .options = ib_options,
    .factory_flags = VFF_VDEV_X86_IO,
    .inst_size = (unsigned)sizeof(ib_inst),
    .loc_type = QST_X86_IO,
    .loc_default = SVD_IB700_DEFAULT_BASE,
    .loc_length = SVD_IB700_PORTS,
    .option = ib_option,
    .options_end = ib_options_end,
    .access = ib_access,
    .tick = ib_tick,
    .action = ib_action,
    .status = ib_status,
};
