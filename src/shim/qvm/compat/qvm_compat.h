/**
 * @file qvm_compat.h
 * @brief Compat declarations of the public qvm vdev API, per API generation
 *        (used only where no QNX SDK is present).
 *
 * The part of the public QNX qvm virtual-device API the safevdev adapters
 * use, declared in our own words for hosts without the QNX SDK (the Linux
 * harness, the fuzzers). Never include this file directly: include
 * "qvm_api.h", which prefers the SDK headers when they are present.
 *
 * Two API generations are declared; ::SVD_QVM_GEN selects one:
 *   - 7 (default): QNX Hypervisor 2.x / Hypervisor for Safety 2.x, the
 *     "Virtual Device Developer's API Reference" of SDP 7.0 and 7.1
 *     (www.qnx.com/developers/docs/7.1/com.qnx.doc.hypervisor.vdev.api);
 *   - 8: QNX Hypervisor 8.0 (.../docs/8.0/com.qnx.doc.hypervisor.vdev.api).
 *
 * Every structure is laid out member for member in the order its reference
 * page documents, so an adapter built against these declarations has the
 * layout a qvm built from the pages expects (a trailing member we never read
 * and whose type no page gives is left out and said so: qvm allocates those
 * structures, we only read their leading members). Each declaration says the
 * page it comes from and how it was checked:
 *   [verified] name, type, argument list or member list read on that page;
 *   [assumed]  not on any public page we could read (a numeric value, a
 *              typedef's width, a member's position): our choice, to be
 *              checked against the SDK header; docs/qvm-compat.md lists each
 *              with the page that would settle it.
 * Page names are short: "vdev_factory 7.0" is
 * .../7.0.0/com.qnx.doc.hypervisor.vdev.api/topic/vdev-core/vdev_factory.html,
 * the full addresses are in docs/qvm-compat.md.
 *
 * Thread-safety: declarations only. With ::VFF_MUTEX qvm initialises v_mtx
 * "for the vdev's own use" (vdev_s 7.0); it is not documented to hold it
 * around callbacks, so the adapter frame locks it itself.
 */
#ifndef SVD_QVM_COMPAT_H
#define SVD_QVM_COMPAT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SVD_QVM_GEN
/** @brief The qvm API generation compat declares: 7 (7.0/7.1, default) or 8 (8.0). */
#define SVD_QVM_GEN 7
#endif
#if (SVD_QVM_GEN != 7) && (SVD_QVM_GEN != 8)
#error "SVD_QVM_GEN must be 7 or 8"
#endif

/* ---- opaque qvm objects ------------------------------------------------ */
/** @brief Opaque vCPU. [verified] guest_cpu_read() 7.0: "gcp: a pointer to the
 * source vCPU"; the adapter only hands it back to qvm. */
struct guest_cpu;
/** @brief Opaque guest system. [verified] vdev_s 7.0: v_gsp. */
struct guest_system;
/** @brief Opaque qvm timer. [verified] guest_timer_create() 7.0/7.1/8.0. */
struct guest_timer;
/** @brief Opaque PIC operations a PIC vdev supplies. [verified] vdev_factory
 * 7.0 member `pic` (the adapters are no PICs and leave it NULL). */
struct vdev_pic_functions;
/** @brief Opaque scheduling information. [verified] vdev_s 7.0/8.0 member
 * v_sched; its members are on no page we read (see ::vdev_s). */
struct qvm_sched_info;
#if SVD_QVM_GEN == 8
/** @brief Opaque QNX pulse. [verified] vdev_factory 8.0: pulse takes a
 * `const struct _pulse *`. */
struct _pulse;
#endif

/* ---- state blocks ------------------------------------------------------ */
#if SVD_QVM_GEN == 8
/** @brief A QST_* value. [verified] name (qvm_state_block 8.0); [assumed] width. */
typedef uint16_t qvm_state_types_t;
/** @brief QSF_* bits. [verified] name (qvm_state_block 8.0); [assumed] width. */
typedef uint16_t qvm_state_flags_t;
/**
 * @brief Where a guest access lands or where a vdev sits (8.0 layout).
 *
 * [verified] qvm_state_block 8.0: location, length (64-bit), qst_type,
 * qst_flags, spare. The adapter MUST validate the type, location and
 * length of every block qvm hands it before use.
 */
struct qvm_state_block {
    uint64_t location;           /**< Meaning depends on @c qst_type. */
    uint64_t length;             /**< Length of the access or region in bytes. */
    qvm_state_types_t qst_type;  /**< A QST_* value (::QST_MEMORY, ::QST_PCI). */
    qvm_state_flags_t qst_flags; /**< QSF_* bits; the adapter never sets any. */
    uint32_t spare;              /**< Unused. */
};
#else
/**
 * @brief Where a guest access lands or where a vdev sits (7.x layout).
 *
 * [verified] qvm_state_block 7.1: location, length (32-bit), type, flags.
 * The adapter MUST validate the type, location and length of every block
 * qvm hands it before use.
 */
struct qvm_state_block {
    uint64_t location; /**< Meaning depends on @c type: guest-physical address, PCI location, ... */
    uint32_t length;   /**< Length of the access or region in bytes. */
    uint16_t type;     /**< A QST_* value (::QST_MEMORY, ::QST_PCI). */
    uint16_t flags;    /**< QSF_* bits; the adapter never sets any. */
};
#endif

/** @brief State-block type: guest-physical address. [verified] qvm_state_types
 * 7.0: the first enumerator (0). */
#define QST_MEMORY 0u
/** @brief State-block type: PCI configuration location. [verified]
 * qvm_state_types 7.0: the sixth enumerator (5). */
#define QST_PCI 5u
/** @brief State-block type: x86 I/O port number. [verified] qvm_state_types
 * 7.0: QST_X86_IO = QST_ARCH_SPECIFIC = 0x8000. */
#define QST_X86_IO 0x8000u
/** @brief "No location yet" (all bits set). [assumed] value from the
 * Hypervisor 1.x header; no 7.x/8.0 page gives it. */
#define QSL_NO_LOCATION (~UINT64_C(0))
/** @brief Config-space offset of a PCI state-block location: the low 16 bits.
 * [assumed] the Hypervisor 1.x QSL_PCI_EXTRACT_OFF(); qvm_state_types 7.0
 * refers to QSL_PCI_MAKE_LOC without its definition. */
#define SVD_QSL_PCI_OFF(loc) ((uint32_t)((loc) & 0xffffu))

/* ---- interrupts -------------------------------------------------------- */
/** @brief A vdev instance as qvm hands it to every callback (see ::vdev_s). */
typedef struct vdev_s vdev_t;
/** @brief The interrupt a vdev raises: what its `intr` option named.
 * [verified] guest_intr 7.0: pic, param, src_id. 8.0 names the type
 * guest_intr_t; [assumed] its members are the 7.x ones. */
struct guest_intr {
    vdev_t *pic;     /**< PIC that receives the interrupt; NULL = none configured [assumed]. */
    unsigned param;  /**< Pin number and flags. */
    unsigned src_id; /**< Source identification. */
};
/** @brief guest_intr_signal() state: assert. [verified] guest_intr_state 7.1. */
#define GIS_ON 0x01u
/** @brief guest_intr_signal() state: de-assert. [verified] guest_intr_state 7.1. */
#define GIS_OFF 0x02u
#if SVD_QVM_GEN == 8
/** @brief [verified] name (guest_intr_signal() 8.0). */
typedef struct guest_intr guest_intr_t;
/** @brief [verified] name (guest_intr_signal() 8.0); [assumed] an unsigned. */
typedef unsigned guest_intr_state_t;
/**
 * @brief Assert or de-assert an interrupt request.
 *
 * [verified] guest_intr_signal() 8.0.
 * @param gip the instance's v_intr.
 * @param gis ::GIS_ON or ::GIS_OFF.
 * @return EOK, or an error value.
 */
int guest_intr_signal(guest_intr_t *gip, guest_intr_state_t gis);
#else
/**
 * @brief Assert or de-assert an interrupt request.
 *
 * [assumed] the 7.1 prototype (page not reached; guest_intr_state 7.1 gives
 * the values): called with the constants above, it compiles either way.
 * @param gip the instance's v_intr.
 * @param gis ::GIS_ON or ::GIS_OFF.
 * @return EOK, or an error value.
 */
int guest_intr_signal(struct guest_intr *gip, unsigned gis);
#endif

/* ---- message-signalled interrupts ---------------------------------------- */
#if SVD_QVM_GEN == 8
/**
 * @brief Send a Message Signaled Interrupt (write @p data to @p addr) to the guest.
 *
 * [verified] guest_msi_signal() 8.0 (`<qvm/guest.h>`, no return value).
 * @param src the vdev signalling the interrupt.
 * @param addr the message address the guest programmed.
 * @param data the message data the guest programmed.
 */
void guest_msi_signal(vdev_t *src, uint64_t addr, unsigned data);
#else
/**
 * @brief Send a Message Signaled Interrupt (write @p data to @p addr) to the guest.
 *
 * [verified] guest_msi_signal() 7.0 (`<qvm/guest.h>`); 7.1 [assumed] the same
 * (its page not read; guest_msi_deliver_func_t 7.1, the PIC side, takes the
 * same address and data).
 * @param src the vdev signalling the interrupt.
 * @param addr the message address the guest programmed.
 * @param data the message data the guest programmed.
 * @return EOK, or an error code.
 */
int guest_msi_signal(const vdev_t *src, uint64_t addr, unsigned data);
#endif

/* ---- the vdev instance ------------------------------------------------- */
struct vdev_factory;
/**
 * @brief One vdev instance, owned by qvm.
 *
 * [verified] vdev_s 7.0: v_device, v_factory, v_gsp, v_block, v_intr, v_mtx,
 * v_sched; vdev_s 8.0: the same without v_gsp. v_sched, the last member, is
 * left out: its type's members are on no page and the adapters never read
 * it (qvm allocates this structure). All per-instance adapter state lives in
 * @c v_device.
 */
struct vdev_s {
    void *v_device;                       /**< The instance block: extra_space bytes (contents unspecified). */
    const struct vdev_factory *v_factory; /**< The factory this instance was made from. */
#if SVD_QVM_GEN != 8
    struct guest_system *v_gsp;           /**< The guest system in which the vdev is defined (7.x only). */
#endif
    struct qvm_state_block v_block;       /**< Where the device sits (the `loc` option). */
    struct guest_intr v_intr;             /**< The interrupt the `intr` option named. */
    pthread_mutex_t v_mtx;                /**< For the vdev's own use; initialised by qvm when ::VFF_MUTEX is set. */
};

/**
 * @brief What a vread/vwrite callback tells qvm about the access.
 *
 * [verified] vdev_ref_status 7.0: the enumerators in this order, VRS_ERRNO
 * 0x100; 8.0 adds the typedef vdev_ref_status_t. The adapters return
 * ::VRS_NORMAL (handled, a refused access included: reads 0, writes
 * ignored) and what guest_cpu_to_vrs() makes of a failed transfer.
 */
enum vdev_ref_status {
    VRS_NORMAL,        /**< Access handled; advance the guest's instruction pointer. */
    VRS_NO_ADVANCE,    /**< Handled, but do not advance the instruction pointer. */
    VRS_ABORT,         /**< Reserved for qvm. */
    VRS_BUS_ERROR,     /**< Deliver a bus error to the guest. */
    VRS_CONTINUE,      /**< Only for instruction callbacks. */
    VRS_TERMINATE,     /**< Terminate the guest. */
    VRS_ERRNO = 0x100  /**< Base of errno-carrying results (VRS_ERRNO + errno). */
};
#if SVD_QVM_GEN == 8
/** @brief [verified] vdev_factory 8.0: vread/vwrite return this type. */
typedef enum vdev_ref_status vdev_ref_status_t;
#endif

/** @brief control(): first call, before the options. [verified] vdev-core.h definitions 7.0/7.1. */
#define VDEV_CTRL_OPTIONS_START 0u
/** @brief control(): all options given. [verified] */
#define VDEV_CTRL_OPTIONS_END 1u
/** @brief control(): the VM is fully configured; from here on multi-threaded. [verified] */
#define VDEV_CTRL_GUEST_CONFIGURED 2u
/** @brief control(): the qvm process is terminating. [verified] */
#define VDEV_CTRL_TERMINATE 3u
/** @brief control(): output status (qvm_report()). [verified] */
#define VDEV_CTRL_STATUS 4u
/** @brief control(): generate ACPI information. [verified] */
#define VDEV_CTRL_GEN_ACPI 5u
/** @brief control(): generate FDT information; @c arg is the parent node. [verified] */
#define VDEV_CTRL_GEN_FDT 6u
/** @brief control(): the power button (SIGTERM/SIGINT to qvm). [verified] */
#define VDEV_CTRL_BUTTON 7u
/** @brief control(): describe the PCI BARs into the ::vpci_bar array @c arg.
 * [verified] name (vio_ctrl_pci_bars() 7.0, vpci_ctrl_pci_bars() 8.0);
 * [assumed] value: the 7.x definitions page was cut after BUTTON. */
#define VDEV_CTRL_PCI_BARS 8u
/** @brief control(): the vdev fills in `loc` and `intr` not given.
 * [verified] name and meaning ("Function Safety" 7.0); [assumed] value. */
#define VDEV_CTRL_ASSIGN 9u
/** @brief control(): the guest is about to start. [verified] name and
 * meaning ("Function Safety" 7.0); [assumed] value. */
#define VDEV_CTRL_GUEST_STARTING 10u
/** @brief control(): option index @c n of option_list arrives as this + n.
 * [assumed] 16, the Hypervisor 1.x value. */
#define VDEV_CTRL_FIRST_OPTIDX 16u
#if SVD_QVM_GEN == 8
/** @brief [verified] name (vdev_factory 8.0: control's 2nd argument); [assumed] an unsigned. */
typedef unsigned vdev_ctrl_options_t;
/** @brief [verified] vdev_factory_flags_t 8.0: a uint32_t. */
typedef uint32_t vdev_factory_flags_t;
#endif

/** @brief Factory flag: the interrupt is not a PCI INTx line. [verified] vdev_factory_flags 7.0. */
#define VFF_INTR_NONPCI 0x0008u
/** @brief Factory flag: the vdev is memory-mapped. [verified] */
#define VFF_VDEV_MEM 0x0020u
/** @brief Factory flag: the vdev is a PCI device. [verified] */
#define VFF_VDEV_PCI 0x0080u
/** @brief Factory flag: the vdev may be an io: device (x86 I/O ports). [verified] vdev_factory_flags 7.0. */
#define VFF_VDEV_X86_IO 0x0040u
/** @brief Factory flag: qvm initialises v_mtx. [verified] */
#define VFF_MUTEX 0x0100u
/** @brief Factory flag: v_mtx is recursive. [verified] */
#define VFF_MUTEX_RECURSIVE 0x0200u

/* ---- guest address-space regions and PCI BARs --------------------------- */
/** @brief Region flag: a guest read exits to the vread callback.
 * [verified] name and meaning (gasp_region 7.1, gasp_region_flags 7.0); [assumed] value. */
#define GRF_VIRT_RD 0x0100u
/** @brief Region flag: a guest write exits to the vwrite callback.
 * [verified] name and meaning; [assumed] value. */
#define GRF_VIRT_WR 0x0200u
/**
 * @brief A guest address-space region.
 *
 * [verified] gasp_region 7.0/7.1: flags, cookie (passed back to vread and
 * vwrite), vdev (used with GRF_VIRT_*), host_location, guest; 8.0 names the
 * first member grf_flags.
 */
struct gasp_region {
#if SVD_QVM_GEN == 8
    uint32_t grf_flags;           /**< GRF_* bits. */
#else
    uint32_t flags;               /**< GRF_* bits. */
#endif
    uint32_t cookie;              /**< Handed back to vread/vwrite for accesses in the region. */
    vdev_t *vdev;                 /**< The vdev whose callbacks a GRF_VIRT_* access reaches. */
    uint64_t host_location;       /**< Host side of a mapped region (0 for a trapping one). */
    struct qvm_state_block guest; /**< Where the region appears in the guest. */
};
/**
 * @brief The state of one PCI BAR, as the PCI_BARS control describes it.
 *
 * [verified] vpci_bar 7.1 and 8.0 (7.0 lacks vb_zero): vb_mapping,
 * vb_value, vb_value_upper, vb_slice, vb_breg, vb_zero ("must be
 * initialized to 0"); vb_mapping.host_location and vb_mapping.guest.length
 * are "expected to be constant"; a non-zero vb_breg makes qvm write the
 * BAR's value back to the device when it assigns an address.
 */
struct vpci_bar {
    struct gasp_region vb_mapping; /**< The established mapping of the BAR. */
    uint32_t vb_value;             /**< Current value of the BAR register. */
    uint32_t vb_value_upper;       /**< Upper word of a 64-bit BAR. */
    uint16_t vb_slice;             /**< Slice index of the BAR. */
    uint16_t vb_breg;              /**< BAR register (see above); 0: no write-back. */
    uint32_t vb_zero;              /**< Must be 0. */
};
/** @brief Number of ::vpci_bar entries the PCI_BARS array holds.
 * [verified] vpci_ctrl_pci_bars() 8.0: "an array of 6 vpci_bar objects". */
#define SVD_QVM_PCI_NBARS 6

/* ---- the factory ---------------------------------------------------------- */
/** @brief Times of a qvm timer. [verified] guest_timer_data 7.0/8.0. */
struct guest_timer_data {
    uint64_t host_notify_start;  /**< Host time when the notification was armed. */
    uint64_t host_current;       /**< Host time now. */
    uint64_t guest_notify_start; /**< Guest time when the notification was armed. */
    uint64_t guest_current;      /**< Guest time now (the adapters' clock). */
};

#if SVD_QVM_GEN == 8
/** @brief The control callback's command type. */
#define SVD_QVM_CTRL_T vdev_ctrl_options_t
#else
/** @brief The control callback's command type. */
#define SVD_QVM_CTRL_T unsigned
#endif

/**
 * @brief The callbacks and descriptors a vdev gives qvm.
 *
 * [verified] vdev_factory 7.0 (and 8.0, which has no `safety` and a
 * different pulse argument), member for member in the page's order. The
 * factory object is the only writable static in an adapter .so.
 */
struct vdev_factory {
    struct vdev_factory *next; /**< qvm's list link; the adapter leaves it NULL. */
    /** Lifecycle and options: a VDEV_CTRL_* value, or ::VDEV_CTRL_FIRST_OPTIDX + n
     * for option n with its value in @c arg. */
    int (*control)(vdev_t *vdp, SVD_QVM_CTRL_T ctrl, const char *arg);
    /** The guest reads @c vopnd; the value goes back through @c oopnd. */
    enum vdev_ref_status (*vread)(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                  const struct qvm_state_block *oopnd, struct guest_cpu *gcp);
    /** The guest writes @c vopnd; the value comes from @c oopnd. */
    enum vdev_ref_status (*vwrite)(vdev_t *vdp, unsigned cookie, const struct qvm_state_block *vopnd,
                                   const struct qvm_state_block *oopnd, struct guest_cpu *gcp);
#if SVD_QVM_GEN == 8
    int (*pulse)(vdev_t *vdp, const struct _pulse *pulse); /**< Pulse callback; NULL in ours. */
#else
    int (*pulse)(vdev_t *vdp, int8_t code);                /**< Pulse callback; NULL in ours. */
#endif
    /** A timer armed with guest_timer_notify() fired. */
    void (*timer)(vdev_t *vdp, void *data, const struct guest_timer_data *tdp, struct guest_cpu *gcp);
    const struct vdev_pic_functions *pic; /**< PIC operations; NULL (no PIC). */
    const char *const *option_list; /**< NULL-terminated option names. */
    const char *name;               /**< NULL: qvm uses the shared object's name (the docs' advice). */
#if SVD_QVM_GEN == 8
    vdev_factory_flags_t factory_flags; /**< VFF_* bits. */
#else
    unsigned factory_flags;             /**< VFF_* bits. */
#endif
    unsigned acc_sizes;             /**< Bit (1u << n) set: an n-byte access is allowed. */
    unsigned extra_space;           /**< Bytes of instance block qvm allocates into v_device. */
#if SVD_QVM_GEN != 8
    unsigned safety;                /**< Safety variant marker (7.x only); 0 in ours. */
#endif
};

/** @brief The vdev ABI version passed to vdev_register_factory().
 * [verified] abi.h definitions 7.0 (2019090401u). */
#define QVM_VDEV_ABI 2019090401u

/**
 * @brief Add a factory to qvm's list.
 *
 * [verified] vdev_register_factory() 7.0/7.1/8.0.
 * @param factory static lifetime; qvm links it into its list.
 * @param abi_version ::QVM_VDEV_ABI.
 */
void vdev_register_factory(struct vdev_factory *factory, unsigned abi_version);

/* ---- moving data to/from the vCPU -------------------------------------- */
/** @brief Transfer flags: none. [verified] guest_xfer_flags 7.0. */
#define GXF_NONE 0u
#if SVD_QVM_GEN == 8
/** @brief [verified] name (guest_cpu_write() 8.0); [assumed] an unsigned. */
typedef unsigned guest_cpu_access_flags_t;
/** @brief Read what the guest writes. [verified] guest_cpu_write() 8.0 (the
 * read page [assumed] to mirror it): EOK, -1 (send an exception) or an error. */
int guest_cpu_read(struct guest_cpu *gcp, guest_cpu_access_flags_t flags, const struct qvm_state_block *blk,
                   unsigned nblks, void *data, size_t data_len);
/** @brief Hand the guest what it reads. [verified] guest_cpu_write() 8.0. */
int guest_cpu_write(struct guest_cpu *gcp, guest_cpu_access_flags_t flags, const struct qvm_state_block *blk,
                    unsigned nblks, const void *data, size_t data_len);
#else
/** @brief Read what the guest writes. [verified] guest_cpu_read() 7.0:
 * EOK, or an error code (-1: an exception for the guest, per guest_cpu_to_vrs()). */
int guest_cpu_read(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                   void *data, unsigned data_len);
/** @brief Hand the guest what it reads. [verified] guest_cpu_write() 7.0. */
int guest_cpu_write(struct guest_cpu *gcp, unsigned flags, const struct qvm_state_block *blk, unsigned nblks,
                    const void *data, unsigned data_len);
#endif
/**
 * @brief A guest_cpu_read()/guest_cpu_write() error as a vread/vwrite status.
 *
 * [verified] guest_cpu_to_vrs() 7.1/8.0, a static function of the header:
 * -1 becomes VRS_BUS_ERROR, any other code VRS_ERRNO plus the code. Our
 * own body for that documented rule.
 * @param errcode the transfer's return value (not EOK).
 * @return the status to return from the callback.
 */
static inline enum vdev_ref_status guest_cpu_to_vrs(int const errcode)
{
    const int code = (int)VRS_ERRNO + errcode;
    return (errcode == -1) ? VRS_BUS_ERROR : (enum vdev_ref_status)code;
}

/* ---- guest memory -------------------------------------------------------- */
/**
 * @brief Map a guest-physical range into the qvm process for device access.
 *
 * [verified] gasp_map_vdma() 7.0/7.1. No 8.0 page was found: [assumed]
 * unchanged on 8.0.
 * @return the host address of @p guest_paddr, or NULL on failure.
 */
void *gasp_map_vdma(const vdev_t *vdev, int prot, uint64_t guest_paddr, size_t length);
#if SVD_QVM_GEN == 8
/**
 * @brief Unmap a range mapped with gasp_map_vdma() (8.0).
 *
 * [assumed] 8.0 documents gasp_unmap_handle() for handle-based mappings
 * only; for gasp_map_vdma() ranges the 7.x call without the guest system
 * (8.0 dropped v_gsp and gsp arguments, gasp_lock() 8.0) is our reading.
 */
void gasp_unmap(const void *ptr, size_t length, int flush);
/** @brief Lock the guest address space of @p type. [verified] gasp_lock() 8.0. */
int gasp_lock(uint16_t type);
/** @brief Unlock it again. [assumed] the mirror of gasp_lock() 8.0. */
void gasp_unlock(uint16_t type);
#else
/** @brief Unmap a range mapped with gasp_map_vdma(). [verified] gasp_unmap() 7.0/7.1. */
void gasp_unmap(struct guest_system *gsp, const void *ptr, size_t length, int flush);
/** @brief Lock the guest address space of @p type (QST_MEMORY). [verified] gasp_lock() 7.0/7.1. */
int gasp_lock(struct guest_system *gsp, uint16_t type);
/** @brief Unlock it again. [assumed] the mirror of gasp_lock() 7.x (page not read). */
void gasp_unlock(struct guest_system *gsp, uint16_t type);
#endif

/* ---- timers ---------------------------------------------------------------- */
/**
 * @brief Create a per-instance timer during start-up.
 *
 * [verified] guest_timer_create() 7.0/7.1/8.0; @p resolutionp receives the
 * clock frequency, or an error code when NULL is returned.
 */
struct guest_timer *guest_timer_create(const struct guest_cpu *gcp, const vdev_t *vdp, const void *data,
                                       uint64_t *resolutionp);
/**
 * @brief Arm a timer notification: a relative number of ticks (@p tdp NULL).
 *
 * [verified] guest_timer_notify() 7.0 (incr) and 8.0 (deadline, relative
 * unless GUEST_TIMER_ABSOLUTE).
 * @return EOK or an errno value.
 */
int guest_timer_notify(struct guest_timer *vtp, const struct guest_timer_data *tdp, uint64_t incr);
/** @brief Current times of a timer. [verified] guest_timer_state() 7.1 (7.0 and 8.0 the same). */
void guest_timer_state(const struct guest_timer *vtp, struct guest_timer_data *tdp);

/* ---- device tree ------------------------------------------------------------ */
/** @brief GEN_FDT helper: add (or find) node "<nodename>@<unit>" under @p parent.
 * [assumed] the Hypervisor 1.x qvm/vdev.h declaration; no 7.x/8.0 page found.
 * @return the node offset, negative on failure. */
int gfdt_update_node(int parent, const char *nodename, uint64_t unit);
/** @brief GEN_FDT helper: set one property of @p node. [assumed] as gfdt_update_node(). */
void gfdt_update_property(int node, const char *propname, const void *valp, size_t vall);

/** @brief GEN_FDT helper: the phandle of a fixed-rate clock of @p freq Hz for @p node's
 * `clocks`, the clock node made (or shared) by qvm.
 * [assumed] the Hypervisor 1.x qvm/vdev.h declaration `int gfdt_get_clock(int node,
 * unsigned freq)`; what it returns is read from its name and type (no page says it).
 * @return the phandle, negative on failure. */
int gfdt_get_clock(int node, unsigned freq);

/* ---- ACPI ---------------------------------------------------------------------- */
#if SVD_QVM_GEN == 8
/** @brief GEN_ACPI helper: add a table to the guest's ACPI tables.
 * [assumed] G1's acpi_add_table() without its guest-system argument (8.0 dropped
 * v_gsp and the gsp arguments, gasp_lock() 8.0); see the 7.x declaration. */
void acpi_add_table(void *table, size_t len, uint32_t sig, uint8_t rev, const char *table_id, uint32_t oem_rev);
#else
/** @brief GEN_ACPI helper: add a table to the guest's ACPI tables.
 * [assumed] the Hypervisor 1.x qvm/vdev.h declaration (no 7.x/8.0 page found), and
 * our reading of it: qvm writes the table header from @p sig (the signature's four
 * characters, first in the low byte), @p rev, @p table_id (the OEM table ID, up
 * to 8 characters) and @p oem_rev, computes the length and checksum, and @p table
 * (@p len bytes) is the table's body, the bytes after the 36-byte header.
 * @param gsp the guest system (the instance's v_gsp).
 * @param table the body; the adapter keeps it for the instance's life.
 * @param len bytes of the body.
 * @param sig the signature.
 * @param rev the table revision.
 * @param table_id the OEM table ID, NUL-terminated.
 * @param oem_rev the OEM revision. */
void acpi_add_table(struct guest_system *gsp, void *table, size_t len, uint32_t sig, uint8_t rev,
                    const char *table_id, uint32_t oem_rev);
#endif

/* ---- logging ----------------------------------------------------------------- */
/** @brief Status output in VDEV_CTRL_STATUS. [verified] qvm_report() 8.0,
 * "Debugging a vdev" 7.1. */
void qvm_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#if SVD_QVM_GEN == 8
/** @brief [verified] name (vdev_logf() 8.0); [assumed] an unsigned. */
typedef unsigned qvm_log_level_t;
/** @brief Error level of vdev_logf(). [assumed] name and value (8.0 names QL_QVM_* levels). */
#define QL_QVM_ERROR 3u
/** @brief Log a non-fatal error of @p vdp, filtered by its `log` option. [verified] vdev_logf() 8.0. */
void vdev_logf(qvm_log_level_t level, vdev_t const *vdp, char const *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#else
/** @brief The outpipe attribute of a vdev's error message.
 * [assumed] name and value (outpipe.h definitions 7.0 names labels
 * QVM_OUT<type>_<source>; the vdev label's value was not read). */
#define QVM_OUTE_VDEV 0x45000000u
/** @brief Log a non-fatal error of @p vdp, filtered by its `log` option. [verified] vdev_logf() 7.1. */
void vdev_logf(unsigned int attr, const vdev_t *vdp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif

/* ---- watchdog service ---------------------------------------------------------- */
/**
 * @brief What wdog_bite() is asked to do.
 *
 * [verified] wdog_bite() 7.0/7.1/8.0 names the member ws_action and the
 * values WDOG_ACTION_TERMINATE, WDOG_ACTION_INTR and WDOG_FLAG_DUMP.
 * [assumed] that WDOG_FLAG_DUMP is or-ed into ws_action, that no other
 * member needs setting, and every numeric value (wdog.h not read).
 */
struct wdog_state {
    unsigned ws_action; /**< A WDOG_ACTION_* value, optionally | ::WDOG_FLAG_DUMP. */
};
/** @brief wdog_bite(): terminate the guest. [verified] name; [assumed] value. */
#define WDOG_ACTION_TERMINATE 1u
/** @brief wdog_bite(): send the guest an interrupt (QNX's `fiq`). [verified] name; [assumed] value. */
#define WDOG_ACTION_INTR 2u
/** @brief wdog_bite() flag: generate a guest dump first. [verified] name; [assumed] value. */
#define WDOG_FLAG_DUMP 0x100u
/** @brief Carry out a watchdog expiry. [verified] wdog_bite() 7.0/7.1/8.0. */
void wdog_bite(struct wdog_state *wds);

#endif /* SVD_QVM_COMPAT_H */
