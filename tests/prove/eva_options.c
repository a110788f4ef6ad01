/* Eva driver: the option parsers and the name functions, on strings of
 * unknown content. Each string is a buffer of unknown bytes that ends with a
 * NUL (a C string, the parsers' precondition); a NUL may come anywhere before,
 * or not before the parser's bound (SVD_PARSE_MAX_LEN: a longer value is
 * refused without reading past its bound + 1). Enumerations are any value
 * of their type's range the callers can pass, in range or not. */
#include "eva_any.h"
#include "safevdev/parse.h"
#include "safevdev/ratelimit.h"
#include "safevdev/result.h"
#include "safevdev/wdt.h"

#define STR_CAP (SVD_PARSE_MAX_LEN + 8u)

static char s1[STR_CAP];

/* s1 = unknown bytes, NUL-terminated at the end at the latest. */
static const char *any_string(void)
{
    eva_unknown((uint8_t *)s1, sizeof(s1) - 1u);
    s1[sizeof(s1) - 1u] = '\0';
    return s1;
}

int main(void)
{
    uint64_t v = 0u;
    uint64_t a = 0u;
    uint64_t b = 0u;
    svd_rate_opts ro = { { 0u, 0u, 0u, 0u } };
    svd_tb_cfg bytes;
    svd_tb_cfg ops;
    svd_rate_opt bad = SVD_RATE_BYTES;
    svd_wdt_action act = SVD_WDT_ACTION_RESET;
    svd_result r;

    r = svd_parse_u64(any_string(), any_u64(), any_u64(), &v);
    r = svd_parse_u64(NULL, 0u, 1u, &v);
    r = svd_parse_pair(any_string(), &a, &b);
    r = svd_parse_pair(NULL, &a, &b);
    /* The rate options, each set from any string (or refused), in any order. */
    for (int i = 0; i < 6; i++) {
        r = svd_rate_opt_set(&ro, (svd_rate_opt)eva_int(0, 7), any_string());
    }
    r = svd_rate_to_buckets(&ro, &bytes, &ops, &bad);
    (void)svd_rate_opt_name((svd_rate_opt)eva_int(0, 7));
    (void)svd_rate_opt_expects((svd_rate_opt)eva_int(0, 7));
    r = svd_wdt_action_parse(any_string(), &act);
    r = svd_wdt_action_parse(NULL, &act);
    (void)svd_wdt_action_name((svd_wdt_action)eva_int(0, 7));
    (void)svd_err_name((svd_err)eva_int(0, 31));
    (void)svd_why_name((svd_why)eva_int(0, 63));
    (void)r;
    return 0;
}
