//! The floor: one `AtomicU32` bounced between two threads.
//!
//! A round trip here is two cache-line transfers and nothing else, the least
//! any shared-memory request/response can cost on this machine.

use crate::messages::start_together;
use std::hint::spin_loop;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

/// Time for `trips` round trips: we store an odd count, the other thread
/// answers with the next even one.
pub fn round_trip(trips: u64) -> Duration {
    let word = AtomicU32::new(0);
    let start = Barrier::new(2);
    thread::scope(|scope| {
        scope.spawn(|| {
            start.wait();
            for trip in 0..trips {
                let ping = (trip as u32).wrapping_mul(2).wrapping_add(1);
                while word.load(Ordering::Acquire) != ping {
                    spin_loop();
                }
                word.store(ping.wrapping_add(1), Ordering::Release);
            }
        });
        let started = start_together(&start);
        for trip in 0..trips {
            let ping = (trip as u32).wrapping_mul(2).wrapping_add(1);
            word.store(ping, Ordering::Release);
            while word.load(Ordering::Acquire) != ping.wrapping_add(1) {
                spin_loop();
            }
        }
        started.elapsed()
    })
}
