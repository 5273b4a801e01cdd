//! VIRQ_CONSOLE: telling the control domain that console input waits.
//!
//! Xen raises it for the hardware domain when serial input arrives, and
//! dom0 reads the bytes with `console_io(CONSOLEIO_read)`. xen-core polls
//! the UART instead of taking its interrupt, as Xen's ns16550 driver does
//! when it has no IRQ: every [`POLL_NS`] while the control domain has
//! VIRQ_CONSOLE bound, and at every scheduling pass while it does. The
//! kernel raises the VIRQ once per batch of input: again only after dom0
//! has read (the kernel's `CONSOLE_SIGNALLED`), so a dom0 that does not
//! read is not woken over and over.

use crate::arch::PhysicalMemory;
use crate::domain::domain_table::DomainTable;
use xen_abi::event_channel::VIRQ_CONSOLE;

/// How often waiting input is looked for.
pub const POLL_NS: u64 = 10_000_000;

/// Raises VIRQ_CONSOLE on the control domain if `input_waiting`; whether
/// that woke its vCPU.
pub fn signal_console_input(domains: &mut DomainTable, memory: &mut impl PhysicalMemory, input_waiting: bool) -> bool {
    if !input_waiting {
        return false;
    }
    domains
        .iter_mut()
        .find(|domain| domain.privilege().is_some() && domain.is_running())
        .is_some_and(|domain| domain.raise_virq(memory, VIRQ_CONSOLE))
}

/// When to look for input next: [`POLL_NS`] from `now` while the control
/// domain listens for it; `None` while nobody does.
pub fn next_console_poll(domains: &DomainTable, now: u64) -> Option<u64> {
    domains
        .iter()
        .any(|domain| {
            domain.privilege().is_some() && domain.is_running() && domain.events.virq_port(VIRQ_CONSOLE).is_some()
        })
        .then(|| now.saturating_add(POLL_NS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::fake::FakeMemory;
    use crate::event::{Channel, TwoLevel};
    use crate::mm::Mfn;

    fn domains() -> DomainTable {
        let mut domains = DomainTable::new();
        for id in 0..2 {
            assert!(domains.create(id, "d", Mfn(0x300 + u64::from(id)), 1).is_some());
        }
        domains
    }

    #[test]
    fn input_wakes_dom0_blocked_on_virq_console_and_nobody_else() {
        let mut domains = domains();
        let mut memory = FakeMemory::default();
        assert_eq!(next_console_poll(&domains, 5), None, "nobody listens yet");
        let dom0 = domains.get_mut(0).unwrap();
        let port = dom0.events.allocate(Channel::Virq(VIRQ_CONSOLE)).unwrap();
        dom0.vcpu.block();
        let other = domains.get_mut(1).unwrap();
        other.events.allocate(Channel::Virq(VIRQ_CONSOLE)).unwrap();
        assert_eq!(next_console_poll(&domains, 5), Some(5 + POLL_NS));
        assert!(!signal_console_input(&mut domains, &mut memory, false));
        assert!(signal_console_input(&mut domains, &mut memory, true));
        let dom0 = domains.get(0).unwrap();
        assert!(dom0.vcpu.run_state().is_runnable());
        assert!(TwoLevel::new(dom0.shared_info()).is_pending(&memory, port));
        let other = domains.get(1).unwrap();
        assert!(
            !TwoLevel::new(other.shared_info()).is_pending(&memory, 1),
            "only the control domain hears console input"
        );
        assert!(
            !signal_console_input(&mut domains, &mut memory, true),
            "still pending: no second wake-up"
        );
    }
}
