/**
 * @file device.h
 * @brief Transport-independent virtio device engine: status machine, feature
 *        negotiation, queue configuration, interrupt status, config space.
 *
 * A transport engine (virtio-mmio, virtio-pci) turns the guest's register
 * accesses into calls on this engine; a device model (entropy) plugs in
 * through ::svd_model and serves the queues once the driver is ready. The
 * whole chain of a queue notification (kick -> model serves the queue ->
 * used ring -> interrupt decision) runs inside svd_dev_kick(). Products use
 * the composed engine (vdev.h), which owns one of these; the functions here
 * are its internals (declared in the core's private header).
 *
 * Status machine (virtio 1.2 §2.1, §3.1.1): writing 0 resets the device.
 * Otherwise a status write MUST keep every bit already set and may add bits
 * only in the order ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK (FAILED at any
 * time). FEATURES_OK is accepted only if the driver's features are a subset of
 * the device's and include VERSION_1; otherwise the bit is not set, which is
 * how the spec tells the driver (it re-reads the status). Any other
 * out-of-order or bit-clearing write is a protocol error.
 *
 * Protocol errors (::SVD_ERR_PROTOCOL from this engine or from a queue) and a
 * model's fatal failure latch DEVICE_NEEDS_RESET: every queue stops, the
 * reason (::svd_why) is kept, and if DRIVER_OK was set a configuration-change
 * interrupt is requested. Only a reset (status 0) clears it.
 *
 * Decisions where the spec leaves room:
 * - a queue notification before DRIVER_OK, on an unknown queue, on a queue that
 *   is not ready, or after NEEDS_RESET/FAILED is ignored (::SVD_ERR_STATE),
 *   never processed (QEMU CVE-2011-2512 class);
 * - driver feature writes outside DRIVER..FEATURES_OK are ignored (::SVD_ERR_STATE).
 *
 * Thread-safety: one thread per device.
 */
#ifndef SAFEVDEV_DEVICE_H
#define SAFEVDEV_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/fx.h"
#include "safevdev/gmem.h"
#include "safevdev/result.h"
#include "safevdev/virtqueue.h"

/** @brief Maximum number of virtqueues of one device. */
#define SVD_DEV_MAX_QUEUES 2u

/** @brief Status bit: the guest has noticed the device. */
#define SVD_STATUS_ACKNOWLEDGE 0x01u
/** @brief Status bit: the guest knows how to drive the device. */
#define SVD_STATUS_DRIVER 0x02u
/** @brief Status bit: the driver is ready. */
#define SVD_STATUS_DRIVER_OK 0x04u
/** @brief Status bit: feature negotiation is complete. */
#define SVD_STATUS_FEATURES_OK 0x08u
/** @brief Status bit: the device hit an error and needs a reset. Set by the device only. */
#define SVD_STATUS_NEEDS_RESET 0x40u
/** @brief Status bit: the driver gave up on the device. */
#define SVD_STATUS_FAILED 0x80u

/** @brief Feature bit: indirect descriptors (bit 28). */
#define SVD_F_RING_INDIRECT_DESC (UINT64_C(1) << 28)
/** @brief Feature bit: used_event/avail_event (bit 29). */
#define SVD_F_RING_EVENT_IDX (UINT64_C(1) << 29)
/** @brief Feature bit: virtio 1.x compliance (bit 32). */
#define SVD_F_VERSION_1 (UINT64_C(1) << 32)
/** @brief Feature bit: packed virtqueues (bit 34); every queue of the device uses the format negotiated. */
#define SVD_F_RING_PACKED (UINT64_C(1) << 34)

/** @brief Interrupt status bit: a used buffer notification is pending. */
#define SVD_ISR_QUEUE 0x1u
/** @brief Interrupt status bit: a configuration change notification is pending. */
#define SVD_ISR_CONFIG 0x2u

/** @brief Default of ::svd_budget.bytes: bytes one engine call may move (64 KiB). */
#define SVD_BUDGET_DEFAULT_BYTES (UINT64_C(64) * 1024u)
/** @brief Default of ::svd_budget.descs: descriptors one engine call may take (256). */
#define SVD_BUDGET_DEFAULT_DESCS 256u
/** @brief Largest ::svd_budget.bytes (2^30). */
#define SVD_BUDGET_MAX_BYTES (UINT64_C(1) << 30)

/**
 * @brief The work one engine call may do (freedom from interference in time).
 *
 * A call that reaches either bound stops, keeps the rest of its work pending
 * and asks to be called again at once (the effect's deadline is the call's
 * @c now); a request larger than the budget is served over several calls and
 * completed only when it has what it would have had in one. Descriptors are
 * counted per chain taken: a chain is always validated whole (at most the
 * queue size of descriptors), and no further chain is taken once @c descs is
 * reached.
 */
typedef struct svd_budget {
    uint64_t bytes; /**< Bytes moved to or from guest buffers per call, 1..::SVD_BUDGET_MAX_BYTES (0: default). */
    uint32_t descs; /**< Descriptors taken per call, 1..::SVD_VQ_MAX_SIZE (0: default). */
} svd_budget;

/** @brief svd_model.reset's index meaning every queue. */
#define SVD_MODEL_ALL_QUEUES UINT32_MAX

/**
 * @brief A device model: what makes a virtio device an entropy device (or any
 *        other). Filled by the model's own constructor (e.g.
 *        svd_entropy_model()) and given to the composed engine; the engine
 *        keeps a copy.
 *
 * @c serve is called only for a queue that is enabled and usable (driver
 * ready, no latch). It SHALL take requests with svd_vq_pop() and complete
 * them with svd_vq_push(), in pop order, and return:
 * - ::SVD_OK, with *@p wake_at set to the time it wants to be called again
 *   for this queue (work left pending: a deferred or starved request, or
 *   @p now when the call's ::svd_budget ran out), or ::SVD_NO_DEADLINE when it
 *   has nothing waiting;
 * - ::SVD_ERR_PROTOCOL (the guest broke the queue; the reason in @c why) or
 *   another failure naming its reason (the model cannot go on, e.g.
 *   ::SVD_WHY_SOURCE_GAVE_UP): the device latches NEEDS_RESET;
 * - ::SVD_ERR_STATE: the queue was not usable; nothing happened.
 * @c reset drops the requests the model holds for queue @p index (a queue
 * stop), or for every queue when @p index is ::SVD_MODEL_ALL_QUEUES (device
 * reset, NEEDS_RESET latched).
 */
typedef struct svd_model {
    uint32_t device_id;       /**< Virtio device ID (4 = entropy). MUST be non-zero. */
    uint64_t device_features; /**< Device-specific feature bits (0..23); transport bits are added by the engine. */
    uint16_t num_queues;      /**< Number of queues, 1..::SVD_DEV_MAX_QUEUES. */
    uint16_t queue_max;       /**< Largest size per queue, a power of two <= ::SVD_VQ_MAX_SIZE. */
    const uint8_t *config;    /**< Device configuration space bytes (MAY be NULL when config_len is 0). */
    uint32_t config_len;      /**< Length of @c config. */
    /** Serve queue @p index within @p budget (see above). */
    svd_result (*serve)(void *ctx, svd_vq *q, uint32_t index, const svd_gmem *m, uint64_t now,
                        const svd_budget *budget, uint64_t *wake_at);
    /** Drop the requests held for queue @p index, or for all (::SVD_MODEL_ALL_QUEUES). */
    void (*reset)(void *ctx, uint32_t index);
    void *ctx;                /**< The model's state, passed to @c serve and @c reset. */
} svd_model;

/**
 * @brief Device engine state. Caller-allocated (inside ::svd_vdev).
 *
 * Opaque: the members are private to the core and SHALL NOT be accessed by
 * any other module; the composed engine's functions are the interface.
 */
typedef struct svd_dev {
    svd_model model;             /**< The device model. */
    svd_budget budget;           /**< Work per call (defaults applied). */
    uint64_t host_features;      /**< Features offered. */
    uint64_t driver_features;    /**< Features written by the driver. */
    uint8_t status;              /**< Device status byte. */
    uint8_t isr;                 /**< Interrupt status (::SVD_ISR_QUEUE, ::SVD_ISR_CONFIG). */
    bool host_driven;            /**< No emulated transport: the host configures and starts queues itself. */
    svd_why why;                 /**< Reason of the latched NEEDS_RESET (::SVD_WHY_NONE while clear). */
    uint32_t config_generation;  /**< Bumped on every configuration change. */
    const svd_gmem *gmem;        /**< Guest memory map (owned by the shim). */
    uint64_t wake_at[SVD_DEV_MAX_QUEUES]; /**< When the model asked to serve each queue again. */
    svd_vq queues[SVD_DEV_MAX_QUEUES];    /**< The queues. */
} svd_dev;

/** @brief Queue configuration a host-driven device (vhost-user) receives from its front-end. */
typedef struct svd_vq_setup {
    uint32_t size;        /**< Queue size. */
    uint64_t desc;        /**< Descriptor table guest-physical address. */
    uint64_t avail;       /**< Available ring guest-physical address. */
    uint64_t used;        /**< Used ring guest-physical address. */
    uint16_t next_avail;  /**< Next available index to consume. */
    uint16_t next_used;   /**< Next used index to fill. */
    bool event_idx;       /**< VIRTIO_F_RING_EVENT_IDX negotiated. */
    bool indirect;        /**< VIRTIO_F_INDIRECT_DESC negotiated. */
    bool packed;          /**< VIRTIO_F_RING_PACKED negotiated: @c avail / @c used name the driver / device
                               event suppression structures, @c next_avail / @c next_used carry their wrap
                               counters (::SVD_VQ_WRAP_BIT). */
    bool resync;          /**< Packed only: the positions may be stale (the front-end lost the previous back-end,
                               e.g. QEMU 7.2 after a back-end crash resends the previous start); a start whose
                               descriptor cannot be the next one resumes where the driver's available buffers
                               begin. */
} svd_vq_setup;

#endif /* SAFEVDEV_DEVICE_H */
