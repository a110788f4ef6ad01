/* Option numbers, written by hand: no locale, sign, whitespace or partial
 * parse (strtoull's habits) can slip through, and the core calls no libc. */
#include "safevdev/parse.h"

#include <stdbool.h>
#include <stddef.h>

#include "safevdev/span.h"

/* The value of digit @c in @base into *d; false when @c is not one. */
static bool digit_of(char c, uint32_t base, uint32_t *d)
{
    const uint32_t u = (uint32_t)(unsigned char)c;
    bool ok = true;
    if (u >= (uint32_t)'0' && u <= (uint32_t)'9') {
        *d = u - (uint32_t)'0';
    } else if (base == 16u && u >= (uint32_t)'a' && u <= (uint32_t)'f') {
        *d = (u - (uint32_t)'a') + 10u;
    } else if (base == 16u && u >= (uint32_t)'A' && u <= (uint32_t)'F') {
        *d = (u - (uint32_t)'A') + 10u;
    } else {
        ok = false;
    }
    return ok;
}

/* Length of @s if it ends within SVD_PARSE_MAX_LEN characters. */
static svd_result bounded_len(const char *s, size_t *len)
{
    size_t n = 0u;
    while (n < SVD_PARSE_MAX_LEN && s[n] != '\0') {
        n++;
    }
    SVD_ENSURE(s[n] == '\0', SVD_ERR_INVALID_ARG);
    *len = n;
    return svd_ok();
}

/* Parse [s, s+len) as one number. */
static svd_result parse_span(const char *s, size_t len, uint64_t *out)
{
    uint32_t base = 10u;
    size_t i = 0u;
    uint64_t v = 0u;
    SVD_ENSURE(len > 0u, SVD_ERR_INVALID_ARG);
    if (len > 2u && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16u;
        i = 2u;
    }
    for (; i < len; i++) {
        uint32_t d = 0u;
        SVD_ENSURE(digit_of(s[i], base, &d), SVD_ERR_INVALID_ARG);
        SVD_ENSURE(svd_is_ok(svd_mul_u64(v, base, &v)), SVD_ERR_INVALID_ARG);
        SVD_ENSURE(svd_is_ok(svd_add_u64(v, d, &v)), SVD_ERR_INVALID_ARG);
    }
    *out = v;
    return svd_ok();
}

svd_result svd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    size_t len = 0u;
    uint64_t v = 0u;
    SVD_ENSURE(s != NULL && out != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(bounded_len(s, &len));
    SVD_GUARD(parse_span(s, len, &v));
    SVD_ENSURE(v >= min && v <= max, SVD_ERR_INVALID_ARG);
    *out = v;
    return svd_ok();
}

svd_result svd_parse_pair(const char *s, uint64_t *a, uint64_t *b)
{
    size_t len = 0u;
    size_t comma = 0u;
    uint64_t va = 0u;
    uint64_t vb = 0u;
    SVD_ENSURE(s != NULL && a != NULL && b != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(bounded_len(s, &len));
    while (comma < len && s[comma] != ',') {
        comma++;
    }
    SVD_ENSURE(comma < len, SVD_ERR_INVALID_ARG);
    SVD_GUARD(parse_span(s, comma, &va));
    SVD_GUARD(parse_span(&s[comma + 1u], len - comma - 1u, &vb));
    *a = va;
    *b = vb;
    return svd_ok();
}
