/* Eva driver: the IB700 watchdog engine as a shim builds it (svd_ib700_init
 * with any action and any base), then a bounded sequence of calls chosen at
 * random among the device face (access of any space, address, width,
 * direction and value; tick; reset) and the deadline getter, each at any
 * now. */
#include "eva_any.h"
#include "safevdev/wdt_ib700.h"

#define CALLS 24


int main(void)
{
    svd_ib700 w;
    svd_ib700_cfg cfg;
    svd_fx fx;
    cfg.action = (svd_wdt_action)eva_int(0, (int)SVD_WDT_ACTION__COUNT);
    cfg.base = eva_u32r(0u, UINT32_MAX);
    if (!svd_is_ok(svd_ib700_init(&w, &cfg, any_u64()))) {
        return 1;
    }
    const int n = eva_int(0, CALLS);
    for (int i = 0; i < n; i++) {
        uint64_t val = any_u64();
        svd_result r = svd_ok();
        switch (eva_int(0, 4)) {
        case 0:
            r = svd_ib700_access(&w, (svd_space)eva_int(0, 3), any_u64(),
                                 eva_u32r(0u, UINT32_MAX), eva_int(0, 1) != 0, &val,
                                 any_u64(), &fx);
            break;
        case 1:
            svd_ib700_tick(&w, any_u64(), &fx);
            break;
        case 2:
            svd_ib700_reset(&w, any_u64(), &fx);
            break;
        case 3:
            (void)svd_ib700_timeout_s(eva_u32r(0u, UINT32_MAX));
            break;
        default:
            (void)svd_ib700_next_deadline(&w);
            break;
        }
        (void)r;
    }
    return 0;
}
