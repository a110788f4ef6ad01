/* Watchdog action names. Comparison by hand: the core may use no libc string
 * function (make purity), and the words are short. */
#include "safevdev/wdt.h"

#include <stddef.h>

static bool wdt_streq(const char *a, const char *b)
{
    size_t i = 0u;
    while (a[i] != '\0' && a[i] == b[i]) {
        i++;
    }
    return a[i] == b[i];
}

const char *svd_wdt_action_name(svd_wdt_action a)
{
    const char *name;
    switch (a) {
    case SVD_WDT_ACTION_RESET:
        name = "reset";
        break;
    case SVD_WDT_ACTION_TERMINATE:
        name = "terminate";
        break;
    case SVD_WDT_ACTION_DUMP:
        name = "dump";
        break;
    case SVD_WDT_ACTION_NONE:
        name = "none";
        break;
    case SVD_WDT_ACTION__COUNT:
    default:
        name = "unknown";
        break;
    }
    return name;
}

/* cppcheck-suppress unusedFunction ; SVD-DEV-010: public API for hosts that name engine actions; the qvm adapters take QNX's spelling */
svd_result svd_wdt_action_parse(const char *s, svd_wdt_action *out)
{
    SVD_ENSURE(s != NULL && out != NULL, SVD_ERR_INVALID_ARG);
    for (unsigned i = 0u; i < (unsigned)SVD_WDT_ACTION__COUNT; i++) {
        const svd_wdt_action a = (svd_wdt_action)i;
        if (wdt_streq(s, svd_wdt_action_name(a))) {
            *out = a;
            return svd_ok();
        }
    }
    return svd_fail(SVD_ERR_INVALID_ARG);
}
