/*
 * vdev-svd-virtio-entropy.so: the safevdev virtio-entropy device for QNX qvm.
 *
 * The adapter frame (qvm_frame.c) is the vdev; this file is the device's
 * table and the few functions only it has. One instance per
 * `vdev svd-virtio-entropy` line, its whole state in the instance block.
 *
 * Transport: the type of the location qvm hands the device (v_block.type):
 * virtio-pci (modern) for a PCI location (no `loc`, the default, or `loc
 * pci:...`), virtio-mmio for a memory location (`loc ADDR`), which also needs
 * `intr`. The PCI function offers MSI-X (the frame sends the messages with
 * guest_msi_signal()); a virtio-mmio instance describes itself at GEN_FDT
 * (FDT guests) and GEN_ACPI (ACPI guests). The composed core engine (svd_vdev: transport + device + queue +
 * entropy model) decodes every register access and serves the queue itself;
 * the frame applies what it reports. Guest memory is mapped with
 * gasp_map_vdma() from the `dma` windows into an svd_gmem the engine reads
 * through. Entropy comes, non-blocking, from /dev/random on QNX (what QNX's
 * own virtio-entropy reads; getrandom() is on no QNX page) and from
 * getrandom(2) elsewhere.
 *
 * Options (values are checked whole; the first bad one fails OPTIONS_END with
 * a log line naming it; numbers are decimal or 0x hex, safevdev/parse.h):
 *   delayed N|forever  QNX's option: open the source at the guest's first
 *                      request; it may stay unavailable N seconds
 *                      (1..86400) / forever, then NEEDS_RESET
 * Our extensions (QNX's virtio-entropy has none of them):
 *   rate-bytes N       bytes per second, 0 (unlimited, default) .. 2^30
 *   rate-burst N       one-time extra bytes, 0..2^30; needs rate-bytes
 *   rate-ops N         requests per second, 0 (unlimited, default) .. 2^30
 *   rate-ops-burst N   one-time extra requests, 0..2^30; needs rate-ops
 *   dma BASE,SIZE      guest-physical window the device may read/write
 *                      (repeatable, up to 4; default 0x0,0x40000000)
 * The rate options are the core's (safevdev/ratelimit.h), the same names,
 * ranges and meaning as the vhost-user daemon's. loc and intr are qvm's
 * common options: qvm fills v_block / v_intr.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The entropy source: /dev/random on QNX, getrandom(2) elsewhere. */
#ifndef SVD_ENT_DEVRANDOM
#if defined(__QNXNTO__)
#define SVD_ENT_DEVRANDOM 1
#else
#define SVD_ENT_DEVRANDOM 0
#endif
#endif
#if SVD_ENT_DEVRANDOM
#include <fcntl.h>
#include <unistd.h>
#else
#include <sys/random.h>
#endif

#include "qvm_frame.h"
#include "safevdev/aml.h"
#include "safevdev/entropy.h"
#include "safevdev/fdt.h"
#include "safevdev/mmio.h"
#include "safevdev/parse.h"
#include "safevdev/pci.h"
#include "safevdev/ratelimit.h"
#include "safevdev/vdev.h"

#define VDEV_NAME "svd-virtio-entropy"
#define ENT_QUEUE_MAX 64u
#define ENT_DELAY_MAX_S 86400u
#define ENT_DEFAULT_DMA_SIZE UINT64_C(0x40000000)
#define ENT_MMIO_VENDOR 0x554d4551u /* "QEMU", what Linux guests see from QEMU's virtio-mmio */
#define NS_PER_S UINT64_C(1000000000)
/* One device's SSDT (svd_aml_ssdt's bound for n = 1). */
#define ENT_ACPI_MAX (SVD_AML_HEADER_LEN + 16u + SVD_AML_MAX_DEVICE)

enum {
    OPT_DELAYED = 0,
    OPT_RATE_BYTES,
    OPT_RATE_BURST,
    OPT_RATE_OPS,
    OPT_RATE_OPS_BURST,
    OPT_DMA,
    OPT_COUNT
};

/* The device's part of the instance block. */
typedef struct ent_inst {
    svd_vdev vdev;
    svd_entropy ent;
    svd_gmem gmem;
    svd_qvm_mem mem;
    svd_rate_opts rate;
    uint64_t open_timeout_ns; /* `delayed`: 0 = none, SVD_NO_DEADLINE = forever */
    uint64_t mmio_base;
    bool mmio;
    bool src_open;            /* the source opened (probe succeeded) once */
    int fd;                   /* /dev/random (SVD_ENT_DEVRANDOM), -1 while closed */
    const vdev_t *vdp;        /* the instance, for the health lines of the tick hook (qvm owns it
                                 for the instance's whole life) */
    bool map_failed_logged;
    bool health_failed_logged; /* the source's health tests failed; logged once per episode */
    bool acpi_added;          /* GEN_ACPI handed qvm the table (once per instance) */
    uint8_t acpi[ENT_ACPI_MAX]; /* the SSDT; qvm may keep pointing at its body (nothing says it copies) */
} ent_inst;

static const char *const ent_options[OPT_COUNT + 1] = {
    [OPT_DELAYED] = "delayed",
    [OPT_RATE_BYTES] = "rate-bytes",
    [OPT_RATE_BURST] = "rate-burst",
    [OPT_RATE_OPS] = "rate-ops",
    [OPT_RATE_OPS_BURST] = "rate-ops-burst",
    [OPT_DMA] = "dma",
    [OPT_COUNT] = NULL,
};

/* ---- entropy source ------------------------------------------------------ */

#if SVD_ENT_DEVRANDOM
/* Opening the source is opening /dev/random without blocking; reads never
 * block either (EAGAIN while the pool has nothing). */
static bool source_probe(ent_inst *e)
{
    if (e->fd < 0) {
        e->fd = open("/dev/random", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    }
    return e->fd >= 0;
}

static ssize_t source_get(ent_inst *e, uint8_t *buf, size_t len)
{
    return read(e->fd, buf, len);
}

static void source_close(ent_inst *e)
{
    if (e->fd >= 0) {
        (void)close(e->fd);
        e->fd = -1;
    }
}
#else
/* "Opening" the source is a 1-byte non-blocking probe: it fails while the
 * kernel pool is not initialised (EAGAIN) or getrandom is unavailable. */
static bool source_probe(ent_inst *e)
{
    (void)e;
    uint8_t b = 0;
    ssize_t n = getrandom(&b, 1u, GRND_NONBLOCK);
    return n == 1;
}

static ssize_t source_get(ent_inst *e, uint8_t *buf, size_t len)
{
    (void)e;
    return getrandom(buf, len, GRND_NONBLOCK);
}

static void source_close(ent_inst *e)
{
    (void)e; /* nothing held */
}
#endif

/* The model's source. While it has not opened it probes first; how long
 * that may go on is the model's source-open policy (`delayed`). */
static svd_result source_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    ent_inst *e = ctx;
    *got = 0;
    if (!e->src_open) {
        if (!source_probe(e)) {
            return svd_fail(SVD_ERR_AGAIN);
        }
        e->src_open = true;
    }
    ssize_t n = source_get(e, buf, len);
    if (n > 0) {
        *got = (size_t)n;
        return svd_ok();
    }
    if ((n == 0) || (errno == EAGAIN) || (errno == EINTR)) {
        return svd_fail(SVD_ERR_AGAIN);
    }
    return svd_fail(SVD_ERR_SOURCE);
}

/* ---- guest memory ---------------------------------------------------------- */

/* Map the DMA windows the first time they are needed. */
static void ensure_mapped(const vdev_t *vdp, ent_inst *e)
{
    if (!e->mem.mapped && !svd_is_ok(svd_qvm_mem_map(&e->mem, vdp, &e->gmem)) && !e->map_failed_logged) {
        /* The device then sees no memory: a queue enable latches NEEDS_RESET,
         * which the guest sees. Logged once; later accesses retry quietly. */
        e->map_failed_logged = true;
        svd_qvm_log(vdp, "%s: cannot map the dma window(s) of guest memory", VDEV_NAME);
    }
}

/* ---- options ----------------------------------------------------------------- */

static void opt_delayed(ent_inst *e, const char *value, svd_qvm_badopt *bad)
{
    uint64_t s = 0;
    if ((value != NULL) && (strcmp(value, "forever") == 0)) {
        e->open_timeout_ns = SVD_NO_DEADLINE;
    } else if (svd_is_ok(svd_parse_u64(value, 1u, ENT_DELAY_MAX_S, &s))) {
        e->open_timeout_ns = s * NS_PER_S; /* <= 86400 s: no overflow */
    } else {
        svd_qvm_badopt_set(bad, ent_options[OPT_DELAYED], value, "want seconds 1..86400 or 'forever'");
    }
}

static void opt_rate(ent_inst *e, svd_rate_opt which, const char *value, svd_qvm_badopt *bad)
{
    if (!svd_is_ok(svd_rate_opt_set(&e->rate, which, value))) {
        svd_qvm_badopt_set(bad, svd_rate_opt_name(which), value, svd_rate_opt_expects(which));
    }
}

static void opt_dma(ent_inst *e, const char *value, svd_qvm_badopt *bad)
{
    uint64_t base = 0;
    uint64_t size = 0;
    if (!svd_is_ok(svd_parse_pair(value, &base, &size))) {
        svd_qvm_badopt_set(bad, ent_options[OPT_DMA], value, "want BASE,SIZE");
    } else if (!svd_is_ok(svd_qvm_mem_add(&e->mem, base, size))) {
        svd_qvm_badopt_set(bad, ent_options[OPT_DMA], value, "empty, wrapping, overlapping or more than 4 windows");
    } else {
        /* accepted */
    }
}

/* The rate options are the core's, listed in the core's order. */
_Static_assert(((int)SVD_RATE_BYTES == 0) && (OPT_RATE_BURST - OPT_RATE_BYTES == (int)SVD_RATE_BURST) &&
                   (OPT_RATE_OPS - OPT_RATE_BYTES == (int)SVD_RATE_OPS) &&
                   (OPT_RATE_OPS_BURST - OPT_RATE_BYTES == (int)SVD_RATE_OPS_BURST),
               "ent_options lists the rate options as svd_rate_opt numbers them");

static void ent_start(void *inst)
{
    ent_inst *e = inst;
    e->fd = -1;
}

static void ent_option(void *inst, unsigned idx, const char *value, svd_qvm_badopt *bad)
{
    ent_inst *e = inst;
    if (idx == OPT_DELAYED) {
        opt_delayed(e, value, bad);
    } else if (idx == OPT_DMA) {
        opt_dma(e, value, bad);
    } else {
        /* The frame passes only indices of ent_options: a rate option (any
         * other number would be refused by the core as an unknown option). */
        const unsigned rate = idx - (unsigned)OPT_RATE_BYTES;
        opt_rate(e, (svd_rate_opt)rate, value, bad);
    }
}

/* The buckets of the rate options; a burst without its rate is refused
 * naming the burst and its value. */
static bool rate_buckets(const ent_inst *e, svd_entropy_cfg *ec, svd_qvm_badopt *bad)
{
    svd_rate_opt which = SVD_RATE_BYTES;
    if (svd_is_ok(svd_rate_to_buckets(&e->rate, &ec->rate_bytes, &ec->rate_ops, &which))) {
        return true;
    }
    char v[24];
    (void)snprintf(v, sizeof v, "%llu", (unsigned long long)e->rate.v[which]);
    svd_qvm_badopt_set(bad, svd_rate_opt_name(which), v,
                       (which == SVD_RATE_BURST) ? "needs rate-bytes" : "needs rate-ops");
    return false;
}

/* Cross-option checks and the engine. On failure the block holds nothing
 * that needs releasing (memory is mapped only later). */
static int ent_options_end(vdev_t *vdp, void *inst, svd_qvm_badopt *bad, uint64_t now)
{
    ent_inst *e = inst;
    svd_entropy_cfg ec;
    (void)memset(&ec, 0, sizeof ec);
    e->vdp = vdp;
    e->mmio = SVD_QSB_TYPE(&vdp->v_block) == QST_MEMORY;
    e->mmio_base = vdp->v_block.location;
    if (!rate_buckets(e, &ec, bad)) {
        return EINVAL;
    }
    if (!e->mmio && (SVD_QSB_TYPE(&vdp->v_block) != QST_PCI)) {
        svd_qvm_badopt_set(bad, "loc", "", "want a memory address (virtio-mmio) or pci:... (virtio-pci)");
        return EINVAL;
    }
    if (e->mmio && (e->mmio_base == QSL_NO_LOCATION)) {
        svd_qvm_badopt_set(bad, "loc", "", "a memory location without an address");
        return EINVAL;
    }
    if (e->mmio && (vdp->v_intr.pic == NULL)) {
        svd_qvm_badopt_set(bad, "intr", "", "required when loc is given (virtio-mmio)");
        return EINVAL;
    }
    if (e->mmio && (e->mmio_base > UINT64_MAX - SVD_MMIO_WINDOW_SIZE)) {
        svd_qvm_badopt_set(bad, "loc", "", "the register window would wrap the address space");
        return EINVAL;
    }
    if (e->mem.n == 0u) {
        /* The default window is an assumption about the VM (AOU-005 of the
         * safety manual): said once, so the integrator sees what it rests on. */
        svd_qvm_log(vdp, "%s: no 'dma' option: the device may access guest-physical 0x0..0x%" PRIx64
                   " (default); give 'dma' the guest's RAM windows", VDEV_NAME, ENT_DEFAULT_DMA_SIZE - 1u);
        if (SVD_NEVER(!svd_is_ok(svd_qvm_mem_add(&e->mem, 0u, ENT_DEFAULT_DMA_SIZE)))) {
            return EINVAL; /* an empty table takes any non-wrapping window: not reached */
        }
    }
    if (e->open_timeout_ns == 0u) {
        if (!source_probe(e)) {
            svd_qvm_log(vdp, "%s: entropy source unavailable; use 'delayed' to wait for it", VDEV_NAME);
            return EIO;
        }
        e->src_open = true;
    }
    ec.source.read = source_read;
    ec.source.ctx = e;
    ec.open_timeout_ns = e->open_timeout_ns;
    if (SVD_NEVER(!svd_is_ok(svd_entropy_init(&e->ent, &ec, now)))) {
        svd_qvm_log(vdp, "%s: rate-limit settings refused by the entropy engine", VDEV_NAME);
        return EINVAL; /* the core's rate helper builds valid buckets: not reached */
    }
    svd_vdev_cfg vc;
    (void)memset(&vc, 0, sizeof vc);
    svd_entropy_model(&e->ent, &vc.model);
    vc.model.queue_max = ENT_QUEUE_MAX;
    vc.xport = e->mmio ? SVD_XPORT_MMIO : SVD_XPORT_PCI;
    vc.mmio_base = e->mmio_base;
    vc.mmio_vendor = ENT_MMIO_VENDOR;
    vc.pci.class_code = SVD_PCI_CLASS_RNG;
    vc.pci.subsystem_vendor = SVD_PCI_VENDOR_VIRTIO;
    vc.pci.subsystem_id = (uint16_t)SVD_ENTROPY_DEVICE_ID;
    vc.pci.bar64 = true;
    vc.pci.msix = true; /* messages go out through guest_msi_signal() (the frame) */
    svd_gmem_init(&e->gmem);
    if (SVD_NEVER(!svd_is_ok(svd_vdev_init(&e->vdev, &vc, &e->gmem)))) {
        svd_qvm_log(vdp, "%s: device engine refused its parameters", VDEV_NAME);
        return EINVAL; /* parameters are fixed or checked above: not reached */
    }
    return EOK;
}

/* ---- the engine face ------------------------------------------------------------ */

static void ent_configured(const vdev_t *vdp, void *inst)
{
    ensure_mapped(vdp, inst);
}

/* The source's health tests (in the model) failed, or pass again: said once
 * per episode; requests wait meanwhile. */
static void note_health(ent_inst *e)
{
    const svd_entropy_stats *st = svd_entropy_stats_of(&e->ent);
    const bool failed = st->health_state == SVD_HEALTH_FAILED;
    if (failed && !e->health_failed_logged) {
        svd_qvm_log(e->vdp, "%s: entropy source health test failed (rct %llu, apt %llu): requests wait until 1024 fresh "
                   "bytes pass",
                   VDEV_NAME, (unsigned long long)st->health_rct_failures,
                   (unsigned long long)st->health_apt_failures);
    } else if (!failed && e->health_failed_logged) {
        svd_qvm_log(e->vdp, "%s: entropy source health tests pass again", VDEV_NAME);
    } else {
        /* no change */
    }
    e->health_failed_logged = failed;
}

static svd_result ent_access(const vdev_t *vdp, void *inst, svd_space sp, uint64_t addr, uint32_t width, bool write,
                             uint64_t *val, uint64_t now, svd_fx *fx)
{
    ent_inst *e = inst;
    ensure_mapped(vdp, e);
    const svd_result r = svd_vdev_access(&e->vdev, sp, addr, width, write, val, now, fx);
    note_health(e);
    return r;
}

static void ent_tick(void *inst, uint64_t now, svd_fx *fx)
{
    ent_inst *e = inst;
    svd_vdev_tick(&e->vdev, now, fx);
    note_health(e);
}

static const char *health_name(svd_health_state h)
{
    switch (h) {
    case SVD_HEALTH_OK:
        return "ok";
    case SVD_HEALTH_FAILED:
        return "failed";
    case SVD_HEALTH_STARTUP:
    default:
        return "startup";
    }
}

static int ent_gen_fdt(const vdev_t *vdp, void *inst, int parent)
{
    const ent_inst *e = inst;
    if (!e->mmio) {
        return EOK; /* PCI devices are found by bus enumeration */
    }
    /* `intr gic:N` names a GIC interrupt ID; the node inherits the tree's
     * interrupt-parent. Level: the adapter drives the line with GIS_ON/GIS_OFF
     * for as long as InterruptStatus is non-zero. The device is software on
     * the host CPU, so its accesses to guest memory are coherent. */
    svd_fdt_node n;
    if (!svd_is_ok(svd_fdt_virtio_mmio(&n, e->mmio_base, SVD_MMIO_WINDOW_SIZE, NULL, 0u, 2u, 2u)) ||
        !svd_is_ok(svd_fdt_gic_irq(&n, vdp->v_intr.param & 0xffffu, SVD_IRQ_LEVEL_HIGH, 0u))) {
        svd_qvm_log(vdp, "%s: interrupt %u is not a GIC PPI or SPI (16..1019)", VDEV_NAME, vdp->v_intr.param & 0xffffu);
        return EINVAL;
    }
    n.dma_coherent = true;
    return svd_qvm_fdt_add(vdp, parent, &n, VDEV_NAME);
}

static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* GEN_ACPI (x86 guests): the virtio-mmio device as an SSDT whose Scope
 * (_SB) holds its Device (LNRO0005, _CCA One: the device is host software,
 * coherent), written by the core. qvm's acpi_add_table() takes the header's
 * fields as arguments and the body apart (our reading, docs/qvm-compat.md):
 * the fields are handed over as the core wrote them, so the table the guest
 * gets is the core's but for the OEM and creator IDs qvm writes. The name
 * and _UID come from the window's address (512-byte windows: base / 512 is
 * unique per device, its low 12 bits name it "Vxxx"). */
static int ent_gen_acpi(vdev_t *vdp, void *inst)
{
    ent_inst *e = inst;
    if (!e->mmio || e->acpi_added) {
        return EOK; /* PCI: found by bus enumeration; a repeated GEN_ACPI adds nothing twice */
    }
    static const char hex[] = "0123456789ABCDEF";
    const uint64_t slot = e->mmio_base / SVD_MMIO_WINDOW_SIZE;
    char name[5] = { 'V', hex[(slot >> 8) & 0xfu], hex[(slot >> 4) & 0xfu], hex[slot & 0xfu], '\0' };
    svd_aml_mmio_dev dev;
    (void)memset(&dev, 0, sizeof dev);
    dev.name = name;
    dev.uid = (uint32_t)slot;
    dev.base = (uint32_t)e->mmio_base;
    dev.size = SVD_MMIO_WINDOW_SIZE;
    dev.gsi = vdp->v_intr.param & 0xffffu;
    dev.trigger = SVD_AML_LEVEL; /* the line is a level (GIS_ON while InterruptStatus is non-zero) */
    dev.coherent = true;
    size_t len = 0u;
    if ((e->mmio_base > (UINT64_C(0x100000000) - SVD_MMIO_WINDOW_SIZE)) ||
        !svd_is_ok(svd_aml_ssdt(&dev, 1u, e->acpi, sizeof e->acpi, &len)) ||
        SVD_NEVER(len <= SVD_AML_HEADER_LEN)) {
        svd_qvm_log(vdp, "%s: no ACPI node: the window 0x%" PRIx64 " is not below 4 GiB", VDEV_NAME, e->mmio_base);
        return EINVAL;
    }
    char table_id[9];
    (void)memcpy(table_id, &e->acpi[16], 8u);
    table_id[8] = '\0';
    SVD_ACPI_ADD(vdp, &e->acpi[SVD_AML_HEADER_LEN], len - SVD_AML_HEADER_LEN, le32_at(&e->acpi[0]), e->acpi[8],
                 table_id, le32_at(&e->acpi[24]));
    e->acpi_added = true;
    return EOK;
}

static bool ent_pci_bar0(const void *inst, uint64_t *size, bool *mem64)
{
    const ent_inst *e = inst;
    if (e->mmio) {
        return false;
    }
    *size = SVD_PCI_BAR_SIZE;
    *mem64 = true;
    return true;
}

/* Status byte, why NEEDS_RESET is latched ("none" while it is not), the
 * source's state and the model's totals. */
static void ent_status(const void *inst, uint64_t actions, char *buf, size_t len)
{
    const ent_inst *e = inst;
    (void)actions; /* never fires */
    const svd_entropy_stats *st = svd_entropy_stats_of(&e->ent);
    const char *src = svd_entropy_gave_up(&e->ent) ? "gave-up" : (e->src_open ? "open" : "closed");
    (void)snprintf(buf, len,
                   "status 0x%x why %s source %s requests %llu bytes %llu source-failures %llu deferrals %llu "
                   "health %s health-failures rct %llu apt %llu",
                   (unsigned)svd_vdev_status(&e->vdev), svd_why_name(svd_vdev_why(&e->vdev)), src,
                   (unsigned long long)st->requests, (unsigned long long)st->bytes,
                   (unsigned long long)st->source_failures, (unsigned long long)st->rate_deferrals,
                   health_name(st->health_state), (unsigned long long)st->health_rct_failures,
                   (unsigned long long)st->health_apt_failures);
}

/* Mapped memory goes back to qvm; the engine no longer sees any; the
 * source is closed. */
static void ent_terminate(const vdev_t *vdp, void *inst)
{
    ent_inst *e = inst;
    svd_qvm_mem_unmap(&e->mem, vdp);
    svd_gmem_init(&e->gmem);
    source_close(e);
}

const svd_qvm_dev svd_qvm_device = {
    .name = VDEV_NAME,
    .options = ent_options,
    .factory_flags = VFF_INTR_NONPCI | VFF_VDEV_MEM | VFF_VDEV_PCI,
    .inst_size = (unsigned)sizeof(ent_inst),
    .loc_type = QST_PCI,
    .loc_length = SVD_MMIO_WINDOW_SIZE,
    .start = ent_start,
    .option = ent_option,
    .options_end = ent_options_end,
    .configured = ent_configured,
    .access = ent_access,
    .tick = ent_tick,
    .gen_fdt = ent_gen_fdt,
    .gen_acpi = ent_gen_acpi,
    .pci_bar0 = ent_pci_bar0,
    .status = ent_status,
    .terminate = ent_terminate,
};
