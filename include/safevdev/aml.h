/**
 * @file aml.h
 * @brief ACPI discovery: an AML writer for virtio-mmio device nodes and an
 *        SSDT that holds them (ACPI 6.4 §19.6, §20; virtio 1.2 §4.2).
 *
 * A virtio-mmio device is described as Linux's virtio-mmio driver matches it
 * and as QEMU's microvm machine writes it:
 *
 *     Device (VRnn) {
 *         Name (_HID, "LNRO0005")
 *         Name (_UID, uid)
 *         Name (_CCA, One)                      // when coherent
 *         Name (_CRS, ResourceTemplate () {
 *             Memory32Fixed (ReadWrite, base, size)
 *             Interrupt (ResourceConsumer, Level|Edge, ActiveHigh, Exclusive) { gsi }
 *         })
 *     }
 *
 * svd_aml_virtio_mmio() writes that one Device term (for a host that inserts
 * device terms into a table it builds itself); svd_aml_ssdt() writes a whole
 * SSDT (header, checksum, Scope (_SB, the system bus) holding up to ::SVD_AML_MAX_DEVS
 * devices) for a host that takes whole tables (QEMU's `-acpitable file=`,
 * qvm's ACPI table list).
 *
 * Every write goes to caller memory and is bounded by its capacity; nothing
 * is allocated. Integers are encoded in the shortest form (Zero, One, Byte,
 * Word, DWord prefixes), as iasl encodes them, so a disassembled and
 * recompiled table has the same body bytes.
 *
 * Thread-safety: pure functions over caller memory.
 */
#ifndef SAFEVDEV_AML_H
#define SAFEVDEV_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safevdev/result.h"

/** @brief Most devices in one SSDT. */
#define SVD_AML_MAX_DEVS 32u
/** @brief Length of an ACPI table header (bytes). */
#define SVD_AML_HEADER_LEN 36u
/** @brief Upper bound of one encoded Device term (bytes). */
#define SVD_AML_MAX_DEVICE 80u
/** @brief Upper bound of an SSDT with ::SVD_AML_MAX_DEVS devices (bytes). */
#define SVD_AML_MAX_SSDT (SVD_AML_HEADER_LEN + 16u + (SVD_AML_MAX_DEVS * SVD_AML_MAX_DEVICE))

/** @brief Interrupt trigger mode of the Interrupt descriptor. */
typedef enum svd_aml_trigger {
    SVD_AML_LEVEL = 0, /**< Level-triggered (the line stays asserted while the device wants service). */
    SVD_AML_EDGE = 1   /**< Edge-triggered. */
} svd_aml_trigger;

/** @brief One virtio-mmio device as ACPI describes it. */
typedef struct svd_aml_mmio_dev {
    const char *name;        /**< The device's NameSeg: 4 characters of [A-Z0-9_], not starting with a digit. */
    uint32_t uid;            /**< _UID, unique among the devices with this _HID. */
    uint32_t base;           /**< Register window base (Memory32Fixed: below 4 GiB). */
    uint32_t size;           /**< Window size: non-zero, base + size - 1 MUST NOT pass 0xFFFFFFFF. */
    uint32_t gsi;            /**< Global system interrupt number (an I/O APIC input, a GIC interrupt ID). */
    svd_aml_trigger trigger; /**< Level or edge; polarity is active high, sharing exclusive. */
    bool coherent;           /**< Emit _CCA One (DMA coherent; needed where the OS assumes otherwise, arm64). */
} svd_aml_mmio_dev;

/**
 * @brief Write the Device term of @p d into @p buf.
 * @param d the device
 * @param buf receives the AML bytes
 * @param cap capacity of @p buf (::SVD_AML_MAX_DEVICE always suffices)
 * @param len receives the number of bytes written
 * @return ::SVD_OK; ::SVD_ERR_INVALID_ARG (NULL pointer, bad name, zero size,
 *         window past 4 GiB, unknown trigger; nothing written);
 *         ::SVD_ERR_NOSPACE when @p cap is too small (*@p len untouched,
 *         nothing written past @p cap).
 */
SVD_MUST_USE svd_result svd_aml_virtio_mmio(const svd_aml_mmio_dev *d, uint8_t *buf, size_t cap, size_t *len);

/**
 * @brief Write an SSDT (revision 2, OEM ID "SAFEVD", OEM table ID
 *        "VIRTMMIO", OEM revision 1, creator "SVD ", creator revision 1)
 *        whose Scope (_SB, the system bus) holds the @p n devices, checksum set so the
 *        table's bytes sum to zero.
 * @param devs the devices (names and _UIDs SHALL be unique; checked)
 * @param n 1..::SVD_AML_MAX_DEVS
 * @param buf receives the table
 * @param cap capacity of @p buf (::SVD_AML_MAX_SSDT always suffices)
 * @param len receives the table length (also in the header)
 * @return ::SVD_OK; ::SVD_ERR_INVALID_ARG (a device refused as above, @p n
 *         out of range, a repeated name or _UID, NULL pointer);
 *         ::SVD_ERR_NOSPACE as svd_aml_virtio_mmio().
 */
SVD_MUST_USE svd_result svd_aml_ssdt(const svd_aml_mmio_dev *devs, uint32_t n, uint8_t *buf, size_t cap,
                                     size_t *len);

#endif /* SAFEVDEV_AML_H */
