/**
 * @file wdt_sp805.h
 * @brief Engine of the ARM SP805 watchdog (AMBA PrimeCell, peripheral ID 0x00141805).
 *
 * Register map (4 KiB, 32-bit registers; ARM DDI 0270 "ARM Watchdog Module
 * (SP805) Technical Reference Manual"):
 * | Offset | Name       | Access | Meaning |
 * |--------|------------|--------|---------|
 * | 0x000  | WdogLoad   | RW     | reload value; a write restarts the count from it |
 * | 0x004  | WdogValue  | RO     | current count, decremented at @c frequency Hz |
 * | 0x008  | WdogControl| RW     | bit 0 INTEN (enables counter and interrupt), bit 1 RESEN |
 * | 0x00C  | WdogIntClr | WO     | any write clears the interrupt and reloads the count |
 * | 0x010  | WdogRIS    | RO     | bit 0 raw interrupt status |
 * | 0x014  | WdogMIS    | RO     | bit 0 RIS AND INTEN |
 * | 0xC00  | WdogLock   | RW     | write 0x1ACCE551 to unlock, anything else locks; reads 1 when locked |
 * | 0xF00  | WdogITCR   | RW     | bit 0 integration test mode |
 * | 0xF04  | WdogITOP   | WO     | bit 0 WDOGRES, bit 1 WDOGINT driven in test mode |
 * | 0xFE0..0xFEC | PeriphID0-3 | RO | 0x05 0x18 0x14 0x00 |
 * | 0xFF0..0xFFC | PCellID0-3  | RO | 0x0D 0xF0 0x05 0xB1 |
 *
 * Counting: after a load the count runs load, load-1, ..., 0 and one clock
 * later expires, so a period is load + 1 clocks (Linux sp805_wdt programs
 * load = rate/2 x timeout - 1 for half the timeout). On expiry the count
 * reloads; if the interrupt was clear it is raised, if it was still set and
 * RESEN is set the reset output fires the action. Clearing INTEN stops the
 * count; setting it again reloads the count.
 *
 * While locked, writes to every register but WdogLock are ignored. Accesses
 * SHALL be 32-bit and 4-byte aligned inside the 4 KiB page, else
 * ::SVD_ERR_BOUNDS (nothing changes). Reserved offsets read as zero and
 * ignore writes; write-only registers read as zero.
 */
#ifndef SAFEVDEV_WDT_SP805_H
#define SAFEVDEV_WDT_SP805_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/result.h"
#include "safevdev/wdt.h"

/** @brief Size of the register page. */
#define SVD_SP805_SIZE 0x1000u
/** @brief WdogLoad offset. */
#define SVD_SP805_LOAD 0x000u
/** @brief WdogValue offset. */
#define SVD_SP805_VALUE 0x004u
/** @brief WdogControl offset. */
#define SVD_SP805_CONTROL 0x008u
/** @brief WdogIntClr offset. */
#define SVD_SP805_INTCLR 0x00Cu
/** @brief WdogRIS offset. */
#define SVD_SP805_RIS 0x010u
/** @brief WdogMIS offset. */
#define SVD_SP805_MIS 0x014u
/** @brief WdogLock offset. */
#define SVD_SP805_LOCK 0xC00u
/** @brief WdogITCR offset. */
#define SVD_SP805_ITCR 0xF00u
/** @brief WdogITOP offset. */
#define SVD_SP805_ITOP 0xF04u
/** @brief WdogPeriphID0 offset (ID registers run to 0xFFC). */
#define SVD_SP805_PERIPHID0 0xFE0u
/** @brief WdogPCellID0 offset. */
#define SVD_SP805_PCELLID0 0xFF0u
/** @brief Control: interrupt and counter enable. */
#define SVD_SP805_CTRL_INTEN 0x1u
/** @brief Control: reset output enable. */
#define SVD_SP805_CTRL_RESEN 0x2u
/** @brief Lock key. */
#define SVD_SP805_UNLOCK_KEY 0x1ACCE551u
/** @brief ITOP: WDOGRES value in test mode. */
#define SVD_SP805_ITOP_RES 0x1u
/** @brief ITOP: WDOGINT value in test mode. */
#define SVD_SP805_ITOP_INT 0x2u
/** @brief Peripheral ID as the four PeriphID registers assemble it. */
#define SVD_SP805_PERIPH_ID 0x00141805u
/** @brief PrimeCell ID as the four PCellID registers assemble it. */
#define SVD_SP805_PCELL_ID 0xB105F00Du
/** @brief Highest supported WDOGCLK frequency (keeps tick arithmetic in 64 bits). */
#define SVD_SP805_MAX_HZ 1000000000u

/** @brief Per-instance configuration. */
typedef struct svd_sp805_cfg {
    svd_wdt_action action; /**< What a reset-output assertion does. */
    uint32_t freq_hz;      /**< WDOGCLK in Hz, 1 ..= ::SVD_SP805_MAX_HZ. */
    uint64_t base;         /**< Guest-physical base of the ::SVD_SP805_SIZE register window (svd_sp805_access()). */
} svd_sp805_cfg;

/** @brief Engine state. Caller-allocated; touch only through the functions below. */
typedef struct svd_sp805 {
    svd_sp805_cfg cfg;  /**< Configuration given to init. */
    uint64_t now;       /**< Latest time seen. */
    uint64_t t0;        /**< Time the count was last loaded by the guest. */
    uint64_t base;      /**< Clocks after @c t0 at which the current period started. */
    uint32_t load;      /**< WdogLoad. */
    uint32_t frozen;    /**< WdogValue while the counter is stopped. */
    uint8_t control;    /**< WdogControl. */
    uint8_t itop;       /**< WdogITOP. */
    bool ris;           /**< Raw interrupt status. */
    bool locked;        /**< Write access disabled. */
    bool itcr;          /**< Integration test mode. */
    bool res_out;       /**< Reset output asserted (cleared with the interrupt). */
    bool irq_level;     /**< Interrupt line level reported last. */
} svd_sp805;

/**
 * @brief Initialise @p w at @p now in the reset state (Load and Value
 *        0xFFFFFFFF, counter and interrupt disabled, unlocked).
 * @return ::SVD_ERR_INVALID_ARG for NULL, an unknown action or a frequency
 *         outside 1 ..= ::SVD_SP805_MAX_HZ (@p w unchanged).
 */
SVD_MUST_USE svd_result svd_sp805_init(svd_sp805 *w, const svd_sp805_cfg *cfg, uint64_t now);

/** @brief Device reset (guest reset): back to the reset state; lowers the interrupt (in @p fx). */
void svd_sp805_reset(svd_sp805 *w, uint64_t now, svd_fx *fx);

/**
 * @brief Guest read of register @p off at @p now.
 * @return ::SVD_ERR_BOUNDS for a bad size/alignment/offset (no state change).
 */
SVD_MUST_USE svd_result svd_sp805_read(svd_sp805 *w, uint32_t off, uint32_t size, uint64_t now, uint32_t *val,
                                       svd_fx *fx);

/** @brief Guest write of register @p off at @p now; errors as svd_sp805_read(). */
SVD_MUST_USE svd_result svd_sp805_write(svd_sp805 *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now,
                                        svd_fx *fx);

/**
 * @brief The device face: a guest access of @p width bytes at guest-physical
 *        @p addr (@p sp MUST be ::SVD_SPACE_MEM to be decoded).
 *
 * An access inside the window [base, base + ::SVD_SP805_SIZE) is performed as
 * svd_sp805_read()/svd_sp805_write() do; any other access (another space,
 * outside the window, bad width or alignment) reads 0 and changes nothing
 * (RAZ/WI, what an APB slave answers), and @p fx then reports only the
 * current level and deadline.
 * @param w the engine
 * @param sp address space of the access
 * @param addr guest-physical address
 * @param width bytes
 * @param write true for a write of *@p val, false for a read into *@p val
 * @param val the value written, or receives the value read (always written on a read)
 * @param now current time
 * @param fx receives the effects
 * @return ::SVD_OK, or ::SVD_ERR_BOUNDS / ::SVD_ERR_INVALID_ARG for a refused
 *         access (informational: the access is complete either way).
 */
SVD_MUST_USE svd_result svd_sp805_access(svd_sp805 *w, svd_space sp, uint64_t addr, uint32_t width, bool write,
                                         uint64_t *val, uint64_t now, svd_fx *fx);

/** @brief Bring the counter up to @p now (timer callback). */
void svd_sp805_tick(svd_sp805 *w, uint64_t now, svd_fx *fx);

/** @brief Time of the next expiry, or ::SVD_NO_DEADLINE while the counter is stopped. */
uint64_t svd_sp805_next_deadline(const svd_sp805 *w);

#endif /* SAFEVDEV_WDT_SP805_H */
