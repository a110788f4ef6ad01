/* vdev-svd-virtio-entropy.so driven by the qvm stand-in (hq) and the virtio
 * driver model (hq_driver), over virtio-mmio and virtio-pci. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hq.h"
#include "hq_driver.h"
#include "safevdev/aml.h"
#include "safevdev/ratelimit.h"

#define RAM_SIZE (4u << 20)
#define DMA_ALL "0x40000000,0x400000"
#define MMIO_A "0x1c0d0000"
#define MMIO_B "0x1c0e0000"
#define BAR_A UINT64_C(0xe0000000)
#define BAR_B UINT64_C(0xe0010000)
#define RING(n) (HQ_RAM_GPA + 0x10000u * (uint64_t)(n))
#define BUF(n) (HQ_RAM_GPA + 0x200000u + 0x10000u * (uint64_t)(n))
#define MS UINT64_C(1000000)
#define S_NEEDS_RESET 0x40u
#define F_EVENT_IDX (UINT64_C(1) << 29)
#define F_INDIRECT (UINT64_C(1) << 28)

static const char *so_path(void)
{
    const char *p = getenv("HQ_ENTROPY_SO");
    return (p != NULL) ? p : "build/qvm/vdev-svd-virtio-entropy.so";
}

/* The release build of the library (the one shipped): its sections are what
 * the writable-data test inspects, also when the tests run a sanitizer build. */
static const char *release_so_path(void)
{
    const char *p = getenv("HQ_RELEASE_SO");
    return (p != NULL) ? p : so_path();
}

static int group_setup(void **state)
{
    (void)state;
    if (hq_init(RAM_SIZE) != 0) {
        return -1;
    }
    return hq_load(so_path());
}

static int group_teardown(void **state)
{
    (void)state;
    hq_fini();
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    hq_log_clear();
    hq_msi_acpi_clear();
    hq_fault_getrandom(0, 0);
    hq_fault_map(false);
    hq_fault_timer(false);
    tg_mem_fill(hq_ram(), HQ_RAM_GPA, RAM_SIZE, 0);
    return 0;
}

static int test_teardown(void **state)
{
    (void)state;
    /* Every test leaves no mapping behind and guest RAM's canaries intact. */
    if (!tg_mem_canaries_intact(hq_ram()) || (hq_live_maps() != 0u)) {
        return -1;
    }
    return 0;
}

static hq_dev *mmio_dev(const char *loc, const char *pin, int *rc)
{
    const char *o[] = { "loc", loc, "intr", pin, "dma", DMA_ALL, NULL };
    return hq_dev_new("svd-virtio-entropy", o, rc);
}

static hq_dev *pci_dev(int *rc)
{
    const char *o[] = { "dma", DMA_ALL, NULL };
    return hq_dev_new("svd-virtio-entropy", o, rc);
}

static bool all_bytes(uint64_t gpa, size_t len, uint8_t b)
{
    return tg_mem_all(hq_ram(), gpa, len, b);
}

/* ------------------------------------------------------------ the library */

/* REQ: REQ-QVM-001 */
static void factory_registered_by_constructor(void **state)
{
    (void)state;
    const struct vdev_factory *f = hq_factory("svd-virtio-entropy");
    assert_non_null(f);
    assert_non_null(f->control);
    assert_non_null(f->vread);
    assert_non_null(f->vwrite);
    assert_non_null(f->timer);
    assert_true((f->factory_flags & VFF_VDEV_PCI) != 0u);
    assert_true((f->factory_flags & VFF_VDEV_MEM) != 0u);
    assert_true((f->factory_flags & VFF_INTR_NONPCI) != 0u);
    assert_int_equal(f->acc_sizes, (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8));
    assert_true(f->extra_space > 4096u);
    const char *want[] = { "delayed", "rate-bytes", "rate-burst", "rate-ops", "rate-ops-burst", "dma" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_non_null(f->option_list[i]);
        assert_string_equal(f->option_list[i], want[i]);
    }
    assert_null(f->option_list[6]);
    /* The rate options are the core's, named as the core names them (the daemon's too). */
    for (unsigned k = 0; k < (unsigned)SVD_RATE__COUNT; k++) {
        assert_string_equal(f->option_list[1u + k], svd_rate_opt_name((svd_rate_opt)k));
    }
    /* The constructor registered exactly one factory (only this .so is loaded). */
    assert_int_equal(hq_factory_count(), 1u);
}

/* Run @cmd, return its stdout (static buffer). */
static const char *run(const char *cmd)
{
    static char out[65536];
    size_t n = 0;
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while ((n < sizeof out - 1u) && (fgets(out + n, (int)(sizeof out - 1u - n), p) != NULL)) {
        n += strlen(out + n);
    }
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

/* The three adapters' release builds: the entropy one from HQ_RELEASE_SO, the
 * watchdogs beside it (the release tree builds all three). */
static void release_so_paths(char paths[3][512])
{
    const char *e = release_so_path();
    const char *slash = strrchr(e, '/');
    int dir = (slash != NULL) ? (int)(slash - e) : 0;
    snprintf(paths[0], 512, "%s", e);
    snprintf(paths[1], 512, "%.*s%svdev-svd-wdt-sp805.so", dir, e, (slash != NULL) ? "/" : "");
    snprintf(paths[2], 512, "%.*s%svdev-svd-wdt-i6300esb.so", dir, e, (slash != NULL) ? "/" : "");
}

/* REQ: REQ-QVM-002 */
static void only_writable_static_is_the_factory(void **state)
{
    (void)state;
    char paths[3][512];
    release_so_paths(paths);
    for (int i = 0; i < 3; i++) {
        const char *so = paths[i];
        char cmd[4096];
        /* Every symbol the library defines in a section that stays writable (.data,
         * .bss), minus the toolchain's own crt objects and the section symbols
         * (flag d, which the aarch64 linker keeps). .data.rel.ro (the option
         * table, the device table) is read-only after relocation: RELRO is checked below. */
        snprintf(cmd, sizeof cmd,
                 "objdump -t '%s' | awk '($4 == \".data\" || $4 == \".bss\") && $3 != \"d\" && "
                 "$NF !~ /^(__dso_handle|completed\\.[0-9]+|__TMC_END__)$/ {print $NF}' | sort",
                 so);
        assert_string_equal(run(cmd), "svd_qvm_factory\n");
        /* Size of that object equals sizeof(struct vdev_factory) */
        snprintf(cmd, sizeof cmd, "nm -S '%s' | awk '$4 == \"svd_qvm_factory\" {print $3 \" \" $2}'", so);
        char want[64];
        snprintf(want, sizeof want, "d %016zx\n", sizeof(struct vdev_factory));
        assert_string_equal(run(cmd), want);
        /* RELRO + BIND_NOW: everything else writable at load time is read-only after relocation. */
        snprintf(cmd, sizeof cmd, "readelf -lW '%s' | grep -c GNU_RELRO; readelf -dW '%s' | grep -c 'BIND_NOW'", so,
                 so);
        assert_string_equal(run(cmd), "1\n1\n");
        /* Hidden visibility: the library exports no symbol at all (qvm finds the
         * factory through the constructor's registration). */
        snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' | awk '$2 ~ /[A-Za-z]/' | wc -l", so);
        assert_string_equal(run(cmd), "0\n");
        /* And no writable section besides .data/.bss (+ the RELRO-protected ones). */
        snprintf(cmd, sizeof cmd,
                 "readelf -SW '%s' | awk '$0 ~ / WA/ && $2 !~ /^\\.(data|bss|data\\.rel\\.ro|got|got\\.plt|"
                 "init_array|fini_array|dynamic|tm_clone_table)$/ {print $2}'",
                 so);
        assert_string_equal(run(cmd), "");
    }
}

/* ------------------------------------------------------------ transports */

static void probe_and_read(hq_dev *d, uint64_t bar, unsigned ring, unsigned buf, uint64_t want, unsigned rounds)
{
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, bar, RING(ring), 16, want), HQ_DRV_OK);
    unsigned edges0 = hq_irq_edges(hq_dev_pin(d));
    for (unsigned i = 0; i < rounds; i++) {
        uint64_t gpa = BUF(buf) + 64u * (i % 16u);
        tg_mem_fill(hq_ram(), gpa, 64, 0);
        long got = hq_drv_read(&v, gpa, 64, MS, 0);
        assert_int_equal(got, 64);
        assert_false(all_bytes(gpa, 64, 0)); /* 2^-512 chance of a false failure */
    }
    assert_true(hq_irq_edges(hq_dev_pin(d)) > edges0);
    assert_int_equal(v.status_faults, 0);
    assert_false(hq_irq_level(hq_dev_pin(d))); /* every interrupt was acknowledged */
}

/* REQ: REQ-QVM-003 REQ-QVM-014.a */
static void mmio_linux_probe_and_read(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = mmio_dev(MMIO_A, "gic:5", &rc);
    assert_int_equal(rc, EOK);
    assert_non_null(d);
    assert_false(hq_dev_is_pci(d));
    probe_and_read(d, 0, 0, 0, 0, 40);
    probe_and_read(d, 0, 1, 1, F_EVENT_IDX | F_INDIRECT, 40); /* re-probe: reset path, then with EVENT_IDX */
    assert_true(hq_dev_block_intact(d));
    hq_dev_free(d);
}

/* The PCI function offers MSI-X (the adapter sends messages with
 * guest_msi_signal(), 7.0/8.0 pages): a Linux guest that can allocate the
 * vectors takes per-queue vectors (config 0, queue 1), and every interrupt
 * then arrives as the message programmed for the queue's vector, from this
 * instance, with the INTx line never raised. */
/* REQ: REQ-QVM-026.a REQ-PCI-021.a */
static void pci_linux_takes_msix_vectors_and_interrupts_are_messages(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe_irq(&v, d, BAR_A, RING(4), 16, 0, 32u), HQ_DRV_OK);
    assert_int_not_equal(v.msix_cap, 0u);
    assert_int_equal(v.irq_mode, HQ_IRQ_MSIX_PER_VQ);
    assert_int_equal(hq_drv_reg_read(&v, 0x10u, 2), 0u); /* config_msix_vector */
    hq_drv_reg_write(&v, 0x16u, 2, 0u);
    assert_int_equal(hq_drv_reg_read(&v, 0x1au, 2), 1u); /* queue 0's vector */
    const unsigned edges = hq_irq_edges(hq_dev_pin(d));
    for (unsigned i = 0; i < 4u; i++) {
        assert_int_equal(hq_drv_read(&v, BUF(i), 64, MS, 100), 64);
    }
    assert_int_equal(v.msi_queue, 4u);   /* one message per used buffer */
    assert_int_equal(v.irq_seen, 4u);
    assert_int_equal(v.msi_config, 0u);
    assert_int_equal(v.msi_stray, 0u);
    assert_int_equal(hq_irq_edges(hq_dev_pin(d)), edges); /* INTx low all along */
    assert_false(hq_irq_level(hq_dev_pin(d)));
    hq_dev_free(d);
}

/* A guest that can allocate one vector only (pci_alloc_irq_vectors fails
 * for the two of either MSI-X mode): Linux's fallback is INTx, MSI-X stays
 * disabled, no message is sent and the line carries the interrupts. */
/* REQ: REQ-QVM-026.c REQ-PCI-023.a REQ-PCI-023.b */
static void pci_linux_with_one_vector_falls_back_to_intx(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    hq_drv v;
    const unsigned before = hq_msis();
    assert_int_equal(hq_drv_probe_irq(&v, d, BAR_A, RING(4), 16, 0, 1u), HQ_DRV_OK);
    assert_int_not_equal(v.msix_cap, 0u);
    assert_int_equal(v.irq_mode, HQ_IRQ_INTX);
    uint64_t ctrl = 0;
    assert_int_equal(hq_access(d, false, QST_PCI, v.msix_cap + 2u, 2, &ctrl), VRS_NORMAL);
    assert_int_equal(ctrl & 0x8000u, 0u); /* MSI-X disabled */
    assert_int_equal(hq_drv_reg_read(&v, 0x10u, 2), 0xffffu);
    const unsigned edges = hq_irq_edges(hq_dev_pin(d));
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, MS, 100), 64);
    assert_true(hq_irq_edges(hq_dev_pin(d)) > edges);
    assert_int_equal(v.irq_seen, 1u);
    assert_int_equal(hq_msis(), before);
    hq_dev_free(d);
}

/* Masking: with the function masked the device holds the message as a
 * pending bit (PBA bit 1) and sends nothing; unmasking (a config write the
 * frame applies like any access) sends it at once. A refused message
 * (guest_msi_signal's error) is logged once and counted in STATUS. */
/* REQ: REQ-QVM-026.a REQ-QVM-026.b REQ-PCI-022 */
static void pci_msix_mask_holds_the_message_and_refusals_are_counted(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe_irq(&v, d, BAR_A, RING(4), 16, 0, 32u), HQ_DRV_OK);
    assert_int_equal(v.irq_mode, HQ_IRQ_MSIX_PER_VQ);
    uint64_t x = 0x8000u | 0x4000u; /* Enable | Function Mask */
    assert_int_equal(hq_access(d, true, QST_PCI, v.msix_cap + 2u, 2, &x), VRS_NORMAL);
    const unsigned before = hq_msis();
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, MS, 100), 64); /* the used ring is polled */
    assert_int_equal(hq_msis(), before);
    uint64_t pba = 0;
    assert_int_equal(hq_access(d, false, QST_MEMORY, BAR_A + v.msix_pba, 4, &pba), VRS_NORMAL);
    assert_int_equal(pba, 2u); /* vector 1 pending */
    x = 0x8000u;
    assert_int_equal(hq_access(d, true, QST_PCI, v.msix_cap + 2u, 2, &x), VRS_NORMAL);
    assert_int_equal(hq_msis(), before + 1u);
    hq_msi m;
    assert_true(hq_msi_at(before, &m));
    assert_ptr_equal(m.src, hq_dev_vdev(d));
    assert_int_equal(m.addr, HQ_MSI_ADDR(1));
    assert_int_equal(m.data, HQ_MSI_DATA(1));
    assert_int_equal(hq_access(d, false, QST_MEMORY, BAR_A + v.msix_pba, 4, &pba), VRS_NORMAL);
    assert_int_equal(pba, 0u);
    /* qvm refuses messages: logged once, counted */
    hq_fault_msi(true);
    hq_log_clear();
    const unsigned errors = hq_logf_count();
    assert_int_equal(hq_drv_read(&v, BUF(1), 64, MS, 100), 64);
    assert_int_equal(hq_drv_read(&v, BUF(2), 64, MS, 100), 64);
    hq_fault_msi(false);
#if SVD_QVM_GEN == 8
    assert_int_equal(hq_logf_count(), errors); /* 8.0's guest_msi_signal() reports nothing */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("refused MSIs 0"));
#else
    assert_int_equal(hq_logf_count(), errors + 1u);
    assert_true(hq_log_has("qvm refused an MSI-X message"));
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("refused MSIs 2"));
#endif
    hq_dev_free(d);
}

/* AML package length at @p (ACPI 6.4 §20.2.4): the value and its byte count. */
static size_t aml_pkglen(const uint8_t *p, size_t *n)
{
    const unsigned extra = p[0] >> 6;
    size_t v = (extra == 0u) ? (p[0] & 0x3fu) : (p[0] & 0x0fu);
    for (unsigned i = 0; i < extra; i++) {
        v |= (size_t)p[1u + i] << (4u + 8u * i);
    }
    *n = 1u + extra;
    return v;
}

static const uint8_t *find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

/* GEN_ACPI: the virtio-mmio instance hands qvm one SSDT through
 * acpi_add_table(): the header fields as arguments, the body apart. The
 * harness builds the table as compat reads the call; a parser of ours then
 * checks it: signature, length, checksum, revision 2, OEM table ID and
 * revision as the core writes them; Scope (\_SB) holding Device (V800)
 * whose package ends where the scope does; _HID "LNRO0005", _UID = base /
 * 512, _CCA One; Memory32Fixed (read-write, base, 0x200) and an Interrupt
 * (consumer, level, active high, exclusive) on the `intr` pin. The body
 * equals the core's SSDT for the same device byte for byte. A second
 * GEN_ACPI adds nothing; a PCI instance adds nothing; a window above 4 GiB
 * (no Memory32Fixed for it) is refused with a log line. */
/* REQ: REQ-QVM-027.a REQ-QVM-027.b REQ-QVM-027.c REQ-ACPI-008 */
static void gen_acpi_hands_qvm_the_ssdt_body_and_the_header_fields(void **state)
{
    (void)state;
    int rc = -1;
    const unsigned before = hq_acpi_tables();
    hq_dev *d = mmio_dev("0xfeb00000", "ioapic:5", &rc);
    assert_non_null(d);
    assert_int_equal(hq_acpi_tables(), before + 1u); /* GEN_ACPI is part of hq_dev_new's lifecycle */
    size_t len = 0;
    const uint8_t *t = hq_acpi_table(before, &len);
    assert_non_null(t);
    assert_memory_equal(t, "SSDT", 4);
    assert_int_equal((uint32_t)t[4] | ((uint32_t)t[5] << 8) | ((uint32_t)t[6] << 16) | ((uint32_t)t[7] << 24), len);
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + t[i]);
    }
    assert_int_equal(sum, 0u);
    assert_int_equal(t[8], 2u);
    assert_memory_equal(t + 16, "VIRTMMIO", 8);
    assert_int_equal((uint32_t)t[24] | ((uint32_t)t[25] << 8), 1u);
    /* the body: Scope (\_SB_) { Device (V800) { ... } } filling the table */
    const uint8_t *b = t + 36;
    const size_t blen = len - 36u;
    assert_int_equal(b[0], 0x10u); /* ScopeOp */
    size_t n = 0;
    const size_t scope = aml_pkglen(b + 1, &n);
    assert_int_equal(1u + scope, blen);
    assert_memory_equal(b + 1 + n, "\\_SB_", 5);
    const uint8_t *dv = b + 1 + n + 5;
    assert_int_equal(dv[0], 0x5bu); /* ExtOpPrefix */
    assert_int_equal(dv[1], 0x82u); /* DeviceOp */
    size_t dn = 0;
    const size_t dlen = aml_pkglen(dv + 2, &dn);
    assert_int_equal((size_t)(dv + 2 - b) + dlen, blen);
    assert_memory_equal(dv + 2 + dn, "V800", 4); /* 0xfeb00000 / 512 = 0x7f5800 */
    static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0 };
    static const uint8_t uid[] = { 0x08, '_', 'U', 'I', 'D', 0x0c, 0x00, 0x58, 0x7f, 0x00 };
    static const uint8_t cca[] = { 0x08, '_', 'C', 'C', 'A', 0x01 };
    static const uint8_t mem[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xb0, 0xfe, 0x00, 0x02, 0x00, 0x00 };
    static const uint8_t irq[] = { 0x89, 0x06, 0x00, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00, 0x79, 0x00 };
    assert_non_null(find_bytes(b, blen, hid, sizeof hid));
    assert_non_null(find_bytes(b, blen, uid, sizeof uid));
    assert_non_null(find_bytes(b, blen, cca, sizeof cca));
    assert_non_null(find_bytes(b, blen, mem, sizeof mem));
    assert_non_null(find_bytes(b, blen, irq, sizeof irq));
    /* the core's SSDT for the same device: the same body */
    const svd_aml_mmio_dev dev = { "V800", 0x7f5800u, 0xfeb00000u, 0x200u, 5u, SVD_AML_LEVEL, true };
    uint8_t core[SVD_AML_MAX_SSDT];
    size_t clen = 0;
    assert_true(svd_is_ok(svd_aml_ssdt(&dev, 1u, core, sizeof core, &clen)));
    assert_int_equal(clen, len);
    assert_memory_equal(core + 36, b, blen);
    /* once per instance; PCI has none; above 4 GiB refused */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_GEN_ACPI, NULL), EOK);
    assert_int_equal(hq_acpi_tables(), before + 1u);
    hq_dev_free(d);
    hq_dev *p = pci_dev(&rc);
    assert_non_null(p);
    assert_int_equal(hq_acpi_tables(), before + 1u);
    hq_dev_free(p);
    hq_log_clear();
    const char *const hi[] = { "loc", "0x100000000", "intr", "gic:40", "dma", DMA_ALL, NULL };
    assert_null(hq_dev_new("svd-virtio-entropy", hi, &rc));
    assert_int_equal(rc, EINVAL);
    assert_true(hq_log_has("no ACPI node: the window 0x100000000 is not below 4 GiB"));
    assert_int_equal(hq_acpi_tables(), before + 1u);
}

/* REQ: REQ-QVM-004.a REQ-QVM-004.b REQ-QVM-004.c REQ-QVM-014.a */
static void pci_linux_probe_and_read(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_int_equal(rc, EOK);
    assert_non_null(d);
    assert_true(hq_dev_is_pci(d));
    /* BAR0 as the vpci_bar page documents it: a trapping region of this
     * instance, constant length, 64-bit memory type bits, vb_breg = the BAR
     * register, vb_zero 0; the other five entries all zero. */
    struct vpci_bar bars[SVD_QVM_PCI_NBARS];
    memset(bars, 0xff, sizeof bars);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_PCI_BARS, (const char *)bars), -SVD_QVM_PCI_NBARS);
    assert_int_equal(SVD_GRF_FLAGS(&bars[0].vb_mapping), GRF_VIRT_RD | GRF_VIRT_WR);
    assert_ptr_equal(bars[0].vb_mapping.vdev, hq_dev_vdev(d));
    assert_int_equal(SVD_QSB_TYPE(&bars[0].vb_mapping.guest), QST_MEMORY);
    assert_int_equal(bars[0].vb_mapping.guest.length, 0x4000u);
    assert_int_equal(bars[0].vb_mapping.host_location, 0u);
    assert_int_equal(bars[0].vb_value, 0x4u);
    assert_int_equal(bars[0].vb_value_upper, 0u);
    assert_int_equal(bars[0].vb_breg, 0x10u);
    assert_int_equal(bars[0].vb_zero, 0u);
    static const uint8_t zero[sizeof(struct vpci_bar)];
    for (int i = 1; i < SVD_QVM_PCI_NBARS; i++) {
        assert_memory_equal(&bars[i], zero, sizeof zero);
    }
    probe_and_read(d, BAR_A, 2, 2, 0, 40);
    probe_and_read(d, BAR_A, 3, 3, F_EVENT_IDX, 40);
    assert_true(hq_dev_block_intact(d));
    hq_dev_free(d);
}

/* REQ: REQ-QVM-014.a REQ-QVM-014.b */
static void widths_outside_acc_sizes_never_delivered_and_reads_always_answered(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = mmio_dev(MMIO_A, "gic:6", &rc);
    assert_non_null(d);
    uint64_t base = hq_dev_loc(d);
    uint64_t v = 0;
    for (unsigned w = 3; w <= 7; w++) {
        if (w == 4u) {
            continue;
        }
        assert_int_equal(hq_access(d, false, QST_MEMORY, base, w, &v), HQ_REFUSED);
    }
    /* 1-, 2- and 8-byte register reads are delivered and answered with 0 (the defined answer). */
    unsigned widths[] = { 1, 2, 8 };
    for (size_t i = 0; i < 3; i++) {
        v = 12345;
        assert_int_equal(hq_access(d, false, QST_MEMORY, base, widths[i], &v), VRS_NORMAL);
        assert_int_equal(v, 0);
    }
    v = 0;
    assert_int_equal(hq_access(d, false, QST_MEMORY, base, 4, &v), VRS_NORMAL);
    assert_int_equal(v, 0x74726976u);
    /* 1-, 2- and 8-byte register writes are delivered and ignored: Status stays 0. */
    for (size_t i = 0; i < 3; i++) {
        v = 1; /* ACKNOWLEDGE: the first step a driver takes, taken from a 4-byte write */
        assert_int_equal(hq_access(d, true, QST_MEMORY, base + 0x070u, widths[i], &v), VRS_NORMAL);
        v = 12345;
        assert_int_equal(hq_access(d, false, QST_MEMORY, base + 0x070u, 4, &v), VRS_NORMAL);
        assert_int_equal(v, 0);
    }
    /* Outside the window: no region of the device there, qvm delivers it to no vdev. */
    v = 7;
    assert_int_equal(hq_access(d, false, QST_MEMORY, base + 0x200u, 4, &v), HQ_UNROUTED);
    v = 0xffffffffu;
    assert_int_equal(hq_access(d, true, QST_MEMORY, base - 4u, 4, &v), HQ_UNROUTED);
    hq_dev_free(d);
}

/* REQ: REQ-QVM-005 */
static void gen_fdt_describes_the_mmio_device_and_dtc_reads_it(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = mmio_dev(MMIO_A, "gic:37", &rc);
    assert_non_null(d);
    static uint8_t blob[4096];
    assert_int_equal(hq_gen_fdt(d, blob, sizeof blob), EOK);
    assert_int_equal(fdt_check_header(blob), 0);
    int node = fdt_path_offset(blob, "/virtio_mmio@1c0d0000");
    assert_true(node >= 0);
    int len = 0;
    const char *compat = fdt_getprop(blob, node, "compatible", &len);
    assert_non_null(compat);
    assert_string_equal(compat, "virtio,mmio");
    const fdt32_t *reg = fdt_getprop(blob, node, "reg", &len);
    assert_non_null(reg);
    assert_int_equal(len, 16);
    assert_int_equal(fdt32_to_cpu(reg[0]), 0);
    assert_int_equal(fdt32_to_cpu(reg[1]), 0x1c0d0000u);
    assert_int_equal(fdt32_to_cpu(reg[2]), 0);
    assert_int_equal(fdt32_to_cpu(reg[3]), 0x200u);
    const fdt32_t *irq = fdt_getprop(blob, node, "interrupts", &len);
    assert_non_null(irq);
    assert_int_equal(len, 12); /* arm,gic: SPI 5 (ID 37), level high */
    assert_int_equal(fdt32_to_cpu(irq[0]), 0u);
    assert_int_equal(fdt32_to_cpu(irq[1]), 5u);
    assert_int_equal(fdt32_to_cpu(irq[2]), 4u);
    assert_non_null(fdt_getprop(blob, node, "dma-coherent", &len));
    assert_int_equal(len, 0);
    /* dtc decompiles it. */
    char path[] = "/tmp/hq_fdt_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, blob, fdt_totalsize(blob)), (ssize_t)fdt_totalsize(blob));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "dtc -q -I dtb -O dts '%s'", path);
    const char *dts = run(cmd);
    unlink(path);
    assert_non_null(strstr(dts, "virtio_mmio@1c0d0000 {"));
    assert_non_null(strstr(dts, "compatible = \"virtio,mmio\";"));
    assert_non_null(strstr(dts, "reg = <0x00 0x1c0d0000 0x00 0x200>;"));
    assert_non_null(strstr(dts, "interrupts = <0x00 0x05 0x04>;"));
    /* An MMIO device has no BARs (positive answer), and a tree with no room
     * left makes GEN_FDT fail with a log line, not crash. */
    struct vpci_bar bars[SVD_QVM_PCI_NBARS];
    assert_true(hq_dev_control(d, VDEV_CTRL_PCI_BARS, (const char *)bars) > 0);
    static uint8_t tiny[96];
    hq_log_clear();
    assert_int_equal(hq_gen_fdt(d, tiny, sizeof tiny), EIO);
    assert_true(hq_log_has("cannot add the FDT node"));
    hq_dev_free(d);

    /* A PCI device adds no node. */
    d = pci_dev(&rc);
    assert_non_null(d);
    assert_int_equal(hq_gen_fdt(d, blob, sizeof blob), EOK);
    assert_true(fdt_first_subnode(blob, 0) < 0);
    hq_dev_free(d);
}

/* ------------------------------------------------------------ several instances */

struct reader {
    hq_dev *d;
    uint64_t bar;
    unsigned ring;
    unsigned buf;
    unsigned rounds;
    int fails;
    unsigned done;
};

static void *reader_thread(void *arg)
{
    struct reader *r = arg;
    hq_drv v;
    if (hq_drv_probe(&v, r->d, r->bar, RING(r->ring), 16, 0) != HQ_DRV_OK) {
        r->fails++;
        return NULL;
    }
    for (unsigned i = 0; i < r->rounds; i++) {
        uint64_t gpa = BUF(r->buf) + 64u * (i % 32u);
        long got = hq_drv_read(&v, gpa, 64, 0, 0);
        if (got != 64) {
            r->fails++;
        } else {
            r->done++;
        }
    }
    return NULL;
}

/* REQ: REQ-QVM-006.a REQ-QVM-006.b */
/* DFA: DFA-001 */
static void two_instances_read_concurrently_without_interference(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *a = mmio_dev(MMIO_A, "gic:7", &rc);
    assert_non_null(a);
    hq_dev *b = pci_dev(&rc);
    assert_non_null(b);
    hq_dev *c = mmio_dev(MMIO_B, "gic:8", &rc);
    assert_non_null(c);
    /* Guard bytes between the buffer areas: no instance writes another's. */
    tg_mem_fill(hq_ram(), BUF(0), 3u * 0x10000u, 0xC3);
    struct reader r[3] = {
        { a, 0, 0, 0, 3000, 0, 0 },
        { b, BAR_B, 1, 1, 3000, 0, 0 },
        { c, 0, 2, 2, 3000, 0, 0 },
    };
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, reader_thread, &r[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(r[i].fails, 0);
        assert_int_equal(r[i].done, 3000);
        /* Only the first 32*64 bytes of each area were handed to the device. */
        assert_true(all_bytes(BUF(i) + 32u * 64u, 0x10000u - 32u * 64u, 0xC3));
    }
    assert_true(hq_dev_block_intact(a) && hq_dev_block_intact(b) && hq_dev_block_intact(c));
    hq_dev_free(a);
    hq_dev_free(b);
    hq_dev_free(c);
}

/* REQ: REQ-QVM-007.a REQ-QVM-007.c */
/* FM: FM-QVM-002 */
/* DFA: DFA-002 */
static void faulted_instance_needs_reset_and_the_other_keeps_working(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *a = mmio_dev(MMIO_A, "gic:9", &rc);
    hq_dev *b = pci_dev(&rc);
    assert_non_null(a);
    assert_non_null(b);
    hq_drv va;
    hq_drv vb;
    assert_int_equal(hq_drv_probe(&va, a, 0, RING(0), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_drv_probe(&vb, b, BAR_B, RING(1), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_drv_read(&va, BUF(0), 64, 0, 0), 64);
    /* Attack on A: the available index jumps by more than the queue size
     * (rust-vmm #196), then a kick. */
    tg_vring_set_avail_idx(&va.vr, (uint16_t)(va.vr.avail_idx + 100u));
    hq_drv_reg_write(&va, 0x050, 4, 0);
    assert_true((hq_drv_status(&va) & S_NEEDS_RESET) != 0u);
    assert_true(hq_irq_level(hq_dev_pin(a))); /* configuration-change interrupt */
    (void)hq_drv_handle_irq(&va);
    assert_true(va.status_faults > 0u);
    /* B is untouched. */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(hq_drv_read(&vb, BUF(1), 64, 0, 0), 64);
    }
    assert_int_equal(hq_drv_status(&vb) & S_NEEDS_RESET, 0);
    /* A further kick on A does nothing. */
    hq_drv_reg_write(&va, 0x050, 4, 0);
    assert_true((hq_drv_status(&va) & S_NEEDS_RESET) != 0u);
    /* A driver reset of A and a new probe bring it back. */
    hq_drv va2;
    assert_int_equal(hq_drv_probe(&va2, a, 0, RING(2), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_drv_read(&va2, BUF(2), 64, 0, 0), 64);
    hq_dev_free(a);
    hq_dev_free(b);
}

/* ------------------------------------------------------------ options */

struct bad_case {
    const char *opts[12];
    const char *named; /* must appear in the log */
};

/* REQ: REQ-QVM-008.a REQ-QVM-008.b REQ-QVM-008.c REQ-QVM-008.d */
/* FM: FM-QVM-003 */
static void every_bad_option_fails_options_end_naming_it(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        { { "delayed", "abc", NULL }, "option 'delayed' value 'abc'" },
        { { "delayed", "0", NULL }, "option 'delayed' value '0'" },
        { { "delayed", "86401", NULL }, "option 'delayed' value '86401'" },
        { { "delayed", "", NULL }, "option 'delayed' value ''" },
        { { "delayed", "5s", NULL }, "option 'delayed' value '5s'" },
        { { "rate-bytes", "-5", NULL },
          "option 'rate-bytes' value '-5' rejected: bytes per second, 0 (unlimited) to 1073741824" },
        { { "rate-bytes", "1073741825", NULL }, "option 'rate-bytes' value '1073741825'" },
        { { "rate-bytes", " 12", NULL }, "option 'rate-bytes' value ' 12'" },
        { { "rate-ops", "0x", NULL }, "option 'rate-ops' value '0x'" },
        { { "rate-ops", "99999999999999999999999", NULL }, "option 'rate-ops' value '9999999999" },
        { { "rate-burst", "100", NULL }, "option 'rate-burst' value '100' rejected: needs rate-bytes" },
        { { "rate-bytes", "0", "rate-burst", "7", NULL }, "option 'rate-burst' value '7' rejected: needs rate-bytes" },
        { { "rate-bytes", "100", "rate-burst", "1073741825", NULL }, "option 'rate-burst' value '1073741825'" },
        { { "rate-ops-burst", "5", NULL }, "option 'rate-ops-burst' value '5' rejected: needs rate-ops" },
        { { "rate-ops", "1", "rate-ops-burst", "1073741825", NULL },
          "option 'rate-ops-burst' value '1073741825' rejected: requests, 0 to 1073741824" },
        { { "rate-ops", "1", "rate-ops-burst", "-1", NULL }, "option 'rate-ops-burst' value '-1'" },
        { { "dma", "5", NULL }, "option 'dma' value '5'" },
        { { "dma", "0x1000,0", NULL }, "option 'dma' value '0x1000,0'" },
        { { "dma", "0xffffffffffffffff,2", NULL }, "option 'dma' value '0xffffffffffffffff,2'" },
        { { "dma", "0,0x100,", NULL }, "option 'dma' value '0,0x100,'" },
        { { "dma", "0x1000,0x1000", "dma", "0x1800,0x10", NULL }, "option 'dma' value '0x1800,0x10'" },
        { { "dma", "0x0,1", "dma", "0x10,1", "dma", "0x20,1", "dma", "0x30,1", "dma", "0x40,1", NULL },
          "option 'dma' value '0x40,1'" },
        { { "loc", "0x1c0d0000", NULL }, "option 'intr'" },
        { { "loc", "0xffffffffffffff00", "intr", "gic:3", NULL }, "option 'loc'" },
        { { "delayed", "3", "rate-ops", "7", "rate-bytes", "x", NULL }, "option 'rate-bytes' value 'x'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hq_log_clear();
        int rc = EOK;
        hq_dev *d = hq_dev_new("svd-virtio-entropy", cases[i].opts, &rc);
        if ((d != NULL) || (rc == EOK) || !hq_log_has(cases[i].named)) {
            print_error("case %zu (expect \"%s\"): dev %p rc %d\n", i, cases[i].named, (void *)d, rc);
            hq_log_dump();
        }
        assert_null(d);
        assert_int_not_equal(rc, EOK);
        assert_true(hq_log_has(cases[i].named));
        assert_int_equal(hq_live_maps(), 0);
        assert_int_equal(hq_live_timers(), 0);
    }
    /* Good values of each option are accepted. */
    const char *good[] = { "delayed", "forever", "rate-bytes", "1073741824", "rate-burst", "0", "rate-ops",
                           "0XaB", "rate-ops-burst", "0x10", "dma", "0x40000000,0x100000", "dma",
                           "0x40100000,0x300000", NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", good, &rc);
    assert_int_equal(rc, EOK);
    assert_non_null(d);
    /* Options after OPTIONS_END are refused. */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_FIRST_OPTIDX + 1u, "5"), EBUSY);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_OPTIONS_END, NULL), EBUSY);
    /* Commands the adapter has nothing to do for return a defined EOK. */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_GEN_ACPI, NULL), EOK);
    assert_int_equal(hq_dev_control(d, 7u, NULL), EOK);
    assert_int_equal(hq_dev_control(d, 0xdeadu, NULL), EOK);
    hq_log_clear();
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("virtio-entropy: status"));
    assert_true(hq_log_has(", refused accesses 0"));
    hq_dev_free(d);
}

/* rate-bytes 0 and rate-ops 0 are "unlimited", as in the daemon: nothing is
 * ever deferred, however fast the guest asks. */
/* REQ: REQ-QVM-012 */
static void rate_zero_means_unlimited(void **state)
{
    (void)state;
    const char *o[] = { "rate-bytes", "0", "rate-ops", "0", "dma", DMA_ALL, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_int_equal(rc, EOK);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0), HQ_DRV_OK);
    const uint64_t t0 = hq_clock_now();
    for (int i = 0; i < 200; i++) {
        assert_int_equal(hq_drv_read(&v, BUF(0), 4096, 0, 0), 4096); /* no clock step allowed */
    }
    assert_int_equal(hq_clock_now(), t0);
    hq_log_clear();
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("why none source open requests 200 bytes 819200 source-failures 0 deferrals 0"));
    hq_dev_free(d);
}

/* ------------------------------------------------------------ entropy source */

/* REQ: REQ-QVM-009 */
static void source_unavailable_without_delayed_fails_options_end(void **state)
{
    (void)state;
    hq_fault_getrandom(EAGAIN, -1);
    int rc = EOK;
    assert_null(pci_dev(&rc));
    assert_int_equal(rc, EIO);
    assert_true(hq_log_has("entropy source unavailable"));
    hq_fault_getrandom(ENOSYS, 1);
    assert_null(mmio_dev(MMIO_A, "gic:3", &rc));
    assert_int_equal(rc, EIO);
    assert_int_equal(hq_live_timers(), 0);
}

/* REQ: REQ-QVM-010.a REQ-QVM-010.b */
static void delayed_opens_on_first_request_and_waits(void **state)
{
    (void)state;
    hq_fault_getrandom(EAGAIN, -1);
    const char *o[] = { "delayed", "2", "dma", DMA_ALL, NULL };
    int rc = -1;
    unsigned calls0 = hq_getrandom_calls();
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_int_equal(rc, EOK);
    assert_non_null(d);
    assert_int_equal(hq_getrandom_calls(), calls0); /* not opened before the first request */
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_getrandom_calls(), calls0);
    tg_mem_fill(hq_ram(), BUF(0), 64, 0xAA);
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 100 * MS, 10), -1); /* 1 s: still pending */
    assert_true(hq_getrandom_calls() > calls0 + 5u);                  /* it kept probing */
    assert_true(all_bytes(BUF(0), 64, 0xAA));                         /* nothing written meanwhile */
    hq_fault_getrandom(0, 0);
    uint32_t id = 0;
    uint32_t got = 0;
    hq_clock_advance(200 * MS);
    (void)hq_drv_handle_irq(&v);
    assert_true(tg_vring_get_used(&v.vr, &id, &got));
    assert_int_equal(got, 64);
    assert_false(all_bytes(BUF(0), 64, 0xAA));
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 0, 0), 64);
    hq_dev_free(d);
}

/* `delayed N` is the entropy model's source-open policy: the source may stay
 * unavailable N s from the guest's first request, not a moment longer; then
 * the model gives up, the device latches NEEDS_RESET (configuration
 * interrupt) and the frame logs the reason. Giving up is final for the
 * instance: a device reset does not bring the source back. */
/* REQ: REQ-QVM-010.c */
static void delayed_n_gives_up_through_the_model(void **state)
{
    (void)state;
    hq_fault_getrandom(EAGAIN, -1);
    const char *o[] = { "loc", MMIO_A, "intr", "gic:11", "delayed", "1", "dma", DMA_ALL, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, 0, RING(0), 16, 0), HQ_DRV_OK);
    tg_mem_fill(hq_ram(), BUF(0), 64, 0xAA);
    const uint64_t t0 = hq_clock_now();
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 100 * MS, 9), -1); /* 0.9 s: still waiting */
    hq_clock_advance(t0 + 1000 * MS - 1u - hq_clock_now());
    assert_int_equal(hq_drv_status(&v) & S_NEEDS_RESET, 0);
    assert_false(hq_log_has("needs reset"));
    assert_false(hq_irq_level(11));
    hq_clock_advance(1u); /* 1 s after the first request */
    assert_true((hq_drv_status(&v) & S_NEEDS_RESET) != 0u);
    assert_true(hq_irq_level(11));
    assert_true(hq_log_has("virtio-entropy: device needs reset: source_gave_up"));
    assert_int_equal(hq_log_count(), 1u);
    assert_true(all_bytes(BUF(0), 64, 0xAA));
    /* No timer keeps firing after giving up. */
    unsigned calls = hq_getrandom_calls();
    hq_clock_advance(10000 * MS);
    assert_int_equal(hq_getrandom_calls(), calls);
    assert_false(hq_timer_armed(d, NULL));
    /* A device reset and a new probe: the first request latches again, at once. */
    hq_drv v2;
    assert_int_equal(hq_drv_probe(&v2, d, 0, RING(1), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_drv_read(&v2, BUF(1), 64, 0, 0), -1);
    assert_true((hq_drv_status(&v2) & S_NEEDS_RESET) != 0u);
    assert_int_equal(hq_log_count(), 2u);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("why source_gave_up source gave-up requests 0"));
    hq_dev_free(d);
}

/* The N seconds of `delayed N` start at the guest's first request: time
 * that passes between OPTIONS_END and that request does not count, the
 * adapter keeps retrying for the whole N seconds (an adapter that gave up
 * at the first failure, after a fixed second, or counted from OPTIONS_END
 * fails here), and gives up at N seconds exactly. */
/* REQ: REQ-QVM-010.c */
static void delayed_n_counts_n_seconds_from_the_first_request(void **state)
{
    (void)state;
    hq_fault_getrandom(EAGAIN, -1);
    const char *o[] = { "loc", MMIO_A, "intr", "gic:11", "delayed", "3", "dma", DMA_ALL, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_int_equal(rc, EOK);
    assert_non_null(d);
    hq_clock_advance(5000 * MS); /* longer than N before the guest asks: not counted */
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, 0, RING(0), 16, 0), HQ_DRV_OK);
    tg_mem_fill(hq_ram(), BUF(0), 64, 0xAA);
    const uint64_t t0 = hq_clock_now();
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 100 * MS, 25), -1); /* 2.5 s: pending */
    assert_int_equal(hq_drv_status(&v) & S_NEEDS_RESET, 0);
    const unsigned calls = hq_getrandom_calls();
    hq_clock_advance(t0 + 3000 * MS - 1u - hq_clock_now());
    assert_true(hq_getrandom_calls() > calls); /* still retrying in the last half second */
    assert_int_equal(hq_drv_status(&v) & S_NEEDS_RESET, 0);
    assert_false(hq_irq_level(11));
    assert_false(hq_log_has("needs reset"));
    hq_clock_advance(1u); /* N s after the first request */
    assert_true((hq_drv_status(&v) & S_NEEDS_RESET) != 0u);
    assert_true(hq_irq_level(11));
    assert_true(hq_log_has("virtio-entropy: device needs reset: source_gave_up"));
    assert_true(all_bytes(BUF(0), 64, 0xAA));
    hq_dev_free(d);
}

/* REQ: REQ-QVM-010.d */
static void delayed_forever_waits_as_long_as_it_takes(void **state)
{
    (void)state;
    hq_fault_getrandom(EAGAIN, -1);
    const char *o[] = { "delayed", "forever", "dma", DMA_ALL, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 1000 * MS, 120), -1); /* two minutes */
    assert_int_equal(hq_drv_status(&v) & S_NEEDS_RESET, 0);
    hq_fault_getrandom(0, 0);
    hq_clock_advance(200 * MS);
    uint32_t id = 0;
    uint32_t got = 0;
    (void)hq_drv_handle_irq(&v);
    assert_true(tg_vring_get_used(&v.vr, &id, &got));
    assert_int_equal(got, 64);
    hq_dev_free(d);
}

/* REQ: REQ-QVM-011 */
/* FM: FM-QVM-005 */
static void runtime_source_failure_defers_never_fakes(void **state)
{
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0), HQ_DRV_OK);
    hq_fault_getrandom((*state != NULL) ? EAGAIN : EIO, 3);
    tg_mem_fill(hq_ram(), BUF(0), 64, 0xAA);
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 0, 0), -1); /* failed now: pending, no completion */
    assert_true(all_bytes(BUF(0), 64, 0xAA));
    uint32_t id = 0;
    uint32_t got = 0;
    for (int i = 0; (i < 10) && !tg_vring_get_used(&v.vr, &id, &got); i++) {
        hq_clock_advance(10 * MS);
        (void)hq_drv_handle_irq(&v);
    }
    assert_int_equal(got, 64);
    assert_false(all_bytes(BUF(0), 64, 0xAA));
    hq_dev_free(d);
}

/* REQ: REQ-QVM-012 */
static void rate_limit_defers_with_the_timer(void **state)
{
    (void)state;
    const char *o[] = { "rate-bytes", "640", "rate-ops", "1000", "dma", DMA_ALL, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 0, 0), 64); /* the full bucket */
    uint64_t t0 = hq_clock_now();
    long got = hq_drv_read(&v, BUF(0), 64, 10 * MS, 200);
    uint64_t dt = hq_clock_now() - t0;
    /* 640 B/s is a bucket of 64 bytes refilled every 100 ms: the second request
     * is admitted no earlier than ~100 ms later. */
    assert_int_equal(got, 64);
    assert_true(dt >= 90 * MS);
    assert_true(dt <= 110 * MS);
    hq_dev_free(d);
}

/* The frame arms the instance timer at the deadline the engine reports
 * (fx.deadline), not before and not later: rate-ops 10 is one request per
 * 100 ms, so a second request at t0 is due at exactly t0 + 100 ms. */
/* REQ: REQ-QVM-012 */
static void frame_arms_the_timer_at_the_engine_deadline(void **state)
{
    (void)state;
    const char *o[] = { "loc", MMIO_A, "intr", "gic:15", "rate-ops", "10", "dma", DMA_ALL, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, 0, RING(0), 16, 0), HQ_DRV_OK);
    assert_false(hq_timer_armed(d, NULL)); /* nothing pending: no deadline */
    const uint64_t t0 = hq_clock_now();
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 0, 0), 64);
    assert_int_equal(hq_drv_read(&v, BUF(1), 64, 0, 0), -1); /* deferred */
    uint64_t at = 0;
    assert_true(hq_timer_armed(d, &at));
    assert_int_equal(at, t0 + 100 * MS);
    hq_clock_advance(100 * MS - 1u);
    uint32_t id = 0;
    uint32_t got = 0;
    (void)hq_drv_handle_irq(&v);
    assert_false(tg_vring_get_used(&v.vr, &id, &got));
    hq_clock_advance(1u);
    (void)hq_drv_handle_irq(&v);
    assert_true(tg_vring_get_used(&v.vr, &id, &got));
    assert_int_equal(got, 64);
    assert_false(hq_timer_armed(d, NULL)); /* served: nothing left to wait for */
    hq_dev_free(d);
}

/* A guest protocol error latches NEEDS_RESET and the log line names the rule
 * broken, once per latch; after a reset another rule is named. */
/* REQ: REQ-QVM-007.b */
static void protocol_error_is_logged_with_its_rule(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = mmio_dev(MMIO_A, "gic:16", &rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, 0, RING(0), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 0, 0), 64);
    hq_log_clear();
    /* rust-vmm #196: the available index jumps by more than the queue size. */
    tg_vring_set_avail_idx(&v.vr, (uint16_t)(v.vr.avail_idx + 100u));
    hq_drv_reg_write(&v, 0x050, 4, 0);
    assert_true((hq_drv_status(&v) & S_NEEDS_RESET) != 0u);
    assert_true(hq_log_has("virtio-entropy: device needs reset: avail_jump"));
    hq_drv_reg_write(&v, 0x050, 4, 0); /* latched: nothing new */
    assert_int_equal(hq_log_count(), 1u);
    /* Reset, then a head index outside the queue (CVE-2011-2512 class). */
    hq_drv v2;
    assert_int_equal(hq_drv_probe(&v2, d, 0, RING(1), 16, 0), HQ_DRV_OK);
    tg_vring_publish(&v2.vr, 200);
    hq_drv_reg_write(&v2, 0x050, 4, 0);
    assert_true((hq_drv_status(&v2) & S_NEEDS_RESET) != 0u);
    assert_true(hq_log_has("virtio-entropy: device needs reset: head_range"));
    assert_int_equal(hq_log_count(), 2u);
    /* STATUS names the rule of the latch in force. */
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_true(hq_log_has("virtio-entropy: status 0x4f why head_range source open"));
    hq_dev_free(d);
}

/* ------------------------------------------------------------ lifecycle */

/* REQ: REQ-QVM-013.a REQ-QVM-013.b REQ-QVM-013.c REQ-QVM-013.d */
static void terminate_releases_everything(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = mmio_dev(MMIO_A, "gic:12", &rc);
    assert_non_null(d);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, 0, RING(0), 16, 0), HQ_DRV_OK);
    assert_int_equal(hq_live_maps(), 1);
    assert_int_equal(hq_live_timers(), 1);
    /* Leave the interrupt asserted: publish a buffer, kick, do not acknowledge. */
    tg_vring_set_desc(&v.vr, 0, BUF(0), 64, 2, 0);
    tg_vring_publish(&v.vr, 0);
    hq_drv_reg_write(&v, 0x050, 4, 0);
    assert_true(hq_irq_level(12));
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_TERMINATE, NULL), EOK);
    assert_int_equal(hq_live_maps(), 0);
    assert_false(hq_irq_level(12));
    /* After TERMINATE the instance answers nothing but defined codes. */
    uint64_t x = 5;
    assert_int_equal(hq_access(d, false, QST_MEMORY, hq_dev_loc(d), 4, &x), VRS_NORMAL);
    assert_int_equal(x, 0);
    /* ... and writes vanish: a kick for a new buffer completes nothing and
     * raises nothing. */
    const uint16_t used = tg_vring_used_idx(&v.vr);
    assert_int_equal(used, 1);
    tg_vring_set_desc(&v.vr, 1, BUF(1), 64, 2, 0);
    tg_vring_publish(&v.vr, 1);
    x = 0;
    assert_int_equal(hq_access(d, true, QST_MEMORY, hq_dev_loc(d) + 0x050u, 4, &x), VRS_NORMAL);
    assert_int_equal(tg_vring_used_idx(&v.vr), used);
    assert_false(hq_irq_level(12));
    assert_int_not_equal(hq_dev_control(d, VDEV_CTRL_GEN_FDT, NULL), EOK);
    hq_dev_free(d); /* TERMINATE again: harmless */
    assert_int_equal(hq_live_timers(), 0);
}

/* REQ: REQ-QVM-016.b REQ-QVM-016.c REQ-QVM-016.d REQ-QVM-025 */
/* FM: FM-QVM-004 */
static void host_resource_failures_are_reported(void **state)
{
    (void)state;
    int rc = -1;
    hq_fault_timer(true);
    assert_null(pci_dev(&rc));
    assert_int_equal(rc, EIO);
    assert_true(hq_log_has("cannot create a guest timer"));
    hq_fault_timer(false);
    hq_fault_map(true);
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    assert_true(hq_log_has("cannot map the dma window"));
    hq_log_clear();
    hq_drv v;
    int pr = hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0);
    assert_true((pr == HQ_DRV_E_QUEUE) || (pr == HQ_DRV_E_DRIVER_OK));
    assert_true((hq_drv_status(&v) & S_NEEDS_RESET) != 0u);
    assert_false(hq_log_has("cannot map the dma window")); /* logged once: the probe's retries are quiet */
    hq_fault_map(false);
    assert_int_equal(hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0), HQ_DRV_OK); /* mapped on retry */
    assert_int_equal(hq_drv_read(&v, BUF(0), 64, 0, 0), 64);
    hq_dev_free(d);
    /* Without `dma` the default window 0x0,0x40000000 is not RAM here: reported the same way. */
    hq_log_clear();
    const char *nodma[] = { "rate-ops", "10", NULL };
    d = hq_dev_new("svd-virtio-entropy", nodma, &rc);
    assert_non_null(d);
    assert_true(hq_log_has("virtio-entropy: no 'dma' option: the device may access guest-physical 0x0..0x3fffffff"));
    assert_true(hq_log_has("cannot map the dma window"));
    assert_int_equal(hq_live_maps(), 0);
    hq_dev_free(d);
}

/* One full life: create, probe, three reads (one deferred by the rate limiter), free.
 * Returns false if the life could not complete (a fault made some step fail). */
static bool one_life(bool pci, unsigned pin)
{
    char pinbuf[16];
    snprintf(pinbuf, sizeof pinbuf, "gic:%u", pin);
    const char *om[] = { "loc", MMIO_A, "intr", pinbuf, "rate-bytes", "1280", "dma", DMA_ALL, NULL };
    const char *op[] = { "rate-bytes", "1280", "dma", DMA_ALL, NULL };
    int rc = -1;
    hq_dev *d = hq_dev_new("svd-virtio-entropy", pci ? op : om, &rc);
    if (d == NULL) {
        assert_int_not_equal(rc, EOK);
        return false;
    }
    unsigned dpin = hq_dev_pin(d);
    hq_drv v;
    bool ok = hq_drv_probe(&v, d, BAR_A, RING(0), 8, F_EVENT_IDX) == HQ_DRV_OK;
    for (int i = 0; ok && (i < 3); i++) {
        ok = hq_drv_read(&v, BUF(0), 64, 100 * MS, 30) == 64;
    }
    assert_true(hq_dev_block_intact(d));
    hq_dev_free(d);
    assert_int_equal(hq_live_maps(), 0);
    assert_int_equal(hq_live_timers(), 0);
    const char *f = hq_fault_fired();
    if ((f == NULL) || (strcmp(f, "guest_intr_signal") != 0)) {
        assert_false(hq_irq_level(dpin)); /* lowered, unless the host refused exactly that */
    }
    return ok;
}

/* REQ: REQ-QVM-016.a REQ-QVM-013.a REQ-QVM-013.b */
/* FM: FM-QVM-006 */
static void countdown_fault_injection_on_every_host_call(void **state)
{
    (void)state;
    for (int pci = 0; pci < 2; pci++) {
        long k = 1;
        for (;; k++) {
            assert_true(k < 2000);
            hq_fault_countdown(k);
            bool ok = one_life(pci != 0, 20u);
            const char *fired = hq_fault_fired();
            hq_fault_countdown(0);
            if (fired == NULL) {
                assert_true(ok); /* no fault fired: the life must have worked */
                break;
            }
            assert_true(tg_mem_canaries_intact(hq_ram()));
        }
        print_message("countdown %s: %ld host calls failed one by one, then a clean run\n", pci ? "pci" : "mmio",
                      k - 1);
        assert_true(k > 20);
    }
}

/* ------------------------------------------------------------ fuzz */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* REQ: REQ-QVM-017 */
static void control_commands_in_any_order_return_defined_codes(void **state)
{
    (void)state;
    static const char *const vals[] = { "0", "1", "5", "forever", "0x40000000,0x400000", "0x40000000,0x1000",
                                        "x", "", "99999999999999999999", "0x10,0x10", NULL };
    const unsigned rounds = (getenv("HQ_VALGRIND") != NULL) ? 3000u : 20000u;
    rng_state = UINT64_C(0xC0FFEE1234567);
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    hq_dev *m = mmio_dev(MMIO_A, "gic:14", &rc);
    assert_non_null(m);
    for (unsigned i = 0; i < rounds; i++) {
        hq_dev *x = ((rnd() % 2u) == 0u) ? d : m;
        unsigned ctrl;
        unsigned pick = (unsigned)(rnd() % 12u);
        if (pick < 9u) {
            ctrl = pick; /* OPTIONS_START .. PCI_BARS */
        } else if (pick < 11u) {
            ctrl = VDEV_CTRL_FIRST_OPTIDX + (unsigned)(rnd() % 6u); /* incl. one past the list */
        } else {
            ctrl = (unsigned)rnd();
        }
        const char *arg = vals[rnd() % 11u];
        struct vpci_bar bars[SVD_QVM_PCI_NBARS];
        if (ctrl == VDEV_CTRL_PCI_BARS) {
            arg = (const char *)bars;
        } else if (ctrl == VDEV_CTRL_GEN_FDT) {
            arg = NULL;
        }
        int r = hq_dev_control(x, ctrl, arg);
        bool defined = (r == EOK) || (r == EINVAL) || (r == EBUSY) || (r == EIO) || (r == 1) ||
                       (r == -SVD_QVM_PCI_NBARS);
        if (!defined) {
            fail_msg("round %u: control %u returned %d", i, ctrl, r);
        }
        uint64_t v = rnd();
        (void)hq_access(x, (rnd() % 2u) == 0u, (rnd() % 3u == 0u) ? QST_PCI : QST_MEMORY,
                        hq_dev_is_pci(x) ? (rnd() % 0x100u) : (hq_dev_loc(x) + (rnd() % 0x200u)), 4, &v);
        assert_true(hq_dev_block_intact(x));
        assert_true(hq_live_timers() <= 2u); /* a re-set-up instance reuses its timer */
        assert_true(hq_live_maps() <= 2u);   /* and releases its old mappings */
    }
    hq_dev_free(d);
    hq_dev_free(m);
}

static void fuzz_one(hq_dev *d, uint64_t bar, unsigned ops)
{
    static const unsigned widths[] = { 1, 2, 4, 8 };
    static const uint64_t interesting[] = { 0, 1, 2, 3, 4, 7, 8, 0xb, 0xf, 0x40, 0x80, 0xff, 0x100, 0xffff,
                                            0x10000, 0xffffffff, 0x40000000, 0x40001000, UINT64_MAX };
    hq_drv v;
    (void)hq_drv_probe(&v, d, bar, RING(0), 8, F_EVENT_IDX | F_INDIRECT);
    for (unsigned i = 0; i < ops; i++) {
        unsigned w = widths[rnd() % 4u];
        uint64_t val = ((rnd() % 3u) == 0u) ? rnd() : interesting[rnd() % (sizeof interesting / 8u)];
        bool write = (rnd() % 2u) == 0u;
        unsigned type = QST_MEMORY;
        uint64_t loc;
        if (hq_dev_is_pci(d) && ((rnd() % 3u) == 0u)) {
            type = QST_PCI;
            loc = rnd() % 0x110u;
        } else {
            uint64_t base = hq_dev_is_pci(d) ? bar : hq_dev_loc(d);
            loc = base + (rnd() % (hq_dev_is_pci(d) ? 0x4100u : 0x220u));
            if ((rnd() % 4u) != 0u) {
                loc &= ~UINT64_C(3); /* mostly aligned, to get past the width checks */
            }
        }
        if ((rnd() % 64u) == 0u) {
            /* scribble over the rings and buffers the device may be using */
            tg_mem_fill(hq_ram(), RING(0) + (rnd() % 0x200u), (size_t)(rnd() % 32u), (uint8_t)rnd());
        }
        int r = hq_access(d, write, type, loc, w, &val);
        const bool answered = (r == VRS_NORMAL) || (r == HQ_UNROUTED); /* HQ_UNROUTED: no region there */
        if (!answered || !hq_dev_block_intact(d) || !tg_mem_canaries_intact(hq_ram())) {
            fail_msg("op %u: r %d write %d type %u loc 0x%llx w %u", i, r, write, type, (unsigned long long)loc,
                     w);
        }
        if ((rnd() % 256u) == 0u) {
            hq_clock_advance(rnd() % (50 * MS));
        }
        if ((rnd() % 2048u) == 0u) {
            (void)hq_drv_probe(&v, d, bar, RING(0), 8, F_EVENT_IDX | F_INDIRECT);
        }
    }
}

/* REQ: REQ-QVM-015 REQ-QVM-014.a REQ-QVM-014.c */
static void fuzz_register_sequences_never_crash(void **state)
{
    (void)state;
    const unsigned ops = (getenv("HQ_VALGRIND") != NULL) ? 20000u : 200000u;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        rng_state = seed * UINT64_C(0x9E3779B97F4A7C15);
        int rc = -1;
        const char *o[] = { "loc", MMIO_A, "intr", "gic:13", "rate-bytes", "4096", "rate-ops", "100", "dma",
                            DMA_ALL, NULL };
        hq_dev *m = hq_dev_new("svd-virtio-entropy", o, &rc);
        assert_non_null(m);
        fuzz_one(m, 0, ops);
        hq_dev_free(m);
        hq_dev *p = pci_dev(&rc);
        assert_non_null(p);
        fuzz_one(p, BAR_A, ops);
        hq_dev_free(p);
    }
}

/* ------------------------------------------------------ qvm API fidelity */

/* The compat declarations have the layout the QNX pages give, in this
 * build's generation: vdev_factory with pulse between vwrite and timer, pic
 * between timer and option_list, safety last (7.x only); vpci_bar's words
 * after its gasp_region, vb_zero last; qvm_state_block's length 32-bit on
 * 7.x, 64-bit on 8.0. The factory has no name of its own: qvm (and the
 * harness) names it after its file, vdev-svd-virtio-entropy.so. */
/* REQ: REQ-QVM-018 REQ-QVM-024 */
static void compat_layout_and_factory_name_are_the_pages(void **state)
{
    (void)state;
    assert_true(offsetof(struct vdev_factory, pulse) > offsetof(struct vdev_factory, vwrite));
    assert_true(offsetof(struct vdev_factory, timer) > offsetof(struct vdev_factory, pulse));
    assert_true(offsetof(struct vdev_factory, pic) > offsetof(struct vdev_factory, timer));
    assert_true(offsetof(struct vdev_factory, option_list) > offsetof(struct vdev_factory, pic));
    assert_true(offsetof(struct vdev_factory, extra_space) > offsetof(struct vdev_factory, acc_sizes));
    assert_int_equal(offsetof(struct vpci_bar, vb_value), sizeof(struct gasp_region));
    assert_int_equal(offsetof(struct vpci_bar, vb_zero), sizeof(struct gasp_region) + 12u);
    assert_int_equal(offsetof(struct gasp_region, vdev), 8u);
    const struct qvm_state_block b = { 0 };
#if SVD_QVM_GEN == 8
    assert_int_equal(sizeof b.length, 8u);
    assert_int_equal(offsetof(struct qvm_state_block, qst_type), 16u);
    assert_int_equal(offsetof(struct vdev_s, v_block), 2u * sizeof(void *)); /* no v_gsp */
#else
    assert_int_equal(sizeof b.length, 4u);
    assert_int_equal(offsetof(struct qvm_state_block, type), 12u);
    assert_true(offsetof(struct vdev_factory, safety) > offsetof(struct vdev_factory, extra_space));
    assert_int_equal(offsetof(struct vdev_s, v_block), 3u * sizeof(void *));
#endif
    const struct vdev_factory *f = hq_factory("svd-virtio-entropy");
    assert_non_null(f);
    assert_null(f->name);
    assert_null(f->pulse);
    assert_null(f->pic);
    assert_null(hq_factory("virtio-entropy")); /* QNX's own name is not ours */
}

/* The lifecycle commands the pages document beyond the options: ASSIGN and
 * GUEST_STARTING (played by hq_dev_new), GEN_ACPI, BUTTON return EOK and
 * change nothing; STATUS reports through qvm_report, errors go through
 * vdev_logf of the instance. */
/* REQ: REQ-QVM-019 REQ-QVM-021 */
static void lifecycle_commands_and_where_lines_go(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_GEN_ACPI, NULL), EOK);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_BUTTON, NULL), EOK);
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_ASSIGN, NULL), EOK);
    assert_int_equal(hq_dev_loc(d) & ~UINT64_C(0xffffffff), UINT64_C(1) << 32); /* still on qvm's bus */
    const unsigned reports = hq_report_count();
    const unsigned errors = hq_logf_count();
    assert_int_equal(hq_dev_control(d, VDEV_CTRL_STATUS, NULL), EOK);
    assert_int_equal(hq_report_count(), reports + 1u);
    assert_int_equal(hq_logf_count(), errors);
    assert_true(hq_log_has("guest started"));
    hq_dev_free(d);
    /* an option error: one vdev_logf line, no status line */
    const char *bad[] = { "loc", MMIO_A, NULL };
    assert_null(hq_dev_new("svd-virtio-entropy", bad, &rc));
    assert_int_equal(hq_logf_count(), errors + 1u);
    assert_int_equal(hq_report_count(), reports + 1u);
}

/* The transport is the location's type: `loc pci:3` is a PCI location (not an
 * MMIO base), a memory address is virtio-mmio. BAR0 traffic reaches the
 * device only inside the region it described, at the address qvm assigned. */
/* REQ: REQ-QVM-022 REQ-QVM-004.a REQ-QVM-004.c */
static void transport_follows_the_location_type(void **state)
{
    (void)state;
    int rc = -1;
    const char *o[] = { "loc", "pci:3", "dma", DMA_ALL, NULL };
    hq_dev *d = hq_dev_new("svd-virtio-entropy", o, &rc);
    assert_int_equal(rc, EOK);
    assert_non_null(d);
    assert_true(hq_dev_is_pci(d));
    assert_int_equal(hq_dev_loc(d), (UINT64_C(1) << 32) | (UINT64_C(3) << 24));
    uint64_t v = 0;
    assert_int_equal(hq_access(d, false, QST_PCI, 0x00, 4, &v), VRS_NORMAL);
    assert_int_equal(v, 0x10441af4u);
    probe_and_read(d, BAR_A, 0, 0, 0, 40);
    struct vpci_bar b;
    assert_true(hq_bar(d, 0, &b));
    assert_int_equal(b.vb_mapping.guest.location, BAR_A);
    assert_int_equal(b.vb_value, (uint32_t)BAR_A | 0x4u);
    assert_int_equal(hq_access(d, false, QST_MEMORY, BAR_A + 0x4000u, 4, &v), HQ_UNROUTED);
    assert_int_equal(hq_access(d, false, QST_MEMORY, BAR_A - 4u, 4, &v), HQ_UNROUTED);
    hq_dev_free(d);
    /* a memory location: virtio-mmio, its 0x200-byte window filled in */
    d = mmio_dev(MMIO_A, "gic:9", &rc);
    assert_non_null(d);
    assert_false(hq_dev_is_pci(d));
    assert_int_equal(hq_dev_vdev(d)->v_block.length, 0x200u);
    assert_int_equal(hq_access(d, false, QST_MEMORY, 0x1c0d0000u, 4, &v), VRS_NORMAL);
    assert_int_equal(v, 0x74726976u);
    hq_dev_free(d);
}

/* A transfer qvm refuses is answered the way guest_cpu_to_vrs() documents:
 * -1 becomes VRS_BUS_ERROR, an error code VRS_ERRNO + code; a write whose
 * value could not be fetched is not performed. */
/* REQ: REQ-QVM-023 */
static void refused_transfers_answered_with_guest_cpu_to_vrs(void **state)
{
    (void)state;
    int rc = -1;
    hq_dev *d = mmio_dev(MMIO_A, "gic:10", &rc);
    assert_non_null(d);
    uint64_t v = 0;
    hq_fault_xfer_errno(-1);
    assert_int_equal(hq_access(d, false, QST_MEMORY, 0x1c0d0000u, 4, &v), VRS_BUS_ERROR);
    hq_fault_xfer_errno(EIO);
    assert_int_equal(hq_access(d, false, QST_MEMORY, 0x1c0d0000u, 4, &v), (int)VRS_ERRNO + EIO);
    hq_fault_xfer_errno(EFAULT);
    v = 0x1u; /* DeviceFeaturesSel */
    assert_int_equal(hq_access(d, true, QST_MEMORY, 0x1c0d0014u, 4, &v), (int)VRS_ERRNO + EFAULT);
    assert_int_equal(hq_access(d, false, QST_MEMORY, 0x1c0d0014u, 4, &v), VRS_NORMAL);
    assert_int_equal(v, 0u); /* the write was not performed */
    hq_dev_free(d);
}

/* Every gasp_* call the adapter makes after start-up holds gasp_lock(): the
 * harness fails the test on one that does not; here the calls are counted. */
/* REQ: REQ-QVM-020 */
static void gasp_calls_after_start_up_hold_the_lock(void **state)
{
    (void)state;
    const unsigned before = hq_gasp_locked_calls();
    int rc = -1;
    hq_dev *d = pci_dev(&rc);
    assert_non_null(d);
    assert_int_equal(hq_live_maps(), 1u);                  /* mapped at GUEST_CONFIGURED */
    assert_int_equal(hq_gasp_locked_calls(), before + 1u); /* under the lock */
    hq_dev_free(d);
    assert_int_equal(hq_live_maps(), 0u);
    assert_int_equal(hq_gasp_locked_calls(), before + 2u); /* the unmap too */
    /* qvm refuses the lock: nothing is mapped without it (an error line), and
     * at TERMINATE nothing is unmapped without it either; what was mapped is
     * left to qvm's exit */
    hq_log_clear();
    hq_fault_gasp_lock(true);
    d = pci_dev(&rc);
    assert_non_null(d);
    assert_int_equal(hq_live_maps(), 0u);
    assert_true(hq_log_has("cannot map the dma window"));
    hq_fault_gasp_lock(false);
    hq_drv v;
    assert_int_equal(hq_drv_probe(&v, d, BAR_A, RING(0), 16, 0), HQ_DRV_OK); /* mapped on retry */
    assert_int_equal(hq_live_maps(), 1u);
    hq_fault_gasp_lock(true);
    const unsigned locked = hq_gasp_locked_calls();
    hq_dev_free(d);
    hq_fault_gasp_lock(false);
    assert_true(hq_log_has("guest memory lock refused: 1 dma window(s) left mapped"));
    assert_int_equal(hq_gasp_locked_calls(), locked); /* no unmap */
    assert_int_equal(hq_live_maps(), 1u);
    hq_forget_maps();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(factory_registered_by_constructor, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(only_writable_static_is_the_factory, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(mmio_linux_probe_and_read, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pci_linux_probe_and_read, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pci_linux_takes_msix_vectors_and_interrupts_are_messages, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(pci_linux_with_one_vector_falls_back_to_intx, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(gen_acpi_hands_qvm_the_ssdt_body_and_the_header_fields, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(pci_msix_mask_holds_the_message_and_refusals_are_counted, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(widths_outside_acc_sizes_never_delivered_and_reads_always_answered,
                                        test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(gen_fdt_describes_the_mmio_device_and_dtc_reads_it, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(two_instances_read_concurrently_without_interference, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(faulted_instance_needs_reset_and_the_other_keeps_working, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(every_bad_option_fails_options_end_naming_it, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(source_unavailable_without_delayed_fails_options_end, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(delayed_opens_on_first_request_and_waits, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(delayed_n_gives_up_through_the_model, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(delayed_n_counts_n_seconds_from_the_first_request, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(delayed_forever_waits_as_long_as_it_takes, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(runtime_source_failure_defers_never_fakes, test_setup, test_teardown),
        cmocka_unit_test_prestate_setup_teardown(runtime_source_failure_defers_never_fakes, test_setup,
                                                 test_teardown, (void *)1),
        cmocka_unit_test_setup_teardown(rate_limit_defers_with_the_timer, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(rate_zero_means_unlimited, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(frame_arms_the_timer_at_the_engine_deadline, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(protocol_error_is_logged_with_its_rule, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(terminate_releases_everything, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(host_resource_failures_are_reported, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(countdown_fault_injection_on_every_host_call, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(control_commands_in_any_order_return_defined_codes, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(fuzz_register_sequences_never_crash, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(compat_layout_and_factory_name_are_the_pages, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(lifecycle_commands_and_where_lines_go, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(transport_follows_the_location_type, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(refused_transfers_answered_with_guest_cpu_to_vrs, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(gasp_calls_after_start_up_hold_the_lock, test_setup, test_teardown),
    };
    return cmocka_run_group_tests_name("qvm_entropy", tests, group_setup, group_teardown);
}
