/* Eva driver: the entropy model serving a live packed virtqueue of size 4 or 8 (eva_entropy_serve.h). */
#define EVA_VQ_PACKED 1
#define EVA_VQ_EVENT_IDX 0
#define EVA_VQ_LOG_MIN 2
#include "eva_entropy_serve.h"

int main(void)
{
    return eva_entropy_serve_main();
}
