/*
 * What both C ring programs share, tests/c/ring_peer.c and
 * benches/c/ring_bench.c: the barriers io/ring.h leaves to its includer, the
 * header itself, the page size, and the entries of rings/tests/common/mod.rs.
 * Each program names its own ring types with DEFINE_RING_TYPES.
 */
#ifndef RING_ENTRIES_H
#define RING_ENTRIES_H

#include <stdint.h>

/*
 * ring.h leaves the barriers to its includer (interface 0x00030208 on).
 * The peer is another process or thread on this machine, so C11 fences are
 * the right strength (and the ones our Rust rings use): mb orders our stores
 * before our loads (Dekker), wmb publishes entries before the index, rmb
 * reads the index before entries.
 */
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#include <xen/io/ring.h>

#define PAGE_BYTES 4096

/* The 16-byte request and 8-byte response of rings/tests/common/mod.rs. */
struct request {
    uint64_t id;
    uint32_t value;
    uint32_t pad;
};
struct response {
    uint32_t id;
    int32_t status;
};

#endif
