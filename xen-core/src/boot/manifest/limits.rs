//! The most a manifest may ask for: domains, name and command line lengths,
//! memory. A file of their own because both a domain line's reader
//! (`domain_spec`) and the reasons for refusing it (`manifest_error`), which
//! name them, use them, and neither should import them from `manifest.rs`,
//! which uses both.

use xen_abi::start_info::MAX_GUEST_CMDLINE;

// Most domains a manifest may define: all the hypervisor holds.
pub use xen_abi::domain_builder::MAX_DOMAINS;
/// Longest domain name.
pub const MAX_NAME_LEN: usize = 32;
/// Longest command line: Xen's `start_info.cmd_line` holds 1024 bytes with the NUL.
pub const MAX_CMDLINE_LEN: usize = MAX_GUEST_CMDLINE - 1;
/// Most memory a domain may ask for.
pub const MAX_MEMORY_BYTES: u64 = 64 << 30;
