/*
 * vdev-virtio-entropy.so: the safevdev virtio-entropy device for QNX qvm.
 *
 * qvm loads the .so; its constructor registers the factory (the only writable
 * static object in the library). Each `vdev virtio-entropy ...` of a VM
 * configuration becomes one instance whose whole state lives in the
 * instance block qvm allocates (extra_space, reached through v_device).
 *
 * Transport: virtio-pci (modern) unless qvm gave the device a location (`loc`),
 * then virtio-mmio, which also needs `intr`. Register accesses go to the pure
 * transport engines; queue work to the pure entropy model; guest memory is
 * mapped with gasp_map_vdma() into an svd_gmem; the interrupt line is driven
 * with guest_intr_signal(); retries and rate-limit deferrals use one guest
 * timer per instance. Entropy comes from getrandom(2) (non-blocking).
 *
 * Options (values are checked whole; the first bad one fails OPTIONS_END with
 * a log line naming it):
 *   delayed N|forever  open the entropy source on the guest's first request
 *                      and keep retrying up to N seconds (1..86400) / forever
 *   rate-bytes N       bytes per second (1..2^30); absent = unlimited
 *   rate-burst N       one-time extra bytes before the rate applies (0..2^30),
 *                      requires rate-bytes
 *   rate-ops N         requests per second (1..2^30); absent = unlimited
 *   dma BASE,SIZE      guest-physical window the device may read/write
 *                      (repeatable, up to 4; default 0x0,0x40000000)
 * loc and intr are qvm's common options: qvm fills v_block / v_intr.
 *
 * Every callback returns a defined qvm code whatever the core reports: core
 * results are informational for register accesses (the access is complete),
 * and a guest protocol error latches DEVICE_NEEDS_RESET inside the core.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "qvm_common.h"
#include "safevdev/device.h"
#include "safevdev/entropy.h"
#include "safevdev/fdt.h"
#include "safevdev/mmio.h"
#include "safevdev/pci.h"
#include "safevdev/ratelimit.h"

#define VDEV_NAME "virtio-entropy"
#define ENT_MAGIC 0x53564445u      /* "EDVS": the block was set up by OPTIONS_START */
#define ENT_MAGIC_DEAD 0x44564445u /* "EDVD": terminated; only the timer is still valid */
#define ENT_QUEUE_MAX 64u
#define ENT_DELAY_MAX_S 86400u
#define ENT_RATE_MAX (UINT64_C(1) << 30)
#define ENT_DEFAULT_DMA_SIZE UINT64_C(0x40000000)
#define NS_PER_S UINT64_C(1000000000)
#define ENT_OPEN_RETRY_NS UINT64_C(100000000) /* 100 ms between source probes while delayed */

enum { OPT_DELAYED = 0, OPT_RATE_BYTES, OPT_RATE_BURST, OPT_RATE_OPS, OPT_DMA, OPT_COUNT };

typedef enum { XPORT_NONE = 0, XPORT_MMIO, XPORT_PCI } ent_xport;
typedef enum { SRC_CLOSED = 0, SRC_OPEN, SRC_GAVE_UP } ent_src_state;

/* The instance block: everything an instance owns. */
typedef struct ent_inst {
    /* engines (large, 8-byte aligned members first: no padding holes) */
    svd_dev dev;
    svd_entropy ent;
    svd_gmem gmem;
    svd_mmio mmio;
    svd_pci pci;
    svd_qvm_mem mem;
    svd_qvm_clock clock;
    svd_qvm_badopt bad;
    /* options */
    uint64_t delayed_s;
    uint64_t rate_bytes;
    uint64_t rate_burst;
    uint64_t rate_ops;
    /* run state */
    uint64_t open_deadline_ns;
    uint64_t refused;         /* register accesses the transport answered with the defined answer */
    uint64_t mmio_base;
    ent_xport xport;
    ent_src_state src;
    uint32_t magic;
    bool ready;               /* OPTIONS_END succeeded */
    bool delayed;
    bool delayed_forever;
    bool have_rate_bytes;
    bool have_rate_burst;
    bool have_rate_ops;
    bool first_request_seen;
    bool gave_up_logged;
    bool map_failed_logged;
    bool health_failed_logged; /* the source's health tests failed; logged once per episode */
    bool timer_failed_logged;
    bool irq;
} ent_inst;

static const char *const ent_options[OPT_COUNT + 1] = {
    [OPT_DELAYED] = "delayed",
    [OPT_RATE_BYTES] = "rate-bytes",
    [OPT_RATE_BURST] = "rate-burst",
    [OPT_RATE_OPS] = "rate-ops",
    [OPT_DMA] = "dma",
    [OPT_COUNT] = NULL,
};

static ent_inst *inst_of(vdev_t *vdp)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return NULL;
    }
    ent_inst *e = vdp->v_device;
    return (e->magic == ENT_MAGIC) ? e : NULL;
}

/* ---- entropy source ------------------------------------------------------ */

/* "Opening" the source is a 1-byte non-blocking probe: it fails while the
 * kernel pool is not initialised (EAGAIN) or getrandom is unavailable. */
static bool source_probe(void)
{
    uint8_t b = 0;
    ssize_t n = getrandom(&b, 1u, GRND_NONBLOCK);
    return n == 1;
}

static svd_result source_read(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    ent_inst *e = ctx;
    *got = 0;
    if (e->src == SRC_GAVE_UP) {
        return svd_fail(SVD_ERR_SOURCE);
    }
    if (e->src == SRC_CLOSED) {
        if (!source_probe()) {
            return svd_fail(SVD_ERR_AGAIN);
        }
        e->src = SRC_OPEN;
    }
    ssize_t n = getrandom(buf, len, GRND_NONBLOCK);
    if (n > 0) {
        *got = (size_t)n;
        return svd_ok();
    }
    if ((n == 0) || (errno == EAGAIN) || (errno == EINTR)) {
        return svd_fail(SVD_ERR_AGAIN);
    }
    return svd_fail(SVD_ERR_SOURCE);
}

/* ---- interrupt and transport glue -------------------------------------------- */

static void apply_irq(vdev_t *vdp, ent_inst *e, bool change, bool level)
{
    if (change) {
        (void)svd_qvm_irq_set(vdp, &e->irq, level);
    }
}

static void sync_irq(vdev_t *vdp, ent_inst *e)
{
    if (e->xport == XPORT_MMIO) {
        svd_mmio_action a;
        svd_mmio_sync_irq(&e->mmio, &a);
        apply_irq(vdp, e, a.irq_change, a.irq_level);
    } else if (e->xport == XPORT_PCI) {
        svd_pci_action a;
        svd_pci_sync_irq(&e->pci, &a);
        apply_irq(vdp, e, a.irq_change, a.irq_level);
    } else {
        /* no transport: nothing to drive */
    }
}

/* The first guest request starts the `delayed N` clock. */
static void note_first_request(ent_inst *e, uint64_t now)
{
    if (!e->delayed || e->first_request_seen) {
        return;
    }
    e->first_request_seen = true;
    uint64_t span = 0;
    if (e->delayed_forever || !svd_is_ok(svd_mul_u64(e->delayed_s, NS_PER_S, &span)) ||
        !svd_is_ok(svd_add_u64(now, span, &e->open_deadline_ns))) {
        e->open_deadline_ns = UINT64_MAX;
    }
}

/* `delayed N` ran out with the source still closed: stop retrying and tell
 * the guest the device failed (NEEDS_RESET + configuration interrupt). */
static bool give_up_if_late(ent_inst *e, uint64_t now, const svd_entropy_out *out, svd_dev_event *ev)
{
    if ((e->src != SRC_CLOSED) || !e->delayed || e->delayed_forever || (now < e->open_deadline_ns) ||
        (out->completed != 0u) || !out->wake) {
        return false;
    }
    e->src = SRC_GAVE_UP;
    if (!e->gave_up_logged) {
        e->gave_up_logged = true;
        qvm_report("%s: entropy source still unavailable after delayed %llu s; device needs reset", VDEV_NAME,
                   (unsigned long long)e->delayed_s);
    }
    svd_dev_fail(&e->dev, ev);
    return true;
}

/* Ask for the timer at @at (not sooner than the probe interval while the source is closed). */
static void rearm(ent_inst *e, uint64_t now, uint64_t at)
{
    uint64_t probe_at = UINT64_MAX;
    if (!svd_is_ok(svd_add_u64(now, ENT_OPEN_RETRY_NS, &probe_at))) {
        probe_at = UINT64_MAX;
    }
    if ((e->src == SRC_CLOSED) && (at < probe_at)) {
        at = probe_at;
    }
    if (!svd_is_ok(svd_qvm_clock_arm(&e->clock, at)) && !e->timer_failed_logged) {
        e->timer_failed_logged = true; /* the request stays pending until the next kick */
        qvm_report("%s: cannot arm the retry timer", VDEV_NAME);
    }
}

/* The source's health tests (in the model) failed, or pass again: said once
 * per episode; requests wait meanwhile. */
static void note_health(ent_inst *e)
{
    const bool failed = e->ent.stats.health_state == SVD_HEALTH_FAILED;
    if (failed && !e->health_failed_logged) {
        qvm_report("%s: entropy source health test failed (rct %llu, apt %llu): requests wait until 1024 fresh "
                   "bytes pass",
                   VDEV_NAME, (unsigned long long)e->ent.stats.health_rct_failures,
                   (unsigned long long)e->ent.stats.health_apt_failures);
    } else if (!failed && e->health_failed_logged) {
        qvm_report("%s: entropy source health tests pass again", VDEV_NAME);
    } else {
        /* no change */
    }
    e->health_failed_logged = failed;
}

/* Serve the request queue: the only place the entropy model runs. */
static void serve_queue(vdev_t *vdp, ent_inst *e)
{
    svd_dev_event ev;
    svd_vq *q = NULL;
    if (svd_dev_needs_reset(&e->dev) || !svd_is_ok(svd_dev_notify(&e->dev, 0u, &q)) || (q == NULL)) {
        return; /* not ready / not DRIVER_OK / latched: nothing to serve */
    }
    uint64_t now = svd_qvm_clock_now(&e->clock);
    note_first_request(e, now);
    svd_entropy_out out;
    svd_result r = svd_entropy_process(&e->ent, q, &e->gmem, now, &out);
    svd_dev_queue_processed(&e->dev, 0u, r, &ev);
    note_health(e);
    bool gave_up = give_up_if_late(e, now, &out, &ev);
    sync_irq(vdp, e);
    if (out.wake && !gave_up && !svd_dev_needs_reset(&e->dev)) {
        rearm(e, now, out.wake_at);
    }
}

/* A reset from the transport: drop the pending request. Mapped memory stays. */
static void on_reset(ent_inst *e)
{
    svd_entropy_reset(&e->ent);
}

/* Lazily map the DMA windows the first time the guest touches the device. */
static void ensure_mapped(vdev_t *vdp, ent_inst *e)
{
    if (!e->mem.mapped && !svd_is_ok(svd_qvm_mem_map(&e->mem, vdp, &e->gmem)) && !e->map_failed_logged) {
        /* The device then sees no memory: a queue enable latches NEEDS_RESET,
         * which the guest sees. Logged once; later accesses retry quietly. */
        e->map_failed_logged = true;
        qvm_report("%s: cannot map the dma window(s) of guest memory", VDEV_NAME);
    }
}

/* ---- register access ------------------------------------------------------------ */

/* Transport results are informational (the access is complete either way);
 * count the refused ones for VDEV_CTRL_STATUS. */
static void note(ent_inst *e, svd_result r)
{
    if (!svd_is_ok(r)) {
        e->refused++;
    }
}

static vdev_ref_status_t mmio_access(vdev_t *vdp, ent_inst *e, bool write, const struct qvm_state_block *vopnd,
                                    const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    uint32_t width = vopnd->length;
    uint64_t off = UINT64_MAX; /* outside the window unless inside */
    if ((vopnd->location >= e->mmio_base) && ((vopnd->location - e->mmio_base) < SVD_MMIO_WINDOW_SIZE)) {
        off = vopnd->location - e->mmio_base;
    }
    svd_mmio_action a;
    memset(&a, 0, sizeof a);
    if (!write) {
        uint32_t v = 0;
        if ((width <= 4u) && (off != UINT64_MAX)) {
            note(e, svd_mmio_read(&e->mmio, off, width, &v, &a));
        }
        return svd_qvm_reply(gcp, oopnd, (width <= 8u) ? width : 8u, v);
    }
    uint64_t v = 0;
    vdev_ref_status_t st = svd_qvm_fetch(gcp, oopnd, (width <= 8u) ? width : 8u, &v);
    if (st != VRS_NORMAL) {
        return st;
    }
    if ((width <= 4u) && (off != UINT64_MAX)) {
        note(e, svd_mmio_write(&e->mmio, off, width, (uint32_t)v, &a));
    }
    if (a.reset) {
        on_reset(e);
    }
    apply_irq(vdp, e, a.irq_change, a.irq_level);
    if (a.notify) {
        serve_queue(vdp, e);
    }
    return VRS_NORMAL;
}

/* Offset of a PCI access: config-space offset, or the offset inside BAR0
 * while it decodes; UINT64_MAX when the access hits neither. */
static uint64_t pci_offset(const ent_inst *e, const struct qvm_state_block *vopnd)
{
    if (vopnd->type == QST_PCI) {
        return SVD_QSL_PCI_OFF(vopnd->location);
    }
    uint64_t base = svd_pci_bar0_address(&e->pci);
    if (svd_pci_mem_enabled(&e->pci) && (base != 0u) && (vopnd->location >= base) &&
        ((vopnd->location - base) < SVD_PCI_BAR_SIZE)) {
        return vopnd->location - base;
    }
    return UINT64_MAX;
}

static uint64_t pci_read(ent_inst *e, bool cfg, uint64_t off, uint32_t width, svd_pci_action *a)
{
    uint64_t v = 0;
    if (off == UINT64_MAX) {
        return 0;
    }
    if (!cfg) {
        note(e, svd_pci_bar_read(&e->pci, off, width, &v, a));
    } else if (width <= 4u) {
        uint32_t v32 = 0;
        note(e, svd_pci_cfg_read(&e->pci, (uint32_t)off, width, &v32, a));
        v = v32;
    } else {
        e->refused++; /* an 8-byte configuration access: the defined answer */
    }
    return v;
}

static void pci_write(ent_inst *e, bool cfg, uint64_t off, uint32_t width, uint64_t v, svd_pci_action *a)
{
    if (off == UINT64_MAX) {
        return;
    }
    if (!cfg) {
        note(e, svd_pci_bar_write(&e->pci, off, width, v, a));
    } else if (width <= 4u) {
        note(e, svd_pci_cfg_write(&e->pci, (uint32_t)off, width, (uint32_t)v, a));
    } else {
        e->refused++;
    }
}

static vdev_ref_status_t pci_access(vdev_t *vdp, ent_inst *e, bool write, const struct qvm_state_block *vopnd,
                                    const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    uint32_t width = vopnd->length;
    uint32_t rw = (width <= 8u) ? width : 8u;
    bool cfg = vopnd->type == QST_PCI;
    uint64_t off = pci_offset(e, vopnd);
    svd_pci_action a;
    memset(&a, 0, sizeof a);
    uint64_t v = 0;
    if (write) {
        vdev_ref_status_t st = svd_qvm_fetch(gcp, oopnd, rw, &v);
        if (st != VRS_NORMAL) {
            return st;
        }
        pci_write(e, cfg, off, width, v, &a);
    } else {
        v = pci_read(e, cfg, off, width, &a);
    }
    if (a.reset) {
        on_reset(e);
    }
    apply_irq(vdp, e, a.irq_change, a.irq_level);
    if (a.notify) {
        serve_queue(vdp, e);
    }
    return write ? VRS_NORMAL : svd_qvm_reply(gcp, oopnd, rw, v);
}

static vdev_ref_status_t access(vdev_t *vdp, bool write, const struct qvm_state_block *vopnd,
                                const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    ent_inst *e = inst_of(vdp);
    if ((e == NULL) || (vopnd == NULL) || (oopnd == NULL) || !e->ready) {
        /* Not configured or terminated: reads get 0, writes vanish. */
        if (!write && (vopnd != NULL) && (oopnd != NULL)) {
            return svd_qvm_reply(gcp, oopnd, (vopnd->length <= 8u) ? vopnd->length : 8u, 0u);
        }
        return VRS_NORMAL;
    }
    (void)pthread_mutex_lock(&vdp->v_mtx);
    ensure_mapped(vdp, e);
    vdev_ref_status_t st = (e->xport == XPORT_MMIO) ? mmio_access(vdp, e, write, vopnd, oopnd, gcp)
                                                    : pci_access(vdp, e, write, vopnd, oopnd, gcp);
    (void)pthread_mutex_unlock(&vdp->v_mtx);
    return st;
}

static vdev_ref_status_t ent_vread(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                   const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, false, vopnd, oopnd, gcp);
}

static vdev_ref_status_t ent_vwrite(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                    const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, true, vopnd, oopnd, gcp);
}

static void ent_timer(vdev_t *vdp, void *data, const struct guest_timer_data *tdp, struct guest_cpu *gcp)
{
    (void)data;
    (void)tdp;
    (void)gcp;
    ent_inst *e = inst_of(vdp);
    if ((e == NULL) || !e->ready) {
        return;
    }
    (void)pthread_mutex_lock(&vdp->v_mtx);
    svd_qvm_clock_fired(&e->clock);
    serve_queue(vdp, e);
    (void)pthread_mutex_unlock(&vdp->v_mtx);
}

/* ---- options ------------------------------------------------------------------------ */

static void opt_value(ent_inst *e, unsigned idx, const char *arg)
{
    const char *name = ent_options[idx];
    uint64_t v = 0;
    uint64_t w = 0;
    switch (idx) {
    case OPT_DELAYED:
        if ((arg != NULL) && (strcmp(arg, "forever") == 0)) {
            e->delayed = true;
            e->delayed_forever = true;
        } else if (svd_is_ok(svd_qvm_parse_u64(arg, 1u, ENT_DELAY_MAX_S, &v))) {
            e->delayed = true;
            e->delayed_forever = false;
            e->delayed_s = v;
        } else {
            svd_qvm_badopt_set(&e->bad, name, arg, "want seconds 1..86400 or 'forever'");
        }
        break;
    case OPT_RATE_BYTES:
        if (svd_is_ok(svd_qvm_parse_u64(arg, 1u, ENT_RATE_MAX, &v))) {
            e->rate_bytes = v;
            e->have_rate_bytes = true;
        } else {
            svd_qvm_badopt_set(&e->bad, name, arg, "want bytes per second 1..1073741824");
        }
        break;
    case OPT_RATE_BURST:
        if (svd_is_ok(svd_qvm_parse_u64(arg, 0u, ENT_RATE_MAX, &v))) {
            e->rate_burst = v;
            e->have_rate_burst = true;
        } else {
            svd_qvm_badopt_set(&e->bad, name, arg, "want bytes 0..1073741824");
        }
        break;
    case OPT_RATE_OPS:
        if (svd_is_ok(svd_qvm_parse_u64(arg, 1u, ENT_RATE_MAX, &v))) {
            e->rate_ops = v;
            e->have_rate_ops = true;
        } else {
            svd_qvm_badopt_set(&e->bad, name, arg, "want requests per second 1..1073741824");
        }
        break;
    case OPT_DMA:
        if (!svd_is_ok(svd_qvm_parse_pair(arg, &v, &w))) {
            svd_qvm_badopt_set(&e->bad, name, arg, "want BASE,SIZE");
        } else if (!svd_is_ok(svd_qvm_mem_add(&e->mem, v, w))) {
            svd_qvm_badopt_set(&e->bad, name, arg, "empty, wrapping, overlapping or more than 4 windows");
        } else {
            /* accepted */
        }
        break;
    default:
        svd_qvm_badopt_set(&e->bad, "?", arg, "unknown option index");
        break;
    }
}

/* Cross-option checks and engine set-up. Returns EOK or an errno value;
 * on failure the block holds nothing that needs releasing. */
static int options_end(vdev_t *vdp, ent_inst *e)
{
    if (!e->bad.set && e->have_rate_burst && !e->have_rate_bytes) {
        svd_qvm_badopt_set(&e->bad, ent_options[OPT_RATE_BURST], "", "needs rate-bytes");
    }
    if (!e->bad.set && (vdp->v_block.location != QSL_NO_LOCATION) && (vdp->v_intr.pic == NULL)) {
        svd_qvm_badopt_set(&e->bad, "intr", "", "required when loc is given (virtio-mmio)");
    }
    if (e->bad.set) {
        svd_qvm_badopt_report(&e->bad, VDEV_NAME);
        return EINVAL;
    }
    if (e->mem.n == 0u) {
        if (!svd_is_ok(svd_qvm_mem_add(&e->mem, 0u, ENT_DEFAULT_DMA_SIZE))) {
            return EINVAL; /* an empty table takes any non-wrapping window: not reached */
        }
    }
    if (!e->delayed && !source_probe()) {
        qvm_report("%s: entropy source (getrandom) unavailable; use 'delayed' to wait for it", VDEV_NAME);
        return EIO;
    }
    e->src = e->delayed ? SRC_CLOSED : SRC_OPEN;

    svd_dev_params dp;
    svd_entropy_dev_params(&dp);
    dp.queue_max = ENT_QUEUE_MAX;
    svd_gmem_init(&e->gmem);
    if (!svd_is_ok(svd_dev_init(&e->dev, &dp, &e->gmem))) {
        qvm_report("%s: device engine refused its parameters", VDEV_NAME);
        return EINVAL;
    }
    if (!svd_is_ok(svd_qvm_clock_init(&e->clock, vdp, e))) {
        qvm_report("%s: cannot create a guest timer", VDEV_NAME);
        return EIO;
    }
    uint64_t now = svd_qvm_clock_now(&e->clock);
    svd_entropy_cfg ec;
    memset(&ec, 0, sizeof ec);
    ec.source.read = source_read;
    ec.source.ctx = e;
    if (e->have_rate_bytes) {
        ec.rate_bytes.size = e->rate_bytes;
        ec.rate_bytes.one_time_burst = e->rate_burst;
        ec.rate_bytes.refill_ns = NS_PER_S;
    }
    if (e->have_rate_ops) {
        ec.rate_ops.size = e->rate_ops;
        ec.rate_ops.refill_ns = NS_PER_S;
    }
    ec.retry_ns = 0u;
    if (!svd_is_ok(svd_entropy_init(&e->ent, &ec, now))) {
        qvm_report("%s: rate-limit settings refused by the entropy engine", VDEV_NAME);
        return EINVAL;
    }
    if (vdp->v_block.location != QSL_NO_LOCATION) {
        e->xport = XPORT_MMIO;
        e->mmio_base = vdp->v_block.location;
        if (!svd_is_ok(svd_mmio_init(&e->mmio, &e->dev, 0x554d4551u))) {
            return EINVAL;
        }
    } else {
        e->xport = XPORT_PCI;
        svd_pci_params pp;
        memset(&pp, 0, sizeof pp);
        pp.class_code = SVD_PCI_CLASS_RNG;
        pp.subsystem_vendor = SVD_PCI_VENDOR_VIRTIO;
        pp.subsystem_id = (uint16_t)SVD_ENTROPY_DEVICE_ID;
        pp.bar64 = true;
        if (!svd_is_ok(svd_pci_init(&e->pci, &e->dev, &pp))) {
            return EINVAL;
        }
    }
    e->ready = true;
    return EOK;
}

static int gen_fdt(vdev_t *vdp, ent_inst *e, const char *arg)
{
    if (e->xport != XPORT_MMIO) {
        return EOK; /* PCI devices are found by bus enumeration */
    }
    svd_fdt_node n;
    uint32_t irq = vdp->v_intr.param & 0xffffu;
    if (!svd_is_ok(svd_fdt_virtio_mmio(&n, e->mmio_base, SVD_MMIO_WINDOW_SIZE, &irq, 1u, 2u, 2u))) {
        return EINVAL;
    }
    int node = gfdt_update_node((int)(intptr_t)arg, "virtio_mmio", e->mmio_base);
    if (node < 0) {
        qvm_report("%s: cannot add the FDT node", VDEV_NAME);
        return EIO;
    }
    uint8_t buf[SVD_FDT_MAX_PROP];
    for (uint32_t i = 0;; i++) {
        svd_fdt_propval pv;
        svd_result r = svd_fdt_prop(&n, i, buf, sizeof buf, &pv);
        if (svd_is_err(r, SVD_ERR_EMPTY)) {
            break;
        }
        if (!svd_is_ok(r)) {
            return EINVAL;
        }
        gfdt_update_property(node, pv.name, buf, pv.len);
    }
    return EOK;
}

static int pci_bars(ent_inst *e, const char *arg)
{
    if ((e->xport != XPORT_PCI) || (arg == NULL)) {
        return 1; /* positive: this device exposes no BARs */
    }
    /* The callback's argument is the caller's BAR array (see docs/qvm-compat.md);
     * qvm passes it through the const char * parameter every command shares. */
    union {
        const char *arg;
        struct vpci_bar *bars;
    } u;
    u.arg = arg;
    struct vpci_bar *bars = u.bars;
    for (int i = 0; i < SVD_QVM_PCI_NBARS; i++) {
        bars[i].size = 0;
        bars[i].flags = 0;
    }
    bars[0].size = SVD_PCI_BAR_SIZE;
    bars[0].flags = SVD_VPCI_BAR_MEM64;
    return -SVD_QVM_PCI_NBARS;
}

static void terminate(vdev_t *vdp, ent_inst *e)
{
    if (e->ready && (e->xport != XPORT_NONE)) {
        (void)svd_qvm_irq_set(vdp, &e->irq, false);
    }
    svd_qvm_mem_unmap(&e->mem);
    svd_gmem_init(&e->gmem);
    e->ready = false;
    e->magic = ENT_MAGIC_DEAD;
}

/* Commands other than OPTIONS_START and the options; called with v_mtx held. */
static int command(vdev_t *vdp, ent_inst *e, unsigned ctrl, const char *arg)
{
    int rc = EOK;
    switch (ctrl) {
    case VDEV_CTRL_OPTIONS_END:
        rc = e->ready ? EBUSY : options_end(vdp, e);
        break;
    case VDEV_CTRL_GUEST_CONFIGURED:
        if (e->ready) {
            ensure_mapped(vdp, e);
        }
        break;
    case VDEV_CTRL_GEN_FDT:
        rc = e->ready ? gen_fdt(vdp, e, arg) : EINVAL;
        break;
    case VDEV_CTRL_PCI_BARS:
        rc = e->ready ? pci_bars(e, arg) : 1;
        break;
    case VDEV_CTRL_STATUS:
        if (e->ready) {
            qvm_report("%s: status 0x%x refused %llu requests %llu bytes %llu source-failures %llu "
                       "deferrals %llu health %s health-failures rct %llu apt %llu",
                       VDEV_NAME, svd_dev_status(&e->dev), (unsigned long long)e->refused,
                       (unsigned long long)e->ent.stats.requests, (unsigned long long)e->ent.stats.bytes,
                       (unsigned long long)e->ent.stats.source_failures,
                       (unsigned long long)e->ent.stats.rate_deferrals,
                       e->ent.stats.health_state == SVD_HEALTH_OK       ? "ok"
                       : e->ent.stats.health_state == SVD_HEALTH_FAILED ? "failed"
                                                                         : "startup",
                       (unsigned long long)e->ent.stats.health_rct_failures,
                       (unsigned long long)e->ent.stats.health_apt_failures);
        }
        break;
    case VDEV_CTRL_TERMINATE:
        terminate(vdp, e);
        break;
    default:
        break; /* GEN_ACPI, BUTTON and unknown commands: nothing to do */
    }
    return rc;
}

static int ent_control(vdev_t *vdp, unsigned ctrl, const char *arg)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return EINVAL;
    }
    if (ctrl == VDEV_CTRL_OPTIONS_START) {
        /* qvm sends this once, on a block of unspecified content. Should it come
         * again, release what the old instance holds and keep its timer (qvm
         * has no call to destroy one): nothing leaks, nothing piles up. */
        ent_inst *e = vdp->v_device;
        svd_qvm_clock keep;
        memset(&keep, 0, sizeof keep);
        if ((e->magic == ENT_MAGIC) || (e->magic == ENT_MAGIC_DEAD)) {
            (void)pthread_mutex_lock(&vdp->v_mtx);
            terminate(vdp, e);
            keep = e->clock;
            keep.armed = false;
            (void)pthread_mutex_unlock(&vdp->v_mtx);
        }
        memset(e, 0, sizeof *e);
        e->clock = keep;
        e->magic = ENT_MAGIC;
        vdp->v_block.type = QST_MEMORY;
        vdp->v_block.location = QSL_NO_LOCATION;
        return EOK;
    }
    ent_inst *e = inst_of(vdp);
    if (e == NULL) {
        return EINVAL;
    }
    int rc = EOK;
    (void)pthread_mutex_lock(&vdp->v_mtx);
    if ((ctrl >= VDEV_CTRL_FIRST_OPTIDX) && (ctrl < VDEV_CTRL_FIRST_OPTIDX + OPT_COUNT)) {
        if (e->ready) {
            rc = EBUSY;
        } else {
            opt_value(e, ctrl - VDEV_CTRL_FIRST_OPTIDX, arg);
        }
    } else {
        rc = command(vdp, e, ctrl, arg);
    }
    (void)pthread_mutex_unlock(&vdp->v_mtx);
    return rc;
}

/* The one writable static of the library: qvm links it into its list. */
static struct vdev_factory ent_factory = {
    .next = NULL,
    .control = ent_control,
    .vread = ent_vread,
    .vwrite = ent_vwrite,
    .timer = ent_timer,
    .option_list = ent_options,
    .name = VDEV_NAME,
    .factory_flags = VFF_INTR_NONPCI | VFF_VDEV_MEM | VFF_VDEV_PCI | VFF_MUTEX | VFF_MUTEX_RECURSIVE,
    .acc_sizes = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8),
    .extra_space = (unsigned)sizeof(ent_inst),
};

__attribute__((constructor)) static void ent_register(void)
{
    vdev_register_factory(&ent_factory, QVM_VDEV_ABI);
}
