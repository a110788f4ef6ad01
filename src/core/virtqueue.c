/* Split virtqueue, device side (virtio 1.2 §2.7).
 *
 * Why it is written the way it is:
 * - Guest memory is shared with a guest that may be hostile and concurrent.
 *   Every descriptor and ring entry is copied out with volatile loads into
 *   locals exactly once and only the copy is checked and used, so neither
 *   the guest nor the compiler can make the device act on a value other than
 *   the one that was checked (no double fetch). A descriptor is read with two
 *   volatile 64-bit loads when the host address of its table is known to be
 *   8-byte aligned (the descriptor table, checked at enable), else with 16
 *   volatile byte loads (indirect tables, whose guest address has no
 *   alignment rule); available-ring entries with one volatile 16-bit load
 *   (the ring's host address is checked 2-byte aligned at enable). Either
 *   way each guest byte is read once. The used element is written with two
 *   32-bit stores (used ring host address checked 4-byte aligned).
 * - The two ring indices are accessed with __atomic builtins: an acquire load
 *   of avail->idx before reading the ring entries it covers, a release store
 *   of used->idx after the used element. Their host addresses are checked to
 *   be naturally aligned at enable time, which the atomics need.
 * - A pop validates the whole chain before it changes anything; on a
 *   protocol error only the broken latch is set. The segments written into
 *   the caller's storage during the walk are not meaningful after a failure;
 *   every field of the chain itself is left as it was.
 * - Disable, like reset, bumps the epoch: chains popped before it can never
 *   be pushed afterwards, whatever the in-flight bitmap says by then. */
#include <string.h>

#include "core_priv.h"
#include "safevdev/span.h"
#include "safevdev/virtqueue.h"

#define VQ_DESC_SIZE 16u
#define VQ_RING_HDR 4u   /* flags + idx of either ring */
#define VQ_USED_ELEM 8u  /* id + len */
#define VQ_CHAIN_LIMIT 0x100000000ull

static uint16_t vq_le16(uint16_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap16(v);
#else
    return v;
#endif
}

static uint32_t vq_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

static uint64_t vq_le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

/* Volatile byte loads: each guest byte is read exactly once, here. */
static void vq_copy_in(uint8_t *dst, const uint8_t *src, size_t n)
{
    const volatile uint8_t *s = src;
    size_t i;
    for (i = 0u; i < n; i++) {
        dst[i] = s[i];
    }
}

/* One descriptor, read once: @lo = addr, @hi = len | flags << 32 | next << 48
 * (both as little-endian values). @aligned: the host address is 8-byte
 * aligned, so two volatile 64-bit loads read it; else 16 volatile byte loads. */
static void vq_load_desc(const uint8_t *p, bool aligned, uint64_t *lo, uint64_t *hi)
{
    if (aligned) {
        const volatile uint64_t *w = (const volatile uint64_t *)(const volatile void *)p;
        *lo = vq_le64(w[0]);
        *hi = vq_le64(w[1]);
    } else {
        uint8_t raw[VQ_DESC_SIZE];
        vq_copy_in(raw, p, sizeof(raw));
        *lo = svd_load_le64(raw);
        *hi = svd_load_le64(raw + 8);
    }
}

/* One volatile 16-bit load of the available ring at byte offset @off (even):
 * the ring's host address is 2-byte aligned (checked at enable). */
static uint16_t vq_avail_read16(const svd_vq *q, size_t off)
{
    const volatile uint16_t *p = (const volatile uint16_t *)(const volatile void *)(q->avail + off);
    return vq_le16(*p);
}

static uint16_t vq_load_avail_idx(const svd_vq *q)
{
    return vq_le16(__atomic_load_n((const uint16_t *)(const void *)(q->avail + 2u), __ATOMIC_ACQUIRE));
}

/* avail_event (used->ring[size]) = next index we will consume. */
static void vq_set_avail_event(svd_vq *q)
{
    __atomic_store_n((uint16_t *)(void *)(q->used + VQ_RING_HDR + (size_t)VQ_USED_ELEM * q->size),
                     vq_le16(q->last_avail_idx), __ATOMIC_RELAXED);
}

/* The queue-size rule, the only place it is written: a non-zero power of two
 * no larger than the queue's maximum (itself <= SVD_VQ_MAX_SIZE). */
static bool vq_size_ok(const svd_vq *q, uint32_t size)
{
    return size != 0u && size <= q->max && (size & (size - 1u)) == 0u;
}

static svd_result vq_break(svd_vq *q, svd_why why)
{
    q->broken = true;
    return svd_protocol(why);
}

/* Configuration may change only while the queue is disabled (virtio 1.2
 * §4.1.4.3.2, §4.2.2.3); the only place this rule is checked. Refused
 * without latching the queue: the device engine latches NEEDS_RESET. */
static svd_result vq_configurable(const svd_vq *q)
{
    SVD_ENSURE_RULE(!q->enabled, SVD_WHY_QUEUE_ENABLED);
    return svd_ok();
}

static bool vq_is_inflight(const svd_vq *q, uint16_t head)
{
    return (q->inflight_map[head >> 5] & (1u << (head & 31u))) != 0u;
}

/* The queue may touch its rings only while enabled, not broken, and with the
 * map its ring pointers were translated from. */
static svd_result vq_usable(const svd_vq *q, const svd_gmem *m)
{
    SVD_ENSURE(q->enabled, SVD_ERR_STATE);
    SVD_ENSURE(!q->broken, SVD_ERR_STATE);
    SVD_ENSURE(m->generation == q->gmem_generation, SVD_ERR_STATE);
    return svd_ok();
}

void svd_vq_chain_init(svd_vq_chain *c, svd_vq_desc *segs, uint32_t cap)
{
    (void)memset(c, 0, sizeof(*c));
    c->segs = segs;
    c->cap = (segs != NULL) ? cap : 0u;
}

svd_result svd_vq_init(svd_vq *q, uint32_t max)
{
    SVD_ENSURE(q != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(max != 0u && max <= SVD_VQ_MAX_SIZE && (max & (max - 1u)) == 0u, SVD_ERR_INVALID_ARG);
    (void)memset(q, 0, sizeof(*q));
    q->max = (uint16_t)max;
    q->size = (uint16_t)max;
    return svd_ok();
}

void svd_vq_reset(svd_vq *q)
{
    const uint32_t epoch = q->epoch;
    const uint16_t max = q->max;
    (void)memset(q, 0, sizeof(*q));
    q->max = max;
    q->size = max;
    q->epoch = epoch + 1u;
}

void svd_vq_disable(svd_vq *q)
{
    q->enabled = false;
    q->desc = NULL;
    q->desc_aligned = false;
    q->avail = NULL;
    q->used = NULL;
    (void)memset(q->inflight_map, 0, sizeof(q->inflight_map));
    q->inflight = 0u;
    q->epoch += 1u;
}

svd_result svd_vq_set_size(svd_vq *q, uint32_t size)
{
    SVD_GUARD(vq_configurable(q));
    if (!vq_size_ok(q, size)) {
        return vq_break(q, SVD_WHY_QUEUE_SIZE);
    }
    q->size = (uint16_t)size;
    return svd_ok();
}

static uint64_t *vq_ring_addr(svd_vq *q, svd_vq_ring ring)
{
    switch (ring) {
    case SVD_VQ_RING_DESC:
        return &q->desc_gpa;
    case SVD_VQ_RING_AVAIL:
        return &q->avail_gpa;
    case SVD_VQ_RING_USED:
        return &q->used_gpa;
    default:
        return NULL;
    }
}

svd_result svd_vq_set_addr(svd_vq *q, svd_vq_ring ring, uint64_t gpa)
{
    uint64_t *a = vq_ring_addr(q, ring);
    SVD_ENSURE(a != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(vq_configurable(q));
    *a = gpa;
    return svd_ok();
}

svd_result svd_vq_set_addr_half(svd_vq *q, svd_vq_ring ring, bool high, uint32_t val)
{
    uint64_t *a = vq_ring_addr(q, ring);
    SVD_ENSURE(a != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(vq_configurable(q));
    if (high) {
        *a = (*a & UINT64_C(0xffffffff)) | ((uint64_t)val << 32);
    } else {
        *a = (*a & UINT64_C(0xffffffff00000000)) | val;
    }
    return svd_ok();
}

uint64_t svd_vq_addr(const svd_vq *q, svd_vq_ring ring)
{
    switch (ring) {
    case SVD_VQ_RING_DESC:
        return q->desc_gpa;
    case SVD_VQ_RING_AVAIL:
        return q->avail_gpa;
    case SVD_VQ_RING_USED:
        return q->used_gpa;
    default:
        return 0u;
    }
}

svd_result svd_vq_set_features(svd_vq *q, bool event_idx, bool indirect)
{
    SVD_GUARD(vq_configurable(q));
    q->event_idx = event_idx;
    q->indirect = indirect;
    return svd_ok();
}

svd_result svd_vq_set_format(svd_vq *q, bool packed)
{
    SVD_GUARD(vq_configurable(q));
    q->packed = packed;
    /* A new packed ring starts at position 0 with both wrap counters 1. */
    q->last_avail_idx = packed ? (uint16_t)SVD_VQ_WRAP_BIT : 0u;
    q->used_idx = q->last_avail_idx;
    return svd_ok();
}

svd_result svd_vq_set_base(svd_vq *q, uint16_t last_avail_idx, uint16_t used_idx)
{
    SVD_GUARD(vq_configurable(q));
    q->last_avail_idx = last_avail_idx;
    q->used_idx = used_idx;
    return svd_ok();
}

void svd_vq_base(const svd_vq *q, uint16_t *next_avail, uint16_t *next_used)
{
    /* Requests are completed strictly in pop order by every model the
     * composed engine runs, so the ones in flight are the last popped:
     * handing their slots back lets the next start re-serve them instead of
     * losing the guest's buffers. */
    if (q->packed) {
        svd_vqp_base(q, next_avail, next_used);
        return;
    }
    *next_avail = (uint16_t)(q->last_avail_idx - (uint16_t)q->inflight);
    *next_used = q->used_idx;
}

uint16_t svd_vq_size(const svd_vq *q)
{
    return q->size;
}

uint16_t svd_vq_max(const svd_vq *q)
{
    return q->max;
}

bool svd_vq_enabled(const svd_vq *q)
{
    return q->enabled;
}

/* The host spans of a queue's three rings. */
typedef struct vq_rings {
    svd_span d;
    svd_span a;
    svd_span u;
    bool desc_aligned; /* the descriptor table's host address is 8-byte aligned */
} vq_rings;

/* The ring rules, written once for svd_vq_enable() and svd_vq_check_rings():
 * guest alignment, each ring inside one region with the access it needs,
 * host alignment for the index atomics. The size is valid (n <= 32768: none
 * of these products or sums can overflow). */
static svd_result vq_map_rings(uint64_t n, uint64_t desc, uint64_t avail, uint64_t used, bool event_idx,
                               const svd_gmem *m, vq_rings *r)
{
    /* used_event / avail_event trail the rings only with EVENT_IDX. */
    const uint64_t ev = event_idx ? UINT64_C(2) : UINT64_C(0);
    SVD_ENSURE_RULE((desc & 15u) == 0u && (avail & 1u) == 0u && (used & 3u) == 0u, SVD_WHY_RING_ALIGN);
    SVD_ENSURE_RULE(svd_is_ok(svd_gmem_translate(m, desc, VQ_DESC_SIZE * n, SVD_GMEM_READ, &r->d)) &&
                        svd_is_ok(svd_gmem_translate(m, avail, VQ_RING_HDR + 2u * n + ev, SVD_GMEM_READ, &r->a)) &&
                        svd_is_ok(svd_gmem_translate(m, used, VQ_RING_HDR + VQ_USED_ELEM * n + ev, SVD_GMEM_WRITE,
                                                     &r->u)),
                    SVD_WHY_RING_MEMORY);
    /* The index atomics need natural alignment of the host addresses too;
     * the descriptor table's decides how descriptors are read (vq_load_desc). */
    /* cppcheck-suppress misra-c2012-11.4 ; SVD-DEV-002: alignment of the host ring addresses (atomics, descriptor loads) */
    const uintptr_t low = (((uintptr_t)r->d.ptr & 7u) << 2u) | ((uintptr_t)r->a.ptr & 1u) | ((uintptr_t)r->u.ptr & 3u);
    SVD_ENSURE_RULE((low & 3u) == 0u, SVD_WHY_RING_ALIGN);
    r->desc_aligned = low == 0u; /* the ring bits are 0 here */
    return svd_ok();
}

svd_result svd_vq_check_rings(uint32_t max, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used,
                              bool event_idx, const svd_gmem *m)
{
    vq_rings r;
    SVD_ENSURE(m != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE_RULE(size != 0u && size <= max && max <= SVD_VQ_MAX_SIZE && (size & (size - 1u)) == 0u,
                    SVD_WHY_QUEUE_SIZE);
    return vq_map_rings(size, desc, avail, used, event_idx, m, &r);
}

svd_result svd_vq_enable(svd_vq *q, const svd_gmem *m)
{
    vq_rings r;

    SVD_ENSURE(!q->enabled, SVD_ERR_STATE);
    SVD_ENSURE(!q->broken, SVD_ERR_STATE);
    /* The size is checked when it is set and preset to the (checked)
     * maximum otherwise, so it is always valid here: defensive. */
    if (SVD_NEVER(!vq_size_ok(q, q->size))) {
        return vq_break(q, SVD_WHY_QUEUE_SIZE);
    }
    if (q->packed) {
        return svd_vqp_enable(q, m);
    }
    const svd_result mr = vq_map_rings(q->size, q->desc_gpa, q->avail_gpa, q->used_gpa, q->event_idx, m, &r);
    if (!svd_is_ok(mr)) {
        return vq_break(q, mr.why);
    }
    const svd_span d = r.d;
    const svd_span a = r.a;
    const svd_span u = r.u;
    const bool aligned = r.desc_aligned;
    q->desc = d.ptr;
    q->desc_aligned = aligned;
    q->avail = a.ptr;
    q->used = u.ptr;
    q->gmem_generation = m->generation;
    (void)memset(q->inflight_map, 0, sizeof(q->inflight_map));
    q->inflight = 0u;
    q->signalled_used = q->used_idx;
    q->signalled_valid = true;
    q->enabled = true;
    return svd_ok();
}

/* Totals of a chain walk, committed to the chain only on success. */
typedef struct vq_walk {
    uint32_t nsegs;
    uint32_t ndesc;
    uint32_t readable_len;
    uint32_t writable_len;
    bool truncated;
} vq_walk;

/* Validate the chain at @head, recording segments into c->segs.
 * Returns SVD_ERR_PROTOCOL (without latching) on the first broken rule. */
static svd_result vq_walk_chain(const svd_vq *q, const svd_gmem *m, uint16_t head, svd_vq_chain *c, vq_walk *w)
{
    const uint8_t *table = q->desc;
    bool table_aligned = q->desc_aligned;
    uint32_t table_n = q->size;
    uint32_t visits = 0u;
    bool in_indirect = false;
    bool seen_write = false;
    uint64_t total = 0u;
    uint16_t idx = head;

    (void)memset(w, 0, sizeof(*w));
    for (;;) {
        uint64_t addr;
        uint64_t hi;
        uint8_t *host;
        uint32_t len;
        uint16_t flags;
        uint16_t next;

        /* TTL: a table of N entries yields at most N descriptors (loops, #236). */
        SVD_ENSURE_RULE(visits < table_n, SVD_WHY_CHAIN_LOOP);
        visits++;
        vq_load_desc(table + (size_t)VQ_DESC_SIZE * idx, table_aligned, &addr, &hi);
        len = (uint32_t)(hi & 0xFFFFFFFFu);
        flags = (uint16_t)((hi >> 32u) & 0xFFFFu);
        next = (uint16_t)(hi >> 48u);

        if ((flags & SVD_VRING_DESC_F_INDIRECT) != 0u) {
            svd_span t;
            SVD_ENSURE_RULE(q->indirect, SVD_WHY_INDIRECT_FEATURE);
            SVD_ENSURE_RULE(!in_indirect, SVD_WHY_INDIRECT_NESTED);
            SVD_ENSURE_RULE((flags & SVD_VRING_DESC_F_NEXT) == 0u, SVD_WHY_INDIRECT_NEXT);
            SVD_ENSURE_RULE(len != 0u && (len % VQ_DESC_SIZE) == 0u, SVD_WHY_INDIRECT_LEN);
            SVD_ENSURE_RULE(len / VQ_DESC_SIZE <= q->size, SVD_WHY_INDIRECT_LEN);
            SVD_ENSURE_RULE(svd_is_ok(svd_gmem_translate(m, addr, len, SVD_GMEM_READ, &t)), SVD_WHY_INDIRECT_MEMORY);
            /* The device ignores WRITE on the descriptor naming the table (§2.7.5.3.2). */
            table = t.ptr;
            table_aligned = false;
            table_n = len / VQ_DESC_SIZE;
            visits = 0u;
            in_indirect = true;
            idx = 0u;
            continue;
        }

        if ((flags & SVD_VRING_DESC_F_WRITE) != 0u) {
            seen_write = true;
        } else {
            SVD_ENSURE_RULE(!seen_write, SVD_WHY_WRITE_ORDER);
        }
        SVD_ENSURE_RULE(
            svd_is_ok(svd_gmem_check_host(m, addr, len, seen_write ? SVD_GMEM_WRITE : SVD_GMEM_READ, &host)),
            SVD_WHY_BUFFER_MEMORY);
        total += len;
        SVD_ENSURE_RULE(total < VQ_CHAIN_LIMIT, SVD_WHY_CHAIN_LEN);
        w->ndesc++;
        if (w->nsegs < c->cap) {
            svd_vq_desc *s = &c->segs[w->nsegs];
            s->addr = addr;
            s->len = len;
            s->flags = (uint16_t)(flags & SVD_VRING_DESC_F_WRITE);
            s->host = host;
            w->nsegs++;
            /* total < 2^32 bounds both partial sums. */
            if (seen_write) {
                w->writable_len += len;
            } else {
                w->readable_len += len;
            }
        } else {
            w->truncated = true;
        }

        if ((flags & SVD_VRING_DESC_F_NEXT) == 0u) {
            break;
        }
        SVD_ENSURE_RULE(next < table_n, SVD_WHY_NEXT_RANGE);
        idx = next;
    }
    return svd_ok();
}

/* Take the chain at the next available slot; avail_idx != last_avail_idx.
 * Kept apart from svd_vq_pop so that finding the ring empty (every second
 * call of a serving loop) stays a few loads and compares. */
static svd_result vq_take(svd_vq *q, const svd_gmem *m, svd_vq_chain *c, uint16_t avail_idx)
{
    uint16_t head;
    vq_walk w;

    /* More entries than the ring holds can only be a lie (rust-vmm #196). */
    if ((uint16_t)(avail_idx - q->last_avail_idx) > q->size) {
        return vq_break(q, SVD_WHY_AVAIL_JUMP);
    }
    head = vq_avail_read16(q, VQ_RING_HDR + 2u * (size_t)(q->last_avail_idx & (uint16_t)(q->size - 1u)));
    if (head >= q->size) {
        return vq_break(q, SVD_WHY_HEAD_RANGE);
    }
    if (vq_is_inflight(q, head)) {
        return vq_break(q, SVD_WHY_HEAD_INFLIGHT);
    }
    const svd_result wr = vq_walk_chain(q, m, head, c, &w);
    if (!svd_is_ok(wr)) {
        return vq_break(q, wr.why);
    }

    q->inflight_map[head >> 5] |= 1u << (head & 31u);
    q->inflight++;
    q->last_avail_idx++;
    if (q->event_idx) {
        /* Also after every pop (as QEMU does): a caller that stops popping
         * before the ring is empty is still kicked for the next buffer. */
        vq_set_avail_event(q);
    }
    c->nsegs = w.nsegs;
    c->ndesc = w.ndesc;
    c->readable_len = w.readable_len;
    c->writable_len = w.writable_len;
    c->truncated = w.truncated;
    c->head = head;
    c->epoch = q->epoch;
    c->valid = true;
    return svd_ok();
}

svd_result svd_vq_pop(svd_vq *q, const svd_gmem *m, svd_vq_chain *c)
{
    uint16_t avail_idx;

    SVD_GUARD(vq_usable(q, m));
    SVD_ENSURE(!c->valid, SVD_ERR_STATE);
    if (q->packed) {
        return svd_vqp_pop(q, m, c);
    }

    avail_idx = vq_load_avail_idx(q);
    if (avail_idx != q->last_avail_idx) {
        return vq_take(q, m, c, avail_idx);
    }
    if (!q->event_idx) {
        return svd_fail(SVD_ERR_EMPTY);
    }
    /* Ask for a kick at the next add, then look again: a buffer added
     * between the first look and the store would otherwise never be
     * kicked (virtio 1.2 §2.7.10). The full fence orders our store
     * before the re-load. */
    vq_set_avail_event(q);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    avail_idx = vq_load_avail_idx(q);
    if (avail_idx == q->last_avail_idx) {
        return svd_fail(SVD_ERR_EMPTY);
    }
    return vq_take(q, m, c, avail_idx);
}

svd_result svd_vq_push(svd_vq *q, const svd_gmem *m, svd_vq_chain *c, uint32_t written)
{
    uint8_t *elem;

    SVD_ENSURE(c->valid, SVD_ERR_STATE);
    SVD_GUARD(vq_usable(q, m));
    SVD_ENSURE(c->epoch == q->epoch, SVD_ERR_STATE);
    SVD_ENSURE(c->head < q->size && vq_is_inflight(q, c->head), SVD_ERR_STATE);
    SVD_ENSURE(written <= c->writable_len, SVD_ERR_INVALID_ARG);
    if (q->packed) {
        svd_vqp_push(q, c, written);
        return svd_ok();
    }

    elem = q->used + VQ_RING_HDR + (size_t)VQ_USED_ELEM * (q->used_idx & (uint16_t)(q->size - 1u));
    /* elem is 4-byte aligned: the used ring's host address is (checked at
     * enable) and so is every element offset. */
    __atomic_store_n((uint32_t *)(void *)elem, vq_le32(c->head), __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(void *)(elem + 4), vq_le32(written), __ATOMIC_RELAXED);
    q->used_idx++;
    /* Release: the element above is visible before the index that covers it. */
    __atomic_store_n((uint16_t *)(void *)(q->used + 2u), vq_le16(q->used_idx), __ATOMIC_RELEASE);

    q->inflight_map[c->head >> 5] &= ~(1u << (c->head & 31u));
    q->inflight--;
    c->valid = false;
    /* 2^16 completions since the last decision: used_event comparisons
     * would alias, so the next decision must interrupt unconditionally. */
    if (q->used_idx == q->signalled_used) {
        q->signalled_valid = false;
    }
    return svd_ok();
}

svd_result svd_vq_need_interrupt(svd_vq *q, const svd_gmem *m, bool *need)
{
    bool n;

    SVD_GUARD(vq_usable(q, m));
    /* Our used->idx store must be globally visible before we read what the
     * driver asked for, or both sides can miss each other. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (q->packed) {
        *need = svd_vqp_need_interrupt(q);
        return svd_ok();
    }
    if (q->event_idx) {
        const uint16_t used_event = vq_avail_read16(q, VQ_RING_HDR + 2u * (size_t)q->size);
        /* vring_need_event(): interrupt when used_event lies in [old, new). */
        n = !q->signalled_valid ||
            (uint16_t)(q->used_idx - used_event - 1u) < (uint16_t)(q->used_idx - q->signalled_used);
    } else {
        const uint16_t flags = vq_avail_read16(q, 0u);
        n = (!q->signalled_valid || q->used_idx != q->signalled_used) &&
            (flags & SVD_VRING_AVAIL_F_NO_INTERRUPT) == 0u;
    }
    q->signalled_used = q->used_idx;
    q->signalled_valid = true;
    *need = n;
    return svd_ok();
}
