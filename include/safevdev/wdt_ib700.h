/**
 * @file wdt_ib700.h
 * @brief Engine of the iBASE IB700 single-board-computer watchdog (ISA I/O ports).
 *
 * The IB700 is an 8-bit ISA device with two write-only registers in x86 I/O
 * space (default ports 0x441 and 0x443; Linux drivers/watchdog/ib700wdt.c
 * quotes the board manual):
 * | Port (offset from base) | Access | Meaning |
 * |-------------------------|--------|---------|
 * | base + 0                | WO     | stop: a write of any value stops the timer |
 * | base + 1                | -      | nothing (reads float, writes vanish) |
 * | base + 2                | WO     | start: a write of V starts (or restarts) the timer with the timeout of V & 0xF |
 *
 * Timeout table (seconds, by the low nibble of the value written): 0 -> 30,
 * 1 -> 28, ..., 14 -> 2, 15 -> 0; in general 30 - 2 x (V & 0xF). A timeout of
 * 0 s expires in the write itself. Each register is one port: the board
 * manual's own example, `OUT DX,AX` with AX = 000FH at 0443H for "0 s",
 * means 0 s only if 0444H (where the high byte 00H lands) is not a start
 * port. (QEMU's `-device ib700` decodes two ports per register; see
 * docs/req/wdt.md for the differences the comparison shows.) The window is
 * the ::SVD_IB700_PORTS ports from the stop port to the start port.
 *
 * Expiry fires the action once and stops the timer (the board resets; under
 * an action that keeps the guest running the timer stays stopped until the
 * next start write). The device has no interrupt: the line stays low.
 *
 * ISA bus semantics of the device face:
 * - an 8-bit device sees a wider I/O access as byte cycles, lowest port
 *   first: an access of 1, 2 or 4 bytes at port P acts as single-byte writes
 *   of its bytes (little-endian) to P, P+1, ...; bytes that land outside the
 *   window are another device's and are ignored;
 * - reads find no driver on the bus: every byte reads 0xFF and a read
 *   changes nothing but the time (the timer is brought up to @c now);
 * - an access in another space, of another width, beyond port 0xFFFF, or
 *   with no byte in the window is refused (::SVD_ERR_BOUNDS): it reads all
 *   ones (of the access width, 64 bits for a width the bus has not) and
 *   changes nothing, not even the time.
 */
#ifndef SAFEVDEV_WDT_IB700_H
#define SAFEVDEV_WDT_IB700_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/result.h"
#include "safevdev/wdt.h"

/** @brief Default base port: the stop register (QNX wdt-ib700 `loc`, the board's jumper default). */
#define SVD_IB700_DEFAULT_BASE 0x441u
/** @brief Number of ports the device decodes from its base. */
#define SVD_IB700_PORTS 3u
/** @brief Offset of the stop port from the base. */
#define SVD_IB700_OFF_STOP 0u
/** @brief Offset of the start port from the base. */
#define SVD_IB700_OFF_START 2u
/** @brief Highest base whose window still fits in the 64 Ki-port x86 I/O space. */
#define SVD_IB700_MAX_BASE (0x10000u - SVD_IB700_PORTS)
/** @brief Longest timeout in seconds (value 0). */
#define SVD_IB700_MAX_TIMEOUT_S 30u

/** @brief Per-instance configuration. */
typedef struct svd_ib700_cfg {
    svd_wdt_action action; /**< What an expiry does. */
    uint32_t base;         /**< First I/O port of the window, 0 ..= ::SVD_IB700_MAX_BASE. */
} svd_ib700_cfg;

/** @brief Engine state. Caller-allocated; touch only through the functions below. */
typedef struct svd_ib700 {
    svd_ib700_cfg cfg;  /**< Configuration given to init. */
    uint64_t now;       /**< Latest time seen. */
    uint64_t deadline;  /**< Expiry time while running. */
    bool running;       /**< The timer counts. */
} svd_ib700;

/**
 * @brief Timeout in seconds that a start write of @p value selects
 *        (30 - 2 x (value & 0xF)).
 */
uint32_t svd_ib700_timeout_s(uint32_t value);

/**
 * @brief Initialise @p w at @p now, stopped (the power-on state).
 * @return ::SVD_ERR_INVALID_ARG for NULL, an unknown action or a base above
 *         ::SVD_IB700_MAX_BASE (@p w unchanged).
 */
SVD_MUST_USE svd_result svd_ib700_init(svd_ib700 *w, const svd_ib700_cfg *cfg, uint64_t now);

/** @brief Device reset (guest reset): the timer stops; the line stays low (in @p fx). */
void svd_ib700_reset(svd_ib700 *w, uint64_t now, svd_fx *fx);

/**
 * @brief The device face: a guest access of @p width bytes at I/O port @p addr
 *        (@p sp MUST be ::SVD_SPACE_IO to be decoded), with the ISA semantics
 *        of the file comment.
 * @param w the engine
 * @param sp address space of the access
 * @param addr I/O port of the access's first byte
 * @param width bytes (1, 2 or 4 are decoded)
 * @param write true for a write of *@p val, false for a read into *@p val
 * @param val the value written, or receives the value read (always written on a read)
 * @param now current time
 * @param fx receives the effects (an expiry found late or caused by the write: @c fired)
 * @return ::SVD_OK, or ::SVD_ERR_BOUNDS / ::SVD_ERR_INVALID_ARG for a refused
 *         access (informational: the access is complete either way; NULL
 *         @p w, @p val or @p fx: nothing is touched).
 */
SVD_MUST_USE svd_result svd_ib700_access(svd_ib700 *w, svd_space sp, uint64_t addr, uint32_t width, bool write,
                                         uint64_t *val, uint64_t now, svd_fx *fx);

/** @brief Bring the timer up to @p now (timer callback); an expiry at or before @p now fires once. */
void svd_ib700_tick(svd_ib700 *w, uint64_t now, svd_fx *fx);

/** @brief Time of the expiry, or ::SVD_NO_DEADLINE while stopped (a start
 *         whose expiry would pass the end of the clock never expires). */
uint64_t svd_ib700_next_deadline(const svd_ib700 *w);

#endif /* SAFEVDEV_WDT_IB700_H */
