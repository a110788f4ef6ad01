/**
 * @file mpq_qmp.h
 * @brief The daemon's small QMP client: carries a watchdog action to QEMU
 *        and follows whether the VM runs (internal to qemu-remote-vdev).
 *
 * QEMU's multi-process protocol has no message from the device to QEMU, and
 * a watchdog inside QEMU's own remote process (-machine x-remote) acts on
 * that process, not on the guest (seen here: the guest is never reset). The
 * daemon therefore reaches the VM through QEMU's QMP socket (give it a
 * `-qmp unix:PATH,server=on,wait=off` of its own).
 *
 * Life cycle: the daemon starts before QEMU, so the client tries the path
 * every ::MPQ_QMP_RETRY_NS until QEMU listens there; then it reads the
 * greeting, sends qmp_capabilities and query-status, and is ready. Every
 * line QEMU sends is validated (a JSON object of at most ::MPQ_QMP_MAX_LINE
 * bytes, strict RFC 8259 syntax, nesting at most ::MPQ_JSON_MAX_DEPTH; the
 * greeting, replies carrying our id, events with a name) and anything else
 * ends the connection, as do a missing greeting or reply in time and QEMU
 * going away; the client then starts over. While connected it follows the
 * STOP and RESUME events so the watchdog's clock can stand still while the
 * VM does (QEMU's own i6300esb counts on the virtual clock, which stops too).
 *
 * An action asked for while QMP is not ready waits, and goes out as soon as
 * the client is ready; one that was sent is never sent again (QEMU may have
 * carried it out before the connection broke).
 *
 * Thread-safety: none (the daemon's one loop).
 */
#ifndef MPQ_QMP_H
#define MPQ_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

/** @brief Longest line accepted from QEMU (its greeting and replies are a few hundred bytes). */
#define MPQ_QMP_MAX_LINE 16384u
/** @brief Deepest JSON nesting accepted. */
#define MPQ_JSON_MAX_DEPTH 32
/** @brief Interval between connection attempts while QEMU does not listen yet (100 ms). */
#define MPQ_QMP_RETRY_NS UINT64_C(100000000)
/** @brief Time QEMU has to send its greeting after we connected (it sends it once its main loop runs). */
#define MPQ_QMP_GREETING_NS UINT64_C(30000000000)
/** @brief Time QEMU has to answer a command. */
#define MPQ_QMP_REPLY_NS UINT64_C(5000000000)

/** @brief Stage-2 actions the daemon can ask QEMU for (`--action`). */
enum mpq_action {
    MPQ_ACTION_RESET = 0, /**< system_reset */
    MPQ_ACTION_POWEROFF,  /**< quit: QEMU exits at once, like -watchdog-action poweroff (no ACPI request a hung guest would ignore) */
    MPQ_ACTION_PAUSE,     /**< stop */
    MPQ_ACTION_NONE       /**< logged only */
};

/** @brief Connection state. */
enum mpq_qmp_state {
    MPQ_QMP_DOWN = 0,  /**< Not connected; retrying at @c retry_at. */
    MPQ_QMP_GREETING,  /**< Connected, waiting for {"QMP": ...}. */
    MPQ_QMP_CAPS,      /**< qmp_capabilities sent. */
    MPQ_QMP_STATUS,    /**< query-status sent. */
    MPQ_QMP_READY,     /**< Negotiated; actions go out. */
    MPQ_QMP_ACTION     /**< An action command is waiting for its reply. */
};

/** @brief Verdict on one line from QEMU. */
enum mpq_qmp_verdict {
    MPQ_QMP_OK = 0,   /**< Understood. */
    MPQ_QMP_BAD       /**< Not what QEMU sends at this point: the connection ends. */
};

/** @brief The client. */
typedef struct mpq_qmp {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /**< QEMU's QMP socket. */
    int fd;                     /**< Connected socket, -1 when down. */
    enum mpq_qmp_state state;   /**< Where the conversation is. */
    char in[MPQ_QMP_MAX_LINE];  /**< Bytes of the line being received. */
    size_t in_len;              /**< Bytes in @c in. */
    char out[256];              /**< Command being sent. */
    size_t out_len;             /**< Bytes in @c out. */
    size_t out_off;             /**< Bytes of @c out already sent. */
    uint64_t next_id;           /**< Id of the next command. */
    uint64_t wait_id;           /**< Id of the command awaiting its reply. */
    uint64_t timeout_at;        /**< When the greeting or the reply is overdue. */
    uint64_t retry_at;          /**< Next connection attempt. */
    bool vm_running;            /**< VM state QEMU reported (true when unknown). */
    bool pending;               /**< An action waits to be sent. */
    enum mpq_action action;     /**< The action to send. */
    uint64_t fired_at;          /**< When the pending action was asked for. */
    uint64_t connects;          /**< Negotiated connections. */
    uint64_t sent;              /**< Actions sent. */
    uint64_t confirmed;         /**< Actions QEMU answered with a return. */
    uint64_t refused;           /**< Actions QEMU answered with an error, or left unanswered. */
    uint64_t bad_lines;         /**< Lines that ended a connection. */
    bool logged_down;           /**< "cannot connect" reported once per outage. */
} mpq_qmp;

/** @brief Stable name of @p a ("reset", ...). */
const char *mpq_action_name(enum mpq_action a);
/** @brief QMP command that carries out @p a ("system_reset", ...), NULL for none. */
const char *mpq_action_command(enum mpq_action a);

/**
 * @brief Initialise @p q for the socket at @p path (at most sizeof(path)-1
 *        bytes; NULL or empty: no QMP, every call is a no-op).
 */
void mpq_qmp_init(mpq_qmp *q, const char *path, uint64_t now);

/** @brief True when a QMP path was given. */
bool mpq_qmp_enabled(const mpq_qmp *q);

/** @brief The time-driven part: connect when due, end an overdue conversation. */
void mpq_qmp_poll(mpq_qmp *q, uint64_t now);

/** @brief The socket is readable and/or writable. */
void mpq_qmp_io(mpq_qmp *q, bool readable, bool writable, uint64_t now);

/** @brief True when bytes wait to be written (watch for writability). */
bool mpq_qmp_want_write(const mpq_qmp *q);

/** @brief When mpq_qmp_poll() must run next. */
uint64_t mpq_qmp_deadline(const mpq_qmp *q);

/** @brief The watchdog fired: carry out @p a now, or as soon as QMP is ready. */
void mpq_qmp_fire(mpq_qmp *q, enum mpq_action a, uint64_t now);

/** @brief Close the connection (no retry is scheduled sooner than the usual interval). */
void mpq_qmp_close(mpq_qmp *q, uint64_t now);

/**
 * @brief One complete line from QEMU (without its newline): validate it and
 *        advance the conversation. Socket-free (the fuzz target calls it).
 */
enum mpq_qmp_verdict mpq_qmp_line(mpq_qmp *q, const char *line, size_t len, uint64_t now);

/** @brief True when @p s[0..n) is one JSON value (RFC 8259) nested at most ::MPQ_JSON_MAX_DEPTH deep, surrounded by nothing but whitespace. */
bool mpq_json_valid(const char *s, size_t n);

/**
 * @brief In the JSON object @p s[0..n) (already valid), find member @p key
 *        (compared byte for byte; a key written with escapes never matches).
 *        On text that is not valid the result is unspecified, but no byte
 *        outside @p s[0..n) is read.
 * @param s the object
 * @param n its length
 * @param key the member name
 * @param val receives the offset of the member's value
 * @param vlen receives its length
 * @return 1 found once, 0 absent, -1 not an object or the key appears twice.
 */
int mpq_json_get(const char *s, size_t n, const char *key, size_t *val, size_t *vlen);

#endif /* MPQ_QMP_H */
