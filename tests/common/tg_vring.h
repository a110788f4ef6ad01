/* A split-virtqueue *driver* model over tg_mem, used by unit tests, the demo,
 * fuzz targets and the harness. It writes rings the way Linux's
 * virtio_ring.c does (little-endian, avail entry before avail idx) and also
 * offers raw writes so tests can play a hostile driver. */
#ifndef TG_VRING_H
#define TG_VRING_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/device.h"
#include "safevdev/virtqueue.h"
#include "tg_mem.h"

typedef struct tg_vring {
    tg_mem *mem;
    uint16_t size;
    uint64_t desc;      /* gpa of the descriptor table (16-byte aligned) */
    uint64_t avail;     /* gpa of the available ring (2-byte aligned) */
    uint64_t used;      /* gpa of the used ring (4-byte aligned) */
    uint16_t avail_idx; /* driver's shadow of avail->idx */
    uint16_t last_used; /* next used slot the driver will read */
} tg_vring;

/* Lay out the three rings contiguously from @gpa (rounded up to 16) with
 * @size entries; zero them. Returns the first gpa after the rings. */
uint64_t tg_vring_init(tg_vring *r, tg_mem *m, uint16_t size, uint64_t gpa);
/* Write descriptor @i. */
void tg_vring_set_desc(tg_vring *r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Write a descriptor into an indirect table at @table_gpa, entry @i. */
void tg_vring_set_indirect(tg_vring *r, uint64_t table_gpa, uint16_t i, uint64_t addr, uint32_t len,
                           uint16_t flags, uint16_t next);
/* Put @head in the next avail slot, then advance avail->idx by one (release order). */
void tg_vring_publish(tg_vring *r, uint16_t head);
/* Raw: store @idx into avail->idx (the shadow follows). */
void tg_vring_set_avail_idx(tg_vring *r, uint16_t idx);
/* Raw: store @head into avail->ring[@slot]. */
void tg_vring_set_avail_slot(tg_vring *r, uint16_t slot, uint16_t head);
/* Raw: avail->flags. */
void tg_vring_set_avail_flags(tg_vring *r, uint16_t flags);
/* used_event (avail->ring[size]) and avail_event (used->ring[size]). */
void tg_vring_set_used_event(tg_vring *r, uint16_t v);
uint16_t tg_vring_avail_event(const tg_vring *r);
/* used->idx as the device published it. */
uint16_t tg_vring_used_idx(const tg_vring *r);
/* Take the next used element if the device published one: true and *id, *len set. */
bool tg_vring_get_used(tg_vring *r, uint32_t *id, uint32_t *len);
/* Would the Linux driver kick now? (vring_need_event on avail_event under
 * EVENT_IDX, else !(used->flags & NO_NOTIFY)); @old is avail_idx before the adds. */
bool tg_vring_should_kick(const tg_vring *r, bool event_idx, uint16_t old);
/* Configure queue @q (not enable it) with @r's size and ring addresses, the
 * way a transport would: the first refusal is returned. */
svd_result tg_vring_attach(const tg_vring *r, svd_vq *q);
/* The host-driven start of @r (vhost-user): size, addresses, base from the
 * driver's shadows (avail_idx / last_used), and the two ring features. */
void tg_vring_setup(const tg_vring *r, bool event_idx, bool indirect, svd_vq_setup *s);

#endif
