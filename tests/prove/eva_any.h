/* Arbitrary values for the Eva drivers. A read of a volatile object is any
 * value of its type to Eva (and to the C abstract machine: it may be changed
 * by something the program does not see); clamping it to [lo, hi] gives Eva
 * exactly that range, without relying on ACSL (the drivers run with
 * -no-annot: the core's contracts are WP's, see prove.py). */
#ifndef SVD_EVA_ANY_H
#define SVD_EVA_ANY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static volatile uint64_t eva_world;

static inline uint64_t eva_u64r(uint64_t lo, uint64_t hi)
{
    uint64_t x = eva_world;
    if (x < lo || x > hi) {
        x = lo;
    }
    return x;
}

static inline int eva_int(int lo, int hi)
{
    return (int)((int64_t)lo + (int64_t)eva_u64r(0u, (uint64_t)((int64_t)hi - (int64_t)lo)));
}

static inline uint32_t eva_u32r(uint32_t lo, uint32_t hi)
{
    return (uint32_t)eva_u64r(lo, hi);
}

static inline size_t eva_size(size_t lo, size_t hi)
{
    return (size_t)eva_u64r(lo, hi);
}

static inline uint64_t any_u64(void)
{
    return eva_u64r(0u, UINT64_MAX);
}

static inline uint32_t any_u32(void)
{
    return eva_u32r(0u, UINT32_MAX);
}

/* Fill [p, p + n) with unknown bytes (guest memory the guest may rewrite at any time). */
static inline void eva_unknown(uint8_t *p, size_t n)
{
    for (size_t i = 0u; i < n; i++) {
        p[i] = (uint8_t)eva_u64r(0u, 255u);
    }
}

#endif /* SVD_EVA_ANY_H */
