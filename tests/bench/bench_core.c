/* Core benchmark: the virtqueue + entropy engine driven in-process by the
 * split-ring driver model (tests/common/tg_vring.h) over fake guest RAM
 * (tg_mem), next to plain getrandom(2) of the same sizes in the same run.
 *
 *   bench_core time [ROUNDS]          ns/request for 64 B, 4 KiB, 64 KiB chains
 *                                     and for getrandom() of those sizes,
 *                                     alternating, ROUNDS rounds (default 7)
 *   bench_core count N SOURCE [RING]   N 64-byte requests and nothing else, for
 *                                     callgrind (SOURCE: getrandom, memset, nofill;
 *                                     RING: split (default) or packed, driven by
 *                                     tests/common/tg_pring.h)
 *   bench_core sizes                   sizeof of the core contexts
 *
 * Every request is one write-only descriptor published by the driver model,
 * served by bench_serve() (svd_vdev_kick on the composed engine without a
 * transport, the one call the vhost-user daemon makes per kick: the entropy
 * model serves the queue and the interrupt decision is taken) and reaped from
 * the used ring. Like
 * Linux's virtio-rng, the guest reuses one buffer. bench_serve() is kept out
 * of line so callgrind can count it alone (--toggle-collect=bench_serve):
 * that excludes the driver model (harness) by construction.
 * Output: lines "BENCH key=value ..." parsed by tests/bench/bench.py. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "safevdev/entropy.h"
#include "safevdev/vdev.h"
#include "safevdev/virtqueue.h"
#include "tg_mem.h"
#include "tg_pring.h"
#include "tg_vring.h"

#define QSIZE 256u
#define RAM_GPA UINT64_C(0x100000)
#define RING_SPACE UINT64_C(0x10000)

typedef svd_result (*src_fn)(void *ctx, uint8_t *buf, size_t len, size_t *got);

typedef struct bench {
    tg_mem mem;
    tg_vring ring;
    tg_pring pring;
    bool packed;
    svd_vdev vdev;
    svd_entropy ent;
    uint64_t buf_gpa;
    uint32_t size;
    uint64_t served;
} bench;

/* As the daemon's source: one non-blocking call; a short read leaves the rest
 * of the request to the engine. */
static svd_result src_getrandom(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    ssize_t n;
    (void)ctx;
    do {
        n = getrandom(buf, len, GRND_NONBLOCK);
    } while (n < 0 && errno == EINTR);
    *got = n > 0 ? (size_t)n : 0u;
    return n > 0 ? svd_ok() : svd_fail(SVD_ERR_SOURCE);
}

static svd_result src_memset(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    /* A counter rather than one byte value: the model's health tests pass it. */
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)i;
    }
    *got = len;
    return svd_ok();
}

/* Claims the bytes without writing them: the engine's cost with a free source. */
static svd_result src_nofill(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    /* The model's stage starts zeroed, which the health tests refuse: written
     * once with a counter, then left as it is. */
    if (len >= 2u && buf[0] == buf[1]) {
        for (size_t i = 0; i < len; i++) {
            buf[i] = (uint8_t)i;
        }
    }
    *got = len;
    return svd_ok();
}

static int bench_init(bench *b, uint32_t size, src_fn fn, bool packed)
{
    svd_entropy_cfg cfg;
    memset(b, 0, sizeof(*b));
    b->packed = packed;
    if (tg_mem_init(&b->mem, RAM_GPA, (size_t)(RING_SPACE + size)) != 0) {
        return -1;
    }
    (void)tg_vring_init(&b->ring, &b->mem, (uint16_t)QSIZE, RAM_GPA);
    b->buf_gpa = RAM_GPA + RING_SPACE;
    b->size = size;
    for (uint32_t i = 0; i < QSIZE; i++) {
        tg_vring_set_desc(&b->ring, (uint16_t)i, b->buf_gpa, size, (uint16_t)SVD_VRING_DESC_F_WRITE, 0u);
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fn;
    if (!svd_is_ok(svd_entropy_init(&b->ent, &cfg, 0u))) {
        return -1;
    }
    svd_vdev_cfg vc;
    memset(&vc, 0, sizeof(vc));
    vc.xport = SVD_XPORT_NONE;
    svd_entropy_model(&b->ent, &vc.model);
    svd_vq_setup qs;
    memset(&qs, 0, sizeof(qs));
    qs.size = QSIZE;
    qs.desc = b->ring.desc;
    qs.avail = b->ring.avail;
    qs.used = b->ring.used;
    qs.event_idx = true;
    if (packed) {
        (void)tg_pring_init(&b->pring, &b->mem, (uint16_t)QSIZE, RAM_GPA);
        tg_pring_setup(&b->pring, true, false, &qs);
    }
    svd_fx fx;
    if (!svd_is_ok(svd_vdev_init(&b->vdev, &vc, &b->mem.map)) ||
        !svd_is_ok(svd_vdev_queue_start(&b->vdev, 0u, &qs, &fx))) {
        return -1;
    }
    return 0;
}

/* The device side of one kick, as the daemon runs it. */
uint32_t bench_serve(bench *b) __attribute__((noinline, noclone));
uint32_t bench_serve(bench *b)
{
    svd_fx fx;
    if (!svd_is_ok(svd_vdev_kick(&b->vdev, 0u, 0u, &fx))) {
        return 0u;
    }
    return fx.queue_notify & 1u;
}

/* n requests of b->size bytes; 0, or -1 if any went wrong. */
static int run_requests(bench *b, uint64_t n)
{
    for (uint64_t i = 0; i < n && b->packed; i++) {
        const tg_pbuf one = { b->buf_gpa, b->size, true };
        uint16_t id = 0, fl = 0;
        uint32_t len = 0;
        tg_pring_add(&b->pring, &one, 1u, (uint16_t)(i % QSIZE));
        if (bench_serve(b) != 1u || !tg_pring_get_used(&b->pring, &id, &len, &fl) || len != b->size) {
            fprintf(stderr, "bench_core: request %llu not served (packed)\n", (unsigned long long)i);
            return -1;
        }
        /* Like Linux: interrupt at the next completion (EVENT_IDX, DESC). */
        tg_pring_set_driver_event(&b->pring, b->pring.used, SVD_VRING_PACKED_EVENT_DESC);
    }
    for (uint64_t i = 0; i < n && !b->packed; i++) {
        uint32_t id = 0, len = 0;
        tg_vring_publish(&b->ring, (uint16_t)(b->ring.avail_idx % QSIZE));
        if (bench_serve(b) != 1u || !tg_vring_get_used(&b->ring, &id, &len) || len != b->size) {
            fprintf(stderr, "bench_core: request %llu not served\n", (unsigned long long)i);
            return -1;
        }
        /* Like Linux: interrupt at the next completion (EVENT_IDX). */
        tg_vring_set_used_event(&b->ring, b->ring.last_used);
    }
    b->served += n;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static int run_getrandom(uint8_t *buf, uint32_t size, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (getrandom(buf, size, GRND_NONBLOCK) != (ssize_t)size) {
            return -1;
        }
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return (n % 2u) != 0u ? v[n / 2u] : (v[n / 2u - 1u] + v[n / 2u]) / 2.0;
}

#define MAX_ROUNDS 51u

static int time_size(uint32_t size, unsigned rounds)
{
    bench b;
    uint8_t *buf = malloc(size);
    double ours[MAX_ROUNDS], grnd[MAX_ROUNDS], ratio[MAX_ROUNDS];
    /* About 50 ms of work per measurement at getrandom's speed here. */
    const uint64_t n = size <= 64u ? 100000u : size <= 4096u ? 12000u : 800u;
    int rc = -1;
    if (buf == NULL || bench_init(&b, size, src_getrandom, false) != 0) {
        goto out;
    }
    /* Warm up both paths (page faults, caches). */
    if (run_requests(&b, n / 10u) != 0 || run_getrandom(buf, size, n / 10u) != 0) {
        goto out;
    }
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t t0 = now_ns();
        if (run_requests(&b, n) != 0) {
            goto out;
        }
        uint64_t t1 = now_ns();
        if (run_getrandom(buf, size, n) != 0) {
            goto out;
        }
        uint64_t t2 = now_ns();
        ours[r] = (double)(t1 - t0) / (double)n;
        grnd[r] = (double)(t2 - t1) / (double)n;
        ratio[r] = ours[r] / grnd[r];
    }
    if (!tg_mem_all(&b.mem, b.buf_gpa, size, 0u)) {
        double o = median(ours, rounds), g = median(grnd, rounds), q = median(ratio, rounds);
        /* median() sorted ratio[]: the spread across rounds is its ends. */
        printf("BENCH core size=%u n=%llu rounds=%u ours_ns=%.1f getrandom_ns=%.1f ours_gbs=%.3f "
               "getrandom_gbs=%.3f ratio=%.3f ratio_min=%.3f ratio_max=%.3f\n",
               size, (unsigned long long)n, rounds, o, g, (double)size / o, (double)size / g, q, ratio[0],
               ratio[rounds - 1u]);
        rc = 0;
    }
out:
    if (b.mem.raw != NULL) {
        if (!tg_mem_canaries_intact(&b.mem)) {
            fprintf(stderr, "bench_core: canary damaged\n");
            rc = -1;
        }
        tg_mem_free(&b.mem);
    }
    free(buf);
    return rc;
}

static void print_sizes(void)
{
    printf("BENCH sizeof svd_vq=%zu svd_entropy=%zu svd_dev=%zu svd_gmem=%zu svd_vdev=%zu\n", sizeof(svd_vq),
           sizeof(svd_entropy), sizeof(svd_dev), sizeof(svd_gmem), sizeof(svd_vdev));
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "time") == 0) {
        unsigned rounds = argc >= 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 7u;
        static const uint32_t sizes[] = { 64u, 4096u, 65536u };
        if (rounds == 0u || rounds > MAX_ROUNDS) {
            fprintf(stderr, "bench_core: rounds 1..%u\n", MAX_ROUNDS);
            return 2;
        }
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            if (time_size(sizes[i], rounds) != 0) {
                return 1;
            }
        }
        return 0;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "count") == 0) {
        bench b;
        src_fn fn = strcmp(argv[3], "getrandom") == 0 ? src_getrandom
                               : strcmp(argv[3], "memset") == 0    ? src_memset
                               : strcmp(argv[3], "nofill") == 0    ? src_nofill
                                                                   : NULL;
        uint64_t n = strtoull(argv[2], NULL, 10);
        const bool packed = argc == 5 && strcmp(argv[4], "packed") == 0;
        int rc;
        if (fn == NULL || (argc == 5 && !packed && strcmp(argv[4], "split") != 0) ||
            bench_init(&b, 64u, fn, packed) != 0) {
            return 2;
        }
        rc = run_requests(&b, n);
        tg_mem_free(&b.mem);
        printf("BENCH count n=%llu source=%s ring=%s rc=%d\n", (unsigned long long)n, argv[3],
               packed ? "packed" : "split", rc);
        return rc == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "sizes") == 0) {
        print_sizes();
        return 0;
    }
    fprintf(stderr, "usage: bench_core time [ROUNDS] | count N getrandom|memset|nofill [split|packed] | sizes\n");
    return 2;
}
