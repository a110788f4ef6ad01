/* Eva driver: spans and the reading cursor over a buffer of unknown bytes
 * with any length up to the buffer, up to 12 cursor calls chosen at random
 * (skip any n, read a 64-bit value, remaining), and the little-endian loads
 * and stores at every offset where the 4 or 8 bytes fit. */
#include "eva_any.h"
#include "safevdev/span.h"

#define BUF 64u
#define CALLS 12

static uint8_t buf[BUF];
/* The span's length: prove.py partitions Eva's states on it
 * (-eva-partition-value), so the cursor's position is compared with one
 * known length (remaining() = len - pos is a relation Eva does not keep). */
static size_t eva_len;

int main(void)
{
    svd_cursor c;
    uint64_t v = 0u;
    svd_result r;

    eva_unknown(buf, sizeof(buf));
    eva_len = eva_size(0u, BUF);
    svd_cursor_init(&c, svd_span_make(buf, eva_len));
    const int n = eva_int(0, CALLS);
    for (int i = 0; i < n; i++) {
        switch (eva_int(0, 2)) {
        case 0:
            r = svd_cursor_skip(&c, eva_size(0u, SIZE_MAX));
            break;
        case 1:
            r = svd_cursor_read_le64(&c, &v);
            break;
        default:
            (void)svd_cursor_remaining(&c);
            r = svd_ok();
            break;
        }
        (void)r;
    }
    const size_t o4 = eva_size(0u, BUF - 4u);
    const size_t o8 = eva_size(0u, BUF - 8u);
    svd_store_le32(buf + o4, svd_load_le32(buf + eva_size(0u, BUF - 4u)));
    svd_store_le64(buf + o8, svd_load_le64(buf + eva_size(0u, BUF - 8u)));
    return 0;
}
