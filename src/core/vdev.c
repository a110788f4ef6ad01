/* The composed virtio device: one face over transport + device + model.
 *
 * Every face call clears the effect once, lets the transport (or the device
 * directly, for a host-driven device) do its work, and finishes by reporting
 * the line level and the device's next deadline, so every effect a shim
 * sees is complete for the call. */
#include "safevdev/vdev.h"

#include <string.h>

#include "core_priv.h"

/* Line level after the call, and when the models want to be served next. */
static void finish(svd_vdev *v, svd_fx *fx)
{
    switch (v->xport) {
    case SVD_XPORT_MMIO:
        svd_mmio_sync_irq(&v->mmio, fx);
        break;
    case SVD_XPORT_PCI:
        svd_pci_sync_irq(&v->pci, fx);
        svd_pci_msix_notify(&v->pci, fx);
        break;
    case SVD_XPORT_NONE:
    default:
        break; /* no line: notifications are edges (fx->queue_notify) */
    }
    fx->deadline = svd_dev_deadline(&v->dev);
}

svd_result svd_vdev_init(svd_vdev *v, const svd_vdev_cfg *cfg, const svd_gmem *m)
{
    SVD_ENSURE(v != NULL && cfg != NULL && m != NULL, SVD_ERR_INVALID_ARG);
    uint64_t end;
    switch (cfg->xport) {
    case SVD_XPORT_MMIO:
        SVD_ENSURE(svd_is_ok(svd_add_u64(cfg->mmio_base, SVD_MMIO_WINDOW_SIZE, &end)), SVD_ERR_INVALID_ARG);
        break;
    case SVD_XPORT_PCI:
    case SVD_XPORT_NONE:
        break;
    default:
        return svd_fail(SVD_ERR_INVALID_ARG);
    }
    /* Built in place (a failed init leaves @v unusable, as documented): the
     * transports keep a pointer to the device, and no engine-sized copy is
     * made on the stack. */
    (void)memset(v, 0, sizeof(*v));
    v->xport = cfg->xport;
    v->mmio_base = cfg->mmio_base;
    SVD_GUARD(svd_dev_init(&v->dev, &cfg->model, m, cfg->xport == SVD_XPORT_NONE));
    SVD_GUARD(svd_dev_set_budget(&v->dev, &cfg->budget));
    if (cfg->xport == SVD_XPORT_MMIO) {
        SVD_GUARD(svd_mmio_init(&v->mmio, &v->dev, cfg->mmio_vendor));
    } else if (cfg->xport == SVD_XPORT_PCI) {
        SVD_GUARD(svd_pci_init(&v->pci, &v->dev, &cfg->pci));
    } else {
        /* no transport */
    }
    return svd_ok();
}

static svd_result mmio_access(svd_vdev *v, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                              uint64_t now, svd_fx *fx)
{
    /* The window's end is the transport's check (svd_mmio_read/write refuse
     * offsets past it); here only the base. */
    SVD_ENSURE(sp == SVD_SPACE_MEM && addr >= v->mmio_base, SVD_ERR_BOUNDS);
    SVD_ENSURE(width <= 4u, SVD_ERR_INVALID_ARG);
    const uint64_t off = addr - v->mmio_base;
    if (write) {
        return svd_mmio_write(&v->mmio, off, width, (uint32_t)(*val & 0xffffffffu), now, fx);
    }
    uint32_t r32 = 0u;
    const svd_result r = svd_mmio_read(&v->mmio, off, width, &r32, fx);
    *val = r32;
    return r;
}

static svd_result pci_access(svd_vdev *v, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                             uint64_t now, svd_fx *fx)
{
    if (sp == SVD_SPACE_PCI_CFG) {
        SVD_ENSURE(addr < SVD_PCI_CFG_SIZE, SVD_ERR_BOUNDS);
        SVD_ENSURE(width <= 4u, SVD_ERR_INVALID_ARG);
        if (write) {
            return svd_pci_cfg_write(&v->pci, (uint32_t)addr, width, (uint32_t)(*val & 0xffffffffu), now, fx);
        }
        uint32_t r32 = 0u;
        const svd_result r = svd_pci_cfg_read(&v->pci, (uint32_t)addr, width, &r32, fx);
        *val = r32;
        return r;
    }
    const uint64_t base = svd_pci_bar0_address(&v->pci);
    SVD_ENSURE(sp == SVD_SPACE_MEM && svd_pci_mem_enabled(&v->pci) && base != 0u && addr >= base &&
                   addr - base < SVD_PCI_BAR_SIZE,
               SVD_ERR_BOUNDS);
    if (write) {
        /* Only the low @width bytes are the value written, as on the other paths. */
        const uint32_t bits = 8u * width;
        const uint64_t mask = (width < 8u) ? ((UINT64_C(1) << bits) - UINT64_C(1)) : UINT64_MAX;
        const uint64_t wv = *val & mask;
        return svd_pci_bar_write(&v->pci, addr - base, width, wv, now, fx);
    }
    return svd_pci_bar_read(&v->pci, addr - base, width, val, fx);
}

svd_result svd_vdev_access(svd_vdev *v, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                           uint64_t now, svd_fx *fx)
{
    SVD_ENSURE(v != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    svd_fx_reset(fx);
    if (!write) {
        *val = 0u;
    }
    svd_result r = svd_fail(SVD_ERR_BOUNDS); /* no registers without a transport */
    if (v->xport == SVD_XPORT_MMIO) {
        r = mmio_access(v, sp, addr, width, write, val, now, fx);
    } else if (v->xport == SVD_XPORT_PCI) {
        r = pci_access(v, sp, addr, width, write, val, now, fx);
    } else {
        /* SVD_XPORT_NONE: the defined answer */
    }
    finish(v, fx);
    return r;
}

svd_result svd_vdev_kick(svd_vdev *v, uint32_t q, uint64_t now, svd_fx *fx)
{
    svd_fx_reset(fx);
    const svd_result r = svd_dev_kick(&v->dev, q, now, fx);
    finish(v, fx);
    return r;
}

void svd_vdev_tick(svd_vdev *v, uint64_t now, svd_fx *fx)
{
    svd_fx_reset(fx);
    svd_dev_tick(&v->dev, now, fx);
    finish(v, fx);
}

void svd_vdev_reset(svd_vdev *v, uint64_t now, svd_fx *fx)
{
    (void)now;
    svd_fx_reset(fx);
    switch (v->xport) {
    case SVD_XPORT_MMIO:
        svd_mmio_reset(&v->mmio, fx);
        break;
    case SVD_XPORT_PCI:
        svd_pci_reset(&v->pci, fx);
        break;
    case SVD_XPORT_NONE:
    default:
        svd_dev_reset(&v->dev);
        fx->reset = true;
        break;
    }
    finish(v, fx);
}

uint64_t svd_vdev_features(const svd_vdev *v)
{
    return svd_dev_host_features(&v->dev);
}

svd_result svd_vdev_queue_start(svd_vdev *v, uint32_t q, const svd_vq_setup *s, svd_fx *fx)
{
    SVD_ENSURE(v != NULL && s != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    svd_fx_reset(fx);
    const svd_result r = svd_dev_queue_start(&v->dev, q, s, fx);
    finish(v, fx);
    return r;
}

svd_result svd_vdev_queue_stop(svd_vdev *v, uint32_t q, uint16_t *next_avail, uint16_t *next_used)
{
    SVD_ENSURE(v->xport == SVD_XPORT_NONE, SVD_ERR_STATE);
    return svd_dev_queue_stop(&v->dev, q, next_avail, next_used);
}

svd_result svd_vdev_queue_base(const svd_vdev *v, uint32_t q, uint16_t *next_avail, uint16_t *next_used)
{
    SVD_ENSURE(v->xport == SVD_XPORT_NONE, SVD_ERR_STATE);
    const svd_vq *vq = svd_dev_queue(&v->dev, q);
    SVD_ENSURE(vq != NULL, SVD_ERR_BOUNDS);
    svd_vq_base(vq, next_avail, next_used);
    return svd_ok();
}

uint8_t svd_vdev_status(const svd_vdev *v)
{
    return svd_dev_status(&v->dev);
}

svd_why svd_vdev_why(const svd_vdev *v)
{
    return svd_dev_why(&v->dev);
}
