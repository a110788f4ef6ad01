/**
 * @file span.h
 * @brief Bounded byte spans, a reading cursor over them, little-endian
 *        accessors and overflow-checked arithmetic.
 *
 * A span is a (pointer, length) pair; a cursor is a span plus a position.
 * Code that parses guest or peer bytes SHALL go through the cursor and never
 * do raw pointer arithmetic: every read is bounds-checked, and a failed read
 * leaves the cursor where it was.
 *
 * All multi-byte accessors are little-endian (virtio 1.x byte order),
 * independent of the host's byte order and of the alignment of the address.
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

/** @brief A cursor: reads advance @c pos and never pass @c buf.len. */
typedef struct svd_cursor {
    svd_span buf; /**< Underlying span. */
    size_t pos;   /**< Next byte to read; always <= buf.len. */
} svd_cursor;

/** @brief a + b into *out; ::SVD_ERR_OVERFLOW (and *out untouched) if it wraps. */
SVD_MUST_USE svd_result svd_add_u64(uint64_t a, uint64_t b, uint64_t *out);
/** @brief a * b into *out; ::SVD_ERR_OVERFLOW (and *out untouched) if it wraps. */
SVD_MUST_USE svd_result svd_mul_u64(uint64_t a, uint64_t b, uint64_t *out);
/**
 * @brief Check that [off, off+len) lies inside an object of @p size bytes.
 * @return ::SVD_OK, or ::SVD_ERR_BOUNDS (also when off+len wraps).
 */
SVD_MUST_USE svd_result svd_range_check(uint64_t off, uint64_t len, uint64_t size);

/** @brief Make a span from @p ptr and @p len. */
svd_span svd_span_make(void *ptr, size_t len);

/** @brief Initialise @p c over @p s at position 0. */
void svd_cursor_init(svd_cursor *c, svd_span s);
/** @brief Bytes left between pos and the end. */
size_t svd_cursor_remaining(const svd_cursor *c);
/** @brief Move pos forward by @p n; ::SVD_ERR_BOUNDS if fewer than @p n remain. */
SVD_MUST_USE svd_result svd_cursor_skip(svd_cursor *c, size_t n);
/** @brief Read a little-endian 64-bit value; ::SVD_ERR_BOUNDS (*v and pos untouched) if fewer than 8 bytes remain. */
SVD_MUST_USE svd_result svd_cursor_read_le64(svd_cursor *c, uint64_t *v);

/** @brief Load a little-endian 32-bit value from @p p (caller has checked bounds). */
uint32_t svd_load_le32(const uint8_t *p);
/** @brief Load a little-endian 64-bit value from @p p (caller has checked bounds). */
uint64_t svd_load_le64(const uint8_t *p);
/** @brief Store @p v little-endian at @p p (caller has checked bounds). */
void svd_store_le32(uint8_t *p, uint32_t v);
/** @brief Store @p v little-endian at @p p (caller has checked bounds). */
void svd_store_le64(uint8_t *p, uint64_t v);

#endif /* SAFEVDEV_SPAN_H */
