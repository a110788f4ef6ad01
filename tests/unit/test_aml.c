/* Unit tests of the AML writer (src/core/aml.c). The golden Device term is
 * the one QEMU 7.2's microvm machine writes into its DSDT for a virtio-mmio
 * transport at 0xFEB02E00 with GSI 47 (read from a Linux guest's
 * /sys/firmware/acpi/tables/DSDT; `make acpi-check` repeats that comparison
 * against a live guest and runs iasl on our tables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "safevdev/aml.h"

#define POISON 0xa5u

static const uint8_t k_qemu_vr23[] = {
    0x5b, 0x82, 0x42, 0x04, 0x56, 0x52, 0x32, 0x33, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d, 0x4c, 0x4e, 0x52,
    0x4f, 0x30, 0x30, 0x30, 0x35, 0x00, 0x08, 0x5f, 0x55, 0x49, 0x44, 0x0a, 0x17, 0x08, 0x5f, 0x43, 0x43,
    0x41, 0x01, 0x08, 0x5f, 0x43, 0x52, 0x53, 0x11, 0x1a, 0x0a, 0x17, 0x86, 0x09, 0x00, 0x01, 0x00, 0x2e,
    0xb0, 0xfe, 0x00, 0x02, 0x00, 0x00, 0x89, 0x06, 0x00, 0x01, 0x01, 0x2f, 0x00, 0x00, 0x00, 0x79, 0x00,
};

static svd_aml_mmio_dev vr23(void)
{
    svd_aml_mmio_dev d = { "VR23", 23u, 0xfeb02e00u, 0x200u, 47u, SVD_AML_LEVEL, true };
    return d;
}

static size_t find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* REQ: REQ-ACPI-001 */
static void test_device_equals_qemu_microvm_bytes(void **state)
{
    (void)state;
    const svd_aml_mmio_dev d = vr23();
    uint8_t buf[SVD_AML_MAX_DEVICE];
    size_t len = 0;
    assert_true(svd_is_ok(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len)));
    assert_int_equal(len, sizeof k_qemu_vr23);
    assert_memory_equal(buf, k_qemu_vr23, sizeof k_qemu_vr23);
}

/* Without _CCA, edge-triggered: the _CCA term (6 bytes) goes, the flags byte
 * gets the edge bit, and the Device's PkgLength, now below 64, takes one byte. */
/* REQ: REQ-ACPI-001 */
static void test_device_edge_without_cca(void **state)
{
    (void)state;
    svd_aml_mmio_dev d = vr23();
    d.coherent = false;
    d.trigger = SVD_AML_EDGE;
    uint8_t buf[SVD_AML_MAX_DEVICE];
    size_t len = 0;
    assert_true(svd_is_ok(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len)));
    assert_int_equal(len, sizeof k_qemu_vr23 - 7u);
    static const uint8_t cca[] = { 0x08, '_', 'C', 'C', 'A' };
    assert_int_equal(find(buf, len, cca, sizeof cca), SIZE_MAX);
    static const uint8_t irq[] = { 0x89, 0x06, 0x00, 0x03, 0x01, 0x2f, 0x00, 0x00, 0x00, 0x79, 0x00 };
    assert_memory_equal(buf + len - sizeof irq, irq, sizeof irq);
    assert_int_equal(buf[2], len - 2u); /* one-byte PkgLength: itself + the rest */
}

/* _UID in the shortest form: Zero, One, Byte, Word, DWord prefixes. */
/* REQ: REQ-ACPI-002 */
static void test_uid_integer_encodings(void **state)
{
    (void)state;
    static const struct {
        uint32_t uid;
        uint8_t enc[5];
        size_t n;
    } cases[] = {
        { 0u, { 0x00 }, 1 },
        { 1u, { 0x01 }, 1 },
        { 0xffu, { 0x0a, 0xff }, 2 },
        { 0x100u, { 0x0b, 0x00, 0x01 }, 3 },
        { 0xffffu, { 0x0b, 0xff, 0xff }, 3 },
        { 0x10000u, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
        { UINT32_MAX, { 0x0c, 0xff, 0xff, 0xff, 0xff }, 5 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        svd_aml_mmio_dev d = vr23();
        d.uid = cases[i].uid;
        uint8_t buf[SVD_AML_MAX_DEVICE];
        size_t len = 0;
        assert_true(svd_is_ok(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len)));
        uint8_t want[10] = { 0x08, '_', 'U', 'I', 'D' };
        memcpy(want + 5, cases[i].enc, cases[i].n);
        const size_t at = find(buf, len, want, 5u + cases[i].n);
        assert_int_not_equal(at, SIZE_MAX);
        assert_int_equal(buf[at + 5u + cases[i].n], 0x08); /* the next Name (_CCA) follows at once */
        assert_true(len <= SVD_AML_MAX_DEVICE);
    }
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* REQ: REQ-ACPI-003 */
static void test_ssdt_header_checksum_scope(void **state)
{
    (void)state;
    const svd_aml_mmio_dev d = vr23();
    uint8_t buf[SVD_AML_MAX_SSDT];
    size_t len = 0;
    assert_true(svd_is_ok(svd_aml_ssdt(&d, 1u, buf, sizeof buf, &len)));
    assert_int_equal(len, 36u + 1u + 2u + 5u + sizeof k_qemu_vr23);
    assert_memory_equal(buf, "SSDT", 4);
    assert_int_equal(le32(buf + 4), len);
    assert_int_equal(buf[8], 2u);
    assert_memory_equal(buf + 10, "SAFEVDVIRTMMIO", 14);
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + buf[i]);
    }
    assert_int_equal(sum, 0u);
    static const uint8_t scope[] = { 0x10, 0x00, 0x00, 0x5c, '_', 'S', 'B', '_' };
    assert_int_equal(buf[36], scope[0]);
    const uint32_t pkg = (uint32_t)(buf[37] & 0x0fu) | ((uint32_t)buf[38] << 4);
    assert_int_equal(buf[37] & 0xc0u, 0x40u);
    assert_int_equal(pkg, len - 37u);
    assert_memory_equal(buf + 39, scope + 3, 5);
    assert_memory_equal(buf + 44, k_qemu_vr23, sizeof k_qemu_vr23);
}

/* The largest table: SVD_AML_MAX_DEVS devices with the longest _UID. */
/* REQ: REQ-ACPI-003 */
static void test_ssdt_max_devices_fits_bound(void **state)
{
    (void)state;
    static svd_aml_mmio_dev devs[SVD_AML_MAX_DEVS];
    static char names[SVD_AML_MAX_DEVS][5];
    for (uint32_t i = 0; i < SVD_AML_MAX_DEVS; i++) {
        names[i][0] = 'V';
        names[i][1] = 'R';
        names[i][2] = (char)('0' + i / 10u);
        names[i][3] = (char)('0' + i % 10u);
        names[i][4] = '\0';
        devs[i] = vr23();
        devs[i].name = names[i];
        devs[i].uid = 0x10000000u + i;
        devs[i].base = 0xd0000000u + i * 0x200u;
    }
    static uint8_t buf[SVD_AML_MAX_SSDT];
    size_t len = 0;
    assert_true(svd_is_ok(svd_aml_ssdt(devs, SVD_AML_MAX_DEVS, buf, sizeof buf, &len)));
    assert_true(len <= SVD_AML_MAX_SSDT);
    assert_int_equal(le32(buf + 4), len);
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + buf[i]);
    }
    assert_int_equal(sum, 0u);
    assert_int_equal(svd_aml_ssdt(devs, SVD_AML_MAX_DEVS + 1u, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
}

/* Every capacity short of the need: NOSPACE, nothing past the capacity, len untouched. */
/* REQ: REQ-ACPI-007 */
/* FM: FM-ACPI-001 */
static void test_attack_every_short_capacity(void **state)
{
    (void)state;
    const svd_aml_mmio_dev d = vr23();
    uint8_t buf[SVD_AML_MAX_SSDT + 1u];
    size_t need_dev = 0, need_ssdt = 0;
    assert_true(svd_is_ok(svd_aml_virtio_mmio(&d, buf, sizeof buf, &need_dev)));
    assert_true(svd_is_ok(svd_aml_ssdt(&d, 1u, buf, sizeof buf, &need_ssdt)));
    for (size_t cap = 0; cap < need_ssdt; cap++) {
        for (int which = 0; which < 2; which++) {
            if (which == 0 && cap >= need_dev) {
                continue;
            }
            memset(buf, POISON, sizeof buf);
            size_t len = 12345u;
            const svd_result r = (which == 0) ? svd_aml_virtio_mmio(&d, buf, cap, &len)
                                              : svd_aml_ssdt(&d, 1u, buf, cap, &len);
            assert_int_equal(r.err, SVD_ERR_NOSPACE);
            assert_int_equal(len, 12345u);
            for (size_t i = cap; i < sizeof buf; i++) {
                assert_int_equal(buf[i], POISON);
            }
        }
    }
}

/* REQ: REQ-ACPI-007 */
/* FM: FM-ACPI-002 */
static void test_attack_invalid_devices(void **state)
{
    (void)state;
    static const char *const bad_names[] = { "vr00", "0R00", "VR0", "VR000", "VR-0", "VR:0", "", "V\0R0" };
    uint8_t buf[SVD_AML_MAX_SSDT];
    memset(buf, POISON, sizeof buf);
    size_t len = 7u;
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        svd_aml_mmio_dev d = vr23();
        d.name = bad_names[i];
        assert_int_equal(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
        assert_int_equal(svd_aml_ssdt(&d, 1u, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    }
    svd_aml_mmio_dev d = vr23();
    d.name = NULL;
    assert_int_equal(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    d = vr23();
    d.name = "_V_9";
    assert_true(svd_is_ok(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len))); /* '_' first, digit later: fine */
    len = 7u;
    d = vr23();
    d.size = 0u;
    assert_int_equal(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    d = vr23();
    d.base = 0xfffffe01u; /* one byte past 4 GiB */
    assert_int_equal(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    d.size = UINT32_MAX;
    d.base = 2u;
    assert_int_equal(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    d = vr23();
    d.trigger = (svd_aml_trigger)2;
    assert_int_equal(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(len, 7u);
    d = vr23();
    d.base = 0xfffffe00u; /* the last window below 4 GiB */
    assert_true(svd_is_ok(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len)));
    d.base = 0u;
    d.size = UINT32_MAX;
    assert_true(svd_is_ok(svd_aml_virtio_mmio(&d, buf, sizeof buf, &len)));
    /* NULL pointers */
    d = vr23();
    assert_int_equal(svd_aml_virtio_mmio(NULL, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_aml_virtio_mmio(&d, NULL, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_aml_virtio_mmio(&d, buf, sizeof buf, NULL).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_aml_ssdt(NULL, 1u, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_aml_ssdt(&d, 1u, NULL, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_aml_ssdt(&d, 1u, buf, sizeof buf, NULL).err, SVD_ERR_INVALID_ARG);
    assert_int_equal(svd_aml_ssdt(&d, 0u, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
}

/* Two devices with the same name or the same _UID would make an OS drop or
 * confuse one of them: refused. */
/* REQ: REQ-ACPI-007 */
/* FM: FM-ACPI-002 */
static void test_attack_duplicate_name_or_uid(void **state)
{
    (void)state;
    svd_aml_mmio_dev devs[3] = { vr23(), vr23(), vr23() };
    devs[1].name = "VR24";
    devs[1].uid = 24u;
    devs[2].name = "VR25";
    devs[2].uid = 25u;
    uint8_t buf[SVD_AML_MAX_SSDT];
    size_t len = 0;
    assert_true(svd_is_ok(svd_aml_ssdt(devs, 3u, buf, sizeof buf, &len)));
    devs[2].uid = 23u;
    assert_int_equal(svd_aml_ssdt(devs, 3u, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    devs[2].uid = 25u;
    devs[2].name = "VR24";
    assert_int_equal(svd_aml_ssdt(devs, 3u, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
    devs[2].name = "VR2X";
    devs[1].size = 0u;
    assert_int_equal(svd_aml_ssdt(devs, 3u, buf, sizeof buf, &len).err, SVD_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_equals_qemu_microvm_bytes),
        cmocka_unit_test(test_device_edge_without_cca),
        cmocka_unit_test(test_uid_integer_encodings),
        cmocka_unit_test(test_ssdt_header_checksum_scope),
        cmocka_unit_test(test_ssdt_max_devices_fits_bound),
        cmocka_unit_test(test_attack_every_short_capacity),
        cmocka_unit_test(test_attack_invalid_devices),
        cmocka_unit_test(test_attack_duplicate_name_or_uid),
    };
    return cmocka_run_group_tests_name("aml", tests, NULL, NULL);
}
