/* The effect record every engine fills (see fx.h). */
#include "safevdev/fx.h"

#include <string.h>

void svd_fx_clear(svd_fx *fx)
{
    (void)memset(fx, 0, sizeof(*fx));
    fx->why = SVD_WHY_NONE;
    fx->action = SVD_WDT_ACTION_RESET;
    fx->deadline = SVD_NO_DEADLINE;
}
