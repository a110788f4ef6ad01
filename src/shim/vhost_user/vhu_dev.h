/**
 * @file vhu_dev.h
 * @brief One vhost-user entropy instance: the connection-independent device
 *        state and the message dispatcher (internal to the daemon).
 *
 *
 * The dispatcher is socket-free: it takes one message (header, payload,
 * received fds) and returns a verdict plus an optional reply. It owns every fd
 * handed to it: each one is either kept (kick/call/err) or closed before it
 * returns, on every path. Only SET_MEM_TABLE makes syscalls on the peer's
 * behalf (mmap/munmap). That keeps it callable from a fuzz target or a unit
 * test without any socket.
 *
 * Not public API (that is include/safevdev/): documented here so that a
 * reviewer of the daemon reads the same contracts the code keeps.
 *
 * Thread-safety: none. The daemon runs one epoll loop in one thread; a
 * ::vhu_dev is only ever touched from that thread (or one fuzz/test thread).
 */
#ifndef VHU_DEV_H
#define VHU_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safevdev/entropy.h"
#include "safevdev/gmem.h"
#include "safevdev/vdev.h"
#include "vhu_proto.h"

/** @brief Number of virtqueues of the entropy device (one requestq). */
#define VHU_NUM_QUEUES 1u
/** @brief Interval of the polling timer when the front-end gave no kick fd. */
#define VHU_POLL_NS UINT64_C(1000000)

/** @brief Protocol features we offer. CONFIG is not offered: the entropy
 * device has no configuration space and QEMU 7.2's vhost-user-rng registers
 * no config handler (it masks CONFIG off itself). */
#define VHU_OFFERED_PROTOCOL (VHU_PF_MQ | VHU_PF_REPLY_ACK | VHU_PF_RESET_DEVICE)

/** @brief Log levels of vhu_log(), set with `--log-level`. */
enum vhu_log_level {
    VHU_LOG_ERROR = 0, /**< Only errors (a connection dropped, a source failing). */
    VHU_LOG_WARN,      /**< Plus refused messages and retries (the default). */
    VHU_LOG_INFO,      /**< Plus connections and ring starts/stops. */
    VHU_LOG_DEBUG      /**< Plus every message. */
};
/** @brief The daemon's log level (a ::vhu_log_level); written only while
 * parsing the command line, before the loop starts. */
extern int vhu_log_level;
/**
 * @brief Write one line to stderr if @p level is at or below ::vhu_log_level.
 * @param level a ::vhu_log_level; out-of-range levels are dropped.
 * @param inst instance number, or -1 for the daemon as a whole.
 * @param fmt printf format; callers never pass peer-supplied text as @p fmt.
 */
void vhu_log(int level, int inst, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** @brief What the dispatcher decided about a message. */
enum vhu_verdict {
    VHU_V_OK = 0,       /**< Handled; send the reply if any. */
    VHU_V_REJECTED,     /**< Refused, state unchanged; an error reply (if the front-end asked for one) is in the reply. */
    VHU_V_DISCONNECT    /**< Malformed or unanswerable: drop this connection (only this one). */
};

/** @brief A reply the dispatcher wants sent (header built by the caller). */
typedef struct vhu_reply {
    bool send;                      /**< A reply is due. */
    uint32_t request;               /**< Request code being answered. */
    uint32_t size;                  /**< Payload bytes in @c payload (at most ::VHU_ADDR_SIZE). */
    uint8_t payload[VHU_ADDR_SIZE]; /**< Little-endian payload. */
} vhu_reply;

/** @brief One guest memory region of SET_MEM_TABLE and its mapping. */
typedef struct vhu_region {
    uint64_t gpa;         /**< Guest-physical start. */
    uint64_t size;        /**< Bytes; checked not to wrap, not to overlap another region, and to fit the fd. */
    uint64_t uaddr;       /**< Front-end virtual address of the region (ring addresses are given in these). */
    uint64_t mmap_offset; /**< Offset of the region in its fd. */
    void *map;            /**< mmap base (covers mmap_offset + size bytes); NULL when unmapped. */
    size_t map_len;       /**< Length passed to mmap, for munmap. */
    bool sealed;          /**< The fd carries F_SEAL_SHRINK: nobody can truncate it under the mapping. */
} vhu_region;

/** @brief The vring state the front-end set, and whether it is served. */
typedef struct vhu_vring {
    int kick_fd;            /**< Kick eventfd; -1: none. */
    int call_fd;            /**< Call eventfd; -1: none. */
    int err_fd;             /**< Error eventfd; -1: none. */
    bool polling;           /**< Kick given with the no-fd bit: poll the ring every ::VHU_POLL_NS. */
    bool started;           /**< A kick (fd or polling) was set since the last stop. */
    bool enabled;           /**< SET_VRING_ENABLE state. */
    bool num_set;           /**< SET_VRING_NUM seen. */
    bool addr_set;          /**< SET_VRING_ADDR seen. */
    bool running;           /**< The core queue is enabled and being served. */
    uint32_t num;           /**< Queue size (a power of two, at most the core's maximum). */
    uint64_t desc_ua;       /**< Descriptor table, front-end virtual address. */
    uint64_t avail_ua;      /**< Available ring, front-end virtual address. */
    uint64_t used_ua;       /**< Used ring, front-end virtual address. */
    uint16_t base_avail;    /**< Next available index when (re)started (packed: with its wrap counter in bit 15). */
    uint16_t base_used;     /**< Used index when (re)started (packed: with its wrap counter in bit 15). */
    uint64_t ring_features; /**< Features the running ring uses. */
} vhu_vring;

/** @brief Hooks into the event loop; any may be NULL. */
typedef struct vhu_ops {
    /** The kick fd changes from @p old_fd to @p new_fd (either may be -1);
     * called before @p old_fd is closed, so the loop can stop watching it.
     * Returns false when @p new_fd cannot be watched: the loop then SHALL
     * still watch @p old_fd, and the dispatcher refuses the request with
     * nothing changed. With @p new_fd == -1 it SHALL return true. */
    bool (*kick_changed)(void *ctx, int old_fd, int new_fd);
    void *ctx; /**< Passed back to the hooks. */
} vhu_ops;

/** @brief Why a message or a ring was refused, for the per-instance counters. */
enum vhu_perr {
    VHU_PERR_FRAMING = 0, /**< Message incomplete within its deadline, oversized, truncated fds, reply not read. */
    VHU_PERR_FLAGS,       /**< Header flags: wrong version, reply bit, unknown bit. */
    VHU_PERR_UNKNOWN,     /**< Request type not served. */
    VHU_PERR_LAYOUT,      /**< Payload size or layout wrong for the request, or fds not matching the payload. */
    VHU_PERR_FDS,         /**< Number of fds wrong for the request. */
    VHU_PERR_REFUSED,     /**< Well-formed but refused on meaning (index, sizes, regions, addresses, unusable fd). */
    VHU_PERR_RING,        /**< The guest broke the ring protocol; the ring stopped. */
    VHU_PERR_FD_LOST,     /**< A kick fd hung up or failed, or a call/err fd could not be written. */
    VHU_PERR__COUNT       /**< Number of reasons; not a reason. */
};

/**
 * @brief Short stable name of a ::vhu_perr ("framing", "flags", ...).
 * @return a static string; "unknown-reason" when @p r is out of range.
 */
const char *vhu_perr_name(int r);

/** @brief One instance: core engines, memory table, vring and session state. */
typedef struct vhu_dev {
    svd_vdev vdev;                       /**< The core's composed engine (no transport; points at @c ent and @c gmem). */
    svd_entropy ent;                     /**< The core's entropy model (with its rate limiter). */
    svd_gmem gmem;                       /**< Guest memory as the core sees it (rebuilt on SET_MEM_TABLE). */
    vhu_region regions[VHU_MAX_REGIONS]; /**< The front-end's memory table. */
    vhu_vring vr;                        /**< The one requestq. */
    vhu_ops ops;                         /**< Event-loop hooks. */
    uint64_t features;                   /**< Acked by SET_FEATURES (masked to offered). */
    uint64_t protocol;                   /**< Acked protocol features. */
    uint64_t msgs;                       /**< Messages handled (statistics). */
    uint64_t rejected;                   /**< Messages refused (statistics). */
    uint64_t perr[VHU_PERR__COUNT];      /**< Protocol errors by ::vhu_perr (statistics, kept across sessions). */
    uint32_t nregions;                   /**< Regions in @c regions. */
    uint32_t gmem_gen;                   /**< Generation counter kept across rebuilds. */
    int inst;                            /**< Instance number for logs. */
    bool features_set;                   /**< SET_FEATURES seen in this session. */
    bool features_refused;               /**< The last SET_FEATURES named bits not offered: no ring starts until one is accepted. */
    bool owner;                          /**< SET_OWNER seen in this session. */
    bool need_process;                   /**< The ring (re)started: serve it now. */
    bool health_failed_logged;           /**< The source's health tests failed; logged once per episode. */
    bool require_sealed;                 /**< Refuse a region fd without F_SEAL_SHRINK (--require-sealed-memory); set after init. */
    uint64_t health_rct_seen;            /**< Repetition count failures at the last look (which test failed). */
} vhu_dev;

/**
 * @brief Initialise an instance.
 * @param d storage for the instance (fully overwritten).
 * @param inst instance number for logs.
 * @param cfg entropy engine configuration (rate limits), validated by the core.
 * @param now current time in ns, the rate limiter's start.
 * @param ops event-loop hooks, copied; may be NULL.
 * @return 0, or -1 if the core refused @p cfg. The instance keeps pointers into
 *         itself (engine to model and memory map): it MUST NOT be moved or copied.
 */
int vhu_dev_init(vhu_dev *d, int inst, const svd_entropy_cfg *cfg, uint64_t now, const vhu_ops *ops);

/**
 * @brief Handle one front-end message.
 *
 * Every field is validated before use (payload size per request, fd count per
 * request, queue index, region count/overlap/fit, ring addresses translated
 * through the memory table).
 * @param d the instance.
 * @param request request code from the header.
 * @param flags header flags (version and reply bits checked here).
 * @param payload exactly @p len bytes.
 * @param len the header's size field.
 * @param fds received fds; owned by the call from now on: each is kept or
 *        closed before it returns, on every path.
 * @param nfds number of @p fds.
 * @param reply filled with the reply to send, if any.
 * @return the verdict; on ::VHU_V_DISCONNECT the caller drops the connection
 *         and calls vhu_dev_disconnect().
 */
enum vhu_verdict vhu_dev_handle(vhu_dev *d, uint32_t request, uint32_t flags, const uint8_t *payload, size_t len,
                                int *fds, size_t nfds, vhu_reply *reply);

/**
 * @brief The connection is gone: stop the ring, unmap memory, close fds,
 *        forget the session (the rate limiter keeps its state).
 * @param d the instance; safe to call twice.
 */
void vhu_dev_disconnect(vhu_dev *d);

/**
 * @brief The loop saw the kick fd hang up or fail: stop watching it (through
 *        the kick_changed hook), close it and stop the ring. The ring is
 *        served again only after the front-end sends a new SET_VRING_KICK.
 * @param d the instance; no effect when it has no kick fd.
 */
void vhu_dev_kick_lost(vhu_dev *d);

/**
 * @brief Count one protocol error of reason @p r for this instance.
 * @param d the instance.
 * @param r a ::vhu_perr; out-of-range values are ignored.
 */
void vhu_dev_count_perr(vhu_dev *d, int r);

/**
 * @brief Serve the ring at time @p now.
 * @param d the instance.
 * @param now current time in ns.
 * @param wake set when the instance must be called again without a kick
 *        (rate limit, failing source, polling).
 * @param wake_at the time to call again, valid when @p wake is set.
 */
void vhu_dev_process(vhu_dev *d, uint64_t now, bool *wake, uint64_t *wake_at);

/**
 * @brief Write the instance's counters as one line on stderr, whatever the
 *        log level (SIGUSR1): requests, bytes, limiter deferrals, source
 *        failures, messages, refusals and protocol errors by ::vhu_perr.
 * @param d the instance.
 * @param connected whether a front-end is connected now.
 */
void vhu_dev_log_stats(const vhu_dev *d, bool connected);

/**
 * @brief Monotonic clock.
 * @return CLOCK_MONOTONIC in ns, or 0 if the clock cannot be read.
 */
uint64_t vhu_now_ns(void);


#endif
