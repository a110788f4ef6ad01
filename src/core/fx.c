/* The effect record every engine fills (see fx.h). */
#include "safevdev/fx.h"

#include "core_priv.h"

void svd_fx_clear(svd_fx *fx)
{
    svd_fx_reset(fx);
}
