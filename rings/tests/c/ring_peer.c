/*
 * ring_peer: the other end of a descriptor ring, written with Xen's own
 * io/ring.h macros, for the differential test rings/tests/c_differential.rs.
 *
 * Usage: ring_peer front|back|hostile-front <page-file> <count>
 *
 * <page-file> is two pages, mapped MAP_SHARED by this process and the test:
 *   page 0  the shared ring (struct test_sring)
 *   page 1  struct control: the front's "ring initialised" flag and two
 *           doorbells standing in for event channels.
 * A notification increments the peer's doorbell; a side with nothing to do
 * sleeps by spinning until its own doorbell changes. So a wake-up lost by the
 * notify-suppression protocol shows up as a hang, which the test times out.
 *
 *   front          initialises the ring, sends <count> requests in batches of
 *                  1..32, checks every response; prints its counters.
 *   back           answers <count> requests; prints its counters.
 *   hostile-front  sends <count> requests, waits for their answers, then
 *                  publishes a req_prod one beyond what the ring can hold.
 *
 * Exit status 0 on success, 1 on any error (described on stderr).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ring_entries.h"

DEFINE_RING_TYPES(test, struct request, struct response);

/* Page 1 of the file; word for word as CONTROL_* in c_differential.rs. */
struct control {
    uint32_t bell_to_back;     /* rung by the front end */
    uint32_t bell_to_front;    /* rung by the back end */
    uint32_t front_ready;      /* 1 once the front end has initialised the ring */
};

/* The request a front end sends as number `id`, and the back end's answer:
 * the same functions as the Rust side, so each can check the other. */
static uint32_t value_for(uint64_t id) { return (uint32_t)id * 7u; }
static int32_t status_for(uint32_t value) { return (int32_t)(value * 3u); }

/* Batch sizes 1..32 from a fixed LCG: irregular, but reproducible. */
static unsigned next_batch(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return 1 + (*state >> 16) % 32;
}

/* Counters printed at exit for the test to check. */
static uint64_t messages, batches, notifications;

static void ring_bell(uint32_t *bell)
{
    __atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);
    notifications++;
}

/* Yields first, then naps: cheap when the peer is quick, polite when not. */
static void pause_briefly(unsigned *spins)
{
    if (++*spins < 100) {
        sched_yield();
    } else {
        struct timespec nap = { 0, 50 * 1000 };
        nanosleep(&nap, NULL);
    }
}

/* "Blocks on the event channel": waits until the doorbell moves past *seen. */
static void wait_for_bell(uint32_t *bell, uint32_t *seen)
{
    unsigned spins = 0;
    uint32_t now;
    while ((now = __atomic_load_n(bell, __ATOMIC_ACQUIRE)) == *seen)
        pause_briefly(&spins);
    *seen = now;
}

/* Sends `count` requests in batches; checks each response, in order. */
static int run_front(struct test_sring *sring, struct control *control,
                     uint64_t count)
{
    struct test_front_ring front;
    uint64_t sent = 0;
    uint32_t bell_seen = 0, lcg = 1;
    int notify, more;

    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&front, sring, PAGE_BYTES);
    __atomic_store_n(&control->front_ready, 1, __ATOMIC_RELEASE);

    while (messages < count) {
        /* Queue the next batch, as much of it as fits, and publish it. */
        unsigned batch = next_batch(&lcg);
        if (batch > RING_FREE_REQUESTS(&front))
            batch = RING_FREE_REQUESTS(&front);
        if (batch > count - sent)
            batch = (unsigned)(count - sent);
        if (batch > 0) {
            for (unsigned i = 0; i < batch; i++, sent++) {
                struct request *req = RING_GET_REQUEST(&front, front.req_prod_pvt);
                req->id = sent;
                req->value = value_for(sent);
                req->pad = 0;
                front.req_prod_pvt++;
            }
            batches++;
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
            if (notify)
                ring_bell(&control->bell_to_back);
        }

        /* Consume every published response. */
        while (RING_HAS_UNCONSUMED_RESPONSES(&front)) {
            struct response rsp;
            xen_rmb(); /* the response after the index that published it */
            RING_COPY_RESPONSE(&front, front.rsp_cons, &rsp);
            front.rsp_cons++;
            struct response want = { (uint32_t)messages,
                                     status_for(value_for(messages)) };
            if (rsp.id != want.id || rsp.status != want.status) {
                fprintf(stderr, "front: response %" PRIu64 " is {id %u, status %d},"
                        " expected {id %u, status %d}\n", messages, rsp.id,
                        rsp.status, want.id, want.status);
                return 1;
            }
            messages++;
        }

        /* Sleep only with nothing left to send, as a real driver would. */
        if (messages == count || (sent < count && !RING_FULL(&front)))
            continue;
        RING_FINAL_CHECK_FOR_RESPONSES(&front, more);
        if (!more)
            wait_for_bell(&control->bell_to_front, &bell_seen);
    }
    printf("front messages=%" PRIu64 " batches=%" PRIu64 " notifications=%" PRIu64 "\n",
           messages, batches, notifications);
    return 0;
}

/* Answers `count` requests with status_for(value), in arrival order. */
static int run_back(struct test_sring *sring, struct control *control,
                    uint64_t count)
{
    struct test_back_ring back;
    uint32_t bell_seen = 0;
    unsigned spins = 0;
    int notify, more;

    /* The front end initialises the shared ring; attach only after it has. */
    while (!__atomic_load_n(&control->front_ready, __ATOMIC_ACQUIRE))
        pause_briefly(&spins);
    BACK_RING_INIT(&back, sring, PAGE_BYTES);

    while (messages < count) {
        RING_FINAL_CHECK_FOR_REQUESTS(&back, more);
        if (!more) {
            wait_for_bell(&control->bell_to_back, &bell_seen);
            continue;
        }
        /* A real back end refuses a front end claiming impossible requests. */
        if (RING_REQUEST_PROD_OVERFLOW(&back, sring->req_prod)) {
            fprintf(stderr, "back: req_prod %u overflows the ring\n", sring->req_prod);
            return 1;
        }
        while (RING_HAS_UNCONSUMED_REQUESTS(&back)) {
            struct request req;
            xen_rmb(); /* the request after the index that published it */
            /* A copy: the front end may rewrite the slot while we look. */
            RING_COPY_REQUEST(&back, back.req_cons, &req);
            back.req_cons++;
            struct response *rsp = RING_GET_RESPONSE(&back, back.rsp_prod_pvt);
            rsp->id = (uint32_t)req.id;
            rsp->status = status_for(req.value);
            back.rsp_prod_pvt++;
            messages++;
        }
        batches++;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&back, notify);
        if (notify)
            ring_bell(&control->bell_to_front);
    }
    printf("back messages=%" PRIu64 " batches=%" PRIu64 " notifications=%" PRIu64 "\n",
           messages, batches, notifications);
    return 0;
}

/* Plays fair for `count` requests, then claims ring size + 1 outstanding. */
static int run_hostile_front(struct test_sring *sring, struct control *control,
                             uint64_t count)
{
    struct test_front_ring front;
    uint32_t bell_seen = 0;
    int notify, more;

    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&front, sring, PAGE_BYTES);
    __atomic_store_n(&control->front_ready, 1, __ATOMIC_RELEASE);

    for (uint64_t id = 0; id < count; id++) {
        struct request *req = RING_GET_REQUEST(&front, front.req_prod_pvt);
        req->id = id;
        req->value = value_for(id);
        req->pad = 0;
        front.req_prod_pvt++;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&front, notify);
    if (notify)
        ring_bell(&control->bell_to_back);
    /* Wait for every answer (their content is the other tests' business). */
    while (front.rsp_cons != front.req_prod_pvt) {
        RING_FINAL_CHECK_FOR_RESPONSES(&front, more);
        if (more)
            front.rsp_cons = sring->rsp_prod;
        else
            wait_for_bell(&control->bell_to_front, &bell_seen);
    }
    messages = count;

    /* All answered, so rsp_prod is the back end's rsp_prod_pvt: one more
     * request than the ring can hold is RING_REQUEST_PROD_OVERFLOW. */
    sring->req_prod = sring->rsp_prod + RING_SIZE(&front) + 1;
    xen_mb();
    ring_bell(&control->bell_to_back);
    printf("hostile-front messages=%" PRIu64 " req_prod=%u\n", messages, sring->req_prod);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s front|back|hostile-front <page-file> <count>\n", argv[0]);
        return 1;
    }
    /* Orphaned by a crashed test? Die instead of spinning forever. */
    alarm(120);

    uint64_t count = strtoull(argv[3], NULL, 10);
    int fd = open(argv[2], O_RDWR);
    if (fd < 0) {
        perror(argv[2]);
        return 1;
    }
    void *pages = mmap(NULL, 2 * PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (pages == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct test_sring *sring = pages;
    struct control *control = (struct control *)((char *)pages + PAGE_BYTES);

    if (strcmp(argv[1], "front") == 0)
        return run_front(sring, control, count);
    if (strcmp(argv[1], "back") == 0)
        return run_back(sring, control, count);
    if (strcmp(argv[1], "hostile-front") == 0)
        return run_hostile_front(sring, control, count);
    fprintf(stderr, "unknown role %s\n", argv[1]);
    return 1;
}
