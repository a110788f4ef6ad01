/**
 * @file pci.h
 * @brief virtio-pci modern transport engine (virtio 1.2 §4.1): PCI
 *        configuration space (type 0 header + virtio capabilities) and BAR0.
 *
 * Turns the guest's accesses to the 256-byte PCI configuration space and to
 * the memory BAR into calls on a ::svd_dev device engine. It is one of the
 * transports of the composed engine (vdev.h, ::SVD_XPORT_PCI); effects come
 * back in an ::svd_fx (INTx level, BAR layout change, reset, NEEDS_RESET).
 *
 * Configuration space (all little-endian):
 * - vendor 0x1af4, device 0x1040 + virtio device ID, revision 1, class code,
 *   subsystem vendor/ID from ::svd_pci_params, header type 0, interrupt pin
 *   INTA (1), capability pointer ::SVD_PCI_CAP_COMMON;
 * - command: only MEMORY (bit 1), BUS_MASTER (bit 2) and INTX_DISABLE (bit 10)
 *   are writable, every other bit reads 0 (there is no I/O BAR);
 * - status: CAP_LIST (bit 4) and INTERRUPT (bit 3: interrupt status != 0) are
 *   read-only, nothing else is ever set;
 * - BAR0: memory, 32-bit or 64-bit (BAR0+BAR1), ::SVD_PCI_BAR_SIZE bytes, sized
 *   the standard way (writing all ones reads back the size mask and flags);
 *   BAR1 (when 32-bit) .. BAR5 and the expansion ROM read 0, writes ignored;
 * - interrupt line (0x3c): read/write byte for firmware, no meaning to the device;
 * - virtio capabilities, chained in this order: common (cfg_type 1), notify
 *   (2, notify_off_multiplier ::SVD_PCI_NOTIFY_MULT), ISR (3), device (4,
 *   present even when the device has no configuration), PCI configuration
 *   access (5, required by §4.1.4.9: cap.bar, cap.offset, cap.length and
 *   pci_cfg_data are writable and an access to pci_cfg_data performs the BAR
 *   access cap.length wide at cap.offset; a BAR other than 0, a length other
 *   than 1, 2 or 4 or an offset not aligned to it reads 0 / is ignored).
 * - MSI-X (only when ::svd_pci_params.msix; PCI 3.0 §6.8.2, virtio 1.2
 *   §4.1.4.2, §4.1.5.1.2): capability ::SVD_PCI_CAP_MSIX chained after the
 *   PCI configuration access capability, table size ::SVD_PCI_MSIX_VECTORS,
 *   table at ::SVD_PCI_MSIX_TABLE_OFF and PBA at ::SVD_PCI_MSIX_PBA_OFF in
 *   BAR0; of the message control word only Enable (bit 15) and Function Mask
 *   (bit 14) are writable. Without it there is no MSI-X capability and
 *   config_msix_vector / queue_msix_vector always read VIRTIO_MSI_NO_VECTOR.
 * Everything else is read-only.
 *
 * MSI-X (when offered):
 * - table entries are read and written as aligned dwords or aligned qwords
 *   (any other width or alignment: the defined answer); message address bits
 *   1:0 read 0; of vector control only the mask bit (bit 0) is writable; after
 *   a host reset every entry is masked with address and data 0;
 * - the PBA is read-only: bit v is set when vector v had a message to send
 *   while it or the function was masked, and cleared when the message is sent
 *   on unmasking;
 * - config_msix_vector and each queue's queue_msix_vector accept a vector
 *   number below ::SVD_PCI_MSIX_VECTORS; any other value (the mapping fails)
 *   stores and reads back ::SVD_PCI_NO_VECTOR; a queue_select naming no
 *   queue reads NO_VECTOR and ignores the write; a device reset (and a host
 *   reset) returns every vector to NO_VECTOR;
 * - while Enable is set the function does not use INTx; a notification for
 *   an event whose vector is NO_VECTOR is not sent; a message for a vector
 *   whose entry or the function is masked becomes pending instead; messages
 *   come back in ::svd_fx (msi, n_msi), at most one per vector per call.
 *
 * BAR0 layout (offsets within the BAR):
 * - ::SVD_PCI_COMMON_OFF: common configuration (0x38 bytes, virtio 1.1 layout;
 *   queue_notify_data/queue_reset are not offered), each field accessed with its
 *   natural width (64-bit fields also as two 32-bit halves or one 64-bit access);
 * - ::SVD_PCI_ISR_OFF: ISR status, one byte, read clears (§4.1.4.5);
 * - ::SVD_PCI_DEVICE_OFF: device configuration, 1/2/4-byte reads aligned to the
 *   width (writes ignored: the device configuration is read-only);
 * - ::SVD_PCI_NOTIFY_OFF: queue q is notified by a 2- or 4-byte write at
 *   ::SVD_PCI_NOTIFY_OFF + q * ::SVD_PCI_NOTIFY_MULT (queue_notify_off = q);
 *   the queue is taken from the address, the value written is ignored.
 *
 * The "defined answer": any access not allowed above (offset, width,
 * alignment, direction, a value the field cannot hold) reads 0 and is ignored
 * when written, with no other effect (no latch, no state change). BAR accesses
 * while MEMORY is clear in the command register are refused the same way.
 * Guest protocol errors detected by the device engine latch NEEDS_RESET there.
 *
 * Queue size: queue_size reads the queue's current size, which the device
 * engine presets to the maximum on every reset (§4.1.4.3: "on reset,
 * queue_size holds the maximum"), so a driver that never writes it gets the
 * maximum. A queue_select naming no queue reads queue_size 0.
 *
 * Interrupt: INTx level = (interrupt status != 0) && !INTX_DISABLE && MSI-X
 * Enable clear.
 *
 * Thread-safety: one thread per instance (the same thread as its device engine).
 */
#ifndef SAFEVDEV_PCI_H
#define SAFEVDEV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/device.h"
#include "safevdev/result.h"
#include "safevdev/virtqueue.h"

/** @brief Size of the PCI configuration space implemented. */
#define SVD_PCI_CFG_SIZE 256u
/** @brief PCI vendor ID of virtio devices (and default subsystem vendor). */
#define SVD_PCI_VENDOR_VIRTIO 0x1af4u
/** @brief PCI device ID of a modern virtio device is this plus the virtio device ID. */
#define SVD_PCI_DEVICE_ID_BASE 0x1040u
/** @brief Largest virtio device ID that maps into 0x1040..0x107f. */
#define SVD_PCI_MAX_VIRTIO_ID 0x3fu
/** @brief Revision ID of a modern-only device. */
#define SVD_PCI_REVISION 1u
/** @brief Class code QEMU's virtio-rng-pci reports (class 0x00, subclass 0xff). */
#define SVD_PCI_CLASS_RNG 0x00ff00u

/** @name Configuration space offsets and bits
 *  @{ */
#define SVD_PCI_CFG_COMMAND 0x04u   /**< Command register (16 bits). */
#define SVD_PCI_CFG_STATUS 0x06u    /**< Status register (16 bits). */
#define SVD_PCI_CFG_BAR0 0x10u      /**< BAR0. */
#define SVD_PCI_CFG_BAR1 0x14u      /**< BAR1 (high half of a 64-bit BAR0). */
#define SVD_PCI_CFG_INT_LINE 0x3cu  /**< Interrupt line (byte 0) and pin (byte 1). */
#define SVD_PCI_CMD_MEMORY 0x0002u        /**< Memory space decode enable. */
#define SVD_PCI_CMD_BUS_MASTER 0x0004u    /**< Bus master enable (stored, not enforced). */
#define SVD_PCI_CMD_INTX_DISABLE 0x0400u  /**< INTx assertion disabled. */
#define SVD_PCI_STATUS_INTERRUPT 0x0008u  /**< INTx pending (interrupt status != 0). */
#define SVD_PCI_STATUS_CAP_LIST 0x0010u   /**< Capability list present. */
#define SVD_PCI_CAP_COMMON 0x40u  /**< Common configuration capability (16 bytes). */
#define SVD_PCI_CAP_NOTIFY 0x50u  /**< Notify capability (20 bytes). */
#define SVD_PCI_CAP_ISR 0x64u     /**< ISR capability (16 bytes). */
#define SVD_PCI_CAP_DEVICE 0x74u  /**< Device configuration capability (16 bytes). */
#define SVD_PCI_CAP_PCICFG 0x84u  /**< PCI configuration access capability (20 bytes; last without MSI-X). */
#define SVD_PCI_CAP_MSIX 0x98u    /**< MSI-X capability (12 bytes, last), when offered. */
#define SVD_PCI_MSIX_ENABLE 0x8000u  /**< MSI-X message control: MSI-X Enable. */
#define SVD_PCI_MSIX_FMASK 0x4000u   /**< MSI-X message control: Function Mask. */
/** @} */

/** @name BAR0 layout
 *  @{ */
#define SVD_PCI_BAR_SIZE 0x4000u    /**< Size of BAR0 (power of two). */
#define SVD_PCI_COMMON_OFF 0x0000u  /**< Common configuration. */
#define SVD_PCI_COMMON_LEN 0x38u    /**< Length of the common configuration structure. */
#define SVD_PCI_ISR_OFF 0x1000u     /**< ISR status byte. */
#define SVD_PCI_DEVICE_OFF 0x2000u  /**< Device configuration. */
#define SVD_PCI_DEVICE_LEN 0x1000u  /**< Length advertised for the device configuration window. */
#define SVD_PCI_NOTIFY_OFF 0x3000u  /**< Notification area. */
#define SVD_PCI_NOTIFY_MULT 4u      /**< notify_off_multiplier. */
#define SVD_PCI_NO_VECTOR 0xffffu   /**< VIRTIO_MSI_NO_VECTOR. */
#define SVD_PCI_MSIX_TABLE_OFF 0x0800u /**< MSI-X table (16 bytes per vector). */
#define SVD_PCI_MSIX_PBA_OFF 0x0c00u   /**< MSI-X pending bit array (one qword). */
#define SVD_PCI_MSIX_VECTORS (1u + SVD_DEV_MAX_QUEUES) /**< MSI-X table size: one vector per queue and one for configuration changes. */
/** @} */

/** @brief Static PCI identity of the function, given to svd_pci_init(). */
typedef struct svd_pci_params {
    uint32_t class_code;       /**< 24-bit class code (class << 16 | subclass << 8 | prog-if). */
    uint16_t subsystem_vendor; /**< Subsystem vendor ID (QEMU: ::SVD_PCI_VENDOR_VIRTIO). */
    uint16_t subsystem_id;     /**< Subsystem ID (QEMU: the virtio device ID). */
    bool bar64;                /**< BAR0 is a 64-bit BAR (uses BAR1 for the high half). */
    bool prefetchable;         /**< BAR0 is marked prefetchable. */
    bool msix;                 /**< Offer the MSI-X capability (the host can send svd_fx.msi messages). */
} svd_pci_params;

/**
 * @brief virtio-pci transport state. Caller-allocated (inside ::svd_vdev).
 *
 * Opaque: the members are private to the core and SHALL NOT be accessed by
 * any other module.
 */
typedef struct svd_pci {
    svd_dev *dev;              /**< The device engine (owned by the caller). */
    svd_pci_params params;     /**< PCI identity. */
    uint16_t command;          /**< Command register (writable bits only). */
    uint64_t bar0;             /**< BAR0 address bits programmed (size-aligned). */
    uint8_t int_line;          /**< Interrupt line register. */
    uint32_t dev_features_sel; /**< device_feature_select. */
    uint32_t drv_features_sel; /**< driver_feature_select. */
    uint16_t queue_sel;        /**< queue_select (any value; unknown queues read as absent). */
    uint8_t cfg_bar;           /**< PCI configuration access capability: cap.bar. */
    uint32_t cfg_offset;       /**< cap.offset. */
    uint32_t cfg_length;       /**< cap.length. */
    uint32_t cfg_data;         /**< pci_cfg_data as last written. */
    bool irq_level;            /**< INTx level last reported to the shim. */
    uint16_t msix_ctrl;        /**< MSI-X message control, writable bits (Enable, Function Mask). */
    uint16_t config_vector;    /**< config_msix_vector. */
    uint16_t queue_vector[SVD_DEV_MAX_QUEUES]; /**< queue_msix_vector per queue. */
    uint32_t msix_table[SVD_PCI_MSIX_VECTORS][4]; /**< Address low, address high, data, vector control. */
    uint32_t msix_pending;     /**< Pending bits, bit v for vector v. */
} svd_pci;

#endif /* SAFEVDEV_PCI_H */
