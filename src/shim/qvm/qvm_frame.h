/**
 * @file qvm_frame.h
 * @brief The one qvm adapter frame: every safevdev vdev .so is this frame
 *        plus one device table (internal to each .so).
 *
 * The frame owns everything a qvm vdev does that is not the device itself:
 * - the factory (the library's only writable static object), filled from the
 *   device table and registered from the library's constructor;
 * - the four callbacks qvm calls (control, vread, vwrite, timer): the magic
 *   check of the instance block, the instance lock (v_mtx), defined return
 *   codes whatever the device reports;
 * - the option protocol: OPTIONS_START (the block set up, qvm's location
 *   defaults), each option routed by index to the device, the first refused
 *   option kept and reported by name at OPTIONS_END, options and a second
 *   OPTIONS_END after a successful one refused (EBUSY);
 * - the instance clock (one guest timer per instance, kept across a repeated
 *   OPTIONS_START because qvm has no call to destroy one);
 * - moving the access value to and from the vCPU, and mapping the state
 *   block's type to the engine's address space (QST_MEMORY: SVD_SPACE_MEM at
 *   the guest-physical address; QST_PCI: SVD_SPACE_PCI_CFG at the
 *   configuration offset; QST_X86_IO: SVD_SPACE_IO at the port number;
 *   anything else is refused: reads 0, writes dropped);
 * - applying every effect (::svd_fx) of every engine call:
 *   - the interrupt line (v_intr) driven to @c irq_level with
 *     guest_intr_signal() whenever it differs from the level last driven
 *     (so a signal qvm refused is retried after the next call);
 *   - @c failed: one log line naming the rule (svd_why_name()); the engine
 *     reports a latch once, in the call that latched;
 *   - @c fired: the watchdog action carried out through qvm's watchdog
 *     service (wdog_bite()); after a reset action the device's reset hook is
 *     called (a guest reset resets the device) and its effects applied too;
 *   - @c deadline: the instance timer armed for it (::SVD_NO_DEADLINE: not
 *     armed); a timer that cannot be armed is logged once;
 *   - @c queue_notify, @c config_notify: nothing to do, the emulated
 *     transports fold them into the interrupt status and the line;
 *   - @c bars_changed: nothing to do, the engines decode BAR0 themselves at
 *     whatever address the guest programs (see docs/qvm-compat.md,
 *     "verify with the SDK");
 *   - refused accesses (the engine answered with its defined answer) are
 *     counted for VDEV_CTRL_STATUS;
 * - GEN_FDT, PCI_BARS, STATUS and TERMINATE, each routed to the device's
 *   hook or answered with the defined "nothing to do" code.
 *
 * A device supplies ::svd_qvm_device (one per .so, defined in the device's
 * file) and nothing else: its options, their parser, the engine build at
 * OPTIONS_END, the access/tick/reset calls into its engine, and optionally
 * GEN_FDT, BAR0, GUEST_CONFIGURED and TERMINATE hooks.
 *
 * The instance block (qvm's extra_space, reached through v_device) holds the
 * frame's part (private to the frame) followed by the device's part, a
 * structure of @c inst_size bytes the frame zeroes at OPTIONS_START and
 * aligns for any object; every hook receives the device's part as @c inst
 * and nothing of the frame's.
 *
 * Thread-safety: the frame holds v_mtx around every hook call but @c start
 * (OPTIONS_START, before the instance exists); a hook never locks.
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
    const char *name;            /**< Factory name (`vdev <name>`) and log prefix. */
    const char *const *options;  /**< NULL-terminated option names; option n arrives as FIRST_OPTIDX + n. */
    unsigned factory_flags;      /**< VFF_VDEV_* / VFF_INTR_NONPCI bits (the frame adds its VFF_MUTEX bits). */
    unsigned inst_size;          /**< Size of the device's part of the instance block. */
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
    /** Device reset, as a guest reset does it: after a watchdog's reset action. Required when the
        engine can fire (a watchdog); NULL for a device that never does (nothing to reset then). */
    void (*reset)(void *inst, uint64_t now, svd_fx *fx);
    /** Optional: add the device's node(s) under FDT node @p parent; EOK or an errno value. */
    int (*gen_fdt)(const vdev_t *vdp, void *inst, int parent);
    /** Optional: describe BAR0 into @p bar0 (size, flags); false when the device has no BAR. */
    bool (*pci_bar0)(const void *inst, struct vpci_bar *bar0);
    /** The device's part of the status line, NUL-terminated into @p buf; @p actions is the
        number of watchdog expiries the frame acted on (0 for a device that never fires). */
    void (*status)(const void *inst, uint64_t actions, char *buf, size_t len);
    /** Optional: release host resources (TERMINATE, or a repeated OPTIONS_START). */
    void (*terminate)(void *inst);
} svd_qvm_dev;

/** @brief The device of this .so: defined once, in the device's own file. */
SVD_QVM_HIDDEN extern const svd_qvm_dev svd_qvm_device;

/** @brief Longest device part of a status line. */
#define SVD_QVM_STATUS_MAX 256u

#endif /* SVD_QVM_FRAME_H */
