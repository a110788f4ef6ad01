/* qemu-remote-vdev tests with a fake proxy and a fake QMP server.
 *
 * The fake proxy plays QEMU 7.2's x-pci-proxy-dev on one end of a socketpair
 * (the daemon gets the other as --fd 3): it sends the messages QEMU sends,
 * laid out as QEMU lays them out (tests/remote/wiretap.py shows the real
 * ones), shares guest RAM as a memfd in two regions like QEMU's pc machine,
 * hands over an irqfd pair of eventfds, and drives the devices the way the
 * Linux drivers do (i6300esb.ko's unlock sequence, virtio_pci_modern's
 * set-up). The fake QMP server (a thread) plays QEMU's monitor, well or
 * badly. Most tests run the real daemon binary ($RMT_DAEMON); the leak and
 * garbage tests drive the dispatcher and the QMP parser in-process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tg_sigbus.h"

#include "mpq_dev.h"
#include "mpq_proto.h"
#include "mpq_qmp.h"
#include "safevdev/span.h"
#include "tg_mem.h"
#include "tg_vring.h"

/* ------------------------------------------------------------ environment */

static const char *g_daemon;
static char g_tmp[256];
static unsigned g_seq;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };
    nanosleep(&ts, NULL);
}

static void tmp_path(char *out, size_t n, const char *what)
{
    snprintf(out, n, "%.90s/%.20s-%u-%ld", g_tmp, what, g_seq++, (long)getpid());
}

static bool file_has(const char *path, const char *needle)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    size_t n;
    if (f == NULL) {
        return false;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

/* How many lines of the log at @path hold @needle. */
static size_t file_count(const char *path, const char *needle)
{
    char line[4096];
    size_t n = 0;
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        n += strstr(line, needle) != NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

/* Wait up to @ms for the daemon's log to contain @needle. */
static bool log_wait(const char *path, const char *needle, unsigned ms)
{
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < ms) {
        if (file_has(path, needle)) {
            return true;
        }
        sleep_ms(10);
    }
    return file_has(path, needle);
}

/* --------------------------------------------------------------- the proxy */

typedef struct px {
    int fd;       /* our end: QEMU's */
    pid_t pid;
    char log[300];
} px;

/* Start the daemon with --fd 3 on a fresh socketpair plus @args (NULL-terminated). */
static void px_start(px *p, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    argv[n++] = g_daemon;
    argv[n++] = "--fd";
    argv[n++] = "3";
    for (size_t i = 0; args != NULL && args[i] != NULL && n < 39; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    tmp_path(p->log, sizeof(p->log), "daemon.log");
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        int lf = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (lf >= 0) {
            dup2(lf, 2);
            close(lf);
        }
        dup2(sv[1], 3); /* dup2 clears FD_CLOEXEC on the copy */
        execv(g_daemon, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(sv[1]);
    p->fd = sv[0];
    struct timeval tv = { 3, 0 };
    setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Wait for the daemon to exit on its own; its wait status, or -1 (then killed). */
static int px_wait_exit(px *p, unsigned ms)
{
    uint64_t t0 = now_ms();
    int st = 0;
    while (now_ms() - t0 < ms) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return st;
        }
        sleep_ms(5);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    p->pid = 0;
    return -1;
}

static int px_stop(px *p, int sig)
{
    int st = 0;
    if (p->pid > 0) {
        kill(p->pid, sig);
        waitpid(p->pid, &st, 0);
        p->pid = 0;
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    return st;
}

static void px_send_raw(const px *p, const void *buf, size_t len, const int *fds, size_t nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 32)];
    } ctl;
    struct iovec iov = { (void *)(uintptr_t)buf, len };
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (nfds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    (void)sendmsg(p->fd, &mh, MSG_NOSIGNAL);
}

/* Header + payload in one send, as QEMU's qio_channel_writev_full_all does. */
static void px_send(const px *p, uint32_t cmd, const void *payload, uint64_t size, const int *fds, size_t nfds)
{
    uint8_t buf[MPQ_HDR_SIZE + 512];
    memset(buf, 0, sizeof(buf));
    svd_store_le32(buf, cmd);
    svd_store_le64(buf + 8, size);
    size_t n = size <= 512u ? (size_t)size : 0u;
    if (payload != NULL && n > 0) {
        memcpy(buf + MPQ_HDR_SIZE, payload, n);
    }
    px_send_raw(p, buf, MPQ_HDR_SIZE + n, fds, nfds);
}

/* Receive one RET; false if none within the socket's timeout or malformed. */
static bool px_ret(const px *p, uint64_t *val)
{
    uint8_t buf[MPQ_HDR_SIZE + MPQ_RET_SIZE];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t n = recv(p->fd, buf + got, sizeof(buf) - got, 0);
        if (n <= 0) {
            return false;
        }
        got += (size_t)n;
    }
    if (svd_load_le32(buf) != MPQ_RET || svd_load_le64(buf + 8) != MPQ_RET_SIZE) {
        return false;
    }
    *val = svd_load_le64(buf + MPQ_HDR_SIZE);
    return true;
}

static uint64_t cfg_op(const px *p, uint32_t cmd, uint32_t addr, uint32_t val, int len)
{
    uint8_t m[MPQ_CFG_SIZE];
    uint64_t r = UINT64_MAX;
    svd_store_le32(m, addr);
    svd_store_le32(m + 4, val);
    svd_store_le32(m + 8, (uint32_t)len);
    px_send(p, cmd, m, sizeof(m), NULL, 0);
    assert_true(px_ret(p, &r));
    return r;
}

static uint64_t cfg_read(const px *p, uint32_t addr, int len)
{
    return cfg_op(p, MPQ_PCI_CFGREAD, addr, 0, len);
}

static void cfg_write(const px *p, uint32_t addr, uint32_t val, int len)
{
    assert_int_equal(cfg_op(p, MPQ_PCI_CFGWRITE, addr, val, len), 0);
}

static void bar_msg(uint8_t *m, uint64_t addr, uint64_t val, uint32_t size, uint8_t memory)
{
    memset(m, 0, MPQ_BAR_SIZE);
    svd_store_le64(m, addr);
    svd_store_le64(m + 8, val);
    svd_store_le32(m + 16, size);
    m[20] = memory;
}

static uint64_t bar_read(const px *p, uint64_t addr, uint32_t size)
{
    uint8_t m[MPQ_BAR_SIZE];
    uint64_t r = 0;
    bar_msg(m, addr, 0, size, 1);
    px_send(p, MPQ_BAR_READ, m, sizeof(m), NULL, 0);
    assert_true(px_ret(p, &r));
    return r;
}

static void bar_write(const px *p, uint64_t addr, uint64_t val, uint32_t size)
{
    uint8_t m[MPQ_BAR_SIZE];
    uint64_t r = 1;
    bar_msg(m, addr, val, size, 1);
    px_send(p, MPQ_BAR_WRITE, m, sizeof(m), NULL, 0);
    assert_true(px_ret(p, &r));
    assert_int_equal(r, 0);
}

/* ------------------------------------------------------------- guest RAM */

#define RAM_SIZE (16u << 20)
#define RAM_LOW 0xa0000u
#define RAM_HIGH_GPA 0x100000u

typedef struct ram {
    int fd;
    uint8_t *map;
    tg_mem mem; /* the driver model's view (gpa == file offset, as QEMU's pc machine lays it out) */
} ram;

static void ram_init(ram *r)
{
    /* Sealing allowed, no seal added: unsealed, as memory-backend-memfd,seal=off gives. */
    r->fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(r->fd >= 0);
    assert_int_equal(ftruncate(r->fd, RAM_SIZE), 0);
    r->map = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    assert_true(r->map != MAP_FAILED);
    memset(&r->mem, 0, sizeof(r->mem));
    r->mem.ram = r->map;
    r->mem.gpa = 0;
    r->mem.size = RAM_SIZE;
}

static void ram_free(ram *r)
{
    munmap(r->map, RAM_SIZE);
    close(r->fd);
}

/* SYNC_SYSMEM with @n entries, all on @fd. */
static void sysmem_raw(const px *p, uint32_t n, const uint64_t *gpa, const uint64_t *size, const uint64_t *off,
                       int fd, uint32_t nfds)
{
    uint8_t m[MPQ_SYSMEM_SIZE];
    int fds[MPQ_MAX_RECV_FDS];
    memset(m, 0, sizeof(m));
    for (uint32_t i = 0; i < n && i < 8; i++) {
        svd_store_le64(m + MPQ_SYSMEM_GPAS + 8 * i, gpa[i]);
        svd_store_le64(m + MPQ_SYSMEM_SIZES + 8 * i, size[i]);
        svd_store_le64(m + MPQ_SYSMEM_OFFSETS + 8 * i, off[i]);
    }
    for (uint32_t i = 0; i < nfds; i++) {
        fds[i] = fd;
    }
    px_send(p, MPQ_SYNC_SYSMEM, m, sizeof(m), fds, nfds);
}

/* QEMU's table for a pc machine: low RAM below the VGA hole, the rest from 1 MiB. */
static void sysmem_pc(const px *p, const ram *r)
{
    uint64_t gpa[2] = { 0, RAM_HIGH_GPA };
    uint64_t size[2] = { RAM_LOW, RAM_SIZE - RAM_HIGH_GPA };
    uint64_t off[2] = { 0, RAM_HIGH_GPA };
    sysmem_raw(p, 2, gpa, size, off, r->fd, 2);
}

typedef struct irqfds {
    int intr;
    int resample;
} irqfds;

static void set_irqfd(const px *p, irqfds *q)
{
    q->intr = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    q->resample = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int fds[2] = { q->intr, q->resample };
    px_send(p, MPQ_SET_IRQFD, NULL, 0, fds, 2);
}

/* Count of the eventfd after waiting up to @ms for it to become non-zero. */
static uint64_t evt_wait(int fd, unsigned ms)
{
    struct pollfd pf = { fd, POLLIN, 0 };
    uint64_t v = 0;
    if (poll(&pf, 1, (int)ms) == 1 && read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
        return v;
    }
    return 0;
}

/* --------------------------------------------------------- fake QMP server */

enum qmp_mode {
    QS_GOOD = 0,          /* a well-behaved QEMU */
    QS_GARBAGE,           /* greeting is not JSON */
    QS_NO_GREETING_OBJ,   /* greeting is JSON but not {"QMP": ...} */
    QS_CLOSE_EARLY,       /* greeting, then closes */
    QS_WRONG_ID,          /* replies with another id */
    QS_LONG_LINE,         /* a line longer than the client's limit */
    QS_REFUSE_ACTION,     /* answers the action with an error */
    QS_STOPPED,           /* query-status: running false; RESUME after resume_ms */
    QS_SILENT,            /* never answers a command */
    QS_SILENT_ACTION,     /* answers everything but the watchdog action */
    QS_DEEP,              /* a reply nested deeper than the limit */
    QS_GREETING_NO_VERSION, /* {"QMP": ...} without its version object */
    QS_REFUSE_CAPS,       /* answers qmp_capabilities with an error */
    QS_RET_AND_ERR,       /* a reply with both return and error */
    QS_RUNNING_NOT_BOOL   /* query-status: running is not true or false */
};

typedef struct fake_qmp {
    char path[200];
    int lfd;
    pthread_t th;
    pthread_mutex_t mu;
    enum qmp_mode modes[8]; /* per connection (the last one repeats) */
    unsigned resume_ms;
    volatile int stop;
    int conns;
    int ncmds;
    char cmds[64][32];
    uint64_t cmd_ms[64];
} fake_qmp;

static void qs_write(int fd, const char *s)
{
    (void)send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* Serve one connection in @mode until the peer closes or the test stops us. */
static void qs_serve(fake_qmp *q, int fd, enum qmp_mode mode)
{
    char buf[8192];
    size_t len = 0;
    uint64_t resume_at = 0;
    switch (mode) {
    case QS_GARBAGE:
        qs_write(fd, "this is not QMP\r\n");
        break;
    case QS_NO_GREETING_OBJ:
        qs_write(fd, "{\"return\": {}}\r\n");
        break;
    case QS_GREETING_NO_VERSION:
        qs_write(fd, "{\"QMP\": {\"capabilities\": [\"oob\"]}}\r\n");
        break;
    default:
        qs_write(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
                     "\"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}\r\n");
        break;
    }
    if (mode == QS_CLOSE_EARLY) {
        return;
    }
    while (!q->stop) {
        struct pollfd pf = { fd, POLLIN, 0 };
        if (resume_at != 0 && now_ms() >= resume_at) {
            resume_at = 0;
            qs_write(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESUME\"}\r\n");
        }
        if (poll(&pf, 1, 10) != 1) {
            continue;
        }
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0) {
            return;
        }
        len += (size_t)n;
        buf[len] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n')) != NULL) {
            char line[512];
            size_t ll = (size_t)(nl - buf);
            snprintf(line, sizeof(line), "%.*s", (int)ll, buf);
            memmove(buf, nl + 1, len - ll - 1);
            len -= ll + 1;
            buf[len] = '\0';
            char name[32] = "";
            unsigned long long id = 0;
            const char *e = strstr(line, "\"execute\":\"");
            const char *i = strstr(line, "\"id\":");
            if (e != NULL) {
                sscanf(e + 11, "%31[^\"]", name);
            }
            if (i != NULL) {
                id = strtoull(i + 5, NULL, 10);
            }
            pthread_mutex_lock(&q->mu);
            if (q->ncmds < 64) {
                snprintf(q->cmds[q->ncmds], sizeof(q->cmds[0]), "%s", name);
                q->cmd_ms[q->ncmds] = now_ms();
                q->ncmds++;
            }
            pthread_mutex_unlock(&q->mu);
            char rep[9000];
            bool action = strcmp(name, "qmp_capabilities") != 0 && strcmp(name, "query-status") != 0;
            if (mode == QS_SILENT || (mode == QS_SILENT_ACTION && action)) {
                continue;
            }
            if (mode == QS_REFUSE_CAPS && strcmp(name, "qmp_capabilities") == 0) {
                snprintf(rep, sizeof(rep), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": %llu}\r\n",
                         id);
            } else if (mode == QS_RET_AND_ERR) {
                snprintf(rep, sizeof(rep), "{\"return\": {}, \"error\": {}, \"id\": %llu}\r\n", id);
            } else if (mode == QS_RUNNING_NOT_BOOL && strcmp(name, "query-status") == 0) {
                snprintf(rep, sizeof(rep), "{\"return\": {\"status\": \"running\", \"running\": \"yes\"}, \"id\": %llu}\r\n",
                         id);
            } else if (mode == QS_WRONG_ID) {
                snprintf(rep, sizeof(rep), "{\"return\": {}, \"id\": %llu}\r\n", id + 100);
            } else if (mode == QS_LONG_LINE) {
                memset(rep, ' ', sizeof(rep) - 1);
                rep[sizeof(rep) - 1] = '\0';
                qs_write(fd, rep); /* 3 x 8999 blanks, no newline: past the 16 KiB limit */
                qs_write(fd, rep);
                qs_write(fd, rep);
                snprintf(rep, sizeof(rep), "{\"return\": {}, \"id\": %llu}\r\n", id);
            } else if (mode == QS_DEEP) {
                char deep[200];
                memset(deep, '[', 40);
                memset(deep + 40, ']', 40);
                deep[80] = '\0';
                snprintf(rep, sizeof(rep), "{\"return\": %s, \"id\": %llu}\r\n", deep, id);
            } else if (strcmp(name, "query-status") == 0) {
                bool run = mode != QS_STOPPED;
                snprintf(rep, sizeof(rep),
                         "{\"return\": {\"status\": \"%s\", \"singlestep\": false, \"running\": %s}, \"id\": %llu}\r\n",
                         run ? "running" : "paused", run ? "true" : "false", id);
                if (!run) {
                    resume_at = now_ms() + q->resume_ms;
                }
            } else if (action && mode == QS_REFUSE_ACTION) {
                snprintf(rep, sizeof(rep),
                         "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": %llu}\r\n", id);
            } else {
                snprintf(rep, sizeof(rep), "{\"return\": {}, \"id\": %llu}\r\n", id);
            }
            qs_write(fd, rep);
            if (action && mode == QS_GOOD) {
                qs_write(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESET\", "
                             "\"data\": {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}}\r\n");
            }
        }
    }
}

static void *qs_thread(void *arg)
{
    fake_qmp *q = arg;
    while (!q->stop) {
        struct pollfd pf = { q->lfd, POLLIN, 0 };
        if (poll(&pf, 1, 10) != 1) {
            continue;
        }
        int fd = accept(q->lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        pthread_mutex_lock(&q->mu);
        int c = q->conns++;
        pthread_mutex_unlock(&q->mu);
        qs_serve(q, fd, q->modes[c < 8 ? c : 7]);
        close(fd);
    }
    return NULL;
}

static void qs_start_at(fake_qmp *q, const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", path);
    if (path != q->path) {
        snprintf(q->path, sizeof(q->path), "%.150s", path);
    }
    unlink(path);
    q->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(q->lfd >= 0);
    assert_int_equal(bind(q->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(q->lfd, 4), 0);
    q->stop = 0;
    pthread_mutex_init(&q->mu, NULL);
    assert_int_equal(pthread_create(&q->th, NULL, qs_thread, q), 0);
}

static void qs_init(fake_qmp *q, enum qmp_mode first, enum qmp_mode rest)
{
    memset(q, 0, sizeof(*q));
    q->modes[0] = first;
    for (int i = 1; i < 8; i++) {
        q->modes[i] = rest;
    }
    q->resume_ms = 500;
    tmp_path(q->path, sizeof(q->path), "qmp");
}

static void qs_stop(fake_qmp *q)
{
    q->stop = 1;
    pthread_join(q->th, NULL);
    close(q->lfd);
    unlink(q->path);
}

/* A fake QEMU monitor answering the first connection as @first and every
 * later one as QS_GOOD, and the i6300ESB daemon started against it, logging
 * at info when @info (else at its default level, no --log-level given). */
static void esb_with_qmp(fake_qmp *qs, px *p, enum qmp_mode first, bool info)
{
    const char *with_info[] = { "--device", "i6300esb", "--qmp", qs->path, "--log-level", "info", NULL };
    const char *plain[] = { "--device", "i6300esb", "--qmp", qs->path, NULL };
    qs_init(qs, first, QS_GOOD);
    qs_start_at(qs, qs->path);
    px_start(p, info ? with_info : plain);
}

/* Time of the first command named @name after index @from, waiting up to @ms; 0 if none. */
static uint64_t qs_wait_cmd(fake_qmp *q, const char *name, unsigned ms)
{
    uint64_t t0 = now_ms();
    do {
        pthread_mutex_lock(&q->mu);
        for (int i = 0; i < q->ncmds; i++) {
            if (strcmp(q->cmds[i], name) == 0) {
                uint64_t t = q->cmd_ms[i];
                pthread_mutex_unlock(&q->mu);
                return t;
            }
        }
        pthread_mutex_unlock(&q->mu);
        sleep_ms(5);
    } while (now_ms() - t0 < ms);
    return 0;
}

static int qs_count(fake_qmp *q, const char *name)
{
    int n = 0;
    pthread_mutex_lock(&q->mu);
    for (int i = 0; i < q->ncmds; i++) {
        n += strcmp(q->cmds[i], name) == 0;
    }
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* --------------------------------------------------- the i6300esb, as Linux */

#define ESB_BAR 0xfebf1000u
#define STAGE_TICKS 100u /* 100 x 2^15 x 30 ns = 98.304 ms per stage */
#define STAGE_MS 98.304

static void esb_unlock(const px *p)
{
    bar_write(p, ESB_BAR + 0x0c, 0x80, 2);
    bar_write(p, ESB_BAR + 0x0c, 0x86, 2);
}

/* What QEMU's proxy and i6300esb.ko do up to a started timer (seen on the
 * wire): BAR sizing, BAR0 at ESB_BAR, memory decoding, interrupt type,
 * preloads, then ENABLE. Returns the host time of the enabling write. */
static uint64_t esb_probe_and_start(const px *p, uint32_t inttype, uint32_t ticks)
{
    assert_int_equal(cfg_read(p, 0x00, 2), 0x8086);
    assert_int_equal(cfg_read(p, 0x02, 2), 0x25ab);
    assert_int_equal(cfg_read(p, 0x0a, 2), 0x0880);
    assert_int_equal(cfg_read(p, 0x2e, 2), 0x1100);
    cfg_write(p, 0x10, 0xffffffffu, 4);
    assert_int_equal(cfg_read(p, 0x10, 4), 0xfffffff0u);
    cfg_write(p, 0x10, 0, 4);
    for (uint32_t b = 0x14; b <= 0x28; b += 4) {
        cfg_write(p, b, 0xffffffffu, 4);
        assert_int_equal(cfg_read(p, b, 4), 0);
        cfg_write(p, b, 0, 4);
    }
    cfg_write(p, 0x10, ESB_BAR, 4);
    cfg_write(p, 0x04, 0x103, 2);
    cfg_write(p, 0x60, inttype, 2);
    assert_int_equal(cfg_read(p, 0x68, 1), 0);
    cfg_write(p, 0x68, 0, 1);
    esb_unlock(p);
    assert_int_equal(bar_read(p, ESB_BAR + 0x0c, 2) & 0x200u, 0);
    esb_unlock(p);
    bar_write(p, ESB_BAR + 0x00, ticks, 4);
    esb_unlock(p);
    bar_write(p, ESB_BAR + 0x04, ticks, 4);
    esb_unlock(p);
    bar_write(p, ESB_BAR + 0x0c, 0x100, 2);
    uint64_t t = now_ms();
    cfg_write(p, 0x68, 0x02, 1);
    return t;
}

static void esb_ping(const px *p)
{
    esb_unlock(p);
    bar_write(p, ESB_BAR + 0x0c, 0x100, 2);
}

static const char *const k_wdt_none[] = { "--device", "i6300esb", "--action", "none", "--log-level", "debug", NULL };

/* ------------------------------------------------------------------ tests */

/* REQ: REQ-RMT-001.a REQ-RMT-001.b REQ-RMT-001.c REQ-RMT-002 REQ-RMT-003 */
static void test_esb_probe_as_linux_does(void **state)
{
    (void)state;
    px p;
    ram r;
    irqfds q;
    ram_init(&r);
    px_start(&p, k_wdt_none);
    sysmem_pc(&p, &r);
    set_irqfd(&p, &q);
    (void)esb_probe_and_start(&p, 3, 2560);
    /* Reads outside BAR0 get the bus's all ones, inside they are decoded. */
    assert_int_equal(bar_read(&p, ESB_BAR + 0x10, 4), 0xffffffffu);
    assert_int_equal(bar_read(&p, ESB_BAR - 4, 2), 0xffffu);
    assert_int_equal(bar_read(&p, ESB_BAR + 0x00, 4), 2560);
    /* An I/O access is never decoded (our BAR is memory). */
    {
        uint8_t m[MPQ_BAR_SIZE];
        uint64_t v = 0;
        bar_msg(m, ESB_BAR, 0, 4, 0);
        px_send(&p, MPQ_BAR_READ, m, sizeof(m), NULL, 0);
        assert_true(px_ret(&p, &v));
        assert_int_equal(v, 0xffffffffu);
    }
    /* Memory decoding off: BAR0 no longer answers. */
    cfg_write(&p, 0x04, 0x100, 2);
    assert_int_equal(bar_read(&p, ESB_BAR + 0x00, 4), 0xffffffffu);
    px_send(&p, MPQ_DEVICE_RESET, NULL, 0, NULL, 0);
    uint64_t v = 1;
    assert_true(px_ret(&p, &v));
    assert_int_equal(v, 0);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    assert_true(file_has(p.log, "guest RAM: 2 regions (not mapped: not needed)"));
    assert_true(file_has(p.log, "INTx irqfd set"));
    close(q.intr);
    close(q.resample);
    ram_free(&r);
}

/* The daemon exits 0 when QEMU closes its end (QEMU quit), and logs its totals. */
/* REQ: REQ-RMT-020 */
/* Stopped and continued (SIGSTOP, SIGCONT), the daemon's epoll_wait returns
 * EINTR with no handler run (Linux does that for stop signals): it serves on. */
/* REQ: REQ-RMT-001.a */
static void test_stop_and_continue_serves_on(void **state)
{
    (void)state;
    px p;
    px_start(&p, k_wdt_none);
    assert_int_equal(cfg_read(&p, 0, 4), 0x25ab8086u);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kill(p.pid, SIGSTOP), 0);
        sleep_ms(20);
        assert_int_equal(kill(p.pid, SIGCONT), 0);
        sleep_ms(20);
    }
    assert_int_equal(cfg_read(&p, 0, 4), 0x25ab8086u);
    close(p.fd);
    p.fd = -1;
    int st = px_wait_exit(&p, 3000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_proxy_eof_exits_zero(void **state)
{
    (void)state;
    px p;
    px_start(&p, k_wdt_none);
    assert_int_equal(cfg_read(&p, 0, 4), 0x25ab8086u);
    close(p.fd);
    p.fd = -1;
    int st = px_wait_exit(&p, 3000);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(file_has(p.log, "metrics: msgs sync_sysmem 0 cfgwrite 0 cfgread 1"));
}

/* Stage 2 expiry reaches QEMU as system_reset at the time the hardware acts:
 * 2 x 100 x 2^15 x 30 ns after the enabling write (the watchdog's clock is
 * CLOCK_MONOTONIC; the daemon never acts early). */
/* REQ: REQ-RMT-030.a REQ-RMT-031 REQ-RMT-040 REQ-RMT-001.b */
static void test_esb_expiry_resets_through_qmp_on_time(void **state)
{
    (void)state;
    static const struct {
        const char *action;
        const char *cmd;
    } acts[] = { { "reset", "system_reset" }, { "poweroff", "quit" }, { "pause", "stop" } };
    for (size_t a = 0; a < sizeof(acts) / sizeof(acts[0]); a++) {
        fake_qmp qs;
        px p;
        qs_init(&qs, QS_GOOD, QS_GOOD);
        qs_start_at(&qs, qs.path);
        const char *args[] = { "--device", "i6300esb", "--qmp", qs.path, "--action", acts[a].action,
                               "--log-level", "info", NULL };
        px_start(&p, args);
        assert_true(qs_wait_cmd(&qs, "query-status", 3000) != 0); /* ready before the guest starts the timer */
        uint64_t t0 = esb_probe_and_start(&p, 3, STAGE_TICKS);
        uint64_t t1 = qs_wait_cmd(&qs, acts[a].cmd, 3000);
        assert_true(t1 != 0);
        double ms = (double)(t1 - t0);
        printf("    %s: %s %.0f ms after ENABLE (hardware: %.1f ms)\n", acts[a].action, acts[a].cmd, ms,
               2 * STAGE_MS);
        assert_true(ms >= 2 * STAGE_MS - 2.0);
        assert_true(ms <= 2 * STAGE_MS + 400.0);
        sleep_ms(300);
        assert_int_equal(qs_count(&qs, acts[a].cmd), 1); /* not free-running: one expiry, one action */
        assert_true(log_wait(p.log, "QMP: QEMU carried out", 1000));
        assert_int_equal(px_stop(&p, SIGTERM), 0);
        qs_stop(&qs);
    }
}

/* A guest that keeps pinging within stage 1 never sees an action. */
/* REQ: REQ-RMT-032 */
static void test_esb_pings_keep_it_quiet(void **state)
{
    (void)state;
    fake_qmp qs;
    px p;
    esb_with_qmp(&qs, &p, QS_GOOD, false);
    (void)esb_probe_and_start(&p, 3, STAGE_TICKS);
    for (int i = 0; i < 20; i++) {
        sleep_ms(50);
        esb_ping(&p);
    }
    sleep_ms(100);
    assert_int_equal(qs_count(&qs, "system_reset"), 0);
    /* Stop pinging: the action comes. Then DEVICE_RESET (QEMU resetting the
     * machine) stops the timer: nothing more. */
    assert_true(qs_wait_cmd(&qs, "system_reset", 2000) != 0);
    px_send(&p, MPQ_DEVICE_RESET, NULL, 0, NULL, 0);
    uint64_t v;
    assert_true(px_ret(&p, &v));
    /* TIMEOUT survived the reset, as on the hardware (the driver reports it). */
    cfg_write(&p, 0x10, ESB_BAR, 4);
    cfg_write(&p, 0x04, 0x102, 2);
    assert_int_equal(bar_read(&p, ESB_BAR + 0x0c, 2) & 0x200u, 0x200u);
    sleep_ms(500);
    assert_int_equal(qs_count(&qs, "system_reset"), 1);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    qs_stop(&qs);
}

/* Stage 1 raises INTx through the irqfd when the guest selected the IRQ
 * type; KVM's resampler asks again and gets it while the line is high;
 * clearing GINTSR lowers it. */
/* REQ: REQ-RMT-033 REQ-RMT-011.d */
static void test_esb_stage1_interrupt_through_irqfd(void **state)
{
    (void)state;
    px p;
    irqfds q;
    px_start(&p, k_wdt_none);
    set_irqfd(&p, &q);
    uint64_t t0 = esb_probe_and_start(&p, 0, STAGE_TICKS);
    assert_int_equal(evt_wait(q.intr, 1000), 1);
    uint64_t dt = now_ms() - t0;
    assert_true((double)dt >= STAGE_MS - 2.0);
    uint64_t one = 1;
    assert_int_equal(write(q.resample, &one, sizeof(one)), 8);
    /* The resample fd is served by the loop: poll the intr fd. */
    assert_int_equal(evt_wait(q.intr, 1000), 1);
    esb_unlock(&p);
    bar_write(&p, ESB_BAR + 0x08, 1, 4); /* clear GINTSR: line low */
    assert_int_equal(write(q.resample, &one, sizeof(one)), 8);
    assert_int_equal(evt_wait(q.intr, 200), 0);
    /* A new irqfd pair while the line is low replaces the old one quietly. */
    irqfds q2;
    set_irqfd(&p, &q2);
    assert_int_equal(evt_wait(q2.intr, 100), 0);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    assert_true(file_has(p.log, "irq_signals 2"));
    assert_true(file_has(p.log, "resamples 2"));
    close(q.intr);
    close(q.resample);
    close(q2.intr);
    close(q2.resample);
}

/* The daemon starts before QEMU: the QMP socket appears later; an expiry
 * before it did waits and goes out as soon as QMP is ready. */
/* QEMU's QMP socket appears 200 ms after the action fell due: meanwhile the
 * device answers (the client never blocks the loop); the client, retrying
 * every 100 ms, connects within 250 ms of the socket appearing and sends the
 * waiting action exactly once. */
/* REQ: REQ-RMT-041.a REQ-RMT-041.b */
static void test_qmp_appears_late_action_waits(void **state)
{
    (void)state;
    fake_qmp qs;
    px p;
    qs_init(&qs, QS_GOOD, QS_GOOD);
    const char *args[] = { "--device", "i6300esb", "--qmp", qs.path, "--log-level", "info", NULL };
    px_start(&p, args);
    (void)esb_probe_and_start(&p, 3, STAGE_TICKS);
    assert_true(log_wait(p.log, "system_reset waits until QMP", 2000) ||
                log_wait(p.log, "reset waits until QMP", 100));
    sleep_ms(200);
    assert_int_equal(cfg_read(&p, 0x00, 2), 0x8086); /* the loop serves while QMP is away */
    const uint64_t up = now_ms();
    qs_start_at(&qs, qs.path);
    const uint64_t first = qs_wait_cmd(&qs, "query-status", 3000);
    assert_true(first != 0);
    assert_true(first - up < 250u);
    assert_true(qs_wait_cmd(&qs, "system_reset", 3000) != 0);
    assert_true(log_wait(p.log, "ms after the expiry", 500));
    sleep_ms(300);
    assert_int_equal(qs_count(&qs, "system_reset"), 1); /* sent once */
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    qs_stop(&qs);
}

/* QEMU's monitor goes away and comes back (QEMU restarted on the same path):
 * the client reconnects and the next expiry reaches the new one. */
/* REQ: REQ-RMT-042.a REQ-RMT-042.b */
static void test_qmp_survives_qemu_going_away(void **state)
{
    (void)state;
    fake_qmp qs;
    px p;
    esb_with_qmp(&qs, &p, QS_GOOD, true);
    assert_true(qs_wait_cmd(&qs, "query-status", 3000) != 0);
    qs_stop(&qs);
    assert_true(log_wait(p.log, "QMP: QEMU closed the connection", 2000));
    fake_qmp qs2;
    qs_init(&qs2, QS_GOOD, QS_GOOD);
    qs_start_at(&qs2, qs.path);
    assert_true(qs_wait_cmd(&qs2, "query-status", 3000) != 0);
    (void)esb_probe_and_start(&p, 3, STAGE_TICKS);
    assert_true(qs_wait_cmd(&qs2, "system_reset", 3000) != 0);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    qs_stop(&qs2);
}

/* Whatever QEMU's monitor answers, the daemon checks it: garbage, a wrong
 * greeting (or one without its version), a wrong id, an over-long line, too
 * deep a nesting, a reply that is both return and error, a refused
 * qmp_capabilities, a running flag that is no boolean, silence and a
 * refusal end that QMP connection (logged) and the client starts over; the
 * device keeps serving the guest throughout. */
/* REQ: REQ-RMT-043.a REQ-RMT-043.b REQ-RMT-043.c */
static void test_qmp_validates_what_qemu_answers(void **state)
{
    (void)state;
    static const struct {
        enum qmp_mode mode;
        const char *log;
    } bad[] = {
        { QS_GARBAGE, "a line that is not one JSON object" },
        { QS_NO_GREETING_OBJ, "the first line is not QEMU's greeting" },
        { QS_CLOSE_EARLY, "QMP: disconnected from" },
        { QS_WRONG_ID, "reply does not carry the id of our command" },
        { QS_LONG_LINE, "a line longer than the limit" },
        { QS_DEEP, "a line that is not one JSON object" },
        { QS_GREETING_NO_VERSION, "the first line is not QEMU's greeting" },
        { QS_REFUSE_CAPS, "QEMU refused qmp_capabilities" },
        { QS_RET_AND_ERR, "a line that is not one reply or one event" },
        { QS_RUNNING_NOT_BOOL, "query-status returned no running flag" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fake_qmp qs;
        px p;
        esb_with_qmp(&qs, &p, bad[i].mode, true);
        if (!log_wait(p.log, bad[i].log, 3000)) {
            fprintf(stderr, "QMP mode %d: no '%s' in %s\n", (int)bad[i].mode, bad[i].log, p.log);
        }
        assert_true(log_wait(p.log, bad[i].log, 100));
        /* The second connection is a good one: the action still arrives. */
        (void)esb_probe_and_start(&p, 3, STAGE_TICKS);
        assert_true(qs_wait_cmd(&qs, "system_reset", 3000) != 0);
        assert_int_equal(px_stop(&p, SIGTERM), 0);
        qs_stop(&qs);
    }
    /* A refusal of the action is logged, not retried. */
    fake_qmp qs;
    px p;
    esb_with_qmp(&qs, &p, QS_REFUSE_ACTION, false);
    assert_true(qs_wait_cmd(&qs, "query-status", 3000) != 0);
    (void)esb_probe_and_start(&p, 3, STAGE_TICKS);
    assert_true(log_wait(p.log, "QMP: QEMU refused system_reset", 3000));
    sleep_ms(300);
    assert_int_equal(qs_count(&qs, "system_reset"), 1);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    qs_stop(&qs);
}

/* A monitor that never answers the action: after the reply timeout the
 * connection ends and the action is not sent again (QEMU may have done it). */
/* REQ: REQ-RMT-043.b REQ-RMT-043.c */
/* FM: FM-RMT-003 */
static void test_qmp_silent_monitor_times_out(void **state)
{
    (void)state;
    fake_qmp qs;
    px p;
    esb_with_qmp(&qs, &p, QS_SILENT, true);
    assert_true(log_wait(p.log, "QMP: QEMU did not answer in time", 8000));
    assert_true(qs_wait_cmd(&qs, "query-status", 3000) != 0); /* second connection */
    assert_int_equal(cfg_read(&p, 0x00, 4), 0x25ab8086u); /* the device kept serving */
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    qs_stop(&qs);
}

/* An action QEMU received but never confirmed (its monitor went silent on
 * it, the reply timeout ended the connection) is not sent again to the QEMU
 * the client reaches next: the first may have carried it out. */
/* REQ: REQ-RMT-042.c */
static void test_qmp_unconfirmed_action_not_sent_again(void **state)
{
    (void)state;
    fake_qmp qs;
    px p;
    esb_with_qmp(&qs, &p, QS_SILENT_ACTION, true);
    assert_true(qs_wait_cmd(&qs, "query-status", 3000) != 0);
    (void)esb_probe_and_start(&p, 3, STAGE_TICKS);
    assert_true(qs_wait_cmd(&qs, "system_reset", 3000) != 0);
    assert_true(log_wait(p.log, "QMP: QEMU did not answer in time", 8000));
    assert_true(file_has(p.log, "before QEMU confirmed the watchdog action (not sent again)"));
    const uint64_t t0 = now_ms();
    while (qs_count(&qs, "query-status") < 2) { /* the second QEMU, reached */
        assert_true(now_ms() - t0 < 3000u);
        sleep_ms(10);
    }
    sleep_ms(500);
    assert_int_equal(qs_count(&qs, "system_reset"), 1);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    qs_stop(&qs);
}

/* While QEMU reports the VM stopped the watchdog's clock stands still (as
 * QEMU's own i6300esb on the virtual clock); after RESUME it goes on. */
/* REQ: REQ-RMT-034 */
static void test_vm_stopped_freezes_the_watchdog(void **state)
{
    (void)state;
    fake_qmp qs;
    px p;
    esb_with_qmp(&qs, &p, QS_GOOD, true);
    assert_true(qs_wait_cmd(&qs, "query-status", 3000) != 0);
    uint64_t t0 = esb_probe_and_start(&p, 3, STAGE_TICKS);
    qs_stop(&qs); /* disconnect... */
    fake_qmp qs2;
    qs_init(&qs2, QS_STOPPED, QS_STOPPED);
    qs2.resume_ms = 600;
    qs_start_at(&qs2, qs.path); /* ...and come back reporting the VM paused, RESUME 600 ms later */
    uint64_t t1 = qs_wait_cmd(&qs2, "system_reset", 4000);
    assert_true(t1 != 0);
    printf("    system_reset %llu ms after ENABLE with a pause of about 600 ms (running: %.0f ms)\n",
           (unsigned long long)(t1 - t0), 2 * STAGE_MS);
    assert_true((double)(t1 - t0) >= 2 * STAGE_MS + 300.0);
    assert_true(file_has(p.log, "(VM stopped)"));
    assert_true(file_has(p.log, "QMP: VM resumed"));
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    qs_stop(&qs2);
}

/* -------------------------------------------------------------- attacks */

typedef struct attack {
    const char *name;
    const char *log; /* what the daemon must say */
} attack;

/* Run @send against a fresh daemon: the connection ends (exit 1 with --fd,
 * nothing crashes) and the daemon names the rule. */
static void expect_malformed(void (*send)(const px *p, const ram *r), const char *needle)
{
    px p;
    ram r;
    ram_init(&r);
    px_start(&p, k_wdt_none);
    assert_int_equal(cfg_read(&p, 0, 2), 0x8086); /* the connection works before */
    send(&p, &r);
    int st = px_wait_exit(&p, 3000);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 1) || !file_has(p.log, needle)) {
        fprintf(stderr, "attack expecting '%s': status 0x%x, log %s\n", needle, st, p.log);
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_true(file_has(p.log, needle));
    assert_true(file_has(p.log, "malformed message: connection ended") || file_has(p.log, "SIGBUS"));
    close(p.fd);
    ram_free(&r);
}

static void a_ret(const px *p, const ram *r)
{
    (void)r;
    uint8_t v[8] = { 0 };
    px_send(p, MPQ_RET, v, 8, NULL, 0);
}
static void a_unknown(const px *p, const ram *r)
{
    (void)r;
    px_send(p, 8, NULL, 0, NULL, 0);
}
static void a_negative(const px *p, const ram *r)
{
    (void)r;
    px_send(p, 0xffffffffu, NULL, 0, NULL, 0);
}
static void a_size_cfg(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[16] = { 0 };
    px_send(p, MPQ_PCI_CFGREAD, m, 16, NULL, 0);
}
static void a_size_bar(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[16] = { 0 };
    px_send(p, MPQ_BAR_READ, m, 12, NULL, 0);
}
static void a_size_reset(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[8] = { 0 };
    px_send(p, MPQ_DEVICE_RESET, m, 8, NULL, 0);
}
static void a_oversized(const px *p, const ram *r)
{
    (void)r;
    uint8_t hdr[MPQ_HDR_SIZE] = { 0 };
    svd_store_le32(hdr, MPQ_SYNC_SYSMEM);
    svd_store_le64(hdr + 8, UINT64_C(1) << 40);
    px_send_raw(p, hdr, sizeof(hdr), NULL, 0);
}
static void a_short_header(const px *p, const ram *r)
{
    (void)r;
    uint8_t hdr[6] = { 3, 0, 0, 0, 0, 0 };
    px_send_raw(p, hdr, sizeof(hdr), NULL, 0); /* then stall: the 1 s timeout ends it */
}
static void a_short_payload(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[MPQ_HDR_SIZE + 4] = { 0 };
    svd_store_le32(m, MPQ_PCI_CFGREAD);
    svd_store_le64(m + 8, MPQ_CFG_SIZE);
    px_send_raw(p, m, sizeof(m), NULL, 0);
}
static void a_cfg_offset(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[MPQ_CFG_SIZE];
    svd_store_le32(m, 255);
    svd_store_le32(m + 4, 0);
    svd_store_le32(m + 8, 2);
    px_send(p, MPQ_PCI_CFGREAD, m, sizeof(m), NULL, 0);
}
static void a_cfg_len0(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[MPQ_CFG_SIZE] = { 0 };
    px_send(p, MPQ_PCI_CFGWRITE, m, sizeof(m), NULL, 0);
}
static void a_cfg_len_neg(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[MPQ_CFG_SIZE] = { 0 };
    svd_store_le32(m + 8, 0xffffffffu);
    px_send(p, MPQ_PCI_CFGREAD, m, sizeof(m), NULL, 0);
}
static void a_cfg_fd(const px *p, const ram *r)
{
    uint8_t m[MPQ_CFG_SIZE] = { 0 };
    svd_store_le32(m + 8, 4);
    px_send(p, MPQ_PCI_CFGREAD, m, sizeof(m), &r->fd, 1);
}
static void a_bar_size3(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[MPQ_BAR_SIZE];
    bar_msg(m, ESB_BAR, 0, 3, 1);
    px_send(p, MPQ_BAR_READ, m, sizeof(m), NULL, 0);
}
static void a_bar_memory2(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[MPQ_BAR_SIZE];
    bar_msg(m, ESB_BAR, 0, 4, 2);
    px_send(p, MPQ_BAR_WRITE, m, sizeof(m), NULL, 0);
}
static void a_bar_wrap(const px *p, const ram *r)
{
    (void)r;
    uint8_t m[MPQ_BAR_SIZE];
    bar_msg(m, UINT64_MAX - 1u, 0, 4, 1);
    px_send(p, MPQ_BAR_READ, m, sizeof(m), NULL, 0);
}
static void a_sysmem_nofd(const px *p, const ram *r)
{
    uint64_t g = 0, s = 4096, o = 0;
    sysmem_raw(p, 1, &g, &s, &o, r->fd, 0);
}
static void a_sysmem_9fds(const px *p, const ram *r)
{
    uint64_t g[8] = { 0 }, s[8] = { 0 }, o[8] = { 0 };
    for (int i = 0; i < 8; i++) {
        g[i] = (uint64_t)i << 20;
        s[i] = 4096;
        o[i] = (uint64_t)i << 20;
    }
    sysmem_raw(p, 8, g, s, o, r->fd, 9);
}
static void a_sysmem_zero(const px *p, const ram *r)
{
    uint64_t g = 0, s = 0, o = 0;
    sysmem_raw(p, 1, &g, &s, &o, r->fd, 1);
}
static void a_sysmem_wrap(const px *p, const ram *r)
{
    uint64_t g = UINT64_MAX - 4095u, s = 8192, o = 0;
    sysmem_raw(p, 1, &g, &s, &o, r->fd, 1);
}
static void a_sysmem_overlap(const px *p, const ram *r)
{
    uint64_t g[2] = { 0, 0x1000 }, s[2] = { 0x2000, 0x2000 }, o[2] = { 0, 0x4000 };
    sysmem_raw(p, 2, g, s, o, r->fd, 2);
}
static void a_sysmem_past_file(const px *p, const ram *r)
{
    uint64_t g = 0, s = RAM_SIZE, o = 4096;
    sysmem_raw(p, 1, &g, &s, &o, r->fd, 1);
}
static void a_sysmem_offset_neg(const px *p, const ram *r)
{
    uint64_t g = 0, s = 4096, o = UINT64_C(1) << 63;
    sysmem_raw(p, 1, &g, &s, &o, r->fd, 1);
}
static void a_sysmem_stray(const px *p, const ram *r)
{
    uint64_t g[2] = { 0, 0x100000 }, s[2] = { 4096, 4096 }, o[2] = { 0, 0x100000 };
    sysmem_raw(p, 2, g, s, o, r->fd, 1); /* two entries, one fd */
}
static void a_sysmem_pipe(const px *p, const ram *r)
{
    (void)r;
    int pp[2];
    assert_int_equal(pipe(pp), 0);
    uint64_t g = 0, s = 4096, o = 0;
    sysmem_raw(p, 1, &g, &s, &o, pp[0], 1);
    close(pp[0]);
    close(pp[1]);
}
static void a_irqfd_one(const px *p, const ram *r)
{
    (void)r;
    int e = eventfd(0, EFD_CLOEXEC);
    px_send(p, MPQ_SET_IRQFD, NULL, 0, &e, 1);
    close(e);
}
static void a_irqfd_pipe(const px *p, const ram *r)
{
    (void)r;
    int pp[2];
    assert_int_equal(pipe(pp), 0);
    px_send(p, MPQ_SET_IRQFD, NULL, 0, pp, 2);
    close(pp[0]);
    close(pp[1]);
}
static void a_irqfd_payload(const px *p, const ram *r)
{
    (void)r;
    int e[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
    uint8_t m[8] = { 0 };
    px_send(p, MPQ_SET_IRQFD, m, 8, e, 2);
    close(e[0]);
    close(e[1]);
}
static void a_fd_on_payload(const px *p, const ram *r)
{
    /* The fd rides on the payload's bytes, not on the header's. */
    uint8_t hdr[MPQ_HDR_SIZE] = { 0 };
    uint8_t m[MPQ_CFG_SIZE] = { 0 };
    svd_store_le32(hdr, MPQ_PCI_CFGREAD);
    svd_store_le64(hdr + 8, MPQ_CFG_SIZE);
    svd_store_le32(m + 8, 4);
    px_send_raw(p, hdr, sizeof(hdr), NULL, 0);
    sleep_ms(20);
    px_send_raw(p, m, sizeof(m), &r->fd, 1);
}

/* REQ: REQ-RMT-010 REQ-RMT-011.a REQ-RMT-011.c REQ-RMT-012 REQ-RMT-013 REQ-RMT-014.a REQ-RMT-014.c REQ-RMT-015 */
/* FM: FM-RMT-001 */
static void test_attacks_end_the_connection(void **state)
{
    (void)state;
    static const struct {
        void (*send)(const px *p, const ram *r);
        const char *log;
    } attacks[] = {
        { a_ret, "command 1 (RET) is not one the proxy sends" },
        { a_unknown, "command 8 (unknown) is not one the proxy sends" },
        { a_negative, "command 4294967295 (unknown)" },
        { a_size_cfg, "PCI_CFGREAD: payload of 16 bytes, expected 12" },
        { a_size_bar, "BAR_READ: payload of 12 bytes, expected 24" },
        { a_size_reset, "DEVICE_RESET: payload of 8 bytes, expected 0" },
        { a_oversized, "payload size 1099511627776 exceeds 192" },
        { a_short_header, "short header (6 bytes)" },
        { a_short_payload, "short payload (wanted 12 bytes)" },
        { a_cfg_offset, "PCI_CFGREAD: offset 0xff length 2 outside the configuration space" },
        { a_cfg_len0, "PCI_CFGWRITE: offset 0x0 length 0" },
        { a_cfg_len_neg, "PCI_CFGREAD: offset 0x0 length -1" },
        { a_cfg_fd, "PCI_CFGREAD: 1 fds, expected 0 to 0" },
        { a_bar_size3, "BAR_READ: address 0xfebf1000 size 3 memory 1 is not an access" },
        { a_bar_memory2, "BAR_WRITE: address 0xfebf1000 size 4 memory 2 is not an access" },
        { a_bar_wrap, "size 4 memory 1 is not an access" },
        { a_sysmem_nofd, "SYNC_SYSMEM: 0 fds, expected 1 to 8" },
        { a_sysmem_9fds, "SYNC_SYSMEM: 9 fds, expected 1 to 8" },
        { a_sysmem_zero, "SYNC_SYSMEM: region 0 (gpa 0x0 size 0x0 offset 0x0) is empty or wraps" },
        { a_sysmem_wrap, "is empty or wraps" },
        { a_sysmem_overlap, "SYNC_SYSMEM: regions 0 and 1 overlap" },
        { a_sysmem_past_file, "fd is not a regular file of at least" },
        { a_sysmem_offset_neg, "is empty or wraps" },
        { a_sysmem_stray, "SYNC_SYSMEM: entry 1 set beyond the 1 fds" },
        { a_sysmem_pipe, "fd is not a regular file" },
        { a_irqfd_one, "SET_IRQFD: 1 fds, expected 2 to 2" },
        { a_irqfd_pipe, "SET_IRQFD: the two fds must be eventfds" },
        { a_irqfd_payload, "SET_IRQFD: payload of 8 bytes, expected 0" },
        { a_fd_on_payload, "short payload (wanted 12 bytes): Bad message" },
    };
    for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
        expect_malformed(attacks[i].send, attacks[i].log);
    }
    printf("    %zu malformed messages: each ended its connection with the rule named\n",
           sizeof(attacks) / sizeof(attacks[0]));
}

/* ---------------------------------------------------- virtio-entropy */

#define VBAR 0xfebf0000u
#define RING_GPA 0x200000u
#define BUF_GPA 0x300000u

static void vio_w(const px *p, uint32_t off, uint64_t v, uint32_t size)
{
    bar_write(p, VBAR + off, v, size);
}

static uint64_t vio_r(const px *p, uint32_t off, uint32_t size)
{
    return bar_read(p, VBAR + off, size);
}

/* virtio_pci_modern's probe: capabilities, BAR0, features, queue 0 in guest RAM, DRIVER_OK. */
static void virtio_setup(const px *p, tg_vring *vr, const ram *r)
{
    assert_int_equal(cfg_read(p, 0x00, 4), 0x10441af4u);
    assert_int_equal(cfg_read(p, 0x06, 2) & 0x10u, 0x10u);
    uint8_t cap = (uint8_t)cfg_read(p, 0x34, 1);
    int seen = 0;
    while (cap != 0 && seen < 8) {
        assert_int_equal(cfg_read(p, cap, 1), 0x09); /* vendor-specific */
        seen++;
        cap = (uint8_t)cfg_read(p, cap + 1u, 1);
    }
    assert_int_equal(seen, 5);
    cfg_write(p, 0x10, 0xffffffffu, 4);
    assert_int_equal(cfg_read(p, 0x10, 4), (uint32_t)~(0x4000u - 1u));
    cfg_write(p, 0x14, 0xffffffffu, 4);
    assert_int_equal(cfg_read(p, 0x14, 4), 0); /* 32-bit BAR0: BAR1 is not the upper half */
    cfg_write(p, 0x10, VBAR, 4);
    cfg_write(p, 0x04, 0x106, 2);
    vio_w(p, 0x14, 0, 1);
    vio_w(p, 0x14, 1, 1);
    vio_w(p, 0x14, 3, 1);
    vio_w(p, 0x00, 1, 4);
    assert_int_equal(vio_r(p, 0x04, 4) & 1u, 1u); /* VERSION_1 */
    vio_w(p, 0x08, 1, 4);
    vio_w(p, 0x0c, 1, 4);
    vio_w(p, 0x08, 0, 4);
    vio_w(p, 0x0c, 0, 4);
    vio_w(p, 0x14, 0x0b, 1);
    assert_int_equal(vio_r(p, 0x14, 1), 0x0b);
    vio_w(p, 0x16, 0, 2);
    uint16_t qs = (uint16_t)vio_r(p, 0x18, 2);
    assert_true(qs >= 16);
    (void)tg_vring_init(vr, (tg_mem *)(uintptr_t)&r->mem, 16, RING_GPA);
    vio_w(p, 0x18, 16, 2);
    vio_w(p, 0x20, vr->desc, 8);
    vio_w(p, 0x28, vr->avail, 8);
    vio_w(p, 0x30, vr->used, 8);
    vio_w(p, 0x1c, 1, 2);
    vio_w(p, 0x14, 0x0f, 1);
    assert_int_equal(vio_r(p, 0x14, 1), 0x0f);
}

/* One 16-byte write-only buffer in queue 0's first slot, published and
 * kicked; the used length once the device has served it, waiting up to @ms. */
static uint32_t entropy_first_16(const px *p, tg_vring *vr, unsigned ms)
{
    uint32_t id;
    uint32_t len;
    const uint64_t t0 = now_ms();
    tg_vring_set_desc(vr, 0, BUF_GPA, 16, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(vr, 0);
    vio_w(p, 0x3000, 0, 2);
    while (!tg_vring_get_used(vr, &id, &len)) {
        assert_true(now_ms() - t0 < ms);
        sleep_ms(5);
    }
    return len;
}

/* REQ: REQ-RMT-050 REQ-RMT-051 REQ-RMT-052 REQ-RMT-014.b REQ-RMT-015 REQ-RMT-032 */
static void test_virtio_entropy_through_the_proxy(void **state)
{
    (void)state;
    px p;
    ram r;
    irqfds q;
    tg_vring vr;
    ram_init(&r);
    const char *args[] = { "--device", "virtio-entropy", "--log-level", "info", NULL };
    px_start(&p, args);
    sysmem_pc(&p, &r);
    set_irqfd(&p, &q);
    virtio_setup(&p, &vr, &r);
    memset(r.map + BUF_GPA, 0, 64);
    tg_vring_set_desc(&vr, 0, BUF_GPA, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&vr, 0);
    vio_w(&p, 0x3000, 0, 2); /* notify queue 0 */
    uint32_t id = 99, len = 0;
    assert_true(tg_vring_get_used(&vr, &id, &len));
    assert_int_equal(id, 0);
    assert_int_equal(len, 64);
    int nz = 0;
    for (int i = 0; i < 64; i++) {
        nz += r.map[BUF_GPA + (unsigned)i] != 0;
    }
    assert_true(nz > 32);
    assert_int_equal(evt_wait(q.intr, 500), 1);  /* INTx raised */
    assert_int_equal(vio_r(&p, 0x1000, 1), 1);   /* ISR: queue interrupt, read clears */
    assert_int_equal(vio_r(&p, 0x1000, 1), 0);
    uint64_t one = 1;
    assert_int_equal(write(q.resample, &one, sizeof(one)), 8);
    assert_int_equal(evt_wait(q.intr, 200), 0); /* line low: the resample raises nothing */
    /* The same table again changes nothing; the guest's RAM stays mapped. */
    sysmem_pc(&p, &r);
    tg_vring_set_desc(&vr, 1, BUF_GPA + 64, 32, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&vr, 1);
    vio_w(&p, 0x3000, 0, 2);
    assert_true(tg_vring_get_used(&vr, &id, &len));
    assert_int_equal(len, 32);
    /* A device reset from QEMU clears the status. */
    px_send(&p, MPQ_DEVICE_RESET, NULL, 0, NULL, 0);
    uint64_t v;
    assert_true(px_ret(&p, &v));
    assert_int_equal(vio_r(&p, 0x14, 1), 0);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    assert_true(file_has(p.log, "virtio status 0x0b -> 0x0f"));
    assert_true(file_has(p.log, "requests 2 bytes 96"));
    assert_true(file_has(p.log, "syncs_same 1"));
    assert_true(file_has(p.log, "driver_ok 1"));
    close(q.intr);
    close(q.resample);
    ram_free(&r);
}

/* A guest request pointing outside the RAM QEMU shared latches the device
 * (NEEDS_RESET) and touches nothing; the connection goes on. */
/* REQ: REQ-RMT-053 */
static void test_virtio_guest_error_latches(void **state)
{
    (void)state;
    px p;
    ram r;
    tg_vring vr;
    ram_init(&r);
    const char *args[] = { "--device", "virtio-entropy", NULL };
    px_start(&p, args);
    sysmem_pc(&p, &r);
    virtio_setup(&p, &vr, &r);
    tg_vring_set_desc(&vr, 0, RAM_LOW + 0x100, 64, SVD_VRING_DESC_F_WRITE, 0); /* in the VGA hole */
    tg_vring_publish(&vr, 0);
    vio_w(&p, 0x3000, 0, 2);
    assert_int_equal(vio_r(&p, 0x14, 1) & 0x40u, 0x40u); /* DEVICE_NEEDS_RESET */
    assert_int_equal(cfg_read(&p, 0, 2), 0x1af4);        /* still talking */
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    assert_true(file_has(p.log, "device needs reset: "));
    assert_true(file_has(p.log, "latched 1"));
    ram_free(&r);
}

/* QEMU (or whoever holds the memfd) shrinks guest RAM under the mapping.
 * The daemon's own access to a lost page (the ring) raises SIGBUS, which is
 * absorbed; the kernel's (getrandom into a lost buffer page) fails with
 * EFAULT. Either way the connection ends (--fd: exit 1) and the process
 * neither dies nor retries for ever. */
static void shrink_case(uint64_t keep)
{
    px p;
    ram r;
    tg_vring vr;
    ram_init(&r);
    const char *args[] = { "--device", "virtio-entropy", NULL };
    px_start(&p, args);
    sysmem_pc(&p, &r);
    virtio_setup(&p, &vr, &r);
    tg_vring_set_desc(&vr, 0, BUF_GPA, 64, SVD_VRING_DESC_F_WRITE, 0);
    tg_vring_publish(&vr, 0);
    assert_int_equal(ftruncate(r.fd, (off_t)keep), 0);
    uint8_t m[MPQ_BAR_SIZE];
    bar_msg(m, VBAR + 0x3000, 0, 2, 1);
    px_send(&p, MPQ_BAR_WRITE, m, sizeof(m), NULL, 0);
    int st = px_wait_exit(&p, 3000);
    if (!WIFEXITED(st)) {
        fprintf(stderr, "daemon wait status 0x%x (log %s)\n", st, p.log);
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_true(file_has(p.log, "guest RAM shrank under the mapping (SIGBUS or EFAULT)"));
    close(p.fd);
    ram_free(&r);
}

/* Rings and buffer gone: SIGBUS in the daemon. */
/* REQ: REQ-RMT-016.a */
/* FM: FM-RMT-002 */
static void test_guest_ram_shrunk_sigbus_contained(void **state)
{
    (void)state;
    shrink_case(0);
}

/* Rings kept, buffer gone: EFAULT from getrandom. */
/* REQ: REQ-RMT-016.b */
static void test_guest_ram_shrunk_efault_taken_as_sigbus(void **state)
{
    (void)state;
    shrink_case(BUF_GPA);
}

/* --socket: one proxy at a time; after one leaves (or breaks the protocol)
 * the next is served by a device reset to power-on. SIGTERM removes the file. */
/* REQ: REQ-RMT-021 REQ-RMT-010 REQ-RMT-025 REQ-RMT-001.a */
static void test_socket_mode_serves_one_proxy_after_another(void **state)
{
    (void)state;
    char path[256];
    tmp_path(path, sizeof(path), "dev.sock");
    px p;
    memset(&p, 0, sizeof(p));
    const char *argv[] = { g_daemon, "--device", "i6300esb", "--action", "none", "--socket", path, NULL };
    tmp_path(p.log, sizeof(p.log), "daemon.log");
    const mode_t old_umask = umask(0); /* the socket file must be 0600 whatever the umask */
    p.pid = fork();
    assert_true(p.pid >= 0);
    if (p.pid == 0) {
        int lf = open(p.log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(lf, 2);
        execv(g_daemon, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    struct stat st;
    uint64_t t0 = now_ms();
    while (stat(path, &st) != 0) {
        assert_true(now_ms() - t0 < 3000);
        sleep_ms(5);
    }
    (void)umask(old_umask);
    assert_int_equal(st.st_mode & 07777, 0600);
    for (int round = 0; round < 3; round++) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", path);
        /* The file appears at bind(), a moment before listen(): retry a refused connect. */
        p.fd = -1;
        for (int tries = 0; p.fd < 0 && tries < 200; tries++) {
            p.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (connect(p.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                close(p.fd);
                p.fd = -1;
                sleep_ms(10);
            }
        }
        assert_true(p.fd >= 0);
        struct timeval tv = { 3, 0 };
        setsockopt(p.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        /* Power-on state every time: BAR0 unprogrammed. */
        assert_int_equal(cfg_read(&p, 0x10, 4), 0);
        cfg_write(&p, 0x10, ESB_BAR, 4);
        if (round == 1) {
            a_ret(&p, NULL); /* this proxy breaks the protocol: only its connection ends */
            uint8_t b;
            assert_true(recv(p.fd, &b, 1, 0) <= 0);
        }
        close(p.fd);
        sleep_ms(50);
    }
    p.fd = -1;
    int s = px_stop(&p, SIGTERM);
    assert_true(WIFEXITED(s));
    assert_int_equal(WEXITSTATUS(s), 0);
    assert_int_not_equal(stat(path, &st), 0);
    assert_true(file_has(p.log, "malformed message: connection ended"));
}

/* The daemon sock_start() started, killed by the teardown if a failed
 * assertion left it running. */
static pid_t g_sock_pid;

static int sock_teardown(void **state)
{
    (void)state;
    if (g_sock_pid > 0) {
        kill(g_sock_pid, SIGKILL);
        waitpid(g_sock_pid, NULL, 0);
        g_sock_pid = 0;
    }
    return 0;
}

/* A SIGBUS that is not the kernel's report of an access to a truncated
 * guest page keeps its default action: with guest RAM mapped and the handler
 * installed, the daemon ends by SIGBUS when another process sends one with
 * kill() (SI_USER), and when one forges it with sigqueue (SI_QUEUE) naming
 * an address inside the daemon's mapping of guest RAM (no anonymous page put
 * over guest memory, no connection quietly ended). */
/* REQ: REQ-RMT-016.c */
/* FM: FM-RMT-006 */
static void test_sigbus_not_from_a_truncation_keeps_default_action(void **state)
{
    (void)state;
    static const char *const args[] = { "--device", "virtio-entropy", NULL };
    tg_sanitizers_leave_sigbus(true);
    tg_no_core_dumps();
    for (int forged = 0; forged < 2; forged++) {
        px p;
        ram r;
        ram_init(&r);
        px_start(&p, args);
        g_sock_pid = p.pid;
        sysmem_pc(&p, &r);
        assert_int_equal(cfg_read(&p, 0, 2), 0x1af4); /* the table is taken */
        assert_true(tg_catches_sigbus(p.pid));
        const void *at = forged != 0 ? tg_mapping_of(p.pid, "guest-ram") : NULL;
        assert_int_equal(tg_signal_ends(p.pid, SIGBUS, at, 3000), SIGBUS);
        g_sock_pid = 0;
        close(p.fd);
        ram_free(&r);
    }
    tg_sanitizers_leave_sigbus(false);
}

/* --require-sealed-memory: guest RAM that can be truncated (no F_SEAL_SHRINK)
 * ends the connection at SYNC_SYSMEM with nothing mapped; RAM sealed as
 * QEMU's memory-backend-memfd seals it by default is mapped and the device
 * answers; the daemon has no SIGBUS handler then, the default daemon has one
 * (for unsealed RAM, test_guest_ram_shrunk_sigbus_contained). */
/* REQ: REQ-RMT-027 */
/* FM: FM-RMT-005 */
static void test_require_sealed_memory(void **state)
{
    (void)state;
    static const char *const strict[] = { "--device", "virtio-entropy", "--require-sealed-memory", "--log-level", "info",
                                          NULL };
    px p;
    ram r;
    uint8_t b;
    tg_sanitizers_leave_sigbus(true);
    ram_init(&r);
    px_start(&p, strict);
    g_sock_pid = p.pid;
    assert_int_equal(cfg_read(&p, 0, 2), 0x1af4);
    assert_false(tg_catches_sigbus(p.pid));
    sysmem_pc(&p, &r);
    assert_true(recv(p.fd, &b, 1, 0) <= 0); /* connection ended */
    assert_int_equal(WEXITSTATUS(px_wait_exit(&p, 3000)), 1);
    g_sock_pid = 0;
    assert_true(file_has(p.log, "region 0 is not sealed against shrinking"));
    assert_false(file_has(p.log, "regions mapped"));
    close(p.fd);
    /* Sealed against shrinking and growing: truncation is impossible. */
    assert_int_equal(fcntl(r.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    assert_int_not_equal(ftruncate(r.fd, 4096), 0);
    assert_int_equal(errno, EPERM);
    px_start(&p, strict);
    g_sock_pid = p.pid;
    sysmem_pc(&p, &r);
    assert_int_equal(cfg_read(&p, 0, 2), 0x1af4); /* still connected, after the table */
    assert_true(log_wait(p.log, "guest RAM: 2 regions mapped", 3000));
    assert_false(tg_catches_sigbus(p.pid));
    int s = px_stop(&p, SIGTERM);
    g_sock_pid = 0;
    assert_int_equal(WEXITSTATUS(s), 0);
    /* The default keeps the handler for unsealed RAM. */
    static const char *const dflt[] = { "--device", "virtio-entropy", NULL };
    px_start(&p, dflt);
    g_sock_pid = p.pid;
    assert_int_equal(cfg_read(&p, 0, 2), 0x1af4); /* set-up is over */
    assert_true(tg_catches_sigbus(p.pid));
    s = px_stop(&p, SIGTERM);
    g_sock_pid = 0;
    assert_int_equal(WEXITSTATUS(s), 0);
    ram_free(&r);
    tg_sanitizers_leave_sigbus(false);
}

/* ------------------------------------------------------------------- CLI */

static int run_cli(const char *const *args, char *out, size_t outlen);

/* A path one byte too long for sun_path (108 bytes with its NUL). */
#define K_LONG_PATH "/tmp/ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"

/* Start the daemon in --socket mode on @path with @extra options (NULL-terminated)
 * and wait for the socket file; @keep leaves a file already at @path for the
 * daemon to find. */
static void sock_start_at(px *p, const char *path, const char *const *extra, bool keep)
{
    const char *argv[24];
    size_t n = 0;
    struct stat st;
    argv[n++] = g_daemon;
    argv[n++] = "--device";
    argv[n++] = "i6300esb";
    argv[n++] = "--action";
    argv[n++] = "none";
    argv[n++] = "--socket";
    argv[n++] = path;
    for (size_t i = 0; extra[i] != NULL && n < 23; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    memset(p, 0, sizeof(*p));
    p->fd = -1;
    tmp_path(p->log, sizeof(p->log), "daemon.log");
    if (!keep) {
        (void)unlink(path);
    }
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        int lf = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(lf, 2);
        execv(g_daemon, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    g_sock_pid = p->pid;
    const uint64_t t0 = now_ms();
    while (stat(path, &st) != 0) {
        assert_true(now_ms() - t0 < 3000);
        sleep_ms(5);
    }
}

static void sock_start(px *p, const char *path, const char *const *extra)
{
    sock_start_at(p, path, extra, false);
}

/* Connect to @path, retrying while bind() has happened and listen() not yet. */
static int sock_connect(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", path);
    for (int tries = 0; tries < 200; tries++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            struct timeval tv = { 3, 0 };
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            return fd;
        }
        close(fd);
        sleep_ms(10);
    }
    fail_msg("cannot connect to %s", path);
    return -1;
}

/* The socket path at start: a stale socket file (its daemon killed) is
 * replaced and served; a regular file there is left alone, byte for byte,
 * and the daemon exits 1 naming the path. */
/* REQ: REQ-RMT-021 REQ-RMT-023 */
static void test_socket_path_stale_replaced_other_file_kept(void **state)
{
    (void)state;
    static const char *const none[] = { NULL };
    char path[256], out[2048];
    px p;
    tmp_path(path, sizeof(path), "stale.sock");
    sock_start(&p, path, none);
    (void)px_stop(&p, SIGKILL); /* no clean-up: the socket file stays */
    g_sock_pid = 0;
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    sock_start_at(&p, path, none, true);
    p.fd = sock_connect(path);
    assert_int_equal(cfg_read(&p, 0, 2), 0x8086); /* replaced and served */
    int s = px_stop(&p, SIGTERM);
    g_sock_pid = 0;
    assert_true(WIFEXITED(s));
    assert_int_equal(WEXITSTATUS(s), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a socket\n", f);
    fclose(f);
    const char *const a[] = { "--device", "i6300esb", "--action", "none", "--socket", path, NULL };
    assert_int_equal(run_cli(a, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "cannot bind"));
    char back[64] = "";
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(back, sizeof(back), f));
    fclose(f);
    assert_string_equal(back, "not a socket\n");
    unlink(path);
}

/* The proxy going away at the wrong moment: in the middle of a payload (the
 * daemon names the short payload and ends the connection: exit 1), or after
 * a request but before its reply (the reply cannot be sent: that is the
 * proxy leaving, exit 0). The daemon is stopped while the request and the
 * close happen, so that the close is there before it reads. */
/* REQ: REQ-RMT-010 REQ-RMT-020 */
static void test_proxy_gone_mid_message_or_before_reply(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        px p;
        uint8_t msg[MPQ_HDR_SIZE + MPQ_CFG_SIZE] = { 0 };
        px_start(&p, k_wdt_none);
        assert_int_equal(cfg_read(&p, 0, 2), 0x8086);
        svd_store_le32(msg, MPQ_PCI_CFGREAD);
        svd_store_le64(msg + 8, MPQ_CFG_SIZE);
        svd_store_le32(msg + MPQ_HDR_SIZE + 8, 2);
        assert_int_equal(kill(p.pid, SIGSTOP), 0);
        px_send_raw(&p, msg, k == 0 ? MPQ_HDR_SIZE + 4u : sizeof(msg), NULL, 0);
        close(p.fd);
        p.fd = -1;
        assert_int_equal(kill(p.pid, SIGCONT), 0);
        const int st = px_wait_exit(&p, 3000);
        assert_true(WIFEXITED(st));
        if (k == 0) {
            assert_int_equal(WEXITSTATUS(st), 1);
            assert_true(file_has(p.log, "short payload (wanted 12 bytes): end of stream"));
        } else {
            assert_int_equal(WEXITSTATUS(st), 0);
            assert_true(file_has(p.log, "cannot send the reply: Broken pipe"));
        }
    }
}

/* SYNC_SYSMEM with the same layout but another file replaces the mapping
 * (the table is not equal: the file differs); the same table again changes
 * nothing. */
/* REQ: REQ-RMT-014.b REQ-RMT-015 */
static void test_sysmem_same_layout_other_file_remaps(void **state)
{
    (void)state;
    static const char *const args[] = { "--device", "virtio-entropy", "--log-level", "info", NULL };
    px p;
    ram r1, r2;
    ram_init(&r1);
    ram_init(&r2);
    px_start(&p, args);
    sysmem_pc(&p, &r1);
    sysmem_pc(&p, &r2);
    sysmem_pc(&p, &r2);
    assert_int_equal(cfg_read(&p, 0, 2), 0x1af4); /* all three taken */
    assert_int_equal(file_count(p.log, "guest RAM: 2 regions mapped"), 2);
    tg_vring vr;
    virtio_setup(&p, &vr, &r2); /* served from the second file */
    assert_int_equal(entropy_first_16(&p, &vr, 2000), 16);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    ram_free(&r1);
    ram_free(&r2);
}

/* Fds the daemon may not keep are closed and end the connection: 20 pipe
 * write ends on one PCI_CFGREAD (beyond the 16-fd receive room: the kernel
 * truncates, the daemon must close the 16 it got), and one riding on the
 * payload's bytes instead of the header's. In --socket mode the daemon lives
 * on: each pipe's read end sees end of file once our write end is closed too
 * (no copy left in the daemon), and the next proxy is served. SET_IRQFD's
 * eventfds, sent blocking, come out non-blocking (the flag lives in the open
 * file, which our copy shares). */
/* REQ: REQ-RMT-011.b REQ-RMT-011.c */
static void test_fds_beyond_room_or_on_payload_closed(void **state)
{
    (void)state;
    static const char *const none[] = { NULL };
    char path[256];
    px p;
    uint8_t b;
    tmp_path(path, sizeof(path), "fds.sock");
    sock_start(&p, path, none);
    g_sock_pid = p.pid;
    for (int k = 0; k < 2; k++) {
        int rd[20], wr[20];
        const size_t n = k == 0 ? 20u : 1u;
        uint8_t msg[MPQ_HDR_SIZE + MPQ_CFG_SIZE] = { 0 };
        for (size_t i = 0; i < n; i++) {
            int pp[2];
            assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
            rd[i] = pp[0];
            wr[i] = pp[1];
        }
        p.fd = sock_connect(path);
        assert_int_equal(cfg_read(&p, 0, 2), 0x8086);
        svd_store_le32(msg, MPQ_PCI_CFGREAD);
        svd_store_le64(msg + 8, MPQ_CFG_SIZE);
        svd_store_le32(msg + MPQ_HDR_SIZE + 8, 4);
        if (k == 0) {
            px_send_raw(&p, msg, sizeof(msg), wr, n);
        } else {
            px_send_raw(&p, msg, MPQ_HDR_SIZE, NULL, 0);
            sleep_ms(20);
            px_send_raw(&p, msg + MPQ_HDR_SIZE, MPQ_CFG_SIZE, wr, 1);
        }
        assert_true(recv(p.fd, &b, 1, 0) <= 0); /* connection ended, nothing answered */
        close(p.fd);
        p.fd = -1;
        for (size_t i = 0; i < n; i++) {
            struct pollfd pf = { rd[i], POLLIN, 0 };
            close(wr[i]);
            assert_int_equal(poll(&pf, 1, 2000), 1);
            assert_int_equal(read(rd[i], &b, 1), 0);
            close(rd[i]);
        }
    }
    assert_true(file_has(p.log, "message carried more than 16 fds"));
    assert_true(file_has(p.log, "short payload (wanted 12 bytes)"));
    p.fd = sock_connect(path);
    int ev[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
    px_send(&p, MPQ_SET_IRQFD, NULL, 0, ev, 2);
    assert_int_equal(cfg_read(&p, 0, 2), 0x8086); /* taken: still connected */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fcntl(ev[i], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
        close(ev[i]);
    }
    const int st = px_stop(&p, SIGTERM);
    g_sock_pid = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* A local process of another user that reaches the socket (its file made
 * wider than 0600 by someone, here chmod 0666) is refused by --peer-uid on
 * the kernel's SO_PEERCRED: closed at once with nothing answered, the daemon
 * listening on; a process of the named uid is served. */
/* REQ: REQ-RMT-026 */
/* FM: FM-RMT-004 */
static void test_socket_peer_uid_checked(void **state)
{
    (void)state;
    char path[256];
    char other[16];
    char mine[16];
    px p;
    uint8_t b;
    tmp_path(path, sizeof(path), "peer.sock");
    snprintf(other, sizeof(other), "%u", (unsigned)getuid() + 1u);
    snprintf(mine, sizeof(mine), "%u", (unsigned)getuid());
    {
        const char *const extra[] = { "--peer-uid", other, "--log-level", "info", NULL };
        sock_start(&p, path, extra);
        assert_int_equal(chmod(path, 0666), 0);
        for (int i = 0; i < 2; i++) { /* refused twice: it listens on after a refusal */
            p.fd = sock_connect(path);
            uint8_t m[MPQ_CFG_SIZE];
            svd_store_le32(m, 0u);
            svd_store_le32(m + 4, 0u);
            svd_store_le32(m + 8, 2u);
            px_send(&p, MPQ_PCI_CFGREAD, m, sizeof(m), NULL, 0); /* may find it closed already (EPIPE) */
            assert_true(recv(p.fd, &b, 1, 0) <= 0); /* closed, no reply */
            close(p.fd);
            p.fd = -1;
        }
        assert_true(log_wait(p.log, "connection refused: peer uid", 3000));
        const int s = px_stop(&p, SIGTERM);
        g_sock_pid = 0;
        assert_true(WIFEXITED(s));
        assert_int_equal(WEXITSTATUS(s), 0);
        assert_false(file_has(p.log, "proxy connected"));
    }
    {
        const char *const extra[] = { "--peer-uid", mine, NULL };
        sock_start(&p, path, extra);
        p.fd = sock_connect(path);
        assert_int_equal(cfg_read(&p, 0x00, 2), 0x8086u); /* served: the i6300ESB's vendor ID */
        const int s = px_stop(&p, SIGTERM);
        g_sock_pid = 0;
        assert_true(WIFEXITED(s));
        assert_int_equal(WEXITSTATUS(s), 0);
    }
    {
        char out[4096];
        const char *const bad1[] = { "--device", "i6300esb", "--action", "none", "--socket", path, "--peer-uid", "-1", NULL };
        const char *const bad2[] = { "--device", "i6300esb", "--action", "none", "--socket", path, "--peer-uid",
                                     "4294967295", NULL };
        const char *const bad3[] = { "--device", "i6300esb", "--action", "none", "--fd", "3", "--peer-uid", mine, NULL };
        assert_int_equal(run_cli(bad1, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "invalid value '-1' for option '--peer-uid'"));
        assert_int_equal(run_cli(bad2, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "invalid value '4294967295' for option '--peer-uid'"));
        assert_int_equal(run_cli(bad3, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "'--peer-uid' applies to --socket only"));
    }
}


static int run_cli(const char *const *args, char *out, size_t outlen)
{
    int pp[2];
    const char *argv[32];
    size_t n = 0;
    argv[n++] = g_daemon;
    for (size_t i = 0; args[i] != NULL && n < 31; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    assert_int_equal(pipe(pp), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pp[1], 1);
        dup2(pp[1], 2);
        close(pp[0]);
        execv(g_daemon, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(pp[1]);
    size_t got = 0;
    ssize_t k;
    while (got + 1 < outlen && (k = read(pp[0], out + got, outlen - 1 - got)) > 0) {
        got += (size_t)k;
    }
    out[got] = '\0';
    close(pp[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* REQ: REQ-RMT-022 REQ-RMT-023 REQ-RMT-054.a REQ-RMT-054.b */
static void test_cli(void **state)
{
    (void)state;
    char out[8192];
    static const char *const help[] = { "--help", NULL };
    static const char *const ver[] = { "--version", NULL };
    assert_int_equal(run_cli(help, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "--device i6300esb|virtio-entropy"));
    assert_int_equal(run_cli(ver, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "qemu-remote-vdev (safevdev) "));
    static const struct {
        const char *args[12];
        const char *msg;
    } bad[] = {
        { { "--fd", "3", NULL }, "option '--device' is required" },
        { { "--device", "e1000", "--fd", "3", NULL }, "invalid value 'e1000' for option '--device'" },
        { { "--device", "i6300esb", "--action", "none", NULL }, "'--fd' or --socket is required" },
        { { "--device", "i6300esb", "--action", "none", "--fd", "3", "--socket", "/tmp/x", NULL },
          "'--fd' or --socket is required" },
        { { "--device", "i6300esb", "--fd", "-1", NULL }, "invalid value '-1' for option '--fd'" },
        { { "--device", "i6300esb", "--fd", "3x", NULL }, "invalid value '3x' for option '--fd'" },
        { { "--device", "i6300esb", "--fd", "3", NULL }, "'--qmp' is required to carry out --action" },
        { { "--device", "i6300esb", "--fd", "3", "--action", "explode", NULL }, "invalid value 'explode'" },
        { { "--device", "i6300esb", "--fd", "3", "--action", "none", "--rate-bytes", "10", NULL },
          "'--rate-*' applies to --device virtio-entropy only" },
        { { "--device", "i6300esb", "--fd", "3", "--action", "none", "--source", "/dev/urandom", NULL },
          "'--source' applies to --device virtio-entropy only" },
        { { "--device", "virtio-entropy", "--fd", "3", "--qmp", "/tmp/q", NULL }, "'--qmp' applies to --device i6300esb only" },
        { { "--device", "virtio-entropy", "--fd", "3", "--min-entropy", "9", NULL }, "invalid value '9' for option '--min-entropy'" },
        { { "--device", "i6300esb", "--fd", "3", "--action", "none", "--min-entropy", "4", NULL },
          "'--min-entropy' applies to --device virtio-entropy only" },
        { { "--device", "virtio-entropy", "--fd", "3", "--action", "reset", NULL },
          "'--action' applies to --device i6300esb only" },
        { { "--device", "virtio-entropy", "--fd", "3", "--rate-burst", "5", NULL }, "'--rate-burst' needs --rate-bytes" },
        { { "--device", "virtio-entropy", "--fd", "3", "--rate-ops-burst", "5", NULL }, "'--rate-ops-burst' needs --rate-ops" },
        { { "--device", "virtio-entropy", "--fd", "3", "--rate-bytes", "1k", NULL }, "invalid value '1k' for option '--rate-bytes'" },
        { { "--device", "i6300esb", "--action", "none", "--socket", "", NULL }, "invalid value '' for option '--socket'" },
        { { "--device", "i6300esb", "--action", "none", "--socket", K_LONG_PATH, NULL },
          "for option '--socket': empty, or too long for a UNIX socket address" },
        { { "--device", "i6300esb", "--fd", "3", "--qmp", "", NULL }, "invalid value '' for option '--qmp'" },
        { { "--device", "i6300esb", "--fd", "3", "--qmp", K_LONG_PATH, NULL },
          "for option '--qmp': empty, or too long for a UNIX socket address" },
        { { "--device", "virtio-entropy", "--fd", "3", "--log-level", "loud", NULL }, "invalid value 'loud' for option '--log-level'" },
        { { "--device", "virtio-entropy", "--fd", "3", "--bogus", NULL }, "unknown option '--bogus'" },
        { { "--device", "virtio-entropy", "--fd", "3", "extra", NULL }, "unexpected argument 'extra'" },
        { { "--device", NULL }, "option '--device' needs a value" },
        { { "--device", "i6300esb", "--action", "none", "--socket", "", NULL }, "invalid value '' for option '--socket'" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = run_cli(bad[i].args, out, sizeof(out));
        if (rc != 2 || strstr(out, bad[i].msg) == NULL) {
            fprintf(stderr, "case %zu: rc %d, output: %s", i, rc, out);
        }
        assert_int_equal(rc, 2);
        assert_non_null(strstr(out, bad[i].msg));
        assert_non_null(strstr(out, "Try 'qemu-remote-vdev --help'."));
    }
    /* Run-time failures: exit 1. fd 0 here is a pipe's end, not a socket. */
    static const char *const notsock[] = { "--device", "i6300esb", "--action", "none", "--fd", "0", NULL };
    assert_int_equal(run_cli(notsock, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "fd 0 is not a UNIX stream socket"));
    static const char *const nosrc[] = { "--device", "virtio-entropy", "--socket", "/nonexistent/x.sock",
                                         "--source", "/nonexistent/source", NULL };
    assert_int_equal(run_cli(nosrc, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "cannot open --source '/nonexistent/source'"));
    static const char *const nobind[] = { "--device", "virtio-entropy", "--socket", "/nonexistent/x.sock", NULL };
    assert_int_equal(run_cli(nobind, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "cannot bind /nonexistent/x.sock"));
    /* Inherited fds of the wrong kind: a UNIX datagram socket, a TCP socket. */
    const int wrong[2] = { socket(AF_UNIX, SOCK_DGRAM, 0), socket(AF_INET, SOCK_STREAM, 0) };
    for (int i = 0; i < 2; i++) {
        char num[16], want[64];
        assert_true(wrong[i] >= 0);
        snprintf(num, sizeof(num), "%d", wrong[i]);
        snprintf(want, sizeof(want), "fd %d is not a UNIX stream socket", wrong[i]);
        const char *const a[] = { "--device", "i6300esb", "--action", "none", "--fd", num, NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 1);
        assert_non_null(strstr(out, want));
        close(wrong[i]);
    }
}

/* --source FILE: the guest gets exactly the file's bytes after the health
 * tests' start-up block (1024 bytes tested and discarded); the rate options
 * and --min-entropy are accepted. */
/* REQ: REQ-RMT-054.a REQ-RMT-054.b */
static void test_entropy_source_and_rate_options(void **state)
{
    (void)state;
    char src[256];
    tmp_path(src, sizeof(src), "source");
    FILE *f = fopen(src, "wb");
    for (int i = 0; i < 4096; i++) {
        fputc((i * 7 + (i >> 8)) & 0xff, f);
    }
    fclose(f);
    px p;
    ram r;
    tg_vring vr;
    ram_init(&r);
    const char *args[] = { "--device", "virtio-entropy", "--source", src, "--rate-bytes", "1000000",
                           "--rate-ops", "0x1000", "--min-entropy", "8", NULL };
    px_start(&p, args);
    sysmem_pc(&p, &r);
    virtio_setup(&p, &vr, &r);
    /* the health tests' batches are served from the timer */
    assert_int_equal(entropy_first_16(&p, &vr, 2000), 16);
    int at = -1;
    for (int k = 1024; k < 4096 - 16 && at < 0; k++) {
        bool same = true;
        for (int i = 0; i < 16 && same; i++) {
            same = r.map[BUF_GPA + (unsigned)i] == (uint8_t)(((k + i) * 7 + ((k + i) >> 8)) & 0xff);
        }
        at = same ? k : -1;
    }
    printf("    the guest got the source's bytes from offset %d (the start-up test took the first 1024)\n", at);
    assert_true(at >= 1024);
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    ram_free(&r);
}

/* A source that goes stuck and recovers: 3072 zero bytes, then varied ones.
 * The health tests fail on the zeros; the request waits (nothing of the
 * stuck run reaches the guest), the failure is logged once for the episode
 * and its end once, and SIGUSR1's metrics show the health state and the
 * failure counts. */
/* REQ: REQ-RMT-054.c REQ-RMT-054.d */
static void test_entropy_source_health_failure_episode(void **state)
{
    (void)state;
    char src[256];
    tmp_path(src, sizeof(src), "stuck-source");
    FILE *f = fopen(src, "wb");
    assert_non_null(f);
    for (int i = 0; i < 3072; i++) {
        fputc(0, f);
    }
    for (int i = 0; i < 8192; i++) {
        fputc((i * 7 + (i >> 8) + 1) & 0xff, f);
    }
    fclose(f);
    px p;
    ram r;
    tg_vring vr;
    ram_init(&r);
    const char *args[] = { "--device", "virtio-entropy", "--source", src, NULL };
    px_start(&p, args);
    sysmem_pc(&p, &r);
    virtio_setup(&p, &vr, &r);
    assert_int_equal(entropy_first_16(&p, &vr, 3000), 16);
    bool zero = true;
    for (unsigned i = 0; i < 16u; i++) {
        zero = zero && r.map[BUF_GPA + i] == 0u;
    }
    assert_false(zero); /* served from the bytes after the stuck run */
    assert_int_equal(file_count(p.log, "source health test failed (repetition count)"), 1);
    assert_int_equal(file_count(p.log, "source health tests pass again"), 1);
    kill(p.pid, SIGUSR1);
    assert_true(log_wait(p.log, "health ok health_rct_failures ", 2000));
    assert_false(file_has(p.log, "health_rct_failures 0 "));
    assert_int_equal(px_stop(&p, SIGTERM), 0);
    ram_free(&r);
}

/* SIGUSR1 writes the metrics; SIGINT ends the daemon with status 0. */
/* REQ: REQ-RMT-024 */
static void test_metrics_and_signals(void **state)
{
    (void)state;
    px p;
    px_start(&p, k_wdt_none);
    assert_int_equal(cfg_read(&p, 0, 2), 0x8086);
    kill(p.pid, SIGUSR1);
    assert_true(log_wait(p.log, "note: metrics: msgs sync_sysmem 0 cfgwrite 0 cfgread 1", 2000));
    int st = px_stop(&p, SIGINT);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ------------------------------------------------------------ in-process */

static size_t count_fds(void)
{
    size_t n = 0;
    for (int fd = 0; fd < 1024; fd++) {
        n += fcntl(fd, F_GETFD) >= 0;
    }
    return n;
}

static size_t count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    size_t n = 0;
    int c;
    while (f != NULL && (c = fgetc(f)) != EOF) {
        n += c == '\n';
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

static svd_result fake_src(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    memset(buf, 0x42, len);
    *got = len;
    return svd_ok();
}

static void dev_new(mpq_dev *d, enum mpq_kind kind)
{
    mpq_dev_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = kind;
    cfg.entropy.source.read = fake_src;
    assert_int_equal(mpq_dev_init(d, &cfg, 0, NULL), 0);
}

/* Tables replaced, refused and repeated; irqfds replaced; disconnects: no fd
 * or mapping is left behind. */
/* REQ: REQ-RMT-017 REQ-RMT-019.a REQ-RMT-019.b */
static void test_dispatcher_no_fd_or_mapping_leak(void **state)
{
    (void)state;
    static mpq_dev d;
    ram r;
    mpq_out out;
    ram_init(&r);
    size_t fds0 = count_fds();
    size_t maps0 = count_maps();
    dev_new(&d, MPQ_DEV_ENTROPY);
    for (int round = 0; round < 50; round++) {
        uint8_t m[MPQ_SYSMEM_SIZE];
        memset(m, 0, sizeof(m));
        svd_store_le64(m + MPQ_SYSMEM_GPAS, 0);
        svd_store_le64(m + MPQ_SYSMEM_SIZES, (uint64_t)(round % 3 + 1) << 20);
        svd_store_le64(m + MPQ_SYSMEM_OFFSETS, 0);
        int f1 = dup(r.fd);
        assert_int_equal(mpq_dev_handle(&d, MPQ_SYNC_SYSMEM, sizeof(m), m, &f1, 1, 0, &out), MPQ_V_OK);
        int f2 = dup(r.fd);
        assert_int_equal(mpq_dev_handle(&d, MPQ_SYNC_SYSMEM, sizeof(m), m, &f2, 1, 0, &out), MPQ_V_OK);
        svd_store_le64(m + MPQ_SYSMEM_SIZES, UINT64_C(1) << 40); /* past the file: refused */
        int f3 = dup(r.fd);
        assert_int_equal(mpq_dev_handle(&d, MPQ_SYNC_SYSMEM, sizeof(m), m, &f3, 1, 0, &out), MPQ_V_DISCONNECT);
        int e[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };
        assert_int_equal(mpq_dev_handle(&d, MPQ_SET_IRQFD, 0, NULL, e, 2, 0, &out), MPQ_V_OK);
        int bad[3] = { dup(r.fd), dup(r.fd), dup(r.fd) };
        assert_int_equal(mpq_dev_handle(&d, MPQ_SET_IRQFD, 0, NULL, bad, 3, 0, &out), MPQ_V_DISCONNECT);
        int bad2[2] = { dup(r.fd), eventfd(0, EFD_CLOEXEC) };
        assert_int_equal(mpq_dev_handle(&d, MPQ_SET_IRQFD, 0, NULL, bad2, 2, 0, &out), MPQ_V_DISCONNECT);
        if (round % 5 == 0) {
            mpq_dev_disconnect(&d, 0);
        }
    }
    assert_int_equal(d.st.syncs_same, 50); /* the second of each pair */
    mpq_dev_disconnect(&d, 0);
    assert_int_equal(count_fds(), fds0);
    assert_int_equal(count_maps(), maps0);
    ram_free(&r);
}

/* 20000 random messages (random command, size, payload, fds) never crash
 * the dispatcher and leave no fd behind. */
/* REQ: REQ-RMT-019.a REQ-RMT-019.b REQ-RMT-019.c */
static void test_dispatcher_garbage_never_crashes(void **state)
{
    (void)state;
    static mpq_dev d;
    ram r;
    ram_init(&r);
    size_t fds0 = count_fds();
    uint32_t seed = 12345;
    for (int kind = 0; kind < 2; kind++) {
        dev_new(&d, kind == 0 ? MPQ_DEV_I6300ESB : MPQ_DEV_ENTROPY);
        for (int i = 0; i < 10000; i++) {
            uint8_t m[MPQ_MAX_PAYLOAD];
            int fds[4];
            mpq_out out;
            for (size_t k = 0; k < sizeof(m); k++) {
                seed = seed * 1103515245u + 12345u;
                m[k] = (uint8_t)(seed >> 16);
            }
            seed = seed * 1103515245u + 12345u;
            uint32_t cmd = (seed >> 16) % 10u;
            uint64_t sizes[] = { 0, 8, 12, 24, 192 };
            uint64_t size = sizes[(seed >> 8) % 5u];
            size_t nfds = (seed >> 4) % 3u;
            if (cmd == MPQ_SYNC_SYSMEM && (seed & 1u) != 0u) {
                memset(m + 16, 0, sizeof(m) - 16);
                svd_store_le64(m + MPQ_SYSMEM_SIZES, ((uint64_t)(seed % 8u) + 1u) << 16);
            }
            for (size_t k = 0; k < nfds; k++) {
                fds[k] = (k == 1 || cmd == MPQ_SET_IRQFD) ? eventfd(0, EFD_CLOEXEC) : dup(r.fd);
            }
            (void)mpq_dev_handle(&d, cmd, size, m, fds, nfds, (uint64_t)i * 1000000u, &out);
            if (out.deadline != SVD_NO_DEADLINE && (i % 7) == 0) {
                mpq_dev_tick(&d, out.deadline, &out);
            }
        }
        mpq_dev_disconnect(&d, 0);
        if (count_fds() != fds0) {
            fprintf(stderr, "kind %d: %zu fds, %zu before\n", kind, count_fds(), fds0);
            system("ls -l /proc/$PPID/fd >&2");
        }
    }
    assert_int_equal(count_fds(), fds0);
    ram_free(&r);
}

/* Each refusal of SYNC_SYSMEM and SET_IRQFD in-process, with its verdict: an
 * entry set beyond the fds, an empty or wrapping region, overlapping
 * regions, an fd that is no fd, a pipe, a table that differs from the one in
 * place only in its offset, a file that cannot be mapped writable (the table
 * is then empty, the connection stays), an irqfd pair whose second fd is no
 * fd; a resample with nothing to read; log levels out of range. */
static void sysmem_one(uint8_t *m, uint32_t i, uint64_t gpa, uint64_t size, uint64_t off)
{
    svd_store_le64(m + MPQ_SYSMEM_GPAS + 8u * i, gpa);
    svd_store_le64(m + MPQ_SYSMEM_SIZES + 8u * i, size);
    svd_store_le64(m + MPQ_SYSMEM_OFFSETS + 8u * i, off);
}

static enum mpq_verdict sysmem_send(mpq_dev *d, const uint8_t *m, const int *fds_in, size_t n)
{
    int fds[MPQ_MAX_FDS];
    mpq_out out;
    for (size_t i = 0; i < n; i++) {
        fds[i] = fds_in[i] >= 0 && fds_in[i] < 1000 ? dup(fds_in[i]) : fds_in[i];
    }
    return mpq_dev_handle(d, MPQ_SYNC_SYSMEM, MPQ_SYSMEM_SIZE, m, fds, n, 0, &out);
}

/* REQ: REQ-RMT-014.a REQ-RMT-015 REQ-RMT-019.a */
static void test_dispatcher_each_refusal_in_process(void **state)
{
    static mpq_dev d;
    ram r;
    mpq_out out;
    uint8_t m[MPQ_SYSMEM_SIZE];
    int pp[2];
    const int saved = mpq_log_level;
    (void)state;
    ram_init(&r);
    assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
    mpq_log_level = MPQ_LOG_DEBUG;
    mpq_log(MPQ_LOG_NOTE - 1, "never shown");
    mpq_log(MPQ_LOG_DEBUG + 1, "never shown");
    {
        /* Configurations the device refuses: no such kind, a min-entropy the core refuses. */
        mpq_dev_cfg bad;
        memset(&bad, 0, sizeof(bad));
        bad.kind = (enum mpq_kind)7;
        assert_int_equal(mpq_dev_init(&d, &bad, 0, NULL), -1);
        bad.kind = MPQ_DEV_ENTROPY;
        bad.entropy.source.read = fake_src;
        bad.entropy.min_entropy = 9;
        assert_int_equal(mpq_dev_init(&d, &bad, 0, NULL), -1);
    }
    dev_new(&d, MPQ_DEV_ENTROPY);
    int two[2] = { r.fd, r.fd };
    /* An entry beyond the one fd. */
    memset(m, 0, sizeof(m));
    sysmem_one(m, 0, 0, 1u << 20, 0);
    sysmem_one(m, 1, 0, 0, 4096);
    assert_int_equal(sysmem_send(&d, m, two, 1), MPQ_V_DISCONNECT);
    /* Empty; wrapping in guest-physical space; wrapping in the file. */
    memset(m, 0, sizeof(m));
    sysmem_one(m, 0, 0, 0, 0);
    assert_int_equal(sysmem_send(&d, m, two, 1), MPQ_V_DISCONNECT);
    sysmem_one(m, 0, UINT64_MAX - 10u, 4096, 0);
    assert_int_equal(sysmem_send(&d, m, two, 1), MPQ_V_DISCONNECT);
    sysmem_one(m, 0, 0, 4096, UINT64_MAX - 10u);
    assert_int_equal(sysmem_send(&d, m, two, 1), MPQ_V_DISCONNECT);
    /* Overlapping regions, the second inside the first and the first inside the second. */
    sysmem_one(m, 0, 0x10000, 0x10000, 0);
    sysmem_one(m, 1, 0x18000, 0x1000, 0);
    assert_int_equal(sysmem_send(&d, m, two, 2), MPQ_V_DISCONNECT);
    sysmem_one(m, 1, 0x8000, 0x10000, 0);
    assert_int_equal(sysmem_send(&d, m, two, 2), MPQ_V_DISCONNECT);
    /* No such fd; a pipe. */
    memset(m, 0, sizeof(m));
    sysmem_one(m, 0, 0, 1u << 20, 0);
    int nofd[1] = { 1000 };
    assert_int_equal(sysmem_send(&d, m, nofd, 1), MPQ_V_DISCONNECT);
    int pipefd[1] = { pp[0] };
    assert_int_equal(sysmem_send(&d, m, pipefd, 1), MPQ_V_DISCONNECT);
    /* A table in place; the same but for the offset is a new table. */
    assert_int_equal(sysmem_send(&d, m, two, 1), MPQ_V_OK);
    assert_int_equal(d.nregions, 1);
    sysmem_one(m, 0, 0, 1u << 20, 4096);
    assert_int_equal(sysmem_send(&d, m, two, 1), MPQ_V_OK);
    assert_int_equal(d.st.syncs_same, 0);
    /* Read-only: mapping refused, the table is empty, the connection stays. */
    {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", r.fd);
        int ro[1] = { open(path, O_RDONLY | O_CLOEXEC) };
        assert_true(ro[0] >= 0);
        sysmem_one(m, 0, 0, 1u << 20, 0);
        assert_int_equal(sysmem_send(&d, m, ro, 1), MPQ_V_OK);
        assert_int_equal(d.nregions, 0);
        assert_int_equal(d.st.map_failures, 1);
        close(ro[0]);
    }
    /* irqfds: the second is no fd. */
    {
        int e[2] = { eventfd(0, EFD_CLOEXEC), 1000 };
        assert_int_equal(mpq_dev_handle(&d, MPQ_SET_IRQFD, 0, NULL, e, 2, 0, &out), MPQ_V_DISCONNECT);
    }
    mpq_dev_resample(&d); /* no resample fd */
    {
        int e[2] = { eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) };
        assert_int_equal(mpq_dev_handle(&d, MPQ_SET_IRQFD, 0, NULL, e, 2, 0, &out), MPQ_V_OK);
    }
    const uint64_t before = d.st.resamples;
    mpq_dev_resample(&d); /* nothing to read */
    assert_int_equal(d.st.resamples, before);
    mpq_dev_disconnect(&d, 0);
    close(pp[0]);
    close(pp[1]);
    ram_free(&r);
    mpq_log_level = saved;
}

/* The watchdog checks a table as the entropy device does but maps nothing;
 * on the entropy device a table equal to the one in place changes nothing
 * (the same mapping kept, no new one, the fd handed with it closed). */
/* REQ: REQ-RMT-014.b REQ-RMT-014.c */
static void test_dispatcher_watchdog_maps_nothing_same_table_changes_nothing(void **state)
{
    static mpq_dev d;
    ram r;
    uint8_t m[MPQ_SYSMEM_SIZE];
    int one[1];
    (void)state;
    ram_init(&r);
    one[0] = r.fd;
    const size_t fds0 = count_fds();
    const size_t maps0 = count_maps();
    /* The watchdog: a bad table refused, a good one taken, nothing mapped. */
    dev_new(&d, MPQ_DEV_I6300ESB);
    memset(m, 0, sizeof(m));
    sysmem_one(m, 0, 0, 0, 0);
    assert_int_equal(sysmem_send(&d, m, one, 1), MPQ_V_DISCONNECT);
    sysmem_one(m, 0, 0, 1u << 20, 0);
    assert_int_equal(sysmem_send(&d, m, one, 1), MPQ_V_OK);
    assert_int_equal(d.nregions, 1);
    assert_null(d.regions[0].map);
    assert_int_equal(count_maps(), maps0);
    mpq_dev_disconnect(&d, 0);
    assert_int_equal(count_fds(), fds0);
    /* The entropy device maps it; the same table again changes nothing. */
    dev_new(&d, MPQ_DEV_ENTROPY);
    assert_int_equal(sysmem_send(&d, m, one, 1), MPQ_V_OK);
    void *const map = d.regions[0].map;
    assert_non_null(map);
    const size_t maps1 = count_maps();
    assert_true(maps1 > maps0);
    const size_t fds1 = count_fds();
    assert_int_equal(sysmem_send(&d, m, one, 1), MPQ_V_OK);
    assert_int_equal(d.st.syncs_same, 1);
    assert_int_equal(d.nregions, 1);
    assert_ptr_equal(d.regions[0].map, map);
    assert_int_equal(count_maps(), maps1);
    assert_int_equal(count_fds(), fds1);
    mpq_dev_disconnect(&d, 0);
    assert_int_equal(count_maps(), maps0);
    assert_int_equal(count_fds(), fds0);
    ram_free(&r);
}

/* The QMP client's JSON check: RFC 8259 syntax, strict UTF-8, the nesting limit. */
/* REQ: REQ-RMT-043.a */
static void test_json_validator(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}", "[]", "0", "-0.5e+10", "\"a\\u00e9\\n\"", "true", " {\"a\": [1, 2, {\"b\": null}]} ",
        "{\"QMP\": {\"version\": {}, \"capabilities\": []}}", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "1E5",
    };
    static const char *const bad[] = {
        "", " ", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a: 1}", "01", "1.", "-", "1e", "tru", "nul",
        "\"unterminated", "\"\\x\"", "\"\\u12g4\"", "\"\x01\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf5\x80\x80\x80\"",
        "\"\xe2\x82\"", "{} {}", "[1] x", "{\"a\":1,}", "[\"a\" \"b\"]", "{\"a\":1 \"b\":2}", "\"\xff\"", "\"\\",
        "\"\\ug234\"", "\"\\u1g34\"", "\"\\u123g\"", "\"\\u12\"", "{\"a", "{\"a\x01\": 1}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!mpq_json_valid(good[i], strlen(good[i]))) {
            fprintf(stderr, "valid JSON refused: %s\n", good[i]);
        }
        assert_true(mpq_json_valid(good[i], strlen(good[i])));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (mpq_json_valid(bad[i], strlen(bad[i]))) {
            fprintf(stderr, "invalid JSON accepted: %s\n", bad[i]);
        }
        assert_false(mpq_json_valid(bad[i], strlen(bad[i])));
    }
    char deep[100];
    memset(deep, '[', 32);
    memset(deep + 32, ']', 32);
    assert_true(mpq_json_valid(deep, 64));
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    assert_false(mpq_json_valid(deep, 66));
    size_t v = 0, l = 0;
    const char *o = "{\"a\": 1, \"b\": {\"a\": 2}, \"c\": \"x\"}";
    assert_int_equal(mpq_json_get(o, strlen(o), "a", &v, &l), 1);
    assert_int_equal(l, 1);
    assert_int_equal(mpq_json_get(o, strlen(o), "c", &v, &l), 1);
    assert_memory_equal(o + v, "\"x\"", 3);
    assert_int_equal(mpq_json_get(o, strlen(o), "z", &v, &l), 0);
    const char *dup2x = "{\"a\": 1, \"a\": 2}";
    assert_int_equal(mpq_json_get(dup2x, strlen(dup2x), "a", &v, &l), -1);
    assert_int_equal(mpq_json_get("[1]", 3, "a", &v, &l), -1);
    const char *esc = "{\"\\u0061\": 1}";
    assert_int_equal(mpq_json_get(esc, strlen(esc), "a", &v, &l), 0);
}

/* The JSON check at its edges, each input with its exact length (some hold a
 * NUL): every kind of blank, hex digits of both cases and the bytes next to
 * their ranges, truncated and overlong UTF-8, code points past U+10FFFF,
 * numbers cut short, a comma outside any container, an unclosed container;
 * and the key lookup on text that ends early. */
/* REQ: REQ-RMT-043.a */
static void test_json_validator_edges(void **state)
{
    typedef struct jcase {
        const char *s;
        size_t n;
        bool valid;
    } jcase;
    (void)state;
#define JC(lit, ok) { lit, sizeof(lit) - 1u, ok }
    static const jcase cases[] = {
        JC(" \t\n\r{}\r\n", true),
        JC("\"\\uABCD\\uabcd\\u09Af\"", true),
        JC("\"\\u00g0\"", false),   /* just past 'f' */
        JC("\"\\u00G0\"", false),   /* just past 'F' */
        JC("\"\\u00@0\"", false),   /* just before 'A' */
        JC("\"\\u00`0\"", false),   /* just before 'a' */
        JC("\"\\u00/0\"", false),   /* just before '0' */
        JC("\"\\u00:0\"", false),   /* just after '9' */
        JC("\"\\u00", false),       /* escape cut short */
        JC("\"\\u0\"", false),
        JC("\"\\\0\"", false),      /* a NUL after the backslash */
        JC("\"\\/\\b\\f\\r\\t\\\"\\\\\"", true),
        JC("\"\xc3", false),        /* two-byte sequence cut short */
        JC("\"\xe2\x82", false),    /* three-byte sequence cut short */
        JC("\"\xe0\x80\x80\"", false), /* overlong three-byte form */
        JC("\"\xf0\x80\x80\x80\"", false), /* overlong four-byte form */
        JC("\"\xf4\x90\x80\x80\"", false), /* past U+10FFFF */
        JC("\"\xf4\x8f\xbf\xbf\"", true),  /* U+10FFFF itself */
        JC("\"\xee\x80\x80\"", true),      /* just past the surrogates */
        JC("\"\xc1\xbf\"", false),  /* a lead byte never used */
        JC("\"\xe2\x82\xc0\"", false), /* a bad third byte */
        JC("-a", false),
        JC("1e+", false),
        JC("1E-5", true),
        JC("1.5E+3", true),
        JC("-0", true),
        JC("1,2", false),           /* a comma outside any container */
        JC("[1", false),            /* never closed */
        JC("{\"a\":1", false),
        JC("{\"a\"", false),
        JC("[1}", false),
        JC("{\"a\":1]", false),
        JC("]", false),
        JC("falsy", false),
        JC("nulL", false),
        JC("fals", false),
        JC("[true,false,null]", true),
    };
#undef JC
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (mpq_json_valid(cases[i].s, cases[i].n) != cases[i].valid) {
            fprintf(stderr, "JSON case %zu: expected %s\n", i, cases[i].valid ? "valid" : "invalid");
        }
        assert_int_equal(mpq_json_valid(cases[i].s, cases[i].n), cases[i].valid);
    }
    size_t v = 0, l = 0;
    /* Lookups the parser only makes on validated text, here on text that ends early. */
    assert_int_equal(mpq_json_get("  ", 2, "a", &v, &l), -1);
    assert_int_equal(mpq_json_get("{", 1, "a", &v, &l), 0);
    assert_int_equal(mpq_json_get("{\"a\"", 4, "a", &v, &l), 1);
    assert_int_equal(mpq_json_get("{\"a\": [1, {\"b\": \"]\"}], \"c\": 2", 29, "c", &v, &l), 1);
    assert_int_equal(l, 1);
    assert_int_equal(mpq_json_get("{\"a\": [1, 2", 11, "b", &v, &l), 0);
    const char *ab = "{\"ab\": 1, \"a\": 2}";
    assert_int_equal(mpq_json_get(ab, strlen(ab), "a", &v, &l), 1);
    assert_memory_equal("2", &ab[v], 1);
}

/* The conversation without sockets: each line QEMU could send, in each state. */
/* REQ: REQ-RMT-043.a */
static void test_qmp_conversation_in_process(void **state)
{
    (void)state;
    mpq_qmp q;
    mpq_qmp_init(&q, "/nonexistent/qmp", 0);
    q.state = MPQ_QMP_GREETING;
    q.fd = -1;
    const char *g = "{\"QMP\": {\"version\": {\"qemu\": {}}, \"capabilities\": []}}";
    assert_int_equal(mpq_qmp_line(&q, g, strlen(g), 0), MPQ_QMP_OK);
    assert_int_equal(q.state, MPQ_QMP_CAPS);
    const char *wrong = "{\"return\": {}, \"id\": 7}";
    assert_int_equal(mpq_qmp_line(&q, wrong, strlen(wrong), 0), MPQ_QMP_BAD);
    const char *both = "{\"return\": {}, \"error\": {}, \"id\": 1}";
    assert_int_equal(mpq_qmp_line(&q, both, strlen(both), 0), MPQ_QMP_BAD);
    const char *evnum = "{\"event\": 5}";
    assert_int_equal(mpq_qmp_line(&q, evnum, strlen(evnum), 0), MPQ_QMP_BAD);
    const char *errstr = "{\"error\": \"x\", \"id\": 1}";
    assert_int_equal(mpq_qmp_line(&q, errstr, strlen(errstr), 0), MPQ_QMP_BAD);
    const char *ev = "{\"event\": \"STOP\", \"timestamp\": {}}";
    assert_int_equal(mpq_qmp_line(&q, ev, strlen(ev), 0), MPQ_QMP_OK);
    assert_false(q.vm_running);
    const char *ok1 = "{\"return\": {}, \"id\": 1}";
    assert_int_equal(mpq_qmp_line(&q, ok1, strlen(ok1), 0), MPQ_QMP_OK);
    assert_int_equal(q.state, MPQ_QMP_STATUS);
    const char *norun = "{\"return\": {\"status\": \"running\"}, \"id\": 2}";
    assert_int_equal(mpq_qmp_line(&q, norun, strlen(norun), 0), MPQ_QMP_BAD);
    const char *st = "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 2}";
    assert_int_equal(mpq_qmp_line(&q, st, strlen(st), 0), MPQ_QMP_OK);
    assert_int_equal(q.state, MPQ_QMP_READY);
    assert_true(q.vm_running);
    const char *unsol = "{\"return\": {}, \"id\": 2}";
    assert_int_equal(mpq_qmp_line(&q, unsol, strlen(unsol), 0), MPQ_QMP_BAD);
    const char *dupid = "{\"event\": \"RESUME\", \"id\": 1, \"id\": 2}";
    assert_int_equal(mpq_qmp_line(&q, dupid, strlen(dupid), 0), MPQ_QMP_BAD);
    /* A refusal of capabilities ends the connection. */
    mpq_qmp_init(&q, "/nonexistent/qmp", 0);
    q.state = MPQ_QMP_GREETING;
    assert_int_equal(mpq_qmp_line(&q, g, strlen(g), 0), MPQ_QMP_OK);
    const char *refuse = "{\"error\": {\"class\": \"GenericError\"}, \"id\": 1}";
    assert_int_equal(mpq_qmp_line(&q, refuse, strlen(refuse), 0), MPQ_QMP_BAD);
    assert_string_equal(mpq_action_name(MPQ_ACTION_PAUSE), "pause");
    assert_string_equal(mpq_action_name((enum mpq_action)9), "unknown");
    assert_null(mpq_action_command(MPQ_ACTION_NONE));
    assert_string_equal(mpq_cmd_name(42), "unknown");
    mpq_qmp_init(&q, NULL, 0);
    assert_false(mpq_qmp_enabled(&q));
    assert_int_equal(mpq_qmp_deadline(&q), UINT64_MAX);
    mpq_qmp_poll(&q, 0);
    mpq_qmp_fire(&q, MPQ_ACTION_RESET, 0); /* logged: no QMP */
}

/* The QMP client end to end in-process, on a socketpair standing for QEMU's
 * monitor: a greeting split over two reads with CRLF and blank lines, each
 * malformed greeting, the negotiation to READY with the VM stopped, events,
 * an action refused, one confirmed, one cut off by QEMU closing, an error
 * member that is no object, a line past the limit, a reply overdue, the
 * retry against a missing and a listening socket, an action that waits for
 * the connection and is sent once it is ready, a send that would block and
 * finishes when the socket drains, a send to a closed peer. */
static void qmp_pair(mpq_qmp *q, int *peer, enum mpq_qmp_state st)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    q->fd = sv[0];
    q->state = st;
    q->in_len = 0;
    *peer = sv[1];
}

static void qmp_say(mpq_qmp *q, int peer, const char *text, uint64_t now)
{
    assert_int_equal(send(peer, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
    mpq_qmp_io(q, true, false, now);
}

/* What the client sent since the last call, NUL-terminated. */
static const char *qmp_heard(int peer)
{
    static char buf[4096];
    ssize_t n = recv(peer, buf, sizeof(buf) - 1u, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* REQ: REQ-RMT-043.a REQ-RMT-043.b REQ-RMT-043.c */
static void test_qmp_client_over_a_socketpair(void **state)
{
    static const char *const bad_greetings[] = {
        "{\"qmp\": {}}\n",
        "{\"QMP\": {\"version\": 1, \"capabilities\": []}}\n",
        "{\"QMP\": {\"version\": {}}}\n",
        "{\"QMP\": {\"version\": {}, \"capabilities\": {}}}\n",
    };
    mpq_qmp q;
    int peer;
    (void)state;
    /* A path too long for a UNIX socket leaves QMP off. */
    {
        char longp[200];
        memset(longp, 'p', sizeof(longp) - 1u);
        longp[sizeof(longp) - 1u] = '\0';
        mpq_qmp_init(&q, longp, 0);
        assert_false(mpq_qmp_enabled(&q));
    }
    for (size_t i = 0; i < sizeof(bad_greetings) / sizeof(bad_greetings[0]); i++) {
        mpq_qmp_init(&q, "/nonexistent/qmp", 0);
        qmp_pair(&q, &peer, MPQ_QMP_GREETING);
        qmp_say(&q, peer, bad_greetings[i], 1);
        assert_int_equal(q.fd, -1);
        assert_int_equal(q.bad_lines, 1);
        close(peer);
    }
    /* The whole conversation. */
    mpq_qmp_init(&q, "/nonexistent/qmp", 0);
    qmp_pair(&q, &peer, MPQ_QMP_GREETING);
    mpq_qmp_io(&q, true, false, 1); /* nothing to read yet */
    assert_int_equal(q.state, MPQ_QMP_GREETING);
    qmp_say(&q, peer, "\r\n\n{\"QMP\": {\"version\": {\"qemu\": {}}, ", 1);
    assert_int_equal(q.state, MPQ_QMP_GREETING);
    qmp_say(&q, peer, "\"capabilities\": []}}\r\n", 1);
    assert_int_equal(q.state, MPQ_QMP_CAPS);
    assert_non_null(strstr(qmp_heard(peer), "\"qmp_capabilities\",\"id\":1"));
    assert_int_equal(mpq_qmp_deadline(&q), 1 + MPQ_QMP_REPLY_NS);
    qmp_say(&q, peer, "{\"return\": {}, \"id\": 1}\n", 2);
    assert_int_equal(q.state, MPQ_QMP_STATUS);
    assert_non_null(strstr(qmp_heard(peer), "query-status"));
    qmp_say(&q, peer, "{\"return\": {\"running\": false, \"status\": \"paused\"}, \"id\": 2}\n", 3);
    assert_int_equal(q.state, MPQ_QMP_READY);
    assert_false(q.vm_running);
    assert_int_equal(mpq_qmp_deadline(&q), UINT64_MAX);
    qmp_say(&q, peer, "{\"event\": \"RESUME\"}\n{\"event\": \"POWERDOWN\"}\n", 4);
    assert_true(q.vm_running);
    assert_int_equal(q.fd >= 0, 1);
    /* An action QEMU refuses, one it carries out, one cut off. */
    mpq_qmp_fire(&q, MPQ_ACTION_RESET, 5);
    assert_int_equal(q.state, MPQ_QMP_ACTION);
    assert_non_null(strstr(qmp_heard(peer), "system_reset"));
    qmp_say(&q, peer, "{\"error\": {\"class\": \"GenericError\"}, \"id\": 3}\n", 6);
    assert_int_equal(q.refused, 1);
    assert_int_equal(q.state, MPQ_QMP_READY);
    mpq_qmp_fire(&q, MPQ_ACTION_POWEROFF, 7);
    assert_non_null(strstr(qmp_heard(peer), "\"quit\""));
    qmp_say(&q, peer, "{\"return\": {}, \"id\": 4}\n", 8);
    assert_int_equal(q.confirmed, 1);
    mpq_qmp_fire(&q, MPQ_ACTION_PAUSE, 9);
    assert_int_equal(q.state, MPQ_QMP_ACTION);
    close(peer);
    mpq_qmp_io(&q, true, false, 10); /* QEMU closed before answering */
    assert_int_equal(q.fd, -1);
    assert_int_equal(q.refused, 2);
    assert_int_equal(q.state, MPQ_QMP_DOWN);
    assert_int_equal(mpq_qmp_deadline(&q), 10 + MPQ_QMP_RETRY_NS);
    assert_int_equal(q.sent, 3);
    /* An error member that is not an object. */
    qmp_pair(&q, &peer, MPQ_QMP_CAPS);
    q.wait_id = 1;
    qmp_say(&q, peer, "{\"error\": 1, \"id\": 1}\n", 11);
    assert_int_equal(q.fd, -1);
    close(peer);
    /* A line longer than the limit. */
    qmp_pair(&q, &peer, MPQ_QMP_READY);
    {
        static char big[MPQ_QMP_MAX_LINE + 16u];
        memset(big, ' ', sizeof(big) - 1u);
        big[sizeof(big) - 1u] = '\0';
        (void)send(peer, big, sizeof(big) - 1u, MSG_NOSIGNAL | MSG_DONTWAIT);
        mpq_qmp_io(&q, true, false, 12);
        assert_int_equal(q.fd, -1);
    }
    close(peer);
    /* A reply overdue: the connection ends at the deadline, not before. */
    qmp_pair(&q, &peer, MPQ_QMP_STATUS);
    q.timeout_at = 100;
    mpq_qmp_poll(&q, 99);
    assert_int_equal(q.fd >= 0, 1);
    mpq_qmp_poll(&q, 100);
    assert_int_equal(q.fd, -1);
    close(peer);
    /* Down: retried at retry_at; a missing socket is said once. */
    mpq_qmp_init(&q, "/nonexistent/qmp", 0);
    mpq_qmp_poll(&q, 0);
    assert_true(q.logged_down);
    assert_int_equal(q.retry_at, MPQ_QMP_RETRY_NS);
    mpq_qmp_poll(&q, 1); /* before retry_at: no attempt */
    assert_int_equal(q.retry_at, MPQ_QMP_RETRY_NS);
    /* An action while down waits, a second expiry is not queued twice. */
    mpq_qmp_fire(&q, MPQ_ACTION_RESET, 2);
    assert_true(q.pending);
    mpq_qmp_fire(&q, MPQ_ACTION_POWEROFF, 3);
    assert_int_equal(q.action, MPQ_ACTION_RESET);
    /* A listening socket: connected, greeting awaited; the waiting action
     * goes out once query-status made the connection ready. */
    {
        char path[300];
        struct sockaddr_un sa;
        int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        tmp_path(path, sizeof(path), "qmp.sock");
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        assert_true(strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path) + 1u);
        assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(ls, 1), 0);
        bool was_pending = q.pending;
        enum mpq_action was = q.action;
        mpq_qmp_init(&q, path, 0);
        q.pending = was_pending;
        q.action = was;
        mpq_qmp_poll(&q, 0);
        assert_int_equal(q.state, MPQ_QMP_GREETING);
        assert_int_equal(mpq_qmp_deadline(&q), UINT64_C(30000000000)); /* the greeting is due within 30 s */
        peer = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        assert_true(peer >= 0);
        qmp_say(&q, peer, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n", 1);
        qmp_say(&q, peer, "{\"return\": {}, \"id\": 1}\n", 2);
        (void)qmp_heard(peer);
        qmp_say(&q, peer, "{\"return\": {\"running\": true}, \"id\": 2}\n", 3);
        assert_int_equal(q.state, MPQ_QMP_ACTION);
        assert_false(q.pending);
        assert_non_null(strstr(qmp_heard(peer), "system_reset"));
        close(peer);
        mpq_qmp_io(&q, true, false, 4);
        close(ls);
        unlink(path);
    }
    /* A send that would block waits for writability, then completes. */
    mpq_qmp_init(&q, "/nonexistent/qmp", 0);
    qmp_pair(&q, &peer, MPQ_QMP_READY);
    {
        char junk[4096];
        memset(junk, ' ', sizeof(junk));
        while (send(q.fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
        }
        mpq_qmp_fire(&q, MPQ_ACTION_RESET, 1);
        assert_true(mpq_qmp_want_write(&q));
        while (recv(peer, junk, sizeof(junk), MSG_DONTWAIT) > 0) {
        }
        mpq_qmp_io(&q, false, true, 2);
        assert_false(mpq_qmp_want_write(&q));
        assert_int_equal(q.fd >= 0, 1);
    }
    close(peer);
    /* A send to a peer that is gone ends the connection. */
    mpq_qmp_close(&q, 3);
    qmp_pair(&q, &peer, MPQ_QMP_READY);
    close(peer);
    mpq_qmp_fire(&q, MPQ_ACTION_PAUSE, 4);
    assert_int_equal(q.fd, -1);
}

int main(void)
{
    g_daemon = getenv("RMT_DAEMON");
    if (getenv("RMT_TEST_FILTER") != NULL) {
        /* Run only the tests whose name matches (cmocka's pattern). */
        cmocka_set_test_filter(getenv("RMT_TEST_FILTER"));
    }
    const char *tmp = getenv("RMT_TMP");
    if (g_daemon == NULL || tmp == NULL) {
        fprintf(stderr, "set RMT_DAEMON and RMT_TMP\n");
        return 2;
    }
    snprintf(g_tmp, sizeof(g_tmp), "%s", tmp);
    signal(SIGPIPE, SIG_IGN);
    mpq_log_level = -2; /* the in-process tests: the dispatcher's own lines are not wanted here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esb_probe_as_linux_does),
        cmocka_unit_test(test_proxy_eof_exits_zero),
        cmocka_unit_test(test_stop_and_continue_serves_on),
        cmocka_unit_test(test_esb_expiry_resets_through_qmp_on_time),
        cmocka_unit_test(test_esb_pings_keep_it_quiet),
        cmocka_unit_test(test_esb_stage1_interrupt_through_irqfd),
        cmocka_unit_test(test_qmp_appears_late_action_waits),
        cmocka_unit_test(test_qmp_survives_qemu_going_away),
        cmocka_unit_test(test_qmp_validates_what_qemu_answers),
        cmocka_unit_test(test_qmp_silent_monitor_times_out),
        cmocka_unit_test(test_qmp_unconfirmed_action_not_sent_again),
        cmocka_unit_test(test_vm_stopped_freezes_the_watchdog),
        cmocka_unit_test(test_attacks_end_the_connection),
        cmocka_unit_test(test_virtio_entropy_through_the_proxy),
        cmocka_unit_test(test_virtio_guest_error_latches),
        cmocka_unit_test(test_guest_ram_shrunk_sigbus_contained),
        cmocka_unit_test(test_guest_ram_shrunk_efault_taken_as_sigbus),
        cmocka_unit_test_teardown(test_sigbus_not_from_a_truncation_keeps_default_action, sock_teardown),
        cmocka_unit_test(test_socket_mode_serves_one_proxy_after_another),
        cmocka_unit_test_teardown(test_socket_peer_uid_checked, sock_teardown),
        cmocka_unit_test_teardown(test_fds_beyond_room_or_on_payload_closed, sock_teardown),
        cmocka_unit_test_teardown(test_socket_path_stale_replaced_other_file_kept, sock_teardown),
        cmocka_unit_test(test_proxy_gone_mid_message_or_before_reply),
        cmocka_unit_test(test_sysmem_same_layout_other_file_remaps),
        cmocka_unit_test_teardown(test_require_sealed_memory, sock_teardown),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_entropy_source_and_rate_options),
        cmocka_unit_test(test_entropy_source_health_failure_episode),
        cmocka_unit_test(test_metrics_and_signals),
        cmocka_unit_test(test_dispatcher_no_fd_or_mapping_leak),
        cmocka_unit_test(test_dispatcher_garbage_never_crashes),
        cmocka_unit_test(test_dispatcher_each_refusal_in_process),
        cmocka_unit_test(test_dispatcher_watchdog_maps_nothing_same_table_changes_nothing),
        cmocka_unit_test(test_json_validator),
        cmocka_unit_test(test_json_validator_edges),
        cmocka_unit_test(test_qmp_conversation_in_process),
        cmocka_unit_test(test_qmp_client_over_a_socketpair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
