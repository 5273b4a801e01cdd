//! What can go wrong on a ring.

use core::fmt;

/// Why a ring operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// No free slot: the peer has not consumed (or answered) enough yet.
    Full,
    /// A response was pushed with no consumed request left to answer.
    NothingToAnswer,
    /// The shared area is too small for the header and one slot.
    TooSmall,
    /// The peer wrote an index the protocol does not allow. The ring can no
    /// longer be trusted; the driver should disconnect.
    Corrupt {
        /// The peer's index as read.
        peer_index: u32,
        /// Our private index it was checked against.
        our_index: u32,
    },
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingError::Full => write!(f, "ring full"),
            RingError::NothingToAnswer => write!(f, "response pushed with no request to answer"),
            RingError::TooSmall => write!(f, "shared area too small for a ring"),
            RingError::Corrupt { peer_index, our_index } => {
                write!(
                    f,
                    "corrupt ring: peer index {peer_index:#x} impossible against ours {our_index:#x}"
                )
            }
        }
    }
}
