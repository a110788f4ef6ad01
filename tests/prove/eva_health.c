/* Eva driver: the entropy health tests (repetition count and adaptive
 * proportion, start-up and continuous) at any stated min-entropy (0..9:
 * 0 and 9 refused), fed up to 8 batches of unknown bytes of any length up
 * to the buffer (0 included), with and without a failed-test output. */
#include "eva_any.h"
#include "safevdev/health.h"

#define BUF 2048u
#define FEEDS 8

static uint8_t buf[BUF];

int main(void)
{
    svd_health h;
    svd_health_test failed;
    if (!svd_is_ok(svd_health_init(&h, eva_u32r(0u, 9u)))) {
        return 1;
    }
    (void)svd_health_init(NULL, 8u);
    const int n = eva_int(0, FEEDS);
    for (int i = 0; i < n; i++) {
        eva_unknown(buf, sizeof(buf));
        const svd_result r = svd_health_feed(&h, buf, eva_size(0u, BUF), eva_int(0, 1) != 0 ? &failed : NULL);
        (void)r;
        (void)svd_health_state_of(&h);
        (void)svd_health_stats_of(&h);
    }
    return 0;
}
