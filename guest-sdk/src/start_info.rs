//! The start_info page the domain builder leaves for the guest.

pub use xen_abi::start_info::StartInfo;

/// The guest command line from start_info, up to its NUL.
pub fn command_line(info: &StartInfo) -> &str {
    let length = info
        .cmd_line
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(info.cmd_line.len());
    core::str::from_utf8(&info.cmd_line[..length]).unwrap_or("")
}

/// Whether the guest runs as the control domain (SIF_INITDOMAIN).
pub fn is_initial_domain(info: &StartInfo) -> bool {
    info.flags & xen_abi::start_info::SifFlags::INITDOMAIN.bits() != 0
}
