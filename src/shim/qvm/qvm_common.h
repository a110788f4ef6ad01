/*
 * qvm_common.h: helpers shared by the safevdev qvm adapters (virtio-entropy
 * now, the watchdog adapters later). Every function is hidden inside the .so
 * that links it; none keeps state outside the caller's instance block.
 *
 * - strict option value parsing (numbers, "forever", "base,size" pairs): a
 *   value is accepted whole or refused, never partly;
 * - the "bad option" record an adapter keeps until OPTIONS_END so that the
 *   failure names the option;
 * - guest memory: map guest-physical windows with gasp_map_vdma() into an
 *   svd_gmem, and unmap them all again;
 * - the instance clock: a qvm guest timer read as nanoseconds, and arming it
 *   for a deadline in nanoseconds;
 * - the interrupt line: drive v_intr to a level, only on change.
 */
#ifndef SVD_QVM_COMMON_H
#define SVD_QVM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compat/qvm_api.h"
#include "safevdev/gmem.h"
#include "safevdev/result.h"

#define SVD_QVM_HIDDEN __attribute__((visibility("hidden")))

/* ---- options ------------------------------------------------------------- */

/* Longest option value copied into a bad-option record (longer ones are cut). */
#define SVD_QVM_BADVAL_MAX 40u

/* The first option refused before OPTIONS_END, kept in the instance block. */
typedef struct svd_qvm_badopt {
    bool set;
    const char *name;                     /* static option name */
    char value[SVD_QVM_BADVAL_MAX + 1u];  /* copy of the value, NUL-terminated */
    const char *why;                      /* static reason */
} svd_qvm_badopt;

/* Record a refused option (only the first one is kept). */
SVD_QVM_HIDDEN void svd_qvm_badopt_set(svd_qvm_badopt *b, const char *name, const char *value, const char *why);
/* Log "<vdev>: option '<name>' value '<v>' rejected: <why>" if one was recorded. */
SVD_QVM_HIDDEN void svd_qvm_badopt_report(const svd_qvm_badopt *b, const char *vdev);

/* Parse an unsigned decimal or 0x-hex number covering all of @s, in [min, max].
 * ::SVD_ERR_INVALID_ARG for NULL, empty, sign, junk, overflow or out of range. */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse "A,B" (two numbers as above, no spaces). */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_parse_pair(const char *s, uint64_t *a, uint64_t *b);

/* ---- guest memory ----------------------------------------------------------- */

#define SVD_QVM_MAX_WINDOWS 4u

typedef struct svd_qvm_window {
    uint64_t gpa;
    uint64_t size;
    void *host; /* NULL while unmapped */
} svd_qvm_window;

typedef struct svd_qvm_mem {
    svd_qvm_window win[SVD_QVM_MAX_WINDOWS];
    uint32_t n;       /* configured windows */
    bool mapped;      /* svd_qvm_mem_map() succeeded */
} svd_qvm_mem;

/* Add a window to the configuration (before mapping). ::SVD_ERR_INVALID_ARG for
 * size 0 or a wrap; ::SVD_ERR_NOSPACE when full; ::SVD_ERR_BOUNDS on overlap. */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_mem_add(svd_qvm_mem *m, uint64_t gpa, uint64_t size);
/* Map every window with gasp_map_vdma() and fill @gm (re-initialised). On any
 * failure everything mapped is unmapped again, @gm is left empty and
 * ::SVD_ERR_SOURCE is returned. Idempotent once mapped. */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_mem_map(svd_qvm_mem *m, const vdev_t *vdp, svd_gmem *gm);
/* Unmap every mapped window (gasp_unmap); safe to call twice. */
SVD_QVM_HIDDEN void svd_qvm_mem_unmap(svd_qvm_mem *m);

/* ---- clock and timer -------------------------------------------------------- */

typedef struct svd_qvm_clock {
    struct guest_timer *timer; /* NULL until created */
    uint64_t hz;               /* ticks per second reported by guest_timer_create() */
    bool armed;
    uint64_t armed_for_ns;     /* deadline of the armed notification */
} svd_qvm_clock;

/* Create the instance timer (or keep the one @c already holds);
 * ::SVD_ERR_SOURCE if qvm refuses or reports a resolution we cannot convert
 * (0 or above 2^34 ticks/s). */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_clock_init(svd_qvm_clock *c, const vdev_t *vdp, void *cookie);
/* Current time in nanoseconds (0 if the timer does not exist). */
SVD_QVM_HIDDEN uint64_t svd_qvm_clock_now(const svd_qvm_clock *c);
/* Ask for a timer callback at @deadline_ns (now or past: as soon as possible).
 * An earlier pending request is kept if it is sooner. */
SVD_QVM_HIDDEN SVD_MUST_USE svd_result svd_qvm_clock_arm(svd_qvm_clock *c, uint64_t deadline_ns);
/* Forget the armed state (called from the timer callback). */
SVD_QVM_HIDDEN void svd_qvm_clock_fired(svd_qvm_clock *c);

/* ---- interrupt line ------------------------------------------------------------ */

/* Drive v_intr to @level if it differs from *@cur; returns the qvm result. */
SVD_QVM_HIDDEN int svd_qvm_irq_set(vdev_t *vdp, bool *cur, bool level);

/* ---- guest CPU transfer ---------------------------------------------------------- */

/* Give the guest @width bytes of @val as the result of its read (little-endian). */
SVD_QVM_HIDDEN vdev_ref_status_t svd_qvm_reply(struct guest_cpu *gcp, const struct qvm_state_block *oopnd,
                                               uint32_t width, uint64_t val);
/* Fetch the @width bytes the guest writes. */
SVD_QVM_HIDDEN vdev_ref_status_t svd_qvm_fetch(struct guest_cpu *gcp, const struct qvm_state_block *oopnd,
                                               uint32_t width, uint64_t *val);

#endif /* SVD_QVM_COMMON_H */
