/* libFuzzer target: QEMU 7.2 multi-process messages against the
 * qemu-remote-vdev dispatcher (src/shim/qemu_remote/mpq_dev.c), and QEMU
 * monitor lines against its QMP client (mpq_qmp.c), socket-free.
 *
 * The process keeps one 4 MiB memfd as "guest RAM", mapped here too so the
 * input can write virtio rings into it. Input: u8 device (even: i6300esb,
 * odd: virtio-entropy), then records
 *   u8 op
 *   0xff  guest write   u16 offset, u8 n, n bytes into the memfd
 *   0xfe  QMP line      u8 state, u16 length (% 600), bytes -> mpq_qmp_line()
 *   0xfd  time          u16 ms forward, then mpq_dev_tick() when due
 *   0xfc  resample      mpq_dev_resample()
 *   else  message       command = op % 10, u8 size selector (0, 8, 12, 24, 192
 *                       or the raw byte), u8 fd count (% 4), then the payload.
 *                       SYNC_SYSMEM gets dups of the memfd, SET_IRQFD
 *                       eventfds, others alternate (the dispatcher owns them).
 * Invariants: the verdict is OK or DISCONNECT; a DISCONNECT sends no reply;
 * a reply's value fits the access; mpq_json_get() answers inside its input;
 * at the end, after a disconnect, no file descriptor is left open. */
/* REQ: REQ-RMT-019.a REQ-RMT-019.b REQ-RMT-019.c */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "mpq_dev.h"
#include "mpq_qmp.h"

#define FR_RAM (4u << 20)

static int g_memfd = -1;
static uint8_t *g_ram;
static uint8_t g_fill;
static mpq_dev g_dev;
static mpq_qmp g_qmp;

static svd_result fr_source(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    memset(buf, g_fill++, len);
    *got = len;
    return svd_ok();
}

static void fr_once(void)
{
    if (g_memfd >= 0) {
        return;
    }
    mpq_log_level = (getenv("FUZZ_REMOTE_LOG") != NULL) ? MPQ_LOG_DEBUG : -2;
    g_memfd = memfd_create("fuzz-guest", 0);
    FZ_CHECK(g_memfd >= 0);
    FZ_CHECK(ftruncate(g_memfd, FR_RAM) == 0);
    g_ram = mmap(NULL, FR_RAM, PROT_READ | PROT_WRITE, MAP_SHARED, g_memfd, 0);
    FZ_CHECK(g_ram != MAP_FAILED);
}

static int lowest_free_fd(void)
{
    const int fd = dup(0);
    FZ_CHECK(fd >= 0);
    close(fd);
    return fd;
}

static void fr_message(fz_in *in, uint8_t op, uint64_t now)
{
    static const uint64_t sizes[] = { 0u, 8u, 12u, 24u, 192u };
    const uint32_t cmd = op % 10u;
    const uint8_t sel = fz_u8(in);
    const uint64_t size = sel < 5u ? sizes[sel] : sel;
    const size_t nfds = fz_u8(in) % 4u;
    uint8_t payload[256];
    int fds[4];
    mpq_out out;
    const size_t take = size <= sizeof(payload) ? (size_t)size : 0u;
    for (size_t i = 0; i < take; i++) {
        payload[i] = fz_u8(in);
    }
    for (size_t i = 0; i < nfds; i++) {
        const bool ev = cmd == MPQ_SET_IRQFD || (cmd != MPQ_SYNC_SYSMEM && (i & 1u) != 0u);
        fds[i] = ev ? eventfd(0, EFD_NONBLOCK) : dup(g_memfd);
        FZ_CHECK(fds[i] >= 0);
    }
    enum mpq_verdict vd = mpq_dev_handle(&g_dev, cmd, size, take > 0u ? payload : NULL, fds, nfds, now, &out);
    FZ_CHECK(vd == MPQ_V_OK || vd == MPQ_V_DISCONNECT);
    for (size_t i = 0; i < nfds; i++) {
        FZ_CHECK(fds[i] == -1); /* every fd kept or closed */
    }
    if (vd == MPQ_V_DISCONNECT) {
        FZ_CHECK(!out.reply && !out.fired);
        mpq_dev_disconnect(&g_dev, now);
        return;
    }
    if (out.reply && (cmd == MPQ_PCI_CFGREAD)) {
        const uint32_t len = svd_load_le32(payload + 8);
        FZ_CHECK(len == 4u || out.value < (UINT64_C(1) << (8u * len)));
    }
    if (out.timed && out.deadline != SVD_NO_DEADLINE && out.deadline <= now) {
        mpq_dev_tick(&g_dev, now, &out);
    }
}

static void fr_qmp(fz_in *in, uint64_t now)
{
    char line[600];
    const uint8_t st = fz_u8(in);
    const size_t len = fz_u16(in) % sizeof(line);
    for (size_t i = 0; i < len; i++) {
        line[i] = (char)fz_u8(in);
    }
    g_qmp.state = (enum mpq_qmp_state)(1u + st % 5u);
    g_qmp.fd = -1;
    g_qmp.wait_id = st % 4u;
    (void)mpq_qmp_line(&g_qmp, line, len, now);
    if (mpq_json_valid(line, len)) {
        size_t v = 0;
        size_t vl = 0;
        if (mpq_json_get(line, len, "return", &v, &vl) == 1) {
            FZ_CHECK(v + vl <= len && vl > 0u);
            FZ_CHECK(mpq_json_valid(line + v, vl));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    mpq_dev_cfg cfg;
    uint64_t now = 1000000u;
    fr_once();
    const int fd0 = lowest_free_fd();
    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = (fz_u8(&in) & 1u) != 0u ? MPQ_DEV_ENTROPY : MPQ_DEV_I6300ESB;
    cfg.entropy.source.read = fr_source;
    FZ_CHECK(mpq_dev_init(&g_dev, &cfg, now, NULL) == 0);
    mpq_qmp_init(&g_qmp, "/nonexistent/fuzz-qmp", now);
    memset(g_ram, 0, 0x10000u);
    while (fz_left(&in) > 0u) {
        const uint8_t op = fz_u8(&in);
        if (op == 0xffu) {
            const uint16_t off = fz_u16(&in);
            const uint8_t n = fz_u8(&in);
            for (uint8_t i = 0; i < n; i++) {
                g_ram[(size_t)off + i] = fz_u8(&in);
            }
        } else if (op == 0xfeu) {
            fr_qmp(&in, now);
        } else if (op == 0xfdu) {
            mpq_out out;
            now += (uint64_t)fz_u16(&in) * 1000000u;
            mpq_dev_tick(&g_dev, now, &out);
        } else if (op == 0xfcu) {
            mpq_dev_resample(&g_dev);
        } else {
            fr_message(&in, op, now);
        }
        now += 1000u;
    }
    mpq_dev_disconnect(&g_dev, now);
    FZ_CHECK(lowest_free_fd() == fd0);
    return 0;
}
