/* vhost-user entropy instance: message validation and dispatch.
 *
 * Every message is checked in three steps before anything changes:
 *  1. structure: flags, payload size for the request, fd count for the
 *     request (violations end the connection: the peer is not speaking the
 *     protocol and nothing it says afterwards can be trusted);
 *  2. meaning: queue index, sizes, region layout, ring addresses (violations
 *     are refused with state unchanged; the front-end gets an error reply if
 *     it asked for one, otherwise the connection ends, because a front-end
 *     that believes a refused request took effect would go on wrongly);
 *  3. effect.
 * The core's composed engine (svd_vdev, no emulated transport, the entropy
 * model plugged in) does every ring access and the whole notification chain;
 * this file only configures it from the front-end's messages and applies its
 * effects (signal the call fd, report a latched failure on the err fd). It
 * never touches guest memory itself. */
#include "vhu_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safevdev/span.h"

int vhu_log_level = VHU_LOG_WARN;

void vhu_log(int level, int inst, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    va_list ap;
    if (level > vhu_log_level || level < 0 || level > (int)VHU_LOG_DEBUG) {
        return;
    }
    if (inst >= 0) {
        (void)fprintf(stderr, "vhost-user-entropy[%d]: %s: ", inst, names[level]);
    } else {
        (void)fprintf(stderr, "vhost-user-entropy: %s: ", names[level]);
    }
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
}

uint64_t vhu_now_ns(void)
{
    struct timespec ts;
    if (SVD_NEVER(clock_gettime(CLOCK_MONOTONIC, &ts) != 0)) { /* SVD-COV-002 */
        return 0;
    }
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

const char *vhu_perr_name(int r)
{
    static const char *const names[VHU_PERR__COUNT] = { "framing", "flags", "unknown", "layout",
                                                        "fds",     "refused", "ring", "fd-lost" };
    return (r >= 0 && r < (int)VHU_PERR__COUNT) ? names[r] : "unknown-reason";
}

void vhu_dev_count_perr(vhu_dev *d, int r)
{
    if (r >= 0 && r < (int)VHU_PERR__COUNT) {
        d->perr[r]++;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        (void)close(*fd);
        *fd = -1;
    }
}

static const char *req_name(uint32_t r)
{
    switch (r) {
    case VHU_GET_FEATURES: return "GET_FEATURES";
    case VHU_SET_FEATURES: return "SET_FEATURES";
    case VHU_SET_OWNER: return "SET_OWNER";
    case VHU_RESET_OWNER: return "RESET_OWNER";
    case VHU_SET_MEM_TABLE: return "SET_MEM_TABLE";
    case VHU_SET_VRING_NUM: return "SET_VRING_NUM";
    case VHU_SET_VRING_ADDR: return "SET_VRING_ADDR";
    case VHU_SET_VRING_BASE: return "SET_VRING_BASE";
    case VHU_GET_VRING_BASE: return "GET_VRING_BASE";
    case VHU_SET_VRING_KICK: return "SET_VRING_KICK";
    case VHU_SET_VRING_CALL: return "SET_VRING_CALL";
    case VHU_SET_VRING_ERR: return "SET_VRING_ERR";
    case VHU_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
    case VHU_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
    case VHU_GET_QUEUE_NUM: return "GET_QUEUE_NUM";
    case VHU_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
    case VHU_RESET_DEVICE: return "RESET_DEVICE";
    default: return "unknown";
    }
}

static void vring_init(vhu_vring *v)
{
    (void)memset(v, 0, sizeof(*v));
    v->kick_fd = -1;
    v->call_fd = -1;
    v->err_fd = -1;
}

int vhu_dev_init(vhu_dev *d, int inst, const svd_entropy_cfg *cfg, uint64_t now, const vhu_ops *ops)
{
    (void)memset(d, 0, sizeof(*d));
    d->inst = inst;
    if (ops != NULL) {
        d->ops = *ops;
    }
    vring_init(&d->vr);
    svd_gmem_init(&d->gmem);
    if (!svd_is_ok(svd_entropy_init(&d->ent, cfg, now))) {
        return -1;
    }
    svd_vdev_cfg vc;
    (void)memset(&vc, 0, sizeof(vc));
    vc.xport = SVD_XPORT_NONE;
    svd_entropy_model(&d->ent, &vc.model);
    vc.model.queue_max = (uint16_t)SVD_VQ_MAX_SIZE; /* the front-end chooses the size */
    /* The configuration is this file's constant one (SVD-COV-004). */
    if (SVD_NEVER(!svd_is_ok(svd_vdev_init(&d->vdev, &vc, &d->gmem)))) {
        return -1;
    }
    return 0;
}

/* Have the loop watch @fd instead of the current kick fd. False when it
 * cannot (the current one stays watched, nothing changed). */
static bool kick_watch(vhu_dev *d, int fd)
{
    if (d->ops.kick_changed == NULL || d->vr.kick_fd == fd) {
        return true;
    }
    return d->ops.kick_changed(d->ops.ctx, d->vr.kick_fd, fd);
}

/* Replace the kick fd; the loop already watches @fd (kick_watch()). */
static void kick_replace(vhu_dev *d, int fd)
{
    if (d->vr.kick_fd != fd) {
        close_fd(&d->vr.kick_fd);
    }
    d->vr.kick_fd = fd;
}

static void set_kick(vhu_dev *d, int fd)
{
    /* Stopping to watch (fd -1) cannot fail. */
    (void)kick_watch(d, fd);
    kick_replace(d, fd);
}

/* Stop serving the ring, remembering where to resume (the engine hands the
 * requests still in flight back, so the next start re-serves them instead
 * of losing the guest's buffers). */
static void ring_stop(vhu_dev *d)
{
    uint16_t avail = 0;
    uint16_t used = 0;
    /* Queue 0 exists: the stop cannot be refused. */
    const bool stopped = svd_is_ok(svd_vdev_queue_stop(&d->vdev, 0, &avail, &used));
    if (d->vr.running && SVD_ALWAYS(stopped)) { /* SVD-COV-010 */
        d->vr.base_avail = avail;
        d->vr.base_used = used;
    }
    d->vr.running = false;
}

/* Write a notification. The fd is non-blocking (set when it was received):
 * EAGAIN means an eventfd counter at its maximum or a full pipe, both
 * meaning the front-end has an unread notification already, which is all
 * a notification says. Any other failure (a pipe whose reader is gone, an
 * fd that takes no 8-byte write) drops the fd, as if the front-end had sent
 * the no-fd bit, and is logged once. */
static void signal_fd(vhu_dev *d, int *fd, const char *what)
{
    uint64_t one = 1;
    ssize_t n;
    if (*fd < 0) {
        return;
    }
    do {
        n = write(*fd, &one, sizeof(one));
    } while (n < 0 && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (n == (ssize_t)sizeof(one) || (n < 0 && errno == EAGAIN)) {
        return;
    }
    vhu_log(VHU_LOG_ERROR, d->inst, "%s fd cannot be written (%s): dropped", what,
            n < 0 ? strerror(errno) : "short write");
    d->perr[VHU_PERR_FD_LOST]++;
    close_fd(fd);
}

/* Notification fds are made non-blocking when they arrive, so that no
 * write or read on them can ever block the loop. */
static bool fd_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && ((fl & O_NONBLOCK) != 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

/* Front-end virtual address -> guest-physical, through a memory table. */
static bool ua_to_gpa_in(const vhu_region *regs, uint32_t n, uint64_t ua, uint64_t *gpa)
{
    for (uint32_t i = 0; i < n; i++) {
        const vhu_region *r = &regs[i];
        if (ua >= r->uaddr && ua - r->uaddr < r->size) {
            *gpa = r->gpa + (ua - r->uaddr);
            return true;
        }
    }
    return false;
}

static bool ua_to_gpa(const vhu_dev *d, uint64_t ua, uint64_t *gpa)
{
    return ua_to_gpa_in(d->regions, d->nregions, ua, gpa);
}

static bool vring_ready(const vhu_dev *d, const vhu_vring *v, uint32_t nregions)
{
    bool enabled = v->enabled || (d->features & VHU_F_PROTOCOL_FEATURES) == 0u;
    return v->started && enabled && v->num_set && v->addr_set && nregions > 0u && !d->features_refused;
}

static bool ring_ready(const vhu_dev *d)
{
    return vring_ready(d, &d->vr, d->nregions);
}

/* Validation before effect: would vring @v (as a request is about to
 * leave it) start on the memory table @regs/@n mapped as @g? True when it
 * would, or when it would not be ready to start at all. The core's own ring
 * checks (svd_vq_check_rings, the ones a queue start makes), so a request
 * that passes here cannot be refused after it changed something. */
static bool ring_would_start(const vhu_dev *d, const vhu_vring *v, const vhu_region *regs, uint32_t n,
                             const svd_gmem *g)
{
    uint64_t desc = 0;
    uint64_t avail = 0;
    uint64_t used = 0;
    if (!vring_ready(d, v, n)) {
        return true;
    }
    if (!ua_to_gpa_in(regs, n, v->desc_ua, &desc) || !ua_to_gpa_in(regs, n, v->avail_ua, &avail) ||
        !ua_to_gpa_in(regs, n, v->used_ua, &used)) {
        vhu_log(VHU_LOG_ERROR, d->inst, "ring addresses outside the memory table");
        return false;
    }
    const svd_result r =
        (d->features & SVD_F_RING_PACKED) != 0u
            ? svd_vq_check_rings_packed(SVD_VQ_MAX_SIZE, v->num, desc, avail, used, g)
            : svd_vq_check_rings(SVD_VQ_MAX_SIZE, v->num, desc, avail, used, (d->features & SVD_F_RING_EVENT_IDX) != 0u, g);
    if (!svd_is_ok(r)) {
        vhu_log(VHU_LOG_ERROR, d->inst, "ring refused by the queue engine: %s (%s)", svd_err_name(r.err),
                svd_why_name(r.why));
        return false;
    }
    return true;
}

/* The vring as ring_stop() leaves it: what the next start would use. */
static vhu_vring vring_stopped(const vhu_dev *d)
{
    vhu_vring v = d->vr;
    uint16_t avail = 0;
    uint16_t used = 0;
    /* Queue 0 of a host-driven engine: the question cannot be refused. */
    if (v.running && SVD_ALWAYS(svd_is_ok(svd_vdev_queue_base(&d->vdev, 0, &avail, &used)))) { /* SVD-COV-010 */
        v.base_avail = avail;
        v.base_used = used;
    }
    v.running = false;
    return v;
}

/* Start the core queue from the recorded configuration if everything is in
 * place. Returns false if the configuration was refused by the core. */
static bool ring_try_start(vhu_dev *d)
{
    vhu_vring *v = &d->vr;
    uint64_t desc = 0;
    uint64_t avail = 0;
    uint64_t used = 0;
    svd_result r;
    if (v->running || !ring_ready(d)) {
        return true;
    }
    /* SVD-COV-010: every caller had ring_would_start() accept this ring on
     * this table first; the checks stay as the last word. */
    if (SVD_NEVER(!ua_to_gpa(d, v->desc_ua, &desc)) || SVD_NEVER(!ua_to_gpa(d, v->avail_ua, &avail)) ||
        SVD_NEVER(!ua_to_gpa(d, v->used_ua, &used))) {
        vhu_log(VHU_LOG_ERROR, d->inst, "ring addresses outside the memory table");
        return false;
    }
    v->ring_features = d->features;
    svd_vq_setup s;
    (void)memset(&s, 0, sizeof(s));
    s.size = v->num;
    s.desc = desc;
    s.avail = avail;
    s.used = used;
    s.next_avail = v->base_avail;
    s.next_used = v->base_used;
    s.event_idx = (d->features & SVD_F_RING_EVENT_IDX) != 0u;
    s.indirect = (d->features & SVD_F_RING_INDIRECT_DESC) != 0u;
    s.packed = (d->features & SVD_F_RING_PACKED) != 0u;
    /* No SET_OWNER in this session: a front-end resuming a device whose
     * back-end it lost (QEMU 7.2 reconnects without the initialisation).
     * For a packed ring its base is then the previous start's, not where
     * the back-end got to (QEMU keeps no copy of that): let the core
     * resync when the ring says the base is stale. */
    s.resync = s.packed && !d->owner;
    svd_fx fx;
    r = svd_vdev_queue_start(&d->vdev, 0, &s, &fx);
    if (!svd_is_ok(r)) { /* a packed start position outside the ring is the queue engine's to refuse */
        vhu_log(VHU_LOG_ERROR, d->inst, "ring refused by the queue engine: %s (%s)", svd_err_name(r.err),
                svd_why_name(r.why));
        return false;
    }
    v->running = true;
    d->need_process = true;
    if (s.resync) {
        uint16_t a = v->base_avail;
        uint16_t u = v->base_used;
        /* Queue 0 exists and has just started, so its base can be read. */
        if (SVD_ALWAYS(svd_is_ok(svd_vdev_queue_base(&d->vdev, 0, &a, &u))) && /* SVD-COV-010 */
            (a != v->base_avail || u != v->base_used)) {
            vhu_log(VHU_LOG_WARN, d->inst,
                    "SET_VRING_BASE 0x%x: start position stale (a front-end that lost its back-end); resumed "
                    "where the guest's available buffers begin: avail 0x%x, used 0x%x",
                    (unsigned)v->base_avail | ((unsigned)v->base_used << 16), a, u);
        }
    }
    vhu_log(VHU_LOG_INFO, d->inst, "ring started: %s, size %u, avail 0x%x, used 0x%x, event_idx %d, indirect %d",
            s.packed ? "packed" : "split", v->num, v->base_avail, v->base_used, s.event_idx ? 1 : 0,
            s.indirect ? 1 : 0);
    return true;
}

static void unmap_regions(vhu_region *regs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (SVD_ALWAYS(regs[i].map != NULL)) { /* SVD-COV-010: every region of a table is mapped */
            (void)munmap(regs[i].map, regs[i].map_len);
            regs[i].map = NULL;
        }
    }
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    /* Callers have checked that neither range wraps. */
    return a < b + blen && b < a + alen;
}

/* Decode and check the regions of a SET_MEM_TABLE payload into nr[]. */
static enum vhu_verdict parse_regions(const vhu_dev *d, const uint8_t *p, size_t len, size_t nfds, vhu_region *nr,
                                      uint32_t *count)
{
    uint8_t buf[VHU_MEM_HDR_SIZE + VHU_MAX_REGIONS * VHU_MEM_REGION_SIZE];
    uint32_t n = svd_load_le32(p);
    svd_cursor c;

    if (n == 0u || n > VHU_MAX_REGIONS || len != VHU_MEM_HDR_SIZE + (size_t)n * VHU_MEM_REGION_SIZE) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: %u regions in %zu bytes", n, len);
        return VHU_V_DISCONNECT;
    }
    if (nfds != n) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: %u regions but %zu fds", n, nfds);
        return VHU_V_DISCONNECT;
    }
    (void)memcpy(buf, p, len); /* len <= sizeof(buf): n <= VHU_MAX_REGIONS checked above */
    svd_cursor_init(&c, svd_span_make(buf, len));
    /* The length was checked above: the cursor cannot run out (SVD-COV-003). */
    if (SVD_NEVER(!svd_is_ok(svd_cursor_skip(&c, VHU_MEM_HDR_SIZE)))) {
        return VHU_V_DISCONNECT;
    }
    for (uint32_t i = 0; i < n; i++) {
        vhu_region *r = &nr[i];
        uint64_t end = 0;
        /* SVD-COV-003: the reads cannot run out (the length was checked). */
        const bool ok = SVD_ALWAYS(svd_is_ok(svd_cursor_read_le64(&c, &r->gpa))) &&
                        SVD_ALWAYS(svd_is_ok(svd_cursor_read_le64(&c, &r->size))) &&
                        SVD_ALWAYS(svd_is_ok(svd_cursor_read_le64(&c, &r->uaddr))) &&
                        SVD_ALWAYS(svd_is_ok(svd_cursor_read_le64(&c, &r->mmap_offset))) && r->size != 0u &&
                        svd_is_ok(svd_add_u64(r->gpa, r->size, &end)) &&
                        svd_is_ok(svd_add_u64(r->uaddr, r->size, &end)) &&
                        svd_is_ok(svd_add_u64(r->mmap_offset, r->size, &end)) &&
                        SVD_ALWAYS(end <= (uint64_t)SIZE_MAX) /* SVD-COV-003: LP64 */ && end <= (uint64_t)INT64_MAX;
        if (!ok) {
            vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: region %u has a bad size or wraps", i);
            return VHU_V_REJECTED;
        }
        r->map_len = (size_t)end;
        for (uint32_t j = 0; j < i; j++) {
            if (ranges_overlap(r->gpa, r->size, nr[j].gpa, nr[j].size) ||
                ranges_overlap(r->uaddr, r->size, nr[j].uaddr, nr[j].size)) {
                vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: regions %u and %u overlap", j, i);
                return VHU_V_REJECTED;
            }
        }
    }
    *count = n;
    return VHU_V_OK;
}

/* Map every region and describe them in ng; on failure nothing stays mapped. */
static bool map_regions(const vhu_dev *d, vhu_region *nr, uint32_t n, const int *fds, svd_gmem *ng)
{
    for (uint32_t i = 0; i < n; i++) {
        struct stat st;
        /* A region reaching past the end of its file maps fine, then kills the
         * daemon with SIGBUS on the first access: refuse it here. */
        if (fstat(fds[i], &st) != 0 || SVD_NEVER(st.st_size < 0) /* SVD-COV-003 */ ||
            (uint64_t)st.st_size < (uint64_t)nr[i].map_len) {
            vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: region %u (%zu bytes) is larger than its file", i,
                    nr[i].map_len);
            unmap_regions(nr, i);
            return false;
        }
        /* A fd sealed against shrinking (QEMU's memory-backend-memfd seals by
         * default) cannot lose pages under the mapping, so no truncation
         * SIGBUS can come from it. F_GET_SEALS fails (EINVAL) for files that
         * are no memfd: unsealed. */
        const int seals = fcntl(fds[i], F_GET_SEALS);
        nr[i].sealed = (seals >= 0) && ((seals & F_SEAL_SHRINK) != 0);
        if (d->require_sealed && !nr[i].sealed) {
            vhu_log(VHU_LOG_ERROR, d->inst,
                    "SET_MEM_TABLE: region %u is not sealed against shrinking (F_SEAL_SHRINK): refused (--require-sealed-memory)",
                    i);
            unmap_regions(nr, i);
            return false;
        }
        void *m = mmap(NULL, nr[i].map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
        if (m == MAP_FAILED) {
            vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: mmap of region %u (%zu bytes) failed: %s", i,
                    nr[i].map_len, strerror(errno));
            unmap_regions(nr, i);
            return false;
        }
        nr[i].map = m;
    }
    svd_gmem_init(ng);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *host = (uint8_t *)nr[i].map + nr[i].mmap_offset;
        svd_result r = svd_gmem_add(ng, nr[i].gpa, nr[i].size, host, SVD_GMEM_READ | SVD_GMEM_WRITE);
        /* Cannot fail: non-empty, non-wrapping, non-overlapping, at most 8 < the map's room (SVD-COV-004). */
        if (SVD_NEVER(!svd_is_ok(r))) {
            vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: region %u refused: %s", i, svd_err_name(r.err));
            unmap_regions(nr, n);
            return false;
        }
    }
    return true;
}

/* Build a new table from the message; on success the old one is replaced
 * (ring stopped first, restarted after, because the core caches ring
 * pointers per memory generation). On failure nothing changes. */
static enum vhu_verdict set_mem_table(vhu_dev *d, const uint8_t *p, size_t len, const int *fds, size_t nfds)
{
    vhu_region nr[VHU_MAX_REGIONS];
    svd_gmem ng;
    uint32_t n = 0;
    enum vhu_verdict vd;

    if (len < VHU_MEM_HDR_SIZE) {
        return VHU_V_DISCONNECT;
    }
    (void)memset(nr, 0, sizeof(nr));
    vd = parse_regions(d, p, len, nfds, nr, &n);
    if (vd != VHU_V_OK) {
        return vd;
    }
    if (!map_regions(d, nr, n, fds, &ng)) {
        return VHU_V_REJECTED;
    }
    ng.generation = d->gmem_gen + 1u;
    {
        /* A ring that runs (or would start) must fit the new table, else
         * the table is refused before anything changes. */
        const vhu_vring v = vring_stopped(d);
        if (!ring_would_start(d, &v, nr, n, &ng)) {
            vhu_log(VHU_LOG_ERROR, d->inst, "SET_MEM_TABLE: the ring does not fit the new table: refused");
            unmap_regions(nr, n);
            return VHU_V_REJECTED;
        }
    }
    /* Commit. */
    ring_stop(d);
    unmap_regions(d->regions, d->nregions);
    (void)memcpy(d->regions, nr, sizeof(nr));
    d->nregions = n;
    d->gmem_gen++;
    ng.generation = d->gmem_gen;
    d->gmem = ng;
    vhu_log(VHU_LOG_INFO, d->inst, "memory table: %u regions", n);
    return ring_try_start(d) ? VHU_V_OK : VHU_V_REJECTED;
}

/* Payload size each served request carries (SET_MEM_TABLE: the fixed part;
 * its regions are checked by set_mem_table()). */
typedef struct req_size {
    uint32_t req;
    uint32_t size;
} req_size;

static const req_size k_sizes[] = {
    { VHU_GET_FEATURES, 0 },
    { VHU_SET_FEATURES, VHU_U64_SIZE },
    { VHU_SET_OWNER, 0 },
    { VHU_RESET_OWNER, 0 },
    { VHU_SET_MEM_TABLE, 0 },
    { VHU_SET_VRING_NUM, VHU_STATE_SIZE },
    { VHU_SET_VRING_ADDR, VHU_ADDR_SIZE },
    { VHU_SET_VRING_BASE, VHU_STATE_SIZE },
    { VHU_GET_VRING_BASE, VHU_STATE_SIZE },
    { VHU_SET_VRING_KICK, VHU_U64_SIZE },
    { VHU_SET_VRING_CALL, VHU_U64_SIZE },
    { VHU_SET_VRING_ERR, VHU_U64_SIZE },
    { VHU_GET_PROTOCOL_FEATURES, 0 },
    { VHU_SET_PROTOCOL_FEATURES, VHU_U64_SIZE },
    { VHU_GET_QUEUE_NUM, 0 },
    { VHU_SET_VRING_ENABLE, VHU_STATE_SIZE },
    { VHU_RESET_DEVICE, 0 },
};

/* Expected payload size for a request; false for a request we do not serve. */
static bool expected_size(uint32_t req, size_t *sz)
{
    for (size_t i = 0; i < sizeof(k_sizes) / sizeof(k_sizes[0]); i++) {
        if (k_sizes[i].req == req) {
            *sz = k_sizes[i].size;
            return true;
        }
    }
    return false;
}

static void reply_u64(vhu_reply *rep, uint32_t req, uint64_t v)
{
    rep->send = true;
    rep->request = req;
    rep->size = VHU_U64_SIZE;
    svd_store_le64(rep->payload, v);
}

static void reply_state(vhu_reply *rep, uint32_t req, uint32_t idx, uint32_t num)
{
    rep->send = true;
    rep->request = req;
    rep->size = VHU_STATE_SIZE;
    svd_store_le32(rep->payload, idx);
    svd_store_le32(rep->payload + 4, num);
}

static void forget_session(vhu_dev *d)
{
    ring_stop(d);
    set_kick(d, -1);
    close_fd(&d->vr.call_fd);
    close_fd(&d->vr.err_fd);
    vring_init(&d->vr);
    d->features = 0;
    d->features_set = false;
    d->features_refused = false;
}

/* The feature bits GET_FEATURES offers: the device's own set, as the core
 * states it (virtio transport bits and the model's), plus vhost-user's
 * PROTOCOL_FEATURES. */
static uint64_t offered_features(const vhu_dev *d)
{
    return svd_vdev_features(&d->vdev) | VHU_F_PROTOCOL_FEATURES;
}

static enum vhu_verdict h_set_features(vhu_dev *d, const uint8_t *p)
{
    uint64_t f = svd_load_le64(p);
    const uint64_t offered = offered_features(d);
    if ((f & ~offered) != 0u) {
        /* QEMU 7.2's vhost-user-rng forwards the guest's transport bits
         * whatever we offered. Taking only ours would leave the guest
         * driving a ring we read another way (a packed ring read as split):
         * refuse, and start no ring until a set we offered arrives. */
        vhu_log(VHU_LOG_ERROR, d->inst,
                "SET_FEATURES: 0x%llx sets bits we did not offer: 0x%llx (offered 0x%llx); refused, no ring "
                "starts until an offered set is acked",
                (unsigned long long)f, (unsigned long long)(f & ~offered), (unsigned long long)offered);
        d->features_refused = true;
        return VHU_V_REJECTED;
    }
    if (((f ^ d->features) & SVD_F_RING_PACKED) != 0u && !d->vr.running) {
        /* Another ring format: a new ring starts at its beginning (packed:
         * position 0, wrap counters 1) unless SET_VRING_BASE says otherwise,
         * which QEMU sends after SET_FEATURES. */
        const uint16_t start = (f & SVD_F_RING_PACKED) != 0u ? (uint16_t)SVD_VQ_WRAP_BIT : 0u;
        d->vr.base_avail = start;
        d->vr.base_used = start;
    }
    d->features = f;
    d->features_set = true;
    d->features_refused = false;
    return VHU_V_OK;
}

static enum vhu_verdict h_set_protocol(vhu_dev *d, const uint8_t *p)
{
    uint64_t f = svd_load_le64(p);
    if ((f & ~VHU_OFFERED_PROTOCOL) != 0u) {
        vhu_log(VHU_LOG_WARN, d->inst, "SET_PROTOCOL_FEATURES: ignoring bits not offered: 0x%llx",
                (unsigned long long)(f & ~VHU_OFFERED_PROTOCOL));
    }
    d->protocol = f & VHU_OFFERED_PROTOCOL;
    return VHU_V_OK;
}

static enum vhu_verdict h_vring_num(vhu_dev *d, const uint8_t *p)
{
    uint32_t num = svd_load_le32(p + 4);
    if (num == 0u || num > SVD_VQ_MAX_SIZE || (num & (num - 1u)) != 0u) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_NUM: bad size %u", num);
        return VHU_V_REJECTED;
    }
    if (d->vr.running) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_NUM while the ring runs");
        return VHU_V_REJECTED;
    }
    d->vr.num = num;
    d->vr.num_set = true;
    return VHU_V_OK;
}

static enum vhu_verdict h_vring_base(vhu_dev *d, const uint8_t *p)
{
    uint32_t num = svd_load_le32(p + 4);
    if ((d->features & SVD_F_RING_PACKED) != 0u) {
        if (d->vr.running) {
            vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_BASE while the ring runs");
            return VHU_V_REJECTED;
        }
        /* Packed: bits 0-14 the next available position, bit 15 its wrap
         * counter; bits 16-31 the same for the used side. The core checks
         * the positions against the queue size when the ring starts. */
        d->vr.base_avail = (uint16_t)(num & 0xFFFFu);
        d->vr.base_used = (uint16_t)(num >> 16);
        return VHU_V_OK;
    }
    if (num > UINT16_MAX) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_BASE: %u does not fit a split ring index", num);
        return VHU_V_REJECTED;
    }
    if (d->vr.running) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_BASE while the ring runs");
        return VHU_V_REJECTED;
    }
    /* A split ring resumes with used == avail consumed: the back-end hands
     * back what it had not completed (ring_stop()). */
    d->vr.base_avail = (uint16_t)num;
    d->vr.base_used = (uint16_t)num;
    return VHU_V_OK;
}

static enum vhu_verdict h_vring_addr(vhu_dev *d, const uint8_t *p)
{
    uint64_t desc = svd_load_le64(p + 8);
    uint64_t used = svd_load_le64(p + 16);
    uint64_t avail = svd_load_le64(p + 24);
    uint64_t gpa = 0;
    if (d->vr.running) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_ADDR while the ring runs");
        return VHU_V_REJECTED;
    }
    if (!ua_to_gpa(d, desc, &gpa) || !ua_to_gpa(d, avail, &gpa) || !ua_to_gpa(d, used, &gpa)) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_ADDR: desc 0x%llx avail 0x%llx used 0x%llx not all inside the memory table",
                (unsigned long long)desc, (unsigned long long)avail, (unsigned long long)used);
        return VHU_V_REJECTED;
    }
    d->vr.desc_ua = desc;
    d->vr.avail_ua = avail;
    d->vr.used_ua = used;
    d->vr.addr_set = true;
    return VHU_V_OK;
}

static enum vhu_verdict h_vring_fd(vhu_dev *d, uint32_t req, const uint8_t *p, int *fds, size_t nfds)
{
    uint64_t val = svd_load_le64(p);
    bool nofd = (val & VHU_VRING_NOFD) != 0u;
    int fd = -1;
    if ((val & ~(VHU_VRING_IDX_MASK | VHU_VRING_NOFD)) != 0u) {
        vhu_log(VHU_LOG_ERROR, d->inst, "%s: unknown bits in 0x%llx", req_name(req), (unsigned long long)val);
        return VHU_V_DISCONNECT;
    }
    if (nfds != (nofd ? 0u : 1u)) {
        vhu_log(VHU_LOG_ERROR, d->inst, "%s: %zu fds with no-fd bit %d", req_name(req), nfds, nofd ? 1 : 0);
        return VHU_V_DISCONNECT;
    }
    if (!nofd && !fd_nonblock(fds[0])) {
        vhu_log(VHU_LOG_ERROR, d->inst, "%s: the fd cannot be made non-blocking: %s", req_name(req), strerror(errno));
        return VHU_V_REJECTED;
    }
    if (req == (uint32_t)VHU_SET_VRING_KICK) {
        vhu_vring v = vring_stopped(d);
        v.polling = nofd;
        v.started = true;
        if (!ring_would_start(d, &v, d->regions, d->nregions, &d->gmem)) {
            return VHU_V_REJECTED;
        }
        if (!kick_watch(d, nofd ? -1 : fds[0])) {
            vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_KICK: the kick fd cannot be watched: refused");
            return VHU_V_REJECTED;
        }
        if (!nofd) {
            fd = fds[0];
            fds[0] = -1;
        }
        ring_stop(d);
        kick_replace(d, fd);
        d->vr.polling = nofd;
        d->vr.started = true;
        return ring_try_start(d) ? VHU_V_OK : VHU_V_REJECTED;
    }
    if (!nofd) {
        fd = fds[0];
        fds[0] = -1;
    }
    if (req == (uint32_t)VHU_SET_VRING_CALL) {
        close_fd(&d->vr.call_fd);
        d->vr.call_fd = fd;
    } else {
        close_fd(&d->vr.err_fd);
        d->vr.err_fd = fd;
    }
    return VHU_V_OK;
}

static enum vhu_verdict h_vring_enable(vhu_dev *d, const uint8_t *p)
{
    uint32_t on = svd_load_le32(p + 4);
    if (on > 1u) {
        vhu_log(VHU_LOG_ERROR, d->inst, "SET_VRING_ENABLE: value %u", on);
        return VHU_V_REJECTED;
    }
    if (on == 0u) {
        ring_stop(d);
        d->vr.enabled = false;
        return VHU_V_OK;
    }
    {
        vhu_vring v = vring_stopped(d);
        v.enabled = true;
        if (!ring_would_start(d, &v, d->regions, d->nregions, &d->gmem)) {
            return VHU_V_REJECTED;
        }
    }
    d->vr.enabled = true;
    return ring_try_start(d) ? VHU_V_OK : VHU_V_REJECTED;
}

static bool is_vring_fd_req(uint32_t req)
{
    return req == (uint32_t)VHU_SET_VRING_KICK || req == (uint32_t)VHU_SET_VRING_CALL ||
           req == (uint32_t)VHU_SET_VRING_ERR;
}

/* Per-ring requests: the queue index comes first. */
static enum vhu_verdict handle_vring(vhu_dev *d, uint32_t req, const uint8_t *p, int *fds, size_t nfds,
                                     vhu_reply *rep)
{
    uint64_t idx = is_vring_fd_req(req) ? (svd_load_le64(p) & VHU_VRING_IDX_MASK) : svd_load_le32(p);
    if (idx >= VHU_NUM_QUEUES) {
        vhu_log(VHU_LOG_ERROR, d->inst, "%s: queue index %llu out of range", req_name(req), (unsigned long long)idx);
        return VHU_V_REJECTED;
    }
    switch (req) {
    case VHU_SET_VRING_NUM:
        return h_vring_num(d, p);
    case VHU_SET_VRING_BASE:
        return h_vring_base(d, p);
    case VHU_SET_VRING_ADDR:
        return h_vring_addr(d, p);
    case VHU_GET_VRING_BASE:
        ring_stop(d);
        d->vr.started = false;
        /* Packed: the two positions with their wrap counters, as SET_VRING_BASE takes them. */
        reply_state(rep, req, 0,
                    (d->features & SVD_F_RING_PACKED) != 0u
                        ? (uint32_t)d->vr.base_avail | ((uint32_t)d->vr.base_used << 16)
                        : d->vr.base_avail);
        return VHU_V_OK;
    case VHU_SET_VRING_ENABLE:
        return h_vring_enable(d, p);
    default:
        /* SVD-COV-010: expected_size() let through only requests handled above or vring fd requests. */
        return SVD_ALWAYS(is_vring_fd_req(req)) ? h_vring_fd(d, req, p, fds, nfds) : VHU_V_DISCONNECT;
    }
}

/* The handlers proper. Fds have been counted already; a handler that keeps
 * an fd sets its slot to -1 so the caller does not close it. */
static enum vhu_verdict handle(vhu_dev *d, uint32_t req, const uint8_t *p, size_t len, int *fds, size_t nfds,
                               vhu_reply *rep)
{
    switch (req) {
    case VHU_GET_FEATURES:
        reply_u64(rep, req, offered_features(d));
        return VHU_V_OK;
    case VHU_SET_FEATURES:
        return h_set_features(d, p);
    case VHU_GET_PROTOCOL_FEATURES:
        reply_u64(rep, req, VHU_OFFERED_PROTOCOL);
        return VHU_V_OK;
    case VHU_SET_PROTOCOL_FEATURES:
        return h_set_protocol(d, p);
    case VHU_GET_QUEUE_NUM:
        reply_u64(rep, req, VHU_NUM_QUEUES);
        return VHU_V_OK;
    case VHU_SET_OWNER:
        d->owner = true;
        return VHU_V_OK;
    case VHU_RESET_OWNER:
    case VHU_RESET_DEVICE:
        forget_session(d);
        return VHU_V_OK;
    case VHU_SET_MEM_TABLE:
        return set_mem_table(d, p, len, fds, nfds);
    default:
        return handle_vring(d, req, p, fds, nfds, rep);
    }
}

static bool has_own_reply(uint32_t req)
{
    return req == (uint32_t)VHU_GET_FEATURES || req == (uint32_t)VHU_GET_PROTOCOL_FEATURES ||
           req == (uint32_t)VHU_GET_QUEUE_NUM || req == (uint32_t)VHU_GET_VRING_BASE;
}

/* Fd count each request must carry (SET_MEM_TABLE and the vring fd requests
 * are checked by their handlers, which know the payload). */
static bool fds_allowed(uint32_t req, size_t nfds)
{
    switch (req) {
    case VHU_SET_MEM_TABLE:
        return nfds <= VHU_MAX_REGIONS;
    case VHU_SET_VRING_KICK:
    case VHU_SET_VRING_CALL:
    case VHU_SET_VRING_ERR:
        return nfds <= 1u;
    default:
        return nfds == 0u;
    }
}

enum vhu_verdict vhu_dev_handle(vhu_dev *d, uint32_t request, uint32_t flags, const uint8_t *payload, size_t len,
                                int *fds, size_t nfds, vhu_reply *reply)
{
    enum vhu_verdict vd = VHU_V_DISCONNECT;
    size_t want = 0;
    bool need_reply = (flags & VHU_FLAG_NEED_REPLY) != 0u;

    (void)memset(reply, 0, sizeof(*reply));
    d->msgs++;
    if ((flags & VHU_FLAG_VERSION_MASK) != VHU_VERSION || (flags & VHU_FLAG_REPLY) != 0u ||
        (flags & ~VHU_FLAG_KNOWN) != 0u) {
        vhu_log(VHU_LOG_ERROR, d->inst, "request %u: bad flags 0x%x", request, flags);
        d->perr[VHU_PERR_FLAGS]++;
    } else if (!expected_size(request, &want)) {
        vhu_log(VHU_LOG_ERROR, d->inst, "request %u not supported", request);
        d->perr[VHU_PERR_UNKNOWN]++;
        vd = need_reply ? VHU_V_REJECTED : VHU_V_DISCONNECT;
    } else if ((request != (uint32_t)VHU_SET_MEM_TABLE && len != want) || (payload == NULL && len != 0u)) {
        vhu_log(VHU_LOG_ERROR, d->inst, "%s: payload of %zu bytes, expected %zu", req_name(request), len, want);
        d->perr[VHU_PERR_LAYOUT]++;
    } else if (!fds_allowed(request, nfds)) {
        vhu_log(VHU_LOG_ERROR, d->inst, "%s: %zu fds is too many", req_name(request), nfds);
        d->perr[VHU_PERR_FDS]++;
    } else {
        vhu_log(VHU_LOG_DEBUG, d->inst, "%s (%zu bytes, %zu fds)", req_name(request), len, nfds);
        vd = handle(d, request, payload, len, fds, nfds, reply);
        if (vd == VHU_V_REJECTED) {
            d->perr[VHU_PERR_REFUSED]++;
        } else if (vd == VHU_V_DISCONNECT) {
            /* A handler ends the connection for a structural fault: region
             * count or payload layout, fd count for the payload, unknown bits. */
            d->perr[VHU_PERR_LAYOUT]++;
        } else {
            /* accepted: nothing to count */
        }
    }
    /* Every fd not kept by a handler is closed here, on every path. */
    for (size_t i = 0; i < nfds; i++) {
        close_fd(&fds[i]);
    }
    if (vd == VHU_V_DISCONNECT) {
        reply->send = false;
        return vd;
    }
    if (vd == VHU_V_REJECTED) {
        d->rejected++;
        if (has_own_reply(request) || !need_reply) {
            /* Nowhere to say "no": the front-end would assume success. */
            reply->send = false;
            return VHU_V_DISCONNECT;
        }
        reply_u64(reply, request, 1);
        return vd;
    }
    /* NEED_REPLY is honoured whether or not REPLY_ACK was negotiated on this
     * connection: a compliant front-end sets it only after negotiating, and
     * QEMU 7.2's vhost-user-rng, after reconnecting, does not negotiate
     * again but keeps setting it (and waits for the reply). */
    if (need_reply && !has_own_reply(request)) {
        reply_u64(reply, request, 0);
    }
    return vd;
}

void vhu_dev_disconnect(vhu_dev *d)
{
    forget_session(d);
    unmap_regions(d->regions, d->nregions);
    (void)memset(d->regions, 0, sizeof(d->regions));
    d->nregions = 0;
    d->gmem_gen++;
    svd_gmem_init(&d->gmem);
    d->gmem.generation = d->gmem_gen;
    d->protocol = 0;
    d->owner = false;
    d->need_process = false;
}

static const char *health_name(svd_health_state s)
{
    switch (s) {
    case SVD_HEALTH_OK:
        return "ok";
    case SVD_HEALTH_FAILED:
        return "failed";
    default:
        return "startup";
    }
}

/* The source's health tests (in the model) failed, or pass again: said once
 * per episode; requests wait meanwhile (the model never completes them with
 * the failing bytes). */
static void note_health(vhu_dev *d)
{
    const svd_entropy_stats *st = &d->ent.stats;
    const bool failed = st->health_state == SVD_HEALTH_FAILED;
    if (failed && !d->health_failed_logged) {
        vhu_log(VHU_LOG_ERROR, d->inst,
                "source health test failed (%s): requests wait until 1024 fresh bytes pass; "
                "failures so far: repetition count %llu, adaptive proportion %llu",
                st->health_rct_failures > d->health_rct_seen ? "repetition count" : "adaptive proportion",
                (unsigned long long)st->health_rct_failures, (unsigned long long)st->health_apt_failures);
    } else if (!failed && d->health_failed_logged) {
        vhu_log(VHU_LOG_WARN, d->inst, "source health tests pass again");
    } else {
        /* no change */
    }
    d->health_failed_logged = failed;
    d->health_rct_seen = st->health_rct_failures;
}

void vhu_dev_log_stats(const vhu_dev *d, bool connected)
{
    const svd_entropy_stats *st = &d->ent.stats;
    char perr[256];
    size_t at = 0;
    /* SVD-COV-007: the longest list (every counter at 2^64 - 1) is 229 bytes. */
    for (int r = 0; r < (int)VHU_PERR__COUNT && SVD_ALWAYS(at < sizeof(perr)); r++) {
        int n = snprintf(perr + at, sizeof(perr) - at, "%s%s %llu", r == 0 ? "" : ", ", vhu_perr_name(r),
                         (unsigned long long)d->perr[r]);
        at = SVD_ALWAYS(n > 0) ? at + (size_t)n : sizeof(perr);
    }
    (void)fprintf(stderr,
                  "vhost-user-entropy[%d]: stats: connected %d, ring %s, requests %llu, bytes %llu, "
                  "rate deferrals %llu, source failures %llu, health %s, health failures %llu (rct %llu, apt %llu), "
                  "messages %llu, refused %llu, protocol errors: %s\n",
                  d->inst, connected ? 1 : 0, d->vr.running ? "running" : "stopped",
                  (unsigned long long)st->requests, (unsigned long long)st->bytes,
                  (unsigned long long)st->rate_deferrals, (unsigned long long)st->source_failures,
                  health_name(st->health_state),
                  (unsigned long long)st->health_rct_failures + (unsigned long long)st->health_apt_failures,
                  (unsigned long long)st->health_rct_failures, (unsigned long long)st->health_apt_failures,
                  (unsigned long long)d->msgs, (unsigned long long)d->rejected, perr);
}

void vhu_dev_kick_lost(vhu_dev *d)
{
    if (d->vr.kick_fd < 0) {
        return;
    }
    vhu_log(VHU_LOG_ERROR, d->inst, "kick fd hung up or failed: dropped, ring stopped until a new SET_VRING_KICK");
    d->perr[VHU_PERR_FD_LOST]++;
    ring_stop(d);
    set_kick(d, -1);
    d->vr.started = false;
    d->vr.polling = false;
}

void vhu_dev_process(vhu_dev *d, uint64_t now, bool *wake, uint64_t *wake_at)
{
    svd_fx fx;

    *wake = false;
    *wake_at = 0;
    d->need_process = false;
    if (!d->vr.running) {
        return;
    }
    /* The engine serves the queue and decides on the notification; a result
     * other than success is informational (the effect says what happened). */
    const svd_result r = svd_vdev_kick(&d->vdev, 0, now, &fx);
    (void)r;
    note_health(d);
    if ((fx.queue_notify & 1u) != 0u) {
        signal_fd(d, &d->vr.call_fd, "call");
    }
    if (fx.failed) {
        vhu_log(VHU_LOG_ERROR, d->inst, "ring stopped: device needs reset: %s", svd_why_name(fx.why));
        d->perr[VHU_PERR_RING]++;
        /* The device latched NEEDS_RESET; report it and stop serving until
         * the front-end resets the device or restarts the ring. */
        signal_fd(d, &d->vr.err_fd, "err");
        ring_stop(d);
        svd_vdev_reset(&d->vdev, now, &fx);
        return;
    }
    if (fx.deadline != SVD_NO_DEADLINE) {
        *wake = true;
        *wake_at = fx.deadline;
    }
    if (d->vr.polling) {
        uint64_t at = now + VHU_POLL_NS;
        if (!*wake || at < *wake_at) {
            *wake = true;
            *wake_at = at;
        }
    }
}
