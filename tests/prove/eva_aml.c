/* Eva driver: the ACPI (AML) writers. Up to SVD_AML_MAX_DEVS + 1 devices
 * with any fields and names of unknown content (NUL-terminated buffers),
 * encoded one by one (svd_aml_virtio_mmio) and as a whole SSDT
 * (svd_aml_ssdt, any count), into buffers of any capacity up to their size. */
#include "eva_any.h"
#include "safevdev/aml.h"

#define NDEV (SVD_AML_MAX_DEVS + 1u)
#define NAME_CAP 8u

static char names[NDEV][NAME_CAP];
static svd_aml_mmio_dev devs[NDEV];
static uint8_t out[SVD_AML_MAX_SSDT];

int main(void)
{
    size_t len = 0u;
    svd_result r;

    for (uint32_t i = 0u; i < NDEV; i++) {
        eva_unknown((uint8_t *)names[i], NAME_CAP - 1u);
        names[i][NAME_CAP - 1u] = '\0';
        devs[i].name = eva_int(0, 7) != 0 ? names[i] : NULL;
        devs[i].uid = any_u32();
        devs[i].base = any_u32();
        devs[i].size = any_u32();
        devs[i].gsi = any_u32();
        devs[i].trigger = (svd_aml_trigger)eva_int(0, 3);
        devs[i].coherent = eva_int(0, 1) != 0;
    }
    for (int i = 0; i < 3; i++) {
        r = svd_aml_virtio_mmio(&devs[eva_u32r(0u, NDEV - 1u)], out, eva_size(0u, sizeof(out)), &len);
    }
    r = svd_aml_virtio_mmio(NULL, out, sizeof(out), &len);
    r = svd_aml_ssdt(devs, eva_u32r(0u, NDEV), out, eva_size(0u, sizeof(out)), &len);
    r = svd_aml_ssdt(NULL, 1u, out, sizeof(out), &len);
    (void)r;
    return 0;
}
