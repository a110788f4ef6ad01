/* Test guest RAM with canary zones on both sides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_mem.h"

int tg_mem_init(tg_mem *g, uint64_t gpa, size_t size)
{
    memset(g, 0, sizeof(*g));
    if (size == 0u || size > SIZE_MAX - 2u * TG_CANARY_LEN) {
        return -1;
    }
    g->raw = malloc(size + 2u * TG_CANARY_LEN);
    if (g->raw == NULL) {
        return -1;
    }
    memset(g->raw, TG_CANARY_BYTE, TG_CANARY_LEN);
    g->ram = g->raw + TG_CANARY_LEN;
    memset(g->ram, 0, size);
    memset(g->ram + size, TG_CANARY_BYTE, TG_CANARY_LEN);
    g->gpa = gpa;
    g->size = size;
    svd_gmem_init(&g->map);
    if (!svd_is_ok(svd_gmem_add(&g->map, gpa, size, g->ram, SVD_GMEM_READ | SVD_GMEM_WRITE))) {
        free(g->raw);
        memset(g, 0, sizeof(*g));
        return -1;
    }
    return 0;
}

void tg_mem_free(tg_mem *g)
{
    free(g->raw);
    g->raw = NULL;
    g->ram = NULL;
    g->size = 0u;
}

bool tg_mem_canaries_intact(const tg_mem *g)
{
    size_t i;
    if (g->raw == NULL) {
        return false;
    }
    for (i = 0u; i < TG_CANARY_LEN; i++) {
        if (g->raw[i] != TG_CANARY_BYTE || g->ram[g->size + i] != TG_CANARY_BYTE) {
            return false;
        }
    }
    return true;
}

uint8_t *tg_mem_ptr(const tg_mem *g, uint64_t gpa)
{
    if (gpa < g->gpa || gpa - g->gpa >= g->size) {
        fprintf(stderr, "tg_mem_ptr: gpa 0x%llx outside test RAM [0x%llx, +0x%zx): test bug\n",
                (unsigned long long)gpa, (unsigned long long)g->gpa, g->size);
        abort();
    }
    return g->ram + (size_t)(gpa - g->gpa);
}

void tg_mem_fill(tg_mem *g, uint64_t gpa, size_t len, uint8_t byte)
{
    if (len == 0u) {
        return;
    }
    (void)tg_mem_ptr(g, gpa + len - 1u);
    memset(tg_mem_ptr(g, gpa), byte, len);
}

bool tg_mem_all(const tg_mem *g, uint64_t gpa, size_t len, uint8_t byte)
{
    const uint8_t *p;
    size_t i;
    if (len == 0u) {
        return true;
    }
    (void)tg_mem_ptr(g, gpa + len - 1u);
    p = tg_mem_ptr(g, gpa);
    for (i = 0u; i < len; i++) {
        if (p[i] != byte) {
            return false;
        }
    }
    return true;
}

/* Guest -> @to (a read) when @to is non-NULL, else @from -> guest (a write):
 * the range is checked whole, then copied one region-sized piece at a time. */
static svd_result gmem_copy(const svd_gmem *m, uint64_t gpa, uint8_t *to, const uint8_t *from, size_t len)
{
    const uint32_t access = to != NULL ? SVD_GMEM_READ : SVD_GMEM_WRITE;
    uint8_t *whole = NULL;
    size_t done = 0u;
    SVD_GUARD(svd_gmem_check_host(m, gpa, (uint64_t)len, access, &whole));
    while (done < len) {
        svd_span s = { NULL, 0u };
        SVD_GUARD(svd_gmem_translate_prefix(m, gpa + done, (uint64_t)(len - done), access, &s));
        if (to != NULL) {
            memcpy(to + done, s.ptr, s.len);
        } else {
            memcpy(s.ptr, from + done, s.len);
        }
        done += s.len;
    }
    return svd_ok();
}

svd_result tg_gmem_read(const svd_gmem *m, uint64_t gpa, void *dst, size_t len)
{
    return dst == NULL && len > 0u ? svd_fail(SVD_ERR_INVALID_ARG) : gmem_copy(m, gpa, dst, NULL, len);
}

svd_result tg_gmem_write(const svd_gmem *m, uint64_t gpa, const void *src, size_t len)
{
    return src == NULL && len > 0u ? svd_fail(SVD_ERR_INVALID_ARG) : gmem_copy(m, gpa, NULL, src, len);
}
