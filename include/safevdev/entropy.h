/**
 * @file entropy.h
 * @brief virtio-entropy device model (virtio 1.2 §5.4): device ID 4, one
 *        requestq, no configuration space, no device-specific features.
 *
 * The model takes chains from its request queue and fills their
 * device-writable buffers with bytes from an ::svd_entropy_source. It SHALL:
 * - never write a device-readable buffer, nor any byte outside the writable ones;
 * - complete a chain with no writable byte with length 0;
 * - complete every other chain with at least 1 byte, and never with bytes
 *   that did not come from the source (no zero or fake fill);
 * - when the source fails or returns nothing, keep the request pending and
 *   report when to retry (::svd_entropy_out.wake_at);
 * - admit requests through an optional ::svd_ratelimit, deferring (never
 *   blocking) a request that does not fit, and report when it will;
 * - run every byte the source delivers through the health tests of
 *   ::svd_health (NIST SP 800-90B §4.3/§4.4) before any of it reaches a guest
 *   buffer: the source fills a stage inside the model, and only bytes the
 *   tests pass are copied to the guest. Bytes the tests discard (start-up
 *   test, failure, recovery) never reach the guest; a request that got no
 *   byte stays pending and is retried like a request whose source failed.
 *
 * The engine is transport-independent: a virtio-mmio/pci shim drives it from
 * svd_dev_notify(), the vhost-user daemon from a kick, with the same calls.
 *
 * Thread-safety: one thread per instance.
 */
#ifndef SAFEVDEV_ENTROPY_H
#define SAFEVDEV_ENTROPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safevdev/device.h"
#include "safevdev/gmem.h"
#include "safevdev/health.h"
#include "safevdev/ratelimit.h"
#include "safevdev/result.h"
#include "safevdev/virtqueue.h"

/** @brief Virtio device ID of the entropy device. */
#define SVD_ENTROPY_DEVICE_ID 4u
/** @brief Segments of one request the model records (more are validated, not filled). */
#define SVD_ENTROPY_MAX_SEGS 16u
/** @brief Bytes the source fills per call, in the model's stage (larger requests take several calls). */
#define SVD_ENTROPY_STAGE 4096u
/** @brief Source calls one fill may make while a start-up test runs before it gives up until the retry. */
#define SVD_ENTROPY_STARTUP_ROUNDS 8u
/** @brief Default delay before retrying a failed source, in ns (10 ms). */
#define SVD_ENTROPY_DEFAULT_RETRY_NS UINT64_C(10000000)

/**
 * @brief Where entropy comes from. Implemented by the shim (getrandom(2), a
 *        device file, a test double).
 *
 * @c read fills up to @p len bytes at @p buf and stores the count in *got. It
 * MAY return fewer than @p len (even 0) with ::SVD_OK; it returns
 * ::SVD_ERR_AGAIN or ::SVD_ERR_SOURCE when it cannot deliver now. It MUST NOT
 * write outside [buf, buf+len). It is called only with len >= 1.
 */
typedef struct svd_entropy_source {
    svd_result (*read)(void *ctx, uint8_t *buf, size_t len, size_t *got); /**< Fill callback. */
    void *ctx; /**< Passed to @c read. */
} svd_entropy_source;

/** @brief Configuration of an entropy instance. */
typedef struct svd_entropy_cfg {
    svd_entropy_source source; /**< The source; @c read MUST NOT be NULL. */
    svd_tb_cfg rate_bytes;     /**< Byte bucket (all zero = unlimited). */
    svd_tb_cfg rate_ops;       /**< Request bucket (all zero = unlimited). */
    uint64_t retry_ns;         /**< Delay before retrying a failed source; 0 = ::SVD_ENTROPY_DEFAULT_RETRY_NS. */
    uint32_t min_entropy;      /**< Min-entropy per source byte the health tests assume, 1..8 bits; 0 = 8 (a conditioned source such as getrandom(2)). */
} svd_entropy_cfg;

/** @brief What one svd_entropy_process() call did and asks for. */
typedef struct svd_entropy_out {
    uint32_t completed; /**< Chains completed (pushed to the used ring). */
    uint64_t bytes;     /**< Bytes written into guest buffers. */
    bool wake;          /**< A request is waiting: call svd_entropy_process() again at @c wake_at. */
    uint64_t wake_at;   /**< Time (same clock as @c now) of the retry, when @c wake. */
} svd_entropy_out;

/** @brief Running totals, for logs and benchmarks. */
typedef struct svd_entropy_stats {
    uint64_t requests;        /**< Chains completed. */
    uint64_t bytes;           /**< Bytes delivered. */
    uint64_t source_failures; /**< Source calls that failed or returned 0 bytes. */
    uint64_t rate_deferrals;  /**< Times a request was deferred by the rate limiter. */
    svd_health_state health_state;  /**< State of the source's health tests. */
    uint64_t health_rct_failures;   /**< Repetition count test failures. */
    uint64_t health_apt_failures;   /**< Adaptive proportion test failures. */
    uint64_t health_discarded;      /**< Source bytes the health tests discarded (start-up tests, failures). */
} svd_entropy_stats;

/** @brief Entropy model state. Caller-allocated. */
typedef struct svd_entropy {
    svd_entropy_source source;                  /**< Source. */
    svd_ratelimit rl;                           /**< Rate limiter. */
    uint64_t retry_ns;                          /**< Retry delay. */
    svd_vq_chain pending;                       /**< Chain being served (valid = has a request). */
    svd_vq_desc segs[SVD_ENTROPY_MAX_SEGS];     /**< Storage of @c pending. */
    bool admitted;                              /**< @c pending passed the rate limiter. */
    uint64_t granted;                           /**< Bytes admitted for @c pending. */
    svd_health health;                          /**< Health tests of the source. */
    uint8_t stage[SVD_ENTROPY_STAGE];           /**< Source bytes waiting for the health tests' verdict. */
    svd_entropy_stats stats;                    /**< Totals. */
} svd_entropy;

/** @brief Device parameters of the entropy device, for svd_dev_init(). */
void svd_entropy_dev_params(svd_dev_params *p);

/**
 * @brief Initialise @p e from @p cfg at time @p now.
 * The health tests start with their start-up test (the first 1024 source
 * bytes are tested and discarded).
 * @return ::SVD_ERR_INVALID_ARG for a NULL source, an invalid bucket or a
 *         min_entropy above 8; @p e unusable then.
 */
SVD_MUST_USE svd_result svd_entropy_init(svd_entropy *e, const svd_entropy_cfg *cfg, uint64_t now);

/** @brief Drop the pending request (call on device or queue reset). Rate-limit and health-test state are kept. */
void svd_entropy_reset(svd_entropy *e);

/**
 * @brief Serve the request queue @p q until it is empty, the source fails or the limiter defers.
 * @param e   the model
 * @param q   its request queue
 * @param m   the guest memory map the queue was enabled with
 * @param now current time, nanoseconds of a monotonic clock
 * @param out receives what was done; zeroed first
 * @return ::SVD_OK (also when deferred: see out->wake); ::SVD_ERR_PROTOCOL if the
 *         driver broke the queue (the caller latches NEEDS_RESET); ::SVD_ERR_STATE
 *         if the queue is not usable.
 */
SVD_MUST_USE svd_result svd_entropy_process(svd_entropy *e, svd_vq *q, const svd_gmem *m, uint64_t now,
                                            svd_entropy_out *out);

#endif /* SAFEVDEV_ENTROPY_H */
