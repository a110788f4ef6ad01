/**
 * @file mpq_proto.h
 * @brief QEMU 7.2 multi-process protocol ("mpqemu") wire constants
 *        (internal to the qemu-remote-vdev daemon).
 *
 * Written from our reading of QEMU 7.2's include/hw/remote/mpqemu-link.h,
 * hw/remote/mpqemu-link.c, hw/remote/message.c and hw/remote/proxy.c, and
 * checked on the wire between QEMU's x-pci-proxy-dev and QEMU's own remote
 * process (tests/remote/wiretap.py; docs/qemu-remote.md lists what was seen).
 *
 * The protocol is QEMU-private and sends C structures as they lie in memory:
 * native byte order, the x86-64 (LP64) layout. A message is a 16-byte header
 * (s32 command, 4 bytes of structure padding, u64 payload size) followed by
 * `size` payload bytes; file descriptors ride, with SCM_RIGHTS, on the
 * header. We decode byte by byte with the core's little-endian accessors,
 * never by casting the buffer to a structure, and the build refuses a host
 * on which the layout below is not QEMU's (mpq_dev.c).
 *
 * The proxy (QEMU) sends every command but RET; it waits for a RET after
 * PCI_CFGREAD, PCI_CFGWRITE, BAR_READ, BAR_WRITE and DEVICE_RESET, and for
 * nothing after SYNC_SYSMEM and SET_IRQFD.
 */
#ifndef MPQ_PROTO_H
#define MPQ_PROTO_H

#include <stdint.h>

/** @brief Header bytes: command (s32), padding (4), payload size (u64). */
#define MPQ_HDR_SIZE 16u
/** @brief Largest payload of any command (the SYNC_SYSMEM table); a larger size ends the connection unread. */
#define MPQ_MAX_PAYLOAD 192u
/** @brief File descriptors one message can carry (REMOTE_MAX_FDS). */
#define MPQ_MAX_FDS 8u
/** @brief Room made in one recvmsg for fds: more than any valid message carries,
 * so a message with too many is seen (and its fds closed), not truncated. */
#define MPQ_MAX_RECV_FDS 16u

/** @brief Commands (MPQemuCmd, in QEMU 7.2's order). */
enum mpq_cmd {
    MPQ_SYNC_SYSMEM = 0,  /**< Guest RAM: up to 8 (gpa, size, file offset) entries, one fd each. No reply. */
    MPQ_RET = 1,          /**< Reply: u64 value. Only the device process sends it. */
    MPQ_PCI_CFGWRITE = 2, /**< Config write: u32 addr, u32 val, s32 len. Reply RET 0. */
    MPQ_PCI_CFGREAD = 3,  /**< Config read: u32 addr, u32 val (unused), s32 len. Reply RET value. */
    MPQ_BAR_WRITE = 4,    /**< BAR write: u64 addr (absolute), u64 val, u32 size, bool memory. Reply RET 0. */
    MPQ_BAR_READ = 5,     /**< BAR read: as BAR_WRITE, val unused. Reply RET value. */
    MPQ_SET_IRQFD = 6,    /**< INTx: no payload, 2 fds (irqfd eventfd, resample eventfd). No reply. */
    MPQ_DEVICE_RESET = 7, /**< Device reset: no payload. Reply RET. */
    MPQ_CMD__COUNT = 8    /**< Number of commands; not a command itself. */
};

/** @brief SYNC_SYSMEM payload: gpas[8] (u64) at 0, sizes[8] (u64) at 64, offsets[8] (off_t, s64) at 128. */
#define MPQ_SYSMEM_SIZE 192u
#define MPQ_SYSMEM_GPAS 0u     /**< Offset of gpas[]. */
#define MPQ_SYSMEM_SIZES 64u   /**< Offset of sizes[]. */
#define MPQ_SYSMEM_OFFSETS 128u /**< Offset of offsets[]. */

/** @brief PCI_CFGREAD/CFGWRITE payload: addr (u32) at 0, val (u32) at 4, len (s32) at 8. */
#define MPQ_CFG_SIZE 12u
/** @brief BAR_READ/BAR_WRITE payload: addr (u64) at 0, val (u64) at 8, size (u32) at 16, memory (bool) at 20, padding to 24. */
#define MPQ_BAR_SIZE 24u
/** @brief RET payload: one u64. */
#define MPQ_RET_SIZE 8u

/** @brief Configuration space the proxy forwards (a conventional PCI function). */
#define MPQ_CFG_SPACE 256u

#endif /* MPQ_PROTO_H */
