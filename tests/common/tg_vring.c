/* Split-ring driver model: writes the rings as Linux's virtio_ring.c does. */
#include <string.h>

#include "safevdev/span.h"
#include "safevdev/virtqueue.h"
#include "tg_vring.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1u) & ~(a - 1u);
}

uint64_t tg_vring_init(tg_vring *r, tg_mem *m, uint16_t size, uint64_t gpa)
{
    uint64_t end;
    memset(r, 0, sizeof(*r));
    r->mem = m;
    r->size = size;
    r->desc = align_up(gpa, 16u);
    r->avail = r->desc + 16u * (uint64_t)size;
    r->used = align_up(r->avail + 6u + 2u * (uint64_t)size, 4u);
    end = r->used + 6u + 8u * (uint64_t)size;
    tg_mem_fill(m, r->desc, (size_t)(end - r->desc), 0u);
    return end;
}

void tg_vring_set_desc(tg_vring *r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    tg_vring_set_indirect(r, r->desc, i, addr, len, flags, next);
}

void tg_vring_set_indirect(tg_vring *r, uint64_t table_gpa, uint16_t i, uint64_t addr, uint32_t len,
                           uint16_t flags, uint16_t next)
{
    uint8_t *p = tg_mem_ptr(r->mem, table_gpa + 16u * (uint64_t)i + 15u) - 15;
    svd_store_le64(p, addr);
    svd_store_le32(p + 8, len);
    svd_store_le16(p + 12, flags);
    svd_store_le16(p + 14, next);
}

static void store_idx_release(uint8_t *p, uint16_t v)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
    svd_store_le16(p, v);
}

void tg_vring_publish(tg_vring *r, uint16_t head)
{
    tg_vring_set_avail_slot(r, (uint16_t)(r->avail_idx % r->size), head);
    tg_vring_set_avail_idx(r, (uint16_t)(r->avail_idx + 1u));
}

void tg_vring_set_avail_idx(tg_vring *r, uint16_t idx)
{
    r->avail_idx = idx;
    store_idx_release(tg_mem_ptr(r->mem, r->avail + 2u), idx);
}

void tg_vring_set_avail_slot(tg_vring *r, uint16_t slot, uint16_t head)
{
    svd_store_le16(tg_mem_ptr(r->mem, r->avail + 4u + 2u * (uint64_t)slot), head);
}

void tg_vring_set_avail_flags(tg_vring *r, uint16_t flags)
{
    svd_store_le16(tg_mem_ptr(r->mem, r->avail), flags);
}

void tg_vring_set_used_event(tg_vring *r, uint16_t v)
{
    svd_store_le16(tg_mem_ptr(r->mem, r->avail + 4u + 2u * (uint64_t)r->size), v);
}

uint16_t tg_vring_avail_event(const tg_vring *r)
{
    return svd_load_le16(tg_mem_ptr(r->mem, r->used + 4u + 8u * (uint64_t)r->size));
}

uint16_t tg_vring_used_idx(const tg_vring *r)
{
    const uint16_t v = svd_load_le16(tg_mem_ptr(r->mem, r->used + 2u));
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return v;
}

bool tg_vring_get_used(tg_vring *r, uint32_t *id, uint32_t *len)
{
    const uint8_t *e;
    if (tg_vring_used_idx(r) == r->last_used) {
        return false;
    }
    e = tg_mem_ptr(r->mem, r->used + 4u + 8u * (uint64_t)(r->last_used % r->size));
    *id = svd_load_le32(e);
    *len = svd_load_le32(e + 4);
    r->last_used++;
    return true;
}

bool tg_vring_should_kick(const tg_vring *r, bool event_idx, uint16_t old)
{
    if (event_idx) {
        const uint16_t ev = tg_vring_avail_event(r);
        return (uint16_t)(r->avail_idx - ev - 1u) < (uint16_t)(r->avail_idx - old);
    }
    return (svd_load_le16(tg_mem_ptr(r->mem, r->used)) & 1u) == 0u;
}

svd_result tg_vring_attach(const tg_vring *r, svd_vq *q)
{
    SVD_GUARD(svd_vq_set_size(q, r->size));
    SVD_GUARD(svd_vq_set_addr(q, SVD_VQ_RING_DESC, r->desc));
    SVD_GUARD(svd_vq_set_addr(q, SVD_VQ_RING_AVAIL, r->avail));
    return svd_vq_set_addr(q, SVD_VQ_RING_USED, r->used);
}

void tg_vring_setup(const tg_vring *r, bool event_idx, bool indirect, svd_vq_setup *s)
{
    memset(s, 0, sizeof(*s));
    s->size = r->size;
    s->desc = r->desc;
    s->avail = r->avail;
    s->used = r->used;
    s->next_avail = r->avail_idx;
    s->next_used = r->last_used;
    s->event_idx = event_idx;
    s->indirect = indirect;
}
