/* Spans, the reading cursor, little-endian accessors and checked arithmetic.
 *
 * The LE loads/stores are written byte by byte with shifts: correct on any
 * host byte order and with any alignment, and compilers turn them into a
 * single move on little-endian targets. */
#include "safevdev/span.h"

svd_result svd_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    uint64_t r;
    SVD_ENSURE(!__builtin_add_overflow(a, b, &r), SVD_ERR_OVERFLOW);
    *out = r;
    return svd_ok();
}

svd_result svd_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    uint64_t r;
    SVD_ENSURE(!__builtin_mul_overflow(a, b, &r), SVD_ERR_OVERFLOW);
    *out = r;
    return svd_ok();
}

svd_result svd_range_check(uint64_t off, uint64_t len, uint64_t size)
{
    /* Written without computing off+len, so a wrapping sum cannot sneak in. */
    SVD_ENSURE(off <= size, SVD_ERR_BOUNDS);
    SVD_ENSURE(len <= size - off, SVD_ERR_BOUNDS);
    return svd_ok();
}

svd_span svd_span_make(void *ptr, size_t len)
{
    svd_span s;
    s.ptr = (uint8_t *)ptr;
    s.len = len;
    return s;
}

void svd_cursor_init(svd_cursor *c, svd_span s)
{
    c->buf = s;
    c->pos = 0u;
}

size_t svd_cursor_remaining(const svd_cursor *c)
{
    return c->buf.len - c->pos;
}

svd_result svd_cursor_skip(svd_cursor *c, size_t n)
{
    SVD_ENSURE(n <= svd_cursor_remaining(c), SVD_ERR_BOUNDS);
    c->pos += n;
    return svd_ok();
}

svd_result svd_cursor_read_le64(svd_cursor *c, uint64_t *v)
{
    /* pos <= len is the cursor's invariant; stated again so that the read's
     * bound, pos + 8 <= len, follows from this check alone. */
    SVD_ENSURE(SVD_ALWAYS(c->pos <= c->buf.len) && c->buf.len - c->pos >= 8u, SVD_ERR_BOUNDS);
    *v = svd_load_le64(c->buf.ptr + c->pos);
    c->pos += 8u;
    return svd_ok();
}

uint32_t svd_load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t svd_load_le64(const uint8_t *p)
{
    return (uint64_t)svd_load_le32(p) | ((uint64_t)svd_load_le32(p + 4) << 32);
}

void svd_store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

void svd_store_le64(uint8_t *p, uint64_t v)
{
    svd_store_le32(p, (uint32_t)(v & 0xFFFFFFFFu));
    svd_store_le32(p + 4, (uint32_t)(v >> 32));
}
