/* Eva driver: the composed virtio-entropy engine over SVD_XPORT_NONE, built as
 * a shim builds it (svd_entropy_init with any rate limits and source-open
 * policy, svd_entropy_model, svd_vdev_init), then a bounded sequence of
 * calls of its face chosen at random (eva_common.h), each at any now.
 * Guest memory: a map with no region, so every ring placement is refused
 * (the queues never run: ring placement and index arithmetic are covered by
 * WP, the running queue by the queue drivers eva_vq_*, from the state
 * svd_dev_queue_start leaves). */
#include <string.h>

#include "eva_common.h"

#define CALLS 16

int main(void)
{
    static svd_gmem m;
    svd_entropy e;
    svd_entropy_cfg ecfg;
    svd_vdev_cfg cfg;
    svd_vdev v;
    svd_fx fx;
    svd_gmem_init(&m);
    eva_entropy_cfg(&ecfg);
    if (!svd_is_ok(svd_entropy_init(&e, &ecfg, any_u64()))) {
        return 1;
    }
    (void)memset(&cfg, 0, sizeof cfg);
    cfg.xport = SVD_XPORT_NONE;
    svd_entropy_model(&e, &cfg.model);
    cfg.model.queue_max = (uint16_t)(1u << eva_int(0, 8));
    cfg.mmio_base = any_u64();
    cfg.mmio_vendor = any_u32();
    cfg.pci.class_code = any_u32();
    cfg.pci.subsystem_vendor = (uint16_t)eva_int(0, 0xffff);
    cfg.pci.subsystem_id = (uint16_t)eva_int(0, 0xffff);
    cfg.pci.bar64 = eva_int(0, 1) != 0;
    cfg.pci.prefetchable = eva_int(0, 1) != 0;
    if (!svd_is_ok(svd_vdev_init(&v, &cfg, &m))) {
        return 1;
    }
    const int n = eva_int(0, CALLS);
    for (int i = 0; i < n; i++) {
        eva_vdev_step(&v, &fx);
    }
    eva_vdev_host_checks(&e, &m);
    return 0;
}
