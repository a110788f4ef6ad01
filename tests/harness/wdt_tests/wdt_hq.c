/* See wdt_hq.h. */
#include "wdt_hq.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

unsigned wdt_bites(void)
{
    return hq_bites();
}

const hq_bite *wdt_bite_at(unsigned i)
{
    static hq_bite b;
    assert_true(hq_bite_at(i, &b));
    return &b;
}

void wdt_expect_bite(unsigned i, uint64_t at_ns, unsigned action, unsigned flags)
{
    const hq_bite *b = wdt_bite_at(i);
    assert_int_equal(b->at_ns, at_ns);
    assert_int_equal(b->action, action);
    assert_int_equal(b->flags, flags);
}

void wdt_bites_clear(void)
{
    hq_bites_clear();
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
