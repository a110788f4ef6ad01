/* Eva driver: the AML Device term alone (svd_aml_virtio_mmio). Up to 4
 * devices, each with any fields and a name of unknown content (a
 * NUL-terminated buffer, or NULL), each encoded into a buffer of any
 * capacity up to its size; and a NULL device. */
#include "eva_any.h"
#include "safevdev/aml.h"

#define NAME_CAP 8u

static char name[NAME_CAP];
static uint8_t out[SVD_AML_MAX_DEVICE + 8u];

int main(void)
{
    size_t len = 0u;
    svd_result r;
    svd_aml_mmio_dev d;
    const int n = eva_int(1, 4);

    for (int i = 0; i < n; i++) {
        eva_unknown((uint8_t *)name, NAME_CAP - 1u);
        name[NAME_CAP - 1u] = '\0';
        d.name = eva_int(0, 7) != 0 ? name : NULL;
        d.uid = any_u32();
        d.base = any_u32();
        d.size = any_u32();
        d.gsi = any_u32();
        d.trigger = (svd_aml_trigger)eva_int(0, 3);
        d.coherent = eva_int(0, 1) != 0;
        r = svd_aml_virtio_mmio(&d, out, eva_size(0u, sizeof(out)), &len);
    }
    r = svd_aml_virtio_mmio(NULL, out, sizeof(out), &len);
    (void)r;
    return 0;
}
