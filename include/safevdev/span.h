/**
 * @file span.h
 * @brief Bounded byte spans, cursors over them, little-endian accessors and
 *        overflow-checked arithmetic.
 *
 * A span is a (pointer, length) pair; a cursor is a span plus a position.
 * Code that touches guest or peer bytes SHALL go through these accessors and
 * never do raw pointer arithmetic: every access is bounds-checked, and a
 * failed access leaves the cursor where it was.
 *
 * All multi-byte accessors are little-endian (virtio 1.x byte order),
 * independent of the host's byte order.
 *
 * Thread-safety: functions are reentrant; a span or cursor MUST NOT be
 * modified by two threads at once.
 */
#ifndef SAFEVDEV_SPAN_H
#define SAFEVDEV_SPAN_H

#include <stddef.h>
#include <stdint.h>

#include "safevdev/result.h"

/** @brief A bounded, writable byte range. An empty span has len 0 (ptr may be NULL). */
typedef struct svd_span {
    uint8_t *ptr; /**< First byte; MAY be NULL only when len is 0. */
    size_t len;   /**< Number of bytes. */
} svd_span;

/** @brief A cursor: reads and writes advance @c pos and never pass @c buf.len. */
typedef struct svd_cursor {
    svd_span buf; /**< Underlying span. */
    size_t pos;   /**< Next byte to read or write; always <= buf.len. */
} svd_cursor;

/*@ // The cursor invariant: pos never passes the end, and the bytes are there.
    predicate cursor_ok{L}(svd_cursor *c) =
        \valid_read(c) && c->pos <= c->buf.len &&
        \valid_read(c->buf.ptr + (0 .. c->buf.len - 1));
    predicate cursor_wr{L}(svd_cursor *c) =
        cursor_ok(c) && \valid(c->buf.ptr + (0 .. c->buf.len - 1));
*/

/** @brief a + b into *out; ::SVD_ERR_OVERFLOW (and *out untouched) if it wraps. */
/*@ requires \valid(out);
    assigns *out;
    ensures ok: \result.err == SVD_OK <==> a + b <= UINT64_MAX;
    ensures err: \result.err == SVD_OK || \result.err == SVD_ERR_OVERFLOW;
    ensures val: \result.err == SVD_OK ==> *out == a + b;
    ensures untouched: \result.err != SVD_OK ==> *out == \old(*out); */
SVD_MUST_USE svd_result svd_add_u64(uint64_t a, uint64_t b, uint64_t *out);
/** @brief a * b into *out; ::SVD_ERR_OVERFLOW (and *out untouched) if it wraps. */
/*@ requires \valid(out);
    assigns *out;
    ensures ok: \result.err == SVD_OK <==> a * b <= UINT64_MAX;
    ensures err: \result.err == SVD_OK || \result.err == SVD_ERR_OVERFLOW;
    ensures val: \result.err == SVD_OK ==> *out == a * b;
    ensures untouched: \result.err != SVD_OK ==> *out == \old(*out); */
SVD_MUST_USE svd_result svd_mul_u64(uint64_t a, uint64_t b, uint64_t *out);
/** @brief a + b into *out; ::SVD_ERR_OVERFLOW (and *out untouched) if it wraps. */
/*@ requires \valid(out);
    assigns *out;
    ensures ok: \result.err == SVD_OK <==> a + b <= UINT32_MAX;
    ensures err: \result.err == SVD_OK || \result.err == SVD_ERR_OVERFLOW;
    ensures val: \result.err == SVD_OK ==> *out == a + b;
    ensures untouched: \result.err != SVD_OK ==> *out == \old(*out); */
SVD_MUST_USE svd_result svd_add_u32(uint32_t a, uint32_t b, uint32_t *out);
/**
 * @brief Check that [off, off+len) lies inside an object of @p size bytes.
 * @return ::SVD_OK, or ::SVD_ERR_BOUNDS (also when off+len wraps).
 */
/*@ assigns \nothing;
    ensures ok: \result.err == SVD_OK <==> off + len <= size;
    ensures err: \result.err == SVD_OK || \result.err == SVD_ERR_BOUNDS; */
SVD_MUST_USE svd_result svd_range_check(uint64_t off, uint64_t len, uint64_t size);

/** @brief Make a span from @p ptr and @p len. */
/*@ assigns \nothing;
    ensures \result.len == len; */
svd_span svd_span_make(void *ptr, size_t len);

/**
 * @brief Sub-span [off, off+len) of @p s into *out.
 * @return ::SVD_ERR_BOUNDS if it does not lie inside @p s; *out untouched then.
 */
/*@ requires \valid(out);
    assigns *out;
    ensures ok: \result.err == SVD_OK <==> off + len <= s.len;
    ensures err: \result.err == SVD_OK || \result.err == SVD_ERR_BOUNDS;
    ensures inside: \result.err == SVD_OK ==>
        out->len == len && (len > 0 ==> out->ptr == s.ptr + off) && (len == 0 ==> out->ptr == s.ptr);
    ensures untouched: \result.err != SVD_OK ==> *out == \old(*out); */
SVD_MUST_USE svd_result svd_span_sub(svd_span s, size_t off, size_t len, svd_span *out);

/** @brief Initialise @p c over @p s at position 0. */
/*@ requires \valid(c);
    assigns *c;
    ensures c->buf == s && c->pos == 0; */
void svd_cursor_init(svd_cursor *c, svd_span s);
/** @brief Bytes left between pos and the end. */
/*@ requires \valid_read(c) && c->pos <= c->buf.len;
    assigns \nothing;
    ensures \result == c->buf.len - c->pos; */
size_t svd_cursor_remaining(const svd_cursor *c);
/** @brief Move pos forward by @p n; ::SVD_ERR_BOUNDS if fewer than @p n remain. */
/*@ requires \valid(c) && c->pos <= c->buf.len;
    assigns c->pos;
    ensures ok: \result.err == SVD_OK <==> n <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + n;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_skip(svd_cursor *c, size_t n);
/** @brief Copy @p n bytes out; ::SVD_ERR_BOUNDS (nothing copied) if fewer remain. */
/*@ requires cursor_ok(c) && \valid(c);
    requires \valid((uint8_t *)dst + (0 .. n - 1));
    requires \separated((uint8_t *)dst + (0 .. n - 1), c->buf.ptr + (0 .. c->buf.len - 1), c);
    assigns c->pos, ((uint8_t *)dst)[0 .. n - 1];
    ensures ok: \result.err == SVD_OK <==> n <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + n;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_read(svd_cursor *c, void *dst, size_t n);
/** @brief Copy @p n bytes in; ::SVD_ERR_BOUNDS (nothing written) if fewer remain. */
/*@ requires cursor_wr(c) && \valid(c);
    requires \valid_read((const uint8_t *)src + (0 .. n - 1));
    requires \separated((const uint8_t *)src + (0 .. n - 1), c->buf.ptr + (0 .. c->buf.len - 1), c);
    requires \separated(c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, c->buf.ptr[c->pos .. c->buf.len - 1];
    ensures ok: \result.err == SVD_OK <==> n <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + n;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_write(svd_cursor *c, const void *src, size_t n);
/** @brief Read one byte. */
/*@ requires cursor_ok(c) && \valid(c) && \valid(v);
    requires \separated(v, c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, *v;
    ensures ok: \result.err == SVD_OK <==> 1 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 1;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos) && *v == \old(*v);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_read_u8(svd_cursor *c, uint8_t *v);
/** @brief Read a little-endian 16-bit value. */
/*@ requires cursor_ok(c) && \valid(c) && \valid(v);
    requires \separated(v, c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, *v;
    ensures ok: \result.err == SVD_OK <==> 2 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 2;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos) && *v == \old(*v);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_read_le16(svd_cursor *c, uint16_t *v);
/** @brief Read a little-endian 32-bit value. */
/*@ requires cursor_ok(c) && \valid(c) && \valid(v);
    requires \separated(v, c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, *v;
    ensures ok: \result.err == SVD_OK <==> 4 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 4;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos) && *v == \old(*v);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_read_le32(svd_cursor *c, uint32_t *v);
/** @brief Read a little-endian 64-bit value. */
/*@ requires cursor_ok(c) && \valid(c) && \valid(v);
    requires \separated(v, c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, *v;
    ensures ok: \result.err == SVD_OK <==> 8 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 8;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos) && *v == \old(*v);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_read_le64(svd_cursor *c, uint64_t *v);
/** @brief Write one byte. */
/*@ requires cursor_wr(c) && \valid(c);
    requires \separated(c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, c->buf.ptr[c->pos .. c->pos + 0];
    ensures ok: \result.err == SVD_OK <==> 1 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 1;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_write_u8(svd_cursor *c, uint8_t v);
/** @brief Write a little-endian 16-bit value. */
/*@ requires cursor_wr(c) && \valid(c);
    requires \separated(c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, c->buf.ptr[c->pos .. c->pos + 1];
    ensures ok: \result.err == SVD_OK <==> 2 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 2;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_write_le16(svd_cursor *c, uint16_t v);
/** @brief Write a little-endian 32-bit value. */
/*@ requires cursor_wr(c) && \valid(c);
    requires \separated(c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, c->buf.ptr[c->pos .. c->pos + 3];
    ensures ok: \result.err == SVD_OK <==> 4 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 4;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_write_le32(svd_cursor *c, uint32_t v);
/** @brief Write a little-endian 64-bit value. */
/*@ requires cursor_wr(c) && \valid(c);
    requires \separated(c, c->buf.ptr + (0 .. c->buf.len - 1));
    assigns c->pos, c->buf.ptr[c->pos .. c->pos + 7];
    ensures ok: \result.err == SVD_OK <==> 8 <= \old(c->buf.len - c->pos);
    ensures moved: \result.err == SVD_OK ==> c->pos == \old(c->pos) + 8;
    ensures untouched: \result.err != SVD_OK ==> \result.err == SVD_ERR_BOUNDS && c->pos == \old(c->pos);
    ensures c->pos <= c->buf.len; */
SVD_MUST_USE svd_result svd_cursor_write_le64(svd_cursor *c, uint64_t v);

/** @brief Load a little-endian 16-bit value from @p p (caller has checked bounds). */
/*@ requires \valid_read(p + (0 .. 1));
    assigns \nothing; */
uint16_t svd_load_le16(const uint8_t *p);
/** @brief Load a little-endian 32-bit value from @p p (caller has checked bounds). */
/*@ requires \valid_read(p + (0 .. 3));
    assigns \nothing; */
uint32_t svd_load_le32(const uint8_t *p);
/** @brief Load a little-endian 64-bit value from @p p (caller has checked bounds). */
/*@ requires \valid_read(p + (0 .. 7));
    assigns \nothing; */
uint64_t svd_load_le64(const uint8_t *p);
/** @brief Store @p v little-endian at @p p (caller has checked bounds). */
/*@ requires \valid(p + (0 .. 1));
    assigns p[0 .. 1]; */
void svd_store_le16(uint8_t *p, uint16_t v);
/** @brief Store @p v little-endian at @p p (caller has checked bounds). */
/*@ requires \valid(p + (0 .. 3));
    assigns p[0 .. 3]; */
void svd_store_le32(uint8_t *p, uint32_t v);
/** @brief Store @p v little-endian at @p p (caller has checked bounds). */
/*@ requires \valid(p + (0 .. 7));
    assigns p[0 .. 7]; */
void svd_store_le64(uint8_t *p, uint64_t v);

#endif /* SAFEVDEV_SPAN_H */
