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
/* REQ: REQ-CORE-002 */
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
    /* Clearing twice is the same as once. */
    svd_fx again = fx;
    svd_fx_clear(&again);
    assert_memory_equal(&again, &fx, sizeof(fx));
}

/* A cleared record is the same whatever it held: no field is left out. */
/* REQ: REQ-CORE-002 */
static void test_clear_leaves_no_field_behind(void **state)
{
    (void)state;
    svd_fx a;
    svd_fx b;
    memset(&a, 0x00, sizeof(a));
    memset(&b, 0xFF, sizeof(b));
    svd_fx_clear(&a);
    svd_fx_clear(&b);
    assert_memory_equal(&a, &b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear_means_nothing_to_do),
        cmocka_unit_test(test_clear_leaves_no_field_behind),
    };
    return cmocka_run_group_tests_name("fx", tests, NULL, NULL);
}
