//! What the notes of a guest must say to be loaded: XEN_VERSION's prefix, and the
//! LOADER of a guest other than Linux. A file of its own because `guest_notes.rs`
//! checks them and the reasons for refusing (`notes_error`) quote them, and
//! `notes_error` should not import from `guest_notes.rs`, which uses it.

/// The XEN_VERSION prefix every loadable guest carries.
pub(super) const XEN_VERSION_PREFIX: &str = "xen-3.0";
/// The only LOADER accepted from guests other than Linux.
pub(super) const GENERIC_LOADER: &str = "generic";
/// The GUEST_OS that may use any LOADER.
pub(super) const LINUX: &str = "linux";
