/* vhost-user-entropy: the daemon. CLI, sockets, one epoll loop for every
 * instance, signalfd shutdown, timerfd retries, getrandom(2) source.
 *
 * Isolation: each instance has its own listening socket, connection, timer
 * and device state. A connection that misbehaves is closed and its instance
 * listens again; nothing it sends can reach another instance's state. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
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

#include "safevdev/parse.h"
#include "safevdev/ratelimit.h"
#include "safevdev/span.h"
#include "vhu_dev.h"
#include "vhu_sandbox.h"

#define VHU_MAX_INSTANCES 64u
/* How long a message may take to arrive completely, from its first byte. */
#define VHU_IO_TIMEOUT_NS UINT64_C(1000000000)
/* Messages handled per readiness event of one connection: a front-end that
 * floods the socket takes turns with the other fds of the loop. */
#define VHU_MSGS_PER_EVENT 8u

enum tag_kind { TAG_LISTEN, TAG_CONN, TAG_KICK, TAG_TIMER, TAG_DEADLINE, TAG_SIGNAL };

/* The message a connection is sending, as far as it has arrived. The
 * connection socket is non-blocking: each readiness event takes what is
 * there, so no peer can hold the loop, and the deadline (from the first
 * byte) bounds how long a message may take. */
struct conn_rx {
    uint8_t hdr[VHU_HDR_SIZE];
    uint8_t payload[VHU_MAX_PAYLOAD];
    size_t have;                 /* bytes of this message received (header, then payload) */
    int fds[VHU_MAX_RECV_FDS];   /* fds received with it */
    size_t nfds;
    uint64_t deadline;           /* CLOCK_MONOTONIC ns; valid while have > 0 */
};

struct inst;
struct tag {
    enum tag_kind kind;
    struct inst *in;
};

struct inst {
    vhu_dev dev;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int listen_fd;
    int conn_fd;
    int timer_fd;
    int io_timer_fd;     /* the connection's message deadline */
    int src_fd;          /* --source file, or -1 for getrandom(2) */
    bool dev_ready;      /* vhu_dev_init() succeeded */
    bool bound;          /* the socket file at path is ours (path_dev/path_ino identify it) */
    bool inherited;      /* listen_fd came with --fd: no path of ours */
    bool tmr_known;      /* tmr_armed/tmr_at say what the timer fd holds */
    bool tmr_armed;      /* the timer fd is armed for tmr_at */
    bool io_armed;       /* io_timer_fd is armed for rx.deadline */
    bool src_failing;    /* the source's last read failed (logged once per streak) */
    dev_t path_dev;
    ino_t path_ino;
    uint64_t tmr_at;
    struct conn_rx rx;
    struct tag t_listen;
    struct tag t_conn;
    struct tag t_kick;
    struct tag t_timer;
    struct tag t_deadline;
};

struct opts {
    const char *socket_path;
    long count;          /* -1: not given */
    svd_rate_opts rate; /* the per-second rate options, parsed by the core */
    const char *source;
    long fd;             /* --fd N, -1: not given */
    uint64_t min_entropy; /* --min-entropy H, bits per source byte */
    const char *user;
    const char *group;
    bool no_sandbox;
    bool sandbox_selftest;
    unsigned sock_mode;  /* --socket-mode, permission bits of the socket files */
    bool peer_check;     /* --peer-uid given */
    uint32_t peer_uid;
    bool require_sealed; /* --require-sealed-memory */
};

/* Who may connect: the socket files' permission bits (default 0600: the
 * daemon's user only, whatever the process umask) and, with --peer-uid, the
 * uid the kernel reports for the connecting process (SO_PEERCRED). Set once
 * from the options before any socket is bound. */
static struct {
    mode_t mode;
    bool check;
    uid_t uid;
} g_access = { S_IRUSR | S_IWUSR, false, 0 };

static int g_epfd = -1;

/* Guest memory the front-end shrinks after SET_MEM_TABLE (ftruncate of its
 * memfd or file) turns our next access to the lost pages into SIGBUS, which
 * would kill every instance. The handler replaces the faulting page of a
 * guest mapping with an anonymous one, so the access completes harmlessly,
 * and records the instance; the loop then disconnects that instance only.
 * Any other SIGBUS keeps its default action and ends the process.
 * The handler reads the instance table only: SIGBUS is synchronous, raised
 * in this same thread by a ring access, never while the table changes. */
static struct inst *g_insts;
static size_t g_ninst;
static size_t g_pagesize = 4096;
static volatile sig_atomic_t g_bus_inst = -1;

/* A sealed region (F_SEAL_SHRINK) cannot have been truncated: a SIGBUS in
 * it is some other fault (a machine-check on the page) and is not patched.
 * With --require-sealed-memory every region is sealed and the handler is
 * not installed at all. */
static bool patch_guest_page(const vhu_dev *d, uintptr_t a)
{
    for (uint32_t r = 0; r < d->nregions; r++) {
        uint8_t *base = d->regions[r].map;
        uintptr_t b = (uintptr_t)base;
        if ((base != NULL) && !d->regions[r].sealed && (a >= b) && ((a - b) < d->regions[r].map_len)) {
            uint8_t *pg = base + ((a - b) & ~(uintptr_t)(g_pagesize - 1u));
            void *m;
            const int saved_errno = errno;
            /* SVD-DEV-005: POSIX lists no mapping function as async-signal-safe,
             * so no conforming handler can repair a page. On Linux mmap is the
             * system call itself, whose only shared state is errno: saved and
             * restored around it, so the interrupted code sees its own. fd -1
             * is what MAP_ANONYMOUS asks for (cppcheck's posix model wants fd >= 0). */
            // cppcheck-suppress invalidFunctionArg ; SVD-DEV-005
            m = mmap(pg, g_pagesize, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* NOLINT(bugprone-signal-handler,cert-sig30-c) SVD-DEV-005 */
            errno = saved_errno;
            return m != MAP_FAILED;
        }
    }
    return false;
}

/* Only the kernel's report of an access past the end of a file mapping
 * (BUS_ADRERR) can be a truncated guest page. A SIGBUS a process sends
 * (kill, tgkill, sigqueue: si_code <= 0, whatever address it names) or any
 * other fault is not, and gets the default action: restored, then sent
 * again to this process, since a sent signal, unlike a fault, does not come
 * back by itself. It stays blocked until the handler returns and then ends
 * the process (signal, kill, getpid: async-signal-safe). SVD-DEV-015: kill()
 * and not raise(), which src/ bans as a way to end the process on an error
 * of its own; this hands back the signal someone else sent. */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (si->si_code == BUS_ADRERR) {
        const uintptr_t a = (uintptr_t)si->si_addr;
        for (size_t i = 0; i < g_ninst; i++) {
            if (patch_guest_page(&g_insts[i].dev, a)) {
                g_bus_inst = (sig_atomic_t)i;
                return;
            }
        }
    }
    (void)signal(sig, SIG_DFL);
    (void)kill(getpid(), sig);
}

/* ------------------------------------------------------------ entropy source */

static const char *file_kind(mode_t m);

static svd_result src_getrandom(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    ssize_t n;
    (void)ctx;
    do {
        n = getrandom(buf, len, GRND_NONBLOCK);
    } while ((n < 0) && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (n < 0) {
        *got = 0;
        return svd_fail((errno == EAGAIN) ? SVD_ERR_AGAIN : SVD_ERR_SOURCE);
    }
    *got = (size_t)n;
    return svd_ok();
}

/* A file or FIFO given with --source (opened non-blocking): nothing to read
 * now, or end of file, is "not now" and the request waits for the retry. */
static svd_result src_file(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    struct inst *in = ctx;
    ssize_t n;
    do {
        n = read(in->src_fd, buf, len);
    } while ((n < 0) && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (n < 0) {
        *got = 0;
        if (errno == EAGAIN) {
            return svd_fail(SVD_ERR_AGAIN);
        }
        /* A failing source is logged once, not at every retry. */
        if (!in->src_failing) {
            vhu_log(VHU_LOG_ERROR, in->dev.inst, "--source read failed: %s (requests wait; logged once until it reads again)",
                    strerror(errno));
            in->src_failing = true;
        }
        return svd_fail(SVD_ERR_SOURCE);
    }
    if (in->src_failing && (n > 0)) {
        vhu_log(VHU_LOG_WARN, in->dev.inst, "--source reads again");
        in->src_failing = false;
    }
    *got = (size_t)n;
    return (n == 0) ? svd_fail(SVD_ERR_AGAIN) : svd_ok();
}

/* --source must be something that can be read: a character device (a
 * hwrng), a FIFO or a regular file; a directory or anything else would
 * fail at every read and is refused at start. */
static int src_open(struct inst *in, const char *path)
{
    struct stat st;
    in->src_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (in->src_fd < 0) {
        vhu_log(VHU_LOG_ERROR, -1, "cannot open --source '%s': %s", path, strerror(errno));
        return -1;
    }
    if (fstat(in->src_fd, &st) != 0) {
        vhu_log(VHU_LOG_ERROR, -1, "cannot examine --source '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode)) {
        vhu_log(VHU_LOG_ERROR, -1, "cannot read --source '%s': it is %s (expected a character device, FIFO or regular file)",
                path, file_kind(st.st_mode));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------- epoll */

static int ep_add(int fd, struct tag *t)
{
    struct epoll_event ev;
    (void)memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = t;
    return epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_del(int fd)
{
    if (fd >= 0) {
        (void)epoll_ctl(g_epfd, EPOLL_CTL_DEL, fd, NULL);
    }
}

/* Watch the new kick fd first: if it cannot be watched (a regular file, a
 * directory) the old one stays and the request is refused. */
static bool kick_changed(void *ctx, int old_fd, int new_fd)
{
    struct inst *in = ctx;
    if ((new_fd >= 0) && (ep_add(new_fd, &in->t_kick) != 0)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot watch the kick fd: %s", strerror(errno));
        return false;
    }
    ep_del(old_fd);
    return true;
}

/* Arm the retry/poll timer for @at (absolute, CLOCK_MONOTONIC ns) or disarm
 * it. The syscall is skipped when the timer already holds that state (after
 * every serve of a kick the timer is usually disarmed already); after a
 * failed call the state is unknown and the next call always makes it. */
static void arm_timer(struct inst *in, bool wake, uint64_t at)
{
    struct itimerspec its;
    if (wake && (at == 0u)) {
        at = 1; /* zero would disarm */
    }
    if (in->tmr_known && (in->tmr_armed == wake) && (!wake || (in->tmr_at == at))) {
        return;
    }
    (void)memset(&its, 0, sizeof(its));
    if (wake) {
        const uint64_t sec = at / UINT64_C(1000000000);
        const uint64_t nsec = at % UINT64_C(1000000000);
        its.it_value.tv_sec = (time_t)sec;
        its.it_value.tv_nsec = (long)nsec;
    }
    if (timerfd_settime(in->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "timerfd_settime: %s", strerror(errno));
        in->tmr_known = false;
        return;
    }
    in->tmr_known = true;
    in->tmr_armed = wake;
    in->tmr_at = at;
}

static void serve(struct inst *in)
{
    bool wake;
    uint64_t at;
    vhu_dev_process(&in->dev, vhu_now_ns(), &wake, &at);
    arm_timer(in, wake, at);
}

/* ------------------------------------------------------------- connections */

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            (void)close(fds[i]);
            fds[i] = -1;
        }
    }
}

/* Arm the message deadline (absolute) or disarm it. */
static void io_timer_set(struct inst *in, bool arm, uint64_t at)
{
    struct itimerspec its;
    (void)memset(&its, 0, sizeof(its));
    if (arm) {
        const uint64_t sec = at / UINT64_C(1000000000);
        const uint64_t nsec = at % UINT64_C(1000000000);
        its.it_value.tv_sec = (time_t)sec;
        its.it_value.tv_nsec = (long)nsec;
    }
    if (timerfd_settime(in->io_timer_fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        /* The deadline is checked again at every event of the connection. */
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "timerfd_settime (message deadline): %s", strerror(errno));
        in->io_armed = !arm;
        return;
    }
    in->io_armed = arm;
}

static void rx_reset(struct inst *in)
{
    close_all(in->rx.fds, in->rx.nfds);
    in->rx.nfds = 0;
    in->rx.have = 0;
}

static void conn_close(struct inst *in)
{
    if (in->conn_fd < 0) {
        return;
    }
    ep_del(in->conn_fd);
    (void)close(in->conn_fd);
    in->conn_fd = -1;
    rx_reset(in);
    if (in->io_armed) {
        io_timer_set(in, false, 0);
    }
    vhu_dev_disconnect(&in->dev);
    arm_timer(in, false, 0);
    if (ep_add(in->listen_fd, &in->t_listen) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot listen again: %s", strerror(errno));
    }
    vhu_log(VHU_LOG_INFO, in->dev.inst, "front-end disconnected; listening on %s", in->path);
}

static bool peer_allowed(const struct inst *in, int fd);

static void conn_accept(struct inst *in)
{
    int fd = accept4(in->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if ((errno != EAGAIN) && (errno != EINTR)) {
            vhu_log(VHU_LOG_WARN, in->dev.inst, "accept: %s", strerror(errno));
        }
        return;
    }
    if (!peer_allowed(in, fd)) {
        (void)close(fd);
        return;
    }
    if (ep_add(fd, &in->t_conn) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot set up the connection: %s", strerror(errno));
        (void)close(fd);
        return;
    }
    /* One front-end at a time: stop accepting until it leaves. */
    ep_del(in->listen_fd);
    in->conn_fd = fd;
    rx_reset(in);
    vhu_log(VHU_LOG_INFO, in->dev.inst, "front-end connected");
}

/* Send a reply without waiting. The protocol is one reply per request and
 * a front-end waits for each: a socket with no room for 52 bytes means the
 * peer does not read its replies, and the connection ends. */
static bool send_reply(struct inst *in, const vhu_reply *r)
{
    uint8_t buf[VHU_HDR_SIZE + sizeof(r->payload)];
    size_t len = VHU_HDR_SIZE + r->size;
    ssize_t n;
    svd_store_le32(buf, r->request);
    svd_store_le32(buf + 4, VHU_VERSION | VHU_FLAG_REPLY);
    svd_store_le32(buf + 8, r->size);
    (void)memcpy(buf + VHU_HDR_SIZE, r->payload, r->size);
    do {
        n = send(in->conn_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while ((n < 0) && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (n == (ssize_t)len) {
        return true;
    }
    if ((n >= 0) || (errno == EAGAIN)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "the front-end does not read its replies: disconnecting");
        vhu_dev_count_perr(&in->dev, VHU_PERR_FRAMING);
    } else {
        vhu_log(VHU_LOG_WARN, in->dev.inst, "cannot send the reply: %s", strerror(errno));
    }
    return false;
}

/* Take every fd out of the control messages, whatever else is wrong, so
 * none can leak; fds beyond our room are closed at once (and reported by
 * the caller: the message is then malformed). Returns false on overflow. */
static bool collect_fds(struct msghdr *mh, struct conn_rx *rx)
{
    bool room = true;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
        size_t k;
        const unsigned char *data = CMSG_DATA(cm);
        if ((cm->cmsg_level != SOL_SOCKET) || (cm->cmsg_type != SCM_RIGHTS) || (cm->cmsg_len < CMSG_LEN(0))) {
            continue;
        }
        k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd = -1;
            (void)memcpy(&fd, data + (i * sizeof(int)), sizeof(int));
            if (rx->nfds < VHU_MAX_RECV_FDS) {
                rx->fds[rx->nfds] = fd;
                rx->nfds++;
            } else {
                (void)close(fd);
                room = false;
            }
        }
    }
    return room;
}

/* Bytes still missing from the current message (0: complete). */
static size_t rx_missing(const struct conn_rx *rx)
{
    if (rx->have < VHU_HDR_SIZE) {
        return VHU_HDR_SIZE - rx->have;
    }
    return VHU_HDR_SIZE + (size_t)svd_load_le32(rx->hdr + 8) - rx->have;
}

/* One non-blocking receive of the rest of the current message (never past
 * it: the fds of the next message stay with the next message). Returns 1
 * when the message is complete, 0 when the socket has nothing more now,
 * -1 when the connection must end. */
static int rx_step(struct inst *in)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_RECV_FDS)];
    } ctl;
    struct conn_rx *rx = &in->rx;
    size_t want = rx_missing(rx);
    struct iovec iov;
    struct msghdr mh;
    ssize_t n;

    if (rx->have < VHU_HDR_SIZE) {
        iov.iov_base = rx->hdr + rx->have;
    } else {
        iov.iov_base = rx->payload + (rx->have - VHU_HDR_SIZE);
    }
    iov.iov_len = want;
    (void)memset(&mh, 0, sizeof(mh));
    (void)memset(&ctl, 0, sizeof(ctl));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    do {
        n = recvmsg(in->conn_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    } while ((n < 0) && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
    if (n < 0) {
        if (errno == EAGAIN) {
            return 0;
        }
        vhu_log(VHU_LOG_WARN, in->dev.inst, "recvmsg: %s", strerror(errno));
        return -1;
    }
    if (!collect_fds(&mh, rx) || ((mh.msg_flags & MSG_CTRUNC) != 0)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "message carried more than %u fds", VHU_MAX_RECV_FDS);
        vhu_dev_count_perr(&in->dev, VHU_PERR_FRAMING);
        return -1;
    }
    if (n == 0) {
        if (rx->have > 0u) {
            vhu_log(VHU_LOG_ERROR, in->dev.inst, "end of stream inside a message (%zu bytes of it received)",
                    rx->have);
            vhu_dev_count_perr(&in->dev, VHU_PERR_FRAMING);
        }
        return -1;
    }
    if (rx->have == 0u) {
        rx->deadline = vhu_now_ns() + VHU_IO_TIMEOUT_NS;
    }
    rx->have += (size_t)n;
    if ((rx->have == VHU_HDR_SIZE) && (svd_load_le32(rx->hdr + 8) > VHU_MAX_PAYLOAD)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "payload size %u exceeds %u", svd_load_le32(rx->hdr + 8),
                VHU_MAX_PAYLOAD);
        vhu_dev_count_perr(&in->dev, VHU_PERR_FRAMING);
        return -1;
    }
    return ((rx->have >= VHU_HDR_SIZE) && (rx_missing(rx) == 0u)) ? 1 : 0;
}

/* Hand the complete message to the dispatcher (which takes its fds) and
 * send the reply. Returns false when the connection must end. */
static bool rx_dispatch(struct inst *in)
{
    struct conn_rx *rx = &in->rx;
    vhu_reply rep;
    enum vhu_verdict vd;
    size_t nfds = rx->nfds;

    rx->nfds = 0;
    rx->have = 0;
    vd = vhu_dev_handle(&in->dev, svd_load_le32(rx->hdr), svd_load_le32(rx->hdr + 4), rx->payload,
                        svd_load_le32(rx->hdr + 8), rx->fds, nfds, &rep);
    if (vd == VHU_V_DISCONNECT) {
        return false;
    }
    if (rep.send && !send_reply(in, &rep)) {
        return false;
    }
    if (in->dev.need_process) {
        serve(in);
    }
    return true;
}

static bool rx_overdue(const struct inst *in)
{
    return (in->rx.have > 0u) && (vhu_now_ns() >= in->rx.deadline);
}

static void log_overdue(struct inst *in)
{
    const uint64_t ms = VHU_IO_TIMEOUT_NS / UINT64_C(1000000);
    vhu_log(VHU_LOG_ERROR, in->dev.inst, "message incomplete after %llu ms (%zu of %zu bytes): disconnecting",
            (unsigned long long)ms, in->rx.have,
            in->rx.have + rx_missing(&in->rx));
    vhu_dev_count_perr(&in->dev, VHU_PERR_FRAMING);
}

/* The connection is readable (or hung up): take what has arrived, handle
 * up to VHU_MSGS_PER_EVENT complete messages. Returns false when the
 * connection must end. */
static bool conn_readable(struct inst *in)
{
    for (unsigned k = 0; k < VHU_MSGS_PER_EVENT; k++) {
        int r = rx_step(in);
        if (r < 0) {
            return false;
        }
        if (r == 0) {
            break;
        }
        if (!rx_dispatch(in)) {
            return false;
        }
    }
    if (rx_overdue(in)) {
        log_overdue(in);
        return false;
    }
    /* A message left incomplete has its deadline armed; the timer syscall is
     * made only when a message stays incomplete past one event. */
    if ((in->rx.have > 0u) && !in->io_armed) {
        io_timer_set(in, true, in->rx.deadline);
    } else if ((in->rx.have == 0u) && in->io_armed) {
        io_timer_set(in, false, 0);
    } else {
        /* the timer is already as the buffer needs it */
    }
    return true;
}

/* Consume an eventfd/timerfd/pipe count. The event may be stale (the fd
 * replaced earlier in the same batch) and a front-end's fd may have been
 * made blocking again by the front-end, so read only when it is readable
 * now. Returns false when the fd hung up or failed: a pipe whose writer
 * closed, a socket closed by the peer, an error. */
static bool drain(int fd)
{
    struct pollfd pfd = { fd, POLLIN, 0 };
    int pr = poll(&pfd, 1, 0);
    if ((pr == 1) && ((pfd.revents & POLLIN) != 0)) {
        uint64_t v;
        ssize_t n;
        do {
            n = read(fd, &v, sizeof(v));
        } while ((n < 0) && SVD_NEVER(errno == EINTR)); /* SVD-COV-001: no handler can interrupt it */
        if ((n == 0) || ((n < 0) && (errno != EAGAIN))) {
            return false;
        }
    }
    return (pr >= 0) && ((pr == 0) || ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) == 0));
}

/* A kick. A kick fd that hangs up or fails would be reported by epoll for
 * ever (level-triggered): it is dropped and the ring stops (the spec lets a
 * back-end stop a ring whose kick is gone); a new SET_VRING_KICK starts it
 * again. */
static void on_kick(struct inst *in, uint32_t events)
{
    bool ok = drain(in->dev.vr.kick_fd) && ((events & (EPOLLHUP | EPOLLERR)) == 0);
    serve(in);
    if (!ok) {
        vhu_dev_kick_lost(&in->dev);
        arm_timer(in, false, 0);
    }
}

static void on_timer(struct inst *in)
{
    (void)drain(in->timer_fd);
    if (in->tmr_known) {
        in->tmr_armed = false; /* a one-shot absolute timer disarms when it expires */
    }
    serve(in);
}

/* ------------------------------------------------------------------ set-up */

static const char *file_kind(mode_t m)
{
    if (S_ISREG(m) != 0) {
        return "a regular file";
    }
    if (S_ISDIR(m) != 0) {
        return "a directory";
    }
    if (S_ISLNK(m) != 0) {
        return "a symbolic link";
    }
    if (S_ISFIFO(m) != 0) {
        return "a FIFO";
    }
    if (S_ISCHR(m) != 0) {
        return "a character device";
    }
    return "not a socket";
}

enum sock_state { SOCK_STALE, SOCK_LIVE, SOCK_UNKNOWN };

/* Is a back-end listening on the socket file at @sa? A connection that is
 * accepted or queued (EAGAIN: its backlog is full) says yes; ECONNREFUSED
 * says nobody listens (a daemon that died without removing it). The live
 * daemon sees one connection that closes at once, and listens on. */
static enum sock_state socket_state(const struct sockaddr_un *sa, int *err)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    enum sock_state st = SOCK_UNKNOWN;
    if (s < 0) {
        *err = errno;
        return SOCK_UNKNOWN;
    }
    if ((connect(s, (const struct sockaddr *)sa, sizeof(*sa)) == 0) || (errno == EAGAIN)) {
        st = SOCK_LIVE;
    } else if ((errno == ECONNREFUSED) || (errno == ENOENT)) {
        st = SOCK_STALE;
    } else {
        *err = errno;
    }
    (void)close(s);
    return st;
}

/* Ownership of the path: a live socket is refused, a stale one replaced,
 * anything that is not a socket never touched. 0 when the path is free. */
static int claim_path(struct inst *in, const struct sockaddr_un *sa)
{
    struct stat st;
    int err = 0;
    if (lstat(in->path, &st) != 0) {
        if (errno == ENOENT) {
            return 0;
        }
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot examine %s: %s", in->path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "%s exists and is %s, not a socket: left alone (remove it or choose another path)",
                in->path, file_kind(st.st_mode));
        return -1;
    }
    switch (socket_state(sa, &err)) {
    case SOCK_STALE:
        vhu_log(VHU_LOG_WARN, in->dev.inst, "%s is a stale socket (nothing listens on it): replaced", in->path);
        if ((unlink(in->path) != 0) && (errno != ENOENT)) {
            vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot remove the stale socket %s: %s", in->path, strerror(errno));
            return -1;
        }
        return 0;
    case SOCK_LIVE:
        vhu_log(VHU_LOG_ERROR, in->dev.inst,
                "%s is the live socket of a running back-end (it accepts connections): not taken over", in->path);
        return -1;
    default:
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot tell whether the socket %s is in use (%s): left alone", in->path,
                strerror(err));
        return -1;
    }
}

/* bind() creates the socket file with the process umask: a umask that
 * leaves it open lets any local user connect before a chmod could close it,
 * and a chmod after bind() leaves a window in which the file has other bits
 * than the configured ones (a front-end started as soon as the file appears
 * may be refused). So it is bound under the umask that leaves exactly the
 * configured bits (0600 by default): the file is created with them, and the
 * caller's umask is restored. */
static int sock_bind_private(int fd, const struct sockaddr_un *sa)
{
    const mode_t old = umask((mode_t)(~g_access.mode & (mode_t)(S_IRWXU | S_IRWXG | S_IRWXO)));
    const int rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
    (void)umask(old);
    return rc;
}

/* --peer-uid: the connecting process must run as that uid. The kernel fills
 * SO_PEERCRED at connect(); a peer that cannot be identified is refused. */
static bool peer_allowed(const struct inst *in, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (!g_access.check) {
        return true;
    }
    if ((getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) || (len != sizeof(cred))) {
        vhu_log(VHU_LOG_WARN, in->dev.inst, "connection refused: peer credentials unavailable: %s", strerror(errno));
        return false;
    }
    if (cred.uid != g_access.uid) {
        vhu_log(VHU_LOG_WARN, in->dev.inst, "connection refused: peer uid %u (pid %d), only uid %u may connect",
                (unsigned)cred.uid, (int)cred.pid, (unsigned)g_access.uid);
        return false;
    }
    return true;
}

static int inst_listen(struct inst *in)
{
    struct sockaddr_un sa;
    struct stat st;
    (void)memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    (void)memcpy(sa.sun_path, in->path, strlen(in->path) + 1u);
    if (claim_path(in, &sa) != 0) {
        return -1;
    }
    in->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if ((in->listen_fd < 0) || (sock_bind_private(in->listen_fd, &sa) != 0)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot bind %s: %s", in->path, strerror(errno));
        return -1;
    }
    /* From here on the path is ours: cleanup removes it, if it is still the
     * socket we bound (same device and inode). */
    if (lstat(in->path, &st) == 0) {
        in->bound = true;
        in->path_dev = st.st_dev;
        in->path_ino = st.st_ino;
    }
    if ((listen(in->listen_fd, 1) != 0) || (ep_add(in->listen_fd, &in->t_listen) != 0)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot listen on %s: %s", in->path, strerror(errno));
        return -1;
    }
    vhu_log(VHU_LOG_INFO, in->dev.inst, "listening on %s", in->path);
    return 0;
}

/* --fd N: a listening UNIX stream socket the caller made (vhost-user back-end
 * convention); checked to be one, made non-blocking and close-on-exec. */
static int inst_inherit(struct inst *in, int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);
    struct stat st;
    int fl;
    (void)snprintf(in->path, sizeof(in->path), "fd %d", fd);
    if ((fstat(fd, &st) != 0) || !S_ISSOCK(st.st_mode)) {
        vhu_log(VHU_LOG_ERROR, 0, "--fd %d: not an open socket", fd);
        return -1;
    }
    if ((getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) != 0) || (v != AF_UNIX)) {
        vhu_log(VHU_LOG_ERROR, 0, "--fd %d: not a UNIX domain socket", fd);
        return -1;
    }
    len = sizeof(v);
    if ((getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) != 0) || (v != SOCK_STREAM)) {
        vhu_log(VHU_LOG_ERROR, 0, "--fd %d: not a stream socket", fd);
        return -1;
    }
    len = sizeof(v);
    if ((getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) != 0) || (v != 1)) {
        vhu_log(VHU_LOG_ERROR, 0, "--fd %d: the socket is not listening", fd);
        return -1;
    }
    fl = fcntl(fd, F_GETFL);
    if ((fl < 0) || (fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) || (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)) {
        vhu_log(VHU_LOG_ERROR, 0, "--fd %d: %s", fd, strerror(errno));
        return -1;
    }
    in->listen_fd = fd;
    in->inherited = true;
    if (ep_add(in->listen_fd, &in->t_listen) != 0) {
        vhu_log(VHU_LOG_ERROR, 0, "--fd %d: cannot watch it: %s", fd, strerror(errno));
        return -1;
    }
    vhu_log(VHU_LOG_INFO, 0, "listening on the inherited socket (fd %d)", fd);
    return 0;
}

static void close_fd_of(int *fd)
{
    if (*fd >= 0) {
        (void)close(*fd);
        *fd = -1;
    }
}

static void inst_cleanup(struct inst *in)
{
    if (in->conn_fd >= 0) {
        conn_close(in);
    }
    if (in->dev_ready) {
        vhu_dev_disconnect(&in->dev);
    }
    if (in->listen_fd >= 0) {
        ep_del(in->listen_fd);
        close_fd_of(&in->listen_fd);
    }
    if (in->bound) {
        struct stat st;
        /* Only the socket we bound: if another file took the path meanwhile
         * it is not ours to remove. */
        if (lstat(in->path, &st) != 0) {
            if (errno != ENOENT) {
                vhu_log(VHU_LOG_WARN, in->dev.inst, "cannot examine %s at exit: %s: left alone", in->path,
                        strerror(errno));
            }
        } else if (S_ISSOCK(st.st_mode) && (st.st_dev == in->path_dev) && (st.st_ino == in->path_ino)) {
            if (unlink(in->path) != 0) {
                vhu_log(VHU_LOG_WARN, in->dev.inst, "cannot remove %s: %s", in->path, strerror(errno));
            }
        } else {
            vhu_log(VHU_LOG_WARN, in->dev.inst, "%s is no longer our socket: left alone", in->path);
        }
        in->bound = false;
    }
    close_fd_of(&in->timer_fd);
    close_fd_of(&in->io_timer_fd);
    close_fd_of(&in->src_fd);
}

/* -------------------------------------------------------------------- CLI */

static void usage(FILE *f)
{
    (void)fputs("Usage: vhost-user-entropy --socket-path PATH [OPTION]...\n"
          "A vhost-user back-end serving a virtio-entropy device (virtio 1.2 5.4)\n"
          "to QEMU's vhost-user-rng-pci / vhost-user-rng.\n"
          "\n"
          "  -s, --socket-path PATH    UNIX socket to listen on (server mode)\n"
          "  -c, --socket-count N      serve N instances on PATH0 .. PATH<N-1> (1..64)\n"
          "      --rate-bytes B        limit each instance to B bytes/s (0 = unlimited, up to 2^30)\n"
          "      --rate-burst B        extra one-time byte burst (needs --rate-bytes)\n"
          "      --rate-ops N          limit each instance to N requests/s (0 = unlimited, up to 2^30)\n"
          "      --rate-ops-burst N    extra one-time request burst (needs --rate-ops)\n"
          "  Numbers are decimal or 0x-prefixed hexadecimal.\n"
          "      --source PATH         read entropy from PATH instead of getrandom(2)\n"
          "      --min-entropy H       min-entropy per source byte the health tests assume (1..8, default 8)\n"
          "      --fd N                serve the inherited listening socket N (instead of --socket-path)\n"
          "      --socket-mode MODE    permission bits of the socket files, octal (default 0600)\n"
          "      --peer-uid UID        accept only connections from processes running as UID (SO_PEERCRED)\n"
          "      --require-sealed-memory  map guest RAM only from fds sealed against shrinking\n"
          "                            (F_SEAL_SHRINK; QEMU's memory-backend-memfd seals by default);\n"
          "                            no SIGBUS handler is then installed\n"
          "      --user USER           after set-up, run as USER (when started as root)\n"
          "      --group GROUP         after set-up, run as GROUP (default: USER's group)\n"
          "      --no-sandbox          do not enter the seccomp allow-list (debugging only)\n"
          "      --sandbox-selftest    enter the sandbox, then make a forbidden call (must die by SIGSYS)\n"
          "      --print-capabilities  print the back-end capabilities (JSON) and exit\n"
          "  -l, --log-level LEVEL     error, warn (default), info or debug\n"
          "  -h, --help                show this help and exit\n"
          "  -V, --version             show the version and exit\n"
          "\n"
          "Signals: SIGTERM, SIGINT, SIGHUP and SIGQUIT shut down cleanly (exit 0);\n"
          "SIGUSR1 logs every instance's counters.\n"
          "Exit status: 0 after a shutdown signal, 1 on a run-time failure, 2 on a usage error.\n",
          f);
}

static int bad_opt(const char *opt, const char *val, const char *why)
{
    (void)fprintf(stderr, "vhost-user-entropy: invalid value '%s' for option '%s': %s\n", val, opt, why);
    (void)fprintf(stderr, "Try 'vhost-user-entropy --help'.\n");
    return 2;
}

enum { OPT_RATE_BYTES = 256, OPT_RATE_BURST, OPT_RATE_OPS, OPT_RATE_OPS_BURST, OPT_SOURCE };
enum { OPT_FD = 300, OPT_MIN_ENTROPY, OPT_USER, OPT_GROUP, OPT_NO_SANDBOX, OPT_SANDBOX_SELFTEST };
enum { OPT_SOCKET_MODE = 400, OPT_PEER_UID, OPT_REQUIRE_SEALED };

/* The socket options: -1 when stored, 2 on error. */
static int parse_access(int c, const char *arg, struct opts *o)
{
    uint64_t v = 0;
    if (c == OPT_SOCKET_MODE) {
        /* Octal permission bits, three or four digits (0600, 660): no type,
         * setuid, setgid or sticky bits. */
        const size_t n = strlen(arg);
        if ((n < 3u) || (n > 4u) || (strspn(arg, "01234567") != n) || ((n == 4u) && (arg[0] != '0'))) {
            return bad_opt("--socket-mode", arg, "expected octal permission bits, 000 to 0777");
        }
        v = 0;
        for (size_t i = 0; i < n; i++) {
            v = (v * 8u) + ((uint64_t)arg[i] - (uint64_t)'0');
        }
        o->sock_mode = (unsigned)v;
        return -1;
    }
    if (!svd_is_ok(svd_parse_u64(arg, 0u, UINT32_MAX - 1u, &v))) {
        return bad_opt("--peer-uid", arg, "expected a user ID");
    }
    o->peer_check = true;
    o->peer_uid = (uint32_t)v;
    return -1;
}


/* "vhost-user-entropy: <what> '<arg>'<tail>" and the help hint. */
static int usage_error(const char *what, const char *arg, const char *tail)
{
    (void)fprintf(stderr, "vhost-user-entropy: %s '%s'%s\nTry 'vhost-user-entropy --help'.\n", what, arg, tail);
    return 2;
}

static int parse_level(const char *arg)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i <= (int)VHU_LOG_DEBUG; i++) {
        if (strcmp(arg, names[i]) == 0) {
            vhu_log_level = i;
            return -1;
        }
    }
    return bad_opt("--log-level", arg, "expected error, warn, info or debug");
}

/* One rate option (the core's grammar and range): -1 when stored, 2 on error. */
static int parse_rate(svd_rate_opt which, const char *arg, struct opts *o)
{
    char opt[32];
    (void)snprintf(opt, sizeof(opt), "--%s", svd_rate_opt_name(which));
    if (!svd_is_ok(svd_rate_opt_set(&o->rate, which, arg))) {
        return bad_opt(opt, arg, svd_rate_opt_expects(which));
    }
    return -1;
}

/* One option: -1 to go on, or the exit status. */
static int parse_one(int c, const char *arg, const char *prev, struct opts *o)
{
    uint64_t v = 0;
    switch (c) {
    case 's':
        o->socket_path = arg;
        return (arg[0] == '\0') ? bad_opt("--socket-path", arg, "empty path") : -1;
    case 'c':
        if (!svd_is_ok(svd_parse_u64(arg, 1u, VHU_MAX_INSTANCES, &v))) {
            return bad_opt("--socket-count", arg, "expected an integer from 1 to 64");
        }
        o->count = (long)v;
        return -1;
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
    case OPT_FD:
        if (!svd_is_ok(svd_parse_u64(arg, 0u, INT_MAX, &v))) {
            return bad_opt("--fd", arg, "expected a file descriptor number");
        }
        o->fd = (long)v;
        return -1;
    case OPT_MIN_ENTROPY:
        if (!svd_is_ok(svd_parse_u64(arg, 1u, 8u, &v))) {
            return bad_opt("--min-entropy", arg, "expected bits per byte, 1 to 8");
        }
        o->min_entropy = v;
        return -1;
    case OPT_USER:
        o->user = arg;
        return (arg[0] == '\0') ? bad_opt("--user", arg, "empty name") : -1;
    case OPT_GROUP:
        o->group = arg;
        return (arg[0] == '\0') ? bad_opt("--group", arg, "empty name") : -1;
    case OPT_NO_SANDBOX:
        o->no_sandbox = true;
        return -1;
    case OPT_SANDBOX_SELFTEST:
        o->sandbox_selftest = true;
        return -1;
    case OPT_REQUIRE_SEALED:
        o->require_sealed = true;
        return -1;
    case OPT_SOCKET_MODE:
    case OPT_PEER_UID:
        return parse_access(c, arg, o);
    case 'l':
        return parse_level(arg);
    case 'h':
        usage(stdout);
        return 0;
    case 'V':
        (void)printf("vhost-user-entropy (safevdev) %s\n", SVD_VERSION);
        return 0;
    case ':':
        return usage_error("option", prev, " needs a value");
    default:
        return usage_error("unknown option", prev, "");
    }
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "socket-path", required_argument, NULL, 's' },
        { "socket-count", required_argument, NULL, 'c' },
        { "rate-bytes", required_argument, NULL, OPT_RATE_BYTES },
        { "rate-burst", required_argument, NULL, OPT_RATE_BURST },
        { "rate-ops", required_argument, NULL, OPT_RATE_OPS },
        { "rate-ops-burst", required_argument, NULL, OPT_RATE_OPS_BURST },
        { "source", required_argument, NULL, OPT_SOURCE },
        { "fd", required_argument, NULL, OPT_FD },
        { "min-entropy", required_argument, NULL, OPT_MIN_ENTROPY },
        { "user", required_argument, NULL, OPT_USER },
        { "group", required_argument, NULL, OPT_GROUP },
        { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
        { "sandbox-selftest", no_argument, NULL, OPT_SANDBOX_SELFTEST },
        { "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
        { "peer-uid", required_argument, NULL, OPT_PEER_UID },
        { "require-sealed-memory", no_argument, NULL, OPT_REQUIRE_SEALED },
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    size_t room;
    (void)memset(o, 0, sizeof(*o));
    o->count = -1;
    o->fd = -1;
    o->min_entropy = 8u;
    o->sock_mode = S_IRUSR | S_IWUSR;
    opterr = 0;
    /* vhost-user back-end convention: other options and arguments are ignored. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print-capabilities") == 0) {
            (void)printf("{\n  \"type\": \"rng\"\n}\n");
            return 0;
        }
    }
    while ((c = getopt_long(argc, argv, ":s:c:l:hV", lo, NULL)) != -1) {
        int rc = parse_one(c, optarg, argv[optind - 1], o);
        if (rc >= 0) {
            return rc;
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind], "");
    }
    if (o->fd >= 0) {
        if ((o->socket_path != NULL) || (o->count > 0)) {
            return usage_error("option", "--fd", " excludes --socket-path and --socket-count");
        }
        return -1;
    }
    if (o->socket_path == NULL) {
        return usage_error("option", "--socket-path", " is required (or --fd)");
    }
    svd_tb_cfg b;
    svd_tb_cfg n;
    svd_rate_opt bad = SVD_RATE_BYTES;
    if (!svd_is_ok(svd_rate_to_buckets(&o->rate, &b, &n, &bad))) {
        char opt[32];
        (void)snprintf(opt, sizeof(opt), "--%s", svd_rate_opt_name(bad));
        return usage_error("option", opt, (bad == SVD_RATE_BURST) ? " needs --rate-bytes" : " needs --rate-ops");
    }
    room = sizeof(((struct sockaddr_un *)0)->sun_path) - 1u - ((o->count > 0) ? 2u : 0u);
    if (strlen(o->socket_path) > room) {
        return bad_opt("--socket-path", o->socket_path, "too long for a UNIX socket address");
    }
    return -1;
}

/* -------------------------------------------------------------------- main */

static int inst_setup(struct inst *in, size_t i, const struct opts *o)
{
    vhu_ops ops = { kick_changed, in };
    svd_entropy_cfg cfg;
    int n;
    in->t_listen = (struct tag){ TAG_LISTEN, in };
    in->t_conn = (struct tag){ TAG_CONN, in };
    in->t_kick = (struct tag){ TAG_KICK, in };
    in->t_timer = (struct tag){ TAG_TIMER, in };
    in->t_deadline = (struct tag){ TAG_DEADLINE, in };
    if (o->count > 0) {
        n = snprintf(in->path, sizeof(in->path), "%s%zu", o->socket_path, i);
    } else {
        n = snprintf(in->path, sizeof(in->path), "%s", (o->fd >= 0) ? "" : o->socket_path);
    }
    /* SVD-COV-009: parse_args() left room for the path and two digits. */
    if (SVD_NEVER(n < 0) || SVD_NEVER((size_t)n >= sizeof(in->path))) {
        vhu_log(VHU_LOG_ERROR, (int)i, "socket path too long");
        return -1;
    }
    (void)memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = src_getrandom;
    if (o->source != NULL) {
        if (src_open(in, o->source) != 0) {
            return -1;
        }
        cfg.source.read = src_file;
        cfg.source.ctx = in;
    }
    svd_rate_opt bad = SVD_RATE_BYTES;
    cfg.min_entropy = (uint32_t)o->min_entropy;
    if (!svd_is_ok(svd_rate_to_buckets(&o->rate, &cfg.rate_bytes, &cfg.rate_ops, &bad)) ||
        (vhu_dev_init(&in->dev, (int)i, &cfg, vhu_now_ns(), &ops) != 0)) {
        vhu_log(VHU_LOG_ERROR, -1, "rate limit configuration refused");
        return -1;
    }
    in->dev_ready = true;
    in->dev.require_sealed = o->require_sealed;
    in->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if ((in->timer_fd < 0) || (ep_add(in->timer_fd, &in->t_timer) != 0)) {
        vhu_log(VHU_LOG_ERROR, (int)i, "timerfd: %s", strerror(errno));
        return -1;
    }
    in->io_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if ((in->io_timer_fd < 0) || (ep_add(in->io_timer_fd, &in->t_deadline) != 0)) {
        vhu_log(VHU_LOG_ERROR, (int)i, "timerfd (message deadline): %s", strerror(errno));
        return -1;
    }
    return (o->fd >= 0) ? inst_inherit(in, (int)o->fd) : inst_listen(in);
}

static void log_all_stats(void)
{
    for (size_t i = 0; i < g_ninst; i++) {
        vhu_dev_log_stats(&g_insts[i].dev, g_insts[i].conn_fd >= 0);
    }
}

/* An fd the loop watches for its own purposes (listening socket, timers,
 * signalfd) reported an error or hang-up: it would be reported for ever
 * (level-triggered), so it is no longer watched. Only a listening socket
 * the caller shut down (--fd) is known to do this; that instance stops
 * accepting, the others go on. */
static bool own_fd_failed(int fd, uint32_t events, int inst, const char *what)
{
    if ((events & (EPOLLERR | EPOLLHUP)) == 0) {
        return false;
    }
    vhu_log(VHU_LOG_ERROR, inst, "%s reported %s: no longer watched", what,
            ((events & EPOLLERR) != 0) ? "an error" : "a hang-up");
    ep_del(fd);
    return true;
}

/* A signal: false when it asks to stop (SIGUSR1 logs the counters). */
static bool on_signal(int sfd, uint32_t events)
{
    struct signalfd_siginfo si;
    if (own_fd_failed(sfd, events, -1, "the signalfd") || (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))) {
        return true;
    }
    if (si.ssi_signo == (uint32_t)SIGUSR1) {
        log_all_stats();
        return true;
    }
    vhu_log(VHU_LOG_INFO, -1, "signal %u: shutting down", si.ssi_signo);
    return false;
}

/* The message deadline timer expired: the connection whose message is still
 * incomplete ends; an early expiry re-arms it. */
static void on_deadline(struct inst *in, uint32_t events)
{
    if (own_fd_failed(in->io_timer_fd, events, in->dev.inst, "the message deadline timer")) {
        return;
    }
    (void)drain(in->io_timer_fd);
    in->io_armed = false;
    if ((in->conn_fd >= 0) && rx_overdue(in)) {
        log_overdue(in);
        conn_close(in);
    } else if ((in->conn_fd >= 0) && (in->rx.have > 0u)) {
        io_timer_set(in, true, in->rx.deadline);
    } else {
        /* no connection, or nothing buffered: the timer stays disarmed */
    }
}

/* One epoll event; false when a signal asks to stop. */
static bool dispatch_event(const struct tag *t, uint32_t events, int sfd)
{
    struct inst *in = t->in;
    switch (t->kind) {
    case TAG_SIGNAL:
        return on_signal(sfd, events);
    case TAG_LISTEN:
        if (!own_fd_failed(in->listen_fd, events, in->dev.inst, "the listening socket") && (in->conn_fd < 0)) {
            conn_accept(in);
        }
        return true;
    case TAG_CONN:
        /* An event for a connection closed earlier in this batch is stale.
         * EPOLLIN (with or without a hang-up) is read to its end; a
         * hang-up or error alone ends the connection. */
        if ((in->conn_fd >= 0) && (((events & EPOLLIN) == 0) || !conn_readable(in))) {
            conn_close(in);
        }
        return true;
    case TAG_KICK:
        if (in->dev.vr.kick_fd >= 0) {
            on_kick(in, events);
        }
        return true;
    case TAG_TIMER:
        if (!own_fd_failed(in->timer_fd, events, in->dev.inst, "the retry timer")) {
            on_timer(in);
        }
        return true;
    case TAG_DEADLINE:
        on_deadline(in, events);
        return true;
    default:
        return true;
    }
}

/* The loop; returns the exit status. */
static int run(int sfd)
{
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(g_epfd, evs, 16, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            vhu_log(VHU_LOG_ERROR, -1, "epoll_wait: %s", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (!dispatch_event(evs[i].data.ptr, evs[i].events, sfd)) {
                return 0;
            }
            if (g_bus_inst >= 0) {
                struct inst *in = &g_insts[g_bus_inst];
                g_bus_inst = -1;
                vhu_log(VHU_LOG_ERROR, in->dev.inst, "guest memory shrank under the mapping (SIGBUS): disconnecting");
                conn_close(in);
            }
        }
    }
}

/* Privilege drop and sandbox, after set-up and before the loop. */
static int confine(const struct opts *o, const struct inst *insts, size_t ninst)
{
    if ((o->user != NULL) || (o->group != NULL)) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (geteuid() != 0) {
            vhu_log(VHU_LOG_ERROR, -1, "--user/--group need the daemon to be started as root");
            return -1;
        }
        if (vhu_resolve_ids(o->user, o->group, &uid, &gid) != 0) {
            return -1;
        }
        /* The socket files belong to the user the daemon runs as, so it can
         * remove them at shutdown (the directory must let it). */
        for (size_t i = 0; i < ninst; i++) {
            if (insts[i].bound && (chown(insts[i].path, uid, gid) != 0)) {
                vhu_log(VHU_LOG_ERROR, insts[i].dev.inst, "chown %s: %s", insts[i].path, strerror(errno));
                return -1;
            }
        }
        if (vhu_drop_privileges(o->user != NULL, uid, gid) != 0) {
            return -1;
        }
    }
    if (o->no_sandbox) {
        vhu_log(VHU_LOG_WARN, -1, "--no-sandbox: running without the seccomp allow-list");
        return 0;
    }
    if (SVD_NEVER(vhu_sandbox_enter() != 0)) { /* SVD-COV-006: each of its failures */
        return -1;
    }
    if (o->sandbox_selftest) {
        /* Outside the list: never executed, the process dies by SIGSYS. */
        vhu_log(VHU_LOG_WARN, -1, "--sandbox-selftest: calling execve, which the sandbox forbids");
        (void)execl("/bin/true", "true", (char *)NULL);
        vhu_log(VHU_LOG_ERROR, -1, "--sandbox-selftest: execve was not stopped: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Ignore SIGPIPE; block the signals the signalfd takes (shutdown: TERM, INT,
 * HUP, QUIT; counters: USR1). */
static bool block_signals(sigset_t *mask)
{
    static const int k_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 };
    /* signal, sigemptyset and sigaddset fail only for an invalid signal
     * number; these are constants (SVD-COV-005). */
    bool ok = SVD_ALWAYS(signal(SIGPIPE, SIG_IGN) != SIG_ERR) && SVD_ALWAYS(sigemptyset(mask) == 0);
    for (size_t i = 0; SVD_ALWAYS(ok) && (i < (sizeof(k_sigs) / sizeof(k_sigs[0]))); i++) {
        ok = SVD_ALWAYS(sigaddset(mask, k_sigs[i]) == 0);
    }
    return SVD_ALWAYS(ok) && (sigprocmask(SIG_BLOCK, mask, NULL) == 0); /* SVD-COV-005 */
}

int main(int argc, char **argv)
{
    struct opts o;
    struct inst *insts = NULL;
    size_t ninst = 0;
    int rc = parse_args(argc, argv, &o);
    int sfd = -1;
    struct tag t_sig = { TAG_SIGNAL, NULL };
    sigset_t mask;

    if (rc >= 0) {
        return rc;
    }
    rc = 1;
    ninst = (o.count > 0) ? (size_t)o.count : 1u;
    g_access.mode = (mode_t)o.sock_mode;
    g_access.check = o.peer_check;
    g_access.uid = (uid_t)o.peer_uid;
    if (!block_signals(&mask)) {
        vhu_log(VHU_LOG_ERROR, -1, "signal set-up: %s", strerror(errno));
        return 1;
    }
    g_epfd = epoll_create1(EPOLL_CLOEXEC);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    insts = calloc(ninst, sizeof(*insts));
    if ((g_epfd < 0) || (sfd < 0) || (insts == NULL) || (ep_add(sfd, &t_sig) != 0)) {
        vhu_log(VHU_LOG_ERROR, -1, "set-up: %s", strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < ninst; i++) {
        insts[i].listen_fd = -1;
        insts[i].conn_fd = -1;
        insts[i].src_fd = -1;
        insts[i].timer_fd = -1;
        insts[i].io_timer_fd = -1;
    }
    g_insts = insts;
    for (size_t i = 0; i < ninst; i++) {
        g_ninst = i + 1u;
        if (inst_setup(&insts[i], i, &o) != 0) {
            goto out;
        }
    }
    if (!o.require_sealed) {
        struct sigaction sa;
        long pg = sysconf(_SC_PAGESIZE);
        (void)memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        g_pagesize = SVD_ALWAYS(pg > 0) ? (size_t)pg : g_pagesize; /* SVD-COV-005: Linux always has a page size */
        if (SVD_NEVER(sigemptyset(&sa.sa_mask) != 0) || SVD_NEVER(sigaction(SIGBUS, &sa, NULL) != 0)) { /* SVD-COV-005 */
            vhu_log(VHU_LOG_ERROR, -1, "sigaction(SIGBUS): %s", strerror(errno));
            goto out;
        }
    }
    if (confine(&o, insts, ninst) != 0) {
        goto out;
    }
    rc = run(sfd);
out:
    if (insts != NULL) {
        for (size_t i = 0; i < ninst; i++) {
            inst_cleanup(&insts[i]);
        }
        free(insts);
    }
    if (sfd >= 0) {
        (void)close(sfd);
    }
    if (g_epfd >= 0) {
        (void)close(g_epfd);
    }
    return rc;
}
