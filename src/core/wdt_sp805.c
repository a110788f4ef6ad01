/* ARM SP805 watchdog engine.
 *
 * The count is not stored per clock: the engine keeps the time the guest last
 * loaded it (t0) and the clock index, counted from t0, at which the current
 * period began (base). The value at any instant follows from the injected
 * clock; expiries found late are folded in by division, so a late caller
 * costs one division, not one loop iteration per period.
 *
 * Clock conversion in 64 bits with f <= 1e9 Hz: ticks(d) = floor(d f / 1e9)
 * is computed as (d / 1e9) f + ((d % 1e9) f) / 1e9, both terms exact and
 * below 2^64; its inverse, the first nanosecond at which n clocks have
 * elapsed, splits n the same way.
 *
 * The reset output is a level: the action fires on its rising edge only, so
 * a guest that leaves the interrupt set under action "none" is logged once,
 * not once per period.
 */
#include "safevdev/wdt_sp805.h"

#include <string.h>

#include "core_priv.h"

#define NS_PER_S 1000000000u

static uint64_t sp_ticks(const svd_sp805 *w, uint64_t d)
{
    const uint64_t f = w->cfg.freq_hz;
    return (d / NS_PER_S) * f + ((d % NS_PER_S) * f) / NS_PER_S;
}

/* First duration d with sp_ticks(d) >= n; UINT64_MAX when beyond the clock. */
static uint64_t sp_ns_for(const svd_sp805 *w, uint64_t n)
{
    const uint64_t f = w->cfg.freq_hz;
    const uint64_t q = n / f;
    const uint64_t r = n % f;
    uint64_t whole;
    /* n <= base + period <= 3 x 2^32 clocks (the state stops changing after the
     * second expiry; only a guest reload moves t0), so q x 1e9 < 2^64. */
    if (SVD_NEVER(__builtin_mul_overflow(q, (uint64_t)NS_PER_S, &whole))) {
        return UINT64_MAX;
    }
    return svd_sat_add_u64(whole, (r * NS_PER_S + f - 1u) / f);
}

static bool sp_running(const svd_sp805 *w)
{
    return (w->control & SVD_SP805_CTRL_INTEN) != 0u;
}

static bool sp_irq_level(const svd_sp805 *w)
{
    if (w->itcr) {
        return (w->itop & SVD_SP805_ITOP_INT) != 0u;
    }
    return w->ris && sp_running(w);
}

static bool sp_res_level(const svd_sp805 *w)
{
    if (w->itcr) {
        return (w->itop & SVD_SP805_ITOP_RES) != 0u;
    }
    return w->res_out;
}

static uint64_t sp_period(const svd_sp805 *w)
{
    return (uint64_t)w->load + 1u;
}

/* Clocks elapsed in the current period at w->now (< period after sp_advance). */
static uint64_t sp_into_period(const svd_sp805 *w)
{
    return sp_ticks(w, w->now - w->t0) - w->base;
}

static uint32_t sp_value(const svd_sp805 *w)
{
    if (!sp_running(w)) {
        return w->frozen;
    }
    const uint64_t into = sp_into_period(w);
    if (SVD_NEVER(into > w->load)) {
        return 0u;
    }
    return (uint32_t)(w->load - into);
}

static void sp_restart(svd_sp805 *w)
{
    w->t0 = w->now;
    w->base = 0u;
    w->frozen = w->load;
}

static void sp_advance(svd_sp805 *w, uint64_t now)
{
    if (now < w->now) {
        now = w->now;
    }
    w->now = now;
    if (!sp_running(w)) {
        return;
    }
    const uint64_t into = sp_into_period(w);
    const uint64_t p = sp_period(w);
    if (into < p) {
        return;
    }
    uint64_t k = into / p;
    w->base += k * p; /* <= ticks(now - t0): no overflow */
    if (!w->ris) {
        w->ris = true;
        k--;
    }
    if (k > 0u && (w->control & SVD_SP805_CTRL_RESEN) != 0u) {
        w->res_out = true;
    }
}

uint64_t svd_sp805_next_deadline(const svd_sp805 *w)
{
    if (!sp_running(w)) {
        return SVD_NO_DEADLINE;
    }
    /* Only an expiry that changes something needs a timer: the first raises
     * the interrupt, the second asserts the reset output. */
    const bool resets = (w->control & SVD_SP805_CTRL_RESEN) != 0u && !w->res_out;
    if (w->ris && !resets) {
        return SVD_NO_DEADLINE;
    }
    uint64_t n;
    if (SVD_NEVER(__builtin_add_overflow(w->base, sp_period(w), &n))) {
        return SVD_NO_DEADLINE;
    }
    return svd_sat_add_u64(w->t0, sp_ns_for(w, n));
}

/* Common end of every call: line level and reset-output edge into @fx. */
static void sp_finish(svd_sp805 *w, bool old_irq, bool old_res, svd_fx *fx)
{
    if (!old_res && sp_res_level(w)) {
        wdt_fx_fire(fx);
    }
    w->irq_level = sp_irq_level(w);
    wdt_fx_end(fx, old_irq, w->irq_level, svd_sp805_next_deadline(w));
}

static void sp_power_on(svd_sp805 *w, uint64_t now)
{
    const svd_sp805_cfg cfg = w->cfg;
    (void)memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->now = now;
    w->t0 = now;
    w->load = UINT32_MAX;
    w->frozen = UINT32_MAX;
}

svd_result svd_sp805_init(svd_sp805 *w, const svd_sp805_cfg *cfg, uint64_t now)
{
    SVD_ENSURE(w != NULL && cfg != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE((unsigned)cfg->action < (unsigned)SVD_WDT_ACTION__COUNT, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(cfg->freq_hz >= 1u && cfg->freq_hz <= SVD_SP805_MAX_HZ, SVD_ERR_INVALID_ARG);
    w->cfg = *cfg;
    sp_power_on(w, now);
    return svd_ok();
}

/* cppcheck-suppress unusedFunction ; SVD-DEV-011: public API for a host that resets its guest; qvm's watchdog service has no reset */
void svd_sp805_reset(svd_sp805 *w, uint64_t now, svd_fx *fx)
{
    const bool old = w->irq_level;
    wdt_fx_begin(fx, old, w->cfg.action);
    sp_power_on(w, (now < w->now) ? w->now : now);
    w->irq_level = sp_irq_level(w);
    wdt_fx_end(fx, old, w->irq_level, svd_sp805_next_deadline(w));
}

void svd_sp805_tick(svd_sp805 *w, uint64_t now, svd_fx *fx)
{
    const bool old_irq = w->irq_level;
    const bool old_res = sp_res_level(w);
    wdt_fx_begin(fx, old_irq, w->cfg.action);
    sp_advance(w, now);
    sp_finish(w, old_irq, old_res, fx);
}

static svd_result sp_check(uint32_t off, uint32_t size)
{
    SVD_ENSURE(size == 4u, SVD_ERR_BOUNDS);
    SVD_ENSURE((off & 3u) == 0u && off < SVD_SP805_SIZE, SVD_ERR_BOUNDS);
    return svd_ok();
}

static uint32_t sp_id_byte(uint32_t id, uint32_t idx)
{
    return (id >> (8u * idx)) & 0xFFu;
}

static uint32_t sp_reg(const svd_sp805 *w, uint32_t off)
{
    if (off >= SVD_SP805_PERIPHID0 && off < SVD_SP805_PCELLID0) {
        return sp_id_byte(SVD_SP805_PERIPH_ID, (off - SVD_SP805_PERIPHID0) / 4u);
    }
    if (off >= SVD_SP805_PCELLID0) {
        return sp_id_byte(SVD_SP805_PCELL_ID, (off - SVD_SP805_PCELLID0) / 4u);
    }
    switch (off) {
    case SVD_SP805_LOAD:
        return w->load;
    case SVD_SP805_VALUE:
        return sp_value(w);
    case SVD_SP805_CONTROL:
        return w->control;
    case SVD_SP805_RIS:
        return w->ris ? 1u : 0u;
    case SVD_SP805_MIS:
        return (w->ris && sp_running(w)) ? 1u : 0u;
    case SVD_SP805_LOCK:
        return w->locked ? 1u : 0u;
    case SVD_SP805_ITCR:
        return w->itcr ? 1u : 0u;
    default:
        return 0u; /* IntClr and ITOP are write-only; reserved offsets read as zero */
    }
}

svd_result svd_sp805_read(svd_sp805 *w, uint32_t off, uint32_t size, uint64_t now, uint32_t *val,
                          svd_fx *fx)
{
    SVD_ENSURE(w != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(sp_check(off, size));
    svd_sp805_tick(w, now, fx);
    *val = sp_reg(w, off);
    return svd_ok();
}

static void sp_put(svd_sp805 *w, uint32_t off, uint32_t val)
{
    if (off == SVD_SP805_LOCK) {
        w->locked = (val != SVD_SP805_UNLOCK_KEY);
        return;
    }
    if (w->locked) {
        return;
    }
    switch (off) {
    case SVD_SP805_LOAD:
        w->load = val;
        sp_restart(w);
        break;
    case SVD_SP805_CONTROL: {
        const bool was = sp_running(w);
        if (was) {
            w->frozen = sp_value(w);
        }
        w->control = (uint8_t)(val & (SVD_SP805_CTRL_INTEN | SVD_SP805_CTRL_RESEN));
        if (!was && sp_running(w)) {
            sp_restart(w);
        }
        break;
    }
    case SVD_SP805_INTCLR:
        w->ris = false;
        w->res_out = false;
        if (sp_running(w)) {
            sp_restart(w);
        } else {
            w->frozen = w->load;
        }
        break;
    case SVD_SP805_ITCR:
        w->itcr = (val & 1u) != 0u;
        break;
    case SVD_SP805_ITOP:
        w->itop = (uint8_t)(val & (SVD_SP805_ITOP_RES | SVD_SP805_ITOP_INT));
        break;
    default:
        break; /* read-only or reserved: ignored */
    }
}

svd_result svd_sp805_write(svd_sp805 *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now,
                           svd_fx *fx)
{
    SVD_ENSURE(w != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(sp_check(off, size));
    const bool old_irq = w->irq_level;
    const bool old_res = sp_res_level(w);
    wdt_fx_begin(fx, old_irq, w->cfg.action);
    sp_advance(w, now);
    /* An expiry found late may assert the reset output that this very write
     * (IntClr) deasserts: the edge still counts. */
    const bool mid_res = sp_res_level(w);
    if (!old_res && mid_res) {
        wdt_fx_fire(fx);
    }
    sp_put(w, off, val);
    sp_finish(w, old_irq, mid_res, fx);
    return svd_ok();
}

/* The device face: decode the window, then perform the access; anything
 * else is RAZ/WI with no state change. */
svd_result svd_sp805_access(svd_sp805 *w, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                            uint64_t now, svd_fx *fx)
{
    SVD_ENSURE(w != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    uint32_t off = UINT32_MAX;
    if (sp == SVD_SPACE_MEM && addr >= w->cfg.base && addr - w->cfg.base < SVD_SP805_SIZE) {
        off = (uint32_t)(addr - w->cfg.base);
    }
    svd_result r;
    uint32_t v = (uint32_t)(*val & 0xFFFFFFFFu);
    if (write) {
        r = svd_sp805_write(w, off, width, v, now, fx);
    } else {
        r = svd_sp805_read(w, off, width, now, &v, fx);
    }
    if (!svd_is_ok(r)) {
        wdt_fx_begin(fx, w->irq_level, w->cfg.action);
        wdt_fx_end(fx, w->irq_level, w->irq_level, svd_sp805_next_deadline(w));
        v = 0u;
    }
    if (!write) {
        *val = v;
    }
    return r;
}
