/* See wdt_hq.h. */
#include "wdt_hq.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static wdt_bite bites[WDT_MAX_BITES];
static unsigned n_bites;

/* qvm's watchdog service as the harness plays it; the adapter binds here. */
void wdog_bite(struct wdog_state *wds)
{
    if (n_bites < WDT_MAX_BITES) {
        bites[n_bites].at_ns = hq_clock_now();
        bites[n_bites].action = wds->ws_action;
        bites[n_bites].flags = wds->ws_flags;
    }
    n_bites++;
}

unsigned wdt_bites(void)
{
    return n_bites;
}

const wdt_bite *wdt_bite_at(unsigned i)
{
    return (i < n_bites && i < WDT_MAX_BITES) ? &bites[i] : NULL;
}

void wdt_expect_bite(unsigned i, uint64_t at_ns, unsigned action, unsigned flags)
{
    assert_true((i < n_bites) && (i < WDT_MAX_BITES));
    const wdt_bite *b = &bites[i < WDT_MAX_BITES ? i : 0u];
    assert_int_equal(b->at_ns, at_ns);
    assert_int_equal(b->action, action);
    assert_int_equal(b->flags, flags);
}

void wdt_bites_clear(void)
{
    n_bites = 0;
}

uint32_t wdt_mr(hq_dev *d, uint64_t gpa, unsigned width)
{
    uint64_t v = 0xdeadbeefdeadbeefu;
    assert_int_equal(hq_access(d, false, QST_MEMORY, gpa, width, &v), VRS_NORMAL);
    return (uint32_t)v;
}

void wdt_mw(hq_dev *d, uint64_t gpa, unsigned width, uint32_t v)
{
    uint64_t x = v;
    assert_int_equal(hq_access(d, true, QST_MEMORY, gpa, width, &x), VRS_NORMAL);
}

uint32_t wdt_cr(hq_dev *d, uint32_t off, unsigned width)
{
    uint64_t v = 0xdeadbeefdeadbeefu;
    assert_int_equal(hq_access(d, false, QST_PCI, off, width, &v), VRS_NORMAL);
    return (uint32_t)v;
}

void wdt_cw(hq_dev *d, uint32_t off, unsigned width, uint32_t v)
{
    uint64_t x = v;
    assert_int_equal(hq_access(d, true, QST_PCI, off, width, &x), VRS_NORMAL);
}

void wdt_clock_to(uint64_t t)
{
    const uint64_t now = hq_clock_now();
    if (t > now) {
        hq_clock_advance(t - now);
    }
}
