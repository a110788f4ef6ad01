/* Models of the compiler builtins the core uses, for Frama-C (which does not
 * know them). Included before every core file of an analysis with
 * `-include`; never part of the C build.
 *
 * Each model is an assumption about the compiler (and, for the atomics,
 * about the hardware and the guest), registered in docs/misra-deviations.md
 * under the SVD-PRF ID given here. For Eva the models are C bodies with the
 * builtin's exact result; for WP (SVD_PROVE_WP defined) they are ACSL
 * contracts, and the bodies are proved against them where a prover can. */
#ifndef SVD_FC_BUILTINS_H
#define SVD_FC_BUILTINS_H

#include <stdbool.h>
#include <stdint.h>

/* SVD-PRF-001: __builtin_add_overflow / __builtin_mul_overflow (gcc manual,
 * "Integer Overflow Builtins"): the result is the infinitely precise value
 * reduced modulo 2^N, and the builtin returns whether that reduction changed
 * it. Frama-C 25 has no model and no _Generic, so the macros below dispatch
 * on the width of the result (the core uses only 32- and 64-bit unsigned
 * operands of the result's type). */
/*@ requires \valid(r);
    assigns *r \from a, b;
    ensures ovf: \result <==> a + b > UINT64_MAX;
    ensures val: !\result ==> *r == a + b; */
static inline bool svd_fc_add_ovf_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    *r = a + b;
    return b > UINT64_MAX - a;
}
/*@ requires \valid(r);
    assigns *r \from a, b;
    ensures ovf: \result <==> a + b > UINT32_MAX;
    ensures val: !\result ==> *r == a + b; */
static inline bool svd_fc_add_ovf_u32(uint32_t a, uint32_t b, uint32_t *r)
{
    *r = a + b;
    return b > UINT32_MAX - a;
}
/*@ requires \valid(r);
    assigns *r \from a, b;
    ensures ovf: \result <==> a * b > UINT64_MAX;
    ensures val: !\result ==> *r == a * b; */
static inline bool svd_fc_mul_ovf_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    *r = a * b;
    return a != 0u && b > UINT64_MAX / a;
}
#define __builtin_add_overflow(a, b, r)                                                    \
    (sizeof(*(r)) == 8u ? svd_fc_add_ovf_u64((uint64_t)(a), (uint64_t)(b), (uint64_t *)(void *)(r)) \
                        : svd_fc_add_ovf_u32((uint32_t)(a), (uint32_t)(b), (uint32_t *)(void *)(r)))
#define __builtin_mul_overflow(a, b, r) svd_fc_mul_ovf_u64((uint64_t)(a), (uint64_t)(b), (r))

/* SVD-PRF-002: __atomic_load_n / __atomic_store_n on the two ring indices and
 * the used element (gcc manual, "__atomic Builtins"). The ring is shared with
 * a guest that writes it concurrently: a load returns any value of the type
 * (the model reads nothing it could trust), a store writes the value. Both
 * require a valid, naturally aligned object (alignment is checked by
 * svd_vq_enable; Frama-C does not model it). Memory ordering is not modelled:
 * the analyses are of one thread; the ordering argument is in virtqueue.c. */
/*@ requires \valid_read(p);
    assigns \result \from *p; */
#ifdef SVD_PROVE_WP
uint16_t svd_fc_atomic_load_u16(const uint16_t *p);
#else
static inline uint16_t svd_fc_atomic_load_u16(const uint16_t *p)
{
    return *(const volatile uint16_t *)p; /* Eva: a volatile read is any value */
}
#endif
/*@ requires \valid_read(p);
    assigns \result \from *p; */
#ifdef SVD_PROVE_WP
uint32_t svd_fc_atomic_load_u32(const uint32_t *p);
#else
static inline uint32_t svd_fc_atomic_load_u32(const uint32_t *p)
{
    return *(const volatile uint32_t *)p; /* Eva: a volatile read is any value */
}
#endif
/*@ requires \valid(p);
    assigns *p \from v;
    ensures *p == v; */
static inline void svd_fc_atomic_store_u16(uint16_t *p, uint16_t v)
{
    *p = v;
}
/*@ requires \valid(p);
    assigns *p \from v;
    ensures *p == v; */
static inline void svd_fc_atomic_store_u32(uint32_t *p, uint32_t v)
{
    *p = v;
}
/* The width of the object decides the model (the packed ring loads its
 * 32-bit event suppression structure in one go). */
#define __atomic_load_n(p, mo)                                                              \
    (sizeof(*(p)) == 4u ? svd_fc_atomic_load_u32((const uint32_t *)(const void *)(p))      \
                        : (uint32_t)svd_fc_atomic_load_u16((const uint16_t *)(const void *)(p)))
#define __atomic_store_n(p, v, mo)                                                          \
    (sizeof(*(p)) == 4u ? svd_fc_atomic_store_u32((uint32_t *)(void *)(p), (uint32_t)(v)) \
                        : svd_fc_atomic_store_u16((uint16_t *)(void *)(p), (uint16_t)(v)))
/* A fence orders accesses between threads; one thread's semantics is unchanged. */
#define __atomic_thread_fence(mo) ((void)0)

/* SVD-PRF-003 (WP only): memcpy, specified on the bytes it copies. Frama-C's
 * libc contract is written on char and void pointers, which WP's typed
 * memory model cannot relate to the core's uint8_t buffers; this contract
 * states the same (C11 7.24.2.1) on uint8_t. Eva uses its own exact memcpy. */
#ifdef SVD_PROVE_WP
#include <string.h>
/*@ requires \valid(d + (0 .. n - 1));
    requires \valid_read(s + (0 .. n - 1));
    requires \separated(d + (0 .. n - 1), s + (0 .. n - 1));
    assigns d[0 .. n - 1] \from s[0 .. n - 1];
    ensures \forall integer i; 0 <= i < n ==> d[i] == \old(s[i]); */
void svd_fc_memcpy_u8(uint8_t *d, const uint8_t *s, size_t n);
#define memcpy(d, s, n) ((void)svd_fc_memcpy_u8((uint8_t *)(d), (const uint8_t *)(s), (n)), (d))
#endif

/* SVD-PRF-023 (Eva: SVD_EVA_MEM_CHECKED, which prove.py defines for every
 * driver): memcpy and memset with their ranges checked. Under -no-annot
 * Frama-C's libc specification is not parsed, and the bounds of a memcpy or
 * memset are that specification's preconditions: Eva's builtin does the
 * copy but checks no range (a memcpy of 17 bytes into a 16-byte array gives
 * 0 alarms). The models store the first and the last byte of the
 * destination, and read those of a memcpy's source, before the builtin does
 * the rest: Eva checks each of the two accesses for every n the call may
 * get, and an object is contiguous, so the whole range lies in the object
 * when both ends do.
 * Overlap (memcpy's other precondition) is not checked. */
#if !defined(SVD_PROVE_WP) && defined(SVD_EVA_MEM_CHECKED)
#include <string.h>
static inline void *svd_fc_memcpy_checked(void *d, const void *s, size_t n)
{
    if (n != 0u) {
        uint8_t *p = (uint8_t *)d;
        const uint8_t *q = (const uint8_t *)s;
        p[0] = q[0];
        p[n - 1u] = q[n - 1u];
    }
    return (memcpy)(d, s, n);
}
static inline void *svd_fc_memset_checked(void *d, int c, size_t n)
{
    if (n != 0u) {
        uint8_t *p = (uint8_t *)d;
        p[0] = (uint8_t)c;
        p[n - 1u] = (uint8_t)c;
    }
    return (memset)(d, c, n);
}
#define memcpy(d, s, n) svd_fc_memcpy_checked((d), (s), (n))
#define memset(d, c, n) svd_fc_memset_checked((d), (c), (n))
#endif

/* SVD-PRF-021 (Eva only): memcmp, which Eva has no builtin for (its libc
 * specification's clauses would stay unknown). The model compares the first
 * n bytes as unsigned char and returns a value of the sign C11 7.24.4.1
 * requires (its magnitude is unspecified there; the core compares it with 0
 * only). It reads every one of the n bytes of both objects, also after the
 * first difference, so Eva checks the whole range a library memcmp may read. */
#ifndef SVD_PROVE_WP
#include <string.h>
static inline int svd_fc_memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    int r = 0;
    for (size_t i = 0u; i < n; i++) {
        const unsigned char x = p[i];
        const unsigned char y = q[i];
        if (r == 0 && x != y) {
            r = (x < y) ? -1 : 1;
        }
    }
    return r;
}
#define memcmp(a, b, n) svd_fc_memcmp((a), (b), (n))
#endif

#endif /* SVD_FC_BUILTINS_H */
