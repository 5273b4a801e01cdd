//! The event upcall: the hypervisor's callback when ports become pending,
//! and the handlers it runs, one per port.
//!
//! [`start`] maps shared_info, registers the SDK's upcall entry and turns
//! events on. The upcall scans the pending selector and bitmaps (the
//! two-level protocol of `xen.h`'s shared_info), clears each pending, unmasked
//! port and runs its handler with events masked. A port bound with
//! [`set_handler`] is unmasked; a pending port without a handler is
//! cleared and ignored.

use crate::XenError;
use crate::shared_info::{SHARED_INFO, SharedInfo, SharedMemory};
use crate::start_info::StartInfo;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;
use xen_abi::event_channel::{EVTCHN_2L_NR_CHANNELS, EvtchnPort};

/// A port's handler, run from the upcall with events masked. It must not
/// take a lock the interrupted code might hold.
pub type Handler = fn(EvtchnPort);

/// Handlers by port. Changed only with events masked, so the upcall never
/// finds it locked by the code it interrupted.
static HANDLERS: Mutex<[Option<Handler>; EVTCHN_2L_NR_CHANNELS]> = Mutex::new([None; EVTCHN_2L_NR_CHANNELS]);

/// Maps shared_info, masks every port, registers the upcall entry and
/// unmasks upcalls. A port raises upcalls once it has a handler
/// ([`set_handler`] unmasks it); until then its events wait, pending.
pub fn start(info: &StartInfo) -> Result<(), XenError> {
    crate::shared_info::map(info)?;
    SHARED_INFO.mask_all();
    crate::hypercall::register_event_callback(entry_address())?;
    STARTED.store(true, Ordering::Release);
    enable_events();
    Ok(())
}

/// Set once [`start`] has run.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Whether [`start`] has run: shared_info is mapped and upcalls arrive.
pub fn started() -> bool {
    STARTED.load(Ordering::Acquire)
}

/// Where the hypervisor enters the guest for an upcall.
fn entry_address() -> u64 {
    #[cfg(target_os = "none")]
    {
        crate::arch::stubs::upcall_entry()
    }
    #[cfg(not(target_os = "none"))]
    {
        0
    }
}

/// Runs `handler` for `port` from now on and unmasks the port (an event
/// that is already pending is delivered then).
pub fn set_handler(port: EvtchnPort, handler: Handler) -> Result<(), XenError> {
    let index = usize::try_from(port)
        .ok()
        .filter(|&index| index < EVTCHN_2L_NR_CHANNELS)
        .ok_or(XenError {
            code: xen_abi::errno::Errno::EINVAL.as_return(),
        })?;
    without_events(|| HANDLERS.lock()[index] = Some(handler));
    crate::event_channel::unmask(port)
}

/// Stops running a handler for `port` and masks it.
pub fn clear_handler(port: EvtchnPort) {
    SHARED_INFO.mask(port);
    if let Ok(index) = usize::try_from(port) {
        without_events(|| {
            if let Some(slot) = HANDLERS.lock().get_mut(index) {
                *slot = None;
            }
        });
    }
}

/// Runs `f` with upcalls masked, then restores the mask as it was; if that
/// unmasks with an upcall due, has the hypervisor deliver it now.
pub fn without_events<T>(f: impl FnOnce() -> T) -> T {
    let was_masked = SHARED_INFO.set_events_masked(true);
    let result = f();
    if !was_masked {
        enable_events();
    }
    result
}

/// Unmasks upcalls; an upcall that came due while they were masked is
/// delivered before this returns.
pub fn enable_events() {
    SHARED_INFO.set_events_masked(false);
    if SHARED_INFO.upcall_pending() {
        // Any hypercall returns through the hypervisor's event check; this
        // one has no other effect (Linux uses the same).
        let _ = crate::hypercall::xen_version();
    }
}

/// Finds every pending, unmasked port, clears it and calls `handle` for it,
/// until no upcall is flagged: the upcall's work, over any shared page.
/// A port that becomes pending again while `handle` runs is seen on the
/// next pass, never lost.
pub fn scan<M: SharedMemory>(shared: &SharedInfo<M>, mut handle: impl FnMut(EvtchnPort)) {
    loop {
        shared.clear_upcall_pending();
        let mut selector = shared.take_selector();
        while selector != 0 {
            let word = selector.trailing_zeros() as usize;
            selector &= selector - 1;
            let mut ready = shared.pending_word(word) & !shared.mask_word(word);
            shared.clear_pending_bits(word, ready);
            while ready != 0 {
                let bit = ready.trailing_zeros();
                ready &= ready - 1;
                handle((word * 64) as EvtchnPort + bit);
            }
        }
        if !shared.upcall_pending() {
            return;
        }
    }
}

/// The upcall, called by the entry stub with events masked.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
pub(crate) fn dispatch() {
    scan(&SHARED_INFO, |port| {
        let handler = HANDLERS
            .try_lock()
            .and_then(|handlers| handlers.get(port as usize).copied().flatten());
        if let Some(handler) = handler {
            handler(port);
        }
    });
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::shared_info::tests::FakePage;

    /// Marks `port` pending and flags it as the hypervisor does.
    fn raise(page: &FakePage, port: u32) {
        let word = port as usize / 64;
        let mut bytes = page.0.borrow_mut();
        let pending = 2048 + word * 8;
        let value = u64::from_le_bytes(bytes[pending..pending + 8].try_into().unwrap()) | 1 << (port % 64);
        bytes[pending..pending + 8].copy_from_slice(&value.to_le_bytes());
        let selector = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) | 1 << word;
        bytes[8..16].copy_from_slice(&selector.to_le_bytes());
        bytes[0] = 1;
    }

    #[test]
    fn every_pending_unmasked_port_is_handled_once_and_cleared() {
        let page = FakePage::new();
        let shared = SharedInfo::new(&page);
        for port in [3, 64, 130, 4095] {
            raise(&page, port);
        }
        shared.mask(130);
        let mut handled = std::vec::Vec::new();
        scan(&shared, |port| handled.push(port));
        assert_eq!(handled, [3, 64, 4095]);
        assert!(!shared.is_pending(3) && !shared.is_pending(4095));
        assert!(shared.is_pending(130), "a masked port stays pending for its unmask");
        assert!(!shared.upcall_pending());
        assert_eq!(shared.take_selector(), 0);
    }

    #[test]
    fn a_port_raised_during_a_handler_is_handled_on_the_next_pass() {
        let page = FakePage::new();
        let shared = SharedInfo::new(&page);
        raise(&page, 5);
        let mut handled = std::vec::Vec::new();
        scan(&shared, |port| {
            handled.push(port);
            if handled.len() == 1 {
                raise(&page, 5);
                raise(&page, 9);
            }
        });
        assert_eq!(handled, [5, 5, 9]);
    }

    #[test]
    fn a_selector_bit_without_ready_ports_runs_nothing() {
        let page = FakePage::new();
        let shared = SharedInfo::new(&page);
        raise(&page, 7);
        shared.mask(7);
        let mut calls = 0;
        scan(&shared, |_| calls += 1);
        assert_eq!(calls, 0);
    }
}
