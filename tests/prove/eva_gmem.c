/* Eva driver: the guest memory map. Up to SVD_GMEM_MAX_REGIONS + 1 regions
 * added with any guest address, size (up to the host buffer behind it),
 * access and host pointer (NULL included), then translations of any range
 * with any access: svd_gmem_translate, svd_gmem_translate_prefix and
 * svd_gmem_check_host, and a refill of the map in place (svd_gmem_init). The
 * host buffers are all the same size, so a translated pointer is inside its
 * buffer whichever region Eva cannot tell it came from. */
#include "eva_any.h"
#include "safevdev/gmem.h"

#define HOST 64u
#define NREG (SVD_GMEM_MAX_REGIONS + 1u)
#define CALLS 8

static uint8_t host[NREG][HOST];

int main(void)
{
    static svd_gmem m;
    svd_span s;
    uint8_t *h = NULL;
    svd_result r;

    for (int pass = 0; pass < 2; pass++) {
        svd_gmem_init(&m);
        for (uint32_t i = 0u; i < NREG; i++) {
            r = svd_gmem_add(&m, any_u64(), eva_u64r(0u, HOST), eva_int(0, 7) != 0 ? host[i] : NULL,
                             eva_u32r(0u, 4u));
        }
        const int n = eva_int(0, CALLS);
        for (int i = 0; i < n; i++) {
            const uint32_t acc = eva_u32r(0u, 4u);
            switch (eva_int(0, 2)) {
            case 0:
                r = svd_gmem_translate(&m, any_u64(), any_u64(), acc, &s);
                break;
            case 1:
                r = svd_gmem_translate_prefix(&m, any_u64(), any_u64(), acc, &s);
                break;
            default:
                r = svd_gmem_check_host(&m, any_u64(), any_u64(), acc, &h);
                break;
            }
        }
    }
    (void)r;
    return 0;
}
