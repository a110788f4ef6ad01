/* qemu-remote-vdev: validation and dispatch of the proxy's messages.
 *
 * Every message is checked completely before anything changes: command,
 * exact payload size, fd count, then the fields (offsets, widths, the memory
 * table, the irqfd pair). A violation ends the connection: the proxy is not
 * speaking QEMU 7.2's protocol and nothing it says afterwards can be
 * trusted; the proxy's own messages have no error reply to carry a refusal.
 * The device engines then decode the access themselves (configuration
 * space, and BAR0 where the guest programmed it); an access they do not
 * decode gets their defined answer, which is not a protocol error (a guest
 * may probe anything), and is counted. */
#include "mpq_dev.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safevdev/span.h"

/* QEMU sends its C structures as they lie in memory; the offsets of
 * mpq_proto.h are the x86-64 (LP64, little-endian) layout. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "mpqemu is native-endian: little-endian hosts only");
_Static_assert(sizeof(size_t) == 8u && sizeof(off_t) == 8u, "mpqemu layout: LP64 hosts only");

int mpq_log_level = MPQ_LOG_WARN;

void mpq_log(int level, const char *fmt, ...)
{
    static const char *const names[] = { "note", "error", "warn", "info", "debug" };
    va_list ap;
    if (level > mpq_log_level || level < (int)MPQ_LOG_NOTE || level > (int)MPQ_LOG_DEBUG) {
        return;
    }
    (void)fprintf(stderr, MPQ_PROG ": %s: ", names[level + 1]);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
}

uint64_t mpq_now_ns(void)
{
    struct timespec ts;
    if (SVD_NEVER(clock_gettime(CLOCK_MONOTONIC, &ts) != 0)) { /* SVD-COV-002 */
        return 0;
    }
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

const char *mpq_cmd_name(uint32_t cmd)
{
    switch (cmd) {
    case MPQ_SYNC_SYSMEM: return "SYNC_SYSMEM";
    case MPQ_RET: return "RET";
    case MPQ_PCI_CFGWRITE: return "PCI_CFGWRITE";
    case MPQ_PCI_CFGREAD: return "PCI_CFGREAD";
    case MPQ_BAR_WRITE: return "BAR_WRITE";
    case MPQ_BAR_READ: return "BAR_READ";
    case MPQ_SET_IRQFD: return "SET_IRQFD";
    case MPQ_DEVICE_RESET: return "DEVICE_RESET";
    default: return "unknown";
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        (void)close(*fd);
        *fd = -1;
    }
}

static void signal_fd(mpq_dev *d, int fd)
{
    uint64_t one = 1;
    ssize_t n;
    if (fd < 0) {
        return;
    }
    do {
        n = write(fd, &one, sizeof(one));
    } while (n < 0 && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (n == (ssize_t)sizeof(one)) {
        d->st.irq_signals++;
    } else {
        /* A full eventfd (EAGAIN) already has the line asserted for KVM. */
        mpq_log(MPQ_LOG_DEBUG, "irqfd write: %s", n < 0 ? strerror(errno) : "short");
    }
}

/* ------------------------------------------------------------------ effects */

static void out_clear(mpq_out *out)
{
    (void)memset(out, 0, sizeof(*out));
    out->deadline = SVD_NO_DEADLINE;
}

/* Apply an engine's effect: the INTx level goes to the irqfd (raised on a
 * rising edge; KVM's resampler lowers it at the guest's EOI and asks again),
 * a watchdog expiry and the deadline go to the loop. */
static void apply_fx(mpq_dev *d, const svd_fx *fx, mpq_out *out)
{
    if (fx->irq_level != d->irq_level) {
        d->irq_level = fx->irq_level;
        if (d->irq_level) {
            signal_fd(d, d->irq_fd);
        }
    }
    if (fx->fired) {
        out->fired = true;
        out->fires += fx->fires;
        d->st.fires++;
    }
    if (fx->failed) {
        d->st.latched++;
        mpq_log(MPQ_LOG_ERROR, "device needs reset: %s", svd_why_name(fx->why));
    }
    if (fx->bars_changed) {
        mpq_log(MPQ_LOG_DEBUG, "BAR layout or memory decoding changed");
    }
    out->timed = true;
    out->deadline = fx->deadline;
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

/* The source's health tests (run by the model on every source byte) failed,
 * or pass again: said once per episode; requests wait meanwhile (the model
 * never completes them with the failing bytes). */
static void note_health(mpq_dev *d)
{
    const svd_entropy_stats *st = svd_entropy_stats_of(&d->ent);
    const bool failed = st->health_state == SVD_HEALTH_FAILED;
    if (failed && !d->health_failed_logged) {
        mpq_log(MPQ_LOG_ERROR,
                "source health test failed (%s): requests wait until 1024 fresh bytes pass; "
                "failures so far: repetition count %llu, adaptive proportion %llu",
                st->health_rct_failures > d->health_rct_seen ? "repetition count" : "adaptive proportion",
                (unsigned long long)st->health_rct_failures, (unsigned long long)st->health_apt_failures);
    } else if (!failed && d->health_failed_logged) {
        mpq_log(MPQ_LOG_WARN, "source health tests pass again");
    } else {
        /* no change */
    }
    d->health_failed_logged = failed;
    d->health_rct_seen = st->health_rct_failures;
}

static svd_result dev_access(mpq_dev *d, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                             uint64_t now, svd_fx *fx)
{
    if (d->kind == MPQ_DEV_I6300ESB) {
        return svd_esb_access(&d->esb, sp, addr, width, write, val, now, fx);
    }
    return svd_vdev_access(&d->vdev, sp, addr, width, write, val, now, fx);
}

static uint64_t width_mask(uint32_t width)
{
    const uint64_t one = 1u;
    if (width >= 8u) {
        return UINT64_MAX;
    }
    const uint32_t bits = width * 8u; /* below 64 */
    return (one << bits) - one;
}

/* One guest access, decoded by the engine; the reply carries the value read
 * (masked to the width) or 0 for a write, as QEMU's own remote does. */
static void guest_access(mpq_dev *d, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t val, uint64_t now,
                   mpq_out *out)
{
    svd_fx fx;
    uint64_t v = val & width_mask(width);
    svd_result r = dev_access(d, sp, addr, width, write, &v, now, &fx);
    if (!svd_is_ok(r) && !svd_is_err(r, SVD_ERR_PROTOCOL)) {
        d->st.undecoded++;
        mpq_log(MPQ_LOG_DEBUG, "%s %s 0x%llx width %u not decoded (%s): defined answer",
                sp == SVD_SPACE_PCI_CFG ? "config" : "BAR", write ? "write" : "read", (unsigned long long)addr,
                width, svd_err_name(r.err));
    }
    apply_fx(d, &fx, out);
    out->reply = true;
    out->value = write ? 0u : (v & width_mask(width));
    if (d->kind == MPQ_DEV_ENTROPY) {
        note_health(d);
    }
    if (d->kind == MPQ_DEV_ENTROPY && svd_vdev_status(&d->vdev) != d->status) {
        const uint8_t st = svd_vdev_status(&d->vdev);
        if ((st & SVD_STATUS_DRIVER_OK) != 0u && (d->status & SVD_STATUS_DRIVER_OK) == 0u) {
            d->st.driver_ok++;
        }
        mpq_log(MPQ_LOG_INFO, "virtio status 0x%02x -> 0x%02x", d->status, st);
        d->status = st;
    }
}

/* ------------------------------------------------------------ guest memory */

static void unmap_regions(mpq_region *regs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (regs[i].map != NULL) {
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

/* Decode and check the table against its fds into nr[]. */
static bool parse_sysmem(const uint8_t *p, const int *fds, uint32_t n, mpq_region *nr)
{
    for (uint32_t i = 0; i < MPQ_MAX_FDS; i++) {
        const size_t at = (size_t)i * 8u;
        uint64_t gpa = svd_load_le64(p + MPQ_SYSMEM_GPAS + at);
        uint64_t size = svd_load_le64(p + MPQ_SYSMEM_SIZES + at);
        uint64_t off = svd_load_le64(p + MPQ_SYSMEM_OFFSETS + at);
        uint64_t end = 0;
        struct stat st;
        if (i >= n) {
            /* QEMU clears the whole message; a stray entry means the table
             * and its fds disagree. */
            if ((gpa | size | off) != 0u) {
                mpq_log(MPQ_LOG_ERROR, "SYNC_SYSMEM: entry %u set beyond the %u fds", i, n);
                return false;
            }
            continue;
        }
        if (size == 0u || !svd_is_ok(svd_add_u64(gpa, size, &end)) || !svd_is_ok(svd_add_u64(off, size, &end)) ||
            end > (uint64_t)INT64_MAX || end > (uint64_t)SIZE_MAX) {
            mpq_log(MPQ_LOG_ERROR, "SYNC_SYSMEM: region %u (gpa 0x%llx size 0x%llx offset 0x%llx) is empty or wraps",
                    i, (unsigned long long)gpa, (unsigned long long)size, (unsigned long long)off);
            return false;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (ranges_overlap(gpa, size, nr[j].gpa, nr[j].size)) {
                mpq_log(MPQ_LOG_ERROR, "SYNC_SYSMEM: regions %u and %u overlap", j, i);
                return false;
            }
        }
        /* A region past the end of its file maps fine, then raises SIGBUS on
         * the first access; anything but a regular file (memfd) is refused. */
        if (fstat(fds[i], &st) != 0) {
            mpq_log(MPQ_LOG_ERROR, "SYNC_SYSMEM: region %u: fstat: %s", i, strerror(errno));
            return false;
        }
        if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size < end) {
            mpq_log(MPQ_LOG_ERROR, "SYNC_SYSMEM: region %u: fd is not a regular file of at least %llu bytes", i,
                    (unsigned long long)end);
            return false;
        }
        (void)memset(&nr[i], 0, sizeof(nr[i]));
        nr[i].gpa = gpa;
        nr[i].size = size;
        nr[i].offset = off;
        nr[i].st_dev = st.st_dev;
        nr[i].st_ino = st.st_ino;
        /* Sealed against shrinking (QEMU's memory-backend-memfd default), the
         * file cannot lose pages under the mapping; F_GET_SEALS fails
         * (EINVAL) for a file that is no memfd: unsealed. */
        const int seals = fcntl(fds[i], F_GET_SEALS);
        nr[i].sealed = (seals >= 0) && ((seals & F_SEAL_SHRINK) != 0);
    }
    return true;
}

static bool same_table(const mpq_dev *d, const mpq_region *nr, uint32_t n)
{
    if (n != d->nregions) {
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        const mpq_region *a = &d->regions[i];
        if (a->gpa != nr[i].gpa || a->size != nr[i].size || a->offset != nr[i].offset || a->st_dev != nr[i].st_dev ||
            a->st_ino != nr[i].st_ino) {
            return false;
        }
    }
    return true;
}

/* Map every region (page-aligned below its offset) and describe them in ng;
 * on failure nothing stays mapped. */
static bool map_regions(mpq_region *nr, uint32_t n, const int *fds, svd_gmem *ng)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint64_t page = SVD_ALWAYS(pg > 0) ? (uint64_t)pg : 4096u; /* SVD-COV-005: Linux always has a page size */
    svd_gmem_init(ng);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t base = nr[i].offset & ~(page - 1u);
        size_t len = (size_t)(nr[i].offset - base + nr[i].size); /* <= offset + size, checked to fit size_t */
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], (off_t)base);
        if (m == MAP_FAILED) {
            mpq_log(MPQ_LOG_ERROR, "SYNC_SYSMEM: mmap of region %u (%zu bytes) failed: %s", i, len, strerror(errno));
            unmap_regions(nr, i);
            return false;
        }
        nr[i].map = m;
        nr[i].map_len = len;
        nr[i].host = (uint8_t *)m + (nr[i].offset - base);
    }
    for (uint32_t i = 0; i < n; i++) {
        /* Cannot fail: regions are non-empty, do not wrap or overlap, and n <= 8 < the map's room. */
        svd_result r = svd_gmem_add(ng, nr[i].gpa, nr[i].size, nr[i].host, SVD_GMEM_READ | SVD_GMEM_WRITE);
        if (SVD_NEVER(!svd_is_ok(r))) { /* SVD-COV-004 */
            mpq_log(MPQ_LOG_ERROR, "SYNC_SYSMEM: region %u refused by the memory map: %s", i, svd_err_name(r.err));
            unmap_regions(nr, n);
            return false;
        }
    }
    return true;
}

static void install_table(mpq_dev *d, const mpq_region *nr, uint32_t n, const svd_gmem *ng)
{
    unmap_regions(d->regions, d->nregions);
    (void)memset(d->regions, 0, sizeof(d->regions));
    (void)memcpy(d->regions, nr, sizeof(*nr) * n);
    d->nregions = n;
    d->gmem_gen++;
    d->gmem = *ng;
    d->gmem.generation = d->gmem_gen;
}

/* SYNC_SYSMEM replaces the whole view of guest RAM. The watchdog needs no
 * guest memory: its table is checked but never mapped. A table equal to the
 * one in place (QEMU sends one per memory-topology commit, dozens during a
 * boot) changes nothing. A table that cannot be mapped (a resource failure,
 * not a malformed message) leaves the device without guest RAM until the
 * next one: the engine then refuses every ring access. */
static enum mpq_verdict h_sysmem(mpq_dev *d, const uint8_t *p, const int *fds, size_t nfds)
{
    mpq_region nr[MPQ_MAX_FDS];
    svd_gmem ng;
    uint32_t n = (uint32_t)nfds;

    (void)memset(nr, 0, sizeof(nr));
    (void)memset(&ng, 0, sizeof(ng)); /* svd_gmem_init() continues the generation it finds */
    if (!parse_sysmem(p, fds, n, nr)) {
        return MPQ_V_DISCONNECT;
    }
    for (uint32_t i = 0; d->require_sealed && d->kind == MPQ_DEV_ENTROPY && i < n; i++) {
        if (!nr[i].sealed) {
            mpq_log(MPQ_LOG_ERROR,
                    "SYNC_SYSMEM: region %u is not sealed against shrinking (F_SEAL_SHRINK): refused (--require-sealed-memory)", i);
            return MPQ_V_DISCONNECT;
        }
    }
    if (same_table(d, nr, n)) {
        d->st.syncs_same++;
        return MPQ_V_OK;
    }
    svd_gmem_init(&ng);
    if (d->kind == MPQ_DEV_ENTROPY && !map_regions(nr, n, fds, &ng)) {
        d->st.map_failures++;
        svd_gmem_init(&ng);
        install_table(d, nr, 0, &ng);
        return MPQ_V_OK;
    }
    install_table(d, nr, n, &ng);
    mpq_log(MPQ_LOG_INFO, "guest RAM: %u regions%s", n, d->kind == MPQ_DEV_ENTROPY ? " mapped" : " (not mapped: not needed)");
    return MPQ_V_OK;
}

/* ----------------------------------------------------------------- irqfds */

/* The irqfd pair must be eventfds: a write to anything else (a pipe or a
 * socket of the proxy's choosing) could block the loop or mean something.
 * They are made non-blocking (QEMU creates them so already). */
static bool irqfd_ok(int fd)
{
    char path[64];
    char link[64];
    ssize_t n;
    int fl;
    (void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, link, sizeof(link) - 1u);
    if (n < 0) {
        mpq_log(MPQ_LOG_ERROR, "SET_IRQFD: cannot inspect the fd (%s): %s", path, strerror(errno));
        return false;
    }
    link[n] = '\0';
    if (strcmp(link, "anon_inode:[eventfd]") != 0) {
        mpq_log(MPQ_LOG_ERROR, "SET_IRQFD: the two fds must be eventfds");
        return false;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        mpq_log(MPQ_LOG_ERROR, "SET_IRQFD: fcntl: %s", strerror(errno));
        return false;
    }
    return true;
}

static void set_resample(mpq_dev *d, int fd)
{
    if (d->ops.resample_changed != NULL && d->resample_fd != fd) {
        d->ops.resample_changed(d->ops.ctx, d->resample_fd, fd);
    }
    if (d->resample_fd != fd) {
        close_fd(&d->resample_fd);
    }
    d->resample_fd = fd;
}

static enum mpq_verdict h_irqfd(mpq_dev *d, int *fds)
{
    if (!irqfd_ok(fds[0]) || !irqfd_ok(fds[1])) {
        return MPQ_V_DISCONNECT;
    }
    close_fd(&d->irq_fd);
    d->irq_fd = fds[0];
    fds[0] = -1;
    set_resample(d, fds[1]);
    fds[1] = -1;
    mpq_log(MPQ_LOG_INFO, "INTx irqfd set");
    if (d->irq_level) {
        signal_fd(d, d->irq_fd);
    }
    return MPQ_V_OK;
}

void mpq_dev_resample(mpq_dev *d)
{
    uint64_t v;
    ssize_t n;
    if (d->resample_fd < 0) {
        return;
    }
    do {
        n = read(d->resample_fd, &v, sizeof(v));
    } while (n < 0 && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (n == (ssize_t)sizeof(v)) {
        d->st.resamples++;
        if (d->irq_level) {
            signal_fd(d, d->irq_fd);
        }
    }
}

/* ------------------------------------------------------------------ reset */

static void device_reset(mpq_dev *d, uint64_t now, mpq_out *out)
{
    svd_fx fx;
    if (d->kind == MPQ_DEV_I6300ESB) {
        svd_esb_reset(&d->esb, now, &fx);
    } else {
        svd_vdev_reset(&d->vdev, now, &fx);
        d->status = svd_vdev_status(&d->vdev);
    }
    d->st.device_resets++;
    apply_fx(d, &fx, out);
}

/* --------------------------------------------------------------- dispatch */

static bool expected(uint32_t cmd, uint64_t *size, size_t *fmin, size_t *fmax)
{
    *fmin = 0;
    *fmax = 0;
    switch (cmd) {
    case MPQ_SYNC_SYSMEM:
        *size = MPQ_SYSMEM_SIZE;
        *fmin = 1;
        *fmax = MPQ_MAX_FDS;
        return true;
    case MPQ_PCI_CFGWRITE:
    case MPQ_PCI_CFGREAD:
        *size = MPQ_CFG_SIZE;
        return true;
    case MPQ_BAR_WRITE:
    case MPQ_BAR_READ:
        *size = MPQ_BAR_SIZE;
        return true;
    case MPQ_SET_IRQFD:
        *size = 0;
        *fmin = 2;
        *fmax = 2;
        return true;
    case MPQ_DEVICE_RESET:
        *size = 0;
        return true;
    default:
        /* RET (the proxy never sends one) and anything unknown. */
        return false;
    }
}

static enum mpq_verdict h_cfg(mpq_dev *d, uint32_t cmd, const uint8_t *p, uint64_t now, mpq_out *out)
{
    uint32_t addr = svd_load_le32(p);
    uint32_t val = svd_load_le32(p + 4);
    uint32_t len = svd_load_le32(p + 8); /* an s32 on the wire: negative values are huge here */
    if (len == 0u || len > 4u || addr >= MPQ_CFG_SPACE || len > MPQ_CFG_SPACE - addr) {
        mpq_log(MPQ_LOG_ERROR, "%s: offset 0x%x length %d outside the configuration space", mpq_cmd_name(cmd), addr,
                (int)len);
        return MPQ_V_DISCONNECT;
    }
    guest_access(d, SVD_SPACE_PCI_CFG, addr, len, cmd == (uint32_t)MPQ_PCI_CFGWRITE, val, now, out);
    return MPQ_V_OK;
}

static enum mpq_verdict h_bar(mpq_dev *d, uint32_t cmd, const uint8_t *p, uint64_t now, mpq_out *out)
{
    uint64_t addr = svd_load_le64(p);
    uint64_t val = svd_load_le64(p + 8);
    uint32_t size = svd_load_le32(p + 16);
    uint8_t memory = p[20];
    uint64_t end = 0;
    if ((size != 1u && size != 2u && size != 4u && size != 8u) || memory > 1u ||
        !svd_is_ok(svd_add_u64(addr, size, &end))) {
        mpq_log(MPQ_LOG_ERROR, "%s: address 0x%llx size %u memory %u is not an access", mpq_cmd_name(cmd),
                (unsigned long long)addr, size, memory);
        return MPQ_V_DISCONNECT;
    }
    /* Our devices have memory BARs only: an I/O access is never decoded. */
    guest_access(d, memory != 0u ? SVD_SPACE_MEM : SVD_SPACE_IO, addr, size, cmd == (uint32_t)MPQ_BAR_WRITE, val, now, out);
    return MPQ_V_OK;
}

static enum mpq_verdict dispatch(mpq_dev *d, uint32_t cmd, const uint8_t *p, int *fds, size_t nfds, uint64_t now,
                                 mpq_out *out)
{
    switch (cmd) {
    case MPQ_SYNC_SYSMEM:
        return h_sysmem(d, p, fds, nfds);
    case MPQ_PCI_CFGWRITE:
    case MPQ_PCI_CFGREAD:
        return h_cfg(d, cmd, p, now, out);
    case MPQ_BAR_WRITE:
    case MPQ_BAR_READ:
        return h_bar(d, cmd, p, now, out);
    case MPQ_SET_IRQFD:
        return h_irqfd(d, fds);
    case MPQ_DEVICE_RESET:
        device_reset(d, now, out);
        out->reply = true;
        out->value = 0;
        return MPQ_V_OK;
    default:
        return MPQ_V_DISCONNECT; /* not reached: expected() refused it */
    }
}

enum mpq_verdict mpq_dev_handle(mpq_dev *d, uint32_t cmd, uint64_t size, const uint8_t *payload, int *fds,
                                size_t nfds, uint64_t now, mpq_out *out)
{
    enum mpq_verdict vd = MPQ_V_DISCONNECT;
    uint64_t want = 0;
    size_t fmin = 0;
    size_t fmax = 0;

    out_clear(out);
    if (!expected(cmd, &want, &fmin, &fmax)) {
        mpq_log(MPQ_LOG_ERROR, "command %u (%s) is not one the proxy sends", cmd, mpq_cmd_name(cmd));
    } else if (size != want) {
        mpq_log(MPQ_LOG_ERROR, "%s: payload of %llu bytes, expected %llu", mpq_cmd_name(cmd),
                (unsigned long long)size, (unsigned long long)want);
    } else if (nfds < fmin || nfds > fmax) {
        mpq_log(MPQ_LOG_ERROR, "%s: %zu fds, expected %zu to %zu", mpq_cmd_name(cmd), nfds, fmin, fmax);
    } else if (payload == NULL && size != 0u) {
        mpq_log(MPQ_LOG_ERROR, "%s: no payload", mpq_cmd_name(cmd));
    } else {
        d->st.msgs[cmd]++;
        vd = dispatch(d, cmd, payload, fds, nfds, now, out);
        if (vd == MPQ_V_OK) {
            mpq_log(MPQ_LOG_DEBUG, "%s (%llu bytes, %zu fds)%s 0x%llx", mpq_cmd_name(cmd), (unsigned long long)size,
                    nfds, out->reply ? " -> RET" : "", (unsigned long long)out->value);
        }
    }
    /* Every fd not kept by a handler is closed here, on every path. */
    for (size_t i = 0; i < nfds; i++) {
        close_fd(&fds[i]);
    }
    if (vd != MPQ_V_OK) {
        d->st.malformed++;
        out_clear(out);
    }
    return vd;
}

void mpq_dev_tick(mpq_dev *d, uint64_t now, mpq_out *out)
{
    svd_fx fx;
    out_clear(out);
    if (d->kind == MPQ_DEV_I6300ESB) {
        svd_esb_tick(&d->esb, now, &fx);
    } else {
        svd_vdev_tick(&d->vdev, now, &fx);
        note_health(d);
    }
    apply_fx(d, &fx, out);
}

void mpq_dev_disconnect(mpq_dev *d, uint64_t now)
{
    mpq_out out;
    svd_gmem ng;
    out_clear(&out);
    device_reset(d, now, &out);
    (void)memset(&ng, 0, sizeof(ng));
    svd_gmem_init(&ng);
    install_table(d, d->regions, 0, &ng);
    close_fd(&d->irq_fd);
    set_resample(d, -1);
    d->irq_level = false;
}

int mpq_dev_init(mpq_dev *d, const mpq_dev_cfg *cfg, uint64_t now, const mpq_ops *ops)
{
    (void)memset(d, 0, sizeof(*d));
    d->kind = cfg->kind;
    d->irq_fd = -1;
    d->resample_fd = -1;
    if (ops != NULL) {
        d->ops = *ops;
    }
    svd_gmem_init(&d->gmem);
    if (cfg->kind == MPQ_DEV_I6300ESB) {
        /* QEMU's own i6300esb identity (subsystem 1af4:1100, revision 0),
         * so that a guest sees the same device either way. The engine's
         * action is only reported: the loop carries out --action. */
        svd_esb_cfg ec = { SVD_WDT_ACTION_RESET, 0x1af4u, 0x1100u, 0u, 0u };
        return SVD_ALWAYS(svd_is_ok(svd_esb_init(&d->esb, &ec, now))) ? 0 : -1; /* SVD-COV-004: a constant configuration */
    }
    if (cfg->kind != MPQ_DEV_ENTROPY || !svd_is_ok(svd_entropy_init(&d->ent, &cfg->entropy, now))) {
        return -1;
    }
    svd_vdev_cfg vc;
    (void)memset(&vc, 0, sizeof(vc));
    vc.xport = SVD_XPORT_PCI;
    svd_entropy_model(&d->ent, &vc.model);
    vc.pci.class_code = SVD_PCI_CLASS_RNG;
    vc.pci.subsystem_vendor = SVD_PCI_VENDOR_VIRTIO;
    vc.pci.subsystem_id = SVD_ENTROPY_DEVICE_ID;
    /* A 32-bit BAR0: QEMU 7.2's proxy sizes BAR0..BAR5 one dword at a time
     * and would take the upper half of a 64-bit BAR for a BAR of its own. */
    vc.pci.bar64 = false;
    vc.pci.prefetchable = false;
    return SVD_ALWAYS(svd_is_ok(svd_vdev_init(&d->vdev, &vc, &d->gmem))) ? 0 : -1; /* SVD-COV-004: a constant configuration */
}

void mpq_dev_log_stats(const mpq_dev *d, int level)
{
    const mpq_stats *s = &d->st;
    if (d->kind == MPQ_DEV_ENTROPY) {
        const svd_entropy_stats *e = svd_entropy_stats_of(&d->ent);
        mpq_log(level,
                "metrics: device virtio-entropy status 0x%02x needs_reset %d (%s) requests %llu bytes %llu "
                "source_failures %llu rate_deferrals %llu health %s health_rct_failures %llu health_apt_failures %llu "
                "health_discarded %llu",
                svd_vdev_status(&d->vdev), (svd_vdev_status(&d->vdev) & SVD_STATUS_NEEDS_RESET) != 0u ? 1 : 0,
                svd_why_name(svd_vdev_why(&d->vdev)),
                (unsigned long long)e->requests, (unsigned long long)e->bytes, (unsigned long long)e->source_failures,
                (unsigned long long)e->rate_deferrals, health_name(e->health_state),
                (unsigned long long)e->health_rct_failures, (unsigned long long)e->health_apt_failures,
                (unsigned long long)e->health_discarded);
    } else {
        mpq_log(level, "metrics: device i6300esb bar0 0x%x memory %d fires %llu", svd_esb_bar0(&d->esb),
                svd_esb_mem_enabled(&d->esb) ? 1 : 0, (unsigned long long)s->fires);
    }
    mpq_log(level,
            "metrics: msgs sync_sysmem %llu cfgwrite %llu cfgread %llu barwrite %llu barread %llu set_irqfd %llu "
            "device_reset %llu; malformed %llu undecoded %llu syncs_same %llu map_failures %llu irq_signals %llu "
            "resamples %llu device_resets %llu latched %llu driver_ok %llu regions %u",
            (unsigned long long)s->msgs[MPQ_SYNC_SYSMEM], (unsigned long long)s->msgs[MPQ_PCI_CFGWRITE],
            (unsigned long long)s->msgs[MPQ_PCI_CFGREAD], (unsigned long long)s->msgs[MPQ_BAR_WRITE],
            (unsigned long long)s->msgs[MPQ_BAR_READ], (unsigned long long)s->msgs[MPQ_SET_IRQFD],
            (unsigned long long)s->msgs[MPQ_DEVICE_RESET], (unsigned long long)s->malformed,
            (unsigned long long)s->undecoded, (unsigned long long)s->syncs_same, (unsigned long long)s->map_failures,
            (unsigned long long)s->irq_signals, (unsigned long long)s->resamples,
            (unsigned long long)s->device_resets, (unsigned long long)s->latched, (unsigned long long)s->driver_ok,
            d->nregions);
}
