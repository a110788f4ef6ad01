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
#define VQP_POS_MASK 0x7FFFu
#define VQP_CHAIN_LIMIT 0x100000000ull
/* Byte offsets inside a packed descriptor: addr, len, id, flags. */
#define VQP_OFF_LEN 8u
#define VQP_OFF_ID 12u
#define VQP_OFF_FLAGS 14u

static uint16_t vqp_le16(uint16_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap16(v);
#else
    return v;
#endif
}

static uint32_t vqp_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

/* Volatile byte loads: each guest byte is read exactly once, here. */
static void vqp_copy_in(uint8_t *dst, const uint8_t *src, size_t n)
{
    const volatile uint8_t *s = src;
    size_t i;
    for (i = 0u; i < n; i++) {
        dst[i] = s[i];
    }
}

/* One volatile load of the 16- or 32-bit field at byte offset @off of the
 * ring descriptor at @slot. The ring's host address is 4-byte aligned
 * (checked at enable) and a descriptor is 16 bytes, so every such field,
 * and each half of the 64-bit address, is naturally aligned. */
static uint16_t vqp_read16(const uint8_t *slot, uint32_t off)
{
    const volatile uint16_t *p = (const volatile uint16_t *)(const volatile void *)(slot + off);
    return vqp_le16(*p);
}

static uint32_t vqp_read32(const uint8_t *slot, uint32_t off)
{
    const volatile uint32_t *p = (const volatile uint32_t *)(const volatile void *)(slot + off);
    return vqp_le32(*p);
}

/* A little-endian 16-bit field of a descriptor copied out by vqp_copy_in(). */
static uint16_t vqp_get16(const uint8_t *raw, uint32_t off)
{
    return (uint16_t)((uint32_t)raw[off] | ((uint32_t)raw[off + 1u] << 8));
}

static svd_result vqp_break(svd_vq *q, svd_why why)
{
    q->broken = true;
    return svd_protocol(why);
}

/* The wrap counter bit of encoded position @v, as the value of a flag bit. */
static bool vqp_wrap(uint16_t v)
{
    return (v & SVD_VQ_WRAP_BIT) != 0u;
}

/* Place of encoded position @v in the cycle of 2 * size slots: the first
 * lap (wrap counter 1, the initial value) is 0 .. size-1, the second size ..
 * 2*size-1. */
static uint32_t vqp_cycle(const svd_vq *q, uint16_t v)
{
    return ((uint32_t)v & VQP_POS_MASK) + (vqp_wrap(v) ? 0u : (uint32_t)q->size);
}

/* Slots from encoded position @from forward to @to, modulo the cycle. */
static uint32_t vqp_dist(const svd_vq *q, uint16_t from, uint16_t to)
{
    return (vqp_cycle(q, to) - vqp_cycle(q, from)) & ((2u * (uint32_t)q->size) - 1u);
}

/* Encoded position @n (<= size) slots after @v; the wrap counter flips when
 * the offset passes the end of the ring. */
static uint16_t vqp_advance(const svd_vq *q, uint16_t v, uint32_t n)
{
    uint32_t off = ((uint32_t)v & VQP_POS_MASK) + n;
    uint32_t wrap = (uint32_t)v & SVD_VQ_WRAP_BIT;
    if (off >= q->size) {
        off -= q->size;
        wrap ^= SVD_VQ_WRAP_BIT;
    }
    return (uint16_t)(off | wrap);
}

/* Encoded position @n (<= size) slots before @v. */
static uint16_t vqp_rewind(const svd_vq *q, uint16_t v, uint32_t n)
{
    uint32_t off = ((uint32_t)v & VQP_POS_MASK);
    uint32_t wrap = (uint32_t)v & SVD_VQ_WRAP_BIT;
    if (off < n) {
        off += q->size;
        wrap ^= SVD_VQ_WRAP_BIT;
    }
    return (uint16_t)((off - n) | wrap);
}

/* A descriptor whose flags say "available in the lap of encoded position
 * @v": AVAIL equals that lap's wrap counter and USED differs from it. */
static bool vqp_is_avail(uint16_t flags, uint16_t v)
{
    const bool avail = (flags & SVD_VRING_PACKED_DESC_F_AVAIL) != 0u;
    const bool used = (flags & SVD_VRING_PACKED_DESC_F_USED) != 0u;
    return avail == vqp_wrap(v) && used != vqp_wrap(v);
}

static uint8_t *vqp_slot(const svd_vq *q, uint16_t v)
{
    return q->desc + (size_t)VQP_DESC_SIZE * (v & VQP_POS_MASK);
}

/* The flags of the descriptor at @v: the acquire load that makes the rest
 * of the chain the driver wrote before it visible. The slot's host address
 * is 4-byte aligned (checked at enable), so the 16-bit field is aligned. */
static uint16_t vqp_load_flags(const svd_vq *q, uint16_t v)
{
    return vqp_le16(
        __atomic_load_n((const uint16_t *)(const void *)(vqp_slot(q, v) + VQP_OFF_FLAGS), __ATOMIC_ACQUIRE));
}

/* The device event suppression structure: off/wrap and flags in one 32-bit
 * store (the structure's host address is 4-byte aligned, checked at enable),
 * so the driver never sees one half updated without the other. */
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
static svd_result vqp_map_rings(uint64_t n, uint64_t desc, uint64_t driver, uint64_t device, const svd_gmem *m,
                                vqp_rings *r)
{
    SVD_ENSURE_RULE((desc & 15u) == 0u && (driver & 3u) == 0u && (device & 3u) == 0u, SVD_WHY_RING_ALIGN);
    SVD_ENSURE_RULE(
        svd_is_ok(svd_gmem_translate(m, desc, VQP_DESC_SIZE * n, SVD_GMEM_READ | SVD_GMEM_WRITE, &r->d)) &&
            svd_is_ok(svd_gmem_translate(m, driver, VQP_EVENT_SIZE, SVD_GMEM_READ, &r->drv)) &&
            svd_is_ok(svd_gmem_translate(m, device, VQP_EVENT_SIZE, SVD_GMEM_WRITE, &r->dev)),
        SVD_WHY_RING_MEMORY);
    /* cppcheck-suppress misra-c2012-11.4 ; SVD-DEV-002: alignment of the host ring addresses (atomics) */
    const uintptr_t low = ((uintptr_t)r->d.ptr | (uintptr_t)r->drv.ptr | (uintptr_t)r->dev.ptr) & 3u;
    SVD_ENSURE_RULE(low == 0u, SVD_WHY_RING_ALIGN);
    return svd_ok();
}

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
    if ((q->last_avail_idx & VQP_POS_MASK) >= q->size || (q->used_idx & VQP_POS_MASK) >= q->size) {
        return vqp_break(q, SVD_WHY_RING_BASE);
    }
    q->desc = r.d.ptr;
    q->desc_aligned = false;
    q->avail = r.drv.ptr;
    q->used = r.dev.ptr;
    q->gmem_generation = m->generation;
    (void)memset(q->inflight_map, 0, sizeof(q->inflight_map));
    q->inflight = 0u;
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

/* Totals of a chain walk, committed to the chain only on success. */
typedef struct vqp_walk {
    uint32_t nsegs;
    uint32_t ndesc;
    uint32_t readable_len;
    uint32_t writable_len;
    uint64_t total;
    bool seen_write;
    bool truncated;
} vqp_walk;

/* One buffer descriptor (not an indirect one): the write-order, memory and
 * length rules, then the segment is recorded if there is room. */
static svd_result vqp_buffer(const svd_gmem *m, svd_vq_chain *c, vqp_walk *w, uint64_t addr, uint32_t len,
                             uint16_t flags)
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
    SVD_ENSURE_RULE(w->total < VQP_CHAIN_LIMIT, SVD_WHY_CHAIN_LEN);
    w->ndesc++;
    if (w->nsegs < c->cap) {
        svd_vq_desc *s = &c->segs[w->nsegs];
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

/* The table an indirect descriptor names: every entry a buffer; only WRITE
 * is meaningful in its flags, INDIRECT there would be nesting. */
static svd_result vqp_indirect(const svd_vq *q, const svd_gmem *m, svd_vq_chain *c, vqp_walk *w, uint64_t addr,
                               uint32_t len)
{
    svd_span t;
    uint32_t i;
    SVD_ENSURE_RULE(q->indirect, SVD_WHY_INDIRECT_FEATURE);
    SVD_ENSURE_RULE(len != 0u && (len % VQP_DESC_SIZE) == 0u, SVD_WHY_INDIRECT_LEN);
    SVD_ENSURE_RULE(len <= VQP_DESC_SIZE * (uint32_t)q->size, SVD_WHY_INDIRECT_LEN);
    SVD_ENSURE_RULE(svd_is_ok(svd_gmem_translate(m, addr, len, SVD_GMEM_READ, &t)), SVD_WHY_INDIRECT_MEMORY);
    for (i = 0u; i < len / VQP_DESC_SIZE; i++) {
        uint8_t raw[VQP_DESC_SIZE];
        vqp_copy_in(raw, t.ptr + (size_t)VQP_DESC_SIZE * i, sizeof(raw));
        const uint16_t flags = vqp_get16(raw, VQP_OFF_FLAGS);
        SVD_ENSURE_RULE((flags & SVD_VRING_DESC_F_INDIRECT) == 0u, SVD_WHY_INDIRECT_NESTED);
        SVD_GUARD(vqp_buffer(m, c, w, svd_load_le64(raw), svd_load_le32(raw + VQP_OFF_LEN), flags));
    }
    return svd_ok();
}

/* Validate the chain whose head at last_avail_idx carries @head_flags
 * (already seen available). Sets *@id and *@slots; SVD_ERR_PROTOCOL
 * (without latching) on the first broken rule. */
static svd_result vqp_walk_chain(const svd_vq *q, const svd_gmem *m, uint16_t head_flags, svd_vq_chain *c,
                                 vqp_walk *w, uint16_t *id, uint32_t *slots)
{
    /* Ring descriptors not held by chains in flight: the most a new chain may use. */
    const uint32_t room = (uint32_t)q->size - q->inflight_slots;
    uint16_t pos = q->last_avail_idx;
    uint16_t flags = head_flags;
    uint32_t n = 0u;

    (void)memset(w, 0, sizeof(*w));
    for (;;) {
        const uint8_t *slot = vqp_slot(q, pos);

        SVD_ENSURE_RULE(n < q->size, SVD_WHY_CHAIN_LOOP);
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
            SVD_GUARD(vqp_indirect(q, m, c, w, addr, len));
        } else {
            SVD_GUARD(vqp_buffer(m, c, w, addr, len, flags));
        }
        if ((flags & SVD_VRING_DESC_F_NEXT) == 0u) {
            /* The buffer id is in the last descriptor of the list (§2.8.6). */
            *id = vqp_read16(slot, VQP_OFF_ID);
            break;
        }
        pos = vqp_advance(q, pos, 1u);
    }
    SVD_ENSURE_RULE(*id < q->size, SVD_WHY_BUFFER_ID);
    SVD_ENSURE_RULE((q->inflight_map[*id >> 5] & (1u << (*id & 31u))) == 0u, SVD_WHY_HEAD_INFLIGHT);
    *slots = n;
    return svd_ok();
}

static svd_result vqp_take(svd_vq *q, const svd_gmem *m, svd_vq_chain *c, uint16_t head_flags)
{
    vqp_walk w;
    uint16_t id = 0u;
    uint32_t slots = 0u;

    const svd_result wr = vqp_walk_chain(q, m, head_flags, c, &w, &id, &slots);
    if (!svd_is_ok(wr)) {
        return vqp_break(q, wr.why);
    }
    q->inflight_map[id >> 5] |= 1u << (id & 31u);
    q->inflight++;
    q->inflight_slots += slots;
    q->last_avail_idx = vqp_advance(q, q->last_avail_idx, slots);
    if (q->event_idx) {
        /* Also after every pop, as the split ring does: a caller that stops
         * before the ring is empty is still kicked for the next buffer. */
        vqp_set_device_event(q);
    }
    c->nsegs = w.nsegs;
    c->ndesc = w.ndesc;
    c->readable_len = w.readable_len;
    c->writable_len = w.writable_len;
    c->truncated = w.truncated;
    c->head = id;
    c->slots = (uint16_t)slots;
    c->epoch = q->epoch;
    c->valid = true;
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

void svd_vqp_push(svd_vq *q, svd_vq_chain *c, uint32_t written)
{
    uint8_t *d = vqp_slot(q, q->used_idx);
    uint16_t flags = vqp_wrap(q->used_idx) ? (uint16_t)(SVD_VRING_PACKED_DESC_F_AVAIL | SVD_VRING_PACKED_DESC_F_USED)
                                           : (uint16_t)0u;
    if (written != 0u) {
        flags |= (uint16_t)SVD_VRING_DESC_F_WRITE;
    }
    /* The slot is 4-byte aligned (checked at enable): len, id and flags are
     * naturally aligned. The flags last, release: the driver that sees them
     * sees id and length too. */
    __atomic_store_n((uint32_t *)(void *)(d + VQP_OFF_LEN), vqp_le32(written), __ATOMIC_RELAXED);
    __atomic_store_n((uint16_t *)(void *)(d + VQP_OFF_ID), vqp_le16(c->head), __ATOMIC_RELAXED);
    __atomic_store_n((uint16_t *)(void *)(d + VQP_OFF_FLAGS), vqp_le16(flags), __ATOMIC_RELEASE);

    /* A full cycle (2 * size slots) since the last decision: off/wrap
     * comparisons would alias, so the next decision interrupts. */
    if (vqp_dist(q, q->signalled_used, q->used_idx) + (uint32_t)c->slots >= 2u * (uint32_t)q->size) {
        q->signalled_valid = false;
    }
    q->used_idx = vqp_advance(q, q->used_idx, c->slots);
    q->inflight_map[c->head >> 5] &= ~(1u << (c->head & 31u));
    q->inflight--;
    q->inflight_slots -= c->slots;
    c->valid = false;
}

bool svd_vqp_need_interrupt(svd_vq *q)
{
    /* off/wrap and flags in one load (4-byte aligned, checked at enable). */
    const uint32_t ev = vqp_le32(__atomic_load_n((const uint32_t *)(const void *)q->avail, __ATOMIC_RELAXED));
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
