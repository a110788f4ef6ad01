/* Eva driver: a split virtqueue with EVENT_IDX, no INDIRECT_DESC negotiated (eva_vq.h). */
#define EVA_VQ_PACKED 0
#define EVA_VQ_EVENT_IDX 1
#define EVA_VQ_INDIRECT 0
#include "eva_vq.h"

int main(void)
{
    return eva_vq_main();
}
