/**
 * @file parse.h
 * @brief The one number grammar of every option safevdev takes (qvm
 *        configuration lines, daemon command lines).
 *
 * A number is unsigned decimal (`1024`) or hexadecimal with a `0x`/`0X`
 * prefix (`0x400`), nothing else: no sign, no spaces, no suffix, no octal,
 * and the whole string is the number (a partial parse is refused). A value
 * is accepted whole or refused; on refusal the output is untouched.
 *
 * Thread-safety: pure and reentrant.
 */
#ifndef SAFEVDEV_PARSE_H
#define SAFEVDEV_PARSE_H

#include <stdint.h>

#include "safevdev/result.h"

/** @brief Longest option value the parsers read; a longer one is refused. */
#define SVD_PARSE_MAX_LEN 64u

/**
 * @brief Parse @p s as one number in [@p min, @p max].
 * @param s NUL-terminated value
 * @param min smallest accepted value
 * @param max largest accepted value
 * @param out receives the value on success
 * @return ::SVD_ERR_INVALID_ARG for NULL, empty, junk, a value that does not fit
 *         64 bits, a string longer than ::SVD_PARSE_MAX_LEN, or out of range.
 */
SVD_MUST_USE svd_result svd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/**
 * @brief Parse "A,B": two numbers of the grammar above (full 64-bit range), no spaces.
 * @return ::SVD_ERR_INVALID_ARG for anything else (outputs untouched).
 */
SVD_MUST_USE svd_result svd_parse_pair(const char *s, uint64_t *a, uint64_t *b);

#endif /* SAFEVDEV_PARSE_H */
