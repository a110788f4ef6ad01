/* The qvm stand-in: implements the compat qvm API for dlopen()ed adapters.
 * See hq.h for what it plays and how. */
#include <dlfcn.h>
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "hq.h"

#define HQ_MAX_FACTORIES 8u
#define HQ_MAX_LIBS 8u
#define HQ_MAX_DEVS 16u
#define HQ_MAX_TIMERS 32u
#define HQ_LOG_LINES 256u
#define HQ_LOG_LEN 256u
#define HQ_BLOCK_CANARY 64u
#define HQ_CANARY 0x5Au
#define HQ_PCI_LOC_BASE (UINT64_C(1) << 32) /* bus 1 */
#define HQ_MAX_BITES 64u
#define HQ_NAME_MAX 64u
#define PCI_CFG_BAR0 0x10u

/* The vCPU operand the harness hands to vread/vwrite: the adapter moves the
 * value through guest_cpu_read/write on it. */
struct guest_cpu {
    uint8_t buf[8];
    uint32_t width;
    const struct qvm_state_block *oopnd;
    bool bad; /* the adapter misused the transfer API */
    unsigned xfers;
};

struct guest_timer {
    bool used;
    bool armed;
    uint64_t deadline;
    vdev_t *vdp;
    void *data;
    uint64_t start;
};

/* The guest system qvm passes to the 7.x gasp_* calls. */
struct guest_system {
    int unused;
};

struct hq_dev {
    vdev_t v;
    uint8_t *raw; /* canary | block | canary */
    size_t block_len;
    const struct vdev_factory *f;
    bool pci;
    bool mutex_inited;
    bool have_bars;                        /* PCI_BARS answered with BARs */
    struct vpci_bar bars[SVD_QVM_PCI_NBARS]; /* qvm's copy, addresses assigned from BAR writes */
    uint32_t bar_lo[SVD_QVM_PCI_NBARS];    /* last value the guest wrote into each BAR register */
    bool writing_back;                     /* qvm's own write of a BAR value (vb_breg) is under way */
};

static struct {
    pthread_mutex_t lock;
    tg_mem ram;
    bool inited;
    struct vdev_factory *factories[HQ_MAX_FACTORIES];
    char fnames[HQ_MAX_FACTORIES][HQ_NAME_MAX]; /* factory name: its own, or its .so's */
    unsigned nfactories;
    char loading[HQ_NAME_MAX]; /* the vdev name of the .so being dlopen()ed */
    struct guest_system gsp;
    unsigned gasp_locks;       /* gasp_lock() depth */
    bool startup;              /* single-threaded start-up (OPTIONS_START .. PCI_BARS) */
    unsigned nlogf;            /* vdev_logf() lines */
    unsigned nreport;          /* qvm_report() lines */
    unsigned gasp_calls;       /* gasp_map_vdma/gasp_unmap calls made after start-up, all locked */
    int xfer_errno;            /* != 0: the next guest_cpu_read/write fails with this code */
    bool lock_fail;            /* gasp_lock() refuses (EBUSY) */
    struct { char path[512]; void *h; } libs[HQ_MAX_LIBS];
    unsigned nlibs;
    hq_dev *devs[HQ_MAX_DEVS];
    unsigned next_pci_dev;
    vdev_t pic;
    bool irq_level[HQ_PIC_PINS];
    unsigned irq_edges[HQ_PIC_PINS];
    unsigned live_maps;
    struct guest_timer timers[HQ_MAX_TIMERS];
    uint64_t now;
    int gr_err;
    int gr_count;
    unsigned gr_calls;
    bool map_fail;
    bool timer_fail;
    bool notify_fail;        /* every guest_timer_notify() fails */
    uint64_t fire_deadline;  /* deadline of the timer being dispatched (virtual ns) */
    uint64_t fire_host_ns;   /* host CLOCK_MONOTONIC when it was dispatched */
    bool firing;             /* a timer callback is running */
    void *fdt;
    long countdown;          /* > 0: the countdown-th host call from now fails */
    const char *fired;       /* name of the call that failed, NULL if none yet */
    char log[HQ_LOG_LINES][HQ_LOG_LEN];
    unsigned nlog;
    hq_bite bites[HQ_MAX_BITES];
    unsigned nbites;
    hq_msi msis[HQ_MAX_MSIS];  /* guest_msi_signal() calls, in order */
    unsigned nmsi;
    bool msi_fail;             /* guest_msi_signal() reports EIO (7.x) */
    struct { uint8_t b[HQ_ACPI_MAX]; size_t len; } acpi[HQ_MAX_ACPI]; /* acpi_add_table(), assembled */
    unsigned nacpi;
    unsigned nclocks;          /* gfdt_get_clock() nodes made in the current tree */
} hq = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Host monotonic time in ns (for the lateness of actions). */
static uint64_t host_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* Countdown fault injection (SQLite style): true when this host call must fail. */
static bool countdown_hit(const char *what)
{
    bool hit = false;
    pthread_mutex_lock(&hq.lock);
    if (hq.countdown > 0) {
        hq.countdown--;
        if (hq.countdown == 0) {
            hit = true;
            hq.fired = what;
        }
    }
    pthread_mutex_unlock(&hq.lock);
    return hit;
}

/* ---------------------------------------------------------------- qvm API */

void vdev_register_factory(struct vdev_factory *factory, unsigned abi_version)
{
    pthread_mutex_lock(&hq.lock);
    if (abi_version != QVM_VDEV_ABI) {
        snprintf(hq.log[hq.nlog % HQ_LOG_LINES], HQ_LOG_LEN, "hq: factory ABI %u refused", abi_version);
        hq.nlog++;
    } else if (hq.nfactories < HQ_MAX_FACTORIES) {
        /* vdev_factory: "If NULL, the name is filled in with the name of the
         * shared object the factory is in." */
        snprintf(hq.fnames[hq.nfactories], HQ_NAME_MAX, "%s", (factory->name != NULL) ? factory->name : hq.loading);
        hq.factories[hq.nfactories++] = factory;
    } else {
        /* table full: the test sees hq_factory() fail */
    }
    pthread_mutex_unlock(&hq.lock);
}

__attribute__((format(printf, 3, 0))) static void log_line(const char *who, bool err, const char *fmt, va_list ap)
{
    char line[HQ_LOG_LEN];
    vsnprintf(line, sizeof line, fmt, ap);
    pthread_mutex_lock(&hq.lock);
    memcpy(hq.log[hq.nlog % HQ_LOG_LINES], line, sizeof line);
    hq.nlog++;
    if (err) {
        hq.nlogf++;
    } else {
        hq.nreport++;
    }
    pthread_mutex_unlock(&hq.lock);
    if (getenv("HQ_VERBOSE") != NULL) {
        fprintf(stderr, "%s: %s\n", who, line);
    }
}

void qvm_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("qvm_report", false, fmt, ap);
    va_end(ap);
}

#if SVD_QVM_GEN == 8
void vdev_logf(qvm_log_level_t level, vdev_t const *vdp, char const *fmt, ...)
#else
void vdev_logf(const unsigned int level, const vdev_t *const vdp, const char *const fmt, ...)
#endif
{
    if ((vdp == NULL) || (level != SVD_QVM_LOG_ERROR)) {
        fail_msg("vdev_logf: no instance, or level %u is not the error level", (unsigned)level);
    }
    va_list ap;
    va_start(ap, fmt);
    log_line("vdev_logf", true, fmt, ap);
    va_end(ap);
}

/* After start-up every gasp_* call must hold gasp_lock() ("Lifecycle of a
 * vdev", "Function Safety"): a call without it fails the running test. */
static void gasp_check(const char *what)
{
    pthread_mutex_lock(&hq.lock);
    const bool bad = !hq.startup && (hq.gasp_locks == 0u);
    if (!hq.startup && !bad) {
        hq.gasp_calls++;
    }
    pthread_mutex_unlock(&hq.lock);
    if (bad) {
        fail_msg("%s after start-up without gasp_lock()", what);
    }
}

static int lock_space(uint16_t type)
{
    if (type != QST_MEMORY) {
        fail_msg("gasp_lock: type %u, the adapters lock guest memory only", (unsigned)type);
    }
    pthread_mutex_lock(&hq.lock);
    const bool refuse = hq.lock_fail;
    if (!refuse) {
        hq.gasp_locks++;
    }
    pthread_mutex_unlock(&hq.lock);
    return refuse ? EBUSY : EOK;
}

static void unlock_space(uint16_t type)
{
    pthread_mutex_lock(&hq.lock);
    const bool held = hq.gasp_locks > 0u;
    if (held) {
        hq.gasp_locks--;
    }
    pthread_mutex_unlock(&hq.lock);
    if (!held || (type != QST_MEMORY)) {
        fail_msg("gasp_unlock without a matching gasp_lock (type %u)", (unsigned)type);
    }
}

#if SVD_QVM_GEN == 8
int gasp_lock(uint16_t type)
{
    return lock_space(type);
}

void gasp_unlock(uint16_t type)
{
    unlock_space(type);
}
#else
int gasp_lock(struct guest_system *gsp, uint16_t type)
{
    if (gsp != &hq.gsp) {
        fail_msg("gasp_lock: not the instance's guest system");
    }
    return lock_space(type);
}

void gasp_unlock(struct guest_system *gsp, uint16_t type)
{
    if (gsp != &hq.gsp) {
        fail_msg("gasp_unlock: not the instance's guest system");
    }
    unlock_space(type);
}
#endif

static int xfer_check(struct guest_cpu *gcp, const struct qvm_state_block *blk, unsigned nblks, unsigned len)
{
    if ((gcp == NULL) || (blk != gcp->oopnd) || (nblks != 1u) || (len != gcp->width) || (len > 8u) ||
        (blk->length != len)) {
        if (gcp != NULL) {
            gcp->bad = true;
        }
        return EINVAL;
    }
    gcp->xfers++;
    return EOK;
}

#if SVD_QVM_GEN == 8
int guest_cpu_read(struct guest_cpu *gcp, guest_cpu_access_flags_t flags, const struct qvm_state_block *blk,
                   unsigned nblks, void *data, size_t len)
#else
int guest_cpu_read(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                   void *data, unsigned len)
#endif
{
    (void)flags;
    const unsigned data_len = (len <= 8u) ? (unsigned)len : 9u;
    int rc = xfer_check(gcp, blk, nblks, data_len);
    if ((rc == EOK) && countdown_hit("guest_cpu_read")) {
        rc = -1; /* "an exception should be sent to the guest" */
    }
    if ((rc == EOK) && (hq.xfer_errno != 0)) {
        rc = hq.xfer_errno; /* "or an error otherwise" */
        hq.xfer_errno = 0;
    }
    if (rc == EOK) {
        memcpy(data, gcp->buf, data_len);
    }
    return rc;
}

#if SVD_QVM_GEN == 8
int guest_cpu_write(struct guest_cpu *gcp, guest_cpu_access_flags_t flags, const struct qvm_state_block *blk,
                    unsigned nblks, const void *data, size_t len)
#else
int guest_cpu_write(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                    const void *data, unsigned len)
#endif
{
    (void)flags;
    const unsigned data_len = (len <= 8u) ? (unsigned)len : 9u;
    int rc = xfer_check(gcp, blk, nblks, data_len);
    if ((rc == EOK) && countdown_hit("guest_cpu_write")) {
        memset(gcp->buf, 0, sizeof gcp->buf); /* the vCPU gets a defined value */
        rc = -1;
    }
    if ((rc == EOK) && (hq.xfer_errno != 0)) {
        memset(gcp->buf, 0, sizeof gcp->buf);
        rc = hq.xfer_errno;
        hq.xfer_errno = 0;
    }
    if (rc == EOK) {
        memcpy(gcp->buf, data, data_len);
    }
    return rc;
}

void *gasp_map_vdma(const vdev_t *vdev, int prot, uint64_t guest_paddr, size_t length)
{
    (void)vdev;
    gasp_check("gasp_map_vdma");
    void *p = NULL;
    if (countdown_hit("gasp_map_vdma")) {
        return NULL;
    }
    pthread_mutex_lock(&hq.lock);
    bool inside = (length > 0u) && (guest_paddr >= hq.ram.gpa) && (guest_paddr - hq.ram.gpa <= hq.ram.size) &&
                  (length <= hq.ram.size - (size_t)(guest_paddr - hq.ram.gpa));
    if (!hq.map_fail && inside && ((prot & ~(PROT_READ | PROT_WRITE)) == 0)) {
        p = hq.ram.ram + (guest_paddr - hq.ram.gpa);
        hq.live_maps++;
    }
    pthread_mutex_unlock(&hq.lock);
    return p;
}

#if SVD_QVM_GEN == 8
void gasp_unmap(const void *ptr, size_t length, int flush)
#else
void gasp_unmap(struct guest_system *gsp, const void *ptr, size_t length, int const flush)
#endif
{
    (void)length;
    (void)flush;
#if SVD_QVM_GEN != 8
    if (gsp != &hq.gsp) {
        fail_msg("gasp_unmap: not the guest system that mapped the range");
    }
#endif
    gasp_check("gasp_unmap");
    pthread_mutex_lock(&hq.lock);
    if ((ptr != NULL) && (hq.live_maps > 0u)) {
        hq.live_maps--;
    }
    pthread_mutex_unlock(&hq.lock);
}

#if SVD_QVM_GEN == 8
int guest_intr_signal(guest_intr_t *gip, guest_intr_state_t gis)
#else
int guest_intr_signal(struct guest_intr *gip, unsigned gis)
#endif
{
    if ((gip == NULL) || (gip->pic != &hq.pic) || (gip->param >= HQ_PIC_PINS)) {
        return EINVAL;
    }
    if (countdown_hit("guest_intr_signal")) {
        return EIO;
    }
    pthread_mutex_lock(&hq.lock);
    unsigned pin = gip->param;
    if (gis == GIS_ON) {
        if (!hq.irq_level[pin]) {
            hq.irq_edges[pin]++;
        }
        hq.irq_level[pin] = true;
    } else if (gis == GIS_OFF) {
        hq.irq_level[pin] = false;
    } else {
        pthread_mutex_unlock(&hq.lock);
        return EINVAL;
    }
    pthread_mutex_unlock(&hq.lock);
    return EOK;
}

struct guest_timer *guest_timer_create(const struct guest_cpu *gcp, const vdev_t *vdp, const void *data,
                                       uint64_t *resolutionp)
{
    (void)gcp;
    struct guest_timer *t = NULL;
    if (countdown_hit("guest_timer_create")) {
        if (resolutionp != NULL) {
            *resolutionp = (uint64_t)ENOMEM;
        }
        return NULL;
    }
    pthread_mutex_lock(&hq.lock);
    for (unsigned i = 0; !hq.timer_fail && (i < HQ_MAX_TIMERS); i++) {
        if (!hq.timers[i].used) {
            t = &hq.timers[i];
            memset(t, 0, sizeof *t);
            t->used = true;
            t->vdp = (vdev_t *)(uintptr_t)vdp;
            t->data = (void *)(uintptr_t)data;
            break;
        }
    }
    pthread_mutex_unlock(&hq.lock);
    if (resolutionp != NULL) {
        *resolutionp = (t != NULL) ? UINT64_C(1000000000) : (uint64_t)ENOMEM;
    }
    return t;
}

int guest_timer_notify(struct guest_timer *vtp, const struct guest_timer_data *tdp, uint64_t incr)
{
    if ((vtp == NULL) || (tdp != NULL) || !vtp->used) {
        return EINVAL;
    }
    if (countdown_hit("guest_timer_notify")) {
        return EAGAIN;
    }
    pthread_mutex_lock(&hq.lock);
    const bool refuse = hq.notify_fail;
    pthread_mutex_unlock(&hq.lock);
    if (refuse) {
        return EAGAIN;
    }
    pthread_mutex_lock(&hq.lock);
    vtp->armed = true;
    vtp->start = hq.now;
    vtp->deadline = (incr > UINT64_MAX - hq.now) ? UINT64_MAX : hq.now + incr;
    pthread_mutex_unlock(&hq.lock);
    return EOK;
}

void guest_timer_state(const struct guest_timer *vtp, struct guest_timer_data *tdp)
{
    if ((vtp == NULL) || (tdp == NULL)) {
        return;
    }
    pthread_mutex_lock(&hq.lock);
    tdp->host_notify_start = vtp->start;
    tdp->guest_notify_start = vtp->start;
    tdp->host_current = hq.now;
    tdp->guest_current = hq.now;
    pthread_mutex_unlock(&hq.lock);
}

/* One fixed-rate clock node per frequency at the root of the tree, named
 * without a unit address (it has no reg), phandle from HQ_CLOCK_PHANDLE. */
int gfdt_get_clock(int node, unsigned freq)
{
    (void)node;
    if (hq.fdt == NULL) {
        return -1;
    }
    char name[32];
    snprintf(name, sizeof name, "qvm-clk-%u", freq);
    int off = fdt_subnode_offset(hq.fdt, 0, name);
    if (off >= 0) {
        const fdt32_t *ph = fdt_getprop(hq.fdt, off, "phandle", NULL);
        return (ph != NULL) ? (int)fdt32_to_cpu(*ph) : -1;
    }
    off = fdt_add_subnode(hq.fdt, 0, name);
    const uint32_t phandle = HQ_CLOCK_PHANDLE + hq.nclocks;
    if ((off < 0) || (fdt_setprop_string(hq.fdt, off, "compatible", "fixed-clock") != 0) ||
        (fdt_setprop_u32(hq.fdt, off, "#clock-cells", 0u) != 0) ||
        (fdt_setprop_u32(hq.fdt, off, "clock-frequency", freq) != 0) ||
        (fdt_setprop_u32(hq.fdt, off, "phandle", phandle) != 0)) {
        return -1;
    }
    hq.nclocks++;
    return (int)phandle;
}

/* qvm's side of guest_msi_signal(): every message recorded with its source. */
#if SVD_QVM_GEN == 8
void guest_msi_signal(vdev_t *src, uint64_t addr, unsigned data)
#else
int guest_msi_signal(const vdev_t *src, uint64_t addr, unsigned data)
#endif
{
    const bool fail = countdown_hit("guest_msi_signal") || hq.msi_fail;
    pthread_mutex_lock(&hq.lock);
    if (!fail && (hq.nmsi < HQ_MAX_MSIS)) {
        hq.msis[hq.nmsi].src = src;
        hq.msis[hq.nmsi].addr = addr;
        hq.msis[hq.nmsi].data = data;
        hq.nmsi++;
    }
    pthread_mutex_unlock(&hq.lock);
#if SVD_QVM_GEN != 8
    return fail ? EIO : EOK;
#endif
}

/* qvm's side of acpi_add_table() as compat reads it: the header from the
 * arguments (signature, revision, OEM table ID, OEM revision; our OEM and
 * creator IDs), the length and checksum computed, @table the body. */
static void acpi_add(const void *table, size_t len, uint32_t sig, uint8_t rev, const char *table_id, uint32_t oem_rev)
{
    pthread_mutex_lock(&hq.lock);
    if ((table == NULL) || (table_id == NULL) || (hq.nacpi >= HQ_MAX_ACPI) || (len > HQ_ACPI_MAX - 36u)) {
        pthread_mutex_unlock(&hq.lock);
        return;
    }
    uint8_t *t = hq.acpi[hq.nacpi].b;
    const uint32_t total = (uint32_t)(36u + len);
    memset(t, 0, 36u);
    for (unsigned i = 0; i < 4u; i++) {
        t[i] = (uint8_t)(sig >> (8u * i));
        t[4u + i] = (uint8_t)(total >> (8u * i));
        t[24u + i] = (uint8_t)(oem_rev >> (8u * i));
        t[32u + i] = (uint8_t)(i == 0u ? 1u : 0u); /* creator revision 1 */
    }
    t[8] = rev;
    memcpy(t + 10, "HQQVM ", 6u);
    const size_t idlen = strnlen(table_id, 8u);
    memset(t + 16, ' ', 8u);
    memcpy(t + 16, table_id, idlen);
    memcpy(t + 28, "HQ  ", 4u);
    memcpy(t + 36, table, len);
    uint8_t sum = 0;
    for (size_t i = 0; i < total; i++) {
        sum = (uint8_t)(sum + t[i]);
    }
    t[9] = (uint8_t)(0u - sum);
    hq.acpi[hq.nacpi].len = total;
    hq.nacpi++;
    pthread_mutex_unlock(&hq.lock);
}

#if SVD_QVM_GEN == 8
void acpi_add_table(void *table, size_t len, uint32_t sig, uint8_t rev, const char *table_id, uint32_t oem_rev)
{
    acpi_add(table, len, sig, rev, table_id, oem_rev);
}
#else
void acpi_add_table(struct guest_system *gsp, void *table, size_t len, uint32_t sig, uint8_t rev,
                    const char *table_id, uint32_t oem_rev)
{
    if (gsp == &hq.gsp) {
        acpi_add(table, len, sig, rev, table_id, oem_rev);
    }
}
#endif

unsigned hq_msis(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.nmsi;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

bool hq_msi_at(unsigned i, hq_msi *out)
{
    pthread_mutex_lock(&hq.lock);
    bool ok = i < hq.nmsi;
    if (ok) {
        *out = hq.msis[i];
    }
    pthread_mutex_unlock(&hq.lock);
    return ok;
}

void hq_fault_msi(bool fail)
{
    hq.msi_fail = fail;
}

void hq_msi_acpi_clear(void)
{
    pthread_mutex_lock(&hq.lock);
    hq.nmsi = 0;
    hq.nacpi = 0;
    pthread_mutex_unlock(&hq.lock);
}

unsigned hq_acpi_tables(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.nacpi;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

const uint8_t *hq_acpi_table(unsigned i, size_t *len)
{
    pthread_mutex_lock(&hq.lock);
    const uint8_t *t = (i < hq.nacpi) ? hq.acpi[i].b : NULL;
    *len = (i < hq.nacpi) ? hq.acpi[i].len : 0u;
    pthread_mutex_unlock(&hq.lock);
    return t;
}

int gfdt_update_node(int parent, const char *nodename, uint64_t unit)
{
    char name[128];
    if (hq.fdt == NULL) {
        return -1;
    }
    snprintf(name, sizeof name, "%s@%llx", nodename, (unsigned long long)unit);
    int off = fdt_subnode_offset(hq.fdt, parent, name);
    if (off < 0) {
        off = fdt_add_subnode(hq.fdt, parent, name);
    }
    return off;
}

void gfdt_update_property(int node, const char *propname, const void *valp, size_t vall)
{
    if ((hq.fdt != NULL) && (vall <= INT32_MAX)) {
        (void)fdt_setprop(hq.fdt, node, propname, valp, (int)vall);
    }
}

/* qvm's watchdog service: every bite recorded with the virtual time. */
void wdog_bite(struct wdog_state *wds)
{
    pthread_mutex_lock(&hq.lock);
    if (hq.nbites < HQ_MAX_BITES) {
        hq_bite *b = &hq.bites[hq.nbites];
        b->at_ns = hq.now;
        b->action = wds->ws_action & ~WDOG_FLAG_DUMP;
        b->flags = wds->ws_action & WDOG_FLAG_DUMP;
        b->from_timer = hq.firing;
        /* Lateness of an action carried out by a timer callback: on the
         * virtual clock (bite time - the timer's deadline) and on the host
         * (real time from the dispatch of the callback to the bite). */
        b->virt_late_ns = hq.firing ? hq.now - hq.fire_deadline : 0u;
        b->host_late_ns = hq.firing ? host_ns() - hq.fire_host_ns : 0u;
    }
    hq.nbites++;
    pthread_mutex_unlock(&hq.lock);
}

/* Interposed getrandom(2): the adapter's reference binds here (-rdynamic). */
ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    if (countdown_hit("getrandom")) {
        errno = EIO;
        return -1;
    }
    pthread_mutex_lock(&hq.lock);
    hq.gr_calls++;
    int err = 0;
    if ((hq.gr_err != 0) && (hq.gr_count != 0)) {
        err = hq.gr_err;
        if (hq.gr_count > 0) {
            hq.gr_count--;
        }
    }
    pthread_mutex_unlock(&hq.lock);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return (ssize_t)syscall(SYS_getrandom, buf, len, flags);
}

/* ---------------------------------------------------------------- harness API */

int hq_init(size_t ram_size)
{
    if (hq.inited) {
        return -1;
    }
    if (tg_mem_init(&hq.ram, HQ_RAM_GPA, ram_size) != 0) {
        return -1;
    }
    hq.inited = true;
    hq.now = 0;
    hq.next_pci_dev = 1;
    memset(hq.irq_level, 0, sizeof hq.irq_level);
    memset(hq.irq_edges, 0, sizeof hq.irq_edges);
    hq.live_maps = 0;
    hq.gr_err = 0;
    hq.gr_count = 0;
    hq.map_fail = false;
    hq.timer_fail = false;
    hq.nlog = 0;
    hq.nlogf = 0;
    hq.nreport = 0;
    hq.nbites = 0;
    hq.nmsi = 0;
    hq.msi_fail = false;
    hq.nacpi = 0;
    hq.gasp_locks = 0;
    hq.gasp_calls = 0;
    hq.xfer_errno = 0;
    hq.lock_fail = false;
    hq.startup = false;
    memset(hq.timers, 0, sizeof hq.timers);
    return 0;
}

void hq_fini(void)
{
    for (unsigned i = 0; i < HQ_MAX_DEVS; i++) {
        if (hq.devs[i] != NULL) {
            hq_dev_free(hq.devs[i]);
        }
    }
    for (unsigned i = 0; i < hq.nlibs; i++) {
        dlclose(hq.libs[i].h);
    }
    hq.nlibs = 0;
    hq.nfactories = 0;
    tg_mem_free(&hq.ram);
    hq.inited = false;
}

tg_mem *hq_ram(void)
{
    return &hq.ram;
}

int hq_load(const char *path)
{
    if (path == NULL) {
        return -1;
    }
    for (unsigned i = 0; i < hq.nlibs; i++) {
        if (strcmp(hq.libs[i].path, path) == 0) {
            return 0;
        }
    }
    if (hq.nlibs >= HQ_MAX_LIBS) {
        return -1;
    }
    /* qvm loads `vdev NAME` from vdev-NAME.so; a factory with no name of
     * its own is named after it. */
    const char *base = strrchr(path, '/');
    base = (base != NULL) ? base + 1 : path;
    if (strncmp(base, "vdev-", 5) == 0) {
        base += 5;
    }
    snprintf(hq.loading, sizeof hq.loading, "%s", base);
    char *dot = strstr(hq.loading, ".so");
    if (dot != NULL) {
        *dot = '\0';
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    hq.loading[0] = '\0';
    if (h == NULL) {
        fprintf(stderr, "hq_load: %s\n", dlerror());
        return -1;
    }
    snprintf(hq.libs[hq.nlibs].path, sizeof hq.libs[hq.nlibs].path, "%s", path);
    hq.libs[hq.nlibs].h = h;
    hq.nlibs++;
    return 0;
}

const struct vdev_factory *hq_factory(const char *name)
{
    for (unsigned i = 0; i < hq.nfactories; i++) {
        if (strcmp(hq.fnames[i], name) == 0) {
            return hq.factories[i];
        }
    }
    return NULL;
}

unsigned hq_factory_count(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.nfactories;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

static int opt_index(const struct vdev_factory *f, const char *name)
{
    for (int i = 0; (f->option_list != NULL) && (f->option_list[i] != NULL); i++) {
        if (strcmp(f->option_list[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* "pic:N": the harness has one PIC of HQ_PIC_PINS pins, any name. */
static bool parse_intr(const char *s, struct guest_intr *ip)
{
    const char *colon = (s != NULL) ? strchr(s, ':') : NULL;
    if ((colon == NULL) || (colon == s)) {
        return false;
    }
    char *end = NULL;
    unsigned long pin = strtoul(colon + 1, &end, 0);
    if ((end == colon + 1) || (*end != '\0') || (pin >= HQ_PIC_PINS)) {
        return false;
    }
    ip->pic = &hq.pic;
    ip->param = (unsigned)pin;
    ip->src_id = 0;
    return true;
}

static void dev_release(hq_dev *d)
{
    for (unsigned i = 0; i < HQ_MAX_TIMERS; i++) {
        if (hq.timers[i].used && (hq.timers[i].vdp == &d->v)) {
            memset(&hq.timers[i], 0, sizeof hq.timers[i]);
        }
    }
    for (unsigned i = 0; i < HQ_MAX_DEVS; i++) {
        if (hq.devs[i] == d) {
            hq.devs[i] = NULL;
        }
    }
    if (d->mutex_inited) {
        pthread_mutex_destroy(&d->v.v_mtx);
    }
    free(d->raw);
    free(d);
}

/* Garbage for the instance block: qvm does not promise zeroed memory. A
 * fixed-seed xorshift, never zero bytes, different in every block. */
static void fill_garbage(uint8_t *p, size_t n)
{
    static uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)((x & 0xfeu) | 1u);
    }
}

/* qvm's own options. `loc ADDR`: a memory location; `loc pci:N`: a PCI
 * location (slot N, our shorthand for qvm's pci:bus:dev.func). */
static int qvm_option(hq_dev *d, const char *on, const char *ov)
{
    if (strcmp(on, "loc") == 0) {
        const bool pci = (ov != NULL) && (strncmp(ov, "pci:", 4) == 0);
        const bool io = (ov != NULL) && (strncmp(ov, "io:", 3) == 0);
        const char *num = pci ? ov + 4 : (io ? ov + 3 : ov);
        char *end = NULL;
        unsigned long long loc = (num != NULL) ? strtoull(num, &end, 0) : 0;
        if ((num == NULL) || (end == num) || (*end != '\0') || (pci && (loc > 31u))) {
            qvm_report("hq: bad loc '%s'", (ov != NULL) ? ov : "");
            return EINVAL;
        }
        SVD_QSB_TYPE(&d->v.v_block) = pci ? (uint16_t)QST_PCI : (io ? (uint16_t)QST_X86_IO : (uint16_t)QST_MEMORY);
        d->v.v_block.location = pci ? (HQ_PCI_LOC_BASE | ((uint64_t)loc << 24)) : loc;
        return EOK;
    }
    if (!parse_intr(ov, &d->v.v_intr)) {
        qvm_report("hq: bad intr '%s'", (ov != NULL) ? ov : "");
        return EINVAL;
    }
    return EOK;
}

static void set_startup(bool on)
{
    pthread_mutex_lock(&hq.lock);
    hq.startup = on;
    pthread_mutex_unlock(&hq.lock);
}

/* The lifecycle as "Lifecycle of a vdev" and "Function Safety" document it:
 * OPTIONS_START, the options, OPTIONS_END, ASSIGN; then qvm places a PCI
 * device and asks for its BARs; GUEST_CONFIGURED (multi-threaded from here
 * on), GEN_ACPI, GUEST_STARTING. GEN_FDT, STATUS, BUTTON and TERMINATE come
 * from the tests (hq_gen_fdt, hq_dev_control, hq_dev_free). */
static int lifecycle(hq_dev *d, const char *name, const char *const *opts)
{
    const struct vdev_factory *f = d->f;
    int r = f->control(&d->v, VDEV_CTRL_OPTIONS_START, NULL);
    for (unsigned i = 0; (r == EOK) && (opts != NULL) && (opts[i] != NULL); i += 2u) {
        const char *on = opts[i];
        const char *ov = opts[i + 1u];
        if ((strcmp(on, "loc") == 0) || (strcmp(on, "intr") == 0)) {
            r = qvm_option(d, on, ov);
        } else {
            int idx = opt_index(f, on);
            if (idx < 0) {
                qvm_report("hq: unknown option '%s' for vdev %s", on, name);
                r = EINVAL;
            } else {
                r = f->control(&d->v, VDEV_CTRL_FIRST_OPTIDX + (unsigned)idx, ov);
            }
        }
        if (ov == NULL) {
            break;
        }
    }
    if (r == EOK) {
        r = f->control(&d->v, VDEV_CTRL_OPTIONS_END, NULL);
    }
    if (r == EOK) {
        r = f->control(&d->v, VDEV_CTRL_ASSIGN, NULL);
    }
    if ((r == EOK) && (SVD_QSB_TYPE(&d->v.v_block) == QST_PCI) && ((f->factory_flags & VFF_VDEV_PCI) != 0u)) {
        /* qvm puts a PCI device without a location on its bus, INTx on a pin of its own. */
        pthread_mutex_lock(&hq.lock);
        unsigned slot = hq.next_pci_dev++;
        pthread_mutex_unlock(&hq.lock);
        d->pci = true;
        if (d->v.v_block.location == QSL_NO_LOCATION) {
            d->v.v_block.location = HQ_PCI_LOC_BASE | ((uint64_t)slot << 24);
        }
        if (d->v.v_intr.pic == NULL) {
            d->v.v_intr.pic = &hq.pic;
            d->v.v_intr.param = 32u + (slot % 32u);
        }
        memset(d->bars, 0xA5, sizeof d->bars); /* the vdev fills every entry */
        const int nb = f->control(&d->v, VDEV_CTRL_PCI_BARS, (const char *)(void *)d->bars);
        d->have_bars = nb == -SVD_QVM_PCI_NBARS;
        if (!d->have_bars && (nb <= 0)) {
            r = EINVAL; /* neither BARs nor "none" */
        }
    }
    set_startup(false);
    if (r == EOK) {
        r = f->control(&d->v, VDEV_CTRL_GUEST_CONFIGURED, NULL);
    }
    if (r == EOK) {
        r = f->control(&d->v, VDEV_CTRL_GEN_ACPI, NULL);
    }
    if (r == EOK) {
        r = f->control(&d->v, VDEV_CTRL_GUEST_STARTING, NULL);
    }
    return r;
}

hq_dev *hq_dev_new(const char *name, const char *const *opts, int *rc)
{
    int dummy = 0;
    if (rc == NULL) {
        rc = &dummy;
    }
    *rc = EINVAL;
    const struct vdev_factory *f = hq_factory(name);
    if (f == NULL) {
        return NULL;
    }
    hq_dev *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return NULL;
    }
    d->f = f;
    d->block_len = f->extra_space;
    d->raw = malloc(d->block_len + 2u * HQ_BLOCK_CANARY);
    if (d->raw == NULL) {
        free(d);
        return NULL;
    }
    memset(d->raw, HQ_CANARY, d->block_len + 2u * HQ_BLOCK_CANARY);
    fill_garbage(d->raw + HQ_BLOCK_CANARY, d->block_len);
    d->v.v_device = d->raw + HQ_BLOCK_CANARY;
    d->v.v_factory = f;
#if SVD_QVM_GEN != 8
    d->v.v_gsp = &hq.gsp;
#endif
    /* qvm's state before the vdev presets its own (unspecified: garbage-like) */
    SVD_QSB_TYPE(&d->v.v_block) = 0x7777u;
    d->v.v_block.location = UINT64_C(0x7777777777777777);
    d->v.v_block.length = 0x77u;
    if ((f->factory_flags & VFF_MUTEX) != 0u) {
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        if ((f->factory_flags & VFF_MUTEX_RECURSIVE) != 0u) {
            pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
        }
        pthread_mutex_init(&d->v.v_mtx, &a);
        pthread_mutexattr_destroy(&a);
        d->mutex_inited = true;
    }
    pthread_mutex_lock(&hq.lock);
    bool placed = false;
    for (unsigned i = 0; i < HQ_MAX_DEVS; i++) {
        if (hq.devs[i] == NULL) {
            hq.devs[i] = d;
            placed = true;
            break;
        }
    }
    pthread_mutex_unlock(&hq.lock);
    if (!placed) {
        dev_release(d);
        return NULL;
    }
    set_startup(true);
    int r = lifecycle(d, name, opts);
    set_startup(false);
    *rc = r;
    if (r != EOK) {
        (void)f->control(&d->v, VDEV_CTRL_TERMINATE, NULL);
        pthread_mutex_lock(&hq.lock);
        dev_release(d);
        pthread_mutex_unlock(&hq.lock);
        return NULL;
    }
    return d;
}

bool hq_dev_block_intact(const hq_dev *d)
{
    for (size_t i = 0; i < HQ_BLOCK_CANARY; i++) {
        if ((d->raw[i] != HQ_CANARY) || (d->raw[HQ_BLOCK_CANARY + d->block_len + i] != HQ_CANARY)) {
            return false;
        }
    }
    return true;
}

void hq_dev_free(hq_dev *d)
{
    if (d == NULL) {
        return;
    }
    (void)d->f->control(&d->v, VDEV_CTRL_TERMINATE, NULL);
    pthread_mutex_lock(&hq.lock);
    dev_release(d);
    pthread_mutex_unlock(&hq.lock);
}

int hq_dev_control(hq_dev *d, unsigned ctrl, const char *arg)
{
    return d->f->control(&d->v, ctrl, arg);
}

vdev_t *hq_dev_vdev(hq_dev *d)
{
    return &d->v;
}

bool hq_dev_is_pci(const hq_dev *d)
{
    return d->pci;
}

uint64_t hq_dev_loc(const hq_dev *d)
{
    return d->v.v_block.location;
}

unsigned hq_dev_pin(const hq_dev *d)
{
    return d->v.v_intr.param;
}

/* BAR @i's guest address as qvm assigned it from the guest's BAR writes, and
 * whether the region is live (assigned and trapping the direction). */
static bool bar_region(const hq_dev *d, unsigned i, bool write, uint64_t *base, uint64_t *len)
{
    const struct vpci_bar *b = &d->bars[i];
    const struct gasp_region *r = &b->vb_mapping;
    const uint32_t want = write ? GRF_VIRT_WR : GRF_VIRT_RD;
    if (!d->have_bars || (r->vdev != &d->v) || ((SVD_GRF_FLAGS(r) & want) == 0u) ||
        (SVD_QSB_TYPE(&r->guest) != QST_MEMORY) || (r->guest.location == 0u)) {
        return false;
    }
    *base = r->guest.location;
    *len = r->guest.length;
    return true;
}

/* The vPCI side of qvm: a guest write into a BAR register assigns the BAR
 * an address (the written value within the BAR's size, the upper half from
 * the next register for a 64-bit BAR), moves the trapping region there and,
 * as vb_breg asks, writes the BAR's value back to the device. */
static void bar_written(hq_dev *d, uint32_t off)
{
    if (!d->have_bars || (off < PCI_CFG_BAR0) || (off >= PCI_CFG_BAR0 + 4u * SVD_QVM_PCI_NBARS)) {
        return;
    }
    unsigned i = (off - PCI_CFG_BAR0) / 4u;
    if ((i > 0u) && (d->bars[i].vb_mapping.guest.length == 0u) && ((d->bars[i - 1u].vb_value & 0x4u) != 0u)) {
        i--; /* the upper half of a 64-bit BAR */
    }
    struct vpci_bar *b = &d->bars[i];
    const uint64_t len = b->vb_mapping.guest.length;
    if (len == 0u) {
        return;
    }
    const bool mem64 = (b->vb_value & 0x4u) != 0u;
    const uint64_t lo = d->bar_lo[i] & ~(uint64_t)(len - 1u) & UINT64_C(0xfffffff0);
    const uint64_t hi = mem64 ? d->bar_lo[i + 1u] : 0u;
    b->vb_value = (uint32_t)lo | (mem64 ? 0x4u : 0u);
    b->vb_value_upper = (uint32_t)hi;
    b->vb_mapping.guest.location = (hi << 32) | lo;
    if (b->vb_breg != 0u) {
        uint64_t v = b->vb_value;
        d->writing_back = true;
        (void)hq_access(d, true, QST_PCI, b->vb_breg, 4u, &v);
        d->writing_back = false;
    }
}

/* Where a memory access lands: the device's window (a memory device), a
 * BAR region the device set up at PCI_BARS; anything else reaches no vdev. */
static bool routed(const hq_dev *d, unsigned type, bool write, uint64_t loc, unsigned width, unsigned *cookie)
{
    if (!d->pci) {
        const uint64_t base = d->v.v_block.location;
        if ((unsigned)SVD_QSB_TYPE(&d->v.v_block) != type) {
            return false; /* an I/O access to a memory device or the reverse */
        }
        *cookie = 0u;
        return (loc >= base) && (loc - base < d->v.v_block.length) && (d->v.v_block.length - (loc - base) >= width);
    }
    for (unsigned i = 0; i < SVD_QVM_PCI_NBARS; i++) {
        uint64_t base = 0;
        uint64_t len = 0;
        if (bar_region(d, i, write, &base, &len) && (loc >= base) && (loc - base < len) && (len - (loc - base) >= width)) {
            *cookie = d->bars[i].vb_mapping.cookie;
            return true;
        }
    }
    return false;
}

int hq_access(hq_dev *d, bool write, unsigned type, uint64_t loc, unsigned width, uint64_t *val)
{
    if ((width == 0u) || (width > 8u) || ((d->f->acc_sizes & (1u << width)) == 0u)) {
        return HQ_REFUSED;
    }
    unsigned cookie = 0u;
    if (((type == QST_MEMORY) || (type == QST_X86_IO)) && !routed(d, type, write, loc, width, &cookie)) {
        return HQ_UNROUTED;
    }
    struct qvm_state_block vop;
    struct qvm_state_block oop;
    memset(&vop, 0, sizeof vop);
    memset(&oop, 0, sizeof oop);
    SVD_QSB_TYPE(&vop) = (uint16_t)type;
    vop.length = width;
    vop.location = (type == QST_PCI) ? (d->v.v_block.location | (loc & 0xffffu)) : loc;
    SVD_QSB_TYPE(&oop) = 2u; /* a vCPU register (QST_CPUREGS in the reference) */
    oop.length = width;
    oop.location = 0;
    struct guest_cpu cpu;
    memset(&cpu, 0, sizeof cpu);
    cpu.width = width;
    cpu.oopnd = &oop;
    int r;
    if (write) {
        uint64_t v = *val;
        for (unsigned i = 0; i < 8u; i++) {
            cpu.buf[i] = (uint8_t)(v >> (8u * i));
        }
        r = (int)d->f->vwrite(&d->v, cookie, &vop, &oop, &cpu);
    } else {
        memset(cpu.buf, 0xEE, sizeof cpu.buf); /* a read must overwrite this */
        r = (int)d->f->vread(&d->v, cookie, &vop, &oop, &cpu);
        uint64_t v = 0;
        for (unsigned i = 0; i < width; i++) {
            v |= (uint64_t)cpu.buf[i] << (8u * i);
        }
        *val = v;
    }
    if (cpu.bad || (cpu.xfers != 1u)) {
        return HQ_XFER_ERR; /* exactly one transfer of exactly the access width */
    }
    if (write && !d->writing_back && (type == QST_PCI) && (width == 4u) && ((loc & 3u) == 0u) &&
        (r == (int)VRS_NORMAL)) {
        const uint32_t off = (uint32_t)(loc & 0xffffu);
        if ((off >= PCI_CFG_BAR0) && (off < PCI_CFG_BAR0 + 4u * SVD_QVM_PCI_NBARS)) {
            d->bar_lo[(off - PCI_CFG_BAR0) / 4u] = (uint32_t)*val;
            bar_written(d, off);
        }
    }
    return r;
}

bool hq_bar(const hq_dev *d, unsigned i, struct vpci_bar *out)
{
    if (!d->have_bars || (i >= SVD_QVM_PCI_NBARS)) {
        return false;
    }
    *out = d->bars[i];
    return true;
}

unsigned hq_gasp_locked_calls(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.gasp_calls;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

void hq_fault_gasp_lock(bool fail)
{
    pthread_mutex_lock(&hq.lock);
    hq.lock_fail = fail;
    pthread_mutex_unlock(&hq.lock);
}

void hq_forget_maps(void)
{
    pthread_mutex_lock(&hq.lock);
    hq.live_maps = 0;
    pthread_mutex_unlock(&hq.lock);
}

void hq_fault_xfer_errno(int err)
{
    hq.xfer_errno = err;
}

unsigned hq_logf_count(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.nlogf;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

unsigned hq_report_count(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.nreport;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

int hq_gen_fdt(hq_dev *d, void *blob, size_t cap)
{
    if ((cap > INT32_MAX) || (fdt_create_empty_tree(blob, (int)cap) != 0)) {
        return -1;
    }
    (void)fdt_setprop_u32(blob, 0, "#address-cells", 2u);
    (void)fdt_setprop_u32(blob, 0, "#size-cells", 2u);
    hq.fdt = blob;
    hq.nclocks = 0;
    int r = d->f->control(&d->v, VDEV_CTRL_GEN_FDT, (const char *)(uintptr_t)0);
    hq.fdt = NULL;
    return r;
}

bool hq_irq_level(unsigned pin)
{
    pthread_mutex_lock(&hq.lock);
    bool l = (pin < HQ_PIC_PINS) && hq.irq_level[pin];
    pthread_mutex_unlock(&hq.lock);
    return l;
}

unsigned hq_irq_edges(unsigned pin)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = (pin < HQ_PIC_PINS) ? hq.irq_edges[pin] : 0u;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

unsigned hq_live_maps(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.live_maps;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

unsigned hq_live_timers(void)
{
    unsigned n = 0;
    pthread_mutex_lock(&hq.lock);
    for (unsigned i = 0; i < HQ_MAX_TIMERS; i++) {
        n += hq.timers[i].used ? 1u : 0u;
    }
    pthread_mutex_unlock(&hq.lock);
    return n;
}

bool hq_timer_armed_vdp(const vdev_t *vdp, uint64_t *deadline)
{
    bool armed = false;
    pthread_mutex_lock(&hq.lock);
    for (unsigned i = 0; i < HQ_MAX_TIMERS; i++) {
        const struct guest_timer *t = &hq.timers[i];
        if (t->used && (t->vdp == vdp) && t->armed) {
            armed = true;
            if (deadline != NULL) {
                *deadline = t->deadline;
            }
        }
    }
    pthread_mutex_unlock(&hq.lock);
    return armed;
}

bool hq_timer_armed(const hq_dev *d, uint64_t *deadline)
{
    bool armed = false;
    pthread_mutex_lock(&hq.lock);
    for (unsigned i = 0; i < HQ_MAX_TIMERS; i++) {
        const struct guest_timer *t = &hq.timers[i];
        if (t->used && (t->vdp == &d->v) && t->armed) {
            armed = true;
            if (deadline != NULL) {
                *deadline = t->deadline;
            }
        }
    }
    pthread_mutex_unlock(&hq.lock);
    return armed;
}

unsigned hq_bites(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.nbites;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

bool hq_bite_at(unsigned i, hq_bite *out)
{
    pthread_mutex_lock(&hq.lock);
    bool ok = (i < hq.nbites) && (i < HQ_MAX_BITES);
    if (ok) {
        *out = hq.bites[i];
    }
    pthread_mutex_unlock(&hq.lock);
    return ok;
}

void hq_bites_clear(void)
{
    pthread_mutex_lock(&hq.lock);
    hq.nbites = 0;
    pthread_mutex_unlock(&hq.lock);
}

uint64_t hq_clock_now(void)
{
    pthread_mutex_lock(&hq.lock);
    uint64_t n = hq.now;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

void hq_clock_advance(uint64_t ns)
{
    pthread_mutex_lock(&hq.lock);
    uint64_t target = (ns > UINT64_MAX - hq.now) ? UINT64_MAX : hq.now + ns;
    for (;;) {
        struct guest_timer *due = NULL;
        for (unsigned i = 0; i < HQ_MAX_TIMERS; i++) {
            struct guest_timer *t = &hq.timers[i];
            if (t->used && t->armed && (t->deadline <= target) && ((due == NULL) || (t->deadline < due->deadline))) {
                due = t;
            }
        }
        if (due == NULL) {
            break;
        }
        if (due->deadline > hq.now) {
            hq.now = due->deadline;
        }
        due->armed = false;
        struct guest_timer_data td = { due->start, hq.now, due->start, hq.now };
        vdev_t *vdp = due->vdp;
        void *data = due->data;
        hq.fire_deadline = due->deadline;
        hq.fire_host_ns = host_ns();
        hq.firing = true;
        pthread_mutex_unlock(&hq.lock);
        vdp->v_factory->timer(vdp, data, &td, NULL);
        pthread_mutex_lock(&hq.lock);
        hq.firing = false;
    }
    hq.now = target;
    pthread_mutex_unlock(&hq.lock);
}

void hq_fault_getrandom(int err, int count)
{
    pthread_mutex_lock(&hq.lock);
    hq.gr_err = err;
    hq.gr_count = (err == 0) ? 0 : count;
    pthread_mutex_unlock(&hq.lock);
}

unsigned hq_getrandom_calls(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.gr_calls;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

void hq_fault_countdown(long n)
{
    pthread_mutex_lock(&hq.lock);
    hq.countdown = n;
    hq.fired = NULL;
    pthread_mutex_unlock(&hq.lock);
}

const char *hq_fault_fired(void)
{
    pthread_mutex_lock(&hq.lock);
    const char *f = hq.fired;
    pthread_mutex_unlock(&hq.lock);
    return f;
}

void hq_fault_map(bool fail)
{
    pthread_mutex_lock(&hq.lock);
    hq.map_fail = fail;
    pthread_mutex_unlock(&hq.lock);
}

void hq_fault_timer(bool fail)
{
    pthread_mutex_lock(&hq.lock);
    hq.timer_fail = fail;
    pthread_mutex_unlock(&hq.lock);
}

void hq_fault_timer_notify(bool fail)
{
    pthread_mutex_lock(&hq.lock);
    hq.notify_fail = fail;
    pthread_mutex_unlock(&hq.lock);
}

bool hq_log_has(const char *needle)
{
    bool found = false;
    pthread_mutex_lock(&hq.lock);
    unsigned n = (hq.nlog < HQ_LOG_LINES) ? hq.nlog : HQ_LOG_LINES;
    for (unsigned i = 0; !found && (i < n); i++) {
        found = strstr(hq.log[i], needle) != NULL;
    }
    pthread_mutex_unlock(&hq.lock);
    return found;
}

unsigned hq_log_count(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = hq.nlog;
    pthread_mutex_unlock(&hq.lock);
    return n;
}

void hq_log_clear(void)
{
    pthread_mutex_lock(&hq.lock);
    hq.nlog = 0;
    pthread_mutex_unlock(&hq.lock);
}

void hq_log_dump(void)
{
    pthread_mutex_lock(&hq.lock);
    unsigned n = (hq.nlog < HQ_LOG_LINES) ? hq.nlog : HQ_LOG_LINES;
    for (unsigned i = 0; i < n; i++) {
        fprintf(stderr, "  log[%u]: %s\n", i, hq.log[i]);
    }
    pthread_mutex_unlock(&hq.lock);
}
