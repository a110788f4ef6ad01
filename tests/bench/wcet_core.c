/* Worst-case work of the core's public entry points.
 *
 *   wcet_core            run every case; each measured call goes through
 *                        wcet_call() (kept out of line), and a line
 *                        "WCET case=NAME" is printed before it, in order
 *
 * Run under callgrind with --collect-atstart=no --toggle-collect=wcet_call
 * --dump-after=wcet_call, every measured call becomes one profile dump; the
 * bench script (tests/bench/wcet.py) pairs the dumps with the printed case
 * names and reports the maximum instructions per call of each case.
 *
 * The inputs are the worst the documented limits allow: the longest legal
 * chain (a queue of SVD_VQ_MAX_SIZE descriptors, direct and indirect), a
 * single 1 GiB buffer under the default and under the largest work budget,
 * a queue full of small requests, the same chains and queue on a packed ring, every register offset and width of both
 * transports and both watchdogs, the longest option strings, a full memory
 * map. Every call's result is checked, so a case that stops doing its work
 * fails the run instead of reporting a small figure. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safevdev/entropy.h"
#include "safevdev/fdt.h"
#include "safevdev/gmem.h"
#include "safevdev/mmio.h"
#include "safevdev/parse.h"
#include "safevdev/pci.h"
#include "safevdev/ratelimit.h"
#include "safevdev/vdev.h"
#include "safevdev/wdt_i6300esb.h"
#include "safevdev/wdt_ib700.h"
#include "safevdev/wdt_sp805.h"
#include "tg_mem.h"
#include "tg_pring.h"
#include "tg_vring.h"

#define RAM_GPA UINT64_C(0x100000)
#define MMIO_BASE UINT64_C(0x0a000000)
#define BAR_BASE UINT64_C(0xfe000000)
#define GIB (UINT64_C(1) << 30)

static int failures;

#define CHECK(cond, what)                                        \
    do {                                                         \
        if (!(cond)) {                                           \
            fprintf(stderr, "wcet_core: check failed: %s\n", what); \
            failures++;                                          \
        }                                                        \
    } while (0)

typedef void (*case_fn)(void *ctx);

/* The measured call: one engine call and nothing else. */
void wcet_call(case_fn fn, void *ctx) __attribute__((noinline, noclone));
void wcet_call(case_fn fn, void *ctx)
{
    fn(ctx);
}

static void measure(const char *name, case_fn fn, void *ctx)
{
    printf("WCET case=%s\n", name);
    fflush(stdout);
    wcet_call(fn, ctx);
}

/* Writes every byte it is given with xorshift64 output, as a real source
 * does: the per-byte cost a large request puts on the call, and bytes the
 * source's health tests (SP 800-90B) accept, so the engine serves them. */
static svd_result src_prng(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    static uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    (void)ctx;
    for (size_t i = 0u; i < len; i++) {
        if ((i & 7u) == 0u) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        buf[i] = (uint8_t)(x >> (8u * (i & 7u)));
    }
    *got = len;
    return svd_ok();
}

/* ------------------------------------------------------ composed engine */

typedef struct vq_env {
    tg_mem mem;
    tg_vring ring;
    tg_pring pring;
    svd_entropy ent;
    svd_vdev vdev;
    svd_fx fx;
    svd_result r;
    uint64_t val;
    uint64_t addr;
    uint32_t width;
    bool write;
    svd_space space;
} vq_env;

/* A host-driven engine (no transport) over @ram bytes, queue of @qsize, budget @b. */
static void vq_env_init_fmt(vq_env *e, size_t ram, uint16_t qsize, const svd_budget *b, bool packed)
{
    memset(e, 0, sizeof(*e));
    if (tg_mem_init(&e->mem, RAM_GPA, ram) != 0) {
        fprintf(stderr, "wcet_core: cannot allocate %zu bytes\n", ram);
        exit(1);
    }
    if (packed) {
        (void)tg_pring_init(&e->pring, &e->mem, qsize, RAM_GPA);
    } else {
        (void)tg_vring_init(&e->ring, &e->mem, qsize, RAM_GPA);
    }
    const svd_entropy_cfg cfg = { .source = { src_prng, NULL } };
    CHECK(svd_is_ok(svd_entropy_init(&e->ent, &cfg, 0u)), "entropy init");
    svd_vdev_cfg vc;
    memset(&vc, 0, sizeof(vc));
    vc.xport = SVD_XPORT_NONE;
    svd_entropy_model(&e->ent, &vc.model);
    vc.model.queue_max = (uint16_t)SVD_VQ_MAX_SIZE;
    vc.budget = *b;
    CHECK(svd_is_ok(svd_vdev_init(&e->vdev, &vc, &e->mem.map)), "vdev init");
    svd_vq_setup s = { .size = qsize, .desc = e->ring.desc, .avail = e->ring.avail, .used = e->ring.used,
                       .event_idx = true, .indirect = true };
    if (packed) {
        tg_pring_setup(&e->pring, true, true, &s);
    }
    CHECK(svd_is_ok(svd_vdev_queue_start(&e->vdev, 0u, &s, &e->fx)), "queue start");
}

static void vq_env_init(vq_env *e, size_t ram, uint16_t qsize, const svd_budget *b)
{
    vq_env_init_fmt(e, ram, qsize, b, false);
}

static void do_kick(void *ctx)
{
    vq_env *e = ctx;
    e->r = svd_vdev_kick(&e->vdev, 0u, 0u, &e->fx);
}

static void do_tick(void *ctx)
{
    vq_env *e = ctx;
    svd_vdev_tick(&e->vdev, 0u, &e->fx);
}

/* The longest legal chain: every descriptor of a 32768-entry table, one byte each. */
static void case_longest_chain(bool indirect)
{
    static vq_env e;
    const svd_budget b = { 0u, 0u };
    const uint16_t qsize = (uint16_t)SVD_VQ_MAX_SIZE; /* an indirect table holds at most the queue size */
    const uint64_t table = RAM_GPA + 0x100000u; /* after the rings of a 32768-entry queue (832 KiB) */
    const uint64_t bufs = RAM_GPA + 0x180000u;
    vq_env_init(&e, 0x200000u, qsize, &b);
    for (uint32_t i = 0u; i < SVD_VQ_MAX_SIZE; i++) {
        const uint16_t flags = (uint16_t)(SVD_VRING_DESC_F_WRITE | (i + 1u < SVD_VQ_MAX_SIZE ? SVD_VRING_DESC_F_NEXT : 0u));
        if (indirect) {
            tg_vring_set_indirect(&e.ring, table, (uint16_t)i, bufs + i, 1u, flags, (uint16_t)(i + 1u));
        } else {
            tg_vring_set_desc(&e.ring, (uint16_t)i, bufs + i, 1u, flags, (uint16_t)(i + 1u));
        }
    }
    if (indirect) {
        tg_vring_set_desc(&e.ring, 0u, table, 16u * SVD_VQ_MAX_SIZE, SVD_VRING_DESC_F_INDIRECT, 0u);
    }
    tg_vring_publish(&e.ring, 0u);
    measure(indirect ? "kick_longest_indirect_chain" : "kick_longest_chain", do_kick, &e);
    uint32_t id = 0u, len = 0u;
    const bool got = tg_vring_get_used(&e.ring, &id, &len);
    if (getenv("WCET_DEBUG") != NULL) {
        fprintf(stderr, "chain: r=%s why=%s got=%d len=%u\n", svd_err_name(e.r.err), svd_why_name(e.r.why), got, len);
    }
    CHECK(svd_is_ok(e.r) && got && len == SVD_ENTROPY_MAX_SEGS,
          "longest chain completed with its recorded segments");
    tg_mem_free(&e.mem);
}

/* One 1 GiB writable buffer: one call under budget @b (@want: the bytes
 * that call may move); with the default budget, the next call too. */
static void case_gib(const char *name, const svd_budget *b, uint64_t want)
{
    static vq_env e;
    vq_env_init(&e, (size_t)(GIB + 0x10000u), 16u, b);
    tg_vring_set_desc(&e.ring, 0u, RAM_GPA + 0x10000u, (uint32_t)GIB, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&e.ring, 0u);
    measure(name, do_kick, &e);
    uint32_t id = 0u, len = 0u;
    const bool done = tg_vring_get_used(&e.ring, &id, &len);
    CHECK(svd_is_ok(e.r) && svd_entropy_stats_of(&e.ent)->bytes == (done ? want : 0u),
          "1 GiB request: one call moves at most the budget");
    CHECK(done == (want == GIB), "1 GiB request completed only when whole");
    CHECK(done || e.fx.deadline == 0u, "a request left by the budget asks to come back at once");
    if (!done) {
        /* The rest of the request: served over further calls, each bounded. */
        measure("tick_1gib_request_continues_default_budget", do_tick, &e);
        CHECK(e.fx.deadline == 0u, "still asking to come back at once");
    }
    tg_mem_free(&e.mem);
}

/* A queue full of 64-byte requests: the descriptor budget bounds the call. */
static void case_many_small(void)
{
    static vq_env e;
    const svd_budget b = { 0u, 0u };
    const uint16_t qsize = 1024u;
    vq_env_init(&e, 0x200000u, qsize, &b);
    for (uint16_t i = 0u; i < qsize; i++) {
        tg_vring_set_desc(&e.ring, i, RAM_GPA + 0x100000u + 64u * (uint64_t)i, 64u, SVD_VRING_DESC_F_WRITE, 0u);
        tg_vring_publish(&e.ring, i);
    }
    measure("kick_queue_of_1024_small_requests", do_kick, &e);
    CHECK(svd_is_ok(e.r) && svd_entropy_stats_of(&e.ent)->requests == SVD_BUDGET_DEFAULT_DESCS,
          "descriptor budget bounds the requests per call");
    tg_mem_free(&e.mem);
}

/* The packed ring's longest legal chains: every descriptor of a 32768-entry
 * ring in one chain, or one indirect descriptor pointing at a table of 32768
 * entries; one byte each. Then a queue of 1024 small requests. */
static void case_packed_longest_chain(bool indirect)
{
    static vq_env e;
    static tg_pbuf bufs[SVD_VQ_MAX_SIZE];
    const svd_budget b = { 0u, 0u };
    const uint16_t qsize = (uint16_t)SVD_VQ_MAX_SIZE;
    const uint64_t table = RAM_GPA + 0x100000u; /* after a 32768-entry ring (512 KiB) and its two structures */
    const uint64_t buf = RAM_GPA + 0x180000u;
    vq_env_init_fmt(&e, 0x200000u, qsize, &b, true);
    for (uint32_t i = 0u; i < SVD_VQ_MAX_SIZE; i++) {
        bufs[i] = (tg_pbuf){ .addr = buf + i, .len = 1u, .write = true };
    }
    if (indirect) {
        tg_pring_add_indirect(&e.pring, table, bufs, qsize, 7u);
    } else {
        tg_pring_add(&e.pring, bufs, qsize, 7u);
    }
    measure(indirect ? "packed_kick_longest_indirect_chain" : "packed_kick_longest_chain", do_kick, &e);
    uint16_t id = 0u, flags = 0u;
    uint32_t len = 0u;
    const bool got = tg_pring_get_used(&e.pring, &id, &len, &flags);
    CHECK(svd_is_ok(e.r) && got && id == 7u && len == SVD_ENTROPY_MAX_SEGS,
          "packed longest chain completed with its recorded segments");
    tg_mem_free(&e.mem);
}

static void case_packed_many_small(void)
{
    static vq_env e;
    const svd_budget b = { 0u, 0u };
    const uint16_t qsize = 1024u;
    vq_env_init_fmt(&e, 0x200000u, qsize, &b, true);
    for (uint16_t i = 0u; i < qsize; i++) {
        const tg_pbuf one = { .addr = RAM_GPA + 0x100000u + 64u * (uint64_t)i, .len = 64u, .write = true };
        tg_pring_add(&e.pring, &one, 1u, i);
    }
    measure("packed_kick_queue_of_1024_small_requests", do_kick, &e);
    CHECK(svd_is_ok(e.r) && svd_entropy_stats_of(&e.ent)->requests == SVD_BUDGET_DEFAULT_DESCS,
          "descriptor budget bounds the requests per call (packed)");
    tg_mem_free(&e.mem);
}

/* ------------------------------------------------------- register faces */

static void do_access(void *ctx)
{
    vq_env *e = ctx;
    e->r = svd_vdev_access(&e->vdev, e->space, e->addr, e->width, e->write, &e->val, 0u, &e->fx);
}

static void transport_env(vq_env *e, svd_xport x)
{
    memset(e, 0, sizeof(*e));
    if (tg_mem_init(&e->mem, RAM_GPA, 0x10000u) != 0) {
        exit(1);
    }
    const svd_entropy_cfg cfg = { .source = { src_prng, NULL } };
    CHECK(svd_is_ok(svd_entropy_init(&e->ent, &cfg, 0u)), "entropy init");
    svd_vdev_cfg vc;
    memset(&vc, 0, sizeof(vc));
    vc.xport = x;
    vc.mmio_base = MMIO_BASE;
    vc.pci.class_code = SVD_PCI_CLASS_RNG;
    vc.pci.bar64 = true;
    svd_entropy_model(&e->ent, &vc.model);
    CHECK(svd_is_ok(svd_vdev_init(&e->vdev, &vc, &e->mem.map)), "vdev init");
}

/* Every offset and width of a window, read then write (value all ones). */
static void sweep(vq_env *e, const char *name, svd_space sp, uint64_t base, uint32_t size)
{
    static const uint32_t widths[] = { 1u, 2u, 4u, 8u };
    for (uint32_t off = 0u; off < size; off++) {
        for (size_t w = 0u; w < sizeof(widths) / sizeof(widths[0]); w++) {
            e->space = sp;
            e->addr = base + off;
            e->width = widths[w];
            e->write = false;
            measure(name, do_access, e);
            e->write = true;
            e->val = UINT64_MAX;
            measure(name, do_access, e);
        }
    }
}

static void case_registers(void)
{
    static vq_env e;
    transport_env(&e, SVD_XPORT_MMIO);
    sweep(&e, "access_mmio_every_register", SVD_SPACE_MEM, MMIO_BASE, SVD_MMIO_WINDOW_SIZE);
    tg_mem_free(&e.mem);
    transport_env(&e, SVD_XPORT_PCI);
    sweep(&e, "access_pci_config_every_offset", SVD_SPACE_PCI_CFG, 0u, SVD_PCI_CFG_SIZE);
    /* BAR0 placed and decoding on, then every offset of the common,
     * ISR, device and notify areas. */
    e.space = SVD_SPACE_PCI_CFG;
    e.width = 4u;
    e.write = true;
    e.addr = SVD_PCI_CFG_BAR0;
    e.val = BAR_BASE;
    do_access(&e);
    e.addr = SVD_PCI_CFG_COMMAND;
    e.val = SVD_PCI_CMD_MEMORY;
    do_access(&e);
    sweep(&e, "access_pci_bar_common", SVD_SPACE_MEM, BAR_BASE + SVD_PCI_COMMON_OFF, 0x40u);
    sweep(&e, "access_pci_bar_isr_device_notify", SVD_SPACE_MEM, BAR_BASE + SVD_PCI_ISR_OFF, 8u);
    sweep(&e, "access_pci_bar_isr_device_notify", SVD_SPACE_MEM, BAR_BASE + SVD_PCI_DEVICE_OFF, 8u);
    sweep(&e, "access_pci_bar_isr_device_notify", SVD_SPACE_MEM, BAR_BASE + SVD_PCI_NOTIFY_OFF, 8u);
    tg_mem_free(&e.mem);
}

/* ------------------------------------------------------------ watchdogs */

typedef struct wdt_env {
    svd_esb esb;
    svd_sp805 sp;
    svd_ib700 ib;
    svd_fx fx;
    svd_space space;
    uint64_t addr;
    uint64_t val;
    uint64_t now;
    uint32_t width;
    bool write;
    bool is_sp;
    bool is_ib;
} wdt_env;

static void do_wdt_access(void *ctx)
{
    wdt_env *w = ctx;
    if (w->is_ib) {
        svd_result ri = svd_ib700_access(&w->ib, w->space, w->addr, w->width, w->write, &w->val, w->now, &w->fx);
        (void)ri;
        return;
    }
    svd_result r = w->is_sp ? svd_sp805_access(&w->sp, w->space, w->addr, w->width, w->write, &w->val, w->now, &w->fx)
                            : svd_esb_access(&w->esb, w->space, w->addr, w->width, w->write, &w->val, w->now, &w->fx);
    (void)r;
}

static void do_wdt_tick(void *ctx)
{
    wdt_env *w = ctx;
    if (w->is_ib) {
        svd_ib700_tick(&w->ib, w->now, &w->fx);
    } else if (w->is_sp) {
        svd_sp805_tick(&w->sp, w->now, &w->fx);
    } else {
        svd_esb_tick(&w->esb, w->now, &w->fx);
    }
}

static void wdt_sweep(wdt_env *w, const char *name, svd_space sp, uint64_t base, uint32_t size)
{
    static const uint32_t widths[] = { 1u, 2u, 4u, 8u };
    for (uint32_t off = 0u; off < size; off++) {
        for (size_t i = 0u; i < sizeof(widths) / sizeof(widths[0]); i++) {
            w->space = sp;
            w->addr = base + off;
            w->width = widths[i];
            w->write = false;
            measure(name, do_wdt_access, w);
            w->write = true;
            w->val = UINT64_MAX;
            measure(name, do_wdt_access, w);
        }
    }
}

static void case_watchdogs(void)
{
    static wdt_env w;
    memset(&w, 0, sizeof(w));
    const svd_esb_cfg ec = { .action = SVD_WDT_ACTION_RESET };
    const svd_sp805_cfg sc = { .action = SVD_WDT_ACTION_RESET, .freq_hz = SVD_SP805_MAX_HZ, .base = MMIO_BASE };
    CHECK(svd_is_ok(svd_esb_init(&w.esb, &ec, 0u)), "esb init");
    CHECK(svd_is_ok(svd_sp805_init(&w.sp, &sc, 0u)), "sp805 init");
    wdt_sweep(&w, "esb_access_config_every_offset", SVD_SPACE_PCI_CFG, 0u, 256u);
    /* BAR0 placed and decoding on, then every offset of it. */
    w.space = SVD_SPACE_PCI_CFG;
    w.width = 4u;
    w.write = true;
    w.addr = 0x10u;
    w.val = BAR_BASE;
    do_wdt_access(&w);
    w.addr = 0x04u;
    w.val = 0x2u;
    do_wdt_access(&w);
    wdt_sweep(&w, "esb_access_bar0_every_offset", SVD_SPACE_MEM, BAR_BASE, SVD_ESB_BAR0_SIZE);
    /* SP805: every byte offset of the register blocks (control and status,
     * lock, integration test, ID), every width. */
    w.is_sp = true;
    wdt_sweep(&w, "sp805_access_every_register", SVD_SPACE_MEM, MMIO_BASE, 0x20u);
    wdt_sweep(&w, "sp805_access_every_register", SVD_SPACE_MEM, MMIO_BASE + 0xC00u, 8u);
    wdt_sweep(&w, "sp805_access_every_register", SVD_SPACE_MEM, MMIO_BASE + 0xF00u, 8u);
    wdt_sweep(&w, "sp805_access_every_register", SVD_SPACE_MEM, MMIO_BASE + 0xFE0u, 0x20u);
    /* The latest tick: a clock far in the future folds every expiry into one call. */
    w.now = UINT64_MAX - 1u;
    measure("sp805_tick_at_end_of_clock", do_wdt_tick, &w);
    w.is_sp = false;
    measure("esb_tick_at_end_of_clock", do_wdt_tick, &w);
    /* IB700: every port around its window, every width, the timer running
     * (each write of all ones starts a 0 s timeout: it fires in the call). */
    const svd_ib700_cfg ic = { .action = SVD_WDT_ACTION_RESET, .base = SVD_IB700_DEFAULT_BASE };
    w.now = 0u;
    CHECK(svd_is_ok(svd_ib700_init(&w.ib, &ic, 0u)), "ib700 init");
    w.is_ib = true;
    wdt_sweep(&w, "ib700_access_every_port", SVD_SPACE_IO, SVD_IB700_DEFAULT_BASE - 4u, SVD_IB700_PORTS + 8u);
    w.space = SVD_SPACE_IO;
    w.addr = SVD_IB700_DEFAULT_BASE + SVD_IB700_OFF_START;
    w.width = 1u;
    w.write = true;
    w.val = 0u;
    do_wdt_access(&w);
    w.now = UINT64_MAX - 1u;
    measure("ib700_tick_at_end_of_clock", do_wdt_tick, &w);
}

/* --------------------------------------------------- leaf entry points */

typedef struct leaf_env {
    svd_gmem map;
    uint8_t backing[16];
    uint64_t v;
    char num[SVD_PARSE_MAX_LEN + 1u];
    svd_rate_opts rate;
    svd_tb_cfg b;
    svd_tb_cfg o;
    svd_rate_opt bad;
    svd_result r;
} leaf_env;

static void do_gmem_add(void *ctx)
{
    leaf_env *l = ctx;
    l->r = svd_gmem_add(&l->map, UINT64_C(0x1000) * 100u, 1u, l->backing, SVD_GMEM_READ);
}

static void do_parse(void *ctx)
{
    leaf_env *l = ctx;
    l->r = svd_parse_u64(l->num, 0u, UINT64_MAX, &l->v);
}

static void do_rate(void *ctx)
{
    leaf_env *l = ctx;
    l->r = svd_rate_to_buckets(&l->rate, &l->b, &l->o, &l->bad);
}

static void case_leaves(void)
{
    static leaf_env l;
    memset(&l, 0, sizeof(l));
    svd_gmem_init(&l.map);
    for (uint32_t i = 0u; i + 1u < SVD_GMEM_MAX_REGIONS; i++) {
        CHECK(svd_is_ok(svd_gmem_add(&l.map, UINT64_C(0x1000) * i, 1u, &l.backing[i], SVD_GMEM_READ)), "map fill");
    }
    measure("gmem_add_into_full_map", do_gmem_add, &l);
    memset(l.num, '0', SVD_PARSE_MAX_LEN);
    l.num[SVD_PARSE_MAX_LEN] = '\0';
    measure("parse_u64_longest_value", do_parse, &l);
    CHECK(svd_is_ok(l.r), "longest value parses");
    l.rate.v[SVD_RATE_BYTES] = SVD_RATE_MAX;
    l.rate.v[SVD_RATE_BURST] = SVD_RATE_MAX;
    l.rate.v[SVD_RATE_OPS] = SVD_RATE_MAX;
    l.rate.v[SVD_RATE_OPS_BURST] = SVD_RATE_MAX;
    measure("rate_to_buckets_largest", do_rate, &l);
    CHECK(svd_is_ok(l.r), "largest rates accepted");
}

int main(void)
{
    const svd_budget def = { 0u, 0u };
    const svd_budget max = { SVD_BUDGET_MAX_BYTES, SVD_VQ_MAX_SIZE };
    case_longest_chain(false);
    case_longest_chain(true);
    case_gib("kick_1gib_request_default_budget", &def, SVD_BUDGET_DEFAULT_BYTES);
    case_gib("kick_1gib_request_largest_budget", &max, GIB);
    case_many_small();
    case_packed_longest_chain(false);
    case_packed_longest_chain(true);
    case_packed_many_small();
    case_registers();
    case_watchdogs();
    case_leaves();
    if (failures != 0) {
        fprintf(stderr, "wcet_core: %d check(s) failed\n", failures);
        return 1;
    }
    printf("WCET done\n");
    return 0;
}
