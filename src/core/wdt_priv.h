/* Helpers shared by the two watchdog engines (private to src/core). */
#ifndef SVD_WDT_PRIV_H
#define SVD_WDT_PRIV_H

#include <stddef.h>

#include "safevdev/wdt.h"

/* Start a call's effects: nothing fired yet, the line at its current level. */
static inline void wdt_fx_begin(svd_wdt_fx *fx, bool level, svd_wdt_action action)
{
    fx->irq_level = level;
    fx->irq_changed = false;
    fx->fired = false;
    fx->action = action;
    fx->fires = 0u;
}

/* One final-stage expiry happened. */
static inline void wdt_fx_fire(svd_wdt_fx *fx)
{
    fx->fired = true;
    /* fx is cleared per call and each engine folds at most its bounded number
     * of expiries into one call, so the saturation cannot be reached by a test. */
    if (SVD_ALWAYS(fx->fires != UINT32_MAX)) {
        fx->fires++;
    }
}

/* Finish a call: report the new level and whether it moved from @old. */
static inline void wdt_fx_end(svd_wdt_fx *fx, bool old, bool level)
{
    fx->irq_level = level;
    fx->irq_changed = (old != level);
}

/* a + b, or UINT64_MAX when it would not fit (deadlines beyond the clock). */
static inline uint64_t wdt_sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        return UINT64_MAX;
    }
    return r;
}

#endif
