/**
 * @file wdt_i6300esb.h
 * @brief Engine of the Intel 6300ESB watchdog timer (PCI 8086:25ab).
 *
 * The engine models the whole device as a guest sees it: a type-0 PCI
 * configuration space (256 bytes) with the watchdog configuration register
 * (0x60) and lock register (0x68), and a 16-byte memory BAR0 holding timer
 * preload 1 (0x00), timer preload 2 (0x04), the general interrupt status
 * register (0x08) and the reload register (0x0C).
 *
 * Behaviour (6300ESB datasheet, document 300641, WDT chapter):
 * - Writing 1 to ENABLE in the lock register starts stage 1 from preload 1.
 *   A preload of N lasts N x 2^15 clocks (1 kHz prescaler) or N x 2^5 clocks
 *   (1 MHz prescaler) of the 33 MHz PCI clock (30 ns per clock).
 * - Stage 1 expiry sets bit 0 of the interrupt status register (the interrupt
 *   line follows it when the interrupt type is IRQ) and starts stage 2 from
 *   preload 2. Stage 2 expiry sets the TIMEOUT bit (reload register bit 9) and,
 *   unless the output is disabled (config bit 5), fires the action. In
 *   free-running mode (lock bit 2) stage 1 then starts again; otherwise the
 *   timer stops until the next reload.
 * - Every write to BAR0 other than the unlock bytes needs the unlock sequence
 *   first: 0x80 then 0x86 written to the reload register; the next write
 *   consumes the unlock. A write of RELOAD (bit 8) restarts stage 1; a write
 *   of TIMEOUT (bit 9) clears it.
 * - LOCK (lock bit 0) freezes the lock register until a device reset.
 * - TIMEOUT survives a device reset (the guest's driver reads it to report
 *   that the last boot was caused by the watchdog).
 *
 * Accesses SHALL be 1, 2 or 4 bytes, naturally aligned, inside the space;
 * anything else is refused with ::SVD_ERR_BOUNDS and changes nothing (the
 * caller completes a refused read with all ones and drops a refused write).
 * A zero preload counts as 1 (a zero-length stage would spin the caller).
 */
#ifndef SAFEVDEV_WDT_I6300ESB_H
#define SAFEVDEV_WDT_I6300ESB_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/result.h"
#include "safevdev/wdt.h"

/** @brief PCI vendor ID (Intel). */
#define SVD_ESB_VENDOR_ID 0x8086u
/** @brief PCI device ID of the 6300ESB watchdog. */
#define SVD_ESB_DEVICE_ID 0x25abu
/** @brief PCI class code (base 0x08 system peripheral, sub 0x80 other). */
#define SVD_ESB_CLASS 0x088000u
/** @brief Size of the memory BAR0 in bytes. */
#define SVD_ESB_BAR0_SIZE 16u
/** @brief Size of the configuration space in bytes. */
#define SVD_ESB_CFG_SIZE 256u

/** @brief Configuration register (16 bits) offset in config space. */
#define SVD_ESB_REG_CONFIG 0x60u
/** @brief Lock register (8 bits) offset in config space. */
#define SVD_ESB_REG_LOCK 0x68u
/** @brief Config register: interrupt type mask (0 IRQ, 1 reserved, 2 SMI, 3 disabled). */
#define SVD_ESB_CFG_INTTYPE 0x0003u
/** @brief Config register: prescaler select, 1 = 1 MHz (2^5 clocks), 0 = 1 kHz (2^15 clocks). */
#define SVD_ESB_CFG_PRE_1MHZ 0x0004u
/** @brief Config register: WDT output (reboot) disabled. */
#define SVD_ESB_CFG_OUT_DIS 0x0020u
/** @brief Lock register: lock. */
#define SVD_ESB_LOCK_LOCK 0x01u
/** @brief Lock register: enable. */
#define SVD_ESB_LOCK_ENABLE 0x02u
/** @brief Lock register: free-running mode. */
#define SVD_ESB_LOCK_FREERUN 0x04u

/** @brief BAR0 offset: timer preload 1 (20 bits). */
#define SVD_ESB_BAR_PRELOAD1 0x00u
/** @brief BAR0 offset: timer preload 2 (20 bits). */
#define SVD_ESB_BAR_PRELOAD2 0x04u
/** @brief BAR0 offset: general interrupt status (bit 0: stage-1 interrupt, write 1 to clear). */
#define SVD_ESB_BAR_GINTSR 0x08u
/** @brief BAR0 offset: reload register (16 bits). */
#define SVD_ESB_BAR_RELOAD 0x0Cu
/** @brief Reload register: reload (ping). */
#define SVD_ESB_RELOAD_RELOAD 0x0100u
/** @brief Reload register: timed out (read), clear (write 1). */
#define SVD_ESB_RELOAD_TIMEOUT 0x0200u
/** @brief First unlock byte. */
#define SVD_ESB_UNLOCK1 0x80u
/** @brief Second unlock byte. */
#define SVD_ESB_UNLOCK2 0x86u
/** @brief Mask of a preload value. */
#define SVD_ESB_PRELOAD_MASK 0xFFFFFu
/** @brief Nanoseconds per PCI clock as the datasheet's 33 MHz (and QEMU) count it. */
#define SVD_ESB_NS_PER_CLOCK 30u

/** @brief Per-instance configuration. */
typedef struct svd_esb_cfg {
    svd_wdt_action action;   /**< What a stage-2 expiry does. */
    uint16_t subsys_vendor;  /**< Subsystem vendor ID (config 0x2C). */
    uint16_t subsys_id;      /**< Subsystem ID (config 0x2E). */
    uint8_t revision;        /**< Revision ID (config 0x08). */
    uint8_t irq_line;        /**< Initial interrupt line (config 0x3C), as firmware would set it. */
} svd_esb_cfg;

/** @brief Engine state. Caller-allocated; touch only through the functions below. */
typedef struct svd_esb {
    svd_esb_cfg cfg;        /**< Configuration given to init. */
    uint64_t now;           /**< Latest time seen. */
    uint64_t stage_start;   /**< Time the current stage started. */
    uint32_t bar0;          /**< BAR0 base as programmed (low 4 bits 0). */
    uint32_t preload1;      /**< Timer preload 1. */
    uint32_t preload2;      /**< Timer preload 2. */
    uint16_t command;       /**< PCI command register. */
    uint16_t config;        /**< Config register 0x60. */
    uint8_t lock;           /**< Lock register 0x68. */
    uint8_t cache_line;     /**< Cache line size (config 0x0C). */
    uint8_t irq_line;       /**< Interrupt line (config 0x3C). */
    uint8_t stage;          /**< 1 or 2 while running; 0 when stopped. */
    uint8_t unlock;         /**< Unlock sequence state 0, 1 (0x80 seen), 2 (unlocked). */
    bool gintsr;            /**< Stage-1 interrupt status. */
    bool timeout;           /**< TIMEOUT bit of the reload register. */
    bool irq_level;         /**< Interrupt line level reported last. */
} svd_esb;

/**
 * @brief Initialise @p w at time @p now in the power-on state (disabled,
 *        preloads 0xFFFFF, 1 kHz, IRQ type, output enabled, TIMEOUT clear).
 * @return ::SVD_ERR_INVALID_ARG for NULL or an unknown action (@p w unchanged).
 */
SVD_MUST_USE svd_result svd_esb_init(svd_esb *w, const svd_esb_cfg *cfg, uint64_t now);

/**
 * @brief Device reset (guest reset): everything back to the power-on state
 *        except TIMEOUT, which SHALL survive. Lowers the interrupt (reported in @p fx).
 */
void svd_esb_reset(svd_esb *w, uint64_t now, svd_fx *fx);

/**
 * @brief Guest read of @p size bytes at @p off in configuration space.
 * @return ::SVD_ERR_BOUNDS for a bad size/alignment/offset (*val untouched, no
 *         state change); timers are brought up to @p now only on success.
 */
SVD_MUST_USE svd_result svd_esb_cfg_read(svd_esb *w, uint32_t off, uint32_t size, uint64_t now, uint32_t *val,
                                         svd_fx *fx);

/** @brief Guest write to configuration space; errors as svd_esb_cfg_read(). */
SVD_MUST_USE svd_result svd_esb_cfg_write(svd_esb *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now,
                                          svd_fx *fx);

/** @brief Guest read at offset @p off of BAR0; errors as svd_esb_cfg_read(). */
SVD_MUST_USE svd_result svd_esb_mmio_read(svd_esb *w, uint32_t off, uint32_t size, uint64_t now, uint32_t *val,
                                          svd_fx *fx);

/** @brief Guest write at offset @p off of BAR0; errors as svd_esb_cfg_read(). */
SVD_MUST_USE svd_result svd_esb_mmio_write(svd_esb *w, uint32_t off, uint32_t size, uint32_t val, uint64_t now,
                                           svd_fx *fx);

/**
 * @brief The device face: a guest access of @p width bytes.
 *
 * ::SVD_SPACE_PCI_CFG: @p addr is the offset in configuration space.
 * ::SVD_SPACE_MEM: @p addr is guest-physical; it is decoded while memory
 * decoding is on and BAR0 is programmed (non-zero) and the access lies in
 * BAR0. A decoded access is performed as the cfg/mmio functions do; any
 * other access changes nothing and reads 0 in configuration space and all
 * ones (0xFFFFFFFF) in memory space (the bus floats high); @p fx then
 * reports only the current level and deadline.
 * @param w the engine
 * @param sp address space of the access
 * @param addr configuration offset or guest-physical address
 * @param width bytes
 * @param write true for a write of *@p val, false for a read into *@p val
 * @param val the value written, or receives the value read (always written on a read)
 * @param now current time
 * @param fx receives the effects
 * @return ::SVD_OK, or ::SVD_ERR_BOUNDS / ::SVD_ERR_INVALID_ARG for a refused
 *         access (informational).
 */
SVD_MUST_USE svd_result svd_esb_access(svd_esb *w, svd_space sp, uint64_t addr, uint32_t width, bool write,
                                       uint64_t *val, uint64_t now, svd_fx *fx);

/** @brief Bring the timers up to @p now (timer callback). */
void svd_esb_tick(svd_esb *w, uint64_t now, svd_fx *fx);

/** @brief Time of the next expiry, or ::SVD_NO_DEADLINE. */
uint64_t svd_esb_next_deadline(const svd_esb *w);

/**
 * @brief BAR0 base address the guest programmed (0 if none), without an
 *        access: what configuration space offset 0x10 reads back, for a host
 *        that reports it (the QEMU multi-process device host's metrics).
 */
uint32_t svd_esb_bar0(const svd_esb *w);

/** @brief True when the guest enabled memory decoding (PCI command bit 1). */
bool svd_esb_mem_enabled(const svd_esb *w);

#endif /* SAFEVDEV_WDT_I6300ESB_H */
