/**
 * @file vdev.h
 * @brief The composed virtio device engine: transport + device + queues +
 *        device model, behind the one face every device has.
 *
 * A shim builds one ::svd_vdev per device instance and drives it with four
 * calls, each taking the current time and filling an ::svd_fx:
 * - svd_vdev_access(): a guest register access (virtio-mmio window, PCI
 *   configuration space, PCI BAR), decoded by the engine itself;
 * - svd_vdev_kick(): a queue notification that did not come through a
 *   register (a vhost-user kick fd, an ioeventfd);
 * - svd_vdev_tick(): the time the last effect's @c deadline asked for;
 * - svd_vdev_reset(): a host-initiated reset (guest reboot).
 * Everything between a notification and the interrupt (the model serving
 * the queue, the used ring, the interrupt decision, the line level) happens
 * inside the call; the shim only applies the effect (fx.h).
 *
 * Transports: ::SVD_XPORT_MMIO (virtio-mmio v2 at a guest-physical base),
 * ::SVD_XPORT_PCI (modern virtio-pci, BAR0 wherever the guest programs it),
 * ::SVD_XPORT_NONE (the host negotiates features and configures queues
 * itself, as a vhost-user back-end is told by its front-end:
 * svd_vdev_queue_start() / svd_vdev_queue_stop()).
 *
 * Device models plug in through ::svd_model (device.h); a new virtio device
 * is a new model and nothing else.
 *
 * Sticky failure: the first guest protocol error (or a model's fatal failure)
 * latches DEVICE_NEEDS_RESET; the effect of that call has @c failed and
 * @c why set, svd_vdev_why() keeps the reason, every queue stops, and only a
 * device reset (the guest writing status 0, or svd_vdev_reset()) clears it.
 *
 * Thread-safety: one thread per instance at a time (the shim's lock).
 */
#ifndef SAFEVDEV_VDEV_H
#define SAFEVDEV_VDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/device.h"
#include "safevdev/fx.h"
#include "safevdev/gmem.h"
#include "safevdev/mmio.h"
#include "safevdev/pci.h"
#include "safevdev/result.h"

/** @brief Which transport the composed engine emulates. */
typedef enum svd_xport {
    SVD_XPORT_NONE = 0, /**< None: the host configures queues (vhost-user). */
    SVD_XPORT_MMIO,     /**< virtio-mmio (version 2) register window. */
    SVD_XPORT_PCI       /**< virtio-pci modern: configuration space + BAR0. */
} svd_xport;

/** @brief How to build a composed engine. */
typedef struct svd_vdev_cfg {
    svd_xport xport;        /**< Transport. */
    svd_model model;        /**< The device model (copied). */
    uint64_t mmio_base;     /**< ::SVD_XPORT_MMIO: guest-physical base of the ::SVD_MMIO_WINDOW_SIZE window. */
    uint32_t mmio_vendor;   /**< ::SVD_XPORT_MMIO: VendorID register value (QEMU uses 0x554d4551). */
    svd_pci_params pci;     /**< ::SVD_XPORT_PCI: the function's identity. */
    svd_budget budget;      /**< Work one call may do; all zero = the defaults. */
} svd_vdev_cfg;

/**
 * @brief The composed engine. Caller-allocated.
 *
 * Opaque: the members are private to the core and SHALL NOT be accessed by
 * any other module; use the functions of this header.
 */
typedef struct svd_vdev {
    svd_xport xport;    /**< Transport. */
    uint64_t mmio_base; /**< virtio-mmio window base. */
    svd_dev dev;        /**< Device engine (owns the queues and the model). */
    svd_mmio mmio;      /**< virtio-mmio transport, when ::SVD_XPORT_MMIO. */
    svd_pci pci;        /**< virtio-pci transport, when ::SVD_XPORT_PCI. */
} svd_vdev;

/**
 * @brief Initialise @p v from @p cfg over the guest memory map @p m (kept by
 *        pointer; MUST outlive @p v).
 * @return ::SVD_ERR_INVALID_ARG for a NULL argument, an unknown transport, a
 *         bad model (see ::svd_model), a budget above its limits, a virtio-mmio
 *         window that wraps, or a
 *         configuration space or device ID the transport cannot carry; @p v is
 *         unusable then.
 */
SVD_MUST_USE svd_result svd_vdev_init(svd_vdev *v, const svd_vdev_cfg *cfg, const svd_gmem *m);

/**
 * @brief A guest access of @p width bytes.
 *
 * ::SVD_SPACE_MEM: @p addr is guest-physical; it is decoded against the
 * virtio-mmio window, or BAR0 while the guest has it programmed and memory
 * decoding on. ::SVD_SPACE_PCI_CFG: @p addr is the configuration-space
 * offset (PCI transport only). Anything else, and every access the register
 * rules (mmio.h, pci.h) do not allow, gets the defined answer: reads 0, a
 * write is ignored, nothing changes.
 * @param v the engine
 * @param sp address space
 * @param addr address or offset
 * @param width access width in bytes (1, 2, 4 or 8)
 * @param write true for a write of *@p val, false for a read
 * @param val the value written (low @p width bytes), or receives the value
 *            read (always written by a read)
 * @param now current time (ns of a monotonic clock, the same for every call)
 * @param fx receives the effects; the shim SHALL apply them whatever the result
 * @return ::SVD_OK for an access performed; otherwise why it was refused or
 *         failed (::SVD_ERR_PROTOCOL: latched, see @c fx->why). Informational:
 *         the access is complete either way and the shim MUST NOT fail the
 *         guest because of it.
 */
SVD_MUST_USE svd_result svd_vdev_access(svd_vdev *v, svd_space sp, uint64_t addr, uint32_t width, bool write,
                                        uint64_t *val, uint64_t now, svd_fx *fx);

/**
 * @brief Queue @p q was notified outside the registers (vhost-user kick).
 * @return ::SVD_OK when the queue was served; ::SVD_ERR_STATE / ::SVD_ERR_BOUNDS
 *         when it was not live (not ready, not DRIVER_OK, latched, unknown
 *         queue: ignored, never served); a model failure (latched, @c fx->why).
 */
SVD_MUST_USE svd_result svd_vdev_kick(svd_vdev *v, uint32_t q, uint64_t now, svd_fx *fx);

/** @brief The time a deadline asked for: serve every queue whose model is due. */
void svd_vdev_tick(svd_vdev *v, uint64_t now, svd_fx *fx);

/** @brief Host-initiated reset (guest reboot): the device, its queues, the model and the transport's registers. */
void svd_vdev_reset(svd_vdev *v, uint64_t now, svd_fx *fx);

/**
 * @brief Every feature bit the device offers: the model's device-specific
 *        bits plus VERSION_1, RING_EVENT_IDX and RING_INDIRECT_DESC. A host
 *        that negotiates itself (::SVD_XPORT_NONE) offers these.
 */
uint64_t svd_vdev_features(const svd_vdev *v);

/**
 * @brief ::SVD_XPORT_NONE: configure and start queue @p q (vhost-user: once the
 *        ring's size, addresses, base and kick are known).
 * @return ::SVD_OK; ::SVD_ERR_STATE (another transport, already running,
 *         latched); ::SVD_ERR_BOUNDS (no such queue); ::SVD_ERR_PROTOCOL with
 *         the rule broken (bad size, alignment, rings outside memory). A
 *         refusal leaves the queue stopped and the device not latched.
 */
SVD_MUST_USE svd_result svd_vdev_queue_start(svd_vdev *v, uint32_t q, const svd_vq_setup *s, svd_fx *fx);

/**
 * @brief ::SVD_XPORT_NONE: stop queue @p q and tell where a restart resumes
 *        (vhost-user GET_VRING_BASE): requests in flight are handed back.
 * @return ::SVD_ERR_STATE for another transport, ::SVD_ERR_BOUNDS for no such
 *         queue (outputs untouched then).
 */
SVD_MUST_USE svd_result svd_vdev_queue_stop(svd_vdev *v, uint32_t q, uint16_t *next_avail, uint16_t *next_used);

/**
 * @brief ::SVD_XPORT_NONE: where a stop of queue @p q now would resume (what
 *        svd_vdev_queue_stop() would report), without stopping it.
 * @return ::SVD_ERR_STATE for another transport, ::SVD_ERR_BOUNDS for no such
 *         queue (outputs untouched then).
 */
SVD_MUST_USE svd_result svd_vdev_queue_base(const svd_vdev *v, uint32_t q, uint16_t *next_avail,
                                            uint16_t *next_used);

/** @brief True while queue @p q is running. */
bool svd_vdev_queue_running(const svd_vdev *v, uint32_t q);

/** @brief Device status byte (virtio 1.2 §2.1). */
uint8_t svd_vdev_status(const svd_vdev *v);

/** @brief True while DEVICE_NEEDS_RESET is latched. */
bool svd_vdev_needs_reset(const svd_vdev *v);

/** @brief Why DEVICE_NEEDS_RESET is latched (::SVD_WHY_NONE while it is not). */
svd_why svd_vdev_why(const svd_vdev *v);

#endif /* SAFEVDEV_VDEV_H */
