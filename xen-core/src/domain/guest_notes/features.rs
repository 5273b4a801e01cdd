//! The XENFEAT bits a guest declares: [`Features`]. A file of its own so that the
//! note reader (`found_notes`) fills it in without importing `guest_notes.rs`,
//! which uses that reader.

/// XENFEAT bit sets (bit n is XENFEAT n) a guest declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// Features the guest can use; includes every required one.
    pub supported: u32,
    /// Features the guest cannot run without.
    pub required: u32,
}
