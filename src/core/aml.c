/* AML writer for virtio-mmio device nodes and the SSDT that carries them.
 *
 * AML package lengths count their own bytes and take 1 to 4 bytes depending
 * on the total, so a term's length must be known before its first byte. Each
 * term is therefore emitted twice through the same code: once into a counting
 * writer (no buffer) to learn its size, then for real. The real writer is
 * bounded like the FDT writer: a write that would pass the capacity is not
 * done and turns the writer off, so the encoder never checks sizes itself. */
#include "safevdev/aml.h"

#include <string.h>

#define AML_ZERO_OP 0x00u
#define AML_ONE_OP 0x01u
#define AML_NAME_OP 0x08u
#define AML_BYTE_PREFIX 0x0au
#define AML_WORD_PREFIX 0x0bu
#define AML_DWORD_PREFIX 0x0cu
#define AML_STRING_PREFIX 0x0du
#define AML_SCOPE_OP 0x10u
#define AML_BUFFER_OP 0x11u
#define AML_EXT_OP 0x5bu
#define AML_DEVICE_OP 0x82u
#define AML_ROOT_CHAR 0x5cu

/* Resource descriptors (ACPI 6.4 §6.4.3). */
#define RES_MEM32_FIXED 0x86u /* large item 0x06 */
#define RES_MEM32_FIXED_LEN 9u
#define RES_EXT_IRQ 0x89u /* large item 0x09 */
#define RES_EXT_IRQ_LEN 6u /* flags, count, one interrupt */
#define RES_END_TAG 0x79u
#define RES_RW 0x01u
#define IRQ_CONSUMER 0x01u
#define IRQ_EDGE 0x02u

#define NAMESEG_LEN 4u
#define PKG_MAX_1 63u          /* one-byte PkgLength: 6 bits */
#define PKG_MAX_2 0xfffu       /* two bytes: 4 + 8 bits */

/** @cond INTERNAL */
typedef struct aw {
    uint8_t *buf; /* NULL: count only */
    size_t cap;
    size_t pos; /* invariant (buf != NULL): pos <= cap */
    bool ok;
} aw;
/** @endcond */

static void aw_init(aw *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->pos = 0u;
    w->ok = true;
}

/* The room test, pos + n <= cap, is written without the writer's invariant
 * (n > cap first, so cap - n cannot wrap). Every copy has a fixed length
 * (put_name_string's one caller passes 8), so a sound analysis that keeps
 * pos and cap as unrelated ranges still bounds pos by cap - n and sees the
 * copy inside the buffer (fdt.c's writer, whose lengths vary, copies byte
 * by byte). */
static void aml_put(aw *w, const void *src, size_t n)
{
    if (w->buf == NULL) {
        w->pos += n; /* a counting pass: sizes are bounded by SVD_AML_MAX_SSDT */
        return;
    }
    if (!w->ok || n > w->cap || w->pos > w->cap - n) {
        w->ok = false;
        return;
    }
    (void)memcpy(&w->buf[w->pos], src, n);
    w->pos += n;
}

static void put_u8(aw *w, uint32_t v)
{
    const uint8_t b = (uint8_t)v;
    aml_put(w, &b, 1u);
}

static void put_le(aw *w, uint32_t v, uint32_t bytes)
{
    for (uint32_t i = 0u; i < bytes; i++) {
        put_u8(w, v >> (8u * i));
    }
}

/* Shortest integer encoding, as iasl writes it. */
static void put_int(aw *w, uint32_t v)
{
    if (v == 0u) {
        put_u8(w, AML_ZERO_OP);
    } else if (v == 1u) {
        put_u8(w, AML_ONE_OP);
    } else if (v <= 0xffu) {
        put_u8(w, AML_BYTE_PREFIX);
        put_u8(w, v);
    } else if (v <= 0xffffu) {
        put_u8(w, AML_WORD_PREFIX);
        put_le(w, v, 2u);
    } else {
        put_u8(w, AML_DWORD_PREFIX);
        put_le(w, v, 4u);
    }
}

/* PkgLength of a package whose contents (after the PkgLength) take @body
 * bytes: the encoded length includes the PkgLength bytes themselves. Two
 * bytes hold up to 4095, more than the largest package written here. */
static void put_pkglen(aw *w, size_t body)
{
    if (body + 1u <= PKG_MAX_1) {
        put_u8(w, (uint32_t)(body + 1u));
    } else {
        const uint32_t l = (uint32_t)(body + 2u);
        put_u8(w, 0x40u | (l & 0xfu));
        put_u8(w, l >> 4);
    }
}
_Static_assert(SVD_AML_MAX_SSDT - SVD_AML_HEADER_LEN <= PKG_MAX_2, "the Scope's PkgLength fits two bytes");

static void put_nameseg(aw *w, const char *s)
{
    aml_put(w, s, NAMESEG_LEN);
}

/* Name (_XXX, "string") */
static void put_name_string(aw *w, const char *seg, const char *str, size_t len)
{
    put_u8(w, AML_NAME_OP);
    put_nameseg(w, seg);
    put_u8(w, AML_STRING_PREFIX);
    aml_put(w, str, len);
    put_u8(w, 0u);
}

static void put_name_int(aw *w, const char *seg, uint32_t v)
{
    put_u8(w, AML_NAME_OP);
    put_nameseg(w, seg);
    put_int(w, v);
}

/* The ResourceTemplate's bytes: Memory32Fixed, Interrupt, EndTag. */
static void put_resources(aw *w, const svd_aml_mmio_dev *d)
{
    put_u8(w, RES_MEM32_FIXED);
    put_le(w, RES_MEM32_FIXED_LEN, 2u);
    put_u8(w, RES_RW);
    put_le(w, d->base, 4u);
    put_le(w, d->size, 4u);
    put_u8(w, RES_EXT_IRQ);
    put_le(w, RES_EXT_IRQ_LEN, 2u);
    put_u8(w, IRQ_CONSUMER | ((d->trigger == SVD_AML_EDGE) ? IRQ_EDGE : 0u));
    put_u8(w, 1u);
    put_le(w, d->gsi, 4u);
    put_u8(w, RES_END_TAG);
    put_u8(w, 0u); /* checksum 0: "treated as if the checksum operation yielded 0" */
}

#define RES_LEN (3u + RES_MEM32_FIXED_LEN + 3u + RES_EXT_IRQ_LEN + 2u)

/* Name (_CRS, Buffer (RES_LEN) { ... }) */
static void put_crs(aw *w, const svd_aml_mmio_dev *d)
{
    aw c;
    aw_init(&c, NULL, 0u);
    put_int(&c, RES_LEN);
    const size_t body = c.pos + RES_LEN;
    put_u8(w, AML_NAME_OP);
    put_nameseg(w, "_CRS");
    put_u8(w, AML_BUFFER_OP);
    put_pkglen(w, body);
    put_int(w, RES_LEN);
    put_resources(w, d);
}

static void put_device_body(aw *w, const svd_aml_mmio_dev *d)
{
    put_nameseg(w, d->name);
    put_name_string(w, "_HID", "LNRO0005", 8u);
    put_name_int(w, "_UID", d->uid);
    if (d->coherent) {
        put_name_int(w, "_CCA", 1u);
    }
    put_crs(w, d);
}

static void put_device(aw *w, const svd_aml_mmio_dev *d)
{
    aw c;
    aw_init(&c, NULL, 0u);
    put_device_body(&c, d);
    put_u8(w, AML_EXT_OP);
    put_u8(w, AML_DEVICE_OP);
    put_pkglen(w, c.pos);
    put_device_body(w, d);
}

/* ------------------------------------------------------------ validation */

static bool seg_char_ok(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static bool aml_name_ok(const char *s)
{
    if (s == NULL) {
        return false;
    }
    for (uint32_t i = 0u; i < NAMESEG_LEN; i++) {
        if (!seg_char_ok(s[i], i == 0u)) {
            return false; /* also stops at a NUL before the fourth character */
        }
    }
    return s[NAMESEG_LEN] == '\0';
}

static bool dev_ok(const svd_aml_mmio_dev *d)
{
    return aml_name_ok(d->name) && d->size != 0u && (d->size - 1u) <= (UINT32_MAX - d->base) &&
           (d->trigger == SVD_AML_LEVEL || d->trigger == SVD_AML_EDGE);
}

/* cppcheck-suppress unusedFunction ; SVD-DEV-012: public API for hosts that insert device terms into tables they build; the qvm adapter takes the whole SSDT (svd_aml_ssdt) */
svd_result svd_aml_virtio_mmio(const svd_aml_mmio_dev *d, uint8_t *buf, size_t cap, size_t *len)
{
    SVD_ENSURE(d != NULL && buf != NULL && len != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(dev_ok(d), SVD_ERR_INVALID_ARG);
    aw w;
    aw_init(&w, buf, cap);
    put_device(&w, d);
    SVD_ENSURE(w.ok, SVD_ERR_NOSPACE);
    *len = w.pos;
    return svd_ok();
}

/* ------------------------------------------------------------ SSDT */

static void put_scope_body(aw *w, const svd_aml_mmio_dev *devs, uint32_t n)
{
    put_u8(w, AML_ROOT_CHAR);
    put_nameseg(w, "_SB_");
    for (uint32_t i = 0u; i < n; i++) {
        put_device(w, &devs[i]);
    }
}

static bool devs_ok(const svd_aml_mmio_dev *devs, uint32_t n)
{
    for (uint32_t i = 0u; i < n; i++) {
        if (!dev_ok(&devs[i])) {
            return false;
        }
        for (uint32_t j = 0u; j < i; j++) {
            if (devs[j].uid == devs[i].uid || memcmp(devs[j].name, devs[i].name, NAMESEG_LEN) == 0) {
                return false;
            }
        }
    }
    return true;
}

svd_result svd_aml_ssdt(const svd_aml_mmio_dev *devs, uint32_t n, uint8_t *buf, size_t cap, size_t *len)
{
    SVD_ENSURE(devs != NULL && buf != NULL && len != NULL, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(n >= 1u && n <= SVD_AML_MAX_DEVS, SVD_ERR_INVALID_ARG);
    SVD_ENSURE(devs_ok(devs, n), SVD_ERR_INVALID_ARG);
    aw c;
    aw_init(&c, NULL, 0u);
    put_scope_body(&c, devs, n);
    const size_t scope_body = c.pos;
    aw_init(&c, NULL, 0u);
    put_pkglen(&c, scope_body);
    const uint32_t total = (uint32_t)(SVD_AML_HEADER_LEN + 1u + c.pos + scope_body);

    aw w;
    aw_init(&w, buf, cap);
    aml_put(&w, "SSDT", 4u);
    put_le(&w, total, 4u);
    put_u8(&w, 2u); /* revision 2: integers are 64 bits wide */
    put_u8(&w, 0u); /* checksum, set below */
    aml_put(&w, "SAFEVD", 6u);
    aml_put(&w, "VIRTMMIO", 8u);
    put_le(&w, 1u, 4u); /* OEM revision */
    aml_put(&w, "SVD ", 4u);
    put_le(&w, 1u, 4u); /* creator revision */
    put_u8(&w, AML_SCOPE_OP);
    put_pkglen(&w, scope_body);
    put_scope_body(&w, devs, n);
    SVD_ENSURE(w.ok, SVD_ERR_NOSPACE);
    uint8_t sum = 0u;
    /* The writer is ok, so pos <= cap; i < cap is checked again so that the
     * read is inside the buffer by this loop alone. */
    for (size_t i = 0u; i < w.pos && SVD_ALWAYS(i < cap); i++) {
        sum = (uint8_t)(sum + buf[i]);
    }
    buf[9] = (uint8_t)(0u - (uint32_t)sum);
    *len = w.pos;
    return svd_ok();
}
