/* svd-demo: drives the safevdev core the way a guest driver would.
 *
 * Guest RAM and the split ring come from the test helpers (tg_mem with
 * canaries, tg_vring driver model); the device is the core's virtio device
 * engine plus the virtio-entropy model, fed by getrandom(2). The demo plays
 * the Linux driver's bring-up (virtio 1.2 §3.1.1), posts buffers, kicks, and
 * prints what the device delivered. A second phase shows the rate limiter
 * deferring requests against an injected clock.
 *
 * Exit status 0 only if every check the demo makes holds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "safevdev/device.h"
#include "safevdev/entropy.h"
#include "tg_mem.h"
#include "tg_vring.h"

#define RAM_GPA UINT64_C(0x40000000)
#define RAM_SIZE (256u * 1024u)
#define QSIZE 16u
#define BUF_GPA (RAM_GPA + 0x8000u)
#define TABLE_GPA (RAM_GPA + 0x4000u)
#define BUF_LEN 64u
#define NS_PER_S UINT64_C(1000000000)

static int failures;

#define CHECK(cond, ...)                      \
    do {                                      \
        if (!(cond)) {                        \
            printf("  CHECK FAILED: ");       \
            printf(__VA_ARGS__);              \
            printf("\n");                     \
            failures++;                       \
        }                                     \
    } while (0)

/* ---------------------------------------------------------------- source */

typedef struct getrandom_src {
    unsigned long calls;
    unsigned long bytes;
} getrandom_src;

static svd_result getrandom_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    getrandom_src *s = ctx;
    const ssize_t n = getrandom(buf, len, GRND_NONBLOCK);
    s->calls++;
    if (n < 0) {
        *got = 0u;
        return svd_fail((errno == EAGAIN || errno == EINTR) ? SVD_ERR_AGAIN : SVD_ERR_SOURCE);
    }
    *got = (size_t)n;
    s->bytes += (unsigned long)n;
    return svd_ok();
}

/* ---------------------------------------------------------------- output */

static const char *status_names(uint8_t s, char *buf, size_t cap)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } names[] = {
        { SVD_STATUS_ACKNOWLEDGE, "ACKNOWLEDGE" }, { SVD_STATUS_DRIVER, "DRIVER" },
        { SVD_STATUS_FEATURES_OK, "FEATURES_OK" }, { SVD_STATUS_DRIVER_OK, "DRIVER_OK" },
        { SVD_STATUS_NEEDS_RESET, "NEEDS_RESET" }, { SVD_STATUS_FAILED, "FAILED" },
    };
    size_t used = 0u;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((s & names[i].bit) != 0u) {
            const int n = snprintf(buf + used, cap - used, "%s%s", used != 0u ? "|" : "", names[i].name);
            if (n > 0 && (size_t)n < cap - used) {
                used += (size_t)n;
            }
        }
    }
    if (used == 0u) {
        (void)snprintf(buf, cap, "(reset)");
    }
    return buf;
}

static void print_status(const svd_dev *d)
{
    char b[96];
    const uint8_t s = svd_dev_status(d);
    printf("    status = 0x%02x %s\n", s, status_names(s, b, sizeof(b)));
}

static void hexdump(const uint8_t *p, size_t len, size_t base)
{
    for (size_t i = 0; i < len; i += 16u) {
        printf("      %04zx:", base + i);
        for (size_t j = i; j < i + 16u && j < len; j++) {
            printf(" %02x", p[j]);
        }
        printf("\n");
    }
}

/* ---------------------------------------------------------------- guest */

typedef struct demo {
    tg_mem mem;
    tg_vring ring;
    svd_dev dev;
    svd_entropy ent;
    getrandom_src src;
    bool event_idx;
} demo;

static void write_status(demo *g, uint8_t s, const char *what, bool verbose)
{
    svd_dev_event ev;
    const svd_result r = svd_dev_set_status(&g->dev, s, &ev);
    if (verbose) {
        printf("  driver writes status 0x%02x (%s): %s\n", s, what, svd_err_name(r.err));
        print_status(&g->dev);
    }
    CHECK(svd_is_ok(r), "status write 0x%02x refused: %s", s, svd_err_name(r.err));
}

/* The Linux bring-up sequence; rings laid out fresh in guest RAM. */
static void bring_up(demo *g, bool verbose)
{
    svd_dev_event ev;

    (void)tg_vring_init(&g->ring, &g->mem, QSIZE, RAM_GPA);
    write_status(g, 0u, "reset", verbose);
    write_status(g, SVD_STATUS_ACKNOWLEDGE, "ACKNOWLEDGE", verbose);
    write_status(g, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER, "DRIVER", verbose);

    const uint64_t offered = (uint64_t)svd_dev_host_features_word(&g->dev, 0u) |
                             ((uint64_t)svd_dev_host_features_word(&g->dev, 1u) << 32);
    const uint64_t wanted = SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC;
    const uint64_t accept = offered & wanted;
    if (verbose) {
        printf("  device features: 0x%016llx (VERSION_1=%d EVENT_IDX=%d INDIRECT_DESC=%d)\n",
               (unsigned long long)offered, (offered & SVD_F_VERSION_1) != 0u,
               (offered & SVD_F_RING_EVENT_IDX) != 0u, (offered & SVD_F_RING_INDIRECT_DESC) != 0u);
        printf("  driver writes features: 0x%016llx\n", (unsigned long long)accept);
    }
    CHECK(svd_is_ok(svd_dev_set_driver_features_word(&g->dev, 0u, (uint32_t)accept)), "features word 0");
    CHECK(svd_is_ok(svd_dev_set_driver_features_word(&g->dev, 1u, (uint32_t)(accept >> 32))), "features word 1");
    write_status(g, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK, "FEATURES_OK", verbose);
    const bool fok = (svd_dev_status(&g->dev) & SVD_STATUS_FEATURES_OK) != 0u;
    if (verbose) {
        printf("  driver re-reads status: FEATURES_OK %s\n", fok ? "kept (features accepted)" : "CLEAR");
    }
    CHECK(fok, "FEATURES_OK not kept");
    g->event_idx = (accept & SVD_F_RING_EVENT_IDX) != 0u;

    const uint16_t qmax = svd_dev_queue_max(&g->dev, 0u);
    CHECK(svd_is_ok(svd_dev_queue_set_size(&g->dev, 0u, QSIZE, &ev)), "queue size");
    CHECK(svd_is_ok(svd_dev_queue_set_addrs(&g->dev, 0u, g->ring.desc, g->ring.avail, g->ring.used, &ev)),
          "queue addrs");
    CHECK(svd_is_ok(svd_dev_queue_set_ready(&g->dev, 0u, true, &ev)), "queue ready");
    if (verbose) {
        printf("  queue 0: max %u, size %u, desc 0x%llx avail 0x%llx used 0x%llx, ready=%d\n", qmax, QSIZE,
               (unsigned long long)g->ring.desc, (unsigned long long)g->ring.avail,
               (unsigned long long)g->ring.used, svd_dev_queue(&g->dev, 0u)->enabled);
    }
    write_status(g, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK | SVD_STATUS_DRIVER_OK,
                 "DRIVER_OK", verbose);
}

/* The shim's job on a kick: notify, process, interrupt decision. */
static svd_result kick(demo *g, uint64_t now, svd_entropy_out *out, bool *irq)
{
    svd_vq *q = NULL;
    svd_dev_event ev;
    svd_result r = svd_dev_notify(&g->dev, 0u, &q);
    *irq = false;
    memset(out, 0, sizeof(*out));
    if (!svd_is_ok(r)) {
        return r;
    }
    r = svd_entropy_process(&g->ent, q, &g->mem.map, now, out);
    svd_dev_queue_processed(&g->dev, 0u, r, &ev);
    *irq = ev.irq;
    return r;
}

/* What the driver posted for one request, so the demo can show what arrived. */
typedef struct posted {
    uint16_t head;
    const char *kind;
    uint32_t nseg;
    uint64_t gpa[2];
    uint32_t len[2];
    bool writable;
} posted;

static void show_completion(demo *g, const posted *p, uint32_t id, uint32_t len)
{
    uint32_t cap = 0u;
    for (uint32_t i = 0u; i < p->nseg; i++) {
        cap += p->len[i];
    }
    printf("  request head %u (%s, %u bytes %s): used len %u\n", id, p->kind, cap,
           p->writable ? "device-writable" : "device-readable", len);
    if (!p->writable) {
        CHECK(len == 0u, "read-only buffer completed with len %u", len);
        CHECK(tg_mem_all(&g->mem, p->gpa[0], p->len[0], 0xEEu), "read-only buffer was written");
        printf("      (nothing written; buffer still holds the driver's 0xee fill)\n");
        return;
    }
    CHECK(len >= 1u && len <= cap, "len %u out of 1..%u", len, cap);
    uint32_t left = len;
    for (uint32_t i = 0u; i < p->nseg && left > 0u; i++) {
        const uint32_t n = left < p->len[i] ? left : p->len[i];
        const uint8_t *b = tg_mem_ptr(&g->mem, p->gpa[i]);
        hexdump(b, n, len - left);
        CHECK(!tg_mem_all(&g->mem, p->gpa[i], n, 0xEEu) && !tg_mem_all(&g->mem, p->gpa[i], n, 0u),
              "segment %u does not look like entropy", i);
        left -= n;
    }
}

static int phase_basic(demo *g)
{
    printf("== Phase 1: bring-up and requests (entropy from getrandom(2))\n");
    const svd_entropy_cfg cfg = { { getrandom_read, &g->src }, { 0u, 0u, 0u }, { 0u, 0u, 0u }, 0u };
    CHECK(svd_is_ok(svd_entropy_init(&g->ent, &cfg, 0u)), "entropy init");
    bring_up(g, true);

    posted reqs[6];
    uint32_t n = 0u;
    tg_mem_fill(&g->mem, BUF_GPA, 0x1000u, 0xEEu);
    for (uint16_t i = 0u; i < 4u; i++) {
        const uint64_t a = BUF_GPA + (uint64_t)i * 0x80u;
        tg_vring_set_desc(&g->ring, i, a, BUF_LEN, SVD_VRING_DESC_F_WRITE, 0u);
        reqs[n++] = (posted){ i, "write-only", 1u, { a, 0u }, { BUF_LEN, 0u }, true };
    }
    /* One indirect chain: two 32-byte writable buffers. */
    const uint64_t ia = BUF_GPA + 0x400u, ib = BUF_GPA + 0x480u;
    tg_vring_set_indirect(&g->ring, TABLE_GPA, 0u, ia, 32u, SVD_VRING_DESC_F_WRITE | SVD_VRING_DESC_F_NEXT, 1u);
    tg_vring_set_indirect(&g->ring, TABLE_GPA, 1u, ib, 32u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_set_desc(&g->ring, 4u, TABLE_GPA, 32u, SVD_VRING_DESC_F_INDIRECT, 0u);
    reqs[n++] = (posted){ 4u, "indirect, 2 segments", 2u, { ia, ib }, { 32u, 32u }, true };
    /* One read-only buffer: the device must not write it. */
    const uint64_t ro = BUF_GPA + 0x500u;
    tg_vring_set_desc(&g->ring, 5u, ro, BUF_LEN, 0u, 0u);
    reqs[n++] = (posted){ 5u, "read-only", 1u, { ro, 0u }, { BUF_LEN, 0u }, false };

    const uint16_t old = g->ring.avail_idx;
    for (uint32_t i = 0u; i < n; i++) {
        tg_vring_publish(&g->ring, reqs[i].head);
    }
    const bool should_kick = tg_vring_should_kick(&g->ring, g->event_idx, old);
    printf("  driver posted %u requests; kick needed: %s\n", n, should_kick ? "yes" : "no");
    CHECK(should_kick, "driver would not kick");

    svd_entropy_out out;
    bool irq = false;
    const svd_result r = kick(g, 0u, &out, &irq);
    printf("  device: %s, completed %u, bytes %llu, interrupt %s, ISR 0x%x\n", svd_err_name(r.err), out.completed,
           (unsigned long long)out.bytes, irq ? "raised" : "none", svd_dev_isr(&g->dev));
    CHECK(svd_is_ok(r) && out.completed == n && irq, "processing");
    printf("  avail_event published by the device: %u (driver's next kick point)\n", tg_vring_avail_event(&g->ring));

    uint32_t id = 0u, len = 0u, seen = 0u;
    while (tg_vring_get_used(&g->ring, &id, &len)) {
        const posted *p = NULL;
        for (uint32_t i = 0u; i < n; i++) {
            if (reqs[i].head == id) {
                p = &reqs[i];
            }
        }
        CHECK(p != NULL, "unknown head %u in used ring", id);
        if (p != NULL) {
            show_completion(g, p, id, len);
        }
        seen++;
    }
    CHECK(seen == n, "saw %u completions, expected %u", seen, n);
    printf("  driver acks interrupt: ISR read-and-clear = 0x%x\n", svd_dev_isr_read_clear(&g->dev));
    print_status(&g->dev);
    printf("  summary: %llu requests, %llu bytes delivered, %lu getrandom calls, NEEDS_RESET=%d\n",
           (unsigned long long)g->ent.stats.requests, (unsigned long long)g->ent.stats.bytes, g->src.calls,
           svd_dev_needs_reset(&g->dev));
    return 0;
}

static int phase_ratelimit(demo *g)
{
    printf("\n== Phase 2: rate limiter (128 bytes/s, 1 request per 100 ms) with an injected clock\n");
    const svd_entropy_cfg cfg = { { getrandom_read, &g->src },
                                  { 128u, 0u, NS_PER_S },
                                  { 1u, 0u, NS_PER_S / 10u },
                                  0u };
    uint64_t now = 0u;
    CHECK(svd_is_ok(svd_entropy_init(&g->ent, &cfg, now)), "entropy init");
    bring_up(g, false);
    printf("  device reset and brought up again (status 0x%02x)\n", svd_dev_status(&g->dev));
    for (uint16_t i = 0u; i < 5u; i++) {
        tg_vring_set_desc(&g->ring, i, BUF_GPA + (uint64_t)i * 0x80u, BUF_LEN, SVD_VRING_DESC_F_WRITE, 0u);
        tg_vring_publish(&g->ring, i);
    }
    printf("  driver posted 5 x %u-byte requests at t=0\n", BUF_LEN);
    uint32_t done = 0u;
    for (int round = 0; round < 20 && done < 5u; round++) {
        svd_entropy_out out;
        bool irq = false;
        const svd_result r = kick(g, now, &out, &irq);
        CHECK(svd_is_ok(r), "process: %s", svd_err_name(r.err));
        done += out.completed;
        /* The driver consumes what was used and, like Linux's
         * virtqueue_enable_cb() under EVENT_IDX, asks to hear about the next one. */
        uint32_t id = 0u, len = 0u;
        while (tg_vring_get_used(&g->ring, &id, &len)) {
            CHECK(len == BUF_LEN, "head %u got %u bytes", id, len);
        }
        tg_vring_set_used_event(&g->ring, g->ring.last_used);
        printf("  t=%7.3f s: completed %u (%llu bytes)%s", (double)now / 1e9, out.completed,
               (unsigned long long)out.bytes, irq ? ", interrupt" : "");
        CHECK(irq, "no interrupt for a completion the driver asked for");
        if (!out.wake) {
            printf(", queue empty\n");
            break;
        }
        printf(", deferred until t=%.3f s\n", (double)out.wake_at / 1e9);
        CHECK(out.wake_at > now, "wake time not in the future");
        now = out.wake_at; /* the shim's timer fires */
    }
    CHECK(done == 5u, "only %u of 5 requests completed", done);
    /* 5 x 64 bytes against a full 128-byte bucket refilling at 128 B/s:
     * the last request can only be served 1.5 s in. */
    CHECK(now == NS_PER_S * 3u / 2u, "last request served at %llu ns, expected 1.5 s", (unsigned long long)now);
    printf("  summary: %u requests over %.3f s, %llu deferrals\n", done, (double)now / 1e9,
           (unsigned long long)g->ent.stats.rate_deferrals);
    return 0;
}

int main(void)
{
    static demo g;
    svd_dev_params p;

    if (tg_mem_init(&g.mem, RAM_GPA, RAM_SIZE) != 0) {
        printf("cannot allocate guest RAM\n");
        return 1;
    }
    svd_entropy_dev_params(&p);
    if (!svd_is_ok(svd_dev_init(&g.dev, &p, &g.mem.map))) {
        printf("device init failed\n");
        tg_mem_free(&g.mem);
        return 1;
    }
    printf("safevdev %s core demo: virtio-entropy (device ID %u), guest RAM 0x%llx + %u KiB\n", SVD_VERSION,
           p.device_id, (unsigned long long)RAM_GPA, RAM_SIZE / 1024u);
    (void)phase_basic(&g);
    (void)phase_ratelimit(&g);
    const bool canaries = tg_mem_canaries_intact(&g.mem);
    CHECK(canaries, "guest RAM canaries damaged");
    printf("\nguest RAM canaries intact: %s\n", canaries ? "yes" : "NO");
    tg_mem_free(&g.mem);
    if (failures != 0) {
        printf("demo: %d check(s) FAILED\n", failures);
        return 1;
    }
    printf("demo: all checks passed\n");
    return 0;
}
