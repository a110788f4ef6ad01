/* libFuzzer target: virtio-pci (modern) configuration-space and BAR0 sequences
 * against an entropy device.
 *
 * Input: u8 flags (bit0: entropy source fails, bit1: 64-bit BAR, bit2: MSI-X
 * offered), u16 ram
 * length, then ops until the input ends; the last <ram length> bytes are guest
 * memory. Each op: u8 kind, then
 *   kind%8 == 0: config read   u8 off, u8 width
 *   kind%8 == 1: config write  u8 off, u8 width, u32 val
 *   kind%8 == 2: BAR0 read     u16 off, u8 width
 *   kind%8 == 3: BAR0 write    u16 off, u8 width, u64 val
 *   kind%8 == 4: time passes (u16 ms), a pending request is served
 *   kind%8 == 5: guided common-configuration write (u8 field, u64 val), so that
 *                sequences reach DRIVER_OK and notify quickly
 *   kind%8 == 6: guided MSI-X message control write (u16 val)
 *   kind%8 == 7: guided MSI-X table dword write (u8 dword index, u32 val)
 * Invariants: vendor/device IDs never change; every result is a known code;
 * reads return within the access width; no call asks for more MSI-X messages
 * than the table has vectors, none without the capability, and the INTx line
 * is low in every call that sends one. */
#include "fuzz_transport.h"
#include "safevdev/pci.h"
#include "safevdev/vdev.h"

/* virtio 1.2 §4.1.4.3 common configuration fields: offset, width. */
static const uint8_t k_common[][2] = {
    { 0x00u, 4u }, { 0x08u, 4u }, { 0x0cu, 4u }, { 0x14u, 1u }, { 0x16u, 2u }, { 0x18u, 2u },
    { 0x1cu, 2u }, { 0x20u, 8u }, { 0x28u, 8u }, { 0x30u, 8u }, { 0x10u, 2u }, { 0x1au, 2u },
};

static void check_width(uint64_t v, uint32_t width)
{
    if (width < 8u) {
        FZ_CHECK((v >> (8u * width)) == 0u);
    }
}

#define FT_BAR UINT64_C(0xfe000000)

/* Where BAR0 decodes now, as the guest programmed it (read back through
 * configuration space, the way a driver would). */
static uint64_t bar_base(ft_env *env, bool bar64)
{
    svd_fx fx;
    uint64_t lo = 0u;
    uint64_t hi = 0u;
    FZ_CHECK(svd_is_ok(svd_vdev_access(&env->v, SVD_SPACE_PCI_CFG, SVD_PCI_CFG_BAR0, 4u, false, &lo, env->now, &fx)));
    if (bar64) {
        FZ_CHECK(
            svd_is_ok(svd_vdev_access(&env->v, SVD_SPACE_PCI_CFG, SVD_PCI_CFG_BAR1, 4u, false, &hi, env->now, &fx)));
    }
    return (hi << 32) | (lo & ~UINT64_C(0xf));
}

static svd_result cfg_access(ft_env *env, uint32_t off, uint32_t width, bool write, uint64_t *v, svd_fx *fx)
{
    return svd_vdev_access(&env->v, SVD_SPACE_PCI_CFG, off, width, write, v, env->now, fx);
}

/* REQ: REQ-SAF-002 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    ft_env env;
    svd_vdev_cfg vc;
    svd_fx fx;
    const uint8_t flags = fz_u8(&in);
    const size_t ramlen = fz_u16(&in) % FT_RAM_MAX;
    const bool bar64 = (flags & 2u) != 0u;
    uint64_t v = 0u;

    memset(&vc, 0, sizeof(vc));
    vc.xport = SVD_XPORT_PCI;
    vc.pci.class_code = SVD_PCI_CLASS_RNG;
    vc.pci.subsystem_vendor = SVD_PCI_VENDOR_VIRTIO;
    vc.pci.subsystem_id = 4u;
    vc.pci.bar64 = bar64;
    vc.pci.msix = (flags & 4u) != 0u;
    (void)ft_env_init(&env, &in, ramlen, &vc);
    env.source_fails = (flags & 1u) != 0u;
    /* Firmware places BAR0; the input may move it or turn decoding off. */
    v = FT_BAR;
    FZ_CHECK(svd_is_ok(cfg_access(&env, SVD_PCI_CFG_BAR0, 4u, true, &v, &fx)));

    while (fz_left(&in) > 0u) {
        const uint8_t kind = fz_u8(&in);
        svd_result r = svd_ok();
        memset(&fx, 0, sizeof(fx)); /* a tick fills its own effect: none of the last step's is checked again */
        switch (kind % 8u) {
        case 0u: {
            const uint8_t off = fz_u8(&in);
            const uint32_t width = fz_u8(&in) % 9u;
            v = 0u;
            r = cfg_access(&env, off, width, false, &v, &fx);
            if (svd_is_ok(r)) {
                check_width(v, width);
                if (off == 0u && width == 4u) {
                    FZ_CHECK(v == (SVD_PCI_VENDOR_VIRTIO | ((SVD_PCI_DEVICE_ID_BASE + 4u) << 16)));
                }
            }
            break;
        }
        case 1u: {
            const uint8_t off = fz_u8(&in);
            const uint32_t width = fz_u8(&in) % 9u;
            v = fz_u32(&in);
            r = cfg_access(&env, off, width, true, &v, &fx);
            break;
        }
        case 2u: {
            const uint16_t off = fz_u16(&in);
            const uint32_t width = fz_u8(&in) % 9u;
            v = 0u;
            r = svd_vdev_access(&env.v, SVD_SPACE_MEM, bar_base(&env, bar64) + off, width, false, &v, env.now, &fx);
            if (svd_is_ok(r)) {
                check_width(v, width);
            }
            break;
        }
        case 3u: {
            const uint16_t off = fz_u16(&in);
            const uint32_t width = fz_u8(&in) % 9u;
            v = fz_u64(&in);
            r = svd_vdev_access(&env.v, SVD_SPACE_MEM, bar_base(&env, bar64) + off, width, true, &v, env.now, &fx);
            break;
        }
        case 4u:
            ft_tick(&env, fz_u16(&in));
            break;
        case 6u:
            v = (uint64_t)fz_u16(&in) << 16;
            r = cfg_access(&env, SVD_PCI_CAP_MSIX, 4u, true, &v, &fx);
            break;
        case 7u: {
            const uint32_t dw = fz_u8(&in) % (SVD_PCI_MSIX_VECTORS * 4u + 2u);
            v = fz_u32(&in);
            const uint64_t at = bar_base(&env, bar64) + SVD_PCI_MSIX_TABLE_OFF + 4u * dw;
            r = svd_vdev_access(&env.v, SVD_SPACE_MEM, at, 4u, true, &v, env.now, &fx);
            break;
        }
        default: {
            const uint8_t *f = k_common[fz_u8(&in) % (sizeof(k_common) / sizeof(k_common[0]))];
            v = fz_u64(&in);
            r = svd_vdev_access(&env.v, SVD_SPACE_MEM, bar_base(&env, bar64) + SVD_PCI_COMMON_OFF + f[0], f[1], true,
                                &v, env.now, &fx);
            break;
        }
        }
        ft_check_fx(&env, &fx, r);
        FZ_CHECK(fx.n_msi <= SVD_PCI_MSIX_VECTORS);
        FZ_CHECK(vc.pci.msix || fx.n_msi == 0u);
        FZ_CHECK(fx.n_msi == 0u || !fx.irq_level);
    }
    ft_env_free(&env);
    return 0;
}
