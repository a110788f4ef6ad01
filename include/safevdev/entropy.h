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
 *   ask to be served again after the retry delay;
 * - admit requests through an optional ::svd_ratelimit, deferring (never
 *   blocking) a request that does not fit, and ask to be served again when
 *   it will;
 * - do at most the call's ::svd_budget of work, serving a larger request over
 *   several calls (its bytes accumulate; it is completed only when it has
 *   them all, or when the source gives out after at least one byte);
 * - apply the source-open policy: with @c open_timeout_ns set, the source
 *   may stay unavailable from the guest's first request for that long
 *   (retried every @c open_retry_ns) before the model gives up and the
 *   device latches NEEDS_RESET (::SVD_WHY_SOURCE_GAVE_UP); giving up is
 *   final for the instance (a device reset does not bring the source back);
 * - run every byte the source delivers through the health tests of
 *   ::svd_health (NIST SP 800-90B §4.3/§4.4) before any of it reaches a guest
 *   buffer: the source fills a stage inside the model, and only bytes the
 *   tests pass are copied to the guest. Bytes the tests discard (start-up
 *   test, failure, recovery) never reach the guest; a request that got no
 *   byte stays pending and is retried like a request whose source failed.
 *
 * The model is a ::svd_model (svd_entropy_model()): the composed engine
 * (vdev.h) serves its queue on every notification and deadline, whatever
 * the transport.
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
/** @brief Default delay between attempts while the source has never delivered, in ns (100 ms). */
#define SVD_ENTROPY_DEFAULT_OPEN_RETRY_NS UINT64_C(100000000)
/** @brief Default (and largest) queue size of the request queue. */
#define SVD_ENTROPY_QUEUE_MAX 256u

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
    /** Source-open policy: 0 = none (the source is expected to work from the start); otherwise how long,
        from the first request, the source may stay unavailable before the model gives up;
        ::SVD_NO_DEADLINE = wait forever. */
    uint64_t open_timeout_ns;
    uint64_t open_retry_ns;    /**< Retry delay while the source has never delivered; 0 = ::SVD_ENTROPY_DEFAULT_OPEN_RETRY_NS. */
    uint32_t min_entropy;      /**< Min-entropy per source byte the health tests assume, 1..8 bits; 0 = 8 (a conditioned source such as getrandom(2)). */
} svd_entropy_cfg;

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

/**
 * @brief Entropy model state. Caller-allocated.
 *
 * Opaque: the members are private to the model and SHALL NOT be accessed by
 * any other module; use the functions of this header.
 */
typedef struct svd_entropy {
    svd_entropy_source source;                  /**< Source. */
    svd_ratelimit rl;                           /**< Rate limiter. */
    uint64_t retry_ns;                          /**< Retry delay. */
    uint64_t open_timeout_ns;                   /**< Source-open policy (0 = none). */
    uint64_t open_retry_ns;                     /**< Retry delay while the source has never delivered. */
    uint64_t open_deadline;                     /**< When the policy gives up (set at the first request). */
    bool opened;                                /**< The source delivered at least once. */
    bool first_seen;                            /**< A request has been seen (the policy's clock runs). */
    bool gave_up;                               /**< The policy gave up: final. */
    svd_vq_chain pending;                       /**< Chain being served (valid = has a request). */
    svd_vq_desc segs[SVD_ENTROPY_MAX_SEGS];     /**< Storage of @c pending. */
    bool admitted;                              /**< @c pending passed the rate limiter. */
    uint64_t granted;                           /**< Bytes admitted for @c pending. */
    uint64_t done;                              /**< Bytes of @c pending written by earlier calls (budget). */
    svd_health health;                          /**< Health tests of the source. */
    uint8_t stage[SVD_ENTROPY_STAGE];           /**< Source bytes waiting for the health tests' verdict. */
    svd_entropy_stats stats;                    /**< Totals. */
} svd_entropy;

/**
 * @brief Initialise @p e from @p cfg at time @p now.
 * The health tests start with their start-up test (the first 1024 source
 * bytes are tested and discarded).
 * @return ::SVD_ERR_INVALID_ARG for a NULL source, an invalid bucket or a
 *         min_entropy above 8; @p e unusable then.
 */
SVD_MUST_USE svd_result svd_entropy_init(svd_entropy *e, const svd_entropy_cfg *cfg, uint64_t now);

/**
 * @brief The model interface of @p e for the composed engine: device ID 4,
 *        one queue of up to ::SVD_ENTROPY_QUEUE_MAX entries (a host MAY lower
 *        @c queue_max to another power of two), no configuration space.
 *        @p e MUST outlive every engine the model is given to.
 */
void svd_entropy_model(svd_entropy *e, svd_model *m);

/** @brief Running totals of @p e. */
const svd_entropy_stats *svd_entropy_stats_of(const svd_entropy *e);

/** @brief True once the source-open policy gave up (final for the instance). */
bool svd_entropy_gave_up(const svd_entropy *e);

#endif /* SAFEVDEV_ENTROPY_H */
