/* Shared set-up of the transport fuzz targets: the composed engine
 * (svd_vdev) with the entropy model (unlimited rate, a deterministic source
 * that fails when the input says so) over guest memory whose bytes come from
 * the fuzzer input, allocated at exactly its size so ASan catches any access
 * past it. The targets drive only the engine's face, as a shim does. */
#ifndef FUZZ_TRANSPORT_H
#define FUZZ_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "safevdev/entropy.h"
#include "safevdev/gmem.h"
#include "safevdev/vdev.h"

#define FT_GPA 0x0ull /* rings at small addresses: what a fuzzer writes into QUEUE_DESC_LOW */
#define FT_RAM_MAX 0x4000u

typedef struct ft_env {
    uint8_t *ram;
    size_t ramlen;
    svd_gmem m;
    svd_entropy e;
    svd_vdev v;
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

/* Guest memory = the last @ramlen bytes of the input (up to FT_RAM_MAX, at
 * least 1); the composed engine over it with transport @xport (@cfg's
 * transport fields as the target sets them). */
static inline bool ft_env_init(ft_env *env, fz_in *in, size_t ramlen, svd_vdev_cfg *vc)
{
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
    memset(&cfg, 0, sizeof(cfg));
    cfg.source.read = ft_source;
    cfg.source.ctx = env;
    FZ_CHECK(svd_is_ok(svd_entropy_init(&env->e, &cfg, 0u)));
    svd_entropy_model(&env->e, &vc->model);
    FZ_CHECK(svd_is_ok(svd_vdev_init(&env->v, vc, &env->m)));
    return true;
}

/* Invariants of every effect: a known reason when failed, no watchdog
 * action from a virtio device, a deadline never in the past of a call that
 * left work pending for later (it may equal now: "come back at once"). */
static inline void ft_check_fx(const ft_env *env, const svd_fx *fx, svd_result r)
{
    FZ_CHECK((unsigned)r.err < (unsigned)SVD_ERR__COUNT);
    FZ_CHECK((unsigned)r.why < (unsigned)SVD_WHY__COUNT);
    FZ_CHECK(!fx->fired);
    if (fx->failed) {
        FZ_CHECK(fx->why != SVD_WHY_NONE && (unsigned)fx->why < (unsigned)SVD_WHY__COUNT);
        FZ_CHECK(svd_vdev_needs_reset(&env->v));
    }
    (void)env;
}

/* Time passes: the engine serves what it asked to be called for. */
static inline void ft_tick(ft_env *env, uint16_t ms)
{
    svd_fx fx;
    env->now += (uint64_t)ms * 1000000u;
    svd_vdev_tick(&env->v, env->now, &fx);
    ft_check_fx(env, &fx, svd_ok());
}

static inline void ft_env_free(ft_env *env)
{
    /* FUZZ_LOG=1: show whether the seed's request was completed (used ring at gpa 0x10a0). */
    if (getenv("FUZZ_LOG") != NULL && env->ramlen >= 0xa4u) {
        fprintf(stderr, "fuzz: used.idx at gpa 0x10a0 = %u, completed requests %llu\n",
                (unsigned)(env->ram[0xa2] | (env->ram[0xa3] << 8)),
                (unsigned long long)svd_entropy_stats_of(&env->e)->requests);
    }
    free(env->ram);
    env->ram = NULL;
}

#endif
