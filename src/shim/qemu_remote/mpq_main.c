/* qemu-remote-vdev: the daemon. CLI, the proxy connection, one epoll loop
 * (proxy socket, device timer, QMP socket and its timer, resample eventfd,
 * signalfd), SIGBUS containment, the watchdog's clock.
 *
 * One device per process: QEMU's x-pci-proxy-dev talks to exactly one
 * device over its socket, and a process per device keeps a fault in one
 * device (or a guest that drives it into one) away from every other. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "mpq_dev.h"
#include "mpq_qmp.h"
#include "safevdev/parse.h"
#include "safevdev/ratelimit.h"
#include "safevdev/span.h"

/* How long a message that started arriving may take to arrive completely,
 * and a reply to leave. */
#define MPQ_IO_TIMEOUT_MS 1000

enum tag { TAG_SIGNAL = 1, TAG_LISTEN, TAG_CONN, TAG_TIMER, TAG_QMP, TAG_QMP_TIMER, TAG_RESAMPLE };

struct opts {
    int kind;                /* enum mpq_kind, -1 until --device */
    long fd;                 /* --fd, -1: not given */
    const char *socket_path; /* --socket */
    const char *qmp_path;    /* --qmp */
    int action;              /* enum mpq_action, -1 until --action */
    svd_rate_opts rate;      /* the per-second rate options, parsed by the core */
    bool rate_given;
    const char *source;
    uint64_t min_entropy; /* --min-entropy H, bits per source byte; 0: not given (8) */
    bool peer_check;      /* --peer-uid given */
    uint32_t peer_uid;
    bool require_sealed;  /* --require-sealed-memory */
};

/* The watchdog's clock: CLOCK_MONOTONIC with the time QEMU reported the VM
 * stopped taken out, as QEMU's own i6300esb counts on the virtual clock. */
struct gclock {
    bool paused;
    uint64_t paused_at;
    uint64_t paused_total;
};

/* A timerfd and what it holds. */
struct tmr {
    int fd;
    bool known; /* armed/at say what the timer holds */
    bool armed;
    uint64_t at;
};

struct daemon {
    mpq_dev dev;
    mpq_qmp qmp;
    struct gclock clk;
    enum mpq_action action;
    bool watchdog;
    bool dev_ready;
    int epfd;
    int sfd;
    int listen_fd;
    int conn_fd;
    struct tmr timer;     /* the device's deadline */
    struct tmr qmp_timer; /* QMP retries and timeouts */
    int qmp_watched;     /* fd registered in epoll for QMP, -1: none */
    bool qmp_watch_out;  /* registered for EPOLLOUT too */
    int src_fd;
    bool bound;          /* the socket file at socket_path is ours */
    bool fd_mode;        /* --fd: one connection for the process's life */
    bool dev_timed;      /* dev_deadline holds the engine's deadline */
    uint64_t dev_deadline;
    const char *socket_path;
    bool peer_check; /* --peer-uid: only that uid may connect to --socket */
    uint32_t peer_uid;
};

static struct daemon *g_d;
static size_t g_pagesize = 4096;
/* Set by the SIGBUS handler, and by the entropy source when the kernel
 * refused to write into a lost guest page (EFAULT): the loop then ends the
 * connection. */
static volatile sig_atomic_t g_bus_hit;

/* Guest RAM the proxy shrinks after SYNC_SYSMEM (ftruncate of its memfd)
 * turns our next access to the lost pages into SIGBUS, which would kill the
 * device. The handler puts an anonymous page over the lost one so the
 * access completes harmlessly and records the hit; the loop then ends the
 * connection. A SIGBUS anywhere else is a genuine fault and kills the
 * process as usual. SIGBUS is synchronous, raised by a guest-memory access
 * of this thread, never while the region table changes. */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    (void)uc;
    if (g_d != NULL) {
        for (uint32_t r = 0; r < g_d->dev.nregions; r++) {
            const mpq_region *reg = &g_d->dev.regions[r];
            uintptr_t b = (uintptr_t)reg->map;
            /* A sealed region cannot have been truncated: a SIGBUS there is
             * another fault (a machine-check) and is not patched. */
            if (reg->map != NULL && !reg->sealed && a >= b && a - b < reg->map_len) {
                uint8_t *base = reg->map;
                void *pg = base + ((a - b) & ~(uintptr_t)(g_pagesize - 1u));
                /* SVD-DEV-005: POSIX lists no mapping function as async-signal-
                 * safe; on Linux mmap is the system call itself, whose only shared
                 * state is errno, saved and restored around it. */
                const int saved_errno = errno;
                // cppcheck-suppress invalidFunctionArg ; SVD-DEV-005
                void *m = mmap(pg, g_pagesize, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* NOLINT(bugprone-signal-handler,cert-sig30-c) SVD-DEV-005 */
                errno = saved_errno;
                if (m != MAP_FAILED) {
                    g_bus_hit = 1;
                    return;
                }
            }
        }
    }
    (void)signal(sig, SIG_DFL);
}

/* ------------------------------------------------------------ entropy source */

/* A failing source is logged once per run of failures (the model retries it). */
static bool g_src_failing;

static svd_result src_result(ssize_t n, size_t *got, bool eof_is_again)
{
    if (n < 0) {
        const int err = errno; /* the read's error: the log line may change errno */
        *got = 0;
        if (err == EFAULT) {
            g_bus_hit = 1; /* the guest buffer's page is gone (RAM shrunk under the mapping) */
        }
        if (err != EAGAIN && !g_src_failing) {
            g_src_failing = true;
            mpq_log(MPQ_LOG_WARN, "entropy source: %s (the request waits and is retried)", strerror(err));
        }
        return svd_fail(err == EAGAIN ? SVD_ERR_AGAIN : SVD_ERR_SOURCE);
    }
    g_src_failing = false;
    *got = (size_t)n;
    return (n == 0 && eof_is_again) ? svd_fail(SVD_ERR_AGAIN) : svd_ok();
}

static svd_result src_getrandom(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    ssize_t n;
    (void)ctx;
    do {
        n = getrandom(buf, len, GRND_NONBLOCK);
    } while (n < 0 && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    return src_result(n, got, false);
}

/* --source FILE (non-blocking): nothing now, or end of file, is "not now". */
static svd_result src_file(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    const struct daemon *d = ctx;
    ssize_t n;
    do {
        n = read(d->src_fd, buf, len);
    } while (n < 0 && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    return src_result(n, got, true);
}

/* ------------------------------------------------------------------- epoll */

static int ep_add(int epfd, int fd, enum tag t, uint32_t events)
{
    struct epoll_event ev;
    (void)memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u64 = ((uint64_t)(uint32_t)fd << 8) | (uint64_t)t;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_del(int epfd, int fd)
{
    if (fd >= 0) {
        (void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
    }
}

static void resample_changed(void *ctx, int old_fd, int new_fd)
{
    const struct daemon *d = ctx;
    ep_del(d->epfd, old_fd);
    if (new_fd >= 0 && ep_add(d->epfd, new_fd, TAG_RESAMPLE, EPOLLIN) != 0) {
        mpq_log(MPQ_LOG_ERROR, "cannot watch the resample fd: %s", strerror(errno));
    }
}

/* Absolute CLOCK_MONOTONIC timer at @at, or disarmed. The syscall is
 * skipped when the timer already holds that state; after a failed call the
 * state is unknown and the next call makes it (the loop's own timeout
 * covers the gap, see wait_ms()). */
static void arm(struct tmr *t, bool wake, uint64_t at)
{
    struct itimerspec its;
    at = (wake && at == 0u) ? 1u : at; /* zero would disarm */
    if (t->known && t->armed == wake && (!wake || t->at == at)) {
        return;
    }
    (void)memset(&its, 0, sizeof(its));
    if (wake) {
        const uint64_t sec = at / UINT64_C(1000000000);
        const uint64_t nsec = at % UINT64_C(1000000000);
        its.it_value.tv_sec = (time_t)sec;
        its.it_value.tv_nsec = (long)nsec;
    }
    if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        mpq_log(MPQ_LOG_ERROR, "timerfd_settime: %s", strerror(errno));
        t->known = false;
        return;
    }
    t->known = true;
    t->armed = wake;
    t->at = at;
}

/* The timer fired: a one-shot absolute timer is disarmed now. */
static void fired(struct tmr *t)
{
    uint64_t v;
    ssize_t n;
    do {
        n = read(t->fd, &v, sizeof(v));
    } while (n < 0 && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (t->known) {
        t->armed = false;
    }
}


/* ------------------------------------------------------------------ clocks */

static bool vm_running(const struct daemon *d)
{
    return !d->watchdog || d->qmp.vm_running;
}

/* The device's time now, following the VM's run state. */
static uint64_t dev_now(struct daemon *d, uint64_t mono)
{
    struct gclock *c = &d->clk;
    bool running = vm_running(d);
    if (!running && !c->paused) {
        c->paused = true;
        c->paused_at = mono;
    } else if (running && c->paused) {
        c->paused = false;
        c->paused_total += mono - c->paused_at;
    } else {
        /* no change */
    }
    return mono - c->paused_total - (c->paused ? mono - c->paused_at : 0u);
}

/* The device timer holds the engine's deadline, on the monotonic clock;
 * while the VM stands still it is disarmed. */
static void rearm_dev(struct daemon *d)
{
    uint64_t at = 0;
    bool wake = d->dev_timed && d->dev_deadline != SVD_NO_DEADLINE && !d->clk.paused &&
                svd_is_ok(svd_add_u64(d->dev_deadline, d->clk.paused_total, &at));
    arm(&d->timer, wake, at);
}

static void apply_out(struct daemon *d, const mpq_out *out, uint64_t mono)
{
    if (out->timed) {
        d->dev_timed = true;
        d->dev_deadline = out->deadline;
        rearm_dev(d);
    }
    if (out->fired) {
        mpq_qmp_fire(&d->qmp, d->action, mono);
    }
}

/* Keep epoll and the QMP timer in step with the client after every call. */
static void qmp_sync(struct daemon *d, uint64_t mono)
{
    const bool paused = d->clk.paused;
    int fd = d->qmp.fd;
    bool out = mpq_qmp_want_write(&d->qmp);
    if (fd != d->qmp_watched || (fd >= 0 && out != d->qmp_watch_out)) {
        ep_del(d->epfd, d->qmp_watched);
        d->qmp_watched = -1;
        if (fd >= 0) {
            if (ep_add(d->epfd, fd, TAG_QMP, EPOLLIN | (out ? (uint32_t)EPOLLOUT : 0u)) == 0) {
                d->qmp_watched = fd;
                d->qmp_watch_out = out;
            } else {
                mpq_log(MPQ_LOG_ERROR, "cannot watch the QMP socket: %s", strerror(errno));
                mpq_qmp_close(&d->qmp, mono);
            }
        }
    }
    uint64_t at = mpq_qmp_deadline(&d->qmp);
    arm(&d->qmp_timer, at != UINT64_MAX, at);
    (void)dev_now(d, mono);
    if (paused != d->clk.paused) {
        rearm_dev(d);
    }
}

/* ---------------------------------------------------------- the proxy link */

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            (void)close(fds[i]);
            fds[i] = -1;
        }
    }
}

static size_t collect_fds(struct msghdr *mh, int *fds)
{
    size_t nfds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
        const unsigned char *data = CMSG_DATA(cm);
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0)) {
            continue;
        }
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd = -1;
            (void)memcpy(&fd, data + i * sizeof(int), sizeof(int));
            if (nfds < MPQ_MAX_RECV_FDS) {
                fds[nfds++] = fd;
            } else {
                (void)close(fd);
            }
        }
    }
    return nfds;
}

/* Read exactly len bytes; false on error or end of stream (errno 0 then).
 * fds belong on the header's first bytes only: any that ride on these bytes
 * are closed and make the message malformed (errno EBADMSG). */
static bool read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int) * MPQ_MAX_RECV_FDS)];
        } ctl;
        int fds[MPQ_MAX_RECV_FDS];
        struct iovec iov;
        struct msghdr mh;
        iov.iov_base = &buf[got];
        iov.iov_len = len - got;
        (void)memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = 0;
            }
            return false;
        }
        size_t nfds = collect_fds(&mh, fds);
        if (nfds > 0u || (mh.msg_flags & MSG_CTRUNC) != 0) {
            close_all(fds, nfds);
            errno = EBADMSG;
            return false;
        }
        got += (size_t)n;
    }
    return true;
}

enum rx { RX_OK, RX_EOF, RX_BAD };

/* The header with its fds, then the payload. fds are collected in every case. */
static enum rx recv_message(int fd, uint8_t *hdr, uint8_t *payload, int *fds, size_t *nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * MPQ_MAX_RECV_FDS)];
    } ctl;
    struct iovec iov = { hdr, MPQ_HDR_SIZE };
    struct msghdr mh;
    ssize_t n;
    (void)memset(&mh, 0, sizeof(mh));
    (void)memset(&ctl, 0, sizeof(ctl));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    do {
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    *nfds = n < 0 ? 0u : collect_fds(&mh, fds);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        return RX_EOF;
    }
    if (n < 0) {
        mpq_log(MPQ_LOG_ERROR, "recvmsg: %s", strerror(errno));
        return RX_BAD;
    }
    if ((mh.msg_flags & MSG_CTRUNC) != 0) {
        mpq_log(MPQ_LOG_ERROR, "message carried more than %u fds", MPQ_MAX_RECV_FDS);
        return RX_BAD;
    }
    if ((size_t)n < MPQ_HDR_SIZE && !read_full(fd, hdr + n, MPQ_HDR_SIZE - (size_t)n)) {
        mpq_log(MPQ_LOG_ERROR, "short header (%zd bytes): %s", n, errno != 0 ? strerror(errno) : "end of stream");
        return RX_BAD;
    }
    uint64_t size = svd_load_le64(hdr + 8);
    if (size > MPQ_MAX_PAYLOAD) {
        mpq_log(MPQ_LOG_ERROR, "payload size %llu exceeds %u", (unsigned long long)size, MPQ_MAX_PAYLOAD);
        return RX_BAD;
    }
    if (!read_full(fd, payload, (size_t)size)) {
        mpq_log(MPQ_LOG_ERROR, "short payload (wanted %llu bytes): %s", (unsigned long long)size,
                errno != 0 ? strerror(errno) : "end of stream");
        return RX_BAD;
    }
    return RX_OK;
}

static bool send_ret(int fd, uint64_t value)
{
    uint8_t buf[MPQ_HDR_SIZE + MPQ_RET_SIZE];
    size_t off = 0;
    (void)memset(buf, 0, sizeof(buf));
    svd_store_le32(buf, MPQ_RET);
    svd_store_le64(buf + 8, MPQ_RET_SIZE);
    svd_store_le64(buf + MPQ_HDR_SIZE, value);
    while (off < sizeof(buf)) {
        ssize_t n = send(fd, buf + off, sizeof(buf) - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        off += (size_t)n;
    }
    return true;
}

/* One message; RX_OK to go on, RX_EOF when QEMU left, RX_BAD when it broke the protocol. */
static enum rx conn_message(struct daemon *d)
{
    uint8_t hdr[MPQ_HDR_SIZE];
    uint8_t payload[MPQ_MAX_PAYLOAD];
    int fds[MPQ_MAX_RECV_FDS];
    size_t nfds = 0;
    mpq_out out;
    enum rx rx = recv_message(d->conn_fd, hdr, payload, fds, &nfds);
    if (rx != RX_OK) {
        close_all(fds, nfds);
        return rx;
    }
    uint64_t mono = mpq_now_ns();
    uint64_t now = d->watchdog ? dev_now(d, mono) : mono;
    if (mpq_dev_handle(&d->dev, svd_load_le32(hdr), svd_load_le64(hdr + 8), payload, fds, nfds, now, &out) !=
        MPQ_V_OK) {
        return RX_BAD;
    }
    if (out.reply && !send_ret(d->conn_fd, out.value)) {
        const int err = errno; /* send's error: the log line may change errno */
        mpq_log(MPQ_LOG_ERROR, "cannot send the reply: %s", strerror(err));
        return err == EPIPE || err == ECONNRESET ? RX_EOF : RX_BAD;
    }
    apply_out(d, &out, mono);
    return RX_OK;
}

static bool conn_setup(struct daemon *d, int fd)
{
    struct timeval tv = { MPQ_IO_TIMEOUT_MS / 1000, (suseconds_t)(MPQ_IO_TIMEOUT_MS % 1000) * (suseconds_t)1000 };
    int type = 0;
    int dom = 0;
    socklen_t l1 = sizeof(type);
    socklen_t l2 = sizeof(dom);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) != 0 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l2) != 0) {
        mpq_log(MPQ_LOG_ERROR, "fd %d is not a UNIX stream socket: %s", fd, strerror(errno));
        return false;
    }
    if (type != SOCK_STREAM || dom != AF_UNIX) {
        mpq_log(MPQ_LOG_ERROR, "fd %d is not a UNIX stream socket", fd);
        return false;
    }
    /* Blocking with a timeout: a message that started arriving must finish
     * within it, or the connection is dropped. */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        ep_add(d->epfd, fd, TAG_CONN, EPOLLIN) != 0) {
        mpq_log(MPQ_LOG_ERROR, "cannot set up the connection: %s", strerror(errno));
        return false;
    }
    d->conn_fd = fd;
    mpq_log(MPQ_LOG_INFO, "proxy connected (fd %d)", fd);
    return true;
}

static void log_metrics(const struct daemon *d);

/* The connection ended: the totals of the session are logged before the
 * device is reset for the next one. */
static void conn_close(struct daemon *d)
{
    if (d->conn_fd < 0) {
        return;
    }
    log_metrics(d);
    ep_del(d->epfd, d->conn_fd);
    (void)close(d->conn_fd);
    d->conn_fd = -1;
    mpq_dev_disconnect(&d->dev, d->watchdog ? dev_now(d, mpq_now_ns()) : mpq_now_ns());
    d->dev_timed = false;
    rearm_dev(d);
    if (d->listen_fd >= 0 && ep_add(d->epfd, d->listen_fd, TAG_LISTEN, EPOLLIN) != 0) {
        mpq_log(MPQ_LOG_ERROR, "cannot listen again: %s", strerror(errno));
    }
}

/* --peer-uid: the socket file's mode keeps out other users only as long as
 * nobody widens it (a manager's chmod, a directory bind-mounted elsewhere);
 * the kernel's record of who connected (SO_PEERCRED, filled at connect())
 * does not depend on the file. A peer that cannot be identified is refused. */
static bool peer_allowed(const struct daemon *d, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (!d->peer_check) {
        return true;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
        mpq_log(MPQ_LOG_WARN, "connection refused: peer credentials unavailable: %s", strerror(errno));
        return false;
    }
    if (cred.uid != d->peer_uid) {
        mpq_log(MPQ_LOG_WARN, "connection refused: peer uid %u (pid %d), only uid %u may connect", (unsigned)cred.uid,
                (int)cred.pid, (unsigned)d->peer_uid);
        return false;
    }
    return true;
}

static void conn_accept(struct daemon *d)
{
    int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            mpq_log(MPQ_LOG_WARN, "accept: %s", strerror(errno));
        }
        return;
    }
    /* A refused peer is closed at once; the socket keeps listening. */
    if (!peer_allowed(d, fd) || !conn_setup(d, fd)) {
        (void)close(fd);
        return;
    }
    /* One proxy at a time: stop accepting until it leaves. */
    ep_del(d->epfd, d->listen_fd);
}

/* bind() creates the socket file with the process umask, which may let any
 * local user connect; bound under a umask granting the owner only, the file
 * is 0600 (the caller's umask restored). */
static int bind_private(int fd, const struct sockaddr_un *sa)
{
    const mode_t old = umask(S_IXUSR | S_IRWXG | S_IRWXO);
    const int rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
    (void)umask(old);
    return rc;
}

static int do_listen(struct daemon *d, const char *path)
{
    struct sockaddr_un sa;
    struct stat st;
    (void)memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    (void)memcpy(sa.sun_path, path, strlen(path) + 1u);
    /* A stale socket from an earlier run is replaced; anything else is left alone. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        (void)unlink(path);
    }
    d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (d->listen_fd < 0 || bind_private(d->listen_fd, &sa) != 0) {
        mpq_log(MPQ_LOG_ERROR, "cannot bind %s: %s", path, strerror(errno));
        return -1;
    }
    d->bound = true;
    if (listen(d->listen_fd, 1) != 0 || ep_add(d->epfd, d->listen_fd, TAG_LISTEN, EPOLLIN) != 0) {
        mpq_log(MPQ_LOG_ERROR, "cannot listen on %s: %s", path, strerror(errno));
        return -1;
    }
    mpq_log(MPQ_LOG_INFO, "listening on %s", path);
    return 0;
}

/* -------------------------------------------------------------------- CLI */

static void usage(FILE *f)
{
    (void)fputs("Usage: " MPQ_PROG " --device i6300esb|virtio-entropy (--fd N | --socket PATH) [OPTION]...\n"
                "Serve one PCI device to QEMU 7.2's x-pci-proxy-dev (multi-process protocol).\n"
                "\n"
                "      --device KIND         i6300esb (watchdog) or virtio-entropy (virtio-pci)\n"
                "      --fd N                the inherited end of the socketpair whose other end\n"
                "                            QEMU has as -device x-pci-proxy-dev,fd=M\n"
                "      --socket PATH         listen on PATH instead; a manager connects and hands\n"
                "                            QEMU its end (QMP getfd + device_add x-pci-proxy-dev,fd=NAME);\n"
                "                            the socket file is created 0600 whatever the umask\n"
                "      --peer-uid UID        with --socket: accept only connections from processes\n"
                "                            running as UID (SO_PEERCRED)\n"
                "      --require-sealed-memory  virtio-entropy: map guest RAM only from files sealed\n"
                "                            against shrinking (F_SEAL_SHRINK; memory-backend-memfd's\n"
                "                            default seal=on); no SIGBUS handler is then installed\n"
                "  i6300esb:\n"
                "      --qmp PATH            QEMU's QMP socket (-qmp unix:PATH,server=on,wait=off);\n"
                "                            required unless --action none\n"
                "      --action ACTION       stage-2 expiry: reset (system_reset, default), poweroff\n"
                "                            (quit), pause (stop) or none (logged only)\n"
                "  virtio-entropy:\n"
                "      --rate-bytes B        limit to B bytes/s (0 = unlimited, up to 2^30)\n"
                "      --rate-burst B        extra one-time byte burst (needs --rate-bytes)\n"
                "      --rate-ops N          limit to N requests/s (0 = unlimited, up to 2^30)\n"
                "      --rate-ops-burst N    extra one-time request burst (needs --rate-ops)\n"
                "      --source PATH         read entropy from PATH instead of getrandom(2)\n"
                "      --min-entropy H       min-entropy per source byte the health tests assume (1..8, default 8)\n"
                "  Numbers are decimal or 0x-prefixed hexadecimal.\n"
                "  -l, --log-level LEVEL     error, warn (default), info or debug\n"
                "  -h, --help                show this help and exit\n"
                "  -V, --version             show the version and exit\n"
                "\n"
                "SIGUSR1 writes the metrics to stderr.\n"
                "Exit status: 0 after SIGTERM/SIGINT or when QEMU closed the --fd connection,\n"
                "1 on a run-time failure (including a --fd connection ended by a malformed message),\n"
                "2 on a usage error.\n",
                f);
}

static int bad_opt(const char *opt, const char *val, const char *why)
{
    (void)fprintf(stderr, MPQ_PROG ": invalid value '%s' for option '%s': %s\n", val, opt, why);
    (void)fprintf(stderr, "Try '" MPQ_PROG " --help'.\n");
    return 2;
}

static int usage_error(const char *what, const char *arg, const char *tail)
{
    (void)fprintf(stderr, MPQ_PROG ": %s '%s'%s\nTry '" MPQ_PROG " --help'.\n", what, arg, tail);
    return 2;
}

enum {
    OPT_DEVICE = 256,
    OPT_FD,
    OPT_SOCKET,
    OPT_QMP,
    OPT_ACTION,
    OPT_RATE_BYTES,
    OPT_RATE_BURST,
    OPT_RATE_OPS,
    OPT_RATE_OPS_BURST,
    OPT_SOURCE,
    OPT_MIN_ENTROPY,
    OPT_PEER_UID,
    OPT_REQUIRE_SEALED
};

static int pick(const char *arg, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(arg, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int parse_rate(svd_rate_opt which, const char *arg, struct opts *o)
{
    char opt[32];
    (void)snprintf(opt, sizeof(opt), "--%s", svd_rate_opt_name(which));
    if (!svd_is_ok(svd_rate_opt_set(&o->rate, which, arg))) {
        return bad_opt(opt, arg, svd_rate_opt_expects(which));
    }
    o->rate_given = true;
    return -1;
}

static int parse_one(int c, const char *arg, const char *prev, struct opts *o)
{
    static const char *const kinds[] = { "i6300esb", "virtio-entropy" };
    static const char *const actions[] = { "reset", "poweroff", "pause", "none" };
    static const char *const levels[] = { "error", "warn", "info", "debug" };
    uint64_t v = 0;
    switch (c) {
    case OPT_DEVICE:
        o->kind = pick(arg, kinds, 2);
        return o->kind < 0 ? bad_opt("--device", arg, "expected i6300esb or virtio-entropy") : -1;
    case OPT_FD:
        if (!svd_is_ok(svd_parse_u64(arg, 0u, (uint64_t)INT_MAX, &v))) {
            return bad_opt("--fd", arg, "expected a file descriptor number");
        }
        o->fd = (long)v;
        return -1;
    case OPT_SOCKET:
        o->socket_path = arg;
        if (arg[0] == '\0' || strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            return bad_opt("--socket", arg, "empty, or too long for a UNIX socket address");
        }
        return -1;
    case OPT_QMP:
        o->qmp_path = arg;
        if (arg[0] == '\0' || strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            return bad_opt("--qmp", arg, "empty, or too long for a UNIX socket address");
        }
        return -1;
    case OPT_ACTION:
        o->action = pick(arg, actions, 4);
        return o->action < 0 ? bad_opt("--action", arg, "expected reset, poweroff, pause or none") : -1;
    case OPT_RATE_BYTES:
        return parse_rate(SVD_RATE_BYTES, arg, o);
    case OPT_RATE_BURST:
        return parse_rate(SVD_RATE_BURST, arg, o);
    case OPT_RATE_OPS:
        return parse_rate(SVD_RATE_OPS, arg, o);
    case OPT_RATE_OPS_BURST:
        return parse_rate(SVD_RATE_OPS_BURST, arg, o);
    case OPT_SOURCE:
        o->source = arg;
        return -1;
    case OPT_MIN_ENTROPY:
        if (!svd_is_ok(svd_parse_u64(arg, 1u, 8u, &v))) {
            return bad_opt("--min-entropy", arg, "expected bits per byte, 1 to 8");
        }
        o->min_entropy = v;
        return -1;
    case OPT_PEER_UID:
        /* (uid_t)-1 is no uid: it means "unchanged" to chown(2) and setreuid(2). */
        if (!svd_is_ok(svd_parse_u64(arg, 0u, UINT32_MAX - 1u, &v))) {
            return bad_opt("--peer-uid", arg, "expected a user ID");
        }
        o->peer_check = true;
        o->peer_uid = (uint32_t)v;
        return -1;
    case OPT_REQUIRE_SEALED:
        o->require_sealed = true;
        return -1;
    case 'l':
        mpq_log_level = pick(arg, levels, 4);
        return mpq_log_level < 0 ? bad_opt("--log-level", arg, "expected error, warn, info or debug") : -1;
    case 'h':
        usage(stdout);
        return 0;
    case 'V':
        (void)printf(MPQ_PROG " (safevdev) %s\n", SVD_VERSION);
        return 0;
    case ':':
        return usage_error("option", prev, " needs a value");
    default:
        return usage_error("unknown option", prev, "");
    }
}

/* The combination of options; -1 when it makes sense, else 2. */
static int check_combination(struct opts *o)
{
    svd_tb_cfg b;
    svd_tb_cfg n;
    svd_rate_opt bad = SVD_RATE_BYTES;
    if (o->kind < 0) {
        return usage_error("option", "--device", " is required");
    }
    if ((o->fd >= 0) == (o->socket_path != NULL)) {
        return usage_error("option", "--fd", " or --socket is required (exactly one of them)");
    }
    if (o->kind == (int)MPQ_DEV_ENTROPY) {
        if (o->qmp_path != NULL || o->action >= 0) {
            return usage_error("option", o->qmp_path != NULL ? "--qmp" : "--action", " applies to --device i6300esb only");
        }
        if (!svd_is_ok(svd_rate_to_buckets(&o->rate, &b, &n, &bad))) {
            char opt[32];
            (void)snprintf(opt, sizeof(opt), "--%s", svd_rate_opt_name(bad));
            return usage_error("option", opt, bad == SVD_RATE_BURST ? " needs --rate-bytes" : " needs --rate-ops");
        }
        return -1;
    }
    if (o->rate_given || o->source != NULL || o->min_entropy != 0u) {
        return usage_error("option", o->source != NULL ? "--source" : (o->min_entropy != 0u ? "--min-entropy" : "--rate-*"),
                           " applies to --device virtio-entropy only");
    }
    if (o->action < 0) {
        o->action = MPQ_ACTION_RESET;
    }
    if (o->action != (int)MPQ_ACTION_NONE && o->qmp_path == NULL) {
        return usage_error("option", "--qmp", " is required to carry out --action (or give --action none)");
    }
    return -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "device", required_argument, NULL, OPT_DEVICE },
        { "fd", required_argument, NULL, OPT_FD },
        { "socket", required_argument, NULL, OPT_SOCKET },
        { "qmp", required_argument, NULL, OPT_QMP },
        { "action", required_argument, NULL, OPT_ACTION },
        { "rate-bytes", required_argument, NULL, OPT_RATE_BYTES },
        { "rate-burst", required_argument, NULL, OPT_RATE_BURST },
        { "rate-ops", required_argument, NULL, OPT_RATE_OPS },
        { "rate-ops-burst", required_argument, NULL, OPT_RATE_OPS_BURST },
        { "source", required_argument, NULL, OPT_SOURCE },
        { "min-entropy", required_argument, NULL, OPT_MIN_ENTROPY },
        { "peer-uid", required_argument, NULL, OPT_PEER_UID },
        { "require-sealed-memory", no_argument, NULL, OPT_REQUIRE_SEALED },
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    (void)memset(o, 0, sizeof(*o));
    o->kind = -1;
    o->fd = -1;
    o->action = -1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:hV", lo, NULL)) != -1) {
        int rc = parse_one(c, optarg, argv[optind - 1], o);
        if (rc >= 0) {
            return rc;
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind], "");
    }
    const int rc = check_combination(o);
    /* With --fd the peer is whoever made the socketpair and exec'd us. */
    if (rc < 0 && o->peer_check && o->socket_path == NULL) {
        return usage_error("option", "--peer-uid", " applies to --socket only");
    }
    return rc;
}

/* ------------------------------------------------------------------- loop */

static void log_metrics(const struct daemon *d)
{
    mpq_dev_log_stats(&d->dev, MPQ_LOG_NOTE);
    if (d->watchdog) {
        const mpq_qmp *q = &d->qmp;
        mpq_log(MPQ_LOG_NOTE,
                "metrics: qmp %s state %d connects %llu actions_sent %llu confirmed %llu refused %llu bad_lines %llu "
                "pending %d vm_running %d paused_ms %llu",
                mpq_qmp_enabled(q) ? q->path : "-", (int)q->state, (unsigned long long)q->connects,
                (unsigned long long)q->sent, (unsigned long long)q->confirmed, (unsigned long long)q->refused,
                (unsigned long long)q->bad_lines, q->pending ? 1 : 0, q->vm_running ? 1 : 0,
                (unsigned long long)(d->clk.paused_total / 1000000u));
    }
}

/* One event; returns -1 to go on, or the exit status. */
static int dispatch(struct daemon *d, const struct epoll_event *ev)
{
    const enum tag t = (enum tag)(ev->data.u64 & 0xffu);
    const int fd = (int)(ev->data.u64 >> 8);
    uint64_t mono = mpq_now_ns();
    mpq_out out;
    switch (t) {
    case TAG_SIGNAL: {
        struct signalfd_siginfo si;
        if (read(d->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si)) {
            return -1;
        }
        if (si.ssi_signo == (uint32_t)SIGUSR1) {
            log_metrics(d);
            return -1;
        }
        mpq_log(MPQ_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
        return 0;
    }
    case TAG_LISTEN:
        if (d->conn_fd < 0) {
            conn_accept(d);
        }
        return -1;
    case TAG_CONN: {
        if (fd != d->conn_fd) {
            return -1; /* stale: closed earlier in this batch */
        }
        enum rx rx = conn_message(d);
        if (rx == RX_OK) {
            return -1;
        }
        if (rx == RX_BAD) {
            mpq_log(MPQ_LOG_ERROR, "malformed message: connection ended");
        } else {
            mpq_log(MPQ_LOG_INFO, "QEMU closed the connection");
        }
        conn_close(d);
        if (d->fd_mode) {
            return rx == RX_EOF ? 0 : 1;
        }
        return -1;
    }
    case TAG_TIMER:
        fired(&d->timer);
        mpq_dev_tick(&d->dev, d->watchdog ? dev_now(d, mono) : mono, &out);
        apply_out(d, &out, mono);
        break;
    case TAG_QMP:
        if (fd == d->qmp.fd) {
            mpq_qmp_io(&d->qmp, (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0u,
                       (ev->events & EPOLLOUT) != 0u, mono);
        }
        break;
    case TAG_QMP_TIMER:
        fired(&d->qmp_timer);
        mpq_qmp_poll(&d->qmp, mono);
        break;
    case TAG_RESAMPLE:
        if (fd == d->dev.resample_fd) {
            mpq_dev_resample(&d->dev);
        }
        return -1;
    default:
        return -1;
    }
    qmp_sync(d, mono);
    return -1;
}

/* The device's deadline on the monotonic clock, UINT64_MAX when none. */
static uint64_t dev_due(const struct daemon *d)
{
    uint64_t at = 0;
    if (!d->dev_timed || d->dev_deadline == SVD_NO_DEADLINE || d->clk.paused ||
        !svd_is_ok(svd_add_u64(d->dev_deadline, d->clk.paused_total, &at))) {
        return UINT64_MAX;
    }
    return at;
}

/* The timerfds are the precise wake-ups; the loop also waits no longer than
 * the earliest deadline and serves what is due itself, so a timer that could
 * not be armed (timerfd_settime failing) delays nothing: a watchdog deadline
 * is never lost. */
static int wait_ms(const struct daemon *d, uint64_t mono)
{
    uint64_t at = dev_due(d);
    uint64_t q = mpq_qmp_deadline(&d->qmp);
    at = q < at ? q : at;
    if (at == UINT64_MAX) {
        return -1;
    }
    if (at <= mono) {
        return 0;
    }
    uint64_t ms = (at - mono + 999999u) / 1000000u;
    return ms > (uint64_t)INT_MAX ? INT_MAX : (int)ms;
}

static void serve_due(struct daemon *d)
{
    uint64_t mono = mpq_now_ns();
    if (dev_due(d) <= mono) {
        mpq_out out;
        mpq_dev_tick(&d->dev, d->watchdog ? dev_now(d, mono) : mono, &out);
        apply_out(d, &out, mono);
    }
    if (mpq_qmp_deadline(&d->qmp) <= mono) {
        mpq_qmp_poll(&d->qmp, mono);
    }
    qmp_sync(d, mono);
}

static int run(struct daemon *d)
{
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(d->epfd, evs, 16, wait_ms(d, mpq_now_ns()));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            mpq_log(MPQ_LOG_ERROR, "epoll_wait: %s", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int rc = dispatch(d, &evs[i]);
            if (rc >= 0) {
                return rc;
            }
            if (g_bus_hit != 0) {
                g_bus_hit = 0;
                mpq_log(MPQ_LOG_ERROR, "guest RAM shrank under the mapping (SIGBUS or EFAULT): connection ended");
                conn_close(d);
                if (d->fd_mode) {
                    return 1;
                }
            }
        }
        serve_due(d);
    }
}

static int setup_device(struct daemon *d, const struct opts *o)
{
    mpq_dev_cfg cfg;
    mpq_ops ops = { resample_changed, d };
    (void)memset(&cfg, 0, sizeof(cfg));
    cfg.kind = (enum mpq_kind)o->kind;
    d->watchdog = cfg.kind == MPQ_DEV_I6300ESB;
    if (!d->watchdog) {
        svd_rate_opt bad = SVD_RATE_BYTES;
        cfg.entropy.source.read = src_getrandom;
        cfg.entropy.min_entropy = (uint32_t)o->min_entropy; /* 0: 8 bits, a conditioned source */
        if (o->source != NULL) {
            d->src_fd = open(o->source, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (d->src_fd < 0) {
                mpq_log(MPQ_LOG_ERROR, "cannot open --source '%s': %s", o->source, strerror(errno));
                return -1;
            }
            cfg.entropy.source.read = src_file;
            cfg.entropy.source.ctx = d;
        }
        if (!svd_is_ok(svd_rate_to_buckets(&o->rate, &cfg.entropy.rate_bytes, &cfg.entropy.rate_ops, &bad))) {
            return -1; /* not reached: checked with the command line */
        }
    }
    if (mpq_dev_init(&d->dev, &cfg, mpq_now_ns(), &ops) != 0) {
        mpq_log(MPQ_LOG_ERROR, "device configuration refused");
        return -1;
    }
    d->dev_ready = true;
    return 0;
}

static int setup(struct daemon *d, const struct opts *o, sigset_t *mask)
{
    struct sigaction sa;
    long pg = sysconf(_SC_PAGESIZE);
    d->action = o->action >= 0 ? (enum mpq_action)o->action : MPQ_ACTION_NONE;
    mpq_qmp_init(&d->qmp, o->qmp_path, mpq_now_ns());
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    d->sfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
    d->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    d->qmp_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->epfd < 0 || d->sfd < 0 || d->timer.fd < 0 || d->qmp_timer.fd < 0 ||
        ep_add(d->epfd, d->sfd, TAG_SIGNAL, EPOLLIN) != 0 || ep_add(d->epfd, d->timer.fd, TAG_TIMER, EPOLLIN) != 0 ||
        ep_add(d->epfd, d->qmp_timer.fd, TAG_QMP_TIMER, EPOLLIN) != 0) {
        mpq_log(MPQ_LOG_ERROR, "set-up: %s", strerror(errno));
        return -1;
    }
    if (setup_device(d, o) != 0) {
        return -1;
    }
    (void)memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    g_pagesize = SVD_ALWAYS(pg > 0) ? (size_t)pg : g_pagesize; /* SVD-COV-005: Linux always has a page size */
    g_d = d;
    d->dev.require_sealed = o->require_sealed;
    /* With only sealed guest RAM no truncation SIGBUS can arise: no handler. */
    if (!o->require_sealed &&
        (SVD_NEVER(sigemptyset(&sa.sa_mask) != 0) || SVD_NEVER(sigaction(SIGBUS, &sa, NULL) != 0))) { /* SVD-COV-005 */
        mpq_log(MPQ_LOG_ERROR, "sigaction(SIGBUS): %s", strerror(errno));
        return -1;
    }
    if (o->fd >= 0) {
        d->fd_mode = true;
        if (!conn_setup(d, (int)o->fd)) {
            return -1;
        }
    } else if (do_listen(d, o->socket_path) != 0) {
        return -1;
    } else {
        d->socket_path = o->socket_path;
        d->peer_check = o->peer_check;
        d->peer_uid = o->peer_uid;
    }
    qmp_sync(d, mpq_now_ns());
    mpq_log(MPQ_LOG_INFO, "serving %s%s%s", d->watchdog ? "i6300esb" : "virtio-entropy",
            d->watchdog ? ", action " : "", d->watchdog ? mpq_action_name(d->action) : "");
    return 0;
}

static void cleanup(struct daemon *d)
{
    if (d->conn_fd < 0 && !d->fd_mode && d->dev_ready) {
        log_metrics(d); /* --socket with no proxy connected: the totals so far */
    }
    conn_close(d);
    if (d->dev_ready) {
        mpq_dev_disconnect(&d->dev, mpq_now_ns());
    }
    g_d = NULL;
    mpq_qmp_close(&d->qmp, 0);
    int *fds[] = { &d->listen_fd, &d->timer.fd, &d->qmp_timer.fd, &d->src_fd, &d->sfd, &d->epfd };
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0) {
            (void)close(*fds[i]);
            *fds[i] = -1;
        }
    }
    if (d->bound && d->socket_path != NULL) {
        (void)unlink(d->socket_path);
    }
}

int main(int argc, char **argv)
{
    struct opts o;
    static struct daemon d;
    sigset_t mask;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    d.epfd = d.sfd = d.listen_fd = d.conn_fd = d.timer.fd = d.qmp_timer.fd = d.src_fd = d.qmp_watched = -1;
    d.qmp.fd = -1;
    /* SVD-COV-005: signal, sigemptyset and sigaddset fail only for an invalid signal number. */
    if (SVD_NEVER(signal(SIGPIPE, SIG_IGN) == SIG_ERR) || SVD_NEVER(sigemptyset(&mask) != 0) ||
        SVD_NEVER(sigaddset(&mask, SIGTERM) != 0) || SVD_NEVER(sigaddset(&mask, SIGINT) != 0) ||
        SVD_NEVER(sigaddset(&mask, SIGUSR1) != 0) || sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
        mpq_log(MPQ_LOG_ERROR, "signal set-up: %s", strerror(errno));
        return 1;
    }
    rc = setup(&d, &o, &mask) == 0 ? run(&d) : 1;
    cleanup(&d);
    return rc;
}
