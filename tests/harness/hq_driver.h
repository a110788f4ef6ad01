/*
 * hq_driver.h: a virtio *driver* model over the harness, following the probe
 * sequence of Linux's virtio_mmio.c and virtio_pci_modern.c (+ virtio.c):
 *
 *   virtio-pci only, firmware first: size BAR0 (all-ones write, read back),
 *   assign an address, enable memory decode + bus mastering; then walk the
 *   capability list for the common, notify, ISR and device capabilities.
 *   virtio-mmio: check MagicValue, Version 2, DeviceID.
 *   Both: reset (status 0, read back 0), ACKNOWLEDGE, DRIVER, read the 64
 *   device feature bits (select 0/1), write the driver's subset, FEATURES_OK,
 *   re-read status and give up (FAILED) if FEATURES_OK did not stick,
 *   virtio-pci: choose interrupts as vp_find_vqs() does (hq_drv_probe_irq),
 *   set up queue 0 (select, check not ready, read max, write size, ring
 *   addresses as 32-bit halves, its MSI-X vector, ready/enable), DRIVER_OK.
 *
 * Requests: hq_drv_read() publishes one device-writable buffer, notifies
 * (Linux's rule: kick only if tg_vring_should_kick), handles the interrupt
 * the way the Linux ISR does (MMIO: InterruptStatus + InterruptACK; PCI:
 * read-clear ISR), and collects the used element, advancing the harness
 * clock in steps while the device defers.
 */
#ifndef HQ_DRIVER_H
#define HQ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "hq.h"
#include "tg_vring.h"

typedef struct hq_drv {
    hq_dev *d;
    bool pci;
    uint64_t base;        /* MMIO window or BAR0 guest-physical address */
    uint32_t common_off;  /* PCI: offsets inside BAR0 found in the capabilities */
    uint32_t notify_off;
    uint32_t notify_mult;
    uint32_t isr_off;
    uint32_t device_off;
    uint16_t queue_notify_off;
    uint64_t features;    /* negotiated */
    tg_vring vr;
    unsigned irq_seen;    /* interrupts handled */
    unsigned status_faults; /* FEATURES_OK refused or NEEDS_RESET observed */
    /* Interrupts (PCI): what virtio_pci's vp_find_vqs() settled on. */
    unsigned os_vectors;  /* MSI-X vectors the guest OS can allocate (0: none, as with pci=nomsi) */
    int irq_mode;         /* HQ_IRQ_* */
    uint32_t msix_cap;    /* offset of the MSI-X capability, 0 if none */
    uint32_t msix_table;  /* BAR0 offset of the MSI-X table */
    uint32_t msix_pba;    /* BAR0 offset of the pending bit array */
    unsigned msi_next;    /* next hq_msi_at() index to look at */
    unsigned msi_queue;   /* queue interrupts taken as MSI-X messages */
    unsigned msi_config;  /* configuration-change messages */
    unsigned msi_stray;   /* messages from this device matching no programmed vector */
} hq_drv;

/* Interrupt modes, in the order Linux's vp_find_vqs() tries them. */
enum {
    HQ_IRQ_INTX = 0,     /* no MSI-X capability, too few vectors, or a vector refused */
    HQ_IRQ_MSIX_PER_VQ,  /* config on vector 0, queue q on vector q + 1 */
    HQ_IRQ_MSIX_SHARED,  /* config on vector 0, every queue on vector 1 */
};
/* The message the driver programs for MSI-X vector v. */
#define HQ_MSI_ADDR(v) (UINT64_C(0xfee00000) + 0x1000u * (uint64_t)(v))
#define HQ_MSI_DATA(v) (0x4000u + (unsigned)(v))

/* Probe steps that can fail (negative returns of hq_drv_probe). */
enum {
    HQ_DRV_OK = 0,
    HQ_DRV_E_IDENT = -1,    /* magic/version/vendor/device ID wrong */
    HQ_DRV_E_CAPS = -2,     /* a virtio capability missing or bad */
    HQ_DRV_E_RESET = -3,    /* status did not read 0 after reset */
    HQ_DRV_E_FEATURES = -4, /* FEATURES_OK did not stick or VERSION_1 missing */
    HQ_DRV_E_QUEUE = -5,    /* queue 0 absent, already ready, or too small */
    HQ_DRV_E_DRIVER_OK = -6,/* DRIVER_OK not visible / NEEDS_RESET set */
    HQ_DRV_E_ACCESS = -7,   /* an access was refused by the harness */
};

/* Probe @d. @bar_gpa: PCI BAR0 address the firmware step assigns (ignored for
 * MMIO). @ring_gpa: where the rings go in guest RAM. @want: extra features the
 * driver accepts besides VERSION_1 (e.g. EVENT_IDX, INDIRECT_DESC). */
int hq_drv_probe(hq_drv *v, hq_dev *d, uint64_t bar_gpa, uint64_t ring_gpa, uint16_t qsize, uint64_t want);
/* The same with virtio_pci's choice of interrupts (vp_find_vqs): per-queue
 * MSI-X vectors, else one vector shared by the queues, else INTx. An MSI-X
 * attempt needs the capability and @os_vectors >= the vectors it asks for
 * (pci_alloc_irq_vectors); it enables MSI-X with the function masked,
 * programs each entry (HQ_MSI_ADDR/HQ_MSI_DATA), unmasks the function and
 * the entries, writes config_msix_vector and each queue's queue_msix_vector
 * before that queue is enabled, reading each back: NO_VECTOR fails the
 * attempt, which puts every vector back to NO_VECTOR and disables MSI-X
 * (vp_del_vqs). hq_drv_probe() is this with @os_vectors 0 (INTx). */
int hq_drv_probe_irq(hq_drv *v, hq_dev *d, uint64_t bar_gpa, uint64_t ring_gpa, uint16_t qsize, uint64_t want,
                     unsigned os_vectors);

/* Read up to @len entropy bytes into guest buffer @buf_gpa. Advances the
 * clock by @step_ns up to @max_steps times while nothing comes back.
 * Returns the used length (>= 0), or -1 if no completion arrived. */
long hq_drv_read(hq_drv *v, uint64_t buf_gpa, uint32_t len, uint64_t step_ns, unsigned max_steps);

/* Raw register access of the transport (MMIO offset / PCI common-cfg offset). */
uint64_t hq_drv_reg_read(hq_drv *v, uint32_t off, unsigned width);
void hq_drv_reg_write(hq_drv *v, uint32_t off, unsigned width, uint64_t val);
/* Device status byte as the driver reads it. */
uint8_t hq_drv_status(hq_drv *v);
/* Handle a pending interrupt as Linux would; true if one was pending. INTx:
 * the line is high, read-clear ISR (MMIO: InterruptStatus + ACK). MSI-X: each
 * new message of this device is matched to the vector it was programmed for
 * (vring_interrupt for a queue vector; a config vector means a configuration
 * change); the ISR is not read. */
bool hq_drv_handle_irq(hq_drv *v);

#endif /* HQ_DRIVER_H */
