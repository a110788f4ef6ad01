/* libFuzzer target: vhost-user message sequences against the daemon's
 * dispatcher (src/shim/vhost_user/vhu_dev.c), socket-free.
 *
 * The process keeps one 64 KiB memfd as "guest RAM", mapped here too so the
 * input can write rings into it. Input: a sequence of records
 *   u8 op
 *   op == 0xff: guest write   u16 offset, u8 n, n bytes into the memfd
 *   otherwise:  message       request = op % 40, u8 flags selector, u8 fd count
 *                             (0..2), u16 length (% 320), then that many payload
 *                             bytes. SET_MEM_TABLE gets dups of the memfd, every
 *                             other message dups of an eventfd (the dispatcher
 *                             owns them from the call on).
 * After each message the device is served (vhu_dev_process) at a clock that
 * moves 1 ms per record; a DISCONNECT verdict disconnects (a new session
 * starts with the next message). At the end: disconnect, then no file
 * descriptor may be left open (the lowest free fd is what it was before). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "vhu_dev.h"

#define FV_RAM 0x10000u

static int g_memfd = -1;
static int g_evfd = -1;
static uint8_t *g_ram;
static uint8_t g_fill;

static svd_result fv_source(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    /* A counter, not a constant fill: the model's health tests pass it. */
    for (size_t i = 0; i < len; i++) {
        buf[i] = g_fill++;
    }
    *got = len;
    return svd_ok();
}

static void fv_once(void)
{
    if (g_memfd >= 0) {
        return;
    }
    /* Quiet (the dispatcher logs every refusal) unless FUZZ_VHU_LOG is set. */
    vhu_log_level = (getenv("FUZZ_VHU_LOG") != NULL) ? VHU_LOG_DEBUG : -1;
    g_memfd = memfd_create("fuzz-guest", 0);
    FZ_CHECK(g_memfd >= 0);
    FZ_CHECK(ftruncate(g_memfd, FV_RAM) == 0);
    g_ram = mmap(NULL, FV_RAM, PROT_READ | PROT_WRITE, MAP_SHARED, g_memfd, 0);
    FZ_CHECK(g_ram != MAP_FAILED);
    g_evfd = eventfd(0, EFD_NONBLOCK);
    FZ_CHECK(g_evfd >= 0);
}

static int lowest_free_fd(void)
{
    const int fd = dup(0);
    FZ_CHECK(fd >= 0);
    close(fd);
    return fd;
}

/* One vhost-user message from the input, handed to the dispatcher. */
static void fv_message(vhu_dev *d, fz_in *in, uint8_t op)
{
    const uint32_t request = op % 40u;
    const uint8_t fsel = fz_u8(in);
    const uint32_t flags = (fsel & 0x80u) != 0u ? fsel : (VHU_VERSION | (fsel & (VHU_FLAG_NEED_REPLY)));
    const size_t nfds = fz_u8(in) % 3u;
    const size_t len = fz_u16(in) % 320u;
    uint8_t payload[320];
    int fds[2];
    vhu_reply reply;
    for (size_t i = 0u; i < len; i++) {
        payload[i] = fz_u8(in);
    }
    for (size_t i = 0u; i < nfds; i++) {
        fds[i] = dup(request == VHU_SET_MEM_TABLE ? g_memfd : g_evfd);
        FZ_CHECK(fds[i] >= 0);
    }
    memset(&reply, 0, sizeof(reply));
    const enum vhu_verdict v = vhu_dev_handle(d, request, flags, payload, len, fds, nfds, &reply);
    FZ_CHECK(v == VHU_V_OK || v == VHU_V_REJECTED || v == VHU_V_DISCONNECT);
    FZ_CHECK(!reply.send || reply.size <= sizeof(reply.payload));
    if (v == VHU_V_DISCONNECT) {
        vhu_dev_disconnect(d);
    }
}

/* REQ: REQ-SAF-012 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    vhu_dev *d;
    svd_entropy_cfg cfg;
    uint64_t now = 1000000u;
    int free_before;

    fv_once();
    free_before = lowest_free_fd();
    memset(g_ram, 0, FV_RAM);
    d = calloc(1u, sizeof(*d));
    FZ_CHECK(d != NULL);
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = fv_source;
    FZ_CHECK(vhu_dev_init(d, 0, &cfg, now, NULL) == 0);

    while (fz_left(&in) > 0u) {
        const uint8_t op = fz_u8(&in);
        if (op == 0xffu) {
            const uint16_t off = fz_u16(&in);
            const uint8_t n = fz_u8(&in);
            for (uint32_t i = 0u; i < n; i++) {
                g_ram[(off + i) % FV_RAM] = fz_u8(&in);
            }
        } else {
            fv_message(d, &in, op);
        }
        /* The event loop serves the ring after every event (a kick or a timer in the daemon). */
        bool wake = false;
        uint64_t wake_at = 0u;
        now += 1000000u;
        vhu_dev_process(d, now, &wake, &wake_at);
    }
    if (vhu_log_level >= 0) {
        fprintf(stderr, "fuzz_vhu: used.idx at guest 0x100 = %u\n", (unsigned)(g_ram[0x102] | (g_ram[0x103] << 8)));
    }
    vhu_dev_disconnect(d);
    free(d);
    FZ_CHECK(lowest_free_fd() == free_before); /* every fd handed over was closed */
    return 0;
}
