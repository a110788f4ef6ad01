/* Helpers shared by the qvm adapters; see qvm_common.h. Everything here works
 * on caller storage (the instance block): no static state. */
#include "qvm_common.h"

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
        memcpy(b->value, value, n);
        b->value[n] = '\0';
    }
}

void svd_qvm_badopt_report(const svd_qvm_badopt *b, const char *vdev)
{
    if ((b != NULL) && b->set) {
        qvm_report("%s: option '%s' value '%s' rejected: %s", vdev, b->name, b->value, b->why);
    }
}

void svd_qvm_opt_action(svd_qvm_badopt *bad, const char *name, const char *value, svd_wdt_action *out)
{
    svd_wdt_action a = SVD_WDT_ACTION_RESET;
    if (svd_is_ok(svd_wdt_action_parse(value, &a))) {
        *out = a;
    } else {
        svd_qvm_badopt_set(bad, name, value, "want reset, terminate, dump or none");
    }
}

void svd_qvm_wdt_status(svd_wdt_action a, uint64_t actions, char *buf, size_t len)
{
    (void)snprintf(buf, len, "action %s, expiries acted on %llu", svd_wdt_action_name(a),
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

void svd_qvm_mem_unmap(svd_qvm_mem *m)
{
    if (m == NULL) {
        return;
    }
    for (uint32_t i = 0; i < m->n; i++) {
        if (m->win[i].host != NULL) {
            gasp_unmap(m->win[i].host, (size_t)m->win[i].size, 0);
            m->win[i].host = NULL;
        }
    }
    m->mapped = false;
}

svd_result svd_qvm_mem_map(svd_qvm_mem *m, const vdev_t *vdp, svd_gmem *gm)
{
    SVD_ENSURE((m != NULL) && (gm != NULL), SVD_ERR_INVALID_ARG);
    if (m->mapped) {
        return svd_ok();
    }
    svd_gmem_init(gm);
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
        svd_qvm_mem_unmap(m);
        svd_gmem_init(gm);
        return svd_fail(SVD_ERR_SOURCE);
    }
    m->mapped = true;
    return svd_ok();
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
    memset(&td, 0, sizeof td);
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
    if ((vdp == NULL) || (cur == NULL) || (*cur == level)) {
        return EOK;
    }
    int rc = guest_intr_signal(&vdp->v_intr, level ? GIS_ON : GIS_OFF);
    if (rc == EOK) {
        *cur = level;
    }
    return rc;
}

vdev_ref_status_t svd_qvm_reply(struct guest_cpu *gcp, const struct qvm_state_block *oopnd, uint32_t width,
                                uint64_t val)
{
    uint8_t b[8];
    if ((width == 0u) || (width > sizeof b)) {
        return VRS_BUS_ERROR;
    }
    svd_store_le64(b, val);
    return (guest_cpu_write(gcp, GXF_NONE, oopnd, 1u, b, width) == EOK) ? VRS_NORMAL : VRS_BUS_ERROR;
}

vdev_ref_status_t svd_qvm_fetch(struct guest_cpu *gcp, const struct qvm_state_block *oopnd, uint32_t width,
                                uint64_t *val)
{
    uint8_t b[8];
    memset(b, 0, sizeof b);
    if ((width == 0u) || (width > sizeof b) || (val == NULL)) {
        return VRS_BUS_ERROR;
    }
    if (guest_cpu_read(gcp, GXF_NONE, oopnd, 1u, b, width) != EOK) {
        return VRS_BUS_ERROR;
    }
    *val = svd_load_le64(b);
    return VRS_NORMAL;
}

int svd_qvm_fdt_add(int parent, const svd_fdt_node *n, const char *vdev)
{
    const int node = gfdt_update_node(parent, n->name, n->unit);
    if (node < 0) {
        qvm_report("%s: cannot add the FDT node", vdev);
        return EIO;
    }
    uint8_t buf[SVD_FDT_MAX_PROP];
    for (uint32_t i = 0;; i++) {
        svd_fdt_propval pv;
        svd_result r = svd_fdt_prop(n, i, buf, sizeof buf, &pv);
        if (svd_is_err(r, SVD_ERR_EMPTY)) {
            return EOK;
        }
        if (!svd_is_ok(r)) {
            return EINVAL;
        }
        gfdt_update_property(node, pv.name, buf, pv.len);
    }
}
