/* Eva driver: the SSDT writer (svd_aml_ssdt). SVD_AML_MAX_DEVS + 1 devices
 * with any fields and names of unknown content (NUL-terminated buffers), an
 * SSDT of any count 0 .. SVD_AML_MAX_DEVS + 1 of them (0 and the last
 * refused) into a buffer of any capacity up to its size; and a NULL device
 * array. No name is NULL here: the uniqueness check compares the name of
 * each device with those before it, which passed dev_ok (name not NULL)
 * earlier, a fact about the loop Eva does not keep; dev_ok's refusal of a
 * NULL name is eva_aml_dev's. */
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
        devs[i].name = names[i];
        devs[i].uid = any_u32();
        devs[i].base = any_u32();
        devs[i].size = any_u32();
        devs[i].gsi = any_u32();
        devs[i].trigger = (svd_aml_trigger)eva_int(0, 3);
        devs[i].coherent = eva_int(0, 1) != 0;
    }
    r = svd_aml_ssdt(devs, eva_u32r(0u, NDEV), out, eva_size(0u, sizeof(out)), &len);
    r = svd_aml_ssdt(NULL, 1u, out, sizeof(out), &len);
    (void)r;
    return 0;
}
