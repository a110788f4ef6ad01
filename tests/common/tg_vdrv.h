/* A virtio *driver* over the composed engine's register face
 * (svd_vdev_access): what Linux's virtio_mmio / virtio_pci_modern do to
 * bring a device up, select and configure queues, kick and take interrupts,
 * at guest-physical addresses (the engine decodes them). Every access is
 * made at d->now and its effect kept in d->fx; accesses that did not return
 * OK are counted in d->errors so a caller can assert a clean bring-up.
 * Used with tg_vring (the rings) and tg_mem (guest RAM). */
#ifndef TG_VDRV_H
#define TG_VDRV_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/vdev.h"
#include "tg_vring.h"

typedef struct tg_vdrv {
    svd_vdev *v;
    svd_xport xport;  /* SVD_XPORT_MMIO or SVD_XPORT_PCI */
    uint64_t base;    /* MMIO window base, or the BAR0 address the driver programs */
    uint64_t now;     /* time of every access */
    svd_fx fx;        /* effect of the last access (all zero before the first) */
    svd_result last;  /* result of the last access */
    uint32_t errors;  /* accesses that did not return OK */
    uint32_t os_vectors; /* MSI-X vectors the "OS" can allocate (0: as many as the table has) */
} tg_vdrv;

/* The interrupt mode tg_vdrv_up_irq() ended in. */
typedef enum tg_irq_mode {
    TG_IRQ_INTX = 0,     /* no MSI-X capability, or every MSI-X attempt failed */
    TG_IRQ_MSIX_PER_VQ,  /* config vector 0, queue q on vector q + 1 */
    TG_IRQ_MSIX_SHARED   /* config vector 0, every queue on vector 1 */
} tg_irq_mode;

/* MSI-X message of vector v as tg_vdrv_up_irq() programs it. */
#define TG_MSI_ADDR(v) (UINT64_C(0xfee00000) + 0x10u * (v))
#define TG_MSI_DATA(v) (0x40u + (v))

void tg_vdrv_init(tg_vdrv *d, svd_vdev *v, svd_xport xport, uint64_t base);

/* tg_vdrv_up() on virtio-pci with Linux virtio_pci's choice of interrupts
 * (vp_find_vqs): per-queue MSI-X vectors (nq + 1 vectors), else one shared
 * vector for the queues (2 vectors), else INTx. An attempt needs the MSI-X
 * capability and enough vectors (table size, d->os_vectors); it enables
 * MSI-X, programs and unmasks the table entries, writes config_msix_vector
 * and, for each queue before enabling it, queue_msix_vector, reading each
 * back: NO_VECTOR fails the attempt, which disables MSI-X again. Returns the
 * mode, and in *ok whether the device came up. */
tg_irq_mode tg_vdrv_up_irq(tg_vdrv *d, uint64_t feats, const tg_vring *rings, uint32_t nq, bool *ok);

/* Raw accesses: guest-physical @d->base + @off; PCI configuration space @off. */
uint64_t tg_vdrv_rd(tg_vdrv *d, uint64_t off, uint32_t width);
svd_result tg_vdrv_wr(tg_vdrv *d, uint64_t off, uint32_t width, uint64_t val);
uint32_t tg_vdrv_cfg_rd(tg_vdrv *d, uint32_t off, uint32_t width);
svd_result tg_vdrv_cfg_wr(tg_vdrv *d, uint32_t off, uint32_t width, uint32_t val);

/* PCI firmware: BAR0 at d->base (BAR1 too when d->base is above 4 GiB: a
 * 64-bit BAR), memory decoding and bus mastering on. */
void tg_vdrv_pci_assign(tg_vdrv *d);
/* Device status register. */
uint8_t tg_vdrv_status(tg_vdrv *d);
svd_result tg_vdrv_set_status(tg_vdrv *d, uint8_t s);
/* Driver features (both 32-bit windows). */
void tg_vdrv_set_features(tg_vdrv *d, uint64_t feats);
/* Select queue @q and configure it from @r, then set it ready. */
svd_result tg_vdrv_queue(tg_vdrv *d, uint32_t q, const tg_vring *r);
/* Notify queue @q. */
svd_result tg_vdrv_notify(tg_vdrv *d, uint32_t q);
/* Take the interrupt: read (virtio-pci: read-clear) the interrupt status,
 * acknowledge it (virtio-mmio), return the bits. */
uint8_t tg_vdrv_take_irq(tg_vdrv *d);
/* Reset, ACKNOWLEDGE, DRIVER, @feats, FEATURES_OK, queues 0..@nq-1 from
 * @rings, DRIVER_OK (PCI: tg_vdrv_pci_assign first). True when every access
 * succeeded and the device reads DRIVER_OK without NEEDS_RESET. */
bool tg_vdrv_up(tg_vdrv *d, uint64_t feats, const tg_vring *rings, uint32_t nq);

#endif
