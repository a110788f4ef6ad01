/**
 * @file device.h
 * @brief Transport-independent virtio device engine: status machine, feature
 *        negotiation, queue configuration, interrupt status, config space.
 *
 * A transport engine (virtio-mmio, virtio-pci) turns the guest's register
 * accesses into calls on this engine; a device model (entropy) works on the
 * queues it exposes once the driver is ready.
 *
 * Status machine (virtio 1.2 §2.1, §3.1.1): writing 0 resets the device.
 * Otherwise a status write MUST keep every bit already set and may add bits
 * only in the order ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK (FAILED at any
 * time). FEATURES_OK is accepted only if the driver's features are a subset of
 * the device's and include VERSION_1; otherwise the bit is not set, which is
 * how the spec tells the driver (it re-reads the status). Any other
 * out-of-order or bit-clearing write is a protocol error.
 *
 * Protocol errors (::SVD_ERR_PROTOCOL from this engine or from a queue) latch
 * DEVICE_NEEDS_RESET via svd_dev_fail(): every queue stops, and if DRIVER_OK
 * was set a configuration-change interrupt is requested. Only a reset (status
 * 0) clears it.
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

/** @brief Interrupt status bit: a used buffer notification is pending. */
#define SVD_ISR_QUEUE 0x1u
/** @brief Interrupt status bit: a configuration change notification is pending. */
#define SVD_ISR_CONFIG 0x2u

/** @brief Static description of a device, given to svd_dev_init(). */
typedef struct svd_dev_params {
    uint32_t device_id;       /**< Virtio device ID (4 = entropy). MUST be non-zero. */
    uint64_t device_features; /**< Device-specific feature bits (0..23); transport bits are added by the engine. */
    uint16_t num_queues;      /**< Number of queues, 1..::SVD_DEV_MAX_QUEUES. */
    uint16_t queue_max;       /**< Largest size per queue, a power of two <= ::SVD_VQ_MAX_SIZE. */
    const uint8_t *config;    /**< Device configuration space bytes (MAY be NULL when config_len is 0). */
    uint32_t config_len;      /**< Length of @c config. */
} svd_dev_params;

/** @brief What a call asks the transport/shim to do. Zeroed by every call that takes it. */
typedef struct svd_dev_event {
    bool reset;      /**< The device was reset: deassert interrupts, drop device-model state. */
    bool irq;        /**< Interrupt status gained a bit: raise/assert the interrupt. */
    bool failed;     /**< The device latched DEVICE_NEEDS_RESET during this call. */
} svd_dev_event;

/** @brief Device engine state. Caller-allocated. */
typedef struct svd_dev {
    uint32_t device_id;          /**< Virtio device ID. */
    uint64_t host_features;      /**< Features offered. */
    uint64_t driver_features;    /**< Features written by the driver. */
    uint8_t status;              /**< Device status byte. */
    uint8_t isr;                 /**< Interrupt status (::SVD_ISR_QUEUE, ::SVD_ISR_CONFIG). */
    uint16_t num_queues;         /**< Number of queues. */
    uint16_t queue_max;          /**< Largest queue size. */
    uint32_t config_generation;  /**< Bumped on every configuration change. */
    const uint8_t *config;       /**< Device configuration bytes. */
    uint32_t config_len;         /**< Length of @c config. */
    const svd_gmem *gmem;        /**< Guest memory map (owned by the shim). */
    svd_vq queues[SVD_DEV_MAX_QUEUES]; /**< The queues. */
} svd_dev;

/**
 * @brief Initialise @p d from @p p, over the guest memory map @p m (kept by pointer;
 *        MUST outlive @p d).
 * @return ::SVD_ERR_INVALID_ARG for a bad parameter; @p d unusable then.
 */
SVD_MUST_USE svd_result svd_dev_init(svd_dev *d, const svd_dev_params *p, const svd_gmem *m);

/** @brief Device reset (as a status write of 0): queues reset, features and status cleared, isr cleared. */
void svd_dev_reset(svd_dev *d);

/**
 * @brief The guest writes the status byte.
 * @param d      the device
 * @param status the value written
 * @param ev     receives what the shim must do
 * @return ::SVD_OK; ::SVD_ERR_STATE if the write was refused without latching
 *         (FEATURES_OK with an invalid feature set: the bit stays clear);
 *         ::SVD_ERR_PROTOCOL if the write broke the status rules (latched: ev->failed).
 */
SVD_MUST_USE svd_result svd_dev_set_status(svd_dev *d, uint8_t status, svd_dev_event *ev);

/** @brief Current status byte. */
uint8_t svd_dev_status(const svd_dev *d);

/** @brief 32-bit window @p sel (0 or 1) of the offered features; 0 for other windows. */
uint32_t svd_dev_host_features_word(const svd_dev *d, uint32_t sel);

/**
 * @brief The driver writes 32-bit window @p sel of its features.
 * @return ::SVD_ERR_STATE (ignored) unless DRIVER is set and FEATURES_OK is not;
 *         ::SVD_ERR_BOUNDS (ignored) for sel > 1.
 */
SVD_MUST_USE svd_result svd_dev_set_driver_features_word(svd_dev *d, uint32_t sel, uint32_t val);

/** @brief 32-bit window @p sel of the driver's features; 0 for other windows. */
uint32_t svd_dev_driver_features_word(const svd_dev *d, uint32_t sel);

/** @brief True when feature bit(s) @p f were accepted (FEATURES_OK set). */
bool svd_dev_has_feature(const svd_dev *d, uint64_t f);

/** @brief Largest size of queue @p q, 0 if the queue does not exist. */
uint16_t svd_dev_queue_max(const svd_dev *d, uint32_t q);

/**
 * @brief Queue @p q, or NULL if it does not exist. For reading configuration
 *        (size, addresses, ready) only; change it through the calls below.
 */
const svd_vq *svd_dev_queue(const svd_dev *d, uint32_t q);

/**
 * @brief Set the size of queue @p q (driver write).
 * @return ::SVD_ERR_BOUNDS (ignored) for an unknown queue; ::SVD_ERR_STATE (ignored)
 *         before FEATURES_OK or after DRIVER_OK/NEEDS_RESET;
 *         ::SVD_ERR_PROTOCOL (latched) if the queue is ready or the size is not a
 *         power of two in 1..queue_max.
 */
SVD_MUST_USE svd_result svd_dev_queue_set_size(svd_dev *d, uint32_t q, uint32_t size, svd_dev_event *ev);

/**
 * @brief Set the ring addresses of queue @p q (driver write).
 * @return as svd_dev_queue_set_size() for queue and state; ::SVD_ERR_PROTOCOL (latched)
 *         if the queue is ready.
 */
SVD_MUST_USE svd_result svd_dev_queue_set_addrs(svd_dev *d, uint32_t q, uint64_t desc, uint64_t avail,
                                                uint64_t used, svd_dev_event *ev);

/**
 * @brief Enable (@p ready true) or disable queue @p q (driver write).
 *
 * Enabling validates the rings against guest memory (see svd_vq_enable()) and
 * applies the negotiated EVENT_IDX and INDIRECT_DESC features. Writing false
 * to a ready queue is a protocol error (virtio 1.2 offers no queue reset here).
 * @return as svd_dev_queue_set_size(); ::SVD_ERR_PROTOCOL (latched) for bad rings.
 */
SVD_MUST_USE svd_result svd_dev_queue_set_ready(svd_dev *d, uint32_t q, bool ready, svd_dev_event *ev);

/**
 * @brief The guest notified queue @p q.
 * @param d   the device
 * @param q   queue index written by the guest (untrusted)
 * @param out receives the queue to process when the call succeeds
 * @return ::SVD_OK with *out set; ::SVD_ERR_STATE (ignored) before DRIVER_OK,
 *         after NEEDS_RESET/FAILED, or if the queue is not ready;
 *         ::SVD_ERR_BOUNDS (ignored) for an unknown queue.
 */
SVD_MUST_USE svd_result svd_dev_notify(svd_dev *d, uint32_t q, svd_vq **out);

/**
 * @brief Report the outcome of processing queue @p q by a device model.
 *
 * If @p r is ::SVD_ERR_PROTOCOL the device latches NEEDS_RESET (svd_dev_fail()).
 * Otherwise, if the queue wants an interrupt (svd_vq_need_interrupt()), the
 * ::SVD_ISR_QUEUE bit is set and ev->irq requested.
 */
void svd_dev_queue_processed(svd_dev *d, uint32_t q, svd_result r, svd_dev_event *ev);

/**
 * @brief Latch DEVICE_NEEDS_RESET: stop every queue; if DRIVER_OK was set, set
 *        ::SVD_ISR_CONFIG, bump the config generation and request an interrupt.
 *        Idempotent.
 */
void svd_dev_fail(svd_dev *d, svd_dev_event *ev);

/** @brief True while NEEDS_RESET is latched. */
bool svd_dev_needs_reset(const svd_dev *d);

/** @brief Interrupt status bits without side effect (virtio-mmio InterruptStatus). */
uint8_t svd_dev_isr(const svd_dev *d);

/** @brief Clear interrupt status bits @p bits (virtio-mmio InterruptACK). */
void svd_dev_isr_ack(svd_dev *d, uint8_t bits);

/** @brief Read and clear the interrupt status (virtio-pci ISR capability read). */
uint8_t svd_dev_isr_read_clear(svd_dev *d);

/** @brief Configuration generation counter. */
uint32_t svd_dev_config_generation(const svd_dev *d);

/**
 * @brief Read @p width (1, 2 or 4) bytes of device configuration at @p off, little-endian.
 * @return ::SVD_ERR_BOUNDS if [off, off+width) is not inside the config space;
 *         ::SVD_ERR_INVALID_ARG for another width. *val untouched on failure.
 */
SVD_MUST_USE svd_result svd_dev_config_read(const svd_dev *d, uint32_t off, uint32_t width, uint32_t *val);

#endif /* SAFEVDEV_DEVICE_H */
