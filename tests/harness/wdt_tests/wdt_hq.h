/* Helpers shared by the watchdog harness tests: the bites the harness's
 * watchdog service (wdog_bite, hq_qvm.c) recorded with the virtual time, and
 * one-line register accessors over hq_access(). */
#ifndef WDT_HQ_H
#define WDT_HQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hq.h"

/* Bites recorded since the last wdt_bites_clear(). */
unsigned wdt_bites(void);
/* Bite @i (cmocka-asserted to exist), copied into a static slot. */
const hq_bite *wdt_bite_at(unsigned i);
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
