/*
 * qvm_api.h: the one include of the qvm API for safevdev adapters.
 *
 * With the QNX SDK (building for QNX, or -DSVD_QVM_SDK=1 explicitly) the real
 * headers are used; otherwise our compat declarations (qvm_compat.h), which
 * the host harness implements. -DSVD_QVM_SDK=0 forces compat.
 */
#ifndef SVD_QVM_API_H
#define SVD_QVM_API_H

#if !defined(SVD_QVM_SDK)
#if defined(__QNXNTO__) && defined(__has_include)
#if __has_include(<qvm/vdev-core.h>)
#define SVD_QVM_SDK 1
#endif
#endif
#endif
#if !defined(SVD_QVM_SDK)
#define SVD_QVM_SDK 0
#endif

#if SVD_QVM_SDK
#include <sys/mman.h>
#include <qvm/vdev-core.h>
#include <qvm/guest.h>
#include <qvm/gasp.h>
#include <qvm/wdog.h>
/* The SDK names the PCI config offset macro differently across releases;
 * see docs/qvm-compat.md ("verify with the SDK"). */
#ifndef SVD_QSL_PCI_OFF
#define SVD_QSL_PCI_OFF(loc) ((uint32_t)((loc) & 0xffffu))
#endif
/* The PCI_BARS array element and its flags are not on any public page we
 * could read: map them to the SDK's vpci_bar before building for QNX
 * (docs/qvm-compat.md, "verify with the SDK", item 1). */
#if !defined(SVD_QVM_PCI_NBARS) || !defined(SVD_VPCI_BAR_MEM64)
#error "define SVD_QVM_PCI_NBARS and SVD_VPCI_BAR_MEM64 for this SDK's struct vpci_bar"
#endif
#else
#include <sys/mman.h>
#include "qvm_compat.h"
#endif

#include <errno.h>
#ifndef EOK
#define EOK 0 /* QNX's "no error"; Linux has no such name */
#endif

#endif /* SVD_QVM_API_H */
