/* Eva driver: token buckets and the rate limiter with any configuration
 * (in the limits or not: init refuses what the header excludes), then a
 * bounded sequence of calls chosen at random with any n and any now,
 * including a clock that goes backwards. */
#include "eva_any.h"
#include "safevdev/ratelimit.h"

#define CALLS 24

/* How each bucket is configured: 0 unlimited (size 0), 1 limited (size in
 * the header's limits), 2 refused (size above them). prove.py partitions
 * Eva's states on these (-eva-partition-value), so an unlimited bucket's
 * state is never joined with a limited one's: the size never changes after
 * init, and a join would lose that a bucket tb_has() found short is a
 * limited one. */
static int eva_tb_mode;
static int eva_rl_bytes;
static int eva_rl_ops;

static void any_cfg(svd_tb_cfg *c, int mode)
{
    switch (mode) {
    case 0:
        c->size = 0u;
        break;
    case 1:
        c->size = eva_u64r(1u, SVD_TB_MAX_SIZE);
        break;
    default:
        c->size = eva_u64r(SVD_TB_MAX_SIZE + 1u, UINT64_MAX);
        break;
    }
    c->one_time_burst = eva_int(0, 1) != 0 ? eva_u64r(0u, SVD_TB_MAX_SIZE) : any_u64();
    c->refill_ns = eva_int(0, 1) != 0 ? eva_u64r(0u, SVD_TB_MAX_REFILL_NS) : any_u64();
}

int main(void)
{
    svd_tb_cfg cb;
    svd_tb_cfg co;
    svd_tb tb;
    svd_ratelimit rl;
    uint64_t granted = 0u;
    uint64_t wait = 0u;

    eva_tb_mode = eva_int(0, 2);
    eva_rl_bytes = eva_int(0, 2);
    eva_rl_ops = eva_int(0, 2);
    any_cfg(&cb, eva_tb_mode);
    any_cfg(&co, 2);
    if (!svd_is_ok(svd_tb_init(&tb, &cb, any_u64()))) {
        return 1;
    }
    svd_tb_cfg rb;
    svd_tb_cfg ro;
    any_cfg(&rb, eva_rl_bytes);
    any_cfg(&ro, eva_rl_ops);
    if (!svd_is_ok(svd_ratelimit_init(&rl, (eva_rl_bytes != 0 || eva_int(0, 1) != 0) ? &rb : NULL,
                                      (eva_rl_ops != 0 || eva_int(0, 1) != 0) ? &ro : NULL,
                                      any_u64()))) {
        return 1;
    }
    (void)svd_tb_init(NULL, &co, 0u);
    (void)svd_tb_init(&tb, NULL, 0u);
    (void)svd_ratelimit_init(NULL, NULL, NULL, 0u);
    const int n = eva_int(0, CALLS);
    for (int i = 0; i < n; i++) {
        switch (eva_int(0, 4)) {
        case 0:
            svd_tb_refill(&tb, any_u64());
            break;
        case 1:
            /* n within the bucket, as the header requires */
            (void)svd_tb_wait_ns(&tb, svd_tb_cap(&tb, any_u64()), any_u64());
            break;
        case 2:
            (void)svd_tb_unlimited(&tb);
            break;
        default:
            (void)svd_ratelimit_admit(&rl, any_u64(), any_u64(), &granted, &wait);
            break;
        }
    }
    return 0;
}
