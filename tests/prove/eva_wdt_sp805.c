/* Eva driver: the SP805 watchdog engine as a shim builds it (svd_sp805_init
 * with any action, any frequency and any window base), then a bounded
 * sequence of calls chosen at random among the device face (access of any
 * space, address, width, direction and value; tick; reset) and the other
 * public functions, each at any now. */
#include "eva_any.h"
#include "safevdev/wdt_sp805.h"

#define CALLS 24


int main(void)
{
    svd_sp805 w;
    svd_sp805_cfg cfg;
    svd_fx fx;
    cfg.action = (svd_wdt_action)eva_int(0, (int)SVD_WDT_ACTION__COUNT);
    cfg.freq_hz = eva_u32r(0u, UINT32_MAX);
    cfg.base = any_u64();
    if (!svd_is_ok(svd_sp805_init(&w, &cfg, any_u64()))) {
        return 1;
    }
    const int n = eva_int(0, CALLS);
    for (int i = 0; i < n; i++) {
        uint64_t val = any_u64();
        uint32_t v32 = eva_u32r(0u, UINT32_MAX);
        svd_result r = svd_ok();
        switch (eva_int(0, 5)) {
        case 0:
            r = svd_sp805_access(&w, (svd_space)eva_int(0, 3), any_u64(),
                                 eva_u32r(0u, 9u), eva_int(0, 1) != 0, &val,
                                 any_u64(), &fx);
            break;
        case 1:
            svd_sp805_tick(&w, any_u64(), &fx);
            break;
        case 2:
            svd_sp805_reset(&w, any_u64(), &fx);
            break;
        case 3:
            r = svd_sp805_read(&w, eva_u32r(0u, UINT32_MAX),
                               eva_u32r(0u, 9u), any_u64(), &v32, &fx);
            break;
        case 4:
            r = svd_sp805_write(&w, eva_u32r(0u, UINT32_MAX),
                                eva_u32r(0u, 9u), v32, any_u64(), &fx);
            break;
        default:
            (void)svd_sp805_next_deadline(&w);
            break;
        }
        (void)r;
    }
    return 0;
}
