/* One vhost-user entropy instance: the connection-independent device state
 * and the message dispatcher.
 *
 * The dispatcher is socket-free: it takes one message (header, payload,
 * received fds) and returns a verdict plus an optional reply. It owns every fd
 * handed to it: each one is either kept (kick/call/err) or closed before it
 * returns, on every path. Only SET_MEM_TABLE makes syscalls on the peer's
 * behalf (mmap/munmap). That keeps it callable from a fuzz target or a unit
 * test without any socket. */
#ifndef VHU_DEV_H
#define VHU_DEV_H

/* Internal to the daemon, not public API: hidden from the Doxygen site
 * (public API is include/safevdev/ only). */
/** @cond VHU_INTERNAL */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safevdev/entropy.h"
#include "safevdev/gmem.h"
#include "safevdev/virtqueue.h"
#include "vhu_proto.h"

/* Number of virtqueues of the entropy device (one requestq). */
#define VHU_NUM_QUEUES 1u
/* Interval of the polling timer when the front-end gave no kick fd. */
#define VHU_POLL_NS UINT64_C(1000000)

/* Virtio + vhost-user features we offer. */
#define VHU_OFFERED_FEATURES \
    (SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC | VHU_F_PROTOCOL_FEATURES)
/* Protocol features we offer. CONFIG is not offered: the entropy device has
 * no configuration space and QEMU 7.2's vhost-user-rng registers no config
 * handler (it masks CONFIG off itself). */
#define VHU_OFFERED_PROTOCOL (VHU_PF_MQ | VHU_PF_REPLY_ACK | VHU_PF_RESET_DEVICE)

enum vhu_log_level { VHU_LOG_ERROR = 0, VHU_LOG_WARN, VHU_LOG_INFO, VHU_LOG_DEBUG };
extern int vhu_log_level;
void vhu_log(int level, int inst, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* What the dispatcher decided about a message. */
enum vhu_verdict {
    VHU_V_OK = 0,       /* handled; send the reply if any */
    VHU_V_REJECTED,     /* refused, state unchanged; an error reply is in *reply */
    VHU_V_DISCONNECT    /* malformed or unanswerable: drop this connection */
};

typedef struct vhu_reply {
    bool send;
    uint32_t request;
    uint32_t size;
    uint8_t payload[VHU_ADDR_SIZE];
} vhu_reply;

typedef struct vhu_region {
    uint64_t gpa;
    uint64_t size;
    uint64_t uaddr;
    uint64_t mmap_offset;
    void *map;        /* mmap base (covers mmap_offset + size bytes) */
    size_t map_len;
} vhu_region;

typedef struct vhu_vring {
    int kick_fd;      /* -1: none */
    int call_fd;
    int err_fd;
    bool polling;     /* kick given with the no-fd bit: poll the ring */
    bool started;     /* a kick (fd or polling) was set since the last stop */
    bool enabled;     /* SET_VRING_ENABLE state */
    bool num_set;
    bool addr_set;
    bool running;     /* the core queue is enabled and being served */
    uint32_t num;
    uint64_t desc_ua, avail_ua, used_ua;   /* front-end virtual addresses */
    uint16_t base_avail;                   /* next avail index when (re)started */
    uint16_t base_used;
    uint64_t ring_features;                /* features the running ring uses */
} vhu_vring;

/* Hooks into the event loop; any may be NULL. */
typedef struct vhu_ops {
    /* The kick fd changes from old_fd to new_fd (either may be -1); called
     * before old_fd is closed. */
    void (*kick_changed)(void *ctx, int old_fd, int new_fd);
    void *ctx;
} vhu_ops;

typedef struct vhu_dev {
    svd_vq vq;
    svd_entropy ent;
    svd_gmem gmem;
    vhu_region regions[VHU_MAX_REGIONS];
    vhu_vring vr;
    vhu_ops ops;
    uint64_t features;         /* acked by SET_FEATURES (masked to offered) */
    uint64_t protocol;         /* acked protocol features */
    uint64_t msgs;
    uint64_t rejected;
    uint32_t nregions;
    uint32_t gmem_gen;         /* generation counter kept across rebuilds */
    int inst;                  /* instance number for logs */
    bool features_set;
    bool owner;
    bool need_process;         /* the ring (re)started: serve it now */
} vhu_dev;

/* Initialise an instance; the entropy engine from cfg at time now. Returns 0, or -1. */
int vhu_dev_init(vhu_dev *d, int inst, const svd_entropy_cfg *cfg, uint64_t now, const vhu_ops *ops);

/* Handle one message. payload has exactly len bytes (len == hdr size field).
 * fds[0..nfds) are owned by the call from now on. */
enum vhu_verdict vhu_dev_handle(vhu_dev *d, uint32_t request, uint32_t flags, const uint8_t *payload, size_t len,
                                int *fds, size_t nfds, vhu_reply *reply);

/* The connection is gone: stop the ring, unmap memory, close fds, forget the
 * session (the rate limiter keeps its state). */
void vhu_dev_disconnect(vhu_dev *d);

/* Serve the ring at time now. wake and wake_at say when to call again without a kick. */
void vhu_dev_process(vhu_dev *d, uint64_t now, bool *wake, uint64_t *wake_at);

/* Monotonic clock in ns. */
uint64_t vhu_now_ns(void);

/** @endcond */

#endif
