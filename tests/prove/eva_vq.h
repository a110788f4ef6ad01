/* Queue-level Eva drivers: one virtqueue set up through the public svd_vq_*
 * calls in the order the engine uses (svd_dev_queue_start: reset, size, the
 * three ring addresses, format, base, features, enable, and for a packed
 * ring the resync the host may ask for), over guest memory of unknown
 * contents, then a bounded sequence of queue calls chosen at random: pop
 * into one of two chains (segment storage 0..2 each), push of either chain
 * with any written length, the interrupt decision, the guest rewriting
 * every byte, and the host reading the base.
 *
 * A driver file defines EVA_VQ_PACKED (0 split, 1 packed), EVA_VQ_EVENT_IDX
 * and EVA_VQ_INDIRECT (the negotiated features: each combination is its own
 * driver, so Eva never joins the states of two code paths) and includes
 * this header.
 *
 * Guest memory, two host objects (a shim maps guest RAM as a few large
 * mappings, each holding several regions):
 *   eva_vq_ram: RAM [EVA_VQ_GPA, +512) read-write, holding the rings at
 *               fixed offsets (0, 128, 256) and any buffers; RAM2 right
 *               after it, read-write (buffers that cross a region edge);
 *               then 128 bytes write-only;
 *   eva_vq_rom: ROM 64 bytes read-only (buffers the device may not write,
 *               tables it may read), then 128 bytes write-only.
 * The write-only tails hold no table the device may read: Eva does not keep
 * the relation between an indirect table's offset in its region and its
 * length, so it bounds a table read by the host object, not by the region
 * (the region bound is translate's contract, gmem.h, proved by WP).
 * The queue size is any power of two 1..8; every descriptor, index, flag,
 * event field, buffer address and length is any value; the start indices
 * are the format's (0, or position 0 with wrap counter 1) or any value. */
#ifndef SVD_EVA_VQ_H
#define SVD_EVA_VQ_H

#include "eva_any.h"
#include "safevdev/virtqueue.h"
#include "../../src/core/core_priv.h"

#define EVA_VQ_GPA UINT64_C(0x40000000)
#define EVA_VQ_RAM 512u
#define EVA_VQ_RAM2 64u
#define EVA_VQ_GPA_ROM UINT64_C(0x50000000)
#define EVA_VQ_ROM 64u
#define EVA_VQ_WO 128u
#define EVA_VQ_MAX 8u
#define EVA_VQ_SEGS 2u
#define EVA_VQ_STEPS 4
/* The queue sizes, 1 << EVA_VQ_LOG_MIN .. 1 << EVA_VQ_LOG_MAX: a driver may
 * take a slice of them (eva_entropy_serve.h). */
#ifndef EVA_VQ_LOG_MIN
#define EVA_VQ_LOG_MIN 0
#endif
#ifndef EVA_VQ_LOG_MAX
#define EVA_VQ_LOG_MAX 3
#endif

/* The queue size: prove.py partitions Eva's states on it
 * (-eva-partition-value), so every position, index and offset the engine
 * checks against the size is compared with one known size. */
static uint32_t eva_vq_size;

static uint8_t eva_vq_ram[EVA_VQ_RAM + EVA_VQ_RAM2 + EVA_VQ_WO];
static uint8_t eva_vq_rom[EVA_VQ_ROM + EVA_VQ_WO];

static void eva_vq_guest_rewrites(void)
{
    eva_unknown(eva_vq_ram, sizeof(eva_vq_ram));
    eva_unknown(eva_vq_rom, sizeof(eva_vq_rom));
}

/* The map of the five regions and the queue set up and enabled in it; 0, or
 * 1 when a step refused (then the driver ends: nothing more to analyse). */
static int eva_vq_setup(svd_gmem *m, svd_vq *q)
{
    svd_result r;
    eva_vq_guest_rewrites();
    svd_gmem_init(m);
    if (!svd_is_ok(svd_gmem_add(m, EVA_VQ_GPA, EVA_VQ_RAM, eva_vq_ram, SVD_GMEM_READ | SVD_GMEM_WRITE)) ||
        !svd_is_ok(svd_gmem_add(m, EVA_VQ_GPA + EVA_VQ_RAM, EVA_VQ_RAM2, eva_vq_ram + EVA_VQ_RAM,
                                SVD_GMEM_READ | SVD_GMEM_WRITE)) ||
        !svd_is_ok(svd_gmem_add(m, EVA_VQ_GPA + EVA_VQ_RAM + EVA_VQ_RAM2, EVA_VQ_WO,
                                eva_vq_ram + EVA_VQ_RAM + EVA_VQ_RAM2, SVD_GMEM_WRITE)) ||
        !svd_is_ok(svd_gmem_add(m, EVA_VQ_GPA_ROM, EVA_VQ_ROM, eva_vq_rom, SVD_GMEM_READ)) ||
        !svd_is_ok(svd_gmem_add(m, EVA_VQ_GPA_ROM + EVA_VQ_ROM, EVA_VQ_WO, eva_vq_rom + EVA_VQ_ROM,
                                SVD_GMEM_WRITE))) {
        return 1;
    }
    if (!svd_is_ok(svd_vq_init(q, EVA_VQ_MAX))) {
        return 1;
    }
    svd_vq_reset(q);
    eva_vq_size = 1u << eva_int(EVA_VQ_LOG_MIN, EVA_VQ_LOG_MAX);
    r = svd_vq_set_size(q, eva_vq_size);
    if (!svd_is_ok(r)) {
        return 1;
    }
    r = svd_vq_set_addr(q, SVD_VQ_RING_DESC, EVA_VQ_GPA);
    r = svd_vq_set_addr(q, SVD_VQ_RING_AVAIL, EVA_VQ_GPA + 128u);
    r = svd_vq_set_addr(q, SVD_VQ_RING_USED, EVA_VQ_GPA + 256u);
    r = svd_vq_set_format(q, EVA_VQ_PACKED != 0);
    if (eva_int(0, 1) != 0) {
        /* A resumed ring (vhost-user SET_VRING_BASE): any indices, checked by enable. */
        r = svd_vq_set_base(q, (uint16_t)eva_int(0, 0xffff), (uint16_t)eva_int(0, 0xffff));
    }
    r = svd_vq_set_features(q, EVA_VQ_EVENT_IDX != 0, EVA_VQ_INDIRECT != 0);
    if (!svd_is_ok(svd_vq_enable(q, m))) {
        return 1;
    }
    if (EVA_VQ_PACKED != 0 && eva_int(0, 1) != 0) {
        (void)svd_vqp_resync(q);
    }
    return 0;
}

static int eva_vq_main(void)
{
    static svd_gmem m;
    static svd_vq q;
    static svd_vq_desc segs[2][EVA_VQ_SEGS];
    static svd_vq_chain c[2];
    svd_result r;
    bool need = false;
    uint16_t na = 0u;
    uint16_t nu = 0u;

    if (eva_vq_setup(&m, &q) != 0) {
        return 1;
    }
    svd_vq_chain_init(&c[0], segs[0], eva_u32r(0u, EVA_VQ_SEGS));
    svd_vq_chain_init(&c[1], segs[1], eva_u32r(0u, EVA_VQ_SEGS));
    const int n = eva_int(0, EVA_VQ_STEPS);
    for (int i = 0; i < n; i++) {
        svd_vq_chain *k = &c[eva_int(0, 1)];
        switch (eva_int(0, 4)) {
        case 0:
            r = svd_vq_pop(&q, &m, k);
            break;
        case 1:
            r = svd_vq_push(&q, &m, k, any_u32());
            break;
        case 2:
            r = svd_vq_need_interrupt(&q, &m, &need);
            break;
        case 3:
            eva_vq_guest_rewrites();
            break;
        default:
            svd_vq_base(&q, &na, &nu);
            break;
        }
        (void)r;
    }
    return 0;
}

#endif /* SVD_EVA_VQ_H */
