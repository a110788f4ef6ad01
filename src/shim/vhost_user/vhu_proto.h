/**
 * @file vhu_proto.h
 * @brief vhost-user wire protocol constants (internal to the daemon).
 *
 * The protocol as described in QEMU's docs/interop/vhost-user.rst.
 * Written from the specification text: request codes, flag bits, payload
 * layouts (all little-endian on the wire; we decode byte by byte with the
 * core's span accessors, never by casting the buffer to a struct).
 */
#ifndef VHU_PROTO_H
#define VHU_PROTO_H

#include <stdint.h>

/** @brief Header bytes: request (u32), flags (u32), size of the payload that follows (u32). */
#define VHU_HDR_SIZE 12u
/** @brief Largest payload we accept to read at all; anything larger cannot be
 * resynchronised and ends the connection. */
#define VHU_MAX_PAYLOAD 4096u
/** @brief Memory regions one SET_MEM_TABLE may carry (the protocol's baseline). */
#define VHU_MAX_REGIONS 8u
/** @brief File descriptors we make room for in one recvmsg: more than any valid
 * message carries, so a message with too many is seen (and its fds closed)
 * rather than silently truncated. */
#define VHU_MAX_RECV_FDS 16u

/** @brief Header flags: protocol version field. */
#define VHU_FLAG_VERSION_MASK 0x3u
/** @brief The only protocol version accepted. */
#define VHU_VERSION 0x1u
/** @brief Header flag: this message is a reply (never accepted from the front-end). */
#define VHU_FLAG_REPLY 0x4u
/** @brief Header flag: the front-end wants a REPLY_ACK answer. */
#define VHU_FLAG_NEED_REPLY 0x8u
/** @brief Every header flag bit we know; any other bit set is refused. */
#define VHU_FLAG_KNOWN (VHU_FLAG_VERSION_MASK | VHU_FLAG_REPLY | VHU_FLAG_NEED_REPLY)

/** @brief Front-end request codes we recognise (others are refused). */
enum vhu_request {
    VHU_GET_FEATURES = 1,           /**< Feature bits offered. */
    VHU_SET_FEATURES = 2,           /**< Feature bits acked. */
    VHU_SET_OWNER = 3,              /**< Start of a session. */
    VHU_RESET_OWNER = 4,            /**< End of a session (stop, unmap). */
    VHU_SET_MEM_TABLE = 5,          /**< Guest memory regions, one fd each. */
    VHU_SET_LOG_BASE = 6,           /**< Dirty log (not supported: refused). */
    VHU_SET_LOG_FD = 7,             /**< Dirty log fd (not supported: refused, fd closed). */
    VHU_SET_VRING_NUM = 8,          /**< Queue size. */
    VHU_SET_VRING_ADDR = 9,         /**< Ring addresses (front-end virtual). */
    VHU_SET_VRING_BASE = 10,        /**< Next available index. */
    VHU_GET_VRING_BASE = 11,        /**< Stop the ring, return its index. */
    VHU_SET_VRING_KICK = 12,        /**< Kick eventfd, or the no-fd polling bit. */
    VHU_SET_VRING_CALL = 13,        /**< Call eventfd. */
    VHU_SET_VRING_ERR = 14,         /**< Error eventfd. */
    VHU_GET_PROTOCOL_FEATURES = 15, /**< Protocol features offered. */
    VHU_SET_PROTOCOL_FEATURES = 16, /**< Protocol features acked. */
    VHU_GET_QUEUE_NUM = 17,         /**< Number of queues (MQ). */
    VHU_SET_VRING_ENABLE = 18,      /**< Enable or disable a ring. */
    VHU_GET_CONFIG = 24,            /**< Config space (not offered: refused). */
    VHU_SET_CONFIG = 25,            /**< Config space (not offered: refused). */
    VHU_RESET_DEVICE = 34           /**< Reset the device, keep the session. */
};

/** @brief Feature bit of the vhost-user layer itself (not a virtio bit). */
#define VHU_F_PROTOCOL_FEATURES (UINT64_C(1) << 30)

/** @brief Protocol feature: multiple queues (GET_QUEUE_NUM). */
#define VHU_PF_MQ (UINT64_C(1) << 0)
/** @brief Protocol feature: REPLY_ACK on NEED_REPLY. */
#define VHU_PF_REPLY_ACK (UINT64_C(1) << 3)
/** @brief Protocol feature: config space messages (not offered). */
#define VHU_PF_CONFIG (UINT64_C(1) << 9)
/** @brief Protocol feature: RESET_DEVICE. */
#define VHU_PF_RESET_DEVICE (UINT64_C(1) << 13)

/** @brief SET_VRING_KICK/CALL/ERR payload: bits 0..7 queue index. */
#define VHU_VRING_IDX_MASK UINT64_C(0xff)
/** @brief SET_VRING_KICK/CALL/ERR payload: bit 8 "no fd". */
#define VHU_VRING_NOFD (UINT64_C(1) << 8)

/** @brief Payload size: one u64. */
#define VHU_U64_SIZE 8u
/** @brief Payload size: vring state (u32 index, u32 num). */
#define VHU_STATE_SIZE 8u
/** @brief Payload size: vring address (u32 index, u32 flags, u64 desc, used, avail, log). */
#define VHU_ADDR_SIZE 40u
/** @brief Payload size: memory table header (u32 nregions, u32 padding). */
#define VHU_MEM_HDR_SIZE 8u
/** @brief Payload size: one memory region (u64 gpa, size, user address, mmap offset). */
#define VHU_MEM_REGION_SIZE 32u

#endif
