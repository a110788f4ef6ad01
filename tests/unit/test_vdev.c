/* Unit tests of the composed virtio engine (src/core/vdev.c): transport +
 * device + queues + model behind the one face every device has (access /
 * kick / tick / reset, each filling an svd_fx). What a product relies on:
 * the engine decodes guest-physical addresses itself (virtio-mmio window,
 * PCI BAR0 wherever and whenever the guest has it decoded), a notification
 * runs the model and raises the line in the same call, deadlines bring a
 * waiting request back, a host-driven device (vhost-user) starts and stops
 * queues and gets its requests in flight handed back, a failure latches with
 * its reason until a reset, and a new device is a new model and nothing
 * else; every face call starts from a clear effect (include/safevdev/fx.h,
 * the private svd_fx_reset()). Adversarial tests are test_attack_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core_priv.h"
#include "safevdev/entropy.h"
#include "safevdev/vdev.h"
#include "tg_mem.h"
#include "tg_model.h"
#include "tg_pring.h"
#include "tg_vdrv.h"
#include "tg_vring.h"

#define RAM_GPA 0x40000000u
#define RAM_SIZE 0x20000u
#define BUF (RAM_GPA + 0x10000u)
#define QSIZE 8u
#define QMAX 64u
#define MMIO_BASE UINT64_C(0xd0000000)
#define BAR_A UINT64_C(0xfe000000)
#define BAR_B UINT64_C(0xfd000000)
#define T0 UINT64_C(1000000)
#define DEV_ID 26u

/* virtio-pci common configuration offsets (virtio 1.2 §4.1.4.3), written out here. */
#define PC_STATUS 0x14u
#define PC_NUMQ 0x12u

static const uint8_t cfg_bytes[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };

typedef struct fix {
    tg_mem mem;
    tg_vring ring[2];
    tg_model tm;
    svd_vdev v;
    tg_vdrv drv;
    svd_fx fx;
} fix;

static int setup(void **state)
{
    static fix f;
    memset(&f, 0, sizeof(f));
    if (tg_mem_init(&f.mem, RAM_GPA, RAM_SIZE) != 0) {
        return -1;
    }
    (void)tg_vring_init(&f.ring[0], &f.mem, QSIZE, RAM_GPA);
    (void)tg_vring_init(&f.ring[1], &f.mem, QSIZE, RAM_GPA + 0x1000u);
    tg_model_init(&f.tm);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    const bool ok = tg_mem_canaries_intact(&f->mem);
    tg_mem_free(&f->mem);
    return ok ? 0 : -1;
}

static svd_vdev_cfg cfg_of(fix *f, svd_xport x)
{
    svd_vdev_cfg c;
    memset(&c, 0, sizeof(c));
    c.xport = x;
    tg_model_iface(&f->tm, &c.model, DEV_ID, 2u, QMAX, cfg_bytes, sizeof(cfg_bytes));
    c.mmio_base = MMIO_BASE;
    c.mmio_vendor = 0x554d4551u;
    c.pci.class_code = 0xff0000u;
    c.pci.subsystem_vendor = 0x1af4u;
    c.pci.subsystem_id = DEV_ID;
    return c;
}

/* Build the device on transport @x and a driver for it (PCI: BAR0 at BAR_A). */
static void build(fix *f, svd_xport x)
{
    const svd_vdev_cfg c = cfg_of(f, x);
    assert_true(svd_is_ok(svd_vdev_init(&f->v, &c, &f->mem.map)));
    tg_vdrv_init(&f->drv, &f->v, x, x == SVD_XPORT_MMIO ? MMIO_BASE : BAR_A);
    f->drv.now = T0;
}

/* Guest driver up with queue 0 only. */
static void up(fix *f, svd_xport x, uint64_t feats)
{
    build(f, x);
    assert_true(tg_vdrv_up(&f->drv, SVD_F_VERSION_1 | feats, f->ring, 1u));
}

static void offer(fix *f, uint32_t q, uint16_t head, uint32_t len)
{
    tg_vring_set_desc(&f->ring[q], head, BUF + 0x100u * head + 0x1000u * q, len, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(&f->ring[q], head);
}

static uint32_t used_len(fix *f, uint32_t q, uint32_t head)
{
    uint32_t id = 0xffffu;
    uint32_t len = 0xffffu;
    assert_true(tg_vring_get_used(&f->ring[q], &id, &len));
    assert_int_equal(id, head);
    return len;
}

/* Queue @q of the device is running (started and not stopped or latched). */
static bool running(const fix *f, uint32_t q)
{
    const svd_vq *vq = svd_dev_queue(&f->v.dev, q);
    return vq != NULL && svd_vq_enabled(vq);
}

/* DEVICE_NEEDS_RESET is latched: what the status byte says. */
static bool latched(const svd_vdev *v)
{
    return (svd_vdev_status(v) & SVD_STATUS_NEEDS_RESET) != 0u;
}

/* A guest access through the face at @now. */
static svd_result acc(fix *f, svd_space sp, uint64_t addr, uint32_t width, bool write, uint64_t *val)
{
    return svd_vdev_access(&f->v, sp, addr, width, write, val, T0, &f->fx);
}

/* ------------------------------------------------------------------ init */

/* REQ: REQ-DEV-001 REQ-MMIO-015 REQ-PCI-016 REQ-VDEV-002 */
static void test_init_refuses_what_cannot_be_built(void **state)
{
    fix *f = *state;
    svd_vdev v;
    memset(&v, 0x5a, sizeof(v));
    const svd_vdev before = v;
    svd_vdev_cfg c = cfg_of(f, SVD_XPORT_MMIO);
    assert_true(svd_is_err(svd_vdev_init(NULL, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_vdev_init(&v, NULL, &f->mem.map), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_vdev_init(&v, &c, NULL), SVD_ERR_INVALID_ARG));
    /* A transport that does not exist. */
    c.xport = (svd_xport)7;
    assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    /* A virtio-mmio window that wraps past 2^64. */
    c = cfg_of(f, SVD_XPORT_MMIO);
    c.mmio_base = UINT64_MAX - 0xffu;
    assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    assert_memory_equal(&v, &before, sizeof(v)); /* refused before anything was written */
    /* A bad model, whatever the transport (the engine is built in place:
     * @v is unusable after these, as vdev.h says). */
    const svd_xport all[] = { SVD_XPORT_NONE, SVD_XPORT_MMIO, SVD_XPORT_PCI };
    for (size_t i = 0; i < 3u; i++) {
        c = cfg_of(f, all[i]);
        c.model.device_id = 0u;
        assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
        c = cfg_of(f, all[i]);
        c.model.serve = NULL;
        assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
        c = cfg_of(f, all[i]);
        c.model.queue_max = 24u;
        assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
        /* A budget above its limits. */
        c = cfg_of(f, all[i]);
        c.budget.bytes = SVD_BUDGET_MAX_BYTES + 1u;
        assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
        c = cfg_of(f, all[i]);
        c.budget.descs = SVD_VQ_MAX_SIZE + 1u;
        assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    }
    /* What a transport cannot carry. */
    static uint8_t big[SVD_PCI_DEVICE_LEN + 1u];
    c = cfg_of(f, SVD_XPORT_MMIO);
    c.model.config = big;
    c.model.config_len = SVD_MMIO_CONFIG_MAX + 1u;
    assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    c = cfg_of(f, SVD_XPORT_PCI);
    c.model.config = big;
    c.model.config_len = SVD_PCI_DEVICE_LEN + 1u;
    assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    c = cfg_of(f, SVD_XPORT_PCI);
    c.model.device_id = SVD_PCI_MAX_VIRTIO_ID + 1u;
    assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    c = cfg_of(f, SVD_XPORT_PCI);
    c.pci.class_code = 0x1000000u;
    assert_true(svd_is_err(svd_vdev_init(&v, &c, &f->mem.map), SVD_ERR_INVALID_ARG));
    /* The same limits are fine. */
    c = cfg_of(f, SVD_XPORT_MMIO);
    c.mmio_base = UINT64_MAX - 0x200u;
    c.model.config = big;
    c.model.config_len = SVD_MMIO_CONFIG_MAX;
    assert_true(svd_is_ok(svd_vdev_init(&v, &c, &f->mem.map)));
    c = cfg_of(f, SVD_XPORT_PCI);
    c.model.device_id = SVD_PCI_MAX_VIRTIO_ID;
    c.model.config = big;
    c.model.config_len = SVD_PCI_DEVICE_LEN;
    assert_true(svd_is_ok(svd_vdev_init(&v, &c, &f->mem.map)));
    /* A fresh device: nothing negotiated, nothing running, nothing latched. */
    assert_int_equal(svd_vdev_status(&v), 0u);
    assert_false(latched(&v));
    assert_int_equal(svd_vdev_why(&v), SVD_WHY_NONE);
    const svd_vq *q0 = svd_dev_queue(&v.dev, 0u);
    assert_non_null(q0);
    assert_false(svd_vq_enabled(q0));
    assert_int_equal(svd_vdev_features(&v),
                     SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC | SVD_F_RING_PACKED);
    assert_int_equal(f->tm.resets, 0u);
}

/* --------------------------------------------------------- address decode */

/* REQ: REQ-MMIO-001 REQ-MMIO-006 REQ-VDEV-001 REQ-VDEV-003 */
static void test_mmio_decodes_its_window_at_guest_physical_addresses(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_MMIO);
    uint64_t v = 0u;
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_MAGIC_VALUE, 4u, false, &v)));
    assert_int_equal(v, SVD_MMIO_MAGIC);
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_DEVICE_ID, 4u, false, &v)));
    assert_int_equal(v, DEV_ID);
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_CONFIG_OFFSET + 1u, 1u, false, &v)));
    assert_int_equal(v, 0xb2u);
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_CONFIG_OFFSET, 4u, false, &v)));
    assert_int_equal(v, 0xd4c3b2a1u);
    /* A write goes to the register its address names. */
    v = SVD_STATUS_ACKNOWLEDGE;
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_STATUS, 4u, true, &v)));
    assert_int_equal(v, SVD_STATUS_ACKNOWLEDGE); /* a write leaves *val alone */
    assert_int_equal(svd_vdev_status(&f->v), SVD_STATUS_ACKNOWLEDGE);
    /* The effect of an access with nothing to do. */
    assert_false(f->fx.irq_level);
    assert_false(f->fx.irq_changed);
    assert_int_equal(f->fx.deadline, SVD_NO_DEADLINE);
    assert_false(f->fx.failed);
    assert_false(f->fx.bars_changed);
}

/* REQ: REQ-MMIO-006 REQ-VDEV-003 */
static void test_attack_mmio_addresses_outside_the_window_and_other_spaces(void **state)
{
    fix *f = *state;
    up(f, SVD_XPORT_MMIO, 0u);
    const svd_vdev before = f->v;
    const struct {
        svd_space sp;
        uint64_t addr;
        uint32_t width;
        svd_err err;
    } bad[] = {
        { SVD_SPACE_MEM, MMIO_BASE - 4u, 4u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, MMIO_BASE - 1u, 1u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_WINDOW_SIZE, 4u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, MMIO_BASE + UINT64_C(0x100000000) + SVD_MMIO_STATUS, 4u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, UINT64_MAX, 1u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, 0u, 4u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_STATUS, 8u, SVD_ERR_INVALID_ARG }, /* no 64-bit registers */
        { SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_STATUS, 2u, SVD_ERR_INVALID_ARG },
        { SVD_SPACE_PCI_CFG, SVD_MMIO_STATUS, 4u, SVD_ERR_BOUNDS },             /* not a PCI function */
        { SVD_SPACE_IO, MMIO_BASE + SVD_MMIO_STATUS, 4u, SVD_ERR_BOUNDS },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0x1234u;
        assert_int_equal(acc(f, bad[i].sp, bad[i].addr, bad[i].width, false, &v).err, bad[i].err);
        assert_int_equal(v, 0u); /* the defined answer */
        v = 0u; /* a status write of 0 would reset the device */
        assert_int_equal(acc(f, bad[i].sp, bad[i].addr, bad[i].width, true, &v).err, bad[i].err);
        assert_false(f->fx.reset);
        assert_false(f->fx.failed);
    }
    assert_memory_equal(&f->v, &before, sizeof(f->v));
    assert_int_equal(svd_vdev_status(&f->v), 0x0fu);
}

/* Linux virtio_pci's interrupt choice against the composed engine: per-queue
 * MSI-X vectors when the OS can allocate three, the shared vector with two,
 * INTx with one or without the capability; in each mode a used buffer on
 * queue 0 comes back through the face as that mode's interrupt. */
/* REQ: REQ-PCI-021.a REQ-PCI-022 REQ-PCI-023.a REQ-PCI-023.b REQ-VDEV-003 */
static void test_pci_msix_modes_in_linux_order(void **state)
{
    fix *f = *state;
    static const struct {
        bool msix;
        uint32_t os_vectors;
        tg_irq_mode mode;
    } cases[] = {
        { true, 0u, TG_IRQ_MSIX_PER_VQ },
        { true, 2u, TG_IRQ_MSIX_SHARED },
        { true, 1u, TG_IRQ_INTX },
        { false, 0u, TG_IRQ_INTX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        svd_vdev_cfg c = cfg_of(f, SVD_XPORT_PCI);
        c.pci.msix = cases[i].msix;
        assert_true(svd_is_ok(svd_vdev_init(&f->v, &c, &f->mem.map)));
        tg_vdrv_init(&f->drv, &f->v, SVD_XPORT_PCI, BAR_A);
        f->drv.now = T0;
        f->drv.os_vectors = cases[i].os_vectors;
        (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
        (void)tg_vring_init(&f->ring[1], &f->mem, QSIZE, RAM_GPA + 0x1000u);
        bool ok = false;
        assert_int_equal(tg_vdrv_up_irq(&f->drv, SVD_F_VERSION_1, f->ring, 2u, &ok), cases[i].mode);
        assert_true(ok);
        f->tm.write_len = 8u;
        offer(f, 0u, 0u, 64u);
        assert_true(svd_is_ok(tg_vdrv_notify(&f->drv, 0u)));
        assert_int_equal(used_len(f, 0u, 0u), 8u);
        const svd_fx *x = &f->drv.fx;
        if (cases[i].mode == TG_IRQ_INTX) {
            assert_int_equal(x->n_msi, 0u);
            assert_true(x->irq_level);
        } else {
            assert_int_equal(x->n_msi, 1u); /* queue 0: vector 1 in both MSI-X modes */
            assert_int_equal(x->msi[0].addr, TG_MSI_ADDR(1u));
            assert_int_equal(x->msi[0].data, TG_MSI_DATA(1u));
            assert_false(x->irq_level);
        }
    }
}

/* REQ: REQ-PCI-001 REQ-PCI-003.d REQ-PCI-009 REQ-VDEV-003 */
static void test_pci_decodes_config_space_and_bar0_where_the_guest_put_it(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_PCI);
    assert_int_equal(tg_vdrv_cfg_rd(&f->drv, 0x00u, 4u), ((0x1040u + DEV_ID) << 16) | 0x1af4u);
    assert_int_equal(tg_vdrv_cfg_rd(&f->drv, 0x0au, 2u), 0xff00u);
    assert_int_equal(f->drv.errors, 0u);
    /* Firmware programs BAR0 and turns decoding on: each step says the BAR changed. */
    assert_true(svd_is_ok(tg_vdrv_cfg_wr(&f->drv, 0x10u, 4u, (uint32_t)BAR_A)));
    assert_true(f->drv.fx.bars_changed);
    assert_true(svd_is_ok(tg_vdrv_cfg_wr(&f->drv, 0x04u, 2u, SVD_PCI_CMD_MEMORY)));
    assert_true(f->drv.fx.bars_changed);
    assert_int_equal(tg_vdrv_rd(&f->drv, SVD_PCI_COMMON_OFF + PC_NUMQ, 2u), 2u);
    /* The first byte of the BAR is decoded (device_feature_select). */
    assert_true(svd_is_ok(tg_vdrv_wr(&f->drv, 0u, 4u, 1u)));
    assert_int_equal(tg_vdrv_rd(&f->drv, 0u, 4u), 1u);
    assert_int_equal(tg_vdrv_rd(&f->drv, 4u, 4u), 5u); /* device_feature window 1: VERSION_1, RING_PACKED */
    assert_int_equal(tg_vdrv_rd(&f->drv, SVD_PCI_DEVICE_OFF, 4u), 0xd4c3b2a1u);
    assert_int_equal(tg_vdrv_rd(&f->drv, SVD_PCI_BAR_SIZE - 1u, 1u), 0u); /* last byte: a hole, decoded */
    assert_true(svd_is_err(f->drv.last, SVD_ERR_BOUNDS));
    assert_true(svd_is_ok(tg_vdrv_wr(&f->drv, SVD_PCI_COMMON_OFF + PC_STATUS, 1u, SVD_STATUS_ACKNOWLEDGE)));
    assert_false(f->drv.fx.bars_changed);
    assert_int_equal(svd_vdev_status(&f->v), SVD_STATUS_ACKNOWLEDGE);
    /* The guest moves the BAR: the old address is dead, the new one live. */
    assert_true(svd_is_ok(tg_vdrv_cfg_wr(&f->drv, 0x10u, 4u, (uint32_t)BAR_B)));
    assert_true(f->drv.fx.bars_changed);
    uint64_t v = 0x77u;
    assert_true(svd_is_err(acc(f, SVD_SPACE_MEM, BAR_A + PC_STATUS, 1u, false, &v), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0u);
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, BAR_B + PC_STATUS, 1u, false, &v)));
    assert_int_equal(v, SVD_STATUS_ACKNOWLEDGE);
    /* A 64-bit BAR above 4 GiB. */
    svd_vdev_cfg c = cfg_of(f, SVD_XPORT_PCI);
    c.pci.bar64 = true;
    svd_vdev v64;
    assert_true(svd_is_ok(svd_vdev_init(&v64, &c, &f->mem.map)));
    const uint64_t high = UINT64_C(0x8000004000);
    tg_vdrv d;
    tg_vdrv_init(&d, &v64, SVD_XPORT_PCI, high);
    tg_vdrv_pci_assign(&d);
    assert_int_equal(d.errors, 0u);
    assert_int_equal(tg_vdrv_rd(&d, SVD_PCI_COMMON_OFF + PC_NUMQ, 2u), 2u);
    assert_int_equal(d.errors, 0u);
    uint64_t w = 0x77u;
    assert_true(svd_is_err(svd_vdev_access(&v64, SVD_SPACE_MEM, (uint32_t)high + PC_NUMQ, 2u, false, &w, T0, &d.fx),
                           SVD_ERR_BOUNDS)); /* the low half alone is not the BAR */
    assert_int_equal(w, 0u);
}

/* REQ: REQ-PCI-009 REQ-VDEV-003 */
static void test_attack_pci_bar_decoding_off_unassigned_or_out_of_range(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_PCI);
    uint64_t v = 0x77u;
    /* Decoding on, BAR0 never programmed (0): nothing is decoded at 0. */
    assert_true(svd_is_ok(tg_vdrv_cfg_wr(&f->drv, 0x04u, 2u, SVD_PCI_CMD_MEMORY)));
    assert_true(svd_is_err(acc(f, SVD_SPACE_MEM, PC_STATUS, 1u, false, &v), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0u);
    /* BAR0 programmed, decoding off. */
    assert_true(svd_is_ok(tg_vdrv_cfg_wr(&f->drv, 0x04u, 2u, 0u)));
    assert_true(svd_is_ok(tg_vdrv_cfg_wr(&f->drv, 0x10u, 4u, (uint32_t)BAR_A)));
    v = SVD_STATUS_ACKNOWLEDGE;
    assert_true(svd_is_err(acc(f, SVD_SPACE_MEM, BAR_A + PC_STATUS, 1u, true, &v), SVD_ERR_BOUNDS));
    assert_int_equal(svd_vdev_status(&f->v), 0u);
    /* Decoding on: only [BAR_A, BAR_A + size) answers. */
    assert_true(svd_is_ok(tg_vdrv_cfg_wr(&f->drv, 0x04u, 2u, SVD_PCI_CMD_MEMORY)));
    const svd_vdev before = f->v;
    const struct {
        svd_space sp;
        uint64_t addr;
        uint32_t width;
        svd_err err;
    } bad[] = {
        { SVD_SPACE_MEM, BAR_A - 1u, 1u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, BAR_A + SVD_PCI_BAR_SIZE, 1u, SVD_ERR_BOUNDS },
        { SVD_SPACE_MEM, BAR_A + UINT64_C(0x100000000) + PC_STATUS, 1u, SVD_ERR_BOUNDS },
        { SVD_SPACE_IO, BAR_A + PC_STATUS, 1u, SVD_ERR_BOUNDS },
        { SVD_SPACE_PCI_CFG, SVD_PCI_CFG_SIZE, 1u, SVD_ERR_BOUNDS },
        { SVD_SPACE_PCI_CFG, UINT64_C(0x100000000) + 0x04u, 2u, SVD_ERR_BOUNDS }, /* command if truncated */
        { SVD_SPACE_PCI_CFG, 0x04u, 8u, SVD_ERR_INVALID_ARG },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 0x1234u;
        assert_int_equal(acc(f, bad[i].sp, bad[i].addr, bad[i].width, false, &v).err, bad[i].err);
        assert_int_equal(v, 0u);
        v = 0u; /* status 0 resets; command 0 turns decoding off */
        assert_int_equal(acc(f, bad[i].sp, bad[i].addr, bad[i].width, true, &v).err, bad[i].err);
        assert_false(f->fx.bars_changed);
        assert_false(f->fx.reset);
    }
    assert_memory_equal(&f->v, &before, sizeof(f->v));
    /* A 64-bit access to a 64-bit field is a BAR access like any other. */
    v = 0u;
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, BAR_A + 0x20u, 8u, false, &v)));
    assert_int_equal(v, 0u);
}

/* ------------------------------------------------------- notify chain */

/* The whole chain in the guest's notify write: model, used ring, interrupt
 * status, line level. The driver sees the line in the very access. */
/* REQ: REQ-DEV-011 REQ-MMIO-009 REQ-MMIO-010 REQ-PCI-011 REQ-PCI-012 REQ-VDEV-001 REQ-VDEV-004 */
static void test_notify_write_runs_the_model_and_raises_the_line_in_the_same_call(void **state)
{
    fix *f = *state;
    const svd_xport xs[] = { SVD_XPORT_MMIO, SVD_XPORT_PCI };
    for (size_t i = 0; i < 2u; i++) {
        tg_model_init(&f->tm);
        (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
        up(f, xs[i], 0u);
        offer(f, 0u, 0u, 48u);
        f->drv.now = T0 + 7u;
        assert_true(svd_is_ok(tg_vdrv_notify(&f->drv, 0u)));
        assert_int_equal(f->tm.serves, 1u);
        assert_int_equal(f->tm.last_now, T0 + 7u);
        assert_int_equal(used_len(f, 0u, 0u), 48u);
        assert_true(tg_mem_all(&f->mem, BUF, 48u, f->tm.fill));
        assert_true(f->drv.fx.irq_changed);
        assert_true(f->drv.fx.irq_level);
        assert_int_equal(f->drv.fx.queue_notify, 1u);
        assert_int_equal(f->drv.fx.deadline, SVD_NO_DEADLINE);
        /* The driver takes the interrupt: the line falls in that access. */
        assert_int_equal(tg_vdrv_take_irq(&f->drv), SVD_ISR_QUEUE);
        assert_true(f->drv.fx.irq_changed);
        assert_false(f->drv.fx.irq_level);
        assert_int_equal(f->drv.errors, 0u);
    }
}

/* A notification that does not come through a register (an ioeventfd) is
 * served the same way; one the device may not serve is refused untouched. */
/* REQ: REQ-DEV-010 REQ-DEV-011 REQ-VDEV-004 */
static void test_kick_outside_the_registers(void **state)
{
    fix *f = *state;
    up(f, SVD_XPORT_MMIO, 0u);
    offer(f, 0u, 0u, 16u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
    assert_int_equal(f->tm.completed, 1u);
    assert_true(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    assert_int_equal(f->fx.queue_notify, 1u);
    /* Unknown queue (QEMU CVE-2011-2512 class), a queue never made ready. */
    assert_true(svd_is_err(svd_vdev_kick(&f->v, 2u, T0, &f->fx), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_vdev_kick(&f->v, 0xffffffffu, T0, &f->fx), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_vdev_kick(&f->v, 1u, T0, &f->fx), SVD_ERR_STATE));
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_false(f->fx.irq_changed); /* the line stays up: nothing acknowledged it */
    assert_true(f->fx.irq_level);
    assert_int_equal(f->tm.serves, 1u);
    /* The same kick on a PCI device. */
    tg_model_init(&f->tm);
    (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
    up(f, SVD_XPORT_PCI, 0u);
    offer(f, 0u, 0u, 16u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
    assert_true(f->fx.irq_level);
    assert_int_equal(f->fx.queue_notify, 1u);
}

/* ------------------------------------------------- deadlines: entropy */

typedef struct src {
    uint32_t calls;
    uint32_t fail; /* fail this many calls first */
    uint8_t next;  /* counter the bytes come from (a healthy source for the health tests) */
} src;

static svd_result src_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    src *s = ctx;
    s->calls++;
    if (s->fail > 0u) {
        s->fail--;
        return svd_fail(SVD_ERR_AGAIN);
    }
    for (size_t i = 0; i < len; i++) {
        buf[i] = s->next;
        s->next = (uint8_t)(s->next == 255u ? 1u : s->next + 1u);
    }
    *got = len;
    return svd_ok();
}

/* The product composition: entropy over transport @x. */
static void entropy_up(fix *f, svd_entropy *e, src *s, const svd_entropy_cfg *ec, svd_xport x)
{
    memset(s, 0, sizeof(*s));
    s->next = 1u;
    svd_entropy_cfg c = *ec;
    c.source.read = src_read;
    c.source.ctx = s;
    assert_true(svd_is_ok(svd_entropy_init(e, &c, T0)));
    /* Past the health tests' start-up test (test_entropy covers it). */
    uint8_t b[SVD_HEALTH_STARTUP_SAMPLES];
    for (size_t i = 0; i < sizeof(b); i++) {
        b[i] = (uint8_t)(i * 7u + 1u);
    }
    assert_true(svd_is_err(svd_health_feed(&e->health, b, sizeof(b), NULL), SVD_ERR_AGAIN));
    svd_vdev_cfg vc = cfg_of(f, x);
    svd_entropy_model(e, &vc.model);
    vc.pci.subsystem_id = SVD_ENTROPY_DEVICE_ID;
    assert_true(svd_is_ok(svd_vdev_init(&f->v, &vc, &f->mem.map)));
    tg_vdrv_init(&f->drv, &f->v, x, x == SVD_XPORT_MMIO ? MMIO_BASE : BAR_A);
    f->drv.now = T0;
    if (x != SVD_XPORT_NONE) {
        assert_true(tg_vdrv_up(&f->drv, SVD_F_VERSION_1, f->ring, 1u));
    }
}

/* A request the rate limiter defers: the kick completes what fits and
 * asks for the time the rest will fit; a tick before it does nothing, a
 * tick at it completes the request and raises the line in the tick. */
/* REQ: REQ-DEV-011 REQ-ENT-016.b REQ-ENT-016.c REQ-VDEV-005.a REQ-VDEV-005.b REQ-VDEV-005.c */
static void test_deferred_request_comes_back_at_its_deadline(void **state)
{
    fix *f = *state;
    svd_entropy e;
    src s;
    svd_entropy_cfg ec;
    memset(&ec, 0, sizeof(ec));
    const svd_tb_cfg ops = { 1u, 0u, 1000u }; /* one request per microsecond */
    ec.rate_ops = ops;
    entropy_up(f, &e, &s, &ec, SVD_XPORT_MMIO);
    offer(f, 0u, 0u, 64u);
    offer(f, 0u, 1u, 64u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
    assert_int_equal(used_len(f, 0u, 0u), 64u);
    assert_true(f->fx.irq_level);
    assert_int_equal(f->fx.deadline, T0 + 1000u);
    (void)tg_vdrv_take_irq(&f->drv);
    /* Early: nothing, and the deadline stands. */
    svd_vdev_tick(&f->v, T0 + 999u, &f->fx);
    assert_int_equal(f->fx.deadline, T0 + 1000u);
    assert_false(f->fx.irq_changed);
    assert_int_equal(svd_entropy_stats_of(&e)->requests, 1u);
    /* Due: served in the tick, the line rises in the tick's effect. */
    svd_vdev_tick(&f->v, T0 + 1000u, &f->fx);
    assert_int_equal(used_len(f, 0u, 1u), 64u);
    assert_true(f->fx.irq_changed);
    assert_true(f->fx.irq_level);
    assert_int_equal(f->fx.queue_notify, 1u);
    assert_int_equal(f->fx.deadline, SVD_NO_DEADLINE);
    /* The second request has the source's bytes 65..128 (the counter). */
    const uint8_t *p = tg_mem_ptr(&f->mem, BUF + 0x100u);
    for (uint32_t i = 0; i < 64u; i++) {
        assert_int_equal(p[i], (uint8_t)(65u + i));
    }
}

/* A source with nothing to give: the request waits (no fake fill) and the
 * deadline is the retry; the tick after the source recovers serves it. */
/* REQ: REQ-DEV-011 REQ-ENT-014.a REQ-ENT-014.b REQ-ENT-014.c REQ-VDEV-005.a REQ-VDEV-005.b */
static void test_starved_source_comes_back_at_its_deadline(void **state)
{
    fix *f = *state;
    svd_entropy e;
    src s;
    svd_entropy_cfg ec;
    memset(&ec, 0, sizeof(ec));
    ec.retry_ns = 500u;
    entropy_up(f, &e, &s, &ec, SVD_XPORT_PCI);
    s.fail = 2u;
    tg_mem_fill(&f->mem, BUF, 64u, 0x00u);
    offer(f, 0u, 0u, 64u);
    assert_true(svd_is_ok(tg_vdrv_notify(&f->drv, 0u)));
    assert_int_equal(f->drv.fx.deadline, T0 + 500u);
    assert_false(f->drv.fx.irq_level);
    assert_int_equal(f->drv.fx.queue_notify, 0u);
    svd_vdev_tick(&f->v, T0 + 500u, &f->fx); /* still dry */
    assert_int_equal(f->fx.deadline, T0 + 1000u);
    assert_true(tg_mem_all(&f->mem, BUF, 64u, 0x00u));
    svd_vdev_tick(&f->v, T0 + 1000u, &f->fx);
    assert_int_equal(used_len(f, 0u, 0u), 64u);
    assert_true(f->fx.irq_level);
    assert_int_equal(f->fx.deadline, SVD_NO_DEADLINE);
    assert_int_equal(s.calls, 3u);
}

/* -------------------------------------------------------- host-driven */

/* vhost-user: the front-end negotiated and tells the device each queue's
 * configuration; kicks and notifications are edges (no line, no ISR). */
/* REQ: REQ-DEV-010 REQ-DEV-011 REQ-VDEV-004 REQ-VDEV-007.a REQ-VDEV-007.c */
static void test_host_driven_queue_start_kick_stop(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_NONE);
    assert_int_equal(svd_vdev_features(&f->v),
                     SVD_F_VERSION_1 | SVD_F_RING_EVENT_IDX | SVD_F_RING_INDIRECT_DESC | SVD_F_RING_PACKED);
    /* No registers without a transport. */
    uint64_t v = 0x1234u;
    assert_true(svd_is_err(acc(f, SVD_SPACE_MEM, MMIO_BASE, 4u, false, &v), SVD_ERR_BOUNDS));
    assert_int_equal(v, 0u);
    assert_true(svd_is_err(acc(f, SVD_SPACE_PCI_CFG, 0u, 4u, false, &v), SVD_ERR_BOUNDS));
    assert_false(f->fx.irq_level);
    /* Nothing runs before the front-end starts a queue. */
    assert_true(svd_is_err(svd_vdev_kick(&f->v, 0u, T0, &f->fx), SVD_ERR_STATE));
    svd_vq_setup s0;
    svd_vq_setup s1;
    tg_vring_setup(&f->ring[0], true, false, &s0);
    tg_vring_setup(&f->ring[1], false, true, &s1);
    assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &s0, &f->fx)));
    assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 1u, &s1, &f->fx)));
    assert_false(f->fx.failed);
    assert_true(running(f, 0u));
    assert_true(running(f, 1u));
    assert_false(running(f, 2u));
    offer(f, 1u, 3u, 32u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 1u, T0, &f->fx)));
    assert_int_equal(f->fx.queue_notify, 1u << 1); /* the call fd of queue 1 */
    assert_false(f->fx.irq_level);
    assert_false(f->fx.irq_changed);
    assert_int_equal(f->tm.last_index, 1u);
    assert_int_equal(used_len(f, 1u, 3u), 32u);
    offer(f, 0u, 2u, 16u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
    assert_int_equal(f->fx.queue_notify, 1u << 0);
    assert_int_equal(used_len(f, 0u, 2u), 16u);
    /* GET_VRING_BASE: stop and resume where it stopped. */
    uint16_t na = 0xAAAAu;
    uint16_t nu = 0xAAAAu;
    assert_true(svd_is_ok(svd_vdev_queue_stop(&f->v, 1u, &na, &nu)));
    assert_int_equal(na, 1u);
    assert_int_equal(nu, 1u);
    assert_false(running(f, 1u));
    assert_true(running(f, 0u));
    assert_true(svd_is_err(svd_vdev_kick(&f->v, 1u, T0, &f->fx), SVD_ERR_STATE));
    s1.next_avail = na;
    s1.next_used = nu;
    assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 1u, &s1, &f->fx)));
    offer(f, 1u, 4u, 8u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 1u, T0, &f->fx)));
    assert_int_equal(used_len(f, 1u, 4u), 8u);
    /* Reset (the front-end went away): every queue stops. */
    svd_vdev_reset(&f->v, T0, &f->fx);
    assert_true(f->fx.reset);
    assert_false(f->fx.irq_level);
    assert_false(running(f, 0u));
    assert_false(running(f, 1u));
}

/* Requests the model still holds when the front-end stops the queue are
 * handed back in the base it gets, so the next start serves them again
 * instead of losing the guest's buffers. */
/* REQ: REQ-DEV-011 REQ-ENT-017 REQ-VDEV-007.c */
static void test_host_driven_stop_hands_back_requests_in_flight(void **state)
{
    fix *f = *state;
    svd_entropy e;
    src s;
    svd_entropy_cfg ec;
    memset(&ec, 0, sizeof(ec));
    const svd_tb_cfg ops = { 1u, 0u, 1000000u };
    ec.rate_ops = ops;
    entropy_up(f, &e, &s, &ec, SVD_XPORT_NONE);
    svd_vq_setup su;
    tg_vring_setup(&f->ring[0], true, true, &su);
    assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &su, &f->fx)));
    offer(f, 0u, 0u, 64u);
    offer(f, 0u, 1u, 64u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
    assert_int_equal(used_len(f, 0u, 0u), 64u);
    assert_int_equal(f->fx.deadline, T0 + 1000000u); /* head 1 popped and deferred */
    uint16_t na = 0u;
    uint16_t nu = 0u;
    assert_true(svd_is_ok(svd_vdev_queue_stop(&f->v, 0u, &na, &nu)));
    assert_int_equal(na, 1u); /* head 1 handed back, not lost */
    assert_int_equal(nu, 1u);
    /* The timer the shim had armed fires on the stopped queue: nothing. */
    svd_vdev_tick(&f->v, T0 + 1000000u, &f->fx);
    assert_int_equal(f->fx.queue_notify, 0u);
    assert_int_equal(f->fx.deadline, SVD_NO_DEADLINE);
    su.next_avail = na;
    su.next_used = nu;
    assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &su, &f->fx)));
    tg_vring_set_used_event(&f->ring[0], 1u); /* EVENT_IDX: the driver wants to hear of used entry 1 */
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0 + 1000000u, &f->fx)));
    assert_int_equal(used_len(f, 0u, 1u), 64u);
    assert_int_equal(f->fx.queue_notify, 1u);
    assert_int_equal(svd_entropy_stats_of(&e)->requests, 2u);
}

/* GET_VRING_BASE on a running ring (the daemon asks before it stops or
 * resumes): what a stop would report, the queue left running; another
 * transport and an unknown queue are refused with the outputs untouched. */
/* REQ: REQ-VDEV-013 */
static void test_host_driven_queue_base_without_stopping(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_NONE);
    svd_vq_setup s0;
    tg_vring_setup(&f->ring[0], false, false, &s0);
    s0.next_avail = 0u;
    s0.next_used = 0u;
    assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &s0, &f->fx)));
    offer(f, 0u, 0u, 16u);
    offer(f, 0u, 1u, 16u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
    assert_int_equal(f->tm.completed, 2u);
    uint16_t na = 0xAAAAu;
    uint16_t nu = 0xAAAAu;
    assert_true(svd_is_ok(svd_vdev_queue_base(&f->v, 0u, &na, &nu)));
    assert_int_equal(na, 2u);
    assert_int_equal(nu, 2u);
    assert_true(running(f, 0u));
    /* It still serves, and the base follows. */
    offer(f, 0u, 2u, 16u);
    assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
    assert_true(svd_is_ok(svd_vdev_queue_base(&f->v, 0u, &na, &nu)));
    assert_int_equal(na, 3u);
    assert_int_equal(nu, 3u);
    /* The same as the stop reports, and after it. */
    uint16_t sa = 0u;
    uint16_t su = 0u;
    assert_true(svd_is_ok(svd_vdev_queue_stop(&f->v, 0u, &sa, &su)));
    assert_int_equal(sa, na);
    assert_int_equal(su, nu);
    assert_false(running(f, 0u));
    /* Refused: no such queue, then another transport. */
    na = 0xAAAAu;
    nu = 0xAAAAu;
    assert_true(svd_is_err(svd_vdev_queue_base(&f->v, 2u, &na, &nu), SVD_ERR_BOUNDS));
    build(f, SVD_XPORT_MMIO);
    assert_true(svd_is_err(svd_vdev_queue_base(&f->v, 0u, &na, &nu), SVD_ERR_STATE));
    assert_int_equal(na, 0xAAAAu);
    assert_int_equal(nu, 0xAAAAu);
}

/* REQ: REQ-DEV-008 REQ-DEV-014 REQ-VDEV-007.b */
static void test_attack_host_driven_calls_on_the_wrong_transport_or_queue(void **state)
{
    fix *f = *state;
    svd_vq_setup s;
    tg_vring_setup(&f->ring[0], false, false, &s);
    uint16_t na = 0xAAAAu;
    uint16_t nu = 0xAAAAu;
    /* A device with an emulated transport is configured by its guest only. */
    const svd_xport xs[] = { SVD_XPORT_MMIO, SVD_XPORT_PCI };
    for (size_t i = 0; i < 2u; i++) {
        build(f, xs[i]);
        const svd_vdev before = f->v;
        assert_true(svd_is_err(svd_vdev_queue_start(&f->v, 0u, &s, &f->fx), SVD_ERR_STATE));
        assert_true(svd_is_err(svd_vdev_queue_stop(&f->v, 0u, &na, &nu), SVD_ERR_STATE));
        assert_memory_equal(&f->v, &before, sizeof(f->v));
        assert_int_equal(na, 0xAAAAu);
        assert_int_equal(nu, 0xAAAAu);
    }
    build(f, SVD_XPORT_NONE);
    assert_true(svd_is_err(svd_vdev_queue_start(&f->v, 2u, &s, &f->fx), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_vdev_queue_stop(&f->v, 2u, &na, &nu), SVD_ERR_BOUNDS));
    assert_true(svd_is_err(svd_vdev_queue_start(NULL, 0u, &s, &f->fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_vdev_queue_start(&f->v, 0u, NULL, &f->fx), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_vdev_queue_start(&f->v, 0u, &s, NULL), SVD_ERR_INVALID_ARG));
    /* A bad ring is refused with its rule; the device stays usable. */
    svd_vq_setup bad = s;
    bad.used = RAM_GPA + RAM_SIZE - 4u;
    const svd_result r = svd_vdev_queue_start(&f->v, 0u, &bad, &f->fx);
    assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
    assert_int_equal(r.why, SVD_WHY_RING_MEMORY);
    assert_false(f->fx.failed);
    assert_false(latched(&f->v));
    assert_false(running(f, 0u));
    /* A size that is no power of two, and a misaligned descriptor table: the same. */
    bad = s;
    bad.size = 6u;
    const svd_result rs = svd_vdev_queue_start(&f->v, 0u, &bad, &f->fx);
    assert_true(svd_is_err(rs, SVD_ERR_PROTOCOL));
    assert_int_equal(rs.why, SVD_WHY_QUEUE_SIZE);
    assert_false(f->fx.failed);
    assert_false(latched(&f->v));
    assert_false(running(f, 0u));
    bad = s;
    bad.desc = s.desc + 8u;
    const svd_result ra = svd_vdev_queue_start(&f->v, 0u, &bad, &f->fx);
    assert_true(svd_is_err(ra, SVD_ERR_PROTOCOL));
    assert_int_equal(ra.why, SVD_WHY_RING_ALIGN);
    assert_false(f->fx.failed);
    assert_false(latched(&f->v));
    assert_false(running(f, 0u));
    assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &s, &f->fx)));
    /* Started twice. */
    assert_true(svd_is_err(svd_vdev_queue_start(&f->v, 0u, &s, &f->fx), SVD_ERR_STATE));
    assert_true(running(f, 0u));
}

/* ----------------------------------------------------------------- reset */

/* A host-initiated reset (guest reboot) on each transport: the device, its
 * queues, the model and the transport registers, with the line lowered and
 * (PCI) the BAR gone. */
/* REQ: REQ-DEV-003 REQ-MMIO-012 REQ-PCI-015 REQ-VDEV-009 */
static void test_reset_by_the_host_on_each_transport(void **state)
{
    fix *f = *state;
    const svd_xport xs[] = { SVD_XPORT_MMIO, SVD_XPORT_PCI };
    for (size_t i = 0; i < 2u; i++) {
        tg_model_init(&f->tm);
        (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
        up(f, xs[i], 0u);
        offer(f, 0u, 0u, 8u);
        assert_true(svd_is_ok(tg_vdrv_notify(&f->drv, 0u)));
        assert_true(f->drv.fx.irq_level);
        const uint32_t resets = f->tm.resets;
        svd_vdev_reset(&f->v, T0 + 1u, &f->fx);
        assert_true(f->fx.reset);
        assert_true(f->fx.irq_changed);
        assert_false(f->fx.irq_level);
        assert_int_equal(f->fx.bars_changed, xs[i] == SVD_XPORT_PCI);
        assert_int_equal(f->fx.deadline, SVD_NO_DEADLINE);
        assert_int_equal(f->tm.resets, resets + 1u);
        assert_int_equal(svd_vdev_status(&f->v), 0u);
        assert_false(running(f, 0u));
        /* The guest comes up again from scratch. */
        (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
        f->drv.errors = 0u;
        assert_true(tg_vdrv_up(&f->drv, SVD_F_VERSION_1, f->ring, 1u));
    }
}

/* The first rule broken latches NEEDS_RESET and is kept, whatever the guest
 * does next, until a reset: by the driver (status 0) or by the host. */
/* REQ: REQ-DEV-006 REQ-DEV-015 REQ-VDEV-006.a REQ-VDEV-006.b REQ-VDEV-006.c REQ-VQ-004 */
static void test_attack_sticky_failure_keeps_its_first_reason_until_reset(void **state)
{
    fix *f = *state;
    for (int host = 0; host < 2; host++) {
        tg_model_init(&f->tm);
        (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
        up(f, SVD_XPORT_MMIO, 0u);
        tg_vring_set_avail_idx(&f->ring[0], (uint16_t)(QSIZE + 1u)); /* rust-vmm #196 */
        const svd_result r = tg_vdrv_notify(&f->drv, 0u);
        assert_true(svd_is_err(r, SVD_ERR_PROTOCOL));
        assert_int_equal(r.why, SVD_WHY_AVAIL_JUMP);
        assert_true(f->drv.fx.failed);
        assert_int_equal(f->drv.fx.why, SVD_WHY_AVAIL_JUMP);
        assert_true(f->drv.fx.config_notify);
        assert_true(f->drv.fx.irq_level);
        assert_true(latched(&f->v));
        assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_AVAIL_JUMP);
        assert_false(running(f, 0u));
        /* More rules broken, more notifications: the reason stays, no new latch. */
        assert_true(svd_is_err(tg_vdrv_set_status(&f->drv, SVD_STATUS_ACKNOWLEDGE), SVD_ERR_PROTOCOL));
        assert_false(f->drv.fx.failed);
        assert_true(svd_is_err(tg_vdrv_notify(&f->drv, 0u), SVD_ERR_STATE));
        assert_true(svd_is_err(svd_vdev_kick(&f->v, 0u, T0, &f->fx), SVD_ERR_STATE));
        svd_vdev_tick(&f->v, T0 + 10u, &f->fx);
        assert_false(f->fx.failed);
        assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_AVAIL_JUMP);
        assert_true((tg_vdrv_status(&f->drv) & SVD_STATUS_NEEDS_RESET) != 0u);
        assert_int_equal(f->tm.serves, 1u);
        /* Only a reset clears it. */
        if (host == 0) {
            assert_true(svd_is_ok(tg_vdrv_set_status(&f->drv, 0u)));
            assert_true(f->drv.fx.reset);
        } else {
            svd_vdev_reset(&f->v, T0, &f->fx);
            assert_true(f->fx.reset);
        }
        assert_false(latched(&f->v));
        assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_NONE);
    }
}

/* A model failure on one queue of a two-queue device latches as a guest
 * error does: the call's effect names the model's reason, both queues stop,
 * the model is told to drop the pending work of every queue, and the
 * deadline that work had is gone (a tick at it serves nothing). */
/* REQ: REQ-VDEV-006.a REQ-VDEV-006.b REQ-VDEV-006.d REQ-VDEV-006.e */
static void test_model_failure_stops_every_queue_and_drops_pending_work(void **state)
{
    fix *f = *state;
    tg_model_init(&f->tm);
    (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
    (void)tg_vring_init(&f->ring[1], &f->mem, QSIZE, RAM_GPA + 0x1000u);
    build(f, SVD_XPORT_MMIO);
    assert_true(tg_vdrv_up(&f->drv, SVD_F_VERSION_1, f->ring, 2u));
    /* Queue 1 has a request pending, waiting for a deadline. */
    f->tm.hold = true;
    f->tm.wake_at = T0 + 1000u;
    offer(f, 1u, 0u, 8u);
    assert_true(svd_is_ok(tg_vdrv_notify(&f->drv, 1u)));
    assert_int_equal(f->drv.fx.deadline, T0 + 1000u);
    /* The model gives up on queue 0. */
    f->tm.hold = false;
    f->tm.wake_at = SVD_NO_DEADLINE;
    f->tm.fail = svd_fail_why(SVD_ERR_SOURCE, SVD_WHY_SOURCE_GAVE_UP);
    offer(f, 0u, 0u, 8u);
    const uint32_t resets = f->tm.resets;
    assert_true(svd_is_err(tg_vdrv_notify(&f->drv, 0u), SVD_ERR_SOURCE));
    assert_true(f->drv.fx.failed);
    assert_int_equal(f->drv.fx.why, SVD_WHY_SOURCE_GAVE_UP);
    assert_true(latched(&f->v));
    assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_SOURCE_GAVE_UP);
    assert_false(running(f, 0u));
    assert_false(running(f, 1u));
    assert_int_equal(f->tm.resets, resets + 1u);
    assert_int_equal(f->tm.last_reset, SVD_MODEL_ALL_QUEUES);
    assert_int_equal(f->drv.fx.deadline, SVD_NO_DEADLINE);
    f->tm.fail = svd_ok();
    const uint32_t serves = f->tm.serves;
    svd_vdev_tick(&f->v, T0 + 1000u, &f->fx);
    assert_int_equal(f->tm.serves, serves);
    assert_false(f->fx.failed);
}

/* ------------------------------------------- a second device: one model */

/* A toy device with two independent queues, to show that a new virtio
 * device is a new svd_model and nothing else: device ID 63, one
 * device-specific feature, four bytes of configuration (a version).
 * requestq (0): each request has a readable part and a 4-byte writable
 * part; the device writes the sum of the readable bytes.
 * statq (1): each request gets the number of requests served on queue 0. */
typedef struct toy {
    uint32_t sums;   /* requests served on the requestq */
    uint32_t resets;
    svd_vq_chain c;
    svd_vq_desc segs[4];
} toy;

#define TOY_ID 63u
#define TOY_F_SUM64 (UINT64_C(1) << 0)
static const uint8_t toy_cfg[4] = { 1u, 0u, 0u, 0u };

static uint32_t toy_answer(toy *t, uint32_t index, const svd_gmem *m)
{
    if (index == 1u) {
        return t->sums;
    }
    uint32_t sum = 0u;
    for (uint32_t i = 0u; i < t->c.nsegs; i++) {
        if ((t->segs[i].flags & SVD_VRING_DESC_F_WRITE) != 0u) {
            continue;
        }
        for (uint32_t k = 0u; k < t->segs[i].len; k++) {
            svd_span b = { NULL, 0u };
            if (svd_is_ok(svd_gmem_translate(m, t->segs[i].addr + k, 1u, SVD_GMEM_READ, &b))) {
                sum += b.ptr[0];
            }
        }
    }
    t->sums++;
    return sum;
}

static svd_result toy_serve(void *ctx, svd_vq *q, uint32_t index, const svd_gmem *m, uint64_t now,
                            const svd_budget *budget, uint64_t *wake_at)
{
    toy *t = ctx;
    (void)now;
    (void)budget; /* a few bytes per request: far below any budget */
    *wake_at = SVD_NO_DEADLINE;
    for (;;) {
        svd_vq_chain_init(&t->c, t->segs, 4u);
        const svd_result r = svd_vq_pop(q, m, &t->c);
        if (svd_is_err(r, SVD_ERR_EMPTY)) {
            return svd_ok();
        }
        SVD_GUARD(r);
        const uint32_t answer = toy_answer(t, index, m);
        uint32_t written = 0u;
        for (uint32_t i = 0u; i < t->c.nsegs && written == 0u; i++) {
            if ((t->segs[i].flags & SVD_VRING_DESC_F_WRITE) != 0u && t->segs[i].len >= 4u) {
                const uint8_t le[4] = { (uint8_t)answer, (uint8_t)(answer >> 8), (uint8_t)(answer >> 16),
                                        (uint8_t)(answer >> 24) };
                svd_span out = { NULL, 0u };
                SVD_GUARD(svd_gmem_translate(m, t->segs[i].addr, 4u, SVD_GMEM_WRITE, &out));
                memcpy(out.ptr, le, sizeof(le));
                written = 4u;
            }
        }
        SVD_GUARD(svd_vq_push(q, m, &t->c, written));
    }
}

static void toy_reset(void *ctx, uint32_t index)
{
    toy *t = ctx;
    (void)index; /* the toy holds no request between calls */
    t->resets++;
}

static void toy_model(toy *t, svd_model *m)
{
    memset(t, 0, sizeof(*t));
    memset(m, 0, sizeof(*m));
    m->device_id = TOY_ID;
    m->device_features = TOY_F_SUM64;
    m->num_queues = 2u;
    m->queue_max = 16u;
    m->config = toy_cfg;
    m->config_len = sizeof(toy_cfg);
    m->serve = toy_serve;
    m->reset = toy_reset;
    m->ctx = t;
}

/* requestq entry @head: 3 readable bytes (1, 2, 3) then a 4-byte answer. */
static uint64_t toy_request(fix *f, uint16_t head)
{
    tg_vring *r = &f->ring[0];
    const uint64_t data = BUF + 0x40u * head;
    const uint8_t bytes[3] = { 1u, 2u, (uint8_t)(3u + head) };
    memcpy(tg_mem_ptr(&f->mem, data), bytes, sizeof(bytes));
    tg_vring_set_desc(r, (uint16_t)(2u * head), data, 3u, SVD_VRING_DESC_F_NEXT, (uint16_t)(2u * head + 1u));
    tg_vring_set_desc(r, (uint16_t)(2u * head + 1u), data + 0x20u, 4u, SVD_VRING_DESC_F_WRITE, 0u);
    tg_vring_publish(r, (uint16_t)(2u * head));
    return data + 0x20u;
}

static uint32_t le32_at(fix *f, uint64_t gpa)
{
    const uint8_t *p = tg_mem_ptr(&f->mem, gpa);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The same model on virtio-mmio, virtio-pci and host-driven: identity,
 * feature, configuration, both queues served by index, interrupts. */
/* REQ: REQ-DEV-001 REQ-DEV-002 REQ-DEV-011 REQ-VDEV-008 */
static void test_a_new_device_is_a_new_model_and_nothing_else(void **state)
{
    fix *f = *state;
    const svd_xport xs[] = { SVD_XPORT_MMIO, SVD_XPORT_PCI, SVD_XPORT_NONE };
    for (size_t i = 0; i < 3u; i++) {
        toy t;
        svd_vdev_cfg c = cfg_of(f, xs[i]);
        toy_model(&t, &c.model);
        c.pci.subsystem_id = TOY_ID;
        assert_true(svd_is_ok(svd_vdev_init(&f->v, &c, &f->mem.map)));
        (void)tg_vring_init(&f->ring[0], &f->mem, QSIZE, RAM_GPA);
        (void)tg_vring_init(&f->ring[1], &f->mem, QSIZE, RAM_GPA + 0x1000u);
        tg_vdrv_init(&f->drv, &f->v, xs[i], xs[i] == SVD_XPORT_MMIO ? MMIO_BASE : BAR_A);
        assert_int_equal(svd_vdev_features(&f->v) & TOY_F_SUM64, TOY_F_SUM64);
        if (xs[i] == SVD_XPORT_NONE) {
            svd_vq_setup s;
            for (uint32_t q = 0u; q < 2u; q++) {
                tg_vring_setup(&f->ring[q], false, false, &s);
                assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, q, &s, &f->fx)));
            }
        } else {
            assert_true(tg_vdrv_up(&f->drv, SVD_F_VERSION_1 | TOY_F_SUM64, f->ring, 2u));
            if (xs[i] == SVD_XPORT_MMIO) {
                assert_int_equal(tg_vdrv_rd(&f->drv, SVD_MMIO_DEVICE_ID, 4u), TOY_ID);
                assert_int_equal(tg_vdrv_rd(&f->drv, SVD_MMIO_CONFIG_OFFSET, 4u), 1u);
                assert_int_equal(tg_vdrv_rd(&f->drv, SVD_MMIO_QUEUE_NUM_MAX, 4u), 16u); /* queue 1 selected last */
            } else {
                assert_int_equal(tg_vdrv_cfg_rd(&f->drv, 0x02u, 2u), SVD_PCI_DEVICE_ID_BASE + TOY_ID);
                assert_int_equal(tg_vdrv_rd(&f->drv, SVD_PCI_DEVICE_OFF, 4u), 1u);
                assert_int_equal(tg_vdrv_rd(&f->drv, SVD_PCI_COMMON_OFF + PC_NUMQ, 2u), 2u);
            }
        }
        const uint64_t a0 = toy_request(f, 0u);
        const uint64_t a1 = toy_request(f, 1u);
        svd_fx *fx = &f->fx;
        if (xs[i] == SVD_XPORT_NONE) {
            assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, fx)));
        } else {
            assert_true(svd_is_ok(tg_vdrv_notify(&f->drv, 0u)));
            fx = &f->drv.fx;
            assert_true(fx->irq_level);
        }
        assert_int_equal(fx->queue_notify, 1u);
        assert_int_equal(le32_at(f, a0), 6u);
        assert_int_equal(le32_at(f, a1), 7u);
        assert_int_equal(used_len(f, 0u, 0u), 4u);
        assert_int_equal(used_len(f, 0u, 2u), 4u);
        /* The second queue, served by its own index. */
        tg_vring_set_desc(&f->ring[1], 5u, BUF + 0x1800u, 4u, SVD_VRING_DESC_F_WRITE, 0u);
        tg_vring_publish(&f->ring[1], 5u);
        if (xs[i] == SVD_XPORT_NONE) {
            assert_true(svd_is_ok(svd_vdev_kick(&f->v, 1u, T0, fx)));
        } else {
            assert_true(svd_is_ok(tg_vdrv_notify(&f->drv, 1u)));
        }
        assert_int_equal(fx->queue_notify, 1u << 1);
        assert_int_equal(le32_at(f, BUF + 0x1800u), 2u);
        assert_int_equal(used_len(f, 1u, 5u), 4u);
        assert_int_equal(t.sums, 2u);
        const uint32_t resets = t.resets;
        svd_vdev_reset(&f->v, T0, &f->fx);
        assert_int_equal(t.resets, resets + 1u);
        if (xs[i] != SVD_XPORT_NONE) {
            assert_int_equal(f->drv.errors, 0u);
        }
    }
}

/* ---------------------------------------------------------------- face */

/* The value of a write is its low @width bytes (vdev.h) on every path: a
 * shim that hands over a 64-bit register with stale upper bytes still
 * writes what the guest wrote. */
/* REQ: REQ-MMIO-014 REQ-VDEV-003 */
static void test_write_value_is_its_low_width_bytes_on_every_path(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_MMIO);
    uint64_t v = UINT64_C(0xdeadbeef00000000) | SVD_STATUS_ACKNOWLEDGE;
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, MMIO_BASE + SVD_MMIO_STATUS, 4u, true, &v)));
    assert_int_equal(svd_vdev_status(&f->v), SVD_STATUS_ACKNOWLEDGE);
    build(f, SVD_XPORT_PCI);
    v = UINT64_C(0xffffffff00000000) | (uint32_t)BAR_A;
    assert_true(svd_is_ok(acc(f, SVD_SPACE_PCI_CFG, 0x10u, 4u, true, &v)));
    v = UINT64_C(0xffffffffffff0000) | SVD_PCI_CMD_MEMORY;
    assert_true(svd_is_ok(acc(f, SVD_SPACE_PCI_CFG, 0x04u, 2u, true, &v)));
    assert_int_equal(tg_vdrv_cfg_rd(&f->drv, 0x04u, 2u), SVD_PCI_CMD_MEMORY);
    v = UINT64_C(0xffffffffffffff00) | SVD_STATUS_ACKNOWLEDGE;
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, BAR_A + PC_STATUS, 1u, true, &v)));
    assert_int_equal(svd_vdev_status(&f->v), SVD_STATUS_ACKNOWLEDGE);
    v = UINT64_C(0xffffffffffff0000) | 1u; /* queue_select = 1 */
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, BAR_A + 0x16u, 2u, true, &v)));
    assert_int_equal(tg_vdrv_rd(&f->drv, 0x16u, 2u), 1u);
    /* A 64-bit field takes all eight bytes. */
    assert_true(svd_is_ok(tg_vdrv_wr(&f->drv, PC_STATUS, 1u, 0x03u)));
    tg_vdrv_set_features(&f->drv, SVD_F_VERSION_1);
    assert_true(svd_is_ok(tg_vdrv_wr(&f->drv, PC_STATUS, 1u, 0x0bu)));
    v = UINT64_C(0x1122334455667780);
    assert_true(svd_is_ok(acc(f, SVD_SPACE_MEM, BAR_A + 0x20u, 8u, true, &v)));
    assert_int_equal(tg_vdrv_rd(&f->drv, 0x20u, 8u), UINT64_C(0x1122334455667780));
}

/* REQ: REQ-MMIO-015 REQ-PCI-016 REQ-VDEV-002 */
static void test_attack_null_arguments_at_the_face(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_MMIO);
    const svd_vdev before = f->v;
    uint64_t v = 0u;
    assert_true(svd_is_err(svd_vdev_access(NULL, SVD_SPACE_MEM, MMIO_BASE, 4u, false, &v, T0, &f->fx),
                           SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_vdev_access(&f->v, SVD_SPACE_MEM, MMIO_BASE, 4u, false, NULL, T0, &f->fx),
                           SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_vdev_access(&f->v, SVD_SPACE_MEM, MMIO_BASE, 4u, false, &v, T0, NULL),
                           SVD_ERR_INVALID_ARG));
    assert_memory_equal(&f->v, &before, sizeof(f->v));
}

/* The same fields, whatever the records held before: none is left out.
 * (Compared field by field: padding carries no meaning.) */
static void same_fields(const svd_fx *a, const svd_fx *b)
{
    assert_int_equal(a->irq_level, b->irq_level);
    assert_int_equal(a->irq_changed, b->irq_changed);
    assert_int_equal(a->queue_notify, b->queue_notify);
    assert_int_equal(a->config_notify, b->config_notify);
    assert_int_equal(a->reset, b->reset);
    assert_int_equal(a->failed, b->failed);
    assert_int_equal(a->why, b->why);
    assert_int_equal(a->fired, b->fired);
    assert_int_equal(a->action, b->action);
    assert_int_equal(a->fires, b->fires);
    assert_int_equal(a->bars_changed, b->bars_changed);
    assert_int_equal(a->deadline, b->deadline);
}

/* Whatever a previous call left (or an uninitialised stack slot holds),
 * the effect every face call starts from asks for nothing: line low and
 * unchanged, no notification, no reset, no latch, nothing fired, no BAR
 * change, no deadline. */
/* REQ: REQ-VDEV-001 */
static void test_clear_effect_means_nothing_to_do(void **state)
{
    (void)state;
    svd_fx fx;
    memset(&fx, 0xA5, sizeof(fx));
    svd_fx_reset(&fx);
    assert_false(fx.irq_level);
    assert_false(fx.irq_changed);
    assert_int_equal(fx.queue_notify, 0u);
    assert_false(fx.config_notify);
    assert_false(fx.reset);
    assert_false(fx.failed);
    assert_int_equal(fx.why, SVD_WHY_NONE);
    assert_false(fx.fired);
    assert_int_equal(fx.action, SVD_WDT_ACTION_RESET);
    assert_int_equal(fx.fires, 0u);
    assert_false(fx.bars_changed);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    assert_int_equal(SVD_NO_DEADLINE, UINT64_MAX);
}

/* REQ: REQ-VDEV-001 */
static void test_clear_effect_leaves_no_field_behind(void **state)
{
    (void)state;
    svd_fx a;
    svd_fx b;
    memset(&a, 0x00, sizeof(a));
    memset(&b, 0xFF, sizeof(b));
    svd_fx_reset(&a);
    svd_fx_reset(&b);
    same_fields(&a, &b);
    /* A record that asked for everything, cleared, asks for nothing. */
    b.irq_level = true;
    b.irq_changed = true;
    b.queue_notify = 3u;
    b.config_notify = true;
    b.reset = true;
    b.failed = true;
    b.why = SVD_WHY_CHAIN_LOOP;
    b.fired = true;
    b.action = SVD_WDT_ACTION_DUMP;
    b.fires = 9u;
    b.bars_changed = true;
    b.deadline = 5u;
    svd_fx_reset(&b);
    same_fields(&a, &b);
    /* Clearing twice is the same as once. */
    svd_fx_reset(&a);
    same_fields(&a, &b);
}

/* A shim may hand every call the same record, or an uninitialised one:
 * each face call (access, queue start, kick, tick, reset) starts from the
 * clear effect, so a call with nothing to report reports nothing stale. */
/* REQ: REQ-VDEV-001 */
static void test_every_face_call_starts_from_a_clear_effect(void **state)
{
    fix *f = *state;
    build(f, SVD_XPORT_NONE);
    svd_vq_setup s;
    tg_vring_setup(&f->ring[0], false, false, &s);
    svd_fx clear;
    svd_fx_reset(&clear);
    for (int call = 0; call < 5; call++) {
        uint64_t v = 0u;
        memset(&f->fx, 0xA5, sizeof(f->fx));
        switch (call) {
        case 0:
            assert_true(svd_is_err(acc(f, SVD_SPACE_MEM, MMIO_BASE, 4u, false, &v), SVD_ERR_BOUNDS));
            break;
        case 1:
            assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &s, &f->fx)));
            break;
        case 2:
            assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0, &f->fx)));
            break;
        case 3:
            svd_vdev_tick(&f->v, T0, &f->fx);
            break;
        default:
            svd_vdev_reset(&f->v, T0, &f->fx);
            clear.reset = true; /* the one thing a reset reports */
            break;
        }
        same_fields(&f->fx, &clear);
    }
    assert_int_equal(f->tm.serves, 1u);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* The product composition with packed rings, on every transport: the
 * driver negotiates VIRTIO_F_RING_PACKED (virtio-mmio, virtio-pci) or the
 * host starts the queue packed (vhost-user's path), and the unchanged
 * entropy model serves buffers through several laps of the ring; the
 * interrupt follows the driver's event suppression. */
/* REQ: REQ-VQ-111 REQ-DEV-002 REQ-DEV-009 */
static void test_entropy_over_packed_rings_on_every_transport(void **state)
{
    const svd_xport all[] = { SVD_XPORT_NONE, SVD_XPORT_MMIO, SVD_XPORT_PCI };
    fix *f = *state;
    for (size_t k = 0; k < 3u; k++) {
        const svd_xport x = all[k];
        svd_entropy e;
        src s;
        svd_entropy_cfg ec;
        tg_pring pr;
        memset(&ec, 0, sizeof(ec));
        memset(&s, 0, sizeof(s));
        s.next = 1u;
        ec.source.read = src_read;
        ec.source.ctx = &s;
        assert_true(svd_is_ok(svd_entropy_init(&e, &ec, T0)));
        uint8_t b[SVD_HEALTH_STARTUP_SAMPLES];
        for (size_t i = 0; i < sizeof(b); i++) {
            b[i] = (uint8_t)(i * 7u + 1u);
        }
        assert_true(svd_is_err(svd_health_feed(&e.health, b, sizeof(b), NULL), SVD_ERR_AGAIN));
        svd_vdev_cfg vc = cfg_of(f, x);
        svd_entropy_model(&e, &vc.model);
        vc.pci.subsystem_id = SVD_ENTROPY_DEVICE_ID;
        assert_true(svd_is_ok(svd_vdev_init(&f->v, &vc, &f->mem.map)));
        tg_vdrv_init(&f->drv, &f->v, x, x == SVD_XPORT_MMIO ? MMIO_BASE : BAR_A);
        f->drv.now = T0;
        (void)tg_pring_init(&pr, &f->mem, QSIZE, RAM_GPA + 0x2000u);
        const uint64_t feats = SVD_F_VERSION_1 | SVD_F_RING_PACKED | SVD_F_RING_EVENT_IDX;
        assert_true((svd_vdev_features(&f->v) & feats) == feats);
        if (x == SVD_XPORT_NONE) {
            svd_vq_setup su;
            tg_pring_setup(&pr, true, false, &su);
            assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &su, &f->fx)));
            uint16_t na = 0u;
            uint16_t nu = 0u;
            assert_true(svd_is_ok(svd_vdev_queue_stop(&f->v, 0u, &na, &nu)));
            assert_int_equal(na, SVD_VQ_WRAP_BIT);
            su.resync = true; /* a fresh ring's start can be right: kept */
            assert_true(svd_is_ok(svd_vdev_queue_start(&f->v, 0u, &su, &f->fx)));
        } else {
            /* The transports' queue registers name the three areas. */
            tg_vring view;
            memset(&view, 0, sizeof(view));
            view.mem = &f->mem;
            view.size = QSIZE;
            view.desc = pr.desc;
            view.avail = pr.driver;
            view.used = pr.device;
            assert_true(tg_vdrv_up(&f->drv, feats, &view, 1u));
        }
        for (uint32_t i = 0; i < 3u * QSIZE; i++) {
            const tg_pbuf one = { BUF, 64u, true };
            const uint16_t id = (uint16_t)((i * 3u) % QSIZE);
            memset(tg_mem_ptr(&f->mem, BUF), 0, 64u);
            tg_pring_add(&pr, &one, 1u, id);
            /* Ask to hear of every completion. */
            tg_pring_set_driver_event(&pr, pr.used, SVD_VRING_PACKED_EVENT_DESC);
            f->drv.now = T0 + i;
            assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0 + i, &f->fx)));
            assert_int_equal(f->fx.queue_notify, 1u);
            uint16_t got;
            uint32_t len;
            uint16_t fl;
            assert_true(tg_pring_get_used(&pr, &got, &len, &fl));
            assert_int_equal(got, id);
            assert_int_equal(len, 64u);
            assert_true(!tg_mem_all(&f->mem, BUF, 64u, 0u));
            if (x != SVD_XPORT_NONE) {
                assert_true(f->fx.irq_level);
                assert_int_equal(tg_vdrv_take_irq(&f->drv) & SVD_ISR_QUEUE, SVD_ISR_QUEUE);
            }
        }
        /* The driver suppresses: served, no notification. */
        const tg_pbuf one = { BUF, 64u, true };
        tg_pring_add(&pr, &one, 1u, 0u);
        tg_pring_set_driver_event(&pr, 0u, SVD_VRING_PACKED_EVENT_DISABLE);
        assert_true(svd_is_ok(svd_vdev_kick(&f->v, 0u, T0 + 100u, &f->fx)));
        assert_int_equal(f->fx.queue_notify, 0u);
        assert_int_equal(svd_entropy_stats_of(&e)->requests, 3u * QSIZE + 1u);
        assert_int_equal(svd_vdev_why(&f->v), SVD_WHY_NONE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_refuses_what_cannot_be_built),
        T(test_pci_msix_modes_in_linux_order),
        T(test_mmio_decodes_its_window_at_guest_physical_addresses),
        T(test_attack_mmio_addresses_outside_the_window_and_other_spaces),
        T(test_pci_decodes_config_space_and_bar0_where_the_guest_put_it),
        T(test_attack_pci_bar_decoding_off_unassigned_or_out_of_range),
        T(test_notify_write_runs_the_model_and_raises_the_line_in_the_same_call),
        T(test_kick_outside_the_registers),
        T(test_deferred_request_comes_back_at_its_deadline),
        T(test_starved_source_comes_back_at_its_deadline),
        T(test_host_driven_queue_start_kick_stop),
        T(test_host_driven_stop_hands_back_requests_in_flight),
        T(test_host_driven_queue_base_without_stopping),
        T(test_attack_host_driven_calls_on_the_wrong_transport_or_queue),
        T(test_reset_by_the_host_on_each_transport),
        T(test_attack_sticky_failure_keeps_its_first_reason_until_reset),
        T(test_model_failure_stops_every_queue_and_drops_pending_work),
        T(test_a_new_device_is_a_new_model_and_nothing_else),
        T(test_write_value_is_its_low_width_bytes_on_every_path),
        T(test_attack_null_arguments_at_the_face),
        T(test_clear_effect_means_nothing_to_do),
        T(test_clear_effect_leaves_no_field_behind),
        T(test_every_face_call_starts_from_a_clear_effect),
        T(test_entropy_over_packed_rings_on_every_transport),
    };
    return cmocka_run_group_tests_name("vdev", tests, NULL, NULL);
}
