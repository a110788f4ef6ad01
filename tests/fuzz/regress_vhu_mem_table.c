/* Regression: SET_MEM_TABLE with a region larger than the file behind its fd.
 * Found while writing fuzz_vhu: the daemon mapped it, and the first ring access
 * past the end of the file killed it with SIGBUS. The dispatcher must refuse
 * the region (REJECTED), map nothing and close the fd; a region that fits the
 * file is accepted. Plain C test (no cmocka): exit 0 = pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "safevdev/span.h"
#include "vhu_dev.h"

static int failures;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                         \
        }                                                                       \
    } while (0)

static svd_result src(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    (void)ctx;
    memset(buf, 0x5a, len);
    *got = len;
    return svd_ok();
}

static enum vhu_verdict mem_table(vhu_dev *d, int fd, uint64_t size)
{
    uint8_t p[VHU_MEM_HDR_SIZE + VHU_MEM_REGION_SIZE];
    vhu_reply reply;
    int fds[1] = { fd };
    memset(p, 0, sizeof(p));
    svd_store_le32(p, 1u);
    svd_store_le64(p + 8, 0x0u);                   /* gpa */
    svd_store_le64(p + 16, size);                  /* size */
    svd_store_le64(p + 24, UINT64_C(0x7f0000000000)); /* front-end address */
    svd_store_le64(p + 32, 0u);                    /* mmap offset */
    memset(&reply, 0, sizeof(reply));
    /* NEED_REPLY: a refusal is then answered (REJECTED) instead of dropping the connection. */
    return vhu_dev_handle(d, VHU_SET_MEM_TABLE, VHU_VERSION | VHU_FLAG_NEED_REPLY, p, sizeof(p), fds, 1u, &reply);
}

int main(void)
{
    vhu_dev *d = calloc(1u, sizeof(*d));
    svd_entropy_cfg cfg;
    const int memfd = memfd_create("regress-guest", 0);

    vhu_log_level = -1;
    CHECK(d != NULL && memfd >= 0 && ftruncate(memfd, 4096) == 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = src;
    CHECK(vhu_dev_init(d, 0, &cfg, 1u, NULL) == 0);
    vhu_reply r0;
    memset(&r0, 0, sizeof(r0));
    CHECK(vhu_dev_handle(d, VHU_SET_OWNER, VHU_VERSION, NULL, 0u, NULL, 0u, &r0) == VHU_V_OK);

    const int probe = dup(0);
    close(probe);
    CHECK(mem_table(d, dup(memfd), 65536u) == VHU_V_REJECTED); /* 16x the file */
    CHECK(d->nregions == 0u);
    const int probe2 = dup(0);
    close(probe2);
    CHECK(probe2 == probe); /* the refused fd was closed */
    CHECK(mem_table(d, dup(memfd), 4097u) == VHU_V_REJECTED); /* one byte past the end */
    CHECK(mem_table(d, dup(memfd), 4096u) == VHU_V_OK);       /* exactly the file */
    CHECK(d->nregions == 1u);

    vhu_dev_disconnect(d);
    free(d);
    close(memfd);
    printf("regress_vhu_mem_table: %s\n", failures == 0 ? "pass" : "FAIL");
    return failures == 0 ? 0 : 1;
}
