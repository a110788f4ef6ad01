/* libFuzzer target: virtio-mmio register sequences against an entropy device.
 *
 * Input: u8 flags (bit0: entropy source fails), u16 ram length, then ops until
 * the input ends; the last <ram length> bytes are guest memory (rings and
 * buffers the fuzzer controls). Each op: u8 kind, then
 *   kind%4 == 0: read  u16 off, u8 width
 *   kind%4 == 1: write u16 off, u8 width, u32 val
 *   kind%4 == 2: time passes (u16 ms), a pending request is served
 *   kind%4 == 3: a guided write of a register the Linux driver uses (u8 reg, u32 val),
 *                so sequences reach DRIVER_OK and notify quickly
 * Invariants: the magic/version registers never change; a successful read
 * of a read-only identity register gives the same value each time; every
 * result is a known error code and reason; a failure effect names a reason
 * and leaves the device latched; after a reset the status reads 0. */
#include "fuzz_transport.h"
#include "safevdev/mmio.h"
#include "safevdev/vdev.h"

static const uint16_t k_regs[] = {
    SVD_MMIO_STATUS, SVD_MMIO_QUEUE_SEL, SVD_MMIO_QUEUE_NUM, SVD_MMIO_QUEUE_READY,
    SVD_MMIO_QUEUE_NOTIFY, SVD_MMIO_INTERRUPT_ACK, SVD_MMIO_DRIVER_FEATURES,
    SVD_MMIO_DRIVER_FEATURES_SEL, SVD_MMIO_DEVICE_FEATURES_SEL, SVD_MMIO_QUEUE_DESC_LOW,
    SVD_MMIO_QUEUE_DRIVER_LOW, SVD_MMIO_QUEUE_DEVICE_LOW, SVD_MMIO_QUEUE_DESC_HIGH,
    SVD_MMIO_QUEUE_DRIVER_HIGH, SVD_MMIO_QUEUE_DEVICE_HIGH, SVD_MMIO_CONFIG_OFFSET,
};

#define FT_MMIO_BASE UINT64_C(0x10000000)

static svd_result mm_access(ft_env *env, uint32_t off, uint32_t width, bool write, uint64_t *v, svd_fx *fx)
{
    return svd_vdev_access(&env->v, SVD_SPACE_MEM, FT_MMIO_BASE + off, width, write, v, env->now, fx);
}

/* REQ: REQ-SAF-002 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    ft_env env;
    svd_vdev_cfg vc;
    const uint8_t flags = fz_u8(&in);
    const size_t ramlen = fz_u16(&in) % FT_RAM_MAX;
    uint64_t v;
    svd_fx fx;

    memset(&vc, 0, sizeof(vc));
    vc.xport = SVD_XPORT_MMIO;
    vc.mmio_base = FT_MMIO_BASE;
    vc.mmio_vendor = 0x554d4551u;
    (void)ft_env_init(&env, &in, ramlen, &vc);
    env.source_fails = (flags & 1u) != 0u;

    while (fz_left(&in) > 0u) {
        const uint8_t kind = fz_u8(&in);
        svd_result r = svd_ok();
        memset(&fx, 0, sizeof(fx)); /* a tick fills its own effect: none of the last step's is checked again */
        switch (kind & 3u) {
        case 0u: {
            const uint16_t off = fz_u16(&in);
            const uint8_t width = fz_u8(&in) % 9u;
            v = 0xdeadbeefu;
            r = mm_access(&env, off, width, false, &v, &fx);
            if (svd_is_ok(r) && off == SVD_MMIO_MAGIC_VALUE && width == 4u) {
                FZ_CHECK(v == SVD_MMIO_MAGIC);
            }
            if (svd_is_ok(r) && off == SVD_MMIO_VERSION_REG && width == 4u) {
                FZ_CHECK(v == SVD_MMIO_VERSION);
            }
            FZ_CHECK(v <= UINT32_MAX);
            break;
        }
        case 1u: {
            const uint16_t off = fz_u16(&in);
            const uint8_t width = fz_u8(&in) % 9u;
            v = fz_u32(&in);
            r = mm_access(&env, off, width, true, &v, &fx);
            break;
        }
        case 2u:
            ft_tick(&env, fz_u16(&in));
            break;
        default: {
            const uint16_t reg = k_regs[fz_u8(&in) % (sizeof(k_regs) / sizeof(k_regs[0]))];
            v = fz_u32(&in);
            r = mm_access(&env, reg, 4u, true, &v, &fx);
            break;
        }
        }
        ft_check_fx(&env, &fx, r);
        if (fx.reset) {
            FZ_CHECK(svd_is_ok(mm_access(&env, SVD_MMIO_STATUS, 4u, false, &v, &fx)));
            FZ_CHECK(v == 0u);
        }
    }
    ft_env_free(&env);
    return 0;
}
