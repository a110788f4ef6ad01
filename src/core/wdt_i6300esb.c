/* Intel 6300ESB watchdog engine.
 *
 * Both spaces are modelled byte by byte: an access of 1, 2 or 4 bytes is
 * split into bytes, each byte is read from or applied to the register it
 * belongs to, in ascending address order. That gives partial accesses the
 * meaning they have on a byte-enabled PCI bus without a case per width.
 * The only width-sensitive rule is the unlock sequence, which compares the
 * whole value written to the reload register with 0x80 / 0x86, as the
 * datasheet describes it ("write 80h then 86h to offset 0Ch").
 *
 * Time: a stage lasts preload x 2^15 (or 2^5) PCI clocks of 30 ns; the
 * deadline is computed from the time the stage started, and an expiry found
 * late starts the next stage at the expiry instant, not at the late tick, so
 * the guest sees the datasheet's timing however late the caller's timer ran.
 */
#include "safevdev/wdt_i6300esb.h"

#include <string.h>

#include "core_priv.h"

/* PCI command bits that hold what is written: I/O, memory, bus master, SERR
 * and INTx disable (the set QEMU's model implements; the datasheet names no
 * other). Others are hardwired to 0. */
#define ESB_CMD_MEMORY 0x0002u
#define ESB_CMD_INTX_DISABLE 0x0400u
#define ESB_CMD_WMASK (0x0001u | ESB_CMD_MEMORY | 0x0004u | 0x0100u | ESB_CMD_INTX_DISABLE)
#define ESB_STATUS_INTERRUPT 0x0008u
/* Config register bits that exist (interrupt type, prescaler, output disable). */
#define ESB_CONFIG_WMASK (SVD_ESB_CFG_INTTYPE | SVD_ESB_CFG_PRE_1MHZ | SVD_ESB_CFG_OUT_DIS)
#define ESB_LOCK_WMASK (SVD_ESB_LOCK_LOCK | SVD_ESB_LOCK_ENABLE | SVD_ESB_LOCK_FREERUN)
#define ESB_INTTYPE_IRQ 0u
/* Most expiries folded into one call; past that the phase is re-anchored at
 * the call (only a free-running timer with the shortest stages can hit it). */
#define ESB_MAX_EXPIRIES 64u

static bool esb_irq_level(const svd_esb *w)
{
    return w->gintsr && (w->config & SVD_ESB_CFG_INTTYPE) == ESB_INTTYPE_IRQ &&
           (w->command & ESB_CMD_INTX_DISABLE) == 0u;
}

static bool esb_enabled(const svd_esb *w)
{
    return (w->lock & SVD_ESB_LOCK_ENABLE) != 0u;
}

static uint64_t esb_stage_ns(const svd_esb *w, uint8_t stage)
{
    uint64_t preload = (stage == 1u) ? w->preload1 : w->preload2;
    unsigned shift = 15u;
    if ((w->config & SVD_ESB_CFG_PRE_1MHZ) != 0u) {
        shift = 5u;
    }
    if (preload == 0u) {
        preload = 1u;
    }
    /* <= 2^20 x 2^15 x 30 < 2^41: no overflow. */
    return (preload << shift) * SVD_ESB_NS_PER_CLOCK;
}

static void esb_start_stage(svd_esb *w, uint8_t stage, uint64_t at)
{
    w->stage = stage;
    w->stage_start = at;
}

uint64_t svd_esb_next_deadline(const svd_esb *w)
{
    if (w->stage == 0u) {
        return SVD_NO_DEADLINE;
    }
    return svd_sat_add_u64(w->stage_start, esb_stage_ns(w, w->stage));
}

static void esb_advance(svd_esb *w, uint64_t now, svd_fx *fx)
{
    unsigned n = 0u;
    if (now < w->now) {
        now = w->now;
    }
    w->now = now;
    for (;;) {
        const uint64_t dl = svd_esb_next_deadline(w);
        if (dl == SVD_NO_DEADLINE || dl > now) {
            break;
        }
        if (n == ESB_MAX_EXPIRIES) {
            esb_start_stage(w, w->stage, now);
            break;
        }
        n++;
        if (w->stage == 1u) {
            /* stage 1 expired: interrupt status, then stage 2 */
            w->gintsr = true;
            esb_start_stage(w, 2u, dl);
        } else {
            w->timeout = true;
            if ((w->config & SVD_ESB_CFG_OUT_DIS) == 0u) {
                wdt_fx_fire(fx);
            }
            if ((w->lock & SVD_ESB_LOCK_FREERUN) != 0u) {
                esb_start_stage(w, 1u, dl);
            } else {
                w->stage = 0u;
            }
        }
    }
}

static void esb_power_on(svd_esb *w, uint64_t now)
{
    const svd_esb_cfg cfg = w->cfg;
    (void)memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->now = now;
    w->preload1 = SVD_ESB_PRELOAD_MASK;
    w->preload2 = SVD_ESB_PRELOAD_MASK;
    w->irq_line = cfg.irq_line;
}

svd_result svd_esb_init(svd_esb *w, const svd_esb_cfg *cfg, uint64_t now)
{
    SVD_ENSURE(w != NULL && cfg != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE((unsigned)cfg->action < (unsigned)SVD_WDT_ACTION__COUNT, SVD_ERR_INVALID_ARG);
    w->cfg = *cfg;
    esb_power_on(w, now);
    return svd_ok();
}

void svd_esb_reset(svd_esb *w, uint64_t now, svd_fx *fx)
{
    const bool old = w->irq_level;
    const bool timeout = w->timeout;
    wdt_fx_begin(fx, old, w->cfg.action);
    esb_power_on(w, (now < w->now) ? w->now : now);
    w->timeout = timeout;
    w->irq_level = esb_irq_level(w);
    wdt_fx_end(fx, old, w->irq_level, svd_esb_next_deadline(w));
}

void svd_esb_tick(svd_esb *w, uint64_t now, svd_fx *fx)
{
    const bool old = w->irq_level;
    wdt_fx_begin(fx, old, w->cfg.action);
    esb_advance(w, now, fx);
    w->irq_level = esb_irq_level(w);
    wdt_fx_end(fx, old, w->irq_level, svd_esb_next_deadline(w));
}

uint32_t svd_esb_bar0(const svd_esb *w)
{
    return w->bar0;
}

bool svd_esb_mem_enabled(const svd_esb *w)
{
    return (w->command & ESB_CMD_MEMORY) != 0u;
}

static svd_result esb_check(uint32_t off, uint32_t size, uint32_t space)
{
    SVD_ENSURE(size == 1u || size == 2u || size == 4u, SVD_ERR_BOUNDS);
    SVD_ENSURE((off & (size - 1u)) == 0u, SVD_ERR_BOUNDS);
    SVD_ENSURE(off < space, SVD_ERR_BOUNDS);
    /* aligned and below a space that is a multiple of 4: cannot run past its end */
    if (SVD_NEVER(size > space - off)) {
        return svd_fail(SVD_ERR_BOUNDS);
    }
    return svd_ok();
}

static uint8_t byte_of(uint32_t v, uint32_t i)
{
    return (uint8_t)(v >> (8u * i));
}

/* ---------------------------------------------------------------- config space */

static uint8_t esb_cfg_byte(const svd_esb *w, uint32_t a)
{
    uint16_t status = 0u;
    if (w->gintsr && (w->config & SVD_ESB_CFG_INTTYPE) == ESB_INTTYPE_IRQ) {
        status = ESB_STATUS_INTERRUPT;
    }
    switch (a) {
    case 0x00u:
    case 0x01u:
        return byte_of(SVD_ESB_VENDOR_ID, a);
    case 0x02u:
    case 0x03u:
        return byte_of(SVD_ESB_DEVICE_ID, a - 2u);
    case 0x04u:
    case 0x05u:
        return byte_of(w->command, a - 4u);
    case 0x06u:
    case 0x07u:
        return byte_of(status, a - 6u);
    case 0x08u:
        return w->cfg.revision;
    case 0x09u:
    case 0x0Au:
    case 0x0Bu:
        return byte_of(SVD_ESB_CLASS, a - 9u);
    case 0x0Cu:
        return w->cache_line;
    case 0x10u:
    case 0x11u:
    case 0x12u:
    case 0x13u:
        return byte_of(w->bar0, a - 0x10u);
    case 0x2Cu:
    case 0x2Du:
        return byte_of(w->cfg.subsys_vendor, a - 0x2Cu);
    case 0x2Eu:
    case 0x2Fu:
        return byte_of(w->cfg.subsys_id, a - 0x2Eu);
    case 0x3Cu:
        return w->irq_line;
    case 0x3Du:
        return 1u; /* INTA# */
    case SVD_ESB_REG_CONFIG:
    case SVD_ESB_REG_CONFIG + 1u:
        return byte_of(w->config, a - SVD_ESB_REG_CONFIG);
    case SVD_ESB_REG_LOCK:
        return w->lock;
    default:
        return 0u; /* reserved and unimplemented: read as zero */
    }
}

static void esb_lock_write(svd_esb *w, uint8_t v)
{
    const bool was = esb_enabled(w);
    if ((w->lock & SVD_ESB_LOCK_LOCK) != 0u) {
        return; /* frozen until reset */
    }
    w->lock = (uint8_t)(v & ESB_LOCK_WMASK);
    if (!was && esb_enabled(w)) {
        esb_start_stage(w, 1u, w->now);
    } else if (!esb_enabled(w)) {
        w->stage = 0u;
    } else {
        /* enabled before and after: the running stage carries on */
    }
}

static void esb_cfg_put(svd_esb *w, uint32_t a, uint8_t v)
{
    switch (a) {
    case 0x04u:
        w->command = (uint16_t)((w->command & 0xFF00u) | (v & ESB_CMD_WMASK & 0xFFu));
        break;
    case 0x05u:
        w->command = (uint16_t)((w->command & 0x00FFu) | (((uint32_t)v << 8) & ESB_CMD_WMASK));
        break;
    case 0x0Cu:
        w->cache_line = v;
        break;
    case 0x10u:
    case 0x11u:
    case 0x12u:
    case 0x13u: {
        const uint32_t sh = 8u * (a - 0x10u);
        uint32_t bar = (w->bar0 & ~(0xFFu << sh)) | ((uint32_t)v << sh);
        /* 16-byte, 32-bit, non-prefetchable memory BAR: low 4 bits read 0. */
        w->bar0 = bar & ~(SVD_ESB_BAR0_SIZE - 1u);
        break;
    }
    case 0x3Cu:
        w->irq_line = v;
        break;
    case SVD_ESB_REG_CONFIG:
        w->config = (uint16_t)(uint8_t)(v & ESB_CONFIG_WMASK);
        break;
    case SVD_ESB_REG_LOCK:
        esb_lock_write(w, v);
        break;
    default:
        break; /* read-only or reserved: write ignored */
    }
}

svd_result svd_esb_cfg_read(svd_esb *w, uint32_t off, uint32_t size, uint64_t now, uint32_t *val,
                            svd_fx *fx)
{
    SVD_ENSURE(w != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(esb_check(off, size, SVD_ESB_CFG_SIZE));
    svd_esb_tick(w, now, fx);
    uint32_t v = 0u;
    for (uint32_t i = 0u; i < size; i++) {
        v |= (uint32_t)esb_cfg_byte(w, off + i) << (8u * i);
    }
    *val = v;
    return svd_ok();
}

svd_result svd_esb_cfg_write(svd_esb *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now, svd_fx *fx)
{
    SVD_ENSURE(w != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(esb_check(off, size, SVD_ESB_CFG_SIZE));
    const bool old = w->irq_level;
    const uint32_t old_bar = w->bar0;
    const bool old_mem = svd_esb_mem_enabled(w);
    wdt_fx_begin(fx, old, w->cfg.action);
    esb_advance(w, now, fx);
    for (uint32_t i = 0u; i < size; i++) {
        esb_cfg_put(w, off + i, byte_of(val, i));
    }
    w->irq_level = esb_irq_level(w);
    wdt_fx_end(fx, old, w->irq_level, svd_esb_next_deadline(w));
    /* BAR0 moved or memory decoding switched: the shim re-reads the layout. */
    fx->bars_changed = (w->bar0 != old_bar) || (svd_esb_mem_enabled(w) != old_mem);
    return svd_ok();
}

/* ---------------------------------------------------------------- BAR0 */

static uint8_t esb_mmio_byte(const svd_esb *w, uint32_t a)
{
    switch (a) {
    case 0x00u:
    case 0x01u:
    case 0x02u:
    case 0x03u:
        return byte_of(w->preload1, a);
    case 0x04u:
    case 0x05u:
    case 0x06u:
    case 0x07u:
        return byte_of(w->preload2, a - 4u);
    case SVD_ESB_BAR_GINTSR:
        return w->gintsr ? 1u : 0u;
    case SVD_ESB_BAR_RELOAD + 1u:
        return w->timeout ? (uint8_t)(SVD_ESB_RELOAD_TIMEOUT >> 8) : 0u;
    default:
        return 0u; /* RELOAD bit reads 0; reserved bytes read 0 */
    }
}

static void esb_mmio_put(svd_esb *w, uint32_t a, uint8_t v)
{
    if (a < 8u) {
        uint32_t *reg = (a < 4u) ? &w->preload1 : &w->preload2;
        const uint32_t sh = 8u * (a & 3u);
        *reg = ((*reg & ~((uint32_t)0xFFu << sh)) | ((uint32_t)v << sh)) & SVD_ESB_PRELOAD_MASK;
        return;
    }
    switch (a) {
    case SVD_ESB_BAR_GINTSR:
        if ((v & 1u) != 0u) {
            w->gintsr = false; /* write 1 to clear */
        }
        break;
    case SVD_ESB_BAR_RELOAD + 1u:
        if ((v & (SVD_ESB_RELOAD_TIMEOUT >> 8)) != 0u) {
            w->timeout = false;
        }
        if ((v & (SVD_ESB_RELOAD_RELOAD >> 8)) != 0u && esb_enabled(w)) {
            esb_start_stage(w, 1u, w->now);
        }
        break;
    default:
        break;
    }
}

svd_result svd_esb_mmio_read(svd_esb *w, uint32_t off, uint32_t size, uint64_t now, uint32_t *val,
                             svd_fx *fx)
{
    SVD_ENSURE(w != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(esb_check(off, size, SVD_ESB_BAR0_SIZE));
    svd_esb_tick(w, now, fx);
    uint32_t v = 0u;
    for (uint32_t i = 0u; i < size; i++) {
        v |= (uint32_t)esb_mmio_byte(w, off + i) << (8u * i);
    }
    *val = v;
    return svd_ok();
}

svd_result svd_esb_mmio_write(svd_esb *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now,
                              svd_fx *fx)
{
    SVD_ENSURE(w != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(esb_check(off, size, SVD_ESB_BAR0_SIZE));
    const bool old = w->irq_level;
    wdt_fx_begin(fx, old, w->cfg.action);
    esb_advance(w, now, fx);
    if (off == SVD_ESB_BAR_RELOAD && val == SVD_ESB_UNLOCK1) {
        /* 0x80 means nothing to the reload register: always (re)starts the sequence. */
        w->unlock = 1u;
    } else if (off == SVD_ESB_BAR_RELOAD && val == SVD_ESB_UNLOCK2 && w->unlock == 1u) {
        w->unlock = 2u;
    } else if (w->unlock == 2u) {
        for (uint32_t i = 0u; i < size; i++) {
            esb_mmio_put(w, off + i, byte_of(val, i));
        }
        w->unlock = 0u;
    } else {
        /* locked (or a broken sequence): dropped, and the sequence starts over */
        w->unlock = 0u;
    }
    w->irq_level = esb_irq_level(w);
    wdt_fx_end(fx, old, w->irq_level, svd_esb_next_deadline(w));
    return svd_ok();
}

/* The device face: decode the access (configuration space, or BAR0 while it
 * is programmed and memory decoding is on), then perform it. A refused
 * access changes nothing and reads as the bus would answer: 0 in
 * configuration space, all ones for an undecoded memory read. */
svd_result svd_esb_access(svd_esb *w, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val,
                          uint64_t now, svd_fx *fx)
{
    SVD_ENSURE(w != NULL && val != NULL && fx != NULL, SVD_ERR_INVALID_ARG);
    const bool cfg = sp == SVD_SPACE_PCI_CFG;
    uint32_t off = UINT32_MAX;
    if (cfg) {
        off = (addr < SVD_ESB_CFG_SIZE) ? (uint32_t)addr : UINT32_MAX;
    } else if (sp == SVD_SPACE_MEM && svd_esb_mem_enabled(w) && w->bar0 != 0u && addr >= w->bar0 &&
               addr - w->bar0 < SVD_ESB_BAR0_SIZE) {
        off = (uint32_t)(addr - w->bar0);
    } else {
        /* not decoded: off stays out of range and the engine refuses it */
    }
    svd_result r;
    uint32_t v = (uint32_t)(*val & 0xFFFFFFFFu);
    if (write) {
        r = cfg ? svd_esb_cfg_write(w, off, width, v, now, fx) : svd_esb_mmio_write(w, off, width, v, now, fx);
    } else {
        r = cfg ? svd_esb_cfg_read(w, off, width, now, &v, fx) : svd_esb_mmio_read(w, off, width, now, &v, fx);
    }
    if (!svd_is_ok(r)) {
        wdt_fx_begin(fx, w->irq_level, w->cfg.action);
        wdt_fx_end(fx, w->irq_level, w->irq_level, svd_esb_next_deadline(w));
        v = cfg ? 0u : UINT32_MAX;
    }
    if (!write) {
        *val = v;
    }
    return r;
}
