/* Shared helpers of the libFuzzer targets: a byte reader over the fuzzer
 * input that never fails (reads past the end return zeros), and FZ_CHECK,
 * which turns a broken invariant into a crash libFuzzer reports. Test code:
 * abort() is allowed here, never in src/. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FZ_CHECK(cond)                                                        \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                          \
        }                                                                     \
    } while (0)

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
    size_t pos;
} fz_in;

static inline uint8_t fz_u8(fz_in *in)
{
    uint8_t v = 0u;
    if (in->pos < in->n) {
        v = in->p[in->pos];
        in->pos++;
    }
    return v;
}

static inline uint16_t fz_u16(fz_in *in)
{
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)((uint16_t)fz_u8(in) << 8));
}

static inline uint32_t fz_u32(fz_in *in)
{
    uint32_t lo = fz_u16(in);
    return lo | ((uint32_t)fz_u16(in) << 16);
}

static inline uint64_t fz_u64(fz_in *in)
{
    uint64_t lo = fz_u32(in);
    return lo | ((uint64_t)fz_u32(in) << 32);
}

static inline size_t fz_left(const fz_in *in)
{
    return in->n - in->pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
