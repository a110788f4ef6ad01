/* Unit tests of the virtio-pci modern transport engine (src/core/pci.c):
 * configuration space header and capability chain, BAR sizing, the common
 * configuration after reset, the Linux virtio_pci_modern probe sequence, ISR,
 * notify, the PCI configuration access capability, the defined answer for bad
 * accesses. The register rules are tested on the transport's own functions
 * (core_priv.h, BAR offsets) over a device engine with a toy model; decoding
 * guest-physical addresses against BAR0 is the composed engine's
 * (test_vdev.c). Adversarial tests are named test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_priv.h"
#include "safevdev/pci.h"
#include "tg_mem.h"
#include "tg_model.h"
#include "tg_vring.h"

#define RAM_GPA 0x80000000u
#define RAM_SIZE 0x10000u
#define QSIZE 8u
#define QMAX 64u
#define BAR_ADDR 0xfe000000u
#define T0 1000u

/* Common configuration offsets (virtio 1.2 §4.1.4.3), written out here
 * independently of the engine. */
enum {
    DFSEL = 0x00, DF = 0x04, GFSEL = 0x08, GF = 0x0c, MSIX = 0x10, NUMQ = 0x12, STATUS = 0x14,
    CFGGEN = 0x15, QSEL = 0x16, QSZ = 0x18, QMSIX = 0x1a, QEN = 0x1c, QNOFF = 0x1e,
    QDESC = 0x20, QDRV = 0x28, QDEV = 0x30
};

static const uint8_t cfg_bytes[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };

typedef struct fx {
    tg_mem mem;
    tg_vring ring;
    tg_model tm;
    svd_dev dev;
    svd_pci p;
    svd_fx fx;
    /* what the driver learnt from the capability list */
    uint32_t common, notify, isr, device, mult;
    uint32_t msix_cap; /* MSI-X capability offset, 0 when not offered */
} fx;

/* Every transport call starts with an empty effect (the composed engine
 * clears it once per face call). */
static svd_fx *clr(fx *f)
{
    svd_fx_reset(&f->fx);
    return &f->fx;
}

/* DEVICE_NEEDS_RESET is latched. */
static bool latched(const fx *f)
{
    return (svd_dev_status(&f->dev) & SVD_STATUS_NEEDS_RESET) != 0u;
}

static svd_pci_params params(bool bar64)
{
    svd_pci_params pp;
    memset(&pp, 0, sizeof(pp));
    pp.class_code = SVD_PCI_CLASS_RNG;
    pp.subsystem_vendor = 0x1af4u;
    pp.subsystem_id = 4u;
    pp.bar64 = bar64;
    pp.prefetchable = bar64;
    return pp;
}

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof(f));
    if (tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE) != 0) {
        return -1;
    }
    (void)tg_vring_init(&f.ring, &f.mem, QSIZE, RAM_GPA);
    tg_model_init(&f.tm);
    svd_model p;
    tg_model_iface(&f.tm, &p, 4u, 2u, QMAX, cfg_bytes, sizeof(cfg_bytes));
    const svd_pci_params pp = params(false);
    if (!svd_is_ok(svd_dev_init(&f.dev, &p, &f.mem.map, false)) || !svd_is_ok(svd_pci_init(&f.p, &f.dev, &pp))) {
        return -1;
    }
    *state = &f;
    return 0;
}

/* The same device offering MSI-X. */
static int setup_msix(void **state)
{
    if (setup(state) != 0) {
        return -1;
    }
    fx *f = *state;
    svd_pci_params pp = params(false);
    pp.msix = true;
    return svd_is_ok(svd_pci_init(&f->p, &f->dev, &pp)) ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    assert_true(tg_mem_canaries_intact(&f->mem));
    tg_mem_free(&f->mem);
    return 0;
}

static uint32_t cfg_rd(fx *f, uint32_t off, uint32_t w)
{
    uint32_t v = 0xdeadbeefu;
    assert_true(svd_is_ok(svd_pci_cfg_read(&f->p, off, w, &v, clr(f))));
    return v;
}

static svd_result cfg_wr(fx *f, uint32_t off, uint32_t w, uint32_t v)
{
    return svd_pci_cfg_write(&f->p, off, w, v, T0, clr(f));
}

static uint64_t bar_rd(fx *f, uint32_t off, uint32_t w)
{
    uint64_t v = 0xdeadbeefu;
    assert_true(svd_is_ok(svd_pci_bar_read(&f->p, off, w, &v, clr(f))));
    return v;
}

static svd_result bar_wr(fx *f, uint32_t off, uint32_t w, uint64_t v)
{
    return svd_pci_bar_write(&f->p, off, w, v, T0, clr(f));
}

static void bar_wr_ok(fx *f, uint32_t off, uint32_t w, uint64_t v)
{
    assert_true(svd_is_ok(bar_wr(f, off, w, v)));
}

static void bar_rd_refused(fx *f, uint64_t off, uint32_t w, svd_err e)
{
    uint64_t v = 0xdeadbeefu;
    assert_int_equal(svd_pci_bar_read(&f->p, off, w, &v, clr(f)).err, e);
    assert_int_equal(v, 0u);
}

/* Walk the capability list the way virtio_pci_modern_dev does. */
static void find_caps(fx *f)
{
    assert_true((cfg_rd(f, 0x06u, 2u) & 0x10u) != 0u);
    uint32_t pos = cfg_rd(f, 0x34u, 1u);
    unsigned seen = 0u;
    while (pos != 0u) {
        assert_true(pos >= 0x40u && pos <= 0xf0u);
        if (cfg_rd(f, pos, 1u) == 0x11u) { /* MSI-X, the PCI capability, not a virtio one */
            f->msix_cap = pos;
            pos = cfg_rd(f, pos + 1u, 1u);
            continue;
        }
        assert_int_equal(cfg_rd(f, pos, 1u), 0x09u);
        const uint32_t type = cfg_rd(f, pos + 3u, 1u);
        if (type != 5u) {
            assert_int_equal(cfg_rd(f, pos + 4u, 1u), 0u); /* bar (driver-writable in type 5) */
        }
        const uint32_t off = cfg_rd(f, pos + 8u, 4u);
        const uint32_t len = cfg_rd(f, pos + 12u, 4u);
        switch (type) {
        case 1u:
            assert_int_equal(cfg_rd(f, pos + 2u, 1u), 16u);
            assert_true(len >= 0x38u);
            f->common = off;
            break;
        case 2u:
            assert_int_equal(cfg_rd(f, pos + 2u, 1u), 20u);
            f->notify = off;
            f->mult = cfg_rd(f, pos + 16u, 4u);
            assert_true(len >= f->mult * 1u + 2u); /* both queues reachable */
            break;
        case 3u:
            assert_true(len >= 1u);
            f->isr = off;
            break;
        case 4u:
            f->device = off;
            break;
        case 5u:
            assert_int_equal(cfg_rd(f, pos + 2u, 1u), 20u);
            break;
        default:
            fail_msg("unexpected cfg_type %u", type);
        }
        assert_true(off + len <= SVD_PCI_BAR_SIZE || type == 5u);
        seen |= 1u << type;
        pos = cfg_rd(f, pos + 1u, 1u);
    }
    assert_int_equal(seen, 0x3eu);
}

/* Firmware: size and assign BAR0, enable memory decode and bus mastering. */
static void assign_bar(fx *f)
{
    assert_true(svd_is_ok(cfg_wr(f, 0x10u, 4u, 0xffffffffu)));
    const uint32_t sz = cfg_rd(f, 0x10u, 4u);
    assert_int_equal(~(sz & ~0xfu) + 1u, SVD_PCI_BAR_SIZE);
    assert_true(svd_is_ok(cfg_wr(f, 0x10u, 4u, BAR_ADDR)));
    assert_true(f->fx.bars_changed);
    assert_true(svd_is_ok(cfg_wr(f, 0x04u, 2u, SVD_PCI_CMD_MEMORY | SVD_PCI_CMD_BUS_MASTER)));
    assert_true(f->fx.bars_changed);
    assert_int_equal(svd_pci_bar0_address(&f->p), BAR_ADDR);
    assert_true(svd_pci_mem_enabled(&f->p));
}

static void negotiate(fx *f)
{
    find_caps(f);
    assign_bar(f);
    const uint32_t c = f->common;
    bar_wr_ok(f, c + STATUS, 1u, 0u);
    assert_int_equal(bar_rd(f, c + STATUS, 1u), 0u);
    bar_wr_ok(f, c + STATUS, 1u, SVD_STATUS_ACKNOWLEDGE);
    bar_wr_ok(f, c + STATUS, 1u, SVD_STATUS_ACKNOWLEDGE | SVD_STATUS_DRIVER);
    bar_wr_ok(f, c + DFSEL, 4u, 0u);
    const uint64_t lo = bar_rd(f, c + DF, 4u);
    bar_wr_ok(f, c + DFSEL, 4u, 1u);
    const uint64_t hi = bar_rd(f, c + DF, 4u);
    assert_int_equal(hi, 5u); /* VERSION_1 | RING_PACKED */
    bar_wr_ok(f, c + GFSEL, 4u, 0u);
    bar_wr_ok(f, c + GF, 4u, lo & SVD_F_RING_INDIRECT_DESC);
    bar_wr_ok(f, c + GFSEL, 4u, 1u);
    bar_wr_ok(f, c + GF, 4u, hi & 1u); /* split rings */
    assert_int_equal(bar_rd(f, c + GF, 4u), 1u);
    bar_wr_ok(f, c + STATUS, 1u, 0x0bu);
    assert_int_equal(bar_rd(f, c + STATUS, 1u), 0x0bu);
}

static void setup_queue0(fx *f)
{
    const uint32_t c = f->common;
    assert_int_equal(bar_rd(f, c + NUMQ, 2u), 2u);
    bar_wr_ok(f, c + QSEL, 2u, 0u);
    assert_int_equal(bar_rd(f, c + QSZ, 2u), QMAX);
    assert_int_equal(bar_rd(f, c + QEN, 2u), 0u);
    bar_wr_ok(f, c + QSZ, 2u, QSIZE);
    assert_int_equal(bar_rd(f, c + QNOFF, 2u), 0u);
    bar_wr_ok(f, c + QDESC, 4u, (uint32_t)f->ring.desc);
    bar_wr_ok(f, c + QDESC + 4u, 4u, f->ring.desc >> 32);
    bar_wr_ok(f, c + QDRV, 4u, (uint32_t)f->ring.avail);
    bar_wr_ok(f, c + QDRV + 4u, 4u, f->ring.avail >> 32);
    bar_wr_ok(f, c + QDEV, 4u, (uint32_t)f->ring.used);
    bar_wr_ok(f, c + QDEV + 4u, 4u, f->ring.used >> 32);
    bar_wr_ok(f, c + QEN, 2u, 1u);
    assert_int_equal(bar_rd(f, c + QEN, 2u), 1u);
}

static void probe(fx *f)
{
    negotiate(f);
    setup_queue0(f);
    bar_wr_ok(f, f->common + STATUS, 1u, 0x0fu);
}

/* REQ: REQ-PCI-001 */
static void test_identity(void **state)
{
    fx *f = *state;
    assert_int_equal(cfg_rd(f, 0x00u, 2u), 0x1af4u);
    assert_int_equal(cfg_rd(f, 0x02u, 2u), 0x1044u);
    assert_int_equal(cfg_rd(f, 0x00u, 4u), 0x10441af4u);
    assert_int_equal(cfg_rd(f, 0x08u, 1u), 1u);        /* revision */
    assert_int_equal(cfg_rd(f, 0x09u, 1u), 0x00u);     /* prog-if */
    assert_int_equal(cfg_rd(f, 0x0au, 2u), 0x00ffu);   /* subclass ff, class 00 (as QEMU) */
    assert_int_equal(cfg_rd(f, 0x0eu, 1u), 0u);        /* header type 0 */
    assert_int_equal(cfg_rd(f, 0x2cu, 2u), 0x1af4u);
    assert_int_equal(cfg_rd(f, 0x2eu, 2u), 4u);
    assert_int_equal(cfg_rd(f, 0x34u, 1u), 0x40u);
    assert_int_equal(cfg_rd(f, 0x3du, 1u), 1u);        /* INTA */
    assert_int_equal(cfg_rd(f, 0x04u, 2u), 0u);        /* command */
    assert_int_equal(cfg_rd(f, 0x06u, 2u), 0x10u);     /* status: cap list only */
    for (uint32_t off = 0x18u; off < 0x28u; off += 4u) {
        assert_int_equal(cfg_rd(f, off, 4u), 0u);      /* BAR2..5 */
    }
    assert_int_equal(cfg_rd(f, 0x30u, 4u), 0u);        /* no expansion ROM */
    assert_int_equal(cfg_rd(f, 0xfcu, 4u), 0u);
}

/* REQ: REQ-PCI-002 */
static void test_capability_chain(void **state)
{
    fx *f = *state;
    find_caps(f);
    assert_int_equal(f->common, SVD_PCI_COMMON_OFF);
    assert_int_equal(f->isr, SVD_PCI_ISR_OFF);
    assert_int_equal(f->device, SVD_PCI_DEVICE_OFF);
    assert_int_equal(f->notify, SVD_PCI_NOTIFY_OFF);
    assert_int_equal(f->mult, 4u);
    /* the fixed capability fields are read-only */
    assert_int_equal(cfg_wr(f, SVD_PCI_CAP_COMMON + 8u, 4u, 0x1234u).err, SVD_ERR_BOUNDS);
    assert_int_equal(cfg_wr(f, SVD_PCI_CAP_NOTIFY, 1u, 0u).err, SVD_ERR_BOUNDS);
    find_caps(f);
    assert_int_equal(f->common, SVD_PCI_COMMON_OFF);
}

/* REQ: REQ-PCI-003.a REQ-PCI-003.b REQ-PCI-003.c */
static void test_bar_sizing_32(void **state)
{
    fx *f = *state;
    assert_int_equal(cfg_rd(f, 0x10u, 4u), 0u);
    assert_true(svd_is_ok(cfg_wr(f, 0x10u, 4u, 0xffffffffu)));
    assert_int_equal(cfg_rd(f, 0x10u, 4u), ~(SVD_PCI_BAR_SIZE - 1u)); /* 32-bit, non-prefetchable memory */
    assert_true(svd_is_ok(cfg_wr(f, 0x10u, 4u, 0x12345678u)));      /* low bits dropped */
    assert_int_equal(cfg_rd(f, 0x10u, 4u), 0x12344000u);
    assert_int_equal(svd_pci_bar0_address(&f->p), 0x12344000u);
    /* byte writes merge */
    assert_true(svd_is_ok(cfg_wr(f, 0x13u, 1u, 0xfeu)));
    assert_int_equal(cfg_rd(f, 0x10u, 4u), 0xfe344000u);
    /* same value: no re-map requested */
    assert_true(svd_is_ok(cfg_wr(f, 0x10u, 4u, 0xfe344000u)));
    assert_false(f->fx.bars_changed);
    /* BAR1 is not part of a 32-bit BAR0 */
    assert_int_equal(cfg_wr(f, 0x14u, 4u, 0xffffffffu).err, SVD_ERR_BOUNDS);
    assert_int_equal(cfg_rd(f, 0x14u, 4u), 0u);
    /* other BARs and the ROM stay 0 after a sizing write */
    assert_int_equal(cfg_wr(f, 0x18u, 4u, 0xffffffffu).err, SVD_ERR_BOUNDS);
    assert_int_equal(cfg_wr(f, 0x30u, 4u, 0xffffffffu).err, SVD_ERR_BOUNDS);
    assert_int_equal(cfg_rd(f, 0x18u, 4u), 0u);
    assert_int_equal(cfg_rd(f, 0x30u, 4u), 0u);
}

/* REQ: REQ-PCI-003.a REQ-PCI-003.b */
static void test_bar_sizing_64(void **state)
{
    fx *f = *state;
    svd_pci p64;
    const svd_pci_params pp = params(true);
    assert_true(svd_is_ok(svd_pci_init(&p64, &f->dev, &pp)));
    uint32_t v = 0u;
    assert_true(svd_is_ok(svd_pci_cfg_read(&p64, 0x10u, 4u, &v, clr(f))));
    assert_int_equal(v, 0xcu); /* 64-bit prefetchable memory */
    assert_true(svd_is_ok(svd_pci_cfg_write(&p64, 0x10u, 4u, 0xffffffffu, T0, clr(f))));
    assert_true(svd_is_ok(svd_pci_cfg_write(&p64, 0x14u, 4u, 0xffffffffu, T0, clr(f))));
    assert_true(svd_is_ok(svd_pci_cfg_read(&p64, 0x10u, 4u, &v, clr(f))));
    assert_int_equal(v, ~(SVD_PCI_BAR_SIZE - 1u) | 0xcu);
    assert_true(svd_is_ok(svd_pci_cfg_read(&p64, 0x14u, 4u, &v, clr(f))));
    assert_int_equal(v, 0xffffffffu);
    assert_true(svd_is_ok(svd_pci_cfg_write(&p64, 0x10u, 4u, 0x00004000u, T0, clr(f))));
    assert_true(svd_is_ok(svd_pci_cfg_write(&p64, 0x14u, 4u, 0x00000080u, T0, clr(f))));
    assert_true(p64.irq_level == false);
    assert_int_equal(svd_pci_bar0_address(&p64), UINT64_C(0x8000004000));
}

/* REQ: REQ-PCI-004.a */
static void test_command_and_status_registers(void **state)
{
    fx *f = *state;
    assert_true(svd_is_ok(cfg_wr(f, 0x04u, 4u, 0xffffffffu)));
    assert_true(f->fx.bars_changed);
    assert_int_equal(cfg_rd(f, 0x04u, 2u), 0x0406u);   /* MEMORY, MASTER, INTX_DISABLE only */
    assert_int_equal(cfg_rd(f, 0x06u, 2u), 0x10u);     /* status untouched */
    assert_true(svd_is_ok(cfg_wr(f, 0x05u, 1u, 0x00u)));
    assert_false(f->fx.bars_changed);
    assert_int_equal(cfg_rd(f, 0x04u, 2u), 0x0006u);
    assert_int_equal(cfg_wr(f, 0x06u, 2u, 0xffffu).err, SVD_ERR_BOUNDS);
    assert_true(svd_is_ok(cfg_wr(f, 0x3cu, 1u, 11u))); /* interrupt line */
    assert_int_equal(cfg_rd(f, 0x3cu, 2u), 0x010bu);
    assert_true(svd_is_ok(cfg_wr(f, 0x3cu, 4u, 0xffffffffu)));
    assert_int_equal(cfg_rd(f, 0x3cu, 4u), 0x01ffu);   /* pin stays 1 */
}

/* REQ: REQ-PCI-005 */
static void test_common_config_after_reset(void **state)
{
    fx *f = *state;
    assign_bar(f);
    const uint32_t c = SVD_PCI_COMMON_OFF;
    assert_int_equal(bar_rd(f, c + DFSEL, 4u), 0u);
    assert_int_equal(bar_rd(f, c + DF, 4u), (uint32_t)(SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC));
    assert_int_equal(bar_rd(f, c + GFSEL, 4u), 0u);
    assert_int_equal(bar_rd(f, c + GF, 4u), 0u);
    assert_int_equal(bar_rd(f, c + MSIX, 2u), 0xffffu);
    assert_int_equal(bar_rd(f, c + NUMQ, 2u), 2u);
    assert_int_equal(bar_rd(f, c + STATUS, 1u), 0u);
    assert_int_equal(bar_rd(f, c + CFGGEN, 1u), 0u);
    assert_int_equal(bar_rd(f, c + QSEL, 2u), 0u);
    assert_int_equal(bar_rd(f, c + QSZ, 2u), QMAX);
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), 0xffffu);
    assert_int_equal(bar_rd(f, c + QEN, 2u), 0u);
    assert_int_equal(bar_rd(f, c + QNOFF, 2u), 0u);
    assert_int_equal(bar_rd(f, c + QDESC, 8u), 0u);
    assert_int_equal(bar_rd(f, c + QDRV + 4u, 4u), 0u);
    assert_int_equal(bar_rd(f, c + QDEV, 4u), 0u);
    assert_int_equal(bar_rd(f, SVD_PCI_ISR_OFF, 1u), 0u);
    bar_rd_refused(f, c + 0x38u, 2u, SVD_ERR_BOUNDS); /* queue_notify_data: not offered */
    bar_rd_refused(f, c + 0x3au, 2u, SVD_ERR_BOUNDS); /* queue_reset: not offered */
}

/* REQ: REQ-PCI-006 REQ-PCI-007 */
static void test_linux_modern_probe_sequence(void **state)
{
    fx *f = *state;
    probe(f);
    assert_int_equal(bar_rd(f, f->common + STATUS, 1u), 0x0fu);
    const svd_vq *q = svd_dev_queue(&f->dev, 0u);
    assert_true(svd_vq_enabled(q));
    assert_true(q->indirect);
    assert_false(q->event_idx);
    assert_int_equal(svd_vq_size(q), QSIZE);
    assert_int_equal(bar_rd(f, f->common + QSZ, 2u), QSIZE);
    assert_int_equal(bar_rd(f, f->common + QDESC, 4u), (uint32_t)f->ring.desc);
    assert_int_equal(bar_rd(f, f->common + QDRV, 8u), f->ring.avail);
    assert_int_equal(bar_rd(f, f->common + QDEV + 4u, 4u), f->ring.used >> 32);
}

/* REQ: REQ-PCI-007 */
static void test_64bit_fields_full_width(void **state)
{
    fx *f = *state;
    negotiate(f);
    bar_wr_ok(f, QSEL, 2u, 1u);
    bar_wr_ok(f, QDESC, 8u, UINT64_C(0x1122334455667780));
    assert_int_equal(bar_rd(f, QDESC, 8u), UINT64_C(0x1122334455667780));
    bar_wr_ok(f, QDESC + 4u, 4u, 0xaabbccddu);
    assert_int_equal(bar_rd(f, QDESC, 8u), UINT64_C(0xaabbccdd55667780));
    bar_wr_ok(f, QDEV, 4u, 0x1000u);
    assert_int_equal(bar_rd(f, QDEV, 8u), 0x1000u);
    /* width 8 only at the start of a 64-bit field */
    bar_rd_refused(f, QDESC + 4u, 8u, SVD_ERR_INVALID_ARG);
    assert_int_equal(bar_wr(f, QDESC + 4u, 8u, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_vq_addr(svd_dev_queue(&f->dev, 0u), SVD_VQ_RING_DESC), 0u); /* queue 0 untouched */
}

/* REQ: REQ-PCI-008 */
static void test_msix_absent(void **state)
{
    fx *f = *state;
    negotiate(f);
    bar_wr_ok(f, MSIX, 2u, 0u);
    assert_int_equal(bar_rd(f, MSIX, 2u), SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, QMSIX, 2u, 1u);
    assert_int_equal(bar_rd(f, QMSIX, 2u), SVD_PCI_NO_VECTOR);
    /* and there is no MSI-X capability in the chain (find_caps saw types 1..5 only) */
}

/* REQ: REQ-PCI-009 */
static void test_bad_widths_and_offsets(void **state)
{
    fx *f = *state;
    negotiate(f);
    /* natural widths only */
    bar_rd_refused(f, DF, 2u, SVD_ERR_INVALID_ARG);
    bar_rd_refused(f, NUMQ, 4u, SVD_ERR_INVALID_ARG);
    bar_rd_refused(f, STATUS, 2u, SVD_ERR_INVALID_ARG);
    bar_rd_refused(f, 0x01u, 1u, SVD_ERR_INVALID_ARG);
    assert_int_equal(bar_wr(f, STATUS, 4u, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(bar_wr(f, QSEL, 4u, 1u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(bar_rd(f, STATUS, 1u), 0x0bu);
    assert_int_equal(bar_rd(f, QSEL, 2u), 0u);
    /* ISR is one byte */
    bar_rd_refused(f, SVD_PCI_ISR_OFF, 4u, SVD_ERR_INVALID_ARG);
    bar_rd_refused(f, SVD_PCI_ISR_OFF + 1u, 1u, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, SVD_PCI_ISR_OFF, 1u, 0u).err, SVD_ERR_BOUNDS);
    /* holes and beyond the BAR */
    bar_rd_refused(f, 0x800u, 4u, SVD_ERR_BOUNDS);
    bar_rd_refused(f, SVD_PCI_NOTIFY_OFF, 2u, SVD_ERR_BOUNDS);
    bar_rd_refused(f, SVD_PCI_BAR_SIZE, 4u, SVD_ERR_BOUNDS);
    bar_rd_refused(f, UINT64_MAX, 1u, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, SVD_PCI_BAR_SIZE, 4u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, 0x800u, 4u, 0u).err, SVD_ERR_BOUNDS);
    /* configuration space */
    uint32_t v = 1u;
    assert_int_equal(svd_pci_cfg_read(&f->p, 0x01u, 2u, &v, clr(f)).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(v, 0u);
    assert_int_equal(svd_pci_cfg_read(&f->p, 0x00u, 8u, &v, clr(f)).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_pci_cfg_read(&f->p, 0x100u, 4u, &v, clr(f)).err, SVD_ERR_BOUNDS);
    assert_int_equal(v, 0u);
    assert_int_equal(cfg_wr(f, 0x02u, 4u, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(cfg_wr(f, 0x100u, 4u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(cfg_wr(f, 0x00u, 2u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(cfg_rd(f, 0x00u, 2u), 0x1af4u);
    assert_false(latched(f));
}

/* REQ: REQ-PCI-009 */
static void test_bar_refused_while_memory_disabled(void **state)
{
    fx *f = *state;
    bar_rd_refused(f, STATUS, 1u, SVD_ERR_STATE);
    assert_int_equal(bar_wr(f, STATUS, 1u, 1u).err, SVD_ERR_STATE);
    assign_bar(f);
    assert_int_equal(bar_rd(f, STATUS, 1u), 0u); /* the refused write did nothing */
    assert_true(svd_is_ok(cfg_wr(f, 0x04u, 2u, 0u)));
    assert_true(f->fx.bars_changed);
    assert_false(svd_pci_mem_enabled(&f->p));
    bar_rd_refused(f, NUMQ, 2u, SVD_ERR_STATE);
}

/* REQ: REQ-PCI-010.a REQ-PCI-010.b */
static void test_queue_select_out_of_range(void **state)
{
    fx *f = *state;
    negotiate(f);
    /* Queue 0 has its rings: none of it shows, or changes, through a bad select. */
    bar_wr_ok(f, QSEL, 2u, 0u);
    bar_wr_ok(f, QSZ, 2u, QSIZE);
    bar_wr_ok(f, QDESC, 8u, f->ring.desc);
    bar_wr_ok(f, QDRV, 8u, f->ring.avail);
    bar_wr_ok(f, QDEV, 8u, f->ring.used);
    const uint16_t sels[] = { 2u, 0x7fffu, 0xffffu };
    for (size_t i = 0u; i < sizeof(sels) / sizeof(sels[0]); i++) {
        bar_wr_ok(f, QSEL, 2u, sels[i]);
        assert_int_equal(bar_rd(f, QSEL, 2u), sels[i]);
        assert_int_equal(bar_rd(f, QSZ, 2u), 0u);
        assert_int_equal(bar_rd(f, QEN, 2u), 0u);
        assert_int_equal(bar_rd(f, QNOFF, 2u), 0u);
        assert_int_equal(bar_rd(f, QDESC, 8u), 0u);
        assert_int_equal(bar_rd(f, QDRV, 8u), 0u);
        assert_int_equal(bar_rd(f, QDEV, 8u), 0u);
        assert_int_equal(bar_wr(f, QSZ, 2u, 4u).err, SVD_ERR_BOUNDS);
        assert_int_equal(bar_wr(f, QDESC, 4u, 0x1000u).err, SVD_ERR_BOUNDS);
        assert_int_equal(bar_wr(f, QEN, 2u, 1u).err, SVD_ERR_BOUNDS);
    }
    assert_false(latched(f));
    bar_wr_ok(f, QSEL, 2u, 0u);
    assert_int_equal(bar_rd(f, QSZ, 2u), QSIZE);
    assert_int_equal(bar_rd(f, QDESC, 8u), f->ring.desc);
    assert_int_equal(bar_rd(f, QEN, 2u), 0u);
    bar_wr_ok(f, QSEL, 2u, 1u);
    assert_int_equal(bar_rd(f, QNOFF, 2u), 1u);
}

/* REQ: REQ-PCI-011 */
static void test_notify_serves_the_queue_its_address_names(void **state)
{
    fx *f = *state;
    probe(f);
    bar_wr_ok(f, f->notify + 0u * f->mult, 2u, 0u);
    assert_int_equal(f->tm.serves, 1u);
    assert_int_equal(f->tm.last_index, 0u);
    assert_int_equal(f->tm.last_now, T0);
    /* the address selects the queue; the value does not */
    bar_wr_ok(f, f->notify, 4u, 0xffffu);
    assert_int_equal(f->tm.serves, 2u);
    assert_int_equal(f->tm.last_index, 0u);
    /* queue 1 is not ready */
    assert_int_equal(bar_wr(f, f->notify + f->mult, 2u, 1u).err, SVD_ERR_STATE);
    /* bad notify accesses */
    assert_int_equal(bar_wr(f, f->notify + 1u, 1u, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(bar_wr(f, f->notify + 2u, 2u, 0u).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(bar_wr(f, f->notify + 2u * f->mult, 2u, 2u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, SVD_PCI_BAR_SIZE - 4u, 4u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(f->tm.serves, 2u); /* none of them was served */
    assert_int_equal(f->fx.queue_notify, 0u);
}

/* REQ: REQ-PCI-012 REQ-PCI-004.b */
static void test_isr_read_clears_and_intx(void **state)
{
    fx *f = *state;
    probe(f);
    tg_vring_set_desc(&f->ring, 0u, RAM_GPA + 0x8000u, 64u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, 0u);
    /* the model completes it and INTx rises, in the notify write itself */
    f->tm.write_len = 8u;
    bar_wr_ok(f, f->notify, 2u, 0u);
    assert_int_equal(f->tm.completed, 1u);
    assert_int_equal(f->fx.queue_notify, 1u);
    assert_true(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    uint32_t id = 9u;
    uint32_t len = 0u;
    assert_true(tg_vring_get_used(&f->ring, &id, &len));
    assert_int_equal(id, 0u);
    assert_int_equal(len, 8u);
    assert_int_equal(cfg_rd(f, 0x06u, 2u), 0x18u); /* INTx status */
    /* INTx disable lowers the line but not the status */
    assert_true(svd_is_ok(cfg_wr(f, 0x04u, 2u, SVD_PCI_CMD_MEMORY | SVD_PCI_CMD_INTX_DISABLE)));
    assert_true(f->fx.irq_changed);
    assert_false(f->fx.irq_level);
    assert_int_equal(cfg_rd(f, 0x06u, 2u), 0x18u);
    assert_true(svd_is_ok(cfg_wr(f, 0x04u, 2u, SVD_PCI_CMD_MEMORY)));
    assert_true(f->fx.irq_level);
    /* ISR read returns and clears */
    assert_int_equal(bar_rd(f, f->isr, 1u), SVD_ISR_QUEUE);
    assert_true(f->fx.irq_changed);
    assert_false(f->fx.irq_level);
    assert_int_equal(bar_rd(f, f->isr, 1u), 0u);
    assert_false(f->fx.irq_changed);
    assert_int_equal(cfg_rd(f, 0x06u, 2u), 0x10u);
}

/* REQ: REQ-PCI-013 */
static void test_device_config_window(void **state)
{
    fx *f = *state;
    assign_bar(f);
    assert_int_equal(bar_rd(f, SVD_PCI_DEVICE_OFF, 4u), 0xd4c3b2a1u);
    assert_int_equal(bar_rd(f, SVD_PCI_DEVICE_OFF + 2u, 2u), 0xd4c3u);
    assert_int_equal(bar_rd(f, SVD_PCI_DEVICE_OFF + 3u, 1u), 0xd4u);
    bar_rd_refused(f, SVD_PCI_DEVICE_OFF + 4u, 4u, SVD_ERR_BOUNDS);
    bar_rd_refused(f, SVD_PCI_DEVICE_OFF + 1u, 2u, SVD_ERR_INVALID_ARG);
    bar_rd_refused(f, SVD_PCI_DEVICE_OFF, 8u, SVD_ERR_INVALID_ARG);
    assert_int_equal(bar_wr(f, SVD_PCI_DEVICE_OFF, 4u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_rd(f, SVD_PCI_DEVICE_OFF, 4u), 0xd4c3b2a1u);
}

/* REQ: REQ-PCI-014 */
static void test_pci_cfg_access_capability(void **state)
{
    fx *f = *state;
    const uint32_t cap = SVD_PCI_CAP_PCICFG;
    /* works with memory decode off: it is the path for firmware */
    assert_true(svd_is_ok(cfg_wr(f, cap + 4u, 1u, 0u)));
    assert_true(svd_is_ok(cfg_wr(f, cap + 8u, 4u, SVD_PCI_COMMON_OFF + NUMQ)));
    assert_true(svd_is_ok(cfg_wr(f, cap + 12u, 4u, 2u)));
    assert_int_equal(cfg_rd(f, cap + 16u, 4u), 2u);
    assert_int_equal(cfg_rd(f, cap + 16u, 2u), 2u);
    /* write device_status = ACKNOWLEDGE through it */
    assert_true(svd_is_ok(cfg_wr(f, cap + 8u, 4u, SVD_PCI_COMMON_OFF + STATUS)));
    assert_true(svd_is_ok(cfg_wr(f, cap + 12u, 2u, 1u)));
    assert_true(svd_is_ok(cfg_wr(f, cap + 16u, 1u, SVD_STATUS_ACKNOWLEDGE)));
    assert_int_equal(svd_dev_status(&f->dev), SVD_STATUS_ACKNOWLEDGE);
    assert_int_equal(cfg_rd(f, cap + 16u, 1u), SVD_STATUS_ACKNOWLEDGE);
    assert_int_equal(cfg_rd(f, cap + 8u, 4u), STATUS);
    assert_int_equal(cfg_rd(f, cap + 12u, 4u), 1u);
    /* invalid windows: other BAR, bad length, misaligned */
    assert_true(svd_is_ok(cfg_wr(f, cap + 4u, 1u, 1u)));
    assert_int_equal(cfg_rd(f, cap + 4u, 1u), 1u);
    assert_int_equal(cfg_rd(f, cap + 16u, 4u), 0u);
    assert_int_equal(cfg_wr(f, cap + 16u, 1u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(svd_dev_status(&f->dev), SVD_STATUS_ACKNOWLEDGE); /* no reset happened */
    assert_true(svd_is_ok(cfg_wr(f, cap + 4u, 1u, 0u)));
    assert_true(svd_is_ok(cfg_wr(f, cap + 12u, 4u, 3u)));
    assert_int_equal(cfg_rd(f, cap + 16u, 4u), 0u);
    assert_true(svd_is_ok(cfg_wr(f, cap + 12u, 4u, 4u)));
    assert_true(svd_is_ok(cfg_wr(f, cap + 8u, 4u, 0x2u)));
    assert_int_equal(cfg_rd(f, cap + 16u, 4u), 0u);
    assert_int_equal(cfg_wr(f, cap + 16u, 4u, 0u).err, SVD_ERR_BOUNDS);
    /* a window onto a hole reads 0 */
    assert_true(svd_is_ok(cfg_wr(f, cap + 8u, 4u, 0x800u)));
    assert_int_equal(cfg_rd(f, cap + 16u, 4u), 0u);
    assert_int_equal(svd_dev_status(&f->dev), SVD_STATUS_ACKNOWLEDGE);
}

/* REQ: REQ-PCI-015 */
static void test_status_zero_resets(void **state)
{
    fx *f = *state;
    probe(f);
    bar_wr_ok(f, QSEL, 2u, 1u);
    bar_wr_ok(f, DFSEL, 4u, 1u);
    bar_wr_ok(f, STATUS, 1u, 0u);
    assert_true(f->fx.reset);
    assert_int_equal(bar_rd(f, STATUS, 1u), 0u);
    assert_int_equal(bar_rd(f, QSEL, 2u), 0u);
    assert_int_equal(bar_rd(f, DFSEL, 4u), 0u);
    assert_int_equal(bar_rd(f, QEN, 2u), 0u);
    assert_int_equal(bar_rd(f, QSZ, 2u), QMAX);
    /* PCI state survives a virtio reset */
    assert_true(svd_pci_mem_enabled(&f->p));
    assert_int_equal(svd_pci_bar0_address(&f->p), BAR_ADDR);
}

/* REQ: REQ-PCI-015 */
static void test_host_reset(void **state)
{
    fx *f = *state;
    probe(f);
    /* A looping chain, notified: the device latches and the line is up. */
    tg_vring_publish_loop(&f->ring, 0u, RAM_GPA + 0x8000u);
    assert_int_equal(bar_wr(f, f->notify, 2u, 0u).err, SVD_ERR_PROTOCOL);
    assert_true(f->fx.failed);
    assert_true(f->fx.irq_level);
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_CHAIN_LOOP);
    const uint32_t resets = f->tm.resets;
    svd_pci_reset(&f->p, clr(f));
    assert_int_equal(f->tm.resets, resets + 1u);
    assert_false(latched(f));
    assert_int_equal(svd_dev_why(&f->dev), SVD_WHY_NONE);
    assert_true(f->fx.reset);
    assert_true(f->fx.bars_changed);
    assert_true(f->fx.irq_changed);
    assert_false(f->fx.irq_level);
    assert_false(svd_pci_mem_enabled(&f->p));
    assert_int_equal(svd_pci_bar0_address(&f->p), 0u);
    assert_int_equal(cfg_rd(f, 0x10u, 4u), 0u);
    assert_int_equal(svd_dev_status(&f->dev), 0u);
    /* a second reset has nothing to re-map */
    svd_pci_reset(&f->p, clr(f));
    assert_false(f->fx.bars_changed);
    /* an assigned BAR alone (decode off) also needs a re-map */
    assert_true(svd_is_ok(cfg_wr(f, 0x10u, 4u, BAR_ADDR)));
    svd_pci_reset(&f->p, clr(f));
    assert_true(f->fx.bars_changed);
    assert_int_equal(svd_pci_bar0_address(&f->p), 0u);
    /* and so does decode enabled on an unassigned BAR */
    assert_true(svd_is_ok(cfg_wr(f, 0x04u, 2u, SVD_PCI_CMD_MEMORY)));
    svd_pci_reset(&f->p, clr(f));
    assert_true(f->fx.bars_changed);
    assert_false(svd_pci_mem_enabled(&f->p));
}

/* The NULL checks of an access are the composed engine's (svd_vdev_access,
 * test_vdev.c); the transport refuses a device it cannot carry. */
/* REQ: REQ-PCI-016 */
static void test_init_refuses_what_the_function_cannot_carry(void **state)
{
    fx *f = *state;
    svd_pci p;
    svd_pci_params pp = params(false);
    assert_int_equal(svd_pci_init(NULL, &f->dev, &pp).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_pci_init(&p, NULL, &pp).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_pci_init(&p, &f->dev, NULL).err, SVD_ERR_INVALID_ARG);
    pp.class_code = 0x1000000u;
    assert_int_equal(svd_pci_init(&p, &f->dev, &pp).err, SVD_ERR_INVALID_ARG);
    pp.class_code = 0u;
    svd_dev d = f->dev;
    d.model.device_id = 0x40u;
    assert_int_equal(svd_pci_init(&p, &d, &pp).err, SVD_ERR_INVALID_ARG);
    d.model.device_id = 0x3fu;
    d.model.config_len = SVD_PCI_DEVICE_LEN + 1u;
    assert_int_equal(svd_pci_init(&p, &d, &pp).err, SVD_ERR_INVALID_ARG);
    d.model.config_len = SVD_PCI_DEVICE_LEN;
    assert_true(svd_is_ok(svd_pci_init(&p, &d, &pp)));
    uint32_t v = 0u;
    assert_int_equal(svd_pci_cfg_read(&p, 0x02u, 2u, &v, clr(f)).err, SVD_OK);
    assert_int_equal(v, 0x107fu);
}

/* ------------------------------------------------------------ attacks */

/* The write just made broke rule @why: the device latched for it, in this call. */
static void latched_for(fx *f, svd_why why)
{
    assert_true(f->fx.failed);
    assert_string_equal(svd_why_name(f->fx.why), svd_why_name(why));
    assert_string_equal(svd_why_name(svd_dev_why(&f->dev)), svd_why_name(why));
    assert_true(latched(f));
}

/* REQ: REQ-PCI-017.a */
static void test_attack_queue_size_not_power_of_two(void **state)
{
    fx *f = *state;
    negotiate(f);
    assert_int_equal(bar_wr(f, QSZ, 2u, 6u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_QUEUE_SIZE);
    assert_true((bar_rd(f, STATUS, 1u) & SVD_STATUS_NEEDS_RESET) != 0u);
    assert_int_equal(bar_rd(f, QSZ, 2u), QMAX);
}

/* REQ: REQ-PCI-017.a */
static void test_attack_enable_with_rings_outside_memory(void **state)
{
    fx *f = *state;
    negotiate(f);
    bar_wr_ok(f, QSZ, 2u, QSIZE);
    bar_wr_ok(f, QDESC, 8u, UINT64_C(0xfffffffffffff000));
    bar_wr_ok(f, QDRV, 8u, f->ring.avail);
    bar_wr_ok(f, QDEV, 8u, f->ring.used);
    assert_int_equal(bar_wr(f, QEN, 2u, 1u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_RING_MEMORY);
    assert_int_equal(bar_rd(f, QEN, 2u), 0u);
}

/* REQ: REQ-PCI-017.a */
static void test_attack_disable_ready_queue(void **state)
{
    fx *f = *state;
    negotiate(f);
    setup_queue0(f);
    assert_int_equal(bar_wr(f, QEN, 2u, 0u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_QUEUE_ENABLED);
    assert_int_equal(bar_rd(f, QEN, 2u), 0u);
}

/* REQ: REQ-PCI-017.b */
static void test_attack_values_wider_than_field(void **state)
{
    fx *f = *state;
    negotiate(f);
    assert_int_equal(bar_wr(f, QSEL, 2u, 0x10000u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_rd(f, QSEL, 2u), 0u);
    assert_int_equal(bar_wr(f, STATUS, 1u, 0x100u).err, SVD_ERR_BOUNDS); /* truncated it would reset */
    assert_false(f->fx.reset);
    assert_int_equal(bar_wr(f, QEN, 2u, 2u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, DFSEL, 4u, UINT64_C(0x100000000)).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_rd(f, STATUS, 1u), 0x0bu);
    assert_false(latched(f));
}

/* REQ: REQ-PCI-017.b */
static void test_attack_write_read_only_common_fields(void **state)
{
    fx *f = *state;
    negotiate(f);
    assert_int_equal(bar_wr(f, DF, 4u, 0xffffffffu).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, NUMQ, 2u, 100u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, CFGGEN, 1u, 9u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, QNOFF, 2u, 7u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_rd(f, NUMQ, 2u), 2u);
    assert_int_equal(bar_rd(f, QNOFF, 2u), 0u);
    assert_int_equal(bar_rd(f, CFGGEN, 1u), 0u);
    assert_false(latched(f));
}

/* REQ: REQ-PCI-011 */
static void test_attack_notify_unknown_queue(void **state)
{
    fx *f = *state; /* QEMU CVE-2011-2512 class: the queue comes from the address only */
    probe(f);
    for (uint32_t q = 2u; q < 64u; q++) {
        assert_int_equal(bar_wr(f, f->notify + q * f->mult, 2u, q).err, SVD_ERR_BOUNDS);
        assert_int_equal(f->fx.queue_notify, 0u);
    }
    assert_int_equal(f->tm.serves, 0u);
    assert_false(latched(f));
}

/* REQ: REQ-PCI-017.a */
static void test_attack_status_after_driver_ok_clears_bit(void **state)
{
    fx *f = *state;
    probe(f);
    assert_int_equal(bar_wr(f, STATUS, 1u, 0x07u).err, SVD_ERR_PROTOCOL);
    latched_for(f, SVD_WHY_STATUS_ORDER);
    assert_true(f->fx.config_notify);
    assert_true(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    assert_int_equal(bar_rd(f, CFGGEN, 1u), 1u);
    assert_int_equal(bar_rd(f, f->isr, 1u), SVD_ISR_CONFIG);
    assert_false(f->fx.irq_level);
    assert_int_equal(bar_wr(f, f->notify, 2u, 0u).err, SVD_ERR_STATE);
    assert_int_equal(f->tm.serves, 0u);
}

/* REQ: REQ-PCI-009 REQ-PCI-017.c */
static void test_attack_config_space_write_sweep(void **state)
{
    fx *f = *state; /* every offset, every width, all ones: identity and caps hold */
    assign_bar(f);
    for (uint32_t off = 0u; off < 0x104u; off++) {
        for (uint32_t w = 1u; w <= 4u; w++) {
            if (off >= SVD_PCI_CAP_PCICFG + 16u && off < SVD_PCI_CAP_PCICFG + 20u) {
                continue; /* pci_cfg_data: a BAR access, covered by its own test */
            }
            const svd_result r = cfg_wr(f, off, w, 0xffffffffu);
            assert_true(r.err == SVD_OK || r.err == SVD_ERR_BOUNDS || r.err == SVD_ERR_INVALID_ARG);
        }
    }
    assert_int_equal(cfg_rd(f, 0x00u, 4u), 0x10441af4u);
    assert_int_equal(cfg_rd(f, 0x08u, 4u), 0x00ff0001u);
    assert_int_equal(cfg_rd(f, 0x34u, 1u), 0x40u);
    find_caps(f);
    assert_int_equal(f->notify, SVD_PCI_NOTIFY_OFF);
    assert_int_equal(svd_dev_status(&f->dev), 0u);
}

/* REQ: REQ-PCI-009 */
static void test_attack_bar_read_sweep(void **state)
{
    fx *f = *state;
    probe(f);
    for (uint32_t off = 0u; off < SVD_PCI_BAR_SIZE + 8u; off++) {
        for (uint32_t w = 0u; w <= 8u; w++) {
            uint64_t v = 0xdeadbeefu;
            const svd_result r = svd_pci_bar_read(&f->p, off, w, &v, clr(f));
            assert_true(svd_is_ok(r) || v == 0u);
            assert_false(f->fx.failed);
            assert_false(f->fx.reset);
        }
    }
    assert_int_equal(f->tm.serves, 0u); /* a read never runs the model */
    assert_int_equal(bar_rd(f, STATUS, 1u), 0x0fu);
    assert_true(svd_vq_enabled(svd_dev_queue(&f->dev, 0u)));
}

/* ------------------------------------------------------------ MSI-X */

#define TBL SVD_PCI_MSIX_TABLE_OFF
#define PBA SVD_PCI_MSIX_PBA_OFF
#define MSI_ADDR 0xfee00000u

/* What the transport's caller (the composed engine's finish) does at the end
 * of every call: the MSI-X messages for the call's notifications. */
static void end_call(fx *f)
{
    svd_pci_msix_notify(&f->p, &f->fx);
}

/* Program vector v: address MSI_ADDR + 16 v, data 0x40 + v, unmasked. */
static void program_vector(fx *f, uint32_t v)
{
    bar_wr_ok(f, TBL + 16u * v, 4u, MSI_ADDR + 16u * v);
    bar_wr_ok(f, TBL + 16u * v + 4u, 4u, 0u);
    bar_wr_ok(f, TBL + 16u * v + 8u, 4u, 0x40u + v);
    bar_wr_ok(f, TBL + 16u * v + 12u, 4u, 0u);
}

static void msix_ctrl(fx *f, uint32_t bits)
{
    assert_true(svd_is_ok(cfg_wr(f, f->msix_cap + 2u, 2u, bits)));
}

/* Post one buffer on queue 0 and notify: the model completes it. */
static void complete_one(fx *f, uint16_t id)
{
    tg_vring_set_desc(&f->ring, id, RAM_GPA + 0x8000u, 64u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring, id);
    f->tm.write_len = 8u;
    bar_wr_ok(f, f->notify, 2u, 0u);
    end_call(f);
    assert_int_equal(f->fx.queue_notify, 1u);
}

/* REQ: REQ-PCI-020.a REQ-PCI-020.b REQ-PCI-020.c REQ-PCI-020.d REQ-PCI-020.e */
static void test_msix_capability_and_table_layout(void **state)
{
    fx *f = *state;
    find_caps(f);
    assert_int_equal(f->msix_cap, SVD_PCI_CAP_MSIX);
    assert_int_equal(cfg_rd(f, SVD_PCI_CAP_PCICFG + 1u, 1u), SVD_PCI_CAP_MSIX); /* chained after type 5 */
    assert_int_equal(cfg_rd(f, f->msix_cap + 1u, 1u), 0u);                     /* last */
    assert_int_equal(cfg_rd(f, f->msix_cap + 2u, 2u), SVD_PCI_MSIX_VECTORS - 1u); /* size-1, off, unmasked */
    assert_int_equal(cfg_rd(f, f->msix_cap + 4u, 4u), TBL);                      /* BIR 0 */
    assert_int_equal(cfg_rd(f, f->msix_cap + 8u, 4u), PBA);
    /* only Enable and Function Mask are writable; the table size is not */
    msix_ctrl(f, 0xffffu);
    assert_int_equal(cfg_rd(f, f->msix_cap + 2u, 2u), 0xc000u | (SVD_PCI_MSIX_VECTORS - 1u));
    assert_int_equal(cfg_rd(f, f->msix_cap, 2u), 0x0011u); /* id and next untouched by a dword write */
    assert_true(svd_is_ok(cfg_wr(f, f->msix_cap, 4u, 0u)));
    assert_int_equal(cfg_rd(f, f->msix_cap, 4u), 0x11u | ((SVD_PCI_MSIX_VECTORS - 1u) << 16));
    assert_int_equal(cfg_wr(f, f->msix_cap + 4u, 4u, 0x1234u).err, SVD_ERR_BOUNDS); /* read-only */
    assign_bar(f);
    /* after reset every entry is masked, address and data 0, nothing pending */
    for (uint32_t v = 0u; v < SVD_PCI_MSIX_VECTORS; v++) {
        assert_int_equal(bar_rd(f, TBL + 16u * v, 4u), 0u);
        assert_int_equal(bar_rd(f, TBL + 16u * v + 8u, 4u), 0u);
        assert_int_equal(bar_rd(f, TBL + 16u * v + 12u, 4u), 1u);
    }
    assert_int_equal(bar_rd(f, PBA, 8u), 0u);
    /* qword access to an entry's address; bits 1:0 of the address read 0 */
    bar_wr_ok(f, TBL + 16u, 8u, UINT64_C(0x00000001fee0100f));
    assert_int_equal(bar_rd(f, TBL + 16u, 8u), UINT64_C(0x00000001fee0100c));
    assert_int_equal(bar_rd(f, TBL + 20u, 4u), 1u);
    /* qword to data + vector control: only the mask bit of control is kept */
    bar_wr_ok(f, TBL + 24u, 8u, UINT64_C(0xfffffffe12345678));
    assert_int_equal(bar_rd(f, TBL + 24u, 4u), 0x12345678u);
    assert_int_equal(bar_rd(f, TBL + 28u, 4u), 0u);
    /* a host reset masks every entry again, entry 1 (programmed, unmasked) too */
    svd_pci_reset(&f->p, clr(f));
    assign_bar(f);
    for (uint32_t v = 0u; v < SVD_PCI_MSIX_VECTORS; v++) {
        assert_int_equal(bar_rd(f, TBL + 16u * v, 8u), 0u);
        assert_int_equal(bar_rd(f, TBL + 16u * v + 8u, 4u), 0u);
        assert_int_equal(bar_rd(f, TBL + 16u * v + 12u, 4u), 1u);
    }
}

/* Linux's virtio_pci order: enable MSI-X, config vector 0, queue vectors, each
 * read back; a vector the table does not hold reads back NO_VECTOR (the
 * mapping failed), and so does a queue that does not exist. */
/* REQ: REQ-PCI-021.a REQ-PCI-021.b REQ-PCI-021.c REQ-PCI-021.d */
/* FM: FM-PCI-001 */
static void test_msix_vector_mapping_and_failure(void **state)
{
    fx *f = *state;
    negotiate(f);
    const uint32_t c = f->common;
    assert_int_equal(bar_rd(f, c + MSIX, 2u), SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, c + MSIX, 2u, 0u);
    assert_int_equal(bar_rd(f, c + MSIX, 2u), 0u);
    bar_wr_ok(f, c + QSEL, 2u, 0u);
    bar_wr_ok(f, c + QMSIX, 2u, 1u);
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), 1u);
    bar_wr_ok(f, c + QSEL, 2u, 1u);
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, c + QMSIX, 2u, SVD_PCI_MSIX_VECTORS); /* one past the table */
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, c + QMSIX, 2u, 2u);
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), 2u);
    bar_wr_ok(f, c + MSIX, 2u, 0x7fffu);
    assert_int_equal(bar_rd(f, c + MSIX, 2u), SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, c + MSIX, 2u, SVD_PCI_NO_VECTOR);
    assert_int_equal(bar_rd(f, c + MSIX, 2u), SVD_PCI_NO_VECTOR);
    /* a queue_select naming no queue: reads NO_VECTOR, the write is refused */
    bar_wr_ok(f, c + QSEL, 2u, 7u);
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), SVD_PCI_NO_VECTOR);
    assert_int_equal(bar_wr(f, c + QMSIX, 2u, 0u).err, SVD_ERR_BOUNDS);
    /* a device reset returns every vector to NO_VECTOR, the config vector too */
    bar_wr_ok(f, c + MSIX, 2u, 0u);
    assert_int_equal(bar_rd(f, c + MSIX, 2u), 0u);
    bar_wr_ok(f, c + STATUS, 1u, 0u);
    assert_int_equal(bar_rd(f, c + MSIX, 2u), SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, c + QSEL, 2u, 1u);
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, c + QSEL, 2u, 0u);
    assert_int_equal(bar_rd(f, c + QMSIX, 2u), SVD_PCI_NO_VECTOR);
}

/* Without the capability the vector registers cannot map anything. */
/* REQ: REQ-PCI-021.b */
static void test_msix_absent_vectors_never_map(void **state)
{
    fx *f = *state;
    find_caps(f);
    assert_int_equal(f->msix_cap, 0u);
    assert_int_equal(cfg_rd(f, SVD_PCI_CAP_PCICFG + 1u, 1u), 0u);
    assert_int_equal(cfg_rd(f, SVD_PCI_CAP_MSIX, 4u), 0u);
    assert_int_equal(cfg_rd(f, SVD_PCI_CAP_MSIX + 4u, 4u), 0u);
    assert_int_equal(cfg_rd(f, SVD_PCI_CAP_MSIX + 8u, 4u), 0u);
    assert_int_equal(cfg_wr(f, SVD_PCI_CAP_MSIX, 4u, 0xffffffffu).err, SVD_ERR_BOUNDS);
    assign_bar(f);
    bar_rd_refused(f, TBL, 4u, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, TBL, 4u, 1u).err, SVD_ERR_BOUNDS);
    bar_rd_refused(f, PBA, 8u, SVD_ERR_BOUNDS);
    bar_wr_ok(f, f->common + MSIX, 2u, 0u);
    assert_int_equal(bar_rd(f, f->common + MSIX, 2u), SVD_PCI_NO_VECTOR);
}

/* A used buffer with MSI-X on: the queue's vector's message, no INTx; with
 * the queue's vector NO_VECTOR no interrupt at all; config changes on the
 * config vector. */
/* REQ: REQ-PCI-022 */
static void test_msix_queue_and_config_messages(void **state)
{
    fx *f = *state;
    negotiate(f);
    const uint32_t c = f->common;
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE);
    program_vector(f, 0u);
    program_vector(f, 1u);
    bar_wr_ok(f, c + MSIX, 2u, 0u);
    bar_wr_ok(f, c + QSEL, 2u, 0u);
    bar_wr_ok(f, c + QMSIX, 2u, 1u);
    setup_queue0(f);
    bar_wr_ok(f, c + STATUS, 1u, 0x0fu);
    complete_one(f, 0u);
    assert_int_equal(f->fx.n_msi, 1u);
    assert_int_equal(f->fx.msi[0].addr, MSI_ADDR + 16u);
    assert_int_equal(f->fx.msi[0].data, 0x41u);
    assert_false(f->fx.irq_level); /* no INTx while MSI-X is enabled */
    assert_false(f->fx.irq_changed);
    /* shared vector: queue and config on vector 0, one message for both */
    bar_wr_ok(f, c + QMSIX, 2u, 0u);
    svd_fx_reset(&f->fx);
    f->fx.queue_notify = 1u;
    f->fx.config_notify = true;
    end_call(f);
    assert_int_equal(f->fx.n_msi, 1u);
    assert_int_equal(f->fx.msi[0].data, 0x40u);
    /* queue and config on different vectors: two messages, vector order */
    bar_wr_ok(f, c + MSIX, 2u, 1u);
    svd_fx_reset(&f->fx);
    f->fx.queue_notify = 1u;
    f->fx.config_notify = true;
    end_call(f);
    assert_int_equal(f->fx.n_msi, 2u);
    assert_int_equal(f->fx.msi[0].data, 0x40u);
    assert_int_equal(f->fx.msi[1].data, 0x41u);
    /* NO_VECTOR for both: nothing sent, nothing pending */
    bar_wr_ok(f, c + QMSIX, 2u, SVD_PCI_NO_VECTOR);
    bar_wr_ok(f, c + MSIX, 2u, SVD_PCI_NO_VECTOR);
    svd_fx_reset(&f->fx);
    f->fx.queue_notify = 3u;
    f->fx.config_notify = true;
    end_call(f);
    assert_int_equal(f->fx.n_msi, 0u);
    assert_int_equal(bar_rd(f, PBA, 8u), 0u);
    /* queue 1's bit on a device whose queue 1 has vector 2: that message */
    bar_wr_ok(f, c + QSEL, 2u, 1u);
    bar_wr_ok(f, c + QMSIX, 2u, 2u);
    program_vector(f, 2u);
    svd_fx_reset(&f->fx);
    f->fx.queue_notify = 2u;
    end_call(f);
    assert_int_equal(f->fx.n_msi, 1u);
    assert_int_equal(f->fx.msi[0].data, 0x42u);
}

/* MSI-X disabled again (Linux falling back to INTx): the line works as
 * before and no message is sent. */
/* REQ: REQ-PCI-023.a REQ-PCI-023.b REQ-PCI-023.c */
static void test_msix_disabled_intx_still_works(void **state)
{
    fx *f = *state;
    negotiate(f);
    program_vector(f, 1u);
    bar_wr_ok(f, f->common + QSEL, 2u, 0u);
    bar_wr_ok(f, f->common + QMSIX, 2u, 1u);
    setup_queue0(f);
    bar_wr_ok(f, f->common + STATUS, 1u, 0x0fu);
    complete_one(f, 0u);
    assert_int_equal(f->fx.n_msi, 0u);
    assert_true(f->fx.irq_level);
    (void)bar_rd(f, f->isr, 1u); /* read clears, line drops */
    assert_false(f->fx.irq_level);
    /* enable with the ISR set: the line drops at once */
    complete_one(f, 1u);
    assert_true(f->fx.irq_level);
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE);
    assert_true(f->fx.irq_changed);
    assert_false(f->fx.irq_level);
    msix_ctrl(f, 0u);
    assert_true(f->fx.irq_level);
}

/* Masking: a message for a masked vector (entry or function) sets its
 * pending bit instead; unmasking sends it once and clears the bit; masking
 * between the event and the unmask (the race) never loses or repeats it. */
/* REQ: REQ-PCI-024.a REQ-PCI-024.b REQ-PCI-024.c */
/* FM: FM-PCI-003 */
static void test_msix_masks_and_pending_bits(void **state)
{
    fx *f = *state;
    negotiate(f);
    const uint32_t c = f->common;
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE);
    program_vector(f, 1u);
    bar_wr_ok(f, c + QSEL, 2u, 0u);
    bar_wr_ok(f, c + QMSIX, 2u, 1u);
    setup_queue0(f);
    bar_wr_ok(f, c + STATUS, 1u, 0x0fu);
    /* entry mask */
    bar_wr_ok(f, TBL + 16u + 12u, 4u, 1u);
    assert_int_equal(f->fx.n_msi, 0u);
    complete_one(f, 0u);
    assert_int_equal(f->fx.n_msi, 0u);
    assert_int_equal(bar_rd(f, PBA, 4u), 2u);
    assert_int_equal(bar_rd(f, PBA + 4u, 4u), 0u);
    /* a second event while masked: still one pending bit */
    complete_one(f, 1u);
    assert_int_equal(f->fx.n_msi, 0u);
    assert_int_equal(bar_rd(f, PBA, 8u), 2u);
    /* writing the mask bit again (still masked) sends nothing */
    bar_wr_ok(f, TBL + 16u + 12u, 4u, 1u);
    assert_int_equal(f->fx.n_msi, 0u);
    /* unmask: one message, the bit clears */
    bar_wr_ok(f, TBL + 16u + 12u, 4u, 0u);
    assert_int_equal(f->fx.n_msi, 1u);
    assert_int_equal(f->fx.msi[0].data, 0x41u);
    assert_int_equal(bar_rd(f, PBA, 8u), 0u);
    bar_wr_ok(f, TBL + 16u + 12u, 4u, 0u); /* again: nothing left */
    assert_int_equal(f->fx.n_msi, 0u);
    /* function mask: pending, then the entry masked too, function unmasked:
     * still pending (the entry masks it), entry unmasked: sent */
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE | SVD_PCI_MSIX_FMASK);
    complete_one(f, 2u);
    assert_int_equal(f->fx.n_msi, 0u);
    assert_int_equal(bar_rd(f, PBA, 8u), 2u);
    bar_wr_ok(f, TBL + 16u + 12u, 4u, 1u);
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE);
    assert_int_equal(f->fx.n_msi, 0u);
    assert_int_equal(bar_rd(f, PBA, 8u), 2u);
    bar_wr_ok(f, TBL + 16u + 12u, 4u, 0u);
    assert_int_equal(f->fx.n_msi, 1u);
    assert_int_equal(bar_rd(f, PBA, 8u), 0u);
    /* function unmask sends what became pending under the function mask */
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE | SVD_PCI_MSIX_FMASK);
    complete_one(f, 3u);
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE);
    assert_int_equal(f->fx.n_msi, 1u);
    assert_int_equal(f->fx.msi[0].addr, MSI_ADDR + 16u);
    /* pending while MSI-X is disabled: unmasking sends nothing until enabled */
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE | SVD_PCI_MSIX_FMASK);
    complete_one(f, 4u);
    msix_ctrl(f, SVD_PCI_MSIX_FMASK);
    bar_wr_ok(f, TBL + 16u + 12u, 4u, 0u);
    assert_int_equal(f->fx.n_msi, 0u);
    msix_ctrl(f, 0u);
    assert_int_equal(f->fx.n_msi, 0u);
    assert_int_equal(bar_rd(f, PBA, 8u), 2u);
    msix_ctrl(f, SVD_PCI_MSIX_ENABLE);
    assert_int_equal(f->fx.n_msi, 1u);
    /* a host reset clears everything */
    svd_pci_reset(&f->p, clr(f));
    assert_int_equal(cfg_rd(f, f->msix_cap + 2u, 2u), SVD_PCI_MSIX_VECTORS - 1u);
}

/* Table accesses of any other width or alignment, past the table, and PBA
 * writes: the defined answer, nothing changes. */
/* REQ: REQ-PCI-025 */
/* FM: FM-PCI-002 */
static void test_attack_msix_table_widths_and_range(void **state)
{
    fx *f = *state;
    assign_bar(f);
    program_vector(f, 0u);
    const uint32_t bad_w[] = { 1u, 2u };
    for (size_t i = 0; i < 2u; i++) {
        bar_rd_refused(f, TBL, bad_w[i], SVD_ERR_INVALID_ARG);
        assert_int_equal(bar_wr(f, TBL, bad_w[i], 0u).err, SVD_ERR_INVALID_ARG);
        bar_rd_refused(f, PBA, bad_w[i], SVD_ERR_INVALID_ARG);
    }
    bar_rd_refused(f, TBL + 4u, 8u, SVD_ERR_INVALID_ARG); /* qword not 8-aligned */
    assert_int_equal(bar_wr(f, TBL + 4u, 8u, 0u).err, SVD_ERR_INVALID_ARG);
    bar_rd_refused(f, TBL + 2u, 4u, SVD_ERR_INVALID_ARG);
    bar_rd_refused(f, TBL + 16u * SVD_PCI_MSIX_VECTORS, 4u, SVD_ERR_BOUNDS); /* past the table */
    assert_int_equal(bar_wr(f, TBL + 16u * SVD_PCI_MSIX_VECTORS, 4u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, TBL - 4u, 4u, 0u).err, SVD_ERR_BOUNDS);
    assert_int_equal(bar_wr(f, PBA, 4u, 0xffffffffu).err, SVD_ERR_BOUNDS); /* read-only */
    assert_int_equal(bar_wr(f, PBA, 8u, UINT64_MAX).err, SVD_ERR_BOUNDS);
    bar_rd_refused(f, PBA + 8u, 4u, SVD_ERR_BOUNDS);
    assert_int_equal(bar_rd(f, PBA, 8u), 0u);
    assert_int_equal(bar_rd(f, TBL, 4u), MSI_ADDR);
    assert_int_equal(bar_rd(f, TBL + 8u, 4u), 0x40u);
    assert_int_equal(bar_rd(f, TBL + 12u, 4u), 0u);
    /* the PCI configuration access capability reaches the table as well */
    assert_true(svd_is_ok(cfg_wr(f, SVD_PCI_CAP_PCICFG + 8u, 4u, TBL + 8u)));
    assert_true(svd_is_ok(cfg_wr(f, SVD_PCI_CAP_PCICFG + 12u, 4u, 4u)));
    assert_int_equal(cfg_rd(f, SVD_PCI_CAP_PCICFG + 16u, 4u), 0x40u);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_identity),
        T(test_capability_chain),
        T(test_bar_sizing_32),
        T(test_bar_sizing_64),
        T(test_command_and_status_registers),
        T(test_common_config_after_reset),
        T(test_linux_modern_probe_sequence),
        T(test_64bit_fields_full_width),
        T(test_msix_absent),
        T(test_bad_widths_and_offsets),
        T(test_bar_refused_while_memory_disabled),
        T(test_queue_select_out_of_range),
        T(test_notify_serves_the_queue_its_address_names),
        T(test_isr_read_clears_and_intx),
        T(test_device_config_window),
        T(test_pci_cfg_access_capability),
        T(test_status_zero_resets),
        T(test_host_reset),
        T(test_init_refuses_what_the_function_cannot_carry),
        T(test_attack_queue_size_not_power_of_two),
        T(test_attack_enable_with_rings_outside_memory),
        T(test_attack_disable_ready_queue),
        T(test_attack_values_wider_than_field),
        T(test_attack_write_read_only_common_fields),
        T(test_attack_notify_unknown_queue),
        T(test_attack_status_after_driver_ok_clears_bit),
        T(test_attack_config_space_write_sweep),
        T(test_attack_bar_read_sweep),
#undef T
#define M(fn) cmocka_unit_test_setup_teardown(fn, setup_msix, teardown)
        M(test_msix_capability_and_table_layout),
        M(test_msix_vector_mapping_and_failure),
        cmocka_unit_test_setup_teardown(test_msix_absent_vectors_never_map, setup, teardown),
        M(test_msix_queue_and_config_messages),
        M(test_msix_disabled_intx_still_works),
        M(test_msix_masks_and_pending_bits),
        M(test_attack_msix_table_widths_and_range),
#undef M
    };
    return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
