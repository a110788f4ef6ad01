/**
 * @file ratelimit.h
 * @brief Token-bucket rate limiter with caller-injected time (Firecracker-style).
 *
 * A bucket holds at most @c size tokens and refills completely in
 * @c refill_ns nanoseconds, continuously (fractions of a token carry over).
 * An optional one-time burst is spent before the regular tokens. A limiter
 * combines a byte bucket and an operation bucket; a bucket with size 0 is
 * unlimited.
 *
 * The limiter never blocks and never reads a clock: the caller passes the
 * current time (any monotonic nanosecond counter) and, when a request does
 * not fit, asks svd_tb_wait_ns() how long to defer it. A clock that goes
 * backwards is treated as no time passing.
 *
 * Limits that keep the arithmetic exact without 128-bit division:
 * size <= ::SVD_TB_MAX_SIZE, 1 <= refill_ns <= ::SVD_TB_MAX_REFILL_NS.
 *
 * Thread-safety: one thread per bucket.
 */
#ifndef SAFEVDEV_RATELIMIT_H
#define SAFEVDEV_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/result.h"

/** @brief Largest bucket size (2^30 tokens). */
#define SVD_TB_MAX_SIZE (UINT64_C(1) << 30)
/** @brief Longest complete-refill time (2^32 ns, about 4.29 s). */
#define SVD_TB_MAX_REFILL_NS (UINT64_C(1) << 32)

/** @brief Configuration of one bucket. All zero = unlimited. */
typedef struct svd_tb_cfg {
    uint64_t size;           /**< Capacity in tokens; 0 = unlimited. */
    uint64_t one_time_burst; /**< Extra tokens available once, before refill (<= ::SVD_TB_MAX_SIZE). */
    uint64_t refill_ns;      /**< Time to refill from empty to full; MUST be >= 1 when size > 0. */
} svd_tb_cfg;

/** @brief One token bucket. */
typedef struct svd_tb {
    svd_tb_cfg cfg;   /**< Configuration. */
    uint64_t tokens;  /**< Regular tokens available (<= cfg.size). */
    uint64_t burst;   /**< One-time burst tokens left. */
    uint64_t frac;    /**< Refill remainder in token-nanoseconds, always < refill_ns. */
    uint64_t last_ns; /**< Time of the last refill. */
} svd_tb;

/** @brief Byte bucket plus operation bucket. */
typedef struct svd_ratelimit {
    svd_tb bytes; /**< Tokens are bytes. */
    svd_tb ops;   /**< Tokens are requests. */
} svd_ratelimit;

/*@ // The bucket invariant: the limits of this header hold, the regular
    // tokens never exceed the bucket and the carried fraction stays below one
    // token's worth of time.
    predicate tb_ok{L}(svd_tb *tb) =
        tb->cfg.size <= SVD_TB_MAX_SIZE &&
        (tb->cfg.size == 0 ==> tb->tokens == 0 && tb->burst == 0 && tb->frac == 0) &&
        (tb->cfg.size != 0 ==> 1 <= tb->cfg.refill_ns <= SVD_TB_MAX_REFILL_NS &&
                               tb->tokens <= tb->cfg.size && tb->burst <= SVD_TB_MAX_SIZE &&
                               tb->frac < tb->cfg.refill_ns);
    lemma tb_mul_bound: \forall integer a, b; 0 <= a < SVD_TB_MAX_REFILL_NS ==> 0 <= b <= SVD_TB_MAX_SIZE ==>
        a * b <= SVD_TB_MAX_REFILL_NS * SVD_TB_MAX_SIZE;
    lemma tb_mul_bound2: \forall integer a, b; 0 <= a <= SVD_TB_MAX_SIZE ==> 0 <= b <= SVD_TB_MAX_REFILL_NS ==>
        a * b <= SVD_TB_MAX_REFILL_NS * SVD_TB_MAX_SIZE;
*/

/**
 * @brief Initialise @p tb full at time @p now.
 * @return ::SVD_ERR_INVALID_ARG (tb unchanged) if a limit above is exceeded or
 *         refill_ns is 0 for a limited bucket.
 */
/*@ requires \valid(tb) && (cfg == \null || \valid_read(cfg)) && \separated(tb, cfg);
    assigns *tb;
    ensures ok: \result.err == SVD_OK ==> tb_ok(tb) && tb->tokens == tb->cfg.size;
    ensures err: \result.err == SVD_OK || \result.err == SVD_ERR_INVALID_ARG; */
SVD_MUST_USE svd_result svd_tb_init(svd_tb *tb, const svd_tb_cfg *cfg, uint64_t now);

/** @brief True if @p tb is unlimited. */
/*@ requires \valid_read(tb);
    assigns \nothing;
    ensures \result <==> tb->cfg.size == 0; */
bool svd_tb_unlimited(const svd_tb *tb);

/** @brief Add the tokens earned between the last refill and @p now. */
/*@ requires \valid(tb) && tb_ok(tb);
    assigns tb->tokens, tb->frac, tb->last_ns;
    ensures tb_ok(tb) && tb->tokens <= tb->cfg.size; */
void svd_tb_refill(svd_tb *tb, uint64_t now);

/**
 * @brief Take @p n tokens if available at @p now (refills first).
 * @return true and tokens taken, or false and nothing taken. Always true when unlimited.
 *         A request larger than the bucket can ever hold is never granted: callers
 *         MUST cap @p n at cfg.size (see svd_tb_cap()).
 */
/*@ requires \valid(tb) && tb_ok(tb);
    assigns tb->tokens, tb->frac, tb->last_ns, tb->burst;
    ensures tb_ok(tb) && tb->tokens <= tb->cfg.size;
    ensures never: tb->cfg.size != 0 && n > tb->cfg.size + SVD_TB_MAX_SIZE ==> !\result; */
bool svd_tb_consume(svd_tb *tb, uint64_t n, uint64_t now);

/** @brief @p n capped at the bucket size (unchanged when unlimited). */
/*@ requires \valid_read(tb);
    assigns \nothing;
    ensures \result <= n && (tb->cfg.size != 0 ==> \result <= tb->cfg.size); */
uint64_t svd_tb_cap(const svd_tb *tb, uint64_t n);

/**
 * @brief Nanoseconds from @p now until @p n tokens will be available (0 if now).
 *        @p n MUST be <= cfg.size for a limited bucket.
 */
/*@ requires \valid(tb) && tb_ok(tb);
    assigns tb->tokens, tb->frac, tb->last_ns;
    ensures tb_ok(tb); */
uint64_t svd_tb_wait_ns(svd_tb *tb, uint64_t n, uint64_t now);

/**
 * @brief Initialise both buckets (NULL cfg = unlimited).
 * @return as svd_tb_init(); @p rl unchanged on failure.
 */
/*@ requires \valid(rl) && (bytes == \null || \valid_read(bytes)) && (ops == \null || \valid_read(ops));
    requires \separated(rl, bytes) && \separated(rl, ops);
    assigns *rl;
    ensures ok: \result.err == SVD_OK ==> tb_ok(&rl->bytes) && tb_ok(&rl->ops); */
SVD_MUST_USE svd_result svd_ratelimit_init(svd_ratelimit *rl, const svd_tb_cfg *bytes, const svd_tb_cfg *ops,
                                           uint64_t now);

/**
 * @brief Admit one request of @p want bytes at @p now.
 *
 * The request is admitted when one op token and min(want, byte bucket size)
 * byte tokens are available; both are taken together or neither.
 * @param rl      the limiter
 * @param want    bytes the request could take
 * @param now     current time (ns)
 * @param granted receives the byte count admitted (min(want, bucket size); want when unlimited)
 * @param wait_ns receives, when not admitted, the delay after which to retry
 * @return true if admitted.
 */
/*@ requires \valid(rl) && tb_ok(&rl->bytes) && tb_ok(&rl->ops) && \valid(granted) && \valid(wait_ns);
    requires \separated(rl, granted, wait_ns);
    assigns rl->bytes.tokens, rl->bytes.frac, rl->bytes.last_ns, rl->bytes.burst,
            rl->ops.tokens, rl->ops.frac, rl->ops.last_ns, rl->ops.burst, *granted, *wait_ns;
    ensures tb_ok(&rl->bytes) && tb_ok(&rl->ops);
    ensures \result ==> *granted <= want; */
bool svd_ratelimit_admit(svd_ratelimit *rl, uint64_t want, uint64_t now, uint64_t *granted, uint64_t *wait_ns);

/**
 * @name Per-second rate options
 * The one option set both hosts offer for a rate-limited device, with one
 * meaning, one range and one number grammar (parse.h):
 * - `rate-bytes N`: bytes per second, 0 (unlimited, the default) to ::SVD_RATE_MAX;
 * - `rate-burst N`: one-time extra bytes, 0 to ::SVD_RATE_MAX; needs rate-bytes;
 * - `rate-ops N`: requests per second, 0 (unlimited) to ::SVD_RATE_MAX;
 * - `rate-ops-burst N`: one-time extra requests, 0 to ::SVD_RATE_MAX; needs rate-ops.
 * A rate becomes a bucket holding a tenth of a second's worth (at least one
 * token) that refills in a tenth of a second, so the standing burst stays
 * small and the long-run rate is the one asked for.
 * @{
 */

/** @brief Largest rate or burst (2^30). */
#define SVD_RATE_MAX (UINT64_C(1) << 30)

/** @brief The rate options. */
typedef enum svd_rate_opt {
    SVD_RATE_BYTES = 0,  /**< rate-bytes */
    SVD_RATE_BURST,      /**< rate-burst */
    SVD_RATE_OPS,        /**< rate-ops */
    SVD_RATE_OPS_BURST,  /**< rate-ops-burst */
    SVD_RATE__COUNT      /**< Number of options; not an option itself. */
} svd_rate_opt;

/** @brief Values of the rate options (all 0: unlimited). */
typedef struct svd_rate_opts {
    uint64_t v[SVD_RATE__COUNT]; /**< Indexed by ::svd_rate_opt. */
} svd_rate_opts;

/** @brief The option's name without dashes ("rate-bytes", ...); "unknown" out of range. */
const char *svd_rate_opt_name(svd_rate_opt o);

/** @brief What the option expects, for an error message ("bytes per second, 0 (unlimited) to 1073741824"). */
const char *svd_rate_opt_expects(svd_rate_opt o);

/**
 * @brief Parse @p value for option @p o into @p r.
 * @return ::SVD_ERR_INVALID_ARG for an unknown option or a value outside the
 *         grammar or the range (@p r unchanged).
 */
SVD_MUST_USE svd_result svd_rate_opt_set(svd_rate_opts *r, svd_rate_opt o, const char *value);

/**
 * @brief The two buckets @p r describes.
 * @param r the options
 * @param bytes receives the byte bucket
 * @param ops receives the request bucket
 * @param bad receives, on failure, the option that is refused
 * @return ::SVD_ERR_INVALID_ARG when a burst is given without its rate
 *         (outputs other than @p bad untouched).
 */
SVD_MUST_USE svd_result svd_rate_to_buckets(const svd_rate_opts *r, svd_tb_cfg *bytes, svd_tb_cfg *ops,
                                            svd_rate_opt *bad);
/** @} */

#endif /* SAFEVDEV_RATELIMIT_H */
