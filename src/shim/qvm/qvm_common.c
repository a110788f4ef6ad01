/* Helpers shared by the qvm adapters; see qvm_common.h. Everything here works
 * on caller storage (the instance block): no static state. */
#include "qvm_common.h"

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

/* One digit in @base, or -1. */
static int digit_of(char c, unsigned base)
{
    int d = -1;
    if ((c >= '0') && (c <= '9')) {
        d = c - '0';
    } else if ((base == 16u) && (c >= 'a') && (c <= 'f')) {
        d = c - 'a' + 10;
    } else if ((base == 16u) && (c >= 'A') && (c <= 'F')) {
        d = c - 'A' + 10;
    } else {
        d = -1;
    }
    if ((d >= 0) && ((unsigned)d >= base)) {
        d = -1;
    }
    return d;
}

/* Parse [s, end) as one number; written by hand so that no locale, sign,
 * whitespace or partial parse (strtoull's habits) can slip through. */
static svd_result parse_span(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10u;
    size_t i = 0;
    uint64_t v = 0;
    SVD_ENSURE(len > 0u, SVD_ERR_INVALID_ARG);
    if ((len > 2u) && (s[0] == '0') && ((s[1] == 'x') || (s[1] == 'X'))) {
        base = 16u;
        i = 2u;
    }
    for (; i < len; i++) {
        int d = digit_of(s[i], base);
        SVD_ENSURE(d >= 0, SVD_ERR_INVALID_ARG);
        SVD_ENSURE(svd_is_ok(svd_mul_u64(v, base, &v)), SVD_ERR_INVALID_ARG);
        SVD_ENSURE(svd_is_ok(svd_add_u64(v, (uint64_t)d, &v)), SVD_ERR_INVALID_ARG);
    }
    *out = v;
    return svd_ok();
}

svd_result svd_qvm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    SVD_ENSURE((s != NULL) && (out != NULL), SVD_ERR_INVALID_ARG);
    SVD_GUARD(parse_span(s, strnlen(s, 32u), &v));
    SVD_ENSURE(s[strnlen(s, 32u)] == '\0', SVD_ERR_INVALID_ARG); /* longer than any u64 */
    SVD_ENSURE((v >= min) && (v <= max), SVD_ERR_INVALID_ARG);
    *out = v;
    return svd_ok();
}

svd_result svd_qvm_parse_pair(const char *s, uint64_t *a, uint64_t *b)
{
    SVD_ENSURE((s != NULL) && (a != NULL) && (b != NULL), SVD_ERR_INVALID_ARG);
    size_t len = strnlen(s, 64u);
    SVD_ENSURE(s[len] == '\0', SVD_ERR_INVALID_ARG);
    const char *comma = memchr(s, ',', len);
    SVD_ENSURE(comma != NULL, SVD_ERR_INVALID_ARG);
    size_t la = (size_t)(comma - s);
    uint64_t va = 0;
    uint64_t vb = 0;
    SVD_GUARD(parse_span(s, la, &va));
    SVD_GUARD(parse_span(comma + 1, len - la - 1u, &vb));
    *a = va;
    *b = vb;
    return svd_ok();
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
