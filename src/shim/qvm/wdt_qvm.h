/*
 * wdt_qvm.h: what the two safevdev watchdog adapters (vdev-wdt-sp805.so,
 * vdev-wdt-i6300esb.so) share: the `action` option, carrying out the action
 * a watchdog engine reports, and driving the instance timer from the
 * engine's next deadline.
 *
 * Carrying out the action uses qvm's watchdog service (qvm/wdog.h:
 * wdog_bite() with a wdog_state naming the action). Without the SDK the
 * subset below is declared in our own words:
 *   [page]    wdog_bite(struct wdog_state *), ws_action, WDOG_ACTION_TERMINATE,
 *             WDOG_FLAG_DUMP: "Virtual Device Developer's API Reference",
 *             wdog.h chapter, wdog_bite() page (7.0, 7.1, 8.0);
 *   [assumed] the numeric values, the ws_flags member name and
 *             WDOG_ACTION_RESET: not on a reachable public page; MUST be
 *             checked against <qvm/wdog.h> (docs/req/wdt.md, "verify with the SDK").
 * The harness tests define wdog_bite() themselves and record each bite.
 */
#ifndef SVD_WDT_QVM_H
#define SVD_WDT_QVM_H

#include <stdbool.h>
#include <stdint.h>

#include "qvm_common.h"
#include "safevdev/wdt.h"

#if SVD_QVM_SDK
#include <qvm/wdog.h>
#else
/** @brief What wdog_bite() is asked to do (compat subset of qvm/wdog.h). */
struct wdog_state {
    unsigned ws_action; /**< WDOG_ACTION_* */
    unsigned ws_flags;  /**< WDOG_FLAG_* [assumed name] */
};
#define WDOG_ACTION_TERMINATE 1u /* [page] name, [assumed] value */
#define WDOG_ACTION_RESET 3u     /* [assumed] */
#define WDOG_FLAG_DUMP 0x1u      /* [page] name, [assumed] value */
void wdog_bite(struct wdog_state *wds);
#endif

/** @brief Per-instance state the helpers below keep (inside the instance block). */
typedef struct svd_wdt_qvm {
    svd_qvm_clock clock;      /**< the instance's guest timer */
    svd_qvm_badopt bad;       /**< first refused option */
    uint64_t bites;           /**< expiries acted on (or logged, for none) */
    svd_wdt_action action;    /**< the `action` option */
    bool irq;                 /**< interrupt level last driven */
    bool timer_failed_logged; /**< "cannot arm" logged once */
} svd_wdt_qvm;

/* `action` option: reset | terminate | dump | none; a bad value is recorded in w->bad. */
SVD_QVM_HIDDEN void svd_wdt_qvm_opt_action(svd_wdt_qvm *w, const char *name, const char *arg);

/* Carry out @fx: drive the line, perform the action. Returns true when the
 * guest was reset (the caller then resets its engine, as a guest reset does). */
SVD_QVM_HIDDEN bool svd_wdt_qvm_apply(vdev_t *vdp, svd_wdt_qvm *w, const svd_wdt_fx *fx, const char *vdev);

/* Ask for the timer at @deadline (SVD_WDT_NO_DEADLINE: nothing to ask). */
SVD_QVM_HIDDEN void svd_wdt_qvm_rearm(svd_wdt_qvm *w, uint64_t deadline, const char *vdev);

#endif /* SVD_WDT_QVM_H */
