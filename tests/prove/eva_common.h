/* Shared parts of the Eva drivers: arbitrary values, a test entropy source
 * that answers like getrandom(2) may (any count up to the request, or a
 * failure), and the composed engine's face driven with arbitrary calls. */
#ifndef SVD_EVA_COMMON_H
#define SVD_EVA_COMMON_H

#include "eva_any.h"
#include "safevdev/entropy.h"
#include "safevdev/vdev.h"



/* The shim's source: writes up to len bytes of anything, reports any count
 * (even more than asked, which the model must refuse) or a failure. */
static inline svd_result eva_source_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    switch (eva_int(0, 2)) {
    case 0:
        return svd_fail(SVD_ERR_AGAIN);
    case 1:
        return svd_fail(SVD_ERR_SOURCE);
    default:
        break;
    }
    const size_t n = eva_size(0u, len);
    for (size_t i = 0u; i < n; i++) {
        buf[i] = (uint8_t)eva_int(0, 255);
    }
    *got = eva_int(0, 1) ? n : eva_size(0u, SIZE_MAX);
    return svd_ok();
}

static inline void eva_entropy_cfg(svd_entropy_cfg *cfg)
{
    cfg->source.read = eva_source_read;
    cfg->source.ctx = NULL;
    cfg->rate_bytes.size = eva_u64r(0u, SVD_TB_MAX_SIZE);
    cfg->rate_bytes.one_time_burst = eva_u64r(0u, SVD_TB_MAX_SIZE);
    cfg->rate_bytes.refill_ns = eva_u64r(1u, SVD_TB_MAX_REFILL_NS);
    cfg->rate_ops.size = eva_u64r(0u, SVD_TB_MAX_SIZE);
    cfg->rate_ops.one_time_burst = eva_u64r(0u, SVD_TB_MAX_SIZE);
    cfg->rate_ops.refill_ns = eva_u64r(1u, SVD_TB_MAX_REFILL_NS);
    cfg->retry_ns = any_u64();
    cfg->open_timeout_ns = any_u64();
    cfg->open_retry_ns = any_u64();
    cfg->min_entropy = eva_u32r(0u, 9u); /* 9: refused by init */
}

/* One call of the composed engine's face, chosen at random: an access of any
 * space, address, width (0..9), direction and value; a kick of any queue; a
 * tick; a host reset; the host-driven queue start/stop; the getters. */
static inline void eva_vdev_step(svd_vdev *v, svd_fx *fx)
{
    uint64_t val = any_u64();
    uint16_t na;
    uint16_t nu;
    svd_vq_setup s;
    svd_result r = svd_ok();
    switch (eva_int(0, 8)) {
    case 0:
    case 1:
        r = svd_vdev_access(v, (svd_space)eva_int(0, 3), any_u64(), eva_u32r(0u, 9u),
                            eva_int(0, 1) != 0, &val, any_u64(), fx);
        break;
    case 2:
        r = svd_vdev_kick(v, any_u32(), any_u64(), fx);
        break;
    case 3:
        svd_vdev_tick(v, any_u64(), fx);
        break;
    case 4:
        svd_vdev_reset(v, any_u64(), fx);
        break;
    case 5:
        s.size = any_u32();
        s.desc = any_u64();
        s.avail = any_u64();
        s.used = any_u64();
        s.next_avail = (uint16_t)eva_int(0, 0xffff);
        s.next_used = (uint16_t)eva_int(0, 0xffff);
        s.event_idx = eva_int(0, 1) != 0;
        s.indirect = eva_int(0, 1) != 0;
        s.packed = eva_int(0, 1) != 0;
        s.resync = eva_int(0, 1) != 0;
        r = svd_vdev_queue_start(v, any_u32(), &s, fx);
        break;
    case 6:
        r = svd_vdev_queue_base(v, any_u32(), &na, &nu);
        r = svd_vdev_queue_stop(v, any_u32(), &na, &nu);
        break;
    case 7:
        (void)svd_vdev_features(v);
        break;
    default:
        (void)svd_vdev_status(v);
        (void)svd_vdev_why(v);
        break;
    }
    (void)r;
}

/* What a host asks besides the face: the model's counters and its verdict on
 * the source, and the ring checks a vhost-user host makes before it changes
 * anything (any size, addresses and features, against the map). */
static inline void eva_vdev_host_checks(const svd_entropy *e, const svd_gmem *m)
{
    (void)svd_entropy_stats_of(e);
    (void)svd_entropy_gave_up(e);
    svd_result r = svd_vq_check_rings(eva_u32r(0u, 0x10000u), any_u32(), any_u64(), any_u64(), any_u64(),
                                      eva_int(0, 1) != 0, eva_int(0, 3) != 0 ? m : NULL);
    r = svd_vq_check_rings_packed(eva_u32r(0u, 0x10000u), any_u32(), any_u64(), any_u64(), any_u64(),
                                  eva_int(0, 3) != 0 ? m : NULL);
    (void)r;
}

#endif /* SVD_EVA_COMMON_H */
