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
 * result is a known error code; after a reset action the status reads 0. */
#include "fuzz_transport.h"
#include "safevdev/mmio.h"

static const uint16_t k_regs[] = {
    SVD_MMIO_STATUS, SVD_MMIO_QUEUE_SEL, SVD_MMIO_QUEUE_NUM, SVD_MMIO_QUEUE_READY,
    SVD_MMIO_QUEUE_NOTIFY, SVD_MMIO_INTERRUPT_ACK, SVD_MMIO_DRIVER_FEATURES,
    SVD_MMIO_DRIVER_FEATURES_SEL, SVD_MMIO_DEVICE_FEATURES_SEL, SVD_MMIO_QUEUE_DESC_LOW,
    SVD_MMIO_QUEUE_DRIVER_LOW, SVD_MMIO_QUEUE_DEVICE_LOW, SVD_MMIO_QUEUE_DESC_HIGH,
    SVD_MMIO_QUEUE_DRIVER_HIGH, SVD_MMIO_QUEUE_DEVICE_HIGH, SVD_MMIO_CONFIG_OFFSET,
};

static void after(ft_env *env, svd_mmio *mm, const svd_mmio_action *act)
{
    if (act->reset) {
        svd_entropy_reset(&env->e);
    }
    if (act->notify) {
        FZ_CHECK(act->vq != NULL);
        ft_serve(env, act->vq, act->queue);
        svd_mmio_action a2;
        memset(&a2, 0, sizeof(a2));
        svd_mmio_sync_irq(mm, &a2);
    }
}

/* REQ: REQ-GATE-010 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size, 0u };
    ft_env env;
    svd_mmio mm;
    const uint8_t flags = fz_u8(&in);
    const size_t ramlen = fz_u16(&in) % FT_RAM_MAX;
    uint32_t v;
    svd_mmio_action act;

    (void)ft_env_init(&env, &in, ramlen);
    env.source_fails = (flags & 1u) != 0u;
    FZ_CHECK(svd_is_ok(svd_mmio_init(&mm, &env.d, 0x554d4551u)));

    while (fz_left(&in) > 0u) {
        const uint8_t kind = fz_u8(&in);
        svd_result r = svd_ok();
        memset(&act, 0, sizeof(act));
        switch (kind & 3u) {
        case 0u: {
            const uint16_t off = fz_u16(&in);
            const uint8_t width = fz_u8(&in) % 9u;
            v = 0xdeadbeefu;
            r = svd_mmio_read(&mm, off, width, &v, &act);
            if (svd_is_ok(r) && off == SVD_MMIO_MAGIC_VALUE && width == 4u) {
                FZ_CHECK(v == SVD_MMIO_MAGIC);
            }
            if (svd_is_ok(r) && off == SVD_MMIO_VERSION_REG && width == 4u) {
                FZ_CHECK(v == SVD_MMIO_VERSION);
            }
            break;
        }
        case 1u: {
            const uint16_t off = fz_u16(&in);
            const uint8_t width = fz_u8(&in) % 9u;
            r = svd_mmio_write(&mm, off, width, fz_u32(&in), &act);
            break;
        }
        case 2u: {
            env.now += (uint64_t)fz_u16(&in) * 1000000u;
            svd_vq *q = &env.d.queues[0];
            if (q->enabled && !q->broken) {
                ft_serve(&env, q, 0u);
            }
            break;
        }
        default: {
            const uint16_t reg = k_regs[fz_u8(&in) % (sizeof(k_regs) / sizeof(k_regs[0]))];
            r = svd_mmio_write(&mm, reg, 4u, fz_u32(&in), &act);
            break;
        }
        }
        FZ_CHECK((unsigned)r.err < (unsigned)SVD_ERR__COUNT);
        after(&env, &mm, &act);
        if (act.reset) {
            FZ_CHECK(svd_is_ok(svd_mmio_read(&mm, SVD_MMIO_STATUS, 4u, &v, &act)));
            FZ_CHECK(v == 0u);
        }
    }
    ft_env_free(&env);
    return 0;
}
