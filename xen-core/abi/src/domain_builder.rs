//! What xen-core promises its guests where Xen leaves the choice to the
//! toolstack in dom0: how many domains there may be, and the event-channel
//! ports the domain builder offers dom0 for each boot-time domU's rings.
//! dom0's services rely on these numbers instead of being told them.

use crate::event_channel::EvtchnPort;

/// Domains xen-core holds at once, dom0 included; their ids are 0 to
/// `MAX_DOMAINS - 1`, and a boot manifest names at most this many.
pub const MAX_DOMAINS: usize = 8;

/// The port a domU's xenstore ring is signalled on (its
/// `start_info.store_evtchn`), left unbound for dom0: the builder allocates
/// it first.
pub const STORE_PORT: EvtchnPort = 1;
/// The port of a domU's console ring, left unbound for dom0 likewise.
pub const CONSOLE_PORT: EvtchnPort = 2;

const _: () = assert!(MAX_DOMAINS <= crate::mmu::DOMID_FIRST_RESERVED as usize);
