/**
 * @file virtqueue.h
 * @brief Split virtqueue engine (virtio 1.2 §2.7), device side.
 *
 * The engine validates everything the driver puts in the rings before it is
 * used, and copies each descriptor out of guest memory exactly once, so a
 * guest that changes a descriptor after it was checked cannot change what the
 * device does (no time-of-check/time-of-use).
 *
 * Checks (each failure is ::SVD_ERR_PROTOCOL and latches the queue broken
 * until svd_vq_reset()):
 * - queue size a non-zero power of two <= ::SVD_VQ_MAX_SIZE;
 * - descriptor table 16-byte, available ring 2-byte, used ring 4-byte aligned,
 *   and each ring entirely inside one guest memory region with the access the
 *   device needs (descriptors and available ring readable, used ring writable);
 * - the available index advances by at most the queue size (rust-vmm #196);
 * - head index and every next index < the size of the table it indexes
 *   (QEMU CVE-2011-2512 class);
 * - a head already in flight is refused (more requests in flight than the queue
 *   holds, QEMU CVE-2016-5403);
 * - a chain visits at most queue-size descriptors (loops, rust-vmm #236), an
 *   indirect table at most its own entry count;
 * - indirect descriptors: only if negotiated, len a non-zero multiple of 16,
 *   at most queue-size entries, table inside one region, never nested, never
 *   together with NEXT;
 * - device-writable descriptors only after device-readable ones;
 * - every descriptor's buffer entirely inside guest memory with the right
 *   access; total chain length < 2^32 (QEMU CVE-2016-7422 class).
 *
 * Completion goes through the ::svd_vq_chain a pop returned: the engine keeps
 * one in-flight bit per head and an epoch per reset, so a head can be
 * completed only once, only if it was popped, and never after a reset.
 *
 * EVENT_IDX works both ways when enabled: the device writes avail_event each
 * time it finds the ring empty (then re-checks, so no kick is lost) and after
 * every successful pop, and
 * honours used_event in svd_vq_need_interrupt().
 *
 * Packed rings (virtio 1.2 §2.8, VIRTIO_F_RING_PACKED, svd_vq_set_format())
 * use the same queue, the same calls and the same rules where they carry
 * over; the three ring addresses name the descriptor ring, the driver event
 * suppression structure and the device event suppression structure. The
 * packed engine checks, in addition (each failure is ::SVD_ERR_PROTOCOL and
 * latches):
 * - descriptor ring 16-byte, both event structures 4-byte aligned, the ring
 *   readable and writable (the device writes used descriptors into it), the
 *   driver's structure readable, the device's writable, all inside guest
 *   memory; the start indices below the queue size (::SVD_WHY_RING_BASE);
 * - a chain is made available by its first descriptor; every further
 *   descriptor of it MUST carry the available/used flags of the current lap
 *   at its own position (::SVD_WHY_DESC_WRAP: wrap counter confusion);
 * - the buffer id (in the chain's last descriptor) < queue size
 *   (::SVD_WHY_BUFFER_ID) and not in flight (::SVD_WHY_HEAD_INFLIGHT: a
 *   buffer made available twice);
 * - a chain occupies at most queue-size ring descriptors (::SVD_WHY_CHAIN_LOOP)
 *   and never one still held by a request in flight (::SVD_WHY_RING_OVERRUN);
 * - indirect: negotiated only, the only descriptor of its chain (no NEXT),
 *   len a non-zero multiple of 16 of at most queue-size entries inside one
 *   region, no INDIRECT inside the table (only WRITE is meaningful there).
 * The queue size stays a power of two for both formats (the spec allows any
 * size for packed rings; every driver we know uses a power of two).
 * Completion writes one used descriptor (id, written length, WRITE when
 * bytes were written, AVAIL = USED = the device's wrap counter; the flags
 * last, release order) at the used position and advances it by the ring
 * descriptors the chain occupied; chains may be completed in any order.
 * Event suppression: the device writes its structure at enable and, under
 * EVENT_IDX, the next position it will read each time it finds the ring
 * empty and after every pop (flags DESC); it honours the driver's DISABLE,
 * ENABLE and (EVENT_IDX only) DESC off/wrap in svd_vq_need_interrupt(); a
 * reserved value, or DESC without EVENT_IDX, counts as ENABLE (a spurious
 * interrupt is harmless, a lost one hangs the driver).
 *
 * Thread-safety: one thread per queue. The guest may write the rings
 * concurrently; the engine uses acquire/release ordering on the indices
 * (split) and on the descriptor flags (packed).
 */
#ifndef SAFEVDEV_VIRTQUEUE_H
#define SAFEVDEV_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/gmem.h"
#include "safevdev/result.h"

/** @brief Largest queue size a split virtqueue may have (virtio 1.2 §2.7). */
#define SVD_VQ_MAX_SIZE 32768u

/** @brief Descriptor flag: the chain continues at @c next. */
#define SVD_VRING_DESC_F_NEXT 1u
/** @brief Descriptor flag: the buffer is device-writable. */
#define SVD_VRING_DESC_F_WRITE 2u
/** @brief Descriptor flag: the buffer is a table of indirect descriptors. */
#define SVD_VRING_DESC_F_INDIRECT 4u
/** @brief Available ring flag: the driver does not want interrupts (ignored under EVENT_IDX). */
#define SVD_VRING_AVAIL_F_NO_INTERRUPT 1u
/** @brief Packed descriptor flag: available bit (equals the driver's wrap counter when made available). */
#define SVD_VRING_PACKED_DESC_F_AVAIL 0x80u
/** @brief Packed descriptor flag: used bit (differs from AVAIL in an available descriptor, equals it in a used one). */
#define SVD_VRING_PACKED_DESC_F_USED 0x8000u
/** @brief Packed event suppression flags: notifications enabled. */
#define SVD_VRING_PACKED_EVENT_ENABLE 0u
/** @brief Packed event suppression flags: notifications disabled. */
#define SVD_VRING_PACKED_EVENT_DISABLE 1u
/** @brief Packed event suppression flags: notify at the off/wrap position (EVENT_IDX only). */
#define SVD_VRING_PACKED_EVENT_DESC 2u
/**
 * @brief Packed rings: bit 15 of an index given to svd_vq_set_base() or
 *        returned by svd_vq_base() is the wrap counter, bits 0-14 the ring
 *        position (the vhost-user SET/GET_VRING_BASE encoding: the 32-bit
 *        value is next_avail | next_used << 16).
 */
#define SVD_VQ_WRAP_BIT 0x8000u

/** @brief One descriptor of a popped chain, copied out of guest memory once. */
typedef struct svd_vq_desc {
    uint64_t addr;  /**< Guest-physical address of the buffer (checked to be backed). */
    uint32_t len;   /**< Length in bytes. */
    uint16_t flags; /**< Only ::SVD_VRING_DESC_F_WRITE is meaningful to the caller. */
    uint8_t *host;  /**< Host address of the whole buffer when it lies in one guest memory region, else NULL
                         (it crosses a region edge, or len is 0). Valid while the queue stays usable with the map
                         it was popped under (same generation, no reset or disable since). */
} svd_vq_desc;

/**
 * @brief A popped descriptor chain: the completion token plus the segments.
 *
 * Allocated by the caller, with caller storage for the segments
 * (svd_vq_chain_init()). The engine fills it in svd_vq_pop() and consumes it
 * in svd_vq_push(). The caller MUST NOT modify the token fields.
 */
typedef struct svd_vq_chain {
    svd_vq_desc *segs;     /**< Caller storage for segments. */
    uint32_t cap;          /**< Capacity of @c segs. */
    uint32_t nsegs;        /**< Segments recorded (<= cap). */
    uint32_t ndesc;        /**< Descriptors in the chain (may exceed nsegs, see @c truncated). */
    uint32_t readable_len; /**< Bytes of device-readable buffers recorded in @c segs. */
    uint32_t writable_len; /**< Bytes of device-writable buffers recorded in @c segs. */
    bool truncated;        /**< The chain had more segments than @c cap; the rest were validated, not recorded. */
    bool valid;            /**< Token: set by svd_vq_pop(), cleared by svd_vq_push(). */
    uint16_t head;         /**< Token: head descriptor index (packed rings: the buffer id). */
    uint16_t slots;        /**< Token: ring descriptors the chain occupies (packed rings). */
    uint32_t epoch;        /**< Token: queue epoch at pop time. */
} svd_vq_chain;

/** @brief Which ring of a queue an address names. */
typedef enum svd_vq_ring {
    SVD_VQ_RING_DESC = 0, /**< Descriptor table (virtio-mmio QueueDesc, virtio-pci queue_desc). */
    SVD_VQ_RING_AVAIL,    /**< Available ring, the driver area (QueueDriver, queue_driver). */
    SVD_VQ_RING_USED      /**< Used ring, the device area (QueueDevice, queue_device). */
} svd_vq_ring;

/**
 * @brief Split virtqueue state. Caller-allocated; about 4 KiB (one in-flight bit per possible head).
 *
 * Opaque: the members are private to the engine and SHALL NOT be read or
 * written by any other module, in the core or outside it; use the functions
 * of this header.
 */
typedef struct svd_vq {
    uint16_t max;             /**< Largest size the queue accepts (svd_vq_init()). */
    uint16_t size;            /**< Queue size (preset to @c max on init and reset). */
    uint64_t desc_gpa;        /**< Descriptor table guest address. */
    uint64_t avail_gpa;       /**< Available ring guest address. */
    uint64_t used_gpa;        /**< Used ring guest address. */
    bool event_idx;           /**< VIRTIO_F_RING_EVENT_IDX negotiated. */
    bool indirect;            /**< VIRTIO_F_RING_INDIRECT_DESC negotiated. */
    bool enabled;             /**< svd_vq_enable() succeeded and no reset since. */
    bool broken;              /**< A protocol error latched; only svd_vq_reset() clears it. */
    bool packed;              /**< Packed ring format (svd_vq_set_format()). */
    uint8_t *desc;            /**< Host address of the descriptor table (valid while enabled). */
    bool desc_aligned;        /**< @c desc is 8-byte aligned: descriptors are read with two 64-bit loads. */
    uint8_t *avail;           /**< Host address of the available ring (valid while enabled). */
    uint8_t *used;            /**< Host address of the used ring (valid while enabled). */
    uint32_t gmem_generation; /**< Generation of the memory map the ring pointers came from. */
    uint16_t last_avail_idx;  /**< Next available-ring slot to consume (packed: position | wrap << 15). */
    uint16_t used_idx;        /**< Next used-ring slot to fill (packed: position | wrap << 15). */
    uint16_t signalled_used;  /**< used_idx at the last interrupt decision. */
    bool signalled_valid;     /**< @c signalled_used is meaningful. */
    uint32_t inflight;        /**< Heads popped and not yet pushed. */
    uint32_t inflight_slots;  /**< Packed: ring descriptors held by the chains in flight. */
    uint32_t epoch;           /**< Incremented by every reset; invalidates outstanding chains. */
    uint32_t inflight_map[SVD_VQ_MAX_SIZE / 32u]; /**< One bit per head in flight. */
} svd_vq;

/** @brief Prepare @p c to receive chains, with @p cap segments of storage at @p segs. */
void svd_vq_chain_init(svd_vq_chain *c, svd_vq_desc *segs, uint32_t cap);

/**
 * @brief Initialise @p q: disabled, size preset to @p max, addresses 0, epoch 0.
 * @param q the queue
 * @param max largest size the queue accepts: a power of two <= ::SVD_VQ_MAX_SIZE
 * @return ::SVD_ERR_INVALID_ARG for NULL or a bad @p max (@p q untouched).
 */
SVD_MUST_USE svd_result svd_vq_init(svd_vq *q, uint32_t max);

/**
 * @brief Reset the queue: disable, forget configuration (size back to the
 *        maximum), drop every in-flight request (their chains can no longer
 *        be pushed), clear the broken latch.
 */
void svd_vq_reset(svd_vq *q);

/*
 * Configuration. Every setter below is allowed only while the queue is
 * disabled: on an enabled queue it returns ::SVD_ERR_PROTOCOL with
 * ::SVD_WHY_QUEUE_ENABLED and changes nothing (the device engine latches
 * NEEDS_RESET; the queue itself is not latched broken).
 */

/**
 * @brief Set the queue size.
 * @return ::SVD_ERR_PROTOCOL (::SVD_WHY_QUEUE_SIZE, queue latched broken) if
 *         @p size is 0, not a power of two or above the queue's maximum (the
 *         value is not stored).
 */
SVD_MUST_USE svd_result svd_vq_set_size(svd_vq *q, uint32_t size);

/** @brief Current size. */
uint16_t svd_vq_size(const svd_vq *q);

/** @brief Largest size the queue accepts. */
uint16_t svd_vq_max(const svd_vq *q);

/**
 * @brief Set the guest-physical address of @p ring; checked by svd_vq_enable().
 * @return ::SVD_ERR_INVALID_ARG for an unknown ring.
 */
SVD_MUST_USE svd_result svd_vq_set_addr(svd_vq *q, svd_vq_ring ring, uint64_t gpa);

/**
 * @brief Replace the low (@p high false) or high 32 bits of the address of
 *        @p ring, keeping the other half (the 32-bit register pairs of
 *        virtio-mmio and virtio-pci).
 * @return ::SVD_ERR_INVALID_ARG for an unknown ring.
 */
SVD_MUST_USE svd_result svd_vq_set_addr_half(svd_vq *q, svd_vq_ring ring, bool high, uint32_t val);

/** @brief Guest-physical address of @p ring (0 for an unknown ring). */
uint64_t svd_vq_addr(const svd_vq *q, svd_vq_ring ring);

/** @brief Record the negotiated ring features. */
SVD_MUST_USE svd_result svd_vq_set_features(svd_vq *q, bool event_idx, bool indirect);

/**
 * @brief Choose the ring format: packed (VIRTIO_F_RING_PACKED negotiated) or
 *        split, and set both indices where a new ring of that format starts
 *        (split 0; packed position 0 with wrap counter 1, ::SVD_VQ_WRAP_BIT).
 *        A caller that resumes a ring sets its base after this. Reset sets
 *        split.
 */
SVD_MUST_USE svd_result svd_vq_set_format(svd_vq *q, bool packed);

/**
 * @brief The checks svd_vq_enable() makes on a packed ring, before it is a
 *        queue's (see svd_vq_check_rings()).
 * @param max the queue's largest size
 * @param size the queue size
 * @param desc descriptor ring guest address
 * @param driver driver event suppression structure guest address
 * @param device device event suppression structure guest address
 * @param m the guest memory map to check against
 * @return ::SVD_OK when svd_vq_enable() would accept the rings over @p m;
 *         ::SVD_ERR_PROTOCOL with ::SVD_WHY_QUEUE_SIZE, ::SVD_WHY_RING_ALIGN
 *         or ::SVD_WHY_RING_MEMORY otherwise.
 */
SVD_MUST_USE svd_result svd_vq_check_rings_packed(uint32_t max, uint32_t size, uint64_t desc, uint64_t driver,
                                                  uint64_t device, const svd_gmem *m);

/**
 * @brief Set the next available index to consume and the next used index
 *        (vhost-user SET_VRING_BASE). Packed rings: each carries its wrap
 *        counter in ::SVD_VQ_WRAP_BIT; the positions are checked below the
 *        queue size by svd_vq_enable().
 */
SVD_MUST_USE svd_result svd_vq_set_base(svd_vq *q, uint16_t last_avail_idx, uint16_t used_idx);

/**
 * @brief Where a restart of the queue resumes (vhost-user GET_VRING_BASE):
 *        the next available index with the requests still in flight handed
 *        back (they are re-served, not lost), and the next used index
 *        (packed rings: with their wrap counters, ::SVD_VQ_WRAP_BIT).
 */
void svd_vq_base(const svd_vq *q, uint16_t *next_avail, uint16_t *next_used);

/** @brief True while the queue is enabled (svd_vq_enable() succeeded, no disable/reset since). */
bool svd_vq_enabled(const svd_vq *q);

/**
 * @brief Validate size and rings against @p m and start the queue.
 *
 * The host ring pointers are cached; they stay valid only while @p m keeps
 * its generation. After any change of the map the caller MUST disable and
 * enable again (pop/push refuse with ::SVD_ERR_STATE otherwise).
 * @return ::SVD_ERR_STATE if already enabled or latched broken; ::SVD_ERR_PROTOCOL
 *         (queue latched broken) for a bad size, alignment or ring placement,
 *         including ring host addresses not naturally aligned for the index atomics.
 */
SVD_MUST_USE svd_result svd_vq_enable(svd_vq *q, const svd_gmem *m);

/**
 * @brief The checks svd_vq_enable() makes, on a configuration that is not
 *        (yet) a queue's: a host validating a request before it changes
 *        anything (vhost-user: a new memory table, a ring about to start).
 * @param max the queue's largest size
 * @param size the queue size
 * @param desc descriptor table guest address
 * @param avail available ring guest address
 * @param used used ring guest address
 * @param event_idx VIRTIO_F_RING_EVENT_IDX (the rings carry the event fields)
 * @param m the guest memory map to check against
 * @return ::SVD_OK when svd_vq_enable() would accept it over @p m;
 *         ::SVD_ERR_INVALID_ARG if @p m is NULL; ::SVD_ERR_PROTOCOL with
 *         the rule (::SVD_WHY_QUEUE_SIZE, ::SVD_WHY_RING_ALIGN,
 *         ::SVD_WHY_RING_MEMORY) otherwise. Changes nothing.
 */
SVD_MUST_USE svd_result svd_vq_check_rings(uint32_t max, uint32_t size, uint64_t desc, uint64_t avail, uint64_t used,
                                           bool event_idx, const svd_gmem *m);

/**
 * @brief Stop the queue without forgetting its configuration or indices
 *        (vhost-user GET_VRING_BASE). In-flight chains are dropped: the epoch
 *        advances, so they can never be pushed. The broken latch is kept.
 */
void svd_vq_disable(svd_vq *q);

/**
 * @brief Take the next available chain.
 *
 * On success @p c holds the token and up to c->cap segments; the head is in
 * flight until svd_vq_push(). @p c MUST have been prepared with
 * svd_vq_chain_init() and MUST NOT hold an outstanding token.
 * @return ::SVD_OK; ::SVD_ERR_EMPTY if no buffer is available (avail_event was
 *         published when EVENT_IDX is on); ::SVD_ERR_STATE if the queue is
 *         disabled or broken, the map changed since enable, or @p c still
 *         holds a token; ::SVD_ERR_PROTOCOL if the driver broke a rule (the
 *         queue latches broken; nothing was consumed). On failure every field
 *         of @p c is unchanged; the contents of its segment storage are not
 *         meaningful.
 */
SVD_MUST_USE svd_result svd_vq_pop(svd_vq *q, const svd_gmem *m, svd_vq_chain *c);

/**
 * @brief Complete a chain with @p written bytes and publish it in the used ring.
 *
 * The used element is written before the used index (release ordering).
 * @p c's token is consumed.
 * @return ::SVD_ERR_STATE if @p c holds no token, comes from an earlier epoch, its
 *         head is not in flight, or the queue is disabled/broken or its map
 *         changed; ::SVD_ERR_INVALID_ARG if @p written > c->writable_len.
 *         Nothing is written on failure.
 */
SVD_MUST_USE svd_result svd_vq_push(svd_vq *q, const svd_gmem *m, svd_vq_chain *c, uint32_t written);

/**
 * @brief Decide whether the driver must be interrupted for the completions
 *        pushed since the last call (honours used_event with EVENT_IDX, else
 *        VRING_AVAIL_F_NO_INTERRUPT).
 * @param q    the queue
 * @param m    the guest memory map it was enabled with
 * @param need set to true when an interrupt is due
 * @return ::SVD_ERR_STATE if the queue is not enabled, broken or the map changed.
 */
SVD_MUST_USE svd_result svd_vq_need_interrupt(svd_vq *q, const svd_gmem *m, bool *need);

#endif /* SAFEVDEV_VIRTQUEUE_H */
