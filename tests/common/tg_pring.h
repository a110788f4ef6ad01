/* A packed-virtqueue *driver* model over tg_mem (virtio 1.2 §2.8), used by
 * unit tests and fuzz targets. It writes the ring the way Linux's
 * virtio_ring.c does (the rest of a chain first, the head's flags last with
 * release order, the buffer id in the last descriptor) and also offers raw
 * writes so tests can play a hostile driver. Positions are encoded as the
 * spec's off | wrap << 15 (SVD_VQ_WRAP_BIT). */
#ifndef TG_PRING_H
#define TG_PRING_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/device.h"
#include "safevdev/virtqueue.h"
#include "tg_mem.h"

/* Largest ring the model tracks chain lengths for (buffer ids < this). */
#define TG_PRING_MAX 1024u

typedef struct tg_pbuf {
    uint64_t addr;
    uint32_t len;
    bool write; /* device-writable */
} tg_pbuf;

typedef struct tg_pring {
    tg_mem *mem;
    uint16_t size;
    uint64_t desc;   /* gpa of the descriptor ring (16-byte aligned) */
    uint64_t driver; /* gpa of the driver event suppression structure (4-byte aligned) */
    uint64_t device; /* gpa of the device event suppression structure (4-byte aligned) */
    uint16_t avail;  /* driver's next position to make available (encoded, starts 0 | wrap 1) */
    uint16_t used;   /* driver's next position to read a used descriptor at (encoded) */
    uint16_t num[TG_PRING_MAX]; /* ring descriptors of the chain of each buffer id in flight */
} tg_pring;

/* Lay out ring and both structures contiguously from @gpa (rounded up to 16)
 * with @size entries; zero them. Returns the first gpa after them. */
uint64_t tg_pring_init(tg_pring *r, tg_mem *m, uint16_t size, uint64_t gpa);
/* The AVAIL/USED bits that mark a descriptor available in the lap of encoded position @pos. */
uint16_t tg_pring_avail_bits(uint16_t pos);
/* Encoded position @n slots after @pos. */
uint16_t tg_pring_next(const tg_pring *r, uint16_t pos, uint16_t n);
/* Raw: write ring descriptor at offset @slot (flags written last, release). */
void tg_pring_set_desc(tg_pring *r, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags);
/* Raw: entry @i of an indirect table at @table. */
void tg_pring_set_indirect(tg_pring *r, uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags);
/* Raw: the flags of ring descriptor @slot. */
uint16_t tg_pring_flags(const tg_pring *r, uint16_t slot);
/* Make a chain of @n buffers available with buffer id @id, as Linux does. */
void tg_pring_add(tg_pring *r, const tg_pbuf *bufs, uint16_t n, uint16_t id);
/* Make an indirect buffer available: a table of @n entries at @table, one ring descriptor. */
void tg_pring_add_indirect(tg_pring *r, uint64_t table, const tg_pbuf *bufs, uint16_t n, uint16_t id);
/* Take the next used descriptor if the device wrote one: true and *id, *len,
 * *flags set; the driver position skips the chain's descriptors. */
bool tg_pring_get_used(tg_pring *r, uint16_t *id, uint32_t *len, uint16_t *flags);
/* The driver event suppression structure (what the device reads). */
void tg_pring_set_driver_event(tg_pring *r, uint16_t off_wrap, uint16_t flags);
/* The device event suppression structure (what the device wrote). */
void tg_pring_device_event(const tg_pring *r, uint16_t *off_wrap, uint16_t *flags);
/* Would Linux's driver kick now? @old is the avail position before the adds. */
bool tg_pring_should_kick(const tg_pring *r, bool event_idx, uint16_t old);
/* Configure @q (not enable it) as a transport would after VIRTIO_F_RING_PACKED:
 * format, size, the three addresses; the first refusal is returned. */
svd_result tg_pring_attach(const tg_pring *r, svd_vq *q);
/* The host-driven start of @r (vhost-user): positions from the driver's shadows. */
void tg_pring_setup(const tg_pring *r, bool event_idx, bool indirect, svd_vq_setup *s);

#endif
