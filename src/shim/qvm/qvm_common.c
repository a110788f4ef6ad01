/* Helpers shared by the qvm adapters; see qvm_common.h. Everything here works
 * on caller storage (the instance block): no static state. */
#include "qvm_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "safevdev/span.h"

void svd_qvm_badopt_set(svd_qvm_badopt *b, const char *name, const char *value, const char *why)
{
    if ((b == NULL) || b->set) {
        return;
    }
    b->set = true;
    b->name = (name != NULL) ? name : "?";
    b->why = (why != NULL) ? why : "invalid";
    b->value[0] = '\0';
    if (value != NULL) {
        size_t n = strnlen(value, SVD_QVM_BADVAL_MAX);
        (void)memcpy(b->value, value, n);
        b->value[n] = '\0';
    }
}

/* Formatted here, handed to vdev_logf() as "%s": the one variadic call
 * takes a fixed format. */
void svd_qvm_log(const vdev_t *vdp, const char *fmt, ...)
{
    char line[SVD_QVM_LOG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    vdev_logf(SVD_QVM_LOG_ERROR, vdp, "%s", line);
}

void svd_qvm_badopt_report(const svd_qvm_badopt *b, const vdev_t *vdp, const char *vdev)
{
    if ((b != NULL) && b->set) {
        svd_qvm_log(vdp, "%s: option '%s' value '%s' rejected: %s", vdev, b->name, b->value, b->why);
    }
}

/* QNX's action values (wdt-sp805 user's guide: [dump,]terminate|fiq) in the
 * order of the table; `none` is ours. */
static const struct {
    const char *name;
    svd_qvm_action a;
} qvm_actions[] = {
    { "terminate", { SVD_QVM_BITE_TERMINATE, false } },
    { "dump,terminate", { SVD_QVM_BITE_TERMINATE, true } },
    { "fiq", { SVD_QVM_BITE_FIQ, false } },
    { "dump,fiq", { SVD_QVM_BITE_FIQ, true } },
    { "none", { SVD_QVM_BITE_NONE, false } },
};

void svd_qvm_opt_action(svd_qvm_badopt *bad, const char *name, const char *value, svd_qvm_action *out)
{
    for (size_t i = 0; (value != NULL) && (i < sizeof qvm_actions / sizeof qvm_actions[0]); i++) {
        if (strcmp(value, qvm_actions[i].name) == 0) {
            *out = qvm_actions[i].a;
            return;
        }
    }
    svd_qvm_badopt_set(bad, name, value, "want [dump,]terminate, [dump,]fiq or none");
}

const char *svd_qvm_action_name(svd_qvm_action a)
{
    for (size_t i = 0; i < sizeof qvm_actions / sizeof qvm_actions[0]; i++) {
        if ((qvm_actions[i].a.bite == a.bite) && (qvm_actions[i].a.dump == a.dump)) {
            return qvm_actions[i].name;
        }
    }
    return "none"; /* `none` has no dump form: never set */
}

svd_wdt_action svd_qvm_action_engine(svd_qvm_action a)
{
    if (a.bite != SVD_QVM_BITE_TERMINATE) {
        return SVD_WDT_ACTION_NONE; /* the guest keeps running */
    }
    return a.dump ? SVD_WDT_ACTION_DUMP : SVD_WDT_ACTION_TERMINATE;
}

void svd_qvm_wdt_status(svd_qvm_action a, uint64_t actions, char *buf, size_t len)
{
    (void)snprintf(buf, len, "action %s, expiries acted on %llu", svd_qvm_action_name(a),
                   (unsigned long long)actions);
}

svd_result svd_qvm_mem_add(svd_qvm_mem *m, uint64_t gpa, uint64_t size)
{
    uint64_t end = 0;
    SVD_ENSURE((m != NULL) && (size > 0u), SVD_ERR_INVALID_ARG);
    SVD_ENSURE(!m->mapped, SVD_ERR_STATE);
    SVD_ENSURE(svd_is_ok(svd_add_u64(gpa, size, &end)), SVD_ERR_INVALID_ARG);
    SVD_ENSURE(m->n < SVD_QVM_MAX_WINDOWS, SVD_ERR_NOSPACE);
    for (uint32_t i = 0; i < m->n; i++) {
        const svd_qvm_window *w = &m->win[i];
        /* [gpa,end) and [w->gpa, w->gpa+w->size) overlap unless one ends before the other starts;
         * w->gpa + w->size was checked not to wrap when w was added. */
        bool before = end <= w->gpa;
        bool after = gpa >= (w->gpa + w->size);
        SVD_ENSURE(before || after, SVD_ERR_BOUNDS);
    }
    m->win[m->n].gpa = gpa;
    m->win[m->n].size = size;
    m->win[m->n].host = NULL;
    m->n++;
    return svd_ok();
}

/* Every window's mapping released; the caller holds gasp_lock(). */
static void unmap_locked(svd_qvm_mem *m, const vdev_t *vdp)
{
    for (uint32_t i = 0; i < m->n; i++) {
        if (m->win[i].host != NULL) {
            SVD_GASP_UNMAP(vdp, m->win[i].host, (size_t)m->win[i].size);
            m->win[i].host = NULL;
        }
    }
    m->mapped = false;
}

void svd_qvm_mem_unmap(svd_qvm_mem *m, const vdev_t *vdp)
{
    if ((m == NULL) || (vdp == NULL) || !m->mapped) {
        return;
    }
    if (SVD_GASP_LOCK(vdp) != EOK) {
        /* Unmapping without the lock is what the docs forbid; the ranges are
         * left to qvm (its exit releases them) and forgotten here, so the
         * engine sees no memory any more. */
        svd_qvm_log(vdp, "guest memory lock refused: %u dma window(s) left mapped", (unsigned)m->n);
        for (uint32_t i = 0; i < m->n; i++) {
            m->win[i].host = NULL;
        }
        m->mapped = false;
        return;
    }
    unmap_locked(m, vdp);
    SVD_GASP_UNLOCK(vdp);
}

svd_result svd_qvm_mem_map(svd_qvm_mem *m, const vdev_t *vdp, svd_gmem *gm)
{
    SVD_ENSURE((m != NULL) && (vdp != NULL) && (gm != NULL), SVD_ERR_INVALID_ARG);
    if (m->mapped) {
        return svd_ok();
    }
    svd_gmem_init(gm);
    SVD_ENSURE(SVD_GASP_LOCK(vdp) == EOK, SVD_ERR_SOURCE);
    bool ok = m->n > 0u;
    for (uint32_t i = 0; ok && (i < m->n); i++) {
        svd_qvm_window *w = &m->win[i];
        if (w->size > (uint64_t)SIZE_MAX) {
            ok = false;
            break;
        }
        w->host = gasp_map_vdma(vdp, PROT_READ | PROT_WRITE, w->gpa, (size_t)w->size);
        ok = (w->host != NULL) &&
             svd_is_ok(svd_gmem_add(gm, w->gpa, w->size, w->host, SVD_GMEM_READ | SVD_GMEM_WRITE));
    }
    if (!ok) {
        unmap_locked(m, vdp);
        svd_gmem_init(gm);
    } else {
        m->mapped = true;
    }
    SVD_GASP_UNLOCK(vdp);
    return ok ? svd_ok() : svd_fail(SVD_ERR_SOURCE);
}

#define NS_PER_S UINT64_C(1000000000)
#define MAX_HZ (UINT64_C(1) << 34)

svd_result svd_qvm_clock_init(svd_qvm_clock *c, const vdev_t *vdp, void *cookie)
{
    uint64_t res = 0;
    SVD_ENSURE(c != NULL, SVD_ERR_INVALID_ARG);
    if ((c->timer != NULL) && (c->hz > 0u)) {
        c->armed = false; /* a timer kept from an earlier set-up of the same instance */
        return svd_ok();
    }
    struct guest_timer *t = guest_timer_create(NULL, vdp, cookie, &res);
    SVD_ENSURE(t != NULL, SVD_ERR_SOURCE);
    SVD_ENSURE((res > 0u) && (res <= MAX_HZ), SVD_ERR_SOURCE);
    c->timer = t;
    c->hz = res;
    c->armed = false;
    c->armed_for_ns = 0;
    return svd_ok();
}

/* ticks -> ns without a 128-bit product: whole seconds, then the remainder
 * (remainder < hz <= 2^34, times 10^9 < 2^64). */
static uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz)
{
    uint64_t s = ticks / hz;
    uint64_t rem = ticks % hz;
    uint64_t ns = 0;
    if (!svd_is_ok(svd_mul_u64(s, NS_PER_S, &ns))) {
        return UINT64_MAX;
    }
    uint64_t frac = (rem * NS_PER_S) / hz;
    if (!svd_is_ok(svd_add_u64(ns, frac, &ns))) {
        return UINT64_MAX;
    }
    return ns;
}

/* ns -> ticks, rounded up so a timer never fires early. */
static uint64_t ns_to_ticks(uint64_t ns, uint64_t hz)
{
    uint64_t s = ns / NS_PER_S;
    uint64_t rem = ns % NS_PER_S;
    uint64_t t = 0;
    if (!svd_is_ok(svd_mul_u64(s, hz, &t))) {
        return UINT64_MAX;
    }
    uint64_t frac = ((rem * hz) + (NS_PER_S - 1u)) / NS_PER_S; /* rem*hz < 2^30 * 2^34 */
    if (!svd_is_ok(svd_add_u64(t, frac, &t))) {
        return UINT64_MAX;
    }
    return t;
}

uint64_t svd_qvm_clock_now(const svd_qvm_clock *c)
{
    if ((c == NULL) || (c->timer == NULL)) {
        return 0;
    }
    struct guest_timer_data td;
    (void)memset(&td, 0, sizeof td);
    guest_timer_state(c->timer, &td);
    return ticks_to_ns(td.guest_current, c->hz);
}

svd_result svd_qvm_clock_arm(svd_qvm_clock *c, uint64_t deadline_ns)
{
    SVD_ENSURE((c != NULL) && (c->timer != NULL), SVD_ERR_STATE);
    if (c->armed && (c->armed_for_ns <= deadline_ns)) {
        return svd_ok(); /* a sooner callback is already due; it re-arms if needed */
    }
    uint64_t now = svd_qvm_clock_now(c);
    uint64_t delta = (deadline_ns > now) ? (deadline_ns - now) : 0u;
    uint64_t ticks = ns_to_ticks(delta, c->hz);
    if (ticks == 0u) {
        ticks = 1u; /* "as soon as possible" is the next tick */
    }
    SVD_ENSURE(guest_timer_notify(c->timer, NULL, ticks) == EOK, SVD_ERR_SOURCE);
    c->armed = true;
    c->armed_for_ns = deadline_ns;
    return svd_ok();
}

void svd_qvm_clock_fired(svd_qvm_clock *c)
{
    if (c != NULL) {
        c->armed = false;
    }
}

int svd_qvm_irq_set(vdev_t *vdp, bool *cur, bool level)
{
    if ((vdp == NULL) || (cur == NULL) || (*cur == level) || (vdp->v_intr.pic == NULL)) {
        return EOK;
    }
    int rc = guest_intr_signal(&vdp->v_intr, level ? GIS_ON : GIS_OFF);
    if (rc == EOK) {
        *cur = level;
    }
    return rc;
}

uint32_t svd_qvm_msi_send(vdev_t *vdp, const svd_fx *fx)
{
    uint32_t refused = 0u;
    if ((vdp == NULL) || (fx == NULL)) {
        return 0u;
    }
    /* The engine bounds n_msi by its table; the array bound is checked anyway. */
    for (uint32_t i = 0u; (i < fx->n_msi) && (i < SVD_FX_MAX_MSI); i++) {
        if (SVD_MSI_SIGNAL(vdp, fx->msi[i].addr, fx->msi[i].data) != EOK) {
            refused++;
        }
    }
    return refused;
}

svd_vrs svd_qvm_reply(struct guest_cpu *gcp, const struct qvm_state_block *oopnd, uint32_t width, uint64_t val)
{
    uint8_t b[8];
    if ((width == 0u) || (width > sizeof b)) {
        return VRS_BUS_ERROR;
    }
    svd_store_le64(b, val);
    const int rc = guest_cpu_write(gcp, GXF_NONE, oopnd, 1u, b, width);
    return (rc == EOK) ? VRS_NORMAL : guest_cpu_to_vrs(rc);
}

svd_vrs svd_qvm_fetch(struct guest_cpu *gcp, const struct qvm_state_block *oopnd, uint32_t width, uint64_t *val)
{
    uint8_t b[8];
    (void)memset(b, 0, sizeof b);
    if ((width == 0u) || (width > sizeof b) || (val == NULL)) {
        return VRS_BUS_ERROR;
    }
    const int rc = guest_cpu_read(gcp, GXF_NONE, oopnd, 1u, b, width);
    if (rc != EOK) {
        return guest_cpu_to_vrs(rc);
    }
    *val = svd_load_le64(b);
    return VRS_NORMAL;
}

int svd_qvm_fdt_add(const vdev_t *vdp, int parent, const svd_fdt_node *n, const char *vdev)
{
    const int node = gfdt_update_node(parent, n->name, n->unit);
    if (node < 0) {
        svd_qvm_log(vdp, "%s: cannot add the FDT node", vdev);
        return EIO;
    }
    uint8_t buf[SVD_FDT_MAX_PROP];
    svd_fdt_propval pv;
    uint32_t i = 0;
    svd_result r = svd_fdt_prop(n, i, buf, sizeof buf, &pv);
    while (svd_is_ok(r)) {
        gfdt_update_property(node, pv.name, buf, pv.len);
        i++;
        r = svd_fdt_prop(n, i, buf, sizeof buf, &pv);
    }
    return svd_is_err(r, SVD_ERR_EMPTY) ? EOK : EINVAL;
}
