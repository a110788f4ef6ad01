/* vhost-user-entropy protocol tests with a fake front-end.
 *
 * The front-end here plays QEMU: guest RAM in a memfd shared with the daemon
 * (two regions of one memfd, the ring in the second so a wrong user-address
 * translation shows), eventfds for kick and call, and a split-ring driver
 * written directly into the shared RAM. Most tests run against the real
 * daemon binary ($VHU_DAEMON) over its UNIX sockets; the leak tests also
 * drive the dispatcher in-process and count this process's fds and maps. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tg_sigbus.h"

#include "vhu_dev.h"
#include "vhu_proto.h"

/* ------------------------------------------------------------ environment */

static const char *g_daemon;
static char g_tmp[256];

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

static void path_of(char *out, size_t n, const char *base, int idx)
{
    if (idx < 0) {
        snprintf(out, n, "%s/%s", g_tmp, base);
    } else {
        snprintf(out, n, "%s/%s%d", g_tmp, base, idx);
    }
}

typedef struct daemon_proc {
    pid_t pid;
    char log[300];
} daemon_proc;

/* Start the daemon with argv (NULL-terminated, argv[0] excluded); wait for
 * each socket in wait_paths to exist. */
static void daemon_start(daemon_proc *d, const char *const *args, const char *const *wait_paths)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = g_daemon;
    for (size_t i = 0; args[i] != NULL && n < 31; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    snprintf(d->log, sizeof(d->log), "%s/daemon-%ld.log", g_tmp, (long)now_ms());
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execv(g_daemon, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    for (size_t i = 0; wait_paths != NULL && wait_paths[i] != NULL; i++) {
        struct stat st;
        uint64_t t0 = now_ms();
        while (stat(wait_paths[i], &st) != 0) {
            assert_true(now_ms() - t0 < 5000u);
            sleep_ms(5);
        }
    }
}

static int daemon_stop(daemon_proc *d, int sig)
{
    int st = 0;
    if (d->pid <= 0) {
        return -1;
    }
    kill(d->pid, sig);
    waitpid(d->pid, &st, 0);
    d->pid = 0;
    return st;
}

/* True when the file at @path contains @needle. */
static bool file_has(const char *path, const char *needle)
{
    char buf[65536];
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

/* How many lines of the file hold @needle (the whole file: the shared
 * daemon's debug log outgrows file_has()'s 64 KiB). */
static size_t file_count(const char *path, const char *needle)
{
    char line[4096];
    size_t k = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        k += strstr(line, needle) != NULL;
    }
    fclose(f);
    return k;
}

static size_t count_dir(const char *path)
{
    char cmd[300];
    FILE *f;
    size_t n = 0;
    int c;
    snprintf(cmd, sizeof(cmd), "ls -1 %s", path);
    f = popen(cmd, "r");
    if (f == NULL) {
        return 0;
    }
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') {
            n++;
        }
    }
    pclose(f);
    return n;
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    if (f == NULL) {
        return 0;
    }
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') {
            n++;
        }
    }
    fclose(f);
    return n;
}

static size_t pid_fds(pid_t pid)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/%ld/fd", (long)pid);
    return count_dir(p);
}

static size_t pid_maps(pid_t pid)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/%ld/maps", (long)pid);
    return count_lines(p);
}

/* Wait until the daemon's fd and map counts return to a baseline. */
static bool daemon_settles(pid_t pid, size_t fds, size_t maps)
{
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < 3000u) {
        if (pid_fds(pid) == fds && pid_maps(pid) == maps) {
            return true;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "daemon fds %zu (baseline %zu), maps %zu (baseline %zu)\n", pid_fds(pid), fds, pid_maps(pid),
            maps);
    return false;
}

/* ------------------------------------------------------------- front-end */

#define RAM_SIZE (1024u * 1024u)
#define REG_SIZE (RAM_SIZE / 2u)
#define GPA_A UINT64_C(0)
#define GPA_B UINT64_C(0x100000000)
#define QSZ 16u
/* Ring offsets inside region B. */
#define OFF_DESC 0u
#define OFF_AVAIL 0x400u
#define OFF_USED 0x800u
#define OFF_INDIRECT 0x1000u
/* Buffers live in region A. */
#define OFF_BUF 0x10000u

#define F_EVENT_IDX (UINT64_C(1) << 29)
#define F_INDIRECT (UINT64_C(1) << 28)
#define F_VERSION_1 (UINT64_C(1) << 32)

typedef struct fe {
    int sock;
    int memfd;
    uint8_t *ram;       /* front-end mapping: region A at ram, B at ram + REG_SIZE */
    int kick, call, err;
    uint16_t avail_idx;
    uint16_t last_used;
    uint64_t features;
} fe;

static uint8_t *ram_b(fe *f, uint32_t off)
{
    return f->ram + REG_SIZE + off;
}

static uint64_t ua_b(fe *f, uint32_t off)
{
    return (uint64_t)(uintptr_t)ram_b(f, off);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint64_t t0 = now_ms();
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    while (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (now_ms() - t0 > 3000u) {
            close(s);
            return -1;
        }
        sleep_ms(10);
    }
    return s;
}

static void fe_open(fe *f, const char *path)
{
    memset(f, 0, sizeof(*f));
    f->sock = connect_to(path);
    assert_true(f->sock >= 0);
    /* Sealing allowed but no seal added: unsealed, as memory-backend-file gives. */
    f->memfd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(f->memfd >= 0);
    assert_int_equal(ftruncate(f->memfd, RAM_SIZE), 0);
    f->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    assert_true(f->ram != MAP_FAILED);
    f->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    f->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    f->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(f->kick >= 0 && f->call >= 0 && f->err >= 0);
}

static void fe_close(fe *f)
{
    if (f->sock >= 0) {
        close(f->sock);
    }
    munmap(f->ram, RAM_SIZE);
    close(f->memfd);
    close(f->kick);
    close(f->call);
    close(f->err);
    f->sock = -1;
}

/* Send one message (header + payload in one sendmsg, fds attached). */
static int send_raw(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
    struct iovec iov = { (void *)(uintptr_t)buf, len };
    struct msghdr mh;
    union {
        struct cmsghdr a;
        char b[CMSG_SPACE(sizeof(int) * 32)];
    } ctl;
    memset(&mh, 0, sizeof(mh));
    memset(&ctl, 0, sizeof(ctl));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (nfds > 0) {
        struct cmsghdr *cm;
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int send_msg(fe *f, uint32_t req, uint32_t flags, const void *payload, uint32_t len, const int *fds,
                    size_t nfds)
{
    uint8_t buf[VHU_HDR_SIZE + 512];
    put32(buf, req);
    put32(buf + 4, flags);
    put32(buf + 8, len);
    if (len > 0) {
        memcpy(buf + VHU_HDR_SIZE, payload, len);
    }
    return send_raw(f->sock, buf, VHU_HDR_SIZE + len, fds, nfds);
}

/* Read a reply: 0 and *val, -1 on timeout, -2 if the daemon closed. */
static int recv_reply(fe *f, uint32_t req, uint8_t *payload, uint32_t want)
{
    uint8_t hdr[VHU_HDR_SIZE];
    struct pollfd p = { f->sock, POLLIN, 0 };
    ssize_t n;
    if (poll(&p, 1, 3000) != 1) {
        return -1;
    }
    n = recv(f->sock, hdr, sizeof(hdr), MSG_WAITALL);
    if (n <= 0) {
        return -2;
    }
    assert_int_equal(n, (ssize_t)sizeof(hdr));
    assert_int_equal(get32(hdr), req);
    assert_int_equal(get32(hdr + 4), VHU_VERSION | VHU_FLAG_REPLY);
    assert_int_equal(get32(hdr + 8), want);
    n = recv(f->sock, payload, want, MSG_WAITALL);
    assert_int_equal(n, (ssize_t)want);
    return 0;
}

static uint64_t get_u64(fe *f, uint32_t req)
{
    uint8_t p[8];
    assert_int_equal(send_msg(f, req, VHU_VERSION, NULL, 0, NULL, 0), 0);
    assert_int_equal(recv_reply(f, req, p, 8), 0);
    return get64(p);
}

/* A request with NEED_REPLY: returns the ack value (0 = success), or -2 if disconnected. */
static int64_t ack_msg(fe *f, uint32_t req, const void *payload, uint32_t len, const int *fds, size_t nfds)
{
    uint8_t p[8];
    int r;
    assert_int_equal(send_msg(f, req, VHU_VERSION | VHU_FLAG_NEED_REPLY, payload, len, fds, nfds), 0);
    r = recv_reply(f, req, p, 8);
    if (r != 0) {
        return r;
    }
    return (int64_t)get64(p);
}

static void set_u64(fe *f, uint32_t req, uint64_t v)
{
    uint8_t p[8];
    put64(p, v);
    assert_int_equal(ack_msg(f, req, p, 8, NULL, 0), 0);
}

static void state_payload(uint8_t *p, uint32_t idx, uint32_t num)
{
    put32(p, idx);
    put32(p + 4, num);
}

static void mem_payload(fe *f, uint8_t *p, uint32_t *len)
{
    put32(p, 2);
    put32(p + 4, 0);
    put64(p + 8, GPA_A);
    put64(p + 16, REG_SIZE);
    put64(p + 24, (uint64_t)(uintptr_t)f->ram);
    put64(p + 32, 0);
    put64(p + 40, GPA_B);
    put64(p + 48, REG_SIZE);
    put64(p + 56, ua_b(f, 0));
    put64(p + 64, REG_SIZE);
    *len = 8 + 2 * 32;
}

static void addr_payload(uint8_t *p, uint32_t idx, uint64_t desc, uint64_t used, uint64_t avail)
{
    memset(p, 0, 40);
    put32(p, idx);
    put64(p + 8, desc);
    put64(p + 16, used);
    put64(p + 24, avail);
}

/* The sequence QEMU 7.2's vhost-user-rng sends, as far as the ring starts. */
static void fe_negotiate(fe *f, uint64_t want)
{
    uint8_t p[512];
    uint32_t len;
    int fds[2];
    uint64_t feat = get_u64(f, VHU_GET_FEATURES);
    uint64_t pf;
    assert_true((feat & VHU_F_PROTOCOL_FEATURES) != 0);
    assert_true((feat & F_VERSION_1) != 0);
    assert_true((feat & F_EVENT_IDX) != 0);
    assert_true((feat & F_INDIRECT) != 0);
    pf = get_u64(f, VHU_GET_PROTOCOL_FEATURES);
    assert_true((pf & VHU_PF_REPLY_ACK) != 0);
    put64(p, VHU_PF_REPLY_ACK | VHU_PF_MQ);
    assert_int_equal(send_msg(f, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, p, 8, NULL, 0), 0);
    assert_int_equal(get_u64(f, VHU_GET_QUEUE_NUM), 1);
    assert_int_equal(ack_msg(f, VHU_SET_OWNER, NULL, 0, NULL, 0), 0);
    put64(p, 0);
    assert_int_equal(ack_msg(f, VHU_SET_VRING_CALL, p, 8, &f->call, 1), 0);
    put64(p, 0);
    assert_int_equal(ack_msg(f, VHU_SET_VRING_ERR, p, 8, &f->err, 1), 0);
    f->features = want;
    set_u64(f, VHU_SET_FEATURES, want | VHU_F_PROTOCOL_FEATURES);
    mem_payload(f, p, &len);
    fds[0] = f->memfd;
    fds[1] = f->memfd;
    assert_int_equal(ack_msg(f, VHU_SET_MEM_TABLE, p, len, fds, 2), 0);
    state_payload(p, 0, QSZ);
    assert_int_equal(ack_msg(f, VHU_SET_VRING_NUM, p, 8, NULL, 0), 0);
    state_payload(p, 0, f->avail_idx);
    assert_int_equal(ack_msg(f, VHU_SET_VRING_BASE, p, 8, NULL, 0), 0);
    addr_payload(p, 0, ua_b(f, OFF_DESC), ua_b(f, OFF_USED), ua_b(f, OFF_AVAIL));
    assert_int_equal(ack_msg(f, VHU_SET_VRING_ADDR, p, 40, NULL, 0), 0);
}

static void fe_kick_and_enable(fe *f)
{
    uint8_t p[8];
    put64(p, 0);
    assert_int_equal(ack_msg(f, VHU_SET_VRING_KICK, p, 8, &f->kick, 1), 0);
    state_payload(p, 0, 1);
    assert_int_equal(ack_msg(f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 0);
}

static void fe_start(fe *f, const char *path, uint64_t want)
{
    fe_open(f, path);
    fe_negotiate(f, want);
    fe_kick_and_enable(f);
}

/* Driver side of the ring. */
static void set_desc(fe *f, uint8_t *table, uint16_t i, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = table + 16u * i;
    (void)f;
    put64(d, gpa);
    put32(d + 8, len);
    put16(d + 12, flags);
    put16(d + 14, next);
}

static void publish(fe *f, uint16_t head)
{
    uint8_t *avail = ram_b(f, OFF_AVAIL);
    put16(avail + 4 + 2u * (f->avail_idx % QSZ), head);
    f->avail_idx++;
    __atomic_store_n((uint16_t *)(void *)(avail + 2), f->avail_idx, __ATOMIC_RELEASE);
}

static void kick(fe *f)
{
    uint64_t one = 1;
    assert_int_equal(write(f->kick, &one, 8), 8);
}

static uint16_t used_idx(fe *f)
{
    return __atomic_load_n((uint16_t *)(void *)(ram_b(f, OFF_USED) + 2), __ATOMIC_ACQUIRE);
}

/* Wait for the next used element; true with id/len. */
static bool wait_used(fe *f, unsigned ms, uint32_t *id, uint32_t *len)
{
    uint64_t t0 = now_ms();
    while (used_idx(f) == f->last_used) {
        if (now_ms() - t0 > ms) {
            return false;
        }
        sleep_ms(1);
    }
    {
        const uint8_t *e = ram_b(f, OFF_USED) + 4 + 8u * (f->last_used % QSZ);
        *id = get32(e);
        *len = get32(e + 4);
    }
    f->last_used++;
    /* Like Linux: ask for an interrupt at the next completion (EVENT_IDX). */
    put16(ram_b(f, OFF_AVAIL) + 4 + 2u * QSZ, f->last_used);
    return true;
}

static bool wait_call(fe *f, unsigned ms)
{
    struct pollfd p = { f->call, POLLIN, 0 };
    uint64_t v;
    if (poll(&p, 1, (int)ms) != 1) {
        return false;
    }
    return read(f->call, &v, 8) == 8;
}

/* One 64-byte write-only request (what Linux's virtio-rng keeps in flight);
 * checks the daemon filled it and signalled. */
static void request_entropy(fe *f, uint32_t size)
{
    uint8_t *buf = f->ram + OFF_BUF;
    uint32_t id = 0, len = 0;
    uint16_t head = (uint16_t)(f->avail_idx % QSZ);
    memset(buf, 0, size);
    set_desc(f, ram_b(f, OFF_DESC), head, GPA_A + OFF_BUF, size, SVD_VRING_DESC_F_WRITE, 0);
    publish(f, head);
    kick(f);
    assert_true(wait_used(f, 3000, &id, &len));
    assert_int_equal(id, head);
    assert_int_equal(len, size);
    {
        size_t zeros = 0;
        for (uint32_t i = 0; i < size; i++) {
            zeros += buf[i] == 0;
        }
        assert_true(zeros < size / 4u + 2u); /* random bytes, not a zero fill */
    }
    assert_true(wait_call(f, 3000));
}

/* ------------------------------------------------------- shared daemon */

static daemon_proc g_shared;
static char g_s0[300], g_s1[300];
static size_t g_base_fds, g_base_maps;

static int group_setup(void **state)
{
    char base[300];
    const char *args[8];
    const char *waits[3] = { g_s0, g_s1, NULL };
    (void)state;
    path_of(base, sizeof(base), "shared", -1);
    path_of(g_s0, sizeof(g_s0), "shared", 0);
    path_of(g_s1, sizeof(g_s1), "shared", 1);
    args[0] = "--socket-path";
    args[1] = base;
    args[2] = "--socket-count";
    args[3] = "2";
    args[4] = "--log-level";
    args[5] = "debug";
    args[6] = NULL;
    daemon_start(&g_shared, args, waits);
    sleep_ms(50);
    g_base_fds = pid_fds(g_shared.pid);
    g_base_maps = pid_maps(g_shared.pid);
    return g_base_fds > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return daemon_stop(&g_shared, SIGTERM) == 0 ? 0 : -1;
}

static void expect_disconnect(fe *f)
{
    struct pollfd p = { f->sock, POLLIN, 0 };
    char c;
    ssize_t n;
    assert_int_equal(poll(&p, 1, 3000), 1);
    n = recv(f->sock, &c, 1, 0);
    assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
}

/* The other instance keeps serving, and this one accepts a new front-end:
 * the failure stayed inside the connection that caused it. */
static void both_instances_serve(void)
{
    fe a, b;
    fe_start(&b, g_s1, F_VERSION_1);
    request_entropy(&b, 64);
    fe_close(&b);
    fe_start(&a, g_s0, F_VERSION_1);
    request_entropy(&a, 64);
    fe_close(&a);
    assert_true(daemon_settles(g_shared.pid, g_base_fds, g_base_maps));
}

/* REQ: REQ-VHU-001 REQ-VHU-002 REQ-VHU-004.a REQ-VHU-004.c REQ-VHU-006 */
static void test_negotiate_and_entropy_arrives(void **state)
{
    fe f;
    uint8_t p[8];
    (void)state;
    fe_start(&f, g_s0, F_VERSION_1);
    for (int i = 0; i < 5; i++) {
        request_entropy(&f, 64);
    }
    /* GET_VRING_BASE stops the ring and reports the next avail index. */
    state_payload(p, 0, 0);
    assert_int_equal(send_msg(&f, VHU_GET_VRING_BASE, VHU_VERSION, p, 8, NULL, 0), 0);
    assert_int_equal(recv_reply(&f, VHU_GET_VRING_BASE, p, 8), 0);
    assert_int_equal(get32(p), 0);
    assert_int_equal(get32(p + 4), 5);
    /* Stopped: a new request is not served. */
    {
        uint32_t id, len;
        set_desc(&f, ram_b(&f, OFF_DESC), 5, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
        publish(&f, 5);
        kick(&f);
        assert_false(wait_used(&f, 200, &id, &len));
    }
    fe_close(&f);
    assert_true(daemon_settles(g_shared.pid, g_base_fds, g_base_maps));
}

/* REQ: REQ-VHU-003 */
static void test_event_idx_and_indirect(void **state)
{
    fe f;
    uint32_t id = 0, len = 0;
    uint8_t *tbl;
    (void)state;
    fe_start(&f, g_s0, F_VERSION_1 | F_EVENT_IDX | F_INDIRECT);
    request_entropy(&f, 64);
    /* EVENT_IDX: the device asked to be kicked at the next avail index. */
    assert_int_equal(get16(ram_b(&f, OFF_USED) + 4 + 8u * QSZ), f.avail_idx);
    request_entropy(&f, 64);
    assert_int_equal(get16(ram_b(&f, OFF_USED) + 4 + 8u * QSZ), f.avail_idx);
    /* INDIRECT: one head pointing at a table of two writable buffers. */
    tbl = ram_b(&f, OFF_INDIRECT);
    set_desc(&f, tbl, 0, GPA_A + OFF_BUF, 32, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 1);
    set_desc(&f, tbl, 1, GPA_A + OFF_BUF + 0x1000, 96, SVD_VRING_DESC_F_WRITE, 0);
    memset(f.ram + OFF_BUF, 0, 0x2000);
    set_desc(&f, ram_b(&f, OFF_DESC), 7, GPA_B + OFF_INDIRECT, 32, SVD_VRING_DESC_F_INDIRECT, 0);
    publish(&f, 7);
    kick(&f);
    assert_true(wait_used(&f, 3000, &id, &len));
    assert_int_equal(id, 7);
    assert_int_equal(len, 128);
    assert_true(wait_call(&f, 3000));
    {
        size_t z1 = 0, z2 = 0;
        for (int i = 0; i < 32; i++) {
            z1 += f.ram[OFF_BUF + (unsigned)i] == 0;
        }
        for (int i = 0; i < 96; i++) {
            z2 += f.ram[OFF_BUF + 0x1000u + (unsigned)i] == 0;
        }
        assert_true(z1 < 8 && z2 < 24);
        /* Nothing written past the buffers. */
        assert_int_equal(f.ram[OFF_BUF + 32], 0);
        assert_int_equal(f.ram[OFF_BUF + 0x1000 + 96], 0);
    }
    fe_close(&f);
    assert_true(daemon_settles(g_shared.pid, g_base_fds, g_base_maps));
}

/* REQ: REQ-VHU-005 */
static void test_polling_without_kick_fd(void **state)
{
    fe f;
    uint8_t p[8];
    uint32_t id = 0, len = 0;
    (void)state;
    fe_open(&f, g_s0);
    fe_negotiate(&f, F_VERSION_1);
    put64(p, VHU_VRING_NOFD);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_KICK, p, 8, NULL, 0), 0);
    state_payload(p, 0, 1);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 0);
    set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 0); /* no kick */
    assert_true(wait_used(&f, 3000, &id, &len));
    assert_int_equal(len, 64);
    fe_close(&f);
    assert_true(daemon_settles(g_shared.pid, g_base_fds, g_base_maps));
}

/* ------------------------------------------------- malformed messages */

/* REQ: REQ-VHU-010.a REQ-VHU-016.c REQ-VHU-016.d */
static void test_attack_short_header(void **state)
{
    fe f;
    uint8_t six[6] = { 1, 0, 0, 0, 1, 0 };
    (void)state;
    fe_open(&f, g_s0);
    assert_int_equal(send_raw(f.sock, six, sizeof(six), NULL, 0), 0);
    expect_disconnect(&f); /* dropped after the I/O timeout, not hung */
    fe_close(&f);
    /* Half a header, then the peer closes its side: end of stream inside a message. */
    fe_open(&f, g_s0);
    assert_int_equal(send_raw(f.sock, six, sizeof(six), NULL, 0), 0);
    assert_int_equal(shutdown(f.sock, SHUT_WR), 0);
    expect_disconnect(&f);
    fe_close(&f);
    /* A complete header announcing 8 payload bytes, then only 4. */
    fe_open(&f, g_s0);
    {
        uint8_t m[VHU_HDR_SIZE + 4];
        memset(m, 0, sizeof(m));
        put32(m, VHU_SET_FEATURES);
        put32(m + 4, VHU_VERSION);
        put32(m + 8, 8);
        assert_int_equal(send_raw(f.sock, m, sizeof(m), NULL, 0), 0);
    }
    expect_disconnect(&f);
    fe_close(&f);
    both_instances_serve();
}

/* REQ: REQ-VHU-011 REQ-VHU-016.c REQ-VHU-016.d */
/* FM: FM-VHU-001 */
static void test_attack_wrong_payload_size(void **state)
{
    fe f;
    uint8_t p[8] = { 0 };
    (void)state;
    fe_open(&f, g_s0);
    assert_int_equal(send_msg(&f, VHU_SET_FEATURES, VHU_VERSION, p, 4, NULL, 0), 0);
    expect_disconnect(&f);
    fe_close(&f);
    fe_open(&f, g_s0);
    assert_int_equal(send_msg(&f, VHU_GET_FEATURES, VHU_VERSION, p, 8, NULL, 0), 0);
    expect_disconnect(&f);
    fe_close(&f);
    both_instances_serve();
}

/* REQ: REQ-VHU-011 */
static void test_attack_oversized_payload(void **state)
{
    fe f;
    uint8_t h[VHU_HDR_SIZE];
    (void)state;
    fe_open(&f, g_s0);
    put32(h, VHU_SET_MEM_TABLE);
    put32(h + 4, VHU_VERSION);
    put32(h + 8, 1u << 20);
    assert_int_equal(send_raw(f.sock, h, sizeof(h), NULL, 0), 0);
    expect_disconnect(&f);
    fe_close(&f);
    both_instances_serve();
}

/* REQ: REQ-VHU-012 REQ-VHU-017 */
/* FM: FM-VHU-002 */
static void test_attack_too_many_fds(void **state)
{
    fe f;
    uint8_t p[8] = { 0 };
    int many[20];
    (void)state;
    for (int i = 0; i < 20; i++) {
        many[i] = eventfd(0, EFD_CLOEXEC);
    }
    /* A request that carries no fd, with three. */
    fe_open(&f, g_s0);
    assert_int_equal(send_msg(&f, VHU_SET_FEATURES, VHU_VERSION, p, 8, many, 3), 0);
    expect_disconnect(&f);
    fe_close(&f);
    /* More fds than the daemon makes room for. */
    fe_open(&f, g_s0);
    assert_int_equal(send_msg(&f, VHU_GET_FEATURES, VHU_VERSION, NULL, 0, many, 20), 0);
    expect_disconnect(&f);
    fe_close(&f);
    /* A kick with two fds, and a kick with the no-fd bit and an fd anyway. */
    fe_open(&f, g_s0);
    assert_int_equal(send_msg(&f, VHU_SET_VRING_KICK, VHU_VERSION, p, 8, many, 2), 0);
    expect_disconnect(&f);
    fe_close(&f);
    fe_open(&f, g_s0);
    put64(p, VHU_VRING_NOFD);
    assert_int_equal(send_msg(&f, VHU_SET_VRING_CALL, VHU_VERSION, p, 8, many, 1), 0);
    expect_disconnect(&f);
    fe_close(&f);
    /* A memory table with fewer fds than regions. */
    fe_open(&f, g_s0);
    {
        uint8_t m[80];
        uint32_t len;
        mem_payload(&f, m, &len);
        assert_int_equal(send_msg(&f, VHU_SET_MEM_TABLE, VHU_VERSION, m, len, &f.memfd, 1), 0);
    }
    expect_disconnect(&f);
    fe_close(&f);
    for (int i = 0; i < 20; i++) {
        close(many[i]);
    }
    both_instances_serve(); /* includes: fd and map counts back to baseline */
}

/* REQ: REQ-VHU-013 */
static void test_attack_bad_queue_index(void **state)
{
    fe f;
    uint8_t p[8];
    (void)state;
    fe_open(&f, g_s0);
    fe_negotiate(&f, F_VERSION_1);
    /* With NEED_REPLY: refused with an error reply, connection kept. */
    state_payload(p, 1, QSZ);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_NUM, p, 8, NULL, 0), 1);
    state_payload(p, 0xffffffffu, 1);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 1);
    put64(p, 7);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_CALL, p, 8, &f.call, 1), 1);
    assert_true((get_u64(&f, VHU_GET_FEATURES) & F_VERSION_1) != 0);
    /* A GET with a bad index has no way to say "no": disconnect (CVE-2011-2512 class). */
    state_payload(p, 200, 0);
    assert_int_equal(send_msg(&f, VHU_GET_VRING_BASE, VHU_VERSION, p, 8, NULL, 0), 0);
    expect_disconnect(&f);
    fe_close(&f);
    /* Without NEED_REPLY: disconnect. */
    fe_open(&f, g_s0);
    put64(p, 1);
    assert_int_equal(send_msg(&f, VHU_SET_VRING_KICK, VHU_VERSION, p, 8, &f.kick, 1), 0);
    expect_disconnect(&f);
    fe_close(&f);
    both_instances_serve();
}

static void mem_two(uint8_t *p, uint64_t g0, uint64_t s0, uint64_t u0, uint64_t g1, uint64_t s1, uint64_t u1)
{
    put32(p, 2);
    put32(p + 4, 0);
    put64(p + 8, g0);
    put64(p + 16, s0);
    put64(p + 24, u0);
    put64(p + 32, 0);
    put64(p + 40, g1);
    put64(p + 48, s1);
    put64(p + 56, u1);
    put64(p + 64, 0);
}

/* REQ: REQ-VHU-014.a REQ-VHU-014.b REQ-VHU-016.a REQ-VHU-016.c REQ-VHU-016.d */
static void test_attack_bad_regions(void **state)
{
    fe f;
    uint8_t p[80];
    int fds[2];
    uint64_t ua;
    (void)state;
    fe_open(&f, g_s0);
    (void)get_u64(&f, VHU_GET_FEATURES);
    put64(p, VHU_PF_REPLY_ACK);
    assert_int_equal(send_msg(&f, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, p, 8, NULL, 0), 0);
    fds[0] = f.memfd;
    fds[1] = f.memfd;
    ua = (uint64_t)(uintptr_t)f.ram;
    /* Overlapping in guest-physical space. */
    mem_two(p, 0, REG_SIZE, ua, REG_SIZE - 4096, REG_SIZE, ua + REG_SIZE);
    assert_int_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, 72, fds, 2), 1);
    /* Overlapping in front-end address space. */
    mem_two(p, 0, REG_SIZE, ua, GPA_B, REG_SIZE, ua + 4096);
    assert_int_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, 72, fds, 2), 1);
    /* Zero size; wrapping guest range. */
    mem_two(p, 0, 0, ua, GPA_B, REG_SIZE, ua + REG_SIZE);
    assert_int_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, 72, fds, 2), 1);
    mem_two(p, 0, REG_SIZE, ua, UINT64_MAX - 4095, REG_SIZE, ua + REG_SIZE);
    assert_int_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, 72, fds, 2), 1);
    /* A region larger than the file behind it maps, but a fd that cannot be
     * mapped at all (a pipe) is refused. */
    {
        int pp[2];
        int bad[2];
        assert_int_equal(pipe(pp), 0);
        bad[0] = f.memfd;
        bad[1] = pp[0];
        mem_two(p, 0, REG_SIZE, ua, GPA_B, REG_SIZE, ua + REG_SIZE);
        assert_int_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, 72, bad, 2), 1);
        close(pp[0]);
        close(pp[1]);
    }
    /* Nine regions (over the protocol's 8): structural, disconnect. */
    {
        uint8_t big[8 + 9 * 32];
        int nine[9];
        memset(big, 0, sizeof(big));
        put32(big, 9);
        for (int i = 0; i < 9; i++) {
            nine[i] = f.memfd;
        }
        assert_int_equal(send_msg(&f, VHU_SET_MEM_TABLE, VHU_VERSION, big, sizeof(big), nine, 8), 0);
    }
    expect_disconnect(&f);
    fe_close(&f);
    both_instances_serve();
}

/* REQ: REQ-VHU-015.a REQ-VHU-015.b REQ-VHU-015.c */
static void test_attack_ring_outside_memory(void **state)
{
    fe f;
    uint8_t p[40];
    uint32_t id, len;
    (void)state;
    fe_open(&f, g_s0);
    fe_negotiate(&f, F_VERSION_1);
    /* Address not in any region. */
    addr_payload(p, 0, 0x1000, ua_b(&f, OFF_USED), ua_b(&f, OFF_AVAIL));
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ADDR, p, 40, NULL, 0), 1);
    /* Used ring starting inside a region but running past its end. */
    addr_payload(p, 0, ua_b(&f, OFF_DESC), ua_b(&f, REG_SIZE - 8), ua_b(&f, OFF_AVAIL));
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ADDR, p, 40, NULL, 0), 0);
    put64(p, 0);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_KICK, p, 8, &f.kick, 1), 0);
    state_payload(p, 0, 1);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 1);
    /* Misaligned descriptor table: refused by the queue engine at start. */
    state_payload(p, 0, 0);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 0);
    addr_payload(p, 0, ua_b(&f, OFF_DESC + 8), ua_b(&f, OFF_USED), ua_b(&f, OFF_AVAIL));
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ADDR, p, 40, NULL, 0), 0);
    state_payload(p, 0, 1);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 1);
    /* Nothing is served from a refused ring. */
    set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 0);
    kick(&f);
    assert_false(wait_used(&f, 200, &id, &len));
    /* Ring size not a power of two. */
    state_payload(p, 0, 0);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 0);
    state_payload(p, 0, 24);
    assert_int_equal(ack_msg(&f, VHU_SET_VRING_NUM, p, 8, NULL, 0), 1);
    fe_close(&f);
    both_instances_serve();
}

/* REQ: REQ-VHU-011 REQ-VHU-016.a REQ-VHU-016.c REQ-VHU-016.d */
static void test_attack_bad_flags_and_unknown_request(void **state)
{
    fe f;
    uint8_t p[8] = { 0 };
    (void)state;
    fe_open(&f, g_s0);
    assert_int_equal(send_msg(&f, VHU_GET_FEATURES, 2u, NULL, 0, NULL, 0), 0); /* version 2 */
    expect_disconnect(&f);
    fe_close(&f);
    fe_open(&f, g_s0);
    assert_int_equal(send_msg(&f, VHU_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, NULL, 0, NULL, 0), 0);
    expect_disconnect(&f);
    fe_close(&f);
    fe_open(&f, g_s0);
    put64(p, VHU_PF_REPLY_ACK);
    assert_int_equal(send_msg(&f, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, p, 8, NULL, 0), 0);
    assert_int_equal(ack_msg(&f, 99, NULL, 0, NULL, 0), 1);    /* unknown, asked for a reply */
    assert_int_equal(ack_msg(&f, VHU_SET_LOG_BASE, p, 8, NULL, 0), 1); /* not offered */
    assert_int_equal(send_msg(&f, 99, VHU_VERSION, NULL, 0, NULL, 0), 0);
    expect_disconnect(&f);
    fe_close(&f);
    both_instances_serve();
}

/* REQ: REQ-VHU-018.a REQ-VHU-018.b */
static void test_attack_guest_bad_head_signals_err(void **state)
{
    fe f;
    uint32_t id, len;
    (void)state;
    fe_start(&f, g_s0, F_VERSION_1);
    request_entropy(&f, 64);
    publish(&f, 200); /* head >= queue size */
    kick(&f);
    {
        struct pollfd pf = { f.err, POLLIN, 0 };
        assert_int_equal(poll(&pf, 1, 3000), 1);
    }
    assert_false(wait_used(&f, 100, &id, &len));
    /* The log names the rule the guest broke. */
    assert_true(file_has(g_shared.log, "device needs reset: head_range"));
    fe_close(&f);
    both_instances_serve();
}

/* REQ: REQ-VHU-024 */
/* FM: FM-VHU-003 */
static void test_attack_memory_shrunk_under_daemon(void **state)
{
    fe f;
    (void)state;
    fe_start(&f, g_s0, F_VERSION_1);
    request_entropy(&f, 64);
    /* Publish a request, then shrink guest RAM below the ring: the daemon's
     * next ring access hits pages that no longer exist (SIGBUS). */
    set_desc(&f, ram_b(&f, OFF_DESC), 1, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 1);
    assert_int_equal(ftruncate(f.memfd, 4096), 0);
    kick(&f);
    expect_disconnect(&f);  /* that instance only; the daemon lives on */
    fe_close(&f);
    both_instances_serve();
}

/* ------------------------------------- hostile front-end: fds and timing */

/* CPU time (user + system) the process has used, in clock ticks. */
static unsigned long long cpu_ticks(pid_t pid)
{
    char p[64], buf[1024];
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;
    const char *c;
    snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
    f = fopen(p, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    c = strrchr(buf, ')'); /* the command name may hold spaces */
    assert_non_null(c);
    /* After ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    assert_int_equal(sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st), 2);
    return ut + st;
}

/* CPU the daemon burns over @ms of wall time, in ms. */
static unsigned long long cpu_ms_over(pid_t pid, unsigned ms)
{
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long t0 = cpu_ticks(pid);
    sleep_ms(ms);
    return (cpu_ticks(pid) - t0) * 1000u / (unsigned long long)(hz > 0 ? hz : 100);
}

static int64_t set_vring_fd(fe *f, uint32_t req, int fd)
{
    uint8_t p[8];
    put64(p, 0);
    return ack_msg(f, req, p, 8, &fd, 1);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Post one 64-byte request, notify through @kickfd (or not, when -1) and
 * wait up to @ms for it to complete (polling the used ring every 20 us).
 * Returns the latency in microseconds, or -1. */
static int64_t timed_request(fe *f, int kickfd, unsigned ms)
{
    uint32_t id, len;
    uint16_t head = (uint16_t)(f->avail_idx % QSZ);
    uint64_t t0 = now_us();
    uint64_t one = 1;
    const uint8_t *e;
    set_desc(f, ram_b(f, OFF_DESC), head, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(f, head);
    if (kickfd >= 0 && write(kickfd, &one, 8) != 8) {
        return -1;
    }
    while (used_idx(f) == f->last_used) {
        struct timespec ts = { 0, 20000 };
        if (now_us() - t0 > (uint64_t)ms * 1000u) {
            return -1;
        }
        nanosleep(&ts, NULL);
    }
    e = ram_b(f, OFF_USED) + 4 + 8u * (f->last_used % QSZ);
    id = get32(e);
    len = get32(e + 4);
    f->last_used++;
    put16(ram_b(f, OFF_AVAIL) + 4 + 2u * QSZ, f->last_used);
    if (id != head || len != 64) {
        return -1;
    }
    return (int64_t)(now_us() - t0);
}

/* Fault: a kick fd that hangs up (a pipe whose writer closed, a socket whose
 * peer closed) made epoll report it for ever and the daemon spin at 100% CPU.
 * Now the fd is dropped and the ring stops; a new kick starts it again.
 * REQ: REQ-VHU-040 */
static void test_attack_kick_hangup_no_busy_loop(void **state)
{
    fe f;
    int pp[2], sv[2];
    unsigned long long cpu;
    (void)state;
    for (int k = 0; k < 2; k++) {
        int wr;
        fe_open(&f, g_s0);
        fe_negotiate(&f, F_VERSION_1);
        if (k == 0) {
            assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
            assert_int_equal(set_vring_fd(&f, VHU_SET_VRING_KICK, pp[0]), 0);
            close(pp[0]);
            wr = pp[1];
        } else {
            assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
            assert_int_equal(set_vring_fd(&f, VHU_SET_VRING_KICK, sv[0]), 0);
            close(sv[0]);
            wr = sv[1];
        }
        {
            uint8_t p[8];
            state_payload(p, 0, 1);
            assert_int_equal(ack_msg(&f, VHU_SET_VRING_ENABLE, p, 8, NULL, 0), 0);
        }
        /* The pipe/socket works as a kick... */
        assert_true(timed_request(&f, wr, 3000) >= 0);
        /* ...then its writer goes away. */
        close(wr);
        cpu = cpu_ms_over(g_shared.pid, 1000);
        fprintf(stderr, "kick %s hung up: daemon used %llu ms of CPU in 1000 ms\n", k == 0 ? "pipe" : "socket", cpu);
        assert_true(cpu < 200u);
        /* The ring stopped with the kick; a new kick fd starts it again and the
         * request posted meanwhile is served. */
        assert_int_equal(set_vring_fd(&f, VHU_SET_VRING_KICK, f.kick), 0);
        assert_true(timed_request(&f, f.kick, 3000) >= 0);
        fe_close(&f);
    }
    both_instances_serve();
}

/* Fault: a blocking pipe as the call fd, never read, blocked the daemon in
 * write() once the pipe was full (513 completions with a 4 KiB pipe): every
 * instance stopped. Now the fd is non-blocking and a full pipe means "already
 * signalled". A call pipe whose reader is gone is dropped; the ring serves on.
 * REQ: REQ-VHU-041.a REQ-VHU-041.b */
static void test_attack_call_pipe_never_read(void **state)
{
    fe f;
    int pp[2];
    int done = 0;
    (void)state;
    fe_open(&f, g_s0);
    fe_negotiate(&f, F_VERSION_1);
    assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
    assert_true(fcntl(pp[1], F_SETPIPE_SZ, 4096) >= 4096);
    assert_int_equal(set_vring_fd(&f, VHU_SET_VRING_CALL, pp[1]), 0);
    fe_kick_and_enable(&f);
    for (; done < 1200; done++) {
        if (timed_request(&f, f.kick, 3000) < 0) {
            break;
        }
    }
    if (done < 1200) {
        /* Unblock a daemon stuck in write() so the suite can go on. */
        char junk[4096];
        fprintf(stderr, "call pipe: the daemon stopped after %d completions\n", done);
        while (read(pp[0], junk, sizeof(junk)) == (ssize_t)sizeof(junk)) {
        }
    }
    assert_int_equal(done, 1200);
    /* The other instance was never held up. */
    {
        fe b;
        fe_start(&b, g_s1, F_VERSION_1);
        request_entropy(&b, 64);
        fe_close(&b);
    }
    /* A call pipe whose reader is gone (EPIPE): dropped and logged once
     * (not at each of the completions after it), the ring serves on. */
    const size_t drops0 = file_count(g_shared.log, "call fd cannot be written (Broken pipe): dropped");
    close(pp[0]);
    for (int i = 0; i < 3; i++) {
        assert_true(timed_request(&f, f.kick, 3000) >= 0);
    }
    assert_int_equal(file_count(g_shared.log, "call fd cannot be written (Broken pipe): dropped"), drops0 + 1u);
    close(pp[1]);
    fe_close(&f);
    both_instances_serve();
}

/* The trickling peer for test_attack_trickle_*: mode 0 sends a 20-byte
 * SET_FEATURES one byte every 600 ms; mode 1 sends half a header, waits to be
 * dropped, and does it again, for @ms. Exit status: 0 when the daemon dropped
 * it within 2.5 s of each message's first byte, 1 otherwise. */
static void trickler(const char *path, int mode, unsigned ms)
{
    uint8_t m[20];
    uint64_t t_end = now_ms() + ms;
    int bad = 0;
    memset(m, 0, sizeof(m));
    put32(m, VHU_SET_FEATURES);
    put32(m + 4, VHU_VERSION);
    put32(m + 8, 8);
    while (now_ms() < t_end) {
        int s = connect_to(path);
        uint64_t t0 = now_ms();
        bool dropped = false;
        if (s < 0) {
            _exit(2);
        }
        for (size_t i = 0; i < (mode == 0 ? sizeof(m) : 6u) && !dropped; i++) {
            struct pollfd p = { s, POLLIN, 0 };
            if (send(s, &m[i], 1, MSG_NOSIGNAL) != 1) {
                dropped = true;
                break;
            }
            /* Wait up to 600 ms between bytes, watching for the hang-up. */
            if (poll(&p, 1, 600) == 1) {
                char c;
                dropped = recv(s, &c, 1, MSG_DONTWAIT) <= 0;
            }
        }
        while (!dropped && now_ms() - t0 < 5000u) {
            struct pollfd p = { s, POLLIN, 0 };
            char c;
            if (poll(&p, 1, 100) == 1) {
                dropped = recv(s, &c, 1, MSG_DONTWAIT) <= 0;
            }
        }
        if (!dropped || now_ms() - t0 > 2500u) {
            bad = 1;
        }
        close(s);
        if (mode == 0) {
            break;
        }
    }
    _exit(bad);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Latency of requests on @f for @ms: median and maximum (us); a request that
 * does not complete within 15 s counts as 15 s. */
static void latency_over(fe *f, unsigned ms, int64_t *median, int64_t *max)
{
    int64_t lat[4096];
    size_t n = 0;
    uint64_t t_end = now_ms() + ms;
    while (now_ms() < t_end && n < sizeof(lat) / sizeof(lat[0])) {
        int64_t l = timed_request(f, f->kick, 15000);
        lat[n++] = l < 0 ? 15000000 : l;
        sleep_ms(5);
    }
    qsort(lat, n, sizeof(lat[0]), cmp_i64);
    *median = lat[n / 2];
    *max = lat[n - 1];
}

/* Fault: the 1 s timeout applied per recv(), not per message, and reads
 * blocked the loop: a peer sending a byte every 0.6 s held every other
 * instance for 11 s; repeated half headers stalled them 3-9 s. Now each
 * connection is read non-blocking into its own buffer, and a message must be
 * complete 1 s after its first byte. The other instance keeps its latency.
 * REQ: REQ-VHU-042 REQ-VHU-010.a REQ-VHU-010.b */
/* FM: FM-VHU-004 */
/* DFA: DFA-002 */
static void test_attack_trickle_does_not_stall_other_instance(void **state)
{
    fe f;
    int64_t idle_med, idle_max, med[2], max[2];
    bool dropped[2];
    (void)state;
    fe_start(&f, g_s0, F_VERSION_1);
    latency_over(&f, 1000, &idle_med, &idle_max);
    for (int mode = 0; mode < 2; mode++) {
        int st = 0;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            trickler(g_s1, mode, 3000);
        }
        sleep_ms(50);
        latency_over(&f, 3000, &med[mode], &max[mode]);
        waitpid(pid, &st, 0);
        dropped[mode] = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        fprintf(stderr, "trickle mode %d: peer %s\n", mode, dropped[mode] ? "dropped within 2.5 s" : "NOT dropped in time");
    }
    fprintf(stderr,
            "latency of instance 0 (us): idle median %lld max %lld; while instance 1 trickles one byte per 600 ms: "
            "median %lld max %lld; while it repeats half headers: median %lld max %lld\n",
            (long long)idle_med, (long long)idle_max, (long long)med[0], (long long)max[0], (long long)med[1],
            (long long)max[1]);
    assert_true(dropped[0] && dropped[1]);
    assert_true(max[0] < 250000);
    assert_true(max[1] < 250000);
    fe_close(&f);
    both_instances_serve();
}

/* Fault: a SET_MEM_TABLE answered "refused" (the running ring does not fit
 * the new table) still installed the table and stopped the ring. Now the ring
 * is checked against the new table before anything changes. The same for a
 * kick fd that cannot be watched: it was acknowledged; now it is refused and
 * the old kick stays.
 * REQ: REQ-VHU-043.a REQ-VHU-043.b REQ-VHU-043.c REQ-VHU-044 REQ-VHU-014.c */
static void test_attack_refused_request_changes_nothing(void **state)
{
    fe f;
    uint8_t p[80];
    int fds[2];
    char file[300];
    int reg;
    (void)state;
    fe_start(&f, g_s0, F_VERSION_1);
    request_entropy(&f, 64);
    /* A table with region A only: the ring (in region B) would not fit. */
    put32(p, 1);
    put32(p + 4, 0);
    put64(p + 8, GPA_A);
    put64(p + 16, REG_SIZE);
    put64(p + 24, (uint64_t)(uintptr_t)f.ram);
    put64(p + 32, 0);
    fds[0] = f.memfd;
    assert_int_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, 40, fds, 1), 1);
    /* Refused, and nothing changed: the ring runs on the old table. */
    request_entropy(&f, 64);
    /* The same table moved so the ring's user address maps to no region. */
    mem_two(p, 0, REG_SIZE, (uint64_t)(uintptr_t)f.ram, GPA_B, REG_SIZE, (uint64_t)(uintptr_t)f.ram + 2 * REG_SIZE);
    fds[0] = f.memfd;
    fds[1] = f.memfd;
    assert_int_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, 72, fds, 2), 1);
    request_entropy(&f, 64);
    /* A kick fd epoll cannot watch (a regular file): refused, old kick kept. */
    path_of(file, sizeof(file), "kickfile", -1);
    reg = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(reg >= 0);
    assert_int_equal(set_vring_fd(&f, VHU_SET_VRING_KICK, reg), 1);
    close(reg);
    unlink(file);
    request_entropy(&f, 64);
    fe_close(&f);
    both_instances_serve();
}

/* A front-end that sends requests and never reads the replies: the daemon
 * never waits for room to send; when a reply does not fit, the connection
 * ends.
 * REQ: REQ-VHU-042 */
static void test_attack_replies_never_read(void **state)
{
    fe f;
    uint8_t h[VHU_HDR_SIZE];
    bool dropped = false;
    (void)state;
    fe_open(&f, g_s0);
    put32(h, VHU_GET_FEATURES);
    put32(h + 4, VHU_VERSION);
    put32(h + 8, 0);
    for (int i = 0; i < 200000 && !dropped; i++) {
        struct pollfd p = { f.sock, POLLOUT, 0 };
        if (poll(&p, 1, 2000) != 1 || (p.revents & (POLLERR | POLLHUP)) != 0 ||
            send(f.sock, h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h)) {
            dropped = true;
        }
    }
    assert_true(dropped);
    fe_close(&f);
    both_instances_serve();
}

/* The daemon runs confined (seccomp filter mode, no_new_privs) while it
 * serves every other test of this group; SIGUSR1 logs its counters.
 * REQ: REQ-VHU-050 REQ-VHU-060 */
static void test_sandboxed_and_counters_on_sigusr1(void **state)
{
    char p[64], line[1024];
    FILE *st;
    int seccomp = -1, nnp = -1;
    fe f;
    (void)state;
    snprintf(p, sizeof(p), "/proc/%ld/status", (long)g_shared.pid);
    st = fopen(p, "r");
    assert_non_null(st);
    while (fgets(line, sizeof(line), st) != NULL) {
        (void)sscanf(line, "Seccomp: %d", &seccomp);
        (void)sscanf(line, "NoNewPrivs: %d", &nnp);
    }
    fclose(st);
    assert_int_equal(seccomp, 2); /* SECCOMP_MODE_FILTER */
    assert_int_equal(nnp, 1);
    fe_start(&f, g_s0, F_VERSION_1);
    for (int i = 0; i < 3; i++) {
        request_entropy(&f, 64);
    }
    assert_int_equal(kill(g_shared.pid, SIGUSR1), 0);
    {
        uint64_t t0 = now_ms();
        bool seen = false;
        while (!seen && now_ms() - t0 < 3000u) {
            FILE *lg = fopen(g_shared.log, "r");
            assert_non_null(lg);
            while (fgets(line, sizeof(line), lg) != NULL) {
                if (strstr(line, "vhost-user-entropy[0]: stats: connected 1, ring running, requests ") != NULL &&
                    strstr(line, "protocol errors: framing ") != NULL && strstr(line, "fd-lost ") != NULL) {
                    seen = true;
                }
            }
            fclose(lg);
            sleep_ms(20);
        }
        assert_true(seen);
    }
    fe_close(&f);
    assert_true(daemon_settles(g_shared.pid, g_base_fds, g_base_maps));
}

/* ------------------------------------------------------------ lifecycle */

/* The start sequence QEMU 7.2's vhost-user-rng sends after it reconnects:
 * no GET_FEATURES, no protocol negotiation, no SET_OWNER (it keeps what it
 * learnt on the first connection), NEED_REPLY on the messages it waits for. */
static void fe_restart_like_qemu(fe *f, uint64_t want)
{
    uint8_t p[512];
    uint32_t len;
    int fds[2] = { f->memfd, f->memfd };
    set_u64(f, VHU_SET_FEATURES, want | VHU_F_PROTOCOL_FEATURES);
    mem_payload(f, p, &len);
    assert_int_equal(ack_msg(f, VHU_SET_MEM_TABLE, p, len, fds, 2), 0);
    state_payload(p, 0, QSZ);
    assert_int_equal(send_msg(f, VHU_SET_VRING_NUM, VHU_VERSION, p, 8, NULL, 0), 0);
    state_payload(p, 0, f->avail_idx);
    assert_int_equal(send_msg(f, VHU_SET_VRING_BASE, VHU_VERSION, p, 8, NULL, 0), 0);
    addr_payload(p, 0, ua_b(f, OFF_DESC), ua_b(f, OFF_USED), ua_b(f, OFF_AVAIL));
    assert_int_equal(send_msg(f, VHU_SET_VRING_ADDR, VHU_VERSION, p, 40, NULL, 0), 0);
    put64(p, 0);
    assert_int_equal(send_msg(f, VHU_SET_VRING_KICK, VHU_VERSION, p, 8, &f->kick, 1), 0);
    put64(p, 0);
    assert_int_equal(send_msg(f, VHU_SET_VRING_CALL, VHU_VERSION, p, 8, &f->call, 1), 0);
    state_payload(p, 0, 1);
    assert_int_equal(send_msg(f, VHU_SET_VRING_ENABLE, VHU_VERSION, p, 8, NULL, 0), 0);
}

/* REQ: REQ-VHU-020 REQ-VHU-016.b */
/* FM: FM-VHU-007 */
static void test_reconnect_resumes(void **state)
{
    fe f;
    uint8_t p[8];
    uint16_t avail;
    (void)state;
    fe_start(&f, g_s1, F_VERSION_1 | F_EVENT_IDX);
    request_entropy(&f, 64);
    request_entropy(&f, 64);
    avail = f.avail_idx;
    /* The back-end side goes away mid-session (here: the front-end closes). */
    fe_close(&f);
    /* A new connection on the same socket, resumed the way QEMU 7.2 does. */
    fe_open(&f, g_s1);
    f.avail_idx = avail;
    f.last_used = avail;
    /* Guest RAM keeps its ring across a back-end restart. */
    put16(ram_b(&f, OFF_USED) + 2, avail);
    put16(ram_b(&f, OFF_AVAIL) + 2, avail);
    put16(ram_b(&f, OFF_AVAIL) + 4 + 2u * QSZ, avail);
    fe_restart_like_qemu(&f, F_VERSION_1 | F_EVENT_IDX);
    request_entropy(&f, 64);
    state_payload(p, 0, 0);
    assert_int_equal(send_msg(&f, VHU_GET_VRING_BASE, VHU_VERSION, p, 8, NULL, 0), 0);
    assert_int_equal(recv_reply(&f, VHU_GET_VRING_BASE, p, 8), 0);
    assert_int_equal(get32(p + 4), avail + 1u);
    fe_close(&f);
    assert_true(daemon_settles(g_shared.pid, g_base_fds, g_base_maps));
}

/* SIGHUP and SIGQUIT used to kill the daemon and leave the socket files.
 * REQ: REQ-VHU-021 REQ-VHU-022 */
static void test_shutdown_signals_clean_up(void **state)
{
    static const int sigs[4] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
    (void)state;
    for (int k = 0; k < 4; k++) {
        daemon_proc d;
        char base[300], s0[300], s1[300];
        const char *waits[3] = { s0, s1, NULL };
        const char *args[] = { "--socket-path", base, "--socket-count", "2", NULL };
        fe f;
        int st;
        struct stat sb;
        path_of(base, sizeof(base), "term", -1);
        path_of(s0, sizeof(s0), "term", 0);
        path_of(s1, sizeof(s1), "term", 1);
        daemon_start(&d, args, waits);
        fe_start(&f, s0, F_VERSION_1);
        request_entropy(&f, 64);
        st = daemon_stop(&d, sigs[k]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_not_equal(stat(s0, &sb), 0);
        assert_int_not_equal(stat(s1, &sb), 0);
        fe_close(&f);
    }
}

/* REQ: REQ-VHU-007 REQ-VHU-023 */
static void test_source_failure_keeps_request_pending(void **state)
{
    daemon_proc d;
    char base[300], fifo[300];
    const char *waits[2] = { base, NULL };
    const char *args[] = { "--socket-path", base, "--source", fifo, NULL };
    uint8_t pattern[64];
    uint8_t p[8];
    uint32_t id = 0, len = 0;
    int w;
    fe f;
    (void)state;
    path_of(base, sizeof(base), "src", -1);
    path_of(fifo, sizeof(fifo), "src.fifo", -1);
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    daemon_start(&d, args, waits);
    fe_start(&f, base, F_VERSION_1);
    set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 0);
    kick(&f);
    /* The source has nothing: no fake fill, the request waits. */
    assert_false(wait_used(&f, 300, &id, &len));
    w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(w >= 0);
    /* The health tests' start-up test takes the first 1024 bytes; they never
     * reach the guest. */
    {
        uint8_t startup[1024];
        assert_int_equal(getrandom(startup, sizeof(startup), 0), (ssize_t)sizeof(startup));
        assert_int_equal(write(w, startup, sizeof(startup)), (ssize_t)sizeof(startup));
    }
    for (int i = 0; i < 64; i++) {
        pattern[i] = (uint8_t)(i * 7 + 3);
    }
    assert_int_equal(write(w, pattern, 64), 64);
    /* The retry timer picks it up without another kick. */
    assert_true(wait_used(&f, 3000, &id, &len));
    assert_int_equal(len, 64);
    assert_memory_equal(f.ram + OFF_BUF, pattern, 64);
    /* A second request pending when the ring stops is handed back: the
     * reported base excludes it, so the next start serves it again. */
    set_desc(&f, ram_b(&f, OFF_DESC), 1, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 1);
    kick(&f);
    assert_false(wait_used(&f, 200, &id, &len));
    state_payload(p, 0, 0);
    assert_int_equal(send_msg(&f, VHU_GET_VRING_BASE, VHU_VERSION, p, 8, NULL, 0), 0);
    assert_int_equal(recv_reply(&f, VHU_GET_VRING_BASE, p, 8), 0);
    assert_int_equal(get32(p + 4), 1);
    close(w);
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    unlink(fifo);
}

/* --source /dev/zero used to feed zeros to the guest. The health tests
 * catch it: no request is ever completed, the failure is logged once and the
 * counters show it.
 * REQ: REQ-VHU-061 REQ-HLT-004 REQ-ENT-031 */
/* FM: FM-VHU-006 */
/* DFA: DFA-005 */
static void test_source_dev_zero_caught_by_health_tests(void **state)
{
    daemon_proc d;
    char base[300], line[512];
    const char *waits[2] = { base, NULL };
    const char *args[] = { "--socket-path", base, "--source", "/dev/zero", NULL };
    uint32_t id, len;
    size_t failed_lines = 0;
    bool stats_seen = false;
    FILE *lg;
    fe f;
    (void)state;
    path_of(base, sizeof(base), "zero", -1);
    daemon_start(&d, args, waits);
    fe_start(&f, base, F_VERSION_1);
    memset(f.ram + OFF_BUF, 0xee, 64);
    set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 0);
    kick(&f);
    /* Many retries (every 10 ms), never a completion, the buffer untouched. */
    assert_false(wait_used(&f, 600, &id, &len));
    for (int i = 0; i < 64; i++) {
        assert_int_equal(f.ram[OFF_BUF + (unsigned)i], 0xee);
    }
    assert_int_equal(kill(d.pid, SIGUSR1), 0);
    sleep_ms(200);
    lg = fopen(d.log, "r");
    assert_non_null(lg);
    while (fgets(line, sizeof(line), lg) != NULL) {
        failed_lines += strstr(line, "source health test failed (repetition count)") != NULL;
        if (strstr(line, "stats:") != NULL && strstr(line, "requests 0,") != NULL &&
            strstr(line, "health failed, health failures ") != NULL) {
            stats_seen = true;
        }
    }
    fclose(lg);
    assert_int_equal(failed_lines, 1); /* logged once, not at every retry */
    assert_true(stats_seen);
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* REQ: REQ-VHU-008 */
static void test_rate_limit_bytes(void **state)
{
    daemon_proc d;
    char base[300];
    const char *waits[2] = { base, NULL };
    const char *args[] = { "--socket-path", base, "--rate-bytes", "6400", NULL };
    fe f;
    uint64_t t0, dt;
    (void)state;
    path_of(base, sizeof(base), "rate", -1);
    daemon_start(&d, args, waits);
    fe_start(&f, base, F_VERSION_1);
    t0 = now_ms();
    /* 3200 bytes at 6400 B/s with a 640-byte bucket: about 0.4 s. */
    for (int i = 0; i < 50; i++) {
        request_entropy(&f, 64);
    }
    dt = now_ms() - t0;
    fprintf(stderr, "rate limit: 3200 bytes at --rate-bytes 6400 took %llu ms\n", (unsigned long long)dt);
    assert_true(dt >= 300u && dt <= 900u);
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* REQ: REQ-VHU-008 */
static void test_rate_limit_ops(void **state)
{
    daemon_proc d;
    char base[300];
    const char *waits[2] = { base, NULL };
    const char *args[] = { "--socket-path", base, "--rate-ops", "5", NULL };
    fe f;
    uint64_t t0, dt;
    (void)state;
    path_of(base, sizeof(base), "ops", -1);
    daemon_start(&d, args, waits);
    fe_start(&f, base, F_VERSION_1);
    t0 = now_ms();
    /* 5 requests/s with a one-request bucket: 1 at once, then one per 200 ms. */
    for (int i = 0; i < 4; i++) {
        request_entropy(&f, 64);
    }
    dt = now_ms() - t0;
    fprintf(stderr, "rate limit: 4 requests at --rate-ops 5 took %llu ms\n", (unsigned long long)dt);
    assert_true(dt >= 500u && dt <= 1000u);
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* ------------------------------------------------------------------ CLI */

/* Run the daemon to completion; returns the exit status, output in out. */
static int run_cli(const char *const *args, char *out, size_t outlen)
{
    char log[300];
    const char *argv[16];
    size_t n = 0;
    pid_t pid;
    int st = 0;
    FILE *f;
    snprintf(log, sizeof(log), "%s/cli.log", g_tmp);
    argv[n++] = g_daemon;
    for (size_t i = 0; args[i] != NULL && n < 15; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        alarm(5);
        execv(g_daemon, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    f = fopen(log, "r");
    assert_non_null(f);
    n = fread(out, 1, outlen - 1, f);
    out[n] = '\0';
    fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void cli_bad(const char *const *args, const char *opt, const char *val)
{
    char out[2048];
    int rc = run_cli(args, out, sizeof(out));
    if (rc != 2 || strstr(out, opt) == NULL || (val != NULL && strstr(out, val) == NULL)) {
        fprintf(stderr, "status %d, output:\n%s\n", rc, out);
    }
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, opt));
    if (val != NULL) {
        assert_non_null(strstr(out, val));
    }
}

/* REQ: REQ-VHU-030 REQ-VHU-031 REQ-VHU-046.b */
static void test_cli_help_version_and_errors(void **state)
{
    char out[4096];
    char longp[200];
    (void)state;
    {
        const char *a[] = { "--help", NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "--socket-path"));
        assert_non_null(strstr(out, "--socket-count"));
        assert_non_null(strstr(out, "--rate-bytes"));
        assert_non_null(strstr(out, "--rate-ops"));
        assert_non_null(strstr(out, "--log-level"));
    }
    {
        const char *a[] = { "--version", NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "vhost-user-entropy"));
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--socket-count", "0", NULL };
        cli_bad(a, "--socket-count", "'0'");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--socket-count", "3x", NULL };
        cli_bad(a, "--socket-count", "'3x'");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--socket-count", "65", NULL };
        cli_bad(a, "--socket-count", "'65'");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-bytes", "-5", NULL };
        cli_bad(a, "--rate-bytes", "'-5'");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-bytes", "99999999999999999999", NULL };
        cli_bad(a, "--rate-bytes", "'99999999999999999999'");
    }
    {
        /* The core's rate range: 2^30 is the largest rate. */
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-bytes", "1073741825", NULL };
        cli_bad(a, "--rate-bytes", "0 (unlimited) to 1073741824");
    }
    {
        /* The one number grammar: 0x hex is a number (the complaint is about
         * the burst that lacks its rate, not about the hex value). */
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-bytes", "0x4000", "--rate-ops-burst", "3", NULL };
        cli_bad(a, "--rate-ops-burst", "needs --rate-ops");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-burst", "64", NULL };
        cli_bad(a, "--rate-burst", "needs --rate-bytes");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-ops", "fast", NULL };
        cli_bad(a, "--rate-ops", "'fast'");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-burst", "", NULL };
        cli_bad(a, "--rate-burst", "''");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--rate-ops-burst", "1e3", NULL };
        cli_bad(a, "--rate-ops-burst", "'1e3'");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--log-level", "loud", NULL };
        cli_bad(a, "--log-level", "'loud'");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--bogus", NULL };
        cli_bad(a, "--bogus", NULL);
    }
    {
        const char *a[] = { "--socket-count", "2", NULL };
        cli_bad(a, "--socket-path", NULL);
    }
    {
        const char *a[] = { "--socket-path", NULL };
        cli_bad(a, "--socket-path", NULL);
    }
    {
        memset(longp, 'a', sizeof(longp) - 1);
        longp[0] = '/';
        longp[sizeof(longp) - 1] = '\0';
        {
            const char *a[] = { "--socket-path", longp, NULL };
            cli_bad(a, "--socket-path", "too long");
        }
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "stray", NULL };
        cli_bad(a, "stray", NULL);
    }
    {
        const char *a[] = { "--socket-path", "/nonexistent-dir/x", NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "/nonexistent-dir/x"));
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--source", "/nonexistent-dir/src", NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "/nonexistent-dir/src"));
    }
}

/* REQ: REQ-VHU-021 */
static void test_socket_path_stale_socket_replaced_other_file_kept(void **state)
{
    char path[300];
    char out[2048];
    struct sockaddr_un sa;
    struct stat st;
    int s;
    daemon_proc d;
    const char *waits[2] = { path, NULL };
    const char *args[] = { "--socket-path", path, NULL };
    (void)state;
    /* A regular file at the path is not ours to remove: exit 1, file intact. */
    path_of(path, sizeof(path), "plainfile", -1);
    s = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(s >= 0);
    assert_int_equal(write(s, "keep", 4), 4);
    close(s);
    assert_int_equal(run_cli(args, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "is a regular file, not a socket: left alone"));
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode) && st.st_size == 4);
    /* A symbolic link (even to a socket) is not followed or removed. */
    {
        char link[300];
        path_of(link, sizeof(link), "plainlink", -1);
        unlink(link);
        assert_int_equal(symlink(path, link), 0);
        {
            const char *la[] = { "--socket-path", link, NULL };
            assert_int_equal(run_cli(la, out, sizeof(out)), 1);
        }
        assert_non_null(strstr(out, "is a symbolic link, not a socket"));
        assert_int_equal(lstat(link, &st), 0);
        unlink(link);
    }
    unlink(path);
    /* A stale socket left by a killed daemon is replaced (this daemon runs
     * with --no-sandbox, the debugging switch, which must work too). */
    path_of(path, sizeof(path), "stale", -1);
    unlink(path);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1u);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s);
    {
        const char *nsargs[] = { "--socket-path", path, "--no-sandbox", NULL };
        daemon_start(&d, nsargs, waits);
    }
    {
        fe f;
        fe_start(&f, path, F_VERSION_1);
        request_entropy(&f, 64);
        fe_close(&f);
    }
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_int_not_equal(stat(path, &st), 0);
}

/* Fault: a second daemon started on the path of a running one deleted the
 * live socket and bound its own; the first ran on, unreachable. Now a live
 * socket is refused (exit 1, the message says so) and the first daemon keeps
 * its path.
 * REQ: REQ-VHU-045 REQ-VHU-021 */
static void test_socket_live_not_taken_over(void **state)
{
    char path[300];
    char out[2048];
    daemon_proc d;
    const char *waits[2] = { path, NULL };
    const char *args[] = { "--socket-path", path, NULL };
    fe f;
    int rc;
    (void)state;
    path_of(path, sizeof(path), "live", -1);
    unlink(path);
    daemon_start(&d, args, waits);
    fe_start(&f, path, F_VERSION_1); /* listening for sure */
    fe_close(&f);
    rc = run_cli(args, out, sizeof(out));
    if (rc != 1 || strstr(out, "live socket") == NULL) {
        fprintf(stderr, "second daemon: status %d, output:\n%s\n", rc, out);
    }
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, path));
    assert_non_null(strstr(out, "live socket of a running back-end"));
    /* The first daemon is still reachable on its path. */
    fe_start(&f, path, F_VERSION_1);
    request_entropy(&f, 64);
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* REQ: REQ-VHU-046.b */
static void test_source_unreadable_refused_at_start(void **state)
{
    char out[2048];
    const char *a[] = { "--socket-path", "/tmp/x-src", "--source", "/tmp", NULL };
    (void)state;
    assert_int_equal(run_cli(a, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "'/tmp'"));
    assert_non_null(strstr(out, "a directory"));
}

/* vhost-user back-end conventions: --print-capabilities prints the JSON
 * (ignoring the other arguments) and --fd serves an inherited listening
 * socket, which the daemon never unlinks. A hang-up on that socket (the
 * parent shuts it down) is handled, not spun on.
 * REQ: REQ-VHU-047.a REQ-VHU-047.b REQ-VHU-047.c REQ-VHU-047.d REQ-VHU-040 */
static void test_conventions_print_capabilities_and_fd(void **state)
{
    char out[2048];
    char path[300], fdarg[16];
    struct sockaddr_un sa;
    daemon_proc d;
    int ls;
    struct stat st;
    fe f;
    (void)state;
    {
        const char *a[] = { "--bogus", "--print-capabilities", "stray", NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "\"type\": \"rng\""));
        assert_int_equal(out[0], '{');
    }
    {
        const char *a[] = { "--fd", "3", "--socket-path", "/tmp/x", NULL };
        cli_bad(a, "--fd", NULL);
    }
    {
        const char *a[] = { "--fd", "3", "--socket-count", "2", NULL };
        cli_bad(a, "--fd", "excludes --socket-path and --socket-count");
    }
    {
        const char *a[] = { "--fd", "0", NULL }; /* stdin: not a listening socket */
        assert_int_equal(run_cli(a, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "--fd 0"));
    }
    {
        const char *a[] = { "--fd", "three", NULL };
        cli_bad(a, "--fd", "'three'");
    }
    {
        /* Sockets of the wrong kind: not UNIX, not stream, not listening. */
        static const char *const why[3] = { "not a UNIX domain socket", "not a stream socket", "not listening" };
        for (int k = 0; k < 3; k++) {
            char num[16];
            int s = k == 0 ? socket(AF_INET, SOCK_STREAM, 0)
                           : socket(AF_UNIX, k == 1 ? SOCK_DGRAM : SOCK_STREAM, 0); /* inherited */
            assert_true(s >= 0);
            snprintf(num, sizeof(num), "%d", s);
            {
                const char *a[] = { "--fd", num, NULL };
                assert_int_equal(run_cli(a, out, sizeof(out)), 1);
            }
            assert_non_null(strstr(out, why[k]));
            close(s);
        }
    }
    path_of(path, sizeof(path), "inherited", -1);
    unlink(path);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1u);
    ls = socket(AF_UNIX, SOCK_STREAM, 0); /* inherited: no CLOEXEC */
    assert_true(ls >= 0);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(ls, 1), 0);
    snprintf(fdarg, sizeof(fdarg), "%d", ls);
    {
        const char *a[] = { "--fd", fdarg, NULL };
        daemon_start(&d, a, NULL);
    }
    fe_start(&f, path, F_VERSION_1);
    request_entropy(&f, 64);
    fe_close(&f);
    /* The parent shuts the listening socket down under the daemon. */
    assert_int_equal(shutdown(ls, SHUT_RDWR), 0);
    sleep_ms(100);
    {
        unsigned long long cpu = cpu_ms_over(d.pid, 1000);
        fprintf(stderr, "inherited socket shut down: daemon used %llu ms of CPU in 1000 ms\n", cpu);
        assert_true(cpu < 200u);
    }
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_int_equal(stat(path, &st), 0); /* not the daemon's to remove */
    close(ls);
    unlink(path);
}

/* A system call outside the allow-list is never executed: the daemon writes
 * the audit line and dies by SIGSYS.
 * REQ: REQ-VHU-050 REQ-VHU-051 */
/* FM: FM-VHU-005 */
static void test_sandbox_forbidden_syscall_kills(void **state)
{
    char out[4096];
    char path[300];
    const char *a[] = { "--socket-path", path, "--sandbox-selftest", NULL };
    struct stat st;
    int rc;
    (void)state;
    path_of(path, sizeof(path), "selftest", -1);
    unlink(path);
    rc = run_cli(a, out, sizeof(out));
    if (rc != 128 + SIGSYS) {
        fprintf(stderr, "status %d, output:\n%s\n", rc, out);
    }
    assert_int_equal(rc, 128 + SIGSYS);
    assert_non_null(strstr(out, "sandbox: system call "));
    assert_non_null(strstr(out, "is not in the allow-list: killed by SIGSYS"));
    /* Killed: the socket file stays behind as a stale socket, which the next
     * start replaces. */
    assert_int_equal(stat(path, &st), 0);
    unlink(path);
}

/* --user/--group: set-up as root, the loop as the given user and group.
 * REQ: REQ-VHU-052 */
static void test_user_group_drop_privileges(void **state)
{
    char dir[300], path[330], p[64], line[256];
    daemon_proc d;
    const char *waits[2] = { path, NULL };
    const char *args[] = { "--socket-path", path, "--user", "65534", "--group", "65534", NULL };
    FILE *st;
    unsigned uid = 1, gid = 1;
    struct stat sb;
    fe f;
    (void)state;
    if (geteuid() != 0) {
        skip();
    }
    /* A directory the unprivileged daemon can reach and write (the test
     * tree is root's, mode 0700). */
    snprintf(dir, sizeof(dir), "/tmp/vhu-nobody-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chown(dir, 65534, 65534), 0);
    snprintf(path, sizeof(path), "%s/sock", dir);
    unlink(path);
    daemon_start(&d, args, waits);
    fe_start(&f, path, F_VERSION_1);
    request_entropy(&f, 64);
    snprintf(p, sizeof(p), "/proc/%ld/status", (long)d.pid);
    st = fopen(p, "r");
    assert_non_null(st);
    while (fgets(line, sizeof(line), st) != NULL) {
        (void)sscanf(line, "Uid: %u", &uid);
        (void)sscanf(line, "Gid: %u", &gid);
    }
    fclose(st);
    assert_int_equal(uid, 65534);
    assert_int_equal(gid, 65534);
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_int_not_equal(stat(path, &sb), 0); /* removed by the unprivileged daemon */
    {
        char out[2048];
        const char *bad[] = { "--socket-path", path, "--user", "no-such-user-here", NULL };
        assert_int_equal(run_cli(bad, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "no-such-user-here"));
    }
    rmdir(dir);
}

/* ------------------------------------------------ dispatcher in-process */

static size_t self_fds(void)
{
    return count_dir("/proc/self/fd") - 1u; /* the ls pipe is not ours after pclose */
}

static size_t self_maps(void)
{
    return count_lines("/proc/self/maps");
}

static svd_result fake_source(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    memset(buf, 0x5a, len);
    *got = len;
    return svd_ok();
}

static enum vhu_verdict disp(vhu_dev *d, uint32_t req, uint32_t flags, const uint8_t *p, size_t len,
                             const int *fds_in, size_t nfds, vhu_reply *rep)
{
    int fds[16];
    for (size_t i = 0; i < nfds; i++) {
        fds[i] = dup(fds_in[i]); /* the dispatcher owns what it is given */
    }
    return vhu_dev_handle(d, req, flags, p, len, fds, nfds, rep);
}

/* A local attacker is any process on the host: the socket file is created
 * 0600 (the daemon's user only) whatever umask the daemon was started with,
 * --socket-mode widens it on purpose, and --peer-uid refuses, by the
 * kernel's SO_PEERCRED, a process of another user even if the file's
 * permissions let it connect. The daemon keeps listening after a refusal. */
/* REQ: REQ-VHU-053 REQ-VHU-054 */
/* FM: FM-VHU-008 */
static void test_socket_private_by_default_and_peer_checked(void **state)
{
    char path[300];
    char other[16];
    char mine[16];
    struct stat st;
    daemon_proc d;
    fe f;
    uint8_t p[8];
    const char *waits[2] = { path, NULL };
    const mode_t old = umask(0);
    (void)state;
    path_of(path, sizeof(path), "private", -1);
    unlink(path);
    {
        const char *args[] = { "--socket-path", path, NULL };
        daemon_start(&d, args, waits);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600); /* umask 0 would give 0777 */
        assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    }
    {
        const char *args[] = { "--socket-path", path, "--socket-mode", "0660", NULL };
        daemon_start(&d, args, waits);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0660);
        assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    }
    (void)umask(old);
    snprintf(other, sizeof(other), "%u", (unsigned)getuid() + 1u);
    snprintf(mine, sizeof(mine), "%u", (unsigned)getuid());
    {
        const char *args[] = { "--socket-path", path, "--peer-uid", other, "--log-level", "info", NULL };
        daemon_start(&d, args, waits);
        for (int i = 0; i < 2; i++) { /* refused twice: it listens on after a refusal */
            fe_open(&f, path);
            /* The send may already find the connection closed (EPIPE). */
            (void)send_msg(&f, VHU_GET_FEATURES, VHU_VERSION, NULL, 0, NULL, 0);
            assert_int_equal(recv_reply(&f, VHU_GET_FEATURES, p, 8), -2); /* closed, no reply */
            fe_close(&f);
        }
        assert_int_equal(daemon_stop(&d, SIGTERM), 0);
        assert_true(file_has(d.log, "connection refused: peer uid"));
    }
    {
        const char *args[] = { "--socket-path", path, "--peer-uid", mine, NULL };
        daemon_start(&d, args, waits);
        fe_open(&f, path);
        assert_int_equal(send_msg(&f, VHU_GET_FEATURES, VHU_VERSION, NULL, 0, NULL, 0), 0);
        assert_int_equal(recv_reply(&f, VHU_GET_FEATURES, p, 8), 0);
        fe_close(&f);
        assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    }
    {
        char out[2048];
        const char *bad1[] = { "--socket-path", path, "--socket-mode", "600x", NULL };
        const char *bad2[] = { "--socket-path", path, "--socket-mode", "04755", NULL };
        const char *bad3[] = { "--socket-path", path, "--peer-uid", "-1", NULL };
        assert_int_equal(run_cli(bad1, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "'600x' for option '--socket-mode'"));
        assert_int_equal(run_cli(bad2, out, sizeof(out)), 2);
        assert_int_equal(run_cli(bad3, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "'--peer-uid'"));
        /* Two digits; four without the leading 0 (a setuid, setgid or
         * sticky bit): refused. Three digits are taken: the error that
         * follows is the next option's. */
        const char *bad4[] = { "--socket-path", path, "--socket-mode", "77", NULL };
        const char *bad5[] = { "--socket-path", path, "--socket-mode", "1777", NULL };
        const char *good3[] = { "--socket-path", path, "--socket-mode", "640", "--peer-uid", "-1", NULL };
        assert_int_equal(run_cli(bad4, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "'77' for option '--socket-mode'"));
        assert_int_equal(run_cli(bad5, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "'1777' for option '--socket-mode'"));
        assert_int_equal(run_cli(good3, out, sizeof(out)), 2);
        assert_non_null(strstr(out, "'--peer-uid'"));
        assert_null(strstr(out, "--socket-mode"));
    }
}

/* Does the process catch SIGBUS (SigCgt of /proc/PID/status)? */
/* --require-sealed-memory: guest RAM in a fd that can be truncated (no
 * F_SEAL_SHRINK) is refused at SET_MEM_TABLE and nothing is mapped; a fd
 * sealed as QEMU's memory-backend-memfd seals it (shrink and grow) is served;
 * the daemon then has no SIGBUS handler at all, while the default daemon
 * keeps one for unsealed RAM (test_attack_memory_shrunk_under_daemon). */
/* The daemon test_require_sealed_memory runs, stopped by the teardown if a
 * failed assertion left it running. */
static daemon_proc g_sealed_d;

static int sealed_teardown(void **state)
{
    (void)state;
    if (g_sealed_d.pid > 0) {
        (void)daemon_stop(&g_sealed_d, SIGKILL);
    }
    tg_sanitizers_leave_sigbus(false);
    return 0;
}

/* REQ: REQ-VHU-055 */
/* FM: FM-VHU-010 */
static void test_require_sealed_memory(void **state)
{
    char path[300];
    const char *waits[2] = { path, NULL };
    daemon_proc *const dp = &g_sealed_d;
    fe f;
    uint8_t p[512];
    uint32_t len;
    int fds[2];
    (void)state;
    tg_sanitizers_leave_sigbus(true);
    path_of(path, sizeof(path), "sealed", -1);
    unlink(path);
    {
        const char *args[] = { "--socket-path", path, "--require-sealed-memory", "--log-level", "info", NULL };
        daemon_start(dp, args, waits);
    }
    fe_open(&f, path);
    (void)get_u64(&f, VHU_GET_FEATURES);
    (void)get_u64(&f, VHU_GET_PROTOCOL_FEATURES);
    put64(p, VHU_PF_REPLY_ACK | VHU_PF_MQ);
    assert_int_equal(send_msg(&f, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, p, 8, NULL, 0), 0);
    assert_int_equal(ack_msg(&f, VHU_SET_OWNER, NULL, 0, NULL, 0), 0);
    const size_t maps0 = pid_maps(dp->pid);
    mem_payload(&f, p, &len);
    fds[0] = f.memfd;
    fds[1] = f.memfd;
    assert_int_not_equal(ack_msg(&f, VHU_SET_MEM_TABLE, p, len, fds, 2), 0); /* unsealed: refused */
    assert_int_equal(pid_maps(dp->pid), maps0);
    assert_true(file_has(dp->log, "region 0 is not sealed against shrinking"));
    fe_close(&f);
    /* Sealed against shrinking and growing: the truncation the handler
     * would contain cannot happen, and the ring is served. */
    fe_open(&f, path);
    assert_int_equal(fcntl(f.memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    assert_int_not_equal(ftruncate(f.memfd, 4096), 0);
    assert_int_equal(errno, EPERM);
    fe_negotiate(&f, F_VERSION_1);
    fe_kick_and_enable(&f);
    request_entropy(&f, 64);
    assert_false(tg_catches_sigbus(dp->pid));
    fe_close(&f);
    assert_int_equal(daemon_stop(dp, SIGTERM), 0);
    /* The default keeps the handler, for unsealed RAM. */
    {
        const char *args[] = { "--socket-path", path, NULL };
        daemon_start(dp, args, waits);
    }
    fe_start(&f, path, F_VERSION_1); /* unsealed, accepted; set-up is over once it is served */
    request_entropy(&f, 64);
    assert_true(tg_catches_sigbus(dp->pid));
    fe_close(&f);
    assert_int_equal(daemon_stop(dp, SIGTERM), 0);
}

/* Guest RAM for the in-process dispatcher tests: a RAM_SIZE memfd mapped
 * shared into @f (the front-end model's memfd and ram), and its release. */
static void inproc_ram_open(fe *f)
{
    f->memfd = memfd_create("ram", MFD_CLOEXEC);
    assert_int_equal(ftruncate(f->memfd, RAM_SIZE), 0);
    f->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    assert_true(f->ram != MAP_FAILED);
}

static void inproc_ram_close(fe *f)
{
    munmap(f->ram, RAM_SIZE);
    close(f->memfd);
}

/* REQ: REQ-VHU-012 REQ-VHU-017 REQ-VHU-019.a REQ-VHU-014.b REQ-VHU-014.c REQ-VHU-014.d REQ-VHU-016.a */
static void test_dispatcher_no_fd_or_mapping_leak(void **state)
{
    vhu_dev *d = calloc(1, sizeof(*d));
    svd_entropy_cfg cfg;
    vhu_reply rep;
    uint8_t p[80];
    uint32_t len;
    size_t fds0, maps0;
    int fds[3];
    fe f;
    int saved_level = vhu_log_level;
    (void)state;
    assert_non_null(d);
    vhu_log_level = -1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fake_source;
    /* A front-end without a socket: guest RAM and eventfds only. */
    memset(&f, 0, sizeof(f));
    inproc_ram_open(&f);
    fds[0] = eventfd(0, EFD_CLOEXEC);
    fds[1] = f.memfd;
    fds[2] = f.memfd;
    fds0 = self_fds();
    maps0 = self_maps();
    assert_int_equal(vhu_dev_init(d, 9, &cfg, 0, NULL), 0);
    put64(p, VHU_PF_REPLY_ACK);
    assert_int_equal(disp(d, VHU_SET_PROTOCOL_FEATURES, VHU_VERSION, p, 8, NULL, 0, &rep), VHU_V_OK);
    /* Map a table, replace it three times: the old one is unmapped each time. */
    mem_payload(&f, p, &len);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(disp(d, VHU_SET_MEM_TABLE, VHU_VERSION | VHU_FLAG_NEED_REPLY, p, len, fds + 1, 2, &rep),
                         VHU_V_OK);
        assert_true(rep.send);
        assert_int_equal(get64(rep.payload), 0);
    }
    assert_int_equal(self_fds(), fds0); /* region fds closed after mmap */
    assert_true(self_maps() > maps0);   /* the table is mapped: the check can see it */
    /* Refused tables leave no mapping and no fd behind. */
    mem_two(p, 0, REG_SIZE, (uint64_t)(uintptr_t)f.ram, 4096, REG_SIZE, (uint64_t)(uintptr_t)f.ram + REG_SIZE);
    assert_int_equal(disp(d, VHU_SET_MEM_TABLE, VHU_VERSION | VHU_FLAG_NEED_REPLY, p, 72, fds + 1, 2, &rep),
                     VHU_V_REJECTED);
    assert_int_equal(get64(rep.payload), 1);
    /* The mmap of region 1, then of region 0, fails (a pipe cannot be
     * mapped): whatever was mapped before is unmapped, the table stays. */
    {
        int pp[2];
        int bad[2];
        assert_int_equal(pipe(pp), 0);
        for (int k = 0; k < 2; k++) {
            bad[k] = pp[0];
            bad[1 - k] = f.memfd;
            mem_two(p, 0, REG_SIZE, (uint64_t)(uintptr_t)f.ram, GPA_B, REG_SIZE,
                    (uint64_t)(uintptr_t)f.ram + REG_SIZE);
            assert_int_equal(disp(d, VHU_SET_MEM_TABLE, VHU_VERSION | VHU_FLAG_NEED_REPLY, p, 72, bad, 2, &rep),
                             VHU_V_REJECTED);
            assert_int_equal(d->nregions, 2);
        }
        close(pp[0]);
        close(pp[1]);
    }
    /* Wrong fd counts, wrong sizes, fds on requests that take none. */
    assert_int_equal(disp(d, VHU_SET_MEM_TABLE, VHU_VERSION, p, 72, fds, 3, &rep), VHU_V_DISCONNECT);
    assert_int_equal(disp(d, VHU_SET_MEM_TABLE, VHU_VERSION, p, 40, fds + 1, 2, &rep), VHU_V_DISCONNECT);
    assert_int_equal(disp(d, VHU_SET_OWNER, VHU_VERSION, NULL, 0, fds, 3, &rep), VHU_V_DISCONNECT);
    assert_int_equal(disp(d, VHU_GET_FEATURES, VHU_VERSION, p, 3, fds, 1, &rep), VHU_V_DISCONNECT);
    put64(p, 0);
    assert_int_equal(disp(d, VHU_SET_VRING_CALL, VHU_VERSION, p, 8, fds, 2, &rep), VHU_V_DISCONNECT);
    /* Vring fds kept, then replaced: the old one is closed. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(disp(d, VHU_SET_VRING_CALL, VHU_VERSION, p, 8, fds, 1, &rep), VHU_V_OK);
        assert_int_equal(disp(d, VHU_SET_VRING_KICK, VHU_VERSION, p, 8, fds, 1, &rep), VHU_V_OK);
        assert_int_equal(disp(d, VHU_SET_VRING_ERR, VHU_VERSION, p, 8, fds, 1, &rep), VHU_V_OK);
    }
    assert_int_equal(self_fds(), fds0 + 3u);
    vhu_dev_disconnect(d);
    assert_int_equal(self_fds(), fds0);
    assert_int_equal(self_maps(), maps0);
    free(d);
    inproc_ram_close(&f);
    close(fds[0]);
    vhu_log_level = saved_level;
}

/* REQ: REQ-VHU-019.b */
static void test_dispatcher_garbage_never_crashes(void **state)
{
    vhu_dev *d = calloc(1, sizeof(*d));
    svd_entropy_cfg cfg;
    vhu_reply rep;
    uint8_t p[300];
    uint64_t x = 88172645463325252ull;
    size_t fds0 = self_fds();
    int saved_level = vhu_log_level;
    (void)state;
    assert_non_null(d);
    vhu_log_level = -1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fake_source;
    assert_int_equal(vhu_dev_init(d, 9, &cfg, 0, NULL), 0);
    /* Random payloads for every request code with a valid header: the
     * dispatcher decides, never crashes, and never keeps a fd it was not
     * meant to. */
    for (int i = 0; i < 20000; i++) {
        uint32_t req;
        size_t len;
        enum vhu_verdict v;
        for (size_t k = 0; k < sizeof(p); k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[k] = (uint8_t)x;
        }
        req = (uint32_t)(x % 40u);
        len = (size_t)((x >> 8) % 3u == 0 ? (x >> 16) % sizeof(p) : ((x >> 16) % 2u ? 8u : 40u));
        v = vhu_dev_handle(d, req, VHU_VERSION | (uint32_t)((x >> 32) & VHU_FLAG_NEED_REPLY), p, len, NULL, 0,
                           &rep);
        assert_true(v == VHU_V_OK || v == VHU_V_REJECTED || v == VHU_V_DISCONNECT);
        if (v == VHU_V_DISCONNECT) {
            vhu_dev_disconnect(d);
        }
    }
    vhu_dev_disconnect(d);
    assert_int_equal(self_fds(), fds0);
    free(d);
    vhu_log_level = saved_level;
}


/* Random messages that carry file descriptors of every kind a front-end can
 * send (eventfd, memfd, pipe, socket, /dev/null), 0 to 10 at a time, on
 * every request code: a defined verdict each time, and once the connection
 * is dropped not one fd nor one mapping of them is left in this process. */
/* REQ: REQ-VHU-019.b */
static void test_dispatcher_garbage_with_fds_never_crashes(void **state)
{
    vhu_dev *d = calloc(1, sizeof(*d));
    svd_entropy_cfg cfg;
    vhu_reply rep;
    uint8_t p[300];
    int pool[6];
    int sp[2];
    int pp[2];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int saved_level = vhu_log_level;
    unsigned verdicts[3] = { 0u, 0u, 0u };
    (void)state;
    assert_non_null(d);
    vhu_log_level = -1;
    pool[0] = eventfd(0, EFD_CLOEXEC);
    pool[1] = memfd_create("ram", MFD_CLOEXEC);
    assert_int_equal(ftruncate(pool[1], RAM_SIZE), 0);
    assert_int_equal(pipe(pp), 0);
    pool[2] = pp[0];
    pool[3] = pp[1];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    pool[4] = sp[0];
    pool[5] = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (size_t k = 0; k < 6u; k++) {
        assert_true(pool[k] >= 0);
    }
    const size_t fds0 = self_fds();
    const size_t maps0 = self_maps();
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fake_source;
    assert_int_equal(vhu_dev_init(d, 9, &cfg, 0, NULL), 0);
    for (int i = 0; i < 5000; i++) {
        int fds[10];
        size_t nfds;
        size_t len;
        uint32_t req;
        enum vhu_verdict v;
        for (size_t k = 0; k < sizeof(p); k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[k] = (uint8_t)x;
        }
        req = (uint32_t)(x % 40u);
        nfds = (size_t)((x >> 8) % 11u);
        len = (size_t)((x >> 16) % 3u == 0 ? (x >> 24) % sizeof(p) : ((x >> 16) % 2u ? 8u : 40u));
        for (size_t k = 0; k < nfds; k++) {
            fds[k] = dup(pool[(size_t)((x >> (k * 3u)) % 6u)]); /* the dispatcher owns what it is given */
            assert_true(fds[k] >= 0);
        }
        v = vhu_dev_handle(d, req, VHU_VERSION | (uint32_t)((x >> 40) & VHU_FLAG_NEED_REPLY), p, len, fds, nfds,
                           &rep);
        assert_true(v == VHU_V_OK || v == VHU_V_REJECTED || v == VHU_V_DISCONNECT);
        verdicts[v == VHU_V_OK ? 0 : (v == VHU_V_REJECTED ? 1 : 2)]++;
        if (v == VHU_V_DISCONNECT) {
            vhu_dev_disconnect(d);
        }
    }
    vhu_dev_disconnect(d);
    assert_int_equal(self_fds(), fds0);
    assert_int_equal(self_maps(), maps0);
    assert_true(verdicts[0] > 0u && verdicts[2] > 0u); /* both paths were taken */
    free(d);
    for (size_t k = 0; k < 6u; k++) {
        close(pool[k]);
    }
    close(sp[1]);
    vhu_log_level = saved_level;
}

/* Every refusal of the dispatcher, one at a time and each with its verdict,
 * in-process (the daemon tests reach them only through a socket): ring
 * requests while the ring runs, sizes and bases out of range, addresses that
 * translate only in part, vring fds that cannot be made non-blocking, a
 * table whose fd is shorter than its region or cannot be mapped writable,
 * more regions than allowed, an enable value past 1, reply flags on a
 * request; and the helpers' own range checks (log levels, reason names). */
/* REQ: REQ-VHU-011 REQ-VHU-014.a REQ-VHU-014.b REQ-VHU-015.a REQ-VHU-016.c REQ-VHU-043.a REQ-VHU-043.c */
static void test_dispatcher_each_refusal_in_process(void **state)
{
    vhu_dev *d = calloc(1, sizeof(*d));
    svd_entropy_cfg cfg;
    vhu_reply rep;
    uint8_t p[8 + 9 * 32];
    uint32_t len;
    int ev = eventfd(0, EFD_CLOEXEC);
    int mem[2];
    fe f;
    int saved_level = vhu_log_level;
    const uint32_t NR = VHU_VERSION | VHU_FLAG_NEED_REPLY;
    (void)state;
    assert_non_null(d);
    assert_true(ev >= 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fake_source;
    memset(&f, 0, sizeof(f));
    inproc_ram_open(&f);
    mem[0] = f.memfd;
    mem[1] = f.memfd;
    /* Levels out of range are dropped, names out of range say so. */
    vhu_log_level = VHU_LOG_DEBUG;
    vhu_log(-1, 0, "never shown");
    vhu_log_level = 99;
    vhu_log(VHU_LOG_DEBUG + 1, 0, "never shown");
    vhu_log_level = -1;
    assert_string_equal(vhu_perr_name(-1), "unknown-reason");
    assert_string_equal(vhu_perr_name((int)VHU_PERR__COUNT), "unknown-reason");
    /* A configuration the core refuses. */
    cfg.min_entropy = 9;
    assert_int_equal(vhu_dev_init(d, 9, &cfg, 0, NULL), -1);
    cfg.min_entropy = 0;
    assert_int_equal(vhu_dev_init(d, 9, &cfg, 0, NULL), 0);
    vhu_dev_count_perr(d, -1);
    vhu_dev_count_perr(d, (int)VHU_PERR__COUNT);
    vhu_dev_log_stats(d, false); /* health still in its start-up test */
    /* Requests with their own reply, asked for an ack as well: one reply. */
    assert_int_equal(disp(d, VHU_GET_FEATURES, NR, NULL, 0, NULL, 0, &rep), VHU_V_OK);
    assert_int_equal(disp(d, VHU_GET_PROTOCOL_FEATURES, NR, NULL, 0, NULL, 0, &rep), VHU_V_OK);
    assert_int_equal(disp(d, VHU_GET_QUEUE_NUM, NR, NULL, 0, NULL, 0, &rep), VHU_V_OK);
    assert_int_equal(get64(rep.payload), 1);
    /* A table message without its payload; a table of no regions. */
    assert_int_equal(vhu_dev_handle(d, VHU_SET_MEM_TABLE, NR, NULL, 40, NULL, 0, &rep), VHU_V_DISCONNECT);
    put32(p, 0);
    put32(p + 4, 0);
    assert_int_equal(disp(d, VHU_SET_MEM_TABLE, NR, p, 8, NULL, 0, &rep), VHU_V_DISCONNECT);
    vhu_dev_kick_lost(d); /* no kick fd: nothing to drop */
    /* Flags: a reply bit, unknown bits. */
    assert_int_equal(disp(d, VHU_SET_OWNER, VHU_VERSION | VHU_FLAG_REPLY, NULL, 0, NULL, 0, &rep), VHU_V_DISCONNECT);
    assert_int_equal(disp(d, VHU_SET_OWNER, VHU_VERSION | 0x100u, NULL, 0, NULL, 0, &rep), VHU_V_DISCONNECT);
    assert_int_equal(disp(d, VHU_GET_FEATURES, VHU_VERSION, NULL, 8, NULL, 0, &rep), VHU_V_DISCONNECT);
    /* Sizes and bases out of range, before any ring exists. */
    state_payload(p, 0, 0);
    assert_int_equal(disp(d, VHU_SET_VRING_NUM, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    state_payload(p, 0, 24);
    assert_int_equal(disp(d, VHU_SET_VRING_NUM, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    state_payload(p, 0, SVD_VQ_MAX_SIZE * 2u);
    assert_int_equal(disp(d, VHU_SET_VRING_NUM, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    state_payload(p, 0, 0x10000u);
    assert_int_equal(disp(d, VHU_SET_VRING_BASE, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    state_payload(p, 0, 2);
    assert_int_equal(disp(d, VHU_SET_VRING_ENABLE, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    /* Vring fds that are not fds: refused (cannot be made non-blocking). */
    {
        int gone[1];
        put64(p, 0);
        for (uint32_t req = VHU_SET_VRING_KICK; req <= VHU_SET_VRING_ERR; req++) {
            gone[0] = 1000; /* no such fd */
            assert_int_equal(vhu_dev_handle(d, req, NR, p, 8, gone, 1, &rep), VHU_V_REJECTED);
        }
    }
    /* Tables: too many regions; a region past its fd's end; an fd open
     * read-only (mmap PROT_WRITE refused). */
    put32(p, VHU_MAX_REGIONS + 1u);
    assert_int_equal(disp(d, VHU_SET_MEM_TABLE, NR, p, 8 + (VHU_MAX_REGIONS + 1u) * 32u, NULL, 0, &rep),
                     VHU_V_DISCONNECT);
    {
        /* A user range that wraps; a file range that wraps; a file range past 2^63. */
        static const uint64_t ua[3] = { UINT64_MAX - 10u, 0x10000u, 0x10000u };
        static const uint64_t off[3] = { 0, UINT64_MAX - 10u, UINT64_C(1) << 63 };
        int one[1] = { f.memfd };
        for (int k = 0; k < 3; k++) {
            put32(p, 1);
            put32(p + 4, 0);
            put64(p + 8, GPA_A);
            put64(p + 16, REG_SIZE);
            put64(p + 24, ua[k]);
            put64(p + 32, off[k]);
            assert_int_equal(disp(d, VHU_SET_MEM_TABLE, NR, p, 40, one, 1, &rep), VHU_V_REJECTED);
        }
        /* The region's fd is no fd: fstat fails. */
        put64(p + 24, 0x10000u);
        put64(p + 32, 0);
        int nofd[1] = { 1000 };
        assert_int_equal(vhu_dev_handle(d, VHU_SET_MEM_TABLE, NR, p, 40, nofd, 1, &rep), VHU_V_REJECTED);
    }
    {
        int small = memfd_create("small", MFD_CLOEXEC);
        char ro_path[64];
        int ro;
        assert_int_equal(ftruncate(small, 4096), 0);
        mem_two(p, GPA_A, REG_SIZE, (uint64_t)(uintptr_t)f.ram, GPA_B, REG_SIZE, ua_b(&f, 0));
        put64(p + 64, REG_SIZE);
        int sm[2] = { small, small };
        assert_int_equal(disp(d, VHU_SET_MEM_TABLE, NR, p, 72, sm, 2, &rep), VHU_V_REJECTED);
        snprintf(ro_path, sizeof(ro_path), "/proc/self/fd/%d", f.memfd);
        ro = open(ro_path, O_RDONLY | O_CLOEXEC);
        assert_true(ro >= 0);
        int rr[2] = { ro, ro };
        assert_int_equal(disp(d, VHU_SET_MEM_TABLE, NR, p, 72, rr, 2, &rep), VHU_V_REJECTED);
        assert_int_equal(d->nregions, 0);
        close(ro);
        close(small);
    }
    /* The good table; ring addresses that translate only in part. */
    mem_payload(&f, p, &len);
    assert_int_equal(disp(d, VHU_SET_MEM_TABLE, NR, p, len, mem, 2, &rep), VHU_V_OK);
    addr_payload(p, 0, ua_b(&f, OFF_DESC), UINT64_C(0x10), ua_b(&f, OFF_AVAIL));
    assert_int_equal(disp(d, VHU_SET_VRING_ADDR, NR, p, 40, NULL, 0, &rep), VHU_V_REJECTED);
    addr_payload(p, 0, ua_b(&f, OFF_DESC), ua_b(&f, OFF_USED), UINT64_C(0x10));
    assert_int_equal(disp(d, VHU_SET_VRING_ADDR, NR, p, 40, NULL, 0, &rep), VHU_V_REJECTED);
    /* A kick before the ring has a size: kept, the ring does not start yet. */
    put64(p, 0);
    assert_int_equal(disp(d, VHU_SET_VRING_KICK, NR, p, 8, &ev, 1, &rep), VHU_V_OK);
    assert_false(d->vr.running);
    /* Start it; then every ring request is refused while it runs. */
    state_payload(p, 0, QSZ);
    assert_int_equal(disp(d, VHU_SET_VRING_NUM, NR, p, 8, NULL, 0, &rep), VHU_V_OK);
    addr_payload(p, 0, ua_b(&f, OFF_DESC), ua_b(&f, OFF_USED), ua_b(&f, OFF_AVAIL));
    assert_int_equal(disp(d, VHU_SET_VRING_ADDR, NR, p, 40, NULL, 0, &rep), VHU_V_OK);
    put64(p, 0);
    assert_int_equal(disp(d, VHU_SET_VRING_KICK, NR, p, 8, &ev, 1, &rep), VHU_V_OK);
    assert_true(d->vr.running);
    state_payload(p, 0, QSZ);
    assert_int_equal(disp(d, VHU_SET_VRING_NUM, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    assert_int_equal(disp(d, VHU_SET_VRING_BASE, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    addr_payload(p, 0, ua_b(&f, OFF_DESC), ua_b(&f, OFF_USED), ua_b(&f, OFF_AVAIL));
    assert_int_equal(disp(d, VHU_SET_VRING_ADDR, NR, p, 40, NULL, 0, &rep), VHU_V_REJECTED);
    assert_true(d->vr.running); /* every refusal left it running */
    /* Without NEED_REPLY a refusal has nowhere to go: the connection ends. */
    assert_int_equal(disp(d, VHU_SET_VRING_NUM, VHU_VERSION, p, 8, NULL, 0, &rep), VHU_V_DISCONNECT);
    /* A kick fd already non-blocking is kept as it is; the no-fd bit
     * (polling) replaces it. */
    {
        int nb = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        put64(p, 0);
        assert_int_equal(vhu_dev_handle(d, VHU_SET_VRING_KICK, NR, p, 8, &nb, 1, &rep), VHU_V_OK);
        assert_true(d->vr.running);
        put64(p, VHU_VRING_NOFD);
        assert_int_equal(disp(d, VHU_SET_VRING_KICK, NR, p, 8, NULL, 0, &rep), VHU_V_OK);
        assert_true(d->vr.polling);
        assert_true(d->vr.kick_fd < 0);
        /* Polling: the next look is never later than one poll period,
         * whether the engine has nothing to do or a request waits (here on
         * the source's health start-up test: the fake source is constant). */
        bool wake = false;
        uint64_t at = 0;
        vhu_dev_process(d, 1000, &wake, &at);
        assert_true(wake);
        assert_int_equal(at, 1000 + VHU_POLL_NS);
        set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, REG_SIZE - OFF_BUF, SVD_VRING_DESC_F_WRITE, 0);
        publish(&f, 0);
        vhu_dev_process(d, 2000, &wake, &at);
        assert_true(wake);
        assert_true(at > 2000u && at <= 2000 + VHU_POLL_NS);
    }
    /* Disabled, the ring stops; the kick fd lost, it stops and forgets it. */
    state_payload(p, 0, 0);
    assert_int_equal(disp(d, VHU_SET_VRING_ENABLE, NR, p, 8, NULL, 0, &rep), VHU_V_OK);
    assert_false(d->vr.running);
    vhu_dev_kick_lost(d);
    assert_true(d->vr.kick_fd < 0);
    vhu_dev_disconnect(d);
    free(d);
    inproc_ram_close(&f);
    close(ev);
    vhu_log_level = saved_level;
}

/* Two values in turn: never three alike in a row (the repetition count test
 * passes) but half of every window one value (the adaptive proportion test
 * trips at any stated min-entropy). */
static svd_result alternating_source(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(0x40u + (i & 1u));
    }
    *got = len;
    return svd_ok();
}

/* The ring starts only with every precondition met, in-process: a kick
 * before the ring addresses are set, and a kick after a refused SET_FEATURES,
 * leave it stopped; once an offered feature set is acked the next kick starts
 * it. A source that alternates two values fails the adaptive proportion test
 * alone: the request waits, never completed, and the failure is counted as
 * the adaptive proportion test's. */
/* REQ: REQ-VHU-004.b REQ-VHU-082.a REQ-VHU-082.c REQ-VHU-061 */
static void test_dispatcher_ring_preconditions_and_biased_source(void **state)
{
    vhu_dev *d = calloc(1, sizeof(*d));
    svd_entropy_cfg cfg;
    vhu_reply rep;
    uint8_t p[8 + 2 * 32];
    uint32_t len;
    int ev = eventfd(0, EFD_CLOEXEC);
    int mem[2];
    fe f;
    bool wake = false;
    uint64_t at = 0;
    int saved_level = vhu_log_level;
    const uint32_t NR = VHU_VERSION | VHU_FLAG_NEED_REPLY;
    (void)state;
    assert_non_null(d);
    assert_true(ev >= 0);
    vhu_log_level = -1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = alternating_source;
    memset(&f, 0, sizeof(f));
    inproc_ram_open(&f);
    mem[0] = f.memfd;
    mem[1] = f.memfd;
    assert_int_equal(vhu_dev_init(d, 9, &cfg, 0, NULL), 0);
    mem_payload(&f, p, &len);
    assert_int_equal(disp(d, VHU_SET_MEM_TABLE, NR, p, len, mem, 2, &rep), VHU_V_OK);
    state_payload(p, 0, QSZ);
    assert_int_equal(disp(d, VHU_SET_VRING_NUM, NR, p, 8, NULL, 0, &rep), VHU_V_OK);
    put64(p, 0);
    assert_int_equal(disp(d, VHU_SET_VRING_KICK, NR, p, 8, &ev, 1, &rep), VHU_V_OK);
    assert_false(d->vr.running); /* no ring addresses yet */
    addr_payload(p, 0, ua_b(&f, OFF_DESC), ua_b(&f, OFF_USED), ua_b(&f, OFF_AVAIL));
    assert_int_equal(disp(d, VHU_SET_VRING_ADDR, NR, p, 40, NULL, 0, &rep), VHU_V_OK);
    put64(p, UINT64_C(1) << 40); /* a transport bit never offered */
    assert_int_equal(disp(d, VHU_SET_FEATURES, NR, p, 8, NULL, 0, &rep), VHU_V_REJECTED);
    put64(p, 0);
    assert_int_equal(disp(d, VHU_SET_VRING_KICK, NR, p, 8, &ev, 1, &rep), VHU_V_OK);
    assert_false(d->vr.running); /* the refused feature set starts no ring */
    put64(p, 0);
    assert_int_equal(disp(d, VHU_SET_FEATURES, NR, p, 8, NULL, 0, &rep), VHU_V_OK);
    assert_int_equal(disp(d, VHU_SET_VRING_KICK, NR, p, 8, &ev, 1, &rep), VHU_V_OK);
    assert_true(d->vr.running);
    /* A request for the biased source: it waits. */
    set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 0);
    for (uint64_t t = 1; t <= 4u; t++) {
        vhu_dev_process(d, t * 1000000000u, &wake, &at);
    }
    assert_int_equal(used_idx(&f), 0);
    assert_int_equal(d->ent.stats.health_state, SVD_HEALTH_FAILED);
    assert_true(d->ent.stats.health_apt_failures > 0u);
    assert_int_equal(d->ent.stats.health_rct_failures, 0);
    vhu_dev_disconnect(d);
    free(d);
    inproc_ram_close(&f);
    close(ev);
    vhu_log_level = saved_level;
}

/* One step of a ring's set-up, in-process, for the precondition test below. */
enum ring_step { RS_TABLE, RS_NUM, RS_ADDR, RS_KICK, RS_POLL, RS_ENABLE };

static void ring_step(vhu_dev *d, fe *f, enum ring_step s, int ev, enum vhu_verdict want)
{
    const uint32_t NR = VHU_VERSION | VHU_FLAG_NEED_REPLY;
    int mem[2] = { f->memfd, f->memfd };
    uint8_t p[8 + 2 * 32];
    uint32_t len = 0;
    vhu_reply rep;
    enum vhu_verdict got = VHU_V_DISCONNECT;
    switch (s) {
    case RS_TABLE:
        mem_payload(f, p, &len);
        got = disp(d, VHU_SET_MEM_TABLE, NR, p, len, mem, 2, &rep);
        break;
    case RS_NUM:
        state_payload(p, 0, QSZ);
        got = disp(d, VHU_SET_VRING_NUM, NR, p, 8, NULL, 0, &rep);
        break;
    case RS_ADDR:
        addr_payload(p, 0, ua_b(f, OFF_DESC), ua_b(f, OFF_USED), ua_b(f, OFF_AVAIL));
        got = disp(d, VHU_SET_VRING_ADDR, NR, p, 40, NULL, 0, &rep);
        break;
    case RS_KICK:
        put64(p, 0);
        got = disp(d, VHU_SET_VRING_KICK, NR, p, 8, &ev, 1, &rep);
        break;
    case RS_POLL:
        put64(p, VHU_VRING_NOFD);
        got = disp(d, VHU_SET_VRING_KICK, NR, p, 8, NULL, 0, &rep);
        break;
    case RS_ENABLE:
        state_payload(p, 0, 1);
        got = disp(d, VHU_SET_VRING_ENABLE, NR, p, 8, NULL, 0, &rep);
        break;
    default:
        fail();
        break;
    }
    assert_int_equal(got, want);
}

/* A ring is served only with every precondition met, in-process. With
 * PROTOCOL_FEATURES negotiated, the memory table, the size, the addresses,
 * the kick and the enable are each left out in turn: whatever else arrived
 * the ring stays stopped (without a table no ring address is accepted at
 * all); the one missing given, a kick starts it. The kick may be an fd or
 * polling (the no-fd bit). */
/* REQ: REQ-VHU-004.b */
static void test_dispatcher_ring_served_only_when_complete(void **state)
{
    static const enum ring_step order[5] = { RS_TABLE, RS_NUM, RS_ADDR, RS_KICK, RS_ENABLE };
    svd_entropy_cfg cfg;
    vhu_reply rep;
    uint8_t p[8];
    int ev = eventfd(0, EFD_CLOEXEC);
    fe f;
    int saved_level = vhu_log_level;
    (void)state;
    assert_true(ev >= 0);
    vhu_log_level = -1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fake_source;
    memset(&f, 0, sizeof(f));
    inproc_ram_open(&f);
    for (int skip = 0; skip < 5; skip++) {
        vhu_dev *d = calloc(1, sizeof(*d));
        assert_non_null(d);
        assert_int_equal(vhu_dev_init(d, 9, &cfg, 0, NULL), 0);
        put64(p, F_VERSION_1 | VHU_F_PROTOCOL_FEATURES);
        assert_int_equal(disp(d, VHU_SET_FEATURES, VHU_VERSION | VHU_FLAG_NEED_REPLY, p, 8, NULL, 0, &rep),
                         VHU_V_OK);
        for (int k = 0; k < 5; k++) {
            if (k != skip) {
                const bool no_table = order[skip] == RS_TABLE && order[k] == RS_ADDR;
                ring_step(d, &f, order[k], ev, no_table ? VHU_V_REJECTED : VHU_V_OK);
            }
            assert_false(d->vr.running);
        }
        switch (order[skip]) {
        case RS_TABLE:
            ring_step(d, &f, RS_TABLE, ev, VHU_V_OK);
            ring_step(d, &f, RS_ADDR, ev, VHU_V_OK);
            ring_step(d, &f, RS_KICK, ev, VHU_V_OK);
            break;
        case RS_KICK:
            ring_step(d, &f, RS_POLL, ev, VHU_V_OK);
            assert_true(d->vr.polling);
            break;
        default:
            ring_step(d, &f, order[skip], ev, VHU_V_OK);
            ring_step(d, &f, RS_KICK, ev, VHU_V_OK);
            break;
        }
        assert_true(d->vr.running);
        vhu_dev_disconnect(d);
        free(d);
    }
    inproc_ram_close(&f);
    close(ev);
    vhu_log_level = saved_level;
}

/* The command line and the socket path at their edges: empty values, a
 * missing value, an fd that is not open; socket paths that are a symbolic
 * link, a FIFO, a character device (each named, never touched) or cannot be
 * examined; users and groups that do not exist or are no valid id. */
/* REQ: REQ-VHU-031 REQ-VHU-045 REQ-VHU-052 */
static void test_cli_and_socket_path_edges(void **state)
{
    char out[4096];
    char path[300], file[300], link_to[300];
    (void)state;
    {
        const char *a[] = { "--socket-path", "", NULL };
        cli_bad(a, "--socket-path", "empty path");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--user", "", NULL };
        cli_bad(a, "--user", "empty name");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--group", "", NULL };
        cli_bad(a, "--group", "empty name");
    }
    {
        const char *a[] = { "--socket-path", "/tmp/x", "--min-entropy", "9", NULL };
        cli_bad(a, "--min-entropy", "'9'");
    }
    {
        const char *a[] = { "--socket-path", NULL };
        cli_bad(a, "--socket-path", "needs a value");
    }
    {
        const char *a[] = { "--fd", "3", "--socket-count", "2", NULL };
        cli_bad(a, "--fd", "excludes --socket-path and --socket-count");
    }
    {
        const char *a[] = { "--fd", "999", NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "--fd 999: not an open socket"));
    }
    /* Paths that are not sockets: named, left alone. */
    path_of(file, sizeof(file), "edge-file", -1);
    path_of(link_to, sizeof(link_to), "edge-link", -1);
    path_of(path, sizeof(path), "edge-fifo", -1);
    unlink(link_to);
    unlink(path);
    {
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    assert_int_equal(symlink(file, link_to), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    {
        const char *const paths[3] = { link_to, path, "/dev/null" };
        static const char *const kind[3] = { "a symbolic link", "a FIFO", "a character device" };
        for (int k = 0; k < 3; k++) {
            struct stat before, after;
            const char *a[] = { "--socket-path", paths[k], NULL };
            assert_int_equal(lstat(paths[k], &before), 0);
            assert_int_equal(run_cli(a, out, sizeof(out)), 1);
            assert_non_null(strstr(out, kind[k]));
            assert_int_equal(lstat(paths[k], &after), 0);
            assert_true(before.st_ino == after.st_ino && before.st_mode == after.st_mode);
        }
    }
    {
        /* A path under a regular file: lstat fails with ENOTDIR. */
        char under[320];
        snprintf(under, sizeof(under), "%s/sock", file);
        const char *a[] = { "--socket-path", under, NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "cannot examine"));
    }
    unlink(link_to);
    unlink(path);
    unlink(file);
}

/* Users and groups that do not exist or are no valid id (exit 1 after
 * set-up, named); users and groups by name, and the group alone (the uid
 * stays). --user and --group need root. */
/* REQ: REQ-VHU-052 */
static void test_user_group_by_name_and_group_alone(void **state)
{
    char sock[300];
    char out[4096];
    (void)state;
    if (geteuid() != 0) {
        skip();
    }
    path_of(sock, sizeof(sock), "edge-sock", -1);
    /* Users and groups that cannot be resolved: exit 1 after set-up, named. */
    {
        /* Not a name, and no decimal id: a suffix, past INT32_MAX, past
         * ULONG_MAX, a sign, a letter first. */
        static const char *const users[6] = { "no-such-user-here", "12x", "99999999999", "999999999999999999999999",
                                              "-1", "a1" };
        for (int k = 0; k < 6; k++) {
            const char *a[] = { "--socket-path", sock, "--user", users[k], NULL };
            assert_int_equal(run_cli(a, out, sizeof(out)), 1);
            assert_non_null(strstr(out, "no such user"));
        }
        const char *a[] = { "--socket-path", sock, "--user", "65534", "--group", "no-such-group-here", NULL };
        assert_int_equal(run_cli(a, out, sizeof(out)), 1);
        assert_non_null(strstr(out, "no such group"));
    }
    {
        /* By name; the group alone; the user alone (its passwd group); a
         * uid without a passwd entry (its own number as the group); root
         * itself (nothing to regain). */
        static const char *const want[5] = { "running as uid 65534 gid 65534", "running as uid 0 gid 65534",
                                             "running as uid 65534 gid 65534", "running as uid 12345 gid 12345",
                                             "running as uid 0 gid 0" };
        for (int k = 0; k < 5; k++) {
            daemon_proc d;
            const char *waits[2] = { sock, NULL };
            const char *byname[] = { "--socket-path", sock, "--user", "nobody", "--group", "nogroup", "--log-level",
                                     "info", NULL };
            const char *grouponly[] = { "--socket-path", sock, "--group", "nogroup", "--log-level", "info", NULL };
            const char *useronly[] = { "--socket-path", sock, "--user", "nobody", "--log-level", "info", NULL };
            const char *nopasswd[] = { "--socket-path", sock, "--user", "12345", "--min-entropy", "4", "--log-level",
                                       "info", NULL };
            const char *root[] = { "--socket-path", sock, "--user", "root", "--group", "0", "--log-level", "info",
                                   NULL };
            const char *const *const cases[5] = { byname, grouponly, useronly, nopasswd, root };
            unlink(sock);
            daemon_start(&d, cases[k], waits);
            {
                fe f;
                fe_start(&f, sock, F_VERSION_1);
                request_entropy(&f, 64);
                fe_close(&f);
            }
            assert_int_equal(daemon_stop(&d, SIGTERM), 0);
            if (!file_has(d.log, want[k])) {
                fprintf(stderr, "expected '%s' in %s\n", want[k], d.log);
            }
            assert_true(file_has(d.log, want[k]));
        }
    }
    unlink(sock);
}

/* Stopped and continued (SIGSTOP, SIGCONT), the daemon's epoll_wait returns
 * EINTR without any handler having run (Linux does that for stop signals):
 * the loop goes on and serves. */
/* REQ: REQ-VHU-001 */
static void test_stop_and_continue_serves_on(void **state)
{
    char sock[300];
    daemon_proc d;
    const char *waits[2] = { sock, NULL };
    const char *a[] = { "--socket-path", sock, NULL };
    fe f;
    (void)state;
    path_of(sock, sizeof(sock), "stopcont", -1);
    unlink(sock);
    daemon_start(&d, a, waits);
    sleep_ms(50);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kill(d.pid, SIGSTOP), 0);
        sleep_ms(20);
        assert_int_equal(kill(d.pid, SIGCONT), 0);
        sleep_ms(20);
    }
    fe_start(&f, sock, F_VERSION_1);
    request_entropy(&f, 64);
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

/* At exit the daemon removes only the sockets it bound: a path removed
 * meanwhile is fine, a regular file or another socket now at the path is
 * left alone (and said). */
/* REQ: REQ-VHU-045 */
static void test_exit_removes_only_its_own_sockets(void **state)
{
    char base[300], p0[300], p1[300], p2[300];
    daemon_proc d;
    const char *waits[4] = { p0, p1, p2, NULL };
    const char *args[] = { "--socket-path", base, "--socket-count", "3", NULL };
    struct sockaddr_un sa;
    struct stat st;
    int other;
    (void)state;
    path_of(base, sizeof(base), "exit", -1);
    path_of(p0, sizeof(p0), "exit", 0);
    path_of(p1, sizeof(p1), "exit", 1);
    path_of(p2, sizeof(p2), "exit", 2);
    daemon_start(&d, args, waits);
    sleep_ms(50);
    assert_int_equal(unlink(p0), 0);
    assert_int_equal(unlink(p1), 0);
    {
        int fd = open(p1, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
    assert_int_equal(unlink(p2), 0);
    other = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    assert_true(strlen(p2) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, p2, strlen(p2) + 1u);
    assert_int_equal(bind(other, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_int_equal(lstat(p1, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(lstat(p2, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_true(file_has(d.log, "is no longer our socket: left alone"));
    close(other);
    unlink(p1);
    unlink(p2);
}

/* --user and --group started without root: refused after set-up, exit 1. */
/* REQ: REQ-VHU-052 */
static void test_user_without_root_refused(void **state)
{
    char dir[64], path[128], log[300];
    int st = 0;
    pid_t pid;
    (void)state;
    if (geteuid() != 0) {
        skip(); /* the test drops to uid 65534 itself */
    }
    path_of(log, sizeof(log), "nonroot.log", -1);
    snprintf(dir, sizeof(dir), "/tmp/vhu-nonroot-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chown(dir, 65534, 65534), 0);
    snprintf(path, sizeof(path), "%s/sock", dir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[] = { g_daemon, "--socket-path", path, "--user", "65534", NULL };
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* opened as root */
        if (fd >= 0) {
            dup2(fd, 2);
        }
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            _exit(126);
        }
        alarm(5);
        execv(g_daemon, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_true(file_has(log, "--user/--group need the daemon to be started as root"));
    unlink(path);
    rmdir(dir);
}

/* A FIFO as --source: with a writer but nothing written, reads give EAGAIN
 * and the request waits (never completed with anything else); once bytes
 * arrive it is served from them. */
/* REQ: REQ-VHU-007 REQ-VHU-046.a */
static void test_source_fifo_waits_then_serves(void **state)
{
    char fifo[300], sock[300];
    daemon_proc d;
    const char *waits[2] = { sock, NULL };
    const char *args[] = { "--socket-path", sock, "--source", fifo, NULL };
    uint8_t buf[8192];
    uint32_t id = 0, len = 0;
    fe f;
    int w;
    (void)state;
    path_of(fifo, sizeof(fifo), "src-fifo", -1);
    path_of(sock, sizeof(sock), "src-fifo-sock", -1);
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    w = open(fifo, O_RDWR | O_CLOEXEC); /* a writer that writes nothing yet */
    assert_true(w >= 0);
    daemon_start(&d, args, waits);
    fe_start(&f, sock, F_VERSION_1);
    memset(f.ram + OFF_BUF, 0, 64);
    set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 0);
    kick(&f);
    assert_false(wait_used(&f, 300, &id, &len));
    /* Zeros: the health tests fail (said once), the request still waits. */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(write(w, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    assert_false(wait_used(&f, 500, &id, &len));
    assert_int_equal(getrandom(buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
    assert_int_equal(write(w, buf, sizeof(buf)), (ssize_t)sizeof(buf));
    assert_true(wait_used(&f, 3000, &id, &len));
    assert_int_equal(id, 0);
    assert_int_equal(len, 64);
    assert_non_null(memmem(buf, sizeof(buf), f.ram + OFF_BUF, 64)); /* the FIFO's own bytes */
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_true(file_has(d.log, "source health test failed"));
    assert_true(file_has(d.log, "source health tests pass again"));
    close(w);
    unlink(fifo);
}

/* A source whose reads fail (EIO: /proc/self/mem read at address 0): the
 * failure is logged once for the whole streak of failed reads (every kick
 * retries), the request waits and is never completed. */
/* REQ: REQ-VHU-007 REQ-VHU-046.c */
static void test_source_read_error_keeps_the_request_waiting(void **state)
{
    char sock[300];
    daemon_proc d;
    const char *waits[2] = { sock, NULL };
    const char *args[] = { "--socket-path", sock, "--source", "/proc/self/mem", NULL };
    uint32_t id = 0, len = 0;
    fe f;
    (void)state;
    path_of(sock, sizeof(sock), "src-eio", -1);
    daemon_start(&d, args, waits);
    fe_start(&f, sock, F_VERSION_1);
    set_desc(&f, ram_b(&f, OFF_DESC), 0, GPA_A + OFF_BUF, 64, SVD_VRING_DESC_F_WRITE, 0);
    publish(&f, 0);
    kick(&f);
    assert_false(wait_used(&f, 500, &id, &len));
    kick(&f);
    assert_false(wait_used(&f, 200, &id, &len));
    fe_close(&f);
    assert_int_equal(daemon_stop(&d, SIGTERM), 0);
    assert_true(file_has(d.log, "--source read failed: Input/output error"));
    assert_int_equal(file_count(d.log, "--source read failed"), 1);
}

/* ----------------------------------------------------- temporal (host only)
 *
 * Freedom from interference in time between two instances of one daemon:
 * what a greedy front-end on instance 1 does to the latency of instance 0's
 * 64-byte requests. These tests move hundreds of MiB to 1 GiB of entropy, so
 * they run where the figures mean something: on the host, in `make vhu-test`
 * (and its ASan and coverage runs), which sets VHU_TEMPORAL=1. Elsewhere (the
 * emulated aarch64 guest of e2e-aarch64) the group is not run and not
 * counted: main() says so. */

/* Stated bound on instance 0's latency while instance 1 is greedy: 99% of
 * its requests complete within 250 ms (the trickle test's bound), and none
 * takes 5 s. One call's work (the default budget, 64 KiB of entropy) takes
 * well under a millisecond here, so medians stay near a millisecond and the
 * 99th percentile at tens of ms. The maximum also carries the scheduling of
 * a machine shared with other jobs: single requests of up to 1.9 s were seen
 * at a load average of 10 on 2 cores while the 99th percentile stayed at
 * 24 ms, so the maximum is printed and only capped. A call that served a
 * request whole held the loop for 4 s to 60 s per 1 GiB: then instance 0 gets
 * one or two requests through and its 99th percentile is that hold. */
#define TEMPORAL_BOUND_US 250000
#define TEMPORAL_CAP_US 5000000

/* Latency of 64-byte requests on @f for @ms: median, 99th percentile and
 * maximum (us), and the number of requests. */
static size_t latency_p99_over(fe *f, unsigned ms, int64_t *median, int64_t *p99, int64_t *max)
{
    static int64_t lat[8192];
    size_t n = 0;
    uint64_t t_end = now_ms() + ms;
    while (now_ms() < t_end && n < sizeof(lat) / sizeof(lat[0])) {
        int64_t l = timed_request(f, f->kick, 15000);
        lat[n++] = l < 0 ? 15000000 : l;
        sleep_ms(2);
    }
    qsort(lat, n, sizeof(lat[0]), cmp_i64);
    *median = lat[n / 2];
    *p99 = lat[(n * 99u) / 100u];
    *max = lat[n - 1];
    return n;
}

/* The 1 GiB request's region: guest-physical base and size. */
#define BIG_GPA UINT64_C(0x200000000)
#define BIG_SIZE (UINT64_C(1) << 30)

/* The front-ends a temporal test has open. A failed assertion leaves the
 * test at once; without this its connections would stay open, the daemon
 * (one front-end per instance) would keep waiting on them, and every later
 * test of the group would fail against an instance that is still taken.
 * The per-test teardown closes what the test left open. */
static fe *g_temporal_open[4];

static void temporal_track(fe *f)
{
    for (size_t i = 0; i < sizeof(g_temporal_open) / sizeof(g_temporal_open[0]); i++) {
        if (g_temporal_open[i] == NULL) {
            g_temporal_open[i] = f;
            return;
        }
    }
    fail_msg("temporal: more front-ends than tracked");
}

static void temporal_close(fe *f)
{
    for (size_t i = 0; i < sizeof(g_temporal_open) / sizeof(g_temporal_open[0]); i++) {
        if (g_temporal_open[i] == f) {
            g_temporal_open[i] = NULL;
        }
    }
    fe_close(f);
}

/* The 1 GiB region of test_temporal_1gib_*, released by the teardown too. */
static int g_temporal_big = -1;
static uint8_t *g_temporal_bm;

static int temporal_test_teardown(void **state)
{
    (void)state;
    if (g_temporal_bm != NULL) {
        munmap(g_temporal_bm, BIG_SIZE);
        g_temporal_bm = NULL;
    }
    if (g_temporal_big >= 0) {
        close(g_temporal_big);
        g_temporal_big = -1;
    }
    for (size_t i = 0; i < sizeof(g_temporal_open) / sizeof(g_temporal_open[0]); i++) {
        if (g_temporal_open[i] != NULL) {
            fprintf(stderr, "temporal: closing a front-end the failed test left open\n");
            fe_close(g_temporal_open[i]);
            g_temporal_open[i] = NULL;
        }
    }
    return 0;
}

/* A greedy front-end: keeps 8 requests of 448 KiB each in flight on @path
 * for @ms (republished as soon as they complete), then exits 0 if every
 * completion had the full length and at least one came. */
static void greedy(const char *path, unsigned ms)
{
    fe g;
    const uint32_t big = REG_SIZE - OFF_BUF; /* 448 KiB: the largest buffer region A holds */
    uint32_t id = 0, len = 0;
    unsigned done = 0, short_ones = 0;
    uint64_t t_end = now_ms() + ms;
    fe_start(&g, path, F_VERSION_1);
    for (uint16_t i = 0; i < 8u; i++) {
        set_desc(&g, ram_b(&g, OFF_DESC), i, GPA_A + OFF_BUF, big, SVD_VRING_DESC_F_WRITE, 0);
        publish(&g, i);
    }
    kick(&g);
    while (now_ms() < t_end) {
        if (wait_used(&g, 100, &id, &len)) {
            done++;
            short_ones += len != big;
            publish(&g, (uint16_t)id);
            kick(&g);
        }
    }
    fprintf(stderr, "greedy front-end: %u requests of 448 KiB served in %u ms\n", done, ms);
    fe_close(&g);
    _exit(done > 0u && short_ones == 0u ? 0 : 1);
}

/* While a greedy front-end keeps instance 1's queue full of 448 KiB requests
 * (each served over several calls of at most the 64 KiB budget), instance
 * 0's 64-byte requests keep 99% of their latencies under TEMPORAL_BOUND_US (measured and
 * printed).
 * REQ: REQ-VHU-042 REQ-VHU-070.a REQ-VHU-070.b */
static void test_temporal_greedy_neighbour_latency_bounded(void **state)
{
    fe f;
    int64_t idle_med, idle_max, med, p99, max;
    size_t n;
    int st = 0;
    (void)state;
    fe_start(&f, g_s0, F_VERSION_1);
    temporal_track(&f);
    latency_over(&f, 500, &idle_med, &idle_max);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        greedy(g_s1, 2500);
    }
    sleep_ms(100);
    n = latency_p99_over(&f, 2000, &med, &p99, &max);
    waitpid(pid, &st, 0);
    fprintf(stderr,
            "temporal: latency of instance 0 (us): idle median %lld max %lld; while instance 1 keeps 8 x 448 KiB "
            "requests in flight (%zu requests): median %lld p99 %lld max %lld (bound: p99 < %d, max < %d)\n",
            (long long)idle_med, (long long)idle_max, n, (long long)med, (long long)p99, (long long)max,
            TEMPORAL_BOUND_US, TEMPORAL_CAP_US);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* the greedy one was served in full */
    assert_true(n >= 10u);
    assert_true(p99 < TEMPORAL_BOUND_US);
    assert_true(max < TEMPORAL_CAP_US);
    temporal_close(&f);
    both_instances_serve();
}

/* True when none of the 64-byte windows at @at, the middle and the end of
 * the 1 GiB buffer is all zero (the daemon wrote entropy there). */
static bool big_filled(const uint8_t *m)
{
    static const uint8_t zero[64];
    const uint64_t at[] = { 0, BIG_SIZE / 2u, BIG_SIZE - 64u };
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        if (memcmp(m + at[i], zero, sizeof(zero)) == 0) {
            return false;
        }
    }
    return true;
}

/* The 1 GiB request: one write-only descriptor of 1 GiB in a third region.
 * Served whole in one call it held the daemon's one thread (and so every
 * instance) for 4 s; under the default budget it is served over 16384 calls,
 * completed once with its full length, and 99% of instance 0's latencies
 * meanwhile stay under TEMPORAL_BOUND_US (measured and printed).
 * REQ: REQ-VDEV-012.a REQ-VDEV-012.e REQ-VHU-042 REQ-VHU-070.a REQ-VHU-070.b REQ-VHU-014.d */
static void test_temporal_1gib_request_does_not_hold_the_loop(void **state)
{
    fe f, g;
    uint8_t p[8 + 3 * 32];
    int fds[3];
    int big;
    const uint8_t *bm;
    uint32_t id = 0, len = 0;
    int64_t lat[8192], idle_med, idle_max, max = 0;
    size_t n = 0;
    uint64_t t0, t_done = 0;
    (void)state;
    big = memfd_create("guest-1gib", MFD_CLOEXEC);
    assert_true(big >= 0);
    assert_int_equal(ftruncate(big, (off_t)BIG_SIZE), 0);
    g_temporal_big = big;
    g_temporal_bm = mmap(NULL, BIG_SIZE, PROT_READ, MAP_SHARED, big, 0);
    assert_true(g_temporal_bm != MAP_FAILED);
    bm = g_temporal_bm;
    fe_start(&f, g_s0, F_VERSION_1);
    temporal_track(&f);
    fe_start(&g, g_s1, F_VERSION_1);
    temporal_track(&g);
    /* Regions A and B as before, and C: 1 GiB of its own memfd. */
    mem_two(p, GPA_A, REG_SIZE, (uint64_t)(uintptr_t)g.ram, GPA_B, REG_SIZE, ua_b(&g, 0));
    put64(p + 64, REG_SIZE);
    put32(p, 3);
    put64(p + 72, BIG_GPA);
    put64(p + 80, BIG_SIZE);
    put64(p + 88, UINT64_C(0x7f0000000000));
    put64(p + 96, 0);
    fds[0] = g.memfd;
    fds[1] = g.memfd;
    fds[2] = big;
    assert_int_equal(ack_msg(&g, VHU_SET_MEM_TABLE, p, (uint32_t)sizeof(p), fds, 3), 0);
    latency_over(&f, 300, &idle_med, &idle_max);
    set_desc(&g, ram_b(&g, OFF_DESC), 0, BIG_GPA, (uint32_t)BIG_SIZE, SVD_VRING_DESC_F_WRITE, 0);
    publish(&g, 0);
    t0 = now_us();
    kick(&g);
    /* Sampled until the big one completes (at most 300 s: 11-23 s here, about
     * 60 s in the -O0 coverage build on a loaded machine); past the array's
     * room only the maximum is kept. */
    while (now_us() - t0 < UINT64_C(300000000)) {
        int64_t l = timed_request(&f, f.kick, 15000);
        l = l < 0 ? 15000000 : l;
        max = l > max ? l : max;
        if (n < sizeof(lat) / sizeof(lat[0])) {
            lat[n++] = l;
        }
        if (used_idx(&g) != g.last_used) {
            t_done = now_us();
            break;
        }
        sleep_ms(2);
    }
    assert_true(t_done != 0);
    assert_true(wait_used(&g, 0, &id, &len));
    assert_int_equal(id, 0);
    assert_int_equal(len, (uint32_t)BIG_SIZE);
    assert_true(big_filled(bm)); /* completed only once the whole buffer was written */
    assert_int_equal(used_idx(&g), 1);
    qsort(lat, n, sizeof(lat[0]), cmp_i64);
    fprintf(stderr,
            "temporal: one 1 GiB request on instance 1 served in %.2f s; latency of instance 0 meanwhile (us, %zu "
            "requests): median %lld p99 %lld max %lld (idle: median %lld max %lld; bound: p99 < %d, max < %d)\n",
            (double)(t_done - t0) / 1e6, n, (long long)lat[n / 2], (long long)lat[(n * 99u) / 100u],
            (long long)max, (long long)idle_med, (long long)idle_max, TEMPORAL_BOUND_US, TEMPORAL_CAP_US);
    assert_true(lat[(n * 99u) / 100u] < TEMPORAL_BOUND_US);
    assert_true(max < TEMPORAL_CAP_US);
    assert_true(n >= 10u); /* instance 0 was served all along, not only after */
    temporal_close(&g);
    temporal_close(&f);
    assert_int_equal(temporal_test_teardown(NULL), 0); /* the 1 GiB region released */
    both_instances_serve();
}

int main(void)
{
    const char *tmp = getenv("VHU_TMP");
    const struct CMUnitTest daemon_tests[] = {
        cmocka_unit_test(test_negotiate_and_entropy_arrives),
        cmocka_unit_test(test_event_idx_and_indirect),
        cmocka_unit_test(test_polling_without_kick_fd),
        cmocka_unit_test(test_attack_short_header),
        cmocka_unit_test(test_attack_wrong_payload_size),
        cmocka_unit_test(test_attack_oversized_payload),
        cmocka_unit_test(test_attack_too_many_fds),
        cmocka_unit_test(test_attack_bad_queue_index),
        cmocka_unit_test(test_attack_bad_regions),
        cmocka_unit_test(test_attack_ring_outside_memory),
        cmocka_unit_test(test_attack_bad_flags_and_unknown_request),
        cmocka_unit_test(test_attack_guest_bad_head_signals_err),
        cmocka_unit_test(test_attack_memory_shrunk_under_daemon),
        cmocka_unit_test(test_reconnect_resumes),
        cmocka_unit_test(test_attack_kick_hangup_no_busy_loop),
        cmocka_unit_test(test_attack_call_pipe_never_read),
        cmocka_unit_test(test_attack_trickle_does_not_stall_other_instance),
        cmocka_unit_test(test_attack_refused_request_changes_nothing),
        cmocka_unit_test(test_attack_replies_never_read),
        cmocka_unit_test(test_sandboxed_and_counters_on_sigusr1),
    };
    const struct CMUnitTest solo_tests[] = {
        cmocka_unit_test(test_shutdown_signals_clean_up),
        cmocka_unit_test(test_source_failure_keeps_request_pending),
        cmocka_unit_test(test_source_dev_zero_caught_by_health_tests),
        cmocka_unit_test(test_rate_limit_bytes),
        cmocka_unit_test(test_rate_limit_ops),
        cmocka_unit_test(test_cli_help_version_and_errors),
        cmocka_unit_test(test_socket_path_stale_socket_replaced_other_file_kept),
        cmocka_unit_test(test_socket_live_not_taken_over),
        cmocka_unit_test(test_source_unreadable_refused_at_start),
        cmocka_unit_test(test_conventions_print_capabilities_and_fd),
        cmocka_unit_test(test_sandbox_forbidden_syscall_kills),
        cmocka_unit_test(test_user_group_drop_privileges),
        cmocka_unit_test(test_socket_private_by_default_and_peer_checked),
        cmocka_unit_test_teardown(test_require_sealed_memory, sealed_teardown),
        cmocka_unit_test(test_dispatcher_no_fd_or_mapping_leak),
        cmocka_unit_test(test_dispatcher_garbage_never_crashes),
        cmocka_unit_test(test_dispatcher_garbage_with_fds_never_crashes),
        cmocka_unit_test(test_dispatcher_each_refusal_in_process),
        cmocka_unit_test(test_dispatcher_ring_preconditions_and_biased_source),
        cmocka_unit_test(test_dispatcher_ring_served_only_when_complete),
        cmocka_unit_test(test_cli_and_socket_path_edges),
        cmocka_unit_test(test_user_group_by_name_and_group_alone),
        cmocka_unit_test(test_stop_and_continue_serves_on),
        cmocka_unit_test(test_exit_removes_only_its_own_sockets),
        cmocka_unit_test(test_user_without_root_refused),
        cmocka_unit_test(test_source_fifo_waits_then_serves),
        cmocka_unit_test(test_source_read_error_keeps_the_request_waiting),
    };
    const struct CMUnitTest temporal_tests[] = {
        cmocka_unit_test_teardown(test_temporal_greedy_neighbour_latency_bounded, temporal_test_teardown),
        cmocka_unit_test_teardown(test_temporal_1gib_request_does_not_hold_the_loop, temporal_test_teardown),
    };
    const char *temporal = getenv("VHU_TEMPORAL");
    int fails;
    g_daemon = getenv("VHU_DAEMON");
    if (getenv("VHU_TEST_FILTER") != NULL) {
        /* Run only the tests whose name matches (cmocka's pattern). */
        cmocka_set_test_filter(getenv("VHU_TEST_FILTER"));
    }
    if (g_daemon == NULL || tmp == NULL) {
        fprintf(stderr, "test_vhu: set VHU_DAEMON and VHU_TMP\n");
        return 1;
    }
    snprintf(g_tmp, sizeof(g_tmp), "%s", tmp);
    mkdir(g_tmp, 0700);
    /* Files the daemons create are world-writable: in a coverage build the
     * daemon started with --user (uid 65534) can then update the coverage
     * data the root daemons wrote. Nothing else depends on it. */
    umask(0);
    signal(SIGPIPE, SIG_IGN);
    fails = cmocka_run_group_tests_name("vhost-user daemon (shared, 2 instances)", daemon_tests, group_setup,
                                        group_teardown);
    fails += cmocka_run_group_tests_name("vhost-user daemon (own instances) + dispatcher", solo_tests, NULL, NULL);
    if (temporal != NULL && strcmp(temporal, "1") == 0) {
        /* A fresh daemon of two instances (group_setup again). */
        fails += cmocka_run_group_tests_name("vhost-user daemon (temporal, 2 instances, host only)", temporal_tests,
                                            group_setup, group_teardown);
    } else {
        /* Not run, so not reported as passed: the count says what was left out. */
        fprintf(stderr, "test_vhu: the temporal group (%zu tests) was not run: VHU_TEMPORAL is not 1\n",
                sizeof(temporal_tests) / sizeof(temporal_tests[0]));
    }
    return fails == 0 ? 0 : 1;
}
