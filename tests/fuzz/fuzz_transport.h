/* Shared set-up of the transport fuzz targets: an entropy device (svd_dev +
 * svd_entropy, unlimited rate, a deterministic source that fails when the
 * input says so) over guest memory whose bytes come from the fuzzer input,
 * allocated at exactly its size so ASan catches any access past it. */
#ifndef FUZZ_TRANSPORT_H
#define FUZZ_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "safevdev/device.h"
#include "safevdev/entropy.h"
#include "safevdev/gmem.h"

#define FT_GPA 0x0ull /* rings at small addresses: what a fuzzer writes into QUEUE_DESC_LOW */
#define FT_RAM_MAX 0x4000u

typedef struct ft_env {
    uint8_t *ram;
    size_t ramlen;
    svd_gmem m;
    svd_dev d;
    svd_entropy e;
    uint64_t now;
    bool source_fails;
    uint8_t fill;
} ft_env;

static svd_result ft_source(void *ctx, uint8_t *buf, size_t len, size_t *got)
{
    ft_env *env = ctx;
    if (env->source_fails) {
        *got = 0u;
        return svd_fail(SVD_ERR_SOURCE);
    }
    /* A counter, not a constant fill: the model's health tests pass it. */
    for (size_t i = 0; i < len; i++) {
        buf[i] = env->fill++;
    }
    *got = len;
    return svd_ok();
}

/* Guest memory = the last @ramlen bytes of the input (up to FT_RAM_MAX, at least 1). */
static inline bool ft_env_init(ft_env *env, fz_in *in, size_t ramlen)
{
    svd_dev_params p;
    svd_entropy_cfg cfg;

    memset(env, 0, sizeof(*env));
    if (ramlen == 0u) {
        ramlen = 1u;
    }
    env->ram = calloc(1u, ramlen);
    FZ_CHECK(env->ram != NULL);
    env->ramlen = ramlen;
    if (fz_left(in) > ramlen) {
        memcpy(env->ram, in->p + in->n - ramlen, ramlen);
        in->n -= ramlen;
    }
    svd_gmem_init(&env->m);
    FZ_CHECK(svd_is_ok(svd_gmem_add(&env->m, FT_GPA + 0x1000u, ramlen, env->ram, SVD_GMEM_READ | SVD_GMEM_WRITE)));
    svd_entropy_dev_params(&p);
    FZ_CHECK(svd_is_ok(svd_dev_init(&env->d, &p, &env->m)));
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = ft_source;
    cfg.source.ctx = env;
    FZ_CHECK(svd_is_ok(svd_entropy_init(&env->e, &cfg, 0u)));
    return true;
}

/* The device model's work after a notify (or a timer): serve the queue. */
static inline void ft_serve(ft_env *env, svd_vq *q, uint32_t qi)
{
    svd_entropy_out out;
    svd_dev_event ev;
    svd_result r;

    memset(&out, 0, sizeof(out));
    r = svd_entropy_process(&env->e, q, &env->m, env->now, &out);
    memset(&ev, 0, sizeof(ev));
    svd_dev_queue_processed(&env->d, qi, r, &ev);
    FZ_CHECK((unsigned)r.err < (unsigned)SVD_ERR__COUNT);
}

static inline void ft_env_free(ft_env *env)
{
    /* FUZZ_LOG=1: show whether the seed's request was completed (used ring at gpa 0x10a0). */
    if (getenv("FUZZ_LOG") != NULL && env->ramlen >= 0xa4u) {
        fprintf(stderr, "fuzz: used.idx at gpa 0x10a0 = %u, completed requests %llu\n",
                (unsigned)(env->ram[0xa2] | (env->ram[0xa3] << 8)), (unsigned long long)env->e.stats.requests);
    }
    free(env->ram);
    env->ram = NULL;
}

#endif
