/*
 * qvm_compat.h: the subset of the public QNX qvm virtual-device API that the
 * safevdev adapters use, declared in our own words for hosts without the
 * QNX SDK (the Linux test harness). Never include this file directly: include
 * "qvm_api.h", which prefers the SDK headers when they are present.
 *
 * Source: QNX Hypervisor "Virtual Device Developer's API Reference"
 * (com.qnx.doc.hypervisor.vdev.api), pages for SDP 7.1 / Hypervisor 2.2,
 * cross-read with the 7.0 and 8.0 editions where 7.1 pages were not
 * reachable. Every declaration below names the page it follows and how it
 * was checked:
 *   [page]    name, argument list and meaning read on that reference page;
 *   [page-v]  the reference page gives the numeric value, copied as a number;
 *   [assumed] not on any public page we could reach: our choice, chosen so
 *             the harness can play qvm; MUST be checked against the SDK
 *             header (see docs/qvm-compat.md, "verify with the SDK").
 * Field order of structures is not ABI-relevant here: compat is only ever
 * compiled together with the harness that implements it, never against a
 * real qvm binary. With the SDK, the SDK's own layout is used.
 */
#ifndef SVD_QVM_COMPAT_H
#define SVD_QVM_COMPAT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- opaque qvm objects ------------------------------------------------ */
/* [page] guest_cpu_read(): "gcp: a pointer to the source vCPU"; the adapter
 * only passes the pointer qvm gave it back to qvm. */
struct guest_cpu;
/* [page] structvdev__s: v_gsp "the guest system in which the vdev is defined". */
struct guest_system;
/* [page] guest_timer_create(): returns a pointer to a new timer structure. */
struct guest_timer;

/* ---- state blocks ------------------------------------------------------ */
/* [page] "Reading and writing in a vdev" (dev guide): vopnd/oopnd point to
 * qvm_state_block items; fields location, length, type, flags as described on
 * the qvm_state_block reference. 7.0 names the type field `type`; the 8.0
 * examples use `qst_type` -- checked: we use `type` (7.1 page), verify. */
struct qvm_state_block {
    uint64_t location; /* meaning depends on type: guest-physical address, PCI location, ... */
    uint32_t length;   /* bytes */
    uint16_t type;     /* a QST_* value */
    uint16_t flags;    /* QSF_* bits; the adapter never sets any */
};

/* [page-v] qvm_state_types: QST_MEMORY (guest-physical address) is the first
 * enumerator (0); QST_PCI is the sixth (5). [page] 7.0 "Data elements and
 * their types". */
#define QST_MEMORY 0u
#define QST_PCI 5u
/* [page] QSL_NO_LOCATION: "no location yet" marker used by vdevs at
 * OPTIONS_START (all bits set). */
#define QSL_NO_LOCATION (~UINT64_C(0))
/* [assumed] a PCI location keeps the config-space offset in its low 16 bits
 * (7.0 reference macro QSL_PCI_EXTRACT_OFF does the same). */
#define SVD_QSL_PCI_OFF(loc) ((uint32_t)((loc) & 0xffffu))

/* ---- interrupts -------------------------------------------------------- */
typedef struct vdev_s vdev_t;
/* [page] structguest__intr (7.0, 7.1): pic, param, src_id. */
struct guest_intr {
    vdev_t *pic;     /* PIC that receives the interrupt; NULL = none configured */
    unsigned param;  /* pin number + flags */
    unsigned src_id; /* source identification */
};
/* [page-v] guest_intr_state (7.1): GIS_ON 0x01 assert, GIS_OFF 0x02 de-assert. */
#define GIS_ON 0x01u
#define GIS_OFF 0x02u
/* [page] guest_intr_signal() (8.0 page; 7.1 same name): assert or de-assert an
 * interrupt request; returns EOK or an error value. The 8.0 prototype uses
 * typedef names for both arguments; the adapter only passes values through. */
int guest_intr_signal(struct guest_intr *gip, unsigned gis);

/* ---- the vdev instance ------------------------------------------------- */
/* [page] structvdev__s (7.0 page, same members cited by the 7.1 user's guide):
 * v_device, v_factory, v_gsp, v_block, v_intr, v_mtx (v_sched omitted: unused). */
struct vdev_factory;
struct vdev_s {
    void *v_device;                      /* extra_space bytes, the instance block */
    const struct vdev_factory *v_factory;
    struct guest_system *v_gsp;
    struct qvm_state_block v_block;      /* where the device sits (loc) */
    struct guest_intr v_intr;            /* what `intr` named */
    pthread_mutex_t v_mtx;               /* initialised by qvm when VFF_MUTEX */
};

/* [page] vdev_ref_status (7.1: VRS_*; 7.0 header QVRS_* with the same order):
 * NORMAL=0, NO_ADVANCE, ABORT, BUS_ERROR, CONTINUE, TERMINATE; ERRNO base 0x100.
 * [page-v] numbering taken from the enumerator order on the page. */
typedef enum vdev_ref_status {
    VRS_NORMAL = 0,
    VRS_NO_ADVANCE = 1,
    VRS_ABORT = 2,
    VRS_BUS_ERROR = 3,
    VRS_CONTINUE = 4,
    VRS_TERMINATE = 5,
    VRS_ERRNO = 0x100
} vdev_ref_status_t;

/* [page-v] "Definitions in vdev-core.h" (7.1): commands for control(). */
#define VDEV_CTRL_OPTIONS_START 0u
#define VDEV_CTRL_OPTIONS_END 1u
#define VDEV_CTRL_GUEST_CONFIGURED 2u
#define VDEV_CTRL_TERMINATE 3u
#define VDEV_CTRL_STATUS 4u
#define VDEV_CTRL_GEN_ACPI 5u
#define VDEV_CTRL_GEN_FDT 6u
/* [assumed] the 7.1 page lists PCI_BARS after BUTTON (7u) but the value was
 * cut from the text we could read; FIRST_OPTIDX is 16 in the 7.0 header
 * reference. Both verified only by the harness; check with the SDK. */
#define VDEV_CTRL_PCI_BARS 8u
#define VDEV_CTRL_FIRST_OPTIDX 16u

/* [page] vpci_ctrl_pci_bars() (8.0): the PCI_BARS callback fills an array of
 * 6 vpci_bar objects pointed to by arg and returns -6. [assumed] layout. */
#define SVD_QVM_PCI_NBARS 6
struct vpci_bar {
    uint64_t size;  /* 0 = BAR unused; else a power of two */
    unsigned flags; /* SVD_VPCI_BAR_* */
};
#define SVD_VPCI_BAR_MEM64 0x1u

/* [page] vdev_factory_flags (7.0 header reference QVFF_*, 7.1 VFF_* names):
 * [page-v] values from the 7.0 reference. */
#define VFF_INTR_NONPCI 0x0008u
#define VFF_VDEV_MEM 0x0020u
#define VFF_VDEV_PCI 0x0080u
#define VFF_MUTEX 0x0100u
#define VFF_MUTEX_RECURSIVE 0x0200u

/* [page] guest_timer_data (8.0 page, 7.0 qvm_timer_data): host/guest times at
 * activation and now. */
struct guest_timer_data {
    uint64_t host_notify_start;
    uint64_t host_current;
    uint64_t guest_notify_start;
    uint64_t guest_current;
};

/* [page] vdev_factory (7.0 reference of the structure; 7.1 user's guide refers
 * to it for per-instance data): the callbacks and descriptors a vdev gives qvm.
 * Only the members we fill are declared. */
struct vdev_factory {
    struct vdev_factory *next; /* qvm's list link */
    int (*control)(vdev_t *vdp, unsigned ctrl, const char *arg);
    vdev_ref_status_t (*vread)(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                               const struct qvm_state_block *oopnd, struct guest_cpu *gcp);
    vdev_ref_status_t (*vwrite)(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                const struct qvm_state_block *oopnd, struct guest_cpu *gcp);
    void (*timer)(vdev_t *vdp, void *data, const struct guest_timer_data *tdp, struct guest_cpu *gcp);
    const char *const *option_list; /* NULL-terminated names; index n arrives as FIRST_OPTIDX+n */
    const char *name;
    unsigned factory_flags; /* VFF_* */
    unsigned acc_sizes;     /* bit (1u << n) set = an n-byte access is allowed */
    unsigned extra_space;   /* bytes of instance block qvm allocates into v_device */
};

/* [page-v] abi.h (7.0 page): QVM_VDEV_ABI 2019090401u. Compat only: the
 * harness checks the value it receives equals this one. */
#define QVM_VDEV_ABI 2019090401u

/* [page] vdev_register_factory() (7.0, 7.1, 8.0 pages): add the factory to
 * qvm's list; static lifetime; usually called from a constructor. */
void vdev_register_factory(struct vdev_factory *factory, unsigned abi_version);

/* ---- moving data to/from the vCPU -------------------------------------- */
/* [page-v] guest_xfer_flags (7.0): GXF_NONE 0. */
#define GXF_NONE 0u
/* [page] guest_cpu_read() / guest_cpu_write() (7.0 synopsis; 8.0 takes a
 * size_t length and a typedef'd flags): read what the guest wrote / hand the
 * guest what it reads, through the oopnd state block; EOK on success. */
int guest_cpu_read(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                   void *data, unsigned data_len);
int guest_cpu_write(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                    const void *data, unsigned data_len);

/* ---- guest memory -------------------------------------------------------- */
/* [page] gasp_map_vdma() (7.1): map a guest-physical range into the qvm
 * process for DMA-like access by a vdev; NULL on failure. Argument order
 * (vdev, prot, paddr, length) is the 7.1 one; 8.0 examples pass flags last:
 * verify with the SDK. prot uses PROT_READ/PROT_WRITE from <sys/mman.h>. */
void *gasp_map_vdma(const vdev_t *vdev, int prot, uint64_t guest_paddr, size_t length);
/* [page] gasp_map_vdma() 7.1 page: "Call gasp_unmap() to unmap the address
 * range". [assumed] (ptr, length, flush) argument list, as in the 7.0
 * qvm_unmap_guest reference. */
void gasp_unmap(const void *ptr, size_t length, int flush);

/* ---- timers ---------------------------------------------------------------- */
/* [page] guest_timer_create() (7.0, 7.1, 8.0): per-vdev timer, data cookie is
 * passed back to the factory timer callback; *resolutionp receives the
 * clock frequency (ticks per second) or an error code when NULL is returned. */
struct guest_timer *guest_timer_create(const struct guest_cpu *gcp, const vdev_t *vdp, const void *data,
                                       uint64_t *resolutionp);
/* [page] guest_timer_notify() (7.0/7.1: relative increment in ticks with
 * tdp NULL for a single shot; 8.0 adds GUEST_TIMER_ABSOLUTE): EOK or errno. */
int guest_timer_notify(struct guest_timer *vtp, const struct guest_timer_data *tdp, uint64_t incr);
/* [assumed] guest_timer_state(): current times of a timer (7.0 header
 * reference had qvm_gtimer_state); the adapter reads guest_current as "now". */
void guest_timer_state(const struct guest_timer *vtp, struct guest_timer_data *tdp);

/* ---- device tree ------------------------------------------------------------ */
/* [assumed] GEN_FDT helpers: add (or find) node "<name>@<unit>" under parent
 * and return its offset (negative on failure); set one property from raw
 * bytes. Names and argument lists follow the 7.0-era qvm header as
 * republished in public repositories (gfdt_update_node, gfdt_update_property);
 * no 7.1 reference page for them was reachable. Verify with the SDK. */
int gfdt_update_node(int parent, const char *nodename, uint64_t unit);
void gfdt_update_property(int node, const char *propname, const void *valp, size_t vall);

/* ---- logging ----------------------------------------------------------------- */
/* [page] qvm_report() (dev guide "Debugging a vdev"): printf-like output to
 * qvm's log; used for option errors and status. */
void qvm_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SVD_QVM_COMPAT_H */
