/*
 * hq.h: "harness qvm", a host stand-in for QNX qvm that loads safevdev vdev
 * adapters (vdev-*.so) with dlopen() and drives them the way qvm does.
 *
 * What it plays
 * -------------
 * - The qvm side of the compat API (src/shim/qvm/compat/qvm_compat.h): the
 *   harness executable defines vdev_register_factory, guest_cpu_read/write,
 *   gasp_map_vdma/gasp_unmap, guest_intr_signal, guest_timer_create/notify/
 *   state, gfdt_update_node/property/get_clock, guest_msi_signal, acpi_add_table,
 *   wdog_bite and qvm_report, and is linked with
 *   -rdynamic so the adapter binds to them at dlopen() (BIND_NOW).
 * - The API generation: the harness is built once per generation
 *   (SVD_QVM_GEN 7 and 8, `make harness` and `make harness-qnx8`), each
 *   build laid out as qvm_compat.h declares that generation.
 * - Loading: hq_load() dlopen()s an adapter; its constructor registers its
 *   factory (ABI value checked); a factory without a name of its own is
 *   named after its file (vdev-NAME.so: NAME), as the vdev_factory page
 *   says qvm does; hq_factory() finds it by that name.
 * - The control sequence ("Lifecycle of a vdev", "Function Safety"):
 *   hq_dev_new() allocates vdev_t + extra_space (the instance block, filled
 *   with non-zero garbage, with canary zones checked at hq_dev_free()),
 *   initialises v_mtx (recursive when VFF_MUTEX_RECURSIVE), sends
 *   OPTIONS_START, then each option in order -- `loc` (ADDR: a memory
 *   location; pci:N: PCI slot N) and `intr` are qvm's own options and fill
 *   v_block/v_intr, the rest go to control(FIRST_OPTIDX + index, value), an
 *   unknown name fails like qvm -- then OPTIONS_END and ASSIGN. A PCI
 *   device (v_block type QST_PCI) gets a bus location and an INTx pin when
 *   it has none, and PCI_BARS with a vpci_bar array of garbage the harness
 *   keeps. Then GUEST_CONFIGURED, GEN_ACPI, GUEST_STARTING. hq_dev_free()
 *   sends TERMINATE and releases the block. hq_gen_fdt() runs GEN_FDT
 *   against an empty libfdt tree it owns; hq_dev_control() sends anything
 *   else (STATUS, BUTTON, ...).
 * - Start-up and locking: from GUEST_CONFIGURED on, a gasp_map_vdma() or
 *   gasp_unmap() without gasp_lock() held fails the running cmocka test,
 *   as does an unbalanced gasp_unlock().
 * - Register accesses: hq_access() delivers one vCPU access (vread/vwrite)
 *   with a state block for the device operand and one for the vCPU operand;
 *   a width not in the factory's acc_sizes is never delivered (HQ_REFUSED),
 *   as qvm would not deliver it. A memory access reaches the device only
 *   inside a region the device has: a memory device's window (v_block
 *   location and length), or a PCI BAR region it described at PCI_BARS
 *   (GRF_VIRT_RD/WR, at the address the guest's BAR write assigned, then
 *   written back through vb_breg); anything else is HQ_UNROUTED and no
 *   vdev sees it. Every guest_cpu_read/write the adapter makes is checked
 *   against the access (same operand, exact width).
 * - Guest RAM: one tg_mem region with canaries (tests/common/tg_mem.h);
 *   gasp_map_vdma() hands out pointers into it only for ranges fully inside
 *   it and counts live mappings (hq_live_maps(): 0 after TERMINATE).
 * - Interrupts: guest_intr_signal() on the harness PIC records per-pin level
 *   and rising edges (hq_irq_level(), hq_irq_edges()); guest_msi_signal()
 *   records each message with its source (hq_msis(), hq_msi_at()).
 * - ACPI: acpi_add_table() builds the whole table from its arguments and the
 *   body (hq_acpi_tables(), hq_acpi_table()). FDT clocks: gfdt_get_clock()
 *   adds one fixed-clock node per frequency, named without a unit address.
 * - Time: a fake clock in nanoseconds (timer resolution 10^9 Hz). Adapter
 *   timers fire only from hq_clock_advance(), in deadline order, each with
 *   the clock set to its deadline, on the calling thread.
 * - Faults on demand: hq_fault_getrandom() makes getrandom(2) (interposed:
 *   the harness defines it, the adapter's reference binds to it) fail with a
 *   given errno for the next N calls or until cleared; hq_fault_map() makes
 *   gasp_map_vdma() fail; hq_fault_timer() makes guest_timer_create() fail;
 *   hq_fault_countdown(n) fails the n-th host call of any kind (SQLite-style
 *   countdown), so a test can fail the 1st, 2nd, ... call until a run
 *   completes with no fault fired.
 * - Watchdog service: wdog_bite() records each bite (action, flags) with the
 *   virtual time (hq_bites(), hq_bite_at()).
 * - Log: qvm_report() and vdev_logf() lines are kept (hq_log_has(),
 *   hq_log_count()), counted apart (hq_report_count(), hq_logf_count()).
 *
 * Several instances (of one or several adapters) may live at once; the
 * harness's own tables are mutex-protected so two threads may drive two
 * instances concurrently (each instance on one thread at a time).
 *
 * Adding an adapter: list it in QVM_ADAPTERS in mk/qvm.mk (its sources, its
 * harness tests, the variable naming its .so), hq_load() its path, hq_dev_new() with its
 * factory name and options, drive it with hq_access() and hq_clock_advance(),
 * observe hq_irq_*() and hq_log_*(); the vdev_ref_status of each access is
 * the return value of hq_access().
 */
#ifndef HQ_H
#define HQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compat/qvm_api.h"
#include "tg_mem.h"

#define HQ_REFUSED (-1)   /* hq_access(): width not allowed by acc_sizes, not delivered */
#define HQ_XFER_ERR (-2)  /* hq_access(): the adapter misused guest_cpu_read/write */
#define HQ_UNROUTED (-3)  /* hq_access(): no region of the device at that address: not delivered */
#define HQ_PIC_PINS 64u
#define HQ_RAM_GPA UINT64_C(0x40000000)
#define HQ_MAX_MSIS 256u
#define HQ_MAX_ACPI 8u
#define HQ_ACPI_MAX 512u
#define HQ_CLOCK_PHANDLE 0x4000u /* gfdt_get_clock() phandles (none of QEMU's virt tree: 0x8000..) */

typedef struct hq_dev hq_dev;

/* Global set-up: guest RAM of @ram_size bytes at HQ_RAM_GPA; clock at 0. */
int hq_init(size_t ram_size);
/* Tear everything down (every device must have been freed); dlclose()s adapters. */
void hq_fini(void);
tg_mem *hq_ram(void);

/* dlopen() @path (RTLD_NOW); 0 on success. Loading the same path again is a no-op. */
int hq_load(const char *path);
const struct vdev_factory *hq_factory(const char *name);
/* Factories registered since hq_init() (every loaded .so registers one). */
unsigned hq_factory_count(void);

/* Create an instance of factory @name. @opts: name, value, name, value, ..., NULL.
 * *@rc receives EOK or the failing control code. NULL on failure (the
 * instance was terminated and freed, as qvm would exit). */
hq_dev *hq_dev_new(const char *name, const char *const *opts, int *rc);
void hq_dev_free(hq_dev *d);
int hq_dev_control(hq_dev *d, unsigned ctrl, const char *arg);
vdev_t *hq_dev_vdev(hq_dev *d);
bool hq_dev_is_pci(const hq_dev *d);
uint64_t hq_dev_loc(const hq_dev *d); /* MMIO base, or the PCI location */
unsigned hq_dev_pin(const hq_dev *d);
/* True when the canary zones around the instance block are intact. */
bool hq_dev_block_intact(const hq_dev *d);

/* One vCPU access. @type QST_MEMORY (guest-physical @loc) or QST_PCI (@loc is
 * the config-space offset; the device's PCI location is added). Returns the
 * vdev_ref_status, HQ_REFUSED or HQ_XFER_ERR. */
int hq_access(hq_dev *d, bool write, unsigned type, uint64_t loc, unsigned width, uint64_t *val);

/* BAR @i as the device described it at PCI_BARS, with the address qvm
 * assigned since; false when the device has no BARs. */
bool hq_bar(const hq_dev *d, unsigned i, struct vpci_bar *out);

/* GEN_FDT into a fresh tree (@cap bytes at @blob, a valid FDT afterwards). */
int hq_gen_fdt(hq_dev *d, void *blob, size_t cap);

/* Interrupts. */
bool hq_irq_level(unsigned pin);
unsigned hq_irq_edges(unsigned pin);
unsigned hq_live_maps(void);
unsigned hq_live_timers(void);

/* Clock. */
uint64_t hq_clock_now(void);
void hq_clock_advance(uint64_t ns);
/* True when @d's timer is armed; *@deadline (if not NULL) receives when it fires. */
bool hq_timer_armed(const hq_dev *d, uint64_t *deadline);
/* The same for a timer created for @vdp (an instance the test made itself). */
bool hq_timer_armed_vdp(const vdev_t *vdp, uint64_t *deadline);

/* MSIs: every guest_msi_signal() qvm accepted since hq_init(), in order. */
typedef struct hq_msi {
    const vdev_t *src; /* the instance that sent it */
    uint64_t addr;
    unsigned data;
} hq_msi;
unsigned hq_msis(void);
bool hq_msi_at(unsigned i, hq_msi *out);
/* guest_msi_signal() refuses (EIO on 7.x; 8.0 has no result, the message is dropped) until cleared. */
void hq_fault_msi(bool fail);
/* ACPI: the tables acpi_add_table() added since hq_init(), each assembled as
 * compat reads the call (header from the arguments, OEM ID "HQQVM ", creator
 * "HQ  " 1, length and checksum computed, the body after it). */
unsigned hq_acpi_tables(void);
/* Forget the recorded messages and tables (no driver model may be mid-run). */
void hq_msi_acpi_clear(void);
const uint8_t *hq_acpi_table(unsigned i, size_t *len);
/* Watchdog bites (wdog_bite() calls) since the last hq_bites_clear(). */
typedef struct hq_bite {
    uint64_t at_ns;        /* virtual time of the bite */
    unsigned action;
    unsigned flags;
    bool from_timer;       /* carried out by a timer callback (else by an access) */
    uint64_t virt_late_ns; /* from_timer: bite time - the timer's deadline, virtual ns */
    uint64_t host_late_ns; /* from_timer: host ns from dispatching the callback to the bite */
} hq_bite;
unsigned hq_bites(void);
bool hq_bite_at(unsigned i, hq_bite *out);
void hq_bites_clear(void);

/* Faults: next @count getrandom calls fail with @err (count < 0: until cleared; err 0 clears). */
void hq_fault_getrandom(int err, int count);
unsigned hq_getrandom_calls(void);
void hq_fault_map(bool fail);
/* Every guest_timer_notify() fails (EAGAIN) until cleared. */
void hq_fault_timer_notify(bool fail);
/* Countdown: the @n-th host call from now (gasp_map_vdma, guest_timer_create,
 * guest_timer_notify, guest_intr_signal, guest_cpu_read/write, getrandom)
 * fails once; 0 disarms. hq_fault_fired() names the call that failed (NULL: none). */
void hq_fault_countdown(long n);
const char *hq_fault_fired(void);
void hq_fault_timer(bool fail);

/* Log of qvm_report() lines. */
bool hq_log_has(const char *needle);
unsigned hq_log_count(void);
unsigned hq_logf_count(void);   /* vdev_logf() lines (errors) */
/* gasp_map_vdma/gasp_unmap calls made after start-up (each with gasp_lock held:
 * one without it has already failed the test). */
unsigned hq_gasp_locked_calls(void);
/* The next guest_cpu_read/write (of this thread's access) fails with @err
 * (-1: "send an exception", or an errno value); 0 clears. */
void hq_fault_xfer_errno(int err);
/* gasp_lock() refuses (EBUSY) until cleared. */
void hq_fault_gasp_lock(bool fail);
/* qvm's exit: every mapping still live is released (the count drops to 0). */
void hq_forget_maps(void);
unsigned hq_report_count(void); /* qvm_report() lines (status) */
void hq_log_clear(void);
void hq_log_dump(void);

#endif /* HQ_H */
