/* The qvm helpers (src/shim/qvm/qvm_common.c, linked into this program) on
 * their own, against the harness's qvm: the inputs the adapters never pass
 * but a helper still answers in a defined way (NULL records, widths outside
 * 1..8, clocks whose tick rate makes a conversion overflow, a second map or
 * unmap, an interrupt with no PIC), and the QNX `action` grammar value by
 * value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hq.h"
#include "qvm_common.h"

#define RAM_SIZE (1u << 20)

static int group_setup(void **state)
{
    (void)state;
    const char *p = getenv("HQ_ENTROPY_SO");
    if (hq_init(RAM_SIZE) != 0) {
        return -1;
    }
    return hq_load((p != NULL) ? p : "build/qvm/vdev-svd-virtio-entropy.so");
}

static int group_teardown(void **state)
{
    (void)state;
    hq_fini();
    return 0;
}

/* REQ: REQ-WDT-041.a */
static void action_values_are_qnx_ones(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        svd_qvm_bite bite;
        bool dump;
        svd_wdt_action engine;
    } good[] = {
        { "terminate", SVD_QVM_BITE_TERMINATE, false, SVD_WDT_ACTION_TERMINATE },
        { "dump,terminate", SVD_QVM_BITE_TERMINATE, true, SVD_WDT_ACTION_DUMP },
        { "fiq", SVD_QVM_BITE_FIQ, false, SVD_WDT_ACTION_NONE },
        { "dump,fiq", SVD_QVM_BITE_FIQ, true, SVD_WDT_ACTION_NONE },
        { "none", SVD_QVM_BITE_NONE, false, SVD_WDT_ACTION_NONE },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        svd_qvm_badopt bad;
        memset(&bad, 0, sizeof bad);
        svd_qvm_action a = { SVD_QVM_BITE_NONE, true };
        svd_qvm_opt_action(&bad, "action", good[i].v, &a);
        assert_false(bad.set);
        assert_int_equal(a.bite, good[i].bite);
        assert_int_equal(a.dump, good[i].dump);
        assert_string_equal(svd_qvm_action_name(a), good[i].v);
        assert_int_equal(svd_qvm_action_engine(a), good[i].engine);
    }
    static const char *const refused[] = { "reset", "dump", "", "terminate,dump", "fiq ", "TERMINATE", NULL };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        svd_qvm_badopt bad;
        memset(&bad, 0, sizeof bad);
        svd_qvm_action a = { SVD_QVM_BITE_FIQ, true };
        svd_qvm_opt_action(&bad, "action", refused[i], &a);
        assert_true(bad.set);
        assert_int_equal(a.bite, SVD_QVM_BITE_FIQ); /* untouched */
        assert_true(a.dump);
        assert_string_equal(bad.why, "want [dump,]terminate, [dump,]fiq or none");
    }
    /* `none` has no dump form: a value the parser never makes still has a name */
    const svd_qvm_action odd = { SVD_QVM_BITE_NONE, true };
    assert_string_equal(svd_qvm_action_name(odd), "none");
    char buf[64];
    const svd_qvm_action dump_fiq = { SVD_QVM_BITE_FIQ, true };
    svd_qvm_wdt_status(dump_fiq, 7u, buf, sizeof buf);
    assert_string_equal(buf, "action dump,fiq, expiries acted on 7");
}

/* REQ: REQ-QVM-008.b */
static void bad_option_records_keep_the_first_and_cut_long_values(void **state)
{
    (void)state;
    svd_qvm_badopt_set(NULL, "x", "y", "z"); /* no record: nothing */
    svd_qvm_badopt b;
    memset(&b, 0, sizeof b);
    svd_qvm_badopt_set(&b, NULL, NULL, NULL);
    assert_true(b.set);
    assert_string_equal(b.name, "?");
    assert_string_equal(b.why, "invalid");
    assert_string_equal(b.value, "");
    svd_qvm_badopt_set(&b, "later", "v", "w"); /* only the first is kept */
    assert_string_equal(b.name, "?");
    memset(&b, 0, sizeof b);
    char longv[100];
    memset(longv, 'a', sizeof longv - 1u);
    longv[sizeof longv - 1u] = '\0';
    svd_qvm_badopt_set(&b, "n", longv, "w");
    assert_int_equal(strlen(b.value), SVD_QVM_BADVAL_MAX);
    svd_qvm_badopt_report(NULL, NULL, "x"); /* nothing to report */
    memset(&b, 0, sizeof b);
    svd_qvm_badopt_report(&b, NULL, "x"); /* not set: nothing */
}

/* REQ: REQ-QVM-016.a REQ-QVM-020 */
static void windows_and_mappings_answer_every_misuse(void **state)
{
    (void)state;
    svd_qvm_mem m;
    memset(&m, 0, sizeof m);
    assert_true(svd_is_err(svd_qvm_mem_add(NULL, 0u, 1u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_qvm_mem_add(&m, 0u, 0u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_qvm_mem_add(&m, UINT64_MAX, 2u), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_ok(svd_qvm_mem_add(&m, HQ_RAM_GPA, 0x1000u)));
    vdev_t v;
    memset(&v, 0, sizeof v);
    svd_gmem gm;
    assert_true(svd_is_err(svd_qvm_mem_map(NULL, &v, &gm), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_qvm_mem_map(&m, NULL, &gm), SVD_ERR_INVALID_ARG));
    assert_true(svd_is_err(svd_qvm_mem_map(&m, &v, NULL), SVD_ERR_INVALID_ARG));
    /* start-up: gasp calls need no lock yet (set by hq_dev_new); here the
     * helper takes it anyway, and the harness checks it is balanced */
    hq_dev *d = hq_dev_new("svd-virtio-entropy", (const char *const[]){ "delayed", "forever", NULL }, NULL);
    assert_non_null(d);
    vdev_t *vdp = hq_dev_vdev(d);
    assert_true(svd_is_ok(svd_qvm_mem_map(&m, vdp, &gm)));
    assert_true(svd_is_ok(svd_qvm_mem_map(&m, vdp, &gm))); /* mapped: nothing more */
    assert_true(svd_is_err(svd_qvm_mem_add(&m, HQ_RAM_GPA + 0x2000u, 0x10u), SVD_ERR_STATE));
    const unsigned live = hq_live_maps();
    svd_qvm_mem_unmap(&m, vdp);
    assert_int_equal(hq_live_maps(), live - 1u);
    svd_qvm_mem_unmap(&m, vdp); /* twice: harmless */
    svd_qvm_mem_unmap(NULL, vdp);
    svd_qvm_mem_unmap(&m, NULL);
    assert_int_equal(hq_live_maps(), live - 1u);
    /* a window qvm cannot map: nothing stays mapped */
    svd_qvm_mem bad;
    memset(&bad, 0, sizeof bad);
    assert_true(svd_is_ok(svd_qvm_mem_add(&bad, 0x10u, 0x10u))); /* not guest RAM here */
    assert_true(svd_is_err(svd_qvm_mem_map(&bad, vdp, &gm), SVD_ERR_SOURCE));
    assert_false(bad.mapped);
    hq_dev_free(d);
}

/* REQ: REQ-QVM-012 */
static void clock_conversions_saturate_and_round_up(void **state)
{
    (void)state;
    assert_true(svd_is_err(svd_qvm_clock_init(NULL, NULL, NULL), SVD_ERR_INVALID_ARG));
    assert_int_equal(svd_qvm_clock_now(NULL), 0u);
    svd_qvm_clock c;
    memset(&c, 0, sizeof c);
    assert_int_equal(svd_qvm_clock_now(&c), 0u); /* no timer yet */
    assert_true(svd_is_err(svd_qvm_clock_arm(NULL, 1u), SVD_ERR_STATE));
    assert_true(svd_is_err(svd_qvm_clock_arm(&c, 1u), SVD_ERR_STATE));
    svd_qvm_clock_fired(NULL);
    vdev_t v;
    memset(&v, 0, sizeof v);
    hq_fault_timer(true);
    assert_true(svd_is_err(svd_qvm_clock_init(&c, &v, NULL), SVD_ERR_SOURCE));
    hq_fault_timer(false);
    assert_true(svd_is_ok(svd_qvm_clock_init(&c, &v, NULL)));
    assert_true(svd_is_ok(svd_qvm_clock_init(&c, &v, NULL))); /* kept */
    /* a deadline in the past is "as soon as possible": one tick */
    hq_clock_advance(1000u);
    assert_true(svd_is_ok(svd_qvm_clock_arm(&c, 0u)));
    uint64_t at = 0;
    assert_true(hq_timer_armed_vdp(&v, &at));
    assert_int_equal(at, hq_clock_now() + 1u);
    svd_qvm_clock_fired(&c);
    /* a deadline whose tick count overflows at 2^34 Hz is armed as far as
     * the ticks go (the harness saturates too) */
    c.hz = UINT64_C(1) << 34;
    assert_true(svd_is_ok(svd_qvm_clock_arm(&c, UINT64_MAX)));
    assert_true(hq_timer_armed_vdp(&v, &at));
    assert_int_equal(at, UINT64_MAX);
    svd_qvm_clock_fired(&c);
    /* reading the clock: 4 Hz at 18446744073 s + 3 ticks, the whole seconds
     * still fit in ns but adding the fraction (0.75 s) would wrap: saturates */
    c.hz = 4u;
    const uint64_t t4 = UINT64_C(18446744073) * 4u + 3u;
    hq_clock_advance(t4 - hq_clock_now());
    assert_int_equal(svd_qvm_clock_now(&c), UINT64_MAX);
    /* 3 Hz far later: the whole seconds in ns already wrap: saturates */
    c.hz = 3u;
    hq_clock_advance(UINT64_MAX / 2u);
    assert_int_equal(svd_qvm_clock_now(&c), UINT64_MAX);
}

/* REQ: REQ-QVM-014.a REQ-QVM-023 */
static void transfers_refuse_widths_outside_one_to_eight(void **state)
{
    (void)state;
    struct qvm_state_block o;
    memset(&o, 0, sizeof o);
    uint64_t v = 0;
    assert_int_equal(svd_qvm_reply(NULL, &o, 0u, 1u), VRS_BUS_ERROR);
    assert_int_equal(svd_qvm_reply(NULL, &o, 9u, 1u), VRS_BUS_ERROR);
    assert_int_equal(svd_qvm_fetch(NULL, &o, 0u, &v), VRS_BUS_ERROR);
    assert_int_equal(svd_qvm_fetch(NULL, &o, 9u, &v), VRS_BUS_ERROR);
    assert_int_equal(svd_qvm_fetch(NULL, &o, 4u, NULL), VRS_BUS_ERROR);
    /* an interrupt with no PIC drives nothing and reports EOK */
    vdev_t nv;
    memset(&nv, 0, sizeof nv);
    bool cur = false;
    assert_int_equal(svd_qvm_irq_set(&nv, &cur, true), EOK);
    assert_false(cur);
    assert_int_equal(svd_qvm_irq_set(NULL, &cur, true), EOK);
    assert_int_equal(svd_qvm_irq_set(&nv, NULL, true), EOK);
}

/* REQ: REQ-QVM-005 */
static void fdt_node_qvm_cannot_add_is_logged(void **state)
{
    (void)state;
    hq_dev *d = hq_dev_new("svd-virtio-entropy",
                           (const char *const[]){ "loc", "0x1c0d0000", "intr", "gic:5", "delayed", "1", NULL }, NULL);
    assert_non_null(d);
    svd_fdt_node n;
    svd_fdt_node_init(&n);
    n.name = "x";
    hq_log_clear();
    assert_int_equal(svd_qvm_fdt_add(hq_dev_vdev(d), 0, &n, "t"), EIO); /* no GEN_FDT under way: no tree */
    assert_true(hq_log_has("t: cannot add the FDT node"));
    hq_dev_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(action_values_are_qnx_ones),
        cmocka_unit_test(bad_option_records_keep_the_first_and_cut_long_values),
        cmocka_unit_test(windows_and_mappings_answer_every_misuse),
        cmocka_unit_test(clock_conversions_saturate_and_round_up),
        cmocka_unit_test(transfers_refuse_widths_outside_one_to_eight),
        cmocka_unit_test(fdt_node_qvm_cannot_add_is_logged),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
