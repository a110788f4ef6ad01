/* Packed virtqueue, device side (virtio 1.2 §2.8): the packed half of the
 * queue engine. virtqueue.c keeps the public calls and the checks both
 * formats share; this file owns the packed ring's layout and rules.
 *
 * Why it is written the way it is:
 * - One ring holds both directions: the driver marks a descriptor available
 *   by writing its flags last (AVAIL = its wrap counter, USED = the inverse),
 *   the device marks one used by writing id and length and then the flags
 *   (AVAIL = USED = its wrap counter). The head descriptor's flags are read
 *   once with an acquire load and decide whether anything is there; the
 *   rest of that descriptor, and every further descriptor of the chain
 *   (which the driver wrote before the head's flags), are read after it,
 *   each field once with an aligned load of its width (indirect tables byte
 *   by byte), into locals that alone are checked and used (no double fetch).
 * - Positions are kept as the spec's 16-bit encoding, ring offset in bits
 *   0-14 and wrap counter in bit 15: the same value vhost-user carries in
 *   SET/GET_VRING_BASE and the event suppression structures carry in
 *   off/wrap, so no conversion can disagree with another. Arithmetic on them
 *   maps an encoded position to its place in the cycle of 2 * size slots
 *   (the size is a power of two, so that cycle is too).
 * - The driver may complete-order freely, so the device cannot rely on a
 *   used index to bound what is in flight: it counts the ring descriptors
 *   held by chains in flight, and refuses a chain that would reach one of
 *   them, and it keeps one in-flight bit per buffer id.
 * - A pop validates the whole chain before it changes anything; on a
 *   protocol error only the broken latch is set. The segments written into
 *   the caller's storage are not meaningful after a failure. */
#include <string.h>

#include "core_priv.h"
#include "safevdev/span.h"
#include "safevdev/virtqueue.h"

#define VQP_DESC_SIZE 16u
#define VQP_EVENT_SIZE 4u
/* Byte offsets inside a packed descriptor: addr, len, id, flags. */
#define VQP_OFF_LEN 8u
#define VQP_OFF_ID 12u
#define VQP_OFF_FLAGS 14u

/*@ assigns \nothing; */
static uint16_t vqp_le16(uint16_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap16(v);
#else
    return v;
#endif
}

/*@ assigns \nothing; */
static uint32_t vqp_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

/* Volatile byte loads: each guest byte is read exactly once, here. */
/*@ requires \valid(dst + (0 .. n - 1)) && \valid_read(src + (0 .. n - 1));
    assigns dst[0 .. n - 1]; */
static void vqp_copy_in(uint8_t *dst, const uint8_t *src, size_t n)
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

/* One volatile load of the 16- or 32-bit field at byte offset @off of the
 * ring descriptor at @slot. The ring's host address is 4-byte aligned
 * (checked at enable) and a descriptor is 16 bytes, so every such field,
 * and each half of the 64-bit address, is naturally aligned. */
/*@ requires \valid_read(slot + (off .. off + 1));
    assigns \nothing; */
static uint16_t vqp_read16(const uint8_t *slot, uint32_t off)
{
    const volatile uint16_t *p = (const volatile uint16_t *)(const volatile void *)(slot + off);
    return vqp_le16(*p);
}

/*@ requires \valid_read(slot + (off .. off + 3));
    assigns \nothing; */
static uint32_t vqp_read32(const uint8_t *slot, uint32_t off)
{
    const volatile uint32_t *p = (const volatile uint32_t *)(const volatile void *)(slot + off);
    return vqp_le32(*p);
}

/* A little-endian 16-bit field of a descriptor copied out by vqp_copy_in(). */
/*@ requires off < 16 && \valid_read(raw + (off .. off + 1));
    assigns \nothing; */
static uint16_t vqp_get16(const uint8_t *raw, uint32_t off)
{
    return (uint16_t)((uint32_t)raw[off] | ((uint32_t)raw[off + 1u] << 8));
}

/*@ requires \valid(q);
    assigns q->broken;
    ensures q->broken && \result.err == SVD_ERR_PROTOCOL && \result.why == why; */
static svd_result vqp_break(svd_vq *q, svd_why why)
{
    q->broken = true;
    return svd_protocol(why);
}

/* The wrap counter of encoded position @v (bit 15) and its ring offset
 * (bits 0-14), written as a comparison and a remainder: the provers behind
 * WP reason about those, not about masks; the compiler emits the same test
 * and mask. */
/*@ assigns \nothing;
    ensures \result <==> v >= 32768; */
static bool vqp_wrap(uint16_t v)
{
    return v >= SVD_VQ_WRAP_BIT;
}

/*@ assigns \nothing;
    ensures \result == v % 32768; */
static uint32_t vqp_off(uint16_t v)
{
    return (uint32_t)v % SVD_VQ_WRAP_BIT;
}

/* Place of encoded position @v in the cycle of 2 * size slots: the first
 * lap (wrap counter 1, the initial value) is 0 .. size-1, the second size ..
 * 2*size-1. */
/*@ requires \valid_read(q);
    assigns \nothing; */
static uint32_t vqp_cycle(const svd_vq *q, uint16_t v)
{
    return vqp_off(v) + (vqp_wrap(v) ? 0u : (uint32_t)q->size);
}

/* Slots from encoded position @from forward to @to, modulo the cycle. */
/*@ requires \valid_read(q);
    assigns \nothing; */
static uint32_t vqp_dist(const svd_vq *q, uint16_t from, uint16_t to)
{
    return (vqp_cycle(q, to) - vqp_cycle(q, from)) & ((2u * (uint32_t)q->size) - 1u);
}

/* Encoded position @n (<= @size, the queue size) slots after @v; the wrap
 * counter flips when the offset passes the end of the ring. */
/*@ requires size <= SVD_VQ_MAX_SIZE && v % 32768 < size && n <= size;
    assigns \nothing;
    ensures pos: \result % 32768 < size; */
static uint16_t vqp_advance(uint32_t size, uint16_t v, uint32_t n)
{
    uint32_t off = vqp_off(v) + n;
    bool wrap = vqp_wrap(v);
    if (off >= size) {
        off -= size;
        wrap = !wrap;
    }
    return (uint16_t)(off + (wrap ? SVD_VQ_WRAP_BIT : 0u));
}

/* Encoded position @n (<= size) slots before @v. */
/*@ requires \valid_read(q);
    assigns \nothing; */
static uint16_t vqp_rewind(const svd_vq *q, uint16_t v, uint32_t n)
{
    uint32_t off = vqp_off(v);
    bool wrap = vqp_wrap(v);
    if (off < n) {
        off += q->size;
        wrap = !wrap;
    }
    return (uint16_t)((off - n) + (wrap ? SVD_VQ_WRAP_BIT : 0u));
}

/* A descriptor whose flags say "available in the lap of encoded position
 * @v": AVAIL equals that lap's wrap counter and USED differs from it. */
/*@ assigns \nothing; */
static bool vqp_is_avail(uint16_t flags, uint16_t v)
{
    const bool avail = (flags & SVD_VRING_PACKED_DESC_F_AVAIL) != 0u;
    const bool used = (flags & SVD_VRING_PACKED_DESC_F_USED) != 0u;
    return avail == vqp_wrap(v) && used != vqp_wrap(v);
}

/*@ requires \valid_read(q) && vqp_pos_ok(q, v);
    assigns \nothing;
    ensures \result == q->desc + 16 * (v % 32768); */
static uint8_t *vqp_slot(const svd_vq *q, uint16_t v)
{
    return q->desc + (size_t)VQP_DESC_SIZE * vqp_off(v);
}

/* The flags of the descriptor at @v: the acquire load that makes the rest
 * of the chain the driver wrote before it visible. The slot's host address
 * is 4-byte aligned (checked at enable), so the 16-bit field is aligned. */
/*@ requires \valid_read(q) && vqp_pos_ok(q, v) && \valid_read(q->desc + (0 .. 16 * q->size - 1));
    assigns \nothing; */
static uint16_t vqp_load_flags(const svd_vq *q, uint16_t v)
{
    return vqp_le16(
        __atomic_load_n((const uint16_t *)(const void *)(vqp_slot(q, v) + VQP_OFF_FLAGS), __ATOMIC_ACQUIRE));
}

/* The device event suppression structure: off/wrap and flags in one 32-bit
 * store (the structure's host address is 4-byte aligned, checked at enable),
 * so the driver never sees one half updated without the other. */
/*@ requires \valid_read(q) && \valid(q->used + (0 .. 3));
    assigns q->used[0 .. 3]; */
static void vqp_set_device_event(svd_vq *q)
{
    uint32_t v;
    if (q->event_idx) {
        v = (uint32_t)q->last_avail_idx | ((uint32_t)SVD_VRING_PACKED_EVENT_DESC << 16);
    } else {
        v = (uint32_t)SVD_VRING_PACKED_EVENT_ENABLE << 16;
    }
    __atomic_store_n((uint32_t *)(void *)q->used, vqp_le32(v), __ATOMIC_RELAXED);
}

/* The host spans of a packed queue's three areas. */
typedef struct vqp_rings {
    svd_span d;
    svd_span drv;
    svd_span dev;
} vqp_rings;

/* The ring rules, written once for svd_vqp_enable() and
 * svd_vq_check_rings_packed(): guest alignment, each part inside one region
 * with the access it needs, host alignment for the atomics. @n is a valid
 * size (<= 32768: the product cannot overflow). */
/*@ requires 0 < n <= SVD_VQ_MAX_SIZE && gmem_ok(m) && \valid(r) && \separated(r, m);
    assigns *r;
    ensures errs: \result.err == SVD_OK ||
        (\result.err == SVD_ERR_PROTOCOL && (\result.why == SVD_WHY_RING_ALIGN || \result.why == SVD_WHY_RING_MEMORY));
    ensures d_in: \result.err == SVD_OK ==>
        \exists integer i; \let ptr = r->d.ptr;
            \at(gmem_in(m, i, desc, 16 * n, SVD_GMEM_READ | SVD_GMEM_WRITE) &&
                ptr == m->regions[i].host + (desc - m->regions[i].gpa), Pre);
    ensures drv_in: \result.err == SVD_OK ==>
        \exists integer i; \let ptr = r->drv.ptr;
            \at(gmem_in(m, i, driver, 4, SVD_GMEM_READ) && ptr == m->regions[i].host + (driver - m->regions[i].gpa), Pre);
    ensures dev_in: \result.err == SVD_OK ==>
        \exists integer i; \let ptr = r->dev.ptr;
            \at(gmem_in(m, i, device, 4, SVD_GMEM_WRITE) && ptr == m->regions[i].host + (device - m->regions[i].gpa), Pre);
    ensures valid: \result.err == SVD_OK ==> \valid(r->d.ptr + (0 .. 16 * n - 1)) &&
        \valid_read(r->drv.ptr + (0 .. 3)) && \valid(r->dev.ptr + (0 .. 3)); */
static svd_result vqp_map_rings(uint64_t n, uint64_t desc, uint64_t driver, uint64_t device, const svd_gmem *m,
                                vqp_rings *r)
{
    svd_span d;
    svd_span drv;
    svd_span dev;
    SVD_ENSURE_RULE((desc & 15u) == 0u && (driver & 3u) == 0u && (device & 3u) == 0u, SVD_WHY_RING_ALIGN);
    SVD_ENSURE_RULE(svd_is_ok(svd_gmem_translate(m, desc, VQP_DESC_SIZE * n, SVD_GMEM_READ | SVD_GMEM_WRITE, &d)) &&
                        svd_is_ok(svd_gmem_translate(m, driver, VQP_EVENT_SIZE, SVD_GMEM_READ, &drv)) &&
                        svd_is_ok(svd_gmem_translate(m, device, VQP_EVENT_SIZE, SVD_GMEM_WRITE, &dev)),
                    SVD_WHY_RING_MEMORY);
    /* cppcheck-suppress misra-c2012-11.4 ; SVD-DEV-002: alignment of the host ring addresses (atomics) */
    const uintptr_t low = ((uintptr_t)d.ptr | (uintptr_t)drv.ptr | (uintptr_t)dev.ptr) & 3u;
    SVD_ENSURE_RULE(low == 0u, SVD_WHY_RING_ALIGN);
    /* One store: *r changes only on success. */
    const vqp_rings res = { .d = d, .drv = drv, .dev = dev };
    *r = res;
    return svd_ok();
}

/*@ requires m == \null || gmem_ok(m);
    assigns \nothing;
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_INVALID_ARG || \result.err == SVD_ERR_PROTOCOL;
    ensures null: m == \null ==> \result.err == SVD_ERR_INVALID_ARG; */
svd_result svd_vq_check_rings_packed(uint32_t max, uint32_t size, uint64_t desc, uint64_t driver, uint64_t device,
                                     const svd_gmem *m)
{
    vqp_rings r;
    SVD_ENSURE(m != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE_RULE(size != 0u && size <= max && max <= SVD_VQ_MAX_SIZE && (size & (size - 1u)) == 0u,
                    SVD_WHY_QUEUE_SIZE);
    return vqp_map_rings(size, desc, driver, device, m, &r);
}

/* The AVAIL and USED bits of descriptor flags @f. */
static bool vqp_f_avail(uint16_t f)
{
    return (f & SVD_VRING_PACKED_DESC_F_AVAIL) != 0u;
}

static bool vqp_f_used(uint16_t f)
{
    return (f & SVD_VRING_PACKED_DESC_F_USED) != 0u;
}

/* A start position is stale when the descriptor there cannot be the next
 * one the driver makes available: it is marked used in that very lap, or
 * available for the other lap. A correct start position holds the previous
 * lap's used descriptor, the zero-initialised one, or a buffer available in
 * its lap. (QEMU 7.2, having lost its back-end, restarts a packed ring from
 * the position of the previous start: it keeps no copy of where the
 * back-end got to.) */
static bool vqp_start_stale(const svd_vq *q)
{
    const uint16_t f = vqp_load_flags(q, q->last_avail_idx);
    const bool w = vqp_wrap(q->last_avail_idx);
    const bool a = vqp_f_avail(f);
    const bool u = vqp_f_used(f);
    return (a == u) ? (a == w) : (a != w);
}

/* Where the driver's available buffers start: the first available
 * descriptor (AVAIL != USED) whose predecessor does not continue the same
 * run (available in the same lap, or in the lap before across the end of
 * the ring). Each flags word is read once; the answer only chooses where to
 * look, every chain there is still checked when it is popped. A run always
 * has a start (going round the ring the lap changes once), so false means
 * nothing is available. */
static bool vqp_find_start(const svd_vq *q, uint16_t *pos)
{
    const uint16_t last = vqp_load_flags(q, (uint16_t)(q->size - 1u));
    uint16_t prev = last;
    for (uint32_t s = 0u; s < q->size; s++) {
        const uint16_t f = (s + 1u == q->size) ? last : vqp_load_flags(q, (uint16_t)s);
        const bool w = vqp_f_avail(f);
        /* The lap the predecessor would carry if it belonged to this run. */
        const bool pw = (s == 0u) ? !w : w;
        const bool prev_in_run = vqp_f_avail(prev) != vqp_f_used(prev) && vqp_f_avail(prev) == pw;
        if (w != vqp_f_used(f) && !prev_in_run) {
            *pos = (uint16_t)(s | (w ? SVD_VQ_WRAP_BIT : 0u));
            return true;
        }
        prev = f;
    }
    return false;
}

svd_result svd_vqp_enable(svd_vq *q, const svd_gmem *m)
{
    vqp_rings r;
    const svd_result mr = vqp_map_rings(q->size, q->desc_gpa, q->avail_gpa, q->used_gpa, m, &r);
    if (!svd_is_ok(mr)) {
        return vqp_break(q, mr.why);
    }
    if (vqp_off(q->last_avail_idx) >= q->size || vqp_off(q->used_idx) >= q->size) {
        return vqp_break(q, SVD_WHY_RING_BASE);
    }
    const svd_span d = r.d;
    const svd_span drv = r.drv;
    const svd_span dev = r.dev;
    /* Each area lies inside a region (vqp_map_rings) and every region apart
     * from the queue and the map (gmem_apart, gmem_ok). */
    /*@ assert apart: \separated(q, d.ptr + (0 .. 16 * q->size - 1)) && \separated(q, drv.ptr + (0 .. 3)) &&
                      \separated(q, dev.ptr + (0 .. 3)) && \separated(m, dev.ptr + (0 .. 3)); */
    q->desc = d.ptr;
    q->desc_aligned = false;
    q->avail = drv.ptr;
    q->used = dev.ptr;
    q->gmem_generation = m->generation;
    vq_clear_inflight(q);
    q->inflight_slots = 0u;
    q->signalled_used = q->used_idx;
    q->signalled_valid = true;
    q->enabled = true;
    vqp_set_device_event(q);
    return svd_ok();
}

bool svd_vqp_resync(svd_vq *q)
{
    uint16_t start = 0u;
    if (!vqp_start_stale(q) || !vqp_find_start(q, &start)) {
        return false;
    }
    /* Nothing is in flight at a start, so the driver expects its next used
     * descriptor where its available buffers begin. */
    q->last_avail_idx = start;
    q->used_idx = start;
    q->signalled_used = start;
    vqp_set_device_event(q);
    return true;
}

void svd_vqp_base(const svd_vq *q, uint16_t *next_avail, uint16_t *next_used)
{
    /* Completions follow pop order (svd_vq_base()), so the chains in flight
     * occupy the slots just before last_avail_idx: a restart there re-serves
     * them. */
    *next_avail = vqp_rewind(q, q->last_avail_idx, q->inflight_slots);
    *next_used = q->used_idx;
}

/* The table an indirect descriptor names: every entry a buffer; only WRITE
 * is meaningful in its flags, INDIRECT there would be nesting. The table is
 * the whole chain (vqp_walk_chain), so the walk's totals are still zero. */
/*@ requires map: gmem_ok(m);
    requires size <= SVD_VQ_MAX_SIZE && \valid(w) && \separated(w, m);
    requires cap > 0 ==> \valid(segs + (0 .. cap - 1)) && \separated(segs + (0 .. cap - 1), w, m);
    requires w->ndesc == 0 && w->nsegs == 0 && w->readable_len + w->writable_len <= w->total < SVD_VQ_CHAIN_LIMIT;
    assigns *w, segs[0 .. cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures ndesc: \result.err == SVD_OK ==> 0 < w->ndesc <= size;
    ensures segs: \result.err == SVD_OK ==> w->nsegs <= cap && w->nsegs <= w->ndesc;
    ensures bytes: \result.err == SVD_OK ==> w->readable_len + w->writable_len <= w->total < SVD_VQ_CHAIN_LIMIT;
    ensures frame_sizes: gmem_sizes_ok(m);
    ensures frame_read: gmem_hosts_read(m);
    ensures frame_write: gmem_hosts_write(m);
    ensures frame_apart: gmem_hosts_apart(m); */
static svd_result vqp_indirect(bool feature, uint32_t size, const svd_gmem *m, svd_vq_desc *segs, uint32_t cap,
                               svd_vq_walk *w, uint64_t addr, uint32_t len)
{
    svd_span t;
    uint32_t i;
    SVD_ENSURE_RULE(feature, SVD_WHY_INDIRECT_FEATURE);
    SVD_ENSURE_RULE(len != 0u && (len % VQP_DESC_SIZE) == 0u, SVD_WHY_INDIRECT_LEN);
    SVD_ENSURE_RULE(len <= VQP_DESC_SIZE * size, SVD_WHY_INDIRECT_LEN);
    SVD_ENSURE_RULE(svd_is_ok(svd_gmem_translate(m, addr, len, SVD_GMEM_READ, &t)), SVD_WHY_INDIRECT_MEMORY);
    const uint8_t *table = t.ptr;
    const uint32_t table_n = len / VQP_DESC_SIZE;
    /*@ assert tbl: 0 < table_n <= size && \valid_read(table + (0 .. 16 * table_n - 1)); */
    /*@ loop invariant i: 0 <= i <= table_n;
        loop invariant frame: gmem_sizes_ok(m) && gmem_hosts_read(m) && gmem_hosts_write(m) && gmem_hosts_apart(m);
        loop invariant walk: w->nsegs <= cap && w->nsegs <= w->ndesc &&
            w->readable_len + w->writable_len <= w->total < SVD_VQ_CHAIN_LIMIT;
        loop invariant ndesc: w->ndesc == i;
        loop assigns i, *w, segs[0 .. cap - 1];
        loop variant table_n - i; */
    for (i = 0u; i < table_n; i++) {
        uint8_t raw[VQP_DESC_SIZE];
        vqp_copy_in(raw, table + (size_t)VQP_DESC_SIZE * i, sizeof(raw));
        const uint16_t flags = vqp_get16(raw, VQP_OFF_FLAGS);
        SVD_ENSURE_RULE((flags & SVD_VRING_DESC_F_INDIRECT) == 0u, SVD_WHY_INDIRECT_NESTED);
        SVD_GUARD(svd_vq_walk_buffer(m, segs, cap, w, svd_load_le64(raw), svd_load_le32(raw + VQP_OFF_LEN), flags));
    }
    return svd_ok();
}

/* Validate the chain whose head at last_avail_idx carries @head_flags
 * (already seen available). Sets *@id (the buffer id, unchecked) and
 * *@slots; SVD_ERR_PROTOCOL (without latching) on the first broken rule.
 * The queue and the chain are read before the loop only, as in the split
 * walk: the loop's goals then need nothing about what the steps write
 * being apart from them. */
/*@ requires \valid_read(q) && q->packed && vq_rings_ok(q) && gmem_ok(m) && vq_chain_ok(c);
    requires \valid(w) && \valid(id) && \valid(slots) && \separated(w, id, slots, c, q, m);
    requires c->cap > 0 ==> \separated(c->segs + (0 .. c->cap - 1), w, id, slots, c, q, m);
    assigns *w, *id, *slots, c->segs[0 .. c->cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures slots: \result.err == SVD_OK ==> 0 < *slots <= \old(q->size);
    ensures room: \result.err == SVD_OK ==> \old(q->inflight_slots) <= \old(q->size) ==>
        \old(q->inflight_slots) + *slots <= \old(q->size);
    ensures segs: \result.err == SVD_OK ==> w->nsegs <= \old(c->cap) && w->nsegs <= w->ndesc;
    ensures bound: \result.err == SVD_OK ==> 0 < w->ndesc <= \old(q->size);
    ensures bytes: \result.err == SVD_OK ==> w->readable_len + w->writable_len < SVD_VQ_CHAIN_LIMIT; */
static svd_result vqp_walk_chain(const svd_vq *q, const svd_gmem *m, uint16_t head_flags, svd_vq_chain *c,
                                 svd_vq_walk *w, uint16_t *id, uint32_t *slots)
{
    const uint32_t size = q->size;
    const bool indirect_ok = q->indirect;
    const uint8_t *const ring = q->desc;
    svd_vq_desc *const segs = c->segs;
    const uint32_t cap = c->cap;
    /* Ring descriptors not held by chains in flight: the most a new chain may use. */
    const uint32_t room = size - q->inflight_slots;
    uint16_t pos = q->last_avail_idx;
    uint16_t flags = head_flags;
    uint32_t n = 0u;

    /* Field by field: WP's typed model reads a struct copy from a local as
     * unknown values. */
    w->nsegs = 0u;
    w->ndesc = 0u;
    w->readable_len = 0u;
    w->writable_len = 0u;
    w->total = 0u;
    w->seen_write = false;
    w->truncated = false;
    /*@ loop invariant ring: 0 < size <= SVD_VQ_MAX_SIZE && \valid_read(ring + (0 .. 16 * size - 1));
        loop invariant pos: pos % 32768 < size;
        loop invariant n: n <= size && (\at(q->inflight_slots, Pre) <= size ==> n <= room);
        loop invariant frame: gmem_sizes_ok(m) && gmem_hosts_read(m) && gmem_hosts_write(m) && gmem_hosts_apart(m);
        loop invariant walk: w->nsegs <= cap && w->nsegs <= w->ndesc &&
            w->readable_len + w->writable_len <= w->total < SVD_VQ_CHAIN_LIMIT;
        loop invariant ndesc: w->ndesc <= n;
        loop assigns pos, flags, n, *w, segs[0 .. cap - 1];
        loop variant size - n; */
    for (;;) {
        const uint8_t *slot = ring + (size_t)VQP_DESC_SIZE * vqp_off(pos);

        SVD_ENSURE_RULE(n < size, SVD_WHY_CHAIN_LOOP);
        SVD_ENSURE_RULE(n < room, SVD_WHY_RING_OVERRUN);
        /* Each field read once, with one load of its own width. The head's
         * flags were read already (the acquire, which orders these loads
         * after it); the driver makes a chain's other descriptors available
         * before its head, so theirs are checked here. */
        if (n != 0u) {
            flags = vqp_read16(slot, VQP_OFF_FLAGS);
            SVD_ENSURE_RULE(vqp_is_avail(flags, pos), SVD_WHY_DESC_WRAP);
        }
        n++;
        const uint64_t addr = (uint64_t)vqp_read32(slot, 0u) | ((uint64_t)vqp_read32(slot, 4u) << 32);
        const uint32_t len = vqp_read32(slot, VQP_OFF_LEN);
        if ((flags & SVD_VRING_DESC_F_INDIRECT) != 0u) {
            /* An indirect descriptor is the whole list (§2.8.7: a list
             * holds descriptors of one type). */
            SVD_ENSURE_RULE(n == 1u && (flags & SVD_VRING_DESC_F_NEXT) == 0u, SVD_WHY_INDIRECT_NEXT);
            SVD_GUARD(vqp_indirect(indirect_ok, size, m, segs, cap, w, addr, len));
        } else {
            SVD_GUARD(svd_vq_walk_buffer(m, segs, cap, w, addr, len, flags));
        }
        if ((flags & SVD_VRING_DESC_F_NEXT) == 0u) {
            /*@ assert done: w->nsegs <= cap && w->nsegs <= w->ndesc && 0 < w->ndesc <= size &&
                             w->readable_len + w->writable_len < SVD_VQ_CHAIN_LIMIT && 0 < n <= size &&
                             (\at(q->inflight_slots, Pre) <= size ==> \at(q->inflight_slots, Pre) + n <= size); */
            /* The buffer id is in the last descriptor of the list (§2.8.6). */
            *id = vqp_read16(slot, VQP_OFF_ID);
            break;
        }
        pos = vqp_advance(size, pos, 1u);
    }
    *slots = n;
    return svd_ok();
}

/* Hand the walked chain to the caller as a token of @epoch occupying
 * @slots ring descriptors. One call with the whole chain as what it
 * assigns, and the queue's counts below another: the proof that each leaves
 * the other's state alone then follows from the chain and the queue being
 * apart, without following single stores. */
/*@ requires \valid(c) && \valid_read(w) && \separated(c, w);
    assigns *c;
    ensures fields: c->nsegs == \old(w->nsegs) && c->ndesc == \old(w->ndesc) &&
            c->readable_len == \old(w->readable_len) && c->writable_len == \old(w->writable_len) &&
            c->truncated == \old(w->truncated);
    ensures token: c->head == id && c->slots == slots && c->epoch == epoch && c->valid;
    ensures kept: c->segs == \old(c->segs) && c->cap == \old(c->cap); */
static void vqp_commit(svd_vq_chain *c, const svd_vq_walk *w, uint16_t id, uint16_t slots, uint32_t epoch)
{
    c->nsegs = w->nsegs;
    c->ndesc = w->ndesc;
    c->readable_len = w->readable_len;
    c->writable_len = w->writable_len;
    c->truncated = w->truncated;
    c->head = id;
    c->slots = slots;
    c->epoch = epoch;
    c->valid = true;
}

/* The queue counts a chain taken: buffer @id in flight, @slots more ring
 * descriptors held, the next position after them. */
/*@ requires vq_inv(q, m) && vq_running(q, m) && q->packed && vq_rings_ok(q) && id < q->size && 0 < slots <= q->size;
    assigns q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->inflight_slots, q->last_avail_idx,
            q->used[0 .. 3];
    ensures inv: vq_inv(q, m) && vq_running(q, m) && vq_rings_ok(q); */
static void vqp_count(svd_vq *q, const svd_gmem *m, uint16_t id, uint32_t slots)
{
    (void)m;
    q->inflight_map[id / 32u] |= 1u << (id % 32u);
    q->inflight++;
    q->inflight_slots += slots;
    q->last_avail_idx = vqp_advance(q->size, q->last_avail_idx, slots);
    /*@ assert counted: vq_inv(q, m) && vq_running(q, m) && vq_rings_ok(q); */
    if (q->event_idx) {
        /* Also after every pop, as the split ring does: a caller that stops
         * before the ring is empty is still kicked for the next buffer. */
        vqp_set_device_event(q);
    }
}

/* The buffer id is checked below the size before it indexes the in-flight
 * bitmap, and not in flight; then the queue counts the chain and the chain
 * is handed out. */
/*@ requires vq_inv(q, m) && vq_running(q, m) && q->packed && gmem_ok(m) && vq_chain_ok(c) && !c->valid;
    requires \separated(c, q, m) && (c->cap > 0 ==> \separated(c->segs + (0 .. c->cap - 1), c, q, m));
    requires \separated(c, q->used + (0 .. 3));
    assigns q->broken, q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->inflight_slots,
            q->last_avail_idx, q->used[0 .. 3], *c, c->segs[0 .. c->cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures inv: vq_inv(q, m);
    ensures broken: \result.err != SVD_OK ==> q->broken;
    ensures ok: \result.err == SVD_OK ==> c->valid && c->head < q->size && c->epoch == q->epoch &&
        (\let h = c->head; !\at(vq_inflight(q, h), Pre)) && c->nsegs <= c->cap && 0 < c->ndesc < 2 * q->size &&
        c->readable_len + c->writable_len < SVD_VQ_CHAIN_LIMIT && 0 < c->slots <= q->size;
    ensures kept: c->segs == \old(c->segs) && c->cap == \old(c->cap);
    ensures untouched: \result.err != SVD_OK ==> *c == \old(*c); */
static svd_result vqp_take(svd_vq *q, const svd_gmem *m, svd_vq_chain *c, uint16_t head_flags)
{
    svd_vq_walk w;
    uint16_t id = 0u;
    uint32_t slots = 0u;

    const svd_result wr = vqp_walk_chain(q, m, head_flags, c, &w, &id, &slots);
    if (!svd_is_ok(wr)) {
        return vqp_break(q, wr.why);
    }
    if (id >= q->size) {
        return vqp_break(q, SVD_WHY_BUFFER_ID);
    }
    if ((q->inflight_map[id / 32u] & (1u << (id % 32u))) != 0u) {
        return vqp_break(q, SVD_WHY_HEAD_INFLIGHT);
    }
    /*@ assert free: \let k = id; !vq_inflight(q, k) && \at(!vq_inflight(q, k), Pre); */
    /*@ assert slots16: 0 < (uint16_t)slots <= q->size && (uint16_t)slots == slots; */
    vqp_count(q, m, id, slots);
    vqp_commit(c, &w, id, (uint16_t)slots, q->epoch);
    return svd_ok();
}

svd_result svd_vqp_pop(svd_vq *q, const svd_gmem *m, svd_vq_chain *c)
{
    uint16_t flags = vqp_load_flags(q, q->last_avail_idx);
    if (vqp_is_avail(flags, q->last_avail_idx)) {
        return vqp_take(q, m, c, flags);
    }
    if (!q->event_idx) {
        return svd_fail(SVD_ERR_EMPTY);
    }
    /* Ask for a kick when this slot is made available, then look again: a
     * buffer added between the first look and the store would otherwise
     * never be kicked. The full fence orders the store before the re-load. */
    vqp_set_device_event(q);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    flags = vqp_load_flags(q, q->last_avail_idx);
    if (!vqp_is_avail(flags, q->last_avail_idx)) {
        return svd_fail(SVD_ERR_EMPTY);
    }
    return vqp_take(q, m, c, flags);
}

/* The used descriptor at position @v: length and id, then the flags last,
 * release: the driver that sees them sees id and length too. The slot is
 * 4-byte aligned (checked at enable): len, id and flags are naturally
 * aligned. */
/*@ requires \valid_read(q) && vqp_pos_ok(q, v) && \valid(q->desc + (0 .. 16 * q->size - 1));
    assigns q->desc[16 * (v % 32768) + 8 .. 16 * (v % 32768) + 15]; */
static void vqp_store_used(const svd_vq *q, uint16_t v, uint32_t written, uint16_t id, uint16_t flags)
{
    uint8_t *d = vqp_slot(q, v);
    __atomic_store_n((uint32_t *)(void *)(d + VQP_OFF_LEN), vqp_le32(written), __ATOMIC_RELAXED);
    __atomic_store_n((uint16_t *)(void *)(d + VQP_OFF_ID), vqp_le16(id), __ATOMIC_RELAXED);
    __atomic_store_n((uint16_t *)(void *)(d + VQP_OFF_FLAGS), vqp_le16(flags), __ATOMIC_RELEASE);
}

void svd_vqp_push(svd_vq *q, svd_vq_chain *c, uint32_t written)
{
    uint16_t flags = vqp_wrap(q->used_idx) ? (uint16_t)(SVD_VRING_PACKED_DESC_F_AVAIL | SVD_VRING_PACKED_DESC_F_USED)
                                           : (uint16_t)0u;
    if (written != 0u) {
        flags |= (uint16_t)SVD_VRING_DESC_F_WRITE;
    }
    vqp_store_used(q, q->used_idx, written, c->head, flags);

    /* A full cycle (2 * size slots) since the last decision: off/wrap
     * comparisons would alias, so the next decision interrupts. */
    if (vqp_dist(q, q->signalled_used, q->used_idx) + (uint32_t)c->slots >= 2u * (uint32_t)q->size) {
        q->signalled_valid = false;
    }
    q->used_idx = vqp_advance(q->size, q->used_idx, c->slots);
    q->inflight_map[c->head / 32u] &= ~(1u << (c->head % 32u));
    q->inflight--;
    q->inflight_slots -= c->slots;
    c->valid = false;
}

/* The driver event suppression structure, off/wrap and flags in one load
 * (4-byte aligned, checked at enable). */
/*@ requires \valid_read(q) && \valid_read(q->avail + (0 .. 3));
    assigns \nothing; */
static uint32_t vqp_load_driver_event(const svd_vq *q)
{
    return vqp_le32(__atomic_load_n((const uint32_t *)(const void *)q->avail, __ATOMIC_RELAXED));
}

bool svd_vqp_need_interrupt(svd_vq *q)
{
    const uint32_t ev = vqp_load_driver_event(q);
    const uint32_t flags = (ev >> 16) & 3u;
    const uint32_t moved = vqp_dist(q, q->signalled_used, q->used_idx);
    bool n;

    if (flags == SVD_VRING_PACKED_EVENT_DISABLE) {
        n = false;
    } else if (flags == SVD_VRING_PACKED_EVENT_DESC && q->event_idx) {
        /* vring_need_event() in the cycle: the event position lies in
         * [old, new). */
        const uint16_t event = (uint16_t)(ev & 0xFFFFu);
        const uint32_t mask = (2u * (uint32_t)q->size) - 1u;
        n = !q->signalled_valid || ((vqp_cycle(q, q->used_idx) - vqp_cycle(q, event) - 1u) & mask) < moved;
    } else {
        n = !q->signalled_valid || moved != 0u;
    }
    q->signalled_used = q->used_idx;
    q->signalled_valid = true;
    return n;
}
