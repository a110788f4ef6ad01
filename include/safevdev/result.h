/**
 * @file result.h
 * @brief Must-use result type, propagation macros and coverage markers.
 *
 * Every fallible function of safevdev returns ::svd_result and is declared
 * with ::SVD_MUST_USE, so a caller that drops a result gets a compiler
 * warning (an error under the project's -Werror build).
 *
 * Propagation is done with two macros, the only control-flow macros of the
 * project:
 * - ::SVD_ENSURE(cond, err): if @p cond is false, return a failure @p err.
 * - ::SVD_GUARD(expr): evaluate a result; if it failed, return it unchanged.
 *
 * Contract shared by every function returning ::svd_result: on failure the
 * function SHALL leave its context exactly as it was before the call, unless
 * its documentation says the failure latches (see ::SVD_ERR_PROTOCOL).
 *
 * Thread-safety: everything here is pure and reentrant.
 */
#ifndef SAFEVDEV_RESULT_H
#define SAFEVDEV_RESULT_H

#include <stdbool.h>
#include <stdint.h>

/** @brief Marks a function whose return value MUST be used by the caller. */
#define SVD_MUST_USE __attribute__((warn_unused_result))

/** @brief Error codes carried by ::svd_result. */
typedef enum svd_err {
    SVD_OK = 0,            /**< Success. */
    SVD_ERR_INVALID_ARG,   /**< A host-side (caller) argument is invalid: NULL, zero size, bad option. */
    SVD_ERR_BOUNDS,        /**< An address or offset falls outside the object it must lie in. */
    SVD_ERR_OVERFLOW,      /**< An arithmetic result would not fit its type. */
    SVD_ERR_STATE,         /**< The call is not allowed in the current state of the engine. */
    SVD_ERR_PROTOCOL,      /**< The guest (or front-end) broke the virtio protocol; the device latches DEVICE_NEEDS_RESET. */
    SVD_ERR_EMPTY,         /**< Nothing to do: no available buffer, no pending request. Not a failure of the guest. */
    SVD_ERR_AGAIN,         /**< Resource temporarily unavailable (rate limit, entropy source); retry later. */
    SVD_ERR_NOSPACE,       /**< Caller-provided storage is too small. */
    SVD_ERR_SOURCE,        /**< An external source (entropy, host service) failed. */
    SVD_ERR__COUNT         /**< Number of codes; not an error code itself. */
} svd_err;

/**
 * @brief Result of a fallible call. Compare with svd_is_ok(), never by value.
 *
 * A struct rather than a bare enum so a result cannot be mixed up silently
 * with an integer or a boolean.
 */
typedef struct svd_result {
    svd_err err; /**< ::SVD_OK on success, the reason otherwise. */
} svd_result;

/** @brief Build a success result. */
static inline svd_result svd_ok(void)
{
    svd_result r = { SVD_OK };
    return r;
}

/** @brief Build a failure result carrying @p e. @p e SHOULD NOT be ::SVD_OK. */
static inline svd_result svd_fail(svd_err e)
{
    svd_result r = { e };
    return r;
}

/** @brief True when @p r is a success. */
static inline bool svd_is_ok(svd_result r)
{
    return r.err == SVD_OK;
}

/** @brief True when @p r failed with exactly @p e. */
static inline bool svd_is_err(svd_result r, svd_err e)
{
    return r.err == e;
}

/**
 * @brief Short, stable, static name of an error code ("ok", "bounds", ...).
 * @return a string with static storage; "unknown" for a value out of range.
 */
const char *svd_err_name(svd_err e);

/** @brief Return failure @p e from the current function when @p cond is false. */
#define SVD_ENSURE(cond, e)              \
    do {                                 \
        if (!(cond)) {                   \
            return svd_fail(e);          \
        }                                \
    } while (0)

/** @brief Evaluate @p expr (an ::svd_result) and return it from the current function if it failed. */
#define SVD_GUARD(expr)                          \
    do {                                         \
        const svd_result svd_guard_r_ = (expr);  \
        if (!svd_is_ok(svd_guard_r_)) {          \
            return svd_guard_r_;                 \
        }                                        \
    } while (0)

/**
 * @def SVD_ALWAYS
 * @brief Defensive condition believed always true (SQLite's ALWAYS).
 *
 * In normal and release builds it evaluates @p x, so the defensive branch is
 * still taken if the belief is ever wrong. In a coverage build
 * (SVD_COVERAGE defined) @p x is still evaluated (its side effects happen)
 * but the condition is the constant 1, so a branch no test can reach is not
 * counted as untested: the coverage figure stays honest.
 */
/**
 * @def SVD_NEVER
 * @brief Defensive condition believed always false (SQLite's NEVER); see ::SVD_ALWAYS.
 */
#if defined(SVD_COVERAGE)
#define SVD_ALWAYS(x) ((void)(x), 1)
#define SVD_NEVER(x) ((void)(x), 0)
#else
#define SVD_ALWAYS(x) (x)
#define SVD_NEVER(x) (x)
#endif

#endif /* SAFEVDEV_RESULT_H */
