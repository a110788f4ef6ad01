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
 * @brief Which rule a failure broke: the reason a shim logs.
 *
 * Every ::SVD_ERR_PROTOCOL result names the guest (or front-end) rule it
 * found broken; other failures carry ::SVD_WHY_NONE unless stated. A device
 * that latches DEVICE_NEEDS_RESET keeps the reason of the first failure
 * (svd_vdev_why()) until it is reset.
 */
typedef enum svd_why {
    SVD_WHY_NONE = 0,          /**< No rule named (not a protocol error, or success). */
    SVD_WHY_STATUS_ORDER,      /**< Status bits added out of order, cleared, reserved, or after NEEDS_RESET/FAILED. */
    SVD_WHY_QUEUE_SIZE,        /**< Queue size 0, not a power of two, or above the queue's maximum. */
    SVD_WHY_QUEUE_ENABLED,     /**< Queue configuration written while the queue is enabled. */
    SVD_WHY_RING_ALIGN,        /**< A ring's guest address (or host mapping) is not aligned as the spec requires. */
    SVD_WHY_RING_MEMORY,       /**< A ring does not lie inside one guest memory region with the access it needs. */
    SVD_WHY_AVAIL_JUMP,        /**< The available index moved by more than the queue size. */
    SVD_WHY_HEAD_RANGE,        /**< A head index is not below the queue size. */
    SVD_WHY_HEAD_INFLIGHT,     /**< A head that is already in flight was made available again. */
    SVD_WHY_NEXT_RANGE,        /**< A next index is not below the size of the table it indexes. */
    SVD_WHY_CHAIN_LOOP,        /**< A chain visits more descriptors than its table holds (loop). */
    SVD_WHY_INDIRECT_FEATURE,  /**< An indirect descriptor without VIRTIO_F_INDIRECT_DESC negotiated. */
    SVD_WHY_INDIRECT_NESTED,   /**< An indirect descriptor inside an indirect table. */
    SVD_WHY_INDIRECT_NEXT,     /**< An indirect descriptor that also has NEXT set. */
    SVD_WHY_INDIRECT_LEN,      /**< An indirect table length of 0, not a multiple of 16, or above the queue size. */
    SVD_WHY_INDIRECT_MEMORY,   /**< An indirect table outside guest memory. */
    SVD_WHY_WRITE_ORDER,       /**< A device-readable descriptor after a device-writable one. */
    SVD_WHY_BUFFER_MEMORY,     /**< A buffer outside guest memory or without the access it needs. */
    SVD_WHY_CHAIN_LEN,         /**< The buffers of one chain total 2^32 bytes or more. */
    SVD_WHY_SOURCE_GAVE_UP,    /**< The device's backing service (entropy source) stayed unavailable past its limit. */
    SVD_WHY_RING_BASE,         /**< A packed ring's start position is not below the queue size. */
    SVD_WHY_DESC_WRAP,         /**< A packed chain's descriptor is not marked available for the current lap. */
    SVD_WHY_BUFFER_ID,         /**< A packed buffer id is not below the queue size. */
    SVD_WHY_RING_OVERRUN,      /**< A packed chain reaches ring descriptors still held by requests in flight. */
    SVD_WHY__COUNT             /**< Number of reasons; not a reason itself. */
} svd_why;

/**
 * @brief Result of a fallible call. Compare with svd_is_ok(), never by value.
 *
 * A struct rather than a bare enum so a result cannot be mixed up silently
 * with an integer or a boolean.
 */
typedef struct svd_result {
    svd_err err; /**< ::SVD_OK on success, the error class otherwise. */
    svd_why why; /**< The rule broken, for ::SVD_ERR_PROTOCOL; ::SVD_WHY_NONE otherwise. */
} svd_result;

/** @brief Build a success result. */
/*@ assigns \nothing;
    ensures \result.err == SVD_OK && \result.why == SVD_WHY_NONE; */
static inline svd_result svd_ok(void)
{
    svd_result r = { SVD_OK, SVD_WHY_NONE };
    return r;
}

/** @brief Build a failure result carrying @p e. @p e SHOULD NOT be ::SVD_OK. */
/*@ assigns \nothing;
    ensures \result.err == e && \result.why == SVD_WHY_NONE; */
static inline svd_result svd_fail(svd_err e)
{
    svd_result r = { e, SVD_WHY_NONE };
    return r;
}

/** @brief Build a failure result carrying @p e and the rule @p why that was broken. */
/*@ assigns \nothing;
    ensures \result.err == e && \result.why == why; */
static inline svd_result svd_fail_why(svd_err e, svd_why why)
{
    svd_result r = { e, why };
    return r;
}

/** @brief A protocol error (::SVD_ERR_PROTOCOL) naming the rule @p why. */
/*@ assigns \nothing;
    ensures \result.err == SVD_ERR_PROTOCOL && \result.why == why; */
static inline svd_result svd_protocol(svd_why why)
{
    return svd_fail_why(SVD_ERR_PROTOCOL, why);
}

/** @brief True when @p r is a success. */
/*@ assigns \nothing;
    ensures \result <==> r.err == SVD_OK; */
static inline bool svd_is_ok(svd_result r)
{
    return r.err == SVD_OK;
}

/** @brief True when @p r failed with exactly @p e. */
/*@ assigns \nothing;
    ensures \result <==> r.err == e; */
static inline bool svd_is_err(svd_result r, svd_err e)
{
    return r.err == e;
}

/**
 * @brief Short, stable, static name of an error code ("ok", "bounds", ...).
 * @return a string with static storage; "unknown" for a value out of range.
 */
const char *svd_err_name(svd_err e);

/**
 * @brief Short, stable, static name of a reason ("avail_jump", ...).
 * @return a string with static storage; "unknown" for a value out of range.
 */
const char *svd_why_name(svd_why w);

/** @brief Return failure @p e from the current function when @p cond is false. */
#define SVD_ENSURE(cond, e)              \
    do {                                 \
        if (!(cond)) {                   \
            return svd_fail(e);          \
        }                                \
    } while (0)

/** @brief Return a protocol error naming rule @p why from the current function when @p cond is false. */
#define SVD_ENSURE_RULE(cond, why)       \
    do {                                 \
        if (!(cond)) {                   \
            return svd_protocol(why);    \
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
