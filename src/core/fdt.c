/* Device-tree node generator. All output goes through one bounded writer
 * (struct wr): a write that would pass the caller's capacity is not done and
 * turns the writer off, so the encoder's logic never has to check sizes
 * itself. Property names come from one constant strings block; the blob
 * carries that block whole, so name offsets are constants and the structure
 * block can be written in a single pass. */
#include "safevdev/fdt.h"

#include <string.h>

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_END 9u
#define FDT_VERSION 17u
#define FDT_LAST_COMP 16u
#define FDT_HEADER_LEN 40u
#define FDT_RSVMAP_LEN 16u

/* Strings block: every property name this generator can emit. */
static const char k_strings[] = "#address-cells\0" "#size-cells\0" "compatible\0" "reg\0" "interrupt-parent\0"
                                "interrupts\0" "clocks\0" "clock-names\0" "dma-coherent";
#define STR_ADDRESS_CELLS 0u
#define STR_SIZE_CELLS 15u
#define STR_COMPATIBLE 27u
#define STR_REG 38u
#define STR_INTERRUPT_PARENT 42u
#define STR_INTERRUPTS 59u
#define STR_CLOCKS 70u
#define STR_CLOCK_NAMES 77u
#define STR_DMA_COHERENT 89u

typedef enum prop_kind {
    P_COMPATIBLE,
    P_REG,
    P_INTERRUPT_PARENT,
    P_INTERRUPTS,
    P_CLOCKS,
    P_CLOCK_NAMES,
    P_DMA_COHERENT,
    P__COUNT
} prop_kind;

/** @cond INTERNAL */
typedef struct wr {
    uint8_t *buf;
    size_t cap;
    size_t pos; /* invariant: pos <= cap */
    bool ok;
} wr;
/** @endcond */

static void wr_init(wr *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->pos = 0u;
    w->ok = true;
}

/* The room test, pos + n <= cap, is written without the writer's invariant
 * (n > cap first, so cap - n cannot wrap). The copy is byte by byte, each
 * store's index checked against cap again: the room test guarantees it, the
 * second test makes each store inside the buffer by this loop alone, for a
 * sound analysis that keeps pos and n as unrelated ranges. */
static void put(wr *w, const void *src, size_t n)
{
    if (!w->ok || n > w->cap || w->pos > w->cap - n) {
        w->ok = false;
        return;
    }
    const uint8_t *s = (const uint8_t *)src;
    for (size_t i = 0u; i < n; i++) {
        const size_t at = w->pos + i;
        if (SVD_ALWAYS(at < w->cap)) {
            w->buf[at] = s[i];
        }
    }
    w->pos += n;
}

static void put_be32(wr *w, uint32_t v)
{
    const uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(w, b, sizeof(b));
}

static void pad4(wr *w)
{
    static const uint8_t zero[4] = { 0u, 0u, 0u, 0u };
    put(w, zero, (4u - (w->pos & 3u)) & 3u);
}

/* Overwrite a big-endian word already written at @at. Every caller patches
 * a word it wrote while the writer is ok, so at + 4 <= pos <= cap; the bound
 * is checked here again so that it holds by this function alone (a sound
 * analysis sees the write inside the buffer without that call-site fact). */
static void patch_be32(wr *w, size_t at, uint32_t v)
{
    if (SVD_ALWAYS(w->cap >= 4u) && SVD_ALWAYS(at <= w->cap - 4u)) {
        w->buf[at] = (uint8_t)(v >> 24);
        w->buf[at + 1u] = (uint8_t)(v >> 16);
        w->buf[at + 2u] = (uint8_t)(v >> 8);
        w->buf[at + 3u] = (uint8_t)v;
    }
}

/* ------------------------------------------------------------ validation */

/* Length of @s if it is 1..max printable ASCII characters, else 0. */
static size_t str_len_ok(const char *s, size_t max)
{
    if (s == NULL) {
        return 0u;
    }
    size_t i = 0u;
    while (i <= max && s[i] != '\0') {
        if ((uint8_t)s[i] < 0x20u || (uint8_t)s[i] > 0x7eu) {
            return 0u;
        }
        i++;
    }
    return i <= max ? i : 0u;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_char_ok(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == ',' || c == '.' || c == '_' || c == '+' || c == '-';
}

static bool name_ok(const char *s)
{
    const size_t len = str_len_ok(s, SVD_FDT_MAX_NAME);
    if (len == 0u || !is_alpha(s[0])) {
        return false;
    }
    for (size_t i = 1u; i < len; i++) {
        if (!name_char_ok(s[i])) {
            return false;
        }
    }
    return true;
}

static bool strings_ok(const char *const *s, uint32_t n)
{
    for (uint32_t i = 0u; i < n; i++) {
        if (str_len_ok(s[i], SVD_FDT_MAX_STRLEN) == 0u) {
            return false;
        }
    }
    return true;
}

static bool fits_cells(uint64_t v, uint32_t cells)
{
    return cells >= 2u || (cells == 1u && v <= UINT64_C(0xffffffff)) || v == 0u;
}

svd_result svd_fdt_node_check(const svd_fdt_node *n)
{
    SVD_ENSURE(n != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(name_ok(n->name), SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n->n_compatible >= 1u && n->n_compatible <= SVD_FDT_MAX_STRINGS, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(strings_ok(n->compatible, n->n_compatible), SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n->n_clock_names <= SVD_FDT_MAX_STRINGS, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(strings_ok(n->clock_names, n->n_clock_names), SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n->address_cells == 1u || n->address_cells == 2u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n->size_cells <= 2u, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n->n_reg <= SVD_FDT_MAX_REG, SVD_ERR_INVALID_ARG);
    for (uint32_t i = 0u; i < n->n_reg; i++) {
        SVD_ENSURE(fits_cells(n->reg_addr[i], n->address_cells), SVD_ERR_INVALID_ARG);
        SVD_ENSURE(fits_cells(n->reg_size[i], n->size_cells), SVD_ERR_INVALID_ARG);
    }
    SVD_ENSURE(n->n_interrupts <= SVD_FDT_MAX_CELLS, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n->n_clocks <= SVD_FDT_MAX_CELLS, SVD_ERR_INVALID_ARG);
    return svd_ok();
}

void svd_fdt_node_init(svd_fdt_node *n)
{
    (void)memset(n, 0, sizeof(*n));
    n->address_cells = 2u;
    n->size_cells = 2u;
}

svd_result svd_fdt_virtio_mmio(svd_fdt_node *n, uint64_t base, uint64_t size, const uint32_t *irq, uint32_t n_irq,
                               uint32_t address_cells, uint32_t size_cells)
{
    SVD_ENSURE(n != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n_irq <= SVD_FDT_MAX_CELLS && (irq != NULL || n_irq == 0u), SVD_ERR_INVALID_ARG);
    svd_fdt_node_init(n);
    n->name = "virtio_mmio";
    n->has_unit = true;
    n->unit = base;
    n->compatible[0] = "virtio,mmio";
    n->n_compatible = 1u;
    n->address_cells = address_cells;
    n->size_cells = size_cells;
    n->reg_addr[0] = base;
    n->reg_size[0] = size;
    n->n_reg = 1u;
    for (uint32_t i = 0u; i < n_irq; i++) {
        n->interrupts[i] = irq[i];
    }
    n->n_interrupts = n_irq;
    return svd_ok();
}

/* The arm,gic binding's first cell: 0 for an SPI, 1 for a PPI; the second
 * cell counts from the first ID of that type. */
#define GIC_CELL_SPI 0u
#define GIC_CELL_PPI 1u

svd_result svd_fdt_gic_irq(svd_fdt_node *n, uint32_t intid, svd_irq_trigger trigger, uint32_t interrupt_parent)
{
    SVD_ENSURE(n != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(intid >= SVD_GIC_FIRST_PPI && intid <= SVD_GIC_LAST_SPI, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(trigger == SVD_IRQ_EDGE_RISING || trigger == SVD_IRQ_LEVEL_HIGH, SVD_ERR_INVALID_ARG);
    if (intid >= SVD_GIC_FIRST_SPI) {
        n->interrupts[0] = GIC_CELL_SPI;
        n->interrupts[1] = intid - SVD_GIC_FIRST_SPI;
    } else {
        n->interrupts[0] = GIC_CELL_PPI;
        n->interrupts[1] = intid - SVD_GIC_FIRST_PPI;
    }
    n->interrupts[2] = (uint32_t)trigger;
    n->n_interrupts = 3u;
    n->interrupt_parent = interrupt_parent;
    return svd_ok();
}

/* ------------------------------------------------------------ encoding */

static void put_name(wr *w, const svd_fdt_node *n)
{
    put(w, n->name, str_len_ok(n->name, SVD_FDT_MAX_NAME));
    if (n->has_unit) {
        char hex[17];
        size_t digits = 0u;
        uint64_t u = n->unit;
        do {
            const uint32_t d = (uint32_t)(u & 0xfu);
            hex[16u - digits] = "0123456789abcdef"[d];
            digits++;
            u >>= 4;
        } while (u != 0u);
        put(w, "@", 1u);
        put(w, &hex[17u - digits], digits);
    }
}

static void put_strings(wr *w, const char *const *s, uint32_t count)
{
    for (uint32_t i = 0u; i < count; i++) {
        /* svd_fdt_node_check passed: no string is NULL. Tested again so that
         * the copy reads a string by this function alone. */
        const char *str = s[i];
        if (SVD_ALWAYS(str != NULL)) {
            put(w, str, str_len_ok(str, SVD_FDT_MAX_STRLEN) + 1u); /* with the NUL */
        }
    }
}

static void put_cells(wr *w, uint64_t v, uint32_t cells)
{
    if (cells == 2u) {
        put_be32(w, (uint32_t)(v >> 32));
    }
    if (cells >= 1u) {
        put_be32(w, (uint32_t)v);
    }
}

static void put_words(wr *w, const uint32_t *v, uint32_t count)
{
    for (uint32_t i = 0u; i < count; i++) {
        put_be32(w, v[i]);
    }
}

static bool prop_present(const svd_fdt_node *n, prop_kind k)
{
    switch (k) {
    case P_COMPATIBLE:
        return true;
    case P_REG:
        return n->n_reg != 0u;
    case P_INTERRUPT_PARENT:
        return n->interrupt_parent != 0u;
    case P_INTERRUPTS:
        return n->n_interrupts != 0u;
    case P_CLOCKS:
        return n->n_clocks != 0u;
    case P_CLOCK_NAMES:
        return n->n_clock_names != 0u;
    case P_DMA_COHERENT:
    case P__COUNT:
    default:
        return n->dma_coherent;
    }
}

/* Encode the value of property @k into @w; return its name offset. */
static uint32_t encode(const svd_fdt_node *n, prop_kind k, wr *w)
{
    switch (k) {
    case P_COMPATIBLE:
        put_strings(w, n->compatible, n->n_compatible);
        return STR_COMPATIBLE;
    case P_REG:
        for (uint32_t i = 0u; i < n->n_reg; i++) {
            put_cells(w, n->reg_addr[i], n->address_cells);
            put_cells(w, n->reg_size[i], n->size_cells);
        }
        return STR_REG;
    case P_INTERRUPT_PARENT:
        put_be32(w, n->interrupt_parent);
        return STR_INTERRUPT_PARENT;
    case P_INTERRUPTS:
        put_words(w, n->interrupts, n->n_interrupts);
        return STR_INTERRUPTS;
    case P_CLOCKS:
        put_words(w, n->clocks, n->n_clocks);
        return STR_CLOCKS;
    case P_CLOCK_NAMES:
        put_strings(w, n->clock_names, n->n_clock_names);
        return STR_CLOCK_NAMES;
    case P_DMA_COHERENT:
    case P__COUNT:
    default:
        return STR_DMA_COHERENT; /* empty value */
    }
}

/* The kind of the @index-th present property; P__COUNT past the last. */
static prop_kind nth_prop(const svd_fdt_node *n, uint32_t index)
{
    uint32_t seen = 0u;
    for (uint32_t k = 0u; k < (uint32_t)P__COUNT; k++) {
        if (prop_present(n, (prop_kind)k)) {
            if (seen == index) {
                return (prop_kind)k;
            }
            seen++;
        }
    }
    return P__COUNT;
}

/* cppcheck-suppress unusedFunction ; SVD-DEV-003: public API for hosts that name a grafted node; no product in src/ calls it */
svd_result svd_fdt_node_name(const svd_fdt_node *n, char *buf, size_t cap, size_t *len)
{
    SVD_ENSURE(buf != NULL && len != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_fdt_node_check(n));
    wr w;
    wr_init(&w, (uint8_t *)buf, cap);
    put_name(&w, n);
    const size_t l = w.pos;
    put(&w, "", 1u);
    SVD_ENSURE(w.ok, SVD_ERR_NOSPACE);
    *len = l;
    return svd_ok();
}

svd_result svd_fdt_prop(const svd_fdt_node *n, uint32_t index, uint8_t *buf, size_t cap, svd_fdt_propval *out)
{
    SVD_ENSURE(buf != NULL && out != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_fdt_node_check(n));
    const prop_kind k = nth_prop(n, index);
    SVD_ENSURE(k != P__COUNT, SVD_ERR_EMPTY);
    wr w;
    wr_init(&w, buf, cap);
    const uint32_t nameoff = encode(n, k, &w);
    SVD_ENSURE(w.ok, SVD_ERR_NOSPACE);
    out->name = &k_strings[nameoff];
    out->len = (uint32_t)w.pos;
    return svd_ok();
}

/* FDT_PROP token with a 32-bit cell value. */
static void put_prop_u32(wr *w, uint32_t nameoff, uint32_t v)
{
    put_be32(w, FDT_PROP);
    put_be32(w, 4u);
    put_be32(w, nameoff);
    put_be32(w, v);
}

static void put_node_prop(wr *w, const svd_fdt_node *n, prop_kind k)
{
    put_be32(w, FDT_PROP);
    const size_t len_at = w->pos;
    put_be32(w, 0u); /* length, patched below */
    const size_t name_at = w->pos;
    put_be32(w, 0u); /* name offset, patched below */
    const size_t start = w->pos;
    const uint32_t nameoff = encode(n, k, w);
    if (w->ok) {
        patch_be32(w, len_at, (uint32_t)(w->pos - start));
        patch_be32(w, name_at, nameoff);
    }
    pad4(w);
}

/* cppcheck-suppress unusedFunction ; SVD-DEV-004: public API for hosts that hand a guest a whole DTB; no product in src/ calls it */
svd_result svd_fdt_blob(const svd_fdt_node *n, uint8_t *buf, size_t cap, size_t *len)
{
    SVD_ENSURE(buf != NULL && len != NULL, SVD_ERR_INVALID_ARG);
    SVD_GUARD(svd_fdt_node_check(n));
    wr w;
    wr_init(&w, buf, cap);
    for (uint32_t i = 0u; i < FDT_HEADER_LEN / 4u; i++) {
        put_be32(&w, 0u); /* header, patched at the end */
    }
    put_be32(&w, 0u); /* memory reservation map: terminating entry only */
    put_be32(&w, 0u);
    put_be32(&w, 0u);
    put_be32(&w, 0u);
    const size_t off_struct = w.pos;
    put_be32(&w, FDT_BEGIN_NODE);
    put_be32(&w, 0u); /* root name "" padded */
    put_prop_u32(&w, STR_ADDRESS_CELLS, n->address_cells);
    put_prop_u32(&w, STR_SIZE_CELLS, n->size_cells);
    put_be32(&w, FDT_BEGIN_NODE);
    put_name(&w, n);
    put(&w, "", 1u);
    pad4(&w);
    for (uint32_t k = 0u; k < (uint32_t)P__COUNT; k++) {
        if (prop_present(n, (prop_kind)k)) {
            put_node_prop(&w, n, (prop_kind)k);
        }
    }
    put_be32(&w, FDT_END_NODE);
    put_be32(&w, FDT_END_NODE);
    put_be32(&w, FDT_END);
    const size_t off_strings = w.pos;
    put(&w, k_strings, sizeof(k_strings));
    SVD_ENSURE(w.ok, SVD_ERR_NOSPACE);
    const uint32_t total = (uint32_t)w.pos;
    patch_be32(&w, 0u, FDT_MAGIC);
    patch_be32(&w, 4u, total);
    patch_be32(&w, 8u, (uint32_t)off_struct);
    patch_be32(&w, 12u, (uint32_t)off_strings);
    patch_be32(&w, 16u, FDT_HEADER_LEN);
    patch_be32(&w, 20u, FDT_VERSION);
    patch_be32(&w, 24u, FDT_LAST_COMP);
    patch_be32(&w, 28u, 0u); /* boot_cpuid_phys */
    patch_be32(&w, 32u, (uint32_t)sizeof(k_strings));
    patch_be32(&w, 36u, (uint32_t)(off_strings - off_struct));
    *len = w.pos;
    return svd_ok();
}
