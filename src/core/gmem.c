/* Guest memory map.
 *
 * Every check is written so that no sum of guest-controlled values is ever
 * formed before it is known not to wrap: offsets are computed as
 * gpa - region.gpa after gpa >= region.gpa, and lengths are compared with
 * the room left in the region, never added to the address. */
#include <string.h>

#include "safevdev/gmem.h"

#define GMEM_ACCESS_ALL (SVD_GMEM_READ | SVD_GMEM_WRITE)

void svd_gmem_init(svd_gmem *m)
{
    /* The generation is carried over and bumped, not zeroed: a map emptied
     * and refilled in place (vhost-user SET_MEM_TABLE) must never look like
     * the map a queue cached its ring pointers from. */
    const uint32_t gen = m->generation;
    (void)memset(m, 0, sizeof(*m));
    m->generation = gen + 1u;
}

svd_result svd_gmem_add(svd_gmem *m, uint64_t gpa, uint64_t size, void *host, uint32_t access)
{
    uint64_t end;
    uint32_t i;

    SVD_ENSURE(size > 0u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(host != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(access != 0u && (access | GMEM_ACCESS_ALL) == GMEM_ACCESS_ALL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_add_u64(gpa, size, &end));
#if SIZE_MAX < UINT64_MAX
    SVD_ENSURE(size <= (uint64_t)SIZE_MAX, SVD_ERR_OVERFLOW);
#endif
    /* cppcheck-suppress misra-c2012-11.6 ; SVD-DEV-001: host range wrap check needs the address as an integer */
    SVD_ENSURE((uint64_t)(UINTPTR_MAX - (uintptr_t)host) >= size, SVD_ERR_OVERFLOW);
    for (i = 0u; i < m->count; i++) {
        const svd_gmem_region *r = &m->regions[i];
        /* Both ranges are known not to wrap, so half-open overlap is exact. */
        SVD_ENSURE(!(gpa < r->gpa + r->size && r->gpa < end), SVD_ERR_BOUNDS);
    }
    SVD_ENSURE(m->count < SVD_GMEM_MAX_REGIONS, SVD_ERR_NOSPACE);

    m->regions[m->count].gpa = gpa;
    m->regions[m->count].size = size;
    m->regions[m->count].host = (uint8_t *)host;
    m->regions[m->count].access = access;
    m->count += 1u;
    m->generation += 1u;
    return svd_ok();
}

/* The region holding byte @gpa with @access allowed, or NULL. */
/*@ requires gmem_ok(m);
    assigns \nothing;
    ensures found: \result == \null || \exists integer i; gmem_in(m, i, gpa, 1, access) && \result == &m->regions[i];
    ensures region: \result != \null ==>
        \result->gpa <= gpa && gpa - \result->gpa < \result->size && (access & (uint32_t)~\result->access) == 0 &&
        \result->gpa + \result->size <= UINT64_MAX && \result->size <= SIZE_MAX &&
        \valid_read(\result->host + (0 .. \result->size - 1)) &&
        ((\result->access & SVD_GMEM_WRITE) != 0 ==> \valid(\result->host + (0 .. \result->size - 1))); */
static const svd_gmem_region *gmem_find(const svd_gmem *m, uint64_t gpa, uint32_t access)
{
    uint32_t i;
    /*@ loop invariant 0 <= i <= m->count;
        loop assigns i;
        loop variant m->count - i; */
    for (i = 0u; i < m->count && SVD_ALWAYS(i < SVD_GMEM_MAX_REGIONS); i++) {
        const svd_gmem_region *r = &m->regions[i];
        /*@ assert gmem_region_ok(m, i); */
        if (gpa >= r->gpa && gpa - r->gpa < r->size) {
            return ((access & ~r->access) == 0u) ? r : NULL;
        }
    }
    return NULL;
}

svd_result svd_gmem_translate_prefix(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access,
                                     svd_span *out)
{
    const svd_gmem_region *r;
    uint64_t off;
    uint64_t room;

    SVD_ENSURE(len > 0u, SVD_ERR_INVALID_ARG);
    r = gmem_find(m, gpa, access);
    SVD_ENSURE(r != NULL, SVD_ERR_BOUNDS);
    off = gpa - r->gpa;
    room = r->size - off;
    /* Region sizes fit size_t (checked by svd_gmem_add), so both casts are exact. */
    out->ptr = r->host + (size_t)off;
    out->len = (size_t)((len < room) ? len : room);
    return svd_ok();
}

svd_result svd_gmem_translate(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access, svd_span *out)
{
    uint64_t end;
    svd_span s;

    SVD_ENSURE(len > 0u, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_add_u64(gpa, len, &end));
    SVD_GUARD(svd_gmem_translate_prefix(m, gpa, len, access, &s));
    SVD_ENSURE((uint64_t)s.len == len, SVD_ERR_BOUNDS);
    *out = s;
    return svd_ok();
}

/* svd_gmem_check(); on success *host = the host address of gpa when the
 * whole (non-empty) range lies in one region, else NULL. */
/*@ requires gmem_ok(m) && \valid(host) && \separated(host, m);
    assigns *host;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_OVERFLOW || \result.err == SVD_ERR_BOUNDS;
    ensures wrap: gpa + len > UINT64_MAX ==> \result.err == SVD_ERR_OVERFLOW;
    ensures nowrap: \result.err == SVD_OK ==> gpa + len <= UINT64_MAX;
    ensures inside: \result.err == SVD_OK && *host != \null ==> len > 0 &&
        \exists integer i; gmem_in(m, i, gpa, len, access) &&
                           *host == m->regions[i].host + (gpa - m->regions[i].gpa);
    ensures untouched: \result.err != SVD_OK ==> *host == \old(*host); */
static svd_result gmem_check_range(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access, uint8_t **host)
{
    uint64_t end;
    uint64_t cur = gpa;
    uint64_t rem = len;
    uint8_t *h = NULL;

    SVD_GUARD(svd_add_u64(gpa, len, &end));
    /*@ loop invariant cur + rem == gpa + len && rem <= len;
        loop invariant h == \null;
        loop assigns cur, rem;
        loop variant rem; */
    /* One region lookup per region touched: each step consumes the rest of
     * one region or ends the range, so the loop runs at most count + 1
     * times whatever len is. cur + room is that region's end, which does
     * not wrap (checked by svd_gmem_add). */
    while (rem > 0u) {
        const svd_gmem_region *r = gmem_find(m, cur, access);
        SVD_ENSURE(r != NULL, SVD_ERR_BOUNDS);
        const uint64_t off = cur - r->gpa;
        const uint64_t room = r->size - off;
        if (rem <= room) {
            if (cur == gpa) {
                /* Region sizes fit size_t (svd_gmem_add): the cast is exact. */
                h = &r->host[(size_t)off];
            }
            break;
        }
        cur += room;
        rem -= room;
    }
    *host = h;
    return svd_ok();
}

svd_result svd_gmem_check(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access)
{
    uint8_t *host;
    return gmem_check_range(m, gpa, len, access, &host);
}

svd_result svd_gmem_check_host(const svd_gmem *m, uint64_t gpa, uint64_t len, uint32_t access, uint8_t **host)
{
    return gmem_check_range(m, gpa, len, access, host);
}

svd_result svd_gmem_read(const svd_gmem *m, uint64_t gpa, void *dst, size_t len)
{
    uint8_t *d = (uint8_t *)dst;
    uint64_t cur = gpa;
    size_t rem = len;

    SVD_ENSURE(len == 0u || dst != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_gmem_check(m, gpa, (uint64_t)len, SVD_GMEM_READ));
    while (rem > 0u) {
        svd_span s = { NULL, 0u };
        /* Called outside the marker: SVD_NEVER does not evaluate its argument
         * in coverage builds. */
        const svd_result r = svd_gmem_translate_prefix(m, cur, (uint64_t)rem, SVD_GMEM_READ, &s);
        if (SVD_NEVER(!svd_is_ok(r))) {
            return svd_fail(SVD_ERR_BOUNDS);
        }
        (void)memcpy(d, s.ptr, s.len);
        d += s.len;
        cur += (uint64_t)s.len;
        rem -= s.len;
    }
    return svd_ok();
}

svd_result svd_gmem_write(const svd_gmem *m, uint64_t gpa, const void *src, size_t len)
{
    const uint8_t *p = (const uint8_t *)src;
    uint64_t cur = gpa;
    size_t rem = len;

    SVD_ENSURE(len == 0u || src != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_gmem_check(m, gpa, (uint64_t)len, SVD_GMEM_WRITE));
    while (rem > 0u) {
        svd_span s = { NULL, 0u };
        /* Called outside the marker: SVD_NEVER does not evaluate its argument
         * in coverage builds. */
        const svd_result r = svd_gmem_translate_prefix(m, cur, (uint64_t)rem, SVD_GMEM_WRITE, &s);
        if (SVD_NEVER(!svd_is_ok(r))) {
            return svd_fail(SVD_ERR_BOUNDS);
        }
        (void)memcpy(s.ptr, p, s.len);
        p += s.len;
        cur += (uint64_t)s.len;
        rem -= s.len;
    }
    return svd_ok();
}
