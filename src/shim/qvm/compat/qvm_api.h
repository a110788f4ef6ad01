/*
 * qvm_api.h: the one include of the qvm API for safevdev adapters.
 *
 * With the QNX SDK (building for QNX, or -DSVD_QVM_SDK=1 explicitly) the real
 * headers are used; otherwise our compat declarations (qvm_compat.h), which
 * the host harness implements. -DSVD_QVM_SDK=0 forces compat.
 *
 * SVD_QVM_GEN selects the API generation: 7 (SDP 7.0/7.1, Hypervisor 2.x;
 * the default) or 8 (SDP 8.0). The SDK headers cannot tell us which
 * generation they are, so an SDP 8.0 build passes -DSVD_QVM_GEN=8.
 *
 * Below the includes, the few names that differ between generations are
 * wrapped once (SVD_QSB_TYPE, svd_vrs, SVD_QVM_CTRL_T, SVD_QVM_LOG_ERROR, the
 * gasp calls that lost their guest-system argument in 8.0) so that the
 * adapters are written once for both.
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
#ifndef SVD_QVM_GEN
#define SVD_QVM_GEN 7
#endif

#include <sys/mman.h>
#if SVD_QVM_SDK
#include <qvm/vdev-core.h>
#include <qvm/guest.h>
#include <qvm/gasp.h>
#include <qvm/types.h>
#include <qvm/vpci.h>
#include <qvm/wdog.h>
#if SVD_QVM_GEN == 8
#include <qvm/log.h>
#else
#include <qvm/outpipe.h>
#endif
/* Hypervisor 1.x's name of the config-offset macro; our own definition when
 * this SDK has none by that name (docs/qvm-compat.md). */
#ifndef SVD_QSL_PCI_OFF
#ifdef QSL_PCI_EXTRACT_OFF
#define SVD_QSL_PCI_OFF(loc) ((uint32_t)QSL_PCI_EXTRACT_OFF(loc))
#else
#define SVD_QSL_PCI_OFF(loc) ((uint32_t)((loc) & 0xffffu))
#endif
#endif
#ifndef SVD_QVM_PCI_NBARS
#define SVD_QVM_PCI_NBARS 6 /* vpci_ctrl_pci_bars() 8.0: an array of 6 */
#endif
#if SVD_QVM_GEN == 8
#define SVD_QVM_CTRL_T vdev_ctrl_options_t
#else
#define SVD_QVM_CTRL_T unsigned
#endif
#else
#include "qvm_compat.h"
#endif

/* The log level of the adapters' error lines (vdev_logf's first argument). */
#ifndef SVD_QVM_LOG_ERROR
#if SVD_QVM_GEN == 8
#define SVD_QVM_LOG_ERROR QL_QVM_ERROR
#else
#define SVD_QVM_LOG_ERROR QVM_OUTE_VDEV
#endif
#endif

/* What differs between the generations, wrapped once. */
#if SVD_QVM_GEN == 8
typedef vdev_ref_status_t svd_vrs;                 /* vread/vwrite result */
#define SVD_QSB_TYPE(b) ((b)->qst_type)            /* a state block's QST_* type */
#define SVD_GRF_FLAGS(r) ((r)->grf_flags)          /* a gasp_region's GRF_* bits */
#define SVD_GASP_LOCK(vdp) ((void)(vdp), gasp_lock(QST_MEMORY))
#define SVD_GASP_UNLOCK(vdp) ((void)(vdp), gasp_unlock(QST_MEMORY))
#define SVD_GASP_UNMAP(vdp, p, n) ((void)(vdp), gasp_unmap((p), (n), 0))
#define SVD_MSI_SIGNAL(vdp, a, d) (guest_msi_signal((vdp), (a), (d)), EOK) /* 8.0: no result */
#define SVD_ACPI_ADD(vdp, t, n, sig, rev, id, orev) ((void)(vdp), acpi_add_table((t), (n), (sig), (rev), (id), (orev)))
#else
typedef enum vdev_ref_status svd_vrs;
#define SVD_QSB_TYPE(b) ((b)->type)
#define SVD_GRF_FLAGS(r) ((r)->flags)
#define SVD_GASP_LOCK(vdp) gasp_lock((vdp)->v_gsp, QST_MEMORY)
#define SVD_GASP_UNLOCK(vdp) gasp_unlock((vdp)->v_gsp, QST_MEMORY)
#define SVD_GASP_UNMAP(vdp, p, n) gasp_unmap((vdp)->v_gsp, (p), (n), 0)
#define SVD_MSI_SIGNAL(vdp, a, d) guest_msi_signal((vdp), (a), (d))
#define SVD_ACPI_ADD(vdp, t, n, sig, rev, id, orev) acpi_add_table((vdp)->v_gsp, (t), (n), (sig), (rev), (id), (orev))
#endif

#include <errno.h>
#ifndef EOK
#define EOK 0 /* QNX's "no error"; Linux has no such name */
#endif

#endif /* SVD_QVM_API_H */
