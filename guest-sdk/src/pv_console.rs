//! The PV console frontend (`io/console.h`): a domU's output on its
//! console ring, for the console backend in dom0 to print.
//!
//! [`start`] maps the ring page start_info names into the shared area.
//! [`console::print`](crate::console::print) then writes there once the
//! backend has connected (bound the console port), and through
//! `console_io` before that or when there is no ring (dom0).
//! Like Mini-OS, output that does not fit a full ring is dropped rather
//! than waited for.

use crate::XenError;
use crate::shared_area::{self, AreaPage};
use crate::start_info::StartInfo;
use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use rings::byte_ring::{ByteProducer, CONSOLE_OUT};
use xen_abi::event_channel::EVTCHNSTAT_INTERDOMAIN;
use xen_abi::mmu::DOMID_SELF;

/// Our console port; 0 while there is no ring.
static PORT: AtomicU32 = AtomicU32::new(0);
/// Whether the backend was seen connected: 0 not known, 1 connected.
static CONNECTED: AtomicU8 = AtomicU8::new(0);

/// Maps our console ring, if start_info names one (a domU); whether it did.
pub fn start(info: &StartInfo) -> Result<bool, XenError> {
    let console = info.console.domu();
    if crate::start_info::is_initial_domain(info) || console.mfn == 0 || console.evtchn == 0 {
        return Ok(false);
    }
    shared_area::map_frame(shared_area::CONSOLE_RING, console.mfn)?;
    PORT.store(console.evtchn, Ordering::Release);
    Ok(true)
}

/// Whether output goes to the ring: it is mapped and the backend has bound
/// our console port (asked of the hypervisor until it has).
pub fn connected() -> bool {
    let port = PORT.load(Ordering::Acquire);
    if port == 0 {
        return false;
    }
    if CONNECTED.load(Ordering::Relaxed) == 1 {
        return true;
    }
    let bound =
        crate::event_channel::status(DOMID_SELF, port).is_ok_and(|status| status.status == EVTCHNSTAT_INTERDOMAIN);
    if bound {
        CONNECTED.store(1, Ordering::Relaxed);
    }
    bound
}

/// Writes what fits of `bytes` to the ring and tells the backend; how many
/// bytes went. A corrupt ring (the backend wrote a bad index) takes none.
pub fn write(bytes: &[u8]) -> usize {
    let page = AreaPage::new(shared_area::CONSOLE_RING);
    let Ok(mut producer) = ByteProducer::attach(&page, CONSOLE_OUT) else {
        return 0;
    };
    let written = producer.write(bytes).unwrap_or(0);
    if written > 0 {
        let _ = crate::event_channel::send(PORT.load(Ordering::Acquire));
    }
    written
}
