/* libFuzzer target: qvm option strings, as qvm hands them to an adapter
 * (VDEV_CTRL_OPTIONS_START .. OPTIONS_END), driven through the real
 * vdev-svd-virtio-entropy factory (the adapter frame src/shim/qvm/qvm_frame.c
 * and the entropy table src/shim/qvm/vdev_entropy.c, linked in), plus the
 * one number grammar (core parse.h), the watchdog action parser (core) and
 * the qvm adapters' QNX-syntax `action` parser directly. Built against the
 * default (7.x) generation of the compat qvm API.
 *
 * Input: u8 selector, then text. Each '\n'-separated line "name=value" is
 * one option (loc and intr played like qvm: loc fills v_block, intr names a
 * PIC); a line without '=' is a value for option (selector % options). The
 * whole text is also fed to the parsers. The instance block is a heap block
 * of exactly the factory's extra_space, filled with junk first (qvm does not
 * promise zeroed memory), so ASan sees any access past it.
 *
 * Invariants:
 * - an accepted number lies in [min, max] and its decimal and 0x forms parse
 *   back to the same value; a refused one leaves the output untouched; a pair
 *   is accepted only with a comma; an accepted action is a known one;
 * - every control returns a defined code: OPTIONS_START and each option EOK,
 *   OPTIONS_END EOK / EINVAL / EIO (EIO only without `delayed`), ASSIGN,
 *   GUEST_CONFIGURED, GUEST_STARTING, GEN_ACPI, STATUS and BUTTON EOK,
 *   GEN_FDT EOK / EINVAL, PCI_BARS a BAR answer;
 * - an error line goes through vdev_logf() with the instance, never
 *   qvm_report(), which only STATUS uses;
 * - OPTIONS_END accepts only what the option grammar accepts: a rate value
 *   outside 0..2^30, a burst without its rate, a `delayed` that is neither
 *   1..86400 nor "forever", a `dma` that is not BASE,SIZE, or `loc` without
 *   `intr` is never EOK; a refusal is logged naming an option;
 * - nothing reaches a qvm call an option must not make (guest_cpu_*,
 *   wdog_bite). */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "qvm_frame.h"
#include "safevdev/parse.h"
#include "safevdev/ratelimit.h"
#include "safevdev/wdt.h"

/* ---- the qvm host, as far as options and set-up reach it ------------------ */

#define FQ_UNREACHABLE() FZ_CHECK(0 /* qvm host call reached from option handling */)

struct guest_timer {
    int unused;
};
static struct guest_timer fq_timer;
static struct vdev_factory *fq_factory;
static vdev_t fq_pic; /* the PIC `intr` names */
static struct guest_system {
    int unused;
} fq_gsp;
static char fq_log[512];
static unsigned fq_logs;
static unsigned fq_locks; /* gasp_lock() depth */
static bool fq_status;    /* a STATUS control is under way */

void vdev_register_factory(struct vdev_factory *factory, unsigned abi_version)
{
    FZ_CHECK(abi_version == QVM_VDEV_ABI);
    FZ_CHECK(fq_factory == NULL); /* exactly one factory per library */
    fq_factory = factory;
}

void qvm_report(const char *fmt, ...)
{
    FZ_CHECK(fq_status); /* status output only */
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(fq_log, sizeof fq_log, fmt, ap); /* formats every argument: ASan checks them */
    va_end(ap);
}

void vdev_logf(const unsigned int attr, const vdev_t *const vdp, const char *const fmt, ...)
{
    FZ_CHECK(attr == SVD_QVM_LOG_ERROR && vdp != NULL);
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(fq_log, sizeof fq_log, fmt, ap);
    va_end(ap);
    fq_logs++;
}

int gasp_lock(struct guest_system *gsp, uint16_t type)
{
    FZ_CHECK(gsp == &fq_gsp && type == QST_MEMORY);
    fq_locks++;
    return EOK;
}

void gasp_unlock(struct guest_system *gsp, uint16_t type)
{
    FZ_CHECK(gsp == &fq_gsp && type == QST_MEMORY && fq_locks > 0u);
    fq_locks--;
}

int guest_intr_signal(struct guest_intr *gip, unsigned gis)
{
    FZ_CHECK(gip != NULL && gip->pic == &fq_pic && (gis == GIS_ON || gis == GIS_OFF));
    return EOK;
}

int guest_cpu_read(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                   void *data, unsigned data_len)
{
    (void)gcp; (void)flags; (void)blk; (void)nblks; (void)data; (void)data_len; FQ_UNREACHABLE(); return -1;
}

int guest_cpu_write(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                    const void *data, unsigned data_len)
{
    (void)gcp; (void)flags; (void)blk; (void)nblks; (void)data; (void)data_len; FQ_UNREACHABLE(); return -1;
}

void *gasp_map_vdma(const vdev_t *vdev, int prot, uint64_t guest_paddr, size_t length)
{
    (void)vdev; (void)prot; (void)guest_paddr; (void)length;
    FZ_CHECK(fq_locks > 0u);
    return NULL; /* no guest RAM here: the adapter logs and carries on */
}

void gasp_unmap(struct guest_system *gsp, const void *ptr, size_t length, int const flush)
{
    (void)gsp; (void)ptr; (void)length; (void)flush; FQ_UNREACHABLE(); /* nothing is ever mapped */
}

struct guest_timer *guest_timer_create(const struct guest_cpu *gcp, const vdev_t *vdp, const void *data,
                                       uint64_t *resolutionp)
{
    (void)gcp; (void)vdp; (void)data;
    *resolutionp = UINT64_C(1000000000);
    return &fq_timer;
}

int guest_timer_notify(struct guest_timer *vtp, const struct guest_timer_data *tdp, uint64_t incr)
{
    FZ_CHECK(vtp == &fq_timer && tdp == NULL && incr > 0u);
    return EOK;
}

void guest_timer_state(const struct guest_timer *vtp, struct guest_timer_data *tdp)
{
    FZ_CHECK(vtp == &fq_timer);
    memset(tdp, 0, sizeof *tdp);
}

int gfdt_update_node(int parent, const char *nodename, uint64_t unit)
{
    (void)parent; (void)nodename; (void)unit;
    return 1;
}

void gfdt_update_property(int node, const char *propname, const void *valp, size_t vall)
{
    /* An empty property (dma-coherent) has no value: length 0. */
    FZ_CHECK(node == 1 && propname != NULL && (vall == 0u || valp != NULL));
}

int guest_msi_signal(const vdev_t *src, uint64_t addr, unsigned data)
{
    (void)src; (void)addr; (void)data; FQ_UNREACHABLE(); /* no register access here, no message */
    return EOK;
}

void acpi_add_table(struct guest_system *gsp, void *table, size_t len, uint32_t sig, uint8_t rev,
                    const char *table_id, uint32_t oem_rev)
{
    (void)oem_rev;
    /* The SSDT body of one device, under the header fields the core wrote. */
    FZ_CHECK(gsp == &fq_gsp && table != NULL && len > 0u && len <= 96u && sig == 0x54445353u && rev == 2u &&
             table_id != NULL && strlen(table_id) == 8u);
}

void wdog_bite(struct wdog_state *wds)
{
    (void)wds; FQ_UNREACHABLE();
}

/* ---- the parsers ---------------------------------------------------------- */

static const uint64_t k_bounds[][2] = {
    { 0u, UINT64_MAX }, { 1u, 64u }, { 0u, 0xffffffffu }, { 1u, UINT64_C(1) << 30 }, { 100u, 100u },
};

static void roundtrip(uint64_t v)
{
    char buf[40];
    uint64_t back = 0u;
    (void)snprintf(buf, sizeof(buf), "%" PRIu64, v);
    FZ_CHECK(svd_is_ok(svd_parse_u64(buf, 0u, UINT64_MAX, &back)) && back == v);
    (void)snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    FZ_CHECK(svd_is_ok(svd_parse_u64(buf, 0u, UINT64_MAX, &back)) && back == v);
}

static void parsers(uint8_t sel, const char *s)
{
    const uint64_t *b = k_bounds[sel % (sizeof(k_bounds) / sizeof(k_bounds[0]))];
    uint64_t v = 0xa5a5a5a5u;
    if (svd_is_ok(svd_parse_u64(s, b[0], b[1], &v))) {
        FZ_CHECK(v >= b[0] && v <= b[1]);
        roundtrip(v);
    } else {
        FZ_CHECK(v == 0xa5a5a5a5u); /* untouched on failure */
    }
    uint64_t x = 0u;
    uint64_t y = 0u;
    if (svd_is_ok(svd_parse_pair(s, &x, &y))) {
        FZ_CHECK(strchr(s, ',') != NULL);
        roundtrip(x);
        roundtrip(y);
    }
    svd_wdt_action a = SVD_WDT_ACTION__COUNT;
    if (svd_is_ok(svd_wdt_action_parse(s, &a))) {
        FZ_CHECK((unsigned)a < (unsigned)SVD_WDT_ACTION__COUNT);
    }
    /* QNX's `action` grammar: an accepted value is one of the five, spelled
     * back the same; a refused one leaves the action untouched and names it */
    svd_qvm_badopt bad;
    memset(&bad, 0, sizeof bad);
    svd_qvm_action qa = { SVD_QVM_BITE_FIQ, true };
    svd_qvm_opt_action(&bad, "action", s, &qa);
    if (bad.set) {
        FZ_CHECK(qa.bite == SVD_QVM_BITE_FIQ && qa.dump && strcmp(bad.name, "action") == 0);
    } else {
        FZ_CHECK(strcmp(svd_qvm_action_name(qa), s) == 0);
        FZ_CHECK(!(qa.bite == SVD_QVM_BITE_NONE && qa.dump));
    }
}

/* ---- the adapter -------------------------------------------------------------- */

/* What the grammar alone says about the options given (an oracle for OPTIONS_END). */
typedef struct fq_expect {
    bool refused;   /* some option must be refused */
    bool delayed;   /* a `delayed` was accepted */
    bool loc;
    bool intr;
    uint64_t rate[SVD_RATE__COUNT];
} fq_expect;

static int option_index(const char *name)
{
    for (int i = 0; fq_factory->option_list[i] != NULL; i++) {
        if (strcmp(fq_factory->option_list[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

static void expect_option(fq_expect *e, const char *name, const char *value)
{
    uint64_t v = 0u;
    uint64_t w = 0u;
    if (strcmp(name, "delayed") == 0) {
        bool ok = strcmp(value, "forever") == 0 || svd_is_ok(svd_parse_u64(value, 1u, 86400u, &v));
        e->refused |= !ok;
        e->delayed |= ok;
    } else if (strcmp(name, "dma") == 0) {
        e->refused |= !svd_is_ok(svd_parse_pair(value, &v, &w)) || w == 0u;
    } else {
        for (unsigned k = 0; k < (unsigned)SVD_RATE__COUNT; k++) {
            if (strcmp(name, svd_rate_opt_name((svd_rate_opt)k)) == 0) {
                bool ok = svd_is_ok(svd_parse_u64(value, 0u, SVD_RATE_MAX, &v));
                e->refused |= !ok;
                if (ok) {
                    e->rate[k] = v;
                }
            }
        }
    }
}

/* One option line; false when qvm itself would refuse it (unknown name, bad loc/intr). */
static bool give_option(vdev_t *vdp, fq_expect *e, uint8_t sel, char *line)
{
    char *eq = strchr(line, '=');
    const char *value = line;
    int idx = -1;
    if (eq != NULL) {
        *eq = '\0';
        value = eq + 1;
        if (strcmp(line, "loc") == 0) {
            uint64_t loc = 0u;
            if (!svd_is_ok(svd_parse_u64(value, 0u, UINT64_MAX - 1u, &loc))) {
                return false;
            }
            vdp->v_block.location = loc;
            vdp->v_block.type = QST_MEMORY;
            e->loc = true;
            return true;
        }
        if (strcmp(line, "intr") == 0) {
            vdp->v_intr.pic = &fq_pic;
            vdp->v_intr.param = (unsigned)strlen(value) % 64u;
            e->intr = true;
            return true;
        }
        idx = option_index(line);
    } else {
        unsigned n = 0u;
        while (fq_factory->option_list[n] != NULL) {
            n++;
        }
        idx = (int)(sel % n);
    }
    if (idx < 0) {
        return false;
    }
    expect_option(e, fq_factory->option_list[idx], value);
    FZ_CHECK(fq_factory->control(vdp, VDEV_CTRL_FIRST_OPTIDX + (unsigned)idx, value) == EOK);
    return true;
}

static void adapter(uint8_t sel, char *text)
{
    FZ_CHECK(fq_factory != NULL && fq_factory->extra_space > 0u);
    uint8_t *block = malloc(fq_factory->extra_space);
    FZ_CHECK(block != NULL);
    memset(block, 0xA5, fq_factory->extra_space);
    vdev_t v;
    memset(&v, 0, sizeof v);
    v.v_device = block;
    v.v_factory = fq_factory;
    v.v_gsp = &fq_gsp;
    pthread_mutexattr_t ma;
    FZ_CHECK(pthread_mutexattr_init(&ma) == 0);
    FZ_CHECK(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE) == 0);
    FZ_CHECK(pthread_mutex_init(&v.v_mtx, &ma) == 0);
    (void)pthread_mutexattr_destroy(&ma);

    FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_OPTIONS_START, NULL) == EOK);
    fq_expect e;
    memset(&e, 0, sizeof e);
    bool qvm_ok = true;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); qvm_ok && line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        qvm_ok = give_option(&v, &e, sel, line);
    }
    if (qvm_ok) {
        e.refused |= (e.rate[SVD_RATE_BURST] != 0u && e.rate[SVD_RATE_BYTES] == 0u) ||
                     (e.rate[SVD_RATE_OPS_BURST] != 0u && e.rate[SVD_RATE_OPS] == 0u) || (e.loc && !e.intr);
        fq_logs = 0u;
        const int rc = fq_factory->control(&v, VDEV_CTRL_OPTIONS_END, NULL);
        FZ_CHECK(rc == EOK || rc == EINVAL || (rc == EIO && !e.delayed));
        if (e.refused) {
            FZ_CHECK(rc != EOK);
        }
        if (rc == EINVAL) {
            FZ_CHECK(fq_logs > 0u && strstr(fq_log, "option '") != NULL);
        }
        if (rc == EOK) {
            FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_OPTIONS_END, NULL) == EBUSY);
            FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_FIRST_OPTIDX, "1") == EBUSY);
            FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_ASSIGN, NULL) == EOK);
            FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_GUEST_CONFIGURED, NULL) == EOK);
            const int acpi = fq_factory->control(&v, VDEV_CTRL_GEN_ACPI, NULL);
            FZ_CHECK(acpi == EOK || (acpi == EINVAL && e.loc));
            FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_GUEST_STARTING, NULL) == EOK);
            fq_status = true;
            FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_STATUS, NULL) == EOK);
            fq_status = false;
            FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_BUTTON, NULL) == EOK);
            const int fdt = fq_factory->control(&v, VDEV_CTRL_GEN_FDT, NULL);
            FZ_CHECK(fdt == EOK || fdt == EINVAL);
            struct vpci_bar bars[SVD_QVM_PCI_NBARS];
            const int nb = fq_factory->control(&v, VDEV_CTRL_PCI_BARS, (const char *)(void *)bars);
            FZ_CHECK(nb == 1 || nb == -SVD_QVM_PCI_NBARS);
        }
    }
    FZ_CHECK(fq_factory->control(&v, VDEV_CTRL_TERMINATE, NULL) == EOK);
    FZ_CHECK(fq_locks == 0u);
    (void)pthread_mutex_destroy(&v.v_mtx);
    free(block);
}

/* REQ: REQ-SAF-010 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0u) {
        return 0;
    }
    const uint8_t sel = data[0];
    const size_t n = size - 1u;
    char *s = malloc(n + 1u);
    FZ_CHECK(s != NULL);
    memcpy(s, data + 1, n);
    s[n] = '\0';
    parsers(sel, s);
    adapter(sel, s);
    free(s);
    return 0;
}
