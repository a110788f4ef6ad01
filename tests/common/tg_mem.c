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
