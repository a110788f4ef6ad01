/* libFuzzer target: IB700 watchdog I/O sequences interleaved with time
 * passing, the clock going backwards and resets.
 *
 * Input: u8 action, u16 base (folded into 0..SVD_IB700_MAX_BASE), then ops
 * until the input ends. Each op: u8 kind, then
 *   kind%4 == 0: access   u8 space, u16 port (+ base when bit 7 of the space byte), u8 width,
 *                         u8 direction, u32 value
 *   kind%4 == 1: time passes by u32 ns << (u8 % 32); tick
 *   kind%4 == 2: the clock goes back by u32 ns; tick
 *   kind%4 == 3: reset
 * Invariants: every result is a known code; the line never rises; the
 * effect's deadline is the engine's; after any call at `now` no expiry at or
 * before `now` is left pending; a tick fires exactly when the deadline it
 * had was reached; a refused access changes nothing; a read returns all
 * ones of its width; fx.fires > 0 exactly when fired. */
#include <string.h>

#include "fuzz_common.h"
#include "safevdev/wdt_ib700.h"

static uint64_t ones(uint32_t width)
{
    return (width == 1u) ? 0xFFu : (width == 2u) ? 0xFFFFu : (width == 4u) ? 0xFFFFFFFFu : UINT64_MAX;
}

static void check_fx(const svd_ib700 *w, const svd_fx *fx, uint64_t seen)
{
    FZ_CHECK(fx->fired == (fx->fires > 0u));
    FZ_CHECK(!fx->irq_level && !fx->irq_changed);
    FZ_CHECK(fx->deadline == svd_ib700_next_deadline(w));
    FZ_CHECK(fx->deadline == SVD_NO_DEADLINE || fx->deadline > seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    svd_ib700 w;
    svd_ib700_cfg cfg;
    svd_fx fx;
    uint64_t now = 1000u;
    uint64_t seen = now; /* the latest time the engine was given */
    memset(&cfg, 0, sizeof(cfg));
    cfg.action = (svd_wdt_action)(fz_u8(&in) % (uint8_t)SVD_WDT_ACTION__COUNT);
    cfg.base = fz_u16(&in) % (SVD_IB700_MAX_BASE + 1u);
    FZ_CHECK(svd_is_ok(svd_ib700_init(&w, &cfg, now)));

    while (fz_left(&in) > 0u) {
        const uint8_t kind = fz_u8(&in);
        memset(&fx, 0x5A, sizeof(fx));
        switch (kind % 4u) {
        case 0u: {
            const uint8_t spb = fz_u8(&in);
            const svd_space sp = (svd_space)(spb % 4u);
            uint64_t port = fz_u16(&in);
            if ((spb & 0x80u) != 0u) {
                port = cfg.base + (port % 8u); /* around the window */
            }
            const uint32_t width = fz_u8(&in) % 9u;
            const bool write = (fz_u8(&in) & 1u) != 0u;
            uint64_t val = fz_u32(&in);
            const uint64_t wv = val;
            svd_ib700 before;
            memcpy(&before, &w, sizeof(w));
            const svd_result r = svd_ib700_access(&w, sp, port, width, write, &val, now, &fx);
            FZ_CHECK((unsigned)r.err < (unsigned)SVD_ERR__COUNT);
            if (!svd_is_ok(r)) {
                FZ_CHECK(r.err == SVD_ERR_BOUNDS);
                FZ_CHECK(memcmp(&before, &w, sizeof(w)) == 0);
            } else if (now > seen) {
                seen = now;
            }
            FZ_CHECK(write ? (val == wv) : (val == ones(width)));
            check_fx(&w, &fx, seen);
            break;
        }
        case 1u:
        case 2u: {
            const uint32_t d = fz_u32(&in);
            if ((kind % 4u) == 1u) {
                const uint8_t sh = fz_u8(&in) % 32u;
                const uint64_t step = (uint64_t)d << sh;
                now = (now > UINT64_MAX - step) ? UINT64_MAX : now + step;
            } else {
                now = (now > d) ? now - d : 0u;
            }
            const uint64_t due = svd_ib700_next_deadline(&w);
            const uint64_t at = (now > seen) ? now : seen;
            svd_ib700_tick(&w, now, &fx);
            seen = at;
            FZ_CHECK(fx.fired == (due != SVD_NO_DEADLINE && due <= at));
            FZ_CHECK(fx.fires <= 1u);
            check_fx(&w, &fx, seen);
            break;
        }
        default:
            svd_ib700_reset(&w, now, &fx);
            if (now > seen) {
                seen = now;
            }
            FZ_CHECK(!fx.fired);
            FZ_CHECK(svd_ib700_next_deadline(&w) == SVD_NO_DEADLINE);
            check_fx(&w, &fx, seen);
            break;
        }
    }
    return 0;
}
