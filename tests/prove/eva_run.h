/* Running-queue Eva drivers: the composed virtio-entropy engine brought to
 * DRIVER_OK through its registers as a guest driver does it (virtio 1.2
 * §3.1.1), its request queue enabled over guest memory of unknown contents,
 * then a bounded sequence of guest and host events chosen at random.
 *
 * A driver file defines EVA_RUN_XPORT (SVD_XPORT_MMIO or SVD_XPORT_PCI) and
 * EVA_RUN_PACKED (0 split, 1 packed ring) and calls eva_run().
 *
 * Guest memory: three regions, every byte unknown at the start and again
 * after each "guest rewrites memory" event (a concurrent guest may change
 * any byte between two device calls; within a call the core reads each
 * guest byte once, which the volatile loads model):
 *   RAM0 [EVA_GPA0, +EVA_RAM0)  read-write: the rings and buffers
 *   RAM1 right after RAM0        read-write: buffers that cross a region edge
 *   ROM  elsewhere               read-only: buffers the device may not write
 * The rings sit at fixed offsets of RAM0 (a driver chooses them; the core
 * checks them like any other), every descriptor, index, flag, event field,
 * buffer address and length is any value. */
#ifndef SVD_EVA_RUN_H
#define SVD_EVA_RUN_H

#include <string.h>

#include "eva_common.h"
#include "safevdev/mmio.h"
#include "safevdev/pci.h"

#define EVA_GPA0 UINT64_C(0x40000000)
#define EVA_RAM0 1024u
#define EVA_RAM1 256u
#define EVA_GPA_ROM UINT64_C(0x50000000)
#define EVA_ROM 64u
#define EVA_QMAX 8u /* queue_max: sizes 1..8, every ring below fits RAM0 */
#define EVA_DESC_OFF 0u      /* split: table of 8 x 16; packed: ring of 8 x 16 */
#define EVA_DRIVER_OFF 128u  /* split: avail ring (4 + 2 n + 2); packed: driver event (4) */
#define EVA_DEVICE_OFF 256u  /* split: used ring (4 + 8 n + 2); packed: device event (4) */
#define EVA_MMIO_BASE UINT64_C(0x0a000000)
#define EVA_BAR0 UINT64_C(0xfe000000)

#ifndef EVA_RUN_STEPS
#define EVA_RUN_STEPS 2
#endif

static uint8_t eva_ram0[EVA_RAM0 + EVA_RAM1];
static uint8_t eva_rom[EVA_ROM];

static void eva_guest_rewrites(void)
{
    eva_unknown(eva_ram0, sizeof(eva_ram0));
    eva_unknown(eva_rom, sizeof(eva_rom));
}

/* One register access of the transport, as the guest makes it. */
static void eva_reg(svd_vdev *v, uint64_t off, uint32_t width, bool write, uint64_t val, svd_fx *fx)
{
    uint64_t x = val;
    svd_result r;
    if (EVA_RUN_XPORT == SVD_XPORT_MMIO) {
        r = svd_vdev_access(v, SVD_SPACE_MEM, EVA_MMIO_BASE + off, width, write, &x, any_u64(), fx);
    } else {
        r = svd_vdev_access(v, SVD_SPACE_MEM, EVA_BAR0 + off, width, write, &x, any_u64(), fx);
    }
    (void)r;
}

static void eva_cfg(svd_vdev *v, uint32_t off, uint32_t width, uint64_t val, svd_fx *fx)
{
    uint64_t x = val;
    const svd_result r = svd_vdev_access(v, SVD_SPACE_PCI_CFG, off, width, true, &x, any_u64(), fx);
    (void)r;
}

static void eva_status(svd_vdev *v, uint8_t s, svd_fx *fx)
{
    if (EVA_RUN_XPORT == SVD_XPORT_MMIO) {
        eva_reg(v, SVD_MMIO_STATUS, 4u, true, s, fx);
    } else {
        eva_reg(v, 0x14u, 1u, true, s, fx); /* common cfg device_status */
    }
}

/* Feature negotiation: VERSION_1, the ring format of the driver, and any
 * choice of EVENT_IDX and INDIRECT_DESC. */
static void eva_features(svd_vdev *v, svd_fx *fx)
{
    uint64_t f = SVD_F_VERSION_1;
    if (EVA_RUN_PACKED) {
        f |= SVD_F_RING_PACKED;
    }
    if (eva_int(0, 1) != 0) {
        f |= SVD_F_RING_EVENT_IDX;
    }
    if (eva_int(0, 1) != 0) {
        f |= SVD_F_RING_INDIRECT_DESC;
    }
    if (EVA_RUN_XPORT == SVD_XPORT_MMIO) {
        eva_reg(v, SVD_MMIO_DRIVER_FEATURES_SEL, 4u, true, 0u, fx);
        eva_reg(v, SVD_MMIO_DRIVER_FEATURES, 4u, true, f & 0xffffffffu, fx);
        eva_reg(v, SVD_MMIO_DRIVER_FEATURES_SEL, 4u, true, 1u, fx);
        eva_reg(v, SVD_MMIO_DRIVER_FEATURES, 4u, true, f >> 32, fx);
    } else {
        eva_reg(v, 0x08u, 4u, true, 0u, fx); /* driver_feature_select */
        eva_reg(v, 0x0cu, 4u, true, f & 0xffffffffu, fx);
        eva_reg(v, 0x08u, 4u, true, 1u, fx);
        eva_reg(v, 0x0cu, 4u, true, f >> 32, fx);
    }
}

/* Queue 0: any size 1..EVA_QMAX (a power of two), the rings in RAM0, ready. */
static void eva_queue(svd_vdev *v, svd_fx *fx)
{
    const uint32_t size = 1u << eva_int(0, 3);
    const uint64_t d = EVA_GPA0 + EVA_DESC_OFF;
    const uint64_t a = EVA_GPA0 + EVA_DRIVER_OFF;
    const uint64_t u = EVA_GPA0 + EVA_DEVICE_OFF;
    if (EVA_RUN_XPORT == SVD_XPORT_MMIO) {
        eva_reg(v, SVD_MMIO_QUEUE_SEL, 4u, true, 0u, fx);
        eva_reg(v, SVD_MMIO_QUEUE_NUM, 4u, true, size, fx);
        eva_reg(v, SVD_MMIO_QUEUE_DESC_LOW, 4u, true, d & 0xffffffffu, fx);
        eva_reg(v, SVD_MMIO_QUEUE_DESC_HIGH, 4u, true, d >> 32, fx);
        eva_reg(v, SVD_MMIO_QUEUE_DRIVER_LOW, 4u, true, a & 0xffffffffu, fx);
        eva_reg(v, SVD_MMIO_QUEUE_DRIVER_HIGH, 4u, true, a >> 32, fx);
        eva_reg(v, SVD_MMIO_QUEUE_DEVICE_LOW, 4u, true, u & 0xffffffffu, fx);
        eva_reg(v, SVD_MMIO_QUEUE_DEVICE_HIGH, 4u, true, u >> 32, fx);
        eva_reg(v, SVD_MMIO_QUEUE_READY, 4u, true, 1u, fx);
    } else {
        eva_reg(v, 0x16u, 2u, true, 0u, fx);              /* queue_select */
        eva_reg(v, 0x18u, 2u, true, size, fx);            /* queue_size */
        eva_reg(v, 0x1au, 2u, true, eva_int(0, 0xffff), fx); /* queue_msix_vector: any */
        eva_reg(v, 0x20u, 8u, true, d, fx);               /* queue_desc (one 64-bit access) */
        eva_reg(v, 0x28u, 4u, true, a & 0xffffffffu, fx); /* queue_driver (two halves) */
        eva_reg(v, 0x2cu, 4u, true, a >> 32, fx);
        eva_reg(v, 0x30u, 8u, true, u, fx);               /* queue_device */
        eva_reg(v, 0x1cu, 2u, true, 1u, fx);              /* queue_enable */
    }
}

/* PCI: BAR0 programmed, memory decoding on, MSI-X enabled with any
 * configuration vector and any table entries (masked or not). */
static void eva_pci_bringup(svd_vdev *v, svd_fx *fx)
{
    eva_cfg(v, SVD_PCI_CFG_BAR0, 4u, EVA_BAR0 & 0xffffffffu, fx);
    eva_cfg(v, SVD_PCI_CFG_BAR1, 4u, 0u, fx);
    eva_cfg(v, SVD_PCI_CFG_COMMAND, 2u, SVD_PCI_CMD_MEMORY | SVD_PCI_CMD_BUS_MASTER, fx);
    eva_cfg(v, SVD_PCI_CAP_MSIX + 2u, 2u, eva_int(0, 1) != 0 ? SVD_PCI_MSIX_ENABLE : 0u, fx);
    for (uint32_t e = 0u; e < SVD_PCI_MSIX_VECTORS; e++) {
        eva_reg(v, SVD_PCI_MSIX_TABLE_OFF + 16u * e, 8u, true, any_u64(), fx);
        eva_reg(v, SVD_PCI_MSIX_TABLE_OFF + 16u * e + 8u, 4u, true, any_u32(), fx);
        eva_reg(v, SVD_PCI_MSIX_TABLE_OFF + 16u * e + 12u, 4u, true, eva_int(0, 1), fx);
    }
    eva_reg(v, 0x10u, 2u, true, eva_int(0, 0xffff), fx); /* config_msix_vector: any */
}

/* One event, chosen at random: the guest rewrites memory, notifies the
 * queue (any value), acknowledges interrupts (any bits), accesses any
 * register of the transport (any offset in the window, width 0..9, value,
 * direction); the host kicks any queue, ticks or resets; any now. */
static void eva_run_step(svd_vdev *v, svd_fx *fx)
{
    svd_result r = svd_ok();
    uint64_t val = any_u64();
    switch (eva_int(0, 7)) {
    case 0:
        eva_guest_rewrites();
        break;
    case 1:
        if (EVA_RUN_XPORT == SVD_XPORT_MMIO) {
            eva_reg(v, SVD_MMIO_QUEUE_NOTIFY, 4u, true, any_u32(), fx);
        } else {
            eva_reg(v, SVD_PCI_NOTIFY_OFF + 4u * eva_u32r(0u, 3u), 2u, true, any_u32(), fx);
        }
        break;
    case 2:
        if (EVA_RUN_XPORT == SVD_XPORT_MMIO) {
            eva_reg(v, SVD_MMIO_INTERRUPT_STATUS, 4u, false, 0u, fx);
            eva_reg(v, SVD_MMIO_INTERRUPT_ACK, 4u, true, any_u32(), fx);
        } else {
            eva_reg(v, SVD_PCI_ISR_OFF, 1u, false, 0u, fx); /* read clears */
        }
        break;
    case 3:
        eva_reg(v, eva_u64r(0u, EVA_RUN_XPORT == SVD_XPORT_MMIO ? SVD_MMIO_WINDOW_SIZE : SVD_PCI_BAR_SIZE),
                eva_u32r(0u, 9u), eva_int(0, 1) != 0, val, fx);
        break;
    case 4:
        r = svd_vdev_access(v, (svd_space)eva_int(0, 3), any_u64(), eva_u32r(0u, 9u), eva_int(0, 1) != 0, &val,
                            any_u64(), fx);
        break;
    case 5:
        r = svd_vdev_kick(v, any_u32(), any_u64(), fx);
        break;
    case 6:
        svd_vdev_tick(v, any_u64(), fx);
        break;
    default:
        if (eva_int(0, 3) == 0) {
            svd_vdev_reset(v, any_u64(), fx);
        } else {
            (void)svd_vdev_status(v);
            (void)svd_vdev_why(v);
            (void)svd_vdev_features(v);
        }
        break;
    }
    (void)r;
}

static int eva_run(void)
{
    static svd_gmem m;
    static svd_entropy e;
    static svd_vdev v;
    svd_entropy_cfg ecfg;
    svd_vdev_cfg cfg;
    svd_fx fx;

    eva_guest_rewrites();
    svd_gmem_init(&m);
    if (!svd_is_ok(svd_gmem_add(&m, EVA_GPA0, EVA_RAM0, eva_ram0, SVD_GMEM_READ | SVD_GMEM_WRITE)) ||
        !svd_is_ok(svd_gmem_add(&m, EVA_GPA0 + EVA_RAM0, EVA_RAM1, eva_ram0 + EVA_RAM0,
                                SVD_GMEM_READ | SVD_GMEM_WRITE)) ||
        !svd_is_ok(svd_gmem_add(&m, EVA_GPA_ROM, EVA_ROM, eva_rom, SVD_GMEM_READ))) {
        return 1;
    }
    eva_entropy_cfg(&ecfg);
    if (!svd_is_ok(svd_entropy_init(&e, &ecfg, any_u64()))) {
        return 1;
    }
    (void)memset(&cfg, 0, sizeof cfg);
    cfg.xport = EVA_RUN_XPORT;
    svd_entropy_model(&e, &cfg.model);
    cfg.model.queue_max = (uint16_t)EVA_QMAX;
    cfg.mmio_base = EVA_MMIO_BASE;
    cfg.mmio_vendor = any_u32();
    cfg.pci.class_code = SVD_PCI_CLASS_RNG;
    cfg.pci.subsystem_vendor = (uint16_t)SVD_PCI_VENDOR_VIRTIO;
    cfg.pci.subsystem_id = (uint16_t)SVD_ENTROPY_DEVICE_ID;
    cfg.pci.msix = true;
    cfg.budget.bytes = eva_u64r(0u, SVD_BUDGET_MAX_BYTES);
    cfg.budget.descs = eva_u32r(0u, SVD_VQ_MAX_SIZE);
    if (!svd_is_ok(svd_vdev_init(&v, &cfg, &m))) {
        return 1;
    }
    if (EVA_RUN_XPORT == SVD_XPORT_PCI) {
        eva_pci_bringup(&v, &fx);
    }
    eva_status(&v, SVD_STATUS_ACKNOWLEDGE, &fx);
    eva_status(&v, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER, &fx);
    eva_features(&v, &fx);
    eva_status(&v, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK, &fx);
    eva_queue(&v, &fx);
    eva_status(&v, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK | SVD_STATUS_DRIVER_OK, &fx);
    const int n = eva_int(0, EVA_RUN_STEPS);
    for (int i = 0; i < n; i++) {
        eva_run_step(&v, &fx);
    }
    return 0;
}

#endif /* SVD_EVA_RUN_H */
