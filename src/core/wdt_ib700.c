/* iBASE IB700 watchdog engine.
 *
 * One timer, one shot: the state is whether it runs and the instant it
 * expires. An expiry found late (a tick or an access after the deadline)
 * fires exactly once, however late, because the board's timer does not
 * restart by itself.
 *
 * A wide access is replayed as the byte cycles an 8-bit ISA device sees,
 * lowest port first; the window holds one start port, so one access starts
 * the timer at most once and its expiry is looked at once, after the last
 * cycle.
 */
#include "safevdev/wdt_ib700.h"

#include <string.h>

#include "core_priv.h"

#define NS_PER_S 1000000000u
#define IO_SPACE 0x10000u

uint32_t svd_ib700_timeout_s(uint32_t value)
{
    return SVD_IB700_MAX_TIMEOUT_S - (2u * (value & 0xFu));
}

uint64_t svd_ib700_next_deadline(const svd_ib700 *w)
{
    return w->running ? w->deadline : SVD_NO_DEADLINE;
}

/* A deadline saturated at the end of the clock is reported as none, and
 * none it is: it never fires. */
static void ib_expire(svd_ib700 *w, svd_fx *fx)
{
    if (w->running && (w->deadline <= w->now) && (w->deadline != SVD_NO_DEADLINE)) {
        w->running = false;
        wdt_fx_fire(fx);
    }
}

static void ib_advance(svd_ib700 *w, uint64_t now, svd_fx *fx)
{
    if (now > w->now) {
        w->now = now;
    }
    ib_expire(w, fx);
}

/* The line never rises: the board has no interrupt. */
static void ib_finish(const svd_ib700 *w, svd_fx *fx)
{
    wdt_fx_end(fx, false, false, svd_ib700_next_deadline(w));
}

/* One byte cycle at window offset @off. */
static void ib_put(svd_ib700 *w, uint32_t off, uint32_t byte)
{
    if (off == SVD_IB700_OFF_STOP) {
        w->running = false;
    } else if (off == SVD_IB700_OFF_START) {
        const uint64_t ns = (uint64_t)svd_ib700_timeout_s(byte) * NS_PER_S;
        w->running = true;
        w->deadline = svd_sat_add_u64(w->now, ns);
    } else {
        /* the port between the two registers decodes nothing */
    }
}

/* What a floating 8-bit bus returns for a read of @width bytes. */
static uint64_t ib_ones(uint32_t width)
{
    uint64_t v;
    switch (width) {
    case 1u:
        v = 0xFFu;
        break;
    case 2u:
        v = 0xFFFFu;
        break;
    case 4u:
        v = 0xFFFFFFFFu;
        break;
    default:
        v = UINT64_MAX;
        break;
    }
    return v;
}

/* An I/O access of a bus width, inside the port space, with at least one
 * byte in the window. */
static bool ib_decodes(const svd_ib700 *w, svd_space sp, uint64_t addr, uint32_t width)
{
    const bool bus_width = (width == 1u) || (width == 2u) || (width == 4u);
    if ((sp != SVD_SPACE_IO) || !bus_width || (addr >= IO_SPACE) || ((addr + width) > IO_SPACE)) {
        return false;
    }
    return (addr < ((uint64_t)w->cfg.base + SVD_IB700_PORTS)) && ((addr + width) > w->cfg.base);
}

svd_result svd_ib700_init(svd_ib700 *w, const svd_ib700_cfg *cfg, uint64_t now)
{
    SVD_ENSURE(w != NULL && cfg != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE((unsigned)cfg->action < (unsigned)SVD_WDT_ACTION__COUNT, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(cfg->base <= SVD_IB700_MAX_BASE, SVD_ERR_INVALID_ARG);
    (void)memset(w, 0, sizeof(*w));
    w->cfg = *cfg;
    w->now = now;
    return svd_ok();
}

/* cppcheck-suppress unusedFunction ; SVD-DEV-014: public API for a host that resets its guest; qvm's watchdog service has no reset */
void svd_ib700_reset(svd_ib700 *w, uint64_t now, svd_fx *fx)
{
    wdt_fx_begin(fx, false, w->cfg.action);
    if (now > w->now) {
        w->now = now;
    }
    w->running = false;
    ib_finish(w, fx);
}

void svd_ib700_tick(svd_ib700 *w, uint64_t now, svd_fx *fx)
{
    wdt_fx_begin(fx, false, w->cfg.action);
    ib_advance(w, now, fx);
    ib_finish(w, fx);
}

svd_result svd_ib700_access(svd_ib700 *w, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                            uint64_t now, svd_fx *fx)
{
    SVD_ENSURE(w != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    wdt_fx_begin(fx, false, w->cfg.action);
    if (!ib_decodes(w, sp, addr, width)) {
        if (!write) {
            *val = ib_ones(width);
        }
        ib_finish(w, fx);
        return svd_fail(SVD_ERR_BOUNDS);
    }
    ib_advance(w, now, fx);
    if (write) {
        for (uint32_t i = 0u; i < width; i++) {
            const uint64_t port = addr + i;
            if ((port >= w->cfg.base) && ((port - w->cfg.base) < SVD_IB700_PORTS)) {
                ib_put(w, (uint32_t)(port - w->cfg.base), (uint32_t)((*val >> (8u * i)) & 0xFFu));
            }
        }
        ib_expire(w, fx);
    } else {
        *val = ib_ones(width);
    }
    ib_finish(w, fx);
    return svd_ok();
}
