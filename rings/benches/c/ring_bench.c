/*
 * ring_bench: the C contender of rings/benches/descriptor_ring, Xen's own
 * io/ring.h macros driven exactly as the Rust benchmark drives our rings.
 *
 * Usage: ring_bench throughput <batch> <count>
 *        ring_bench round-trip <count>
 *
 * Two pthreads share one page-aligned page holding the ring (128 slots of the
 * 16-byte request / 8-byte response union). The main thread is the front end,
 * a second thread the back end; neither sleeps, both spin with `pause`, and
 * both still run the notify checks of RING_PUSH_*_AND_CHECK_NOTIFY.
 *
 *   throughput  the front end publishes requests in batches of <batch> (when
 *               that many slots are free) and consumes responses; the back end
 *               drains every published request, answering each, and publishes
 *               its responses once per drain. <count> requests are answered.
 *   round-trip  one request at a time: publish it, wait for its response.
 *
 * The clock (CLOCK_MONOTONIC) starts once both threads have passed a barrier
 * and stops when the front end has consumed the last response; the elapsed
 * nanoseconds are printed on stdout. Exit status 1 on any error (stderr).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tests/c/ring_entries.h"

DEFINE_RING_TYPES(bench, struct request, struct response);

/* What both threads share besides the ring page. */
struct exchange {
    struct bench_sring *sring;
    uint64_t count;
    pthread_barrier_t start;
};

/* core::hint::spin_loop: `pause` on x86, and a compiler barrier so that the
 * shared indices are read again. */
static inline void spin(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static void fail(const char *message, uint64_t have, uint64_t want)
{
    fprintf(stderr, "ring_bench: %s: %" PRIu64 ", expected %" PRIu64 "\n", message, have, want);
    exit(1);
}

/* The back end: answers `count` requests, publishing once per drain. */
static void *answer_all(void *argument)
{
    struct exchange *exchange = argument;
    struct bench_back_ring back;
    uint64_t answered = 0, notifications = 0;
    int notify;

    BACK_RING_INIT(&back, exchange->sring, PAGE_BYTES);
    pthread_barrier_wait(&exchange->start);
    while (answered < exchange->count) {
        unsigned drained = 0;
        /* Drain: snapshot req_prod, consume up to it, look again. */
        for (;;) {
            RING_IDX prod = exchange->sring->req_prod;
            xen_rmb(); /* requests after the index that published them */
            if (RING_REQUEST_PROD_OVERFLOW(&back, prod))
                fail("req_prod overflows the ring", prod, back.rsp_prod_pvt);
            if (prod == back.req_cons)
                break;
            while (back.req_cons != prod) {
                struct request req;
                RING_COPY_REQUEST(&back, back.req_cons, &req);
                back.req_cons++;
                struct response *rsp = RING_GET_RESPONSE(&back, back.rsp_prod_pvt);
                rsp->id = (uint32_t)req.id;
                rsp->status = (int32_t)req.value;
                back.rsp_prod_pvt++;
                drained++;
            }
        }
        if (drained == 0) {
            spin();
            continue;
        }
        answered += drained;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
        notifications += (uint64_t)notify;
    }
    /* Keep the notify checks' results alive. */
    __asm__ __volatile__("" : : "r"(notifications) : "memory");
    return NULL;
}

static uint64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* The front end: sends `count` requests in batches of `batch`, with at most
 * `window` unanswered, and consumes every response. Returns the nanoseconds
 * from the start barrier to the last response. */
static uint64_t run_front(struct exchange *exchange, unsigned batch, uint64_t window)
{
    struct bench_front_ring front;
    uint64_t count = exchange->count, sent = 0, received = 0, notifications = 0;
    int notify;

    FRONT_RING_INIT(&front, exchange->sring, PAGE_BYTES);
    pthread_barrier_wait(&exchange->start);
    uint64_t started = now_ns();
    while (received < count) {
        int progressed = 0;
        uint64_t next = count - sent < batch ? count - sent : batch;
        if (next > 0 && RING_FREE_REQUESTS(&front) >= next && sent - received + next <= window) {
            for (uint64_t i = 0; i < next; i++, sent++) {
                struct request *req = RING_GET_REQUEST(&front, front.req_prod_pvt);
                req->id = sent;
                req->value = (uint32_t)sent * 7u;
                req->pad = 0;
                front.req_prod_pvt++;
            }
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
            notifications += (uint64_t)notify;
            progressed = 1;
        }
        /* Consume: snapshot rsp_prod, consume up to it, look again. */
        for (;;) {
            RING_IDX prod = exchange->sring->rsp_prod;
            xen_rmb(); /* responses after the index that published them */
            /* Stricter than RING_RESPONSE_PROD_OVERFLOW, as our FrontRing. */
            if (prod - front.rsp_cons > front.req_prod_pvt - front.rsp_cons)
                fail("rsp_prod answers unsent requests", prod, front.req_prod_pvt);
            if (prod == front.rsp_cons)
                break;
            while (front.rsp_cons != prod) {
                struct response rsp;
                RING_COPY_RESPONSE(&front, front.rsp_cons, &rsp);
                front.rsp_cons++;
                if (rsp.id != (uint32_t)received)
                    fail("response out of order", rsp.id, received);
                received++;
            }
            progressed = 1;
        }
        if (!progressed)
            spin();
    }
    uint64_t elapsed = now_ns() - started;
    __asm__ __volatile__("" : : "r"(notifications) : "memory");
    return elapsed;
}

int main(int argc, char **argv)
{
    unsigned batch;
    uint64_t window;
    const char *count_arg;

    if (argc == 4 && strcmp(argv[1], "throughput") == 0) {
        batch = (unsigned)strtoul(argv[2], NULL, 10);
        window = UINT64_MAX;
        count_arg = argv[3];
    } else if (argc == 3 && strcmp(argv[1], "round-trip") == 0) {
        batch = 1;
        window = 1;
        count_arg = argv[2];
    } else {
        fprintf(stderr, "usage: %s throughput <batch> <count> | round-trip <count>\n", argv[0]);
        return 1;
    }

    struct exchange exchange;
    exchange.count = strtoull(count_arg, NULL, 10);
    exchange.sring = aligned_alloc(PAGE_BYTES, PAGE_BYTES);
    if (exchange.sring == NULL || batch == 0 || batch > 32) {
        fprintf(stderr, "ring_bench: no page, or batch not in 1..=32\n");
        return 1;
    }
    memset(exchange.sring, 0, PAGE_BYTES);
    /* The front end initialises the ring before the back end attaches. */
    SHARED_RING_INIT(exchange.sring);
    pthread_barrier_init(&exchange.start, NULL, 2);

    pthread_t back;
    if (pthread_create(&back, NULL, answer_all, &exchange) != 0) {
        fprintf(stderr, "ring_bench: cannot start the back end thread\n");
        return 1;
    }
    uint64_t elapsed = run_front(&exchange, batch, window);
    pthread_join(back, NULL);
    printf("%" PRIu64 "\n", elapsed);
    free(exchange.sring);
    return 0;
}
