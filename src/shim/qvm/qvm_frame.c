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
    bool timer_failed_logged; /* "cannot arm" was logged */
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

/* Carry out a fired watchdog's action through qvm's watchdog service.
 * Returns true when the guest was reset. */
static bool carry_out(svd_qvm_frame *f, const svd_fx *fx)
{
    const char *name = svd_qvm_device.name;
    struct wdog_state ws;
    bool reset = false;
    memset(&ws, 0, sizeof ws);
    f->actions++;
    switch (fx->action) {
    case SVD_WDT_ACTION_RESET:
        qvm_report("%s: watchdog expired: resetting the guest", name);
        ws.ws_action = WDOG_ACTION_RESET;
        wdog_bite(&ws);
        reset = true;
        break;
    case SVD_WDT_ACTION_TERMINATE:
        qvm_report("%s: watchdog expired: terminating the guest", name);
        ws.ws_action = WDOG_ACTION_TERMINATE;
        wdog_bite(&ws);
        break;
    case SVD_WDT_ACTION_DUMP:
        qvm_report("%s: watchdog expired: dumping, then terminating the guest", name);
        ws.ws_action = WDOG_ACTION_TERMINATE;
        ws.ws_flags = WDOG_FLAG_DUMP;
        wdog_bite(&ws);
        break;
    case SVD_WDT_ACTION_NONE:
    case SVD_WDT_ACTION__COUNT:
    default:
        qvm_report("%s: watchdog expired (action none: logged only, %u expiries)", name, (unsigned)fx->fires);
        break;
    }
    return reset;
}

/* The line and the latch of one effect. */
static void apply_line(vdev_t *vdp, svd_qvm_frame *f, const svd_fx *fx)
{
    if (fx->failed) {
        qvm_report("%s: device needs reset: %s", svd_qvm_device.name, svd_why_name(fx->why));
    }
    (void)svd_qvm_irq_set(vdp, &f->irq, fx->irq_level);
}

/* Arm the instance timer for @deadline; false when qvm refused it twice
 * (a refusal is retried at once: a transient one costs nothing). */
static bool arm(svd_qvm_frame *f, uint64_t deadline)
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
        qvm_report("%s: cannot arm the guest timer", svd_qvm_device.name);
    }
    return false;
}

/* Carry out a fired action; after a reset action the device is reset as a
 * guest reset resets it. Returns the effect whose deadline now counts. */
static const svd_fx *act(vdev_t *vdp, frame_block *b, const svd_fx *fx, uint64_t now, svd_fx *after)
{
    if (carry_out(&b->f, fx) && (svd_qvm_device.reset != NULL)) {
        svd_qvm_device.reset(b->dev, now, after);
        apply_line(vdp, &b->f, after);
        return after; /* the reset device's deadline replaces the old one */
    }
    return fx;
}

/* Apply everything @fx asks for (see qvm_frame.h). */
static void apply(vdev_t *vdp, frame_block *b, const svd_fx *fx, uint64_t now)
{
    const svd_fx *last = fx;
    svd_fx after;
    apply_line(vdp, &b->f, fx);
    if (fx->fired) {
        last = act(vdp, b, fx, now, &after);
    }
    if (arm(&b->f, last->deadline) || (svd_qvm_device.reset == NULL) || last->fired) {
        /* Armed; or a device that never fires (its pending work waits for
         * the guest's next access); or the action was just carried out. */
        return;
    }
    /* Fail-safe: a watchdog whose expiry can no longer be timed does not
     * wait for a guest that may never touch it again; it carries out its
     * configured action now, as if it had expired. */
    qvm_report("%s: watchdog cannot be timed: carrying out its action now (fail-safe)", svd_qvm_device.name);
    svd_fx now_fx = *last;
    now_fx.fired = true;
    now_fx.fires = 1u;
    last = act(vdp, b, &now_fx, now, &after);
    (void)arm(&b->f, last->deadline);
}

/* ---- accesses ---------------------------------------------------------------- */

/* One access to a ready instance (v_mtx held): the value read, or @v as
 * written. A space the device has no registers in reads 0. */
static uint64_t perform(vdev_t *vdp, frame_block *b, const struct qvm_state_block *vopnd, uint32_t width,
                        bool write, uint64_t v)
{
    svd_qvm_frame *f = &b->f;
    const bool cfg = vopnd->type == QST_PCI;
    const bool io = vopnd->type == QST_X86_IO;
    if (!cfg && !io && (vopnd->type != QST_MEMORY)) {
        f->refused++;
        return 0u;
    }
    const svd_space sp = cfg ? SVD_SPACE_PCI_CFG : (io ? SVD_SPACE_IO : SVD_SPACE_MEM);
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

static vdev_ref_status_t access(vdev_t *vdp, bool write, const struct qvm_state_block *vopnd,
                                const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    if ((vopnd == NULL) || (oopnd == NULL)) {
        return VRS_NORMAL;
    }
    const uint32_t width = (vopnd->length <= 8u) ? (uint32_t)vopnd->length : 8u;
    uint64_t v = 0u;
    if (write) {
        const vdev_ref_status_t st = svd_qvm_fetch(gcp, oopnd, width, &v);
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

static vdev_ref_status_t frame_vread(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                     const struct qvm_state_block *oopnd, struct guest_cpu *gcp)
{
    (void)cookie;
    return access(vdp, false, vopnd, oopnd, gcp);
}

static vdev_ref_status_t frame_vwrite(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
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
        svd_qvm_device.terminate(b->dev);
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
    memset(&keep, 0, sizeof keep);
    if ((b->f.magic == FRAME_MAGIC) || (b->f.magic == FRAME_MAGIC_DEAD)) {
        (void)pthread_mutex_lock(&vdp->v_mtx);
        if (b->f.magic == FRAME_MAGIC) {
            terminate(vdp, b);
        }
        keep = b->f.clock;
        keep.armed = false;
        (void)pthread_mutex_unlock(&vdp->v_mtx);
    }
    memset(b, 0, sizeof(frame_block) + svd_qvm_device.inst_size);
    b->f.clock = keep;
    b->f.magic = FRAME_MAGIC;
    if (svd_qvm_device.start != NULL) {
        svd_qvm_device.start(b->dev);
    }
    vdp->v_block.type = QST_MEMORY;
    vdp->v_block.location = QSL_NO_LOCATION;
    return EOK;
}

static int options_end(vdev_t *vdp, frame_block *b)
{
    svd_qvm_frame *f = &b->f;
    int rc = EOK;
    if (f->bad.set) {
        rc = EINVAL;
    } else if (!svd_is_ok(svd_qvm_clock_init(&f->clock, vdp, b))) {
        qvm_report("%s: cannot create a guest timer", svd_qvm_device.name);
        rc = EIO;
    } else {
        rc = svd_qvm_device.options_end(vdp, b->dev, &f->bad, svd_qvm_clock_now(&f->clock));
        if (f->bad.set) {
            rc = EINVAL;
        }
    }
    if (f->bad.set) {
        svd_qvm_badopt_report(&f->bad, svd_qvm_device.name);
    }
    f->ready = rc == EOK;
    return rc;
}

/* PCI_BARS: the argument is the caller's BAR array (docs/qvm-compat.md),
 * passed through the const char * every command shares. */
static int pci_bars(const frame_block *b, const char *arg)
{
    if ((svd_qvm_device.pci_bar0 == NULL) || (arg == NULL)) {
        return 1; /* positive: this device exposes no BARs */
    }
    union {
        const char *arg;
        struct vpci_bar *bars;
    } u;
    u.arg = arg;
    struct vpci_bar *bars = u.bars;
    for (int i = 0; i < SVD_QVM_PCI_NBARS; i++) {
        bars[i].size = 0u;
        bars[i].flags = 0u;
    }
    return svd_qvm_device.pci_bar0(b->dev, &bars[0]) ? -SVD_QVM_PCI_NBARS : 1;
}

static void status(const frame_block *b)
{
    char part[SVD_QVM_STATUS_MAX];
    part[0] = '\0';
    svd_qvm_device.status(b->dev, b->f.actions, part, sizeof part);
    qvm_report("%s: %s, refused accesses %llu", svd_qvm_device.name, part, (unsigned long long)b->f.refused);
}

/* Every command but OPTIONS_START and the options; v_mtx held. */
static int command(vdev_t *vdp, frame_block *b, unsigned ctrl, const char *arg)
{
    const svd_qvm_frame *f = &b->f;
    int rc = EOK;
    switch (ctrl) {
    case VDEV_CTRL_OPTIONS_END:
        rc = f->ready ? EBUSY : options_end(vdp, b);
        break;
    case VDEV_CTRL_GUEST_CONFIGURED:
        if (f->ready && (svd_qvm_device.configured != NULL)) {
            svd_qvm_device.configured(vdp, b->dev);
        }
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
    case VDEV_CTRL_PCI_BARS:
        rc = f->ready ? pci_bars(b, arg) : 1;
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
        break; /* GEN_ACPI, BUTTON and unknown commands: nothing to do */
    }
    return rc;
}

static int frame_control(vdev_t *vdp, unsigned ctrl, const char *arg)
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
    .timer = frame_timer,
    .option_list = NULL,
    .name = NULL,
    .factory_flags = VFF_MUTEX | VFF_MUTEX_RECURSIVE,
    .acc_sizes = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8),
    .extra_space = 0u,
};

__attribute__((constructor)) static void frame_register(void)
{
    svd_qvm_factory.option_list = svd_qvm_device.options;
    svd_qvm_factory.name = svd_qvm_device.name;
    svd_qvm_factory.factory_flags |= svd_qvm_device.factory_flags;
    svd_qvm_factory.extra_space = (unsigned)sizeof(frame_block) + svd_qvm_device.inst_size;
    vdev_register_factory(&svd_qvm_factory, QVM_VDEV_ABI);
}
