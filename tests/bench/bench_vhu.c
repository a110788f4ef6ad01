/* Daemon benchmark: a load generator playing a vhost-user front-end against
 * the real vhost-user-entropy binary. No VM: guest RAM is a memfd shared with
 * the daemon over SET_MEM_TABLE, the split ring is written by the driver
 * model (tests/common/tg_vring.h) straight into that RAM, and kick/call are
 * eventfds, as QEMU sets them up.
 *
 *   bench_vhu run DAEMON DIR NINST DEPTH SECONDS [WRAPPER...]
 *       start DAEMON (after WRAPPER, e.g. valgrind) with NINST sockets in DIR,
 *       keep DEPTH 64-byte write-only requests in flight on every instance for
 *       SECONDS, then SIGTERM it and take its rusage from wait4() (with a
 *       WRAPPER, the wrapper's: use such runs for profiles only).
 *   bench_vhu rss DAEMON DIR NINST
 *       RSS of the daemon listening on NINST sockets, then with every
 *       instance connected, negotiated and having served 64 requests.
 *
 * The driver side behaves like Linux: EVENT_IDX negotiated, used_event set to
 * the next completion after reaping, a kick only when avail_event asks for
 * one. Latency of a request: from its publication to its reaping here.
 * BENCH_RING=packed in the environment: the same over a packed ring
 * (VIRTIO_F_RING_PACKED, tests/common/tg_pring.h; the driver event set to
 * the next used position after reaping, a kick only when the device's event
 * asks for one).
 * Output: "BENCH ..." lines parsed by tests/bench/bench.py. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "safevdev/span.h"
#include "safevdev/virtqueue.h"
#include "tg_mem.h"
#include "tg_pring.h"
#include "tg_vring.h"
#include "vhu_proto.h"

#define MAX_INST 64
#define QSZ 256u
#define RAM_SIZE (1024u * 1024u)
#define BUF_GPA UINT64_C(0x10000)
#define REQ_LEN 64u
#define F_VERSION_1 (UINT64_C(1) << 32)
#define F_EVENT_IDX (UINT64_C(1) << 29)
#define F_PACKED (UINT64_C(1) << 34)
#define MAX_SAMPLES (8u * 1024u * 1024u)

typedef struct fe {
    int sock, memfd, kick, call;
    uint8_t *ram;
    tg_mem mem;
    tg_vring ring;
    tg_pring pr;
    uint64_t t_pub[QSZ];
} fe;

static bool g_packed; /* BENCH_RING=packed */

/* The driver's next available position (split: avail idx; packed: encoded). */
static uint16_t fe_avail(const fe *f)
{
    return g_packed ? f->pr.avail : f->ring.avail_idx;
}

static fe g_fe[MAX_INST];
static uint32_t *g_lat;     /* ns, one per reaped request */
static size_t g_nlat;
static uint64_t g_kicks, g_stalls, g_calls;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_vhu: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ------------------------------------------------------------- messages */

static void msg_send(int sock, uint32_t req, const uint8_t *payload, uint32_t len, const int *fds, size_t nfds)
{
    uint8_t buf[VHU_HDR_SIZE + 64];
    struct iovec iov = { buf, VHU_HDR_SIZE + len };
    struct msghdr mh;
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(int) * 8)];
    } ctl;
    svd_store_le32(buf, req);
    svd_store_le32(buf + 4, VHU_VERSION | VHU_FLAG_NEED_REPLY);
    svd_store_le32(buf + 8, len);
    if (len > 0u) {
        memcpy(buf + VHU_HDR_SIZE, payload, len);
    }
    memset(&mh, 0, sizeof(mh));
    memset(&ctl, 0, sizeof(ctl));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (nfds > 0u) {
        struct cmsghdr *cm;
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)iov.iov_len) {
        die("sendmsg");
    }
}

/* Send with NEED_REPLY and return the u64 of the reply (GET_*: the value;
 * SET_*: the ack, 0 = success). */
static uint64_t msg_call(int sock, uint32_t req, const uint8_t *payload, uint32_t len, const int *fds, size_t nfds)
{
    uint8_t hdr[VHU_HDR_SIZE], val[8];
    msg_send(sock, req, payload, len, fds, nfds);
    if (recv(sock, hdr, sizeof(hdr), MSG_WAITALL) != (ssize_t)sizeof(hdr) || svd_load_le32(hdr) != req ||
        svd_load_le32(hdr + 8) != 8u || recv(sock, val, 8, MSG_WAITALL) != 8) {
        fprintf(stderr, "bench_vhu: no reply to request %u\n", req);
        exit(1);
    }
    return svd_load_le64(val);
}

static void set_ok(int sock, uint32_t req, const uint8_t *payload, uint32_t len, const int *fds, size_t nfds)
{
    if (msg_call(sock, req, payload, len, fds, nfds) != 0u) {
        fprintf(stderr, "bench_vhu: request %u refused\n", req);
        exit(1);
    }
}

static void set_u64(int sock, uint32_t req, uint64_t v, const int *fds, size_t nfds)
{
    uint8_t p[8];
    svd_store_le64(p, v);
    set_ok(sock, req, p, 8, fds, nfds);
}

static void set_state(int sock, uint32_t req, uint32_t idx, uint32_t num)
{
    uint8_t p[8];
    svd_store_le32(p, idx);
    svd_store_le32(p + 4, num);
    set_ok(sock, req, p, 8, NULL, 0);
}

static uint64_t ua(const fe *f, uint64_t gpa)
{
    return (uint64_t)(uintptr_t)(f->ram + gpa);
}

/* ------------------------------------------------------------ front-end */

static int connect_to(const char *path)
{
    struct sockaddr_un sa;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint64_t t0 = now_ns();
    if (s < 0) {
        die("socket");
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "bench_vhu: socket path too long: %s\n", path);
        exit(1);
    }
    memcpy(sa.sun_path, path, strlen(path) + 1u);
    while (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (now_ns() - t0 > UINT64_C(20000000000)) {
            die(path);
        }
        usleep(10000);
    }
    return s;
}

/* Connect, share RAM, negotiate like QEMU's vhost-user-rng, start the ring. */
static void fe_start(fe *f, const char *path)
{
    uint8_t p[64];
    uint64_t feat;
    memset(f, 0, sizeof(*f));
    f->sock = connect_to(path);
    f->memfd = memfd_create("bench-guest-ram", MFD_CLOEXEC);
    if (f->memfd < 0 || ftruncate(f->memfd, RAM_SIZE) != 0) {
        die("memfd");
    }
    f->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    if (f->ram == MAP_FAILED) {
        die("mmap");
    }
    f->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    f->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (f->kick < 0 || f->call < 0) {
        die("eventfd");
    }
    /* The driver model addresses RAM through tg_mem; here RAM is the memfd. */
    f->mem.ram = f->ram;
    f->mem.gpa = 0u;
    f->mem.size = RAM_SIZE;
    if (g_packed) {
        (void)tg_pring_init(&f->pr, &f->mem, (uint16_t)QSZ, 0u);
    } else {
        (void)tg_vring_init(&f->ring, &f->mem, (uint16_t)QSZ, 0u);
        for (uint32_t i = 0; i < QSZ; i++) {
            tg_vring_set_desc(&f->ring, (uint16_t)i, BUF_GPA + REQ_LEN * i, REQ_LEN,
                              (uint16_t)SVD_VRING_DESC_F_WRITE, 0u);
        }
    }

    feat = msg_call(f->sock, VHU_GET_FEATURES, NULL, 0, NULL, 0);
    if ((feat & (F_VERSION_1 | F_EVENT_IDX | VHU_F_PROTOCOL_FEATURES)) !=
        (F_VERSION_1 | F_EVENT_IDX | VHU_F_PROTOCOL_FEATURES)) {
        fprintf(stderr, "bench_vhu: daemon lacks VERSION_1/EVENT_IDX\n");
        exit(1);
    }
    (void)msg_call(f->sock, VHU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0);
    set_u64(f->sock, VHU_SET_PROTOCOL_FEATURES, VHU_PF_REPLY_ACK, NULL, 0);
    set_ok(f->sock, VHU_SET_OWNER, NULL, 0, NULL, 0);
    set_u64(f->sock, VHU_SET_FEATURES,
            F_VERSION_1 | F_EVENT_IDX | VHU_F_PROTOCOL_FEATURES | (g_packed ? F_PACKED : 0u), NULL, 0);
    svd_store_le32(p, 1u);
    svd_store_le32(p + 4, 0u);
    svd_store_le64(p + 8, 0u);          /* guest address */
    svd_store_le64(p + 16, RAM_SIZE);   /* size */
    svd_store_le64(p + 24, ua(f, 0u));  /* front-end address */
    svd_store_le64(p + 32, 0u);         /* mmap offset */
    set_ok(f->sock, VHU_SET_MEM_TABLE, p, VHU_MEM_HDR_SIZE + VHU_MEM_REGION_SIZE, &f->memfd, 1);
    set_state(f->sock, VHU_SET_VRING_NUM, 0u, QSZ);
    set_state(f->sock, VHU_SET_VRING_BASE, 0u, g_packed ? 0x80008000u : 0u);
    memset(p, 0, VHU_ADDR_SIZE);
    svd_store_le64(p + 8, ua(f, g_packed ? f->pr.desc : f->ring.desc));
    svd_store_le64(p + 16, ua(f, g_packed ? f->pr.device : f->ring.used));
    svd_store_le64(p + 24, ua(f, g_packed ? f->pr.driver : f->ring.avail));
    set_ok(f->sock, VHU_SET_VRING_ADDR, p, VHU_ADDR_SIZE, NULL, 0);
    set_u64(f->sock, VHU_SET_VRING_CALL, 0u, &f->call, 1);
    set_u64(f->sock, VHU_SET_VRING_KICK, 0u, &f->kick, 1);
    set_state(f->sock, VHU_SET_VRING_ENABLE, 0u, 1u);
}

static void fe_kick(fe *f)
{
    uint64_t one = 1;
    if (write(f->kick, &one, 8) != 8) {
        die("kick");
    }
    g_kicks++;
}

/* Publish head; a kick only if the device asked for one (full barrier first,
 * as virtqueue_kick_prepare). */
static void fe_publish(fe *f, uint16_t head, uint16_t old, bool last)
{
    f->t_pub[head] = now_ns();
    if (g_packed) {
        const tg_pbuf b = { BUF_GPA + REQ_LEN * head, REQ_LEN, true };
        tg_pring_add(&f->pr, &b, 1u, head);
    } else {
        tg_vring_publish(&f->ring, head);
    }
    if (last) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (g_packed ? tg_pring_should_kick(&f->pr, true, old) : tg_vring_should_kick(&f->ring, true, old)) {
            fe_kick(f);
        }
    }
}

static bool fe_get_used(fe *f, uint32_t *id, uint32_t *len)
{
    if (g_packed) {
        uint16_t i = 0, fl = 0;
        const bool got = tg_pring_get_used(&f->pr, &i, len, &fl);
        *id = i;
        return got;
    }
    return tg_vring_get_used(&f->ring, id, len);
}

/* A used element waits at the driver's next used position. */
static bool fe_used_pending(const fe *f)
{
    if (g_packed) {
        const uint16_t fl = tg_pring_flags(&f->pr, (uint16_t)(f->pr.used & 0x7FFFu));
        const bool wrap = (f->pr.used & SVD_VQ_WRAP_BIT) != 0u;
        return ((fl & SVD_VRING_PACKED_DESC_F_USED) != 0u) == wrap &&
               ((fl & SVD_VRING_PACKED_DESC_F_AVAIL) != 0u) == wrap;
    }
    return tg_vring_used_idx(&f->ring) != f->ring.last_used;
}

/* Reap what is used, re-publish each head at once; returns the count. */
static uint64_t fe_reap(fe *f, bool republish)
{
    uint64_t n = 0;
    uint16_t old = fe_avail(f);
    for (;;) {
        uint32_t id = 0, len = 0;
        while (fe_get_used(f, &id, &len)) {
            const uint64_t t = now_ns();
            if (id >= QSZ || len != REQ_LEN) {
                fprintf(stderr, "bench_vhu: bad used element id=%u len=%u\n", id, len);
                exit(1);
            }
            if (g_lat != NULL && g_nlat < MAX_SAMPLES) {
                g_lat[g_nlat++] = (uint32_t)(t - f->t_pub[id] > UINT32_MAX ? UINT32_MAX : t - f->t_pub[id]);
            }
            n++;
            if (republish) {
                fe_publish(f, (uint16_t)id, old, false);
            }
        }
        /* Interrupt at the next completion, then look once more (the race
         * virtqueue_enable_cb closes). */
        if (g_packed) {
            tg_pring_set_driver_event(&f->pr, f->pr.used, SVD_VRING_PACKED_EVENT_DESC);
        } else {
            tg_vring_set_used_event(&f->ring, f->ring.last_used);
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!fe_used_pending(f)) {
            break;
        }
    }
    if (republish && fe_avail(f) != old) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (g_packed ? tg_pring_should_kick(&f->pr, true, old) : tg_vring_should_kick(&f->ring, true, old)) {
            fe_kick(f);
        }
    }
    return n;
}

/* -------------------------------------------------------------- daemon */

static pid_t daemon_start(char **wrap, size_t nwrap, const char *daemon, const char *dir, int ninst)
{
    char base[200], count[16], logp[240];
    char *argv[40];
    size_t n = 0;
    pid_t pid;
    snprintf(base, sizeof(base), "%s/s", dir);
    snprintf(count, sizeof(count), "%d", ninst);
    snprintf(logp, sizeof(logp), "%s/daemon.log", dir);
    for (size_t i = 0; i < nwrap && n < 30; i++) {
        argv[n++] = wrap[i];
    }
    argv[n++] = (char *)(uintptr_t)daemon;
    argv[n++] = (char *)(uintptr_t)"--socket-path";
    argv[n++] = base;
    argv[n++] = (char *)(uintptr_t)"--socket-count";
    argv[n++] = count;
    argv[n] = NULL;
    for (int i = 0; i < ninst; i++) {
        char s[220];
        snprintf(s, sizeof(s), "%s%d", base, i);
        (void)unlink(s);
    }
    pid = fork();
    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            (void)dup2(fd, 1);
            (void)dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void connect_all(const char *dir, int ninst)
{
    for (int i = 0; i < ninst; i++) {
        char s[220];
        snprintf(s, sizeof(s), "%s/s%d", dir, i);
        fe_start(&g_fe[i], s);
    }
}

/* wrapped: the child is a wrapper (a profiler) whose exit status is its own. */
static void daemon_stop(pid_t pid, struct rusage *ru, bool wrapped)
{
    int st = 0;
    if (kill(pid, SIGTERM) != 0 || wait4(pid, &st, 0, ru) != pid) {
        die("stop daemon");
    }
    if (!wrapped && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
        fprintf(stderr, "bench_vhu: daemon ended with status 0x%x\n", st);
        exit(1);
    }
}

/* A field of /proc/PID/status in kB (VmRSS, RssAnon, ...). */
static long proc_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    long v = -1;
    size_t kl = strlen(key);
    FILE *fp;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    fp = fopen(path, "r");
    if (fp == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(fp);
    return v;
}

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int cmd_run(const char *daemon, const char *dir, int ninst, int depth, double seconds, char **wrap,
                   size_t nwrap)
{
    struct pollfd pfd[MAX_INST];
    struct rusage ru;
    uint64_t done = 0, t0, t_end;
    double wall, cpu;
    pid_t pid = daemon_start(wrap, nwrap, daemon, dir, ninst);
    connect_all(dir, ninst);
    g_lat = malloc(sizeof(*g_lat) * MAX_SAMPLES);
    if (g_lat == NULL) {
        die("malloc");
    }
    t0 = now_ns();
    t_end = t0 + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < ninst; i++) {
        uint16_t old = fe_avail(&g_fe[i]);
        for (int k = 0; k < depth; k++) {
            fe_publish(&g_fe[i], (uint16_t)k, old, k == depth - 1);
        }
        pfd[i].fd = g_fe[i].call;
        pfd[i].events = POLLIN;
    }
    while (now_ns() < t_end) {
        int r = poll(pfd, (nfds_t)ninst, 1000);
        if (r < 0 && errno != EINTR) {
            die("poll");
        }
        if (r == 0) {
            /* No interrupt for a second: count it and kick everyone. */
            g_stalls++;
            for (int i = 0; i < ninst; i++) {
                fe_kick(&g_fe[i]);
            }
            continue;
        }
        for (int i = 0; i < ninst && r > 0; i++) {
            if ((pfd[i].revents & POLLIN) != 0) {
                uint64_t v;
                if (read(g_fe[i].call, &v, 8) == 8) {
                    g_calls++;
                }
                done += fe_reap(&g_fe[i], true);
            }
        }
    }
    wall = (double)(now_ns() - t0) / 1e9;
    daemon_stop(pid, &ru, nwrap > 0u);
    cpu = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
    qsort(g_lat, g_nlat, sizeof(*g_lat), cmp_u32);
    if (g_nlat == 0u) {
        fprintf(stderr, "bench_vhu: no request completed\n");
        return 1;
    }
    printf("BENCH vhu ring=%s inst=%d depth=%d seconds=%.2f requests=%llu rps=%.0f p50_us=%.2f p99_us=%.2f "
           "daemon_user_s=%.3f daemon_sys_s=%.3f cpu_ns_per_req=%.0f rps_per_core=%.0f kicks=%llu calls=%llu "
           "stalls=%llu\n",
           g_packed ? "packed" : "split", ninst, depth, wall, (unsigned long long)done, (double)done / wall,
           (double)g_lat[g_nlat / 2u] / 1e3, (double)g_lat[(size_t)((double)g_nlat * 0.99)] / 1e3,
           tv_s(ru.ru_utime), tv_s(ru.ru_stime), cpu * 1e9 / (double)done, (double)done / cpu,
           (unsigned long long)g_kicks, (unsigned long long)g_calls, (unsigned long long)g_stalls);
    return g_stalls == 0u ? 0 : 1;
}

static int cmd_rss(const char *daemon, const char *dir, int ninst)
{
    struct rusage ru;
    long idle_rss, idle_anon, conn_rss, conn_anon;
    pid_t pid = daemon_start(NULL, 0, daemon, dir, ninst);
    char last[220];
    /* Listening means the last socket exists; connect_to would take it. */
    snprintf(last, sizeof(last), "%s/s%d", dir, ninst - 1);
    for (int t = 0; access(last, F_OK) != 0; t++) {
        if (t > 2000) {
            fprintf(stderr, "bench_vhu: daemon did not listen\n");
            return 1;
        }
        usleep(10000);
    }
    usleep(100000);
    idle_rss = proc_kb(pid, "VmRSS");
    idle_anon = proc_kb(pid, "RssAnon");
    connect_all(dir, ninst);
    for (int i = 0; i < ninst; i++) {
        fe *f = &g_fe[i];
        uint64_t got = 0;
        uint16_t old = fe_avail(f);
        for (uint16_t k = 0; k < 64u; k++) {
            fe_publish(f, k, old, k == 63u);
        }
        for (int t = 0; got < 64u; t++) {
            struct pollfd p = { f->call, POLLIN, 0 };
            uint64_t v;
            if (t > 100 || poll(&p, 1, 100) < 0) {
                fprintf(stderr, "bench_vhu: instance %d did not serve\n", i);
                return 1;
            }
            (void)read(f->call, &v, 8);
            got += fe_reap(f, false);
        }
    }
    conn_rss = proc_kb(pid, "VmRSS");
    conn_anon = proc_kb(pid, "RssAnon");
    daemon_stop(pid, &ru, false);
    printf("BENCH rss inst=%d idle_rss_kb=%ld idle_anon_kb=%ld conn_rss_kb=%ld conn_anon_kb=%ld maxrss_kb=%ld\n",
           ninst, idle_rss, idle_anon, conn_rss, conn_anon, ru.ru_maxrss);
    return 0;
}

int main(int argc, char **argv)
{
    const char *ring = getenv("BENCH_RING");
    g_packed = ring != NULL && strcmp(ring, "packed") == 0;
    if (argc >= 7 && strcmp(argv[1], "run") == 0) {
        int ninst = atoi(argv[4]), depth = atoi(argv[5]);
        if (ninst < 1 || ninst > MAX_INST || depth < 1 || depth > (int)QSZ) {
            fprintf(stderr, "bench_vhu: 1..%d instances, depth 1..%u\n", MAX_INST, QSZ);
            return 2;
        }
        return cmd_run(argv[2], argv[3], ninst, depth, atof(argv[6]), argv + 7, (size_t)(argc - 7));
    }
    if (argc == 5 && strcmp(argv[1], "rss") == 0) {
        int ninst = atoi(argv[4]);
        if (ninst < 1 || ninst > MAX_INST) {
            return 2;
        }
        return cmd_rss(argv[2], argv[3], ninst);
    }
    fprintf(stderr, "usage: bench_vhu run DAEMON DIR NINST DEPTH SECONDS [WRAPPER...] | rss DAEMON DIR NINST\n");
    return 2;
}
