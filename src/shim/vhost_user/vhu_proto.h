/* vhost-user wire protocol, as described in QEMU's docs/interop/vhost-user.rst.
 * Written from the specification text: request codes, flag bits, payload
 * layouts (all little-endian on the wire; we decode byte by byte with the
 * core's span accessors, never by casting the buffer to a struct). */
#ifndef VHU_PROTO_H
#define VHU_PROTO_H

#include <stdint.h>

/* Header: request (u32), flags (u32), size of the payload that follows (u32). */
#define VHU_HDR_SIZE 12u
/* Largest payload we accept to read at all; anything larger cannot be
 * resynchronised and ends the connection. */
#define VHU_MAX_PAYLOAD 4096u
/* Memory regions one SET_MEM_TABLE may carry (the protocol's baseline). */
#define VHU_MAX_REGIONS 8u
/* File descriptors we make room for in one recvmsg: more than any valid
 * message carries, so a message with too many is seen (and its fds closed)
 * rather than silently truncated. */
#define VHU_MAX_RECV_FDS 16u

/* Header flags. */
#define VHU_FLAG_VERSION_MASK 0x3u
#define VHU_VERSION 0x1u
#define VHU_FLAG_REPLY 0x4u
#define VHU_FLAG_NEED_REPLY 0x8u
#define VHU_FLAG_KNOWN (VHU_FLAG_VERSION_MASK | VHU_FLAG_REPLY | VHU_FLAG_NEED_REPLY)

/* Front-end requests. */
enum vhu_request {
    VHU_GET_FEATURES = 1,
    VHU_SET_FEATURES = 2,
    VHU_SET_OWNER = 3,
    VHU_RESET_OWNER = 4,
    VHU_SET_MEM_TABLE = 5,
    VHU_SET_LOG_BASE = 6,
    VHU_SET_LOG_FD = 7,
    VHU_SET_VRING_NUM = 8,
    VHU_SET_VRING_ADDR = 9,
    VHU_SET_VRING_BASE = 10,
    VHU_GET_VRING_BASE = 11,
    VHU_SET_VRING_KICK = 12,
    VHU_SET_VRING_CALL = 13,
    VHU_SET_VRING_ERR = 14,
    VHU_GET_PROTOCOL_FEATURES = 15,
    VHU_SET_PROTOCOL_FEATURES = 16,
    VHU_GET_QUEUE_NUM = 17,
    VHU_SET_VRING_ENABLE = 18,
    VHU_GET_CONFIG = 24,
    VHU_SET_CONFIG = 25,
    VHU_RESET_DEVICE = 34
};

/* Feature bit of the vhost-user layer itself (not a virtio bit). */
#define VHU_F_PROTOCOL_FEATURES (UINT64_C(1) << 30)

/* Protocol feature bits. */
#define VHU_PF_MQ (UINT64_C(1) << 0)
#define VHU_PF_REPLY_ACK (UINT64_C(1) << 3)
#define VHU_PF_CONFIG (UINT64_C(1) << 9)
#define VHU_PF_RESET_DEVICE (UINT64_C(1) << 13)

/* SET_VRING_KICK/CALL/ERR payload: bits 0..7 queue index, bit 8 "no fd". */
#define VHU_VRING_IDX_MASK UINT64_C(0xff)
#define VHU_VRING_NOFD (UINT64_C(1) << 8)

/* Payload sizes. */
#define VHU_U64_SIZE 8u
#define VHU_STATE_SIZE 8u        /* u32 index, u32 num */
#define VHU_ADDR_SIZE 40u        /* u32 index, u32 flags, u64 desc, used, avail, log */
#define VHU_MEM_HDR_SIZE 8u      /* u32 nregions, u32 padding */
#define VHU_MEM_REGION_SIZE 32u  /* u64 gpa, size, user address, mmap offset */

#endif
