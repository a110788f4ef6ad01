/* libFuzzer target: qvm option strings, as qvm hands them to an adapter
 * (VDEV_CTRL_OPTIONS_START .. END): the number and pair parsers of the qvm
 * shim (src/shim/qvm/qvm_common.c) and the watchdog action parser (core).
 *
 * Input: u8 selector, then the option value bytes; the value is copied into a
 * heap block of exactly its length + NUL so ASan sees any read past it.
 * Invariants: an accepted number lies in [min, max] and its decimal and 0x
 * forms parse back to the same value; a pair is accepted only with a comma;
 * an accepted action is a known one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "qvm_common.h"
#include "safevdev/wdt.h"

/* The qvm host calls qvm_common.c references; the parsers call none of them.
 * Reaching one is a bug of this target or of the parsers: crash loudly. */
#define FQ_UNREACHABLE() FZ_CHECK(0 /* qvm host call reached from an option parser */)
int guest_intr_signal(struct guest_intr *gip, unsigned gis)
{
    (void)gip; (void)gis; FQ_UNREACHABLE(); return -1;
}
int guest_cpu_read(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                   void *data, unsigned data_len)
{
    (void)gcp; (void)flags; (void)blk; (void)nblks; (void)data; (void)data_len; FQ_UNREACHABLE(); return -1;
}
int guest_cpu_write(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                    const void *data, unsigned data_len)
{
    (void)gcp; (void)flags; (void)blk; (void)nblks; (void)data; (void)data_len; FQ_UNREACHABLE(); return -1;
}
void *gasp_map_vdma(const vdev_t *vdev, int prot, uint64_t guest_paddr, size_t length)
{
    (void)vdev; (void)prot; (void)guest_paddr; (void)length; FQ_UNREACHABLE(); return NULL;
}
void gasp_unmap(const void *ptr, size_t length, int flush)
{
    (void)ptr; (void)length; (void)flush; FQ_UNREACHABLE();
}
struct guest_timer *guest_timer_create(const struct guest_cpu *gcp, const vdev_t *vdp, const void *data,
                                       uint64_t *resolutionp)
{
    (void)gcp; (void)vdp; (void)data; (void)resolutionp; FQ_UNREACHABLE(); return NULL;
}
int guest_timer_notify(struct guest_timer *vtp, const struct guest_timer_data *tdp, uint64_t incr)
{
    (void)vtp; (void)tdp; (void)incr; FQ_UNREACHABLE(); return -1;
}
void guest_timer_state(const struct guest_timer *vtp, struct guest_timer_data *tdp)
{
    (void)vtp; (void)tdp; FQ_UNREACHABLE();
}
void qvm_report(const char *fmt, ...)
{
    (void)fmt; /* svd_qvm_badopt_report may log; harmless */
}

static const uint64_t k_bounds[][2] = {
    { 0u, UINT64_MAX }, { 1u, 64u }, { 0u, 0xffffffffu }, { 1u, UINT64_C(1) << 30 }, { 100u, 100u },
};

static void roundtrip(uint64_t v)
{
    char buf[40];
    uint64_t back = 0u;
    (void)snprintf(buf, sizeof(buf), "%" PRIu64, v);
    FZ_CHECK(svd_is_ok(svd_qvm_parse_u64(buf, 0u, UINT64_MAX, &back)) && back == v);
    (void)snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    FZ_CHECK(svd_is_ok(svd_qvm_parse_u64(buf, 0u, UINT64_MAX, &back)) && back == v);
}

/* REQ: REQ-GATE-014 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0u) {
        return 0;
    }
    const uint8_t sel = data[0];
    const size_t n = size - 1u;
    char *s = malloc(n + 1u);
    FZ_CHECK(s != NULL);
    memcpy(s, data + 1, n);
    s[n] = '\0';

    const uint64_t *b = k_bounds[sel % (sizeof(k_bounds) / sizeof(k_bounds[0]))];
    uint64_t v = 0xa5a5a5a5u;
    if (svd_is_ok(svd_qvm_parse_u64(s, b[0], b[1], &v))) {
        FZ_CHECK(v >= b[0] && v <= b[1]);
        roundtrip(v);
    } else {
        FZ_CHECK(v == 0xa5a5a5a5u); /* untouched on failure */
    }
    uint64_t x = 0u;
    uint64_t y = 0u;
    if (svd_is_ok(svd_qvm_parse_pair(s, &x, &y))) {
        FZ_CHECK(strchr(s, ',') != NULL);
        roundtrip(x);
        roundtrip(y);
    }
    svd_wdt_action a = SVD_WDT_ACTION__COUNT;
    if (svd_is_ok(svd_wdt_action_parse(s, &a))) {
        FZ_CHECK((unsigned)a < (unsigned)SVD_WDT_ACTION__COUNT);
    }
    free(s);
    return 0;
}
