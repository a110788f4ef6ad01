/* The qvm adapter frame (qvm_frame.h): the factory, the callbacks, the option
 * protocol and the application of every engine effect, once for every
 * device. The factory is the only writable static object; everything else an
 * instance owns lives in its block. */
#include "qvm_frame.h"

#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "safevdev/wdt.h"

#define FRAME_MAGIC 0x51445653u      /* "SVDQ": set up by OPTIONS_START */
#define FRAME_MAGIC_DEAD 0x44445653u /* "SVDD": terminated; only the clock is still valid */
#define FRAME_MAX_OPTIONS 32u

/* The frame's part of an instance. */
typedef struct svd_qvm_frame {
    svd_qvm_clock clock;      /* the instance's guest timer */
    svd_qvm_badopt bad;       /* first refused option */
    uint64_t refused;         /* accesses the engine answered with its defined answer */
    uint64_t actions;         /* watchdog expiries acted on (or logged, for action none) */
    uint32_t magic;           /* set by OPTIONS_START: the block is ours */
    bool ready;               /* OPTIONS_END succeeded and no TERMINATE since */
    bool irq;                 /* interrupt level last driven */
    uint64_t msi_refused;     /* MSI-X messages qvm refused (guest_msi_signal) */
    bool timer_failed_logged; /* "cannot arm" was logged */
    bool started;             /* GUEST_STARTING came: the guest runs */
} svd_qvm_frame;

/* The instance block: the frame's part, then the device's (inst_size bytes,
 * aligned for any object). */
typedef struct frame_block {
    svd_qvm_frame f;
    max_align_t dev[];
} frame_block;

/* The block, when OPTIONS_START set it up and TERMINATE has not ended it. */
static frame_block *block_of(const vdev_t *vdp)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return NULL;
    }
    frame_block *b = vdp->v_device;
    return (b->f.magic == FRAME_MAGIC) ? b : NULL;
}

static unsigned option_count(void)
{
    unsigned n = 0u;
    while ((n < FRAME_MAX_OPTIONS) && (svd_qvm_device.options[n] != NULL)) {
        n++;
    }
    return n;
}

/* ---- effects -------------------------------------------------------------- */

/* Carry out a fired watchdog's action through qvm's watchdog service (or
 * only log it, for our `none`). */
static void carry_out(const vdev_t *vdp, svd_qvm_frame *f, const void *dev, const svd_fx *fx)
{
    const char *name = svd_qvm_device.name;
    const svd_qvm_action a = svd_qvm_device.action(dev);
    struct wdog_state ws;
    (void)memset(&ws, 0, sizeof ws);
    f->actions++;
    switch (a.bite) {
    case SVD_QVM_BITE_TERMINATE:
        svd_qvm_log(vdp, "%s: watchdog expired: %sterminating the guest", name, a.dump ? "dump, then " : "");
        ws.ws_action = WDOG_ACTION_TERMINATE;
        break;
    case SVD_QVM_BITE_FIQ:
        svd_qvm_log(vdp, "%s: watchdog expired: %sinterrupt to the guest (fiq)", name, a.dump ? "dump, " : "");
        ws.ws_action = WDOG_ACTION_INTR;
        break;
    case SVD_QVM_BITE_NONE:
    default:
        svd_qvm_log(vdp, "%s: watchdog expired (action none: logged only, %u expiries)", name,
                    (unsigned)fx->fires);
        return;
    }
    if (a.dump) {
        ws.ws_action |= WDOG_FLAG_DUMP;
    }
    wdog_bite(&ws);
}

/* The line and the latch of one effect. */
static void apply_line(vdev_t *vdp, svd_qvm_frame *f, const svd_fx *fx)
{
    if (fx->failed) {
        svd_qvm_log(vdp, "%s: device needs reset: %s", svd_qvm_device.name, svd_why_name(fx->why));
    }
    (void)svd_qvm_irq_set(vdp, &f->irq, fx->irq_level);
    const uint32_t refused = svd_qvm_msi_send(vdp, fx);
    if (refused != 0u) {
        if (f->msi_refused == 0u) {
            svd_qvm_log(vdp, "%s: qvm refused an MSI-X message (guest_msi_signal)", svd_qvm_device.name);
        }
        f->msi_refused += refused;
    }
}

/* Arm the instance timer for @deadline; false when qvm refused it twice
 * (a refusal is retried at once: a transient one costs nothing). */
static bool arm(const vdev_t *vdp, svd_qvm_frame *f, uint64_t deadline)
{
    if (deadline == SVD_NO_DEADLINE) {
        return true;
    }
    for (unsigned attempt = 0u; attempt < 2u; attempt++) {
        if (svd_is_ok(svd_qvm_clock_arm(&f->clock, deadline))) {
            return true;
        }
    }
    if (!f->timer_failed_logged) {
        f->timer_failed_logged = true;
        svd_qvm_log(vdp, "%s: cannot arm the guest timer", svd_qvm_device.name);
    }
    return false;
}

/* Apply everything @fx asks for (see qvm_frame.h). */
static void apply(vdev_t *vdp, frame_block *b, const svd_fx *fx, uint64_t now)
{
    (void)now;
    apply_line(vdp, &b->f, fx);
    if (fx->fired) {
        carry_out(vdp, &b->f, b->dev, fx);
    }
    if (arm(vdp, &b->f, fx->deadline) || (svd_qvm_device.action == NULL) || fx->fired) {
        /* Armed; or a device that never fires (its pending work waits for
         * the guest's next access); or the action was just carried out. */
        return;
    }
    /* Fail-safe: a watchdog whose expiry can no longer be timed does not
     * wait for a guest that may never touch it again; it carries out its
     * configured action now, as if it had expired. */
    svd_qvm_log(vdp, "%s: watchdog cannot be timed: carrying out its action now (fail-safe)", svd_qvm_device.name);
    svd_fx now_fx = *fx;
    now_fx.fired = true;
    now_fx.fires = 1u;
    carry_out(vdp, &b->f, b->dev, &now_fx);
    (void)arm(vdp, &b->f, fx->deadline);
}

/* ---- accesses ---------------------------------------------------------------- */

/* One access to a ready instance (v_mtx held): the value read, or @v as
 * written. A space the device has no registers in reads 0. */
static uint64_t perform(vdev_t *vdp, frame_block *b, const struct qvm_state_block *vopnd, uint32_t width,
                        bool write, uint64_t v)
{
    svd_qvm_frame *f = &b->f;
    const bool cfg = SVD_QSB_TYPE(vopnd) == QST_PCI;
    const bool io = SVD_QSB_TYPE(vopnd) == QST_X86_IO;
    if (!cfg && !io && (SVD_QSB_TYPE(vopnd) != QST_MEMORY)) {
        f->refused++;
        return 0u;
    }
    svd_space sp = SVD_SPACE_MEM;
    if (cfg) {
        sp = SVD_SPACE_PCI_CFG;
    } else if (io) {
        sp = SVD_SPACE_IO;
    } else {
        /* memory: the default above */
    }
    const uint64_t addr = cfg ? SVD_QSL_PCI_OFF(vopnd->location) : vopnd->location;
    const uint64_t now = svd_qvm_clock_now(&f->clock);
    uint64_t val = v;
    svd_fx fx;
    const svd_result r = svd_qvm_device.access(vdp, b->dev, sp, addr, width, write, &val, now, &fx);
    if (!svd_is_ok(r) && !fx.failed) {
        f->refused++; /* the engine gave its defined answer */
    }
    apply(vdp, b, &fx, now);
    return val;
}

static svd_vrs access(vdev_t *vdp, bool write, const struct qvm_state_block *vopnd,
                      const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    if ((vopnd == NULL) || (oopnd == NULL)) {
        return VRS_NORMAL;
    }
    const uint32_t width = (vopnd->length <= 8u) ? (uint32_t)vopnd->length : 8u;
    uint64_t v = 0u;
    if (write) {
        const svd_vrs st = svd_qvm_fetch(gcp, oopnd, width, &v);
        if (st != VRS_NORMAL) {
            return st; /* no value: nothing is performed */
        }
    }
    frame_block *b = block_of(vdp);
    uint64_t got = 0u; /* not configured: reads 0, writes vanish */
    if (b != NULL) {
        (void)pthread_mutex_lock(&vdp->v_mtx);
        if (b->f.ready) {
            got = perform(vdp, b, vopnd, width, write, v);
        }
        (void)pthread_mutex_unlock(&vdp->v_mtx);
    }
    return write ? VRS_NORMAL : svd_qvm_reply(gcp, oopnd, width, got);
}

/* The cookie is the one PCI_BARS put in BAR0's region (0) or qvm's for the
 * device's own window: the state block's address says where the access
 * landed either way, so it is not needed. */
static svd_vrs frame_vread(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                           const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, false, vopnd, oopnd, gcp);
}

static svd_vrs frame_vwrite(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                            const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, true, vopnd, oopnd, gcp);
}

static void frame_timer(vdev_t *vdp, void *data, const struct guest_timer_data *tdp, struct guest_cpu *gcp)
{
    (void)data;
    (void)tdp;
    (void)gcp;
    frame_block *b = block_of(vdp);
    if (b == NULL) {
        return;
    }
    (void)pthread_mutex_lock(&vdp->v_mtx);
    svd_qvm_clock_fired(&b->f.clock);
    if (b->f.ready) {
        const uint64_t now = svd_qvm_clock_now(&b->f.clock);
        svd_fx fx;
        svd_qvm_device.tick(b->dev, now, &fx);
        apply(vdp, b, &fx, now);
    }
    (void)pthread_mutex_unlock(&vdp->v_mtx);
}

/* ---- control ------------------------------------------------------------------ */

static void terminate(vdev_t *vdp, frame_block *b)
{
    if (b->f.ready) {
        (void)svd_qvm_irq_set(vdp, &b->f.irq, false);
    }
    if (svd_qvm_device.terminate != NULL) {
        svd_qvm_device.terminate(vdp, b->dev);
    }
    b->f.ready = false;
    b->f.magic = FRAME_MAGIC_DEAD;
}

/* qvm sends OPTIONS_START once, on a block of unspecified content. Should it
 * come again, the old instance releases what it holds and keeps its timer
 * (qvm has no call to destroy one): nothing leaks, nothing piles up. */
static int options_start(vdev_t *vdp)
{
    frame_block *b = vdp->v_device;
    svd_qvm_clock keep;
    (void)memset(&keep, 0, sizeof keep);
    if ((b->f.magic == FRAME_MAGIC) || (b->f.magic == FRAME_MAGIC_DEAD)) {
        (void)pthread_mutex_lock(&vdp->v_mtx);
        if (b->f.magic == FRAME_MAGIC) {
            terminate(vdp, b);
        }
        keep = b->f.clock;
        keep.armed = false;
        (void)pthread_mutex_unlock(&vdp->v_mtx);
    }
    (void)memset(b, 0, sizeof(frame_block) + svd_qvm_device.inst_size);
    b->f.clock = keep;
    b->f.magic = FRAME_MAGIC;
    if (svd_qvm_device.start != NULL) {
        svd_qvm_device.start(b->dev);
    }
    /* The device's defaults, before qvm applies the `loc` option (QNX's
     * ib700 presets its location the same way); the length is the memory
     * window qvm traps for a memory device. */
    SVD_QSB_TYPE(&vdp->v_block) = svd_qvm_device.loc_type;
    vdp->v_block.location = (svd_qvm_device.loc_default != 0u) ? svd_qvm_device.loc_default : QSL_NO_LOCATION;
    vdp->v_block.length = (svd_qvm_device.loc_type != QST_PCI) ? svd_qvm_device.loc_length : 0u;
    return EOK;
}

static int options_end(vdev_t *vdp, frame_block *b)
{
    svd_qvm_frame *f = &b->f;
    int rc = EOK;
    if (f->bad.set) {
        rc = EINVAL;
    } else if (!svd_is_ok(svd_qvm_clock_init(&f->clock, vdp, b))) {
        svd_qvm_log(vdp, "%s: cannot create a guest timer", svd_qvm_device.name);
        rc = EIO;
    } else {
        rc = svd_qvm_device.options_end(vdp, b->dev, &f->bad, svd_qvm_clock_now(&f->clock));
        if (f->bad.set) {
            rc = EINVAL;
        }
    }
    if (f->bad.set) {
        svd_qvm_badopt_report(&f->bad, vdp, svd_qvm_device.name);
    }
    f->ready = rc == EOK;
    return rc;
}

/* PCI BAR register bits: a memory BAR, 64-bit (vb_value's low bits). */
#define PCI_BAR_MEM64 0x4u
#define PCI_CFG_BAR0 0x10u

/* PCI_BARS: the argument is the caller's array of SVD_QVM_PCI_NBARS vpci_bar
 * (the const char * every command shares; vpci_ctrl_pci_bars() 8.0 answers
 * -6 for such an array). BAR0 becomes a trapping region of this instance,
 * its length constant as the page expects; the unused entries are zero
 * (vb_zero included). */
static int pci_bars(vdev_t *vdp, const frame_block *b, const char *arg)
{
    uint64_t size = 0u;
    bool mem64 = false;
    if ((svd_qvm_device.pci_bar0 == NULL) || (arg == NULL) || !svd_qvm_device.pci_bar0(b->dev, &size, &mem64)) {
        return 1; /* positive: this device exposes no BARs */
    }
    union {
        const char *arg;
        struct vpci_bar *bars;
    } u;
    u.arg = arg;
    struct vpci_bar *bars = u.bars;
    (void)memset(bars, 0, sizeof(struct vpci_bar) * (size_t)SVD_QVM_PCI_NBARS);
    struct gasp_region *r = &bars[0].vb_mapping;
    SVD_GRF_FLAGS(r) = GRF_VIRT_RD | GRF_VIRT_WR;
    r->cookie = 0u;
    r->vdev = vdp;
    r->host_location = 0u;
    SVD_QSB_TYPE(&r->guest) = QST_MEMORY;
    r->guest.location = 0u; /* not yet assigned */
    r->guest.length = (uint32_t)size; /* BAR sizes of ours are < 4 GiB */
    bars[0].vb_value = 0u;
    if (mem64) {
        bars[0].vb_value = PCI_BAR_MEM64;
    }
    bars[0].vb_breg = (uint16_t)PCI_CFG_BAR0;
    return -SVD_QVM_PCI_NBARS;
}

static void status(const frame_block *b)
{
    char part[SVD_QVM_STATUS_MAX];
    part[0] = '\0';
    svd_qvm_device.status(b->dev, b->f.actions, part, sizeof part);
    qvm_report("%s: %s, refused accesses %llu, refused MSIs %llu, guest %s", svd_qvm_device.name, part,
               (unsigned long long)b->f.refused, (unsigned long long)b->f.msi_refused,
               b->f.started ? "started" : "not started");
}

/* Every command but OPTIONS_START and the options; v_mtx held. */
static int command(vdev_t *vdp, frame_block *b, SVD_QVM_CTRL_T ctrl, const char *arg)
{
    const svd_qvm_frame *f = &b->f;
    int rc = EOK;
    switch (ctrl) {
    case VDEV_CTRL_OPTIONS_END:
        rc = f->ready ? EBUSY : options_end(vdp, b);
        break;
    case VDEV_CTRL_ASSIGN:
        /* loc and intr: preset at OPTIONS_START or given (qvm's); a PCI
         * device's location and INTx pin are qvm's to assign. What is left is
         * a memory device's window length, should qvm have cleared it. */
        if ((SVD_QSB_TYPE(&vdp->v_block) != QST_PCI) && (vdp->v_block.length == 0u)) {
            vdp->v_block.length = svd_qvm_device.loc_length;
        }
        break;
    case VDEV_CTRL_GUEST_CONFIGURED:
        if (f->ready && (svd_qvm_device.configured != NULL)) {
            svd_qvm_device.configured(vdp, b->dev);
        }
        break;
    case VDEV_CTRL_GUEST_STARTING:
        b->f.started = true;
        break;
    case VDEV_CTRL_GEN_FDT:
        if (!f->ready) {
            rc = EINVAL;
        } else if (svd_qvm_device.gen_fdt != NULL) {
            rc = svd_qvm_device.gen_fdt(vdp, b->dev, (int)(intptr_t)arg);
        } else {
            rc = EOK; /* found by bus enumeration */
        }
        break;
    case VDEV_CTRL_GEN_ACPI:
        if (f->ready && (svd_qvm_device.gen_acpi != NULL)) {
            rc = svd_qvm_device.gen_acpi(vdp, b->dev);
        }
        break;
    case VDEV_CTRL_PCI_BARS:
        rc = f->ready ? pci_bars(vdp, b, arg) : 1;
        break;
    case VDEV_CTRL_STATUS:
        if (f->ready) {
            status(b);
        }
        break;
    case VDEV_CTRL_TERMINATE:
        terminate(vdp, b);
        break;
    default:
        break; /* BUTTON (no power button) and unknown commands */
    }
    return rc;
}

static int frame_control(vdev_t *vdp, SVD_QVM_CTRL_T ctrl, const char *arg)
{
    if ((vdp == NULL) || (vdp->v_device == NULL)) {
        return EINVAL;
    }
    if (ctrl == VDEV_CTRL_OPTIONS_START) {
        return options_start(vdp);
    }
    frame_block *b = block_of(vdp);
    if (b == NULL) {
        return EINVAL;
    }
    int rc = EOK;
    (void)pthread_mutex_lock(&vdp->v_mtx);
    if ((ctrl >= VDEV_CTRL_FIRST_OPTIDX) && ((ctrl - VDEV_CTRL_FIRST_OPTIDX) < option_count())) {
        if (b->f.ready) {
            rc = EBUSY;
        } else {
            svd_qvm_device.option(b->dev, ctrl - VDEV_CTRL_FIRST_OPTIDX, arg, &b->f.bad);
        }
    } else {
        rc = command(vdp, b, ctrl, arg);
    }
    (void)pthread_mutex_unlock(&vdp->v_mtx);
    return rc;
}

/* The one writable static of the library: qvm links it into its list. The
 * device's part is filled in from its table by the constructor; the instance
 * block is the frame's part plus the device's. */
static struct vdev_factory svd_qvm_factory = {
    .next = NULL,
    .control = frame_control,
    .vread = frame_vread,
    .vwrite = frame_vwrite,
    .pulse = NULL,
    .timer = frame_timer,
    .pic = NULL,
    .option_list = NULL,
    .name = NULL, /* qvm names it after the .so (vdev_factory: "should typically be NULL") */
    .factory_flags = VFF_MUTEX | VFF_MUTEX_RECURSIVE,
    .acc_sizes = (1u << 1) | (1u << 2) | (1u << 4) | ((unsigned)1u << 8),
    .extra_space = 0u,
};

__attribute__((constructor)) static void frame_register(void)
{
    svd_qvm_factory.option_list = svd_qvm_device.options;
    svd_qvm_factory.factory_flags |= svd_qvm_device.factory_flags;
    svd_qvm_factory.extra_space = (unsigned)sizeof(frame_block) + svd_qvm_device.inst_size;
    vdev_register_factory(&svd_qvm_factory, QVM_VDEV_ABI);
}
