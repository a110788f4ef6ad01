/**
 * @file mmio.h
 * @brief virtio-mmio transport engine (virtio 1.2 §4.2.2, register layout version 2).
 *
 * Turns the guest's accesses to a virtio-mmio register window into calls on a
 * ::svd_dev device engine. It is one of the transports of the composed engine
 * (vdev.h, ::SVD_XPORT_MMIO), which is what a shim drives; effects come back
 * in an ::svd_fx (interrupt line level, reset, NEEDS_RESET latched).
 *
 * Window layout (offsets from the window base, ::SVD_MMIO_WINDOW_SIZE bytes):
 * registers 0x000..0x0ff, device configuration space 0x100..0x1ff.
 *
 * Access rules (the "defined answer"): registers are accessed with width 4 at a
 * 4-byte aligned offset; the configuration space with width 1, 2 or 4, aligned
 * to the width. Every other access — unknown offset, wrong width, misaligned,
 * a read of a write-only register, a write to a read-only register, a write of
 * a value the register cannot hold — reads 0, is ignored when written, and has
 * no other effect whatsoever (no latch, no state change, no effect). Two
 * exceptions the spec defines: SHMLenLow/High and SHMBaseLow/High read
 * 0xffffffff (no shared memory region exists, §4.2.2).
 *
 * Guest protocol errors detected by the device engine (status written out of
 * order, bad queue size, rings outside guest memory, ...) latch
 * DEVICE_NEEDS_RESET inside the device engine; the effect reports it.
 *
 * Not supported, on purpose: the legacy layout (Version 1: GuestPageSize,
 * QueueAlign, QueuePFN), shared memory regions, VIRTIO_F_RING_RESET
 * (QueueReset reads 0, writes ignored), VIRTIO_F_NOTIFICATION_DATA (the value
 * written to QueueNotify is the queue index).
 *
 * Interrupt: one level-triggered line whose level is (interrupt status != 0).
 * The engine remembers the level it last reported and reports a change in
 * the effect of the call that changed it (a QueueNotify write runs the
 * device model inside the call, so its completions are covered too).
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

/**
 * @brief virtio-mmio transport state. Caller-allocated (inside ::svd_vdev).
 *
 * Opaque: the members are private to the core and SHALL NOT be accessed by
 * any other module.
 */
typedef struct svd_mmio {
    svd_dev *dev;              /**< The device engine (owned by the caller). */
    uint32_t vendor_id;        /**< Value of the VendorID register. */
    uint32_t dev_features_sel; /**< DeviceFeaturesSel. */
    uint32_t drv_features_sel; /**< DriverFeaturesSel. */
    uint32_t queue_sel;        /**< QueueSel (any value; unknown queues read as absent). */
    bool irq_level;            /**< Interrupt line level last reported to the shim. */
} svd_mmio;

#endif /* SAFEVDEV_MMIO_H */
