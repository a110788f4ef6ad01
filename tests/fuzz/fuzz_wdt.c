/* libFuzzer target: watchdog register sequences (i6300ESB config space and
 * BAR0, SP805 registers) interleaved with time passing.
 *
 * Input: u8 action, u32 SP805 clock (Hz, folded into 1..1e9), then ops until
 * the input ends. Each op: u8 kind, then
 *   kind%8 == 0/1: ESB config read/write   u8 off, u8 size [, u32 val]
 *   kind%8 == 2/3: ESB BAR0 read/write     u8 off, u8 size [, u32 val]
 *   kind%8 == 4/5: SP805 read/write        u16 off, u8 size [, u32 val]
 *   kind%8 == 6:   time passes by u32 ns << (u8 % 24); both engines tick
 *   kind%8 == 7:   reset of both engines
 * Invariants: every result is a known code; after a tick at `now` the next
 * deadline lies strictly after `now` (no expiry left unprocessed); the clock
 * the engines see never goes backwards; fx.fires > 0 exactly when fired. */
#include <string.h>

#include "fuzz_common.h"
#include "safevdev/wdt.h"
#include "safevdev/wdt_i6300esb.h"
#include "safevdev/wdt_sp805.h"

static void check_fx(const svd_fx *fx)
{
    FZ_CHECK(fx->fired == (fx->fires > 0u));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    svd_esb esb;
    svd_sp805 sp;
    svd_esb_cfg ecfg;
    svd_sp805_cfg scfg;
    svd_fx fx;
    uint64_t now = 1000u;
    const svd_wdt_action action = (svd_wdt_action)(fz_u8(&in) % (uint8_t)SVD_WDT_ACTION__COUNT);

    memset(&ecfg, 0, sizeof(ecfg));
    ecfg.action = action;
    ecfg.irq_line = 10u;
    memset(&scfg, 0, sizeof(scfg));
    scfg.action = action;
    scfg.freq_hz = 1u + (fz_u32(&in) % SVD_SP805_MAX_HZ);
    FZ_CHECK(svd_is_ok(svd_esb_init(&esb, &ecfg, now)));
    FZ_CHECK(svd_is_ok(svd_sp805_init(&sp, &scfg, now)));

    while (fz_left(&in) > 0u) {
        const uint8_t kind = fz_u8(&in);
        svd_result r = svd_ok();
        uint32_t v = 0u;
        memset(&fx, 0, sizeof(fx));
        switch (kind % 8u) {
        case 0u: {
            const uint8_t off = fz_u8(&in);
            r = svd_esb_cfg_read(&esb, off, fz_u8(&in) % 9u, now, &v, &fx);
            break;
        }
        case 1u: {
            const uint8_t off = fz_u8(&in);
            const uint32_t sz = fz_u8(&in) % 9u;
            r = svd_esb_cfg_write(&esb, off, sz, fz_u32(&in), now, &fx);
            break;
        }
        case 2u: {
            const uint8_t off = fz_u8(&in);
            r = svd_esb_mmio_read(&esb, off, fz_u8(&in) % 9u, now, &v, &fx);
            break;
        }
        case 3u: {
            const uint8_t off = fz_u8(&in);
            const uint32_t sz = fz_u8(&in) % 9u;
            r = svd_esb_mmio_write(&esb, off, sz, fz_u32(&in), now, &fx);
            break;
        }
        case 4u: {
            const uint16_t off = fz_u16(&in);
            r = svd_sp805_read(&sp, off, fz_u8(&in) % 9u, now, &v, &fx);
            break;
        }
        case 5u: {
            const uint16_t off = fz_u16(&in);
            const uint32_t sz = fz_u8(&in) % 9u;
            r = svd_sp805_write(&sp, off, sz, fz_u32(&in), now, &fx);
            break;
        }
        case 6u: {
            const uint32_t d = fz_u32(&in);
            const uint8_t sh = fz_u8(&in) % 24u;
            now += (uint64_t)d << sh;
            svd_esb_tick(&esb, now, &fx);
            check_fx(&fx);
            FZ_CHECK(svd_esb_next_deadline(&esb) > now);
            FZ_CHECK(fx.deadline == svd_esb_next_deadline(&esb));
            memset(&fx, 0, sizeof(fx));
            svd_sp805_tick(&sp, now, &fx);
            FZ_CHECK(svd_sp805_next_deadline(&sp) > now);
            FZ_CHECK(fx.deadline == svd_sp805_next_deadline(&sp));
            break;
        }
        default:
            svd_esb_reset(&esb, now, &fx);
            check_fx(&fx);
            memset(&fx, 0, sizeof(fx));
            svd_sp805_reset(&sp, now, &fx);
            break;
        }
        check_fx(&fx);
        FZ_CHECK((unsigned)r.err < (unsigned)SVD_ERR__COUNT);
    }
    return 0;
}
