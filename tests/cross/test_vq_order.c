/* Memory ordering of the split virtqueue across two threads (cmocka).
 *
 * A driver thread and a device thread share one queue in guest memory, as a
 * guest vCPU and a vhost-user back-end do:
 * - the driver writes descriptors (and, for the indirect variant, indirect
 *   tables), the readable buffers and the available-ring slot with plain
 *   stores, then publishes avail->idx with a release store (Linux's
 *   virtio_wmb() + store);
 * - the device pops with svd_vq_pop() (acquire load of avail->idx, then the
 *   descriptor loads: the two-64-bit-load fast path on the aligned table, the
 *   byte path in indirect tables at an odd address), checks every descriptor
 *   and readable byte against what the driver wrote for that request, fills
 *   the writable buffer and completes it with svd_vq_push() (used element,
 *   then a release store of used->idx) and svd_vq_need_interrupt();
 * - the driver acquires used->idx and checks the used element and the bytes
 *   the device wrote, then recycles the descriptors for later requests.
 * Every request carries its sequence number in its descriptor lengths,
 * offsets and payload tags, and descriptors are reused round after round, so
 * a stale descriptor, ring slot, used element or buffer byte (one read before
 * the other side published it) shows up as a mismatch.
 *
 * Built and run natively, under ThreadSanitizer (which judges the
 * synchronisation against the C11 model, whatever the host CPU's own
 * ordering), and for aarch64 and s390x under qemu-user (mk/cross.mk).
 * ORDER_ROUNDS sets the requests per variant (default 50000). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "safevdev/span.h"
#include "safevdev/virtqueue.h"
#include "tg_mem.h"
#include "tg_vring.h"

#define QSZ 64u
#define RAM_GPA 0x40000u
#define RAM_SIZE (1u << 20)
#define BUF_GPA (RAM_GPA + 0x10000u) /* one buffer per descriptor id */
#define BUF_SIZE 128u
#define TBL_GPA (RAM_GPA + 0x20000u) /* one indirect table per head, at an odd address */
#define TBL_STRIDE 64u
#define TBL_SKEW 1u
#define MAX_CHAIN 3u
#define DEADLINE_S 120

/* What request @seq looks like; both threads compute it independently. */
static uint32_t chain_len(uint32_t seq)
{
    return 1u + seq % MAX_CHAIN;
}
static uint32_t seg_off(uint32_t seq, uint32_t j)
{
    return (seq + 5u * j) % 8u;
}
/* The last segment is device-writable (a tag and a last byte), the others
 * device-readable (a tag). */
static uint32_t seg_len(uint32_t seq, uint32_t j, uint32_t n)
{
    return (j + 1u == n) ? 9u + (seq * 11u) % 49u : 8u + (seq * 7u + j * 13u) % 41u;
}
static uint64_t read_tag(uint32_t seq, uint32_t j)
{
    return 0x5245414400000000ull ^ ((uint64_t)seq << 4) ^ j;
}
static uint64_t write_tag(uint32_t seq)
{
    return 0x5752495400000000ull ^ ((uint64_t)seq << 8);
}

typedef struct order_run {
    tg_mem mem;
    tg_vring ring; /* layout, descriptor and slot writers; indices are stored below */
    bool event_idx;
    bool indirect;
    uint32_t rounds;
    time_t deadline;
    /* driver state */
    uint16_t free_ids[QSZ];
    uint32_t nfree;
    uint16_t chain_ids[QSZ][MAX_CHAIN]; /* per head: the ids it holds */
    uint32_t chain_n[QSZ];
    uint32_t chain_seq[QSZ];
    /* results: each written by one thread (atomic: the other reads it in a message) */
    uint32_t popped;
    uint32_t completed;
    uint32_t polls;
    uint32_t empty;           /* device: pops that found the ring empty */
    uint32_t max_outstanding; /* driver: most requests published and not yet popped */
    int failed; /* atomic: first failure wins */
    char why[256];
} order_run;

__attribute__((format(printf, 2, 3))) static void fail_once(order_run *r, const char *fmt, ...)
{
    int expected = 0;
    if (__atomic_compare_exchange_n(&r->failed, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(r->why, sizeof r->why, fmt, ap);
        va_end(ap);
    }
}

static uint32_t get(const uint32_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}
static void bump(uint32_t *v)
{
    __atomic_store_n(v, __atomic_load_n(v, __ATOMIC_RELAXED) + 1u, __ATOMIC_RELAXED);
}

/* A failure on either side stops both; so does the deadline (looked at
 * every 4096 polls of the device thread, which has nothing else to do). */
static bool stopping(order_run *r, bool device)
{
    if (__atomic_load_n(&r->failed, __ATOMIC_ACQUIRE) != 0) {
        return true;
    }
    if (device && (++r->polls & 4095u) == 0u && time(NULL) > r->deadline) {
        fail_once(r, "deadline: %u popped, %u completed of %u", get(&r->popped), get(&r->completed), r->rounds);
        return true;
    }
    return false;
}

/* The ring indices as the driver side of a real guest stores and loads them:
 * little-endian 16-bit values, one release store, one acquire load. The
 * value's bytes are arranged in a local first, so this is right on either
 * byte order. */
static void store_idx_release(uint8_t *p, uint16_t v)
{
    uint16_t raw;
    uint8_t *b = (uint8_t *)&raw;
    b[0] = (uint8_t)(v & 0xFFu);
    b[1] = (uint8_t)(v >> 8);
    __atomic_store_n((uint16_t *)(void *)p, raw, __ATOMIC_RELEASE);
}
static uint16_t load_idx_acquire(const uint8_t *p)
{
    const uint16_t raw = __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE);
    const uint8_t *b = (const uint8_t *)&raw;
    return (uint16_t)(b[0] | (b[1] << 8));
}

static uint64_t buf_gpa(uint16_t id, uint32_t off)
{
    return BUF_GPA + (uint64_t)id * BUF_SIZE + off;
}

/* Write request @seq into descriptors taken from the free list; returns its head. */
static uint16_t driver_build(order_run *r, uint32_t seq)
{
    const uint32_t n = chain_len(seq);
    uint16_t ids[MAX_CHAIN];
    for (uint32_t j = 0; j < n; j++) {
        ids[j] = r->free_ids[--r->nfree];
        const uint32_t len = seg_len(seq, j, n);
        const uint64_t gpa = buf_gpa(ids[j], seg_off(seq, j));
        if (j + 1u < n) {
            svd_store_le64(tg_mem_ptr(&r->mem, gpa + 7u) - 7, read_tag(seq, j));
        } else {
            tg_mem_fill(&r->mem, gpa, len, 0u); /* what the device must overwrite */
        }
    }
    uint16_t head = ids[0];
    if (r->indirect) {
        /* One ring descriptor naming a table of n entries; ids[1..] are
         * only buffer owners. */
        const uint64_t tbl = TBL_GPA + (uint64_t)head * TBL_STRIDE + TBL_SKEW;
        for (uint32_t j = 0; j < n; j++) {
            const uint16_t flags = (uint16_t)(((j + 1u < n) ? SVD_VRING_DESC_F_NEXT : 0u) |
                                              ((j + 1u == n) ? SVD_VRING_DESC_F_WRITE : 0u));
            tg_vring_set_indirect(&r->ring, tbl, (uint16_t)j, buf_gpa(ids[j], seg_off(seq, j)), seg_len(seq, j, n),
                                  flags, (uint16_t)(j + 1u));
        }
        tg_vring_set_desc(&r->ring, head, tbl, 16u * n, SVD_VRING_DESC_F_INDIRECT, 0u);
    } else {
        for (uint32_t j = 0; j < n; j++) {
            const uint16_t flags = (uint16_t)(((j + 1u < n) ? SVD_VRING_DESC_F_NEXT : 0u) |
                                              ((j + 1u == n) ? SVD_VRING_DESC_F_WRITE : 0u));
            tg_vring_set_desc(&r->ring, ids[j], buf_gpa(ids[j], seg_off(seq, j)), seg_len(seq, j, n), flags,
                              (j + 1u < n) ? ids[j + 1u] : 0u);
        }
    }
    memcpy(r->chain_ids[head], ids, sizeof ids);
    r->chain_n[head] = n;
    r->chain_seq[head] = seq;
    return head;
}

/* Check used element (id, len) against request @expect and recycle its ids. */
static bool driver_complete(order_run *r, uint32_t id, uint32_t len, uint32_t expect)
{
    if (id >= QSZ || r->chain_n[id] == 0u) {
        fail_once(r, "driver: used element %u names no request in flight (stale used element)", id);
        return false;
    }
    const uint32_t seq = r->chain_seq[id];
    const uint32_t n = r->chain_n[id];
    if (seq != expect) {
        fail_once(r, "driver: used element for request %u, expected %u", seq, expect);
        return false;
    }
    const uint32_t wlen = seg_len(seq, n - 1u, n);
    if (len != wlen) {
        fail_once(r, "driver: request %u: used len %u, expected %u", seq, len, wlen);
        return false;
    }
    const uint8_t *w = tg_mem_ptr(&r->mem, buf_gpa(r->chain_ids[id][n - 1u], seg_off(seq, n - 1u)));
    if (svd_load_le64(w) != write_tag(seq) || w[wlen - 1u] != (uint8_t)seq) {
        fail_once(r, "driver: request %u: the device's bytes are not in the buffer (stale data)", seq);
        return false;
    }
    for (uint32_t j = 0; j < n; j++) {
        r->free_ids[r->nfree++] = r->chain_ids[id][j];
    }
    r->chain_n[id] = 0u;
    return true;
}

static void *driver_main(void *arg)
{
    order_run *r = arg;
    uint8_t *avail_idx = tg_mem_ptr(&r->mem, r->ring.avail + 2u);
    const uint8_t *used_idx = tg_mem_ptr(&r->mem, r->ring.used + 2u);
    uint32_t next = 0u;
    uint16_t aidx = 0u;
    uint16_t last_used = 0u;

    while (get(&r->completed) < r->rounds && !stopping(r, false)) {
        bool progress = false;
        if (next < r->rounds && r->nfree >= chain_len(next)) {
            const uint16_t head = driver_build(r, next);
            tg_vring_set_avail_slot(&r->ring, (uint16_t)(aidx % QSZ), head);
            aidx++;
            store_idx_release(avail_idx, aidx); /* publishes descriptors, slot and bytes */
            next++;
            const uint32_t out = next - get(&r->popped);
            r->max_outstanding = out > r->max_outstanding ? out : r->max_outstanding;
            progress = true;
        }
        const uint16_t u = load_idx_acquire(used_idx);
        if ((uint16_t)(u - last_used) > QSZ) {
            fail_once(r, "driver: used idx jumped from %u to %u", last_used, u);
            break;
        }
        while (last_used != u) {
            const uint8_t *e = tg_mem_ptr(&r->mem, r->ring.used + 4u + 8u * (uint64_t)(last_used % QSZ));
            if (!driver_complete(r, svd_load_le32(e), svd_load_le32(e + 4), get(&r->completed))) {
                return NULL;
            }
            last_used++;
            bump(&r->completed);
            progress = true;
        }
        if (!progress) {
            sched_yield();
        }
    }
    return NULL;
}

/* The device's view of request @seq: every field checked, then served. */
static bool device_check(order_run *r, const svd_vq_chain *c, uint32_t seq)
{
    const uint32_t n = chain_len(seq);
    if (c->ndesc != n || c->nsegs != n || c->truncated) {
        fail_once(r, "device: request %u: %u descriptors, expected %u (stale descriptor)", seq, c->ndesc, n);
        return false;
    }
    for (uint32_t j = 0; j < n; j++) {
        const svd_vq_desc *s = &c->segs[j];
        const bool last = j + 1u == n;
        const uint64_t rel = s->addr - BUF_GPA;
        if (s->len != seg_len(seq, j, n) || s->addr < BUF_GPA || rel >= (uint64_t)QSZ * BUF_SIZE ||
            rel % BUF_SIZE != seg_off(seq, j) || ((s->flags & SVD_VRING_DESC_F_WRITE) != 0u) != last ||
            s->host == NULL) {
            fail_once(r, "device: request %u segment %u: addr 0x%llx len %u flags %u (stale descriptor)", seq, j,
                      (unsigned long long)s->addr, s->len, s->flags);
            return false;
        }
        if (!last && svd_load_le64(s->host) != read_tag(seq, j)) {
            fail_once(r, "device: request %u segment %u: readable bytes not the driver's (stale data)", seq, j);
            return false;
        }
    }
    const svd_vq_desc *w = &c->segs[n - 1u];
    memset(w->host, (uint8_t)seq, w->len);
    svd_store_le64(w->host, write_tag(seq));
    return true;
}

static void *device_main(void *arg)
{
    order_run *r = arg;
    svd_vq q;
    svd_vq_desc segs[MAX_CHAIN + 1u];
    svd_vq_chain c;

    if (!svd_is_ok(svd_vq_init(&q, QSZ)) || !svd_is_ok(svd_vq_set_addr(&q, SVD_VQ_RING_DESC, r->ring.desc)) ||
        !svd_is_ok(svd_vq_set_addr(&q, SVD_VQ_RING_AVAIL, r->ring.avail)) ||
        !svd_is_ok(svd_vq_set_addr(&q, SVD_VQ_RING_USED, r->ring.used)) ||
        !svd_is_ok(svd_vq_set_features(&q, r->event_idx, r->indirect)) ||
        !svd_is_ok(svd_vq_enable(&q, &r->mem.map))) {
        fail_once(r, "device: queue setup refused");
        return NULL;
    }
    svd_vq_chain_init(&c, segs, MAX_CHAIN + 1u);
    while (get(&r->popped) < r->rounds && !stopping(r, true)) {
        const svd_result pr = svd_vq_pop(&q, &r->mem.map, &c);
        if (pr.err == SVD_ERR_EMPTY) {
            r->empty++;
            sched_yield();
            continue;
        }
        if (!svd_is_ok(pr)) {
            fail_once(r, "device: pop of request %u failed: err %d why %s", get(&r->popped), (int)pr.err,
                      svd_why_name(pr.why));
            return NULL;
        }
        if (!device_check(r, &c, get(&r->popped))) {
            return NULL;
        }
        bool need = false;
        if (!svd_is_ok(svd_vq_push(&q, &r->mem.map, &c, c.writable_len)) ||
            !svd_is_ok(svd_vq_need_interrupt(&q, &r->mem.map, &need))) {
            fail_once(r, "device: push of request %u refused", get(&r->popped));
            return NULL;
        }
        bump(&r->popped);
    }
    return NULL;
}

static uint32_t rounds_from_env(void)
{
    const char *s = getenv("ORDER_ROUNDS");
    const unsigned long v = (s != NULL) ? strtoul(s, NULL, 10) : 0ul;
    return (v > 0ul && v < 100000000ul) ? (uint32_t)v : 50000u;
}

static void run_variant(bool event_idx, bool indirect)
{
    order_run *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    assert_int_equal(tg_mem_init(&r->mem, RAM_GPA, RAM_SIZE), 0);
    (void)tg_vring_init(&r->ring, &r->mem, QSZ, RAM_GPA);
    /* The layout the fast paths need: table 16-aligned, rings naturally aligned
     * in guest and host address; indirect tables at an odd address. */
    assert_int_equal((uintptr_t)tg_mem_ptr(&r->mem, r->ring.desc) % 16u, 0);
    assert_int_equal((uintptr_t)tg_mem_ptr(&r->mem, r->ring.used) % 4u, 0);
    assert_int_equal((uintptr_t)tg_mem_ptr(&r->mem, TBL_GPA + TBL_SKEW) % 2u, 1);
    r->event_idx = event_idx;
    r->indirect = indirect;
    r->rounds = rounds_from_env();
    r->deadline = time(NULL) + DEADLINE_S;
    for (uint16_t i = 0; i < QSZ; i++) {
        r->free_ids[r->nfree++] = (uint16_t)(QSZ - 1u - i);
    }

    pthread_t dev;
    pthread_t drv;
    assert_int_equal(pthread_create(&dev, NULL, device_main, r), 0);
    assert_int_equal(pthread_create(&drv, NULL, driver_main, r), 0);
    assert_int_equal(pthread_join(drv, NULL), 0);
    if (r->completed < r->rounds) {
        fail_once(r, "driver stopped after %u of %u requests", r->completed, r->rounds);
    }
    assert_int_equal(pthread_join(dev, NULL), 0);

    if (r->failed != 0) {
        print_message("order: %s\n", r->why);
    }
    assert_int_equal(r->failed, 0);
    assert_int_equal(r->popped, r->rounds);
    assert_int_equal(r->completed, r->rounds);
    assert_true(tg_mem_canaries_intact(&r->mem));
    /* Evidence that the two threads really overlapped: the device caught up
     * with the driver (empty ring) and fell behind it (requests outstanding). */
    print_message("order: %u requests (event_idx %d, indirect %d): no stale descriptor, slot, element or byte; "
                  "ring found empty %u times, up to %u requests outstanding\n",
                  r->rounds, (int)event_idx, (int)indirect, r->empty, r->max_outstanding);
    assert_true(r->empty > 0u && r->max_outstanding > 1u);
    tg_mem_free(&r->mem);
    free(r);
}

/* REQ: REQ-PORT-006 */
static void test_order_direct(void **state)
{
    (void)state;
    run_variant(false, false);
}

/* REQ: REQ-PORT-006 */
static void test_order_event_idx(void **state)
{
    (void)state;
    run_variant(true, false);
}

/* REQ: REQ-PORT-006 */
static void test_order_indirect_unaligned(void **state)
{
    (void)state;
    run_variant(true, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_direct),
        cmocka_unit_test(test_order_event_idx),
        cmocka_unit_test(test_order_indirect_unaligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
