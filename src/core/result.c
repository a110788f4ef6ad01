/* Error names: a switch rather than a table so the object has no data section
 * beyond read-only string literals, and an out-of-range value still has a name. */
#include "safevdev/result.h"

const char *svd_err_name(svd_err e)
{
    const char *name;
    switch (e) {
    case SVD_OK:
        name = "ok";
        break;
    case SVD_ERR_INVALID_ARG:
        name = "invalid_arg";
        break;
    case SVD_ERR_BOUNDS:
        name = "bounds";
        break;
    case SVD_ERR_OVERFLOW:
        name = "overflow";
        break;
    case SVD_ERR_STATE:
        name = "state";
        break;
    case SVD_ERR_PROTOCOL:
        name = "protocol";
        break;
    case SVD_ERR_EMPTY:
        name = "empty";
        break;
    case SVD_ERR_AGAIN:
        name = "again";
        break;
    case SVD_ERR_NOSPACE:
        name = "nospace";
        break;
    case SVD_ERR_SOURCE:
        name = "source";
        break;
    case SVD_ERR__COUNT:
    default:
        name = "unknown";
        break;
    }
    return name;
}

const char *svd_why_name(svd_why w)
{
    const char *name;
    switch (w) {
    case SVD_WHY_NONE:
        name = "none";
        break;
    case SVD_WHY_STATUS_ORDER:
        name = "status_order";
        break;
    case SVD_WHY_QUEUE_SIZE:
        name = "queue_size";
        break;
    case SVD_WHY_QUEUE_ENABLED:
        name = "queue_enabled";
        break;
    case SVD_WHY_RING_ALIGN:
        name = "ring_align";
        break;
    case SVD_WHY_RING_MEMORY:
        name = "ring_memory";
        break;
    case SVD_WHY_AVAIL_JUMP:
        name = "avail_jump";
        break;
    case SVD_WHY_HEAD_RANGE:
        name = "head_range";
        break;
    case SVD_WHY_HEAD_INFLIGHT:
        name = "head_inflight";
        break;
    case SVD_WHY_NEXT_RANGE:
        name = "next_range";
        break;
    case SVD_WHY_CHAIN_LOOP:
        name = "chain_loop";
        break;
    case SVD_WHY_INDIRECT_FEATURE:
        name = "indirect_feature";
        break;
    case SVD_WHY_INDIRECT_NESTED:
        name = "indirect_nested";
        break;
    case SVD_WHY_INDIRECT_NEXT:
        name = "indirect_next";
        break;
    case SVD_WHY_INDIRECT_LEN:
        name = "indirect_len";
        break;
    case SVD_WHY_INDIRECT_MEMORY:
        name = "indirect_memory";
        break;
    case SVD_WHY_WRITE_ORDER:
        name = "write_order";
        break;
    case SVD_WHY_BUFFER_MEMORY:
        name = "buffer_memory";
        break;
    case SVD_WHY_CHAIN_LEN:
        name = "chain_len";
        break;
    case SVD_WHY_SOURCE_GAVE_UP:
        name = "source_gave_up";
        break;
    case SVD_WHY_RING_BASE:
        name = "ring_base";
        break;
    case SVD_WHY_DESC_WRAP:
        name = "desc_wrap";
        break;
    case SVD_WHY_BUFFER_ID:
        name = "buffer_id";
        break;
    case SVD_WHY_RING_OVERRUN:
        name = "ring_overrun";
        break;
    case SVD_WHY__COUNT:
    default:
        name = "unknown";
        break;
    }
    return name;
}
