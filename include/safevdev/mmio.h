/**
 * @file mmio.h
 * @brief virtio-mmio transport engine (virtio 1.2 §4.2.2, register layout version 2).
 *
 * Turns the guest's accesses to a virtio-mmio register window into calls on a
 * ::svd_dev device engine, and tells the shim what to do through an
 * ::svd_mmio_action (process a queue, change the interrupt line level, the
 * device was reset, the device latched NEEDS_RESET).
 *
 * Window layout (offsets from the window base, ::SVD_MMIO_WINDOW_SIZE bytes):
 * registers 0x000..0x0ff, device configuration space 0x100..0x1ff.
 *
 * Access rules (the "defined answer"): registers are accessed with width 4 at a
 * 4-byte aligned offset; the configuration space with width 1, 2 or 4, aligned
 * to the width. Every other access — unknown offset, wrong width, misaligned,
 * a read of a write-only register, a write to a read-only register, a write of
 * a value the register cannot hold — reads 0, is ignored when written, and has
 * no other effect whatsoever (no latch, no state change, no action). Two
 * exceptions the spec defines: SHMLenLow/High and SHMBaseLow/High read
 * 0xffffffff (no shared memory region exists, §4.2.2).
 *
 * Guest protocol errors detected by the device engine (status written out of
 * order, bad queue size, rings outside guest memory, ...) latch
 * DEVICE_NEEDS_RESET inside the device engine; the action reports it.
 *
 * Not supported, on purpose: the legacy layout (Version 1: GuestPageSize,
 * QueueAlign, QueuePFN), shared memory regions, VIRTIO_F_RING_RESET
 * (QueueReset reads 0, writes ignored), VIRTIO_F_NOTIFICATION_DATA (the value
 * written to QueueNotify is the queue index).
 *
 * Interrupt: one level-triggered line whose level is (interrupt status != 0).
 * The engine remembers the level it last reported and reports a change in
 * the action; after a device model completed work on a queue
 * (svd_dev_queue_processed()), the shim calls svd_mmio_sync_irq().
 *
 * Thread-safety: one thread per instance (the same thread as its device engine).
 */
#ifndef SAFEVDEV_MMIO_H
#define SAFEVDEV_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/device.h"
#include "safevdev/result.h"
#include "safevdev/virtqueue.h"

/** @brief Size in bytes of the register window (registers + configuration space). */
#define SVD_MMIO_WINDOW_SIZE 0x200u
/** @brief Offset of the device configuration space in the window. */
#define SVD_MMIO_CONFIG_OFFSET 0x100u
/** @brief Largest device configuration space the window can expose. */
#define SVD_MMIO_CONFIG_MAX (SVD_MMIO_WINDOW_SIZE - SVD_MMIO_CONFIG_OFFSET)
/** @brief MagicValue: "virt" in little-endian. */
#define SVD_MMIO_MAGIC 0x74726976u
/** @brief Version of the register layout implemented (non-legacy). */
#define SVD_MMIO_VERSION 2u

/** @name Register offsets (virtio 1.2 §4.2.2)
 *  @{ */
#define SVD_MMIO_MAGIC_VALUE 0x000u          /**< R */
#define SVD_MMIO_VERSION_REG 0x004u          /**< R */
#define SVD_MMIO_DEVICE_ID 0x008u            /**< R */
#define SVD_MMIO_VENDOR_ID 0x00cu            /**< R */
#define SVD_MMIO_DEVICE_FEATURES 0x010u      /**< R */
#define SVD_MMIO_DEVICE_FEATURES_SEL 0x014u  /**< W */
#define SVD_MMIO_DRIVER_FEATURES 0x020u      /**< W */
#define SVD_MMIO_DRIVER_FEATURES_SEL 0x024u  /**< W */
#define SVD_MMIO_QUEUE_SEL 0x030u            /**< W */
#define SVD_MMIO_QUEUE_NUM_MAX 0x034u        /**< R */
#define SVD_MMIO_QUEUE_NUM 0x038u            /**< W */
#define SVD_MMIO_QUEUE_READY 0x044u          /**< RW */
#define SVD_MMIO_QUEUE_NOTIFY 0x050u         /**< W */
#define SVD_MMIO_INTERRUPT_STATUS 0x060u     /**< R */
#define SVD_MMIO_INTERRUPT_ACK 0x064u        /**< W */
#define SVD_MMIO_STATUS 0x070u               /**< RW */
#define SVD_MMIO_QUEUE_DESC_LOW 0x080u       /**< W */
#define SVD_MMIO_QUEUE_DESC_HIGH 0x084u      /**< W */
#define SVD_MMIO_QUEUE_DRIVER_LOW 0x090u     /**< W */
#define SVD_MMIO_QUEUE_DRIVER_HIGH 0x094u    /**< W */
#define SVD_MMIO_QUEUE_DEVICE_LOW 0x0a0u     /**< W */
#define SVD_MMIO_QUEUE_DEVICE_HIGH 0x0a4u    /**< W */
#define SVD_MMIO_SHM_SEL 0x0acu              /**< W (ignored: no shared memory) */
#define SVD_MMIO_SHM_LEN_LOW 0x0b0u          /**< R (0xffffffff) */
#define SVD_MMIO_SHM_LEN_HIGH 0x0b4u         /**< R (0xffffffff) */
#define SVD_MMIO_SHM_BASE_LOW 0x0b8u         /**< R (0xffffffff) */
#define SVD_MMIO_SHM_BASE_HIGH 0x0bcu        /**< R (0xffffffff) */
#define SVD_MMIO_QUEUE_RESET 0x0c0u          /**< RW (reads 0, writes ignored: RING_RESET not offered) */
#define SVD_MMIO_CONFIG_GENERATION 0x0fcu    /**< R */
/** @} */

/** @brief What an access asks the shim to do. Zeroed by every call that takes it. */
typedef struct svd_mmio_action {
    bool notify;      /**< Process queue @c queue (device model work); @c vq is that queue. */
    uint32_t queue;   /**< Queue index to process, valid when @c notify. */
    svd_vq *vq;       /**< The queue to process, valid when @c notify (from svd_dev_notify()). */
    bool irq_change;  /**< The interrupt line level changed: drive it to @c irq_level. */
    bool irq_level;   /**< Current interrupt line level (always valid). */
    bool reset;       /**< The device was reset: drop device-model state. */
    bool failed;      /**< The device latched DEVICE_NEEDS_RESET during this access. */
} svd_mmio_action;

/** @brief virtio-mmio transport state. Caller-allocated; initialise with svd_mmio_init(). */
typedef struct svd_mmio {
    svd_dev *dev;              /**< The device engine (owned by the caller). */
    uint32_t vendor_id;        /**< Value of the VendorID register. */
    uint32_t dev_features_sel; /**< DeviceFeaturesSel. */
    uint32_t drv_features_sel; /**< DriverFeaturesSel. */
    uint32_t queue_sel;        /**< QueueSel (any value; unknown queues read as absent). */
    bool irq_level;            /**< Interrupt line level last reported to the shim. */
} svd_mmio;

/**
 * @brief Initialise @p m as the transport of the initialised device @p dev.
 *
 * @p dev is kept by pointer and MUST outlive @p m. The interrupt line starts
 * deasserted; selectors start at 0.
 * @param m the transport context to initialise
 * @param dev the device engine behind the registers
 * @param vendor_id value of the VendorID register (any; QEMU uses 0x554d4551)
 * @return ::SVD_ERR_INVALID_ARG if @p m or @p dev is NULL or the device's
 *         configuration space is larger than ::SVD_MMIO_CONFIG_MAX; @p m is
 *         then unusable.
 */
SVD_MUST_USE svd_result svd_mmio_init(svd_mmio *m, svd_dev *dev, uint32_t vendor_id);

/**
 * @brief The guest reads @p width bytes at offset @p off of the window.
 *
 * *@p val SHALL always be written: the register value, or 0 (or the SHM
 * sentinel) for an access that is not allowed. Reads have no side effect.
 * @param m the transport
 * @param off offset of the access from the window base
 * @param width access width in bytes
 * @param val receives the value read
 * @param act receives what the shim must do (a read never asks anything but
 *            may report @c irq_level)
 * @return ::SVD_OK for an allowed access; ::SVD_ERR_INVALID_ARG for a NULL
 *         argument (nothing written then) or a width/alignment not allowed;
 *         ::SVD_ERR_BOUNDS for an offset with no readable register. The result
 *         is informational: the access is complete either way and the shim
 *         MUST NOT fail the guest because of it.
 */
SVD_MUST_USE svd_result svd_mmio_read(svd_mmio *m, uint64_t off, uint32_t width, uint32_t *val,
                                      svd_mmio_action *act);

/**
 * @brief The guest writes @p val (@p width bytes) at offset @p off of the window.
 *
 * @param m the transport
 * @param off offset of the access from the window base
 * @param width access width in bytes
 * @param val the value written (low @p width bytes)
 * @param act receives what the shim must do; the shim SHALL act on every field
 *            set, also when the result is a failure (a latched protocol error
 *            may come with an interrupt change)
 * @return ::SVD_OK when the write was applied; ::SVD_ERR_INVALID_ARG (NULL
 *         argument, width/alignment not allowed) and ::SVD_ERR_BOUNDS (no
 *         writable register there, value out of the register's range): the
 *         write was ignored; otherwise the device engine's result
 *         (::SVD_ERR_STATE: refused and ignored; ::SVD_ERR_PROTOCOL: latched,
 *         @c act->failed set). Informational, as for svd_mmio_read().
 */
SVD_MUST_USE svd_result svd_mmio_write(svd_mmio *m, uint64_t off, uint32_t width, uint32_t val,
                                       svd_mmio_action *act);

/**
 * @brief Re-derive the interrupt line level from the device's interrupt status
 *        and report a change in @p act (zeroed first).
 *
 * The shim SHALL call it after work that may set interrupt status outside a
 * register access (svd_dev_queue_processed(), svd_dev_fail()).
 */
void svd_mmio_sync_irq(svd_mmio *m, svd_mmio_action *act);

/**
 * @brief Host-initiated reset (e.g. guest reboot): the device engine is reset,
 *        selectors return to 0, the line is deasserted; @p act reports
 *        @c reset and any line change.
 */
void svd_mmio_reset(svd_mmio *m, svd_mmio_action *act);

#endif /* SAFEVDEV_MMIO_H */
