/**
 * @file wdt.h
 * @brief Definitions shared by the watchdog engines (i6300ESB, SP805).
 *
 * A watchdog engine never reads a clock and never acts by itself. The caller
 * passes the current time (any monotonic nanosecond counter, the same one for
 * every call on one instance) with every access and every tick; the engine
 * first brings its timers up to that instant, then performs the access, and
 * reports in an ::svd_wdt_fx what the caller MUST do: drive the interrupt line
 * to a level, and carry out the configured ::svd_wdt_action when the final
 * stage expired. When to call next is told by the engine's next_deadline().
 *
 * A clock that goes backwards is treated as no time passing.
 *
 * Thread-safety: one thread per instance; all functions are pure and reentrant.
 */
#ifndef SAFEVDEV_WDT_H
#define SAFEVDEV_WDT_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/result.h"

/** @brief What the caller does when the watchdog's final stage expires (QNX wdt vdev `action`). */
typedef enum svd_wdt_action {
    SVD_WDT_ACTION_RESET = 0,  /**< Reset the guest (the default, as on hardware). */
    SVD_WDT_ACTION_TERMINATE,  /**< Terminate the guest (qvm exits). */
    SVD_WDT_ACTION_DUMP,       /**< Dump the guest, then terminate it. */
    SVD_WDT_ACTION_NONE,       /**< Log only; the guest keeps running. */
    SVD_WDT_ACTION__COUNT      /**< Number of actions; not an action itself. */
} svd_wdt_action;

/** @brief "No deadline": the watchdog will not expire until the guest changes it. */
#define SVD_WDT_NO_DEADLINE UINT64_MAX

/**
 * @brief Effects of one engine call, to be carried out by the caller.
 *
 * The interrupt is a level: the caller SHALL drive its line to @c irq_level
 * whenever @c irq_changed is set (it MAY do so after every call). When
 * @c fired is set the caller SHALL carry out @c action once (for
 * ::SVD_WDT_ACTION_NONE: log). @c fires counts the expiries folded into the
 * call (several when the caller was late); the action is carried out once.
 */
typedef struct svd_wdt_fx {
    bool irq_level;         /**< Level of the interrupt line after the call. */
    bool irq_changed;       /**< @c irq_level differs from the level before the call. */
    bool fired;             /**< The final stage expired during the call. */
    svd_wdt_action action;  /**< The instance's action; meaningful when @c fired. */
    uint32_t fires;         /**< Number of final-stage expiries in the call (saturating). */
} svd_wdt_fx;

/**
 * @brief Parse an `action` option value: "reset", "terminate", "dump" or "none".
 * @param s NUL-terminated string; MUST NOT be NULL
 * @param out receives the action on success, untouched on failure
 * @return ::SVD_ERR_INVALID_ARG for NULL arguments or an unknown word.
 */
SVD_MUST_USE svd_result svd_wdt_action_parse(const char *s, svd_wdt_action *out);

/** @brief Stable static name of @p a ("reset", ...); "unknown" when out of range. */
const char *svd_wdt_action_name(svd_wdt_action a);

#endif /* SAFEVDEV_WDT_H */
