/* Eva driver: the entropy model serving a live split virtqueue (eva_entropy_serve.h). */
#define EVA_VQ_PACKED 0
#define EVA_VQ_EVENT_IDX 0
#include "eva_entropy_serve.h"

int main(void)
{
    return eva_entropy_serve_main();
}
