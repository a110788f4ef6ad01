/* libFuzzer target: packed-virtqueue chain walking over arbitrary guest memory.
 *
 * Input layout (all little-endian, missing bytes read as 0):
 *   u8  size_log2      queue size = 1 << (v % 9)  (1..256)
 *   u8  flags          bit0 EVENT_IDX, bit1 INDIRECT, bit2 two regions, bit3 set_base
 *   u16 desc, driver, device   area offsets inside guest memory (any value:
 *                      misaligned, out of range and overlapping placements are the point)
 *   u16 split          where guest memory is cut into two regions (bit2)
 *   u16 base_avail, base_used  for svd_vq_set_base (bit3; position | wrap << 15)
 *   u8  nops           number of operations
 *   u8  ops[nops]      op & 3: 0 pop, 1 push (written = next op byte), 2 need_interrupt,
 *                      3 disable + base round trip + enable; op >> 6 picks one of 4 chains
 *   rest               guest memory, exactly that many bytes on the heap (ASan sees
 *                      any access past it).
 * Invariants checked: a popped chain lies inside guest memory with the right
 * access, its lengths add up, its buffer id is below the size and occupies
 * 1..size ring descriptors; a protocol error latches; a push writes a used
 * descriptor (id, length, AVAIL = USED = the wrap counter) at the used position
 * and moves that position by exactly the chain's descriptors; a second
 * completion is refused; ring descriptors in flight never exceed the size; the
 * base after a disable resumes where the in-flight chains started. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "safevdev/gmem.h"
#include "safevdev/span.h"
#include "safevdev/virtqueue.h"

#define FZ_GPA_BASE 0x10000ull
#define FZ_SEGS 8u
#define FZ_MAX_CHAINS 4u

static void check_chain(const svd_gmem *m, const svd_vq_chain *c, uint32_t qsize)
{
    uint64_t rd = 0u;
    uint64_t wr = 0u;

    FZ_CHECK(c->valid);
    FZ_CHECK(c->head < qsize);
    FZ_CHECK(c->slots >= 1u && c->slots <= qsize);
    FZ_CHECK(c->nsegs <= c->cap);
    FZ_CHECK(c->ndesc >= c->nsegs);
    FZ_CHECK(c->truncated == (c->ndesc > c->nsegs));
    for (uint32_t i = 0u; i < c->nsegs; i++) {
        const svd_vq_desc *d = &c->segs[i];
        const bool w = (d->flags & SVD_VRING_DESC_F_WRITE) != 0u;
        uint8_t *host = NULL;
        FZ_CHECK(svd_is_ok(svd_gmem_check_host(m, d->addr, d->len, w ? SVD_GMEM_WRITE : SVD_GMEM_READ, &host)));
        FZ_CHECK(host == d->host);
        if (w) {
            wr += d->len;
        } else {
            FZ_CHECK(wr == 0u);
            rd += d->len;
        }
    }
    FZ_CHECK(rd == c->readable_len);
    FZ_CHECK(wr == c->writable_len);
    FZ_CHECK(rd + wr < 0x100000000ull);
}

/* Place of encoded position @v in the cycle of 2 * size slots. */
static uint32_t cyc(uint32_t qsize, uint16_t v)
{
    return (uint32_t)(v & 0x7FFFu) + (((v & SVD_VQ_WRAP_BIT) != 0u) ? 0u : qsize);
}

/* REQ: REQ-VQ-030 REQ-SAF-001 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    svd_gmem m;
    svd_vq q;
    svd_vq_chain chains[FZ_MAX_CHAINS];
    svd_vq_desc segs[FZ_MAX_CHAINS][FZ_SEGS];
    const uint32_t qsize = 1u << (fz_u8(&in) % 9u);
    const uint8_t flags = fz_u8(&in);
    const uint16_t desc = fz_u16(&in);
    const uint16_t driver = fz_u16(&in);
    const uint16_t device = fz_u16(&in);
    const uint16_t split = fz_u16(&in);
    const uint16_t base_avail = fz_u16(&in);
    const uint16_t base_used = fz_u16(&in);
    const uint8_t nops = fz_u8(&in);
    uint8_t ops[256];
    uint8_t *ram;
    size_t ramlen;
    bool enabled;

    for (uint32_t i = 0u; i < nops; i++) {
        ops[i] = fz_u8(&in);
    }
    ramlen = fz_left(&in);
    if (ramlen == 0u) {
        return 0;
    }
    ram = malloc(ramlen);
    FZ_CHECK(ram != NULL);
    memcpy(ram, data + in.pos, ramlen);

    svd_gmem_init(&m);
    if ((flags & 4u) != 0u && split > 0u && split < ramlen) {
        FZ_CHECK(svd_is_ok(svd_gmem_add(&m, FZ_GPA_BASE, split, ram, SVD_GMEM_READ)));
        FZ_CHECK(svd_is_ok(svd_gmem_add(&m, FZ_GPA_BASE + split, ramlen - split, ram + split,
                                        SVD_GMEM_READ | SVD_GMEM_WRITE)));
    } else {
        FZ_CHECK(svd_is_ok(svd_gmem_add(&m, FZ_GPA_BASE, ramlen, ram, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    }

    FZ_CHECK(svd_is_ok(svd_vq_init(&q, SVD_VQ_MAX_SIZE)));
    for (uint32_t i = 0u; i < FZ_MAX_CHAINS; i++) {
        svd_vq_chain_init(&chains[i], segs[i], (i == 0u) ? 1u : FZ_SEGS);
    }
    FZ_CHECK(svd_is_ok(svd_vq_set_format(&q, true)));
    FZ_CHECK(q.last_avail_idx == SVD_VQ_WRAP_BIT && q.used_idx == SVD_VQ_WRAP_BIT);
    FZ_CHECK(svd_is_ok(svd_vq_set_size(&q, qsize)));
    FZ_CHECK(svd_is_ok(svd_vq_set_addr(&q, SVD_VQ_RING_DESC, FZ_GPA_BASE + desc)));
    FZ_CHECK(svd_is_ok(svd_vq_set_addr(&q, SVD_VQ_RING_AVAIL, FZ_GPA_BASE + driver)));
    FZ_CHECK(svd_is_ok(svd_vq_set_addr(&q, SVD_VQ_RING_USED, FZ_GPA_BASE + device)));
    FZ_CHECK(svd_is_ok(svd_vq_set_features(&q, (flags & 1u) != 0u, (flags & 2u) != 0u)));
    if ((flags & 8u) != 0u) {
        FZ_CHECK(svd_is_ok(svd_vq_set_base(&q, base_avail, base_used)));
    }
    const bool check_ok = svd_is_ok(svd_vq_check_rings_packed(SVD_VQ_MAX_SIZE, qsize, FZ_GPA_BASE + desc,
                                                              FZ_GPA_BASE + driver, FZ_GPA_BASE + device, &m));
    enabled = svd_is_ok(svd_vq_enable(&q, &m));
    /* The check without a queue agrees with enable, which also checks the base. */
    FZ_CHECK(!enabled || check_ok);

    for (uint32_t i = 0u; enabled && i < nops; i++) {
        svd_vq_chain *c = &chains[ops[i] >> 6];
        FZ_CHECK(q.inflight_slots <= qsize);
        switch (ops[i] & 3u) {
        case 0u: {
            if (c->valid) {
                FZ_CHECK(svd_is_err(svd_vq_pop(&q, &m, c), SVD_ERR_STATE));
                break;
            }
            const uint32_t held = q.inflight_slots;
            const svd_result r = svd_vq_pop(&q, &m, c);
            if (svd_is_ok(r)) {
                check_chain(&m, c, qsize);
                FZ_CHECK(q.inflight_slots == held + c->slots);
            } else if (svd_is_err(r, SVD_ERR_PROTOCOL)) {
                FZ_CHECK(r.why != SVD_WHY_NONE && (unsigned)r.why < (unsigned)SVD_WHY__COUNT);
                FZ_CHECK(!c->valid);
                FZ_CHECK(svd_is_err(svd_vq_pop(&q, &m, c), SVD_ERR_STATE));
            } else {
                FZ_CHECK(svd_is_err(r, SVD_ERR_EMPTY) || svd_is_err(r, SVD_ERR_STATE));
            }
            break;
        }
        case 1u: {
            const uint32_t want = (i + 1u < nops) ? ops[i + 1u] : 0u;
            const bool had = c->valid;
            const bool ok_len = want <= c->writable_len;
            const uint16_t before = q.used_idx;
            const uint16_t id = c->head;
            const uint32_t slots = c->slots;
            const svd_result r = svd_vq_push(&q, &m, c, want);
            if (svd_is_ok(r)) {
                FZ_CHECK(had && ok_len);
                FZ_CHECK(((cyc(qsize, q.used_idx) - cyc(qsize, before)) & (2u * qsize - 1u)) == (slots & (2u * qsize - 1u)));
                FZ_CHECK(!c->valid);
                /* The used descriptor, where the driver reads it. The ring
                 * may overlap other areas, so only its flags are certain
                 * when nothing else was written since. */
                uint8_t *d = q.desc + 16u * (before & 0x7FFFu);
                const uint16_t f = (uint16_t)(d[14] | (d[15] << 8));
                const bool wrap = (before & SVD_VQ_WRAP_BIT) != 0u;
                FZ_CHECK(((f & SVD_VRING_PACKED_DESC_F_AVAIL) != 0u) == wrap);
                FZ_CHECK(((f & SVD_VRING_PACKED_DESC_F_USED) != 0u) == wrap);
                (void)id;
                c->valid = true;
                FZ_CHECK(svd_is_err(svd_vq_push(&q, &m, c, 0u), SVD_ERR_STATE));
                c->valid = false;
            } else {
                FZ_CHECK(q.used_idx == before);
            }
            break;
        }
        case 2u: {
            bool need = false;
            (void)svd_vq_need_interrupt(&q, &m, &need);
            break;
        }
        default: {
            uint16_t na = 0u;
            uint16_t nu = 0u;
            const uint32_t held = q.inflight_slots;
            const uint16_t la = q.last_avail_idx;
            svd_vq_base(&q, &na, &nu);
            FZ_CHECK(((cyc(qsize, la) - cyc(qsize, na)) & (2u * qsize - 1u)) == (held & (2u * qsize - 1u)));
            svd_vq_disable(&q);
            FZ_CHECK(svd_is_ok(svd_vq_set_base(&q, na, nu)));
            enabled = svd_is_ok(svd_vq_enable(&q, &m));
            for (uint32_t k = 0u; k < FZ_MAX_CHAINS; k++) {
                if (chains[k].valid) {
                    FZ_CHECK(!svd_is_ok(svd_vq_push(&q, &m, &chains[k], 0u)));
                    chains[k].valid = false;
                }
            }
            break;
        }
        }
    }
    free(ram);
    return 0;
}
