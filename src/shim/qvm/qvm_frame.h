/**
 * @file qvm_frame.h
 * @brief The one qvm adapter frame: every safevdev vdev .so is this frame
 *        plus one device table (internal to each .so).
 *
 * The frame owns everything a qvm vdev does that is not the device itself:
 * - the factory (the library's only writable static object), filled from the
 *   device table and registered from the library's constructor; its `name`
 *   is NULL, as the vdev_factory page advises: qvm names the factory after
 *   the shared object (vdev-svd-DEVICE.so, see docs/userguide.md);
 * - the four callbacks qvm calls (control, vread, vwrite, timer): the magic
 *   check of the instance block, the instance lock (v_mtx), defined return
 *   codes whatever the device reports;
 * - the documented lifecycle: OPTIONS_START (the block set up, the device's
 *   location defaults preset in v_block as QNX's own vdevs do), each option
 *   routed by index to the device, the first refused option kept and logged
 *   by name at OPTIONS_END, options and a second OPTIONS_END after a
 *   successful one refused (EBUSY); ASSIGN (a memory device's window length
 *   filled in when qvm left it 0; loc and intr themselves are preset or
 *   qvm's); GUEST_CONFIGURED and GUEST_STARTING (from here on multi-threaded:
 *   every gasp_* call holds gasp_lock()); GEN_FDT, GEN_ACPI, PCI_BARS,
 *   STATUS, BUTTON, TERMINATE;
 * - the instance clock (one guest timer per instance, kept across a repeated
 *   OPTIONS_START because qvm has no call to destroy one);
 * - moving the access value to and from the vCPU (a refused transfer answered
 *   with guest_cpu_to_vrs()), and mapping the state block's type to the
 *   engine's address space (QST_MEMORY: SVD_SPACE_MEM at the guest-physical
 *   address; QST_PCI: SVD_SPACE_PCI_CFG at the configuration offset;
 *   anything else is refused: reads 0, writes dropped);
 * - PCI_BARS: the device's BAR0 described in the caller's ::vpci_bar array
 *   the way the vpci_bar page documents it: a trapping region (GRF_VIRT_RD |
 *   GRF_VIRT_WR, this instance, cookie 0) of constant length, the BAR's type
 *   bits in vb_value, vb_breg the BAR's config offset so that qvm writes the
 *   address it assigns back to the device (the engine decodes BAR0 there);
 * - applying every effect (::svd_fx) of every engine call:
 *   - the interrupt line (v_intr, when the instance has one) driven to
 *     @c irq_level with guest_intr_signal() whenever it differs from the
 *     level last driven (so a signal qvm refused is retried after the next call);
 *   - @c msi: each MSI-X message sent, in order, with guest_msi_signal()
 *     (a refused one is logged once and counted for VDEV_CTRL_STATUS);
 *   - @c failed: one error line (vdev_logf) naming the rule (svd_why_name());
 *   - @c fired: the device's `action` (::svd_qvm_action) carried out through
 *     qvm's watchdog service (wdog_bite(): WDOG_ACTION_TERMINATE or
 *     WDOG_ACTION_INTR, with WDOG_FLAG_DUMP for `dump,`), or only logged for
 *     our `none`;
 *   - @c deadline: the instance timer armed for it (::SVD_NO_DEADLINE: not
 *     armed); a timer that cannot be armed is logged once, and a watchdog
 *     whose expiry can no longer be timed carries out its action at once;
 *   - @c queue_notify, @c config_notify, @c bars_changed: nothing to do;
 *   - refused accesses (the engine answered with its defined answer) are
 *     counted for VDEV_CTRL_STATUS.
 *
 * A device supplies ::svd_qvm_device (one per .so, defined in the device's
 * file) and nothing else: its options, their parser, the engine build at
 * OPTIONS_END, the access/tick calls into its engine, and optionally
 * GEN_FDT, GEN_ACPI, BAR0, GUEST_CONFIGURED and TERMINATE hooks.
 *
 * The instance block (qvm's extra_space, reached through v_device, of
 * unspecified content) holds the frame's part (private to the frame)
 * followed by the device's part, a structure of @c inst_size bytes the frame
 * zeroes at OPTIONS_START and aligns for any object; every hook receives the
 * device's part as @c inst and nothing of the frame's.
 *
 * Thread-safety: the frame holds v_mtx around every hook call but @c start
 * (OPTIONS_START, before the instance exists); a hook never locks v_mtx.
 */
#ifndef SVD_QVM_FRAME_H
#define SVD_QVM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qvm_common.h"
#include "safevdev/fx.h"
#include "safevdev/result.h"

/** @brief One device as the frame drives it. Hooks marked optional MAY be NULL. */
typedef struct svd_qvm_dev {
    const char *name;            /**< Log prefix (the factory is named by qvm after the .so). */
    const char *const *options;  /**< NULL-terminated option names; option n arrives as FIRST_OPTIDX + n. */
    unsigned factory_flags;      /**< VFF_VDEV_* / VFF_INTR_NONPCI bits (the frame adds its VFF_MUTEX bits). */
    unsigned inst_size;          /**< Size of the device's part of the instance block. */
    uint16_t loc_type;           /**< v_block.type preset at OPTIONS_START: QST_MEMORY or QST_PCI. */
    uint64_t loc_default;        /**< v_block.location preset at OPTIONS_START; 0: none (QSL_NO_LOCATION). */
    uint32_t loc_length;         /**< A memory device's register window in bytes (v_block.length); 0 for PCI. */
    /** Optional: defaults into the device's part after the frame zeroed it (OPTIONS_START). */
    void (*start)(void *inst);
    /** Option @p idx (< number of options) with its value (MAY be NULL); a refusal goes into @p bad. */
    void (*option)(void *inst, unsigned idx, const char *value, svd_qvm_badopt *bad);
    /**
     * OPTIONS_END: cross-option checks (into @p bad) and the engine build at @p now
     * (the instance clock exists). Returns EOK or an errno value; a device
     * failure other than an option logs its own line.
     */
    int (*options_end)(vdev_t *vdp, void *inst, svd_qvm_badopt *bad, uint64_t now);
    /** Optional: VDEV_CTRL_GUEST_CONFIGURED. */
    void (*configured)(const vdev_t *vdp, void *inst);
    /** One guest access, decoded by the engine; the result is informational. */
    svd_result (*access)(const vdev_t *vdp, void *inst, svd_space sp, uint64_t addr, uint32_t width, bool write,
                         uint64_t *val, uint64_t now, svd_fx *fx);
    /** The time the last deadline asked for. */
    void (*tick)(void *inst, uint64_t now, svd_fx *fx);
    /** The `action` option (what a fired final stage does). Required when the engine can fire
        (a watchdog); NULL for a device that never does. */
    svd_qvm_action (*action)(const void *inst);
    /** Optional: add the device's node(s) under FDT node @p parent; EOK or an errno value. */
    int (*gen_fdt)(const vdev_t *vdp, void *inst, int parent);
    /** Optional: add the device's ACPI description (acpi_add_table()); EOK or an errno value. */
    int (*gen_acpi)(vdev_t *vdp, void *inst);
    /** Optional: BAR0's size (a power of two) and whether it is a 64-bit memory BAR; false when
        the device has no BAR (the frame describes it to qvm as a ::vpci_bar). */
    bool (*pci_bar0)(const void *inst, uint64_t *size, bool *mem64);
    /** The device's part of the status line, NUL-terminated into @p buf; @p actions is the
        number of watchdog expiries the frame acted on (0 for a device that never fires). */
    void (*status)(const void *inst, uint64_t actions, char *buf, size_t len);
    /** Optional: release host resources (TERMINATE, or a repeated OPTIONS_START). */
    void (*terminate)(const vdev_t *vdp, void *inst);
} svd_qvm_dev;

/** @brief The device of this .so: defined once, in the device's own file. */
SVD_QVM_HIDDEN extern const svd_qvm_dev svd_qvm_device;

/** @brief Longest device part of a status line. */
#define SVD_QVM_STATUS_MAX 256u

#endif /* SVD_QVM_FRAME_H */
