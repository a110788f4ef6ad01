/**
 * @file wdt.h
 * @brief Definitions shared by the watchdog engines (i6300ESB, SP805).
 *
 * A watchdog engine never reads a clock and never acts by itself. The caller
 * passes the current time (any monotonic nanosecond counter, the same one for
 * every call on one instance) with every access and every tick; the engine
 * first brings its timers up to that instant, then performs the access, and
 * reports in an ::svd_fx what the caller MUST do: drive the interrupt line
 * to a level, carry out the configured ::svd_wdt_action when the final
 * stage expired (@c fired), and tick the engine again at @c deadline.
 *
 * Every watchdog has the face every device has (fx.h): access(space, address,
 * width, direction, value, now), tick(now), reset(now); the engine decodes the
 * address itself (its BAR or its fixed window), so a shim only forwards the
 * guest's access and applies the effects.
 *
 * A clock that goes backwards is treated as no time passing.
 *
 * Thread-safety: one thread per instance; all functions are pure and reentrant.
 */
#ifndef SAFEVDEV_WDT_H
#define SAFEVDEV_WDT_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/fx.h"
#include "safevdev/result.h"

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
