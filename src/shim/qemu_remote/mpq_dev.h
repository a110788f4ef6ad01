/**
 * @file mpq_dev.h
 * @brief One PCI device served to QEMU 7.2's x-pci-proxy-dev: the
 *        connection-independent device state and the message dispatcher
 *        (internal to the qemu-remote-vdev daemon).
 *
 * The dispatcher is socket-free: it takes one message (command, size,
 * payload, received fds) and the current time, and returns a verdict plus the
 * reply to send and the effects the loop must apply (arm the timer, carry out
 * a watchdog action). It owns every fd handed to it: each one is kept (the
 * irqfd pair) or closed before it returns, on every path. The only syscalls
 * it makes for the peer are fstat/mmap/munmap of guest RAM (SYNC_SYSMEM),
 * readlink/fcntl on the irqfd pair (SET_IRQFD) and writes to the irqfd.
 * That keeps it callable from a fuzz target or a unit test without a socket.
 *
 * The device is the core's composed engine: the i6300ESB watchdog
 * (svd_esb_access) or virtio-entropy on the core's virtio-pci transport
 * (svd_vdev_access). Both decode configuration space and BAR0 themselves,
 * against the BAR the guest programmed through the configuration writes
 * this dispatcher forwards; an access the device does not decode gets the
 * engine's defined answer and is counted.
 *
 * Not public API (that is include/safevdev/): documented here so that a
 * reviewer of the daemon reads the same contracts the code keeps.
 *
 * Thread-safety: none. The daemon runs one loop in one thread.
 */
#ifndef MPQ_DEV_H
#define MPQ_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mpq_proto.h"
#include "safevdev/entropy.h"
#include "safevdev/gmem.h"
#include "safevdev/vdev.h"
#include "safevdev/wdt_i6300esb.h"

/** @brief Program name used in every log line. */
#define MPQ_PROG "qemu-remote-vdev"

/** @brief Log levels of mpq_log(), set with `--log-level`. */
enum mpq_log_level {
    MPQ_LOG_NOTE = -1, /**< Always written (metrics asked for with SIGUSR1, the final totals). */
    MPQ_LOG_ERROR = 0, /**< Only errors (a connection dropped, an action that could not be carried out). */
    MPQ_LOG_WARN,      /**< Plus refused accesses, late actions, QMP trouble (the default). */
    MPQ_LOG_INFO,      /**< Plus connections, memory tables, watchdog stages. */
    MPQ_LOG_DEBUG      /**< Plus every message. */
};
/** @brief The daemon's log level; written only while parsing the command line. */
extern int mpq_log_level;
/**
 * @brief Write one line to stderr if @p level is at or below ::mpq_log_level.
 * @param level a ::mpq_log_level (::MPQ_LOG_NOTE: always); out-of-range levels are dropped.
 * @param fmt printf format; callers never pass peer-supplied text as @p fmt.
 */
void mpq_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** @brief Monotonic clock: CLOCK_MONOTONIC in ns, or 0 if it cannot be read. */
uint64_t mpq_now_ns(void);

/** @brief Which device the process serves. */
enum mpq_kind {
    MPQ_DEV_I6300ESB = 0, /**< Intel 6300ESB watchdog (PCI 8086:25ab). */
    MPQ_DEV_ENTROPY       /**< virtio-entropy on virtio-pci modern (PCI 1af4:1044). */
};

/** @brief What the dispatcher decided about a message. */
enum mpq_verdict {
    MPQ_V_OK = 0,      /**< Handled; send the reply if one is due. */
    MPQ_V_DISCONNECT   /**< Malformed: end this connection (nothing else is affected). */
};

/** @brief One region of guest RAM from SYNC_SYSMEM and its mapping. */
typedef struct mpq_region {
    uint64_t gpa;     /**< Guest-physical start. */
    uint64_t size;    /**< Bytes (> 0, does not wrap, fits the file). */
    uint64_t offset;  /**< Offset of the region in its file. */
    dev_t st_dev;     /**< Identity of the file (to recognise a table sent again). */
    ino_t st_ino;     /**< Identity of the file. */
    void *map;        /**< mmap base (page-aligned), NULL when not mapped. */
    size_t map_len;   /**< Length passed to mmap. */
    uint8_t *host;    /**< Host address of @c gpa inside @c map. */
    bool sealed;      /**< The file carries F_SEAL_SHRINK: nobody can truncate it under the mapping. */
} mpq_region;

/** @brief Running totals, logged on SIGUSR1 and at exit. */
typedef struct mpq_stats {
    uint64_t msgs[MPQ_CMD__COUNT]; /**< Messages handled per command. */
    uint64_t malformed;            /**< Messages that ended a connection. */
    uint64_t undecoded;            /**< Accesses the device did not decode or refused (defined answer given). */
    uint64_t syncs_same;           /**< SYNC_SYSMEM tables equal to the one in place (nothing remapped). */
    uint64_t map_failures;         /**< SYNC_SYSMEM tables that could not be mapped (guest RAM then absent). */
    uint64_t irq_signals;          /**< Writes to the irqfd (line raised, or re-raised on resample). */
    uint64_t resamples;            /**< Resample notifications received. */
    uint64_t fires;                /**< Watchdog final-stage expiries. */
    uint64_t device_resets;        /**< Device resets (DEVICE_RESET, disconnects). */
    uint64_t latched;              /**< Times the virtio device latched DEVICE_NEEDS_RESET. */
    uint64_t driver_ok;            /**< Times the virtio driver set DRIVER_OK. */
} mpq_stats;

/** @brief Hooks into the event loop; any may be NULL. */
typedef struct mpq_ops {
    /** The resample fd changes from @p old_fd to @p new_fd (either may be -1);
     * called before @p old_fd is closed so the loop can stop watching it. */
    void (*resample_changed)(void *ctx, int old_fd, int new_fd);
    void *ctx; /**< Passed back to the hooks. */
} mpq_ops;

/** @brief How to build the device. */
typedef struct mpq_dev_cfg {
    enum mpq_kind kind;      /**< Device. */
    svd_entropy_cfg entropy; /**< ::MPQ_DEV_ENTROPY: the model's configuration (source, rate limits). */
} mpq_dev_cfg;

/** @brief What the loop must do after a call. */
typedef struct mpq_out {
    bool reply;        /**< A RET is due (the proxy waits for it). */
    uint64_t value;    /**< Its value (the read data, or 0). */
    bool fired;        /**< The watchdog's final stage expired: carry out the action once. */
    uint32_t fires;    /**< Expiries folded into this call. */
    bool timed;        /**< The device engine ran: @c deadline is its next one (otherwise the previous one stands). */
    uint64_t deadline; /**< Call mpq_dev_tick() at or after this time (SVD_NO_DEADLINE: not needed). */
} mpq_out;

/** @brief The device process's one device. */
typedef struct mpq_dev {
    enum mpq_kind kind;                   /**< Device. */
    svd_esb esb;                          /**< ::MPQ_DEV_I6300ESB engine. */
    svd_vdev vdev;                        /**< ::MPQ_DEV_ENTROPY composed engine (points at @c ent and @c gmem). */
    svd_entropy ent;                      /**< ::MPQ_DEV_ENTROPY model. */
    svd_gmem gmem;                        /**< Guest RAM as the core sees it (empty for the watchdog). */
    mpq_region regions[MPQ_MAX_FDS];      /**< The table in place. */
    uint32_t nregions;                    /**< Regions in @c regions. */
    uint32_t gmem_gen;                    /**< Generation counter kept across rebuilds. */
    int irq_fd;                           /**< irqfd (eventfd) from SET_IRQFD, -1 before. */
    int resample_fd;                      /**< Resample eventfd from SET_IRQFD, -1 before. */
    bool irq_level;                       /**< INTx level the device drives. */
    uint8_t status;                       /**< virtio device status after the last access (logged when it changes). */
    bool health_failed_logged;            /**< The source's health-test failure was logged (once per episode). */
    bool require_sealed;                  /**< Refuse guest RAM without F_SEAL_SHRINK (--require-sealed-memory); set after init. */
    uint64_t health_rct_seen;             /**< Repetition count failures already seen (to name the failing test). */
    mpq_ops ops;                          /**< Event-loop hooks. */
    mpq_stats st;                         /**< Totals. */
} mpq_dev;

/**
 * @brief Initialise @p d at time @p now.
 * @return 0, or -1 if the core refused the configuration. @p d keeps pointers
 *         into itself: it MUST NOT be moved or copied afterwards.
 */
int mpq_dev_init(mpq_dev *d, const mpq_dev_cfg *cfg, uint64_t now, const mpq_ops *ops);

/**
 * @brief Handle one message from the proxy.
 *
 * Checked before anything changes: the command is one the proxy sends; the
 * size is exactly the command's; the fd count is the command's (SYNC_SYSMEM
 * 1..8, SET_IRQFD 2, others 0); configuration accesses of 1..4 bytes inside
 * the 256-byte space; BAR accesses of 1, 2, 4 or 8 bytes that do not wrap,
 * with a boolean `memory`; memory tables whose entries are non-empty, do not
 * wrap, do not overlap, fit their files (regular files only), and whose
 * unused entries are zero; irqfds that are eventfds. Any violation ends the
 * connection (::MPQ_V_DISCONNECT) with the device state unchanged.
 * @param d the device.
 * @param cmd the header's command.
 * @param size the header's payload size.
 * @param payload exactly @p size bytes (may be NULL when @p size is 0).
 * @param fds received fds, owned by the call: each is kept or closed before
 *        it returns, on every path (slots are set to -1).
 * @param nfds number of @p fds.
 * @param now current time (ns, CLOCK_MONOTONIC).
 * @param out receives the reply and the effects.
 * @return the verdict.
 */
enum mpq_verdict mpq_dev_handle(mpq_dev *d, uint32_t cmd, uint64_t size, const uint8_t *payload, int *fds,
                                size_t nfds, uint64_t now, mpq_out *out);

/** @brief The deadline a previous call asked for came: bring the device up to @p now. */
void mpq_dev_tick(mpq_dev *d, uint64_t now, mpq_out *out);

/** @brief The resample fd is readable: consume it and raise the line again if the device still drives it. */
void mpq_dev_resample(mpq_dev *d);

/**
 * @brief The connection is gone: reset the device (as a new machine would
 *        see it), unmap guest RAM, close the irqfds. Safe to call twice.
 */
void mpq_dev_disconnect(mpq_dev *d, uint64_t now);

/** @brief Stable name of command @p cmd ("SYNC_SYSMEM", ...), "unknown" otherwise. */
const char *mpq_cmd_name(uint32_t cmd);

/** @brief Write the totals (and the device's own view) as one log line at @p level. */
void mpq_dev_log_stats(const mpq_dev *d, int level);

#endif /* MPQ_DEV_H */
