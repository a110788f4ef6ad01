/* Packed-ring driver model: writes the ring as Linux's virtio_ring.c does. */
#include <string.h>

#include "safevdev/span.h"
#include "safevdev/virtqueue.h"
#include "tg_pring.h"
#include "tg_vring.h"

#define POS_MASK 0x7FFFu

static uint8_t *slot_ptr(const tg_pring *r, uint64_t table, uint16_t i)
{
    return tg_mem_ptr(r->mem, table + 16u * (uint64_t)i + 15u) - 15;
}

uint64_t tg_pring_init(tg_pring *r, tg_mem *m, uint16_t size, uint64_t gpa)
{
    uint64_t end;
    memset(r, 0, sizeof(*r));
    r->mem = m;
    r->size = size;
    r->desc = (gpa + 15u) & ~(uint64_t)15u;
    r->driver = r->desc + 16u * (uint64_t)size;
    r->device = r->driver + 4u;
    r->avail = SVD_VQ_WRAP_BIT;
    r->used = SVD_VQ_WRAP_BIT;
    end = r->device + 4u;
    tg_mem_fill(m, r->desc, (size_t)(end - r->desc), 0u);
    return end;
}

uint16_t tg_pring_avail_bits(uint16_t pos)
{
    return (pos & SVD_VQ_WRAP_BIT) != 0u ? (uint16_t)SVD_VRING_PACKED_DESC_F_AVAIL
                                         : (uint16_t)SVD_VRING_PACKED_DESC_F_USED;
}

uint16_t tg_pring_next(const tg_pring *r, uint16_t pos, uint16_t n)
{
    uint32_t off = (uint32_t)(pos & POS_MASK) + n;
    uint32_t wrap = pos & SVD_VQ_WRAP_BIT;
    while (off >= r->size) {
        off -= r->size;
        wrap ^= SVD_VQ_WRAP_BIT;
    }
    return (uint16_t)(off | wrap);
}

static void write_desc(uint8_t *p, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
    svd_store_le64(p, addr);
    svd_store_le32(p + 8, len);
    tg_store_le16(p + 12, id);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    tg_store_le16(p + 14, flags);
}

void tg_pring_set_desc(tg_pring *r, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
    write_desc(slot_ptr(r, r->desc, slot), addr, len, id, flags);
}

void tg_pring_set_indirect(tg_pring *r, uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags)
{
    write_desc(slot_ptr(r, table, i), addr, len, 0u, flags);
}

uint16_t tg_pring_flags(const tg_pring *r, uint16_t slot)
{
    return tg_load_le16(slot_ptr(r, r->desc, slot) + 14);
}

void tg_pring_add(tg_pring *r, const tg_pbuf *bufs, uint16_t n, uint16_t id)
{
    const uint16_t head = r->avail;
    uint16_t head_flags = 0u;
    uint16_t pos = head;
    for (uint16_t i = 0; i < n; i++) {
        uint16_t f = tg_pring_avail_bits(pos);
        if (bufs[i].write) {
            f |= SVD_VRING_DESC_F_WRITE;
        }
        if (i + 1u < n) {
            f |= SVD_VRING_DESC_F_NEXT;
        }
        uint8_t *p = slot_ptr(r, r->desc, (uint16_t)(pos & POS_MASK));
        svd_store_le64(p, bufs[i].addr);
        svd_store_le32(p + 8, bufs[i].len);
        tg_store_le16(p + 12, id);
        if (i == 0u) {
            head_flags = f;
        } else {
            tg_store_le16(p + 14, f);
        }
        pos = tg_pring_next(r, pos, 1u);
    }
    if (id < TG_PRING_MAX) {
        r->num[id] = n;
    }
    r->avail = pos;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    tg_store_le16(slot_ptr(r, r->desc, (uint16_t)(head & POS_MASK)) + 14, head_flags);
}

void tg_pring_add_indirect(tg_pring *r, uint64_t table, const tg_pbuf *bufs, uint16_t n, uint16_t id)
{
    for (uint16_t i = 0; i < n; i++) {
        tg_pring_set_indirect(r, table, i, bufs[i].addr, bufs[i].len,
                              bufs[i].write ? (uint16_t)SVD_VRING_DESC_F_WRITE : (uint16_t)0u);
    }
    tg_pring_set_desc(r, (uint16_t)(r->avail & POS_MASK), table, 16u * (uint32_t)n, id,
                      (uint16_t)(tg_pring_avail_bits(r->avail) | SVD_VRING_DESC_F_INDIRECT));
    if (id < TG_PRING_MAX) {
        r->num[id] = 1u;
    }
    r->avail = tg_pring_next(r, r->avail, 1u);
}

bool tg_pring_get_used(tg_pring *r, uint16_t *id, uint32_t *len, uint16_t *flags)
{
    const uint8_t *p = slot_ptr(r, r->desc, (uint16_t)(r->used & POS_MASK));
    const uint16_t f = tg_load_le16(p + 14);
    const bool wrap = (r->used & SVD_VQ_WRAP_BIT) != 0u;
    const bool u = (f & SVD_VRING_PACKED_DESC_F_USED) != 0u;
    const bool a = (f & SVD_VRING_PACKED_DESC_F_AVAIL) != 0u;
    if (u != wrap || a != wrap) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    *id = tg_load_le16(p + 12);
    *len = svd_load_le32(p + 8);
    *flags = f;
    r->used = tg_pring_next(r, r->used, (*id < TG_PRING_MAX && r->num[*id] != 0u) ? r->num[*id] : 1u);
    return true;
}

void tg_pring_set_driver_event(tg_pring *r, uint16_t off_wrap, uint16_t flags)
{
    uint8_t *p = tg_mem_ptr(r->mem, r->driver);
    tg_store_le16(p, off_wrap);
    tg_store_le16(p + 2, flags);
}

void tg_pring_device_event(const tg_pring *r, uint16_t *off_wrap, uint16_t *flags)
{
    const uint8_t *p = tg_mem_ptr(r->mem, r->device);
    *off_wrap = tg_load_le16(p);
    *flags = tg_load_le16(p + 2);
}

static uint32_t cycle(const tg_pring *r, uint16_t v)
{
    return (uint32_t)(v & POS_MASK) + ((v & SVD_VQ_WRAP_BIT) != 0u ? 0u : r->size);
}

bool tg_pring_should_kick(const tg_pring *r, bool event_idx, uint16_t old)
{
    uint16_t off_wrap;
    uint16_t flags;
    tg_pring_device_event(r, &off_wrap, &flags);
    if (!event_idx || flags != SVD_VRING_PACKED_EVENT_DESC) {
        return flags != SVD_VRING_PACKED_EVENT_DISABLE;
    }
    const uint32_t mask = 2u * (uint32_t)r->size - 1u;
    const uint32_t moved = (cycle(r, r->avail) - cycle(r, old)) & mask;
    return ((cycle(r, r->avail) - cycle(r, off_wrap) - 1u) & mask) < moved;
}

svd_result tg_pring_attach(const tg_pring *r, svd_vq *q)
{
    SVD_GUARD(svd_vq_set_format(q, true));
    SVD_GUARD(svd_vq_set_size(q, r->size));
    SVD_GUARD(svd_vq_set_addr(q, SVD_VQ_RING_DESC, r->desc));
    SVD_GUARD(svd_vq_set_addr(q, SVD_VQ_RING_AVAIL, r->driver));
    return svd_vq_set_addr(q, SVD_VQ_RING_USED, r->device);
}

void tg_pring_setup(const tg_pring *r, bool event_idx, bool indirect, svd_vq_setup *s)
{
    memset(s, 0, sizeof(*s));
    s->size = r->size;
    s->desc = r->desc;
    s->avail = r->driver;
    s->used = r->device;
    s->next_avail = r->avail;
    s->next_used = r->used;
    s->event_idx = event_idx;
    s->indirect = indirect;
    s->packed = true;
}
