/* Eva driver: the i6300ESB watchdog engine as a shim builds it (svd_esb_init
 * with any configuration), then a bounded sequence of calls chosen at random
 * among the device face (access of any space, address, width, direction and
 * value; tick; reset) and the getters, each at any now. */
#include "eva_any.h"
#include "safevdev/wdt_i6300esb.h"

#define CALLS 24


int main(void)
{
    svd_esb w;
    svd_esb_cfg cfg;
    svd_fx fx;
    cfg.action = (svd_wdt_action)eva_int(0, (int)SVD_WDT_ACTION__COUNT);
    cfg.subsys_vendor = (uint16_t)eva_int(0, 0xffff);
    cfg.subsys_id = (uint16_t)eva_int(0, 0xffff);
    cfg.revision = (uint8_t)eva_int(0, 0xff);
    cfg.irq_line = (uint8_t)eva_int(0, 0xff);
    if (!svd_is_ok(svd_esb_init(&w, &cfg, any_u64()))) {
        return 1;
    }
    const int n = eva_int(0, CALLS);
    for (int i = 0; i < n; i++) {
        uint64_t val = any_u64();
        uint32_t v32 = eva_u32r(0u, UINT32_MAX);
        svd_result r = svd_ok();
        switch (eva_int(0, 8)) {
        case 0:
            r = svd_esb_access(&w, (svd_space)eva_int(0, 3), any_u64(),
                               eva_u32r(0u, 9u), eva_int(0, 1) != 0, &val,
                               any_u64(), &fx);
            break;
        case 1:
            svd_esb_tick(&w, any_u64(), &fx);
            break;
        case 2:
            svd_esb_reset(&w, any_u64(), &fx);
            break;
        case 3:
            r = svd_esb_cfg_read(&w, eva_u32r(0u, UINT32_MAX),
                                 eva_u32r(0u, 9u), any_u64(), &v32, &fx);
            break;
        case 4:
            r = svd_esb_cfg_write(&w, eva_u32r(0u, UINT32_MAX),
                                  eva_u32r(0u, 9u), v32, any_u64(), &fx);
            break;
        case 5:
            r = svd_esb_mmio_read(&w, eva_u32r(0u, UINT32_MAX),
                                  eva_u32r(0u, 9u), any_u64(), &v32, &fx);
            break;
        case 6:
            r = svd_esb_mmio_write(&w, eva_u32r(0u, UINT32_MAX),
                                   eva_u32r(0u, 9u), v32, any_u64(), &fx);
            break;
        case 7:
            (void)svd_esb_next_deadline(&w);
            (void)svd_esb_bar0(&w);
            break;
        default:
            (void)svd_esb_mem_enabled(&w);
            break;
        }
        (void)r;
    }
    return 0;
}
