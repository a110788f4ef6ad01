/**
 * @file qvm_common.h
 * @brief Helpers of the safevdev qvm adapters (internal to each .so).
 *
 * Helpers the adapter frame (qvm_frame.c) and the device tables of the qvm
 * adapters (virtio-entropy, wdt-sp805, wdt-i6300esb) share. Every function
 * is hidden inside the .so that links it; none keeps state outside the
 * caller's instance block. Option numbers are parsed by the core's one
 * grammar (safevdev/parse.h); what is here is qvm-specific:
 *
 * - the "bad option" record the frame keeps until OPTIONS_END so that the
 *   failure names the option; the watchdogs' `action` option and their part
 *   of the status line;
 * - guest memory: map guest-physical windows (the entropy adapter's `dma`
 *   options) with gasp_map_vdma() into an svd_gmem, and unmap them all again;
 * - the instance clock: a qvm guest timer read as nanoseconds, and arming it
 *   for a deadline in nanoseconds;
 * - the interrupt line: drive v_intr to a level, only on change;
 * - moving an access value to and from the vCPU;
 * - the MSI-X messages of an effect, sent with guest_msi_signal();
 * - writing a core-built FDT node through qvm's gfdt_* calls.
 *
 * - error lines through vdev_logf() (so the instance's `log` option filters
 *   them); qvm_report() is kept for VDEV_CTRL_STATUS output, as documented.
 *
 * Thread-safety: none of these functions takes v_mtx; each works only on the
 * structures passed to it. The frame calls them with the instance's v_mtx
 * held (qvm initialises v_mtx for the vdev's own use, ::VFF_MUTEX; it is not
 * documented to take it around callbacks, so the frame does). The guest
 * memory calls take gasp_lock() around every gasp_* call: after start-up
 * qvm is multi-threaded and the docs require the lock.
 */
#ifndef SVD_QVM_COMMON_H
#define SVD_QVM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compat/qvm_api.h"
#include "safevdev/fdt.h"
#include "safevdev/fx.h"
#include "safevdev/gmem.h"
#include "safevdev/result.h"
#include "safevdev/wdt.h"

/** @brief Keeps a helper out of the adapter's exported symbols. */
#define SVD_QVM_HIDDEN __attribute__((visibility("hidden")))

/* ---- logging --------------------------------------------------------------- */

/** @brief Longest error line the adapters log (longer ones are cut). */
#define SVD_QVM_LOG_MAX 200u

/**
 * @brief Log an error line of instance @p vdp through vdev_logf() at the error level (SVD_QVM_LOG_ERROR).
 * @param vdp the instance (its `log` option filters the line).
 * @param fmt printf format, never guest-controlled.
 */
SVD_QVM_HIDDEN void svd_qvm_log(const vdev_t *vdp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- options ------------------------------------------------------------- */

/** @brief Longest option value copied into a bad-option record (longer ones are cut). */
#define SVD_QVM_BADVAL_MAX 40u

/** @brief The first option refused before OPTIONS_END, kept in the instance block. */
typedef struct svd_qvm_badopt {
    bool set;                             /**< An option was refused. */
    const char *name;                     /**< Static option name. */
    char value[SVD_QVM_BADVAL_MAX + 1u];  /**< Copy of the value, NUL-terminated, cut to ::SVD_QVM_BADVAL_MAX. */
    const char *why;                      /**< Static reason. */
} svd_qvm_badopt;

/**
 * @brief Record a refused option; only the first one is kept.
 * @param b the instance's record.
 * @param name static option name.
 * @param value the value as given (copied, cut to ::SVD_QVM_BADVAL_MAX; NULL is recorded as empty).
 *
 * A NULL @p name or @p why is recorded as "?" or "invalid".
 * @param why static reason.
 */
SVD_QVM_HIDDEN void svd_qvm_badopt_set(svd_qvm_badopt *b, const char *name, const char *value, const char *why);
/**
 * @brief Log "<vdev>: option '<name>' value '<v>' rejected: <why>" if one was recorded.
 * @param b the instance's record.
 * @param vdp the instance (vdev_logf()).
 * @param vdev the adapter's name for the log line.
 */
SVD_QVM_HIDDEN void svd_qvm_badopt_report(const svd_qvm_badopt *b, const vdev_t *vdp, const char *vdev);

/** @brief What qvm's watchdog service is asked to do when a watchdog's final stage expires. */
typedef enum svd_qvm_bite {
    SVD_QVM_BITE_TERMINATE = 0, /**< Terminate the guest (WDOG_ACTION_TERMINATE); QNX's default. */
    SVD_QVM_BITE_FIQ,           /**< An interrupt to the guest (WDOG_ACTION_INTR; QNX's `fiq`). */
    SVD_QVM_BITE_NONE           /**< Our extension: log only, no bite. */
} svd_qvm_bite;

/** @brief A watchdog's `action` option: QNX's `[dump,]terminate|fiq`, or our `none`. */
typedef struct svd_qvm_action {
    svd_qvm_bite bite; /**< What the bite does. */
    bool dump;         /**< `dump,`: WDOG_FLAG_DUMP with the bite (qvm dumps if its `dump` option is set). */
} svd_qvm_action;

/**
 * @brief The watchdogs' `action` option: `terminate`, `fiq`, `dump,terminate`,
 *        `dump,fiq` (QNX's values) or `none` (our extension).
 * @param bad the instance's record; a refused value is recorded there.
 * @param name static option name.
 * @param value the value as given.
 * @param out receives the action when accepted; untouched otherwise.
 */
SVD_QVM_HIDDEN void svd_qvm_opt_action(svd_qvm_badopt *bad, const char *name, const char *value,
                                       svd_qvm_action *out);
/**
 * @brief The core engine's action for @p a (what its effects report when it fires).
 * @param a the `action` option.
 * @return ::SVD_WDT_ACTION_TERMINATE, ::SVD_WDT_ACTION_DUMP (dump, terminate)
 *         or ::SVD_WDT_ACTION_NONE (fiq, none: the guest keeps running).
 */
SVD_QVM_HIDDEN svd_wdt_action svd_qvm_action_engine(svd_qvm_action a);
/**
 * @brief The QNX spelling of @p a ("dump,terminate", "fiq", "none", ...).
 * @param a the `action` option.
 * @return a static string.
 */
SVD_QVM_HIDDEN const char *svd_qvm_action_name(svd_qvm_action a);
/**
 * @brief A watchdog's part of the status line: "action A, expiries acted on N".
 * @param a the `action` option.
 * @param actions expiries the frame acted on.
 * @param buf receives the text, NUL-terminated (cut to @p len).
 * @param len size of @p buf.
 */
SVD_QVM_HIDDEN void svd_qvm_wdt_status(svd_qvm_action a, uint64_t actions, char *buf, size_t len);

/* ---- guest memory ----------------------------------------------------------- */

/** @brief Most guest-memory windows an instance maps (the `dma` options). */
#define SVD_QVM_MAX_WINDOWS 4u

/** @brief One guest-physical window the device may access. */
typedef struct svd_qvm_window {
    uint64_t gpa;  /**< First guest-physical byte. */
    uint64_t size; /**< Bytes; never 0, gpa + size never wraps. */
    void *host;    /**< Host address from gasp_map_vdma(); NULL while unmapped. */
} svd_qvm_window;

/** @brief The instance's guest-memory windows and whether they are mapped. */
typedef struct svd_qvm_mem {
    svd_qvm_window win[SVD_QVM_MAX_WINDOWS]; /**< Configured windows, non-overlapping. */
    uint32_t n;                              /**< Number of configured windows. */
    bool mapped;                             /**< svd_qvm_mem_map() succeeded and no unmap since. */
} svd_qvm_mem;

/**
 * @brief Add a window to the configuration (before mapping).
 * @param m the instance's windows.
 * @param gpa first guest-physical byte.
 * @param size bytes.
 * @return ::SVD_OK; ::SVD_ERR_STATE once mapped; ::SVD_ERR_INVALID_ARG for size 0 or a wrap;
 *         ::SVD_ERR_NOSPACE when full; ::SVD_ERR_BOUNDS on overlap.
 */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_mem_add(svd_qvm_mem *m, uint64_t gpa, uint64_t size);
/**
 * @brief Map every window with gasp_map_vdma() and fill @p gm (re-initialised).
 *
 * Idempotent once mapped. Holds gasp_lock(QST_MEMORY) around the gasp_* calls.
 * @param m the instance's windows.
 * @param vdp the instance.
 * @param gm the core's guest-memory map to fill.
 * @return ::SVD_OK; on any failure everything mapped is unmapped again,
 *         @p gm is left empty and ::SVD_ERR_SOURCE is returned.
 */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_mem_map(svd_qvm_mem *m, const vdev_t *vdp, svd_gmem *gm);
/**
 * @brief Unmap every mapped window (gasp_unmap, under gasp_lock); safe to call twice.
 *
 * If qvm refuses the lock the windows are not unmapped (the docs require the
 * lock) but forgotten, with an error line: qvm's exit releases them.
 * @param m the instance's windows.
 * @param vdp the instance that mapped them (its guest system, 7.x).
 */
SVD_QVM_HIDDEN void svd_qvm_mem_unmap(svd_qvm_mem *m, const vdev_t *vdp);

/* ---- clock and timer -------------------------------------------------------- */

/** @brief The instance clock: a qvm guest timer read as nanoseconds. */
typedef struct svd_qvm_clock {
    struct guest_timer *timer; /**< NULL until created. */
    uint64_t hz;               /**< Ticks per second reported by guest_timer_create(). */
    bool armed;                /**< A notification is pending. */
    uint64_t armed_for_ns;     /**< Deadline of the pending notification. */
} svd_qvm_clock;

/**
 * @brief Create the instance timer (or keep the one @p c already holds).
 * @param c the instance clock.
 * @param vdp the instance.
 * @param cookie passed back to the factory's timer callback.
 * @return ::SVD_OK, or ::SVD_ERR_SOURCE if qvm refuses or reports a resolution
 *         we cannot convert (0 or above 2^34 ticks/s).
 */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_clock_init(svd_qvm_clock *c, const vdev_t *vdp, void *cookie);
/**
 * @brief Current time in nanoseconds.
 * @param c the instance clock.
 * @return nanoseconds since the timer's epoch; 0 if the timer does not exist.
 */
SVD_QVM_HIDDEN uint64_t svd_qvm_clock_now(const svd_qvm_clock *c);
/**
 * @brief Ask for a timer callback at @p deadline_ns (now or past: as soon as
 *        possible). An earlier pending request is kept if it is sooner.
 * @param c the instance clock.
 * @param deadline_ns absolute time in the clock's nanoseconds.
 * @return ::SVD_OK; ::SVD_ERR_STATE if there is no timer; ::SVD_ERR_SOURCE
 *         if qvm refuses the notification.
 */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_clock_arm(svd_qvm_clock *c, uint64_t deadline_ns);
/**
 * @brief Forget the armed state (called from the timer callback).
 * @param c the instance clock.
 */
SVD_QVM_HIDDEN void svd_qvm_clock_fired(svd_qvm_clock *c);

/* ---- interrupt line ------------------------------------------------------------ */

/**
 * @brief Drive v_intr to @p level if it differs from *@p cur.
 *
 * An instance without an interrupt (v_intr.pic NULL: `intr` not given and
 * none assigned) drives nothing and reports EOK.
 * @param vdp the instance.
 * @param cur the level last driven; updated when the signal succeeds.
 * @param level wanted level.
 * @return EOK (also when nothing changed), or guest_intr_signal()'s error.
 */
SVD_QVM_HIDDEN int svd_qvm_irq_set(vdev_t *vdp, bool *cur, bool level);

/**
 * @brief Send the MSI-X messages of @p fx, in order, with guest_msi_signal().
 * @param vdp the instance (the message's source).
 * @param fx the effect of an engine call (its @c msi[0 .. n_msi-1]).
 * @return the number of messages qvm refused (7.x reports an error; 8.0 has no
 *         result, so always 0 there). A refused message is not retried: the
 *         engine has already cleared its pending bit.
 */
SVD_QVM_HIDDEN uint32_t svd_qvm_msi_send(vdev_t *vdp, const svd_fx *fx);
/* ---- guest CPU transfer ---------------------------------------------------------- */

/**
 * @brief Give the guest @p width bytes of @p val as the result of its read (little-endian).
 * @param gcp the vCPU of the access.
 * @param oopnd the state block qvm gave the vread callback.
 * @param width bytes, 1 to 8 (the factory's acc_sizes limits it to 1, 2, 4, 8).
 * @param val the value read.
 * @return ::VRS_NORMAL; guest_cpu_to_vrs() of qvm's error if it refused the
 *         transfer; ::VRS_BUS_ERROR if @p width is out of range.
 */
SVD_QVM_HIDDEN svd_vrs svd_qvm_reply(struct guest_cpu *gcp, const struct qvm_state_block *oopnd,
                                     uint32_t width, uint64_t val);
/**
 * @brief Fetch the @p width bytes the guest writes (little-endian).
 * @param gcp the vCPU of the access.
 * @param oopnd the state block qvm gave the vwrite callback.
 * @param width bytes, 1 to 8 (the factory's acc_sizes limits it to 1, 2, 4, 8).
 * @param val receives the value.
 * @return ::VRS_NORMAL; guest_cpu_to_vrs() of qvm's error if it refused the
 *         transfer; ::VRS_BUS_ERROR if @p width is out of range.
 */
SVD_QVM_HIDDEN svd_vrs svd_qvm_fetch(struct guest_cpu *gcp, const struct qvm_state_block *oopnd,
                                     uint32_t width, uint64_t *val);

/* ---- device tree ------------------------------------------------------------------ */

/**
 * @brief Add the core-built node @p n ("<name>@<unit>") under FDT node
 *        @p parent (gfdt_update_node()) and write every property of it
 *        (gfdt_update_property()).
 * @param vdp the instance (vdev_logf()).
 * @param parent the parent node GEN_FDT names.
 * @param n the node (name, unit and properties), checked by the core's FDT writer.
 * @param vdev the adapter's name for the log line.
 * @return EOK; EIO (logged) when qvm cannot add the node; EINVAL if the core
 *         refuses a property (nothing more is written).
 */
SVD_QVM_HIDDEN int svd_qvm_fdt_add(const vdev_t *vdp, int parent, const svd_fdt_node *n, const char *vdev);

#endif /* SVD_QVM_COMMON_H */
