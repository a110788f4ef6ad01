/**
 * @file health.h
 * @brief Entropy source health tests: NIST SP 800-90B §4.4 continuous tests
 *        (repetition count, adaptive proportion) and the §4.3 start-up test,
 *        on 8-bit samples.
 *
 * The engine is fed every byte a source delivers, before any of it reaches a
 * consumer, and says whether that batch may be used:
 * - **Repetition count test (§4.4.1)**: a run of C identical samples fails,
 *   C = 1 + ⌈40 / H⌉.
 * - **Adaptive proportion test (§4.4.2)**: in a window of W = 512 samples
 *   (non-binary samples), the first sample of the window occurring C or more
 *   times fails, C = 1 + CRITBINOM(512, 2^-H, 1 − 2^-40).
 * - **Start-up test (§4.3)**: the first ::SVD_HEALTH_STARTUP_SAMPLES samples
 *   run through both tests and are discarded; output is released only after
 *   all of them passed.
 *
 * H is the min-entropy per sample the integrator states for the source
 * (1 to 8 bits per byte; 8 for a conditioned source such as the kernel's
 * getrandom(2)). The false-positive probability of each test is α = 2^-40
 * per sample (the low end of the 2^-20..2^-40 range §4.4 allows), so a
 * healthy source practically never trips. The cut-offs are a constant table
 * computed exactly by tools/health/cutoffs.py (which also reproduces NIST's
 * own table 2 for α = 2^-20):
 *
 * | H | RCT cut-off | APT cut-off |
 * |---|---|---|
 * | 1 | 41 | 336 |
 * | 2 | 21 | 201 |
 * | 3 | 15 | 123 |
 * | 4 | 11 | 78 |
 * | 5 | 9 | 51 |
 * | 6 | 8 | 35 |
 * | 7 | 7 | 26 |
 * | 8 | 6 | 19 |
 *
 * **Failure and recovery.** When a test fails, the whole batch that contained
 * the failing sample is discarded (also its samples before the failure), the
 * engine enters ::SVD_HEALTH_FAILED and both tests restart. It then runs the
 * start-up test again: ::SVD_HEALTH_STARTUP_SAMPLES consecutive samples must
 * pass (they are discarded too) before output is released again; a failure
 * during that retest restarts it. A source stuck for good (all zeros, one
 * byte repeated) therefore never releases a byte.
 *
 * A batch is released only when the engine was ::SVD_HEALTH_OK when the batch
 * began and no sample of the batch failed; a batch during which a start-up
 * test completes is still discarded.
 *
 * Pure: no heap, no globals, no syscalls. Thread-safety: one thread per engine.
 */
#ifndef SAFEVDEV_HEALTH_H
#define SAFEVDEV_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "safevdev/result.h"

/** @brief Adaptive proportion test window (non-binary samples, §4.4.2). */
#define SVD_HEALTH_APT_WINDOW 512u
/** @brief Samples a start-up (or recovery) test consumes (§4.3: at least 1024). */
#define SVD_HEALTH_STARTUP_SAMPLES 1024u
/** @brief Smallest stated min-entropy per byte, in bits. */
#define SVD_HEALTH_MIN_H 1u
/** @brief Largest stated min-entropy per byte, in bits. */
#define SVD_HEALTH_MAX_H 8u

/** @brief Where the engine is. */
typedef enum svd_health_state {
    SVD_HEALTH_STARTUP = 0, /**< Running the first start-up test: nothing released yet. */
    SVD_HEALTH_OK,          /**< Start-up passed, no failure since: batches that pass are released. */
    SVD_HEALTH_FAILED       /**< A test failed; the recovery start-up test runs: nothing released. */
} svd_health_state;

/** @brief Which test failed. */
typedef enum svd_health_test {
    SVD_HEALTH_NONE = 0, /**< No test failed. */
    SVD_HEALTH_RCT,      /**< Repetition count test (§4.4.1). */
    SVD_HEALTH_APT       /**< Adaptive proportion test (§4.4.2). */
} svd_health_test;

/** @brief Running totals. */
typedef struct svd_health_stats {
    uint64_t samples;      /**< Samples fed. */
    uint64_t released;     /**< Samples of batches released as usable. */
    uint64_t discarded;    /**< Samples of batches discarded (start-up tests, failures). */
    uint64_t rct_failures; /**< Repetition count test failures. */
    uint64_t apt_failures; /**< Adaptive proportion test failures. */
    uint64_t startups;     /**< Start-up tests passed (the first one, then one per recovery). */
} svd_health_stats;

/** @brief Health test engine. Caller-allocated; contents are private to health.c. */
typedef struct svd_health {
    uint32_t h_bits;              /**< Stated min-entropy per sample. */
    uint32_t rct_cutoff;          /**< Run length that fails the RCT. */
    uint32_t apt_cutoff;          /**< Count in a window that fails the APT. */
    svd_health_state state;       /**< See ::svd_health_state. */
    svd_health_test last_failure; /**< The test that failed last (::SVD_HEALTH_NONE if none yet). */
    uint32_t startup_left;        /**< Samples the running start-up test still needs. */
    uint32_t rct_count;           /**< Length of the current run (0: no sample yet). */
    uint32_t apt_count;           /**< Occurrences of @c apt_value in the current window. */
    uint32_t apt_seen;            /**< Samples of the current window seen (0: a new window starts). */
    uint8_t rct_value;            /**< Value of the current run. */
    uint8_t apt_value;            /**< First sample of the current window. */
    svd_health_stats stats;       /**< Totals. */
} svd_health;

/**
 * @brief Initialise @p h for a source of @p h_bits bits of min-entropy per byte.
 *
 * The engine starts in ::SVD_HEALTH_STARTUP.
 * @param h the engine.
 * @param h_bits stated min-entropy per sample, ::SVD_HEALTH_MIN_H to ::SVD_HEALTH_MAX_H.
 * @return ::SVD_ERR_INVALID_ARG for a NULL @p h or @p h_bits out of range (@p h unchanged).
 */
SVD_MUST_USE svd_result svd_health_init(svd_health *h, uint32_t h_bits);

/**
 * @brief Run @p len samples at @p buf through the tests and say whether they may be used.
 *
 * Unlike most calls, a failure result here does not mean "nothing changed":
 * the samples are always consumed (they count towards the tests), and the
 * result says what the caller SHALL do with them.
 * @param h the engine.
 * @param buf the samples, as the source delivered them.
 * @param len number of samples, at least 1.
 * @param failed receives the test that failed in this batch, ::SVD_HEALTH_NONE otherwise; may be NULL.
 * @return ::SVD_OK: every sample passed and the engine was ::SVD_HEALTH_OK: the
 *         caller MAY use them. ::SVD_ERR_AGAIN: the samples went to a start-up
 *         (or recovery) test: the caller SHALL discard them and feed more.
 *         ::SVD_ERR_SOURCE: a test failed in this batch (see @p failed): the
 *         caller SHALL discard all of them; the engine is ::SVD_HEALTH_FAILED.
 *         ::SVD_ERR_INVALID_ARG: NULL @p h or @p buf, or @p len 0 (nothing consumed).
 */
SVD_MUST_USE svd_result svd_health_feed(svd_health *h, const uint8_t *buf, size_t len, svd_health_test *failed);

/** @brief The engine's state. @p h MUST have been initialised. */
svd_health_state svd_health_state_of(const svd_health *h);

/** @brief The engine's totals. @p h MUST have been initialised. */
svd_health_stats svd_health_stats_of(const svd_health *h);

/**
 * @brief The cut-offs in use.
 * @param h an initialised engine.
 * @param rct receives the repetition count cut-off.
 * @param apt receives the adaptive proportion cut-off.
 */
void svd_health_cutoffs(const svd_health *h, uint32_t *rct, uint32_t *apt);

#endif /* SAFEVDEV_HEALTH_H */
