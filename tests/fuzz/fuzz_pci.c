/* libFuzzer target: virtio-pci (modern) configuration-space and BAR0 sequences
 * against an entropy device.
 *
 * Input: u8 flags (bit0: entropy source fails, bit1: 64-bit BAR), u16 ram
 * length, then ops until the input ends; the last <ram length> bytes are guest
 * memory. Each op: u8 kind, then
 *   kind%6 == 0: config read   u8 off, u8 width
 *   kind%6 == 1: config write  u8 off, u8 width, u32 val
 *   kind%6 == 2: BAR0 read     u16 off, u8 width
 *   kind%6 == 3: BAR0 write    u16 off, u8 width, u64 val
 *   kind%6 == 4: time passes (u16 ms), a pending request is served
 *   kind%6 == 5: guided common-configuration write (u8 field, u64 val), so that
 *                sequences reach DRIVER_OK and notify quickly
 * Invariants: vendor/device IDs never change; every result is a known code;
 * reads return within the access width. */
#include "fuzz_transport.h"
#include "safevdev/pci.h"

/* virtio 1.2 §4.1.4.3 common configuration fields: offset, width. */
static const uint8_t k_common[][2] = {
    { 0x00u, 4u }, { 0x08u, 4u }, { 0x0cu, 4u }, { 0x14u, 1u }, { 0x16u, 2u }, { 0x18u, 2u },
    { 0x1cu, 2u }, { 0x20u, 8u }, { 0x28u, 8u }, { 0x30u, 8u }, { 0x10u, 2u }, { 0x1au, 2u },
};

static void after(ft_env *env, svd_pci *p, const svd_pci_action *act)
{
    if (act->reset) {
        svd_entropy_reset(&env->e);
    }
    if (act->notify) {
        svd_pci_action a2;
        FZ_CHECK(act->vq != NULL);
        ft_serve(env, act->vq, act->queue);
        memset(&a2, 0, sizeof(a2));
        svd_pci_sync_irq(p, &a2);
    }
}

static void check_width(uint64_t v, uint32_t width)
{
    if (width < 8u) {
        FZ_CHECK((v >> (8u * width)) == 0u);
    }
}

/* REQ: REQ-GATE-010 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    ft_env env;
    svd_pci p;
    svd_pci_params params;
    svd_pci_action act;
    const uint8_t flags = fz_u8(&in);
    const size_t ramlen = fz_u16(&in) % FT_RAM_MAX;

    (void)ft_env_init(&env, &in, ramlen);
    env.source_fails = (flags & 1u) != 0u;
    memset(&params, 0, sizeof(params));
    params.class_code = SVD_PCI_CLASS_RNG;
    params.subsystem_vendor = SVD_PCI_VENDOR_VIRTIO;
    params.subsystem_id = 4u;
    params.bar64 = (flags & 2u) != 0u;
    FZ_CHECK(svd_is_ok(svd_pci_init(&p, &env.d, &params)));

    while (fz_left(&in) > 0u) {
        const uint8_t kind = fz_u8(&in);
        svd_result r = svd_ok();
        memset(&act, 0, sizeof(act));
        switch (kind % 6u) {
        case 0u: {
            const uint8_t off = fz_u8(&in);
            const uint32_t width = fz_u8(&in) % 9u;
            uint32_t v = 0u;
            r = svd_pci_cfg_read(&p, off, width, &v, &act);
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
            r = svd_pci_cfg_write(&p, off, width, fz_u32(&in), &act);
            break;
        }
        case 2u: {
            const uint16_t off = fz_u16(&in);
            const uint32_t width = fz_u8(&in) % 9u;
            uint64_t v = 0u;
            r = svd_pci_bar_read(&p, off, width, &v, &act);
            if (svd_is_ok(r)) {
                check_width(v, width);
            }
            break;
        }
        case 3u: {
            const uint16_t off = fz_u16(&in);
            const uint32_t width = fz_u8(&in) % 9u;
            r = svd_pci_bar_write(&p, off, width, fz_u64(&in), &act);
            break;
        }
        case 4u: {
            svd_vq *q = &env.d.queues[0];
            env.now += (uint64_t)fz_u16(&in) * 1000000u;
            if (q->enabled && !q->broken) {
                ft_serve(&env, q, 0u);
            }
            break;
        }
        default: {
            const uint8_t *f = k_common[fz_u8(&in) % (sizeof(k_common) / sizeof(k_common[0]))];
            r = svd_pci_bar_write(&p, SVD_PCI_COMMON_OFF + f[0], f[1], fz_u64(&in), &act);
            break;
        }
        }
        FZ_CHECK((unsigned)r.err < (unsigned)SVD_ERR__COUNT);
        after(&env, &p, &act);
    }
    ft_env_free(&env);
    return 0;
}
