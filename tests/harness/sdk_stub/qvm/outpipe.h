/* Stand-in for the QNX SDK's <qvm/outpipe.h> (no SDK on this host): it pulls in our
 * compat declarations, so that `make qvm-sdk-build` compiles the adapters
 * through the SDK branch of qvm_api.h (-DSVD_QVM_SDK=1) and shows that every
 * header that branch names exists in the list and nothing stops the build.
 * A real SDK build replaces this directory with the SDK's include path. */
#include "compat/qvm_compat.h"
