/* Shared part of the watchdog adapters (see wdt_qvm.h). */
#include "wdt_qvm.h"

#include <stddef.h>

void svd_wdt_qvm_opt_action(svd_wdt_qvm *w, const char *name, const char *arg)
{
    svd_wdt_action a = SVD_WDT_ACTION_RESET;
    if (svd_is_ok(svd_wdt_action_parse(arg, &a))) {
        w->action = a;
    } else {
        svd_qvm_badopt_set(&w->bad, name, arg, "want reset, terminate, dump or none");
    }
}

bool svd_wdt_qvm_apply(vdev_t *vdp, svd_wdt_qvm *w, const svd_wdt_fx *fx, const char *vdev)
{
    bool reset = false;
    if (fx->irq_changed || (fx->irq_level != w->irq)) {
        (void)svd_qvm_irq_set(vdp, &w->irq, fx->irq_level);
    }
    if (!fx->fired) {
        return false;
    }
    w->bites++;
    struct wdog_state ws = { 0u, 0u };
    switch (fx->action) {
    case SVD_WDT_ACTION_RESET:
        qvm_report("%s: watchdog expired: resetting the guest", vdev);
        ws.ws_action = WDOG_ACTION_RESET;
        wdog_bite(&ws);
        reset = true;
        break;
    case SVD_WDT_ACTION_TERMINATE:
        qvm_report("%s: watchdog expired: terminating the guest", vdev);
        ws.ws_action = WDOG_ACTION_TERMINATE;
        wdog_bite(&ws);
        break;
    case SVD_WDT_ACTION_DUMP:
        qvm_report("%s: watchdog expired: dumping, then terminating the guest", vdev);
        ws.ws_action = WDOG_ACTION_TERMINATE;
        ws.ws_flags = WDOG_FLAG_DUMP;
        wdog_bite(&ws);
        break;
    case SVD_WDT_ACTION_NONE:
    case SVD_WDT_ACTION__COUNT:
    default:
        qvm_report("%s: watchdog expired (action none: logged only, %u expiries)", vdev, (unsigned)fx->fires);
        break;
    }
    return reset;
}

void svd_wdt_qvm_rearm(svd_wdt_qvm *w, uint64_t deadline, const char *vdev)
{
    if (deadline == SVD_WDT_NO_DEADLINE) {
        return;
    }
    if (!svd_is_ok(svd_qvm_clock_arm(&w->clock, deadline)) && !w->timer_failed_logged) {
        /* The next guest access re-arms; logged once. */
        w->timer_failed_logged = true;
        qvm_report("%s: cannot arm the watchdog timer", vdev);
    }
}
