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

#define VHU_MAX_INSTANCES 64u
/* How long a started message may take to arrive completely. */
#define VHU_IO_TIMEOUT_MS 1000

enum tag_kind { TAG_LISTEN, TAG_CONN, TAG_KICK, TAG_TIMER, TAG_SIGNAL };

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
    int src_fd;          /* --source file, or -1 for getrandom(2) */
    bool dev_ready;      /* vhu_dev_init() succeeded */
    bool bound;          /* the socket file at path is ours */
    bool tmr_known;      /* tmr_armed/tmr_at say what the timer fd holds */
    bool tmr_armed;      /* the timer fd is armed for tmr_at */
    uint64_t tmr_at;
    struct tag t_listen, t_conn, t_kick, t_timer;
};

struct opts {
    const char *socket_path;
    long count;          /* -1: not given */
    svd_rate_opts rate; /* the per-second rate options, parsed by the core */
    const char *source;
};

static int g_epfd = -1;

/* Guest memory the front-end shrinks after SET_MEM_TABLE (ftruncate of its
 * memfd or file) turns our next access to the lost pages into SIGBUS, which
 * would kill every instance. The handler replaces the faulting page of a
 * guest mapping with an anonymous one, so the access completes harmlessly,
 * and records the instance; the loop then disconnects that instance only.
 * A SIGBUS anywhere else is a genuine fault and kills the process as usual.
 * The handler reads the instance table only: SIGBUS is synchronous, raised
 * in this same thread by a ring access, never while the table changes. */
static struct inst *g_insts;
static size_t g_ninst;
static size_t g_pagesize = 4096;
static volatile sig_atomic_t g_bus_inst = -1;

static bool patch_guest_page(const vhu_dev *d, uintptr_t a)
{
    for (uint32_t r = 0; r < d->nregions; r++) {
        uint8_t *base = d->regions[r].map;
        uintptr_t b = (uintptr_t)base;
        if (base != NULL && a >= b && a - b < d->regions[r].map_len) {
            uint8_t *pg = base + ((a - b) & ~(uintptr_t)(g_pagesize - 1u));
            void *m;
            /* mmap is a plain system call on Linux, safe here although POSIX
             * does not list it as async-signal-safe. fd -1 is what
             * MAP_ANONYMOUS asks for (cppcheck's posix model wants fd >= 0). */
            // cppcheck-suppress invalidFunctionArg
            m = mmap(pg, g_pagesize, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* NOLINT(bugprone-signal-handler,cert-sig30-c) */
            return m != MAP_FAILED;
        }
    }
    return false;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    (void)uc;
    for (size_t i = 0; i < g_ninst; i++) {
        if (patch_guest_page(&g_insts[i].dev, a)) {
            g_bus_inst = (sig_atomic_t)i;
            return;
        }
    }
    /* Not guest memory: restore the default action; the faulting access
     * runs again and the process dies with the genuine fault. */
    (void)signal(sig, SIG_DFL);
}

/* ------------------------------------------------------------ entropy source */

static svd_result src_getrandom(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    ssize_t n;
    (void)ctx;
    do {
        n = getrandom(buf, len, GRND_NONBLOCK);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        *got = 0;
        return svd_fail(errno == EAGAIN ? SVD_ERR_AGAIN : SVD_ERR_SOURCE);
    }
    *got = (size_t)n;
    return svd_ok();
}

/* A file or FIFO given with --source (opened non-blocking): nothing to read
 * now, or end of file, is "not now" and the request waits for the retry. */
static svd_result src_file(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    const struct inst *in = ctx;
    ssize_t n;
    do {
        n = read(in->src_fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        *got = 0;
        return svd_fail(errno == EAGAIN ? SVD_ERR_AGAIN : SVD_ERR_SOURCE);
    }
    *got = (size_t)n;
    return n == 0 ? svd_fail(SVD_ERR_AGAIN) : svd_ok();
}

/* ------------------------------------------------------------------- epoll */

static int ep_add(int fd, struct tag *t)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
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

static void kick_changed(void *ctx, int old_fd, int new_fd)
{
    struct inst *in = ctx;
    ep_del(old_fd);
    if (new_fd >= 0 && ep_add(new_fd, &in->t_kick) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot watch the kick fd: %s", strerror(errno));
    }
}

/* Arm the retry/poll timer for @at (absolute, CLOCK_MONOTONIC ns) or disarm
 * it. The syscall is skipped when the timer already holds that state (after
 * every serve of a kick the timer is usually disarmed already); after a
 * failed call the state is unknown and the next call always makes it. */
static void arm_timer(struct inst *in, bool wake, uint64_t at)
{
    struct itimerspec its;
    if (wake && (at == 0)) {
        at = 1; /* zero would disarm */
    }
    if (in->tmr_known && (in->tmr_armed == wake) && (!wake || (in->tmr_at == at))) {
        return;
    }
    memset(&its, 0, sizeof(its));
    if (wake) {
        its.it_value.tv_sec = (time_t)(at / UINT64_C(1000000000));
        its.it_value.tv_nsec = (long)(at % UINT64_C(1000000000));
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

static void conn_close(struct inst *in)
{
    if (in->conn_fd < 0) {
        return;
    }
    ep_del(in->conn_fd);
    (void)close(in->conn_fd);
    in->conn_fd = -1;
    vhu_dev_disconnect(&in->dev);
    arm_timer(in, false, 0);
    if (ep_add(in->listen_fd, &in->t_listen) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot listen again: %s", strerror(errno));
    }
    vhu_log(VHU_LOG_INFO, in->dev.inst, "front-end disconnected; listening on %s", in->path);
}

static void conn_accept(struct inst *in)
{
    struct timeval tv = { VHU_IO_TIMEOUT_MS / 1000, (suseconds_t)(VHU_IO_TIMEOUT_MS % 1000) * (suseconds_t)1000 };
    int fd = accept4(in->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            vhu_log(VHU_LOG_WARN, in->dev.inst, "accept: %s", strerror(errno));
        }
        return;
    }
    /* Blocking with a timeout: a message that started arriving must finish
     * within the timeout or the connection is dropped. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 || ep_add(fd, &in->t_conn) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot set up the connection: %s", strerror(errno));
        (void)close(fd);
        return;
    }
    /* One front-end at a time: stop accepting until it leaves. */
    ep_del(in->listen_fd);
    in->conn_fd = fd;
    vhu_log(VHU_LOG_INFO, in->dev.inst, "front-end connected");
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            (void)close(fds[i]);
            fds[i] = -1;
        }
    }
}

/* Read exactly len bytes (after the first recvmsg). */
static bool read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = 0; /* end of stream: no error code for the caller to report */
            }
            return false;
        }
        got += (size_t)n;
    }
    return true;
}

static bool send_reply(int fd, const vhu_reply *r)
{
    uint8_t buf[VHU_HDR_SIZE + sizeof(r->payload)];
    size_t len = VHU_HDR_SIZE + r->size;
    size_t off = 0;
    svd_store_le32(buf, r->request);
    svd_store_le32(buf + 4, VHU_VERSION | VHU_FLAG_REPLY);
    svd_store_le32(buf + 8, r->size);
    memcpy(buf + VHU_HDR_SIZE, r->payload, r->size);
    while (off < len) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
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

/* Take every fd out of the control messages, whatever else is wrong, so
 * none can leak; fds beyond our room are closed at once. */
static size_t collect_fds(struct msghdr *mh, int *fds)
{
    size_t nfds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
        size_t k;
        const unsigned char *data = CMSG_DATA(cm);
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0)) {
            continue;
        }
        k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd = -1;
            memcpy(&fd, data + i * sizeof(int), sizeof(int));
            if (nfds < VHU_MAX_RECV_FDS) {
                fds[nfds++] = fd;
            } else {
                (void)close(fd);
            }
        }
    }
    return nfds;
}

/* Receive the header (with its fds) and the payload. Returns false when the
 * connection must end; fds are collected in every case. */
static bool recv_message(struct inst *in, uint8_t *hdr, uint8_t *payload, int *fds, size_t *nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_RECV_FDS)];
    } ctl;
    struct iovec iov = { hdr, VHU_HDR_SIZE };
    struct msghdr mh;
    ssize_t n;
    uint32_t size;

    memset(&mh, 0, sizeof(mh));
    memset(&ctl, 0, sizeof(ctl));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    do {
        n = recvmsg(in->conn_fd, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    *nfds = n < 0 ? 0u : collect_fds(&mh, fds);
    if (n <= 0) {
        if (n < 0) {
            vhu_log(VHU_LOG_WARN, in->dev.inst, "recvmsg: %s", strerror(errno));
        }
        return false;
    }
    if ((mh.msg_flags & MSG_CTRUNC) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "message carried more than %u fds", VHU_MAX_RECV_FDS);
        return false;
    }
    if ((size_t)n < VHU_HDR_SIZE && !read_full(in->conn_fd, hdr + n, VHU_HDR_SIZE - (size_t)n)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "short header (%zd bytes): %s", n,
                (errno != 0) ? strerror(errno) : "end of stream");
        return false;
    }
    size = svd_load_le32(hdr + 8);
    if (size > VHU_MAX_PAYLOAD) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "payload size %u exceeds %u", size, VHU_MAX_PAYLOAD);
        return false;
    }
    if (!read_full(in->conn_fd, payload, size)) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "short payload (wanted %u bytes): %s", size,
                (errno != 0) ? strerror(errno) : "end of stream");
        return false;
    }
    return true;
}

/* Receive one message with its fds and hand it to the dispatcher. Returns
 * false when the connection must end. */
static bool conn_message(struct inst *in)
{
    uint8_t hdr[VHU_HDR_SIZE];
    uint8_t payload[VHU_MAX_PAYLOAD];
    int fds[VHU_MAX_RECV_FDS];
    size_t nfds = 0;
    vhu_reply rep;
    enum vhu_verdict vd;

    if (!recv_message(in, hdr, payload, fds, &nfds)) {
        close_all(fds, nfds);
        return false;
    }
    vd = vhu_dev_handle(&in->dev, svd_load_le32(hdr), svd_load_le32(hdr + 4), payload, svd_load_le32(hdr + 8), fds,
                        nfds, &rep);
    if (vd == VHU_V_DISCONNECT) {
        return false;
    }
    if (rep.send && !send_reply(in->conn_fd, &rep)) {
        vhu_log(VHU_LOG_WARN, in->dev.inst, "cannot send the reply: %s", strerror(errno));
        return false;
    }
    if (in->dev.need_process) {
        serve(in);
    }
    return true;
}

/* Consume an eventfd/timerfd count. The front-end's eventfd may be blocking
 * and the event may be stale (the fd replaced earlier in the same batch), so
 * read only when it is readable now. */
static void drain(int fd)
{
    struct pollfd pfd = { fd, POLLIN, 0 };
    if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0) {
        uint64_t v;
        ssize_t n;
        do {
            n = read(fd, &v, sizeof(v));
        } while (n < 0 && errno == EINTR);
    }
}

static void on_kick(struct inst *in)
{
    drain(in->dev.vr.kick_fd);
    serve(in);
}

static void on_timer(struct inst *in)
{
    drain(in->timer_fd);
    if (in->tmr_known) {
        in->tmr_armed = false; /* a one-shot absolute timer disarms when it expires */
    }
    serve(in);
}

/* ------------------------------------------------------------------ set-up */

static int inst_listen(struct inst *in)
{
    struct sockaddr_un sa;
    struct stat st;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, in->path, strlen(in->path) + 1u);
    /* A stale socket from an earlier run is replaced; anything else at the
     * path is left alone and reported. */
    if (lstat(in->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        (void)unlink(in->path);
    }
    in->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (in->listen_fd < 0 || bind(in->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot bind %s: %s", in->path, strerror(errno));
        return -1;
    }
    /* From here on the path is ours: cleanup removes it. */
    in->bound = true;
    if (listen(in->listen_fd, 1) != 0 || ep_add(in->listen_fd, &in->t_listen) != 0) {
        vhu_log(VHU_LOG_ERROR, in->dev.inst, "cannot listen on %s: %s", in->path, strerror(errno));
        return -1;
    }
    vhu_log(VHU_LOG_INFO, in->dev.inst, "listening on %s", in->path);
    return 0;
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
        (void)close(in->listen_fd);
        in->listen_fd = -1;
    }
    if (in->bound) {
        (void)unlink(in->path);
        in->bound = false;
    }
    if (in->timer_fd >= 0) {
        (void)close(in->timer_fd);
        in->timer_fd = -1;
    }
    if (in->src_fd >= 0) {
        (void)close(in->src_fd);
        in->src_fd = -1;
    }
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
          "  -l, --log-level LEVEL     error, warn (default), info or debug\n"
          "  -h, --help                show this help and exit\n"
          "  -V, --version             show the version and exit\n"
          "\n"
          "Exit status: 0 after SIGTERM/SIGINT, 1 on a run-time failure, 2 on a usage error.\n",
          f);
}

static int bad_opt(const char *opt, const char *val, const char *why)
{
    (void)fprintf(stderr, "vhost-user-entropy: invalid value '%s' for option '%s': %s\n", val, opt, why);
    (void)fprintf(stderr, "Try 'vhost-user-entropy --help'.\n");
    return 2;
}

enum { OPT_RATE_BYTES = 256, OPT_RATE_BURST, OPT_RATE_OPS, OPT_RATE_OPS_BURST, OPT_SOURCE };


/* "vhost-user-entropy: <what> '<arg>'<tail>" and the help hint. */
static int usage_error(const char *what, const char *arg, const char *tail)
{
    (void)fprintf(stderr, "vhost-user-entropy: %s '%s'%s\nTry 'vhost-user-entropy --help'.\n", what, arg, tail);
    return 2;
}

static int parse_level(const char *arg)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i <= VHU_LOG_DEBUG; i++) {
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
        return arg[0] == '\0' ? bad_opt("--socket-path", arg, "empty path") : -1;
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
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    size_t room;
    memset(o, 0, sizeof(*o));
    o->count = -1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:c:l:hV", lo, NULL)) != -1) {
        int rc = parse_one(c, optarg, argv[optind - 1], o);
        if (rc >= 0) {
            return rc;
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind], "");
    }
    if (o->socket_path == NULL) {
        return usage_error("option", "--socket-path", " is required");
    }
    svd_tb_cfg b;
    svd_tb_cfg n;
    svd_rate_opt bad = SVD_RATE_BYTES;
    if (!svd_is_ok(svd_rate_to_buckets(&o->rate, &b, &n, &bad))) {
        char opt[32];
        (void)snprintf(opt, sizeof(opt), "--%s", svd_rate_opt_name(bad));
        return usage_error("option", opt, bad == SVD_RATE_BURST ? " needs --rate-bytes" : " needs --rate-ops");
    }
    room = sizeof(((struct sockaddr_un *)0)->sun_path) - 1u - (o->count > 0 ? 2u : 0u);
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
    if (o->count > 0) {
        n = snprintf(in->path, sizeof(in->path), "%s%zu", o->socket_path, i);
    } else {
        n = snprintf(in->path, sizeof(in->path), "%s", o->socket_path);
    }
    if (n < 0 || (size_t)n >= sizeof(in->path)) {
        vhu_log(VHU_LOG_ERROR, (int)i, "socket path too long");
        return -1;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = src_getrandom;
    if (o->source != NULL) {
        in->src_fd = open(o->source, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (in->src_fd < 0) {
            vhu_log(VHU_LOG_ERROR, -1, "cannot open --source '%s': %s", o->source, strerror(errno));
            return -1;
        }
        cfg.source.read = src_file;
        cfg.source.ctx = in;
    }
    svd_rate_opt bad = SVD_RATE_BYTES;
    if (!svd_is_ok(svd_rate_to_buckets(&o->rate, &cfg.rate_bytes, &cfg.rate_ops, &bad)) ||
        vhu_dev_init(&in->dev, (int)i, &cfg, vhu_now_ns(), &ops) != 0) {
        vhu_log(VHU_LOG_ERROR, -1, "rate limit configuration refused");
        return -1;
    }
    in->dev_ready = true;
    in->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (in->timer_fd < 0 || ep_add(in->timer_fd, &in->t_timer) != 0) {
        vhu_log(VHU_LOG_ERROR, (int)i, "timerfd: %s", strerror(errno));
        return -1;
    }
    return inst_listen(in);
}

/* One epoll event; false when a signal asks to stop. */
static bool dispatch_event(const struct tag *t, int sfd)
{
    struct inst *in = t->in;
    switch (t->kind) {
    case TAG_SIGNAL: {
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            vhu_log(VHU_LOG_INFO, -1, "signal %u: shutting down", si.ssi_signo);
            return false;
        }
        return true;
    }
    case TAG_LISTEN:
        if (in->conn_fd < 0) {
            conn_accept(in);
        }
        return true;
    case TAG_CONN:
        /* An event for a connection closed earlier in this batch is stale. */
        if (in->conn_fd >= 0 && !conn_message(in)) {
            conn_close(in);
        }
        return true;
    case TAG_KICK:
        if (in->dev.vr.kick_fd >= 0) {
            on_kick(in);
        }
        return true;
    case TAG_TIMER:
        on_timer(in);
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
            if (!dispatch_event(evs[i].data.ptr, sfd)) {
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
    ninst = o.count > 0 ? (size_t)o.count : 1u;
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigemptyset(&mask) != 0 || sigaddset(&mask, SIGTERM) != 0 ||
        sigaddset(&mask, SIGINT) != 0 || sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
        vhu_log(VHU_LOG_ERROR, -1, "signal set-up: %s", strerror(errno));
        return 1;
    }
    g_epfd = epoll_create1(EPOLL_CLOEXEC);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    insts = calloc(ninst, sizeof(*insts));
    if (g_epfd < 0 || sfd < 0 || insts == NULL || ep_add(sfd, &t_sig) != 0) {
        vhu_log(VHU_LOG_ERROR, -1, "set-up: %s", strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < ninst; i++) {
        insts[i].listen_fd = -1;
        insts[i].conn_fd = -1;
        insts[i].src_fd = -1;
        insts[i].timer_fd = -1;
    }
    for (size_t i = 0; i < ninst; i++) {
        if (inst_setup(&insts[i], i, &o) != 0) {
            goto out;
        }
    }
    {
        struct sigaction sa;
        long pg = sysconf(_SC_PAGESIZE);
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO;
        g_pagesize = pg > 0 ? (size_t)pg : g_pagesize;
        g_insts = insts;
        g_ninst = ninst;
        if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) {
            vhu_log(VHU_LOG_ERROR, -1, "sigaction(SIGBUS): %s", strerror(errno));
            goto out;
        }
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
