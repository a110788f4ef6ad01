/**
 * @file fdt.h
 * @brief Device-tree node generator (flattened device tree, DTSpec v0.4 §5),
 *        big-endian encoding done by hand, no libfdt.
 *
 * A node is described by an ::svd_fdt_node (name, unit address, compatible
 * string list, reg, interrupt-parent, interrupts, clocks, clock-names,
 * dma-coherent). Two ways to get it into a guest's device tree:
 *
 * 1. svd_fdt_prop(): the properties one by one (name + encoded value bytes),
 *    for an adapter whose host offers a "set property" call on its own tree
 *    (qvm's GEN_FDT step, libfdt's fdt_setprop()).
 * 2. svd_fdt_blob(): a small complete FDT blob (header version 17, empty
 *    memory reservation map) whose root holds \#address-cells/\#size-cells and
 *    the node as its only child, for an adapter that grafts a subtree or for a
 *    tool (`dtc -I dtb -O dts`).
 * Both go through the same property encoder, so they always agree.
 *
 * The same description serves a virtio-mmio device (svd_fdt_virtio_mmio())
 * and, e.g., an "arm,sp805" watchdog (compatible "arm,sp805","arm,primecell",
 * reg, interrupts, clocks, clock-names).
 *
 * Property order: compatible, reg, interrupt-parent (if non-zero),
 * interrupts (if any cells), clocks (if any cells), clock-names (if any),
 * dma-coherent (if set).
 *
 * Validation (::SVD_ERR_INVALID_ARG, nothing written): name 1..31 characters
 * of [a-zA-Z0-9,._+-] starting with a letter; at least one compatible string;
 * every string 1..::SVD_FDT_MAX_STRLEN printable ASCII characters; address
 * cells 1 or 2; size cells 0, 1 or 2; every reg value fits its cells; counts
 * within the maxima below.
 *
 * Thread-safety: pure functions over caller memory.
 */
#ifndef SAFEVDEV_FDT_H
#define SAFEVDEV_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safevdev/result.h"

/** @brief Most strings in a string-list property (compatible, clock-names). */
#define SVD_FDT_MAX_STRINGS 4u
/** @brief Longest string accepted (characters, without the NUL). */
#define SVD_FDT_MAX_STRLEN 63u
/** @brief Most (address, size) pairs in reg. */
#define SVD_FDT_MAX_REG 2u
/** @brief Most cells in interrupts or clocks. */
#define SVD_FDT_MAX_CELLS 8u
/** @brief Longest node name (without the unit address). */
#define SVD_FDT_MAX_NAME 31u
/** @brief Largest value of one encoded property (bytes); enough for every property above. */
#define SVD_FDT_MAX_PROP ((SVD_FDT_MAX_STRLEN + 1u) * SVD_FDT_MAX_STRINGS)

/** @brief Description of one device-tree node. Fill after svd_fdt_node_init(). */
typedef struct svd_fdt_node {
    const char *name;               /**< Node name without unit address, e.g. "virtio_mmio". */
    bool has_unit;                  /**< Append "@<unit in lowercase hex>" to the name. */
    uint64_t unit;                  /**< Unit address (normally reg_addr[0]). */
    const char *compatible[SVD_FDT_MAX_STRINGS]; /**< Compatible strings, most specific first. */
    uint32_t n_compatible;          /**< 1..::SVD_FDT_MAX_STRINGS. */
    uint32_t address_cells;         /**< Parent's \#address-cells: 1 or 2 (default 2). */
    uint32_t size_cells;            /**< Parent's \#size-cells: 0, 1 or 2 (default 2). */
    uint64_t reg_addr[SVD_FDT_MAX_REG]; /**< reg addresses. */
    uint64_t reg_size[SVD_FDT_MAX_REG]; /**< reg sizes (MUST be 0 when size_cells is 0). */
    uint32_t n_reg;                 /**< 0..::SVD_FDT_MAX_REG (0: no reg property). */
    uint32_t interrupt_parent;      /**< Phandle of the interrupt controller; 0: no property. */
    uint32_t interrupts[SVD_FDT_MAX_CELLS]; /**< Interrupt specifier cells, in the platform's format. */
    uint32_t n_interrupts;          /**< 0..::SVD_FDT_MAX_CELLS (0: no property). */
    uint32_t clocks[SVD_FDT_MAX_CELLS]; /**< clocks cells (phandle + specifier, per clock). */
    uint32_t n_clocks;              /**< 0..::SVD_FDT_MAX_CELLS (0: no property). */
    const char *clock_names[SVD_FDT_MAX_STRINGS]; /**< clock-names strings. */
    uint32_t n_clock_names;         /**< 0..::SVD_FDT_MAX_STRINGS (0: no property). */
    bool dma_coherent;              /**< Emit the empty "dma-coherent" property. */
} svd_fdt_node;

/** @brief One encoded property, as returned by svd_fdt_prop(). */
typedef struct svd_fdt_propval {
    const char *name;  /**< Property name (static storage). */
    uint32_t len;      /**< Bytes of value written to the caller's buffer. */
} svd_fdt_propval;

/** @brief First GIC interrupt ID of a private peripheral interrupt (PPI). */
#define SVD_GIC_FIRST_PPI 16u
/** @brief First GIC interrupt ID of a shared peripheral interrupt (SPI). */
#define SVD_GIC_FIRST_SPI 32u
/** @brief Last GIC interrupt ID of an SPI (1020..1023 are special IDs). */
#define SVD_GIC_LAST_SPI 1019u

/** @brief Trigger of an interrupt line (third cell of the arm,gic binding). */
typedef enum svd_irq_trigger {
    SVD_IRQ_EDGE_RISING = 1, /**< IRQ_TYPE_EDGE_RISING. */
    SVD_IRQ_LEVEL_HIGH = 4   /**< IRQ_TYPE_LEVEL_HIGH. */
} svd_irq_trigger;

/**
 * @brief Set the interrupt specifier of @p n for a GIC (arm,gic /
 *        arm,gic-v3 binding, \#interrupt-cells = 3) from a GIC interrupt ID.
 *
 * @p intid is the interrupt ID as the GIC architecture numbers it, which is
 * also the number of qvm's `intr gic:N` option: 16..31 become a PPI
 * <1 intid-16 trigger>, 32..1019 an SPI <0 intid-32 trigger>. The PPI CPU
 * mask bits (GICv2) are left 0. @p interrupt_parent is the GIC's phandle,
 * 0 to inherit it from an ancestor (no interrupt-parent property).
 * This is the one place an adapter's interrupt number becomes FDT cells.
 * @return ::SVD_ERR_INVALID_ARG (@p n untouched) for a NULL @p n, an SGI
 *         (@p intid < 16), @p intid > ::SVD_GIC_LAST_SPI or a trigger other
 *         than the two above.
 */
SVD_MUST_USE svd_result svd_fdt_gic_irq(svd_fdt_node *n, uint32_t intid, svd_irq_trigger trigger,
                                        uint32_t interrupt_parent);

/** @brief Zero @p n and set address_cells = size_cells = 2. */
void svd_fdt_node_init(svd_fdt_node *n);

/**
 * @brief Describe a virtio-mmio device: name "virtio_mmio@<base>", compatible
 *        "virtio,mmio", reg \<base size\>, interrupts @p irq (@p n_irq cells,
 *        copied), with the given parent cell counts.
 * @return ::SVD_ERR_INVALID_ARG for a NULL @p n, @p irq NULL with @p n_irq > 0,
 *         or @p n_irq > ::SVD_FDT_MAX_CELLS (then @p n is untouched). Other
 *         checks happen when encoding.
 */
SVD_MUST_USE svd_result svd_fdt_virtio_mmio(svd_fdt_node *n, uint64_t base, uint64_t size, const uint32_t *irq,
                                            uint32_t n_irq, uint32_t address_cells, uint32_t size_cells);

/**
 * @brief Check @p n against the validation rules of this file.
 * @return ::SVD_OK or ::SVD_ERR_INVALID_ARG.
 */
SVD_MUST_USE svd_result svd_fdt_node_check(const svd_fdt_node *n);

/**
 * @brief Write the node name with its unit address ("virtio_mmio@a000000") and
 *        a terminating NUL into @p buf.
 * @param n the node
 * @param buf receives the name
 * @param cap capacity of @p buf in bytes
 * @param len receives the length without the NUL
 * @return ::SVD_ERR_INVALID_ARG (invalid node, NULL pointer);
 *         ::SVD_ERR_NOSPACE if @p cap is too small (nothing meaningful written).
 */
SVD_MUST_USE svd_result svd_fdt_node_name(const svd_fdt_node *n, char *buf, size_t cap, size_t *len);

/**
 * @brief Encode property number @p index (0-based, in the order of this file's
 *        description, skipping absent properties) into @p buf.
 * @param n the node
 * @param index property number
 * @param buf receives the encoded value (big-endian cells, NUL-terminated strings)
 * @param cap capacity of @p buf in bytes
 * @param out receives the name and the value length
 * @return ::SVD_OK; ::SVD_ERR_EMPTY when @p index is past the last property;
 *         ::SVD_ERR_INVALID_ARG (invalid node, NULL pointer);
 *         ::SVD_ERR_NOSPACE if the value does not fit @p cap
 *         (::SVD_FDT_MAX_PROP always fits).
 */
SVD_MUST_USE svd_result svd_fdt_prop(const svd_fdt_node *n, uint32_t index, uint8_t *buf, size_t cap,
                                     svd_fdt_propval *out);

/**
 * @brief Write a complete FDT blob holding @p n under the root into @p buf.
 *
 * Every write is bounds-checked against @p cap before it happens; the header's
 * totalsize is the exact length.
 * @param n the node
 * @param buf receives the blob
 * @param cap capacity of @p buf in bytes
 * @param len receives the blob length
 * @return ::SVD_OK; ::SVD_ERR_INVALID_ARG (invalid node, NULL pointer);
 *         ::SVD_ERR_NOSPACE if @p cap is too small (the buffer content is then
 *         unspecified, *@p len untouched).
 */
SVD_MUST_USE svd_result svd_fdt_blob(const svd_fdt_node *n, uint8_t *buf, size_t cap, size_t *len);

#endif /* SAFEVDEV_FDT_H */
