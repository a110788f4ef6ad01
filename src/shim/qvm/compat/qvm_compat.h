/**
 * @file qvm_compat.h
 * @brief Compat declarations of the public qvm vdev API (no QNX SDK present).
 *
 * The subset of the public QNX qvm virtual-device API that the
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
 *             header (see @ref qvm_compat, "verify with the SDK").
 *
 * Field order of structures is not ABI-relevant here: compat is only ever
 * compiled together with the harness that implements it, never against a
 * real qvm binary. With the SDK, the SDK's own layout is used.
 *
 * Thread-safety: declarations only. With ::VFF_MUTEX qvm initialises v_mtx
 * "for the vdev's own use" (structvdev__s); it is not documented to hold it
 * around callbacks, so the adapter frame locks it itself.
 */
#ifndef SVD_QVM_COMPAT_H
#define SVD_QVM_COMPAT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- opaque qvm objects ------------------------------------------------ */
/** @brief Opaque vCPU. [page] guest_cpu_read(): "gcp: a pointer to the source
 * vCPU"; the adapter only passes the pointer qvm gave it back to qvm. */
struct guest_cpu;
/** @brief Opaque guest system. [page] structvdev__s: v_gsp "the guest system
 * in which the vdev is defined". */
struct guest_system;
/** @brief Opaque qvm timer. [page] guest_timer_create(): returns a pointer to a
 * new timer structure. */
struct guest_timer;

/* ---- state blocks ------------------------------------------------------ */
/**
 * @brief Where a guest access lands or where a vdev sits.
 *
 * [page] "Reading and writing in a vdev" (dev guide): vopnd/oopnd point to
 * qvm_state_block items; fields location, length, type, flags as described on
 * the qvm_state_block reference. 7.0 names the type field `type`; the 8.0
 * examples use `qst_type` -- checked: we use `type` (7.1 page), verify.
 * The adapter MUST validate @c type, @c location and @c length of every block
 * qvm hands it before use: an access outside its window is answered as a bus
 * miss (reads of 0, writes ignored), never trusted.
 */
struct qvm_state_block {
    uint64_t location; /**< Meaning depends on @c type: guest-physical address, PCI location, ... */
    uint32_t length;   /**< Length of the access or region in bytes. */
    uint16_t type;     /**< A QST_* value (::QST_MEMORY, ::QST_PCI). */
    uint16_t flags;    /**< QSF_* bits; the adapter never sets any. */
};

/** @brief State-block type: guest-physical address. [page-v] qvm_state_types:
 * the first enumerator (0); [page] 7.0 "Data elements and their types". */
#define QST_MEMORY 0u
/** @brief State-block type: PCI configuration location. [page-v] the sixth
 * enumerator of qvm_state_types (5). */
#define QST_PCI 5u
/** @brief State-block type: x86 I/O port number. [page-v] qvm_state_types
 * (7.0): QST_X86_IO = QST_ARCH_SPECIFIC = 0x8000. */
#define QST_X86_IO 0x8000u
/** @brief "No location yet" marker (all bits set) a vdev puts in v_block at
 * OPTIONS_START. [page] QSL_NO_LOCATION. */
#define QSL_NO_LOCATION (~UINT64_C(0))
/** @brief Config-space offset of a PCI state-block location.
 * [assumed] kept in the low 16 bits (7.0 reference macro QSL_PCI_EXTRACT_OFF
 * does the same); the adapter still bounds-checks the result. */
#define SVD_QSL_PCI_OFF(loc) ((uint32_t)((loc) & 0xffffu))

/* ---- interrupts -------------------------------------------------------- */
/** @brief A vdev instance as qvm hands it to every callback (see ::vdev_s). */
typedef struct vdev_s vdev_t;
/** @brief The interrupt a vdev raises: what its `intr` option named.
 * [page] structguest__intr (7.0, 7.1): pic, param, src_id. */
struct guest_intr {
    vdev_t *pic;     /**< PIC that receives the interrupt; NULL = none configured. */
    unsigned param;  /**< Pin number and flags. */
    unsigned src_id; /**< Source identification. */
};
/** @brief guest_intr_signal() state: assert. [page-v] guest_intr_state (7.1). */
#define GIS_ON 0x01u
/** @brief guest_intr_signal() state: de-assert. [page-v] guest_intr_state (7.1). */
#define GIS_OFF 0x02u
/**
 * @brief Assert or de-assert an interrupt request.
 *
 * [page] guest_intr_signal() (8.0 page; 7.1 same name). The 8.0 prototype
 * uses typedef names for both arguments; the adapter only passes values
 * through.
 * @param gip the instance's v_intr.
 * @param gis ::GIS_ON or ::GIS_OFF.
 * @return EOK, or an error value the adapter logs; it never retries in a loop.
 */
int guest_intr_signal(struct guest_intr *gip, unsigned gis);

/* ---- the vdev instance ------------------------------------------------- */
struct vdev_factory;
/**
 * @brief One vdev instance, owned by qvm.
 *
 * [page] structvdev__s (7.0 page, same members cited by the 7.1 user's guide):
 * v_device, v_factory, v_gsp, v_block, v_intr, v_mtx (v_sched omitted: unused).
 * All per-instance adapter state lives in @c v_device; the adapter never keeps
 * a pointer to this structure beyond the callback that received it.
 */
struct vdev_s {
    void *v_device;                       /**< The instance block: extra_space bytes allocated by qvm (contents unspecified). */
    const struct vdev_factory *v_factory; /**< The factory this instance was made from. */
    struct guest_system *v_gsp;           /**< The guest system in which the vdev is defined. */
    struct qvm_state_block v_block;       /**< Where the device sits (the `loc` option). */
    struct guest_intr v_intr;             /**< The interrupt the `intr` option named. */
    pthread_mutex_t v_mtx;                /**< Instance lock, initialised by qvm when ::VFF_MUTEX is set. */
};

/**
 * @brief What a vread/vwrite callback tells qvm about the access.
 *
 * [page] vdev_ref_status (7.1: VRS_*; 7.0 header QVRS_* with the same order).
 * [page-v] numbering taken from the enumerator order on the page. The
 * adapters return only ::VRS_NORMAL (access handled, including a refused
 * access answered as a bus miss: reads of 0, writes ignored) and
 * ::VRS_BUS_ERROR (qvm could not move the value to or from the vCPU).
 */
typedef enum vdev_ref_status {
    VRS_NORMAL = 0,     /**< Access handled; advance the guest's instruction pointer. */
    VRS_NO_ADVANCE = 1, /**< Handled, but do not advance the instruction pointer. */
    VRS_ABORT = 2,      /**< Abort the access. */
    VRS_BUS_ERROR = 3,  /**< Deliver a bus error to the guest. */
    VRS_CONTINUE = 4,   /**< Not handled here; let the next handler try. */
    VRS_TERMINATE = 5,  /**< Terminate the guest. */
    VRS_ERRNO = 0x100   /**< Base of errno-carrying results (VRS_ERRNO + errno). */
} vdev_ref_status_t;

/** @brief control(): first call for an instance, before its options. [page-v] "Definitions in vdev-core.h" (7.1). */
#define VDEV_CTRL_OPTIONS_START 0u
/** @brief control(): all options given; validate them, fail the instance on a bad one. [page-v] */
#define VDEV_CTRL_OPTIONS_END 1u
/** @brief control(): the whole guest is configured. [page-v] */
#define VDEV_CTRL_GUEST_CONFIGURED 2u
/** @brief control(): the guest is terminating; release host resources. [page-v] */
#define VDEV_CTRL_TERMINATE 3u
/** @brief control(): report status to the log. [page-v] */
#define VDEV_CTRL_STATUS 4u
/** @brief control(): add ACPI tables (not used by the safevdev adapters). [page-v] */
#define VDEV_CTRL_GEN_ACPI 5u
/** @brief control(): add the device's node to the guest's FDT. [page-v] */
#define VDEV_CTRL_GEN_FDT 6u
/** @brief control(): describe the PCI BARs into the ::vpci_bar array @c arg.
 * [assumed] the 7.1 page lists PCI_BARS after BUTTON (7u) but the value was
 * cut from the text we could read; verified only by the harness; check with
 * the SDK. */
#define VDEV_CTRL_PCI_BARS 8u
/** @brief control(): option index @c n of option_list arrives as this + n.
 * [assumed] 16 in the 7.0 header reference; check with the SDK. */
#define VDEV_CTRL_FIRST_OPTIDX 16u

/** @brief Number of ::vpci_bar entries the PCI_BARS array holds.
 * [page] vpci_ctrl_pci_bars() (8.0): the callback fills an array of 6 and
 * returns -6. */
#define SVD_QVM_PCI_NBARS 6
/** @brief One BAR as the PCI_BARS control describes it. [assumed] layout:
 * map to the SDK's own structure before building for QNX (@ref qvm_compat). */
struct vpci_bar {
    uint64_t size;  /**< 0 = BAR unused; else a power of two. */
    unsigned flags; /**< ::SVD_VPCI_BAR_MEM64 or 0. */
};
/** @brief ::vpci_bar flag: a 64-bit memory BAR. [assumed] */
#define SVD_VPCI_BAR_MEM64 0x1u

/** @brief Factory flag: the interrupt is not a PCI INTx line. [page] vdev_factory_flags, [page-v] 7.0 reference. */
#define VFF_INTR_NONPCI 0x0008u
/** @brief Factory flag: the vdev is memory-mapped (MMIO). [page-v] */
#define VFF_VDEV_MEM 0x0020u
/** @brief Factory flag: the vdev is a PCI device. [page-v] */
#define VFF_VDEV_PCI 0x0080u
/** @brief Factory flag: the vdev may be an io: device (x86 I/O ports). [page-v] vdev_factory_flags (7.0). */
#define VFF_VDEV_X86_IO 0x0040u
/** @brief Factory flag: qvm initialises v_mtx for the vdev's own use. [page-v] */
#define VFF_MUTEX 0x0100u
/** @brief Factory flag: v_mtx is recursive. [page-v] */
#define VFF_MUTEX_RECURSIVE 0x0200u

/** @brief Times of a qvm timer. [page] guest_timer_data (8.0 page, 7.0
 * qvm_timer_data): host and guest times at activation and now, in timer
 * ticks. */
struct guest_timer_data {
    uint64_t host_notify_start;  /**< Host time when the notification was armed. */
    uint64_t host_current;       /**< Host time now. */
    uint64_t guest_notify_start; /**< Guest time when the notification was armed. */
    uint64_t guest_current;      /**< Guest time now (the adapters' clock). */
};

/**
 * @brief The callbacks and descriptors a vdev gives qvm.
 *
 * [page] vdev_factory (7.0 reference of the structure; 7.1 user's guide refers
 * to it for per-instance data). Only the members we fill are declared. The
 * factory object is the only writable static in an adapter .so.
 */
struct vdev_factory {
    struct vdev_factory *next; /**< qvm's list link; the adapter leaves it NULL. */
    /** Lifecycle and options: one of the VDEV_CTRL_* values, or
     * ::VDEV_CTRL_FIRST_OPTIDX + n for option n with its value in @c arg.
     * Returns EOK, or an errno value that fails the instance. */
    int (*control)(vdev_t *vdp, unsigned ctrl, const char *arg);
    /** The guest reads @c vopnd; the value goes back through @c oopnd. */
    vdev_ref_status_t (*vread)(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                               const struct qvm_state_block *oopnd, struct guest_cpu *gcp);
    /** The guest writes @c vopnd; the value comes from @c oopnd. */
    vdev_ref_status_t (*vwrite)(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                const struct qvm_state_block *oopnd, struct guest_cpu *gcp);
    /** A timer armed with guest_timer_notify() fired. */
    void (*timer)(vdev_t *vdp, void *data, const struct guest_timer_data *tdp, struct guest_cpu *gcp);
    const char *const *option_list; /**< NULL-terminated option names; index n arrives as FIRST_OPTIDX + n. */
    const char *name;               /**< Name the qvm configuration uses (`vdev <name>`). */
    unsigned factory_flags;         /**< VFF_* bits. */
    unsigned acc_sizes;             /**< Bit (1u << n) set: an n-byte access is allowed. */
    unsigned extra_space;           /**< Bytes of instance block qvm allocates into v_device. */
};

/** @brief The vdev ABI version passed to vdev_register_factory().
 * [page-v] abi.h (7.0 page). Compat only: the harness checks the value it
 * receives equals this one. */
#define QVM_VDEV_ABI 2019090401u

/**
 * @brief Add a factory to qvm's list.
 *
 * [page] vdev_register_factory() (7.0, 7.1, 8.0 pages); usually called from a
 * constructor.
 * @param factory static lifetime; qvm links it into its list.
 * @param abi_version ::QVM_VDEV_ABI.
 */
void vdev_register_factory(struct vdev_factory *factory, unsigned abi_version);

/* ---- moving data to/from the vCPU -------------------------------------- */
/** @brief guest_cpu_read()/guest_cpu_write() flags: none. [page-v] guest_xfer_flags (7.0). */
#define GXF_NONE 0u
/**
 * @brief Read what the guest writes, through the oopnd state block.
 *
 * [page] guest_cpu_read() (7.0 synopsis; 8.0 takes a size_t length and a
 * typedef'd flags).
 * @return EOK on success, else an errno value (the adapter then ignores the write).
 */
int guest_cpu_read(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                   void *data, unsigned data_len);
/**
 * @brief Hand the guest what it reads, through the oopnd state block.
 *
 * [page] guest_cpu_write() (7.0 synopsis; 8.0 takes a size_t length).
 * @return EOK on success, else an errno value.
 */
int guest_cpu_write(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                    const void *data, unsigned data_len);

/* ---- guest memory -------------------------------------------------------- */
/**
 * @brief Map a guest-physical range into the qvm process for DMA-like access.
 *
 * [page] gasp_map_vdma() (7.1). Argument order (vdev, prot, paddr, length) is
 * the 7.1 one; 8.0 examples pass flags last: verify with the SDK.
 * @param vdev the instance asking.
 * @param prot PROT_READ/PROT_WRITE from <sys/mman.h>.
 * @param guest_paddr first guest-physical byte.
 * @param length bytes to map.
 * @return the host address of @p guest_paddr, or NULL on failure.
 */
void *gasp_map_vdma(const vdev_t *vdev, int prot, uint64_t guest_paddr, size_t length);
/**
 * @brief Unmap a range mapped with gasp_map_vdma().
 *
 * [page] gasp_map_vdma() 7.1 page: "Call gasp_unmap() to unmap the address
 * range". [assumed] (ptr, length, flush) argument list, as in the 7.0
 * qvm_unmap_guest reference.
 */
void gasp_unmap(const void *ptr, size_t length, int flush);

/* ---- timers ---------------------------------------------------------------- */
/**
 * @brief Create a per-instance timer.
 *
 * [page] guest_timer_create() (7.0, 7.1, 8.0).
 * @param gcp the vCPU of the current callback, or NULL.
 * @param vdp the instance that owns the timer.
 * @param data cookie passed back to the factory's timer callback.
 * @param resolutionp receives the clock frequency (ticks per second), or an
 *        error code when NULL is returned.
 * @return the timer, or NULL.
 */
struct guest_timer *guest_timer_create(const struct guest_cpu *gcp, const vdev_t *vdp, const void *data,
                                       uint64_t *resolutionp);
/**
 * @brief Arm a timer notification.
 *
 * [page] guest_timer_notify() (7.0/7.1: relative increment in ticks with
 * @p tdp NULL for a single shot; 8.0 adds GUEST_TIMER_ABSOLUTE).
 * @return EOK or an errno value.
 */
int guest_timer_notify(struct guest_timer *vtp, const struct guest_timer_data *tdp, uint64_t incr);
/**
 * @brief Current times of a timer.
 *
 * [assumed] 7.0 header reference had qvm_gtimer_state; the adapter reads
 * guest_current as "now".
 */
void guest_timer_state(const struct guest_timer *vtp, struct guest_timer_data *tdp);

/* ---- device tree ------------------------------------------------------------ */
/**
 * @brief GEN_FDT helper: add (or find) node "<nodename>@<unit>" under @p parent.
 *
 * [assumed] Names and argument lists follow the 7.0-era qvm header as
 * republished in public repositories; no 7.1 reference page for them was
 * reachable. Verify with the SDK.
 * @return the node offset, negative on failure.
 */
int gfdt_update_node(int parent, const char *nodename, uint64_t unit);
/**
 * @brief GEN_FDT helper: set one property of @p node from @p vall raw bytes.
 *
 * [assumed] as gfdt_update_node().
 */
void gfdt_update_property(int node, const char *propname, const void *valp, size_t vall);

/* ---- logging ----------------------------------------------------------------- */
/**
 * @brief printf-like output to qvm's log.
 *
 * [page] qvm_report() (dev guide "Debugging a vdev"); used for option errors
 * and status. The adapters never pass guest-controlled text as @p fmt.
 */
void qvm_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- watchdog service ---------------------------------------------------------- */
/**
 * @brief What wdog_bite() is asked to do.
 *
 * [page] wdog_bite(), ws_action, WDOG_ACTION_TERMINATE, WDOG_FLAG_DUMP:
 * "Virtual Device Developer's API Reference", wdog.h chapter (7.0, 7.1, 8.0).
 * [assumed] the numeric values, the ws_flags member name and
 * WDOG_ACTION_RESET: not on a reachable public page; MUST be checked against
 * <qvm/wdog.h> (docs/req/wdt.md, "verify with the SDK").
 */
struct wdog_state {
    unsigned ws_action; /**< WDOG_ACTION_* */
    unsigned ws_flags;  /**< WDOG_FLAG_* [assumed name] */
};
/** @brief wdog_bite(): terminate the guest. [page] name, [assumed] value. */
#define WDOG_ACTION_TERMINATE 1u
/** @brief wdog_bite(): reset the guest. [assumed] */
#define WDOG_ACTION_RESET 3u
/** @brief wdog_bite() flag: dump the guest first. [page] name, [assumed] value. */
#define WDOG_FLAG_DUMP 0x1u
/**
 * @brief Carry out a watchdog expiry (qvm's watchdog service).
 *
 * [page] wdog_bite() (7.0, 7.1, 8.0). The adapter frame calls it when an
 * engine reports a fired watchdog.
 */
void wdog_bite(struct wdog_state *wds);

#endif /* SVD_QVM_COMPAT_H */
