/* The core's one private header: internals the engines share and the
 * functions the composed engine (vdev.c) calls on its parts. Nothing outside
 * src/core (and the tests, which may look at everything) includes it; the
 * products use the public headers only. Every declaration keeps the
 * contract style of the public headers. */
#ifndef SVD_CORE_PRIV_H
#define SVD_CORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "safevdev/device.h"
#include "safevdev/fx.h"
#include "safevdev/gmem.h"
#include "safevdev/mmio.h"
#include "safevdev/pci.h"
#include "safevdev/result.h"
#include "safevdev/span.h"
#include "safevdev/virtqueue.h"
#include "safevdev/wdt.h"

/* a + b, or UINT64_MAX when it would not fit (deadlines beyond the clock). */
static inline uint64_t svd_sat_add_u64(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        return UINT64_MAX;
    }
    return r;
}

/* The effect's "nothing to do" state: every flag clear, line low, no
 * deadline. Every face call starts with it (fx.h). */
static inline void svd_fx_reset(svd_fx *fx)
{
    *fx = (svd_fx){ .why = SVD_WHY_NONE, .action = SVD_WDT_ACTION_RESET, .deadline = SVD_NO_DEADLINE };
}

/* ---- watchdog engines (wdt_i6300esb.c, wdt_sp805.c) --------------------- */

/* Start a call's effects: nothing fired yet, the line at its current level. */
static inline void wdt_fx_begin(svd_fx *fx, bool level, svd_wdt_action action)
{
    svd_fx_reset(fx);
    fx->irq_level = level;
    fx->action = action;
}

/* One final-stage expiry happened. */
static inline void wdt_fx_fire(svd_fx *fx)
{
    fx->fired = true;
    /* fx is cleared per call and each engine folds at most its bounded number
     * of expiries into one call, so the saturation cannot be reached by a test. */
    if (SVD_ALWAYS(fx->fires != UINT32_MAX)) {
        fx->fires++;
    }
}

/* Finish a call: report the new level, whether it moved from @old, and when
 * the engine must be ticked next. */
static inline void wdt_fx_end(svd_fx *fx, bool old, bool level, uint64_t deadline)
{
    fx->irq_level = level;
    fx->irq_changed = (old != level);
    fx->deadline = deadline;
}

/* ---- virtqueue logic for WP (ACSL only) ----------------------------------
 * What both halves of the queue engine and their contracts say of a queue:
 * ring sizes, the in-flight bit, and the queue invariant vq_inv (a running
 * queue's ring pointers are valid for its format's ring sizes and apart
 * from the queue: established by enable, kept while the map keeps its
 * generation, SVD-PRF-008). */
/*@ logic integer vq_ev(svd_vq *q) = 2 * q->event_idx;
    logic integer vq_desc_bytes(svd_vq *q) = 16 * q->size;
    logic integer vq_avail_bytes(svd_vq *q) = 4 + 2 * q->size + vq_ev(q);
    logic integer vq_used_bytes(svd_vq *q) = 4 + 8 * q->size + vq_ev(q);
    predicate vq_pow2(integer n) = 0 < n && (n & (n - 1)) == 0;
    // The valid queue sizes one by one: a proof by cases then sees a constant
    // mask size - 1 in each case (vq_slot), which bit reasoning needs.
    predicate vq_size16(integer n) =
        n == 1 || n == 2 || n == 4 || n == 8 || n == 16 || n == 32 || n == 64 || n == 128 || n == 256 ||
        n == 512 || n == 1024 || n == 2048 || n == 4096 || n == 8192 || n == 16384 || n == 32768;
    predicate vq_inflight{L}(svd_vq *q, integer h) = (q->inflight_map[h / 32] & (1 << (h % 32))) != 0;
    // Split: descriptor table, available ring, used ring (with the EVENT_IDX fields).
    predicate vq_split_rings_ok{L}(svd_vq *q) =
        \valid_read(q->desc + (0 .. vq_desc_bytes(q) - 1)) &&
        \valid_read(q->avail + (0 .. vq_avail_bytes(q) - 1)) &&
        \valid(q->used + (0 .. vq_used_bytes(q) - 1)) &&
        \separated(q, q->desc + (0 .. vq_desc_bytes(q) - 1)) && \separated(q, q->avail + (0 .. vq_avail_bytes(q) - 1)) &&
        \separated(q, q->used + (0 .. vq_used_bytes(q) - 1));
    // Packed: an encoded position (ring offset in bits 0-14) names a ring slot.
    predicate vqp_pos_ok{L}(svd_vq *q, integer v) = v % 32768 < q->size;
    // Packed: the descriptor ring (read and written), the two 4-byte event structures,
    // both positions inside the ring (checked at enable, kept by every advance).
    predicate vq_packed_rings_ok{L}(svd_vq *q) =
        \valid(q->desc + (0 .. vq_desc_bytes(q) - 1)) && \valid_read(q->avail + (0 .. 3)) && \valid(q->used + (0 .. 3)) &&
        \separated(q, q->desc + (0 .. vq_desc_bytes(q) - 1)) && \separated(q, q->avail + (0 .. 3)) &&
        \separated(q, q->used + (0 .. 3)) && vqp_pos_ok(q, q->last_avail_idx) && vqp_pos_ok(q, q->used_idx);
    predicate vq_rings_ok{L}(svd_vq *q) =
        q->max <= SVD_VQ_MAX_SIZE && 0 < q->size <= q->max && vq_size16(q->size) &&
        (q->packed ==> vq_packed_rings_ok(q)) && (!q->packed ==> vq_split_rings_ok(q));
    predicate vq_running{L}(svd_vq *q, svd_gmem *m) =
        q->enabled && !q->broken && q->gmem_generation == m->generation;
    predicate vq_inv{L}(svd_vq *q, svd_gmem *m) =
        \valid(q) && \valid_read(m) && \separated(q, m) && (vq_running(q, m) ==> vq_rings_ok(q));
    predicate vq_chain_ok{L}(svd_vq_chain *c) =
        \valid(c) && (c->cap > 0 ==> \valid(c->segs + (0 .. c->cap - 1)));
    predicate gmem_apart{L}(svd_gmem *m, svd_vq *q) =
        \forall integer i; 0 <= i < m->count ==> \separated(q, m->regions[i].host + (0 .. m->regions[i].size - 1));
*/

/* No head in flight (enable and disable of both formats). */
/*@ requires \valid(q);
    assigns q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight;
    ensures q->inflight == 0; */
static inline void vq_clear_inflight(svd_vq *q)
{
    (void)memset(q->inflight_map, 0, sizeof(q->inflight_map));
    q->inflight = 0u;
}

/* ---- chain walk step (virtqueue.c), both formats' walks ------------------ */

/* The most bytes a chain may describe: its total stays below 2^32. */
#define SVD_VQ_CHAIN_LIMIT 0x100000000ull

/* Totals of a chain walk, committed to the chain only on success. */
/** @cond INTERNAL */
typedef struct svd_vq_walk {
    uint32_t nsegs;
    uint32_t ndesc;
    uint32_t readable_len;
    uint32_t writable_len;
    uint64_t total; /* bytes of every descriptor so far, recorded or not */
    bool seen_write;
    bool truncated;
} svd_vq_walk;
/** @endcond */

/* One buffer descriptor (not an indirect one) of a chain, split or packed:
 * the write-order rule (no device-readable buffer after a device-writable
 * one), the buffer inside guest memory with the access it needs, the
 * chain's byte total below ::SVD_VQ_CHAIN_LIMIT; then the segment is
 * recorded into @segs (@cap entries) if there is room, else the walk is
 * marked truncated. ::SVD_ERR_PROTOCOL (nothing latched) on a broken rule;
 * *@w is meaningful only after success. */
/*@ requires map: gmem_ok(m);
    requires \valid(w) && \separated(w, m);
    requires cap > 0 ==> \valid(segs + (0 .. cap - 1)) && \separated(segs + (0 .. cap - 1), w, m);
    requires walk: w->nsegs <= cap && w->nsegs <= w->ndesc &&
                   w->readable_len + w->writable_len <= w->total < SVD_VQ_CHAIN_LIMIT && w->ndesc < 2 * SVD_VQ_MAX_SIZE;
    assigns *w, segs[0 .. cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures ndesc: \result.err == SVD_OK ==> w->ndesc == \old(w->ndesc) + 1;
    ensures segs: \result.err == SVD_OK ==> w->nsegs <= cap && w->nsegs <= w->ndesc;
    ensures total: \result.err == SVD_OK ==> w->total < SVD_VQ_CHAIN_LIMIT;
    ensures bytes: \result.err == SVD_OK ==> w->readable_len + w->writable_len <= w->total;
    ensures frame_sizes: gmem_sizes_ok(m);
    ensures frame_read: gmem_hosts_read(m);
    ensures frame_write: gmem_hosts_write(m);
    ensures frame_apart: gmem_hosts_apart(m); */
SVD_MUST_USE svd_result svd_vq_walk_buffer(const svd_gmem *m, svd_vq_desc *segs, uint32_t cap, svd_vq_walk *w,
                                           uint64_t addr, uint32_t len, uint16_t flags);

/* ---- packed virtqueue (vq_packed.c) ---------------------------------------
 * The packed half of the queue engine: virtqueue.c's public calls make the
 * checks both formats share (state, map generation, token, written length)
 * and hand a packed queue to these. */

/* Enable a packed queue: @q is disabled, not broken, its size valid. Maps
 * and checks the rings and the start positions (the queue latches on a
 * refusal), writes the device event suppression structure. That structure
 * lies at an address found in the call, so the contract names what it may
 * write as the guest memory of the map (every region's bytes). */
/*@ requires \valid(q) && gmem_ok(m) && \separated(q, m) && gmem_apart(m, q);
    requires q->packed && !q->enabled && !q->broken && q->max <= SVD_VQ_MAX_SIZE && 0 < q->size <= q->max &&
             vq_size16(q->size);
    assigns q->desc, q->desc_aligned, q->avail, q->used, q->gmem_generation,
            q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->inflight_slots, q->signalled_used,
            q->signalled_valid, q->enabled, q->broken, m->regions[0 .. m->count - 1].host[0 .. UINT64_MAX];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_PROTOCOL;
    ensures broken: \result.err == SVD_ERR_PROTOCOL ==> q->broken;
    ensures ok: \result.err == SVD_OK ==> vq_running(q, m) && vq_rings_ok(q) && q->inflight == 0;
    ensures inv: vq_inv(q, m); */
SVD_MUST_USE svd_result svd_vqp_enable(svd_vq *q, const svd_gmem *m);
/* Take the next available chain: @q usable, @c holds no token. The split
 * ring's WP units wp_vq_pop and wp_vq_pop_post take this contract as given;
 * its proof (units wp_vqp_pop, wp_vqp_take) takes the packed chain walk's
 * contract as given (SVD-PRF-010). The buffer id is not in flight before the
 * pop, its slot count what svd_vqp_push() needs. */
/*@ requires vq_inv(q, m) && vq_running(q, m) && q->packed && gmem_ok(m) && vq_chain_ok(c) && !c->valid;
    requires \separated(c, q, m) && (c->cap > 0 ==> \separated(c->segs + (0 .. c->cap - 1), c, q, m));
    requires \separated(c, q->used + (0 .. 3));
    assigns q->broken, q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->inflight_slots,
            q->last_avail_idx, q->used[0 .. 3], *c, c->segs[0 .. c->cap - 1];
    ensures errs: \result.err == SVD_OK || \result.err == SVD_ERR_EMPTY || \result.err == SVD_ERR_PROTOCOL;
    ensures inv: vq_inv(q, m);
    ensures broken: \result.err == SVD_ERR_PROTOCOL ==> q->broken;
    ensures ok: \result.err == SVD_OK ==> c->valid && c->head < q->size && c->epoch == q->epoch &&
        (\let h = c->head; !\at(vq_inflight(q, h), Pre)) && c->nsegs <= c->cap && 0 < c->ndesc < 2 * q->size &&
        c->readable_len + c->writable_len < 0x100000000 && 0 < c->slots <= q->size;
    ensures kept: c->segs == \old(c->segs) && c->cap == \old(c->cap);
    ensures untouched: \result.err != SVD_OK ==> *c == \old(*c); */
SVD_MUST_USE svd_result svd_vqp_pop(svd_vq *q, const svd_gmem *m, svd_vq_chain *c);
/* Publish @c (a valid token of this epoch, in flight, @written checked):
 * the used descriptor written in the ring slot of used_idx, which advances
 * by the chain's slots. The token's slot count is what svd_vqp_pop() gave
 * it (the caller does not modify a token, virtqueue.h). */
/*@ requires \valid(q) && q->packed && vq_rings_ok(q) && \valid(c) && \separated(c, q);
    requires \separated(c, q->desc + (0 .. vq_desc_bytes(q) - 1));
    requires c->valid && c->head < q->size && vq_inflight(q, c->head);
    requires slots: c->slots <= q->size;
    assigns q->used_idx, q->inflight_map[0 .. SVD_VQ_MAX_SIZE / 32 - 1], q->inflight, q->inflight_slots,
            q->signalled_valid, c->valid, q->desc[0 .. vq_desc_bytes(q) - 1];
    ensures rings: vq_rings_ok(q);
    ensures invalid: !c->valid; */
void svd_vqp_push(svd_vq *q, svd_vq_chain *c, uint32_t written);
/* The interrupt decision for the completions since the last one (after the
 * fence): it reads the driver event suppression structure and touches the
 * queue's signalled state only. */
/*@ requires \valid(q) && q->packed && vq_rings_ok(q);
    assigns q->signalled_used, q->signalled_valid; */
bool svd_vqp_need_interrupt(svd_vq *q);
/* A packed queue just enabled (nothing in flight) whose start position the
 * host does not trust (a front-end that lost the previous back-end):
 * when the descriptor there cannot be the next one (used in that lap, or
 * available for the other lap), move both positions to where the driver's
 * available buffers begin (the first available descriptor not continuing a
 * run); nothing available: unchanged. True when it moved. A heuristic for rings of one-descriptor buffers:
 * a chain's later descriptors stay marked available after use and can
 * mislead it; whatever it picks is checked as any chain is. */
bool svd_vqp_resync(svd_vq *q);
/* svd_vq_base() of a packed queue. */
/*@ requires \valid_read(q) && \valid(next_avail) && \valid(next_used);
    assigns *next_avail, *next_used; */
void svd_vqp_base(const svd_vq *q, uint16_t *next_avail, uint16_t *next_used);

/* ---- device engine (device.c) ---------------------------------------------
 * Results: ::SVD_ERR_STATE / ::SVD_ERR_BOUNDS mean "refused and ignored"
 * (wrong state, unknown queue); ::SVD_ERR_PROTOCOL means the write broke a
 * rule and the device latched NEEDS_RESET (fx->failed, fx->why). Effects are
 * added to @fx, never cleared: the caller clears it once per face call. */

/* Initialise @d for @model over @m (kept by pointer, MUST outlive @d).
 * @host_driven: no emulated transport; the host starts queues itself
 * (svd_dev_queue_start()) and no status machine gates kicks.
 * ::SVD_ERR_INVALID_ARG for a bad model (NULL callbacks, device ID 0,
 * features above bit 23, 0 or too many queues, queue_max not a power of two
 * <= SVD_VQ_MAX_SIZE, NULL config with a length). */
SVD_MUST_USE svd_result svd_dev_init(svd_dev *d, const svd_model *model, const svd_gmem *m, bool host_driven);
/* Set the work one call may do: 0 fields take the defaults; ::SVD_ERR_INVALID_ARG
 * (nothing changed) above SVD_BUDGET_MAX_BYTES / SVD_VQ_MAX_SIZE. */
SVD_MUST_USE svd_result svd_dev_set_budget(svd_dev *d, const svd_budget *b);
/* Device reset (status 0): queues reset, model reset, features/status/isr/reason cleared. */
void svd_dev_reset(svd_dev *d);
/* The guest writes the status byte (rules: device.c's header comment).
 * ::SVD_ERR_STATE: FEATURES_OK refused for its feature set (bit stays clear).
 * Writing 0 resets (fx->reset). */
SVD_MUST_USE svd_result svd_dev_set_status(svd_dev *d, uint8_t status, svd_fx *fx);
uint8_t svd_dev_status(const svd_dev *d);
uint32_t svd_dev_host_features_word(const svd_dev *d, uint32_t sel);
uint64_t svd_dev_host_features(const svd_dev *d);
/* ::SVD_ERR_STATE unless DRIVER is set and FEATURES_OK is not; ::SVD_ERR_BOUNDS for sel > 1. */
SVD_MUST_USE svd_result svd_dev_set_driver_features_word(svd_dev *d, uint32_t sel, uint32_t val);
uint32_t svd_dev_driver_features_word(const svd_dev *d, uint32_t sel);
uint32_t svd_dev_device_id(const svd_dev *d);
uint16_t svd_dev_num_queues(const svd_dev *d);
uint32_t svd_dev_config_len(const svd_dev *d);
/* Largest size of queue @q, 0 if it does not exist. */
uint16_t svd_dev_queue_max(const svd_dev *d, uint32_t q);
/* Queue @q for reading its configuration, NULL if it does not exist. */
const svd_vq *svd_dev_queue(const svd_dev *d, uint32_t q);
/* Queue configuration writes: allowed between FEATURES_OK and DRIVER_OK
 * (else ::SVD_ERR_STATE, ignored); the queue engine's rules apply (size,
 * not while enabled), a broken one latches. */
SVD_MUST_USE svd_result svd_dev_queue_set_size(svd_dev *d, uint32_t q, uint32_t size, svd_fx *fx);
SVD_MUST_USE svd_result svd_dev_queue_set_addr(svd_dev *d, uint32_t q, svd_vq_ring ring, uint64_t gpa, svd_fx *fx);
SVD_MUST_USE svd_result svd_dev_queue_set_addr_half(svd_dev *d, uint32_t q, svd_vq_ring ring, bool high,
                                                    uint32_t val, svd_fx *fx);
/* Enable (validating the rings, applying EVENT_IDX/INDIRECT_DESC as
 * negotiated) or disable; disabling a ready queue is a protocol error. */
SVD_MUST_USE svd_result svd_dev_queue_set_ready(svd_dev *d, uint32_t q, bool ready, svd_fx *fx);
/* Host-driven only: configure and enable queue @q from @s in one step. A
 * refusal (::SVD_ERR_STATE: not host-driven, latched or already running;
 * ::SVD_ERR_BOUNDS: no such queue; ::SVD_ERR_PROTOCOL with the rule broken)
 * leaves the queue reset and the device not latched. */
SVD_MUST_USE svd_result svd_dev_queue_start(svd_dev *d, uint32_t q, const svd_vq_setup *s, svd_fx *fx);
/* Stop queue @q, report where a restart resumes (svd_vq_base()), drop the
 * model's requests; ::SVD_ERR_BOUNDS for no such queue. */
SVD_MUST_USE svd_result svd_dev_queue_stop(svd_dev *d, uint32_t q, uint16_t *next_avail, uint16_t *next_used);
/* A notification of queue @q: the model serves it, then the interrupt
 * decision is taken (fx->queue_notify bit; ISR bit unless host-driven). A
 * model failure latches. ::SVD_ERR_STATE / ::SVD_ERR_BOUNDS: ignored (not
 * DRIVER_OK, latched, FAILED, no such queue, not ready: never served). */
SVD_MUST_USE svd_result svd_dev_kick(svd_dev *d, uint32_t q, uint64_t now, svd_fx *fx);
/* Serve every queue whose model asked to be called at or before @now. */
void svd_dev_tick(svd_dev *d, uint64_t now, svd_fx *fx);
/* Earliest time a queue's model asked for, ::SVD_NO_DEADLINE if none. */
uint64_t svd_dev_deadline(const svd_dev *d);
svd_why svd_dev_why(const svd_dev *d);
uint8_t svd_dev_isr(const svd_dev *d);
void svd_dev_isr_ack(svd_dev *d, uint8_t bits);
uint8_t svd_dev_isr_read_clear(svd_dev *d);
uint32_t svd_dev_config_generation(const svd_dev *d);
/* @width (1, 2, 4) bytes of device configuration at @off, little-endian;
 * ::SVD_ERR_BOUNDS outside it, ::SVD_ERR_INVALID_ARG for another width. */
SVD_MUST_USE svd_result svd_dev_config_read(const svd_dev *d, uint32_t off, uint32_t width, uint32_t *val);

/* ---- virtio-mmio transport (mmio.c): register rules in mmio.h ------------
 * Results are informational (the access is complete either way):
 * ::SVD_ERR_INVALID_ARG / ::SVD_ERR_BOUNDS for the defined answer, else the
 * device engine's. *val is always written by a read. */
SVD_MUST_USE svd_result svd_mmio_init(svd_mmio *m, svd_dev *dev, uint32_t vendor_id);
SVD_MUST_USE svd_result svd_mmio_read(svd_mmio *m, uint64_t off, uint32_t width, uint32_t *val, svd_fx *fx);
SVD_MUST_USE svd_result svd_mmio_write(svd_mmio *m, uint64_t off, uint32_t width, uint32_t val, uint64_t now,
                                       svd_fx *fx);
/* Re-derive the line level from the interrupt status into @fx. */
void svd_mmio_sync_irq(svd_mmio *m, svd_fx *fx);
/* Host-initiated reset: device reset, selectors 0, line follows. */
void svd_mmio_reset(svd_mmio *m, svd_fx *fx);

/* ---- virtio-pci transport (pci.c): register rules in pci.h ---------------- */
SVD_MUST_USE svd_result svd_pci_init(svd_pci *p, svd_dev *dev, const svd_pci_params *params);
SVD_MUST_USE svd_result svd_pci_cfg_read(svd_pci *p, uint32_t off, uint32_t width, uint32_t *val, svd_fx *fx);
SVD_MUST_USE svd_result svd_pci_cfg_write(svd_pci *p, uint32_t off, uint32_t width, uint32_t val, uint64_t now,
                                          svd_fx *fx);
/* BAR0 accesses at offset @off; ::SVD_ERR_STATE while memory decoding is off. */
SVD_MUST_USE svd_result svd_pci_bar_read(svd_pci *p, uint64_t off, uint32_t width, uint64_t *val, svd_fx *fx);
SVD_MUST_USE svd_result svd_pci_bar_write(svd_pci *p, uint64_t off, uint32_t width, uint64_t val, uint64_t now,
                                          svd_fx *fx);
uint64_t svd_pci_bar0_address(const svd_pci *p);
bool svd_pci_mem_enabled(const svd_pci *p);
void svd_pci_sync_irq(svd_pci *p, svd_fx *fx);
/* With MSI-X enabled: the messages for the call's notifications (queue_notify,
 * config_notify), or their pending bits. Once per call, at its end. */
void svd_pci_msix_notify(svd_pci *p, svd_fx *fx);
/* Host-initiated function reset: device reset, command/BAR0/capability fields 0. */
void svd_pci_reset(svd_pci *p, svd_fx *fx);

#endif /* SVD_CORE_PRIV_H */
