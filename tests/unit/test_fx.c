/* Unit tests of the effect record every engine fills (include/safevdev/fx.h,
 * src/core/fx.c): cleared, it says "nothing to do". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/fx.h"

/* Whatever a previous call left (or an uninitialised stack slot holds),
 * a cleared effect asks for nothing: line low and unchanged, no
 * notification, no reset, no latch, nothing fired, no BAR change, no
 * deadline. */
/* REQ: REQ-VDEV-001 */
static void test_clear_means_nothing_to_do(void **state)
{
    (void)state;
    svd_fx fx;
    memset(&fx, 0xA5, sizeof(fx));
    svd_fx_clear(&fx);
    assert_false(fx.irq_level);
    assert_false(fx.irq_changed);
    assert_int_equal(fx.queue_notify, 0u);
    assert_false(fx.config_notify);
    assert_false(fx.reset);
    assert_false(fx.failed);
    assert_int_equal(fx.why, SVD_WHY_NONE);
    assert_false(fx.fired);
    assert_int_equal(fx.action, SVD_WDT_ACTION_RESET);
    assert_int_equal(fx.fires, 0u);
    assert_false(fx.bars_changed);
    assert_int_equal(fx.deadline, SVD_NO_DEADLINE);
    assert_int_equal(SVD_NO_DEADLINE, UINT64_MAX);
}

/* The same fields, whatever the record held before: none is left out.
 * (Compared field by field: padding carries no meaning.) */
static void same_fields(const svd_fx *a, const svd_fx *b)
{
    assert_int_equal(a->irq_level, b->irq_level);
    assert_int_equal(a->irq_changed, b->irq_changed);
    assert_int_equal(a->queue_notify, b->queue_notify);
    assert_int_equal(a->config_notify, b->config_notify);
    assert_int_equal(a->reset, b->reset);
    assert_int_equal(a->failed, b->failed);
    assert_int_equal(a->why, b->why);
    assert_int_equal(a->fired, b->fired);
    assert_int_equal(a->action, b->action);
    assert_int_equal(a->fires, b->fires);
    assert_int_equal(a->bars_changed, b->bars_changed);
    assert_int_equal(a->deadline, b->deadline);
}

/* REQ: REQ-VDEV-001 */
static void test_clear_leaves_no_field_behind(void **state)
{
    (void)state;
    svd_fx a;
    svd_fx b;
    memset(&a, 0x00, sizeof(a));
    memset(&b, 0xFF, sizeof(b));
    svd_fx_clear(&a);
    svd_fx_clear(&b);
    same_fields(&a, &b);
    /* A record that asked for everything, cleared, asks for nothing. */
    b.irq_level = true;
    b.irq_changed = true;
    b.queue_notify = 3u;
    b.config_notify = true;
    b.reset = true;
    b.failed = true;
    b.why = SVD_WHY_CHAIN_LOOP;
    b.fired = true;
    b.action = SVD_WDT_ACTION_DUMP;
    b.fires = 9u;
    b.bars_changed = true;
    b.deadline = 5u;
    svd_fx_clear(&b);
    same_fields(&a, &b);
    /* Clearing twice is the same as once. */
    svd_fx_clear(&a);
    same_fields(&a, &b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear_means_nothing_to_do),
        cmocka_unit_test(test_clear_leaves_no_field_behind),
    };
    return cmocka_run_group_tests_name("fx", tests, NULL, NULL);
}
