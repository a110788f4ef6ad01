/* Test guest RAM: a heap block surrounded by canary zones, plus the svd_gmem
 * map that describes it. Tests check the canaries after every attack to show
 * that no byte outside guest memory was touched. */
#ifndef TG_MEM_H
#define TG_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safevdev/gmem.h"

#define TG_CANARY_LEN 4096u
#define TG_CANARY_BYTE 0xA5u

typedef struct tg_mem {
    uint8_t *raw;    /* allocation: canary | ram | canary */
    uint8_t *ram;    /* first byte of guest RAM */
    uint64_t gpa;    /* guest-physical address of ram[0] */
    size_t size;     /* bytes of guest RAM */
    svd_gmem map;    /* one read/write region covering ram (tests may rebuild it) */
} tg_mem;

/* Allocate @size bytes of zeroed guest RAM at @gpa with canaries; 0 on success. */
int tg_mem_init(tg_mem *g, uint64_t gpa, size_t size);
void tg_mem_free(tg_mem *g);
/* True when both canary zones still hold TG_CANARY_BYTE everywhere. */
bool tg_mem_canaries_intact(const tg_mem *g);
/* Host pointer of guest address @gpa (must lie in RAM: the test's own bug otherwise). */
uint8_t *tg_mem_ptr(const tg_mem *g, uint64_t gpa);
/* Fill guest RAM bytes [gpa, gpa+len) with @byte. */
void tg_mem_fill(tg_mem *g, uint64_t gpa, size_t len, uint8_t byte);
/* True when every byte of [gpa, gpa+len) equals @byte. */
bool tg_mem_all(const tg_mem *g, uint64_t gpa, size_t len, uint8_t byte);

/* Copy @len bytes between guest memory described by @m at @gpa and the host,
 * across region edges, the way a device model does: the whole range is
 * checked first (svd_gmem_check_host) and nothing is copied when any byte is
 * unbacked or lacks the access; then it is walked region by region
 * (svd_gmem_translate_prefix). The core's result on failure. */
svd_result tg_gmem_read(const svd_gmem *m, uint64_t gpa, void *dst, size_t len);
svd_result tg_gmem_write(const svd_gmem *m, uint64_t gpa, const void *src, size_t len);

#endif
