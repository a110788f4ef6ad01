/* A toy device model (svd_model) for tests of the device engine, the
 * transports and the composed engine: it completes every available request
 * by writing a fill byte into its device-writable buffers, and can be told
 * to hold requests (a model waiting for something), to ask for a deadline,
 * or to fail. It counts what the engine asked of it. Shared by the unit
 * tests and any other test program that needs a model that is not entropy. */
#ifndef TG_MODEL_H
#define TG_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "safevdev/device.h"
#include "safevdev/result.h"
#include "safevdev/virtqueue.h"

#define TG_MODEL_SEGS 8u

typedef struct tg_model {
    /* what the engine did (read by tests) */
    uint32_t serves;      /* serve calls */
    uint32_t resets;      /* reset calls */
    uint32_t last_reset;  /* queue index of the last reset call (SVD_MODEL_ALL_QUEUES: every queue) */
    uint32_t completed;   /* requests completed */
    uint32_t last_index;  /* queue index of the last serve */
    uint64_t last_now;    /* time of the last serve */
    svd_budget last_budget; /* the budget the last serve was given (the model itself ignores it) */
    /* how the model behaves (set by tests) */
    uint32_t write_len;   /* bytes written per request, capped at its writable length (default: all) */
    uint8_t fill;         /* byte written (default 0x5A) */
    bool hold;            /* take nothing from the queue (default false) */
    svd_result fail;      /* returned by serve, queue untouched, when not OK (default OK) */
    uint64_t wake_at;     /* what serve asks for in *wake_at (default SVD_NO_DEADLINE) */
    /* storage */
    svd_vq_chain chain;
    svd_vq_desc segs[TG_MODEL_SEGS];
} tg_model;

/* Defaults as listed above, counters 0. */
void tg_model_init(tg_model *t);
/* The model interface of @t: device @device_id with @num_queues queues of
 * at most @queue_max entries and @config_len bytes of configuration. */
void tg_model_iface(tg_model *t, svd_model *m, uint32_t device_id, uint16_t num_queues, uint16_t queue_max,
                    const uint8_t *config, uint32_t config_len);

#endif
