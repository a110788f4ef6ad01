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

/*@ // What svd_gmem_add() guarantees of every region, and the shim of the
    // memory behind it (safety manual: "the map describes memory the guest
    // owns"): non-empty, no wrap in guest or host space, readable host bytes,
    // writable ones where the region allows writes, none of them the map itself.
    predicate gmem_region_ok{L}(svd_gmem *m, integer i) =
        0 < m->regions[i].size && m->regions[i].gpa + m->regions[i].size <= UINT64_MAX &&
        m->regions[i].size <= SIZE_MAX &&
        \valid_read(m->regions[i].host + (0 .. m->regions[i].size - 1)) &&
        ((m->regions[i].access & SVD_GMEM_WRITE) != 0 ==> \valid(m->regions[i].host + (0 .. m->regions[i].size - 1))) &&
        \separated(m, m->regions[i].host + (0 .. m->regions[i].size - 1));
    // gmem_ok is the same facts over every region, as four predicates of one
    // quantifier each: a contract can then say which of them a call keeps,
    // and a prover carries each across a store apart from the map on its own.
    predicate gmem_sizes_ok{L}(svd_gmem *m) =
        m->count <= SVD_GMEM_MAX_REGIONS &&
        \forall integer i; 0 <= i < m->count ==>
            0 < m->regions[i].size && m->regions[i].gpa + m->regions[i].size <= UINT64_MAX &&
            m->regions[i].size <= SIZE_MAX;
    predicate gmem_hosts_read{L}(svd_gmem *m) =
        \forall integer i; 0 <= i < m->count ==> \valid_read(m->regions[i].host + (0 .. m->regions[i].size - 1));
    predicate gmem_hosts_write{L}(svd_gmem *m) =
        \forall integer i; 0 <= i < m->count ==>
            (m->regions[i].access & SVD_GMEM_WRITE) != 0 ==> \valid(m->regions[i].host + (0 .. m->regions[i].size - 1));
    predicate gmem_hosts_apart{L}(svd_gmem *m) =
        \forall integer i; 0 <= i < m->count ==> \separated(m, m->regions[i].host + (0 .. m->regions[i].size - 1));
    predicate gmem_ok{L}(svd_gmem *m) =
        \valid_read(m) && gmem_sizes_ok(m) && gmem_hosts_read(m) && gmem_hosts_write(m) && gmem_hosts_apart(m);
    // An access set inside a region's set asks for write only if the region allows it.
    lemma gmem_access_write: \forall integer a, x; 0 <= a <= UINT32_MAX ==> 0 <= x <= UINT32_MAX ==>
        (a & (uint32_t)~x) == 0 ==> (a & SVD_GMEM_WRITE) != 0 ==> (x & SVD_GMEM_WRITE) != 0;
    // [gpa, gpa + len) lies in region i, which allows @access.
    predicate gmem_in{L}(svd_gmem *m, integer i, integer gpa, integer len, integer access) =
        0 <= i < m->count && m->regions[i].gpa <= gpa && gpa + len <= m->regions[i].gpa + m->regions[i].size &&
        (access & (uint32_t)~m->regions[i].access) == 0;
*/

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
/*@ requires gmem_ok(m) && \valid(out) && \separated(out, m);
    assigns *out;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_INVALID_ARG ||
                  \result.err == SVD_ERR_OVERFLOW || \result.err == SVD_ERR_BOUNDS;
    ensures len0: len == 0 ==> \result.err == SVD_ERR_INVALID_ARG;
    ensures wrap: len > 0 && gpa + len > UINT64_MAX ==> \result.err == SVD_ERR_OVERFLOW;
    ensures inside: \result.err == SVD_OK ==> out->len == len &&
        \exists integer i; gmem_in(m, i, gpa, len, access) &&
                           out->ptr == m->regions[i].host + (gpa - m->regions[i].gpa);
    ensures valid: \result.err == SVD_OK ==> \valid_read(out->ptr + (0 .. out->len - 1)) &&
        ((access & SVD_GMEM_WRITE) != 0 ==> \valid(out->ptr + (0 .. out->len - 1)));
    ensures untouched: \result.err != SVD_OK ==> *out == \old(*out); */
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
/*@ requires gmem_ok(m) && \valid(out) && \separated(out, m);
    assigns *out;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_INVALID_ARG || \result.err == SVD_ERR_BOUNDS;
    ensures len0: len == 0 ==> \result.err == SVD_ERR_INVALID_ARG;
    ensures inside: \result.err == SVD_OK ==> 1 <= out->len <= len &&
        \exists integer i; gmem_in(m, i, gpa, out->len, access) &&
                           out->ptr == m->regions[i].host + (gpa - m->regions[i].gpa) &&
                           (out->len < len ==> gpa + out->len == m->regions[i].gpa + m->regions[i].size);
    ensures valid: \result.err == SVD_OK ==> \valid_read(out->ptr + (0 .. out->len - 1)) &&
        ((access & SVD_GMEM_WRITE) != 0 ==> \valid(out->ptr + (0 .. out->len - 1)));
    ensures untouched: \result.err != SVD_OK ==> *out == \old(*out); */
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
/*@ requires gmem_ok(m) && \valid(host) && \separated(host, m);
    assigns *host;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_OVERFLOW || \result.err == SVD_ERR_BOUNDS;
    ensures wrap: gpa + len > UINT64_MAX ==> \result.err == SVD_ERR_OVERFLOW;
    ensures nowrap: \result.err == SVD_OK ==> gpa + len <= UINT64_MAX;
    ensures inside: \result.err == SVD_OK && *host != \null ==> len > 0 &&
        \exists integer i; gmem_in(m, i, gpa, len, access) &&
                           *host == m->regions[i].host + (gpa - m->regions[i].gpa);
    ensures valid: \result.err == SVD_OK && *host != \null ==> \valid_read(*host + (0 .. len - 1)) &&
        ((access & SVD_GMEM_WRITE) != 0 ==> \valid(*host + (0 .. len - 1)));
    ensures untouched: \result.err != SVD_OK ==> *host == \old(*host); */
SVD_MUST_USE svd_result svd_gmem_check_host(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access,
                                            uint8_t **host);

#endif /* SAFEVDEV_GMEM_H */
