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


/*@ assigns \nothing; */
static uint16_t vq_le16(uint16_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap16(v);
#else
    return v;
#endif
}

/*@ assigns \nothing; */
static uint32_t vq_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

/*@ assigns \nothing; */
static uint64_t vq_le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

/* Volatile byte loads: each guest byte is read exactly once, here. */
/*@ requires \valid(dst + (0 .. n - 1)) && \valid_read(src + (0 .. n - 1));
    assigns dst[0 .. n - 1]; */
static void vq_copy_in(uint8_t *dst, const uint8_t *src, size_t n)
{
    const volatile uint8_t *s = src;
    size_t i;
    /*@ loop invariant 0 <= i <= n;
        loop assigns i, dst[0 .. n - 1];
        loop variant n - i; */
    for (i = 0u; i < n; i++) {
        dst[i] = s[i];
    }
}

/* One descriptor, read once: @lo = addr, @hi = len | flags << 32 | next << 48
 * (both as little-endian values). @aligned: the host address is 8-byte
 * aligned, so two volatile 64-bit loads read it; else 16 volatile byte loads. */
/*@ requires \valid_read(p + (0 .. 15)) && \valid(lo) && \valid(hi) && \separated(lo, hi);
    assigns *lo, *hi; */
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
/*@ requires \valid_read(q) && \valid_read(q->avail + (off .. off + 1));
    assigns \nothing; */
static uint16_t vq_avail_read16(const svd_vq *q, size_t off)
{
    const volatile uint16_t *p = (const volatile uint16_t *)(const volatile void *)(q->avail + off);
    return vq_le16(*p);
}

/*@ requires \valid_read(q) && \valid_read(q->avail + (2 .. 3));
    assigns \nothing; */
static uint16_t vq_load_avail_idx(const svd_vq *q)
{
    return vq_le16(__atomic_load_n((const uint16_t *)(const void *)(q->avail + 2u), __ATOMIC_ACQUIRE));
}

/* avail_event (used->ring[size]) = next index we will consume. */
/*@ requires \valid_read(q) && \valid(q->used + (4 + 8 * q->size .. 4 + 8 * q->size + 1));
    assigns q->used[4 + 8 * q->size .. 4 + 8 * q->size + 1]; */
static void vq_set_avail_event(svd_vq *q)
{
    __atomic_store_n((uint16_t *)(void *)(q->used + VQ_RING_HDR + (size_t)VQ_USED_ELEM * q->size),
                     vq_le16(q->last_avail_idx), __ATOMIC_RELAXED);
}

/* The queue-size rule, the only place it is written: a non-zero power of two
 * no larger than the queue's maximum (itself <= SVD_VQ_MAX_SIZE). */
/*@ requires \valid_read(q);
    assigns \nothing;
    ensures \result <==> (0 < size <= q->max && (size & (size - 1)) == 0); */
static bool vq_size_ok(const svd_vq *q, uint32_t size)
{
    return size != 0u && size <= q->max && (size & (size - 1u)) == 0u;
}

/*@ requires \valid(q);
    assigns q->broken;
    ensures q->broken && \result.err == SVD_ERR_PROTOCOL && \result.why == why; */
static svd_result vq_break(svd_vq *q, svd_why why)
{
    q->broken = true;
    return svd_protocol(why);
}

/* Configuration may change only while the queue is disabled (virtio 1.2
 * §4.1.4.3.2, §4.2.2.3); the only place this rule is checked. Refused
 * without latching the queue: the device engine latches NEEDS_RESET. */
/*@ requires \valid_read(q);
    assigns \nothing;
    ensures \result.err == SVD_OK <==> !q->enabled;
    ensures \result.err == SVD_OK || (\result.err == SVD_ERR_PROTOCOL && \result.why == SVD_WHY_QUEUE_ENABLED); */
static svd_result vq_configurable(const svd_vq *q)
{
    SVD_ENSURE_RULE(!q->enabled, SVD_WHY_QUEUE_ENABLED);
    return svd_ok();
}

/*@ requires \valid_read(q) && head < SVD_VQ_MAX_SIZE;
    assigns \nothing;
    ensures \result <==> vq_inflight(q, head); */
static bool vq_is_inflight(const svd_vq *q, uint16_t head)
{
    return (q->inflight_map[head / 32u] & (1u << (head % 32u))) != 0u;
}

/* The queue may touch its rings only while enabled, not broken, and with the
 * map its ring pointers were translated from. */
/*@ requires \valid_read(q) && \valid_read(m);
    assigns \nothing;
    ensures \result.err == SVD_OK <==> vq_running(q, m);
    ensures \result.err == SVD_OK || \result.err == SVD_ERR_STATE; */
static svd_result vq_usable(const svd_vq *q, const svd_gmem *m)
{
    SVD_ENSURE(q->enabled, SVD_ERR_STATE);
    SVD_ENSURE(!q->broken, SVD_ERR_STATE);
    SVD_ENSURE(m->generation == q->gmem_generation, SVD_ERR_STATE);
    return svd_ok();
}

/* The ring slot of free-running index @i: i mod size, as a mask (the size
 * is a power of two), since this is on every ring access. The provers behind
 * WP cannot bound a mask that is not a constant, so the contract takes the
 * sixteen valid sizes one by one (vq_size16): in each case the mask is a
 * constant that WP's simplifier bounds. */
/*@ requires \valid_read(q) && vq_size16(q->size);
    assigns \nothing;
    behavior s1: assumes q->size == 1; ensures \result < q->size;
    behavior s2: assumes q->size == 2; ensures \result < q->size;
    behavior s4: assumes q->size == 4; ensures \result < q->size;
    behavior s8: assumes q->size == 8; ensures \result < q->size;
    behavior s16: assumes q->size == 16; ensures \result < q->size;
    behavior s32: assumes q->size == 32; ensures \result < q->size;
    behavior s64: assumes q->size == 64; ensures \result < q->size;
    behavior s128: assumes q->size == 128; ensures \result < q->size;
    behavior s256: assumes q->size == 256; ensures \result < q->size;
    behavior s512: assumes q->size == 512; ensures \result < q->size;
    behavior s1024: assumes q->size == 1024; ensures \result < q->size;
    behavior s2048: assumes q->size == 2048; ensures \result < q->size;
    behavior s4096: assumes q->size == 4096; ensures \result < q->size;
    behavior s8192: assumes q->size == 8192; ensures \result < q->size;
    behavior s16384: assumes q->size == 16384; ensures \result < q->size;
    behavior s32768: assumes q->size == 32768; ensures \result < q->size;
    complete behaviors;
    disjoint behaviors; */
static uint32_t vq_slot(const svd_vq *q, uint16_t i)
{
    return (uint32_t)i & ((uint32_t)q->size - 1u);
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
    vq_clear_inflight(q);
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
/*@ requires 0 < n <= SVD_VQ_MAX_SIZE && gmem_ok(m) && \valid(r) && \separated(r, m);
    assigns *r;
    ensures errs: \result.err == SVD_OK ||
        (\result.err == SVD_ERR_PROTOCOL && (\result.why == SVD_WHY_RING_ALIGN || \result.why == SVD_WHY_RING_MEMORY));
    ensures align: \result.err == SVD_OK ==> (desc & 15) == 0 && (avail & 1) == 0 && (used & 3) == 0;
    ensures d_len: \result.err == SVD_OK ==> r->d.len == 16 * n;
    ensures d_in: \result.err == SVD_OK ==>
        \exists integer i; \let len = r->d.len; \let ptr = r->d.ptr;
            \at(gmem_in(m, i, desc, len, SVD_GMEM_READ) && ptr == m->regions[i].host + (desc - m->regions[i].gpa), Pre);
    ensures a_len: \result.err == SVD_OK ==> r->a.len == 4 + 2 * n + 2 * event_idx;
    ensures a_in: \result.err == SVD_OK ==>
        \exists integer i; \let len = r->a.len; \let ptr = r->a.ptr;
            \at(gmem_in(m, i, avail, len, SVD_GMEM_READ) && ptr == m->regions[i].host + (avail - m->regions[i].gpa), Pre);
    ensures u_len: \result.err == SVD_OK ==> r->u.len == 4 + 8 * n + 2 * event_idx;
    ensures u_in: \result.err == SVD_OK ==>
        \exists integer i; \let len = r->u.len; \let ptr = r->u.ptr;
            \at(gmem_in(m, i, used, len, SVD_GMEM_WRITE) && ptr == m->regions[i].host + (used - m->regions[i].gpa), Pre);
    ensures valid: \result.err == SVD_OK ==> \valid_read(r->d.ptr + (0 .. 16 * n - 1)) &&
        \valid_read(r->a.ptr + (0 .. 4 + 2 * n + 2 * event_idx - 1)) &&
        \valid(r->u.ptr + (0 .. 4 + 8 * n + 2 * event_idx - 1)); */
static svd_result vq_map_rings(uint64_t n, uint64_t desc, uint64_t avail, uint64_t used, bool event_idx,
                               const svd_gmem *m, vq_rings *r)
{
    /* used_event / avail_event trail the rings only with EVENT_IDX. */
    const uint64_t ev = event_idx ? UINT64_C(2) : UINT64_C(0);
    const uint64_t dlen = VQ_DESC_SIZE * n;
    const uint64_t alen = VQ_RING_HDR + 2u * n + ev;
    const uint64_t ulen = VQ_RING_HDR + VQ_USED_ELEM * n + ev;
    /*@ assert lens: dlen == 16 * n && alen == 4 + 2 * n + 2 * event_idx &&
                     ulen == 4 + 8 * n + 2 * event_idx; */
    svd_span d;
    svd_span a;
    svd_span u;
    SVD_ENSURE_RULE((desc & 15u) == 0u && (avail & 1u) == 0u && (used & 3u) == 0u, SVD_WHY_RING_ALIGN);
    SVD_ENSURE_RULE(svd_is_ok(svd_gmem_translate(m, desc, dlen, SVD_GMEM_READ, &d)) &&
                        svd_is_ok(svd_gmem_translate(m, avail, alen, SVD_GMEM_READ, &a)) &&
                        svd_is_ok(svd_gmem_translate(m, used, ulen, SVD_GMEM_WRITE, &u)),
                    SVD_WHY_RING_MEMORY);
    /* The index atomics need natural alignment of the host addresses too;
     * the descriptor table's decides how descriptors are read (vq_load_desc). */
    /* cppcheck-suppress misra-c2012-11.4 ; SVD-DEV-002: alignment of the host ring addresses (atomics, descriptor loads) */
    const uintptr_t low = (((uintptr_t)d.ptr & 7u) << 2u) | ((uintptr_t)a.ptr & 1u) | ((uintptr_t)u.ptr & 3u);
    SVD_ENSURE_RULE((low & 3u) == 0u, SVD_WHY_RING_ALIGN);
    /*@ assert d_in: \exists integer i; gmem_in(m, i, desc, d.len, SVD_GMEM_READ) &&
                                        d.ptr == m->regions[i].host + (desc - m->regions[i].gpa); */
    /*@ assert a_in: \exists integer i; gmem_in(m, i, avail, a.len, SVD_GMEM_READ) &&
                                        a.ptr == m->regions[i].host + (avail - m->regions[i].gpa); */
    /*@ assert u_in: \exists integer i; gmem_in(m, i, used, u.len, SVD_GMEM_WRITE) &&
                                        u.ptr == m->regions[i].host + (used - m->regions[i].gpa); */
    /* One store: *r changes only on success. The ring bits of low are 0 here. */
    const vq_rings res = { .d = d, .a = a, .u = u, .desc_aligned = low == 0u };
    *r = res;
    return svd_ok();
}

/*@ requires m == \null || gmem_ok(m);
    assigns \nothing;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_INVALID_ARG ||
        (\result.err == SVD_ERR_PROTOCOL && (\result.why == SVD_WHY_QUEUE_SIZE || \result.why == SVD_WHY_RING_ALIGN ||
                                           \result.why == SVD_WHY_RING_MEMORY));
    ensures null: m == \null ==> \result.err == SVD_ERR_INVALID_ARG;
    ensures size: m != \null && !(0 < size <= max <= SVD_VQ_MAX_SIZE && vq_pow2(size)) ==>
        \result.err == SVD_ERR_PROTOCOL && \result.why == SVD_WHY_QUEUE_SIZE;
    ensures ok: \result.err == SVD_OK ==> 0 < size <= max <= SVD_VQ_MAX_SIZE && vq_pow2(size) &&
        (desc & 15) == 0 && (avail & 1) == 0 && (used & 3) == 0 &&
        (\exists integer i; gmem_in(m, i, desc, 16 * size, SVD_GMEM_READ)) &&
        (\exists integer i; gmem_in(m, i, avail, 4 + 2 * size + 2 * event_idx, SVD_GMEM_READ)) &&
        (\exists integer i; gmem_in(m, i, used, 4 + 8 * size + 2 * event_idx, SVD_GMEM_WRITE)); */
svd_result svd_vq_check_rings(uint32_t max, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used,
                              bool event_idx, const svd_gmem *m)
{
    vq_rings r;
    SVD_ENSURE(m != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE_RULE(size != 0u && size <= max && max <= SVD_VQ_MAX_SIZE && (size & (size - 1u)) == 0u,
                    SVD_WHY_QUEUE_SIZE);
    return vq_map_rings(size, desc, avail, used, event_idx, m, &r);
}

/* What the contract requires of the size (one of the sixteen valid sizes)
 * is what svd_vq_init() and svd_vq_set_size() let in (their bit test; the
 * unit tests check every value up to 2^16 + 1, SVD-PRF-011). The packed
 * branch writes the device event structure, somewhere in guest memory. */
/*@ requires \valid(q) && gmem_ok(m) && \separated(q, m) && gmem_apart(m, q);
    requires vq_inv(q, m) && q->max <= SVD_VQ_MAX_SIZE && q->size <= q->max && vq_size16(q->size);
    assigns q->desc, q->desc_aligned, q->avail, q->used, q->gmem_generation, q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1],
            q->inflight, q->inflight_slots, q->signalled_used, q->signalled_valid, q->enabled, q->broken,
            m->regions[0 .. m->count - 1].host[0 .. UINT64_MAX];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_STATE || \result.err == SVD_ERR_PROTOCOL;
    ensures state: \old(q->enabled || q->broken) ==> \result.err == SVD_ERR_STATE;
    ensures broken: \result.err == SVD_ERR_PROTOCOL ==> q->broken;
    ensures ok: \result.err == SVD_OK ==> vq_running(q, m) && vq_rings_ok(q) && q->inflight == 0;
    ensures inv: vq_inv(q, m); */
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
    /* Each ring lies inside a region (vq_map_rings) and every region apart
     * from the queue (gmem_apart): shown here on the spans, then on the
     * queue's fields once they are stored. */
    /*@ assert placed: \valid_read(d.ptr + (0 .. vq_desc_bytes(q) - 1)) && \valid_read(a.ptr + (0 .. vq_avail_bytes(q) - 1)) &&
                       \valid(u.ptr + (0 .. vq_used_bytes(q) - 1)) && \separated(q, d.ptr + (0 .. vq_desc_bytes(q) - 1)) &&
                       \separated(q, a.ptr + (0 .. vq_avail_bytes(q) - 1)) && \separated(q, u.ptr + (0 .. vq_used_bytes(q) - 1)); */
    q->desc = d.ptr;
    q->desc_aligned = aligned;
    q->avail = a.ptr;
    q->used = u.ptr;
    q->gmem_generation = m->generation;
    vq_clear_inflight(q);
    q->signalled_used = q->used_idx;
    q->signalled_valid = true;
    q->enabled = true;
    /*@ assert rings: vq_split_rings_ok(q); */
    return svd_ok();
}

/* One buffer descriptor of a chain (svd_vq_walk_buffer(), core_priv.h):
 * both formats' walks call it. The chain's storage comes as values, so that
 * no goal of a walk has to show that the chain itself is not among what a
 * step writes. */
svd_result svd_vq_walk_buffer(const svd_gmem *m, svd_vq_desc *segs, uint32_t cap, svd_vq_walk *w, uint64_t addr,
                              uint32_t len, uint16_t flags)
{
    uint8_t *host;
    if ((flags & SVD_VRING_DESC_F_WRITE) != 0u) {
        w->seen_write = true;
    } else {
        SVD_ENSURE_RULE(!w->seen_write, SVD_WHY_WRITE_ORDER);
    }
    SVD_ENSURE_RULE(
        svd_is_ok(svd_gmem_check_host(m, addr, len, w->seen_write ? SVD_GMEM_WRITE : SVD_GMEM_READ, &host)),
        SVD_WHY_BUFFER_MEMORY);
    w->total += len;
    SVD_ENSURE_RULE(w->total < SVD_VQ_CHAIN_LIMIT, SVD_WHY_CHAIN_LEN);
    /*@ assert room: w->readable_len + w->writable_len + len <= w->total; */
    w->ndesc++;
    if (w->nsegs < cap) {
        svd_vq_desc *s = &segs[w->nsegs];
        s->addr = addr;
        s->len = len;
        s->flags = (uint16_t)(flags & SVD_VRING_DESC_F_WRITE);
        s->host = host;
        w->nsegs++;
        /* total < 2^32 bounds both partial sums. */
        if (w->seen_write) {
            w->writable_len += len;
        } else {
            w->readable_len += len;
        }
    } else {
        w->truncated = true;
    }
    return svd_ok();
}

/* The indirect rules for a descriptor with INDIRECT set (@feature:
 * INDIRECT_DESC negotiated; @nested: it was found inside an indirect table;
 * @size: the queue size); the table's host span into *@t. */
/*@ requires map: gmem_ok(m);
    requires size <= SVD_VQ_MAX_SIZE && \valid(t) && \separated(t, m);
    assigns *t;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures frame_sizes: gmem_sizes_ok(m);
    ensures frame_read: gmem_hosts_read(m);
    ensures frame_write: gmem_hosts_write(m);
    ensures frame_apart: gmem_hosts_apart(m);
    ensures nested: nested ==> \result.err != SVD_OK;
    ensures ok: \result.err == SVD_OK ==> t->len == len && 0 < len / 16 <= size &&
                \valid_read(t->ptr + (0 .. 16 * (len / 16) - 1)); */
static svd_result vq_walk_indirect(bool feature, uint32_t size, const svd_gmem *m, bool nested, uint64_t addr,
                                   uint32_t len, uint16_t flags, svd_span *t)
{
    SVD_ENSURE_RULE(feature, SVD_WHY_INDIRECT_FEATURE);
    SVD_ENSURE_RULE(!nested, SVD_WHY_INDIRECT_NESTED);
    SVD_ENSURE_RULE((flags & SVD_VRING_DESC_F_NEXT) == 0u, SVD_WHY_INDIRECT_NEXT);
    SVD_ENSURE_RULE(len != 0u && (len % VQ_DESC_SIZE) == 0u, SVD_WHY_INDIRECT_LEN);
    SVD_ENSURE_RULE(len <= VQ_DESC_SIZE * size, SVD_WHY_INDIRECT_LEN);
    SVD_ENSURE_RULE(svd_is_ok(svd_gmem_translate(m, addr, len, SVD_GMEM_READ, t)), SVD_WHY_INDIRECT_MEMORY);
    return svd_ok();
}

/* Validate the chain at @head, recording segments into c->segs.
 * Returns SVD_ERR_PROTOCOL (without latching) on the first broken rule. */
/*@ requires \valid_read(q) && !q->packed && vq_rings_ok(q) && gmem_ok(m) && head < q->size && vq_chain_ok(c) && \valid(w);
    requires \separated(w, c, q, m);
    requires c->cap > 0 ==> \separated(c->segs + (0 .. c->cap - 1), w, c, q, m);
    assigns *w, c->segs[0 .. c->cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures segs: \result.err == SVD_OK ==> w->nsegs <= \old(c->cap) && w->nsegs <= w->ndesc;
    ensures bound: \result.err == SVD_OK ==> 0 < w->ndesc < 2 * \old(q->size);
    ensures bytes: \result.err == SVD_OK ==> w->readable_len + w->writable_len < SVD_VQ_CHAIN_LIMIT; */
static svd_result vq_walk_chain(const svd_vq *q, const svd_gmem *m, uint16_t head, svd_vq_chain *c, svd_vq_walk *w)
{
    /* The queue and the chain are read here only: the loop's goals then
     * need nothing about what the steps write being apart from them. */
    const uint32_t size = q->size;
    const bool indirect_ok = q->indirect;
    svd_vq_desc *const segs = c->segs;
    const uint32_t cap = c->cap;
    const uint8_t *table = q->desc;
    bool table_aligned = q->desc_aligned;
    uint32_t table_n = size;
    uint32_t visits = 0u;
    bool in_indirect = false;
    uint16_t idx = head;

    /* Field by field: WP's typed model reads a struct copy from a local as
     * unknown values. */
    w->nsegs = 0u;
    w->ndesc = 0u;
    w->readable_len = 0u;
    w->writable_len = 0u;
    w->total = 0u;
    w->seen_write = false;
    w->truncated = false;
    /* The totals' bounds are spelled out here and in the step's contract
     * (not a predicate): their reads after a step then simplify against the
     * step's postconditions. */
    /*@ loop invariant tbl: 0 < table_n <= size <= SVD_VQ_MAX_SIZE && \valid_read(table + (0 .. 16 * table_n - 1));
        loop invariant main: !in_indirect ==> table_n == size;
        loop invariant idx: idx < table_n;
        loop invariant ttl: visits <= table_n;
        loop invariant frame: gmem_sizes_ok(m) && gmem_hosts_read(m) && gmem_hosts_write(m) && gmem_hosts_apart(m);
        loop invariant walk: w->nsegs <= cap && w->nsegs <= w->ndesc &&
            w->readable_len + w->writable_len <= w->total < SVD_VQ_CHAIN_LIMIT;
        loop invariant direct: !in_indirect ==> w->ndesc <= visits;
        loop invariant indirect: in_indirect ==> w->ndesc < size + visits;
        loop assigns visits, idx, table, table_aligned, table_n, in_indirect, *w, segs[0 .. cap - 1];
        loop variant (in_indirect ? 0 : SVD_VQ_MAX_SIZE + 1) + table_n - visits; */
    for (;;) {
        uint64_t addr;
        uint64_t hi;
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
            SVD_GUARD(vq_walk_indirect(indirect_ok, size, m, in_indirect, addr, len, flags, &t));
            /* The device ignores WRITE on the descriptor naming the table (§2.7.5.3.2). */
            table = t.ptr;
            table_aligned = false;
            table_n = (uint32_t)(t.len / VQ_DESC_SIZE);
            visits = 0u;
            in_indirect = true;
            idx = 0u;
            continue;
        }
        SVD_GUARD(svd_vq_walk_buffer(m, segs, cap, w, addr, len, flags));
        if ((flags & SVD_VRING_DESC_F_NEXT) == 0u) {
            break;
        }
        SVD_ENSURE_RULE(next < table_n, SVD_WHY_NEXT_RANGE);
        idx = next;
    }
    return svd_ok();
}

/* Hand the walked chain to the caller as a token of @epoch. One call with
 * the whole chain as what it assigns: the proof that the queue is not among
 * what it writes then follows from the chain and the queue being apart. */
/*@ requires \valid(c) && \valid_read(w) && \separated(c, w);
    assigns *c;
    ensures c->nsegs == \old(w->nsegs) && c->ndesc == \old(w->ndesc) && c->readable_len == \old(w->readable_len) &&
            c->writable_len == \old(w->writable_len) && c->truncated == \old(w->truncated);
    ensures c->head == head && c->epoch == epoch && c->valid;
    ensures c->segs == \old(c->segs) && c->cap == \old(c->cap); */
static void vq_commit(svd_vq_chain *c, const svd_vq_walk *w, uint16_t head, uint32_t epoch)
{
    c->nsegs = w->nsegs;
    c->ndesc = w->ndesc;
    c->readable_len = w->readable_len;
    c->writable_len = w->writable_len;
    c->truncated = w->truncated;
    c->head = head;
    c->epoch = epoch;
    c->valid = true;
}

/* Take the chain at the next available slot; avail_idx != last_avail_idx.
 * Kept apart from svd_vq_pop so that finding the ring empty (every second
 * call of a serving loop) stays a few loads and compares. */
/*@ requires vq_inv(q, m) && vq_running(q, m) && !q->packed && gmem_ok(m) && vq_chain_ok(c) && !c->valid;
    requires \separated(c, q, m) && (c->cap > 0 ==> \separated(c->segs + (0 .. c->cap - 1), c, q, m));
    requires \separated(c, q->used + (0 .. vq_used_bytes(q) - 1));
    assigns q->broken, q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->last_avail_idx,
            q->used[4 + 8 * q->size .. 4 + 8 * q->size + 1], *c, c->segs[0 .. c->cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures inv: vq_inv(q, m);
    ensures broken: \result.err != SVD_OK ==> q->broken;
    ensures ok: \result.err == SVD_OK ==> vq_running(q, m) && c->valid && c->head < q->size && c->epoch == q->epoch &&
        (\let h = c->head; !\at(vq_inflight(q, h), Pre)) &&
        c->nsegs <= c->cap && 0 < c->ndesc < 2 * q->size &&
        c->readable_len + c->writable_len < SVD_VQ_CHAIN_LIMIT &&
        q->last_avail_idx == (uint16_t)(\old(q->last_avail_idx) + 1);
    ensures kept: c->segs == \old(c->segs) && c->cap == \old(c->cap);
    ensures untouched: \result.err != SVD_OK ==> *c == \old(*c); */
/* Out of line: inlined into its one caller, its frame (the walk and its
 * totals) would also sit under the packed ring's pop, the deepest path of
 * the composed engine (make stack). */
static __attribute__((noinline)) svd_result vq_take(svd_vq *q, const svd_gmem *m, svd_vq_chain *c,
                                                    uint16_t avail_idx)
{
    uint16_t head;
    svd_vq_walk w;

    /* More entries than the ring holds can only be a lie (rust-vmm #196). */
    if ((uint16_t)(avail_idx - q->last_avail_idx) > q->size) {
        return vq_break(q, SVD_WHY_AVAIL_JUMP);
    }
    head = vq_avail_read16(q, VQ_RING_HDR + 2u * (size_t)vq_slot(q, q->last_avail_idx));
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
    /* Steps of the invariant's proof, each across one group of stores. */
    /*@ assert walked: vq_running(q, m) && vq_rings_ok(q); */

    q->inflight_map[head / 32u] |= 1u << (head % 32u);
    q->inflight++;
    q->last_avail_idx++;
    /*@ assert counted: vq_running(q, m) && vq_rings_ok(q); */
    if (q->event_idx) {
        /* Also after every pop (as QEMU does): a caller that stops popping
         * before the ring is empty is still kicked for the next buffer. */
        vq_set_avail_event(q);
    }
    /*@ assert published: vq_running(q, m) && vq_rings_ok(q); */
    vq_commit(c, &w, head, q->epoch);
    return svd_ok();
}

/*@ requires vq_inv(q, m) && gmem_ok(m) && vq_chain_ok(c);
    requires \separated(c, q, m) && (c->cap > 0 ==> \separated(c->segs + (0 .. c->cap - 1), c, q, m));
    requires vq_running(q, m) ==> \separated(c, q->used + (0 .. vq_used_bytes(q) - 1));
    assigns q->broken, q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->inflight_slots,
            q->last_avail_idx, q->used[0 .. 3], q->used[4 + 8 * q->size .. 4 + 8 * q->size + 1], *c,
            c->segs[0 .. c->cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_EMPTY || \result.err == SVD_ERR_STATE ||
                  \result.err == SVD_ERR_PROTOCOL;
    ensures state: !\old(vq_running(q, m)) || \old(c->valid) ==> \result.err == SVD_ERR_STATE;
    ensures inv: vq_inv(q, m);
    ensures broken: \result.err == SVD_ERR_PROTOCOL ==> q->broken;
    ensures ok: \result.err == SVD_OK ==> c->valid && c->head < q->size && c->epoch == q->epoch &&
        (\let h = c->head; !\at(vq_inflight(q, h), Pre)) &&
        c->nsegs <= c->cap && 0 < c->ndesc < 2 * q->size &&
        c->readable_len + c->writable_len < SVD_VQ_CHAIN_LIMIT;
    ensures kept: c->segs == \old(c->segs) && c->cap == \old(c->cap);
    ensures untouched: \result.err != SVD_OK ==> *c == \old(*c); */
svd_result svd_vq_pop(svd_vq *q, const svd_gmem *m, svd_vq_chain *c)
{
    uint16_t avail_idx;

    SVD_GUARD(vq_usable(q, m));
    SVD_ENSURE(!c->valid, SVD_ERR_STATE);
    if (q->packed) {
        return svd_vqp_pop(q, m, c);
    }

    avail_idx = vq_load_avail_idx(q);
    if (avail_idx == q->last_avail_idx) {
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
    }
    /* One call site: half the paths for the proof of the contract. */
    return vq_take(q, m, c, avail_idx);
}

/* The used element at byte @off of the used ring, two 32-bit stores: 4-byte
 * aligned, since the used ring's host address is (checked at enable) and so
 * is every element offset. */
/*@ requires \valid_read(q) && \valid(q->used + (off .. off + 7));
    assigns q->used[off .. off + 7]; */
static void vq_store_used_elem(const svd_vq *q, size_t off, uint32_t id, uint32_t len)
{
    uint8_t *elem = q->used + off;
    __atomic_store_n((uint32_t *)(void *)elem, vq_le32(id), __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(void *)(elem + 4), vq_le32(len), __ATOMIC_RELAXED);
}

/* Release: the element stored before is visible before the index that covers it. */
/*@ requires \valid(q) && \valid(q->used + (2 .. 3));
    assigns q->used[2 .. 3]; */
static void vq_store_used_idx(svd_vq *q)
{
    __atomic_store_n((uint16_t *)(void *)(q->used + 2u), vq_le16(q->used_idx), __ATOMIC_RELEASE);
}

/*@ requires vq_inv(q, m) && \valid(c) && \separated(c, q, m);
    requires vq_running(q, m) ==> \separated(c, q->used + (0 .. vq_used_bytes(q) - 1)) &&
                                  \separated(c, q->desc + (0 .. vq_desc_bytes(q) - 1));
    requires token: vq_running(q, m) && q->packed && c->valid ==> c->slots <= q->size;
    assigns q->used_idx, q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->inflight_slots,
            q->signalled_valid, c->valid, q->used[0 .. vq_used_bytes(q) - 1], q->desc[0 .. vq_desc_bytes(q) - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_STATE || \result.err == SVD_ERR_INVALID_ARG;
    ensures state: !\old(c->valid) || !\old(vq_running(q, m)) || \old(c->epoch) != q->epoch ||
                   !(\old(c->head) < q->size && \old(vq_inflight(q, c->head))) ==> \result.err == SVD_ERR_STATE;
    ensures arg: \result.err == SVD_ERR_INVALID_ARG ==> written > c->writable_len;
    ensures inv: vq_inv(q, m);
    ensures ok: \result.err == SVD_OK ==> !c->valid &&
        (!q->packed ==> q->used_idx == (uint16_t)(\old(q->used_idx) + 1));
    ensures nothing: \result.err != SVD_OK ==> q->used_idx == \old(q->used_idx) && c->valid == \old(c->valid) &&
                                               q->inflight == \old(q->inflight); */
svd_result svd_vq_push(svd_vq *q, const svd_gmem *m, svd_vq_chain *c, uint32_t written)
{
    SVD_ENSURE(c->valid, SVD_ERR_STATE);
    SVD_GUARD(vq_usable(q, m));
    SVD_ENSURE(c->epoch == q->epoch, SVD_ERR_STATE);
    SVD_ENSURE(c->head < q->size && vq_is_inflight(q, c->head), SVD_ERR_STATE);
    SVD_ENSURE(written <= c->writable_len, SVD_ERR_INVALID_ARG);
    if (q->packed) {
        svd_vqp_push(q, c, written);
        return svd_ok();
    }

    vq_store_used_elem(q, VQ_RING_HDR + (size_t)VQ_USED_ELEM * vq_slot(q, q->used_idx), c->head, written);
    q->used_idx++;
    vq_store_used_idx(q);

    q->inflight_map[c->head / 32u] &= ~(1u << (c->head % 32u));
    q->inflight--;
    c->valid = false;
    /* 2^16 completions since the last decision: used_event comparisons
     * would alias, so the next decision must interrupt unconditionally. */
    if (q->used_idx == q->signalled_used) {
        q->signalled_valid = false;
    }
    return svd_ok();
}

/*@ requires vq_inv(q, m) && \valid(need) && \separated(need, q, m);
    assigns q->signalled_used, q->signalled_valid, *need;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_STATE;
    ensures state: \result.err == SVD_OK <==> \old(vq_running(q, m));
    ensures inv: vq_inv(q, m); */
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
