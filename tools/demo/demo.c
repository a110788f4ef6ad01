/* svd-demo: drives the safevdev core the way a guest driver would.
 *
 * Guest RAM and the split ring come from the test helpers (tg_mem with
 * canaries, tg_vring driver model); the device is the core's composed engine
 * (virtio-mmio transport + device + the virtio-entropy model, fed by
 * getrandom(2)), reached only through its register face as a guest would.
 * The demo plays the Linux driver's bring-up (virtio 1.2 §3.1.1, §4.2.3),
 * posts buffers, kicks, and prints what the device delivered. A second phase shows the rate limiter
 * deferring requests against an injected clock.
 *
 * Exit status 0 only if every check the demo makes holds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "safevdev/entropy.h"
#include "safevdev/mmio.h"
#include "safevdev/vdev.h"
#include "tg_mem.h"
#include "tg_vring.h"

#define RAM_GPA UINT64_C(0x40000000)
#define RAM_SIZE (256u * 1024u)
#define QSIZE 16u
#define BUF_GPA (RAM_GPA + 0x8000u)
#define TABLE_GPA (RAM_GPA + 0x4000u)
#define BUF_LEN 64u
#define NS_PER_S UINT64_C(1000000000)
#define MMIO_BASE UINT64_C(0x0a000000)

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

static void print_status(const svd_vdev *v)
{
    char b[96];
    const uint8_t s = svd_vdev_status(v);
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
    svd_vdev vdev;
    svd_entropy ent;
    getrandom_src src;
    bool event_idx;
    bool irq;       /* the interrupt line as the engine drives it */
    uint64_t wake;  /* the deadline of the last effect */
} demo;

/* The shim's whole job: apply the effect (here: remember the line and the deadline). */
static void apply(demo *g, const svd_fx *fx)
{
    g->irq = fx->irq_level;
    g->wake = fx->deadline;
    if (fx->failed) {
        printf("  device latched NEEDS_RESET: %s\n", svd_why_name(fx->why));
    }
}

static svd_result mmio_wr(demo *g, uint32_t off, uint32_t val, uint64_t now)
{
    svd_fx fx;
    uint64_t v = val;
    const svd_result r = svd_vdev_access(&g->vdev, SVD_SPACE_MEM, MMIO_BASE + off, 4u, true, &v, now, &fx);
    apply(g, &fx);
    return r;
}

static uint32_t mmio_rd(demo *g, uint32_t off)
{
    svd_fx fx;
    uint64_t v = 0u;
    const svd_result r = svd_vdev_access(&g->vdev, SVD_SPACE_MEM, MMIO_BASE + off, 4u, false, &v, 0u, &fx);
    CHECK(svd_is_ok(r), "register 0x%x read refused: %s", off, svd_err_name(r.err));
    apply(g, &fx);
    return (uint32_t)v;
}

static void write_status(demo *g, uint8_t s, const char *what, bool verbose)
{
    const svd_result r = mmio_wr(g, SVD_MMIO_STATUS, s, 0u);
    if (verbose) {
        printf("  driver writes status 0x%02x (%s): %s\n", s, what, svd_err_name(r.err));
        print_status(&g->vdev);
    }
    CHECK(svd_is_ok(r), "status write 0x%02x refused: %s", s, svd_err_name(r.err));
}

static void write_addr(demo *g, uint32_t low_reg, uint64_t gpa)
{
    CHECK(svd_is_ok(mmio_wr(g, low_reg, (uint32_t)gpa, 0u)), "ring address low 0x%x", low_reg);
    CHECK(svd_is_ok(mmio_wr(g, low_reg + 4u, (uint32_t)(gpa >> 32), 0u)), "ring address high 0x%x", low_reg);
}

/* The Linux bring-up sequence; rings laid out fresh in guest RAM. */
static void bring_up(demo *g, bool verbose)
{
    (void)tg_vring_init(&g->ring, &g->mem, QSIZE, RAM_GPA);
    CHECK(mmio_rd(g, SVD_MMIO_MAGIC_VALUE) == SVD_MMIO_MAGIC, "magic");
    write_status(g, 0u, "reset", verbose);
    write_status(g, SVD_STATUS_ACKNOWLEDGE, "ACKNOWLEDGE", verbose);
    write_status(g, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER, "DRIVER", verbose);

    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_DEVICE_FEATURES_SEL, 0u, 0u)), "features select 0");
    const uint32_t f0 = mmio_rd(g, SVD_MMIO_DEVICE_FEATURES);
    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_DEVICE_FEATURES_SEL, 1u, 0u)), "features select 1");
    const uint64_t offered = (uint64_t)f0 | ((uint64_t)mmio_rd(g, SVD_MMIO_DEVICE_FEATURES) << 32);
    const uint64_t wanted = SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC;
    const uint64_t accept = offered & wanted;
    if (verbose) {
        printf("  device features: 0x%016llx (VERSION_1=%d EVENT_IDX=%d INDIRECT_DESC=%d)\n",
               (unsigned long long)offered, (offered & SVD_F_VERSION_1) != 0u,
               (offered & SVD_F_RING_EVENT_IDX) != 0u, (offered & SVD_F_RING_INDIRECT_DESC) != 0u);
        printf("  driver writes features: 0x%016llx\n", (unsigned long long)accept);
    }
    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_DRIVER_FEATURES_SEL, 0u, 0u)), "driver features select 0");
    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_DRIVER_FEATURES, (uint32_t)accept, 0u)), "features word 0");
    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_DRIVER_FEATURES_SEL, 1u, 0u)), "driver features select 1");
    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_DRIVER_FEATURES, (uint32_t)(accept >> 32), 0u)), "features word 1");
    write_status(g, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK, "FEATURES_OK", verbose);
    const bool fok = (mmio_rd(g, SVD_MMIO_STATUS) & SVD_STATUS_FEATURES_OK) != 0u;
    if (verbose) {
        printf("  driver re-reads status: FEATURES_OK %s\n", fok ? "kept (features accepted)" : "CLEAR");
    }
    CHECK(fok, "FEATURES_OK not kept");
    g->event_idx = (accept & SVD_F_RING_EVENT_IDX) != 0u;

    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_QUEUE_SEL, 0u, 0u)), "queue select");
    const uint32_t qmax = mmio_rd(g, SVD_MMIO_QUEUE_NUM_MAX);
    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_QUEUE_NUM, QSIZE, 0u)), "queue size");
    write_addr(g, SVD_MMIO_QUEUE_DESC_LOW, g->ring.desc);
    write_addr(g, SVD_MMIO_QUEUE_DRIVER_LOW, g->ring.avail);
    write_addr(g, SVD_MMIO_QUEUE_DEVICE_LOW, g->ring.used);
    CHECK(svd_is_ok(mmio_wr(g, SVD_MMIO_QUEUE_READY, 1u, 0u)), "queue ready");
    if (verbose) {
        printf("  queue 0: max %u, size %u, desc 0x%llx avail 0x%llx used 0x%llx, ready=%u\n", qmax, QSIZE,
               (unsigned long long)g->ring.desc, (unsigned long long)g->ring.avail,
               (unsigned long long)g->ring.used, mmio_rd(g, SVD_MMIO_QUEUE_READY));
    }
    write_status(g, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER | SVD_STATUS_FEATURES_OK | SVD_STATUS_DRIVER_OK,
                 "DRIVER_OK", verbose);
}

/* What one kick did, as the demo prints it. */
typedef struct kicked {
    uint32_t completed;
    uint64_t bytes;
} kicked;

/* The driver writes QueueNotify; the engine serves the queue inside the
 * write (the shim applies the effect). @timer: it is the deadline the last
 * effect asked for that fires instead (svd_vdev_tick). */
static svd_result kick(demo *g, uint64_t now, bool timer, kicked *out)
{
    const svd_entropy_stats before = *svd_entropy_stats_of(&g->ent);
    svd_result r = svd_ok();
    if (timer) {
        svd_fx fx;
        svd_vdev_tick(&g->vdev, now, &fx);
        apply(g, &fx);
    } else {
        r = mmio_wr(g, SVD_MMIO_QUEUE_NOTIFY, 0u, now);
    }
    const svd_entropy_stats *after = svd_entropy_stats_of(&g->ent);
    out->completed = (uint32_t)(after->requests - before.requests);
    out->bytes = after->bytes - before.bytes;
    return r;
}

/* The driver's interrupt handler: read and acknowledge InterruptStatus. */
static uint32_t ack_irq(demo *g)
{
    const uint32_t isr = mmio_rd(g, SVD_MMIO_INTERRUPT_STATUS);
    (void)mmio_wr(g, SVD_MMIO_INTERRUPT_ACK, isr, 0u);
    return isr;
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
    const svd_entropy_cfg cfg = { .source = { getrandom_read, &g->src } };
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

    kicked out;
    const svd_result r = kick(g, 0u, false, &out);
    printf("  device: %s, completed %u, bytes %llu, interrupt line %s, InterruptStatus 0x%x\n", svd_err_name(r.err),
           out.completed, (unsigned long long)out.bytes, g->irq ? "raised" : "low",
           mmio_rd(g, SVD_MMIO_INTERRUPT_STATUS));
    CHECK(svd_is_ok(r) && out.completed == n && g->irq, "processing");
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
    const uint32_t isr = ack_irq(g);
    printf("  driver acks interrupt: InterruptStatus 0x%x acknowledged, line %s\n", isr,
           g->irq ? "still raised" : "low");
    CHECK(!g->irq, "line still raised after the acknowledgement");
    print_status(&g->vdev);
    const int needs_reset = (svd_vdev_status(&g->vdev) & SVD_STATUS_NEEDS_RESET) != 0u;
    printf("  summary: %llu requests, %llu bytes delivered, %lu getrandom calls, NEEDS_RESET=%d\n",
           (unsigned long long)svd_entropy_stats_of(&g->ent)->requests,
           (unsigned long long)svd_entropy_stats_of(&g->ent)->bytes, g->src.calls, needs_reset);
    return 0;
}

static int phase_ratelimit(demo *g)
{
    printf("\n== Phase 2: rate limiter (128 bytes/s, 1 request per 100 ms) with an injected clock\n");
    const svd_entropy_cfg cfg = { .source = { getrandom_read, &g->src },
                                  .rate_bytes = { 128u, 0u, NS_PER_S },
                                  .rate_ops = { 1u, 0u, NS_PER_S / 10u } };
    uint64_t now = 0u;
    CHECK(svd_is_ok(svd_entropy_init(&g->ent, &cfg, now)), "entropy init");
    bring_up(g, false);
    printf("  device reset and brought up again (status 0x%02x)\n", svd_vdev_status(&g->vdev));
    for (uint16_t i = 0u; i < 5u; i++) {
        tg_vring_set_desc(&g->ring, i, BUF_GPA + (uint64_t)i * 0x80u, BUF_LEN, SVD_VRING_DESC_F_WRITE, 0u);
        tg_vring_publish(&g->ring, i);
    }
    printf("  driver posted 5 x %u-byte requests at t=0\n", BUF_LEN);
    uint32_t done = 0u;
    for (int round = 0; round < 20 && done < 5u; round++) {
        kicked out;
        const svd_result r = kick(g, now, round > 0, &out);
        CHECK(svd_is_ok(r), "process: %s", svd_err_name(r.err));
        const bool irq = g->irq;
        (void)ack_irq(g);
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
        if (g->wake == SVD_NO_DEADLINE) {
            printf(", queue empty\n");
            break;
        }
        printf(", deferred until t=%.3f s\n", (double)g->wake / 1e9);
        CHECK(g->wake > now, "wake time not in the future");
        now = g->wake; /* the shim's timer fires */
    }
    CHECK(done == 5u, "only %u of 5 requests completed", done);
    /* 5 x 64 bytes against a full 128-byte bucket refilling at 128 B/s:
     * the last request can only be served 1.5 s in. */
    CHECK(now == NS_PER_S * 3u / 2u, "last request served at %llu ns, expected 1.5 s", (unsigned long long)now);
    printf("  summary: %u requests over %.3f s, %llu deferrals\n", done, (double)now / 1e9,
           (unsigned long long)svd_entropy_stats_of(&g->ent)->rate_deferrals);
    return 0;
}

int main(void)
{
    static demo g;
    svd_vdev_cfg vc;

    if (tg_mem_init(&g.mem, RAM_GPA, RAM_SIZE) != 0) {
        printf("cannot allocate guest RAM\n");
        return 1;
    }
    const svd_entropy_cfg cfg = { .source = { getrandom_read, &g.src } };
    memset(&vc, 0, sizeof(vc));
    vc.xport = SVD_XPORT_MMIO;
    vc.mmio_base = MMIO_BASE;
    vc.mmio_vendor = 0x554d4551u;
    if (!svd_is_ok(svd_entropy_init(&g.ent, &cfg, 0u))) {
        printf("entropy init failed\n");
        tg_mem_free(&g.mem);
        return 1;
    }
    svd_entropy_model(&g.ent, &vc.model);
    if (!svd_is_ok(svd_vdev_init(&g.vdev, &vc, &g.mem.map))) {
        printf("device init failed\n");
        tg_mem_free(&g.mem);
        return 1;
    }
    printf("safevdev %s core demo: virtio-entropy (device ID %u) on virtio-mmio at 0x%llx, guest RAM 0x%llx + %u "
           "KiB\n",
           SVD_VERSION, vc.model.device_id, (unsigned long long)MMIO_BASE, (unsigned long long)RAM_GPA,
           RAM_SIZE / 1024u);
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
