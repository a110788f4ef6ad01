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
