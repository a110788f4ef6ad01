/* Eva driver: the composed virtio-entropy engine over virtio-pci, a packed
 * request queue running over guest memory of unknown contents (eva_run.h). */
#define EVA_RUN_XPORT SVD_XPORT_PCI
#define EVA_RUN_PACKED 1
#include "eva_run.h"

int main(void)
{
    return eva_run();
}
