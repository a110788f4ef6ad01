/**
 * @file gmem.h
 * @brief Guest memory map: a table of guest-physical regions and bounded translation.
 *
 * The shim that owns guest memory (qvm adapter, vhost-user daemon, test
 * harness) describes it as up to ::SVD_GMEM_MAX_REGIONS regions, each a
 * guest-physical base, a size, a host pointer and the accesses allowed. The
 * core never sees guest memory any other way: every guest address is turned
 * into a host span by svd_gmem_translate() (or svd_gmem_translate_prefix(),
 * svd_gmem_check_host()), which checks the whole range first and touches
 * nothing on failure.
 *
 * Rules enforced when a region is added: non-zero size, gpa + size does not
 * wrap 2^64, host pointer non-NULL and host range does not wrap, no overlap
 * with an existing region (in guest-physical space), table not full.
 *
 * A buffer that crosses from one region into an adjacent one is checked whole
 * by svd_gmem_check_host() and walked piece by piece with
 * svd_gmem_translate_prefix(); the single-span svd_gmem_translate() refuses
 * it with ::SVD_ERR_BOUNDS.
 *
 * Thread-safety: the table MUST NOT be changed while another thread
 * translates through it. Translations are read-only on the table.
 */
#ifndef SAFEVDEV_GMEM_H
#define SAFEVDEV_GMEM_H

#include <stddef.h>
#include <stdint.h>

#include "safevdev/result.h"
#include "safevdev/span.h"

/** @brief Maximum number of regions in one guest memory map. */
#define SVD_GMEM_MAX_REGIONS 16u

/** @brief Access the device needs: it may read the bytes. */
#define SVD_GMEM_READ 0x1u
/** @brief Access the device needs: it may write the bytes. */
#define SVD_GMEM_WRITE 0x2u

/** @brief One region of guest-physical memory mapped into the host. */
typedef struct svd_gmem_region {
    uint64_t gpa;   /**< Guest-physical base address. */
    uint64_t size;  /**< Size in bytes, > 0. */
    uint8_t *host;  /**< Host address of byte @c gpa. */
    uint32_t access; /**< Allowed accesses: ::SVD_GMEM_READ | ::SVD_GMEM_WRITE. */
} svd_gmem_region;

/** @brief The guest memory map. Caller-allocated; initialise with svd_gmem_init(). */
typedef struct svd_gmem {
    svd_gmem_region regions[SVD_GMEM_MAX_REGIONS]; /**< Regions; only the first @c count are valid. */
    uint32_t count;                                /**< Number of valid regions. */
    uint32_t generation;                           /**< Bumped on every change of the table. */
} svd_gmem;

/**
 * @brief Empty the map. @p m MUST NOT be NULL.
 *
 * The generation is not reset: it continues from the value @p m held and is
 * bumped, so a map emptied and refilled in place never matches a generation a
 * queue cached from its earlier contents. A map's storage SHOULD therefore be
 * zeroed (or be static) before its very first svd_gmem_init().
 */
void svd_gmem_init(svd_gmem *m);

/**
 * @brief Add a region.
 * @param m      the map
 * @param gpa    guest-physical base
 * @param size   size in bytes, MUST be > 0
 * @param host   host pointer to the first byte, MUST NOT be NULL
 * @param access ::SVD_GMEM_READ and/or ::SVD_GMEM_WRITE, MUST be non-zero
 * @return ::SVD_OK; ::SVD_ERR_INVALID_ARG for a NULL/zero/unknown argument;
 *         ::SVD_ERR_OVERFLOW if gpa+size or host+size wraps; ::SVD_ERR_BOUNDS if
 *         it overlaps an existing region; ::SVD_ERR_NOSPACE if the table is full.
 *         The map is unchanged on failure.
 */
SVD_MUST_USE svd_result svd_gmem_add(svd_gmem *m, uint64_t gpa, uint64_t size, void *host, uint32_t access);

/**
 * @brief Translate [gpa, gpa+len) to one host span, all inside one region.
 * @param m      the map
 * @param gpa    guest-physical start (untrusted)
 * @param len    length in bytes (untrusted)
 * @param access accesses the caller will perform (::SVD_GMEM_READ / ::SVD_GMEM_WRITE)
 * @param out    receives the span; untouched on failure
 * @return ::SVD_OK; ::SVD_ERR_INVALID_ARG if len is 0; ::SVD_ERR_OVERFLOW if
 *         gpa+len wraps 2^64; ::SVD_ERR_BOUNDS if any byte is outside a single
 *         region or the region does not allow @p access.
 */
SVD_MUST_USE svd_result svd_gmem_translate(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access,
                                           svd_span *out);

/**
 * @brief Translate the longest prefix of [gpa, gpa+len) that lies in one region.
 *
 * Lets a caller walk a buffer that crosses region edges piece by piece
 * without copying: call again at gpa + out->len for the rest.
 * @return ::SVD_OK with 1 <= out->len <= len; ::SVD_ERR_INVALID_ARG if len is 0;
 *         ::SVD_ERR_BOUNDS if @p gpa itself is unmapped or lacks @p access.
 */
SVD_MUST_USE svd_result svd_gmem_translate_prefix(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access,
                                                  svd_span *out);

/**
 * @brief Check that every byte of [gpa, gpa+len) is backed, possibly across
 *        adjacent regions, with @p access allowed, and return where the range
 *        lies in the host when it lies in one region, so a caller can check
 *        once and use the buffer later without a second lookup.
 *
 * @param m      the map
 * @param gpa    first guest-physical byte
 * @param len    number of bytes; 0 is valid (and checks nothing but wrap-around)
 * @param access accesses the caller will perform (::SVD_GMEM_READ / ::SVD_GMEM_WRITE)
 * @param host on success, the host address of @p gpa if all of [gpa, gpa+len)
 *             lies in one region (len > 0), else NULL (the range crosses a
 *             region edge, or len is 0). Unchanged on failure. The address
 *             stays valid only while @p m keeps its generation.
 * @return ::SVD_OK; ::SVD_ERR_OVERFLOW if gpa+len wraps 2^64; ::SVD_ERR_BOUNDS
 *         if any byte is unbacked or its region does not allow @p access.
 */
SVD_MUST_USE svd_result svd_gmem_check_host(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access,
                                            uint8_t **host);

#endif /* SAFEVDEV_GMEM_H */
