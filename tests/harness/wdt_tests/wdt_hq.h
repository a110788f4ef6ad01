/* Helpers shared by the watchdog harness tests: the qvm watchdog service
 * (wdog_bite) as the harness plays it -- every bite recorded with the virtual
 * time -- and one-line register accessors over hq_access(). */
#ifndef WDT_HQ_H
#define WDT_HQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hq.h"
#include "wdt_qvm.h"

typedef struct wdt_bite {
    uint64_t at_ns;
    unsigned action;
    unsigned flags;
} wdt_bite;

#define WDT_MAX_BITES 64u

/* Bites recorded since the last wdt_bites_clear(). */
unsigned wdt_bites(void);
const wdt_bite *wdt_bite_at(unsigned i);
void wdt_bites_clear(void);
/* Assert (cmocka) that bite @i was recorded at @at_ns with @action and @flags. */
void wdt_expect_bite(unsigned i, uint64_t at_ns, unsigned action, unsigned flags);

/* 32-bit MMIO / config accesses that must be delivered normally. */
uint32_t wdt_mr(hq_dev *d, uint64_t gpa, unsigned width);
void wdt_mw(hq_dev *d, uint64_t gpa, unsigned width, uint32_t v);
uint32_t wdt_cr(hq_dev *d, uint32_t off, unsigned width);
void wdt_cw(hq_dev *d, uint32_t off, unsigned width, uint32_t v);

/* Advance the virtual clock to @t (absolute ns; no-op if already there). */
void wdt_clock_to(uint64_t t);

#endif
