/**
 * @file fx.h
 * @brief The one effect type every engine fills: what the caller (a shim)
 *        MUST do after a call.
 *
 * Every device engine of safevdev, virtio (svd_vdev) or emulated (the
 * watchdogs), has the same face: access / kick / tick / reset, each taking
 * the current time and filling an ::svd_fx. The engine never acts by itself;
 * the shim applies the effects and nothing else:
 * - drive the device's interrupt line to @c irq_level when @c irq_changed
 *   (it MAY drive it after every call);
 * - send a used-buffer notification for every queue in @c queue_notify and a
 *   configuration-change notification when @c config_notify (edge-style
 *   hosts without an emulated transport, e.g. a vhost-user call fd; for
 *   virtio-mmio/pci the transport folds these into its interrupt status and
 *   the line, and they are reported for information only);
 * - when @c fired, carry out @c action once (a watchdog's final stage);
 * - when @c bars_changed, re-read the device's BAR layout/decoding;
 * - call the engine's tick at or after @c deadline (::SVD_NO_DEADLINE: no
 *   call is needed until the next access or kick); a deadline at or before
 *   the current time asks to be called again at once;
 * - when @c failed, log @c why: the device latched DEVICE_NEEDS_RESET in
 *   this call (virtio 1.2 §2.1.2) and stays so until a reset.
 *
 * Thread-safety: a plain value; owned by the caller of one engine call.
 */
#ifndef SAFEVDEV_FX_H
#define SAFEVDEV_FX_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/result.h"

/** @brief "No deadline": nothing happens until the guest or the host calls the engine again. */
#define SVD_NO_DEADLINE UINT64_MAX

/** @brief Address space of a guest access (the first argument of every device's access call). */
typedef enum svd_space {
    SVD_SPACE_MEM = 0,   /**< Guest-physical memory address (MMIO window, PCI memory BAR). */
    SVD_SPACE_PCI_CFG,   /**< Offset in the device's PCI configuration space. */
    SVD_SPACE_IO         /**< x86 I/O port number. */
} svd_space;

/** @brief What the caller does when a watchdog's final stage expires (QNX wdt vdev `action`). */
typedef enum svd_wdt_action {
    SVD_WDT_ACTION_RESET = 0,  /**< Reset the guest (the default, as on hardware). */
    SVD_WDT_ACTION_TERMINATE,  /**< Terminate the guest (qvm exits). */
    SVD_WDT_ACTION_DUMP,       /**< Dump the guest, then terminate it. */
    SVD_WDT_ACTION_NONE,       /**< Log only; the guest keeps running. */
    SVD_WDT_ACTION__COUNT      /**< Number of actions; not an action itself. */
} svd_wdt_action;

/** @brief Most MSI-X messages one call can ask for (at least the number of vectors). */
#define SVD_FX_MAX_MSI 4u

/** @brief One message-signalled interrupt: write @c data (32 bits) to @c addr. */
typedef struct svd_msi {
    uint64_t addr; /**< Message address (guest-physical, dword aligned). */
    uint32_t data; /**< Message data. */
} svd_msi;

/** @brief Effects of one engine call. The engine clears it ("nothing to do": every flag clear, line low, no
 *  deadline) at the start of each call, so the caller need not initialise it. */
typedef struct svd_fx {
    bool irq_level;         /**< Level of the device's interrupt line after the call (always valid). */
    bool irq_changed;       /**< @c irq_level differs from the level before the call. */
    uint32_t queue_notify;  /**< Used-buffer notifications due, bit q for queue q. */
    bool config_notify;     /**< A configuration-change notification is due. */
    bool reset;             /**< The device was reset during the call (by the guest or the host). */
    bool failed;            /**< The device latched DEVICE_NEEDS_RESET during the call. */
    svd_why why;            /**< Why it latched, when @c failed. */
    bool fired;             /**< A watchdog's final stage expired during the call. */
    svd_wdt_action action;  /**< The action to carry out, when @c fired. */
    uint32_t fires;         /**< Final-stage expiries folded into the call (saturating; the action is carried out once). */
    bool bars_changed;      /**< A PCI BAR address or the memory-decode bit changed. */
    uint64_t deadline;      /**< Call tick at or after this time; ::SVD_NO_DEADLINE if not needed. */
    uint32_t n_msi;         /**< MSI-X messages to send after the call, in @c msi[0 .. n_msi-1], in order. */
    svd_msi msi[SVD_FX_MAX_MSI]; /**< The messages (virtio-pci with MSI-X enabled). */
} svd_fx;

#endif /* SAFEVDEV_FX_H */
