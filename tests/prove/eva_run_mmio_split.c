/* Eva driver: the composed virtio-entropy engine over virtio-mmio, a split
 * request queue running over guest memory of unknown contents (eva_run.h). */
#define EVA_RUN_XPORT SVD_XPORT_MMIO
#define EVA_RUN_PACKED 0
#include "eva_run.h"

int main(void)
{
    return eva_run();
}
