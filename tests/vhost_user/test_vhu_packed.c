/* vhost-user-entropy with packed rings, and feature sets we did not offer.
 *
 * The dispatcher is driven in-process (no daemon process, no sockets: the
 * suite also runs inside an emulated guest, where every second counts): the
 * test plays QEMU's request sequence for a packed ring, guest RAM in a memfd
 * the dispatcher maps, the packed-ring driver model (tests/common/tg_pring)
 * writing the ring in that RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "safevdev/span.h"
#include "tg_mem.h"
#include "tg_pring.h"
#include "vhu_dev.h"
#include "vhu_proto.h"

#define RAM_GPA 0x100000u
#define RAM_SIZE 0x40000u
#define QSZ 8u
#define BUF (RAM_GPA + 0x10000u)
#define F_VERSION_1 (UINT64_C(1) << 32)
#define F_PACKED (UINT64_C(1) << 34)
#define F_EVENT_IDX (UINT64_C(1) << 29)
#define F_RING_RESET (UINT64_C(1) << 40) /* a transport bit we do not offer */

typedef struct fe {
    vhu_dev *d;
    int memfd;
    uint8_t *ram;
    int kick;
    int call;
    tg_mem mem; /* a view of the shared RAM for the driver model (not allocated by tg_mem_init) */
    tg_pring pr;
    vhu_reply rep;
} fe;

/* Bytes that pass the entropy health tests (xorshift), never 0. */
static svd_result fake_source(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    static uint64_t x = 0x9E3779B97F4A7C15ull;
    (void)ctx;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)((x & 0xFFu) == 0u ? 1u : (x & 0xFFu));
    }
    *got = len;
    return svd_ok();
}

static enum vhu_verdict send_req(fe *f, uint32_t req, const void *p, size_t len, const int *fds_in, size_t nfds)
{
    int fds[4];
    for (size_t i = 0; i < nfds; i++) {
        fds[i] = dup(fds_in[i]); /* the dispatcher owns what it is given */
    }
    return vhu_dev_handle(f->d, req, VHU_VERSION | VHU_FLAG_NEED_REPLY, p, len, fds, nfds, &f->rep);
}

static enum vhu_verdict send_u64(fe *f, uint32_t req, uint64_t v)
{
    uint8_t p[8];
    svd_store_le64(p, v);
    return send_req(f, req, p, 8, NULL, 0);
}

/* send_u64() with the dispatcher's error lines caught: stderr goes to a
 * memfd for the one request, and @log gets what was written (NUL-ended). */
static enum vhu_verdict send_u64_logged(fe *f, uint32_t req, uint64_t v, char *log, size_t cap)
{
    const int level = vhu_log_level;
    const int tmp = memfd_create("log", MFD_CLOEXEC);
    const int saved = dup(STDERR_FILENO);
    enum vhu_verdict vd;
    ssize_t n;
    assert_true(tmp >= 0);
    assert_true(saved >= 0);
    (void)fflush(stderr);
    assert_true(dup2(tmp, STDERR_FILENO) >= 0);
    vhu_log_level = VHU_LOG_ERROR;
    vd = send_u64(f, req, v);
    (void)fflush(stderr);
    vhu_log_level = level;
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    n = pread(tmp, log, cap - 1u, 0);
    close(tmp);
    log[n > 0 ? (size_t)n : 0u] = '\0';
    return vd;
}

static enum vhu_verdict send_state(fe *f, uint32_t req, uint32_t num)
{
    uint8_t p[8];
    svd_store_le32(p, 0);
    svd_store_le32(p + 4, num);
    return send_req(f, req, p, 8, NULL, 0);
}

static uint64_t ua(const fe *f, uint64_t gpa)
{
    return (uint64_t)(uintptr_t)f->ram + (gpa - RAM_GPA);
}

/* A back-end instance (a daemon process) and the session QEMU opens with
 * it: on its first connection QEMU sends SET_OWNER; reconnecting to a new
 * back-end after losing one, it does not. */
/* The request bucket of the next back-end fe_backend() makes (all zero:
 * unlimited). */
static svd_tb_cfg g_rate_ops;

static void fe_backend(fe *f, bool first_connection)
{
    svd_entropy_cfg cfg;
    f->d = calloc(1, sizeof(*f->d));
    assert_non_null(f->d);
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fake_source;
    cfg.rate_ops = g_rate_ops;
    assert_int_equal(vhu_dev_init(f->d, 7, &cfg, 0, NULL), 0);
    assert_int_equal(send_u64(f, VHU_SET_PROTOCOL_FEATURES, VHU_PF_REPLY_ACK), VHU_V_OK);
    if (first_connection) {
        assert_int_equal(send_req(f, VHU_SET_OWNER, NULL, 0, NULL, 0), VHU_V_OK);
    }
}

static void fe_open(fe *f)
{
    memset(f, 0, sizeof(*f));
    vhu_log_level = -1;
    f->memfd = memfd_create("ram", MFD_CLOEXEC);
    assert_true(f->memfd >= 0);
    assert_int_equal(ftruncate(f->memfd, RAM_SIZE), 0);
    f->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
    assert_true(f->ram != MAP_FAILED);
    f->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    f->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    f->mem.ram = f->ram;
    f->mem.gpa = RAM_GPA;
    f->mem.size = RAM_SIZE;
    (void)tg_pring_init(&f->pr, &f->mem, QSZ, RAM_GPA);
    fe_backend(f, true);
}

static void fe_close(fe *f)
{
    vhu_dev_disconnect(f->d);
    free(f->d);
    munmap(f->ram, RAM_SIZE);
    close(f->memfd);
    close(f->kick);
    close(f->call);
}

/* Everything but SET_FEATURES, as QEMU 7.2 sends it for queue 0, with
 * SET_VRING_BASE = @base. Returns the verdict of SET_VRING_ENABLE. */
static enum vhu_verdict fe_ring(fe *f, uint32_t base)
{
    uint8_t p[40];
    int fds[2] = { f->memfd, f->memfd };
    svd_store_le32(p, 1);
    svd_store_le32(p + 4, 0);
    svd_store_le64(p + 8, RAM_GPA);
    svd_store_le64(p + 16, RAM_SIZE);
    svd_store_le64(p + 24, (uint64_t)(uintptr_t)f->ram);
    svd_store_le64(p + 32, 0);
    assert_int_equal(send_req(f, VHU_SET_MEM_TABLE, p, 40, fds, 1), VHU_V_OK);
    assert_int_equal(send_state(f, VHU_SET_VRING_NUM, QSZ), VHU_V_OK);
    assert_int_equal(send_state(f, VHU_SET_VRING_BASE, base), VHU_V_OK);
    memset(p, 0, sizeof(p));
    svd_store_le64(p + 8, ua(f, f->pr.desc));    /* descriptor ring */
    svd_store_le64(p + 16, ua(f, f->pr.device)); /* "used": the device area */
    svd_store_le64(p + 24, ua(f, f->pr.driver)); /* "avail": the driver area */
    assert_int_equal(send_req(f, VHU_SET_VRING_ADDR, p, 40, NULL, 0), VHU_V_OK);
    svd_store_le64(p, 0);
    assert_int_equal(send_req(f, VHU_SET_VRING_CALL, p, 8, &f->call, 1), VHU_V_OK);
    assert_int_equal(send_req(f, VHU_SET_VRING_KICK, p, 8, &f->kick, 1), VHU_V_OK);
    return send_state(f, VHU_SET_VRING_ENABLE, 1);
}

/* One 64-byte write-only buffer made available, the ring served; true when
 * the device used it with 64 bytes of entropy. */
static bool serve_one(fe *f, uint16_t id)
{
    const tg_pbuf b = { BUF, 64, true };
    bool wake = false;
    uint64_t wake_at = 0;
    uint16_t got;
    uint32_t len;
    uint16_t fl;
    memset(f->ram + (BUF - RAM_GPA), 0, 64);
    tg_pring_add(&f->pr, &b, 1, id);
    vhu_dev_process(f->d, 1000000000u, &wake, &wake_at);
    return tg_pring_get_used(&f->pr, &got, &len, &fl) && got == id && len == 64 && f->ram[BUF - RAM_GPA] != 0;
}

/* QEMU 7.2 with packed=on: GET_FEATURES offers RING_PACKED; SET_VRING_BASE
 * arrives as 0x80008000 (both positions 0, both wrap counters 1); the guest's
 * buffers are served; GET_VRING_BASE answers the positions with their wrap
 * counters in the same encoding, and a restart from it goes on. */
/* REQ: REQ-VHU-080 REQ-VHU-081.a REQ-VHU-081.b */
static void test_packed_ring_served_and_base_round_trip(void **state)
{
    fe f;
    (void)state;
    fe_open(&f);
    assert_int_equal(send_req(&f, VHU_GET_FEATURES, NULL, 0, NULL, 0), VHU_V_OK);
    const uint64_t offered = svd_load_le64(f.rep.payload);
    assert_true((offered & F_PACKED) != 0u);
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, F_VERSION_1 | F_PACKED | F_EVENT_IDX | VHU_F_PROTOCOL_FEATURES),
                     VHU_V_OK);
    assert_int_equal(fe_ring(&f, 0x80008000u), VHU_V_OK);
    assert_true(f.d->vr.running);
    for (uint16_t i = 0; i < 2u * QSZ + 3u; i++) {
        assert_true(serve_one(&f, (uint16_t)(i % QSZ)));
    }
    /* 19 buffers: position 3 in the third lap (wrap counter 1 again). */
    assert_int_equal(send_state(&f, VHU_GET_VRING_BASE, 0), VHU_V_OK);
    assert_true(f.rep.send);
    assert_int_equal(svd_load_le32(f.rep.payload + 4), 0x80038003u);
    assert_false(f.d->vr.running);
    /* Restart where it stopped. */
    assert_int_equal(fe_ring(&f, 0x80038003u), VHU_V_OK);
    assert_true(f.d->vr.running);
    assert_true(serve_one(&f, 1));
    assert_int_equal(send_state(&f, VHU_GET_VRING_BASE, 0), VHU_V_OK);
    assert_int_equal(svd_load_le32(f.rep.payload + 4), 0x80048004u);
    /* The two halves are independent: used position 4, available 6. */
    f.pr.avail = (uint16_t)(SVD_VQ_WRAP_BIT | 6u);
    f.pr.used = (uint16_t)(SVD_VQ_WRAP_BIT | 4u);
    assert_int_equal(fe_ring(&f, 0x80048006u), VHU_V_OK);
    assert_true(serve_one(&f, 2));
    assert_int_equal(send_state(&f, VHU_GET_VRING_BASE, 0), VHU_V_OK);
    assert_int_equal(svd_load_le32(f.rep.payload + 4), 0x80058007u);
    fe_close(&f);
}

/* A packed start position outside the ring is refused by the queue engine:
 * the ring does not start. */
/* REQ: REQ-VHU-081.c */
/* FM: FM-VHU-009 */
static void test_packed_base_outside_the_ring_refused(void **state)
{
    fe f;
    (void)state;
    fe_open(&f);
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, F_VERSION_1 | F_PACKED | VHU_F_PROTOCOL_FEATURES), VHU_V_OK);
    assert_int_equal(fe_ring(&f, 0x80008000u | QSZ), VHU_V_REJECTED);
    assert_false(f.d->vr.running);
    fe_close(&f);
}

/* A front-end that acks a bit we did not offer (QEMU passes the guest's
 * transport bits through) is refused with an error reply and an error line
 * naming the bits, and no ring
 * starts on the old feature set; an offered set afterwards is accepted and
 * the ring starts. */
/* REQ: REQ-VHU-082.a REQ-VHU-082.b REQ-VHU-082.c */
static void test_feature_not_offered_refused(void **state)
{
    fe f;
    (void)state;
    char log[512];
    fe_open(&f);
    assert_int_equal(send_u64_logged(&f, VHU_SET_FEATURES,
                                     F_VERSION_1 | F_PACKED | F_RING_RESET | VHU_F_PROTOCOL_FEATURES, log,
                                     sizeof(log)),
                     VHU_V_REJECTED);
    /* The error line names the bits not offered (bit 40 alone). */
    assert_non_null(strstr(log, "error: SET_FEATURES:"));
    assert_non_null(strstr(log, "bits we did not offer: 0x10000000000 "));
    assert_true(f.rep.send);
    assert_int_not_equal(svd_load_le64(f.rep.payload), 0); /* REPLY_ACK: failure */
    assert_int_equal(f.d->features, 0);
    assert_int_equal(fe_ring(&f, 0), VHU_V_OK); /* nothing to refuse: not ready to start */
    assert_false(f.d->vr.running);
    assert_false(serve_one(&f, 0));
    /* The offered set: the ring starts and serves the buffer waiting. */
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, F_VERSION_1 | F_PACKED | VHU_F_PROTOCOL_FEATURES), VHU_V_OK);
    assert_int_equal(send_state(&f, VHU_SET_VRING_ENABLE, 1), VHU_V_OK);
    assert_true(f.d->vr.running);
    bool wake = false;
    uint64_t wake_at = 0;
    uint16_t got;
    uint32_t len;
    uint16_t fl;
    vhu_dev_process(f.d, 1000000000u, &wake, &wake_at);
    assert_true(tg_pring_get_used(&f.pr, &got, &len, &fl));
    assert_int_equal(got, 0);
    fe_close(&f);
}

/* kill -9 of the back-end while the guest reads: QEMU 7.2 keeps no copy of
 * where a packed ring got to and, reconnected to the restarted daemon
 * (no SET_OWNER), resends the previous start 0x80008000. The daemon sees
 * that the descriptor there is already used in that lap and resumes where
 * the guest's available buffer is; the buffer is served. A first
 * connection's base is taken as given. */
/* REQ: REQ-VHU-083 */
static void test_packed_reconnect_resyncs_a_stale_base(void **state)
{
    (void)state;
    for (int first = 0; first < 2; first++) {
        fe f;
        fe_open(&f);
        const uint64_t feats = F_VERSION_1 | F_PACKED | F_EVENT_IDX | VHU_F_PROTOCOL_FEATURES;
        assert_int_equal(send_u64(&f, VHU_SET_FEATURES, feats), VHU_V_OK);
        assert_int_equal(fe_ring(&f, 0x80008000u), VHU_V_OK);
        for (uint16_t i = 0; i < 5u; i++) {
            assert_true(serve_one(&f, i));
        }
        /* The guest's next buffer waits at position 5; the back-end dies. */
        const tg_pbuf b = { BUF, 64, true };
        tg_pring_add(&f.pr, &b, 1, 5);
        vhu_dev_disconnect(f.d);
        free(f.d);
        fe_backend(&f, first != 0);
        assert_int_equal(send_u64(&f, VHU_SET_FEATURES, feats), VHU_V_OK);
        assert_int_equal(fe_ring(&f, 0x80008000u), VHU_V_OK);
        bool wake = false;
        uint64_t wake_at = 0;
        uint16_t got = 0;
        uint32_t len = 0;
        uint16_t fl = 0;
        vhu_dev_process(f.d, 1000000000u, &wake, &wake_at);
        const bool served = tg_pring_get_used(&f.pr, &got, &len, &fl);
        assert_int_equal(send_state(&f, VHU_GET_VRING_BASE, 0), VHU_V_OK);
        if (first == 0) {
            assert_true(served);
            assert_int_equal(got, 5);
            assert_int_equal(svd_load_le32(f.rep.payload + 4), 0x80068006u);
        } else {
            assert_false(served); /* taken as given: position 0 holds a used descriptor */
            assert_int_equal(svd_load_le32(f.rep.payload + 4), 0x80008000u);
        }
        fe_close(&f);
    }
}

/* A reconnection without SET_OWNER whose start position is the right one
 * (a front-end that kept it): nothing to resync, served from there. */
/* REQ: REQ-VHU-083 */
static void test_packed_reconnect_with_a_current_base_kept(void **state)
{
    fe f;
    (void)state;
    fe_open(&f);
    const uint64_t feats = F_VERSION_1 | F_PACKED | VHU_F_PROTOCOL_FEATURES;
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, feats), VHU_V_OK);
    assert_int_equal(fe_ring(&f, 0x80008000u), VHU_V_OK);
    for (uint16_t i = 0; i < 3u; i++) {
        assert_true(serve_one(&f, i));
    }
    vhu_dev_disconnect(f.d);
    free(f.d);
    fe_backend(&f, false);
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, feats), VHU_V_OK);
    assert_int_equal(fe_ring(&f, 0x80038003u), VHU_V_OK);
    assert_int_equal(f.d->vr.base_avail, 0x8003u); /* taken as given */
    assert_int_equal(f.d->vr.base_used, 0x8003u);
    assert_true(serve_one(&f, 3));
    assert_int_equal(send_state(&f, VHU_GET_VRING_BASE, 0), VHU_V_OK);
    assert_int_equal(svd_load_le32(f.rep.payload + 4), 0x80048004u);
    fe_close(&f);
}

/* One region of @size bytes at the start of the shared RAM, as the table. */
static enum vhu_verdict fe_table(fe *f, uint64_t size)
{
    uint8_t p[40];
    int fds[1] = { f->memfd };
    svd_store_le32(p, 1);
    svd_store_le32(p + 4, 0);
    svd_store_le64(p + 8, RAM_GPA);
    svd_store_le64(p + 16, size);
    svd_store_le64(p + 24, (uint64_t)(uintptr_t)f->ram);
    svd_store_le64(p + 32, 0);
    return send_req(f, VHU_SET_MEM_TABLE, p, 40, fds, 1);
}

/* Validation before effect on a packed ring. While it runs, SET_VRING_BASE
 * is refused and the ring runs on from where it was. A table that leaves the
 * driver area, or the device area, outside it is accepted while no kick has
 * started the ring, and the kick that would start it on that table is then
 * refused (the ring stays stopped, the old kick fd kept). SET_VRING_CALL with
 * the no-fd bit leaves the ring without a call fd. */
/* REQ: REQ-VHU-043.a REQ-VHU-043.b REQ-VHU-043.c REQ-VHU-005 */
static void test_packed_requests_refused_before_effect(void **state)
{
    fe f;
    uint8_t p[40];
    (void)state;
    fe_open(&f);
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, F_VERSION_1 | F_PACKED | VHU_F_PROTOCOL_FEATURES), VHU_V_OK);
    assert_int_equal(fe_ring(&f, 0x80008000u), VHU_V_OK);
    assert_true(f.d->vr.running);
    assert_true(serve_one(&f, 0));
    assert_int_equal(send_state(&f, VHU_SET_VRING_BASE, 0x80008000u), VHU_V_REJECTED);
    assert_true(f.d->vr.running);
    assert_true(serve_one(&f, 1)); /* position 1: the refused base changed nothing */
    svd_store_le64(p, VHU_VRING_NOFD);
    assert_int_equal(send_req(&f, VHU_SET_VRING_CALL, p, 8, NULL, 0), VHU_V_OK);
    assert_true(f.d->vr.call_fd < 0);
    /* Features without PROTOCOL_FEATURES: the kick alone starts the ring. */
    assert_int_equal(send_state(&f, VHU_GET_VRING_BASE, 0), VHU_V_OK);
    assert_false(f.d->vr.running);
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, F_VERSION_1 | F_PACKED), VHU_V_OK);
    /* Ring areas at +0 (descriptors), +0x80 (driver), +0x84 (device). */
    static const uint64_t sizes[2] = { 0x80u, 0x84u };
    for (int k = 0; k < 2; k++) {
        const int kick_before = f.d->vr.kick_fd;
        assert_int_equal(fe_table(&f, sizes[k]), VHU_V_OK); /* no kick since the stop: not started */
        svd_store_le64(p, 0);
        assert_int_equal(send_req(&f, VHU_SET_VRING_KICK, p, 8, &f.kick, 1), VHU_V_REJECTED);
        assert_false(f.d->vr.running);
        assert_int_equal(f.d->vr.kick_fd, kick_before);
    }
    /* The whole RAM again: the same kick starts it. */
    assert_int_equal(fe_table(&f, RAM_SIZE), VHU_V_OK);
    svd_store_le64(p, 0);
    assert_int_equal(send_req(&f, VHU_SET_VRING_KICK, p, 8, &f.kick, 1), VHU_V_OK);
    assert_true(f.d->vr.running);
    assert_true(serve_one(&f, 2));
    fe_close(&f);
}

/* A polled ring (SET_VRING_KICK with the no-fd bit) under a request limit
 * whose next token is 4 s away: the second request is deferred, yet the
 * instance asks to look at its ring again within one poll period, not at
 * the token's time; within a poll period of the token's time the earlier
 * time, the token's, is kept; once the token is due the request is served. */
/* REQ: REQ-VHU-005 REQ-VHU-008 */
static void test_polling_wakes_before_a_rate_deadline(void **state)
{
    fe f;
    uint8_t p[8];
    bool wake = false;
    uint64_t at = 0;
    uint16_t got = 0;
    uint32_t len = 0;
    uint16_t fl = 0;
    const tg_pbuf b = { BUF, 64, true };
    const uint64_t t0 = 1000000000u;
    const uint64_t refill_ns = UINT64_C(4000000000);
    (void)state;
    g_rate_ops.size = 1u;
    g_rate_ops.refill_ns = refill_ns;
    fe_open(&f);
    memset(&g_rate_ops, 0, sizeof(g_rate_ops));
    assert_int_equal(send_u64(&f, VHU_SET_FEATURES, F_VERSION_1 | F_PACKED | VHU_F_PROTOCOL_FEATURES), VHU_V_OK);
    assert_int_equal(fe_ring(&f, 0x80008000u), VHU_V_OK);
    svd_store_le64(p, VHU_VRING_NOFD);
    assert_int_equal(send_req(&f, VHU_SET_VRING_KICK, p, 8, NULL, 0), VHU_V_OK);
    assert_true(f.d->vr.running);
    assert_true(f.d->vr.polling);
    tg_pring_add(&f.pr, &b, 1, 0);
    tg_pring_add(&f.pr, &b, 1, 1);
    vhu_dev_process(f.d, t0, &wake, &at);
    assert_true(tg_pring_get_used(&f.pr, &got, &len, &fl));
    assert_int_equal(got, 0);
    assert_false(tg_pring_get_used(&f.pr, &got, &len, &fl)); /* deferred */
    assert_true(f.d->ent.stats.rate_deferrals > 0u);
    assert_true(wake);
    assert_int_equal(at, t0 + VHU_POLL_NS);
    /* Half a poll period before the token is due: the token's time, which
     * comes first, is kept. */
    const uint64_t t1 = t0 + refill_ns - VHU_POLL_NS / 2u;
    vhu_dev_process(f.d, t1, &wake, &at);
    assert_false(tg_pring_get_used(&f.pr, &got, &len, &fl));
    assert_true(wake);
    assert_true(at > t1 && at < t1 + VHU_POLL_NS);
    vhu_dev_process(f.d, t0 + UINT64_C(20000000000), &wake, &at);
    assert_true(tg_pring_get_used(&f.pr, &got, &len, &fl));
    assert_int_equal(got, 1);
    fe_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packed_ring_served_and_base_round_trip),
        cmocka_unit_test(test_packed_base_outside_the_ring_refused),
        cmocka_unit_test(test_feature_not_offered_refused),
        cmocka_unit_test(test_packed_reconnect_resyncs_a_stale_base),
        cmocka_unit_test(test_packed_reconnect_with_a_current_base_kept),
        cmocka_unit_test(test_packed_requests_refused_before_effect),
        cmocka_unit_test(test_polling_wakes_before_a_rate_deadline),
    };
    return cmocka_run_group_tests_name("vhu_packed", tests, NULL, NULL);
}
