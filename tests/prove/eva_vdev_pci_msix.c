/* Eva driver: eva_vdev_pci.c with the MSI-X capability offered or not (any
 * choice), so the MSI-X table, PBA and message paths are reached too. */
#define EVA_MSIX (eva_int(0, 1) != 0)
#include "eva_vdev_pci.c"
